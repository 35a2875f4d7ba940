// Passkeys and security keys in Chromium, with a virtual authenticator (the DevTools
// protocol's WebAuthn domain): the seed's walk with a passkey instead of a phone, the
// passkey as second factor, passwordless sign-in, Security info, a security key without a
// resident key, a browser without WebAuthn, and the organization's phishing-resistant policy.
// Pages are on http://localhost: browsers refuse WebAuthn on an IP address.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, launch, newPage, screenshot, totp, newUser, waitFor } from "./harness.mjs";

let stack, browser, web;
before(async () => {
  stack = await startStack();
  browser = await launch();
  web = stack.web.replace("127.0.0.1", "localhost");
});
after(async () => {
  await browser?.close();
  assert.equal(await stack?.stop(), 0);
});

// A platform authenticator (a passkey: resident key, user verification), or a USB security
// key without resident keys or user verification.
async function authenticator(context, page, kind = "passkey") {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const options = kind === "passkey"
    ? { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true }
    : { protocol: "ctap2", transport: "usb", hasResidentKey: false, hasUserVerification: false };
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator",
    { options: { ...options, automaticPresenceSimulation: true } });
  const credentials = async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
  // Off: the authenticator waits for a touch that never comes (the sign-in page's autofill
  // request stays pending while a password is typed); on: it answers at once.
  const presence = (enabled) => cdp.send("WebAuthn.setAutomaticPresenceSimulation", { authenticatorId, enabled });
  return { cdp, authenticatorId, credentials, presence };
}

async function signInWithPassword(page, user) {
  await page.goto(web + "/");
  await page.fill("#login", user.login);
  await page.fill("#password", user.password);
  await page.click("#signin");
}

async function signOut(page) {
  await page.click("#signout");
  await page.waitForSelector("#signin");
}

test("the seed's walk with a passkey, then the passkey as second factor and without a password", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  const auth = await authenticator(context, page, "passkey");

  await signInWithPassword(page, user);
  await page.click("#setup-now");
  // Offered first where the browser has WebAuthn.
  await page.waitForSelector("#create-passkey");
  assert.equal(await page.inputValue("#method"), "passkey");
  const offered = await page.$$eval("#method option", (os) => os.map((o) => o.textContent));
  assert.equal(offered[0], "Passkey or security key");
  await screenshot(page, "passkey-create");
  await page.fill("#passkey-name", "Work laptop");
  await page.click("#create-passkey");
  await page.waitForSelector("#verified");
  assert.equal((await auth.credentials()).length, 1);
  assert.equal((await auth.credentials())[0].isResidentCredential, true);
  await page.click("#next");
  // The seed's last step: an app password for the apps that cannot do any of this.
  await page.waitForSelector("#app-password");
  const appPassword = (await page.textContent("#app-password")).trim();
  await page.click("#done");
  await page.waitForSelector("#app-passwords-heading");
  assert.match(stack.kunci("user", "show", user.login), /mfa:\s+enforced/);
  assert.match(stack.kunci("user", "show", user.login), /passkey\s+Work laptop/);
  assert.equal(stack.imap(user.login, appPassword), "OK");

  // Again: the password, then the passkey as the second factor.
  await auth.presence(false);
  await signOut(page);
  await signInWithPassword(page, user);
  await page.waitForSelector("#use-passkey");
  await auth.presence(true);
  await screenshot(page, "passkey-second-factor");
  await page.click("#use-passkey");
  await page.waitForSelector("#app-passwords-heading");
  const signCount = (await auth.credentials())[0].signCount;
  assert.ok(signCount >= 2, "the authenticator signed twice");

  // Without a password: "Sign in with a passkey" (a discoverable credential is both factors).
  await auth.presence(false);
  await signOut(page);
  await screenshot(page, "passkey-sign-in-page");
  assert.equal(await page.getAttribute("#login", "autocomplete"), "username webauthn");
  await auth.presence(true);
  await page.click("#passkey-sign-in");
  await page.waitForSelector("#app-passwords-heading");
  // And through the account field's suggestions (conditional mediation): the page asks as it
  // opens, and an authenticator that answers signs in without a click.
  await page.click("#signout");
  await page.waitForSelector("#app-passwords-heading");
  // The activity record is written in batches, within a second or so.
  await waitFor(() => JSON.parse(stack.kunci("audit", "list", "--user", user.login, "--json"))
    .some((e) => e.event === "sign_in" && e.reason === "passkey" && e.outcome === "ok"));

  // Security info: the name, when it was added and last used; Rename.
  const row = page.locator("#methods li", { hasText: "Work laptop" });
  assert.match(await row.textContent(), /last used/);
  await screenshot(page, "passkey-security-info");
  await row.locator("button.rename").click();
  await page.fill("input.passkey-rename", "Personal laptop");
  await page.click("button.save-name");
  await page.waitForSelector("#methods li:has-text('Personal laptop')");

  // The same authenticator again is refused as registered already (excludeCredentials).
  await page.click("#add-method");
  await page.waitForSelector("#create-passkey");
  await page.click("#create-passkey");
  await page.waitForSelector("#method-area .error:not(:empty)");
  assert.match(await page.textContent("#method-area .error"), /registered already/);

  // Remove it (an authenticator app takes its place first: the last method stays).
  await page.selectOption("#method", "totp");
  await page.waitForSelector("#totp-secret");
  const secret = (await page.textContent("#totp-secret")).trim();
  await page.fill("#code", totp(secret));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next");
  await page.waitForSelector("#methods");
  page.once("dialog", (d) => d.accept());
  await page.locator("#methods li", { hasText: "Personal laptop" }).locator("button.danger").click();
  await page.waitForFunction(() => !document.querySelector("#methods").textContent.includes("Personal laptop"));
  assert.doesNotMatch(stack.kunci("user", "show", user.login), /passkey/);

  // The authenticator still holds the credential; kunci no longer knows it.
  await auth.presence(false);
  await signOut(page);
  await auth.presence(true);
  await page.click("#passkey-sign-in");
  await page.waitForSelector("#app .error:not(:empty)");
  assert.match(await page.textContent("#app .error"), /isn't registered/);
  await context.close();
});

test("a security key (no resident key) as the second factor", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  const key = await authenticator(context, page, "security-key");
  await signInWithPassword(page, user);
  await page.click("#setup-now");
  await page.waitForSelector("#create-passkey");
  await page.click("#create-passkey");
  await page.waitForSelector("#verified");
  assert.equal((await key.credentials())[0].isResidentCredential, false);
  await page.click("#next");
  await page.waitForSelector("#app-password");
  await page.click("#done");
  await page.waitForSelector("#methods");
  assert.match(await page.textContent("#methods"), /Security key/);

  await signOut(page);
  await signInWithPassword(page, user);
  await page.click("#use-passkey");
  await page.waitForSelector("#app-passwords-heading");
  assert.ok((await key.credentials())[0].signCount >= 2);
  await context.close();
});

test("a browser without WebAuthn sees the other methods only", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await context.addInitScript(() => { delete window.PublicKeyCredential; });
  await page.goto(web + "/");
  await page.waitForSelector("#signin");
  assert.equal(await page.$("#passkey-sign-in"), null);
  await page.fill("#login", user.login);
  await page.fill("#password", user.password);
  await page.click("#signin");
  await page.click("#setup-now");
  await page.waitForSelector("#totp-secret");
  const offered = await page.$$eval("#method option", (os) => os.map((o) => o.value));
  assert.deepEqual(offered, ["totp", "phone", "email"]);
  await context.close();
});

test("mfa_phishing_resistant_required: only the passkey opens the web; app passwords go on", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  const auth = await authenticator(context, page, "passkey");
  // An authenticator app first, then a passkey, both registered.
  await signInWithPassword(page, user);
  await page.click("#setup-now");
  await page.selectOption("#method", "totp");
  await page.waitForSelector("#totp-secret");
  const secret = (await page.textContent("#totp-secret")).trim();
  await page.fill("#code", totp(secret));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next");
  await page.waitForSelector("#app-password");
  const appPassword = (await page.textContent("#app-password")).trim();
  await page.click("#done");
  stack.kunci("settings", "set", "mfa_phishing_resistant_required", user.login);
  try {
    // Named, without a passkey yet: Security info asks for one; the wizard offers only that.
    await page.goto(web + "/security");
    await page.waitForSelector("#passkey-required");
    await page.click("#add-passkey");
    await page.waitForSelector("#create-passkey");
    assert.deepEqual(await page.$$eval("#method option", (os) => os.map((o) => o.value)), ["passkey"]);
    await page.click("#create-passkey");
    await page.waitForSelector("#verified");
    await page.goto(web + "/security");
    await page.waitForSelector("#methods");
    assert.equal(await page.$("#passkey-required"), null);

    await page.goto(web + "/security");
    await auth.presence(false);
    await signOut(page);
    await signInWithPassword(page, user);
    await page.waitForSelector("#use-passkey");
    await auth.presence(true);
    // No code field, no other way on this page.
    assert.equal(await page.$("#code"), null);
    assert.equal(await page.$("#other-methods"), null);
    // The API refuses the authenticator app's code too, right as it is.
    const refused = await page.evaluate(async (code) => {
      const s = await (await fetch("/api/v1/session")).json();
      const m = s.methods.find((x) => x.kind === "totp");
      const r = await fetch("/api/v1/session/verify", { method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": s.csrf },
        body: JSON.stringify({ method_id: m.id, code }) });
      return [r.status, (await r.json()).error];
    }, totp(secret, Date.now() / 1000 + 30));
    assert.deepEqual(refused, [403, "passkey_required"]);
    await page.click("#use-passkey");
    await page.waitForSelector("#app-passwords-heading");
    // Mail apps are not the web: the app password still works.
    assert.equal(stack.imap(user.login, appPassword), "OK");
  } finally {
    stack.kunci("settings", "set", "mfa_phishing_resistant_required", "none");
  }
  await context.close();
});
