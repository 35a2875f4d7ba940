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
  await page.fill("#code", totp(user.secret));
  await page.click("#verify");
  await page.waitForSelector("#verified");
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
  await verifiedTotp(page, user);
  await page.click("#next");
  await page.click("#copy");
  await page.click("#done");
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
  await verifiedTotp(page, user);
  await page.click("#next");
  await page.click("#copy");
  await page.click("#done");
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
