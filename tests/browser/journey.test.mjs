// The user's journey without rough edges: safe to press twice, the app password not lost by
// accident, messages that say what happened (and only the current ones), the session ending
// elsewhere, and the Indonesian wording.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, launch, newPage, screenshot, totp, outboxCode, waitFor, newUser,
  signIn } from "./harness.mjs";

let stack, browser;
before(async () => { stack = await startStack(); browser = await launch(); });
after(async () => {
  await browser?.close();
  assert.equal(await stack?.stop(), 0);
});

function appPasswords(login) {
  return JSON.parse(stack.kunci("app-password", "list", login, "--json"));
}

// Signs in and registers an authenticator app, up to "Verification successful".
async function verifiedTotp(page, user) {
  await signIn(page, stack, user);
  await page.click("#setup-now");
  await page.waitForSelector("#totp-secret");
  user.secret = (await page.textContent("#totp-secret")).trim();
  const right = totp(user.secret);
  await page.fill("#code", right === "000000" ? "111111" : "000000");
  await page.click("#verify");
  await page.waitForFunction(() => /didn't work/.test(document.querySelector("#code-error")?.textContent));
  assert.equal(await page.getAttribute("#code", "aria-invalid"), "true");
  assert.equal(await page.getAttribute("#code", "aria-describedby"), "code-error");
  await page.fill("#code", totp(user.secret));
  await page.click("#verify");
  await page.waitForSelector("#verified");
}

// Through the wizard with an authenticator app to Security info.
async function registered(page, user) {
  await verifiedTotp(page, user);
  await page.click("#next");
  await page.click("#copy");
  await page.click("#done");
  await page.waitForSelector("#methods");
}

test("Next and Create pressed twice make one app password each", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await verifiedTotp(page, user);
  // Only the current message: the wrong code's is gone once the right one is in.
  assert.equal(await page.textContent("#code-error"), "");
  await page.dblclick("#next");
  await page.waitForSelector("#app-password");
  assert.equal(await page.locator("#setup-error").count(), 0);
  assert.doesNotMatch(await page.textContent("#app"), /[Rr]eload/);
  assert.equal(appPasswords(user.login).length, 1);
  await page.click("#copy");
  await page.click("#done");
  await page.waitForSelector("#create-app-password");
  await page.click("#create-app-password");
  await page.fill("#app-password-name", "Thunderbird");
  await page.dblclick("#create");
  await page.waitForSelector("#app-password");
  assert.deepEqual(appPasswords(user.login).map((a) => a.name).sort(),
    ["Outlook, Apple Mail and other apps", "Thunderbird"]);
  await screenshot(page, "journey-created-once");
  await context.close();
});

// The request reaches kunci, which does it; the answer is lost on the way (the network
// dropped). Pressed again, the button sends the same request and shows the same password.
async function loseFirstAnswer(page, path) {
  let lost = 0;
  await page.route("**/api/v1" + path, async (route) => {
    if (route.request().method() !== "POST" || lost > 0) return route.continue();
    lost++;
    await route.fetch(); // kunci answers ...
    await route.abort("connectionreset"); // ... and the browser never hears it
  });
  return () => lost;
}

test("an answer lost on the way: pressed again, Next and Create show the same password", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await verifiedTotp(page, user);
  const lostNext = await loseFirstAnswer(page, "/setup/complete");
  await page.click("#next");
  await page.waitForFunction(() => /reach the server/.test(document.querySelector("#setup-error")?.textContent));
  assert.equal(lostNext(), 1);
  assert.equal(appPasswords(user.login).length, 1); // done once already
  await page.click("#next");
  await page.waitForSelector("#app-password");
  const shown = (await page.textContent("#app-password")).replace(/\s/g, "");
  assert.equal(appPasswords(user.login).length, 1);
  // It is the one kunci made: a real IMAP login through nginx and Dovecot takes it.
  assert.equal(stack.imap(user.login, shown), "OK");
  await page.click("#copy");
  await page.click("#done");
  await page.waitForSelector("#create-app-password");
  const lostCreate = await loseFirstAnswer(page, "/app-passwords");
  await page.click("#create-app-password");
  await page.fill("#app-password-name", "Tablet");
  await page.click("#create");
  await page.waitForFunction(() => /reach the server/.test(document.querySelector(".error")?.textContent));
  assert.equal(lostCreate(), 1);
  await page.click("#create");
  await page.waitForSelector("#app-password");
  assert.deepEqual(appPasswords(user.login).map((a) => a.name).sort(),
    ["Outlook, Apple Mail and other apps", "Tablet"]);
  await screenshot(page, "journey-lost-answer");
  await context.close();
});

test("leaving the app-password page asks first, until it was copied", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await verifiedTotp(page, user);
  await page.click("#next");
  await page.waitForSelector("#app-password");
  const shown = await page.textContent("#app-password");
  const dialogs = [];
  page.on("dialog", (d) => { dialogs.push(d.type()); d.dismiss(); });
  // Reload: the browser asks (beforeunload); staying keeps the password on the page.
  page.evaluate(() => location.reload()).catch(() => {});
  await waitFor(() => dialogs.includes("beforeunload"));
  assert.equal(await page.textContent("#app-password"), shown);
  // Back: asked too.
  page.goBack().catch(() => {});
  await waitFor(() => dialogs.includes("confirm"));
  assert.equal(await page.textContent("#app-password"), shown);
  // Once copied, leaving is free.
  await page.click("#copy");
  await page.waitForFunction(() => document.querySelector("#copy-status").textContent.length > 0);
  const asked = dialogs.length;
  await page.reload();
  await page.waitForSelector("#app-passwords-heading");
  assert.equal(dialogs.length, asked);
  await context.close();
});

test("a sent code says where it went; an empty or malformed login says so", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  await page.goto(stack.web + "/");
  await page.click("#signin");
  await page.waitForFunction(() => /Enter your account/.test(document.querySelector("#error")?.textContent));
  // The field the error is about says so to assistive technology.
  assert.equal(await page.getAttribute("#login", "aria-invalid"), "true");
  assert.equal(await page.getAttribute("#login", "aria-describedby"), "error");
  // The focus ring stands out from white by at least 3:1.
  await page.focus("#signin");
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Tab");
  const ratio = await page.evaluate(() => {
    const c = getComputedStyle(document.activeElement).outlineColor.match(/\d+/g).map(Number);
    const lin = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    const l = 0.2126 * lin(c[0]) + 0.7152 * lin(c[1]) + 0.0722 * lin(c[2]);
    return 1.05 / (l + 0.05);
  });
  assert.ok(ratio >= 3, `focus ring contrast ${ratio.toFixed(2)}:1`);
  await page.fill("#login", "alice");
  await page.fill("#password", "anything-1");
  await page.click("#signin");
  await page.waitForFunction(() => /Enter a login like/.test(document.querySelector("#error")?.textContent));
  await signIn(page, stack, user);
  await page.click("#setup-now");
  await page.selectOption("#method", "phone");
  await page.fill("#phone-number", "81277770042");
  await page.click("#text-me");
  await page.waitForSelector("#code");
  assert.match(await page.textContent("#error"), /We sent a code to \+62 ••••0042/);
  await waitFor(() => outboxCode(stack, "+62 81277770042"));
  await screenshot(page, "journey-sent-where");
  await context.close();
});

test("a session ended in another tab says so, keeps what was typed, and signs in again", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await registered(page, user);
  await page.click("#create-app-password");
  await page.fill("#app-password-name", "Half typed");
  const other = await context.newPage();
  await other.goto(stack.web + "/security");
  await other.click("#signout");
  await other.waitForSelector("#signin");
  await page.click("#create");
  await page.waitForSelector("#session-ended");
  assert.match(await page.textContent("#session-ended"), /You were signed out/);
  assert.equal(await page.inputValue("#app-password-name"), "Half typed");
  assert.doesNotMatch(await page.textContent("#app"), /Reload/);
  await screenshot(page, "journey-signed-out");
  await page.click("#sign-in-again");
  await page.waitForSelector("#login");
  await context.close();
});

test("another method sits below the code field", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await registered(page, user);
  await page.click("#add-method");
  await page.selectOption("#method", "phone");
  await page.fill("#phone-number", "81277770043");
  await page.click("#text-me");
  await page.waitForSelector("#code");
  await page.fill("#code", await waitFor(() => outboxCode(stack, "+62 81277770043")));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await context.close();
  const next = await newPage(browser);
  await signIn(next.page, stack, user);
  await next.page.waitForSelector("#other-methods");
  const below = await next.page.evaluate(() =>
    Boolean(document.querySelector("#code").compareDocumentPosition(document.querySelector("#other-methods")) &
      Node.DOCUMENT_POSITION_FOLLOWING));
  assert.ok(below, "Use another method comes after the code field");
  await screenshot(next.page, "journey-other-method-below");
  await next.context.close();
});

test("Indonesian: Hubungi saya, Kode salah, Belum pernah", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser, { locale: "id-ID", extraHTTPHeaders: { "Accept-Language": "id-ID,id;q=0.9" } });
  await signIn(page, stack, user);
  await page.click("#setup-now");
  await page.selectOption("#method", "phone");
  assert.equal((await page.textContent("#call-me")).trim(), "Hubungi saya");
  await page.selectOption("#method", "totp");
  await page.waitForSelector("#totp-secret");
  const secret = (await page.textContent("#totp-secret")).trim();
  await page.fill("#code", totp(secret) === "000000" ? "111111" : "000000");
  await page.click("#verify");
  await page.waitForFunction(() => /Kode salah/.test(document.querySelector("#code-error")?.textContent));
  await page.fill("#code", totp(secret));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next");
  await page.click("#copy");
  await page.click("#done");
  await page.waitForSelector("#app-password-list");
  assert.match(await page.textContent("#app-password-list"), /Belum pernah/);
  assert.match(await page.textContent("#app-password-list"), /Outlook, Apple Mail, dan aplikasi lain/);
  await screenshot(page, "journey-indonesian");
  await context.close();
});

test("the wizard survives reload and Back on each step, and completes with the first secret", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  await signIn(page, stack, user);
  await page.waitForSelector("#setup-now");
  assert.match(await page.textContent("#step"), /Step 1 of 3/);
  await page.reload();
  await page.click("#setup-now");
  await page.waitForSelector("#totp-secret");
  assert.equal(new URL(page.url()).pathname, "/setup/method");
  assert.match(await page.textContent("#step"), /Step 2 of 3/);
  const first = (await page.textContent("#totp-secret")).trim();
  await page.reload();
  await page.waitForSelector("#totp-secret");
  assert.equal((await page.textContent("#totp-secret")).trim(), first);
  await page.goBack();
  await page.waitForSelector("#setup-now");
  await page.goForward();
  await page.waitForSelector("#totp-secret");
  assert.equal((await page.textContent("#totp-secret")).trim(), first);
  // A second tab shows the same secret too.
  const tab = await context.newPage();
  await tab.goto(stack.web + "/setup/method");
  await tab.waitForSelector("#totp-secret");
  assert.equal((await tab.textContent("#totp-secret")).trim(), first);
  await tab.close();
  // Cancel leads back to "More information required".
  await page.click("#cancel-setup");
  await page.waitForSelector("#setup-now");
  await page.click("#setup-now");
  await page.waitForSelector("#totp-secret");
  await page.fill("#code", totp(first));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next");
  await page.waitForSelector("#app-password");
  assert.match(await page.textContent("#step"), /Step 3 of 3/);
  await screenshot(page, "journey-wizard-step-3");
  assert.match(stack.kunci("user", "show", user.login), /mfa:\s+enforced/);
  await context.close();
});

test("a new password: the meter and the reasons, in English and Indonesian", async () => {
  for (const [lang, common, personal] of [["en", /too common/, /from your account or your name/],
    ["id", /terlalu umum/, /dari akun atau nama Anda/]]) {
    const user = newUser(stack, "disabled");
    const options = lang === "id" ? { locale: "id-ID", extraHTTPHeaders: { "Accept-Language": "id-ID" } } : {};
    const { page, context } = await newPage(browser, options);
    await signIn(page, stack, user);
    await page.waitForSelector("#app-passwords-heading, #methods");
    await page.goto(stack.web + "/password");
    await page.waitForSelector("#new-password");
    await page.fill("#current", user.password);
    await page.fill("#new-password", "password1");
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector("#strength-text").textContent), common.source);
    assert.equal(await page.getAttribute("#new-password", "aria-describedby"), "strength-text");
    await page.fill("#repeat-password", "password1");
    await page.click("form button[type=submit]");
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector("#error").textContent), common.source);
    const local = user.login.split("@")[0];
    await page.fill("#new-password", local + "2024");
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector("#strength-text").textContent), personal.source);
    await page.fill("#new-password", "Wanderlust-Orbit-7 tea");
    await page.waitForFunction(() => Number(document.querySelector("#strength").value) >= 3);
    await screenshot(page, `journey-password-meter-${lang}`);
    await context.close();
  }
});

test("Security info reads like the seed's system; the key to type is grouped with Copy; the work address is no alternate", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  await signIn(page, stack, user);
  await page.click("#setup-now");
  await page.waitForSelector("#totp-secret");
  const grouped = (await page.textContent("#totp-secret")).trim();
  assert.match(grouped, /^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$/);
  await page.click("#copy-secret");
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), grouped.replace(/ /g, ""));
  await page.selectOption("#method", "email");
  await page.fill("#alt-email", user.login);
  await page.click("#send-email");
  await page.waitForFunction(() => /other than your work/.test(document.querySelector("#error")?.textContent));
  await page.selectOption("#method", "totp");
  await page.waitForSelector("#totp-secret");
  assert.equal((await page.textContent("#totp-secret")).trim(), grouped);
  await page.fill("#code", totp(grouped));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next");
  await page.click("#copy");
  await page.click("#done");
  await page.waitForSelector("#methods");
  const methods = await page.textContent("#methods");
  assert.match(methods, /Authenticator app/);
  assert.match(methods, /added /);
  assert.match(methods, /Default/);
  assert.equal(await page.locator("#methods button.danger").count(), 0);
  await screenshot(page, "journey-security-info");
  await context.close();
});

test("after ten wrong codes the sign-in page says why the user is back there", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await registered(page, user);
  await context.close();
  const next = await newPage(browser);
  await signIn(next.page, stack, user);
  await next.page.waitForSelector("#code");
  const right = totp(user.secret);
  const wrong = right === "000000" ? "111111" : "000000";
  for (let i = 0; i < 10 && !(await next.page.locator("#notice").count()); i++) {
    await next.page.fill("#code", wrong);
    await next.page.click("#verify");
    await next.page.waitForFunction(() => document.querySelector("#error")?.textContent || document.querySelector("#notice"));
  }
  await next.page.waitForSelector("#notice", { timeout: 10000 });
  assert.match(await next.page.textContent("#notice"), /signed out after too many wrong codes/);
  assert.ok(await next.page.locator("#login").count());
  await screenshot(next.page, "journey-ten-wrong-codes");
  await next.context.close();
});

test("Change on Security info replaces a phone with a new number, default and all", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await signIn(page, stack, user);
  await page.click("#setup-now");
  await page.selectOption("#method", "phone");
  await page.fill("#phone-number", "81277770050");
  await page.click("#text-me");
  await page.waitForSelector("#code");
  await page.fill("#code", await waitFor(() => outboxCode(stack, "+62 81277770050")));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next");
  await page.click("#copy");
  await page.click("#done");
  await page.waitForSelector("#methods");
  await page.click("#methods button.change");
  assert.match(await page.textContent("h1"), /Change Phone \+62 ••••0050/);
  await page.fill("#phone-number", "81277770051");
  await page.click("#text-me");
  await page.waitForSelector("#code");
  await page.fill("#code", await waitFor(() => outboxCode(stack, "+62 81277770051")));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next");
  await page.waitForFunction(() => /••••0051/.test(document.querySelector("#methods")?.textContent));
  const methods = await page.textContent("#methods");
  assert.doesNotMatch(methods, /0050/);
  assert.match(methods, /Default/);
  await screenshot(page, "journey-method-changed");
  await context.close();
});
