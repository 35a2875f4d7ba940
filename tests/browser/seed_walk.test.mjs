// The seed's five steps in Chromium: sign in, "Set it up now", a method and its prompts,
// "Next", and an app password with "Copy"; then the app password over IMAP.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, launch, newPage, screenshot, totp, outboxCode, mailedCode, waitFor,
  newUser, signIn, setUpWithTotp } from "./harness.mjs";

let stack, browser;
before(async () => { stack = await startStack(); browser = await launch(); });
after(async () => {
  await browser?.close();
  // The stack exits non-zero when kunci serve reported a sanitizer error.
  assert.equal(await stack?.stop(), 0);
});

async function finishWizard(page, user) {
  await page.waitForSelector("#verified");
  assert.equal((await page.textContent("#next")).trim(), "Next");
  await screenshot(page, `${user.tag}-verified`);
  await page.click("#next");
  await page.waitForSelector("#app-password");
  const shown = (await page.textContent("#app-password")).trim();
  assert.match(shown, /^([a-z]{4} ){5}[a-z]{4}$/);
  assert.equal((await page.textContent("#copy")).trim(), "Copy");
  await page.click("#copy");
  await page.waitForFunction(() => document.querySelector("#copy-status").textContent.length > 0);
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shown);
  await screenshot(page, `${user.tag}-app-password`);
  await page.click("#done");
  await page.waitForSelector("#app-passwords-heading");
  return shown;
}

test("the seed's walk with the mobile app, then IMAP with the app password", async () => {
  // The administrator requires MFA for the user (kunci mfa set ... enabled).
  const user = { ...newUser(stack, "enabled"), tag: "totp" };
  const { page, context } = await newPage(browser);
  await signIn(page, stack, user);
  await page.waitForSelector("#setup-now");
  assert.equal((await page.textContent("#setup-now")).trim(), "Set it up now");
  await screenshot(page, "totp-more-information");
  await page.click("#setup-now");
  await page.waitForSelector("#totp-secret");
  assert.equal(await page.inputValue("#method"), "totp");
  const qr = await page.getAttribute("#qr", "src");
  assert.ok(qr.startsWith("data:image/svg+xml;base64,"));
  const secret = (await page.textContent("#totp-secret")).trim();
  await screenshot(page, "totp-scan");
  await page.fill("#code", totp(secret));
  await page.click("#verify");
  const appPassword = await finishWizard(page, user);

  assert.match(stack.kunci("user", "show", user.login), /mfa:\s+enforced/);
  assert.equal(stack.imap(user.login, appPassword), "OK");
  assert.match(stack.imap(user.login, user.password), /Invalid login or password/);
  await context.close();
});

test("the walk with an authentication phone, the code read from the outbox", async () => {
  const user = { ...newUser(stack, "enabled"), tag: "phone" };
  const { page, context } = await newPage(browser);
  await signIn(page, stack, user);
  await page.click("#setup-now");
  await page.selectOption("#method", "phone");
  await page.fill("#country-code", "+62");
  await page.fill("#phone-number", "0812 3456 7890");
  await screenshot(page, "phone-number");
  await page.click("#text-me");
  await page.waitForSelector("#code");
  const code = await waitFor(() => outboxCode(stack, "+62 81234567890"));
  await page.fill("#code", code);
  await page.click("#verify");
  const appPassword = await finishWizard(page, user);
  assert.match(stack.kunci("user", "show", user.login), /mfa:\s+enforced/);
  assert.equal(stack.imap(user.login, appPassword), "OK");
  await context.close();
});

test("the walk with an alternate email, the code received by a real SMTP server", async () => {
  const user = { ...newUser(stack, "enabled"), tag: "email" };
  const alt = `alt-${Date.now()}@example.net`;
  const { page, context } = await newPage(browser);
  await signIn(page, stack, user);
  await page.click("#setup-now");
  await page.selectOption("#method", "email");
  await page.fill("#alt-email", alt);
  await page.click("#send-email");
  await page.waitForSelector("#code");
  const code = await waitFor(() => mailedCode(stack, alt));
  await page.fill("#code", code);
  await page.click("#verify");
  await finishWizard(page, user);
  assert.match(stack.kunci("user", "show", user.login), /mfa:\s+enforced/);
  await context.close();
});

test("wrong, expired, reused codes and too many attempts say so and register nothing", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await signIn(page, stack, user);
  await page.click("#setup-now");
  await page.waitForSelector("#totp-secret");
  const secret = (await page.textContent("#totp-secret")).trim();
  const right = totp(secret);
  await page.fill("#code", right === "000000" ? "111111" : "000000");
  await page.click("#verify");
  await page.waitForFunction(() => document.querySelector("#code-error")?.textContent.includes("didn't work"));
  await screenshot(page, "wrong-code");

  // Too many attempts with a texted code.
  await page.selectOption("#method", "phone");
  await page.fill("#phone-number", "81200000001");
  await page.click("#text-me");
  await page.waitForSelector("#code");
  const sent = await waitFor(() => outboxCode(stack, "+62 81200000001"));
  const wrong = sent === "999999" ? "999998" : "999999";
  for (let i = 0; i < 4; i++) {
    await page.fill("#code", wrong);
    await page.click("#verify");
    await page.waitForFunction(() => document.querySelector("#code-error")?.textContent.includes("didn't work"));
    await page.evaluate(() => { document.querySelector("#code-error").textContent = ""; });
  }
  await page.fill("#code", wrong);
  await page.click("#verify");
  await page.waitForFunction(() => document.querySelector("#code-error")?.textContent.includes("Too many"));
  await page.fill("#code", sent);
  await page.click("#verify");
  await page.waitForFunction(() => /Ask for a new code/.test(document.querySelector("#code-error")?.textContent));

  // An expired code.
  await page.click("#text-me");
  await waitFor(() => { const c = outboxCode(stack, "+62 81200000001"); return c && c !== sent ? c : null; });
  const fresh = outboxCode(stack, "+62 81200000001");
  stack.sql("UPDATE codes SET expires_at = 1");
  await page.fill("#code", fresh);
  await page.click("#verify");
  await page.waitForFunction(() => document.querySelector("#code-error")?.textContent.includes("expired"));
  await screenshot(page, "expired-code");

  const session = await page.evaluate(() => fetch("/api/v1/session").then((r) => r.json()));
  assert.deepEqual(session.methods, []);
  assert.equal(session.next, "setup");
  assert.match(stack.kunci("user", "show", user.login), /mfa:\s+enabled/);

  // A TOTP code is accepted once: the set-up code cannot sign in again.
  await page.selectOption("#method", "totp");
  await page.waitForSelector("#totp-secret");
  const secret2 = (await page.textContent("#totp-secret")).trim();
  // Within one 30-second step from here to the second sign-in (so "used already", never
  // "didn't work" because the step moved on): wait for a step with 15 s left.
  while (Date.now() / 1000 % 30 > 15) await new Promise((r) => setTimeout(r, 250));
  const code = totp(secret2);
  await page.fill("#code", code);
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next");
  await page.waitForSelector("#done");
  await context.close();
  const second = await newPage(browser);
  await signIn(second.page, stack, user);
  await second.page.waitForSelector("#verify");
  assert.equal(totp(secret2), code, "the step moved on before the second sign-in");
  await second.page.fill("#code", code);
  await second.page.click("#verify");
  await second.page.waitForFunction(() => document.querySelector("#error")?.textContent.includes("used already"));
  await screenshot(second.page, "reused-code");
  await second.context.close();
});

test("later sign-ins ask for the code; don't ask again skips it on that browser only", async () => {
  const user = newUser(stack, "enabled");
  const first = await newPage(browser);
  await signIn(first.page, stack, user);
  await first.page.click("#setup-now");
  await first.page.waitForSelector("#totp-secret");
  const secret = (await first.page.textContent("#totp-secret")).trim();
  await first.page.fill("#code", totp(secret));
  await first.page.click("#verify");
  await first.page.waitForSelector("#verified");
  await first.page.click("#next");
  await first.page.click("#done");
  await first.page.click("#signout");
  await first.page.waitForSelector("#signin");

  // Next sign-in: the code is asked for. One step later, so the code is a new one.
  await signIn(first.page, stack, user);
  await first.page.waitForSelector("#remember");
  assert.match(await first.page.textContent("label[for=remember]"), /Don't ask again for 14 days/);
  await screenshot(first.page, "enter-code");
  await first.page.fill("#code", totp(secret, Date.now() / 1000 + 30));
  await first.page.check("#remember");
  await first.page.click("#verify");
  await first.page.waitForSelector("#app-passwords-heading");
  await first.page.click("#signout");
  await signIn(first.page, stack, user);
  await first.page.waitForSelector("#app-passwords-heading"); // no code asked on this browser

  const other = await newPage(browser);
  await signIn(other.page, stack, user);
  await other.page.waitForSelector("#code"); // another browser is asked
  await first.context.close();
  await other.context.close();
});

test("Security info: an IMAP-only app password, its last use, then deleted and refused", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await setUpWithTotp(page, stack, user);
  await page.click("#done");
  await page.click("#create-app-password");
  await page.fill("#app-password-name", "iPhone");
  await page.check("#proto-imap");
  await page.click("#create");
  await page.waitForSelector("#app-password");
  const pw = (await page.textContent("#app-password")).trim();
  await page.click("#done");
  await page.waitForSelector("tr[data-name=iPhone]");
  assert.match(await page.textContent("tr[data-name=iPhone]"), /Never/);
  assert.equal(stack.imap(user.login, pw), "OK");
  await page.reload();
  await page.waitForSelector("tr[data-name=iPhone]");
  assert.match(await page.textContent("tr[data-name=iPhone] .last-used"), /127\.0\.0\.1 over IMAP/);
  await screenshot(page, "security-info");
  page.once("dialog", (d) => d.accept());
  await page.click("tr[data-name=iPhone] button");
  await page.waitForSelector("tr[data-name=iPhone]", { state: "detached" });
  assert.match(stack.imap(user.login, pw), /Invalid login or password/);
  await context.close();
});

test("with Accept-Language id-ID the walk is in Indonesian", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser, { locale: "id-ID", extraHTTPHeaders: { "Accept-Language": "id-ID,id;q=0.9" } });
  await signIn(page, stack, user);
  await page.waitForSelector("#setup-now");
  assert.equal((await page.textContent("#setup-now")).trim(), "Atur sekarang");
  assert.equal(await page.textContent("#title"), "Diperlukan informasi lebih lanjut");
  assert.equal(await page.getAttribute("html", "lang"), "id");
  await screenshot(page, "indonesian");
  await page.selectOption("#lang", "en");
  await page.waitForFunction(() => document.querySelector("#setup-now")?.textContent === "Set it up now");
  await context.close();
});

test("a POST without the CSRF token changes nothing", async () => {
  const user = newUser(stack, "disabled");
  stack.kunci("mfa", "set", user.login, "enforced");
  stack.kunci("app-password", "create", user.login, "--name", "Keep me");
  stack.kunci("mfa", "set", user.login, "disabled");
  const { page, context } = await newPage(browser);
  await signIn(page, stack, user);
  await page.waitForSelector("#app-passwords-unavailable");
  assert.match(await page.textContent("#app-passwords-unavailable"), /not required for your account, so app passwords are not available/);
  assert.equal(await page.$("#create-app-password"), null);
  const statuses = await page.evaluate(async () => {
    const post = (path, body) => fetch("/api/v1" + path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.status);
    const del = (path) => fetch("/api/v1" + path, { method: "DELETE" }).then((r) => r.status);
    return [await del("/app-passwords"), await post("/methods/totp", {}), await del("/session")];
  });
  assert.deepEqual(statuses, [403, 403, 403]);
  assert.match(stack.kunci("app-password", "list", user.login), /Keep me/);
  const session = await page.evaluate(() => fetch("/api/v1/session").then((r) => r.json()));
  assert.equal(session.signed_in, true);
  await context.close();
});

test("first run: the admin signs in, creates a user with MFA required, who walks the seed", async () => {
  const adminLogin = `admin${Date.now()}@example.org`;
  const out = JSON.parse(stack.kunci("user", "add", adminLogin, "--admin", "--temporary", "--json", { input: "" }));
  const admin = await newPage(browser);
  await signIn(admin.page, stack, { login: adminLogin, password: out.password });
  await admin.page.waitForSelector("#new-password");
  await admin.page.fill("#current", out.password);
  await admin.page.fill("#new-password", "Admin-own-pass-1");
  await admin.page.fill("#repeat-password", "Admin-own-pass-1");
  await admin.page.click("button[type=submit]");
  await admin.page.click("#admin-link");
  const userLogin = `walker${Date.now()}@example.org`;
  await admin.page.fill("#new-login", userLogin);
  await admin.page.fill("#new-display-name", "Dewi Walker");
  assert.equal(await admin.page.isChecked("#new-mfa"), true);
  await admin.page.click("#create-user");
  await admin.page.waitForSelector("#one-time-password");
  const oneTime = (await admin.page.textContent("#one-time-password")).trim();
  await admin.page.waitForSelector(`tr[data-login="${userLogin}"]`); // the list shows the new user
  await screenshot(admin.page, "admin-created-user");
  assert.match(stack.kunci("user", "show", userLogin), /mfa:\s+enabled/);
  await admin.context.close();

  const { page, context } = await newPage(browser);
  await signIn(page, stack, { login: userLogin, password: oneTime });
  await page.fill("#current", oneTime);
  await page.fill("#new-password", "Walker-own-pass-1");
  await page.fill("#repeat-password", "Walker-own-pass-1");
  await page.click("button[type=submit]");
  await page.click("#setup-now");
  await page.waitForSelector("#totp-secret");
  await page.fill("#code", totp((await page.textContent("#totp-secret")).trim()));
  await page.click("#verify");
  const appPassword = await finishWizard(page, { tag: "first-run" });
  assert.equal(stack.imap(userLogin, appPassword), "OK");
  assert.match(stack.imap(userLogin, "Walker-own-pass-1"), /Invalid login or password/);
  await context.close();
});

test("keyboard only: sign in and reach Set it up now without a mouse", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await page.goto(stack.web + "/");
  await page.waitForSelector("#login");
  await page.focus("#login");
  await page.keyboard.type(user.login);
  await page.keyboard.press("Tab");
  await page.keyboard.type(user.password);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#setup-now");
  // Focus moves to the page; Tab reaches the button, Enter presses it.
  for (let i = 0; i < 10 && (await page.evaluate(() => document.activeElement?.id)) !== "setup-now"; i++)
    await page.keyboard.press("Tab");
  await page.keyboard.press("Enter");
  await page.waitForSelector("#totp-secret");
  await screenshot(page, "keyboard-wizard");
  await context.close();
});

async function registeredUser(page) {
  const user = newUser(stack, "enabled");
  await signIn(page, stack, user);
  await page.click("#setup-now");
  await page.waitForSelector("#totp-secret");
  user.secret = (await page.textContent("#totp-secret")).trim();
  await page.fill("#code", totp(user.secret));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next");
  await page.click("#done");
  await page.waitForSelector("#methods");
  return user;
}

test("Security info: the last method stays; another is added, made default, the first removed", async () => {
  const { page, context } = await newPage(browser);
  const user = await registeredUser(page);
  page.on("dialog", (d) => d.accept());
  // The only method while MFA is required: no Remove button that could only fail.
  assert.equal(await page.locator("#methods li button.danger").count(), 0);
  assert.match(await page.textContent("#methods"), /Authenticator app/);
  await page.click("#add-method");
  await page.selectOption("#method", "email");
  const alt = `second-${Date.now()}@example.net`;
  await page.fill("#alt-email", alt);
  await page.click("#send-email");
  await page.waitForSelector("#code");
  await page.fill("#code", await waitFor(() => mailedCode(stack, alt)));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next"); // "Done" when adding from Security info
  await page.waitForSelector("#methods");
  assert.equal(await page.locator("#methods li").count(), 2);
  await page.click("#methods li:nth-child(2) button.secondary"); // Make default
  await page.waitForFunction(() => document.querySelector("#methods li:nth-child(2) .badge"));
  await page.click("#methods li:nth-child(1) button.danger");
  await page.waitForFunction(() => document.querySelectorAll("#methods li").length === 1);
  assert.match(await page.textContent("#methods"), /s•••@example\.net/);
  await screenshot(page, "methods");
  await context.close();
  // The next sign-in sends the e-mail code, the new default, at once, and says where.
  const next = await newPage(browser);
  // Read before signing in: Postfix may deliver the new one before the page shows.
  const before = mailedCode(stack, alt);
  await signIn(next.page, stack, user);
  await next.page.waitForSelector("#send-code");
  const code = await waitFor(() => { const c = mailedCode(stack, alt); return c && c !== before ? c : null; });
  await next.page.waitForFunction(() => /We sent a code to s•••@example\.net/.test(document.querySelector("#error")?.textContent));
  await next.page.fill("#code", code);
  await next.page.click("#verify");
  await next.page.waitForSelector("#app-passwords-heading");
  await next.context.close();
});

test("creating an app password asks for the password again after ten minutes", async () => {
  const { page, context } = await newPage(browser);
  const user = await registeredUser(page);
  stack.sql(`UPDATE sessions SET password_at = password_at - 601 WHERE account_id = (SELECT id FROM accounts WHERE login = '${user.login}')`);
  await page.click("#create-app-password");
  await page.fill("#app-password-name", "Thunderbird");
  await page.click("#create");
  await page.waitForSelector("#reauth-password");
  await screenshot(page, "reauth");
  await page.fill("#reauth-password", "wrong password");
  await page.click("#reauth");
  await page.waitForFunction(() => document.querySelector("#error")?.textContent.includes("incorrect"));
  await page.fill("#reauth-password", user.password);
  await page.click("#reauth");
  await page.waitForSelector("#app-password");
  assert.match(await page.textContent("#title"), /Thunderbird/);
  // Changing the password from Security info, signed in.
  await page.click("#done");
  await page.click("text=Change password");
  await page.fill("#current", user.password);
  await page.fill("#new-password", "Changed-pass-2");
  await page.fill("#repeat-password", "Changed-pass-3");
  await page.click("button[type=submit]");
  await page.waitForFunction(() => document.querySelector("#error")?.textContent.includes("not the same"));
  await page.fill("#repeat-password", "Changed-pass-2");
  await page.click("button[type=submit]");
  await page.waitForSelector("#app-passwords-heading");
  assert.doesNotMatch(await page.textContent("main"), /null|undefined/);
  const second = await newPage(browser);
  await signIn(second.page, stack, { login: user.login, password: "Changed-pass-2" });
  await second.page.waitForSelector("#code"); // the new password is the one that works
  await second.context.close();
  await context.close();
});
