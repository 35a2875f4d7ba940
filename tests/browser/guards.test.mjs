// What the guards look like to a person: a wait before another code, the password asked
// again in the wizard after ten minutes, a locked password, and an administrator who sees
// and clears a lockout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startStack, launch, newPage, screenshot, totp, waitFor, outboxCode, newUser,
  signIn } from "./harness.mjs";

let stack, browser;
before(async () => { stack = await startStack(); browser = await launch(); });
after(async () => {
  await browser?.close();
  assert.equal(await stack?.stop(), 0);
});

test("another code waits for its cool-down, and the button says how long", async () => {
  stack.kunci("settings", "set", "code_resend_seconds", "30");
  try {
    const user = newUser(stack, "enabled");
    const { page, context } = await newPage(browser);
    await signIn(page, stack, user);
    await page.click("#setup-now");
    await page.selectOption("#method", "phone");
    await page.fill("#phone-number", "81200000077");
    await page.click("#text-me");
    await page.waitForSelector("#code");
    await waitFor(() => outboxCode(stack, "+62 81200000077"));
    await page.waitForFunction(() => /another code in \d+ seconds/.test(document.querySelector("#resend-wait").textContent));
    assert.equal(await page.isDisabled("#text-me"), true);
    assert.equal(await page.isDisabled("#call-me"), true);
    await screenshot(page, "code-cool-down");
    // The server holds the line too: asking anyway is refused with the wait.
    const r = await page.evaluate(async () => {
      const s = await (await fetch("/api/v1/session")).json();
      const resp = await fetch("/api/v1/methods/phone", { method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": s.csrf },
        body: JSON.stringify({ country_code: "+62", number: "81200000077", channel: "voice" }) });
      return { status: resp.status, body: await resp.json() };
    });
    assert.equal(r.status, 429);
    assert.equal(r.body.error, "too_many_codes");
    assert.ok(r.body.retry_after > 0 && r.body.retry_after <= 30);
    await context.close();
  } finally {
    stack.kunci("settings", "set", "code_resend_seconds", "0");
  }
});

test("the wizard asks for the password again when its step comes after ten minutes", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await signIn(page, stack, user);
  await page.waitForSelector("#setup-now");
  stack.sql("UPDATE sessions SET password_at = password_at - 3600");
  await page.click("#setup-now");
  await page.waitForSelector("#reauth-password");
  await screenshot(page, "wizard-reauth");
  await page.fill("#reauth-password", user.password);
  await page.click("#reauth");
  await page.waitForSelector("#totp-secret");
  const secret = (await page.textContent("#totp-secret")).trim();
  await page.fill("#code", totp(secret));
  await page.click("#verify");
  await page.waitForSelector("#next");
  await page.click("#next");
  await page.waitForSelector("#app-password");
  await context.close();
});

test("a locked password says so, and the administrator sees and clears the lock", async () => {
  const admin = newUser(stack, "disabled", "Admin-pass-12");
  stack.kunci("user", "add", "boss-" + admin.login, "--admin", "--password-stdin", { input: "Boss-pass-123-long\n" });
  const victim = newUser(stack, "disabled");
  const { page, context } = await newPage(browser);
  for (let i = 0; i < 10; i++) {
    await signIn(page, stack, { login: victim.login, password: `Wrong-guess-${i}` });
    await page.waitForFunction(() => document.querySelector("#error")?.textContent.length > 0);
  }
  await signIn(page, stack, victim);
  await page.waitForFunction(() => /Too many wrong passwords/.test(document.querySelector("#error")?.textContent));
  assert.match(await page.textContent("#error"), /Try again in \d+ minutes/);
  await screenshot(page, "password-locked");
  await context.close();

  const boss = await newPage(browser);
  await signIn(boss.page, stack, { login: "boss-" + admin.login, password: "Boss-pass-123-long" });
  await boss.page.waitForSelector("#admin-link");
  await boss.page.click("#admin-link");
  await boss.page.waitForSelector(`#lockout-list tr[data-subject="${victim.login}"]`);
  await screenshot(boss.page, "admin-lockouts");
  await boss.page.click(`#lockout-list tr[data-subject="${victim.login}"] button`);
  await boss.page.waitForFunction((login) => !document.querySelector(`#lockout-list tr[data-subject="${login}"]`), victim.login);
  await boss.context.close();

  const again = await newPage(browser);
  await signIn(again.page, stack, victim);
  await again.page.waitForSelector("#app-passwords-heading");
  await again.context.close();
});
