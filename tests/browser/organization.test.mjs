// The organization's side as people use it in Chromium: Recent activity with the reason a
// mail app was refused, "This wasn't me", and the administrators' sign-in log.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { startStack, launch, newPage, screenshot, totp, newUser, signIn, waitFor, mailedCode } from "./harness.mjs";

let stack, browser;
before(async () => { stack = await startStack(); browser = await launch(); });
after(async () => {
  await browser?.close();
  assert.equal(await stack?.stop(), 0);
});

// Through the wizard with an authenticator app, to Security info.
async function registered(page, user) {
  await signIn(page, stack, user);
  await page.click("#setup-now");
  await page.waitForSelector("#totp-secret");
  user.secret = (await page.textContent("#totp-secret")).trim().replace(/\s/g, "");
  await page.fill("#code", totp(user.secret));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next");
  await page.click("#copy");
  await page.click("#done");
  await page.waitForSelector("#methods");
}

test("Recent activity says why a mail app was refused, in English and Indonesian", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await registered(page, user);
  const laptop = JSON.parse(stack.kunci("app-password", "create", user.login, "--name", "Laptop", "--protocols", "imap", "--json")).password;
  assert.equal(stack.imap(user.login, laptop), "OK");
  assert.notEqual(stack.pop3(user.login, laptop), "OK"); // IMAP only
  assert.notEqual(stack.imap(user.login, user.password), "OK"); // MFA is enforced now
  await page.click("#activity-link");
  await page.waitForSelector("#activity");
  const text = await page.textContent("#activity");
  assert.match(text, /POP3: app password 'Laptop' is not allowed for POP3\./);
  assert.match(text, /IMAP: your account password is no longer accepted; create an app password\./);
  assert.match(text, /IMAP: app password 'Laptop' used\./);
  assert.match(text, /Signed in on the web\./);
  await screenshot(page, "activity-375");
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.evaluate(() => { localStorage.setItem("kunci.lang", "id"); });
  await page.reload();
  await page.waitForSelector("#activity");
  assert.match(await page.textContent("#activity"), /POP3: kata sandi aplikasi 'Laptop' tidak diizinkan untuk POP3\./);
  await screenshot(page, "activity-id-1280");
  await context.close();
});

test("This wasn't me signs out the other browser and leads to a new password", async () => {
  const user = newUser(stack, "enabled");
  const first = await newPage(browser);
  await registered(first.page, user);
  const second = await newPage(browser);
  await signIn(second.page, stack, user);
  await second.page.waitForSelector("#code");
  await second.page.fill("#code", totp(user.secret, Date.now() / 1000 + 30));
  await second.page.click("#verify");
  await second.page.waitForSelector("#methods");
  await first.page.goto(stack.web + "/security/activity");
  await first.page.waitForSelector("#not-me");
  first.page.once("dialog", (d) => d.accept());
  await first.page.click("#not-me");
  await first.page.waitForSelector("#new-password");
  assert.match(await first.page.textContent("#notice"), /Every other session was signed out/);
  // The other browser is signed out.
  await second.page.reload();
  await second.page.waitForSelector("#login");
  await screenshot(first.page, "not-me");
  await first.context.close();
  await second.context.close();
});

test("the administrators' log filters by user, outcome and protocol; a user gets 403", async () => {
  const user = newUser(stack, "enforced");
  assert.notEqual(stack.imap(user.login, "Wrong-guess-123"), "OK");
  const boss = { login: "boss-" + user.login, password: "Boss-password-long-1" };
  stack.kunci("user", "add", boss.login, "--admin", "--password-stdin", { input: boss.password + "\n" });
  const { page, context } = await newPage(browser);
  await signIn(page, stack, boss);
  await page.waitForSelector("#admin-link");
  await page.click("#admin-link");
  await page.click("#admin-activity-link");
  await page.waitForSelector("#admin-activity");
  await page.fill("#filter-user", user.login);
  await page.selectOption("#filter-outcome", "refused");
  await page.fill("#filter-protocol", "imap");
  await page.click("#apply-filters");
  // The filtered table replaces the first one: only this user's rows.
  await page.waitForFunction((login) => {
    const rows = [...document.querySelectorAll("#admin-activity tbody tr")];
    return location.search.includes("outcome=refused") && rows.length > 0 && rows.every((r) => r.dataset.subject === login);
  }, user.login);
  const rows = await page.$$eval("#admin-activity tbody tr", (trs) => trs.map((tr) => [tr.dataset.subject, tr.textContent]));
  assert.ok(rows.length > 0);
  for (const [subject, text] of rows) {
    assert.equal(subject, user.login);
    assert.match(text, /IMAP/);
    assert.match(text, /wrong_secret|mfa_required/);
  }
  assert.match(page.url(), /outcome=refused/);
  await screenshot(page, "admin-activity");
  // Not for users.
  const status = await page.evaluate(async () => (await fetch("/api/v1/admin/activity")).status);
  assert.equal(status, 200);
  const plain = await newPage(browser);
  const u = newUser(stack, "disabled");
  await signIn(plain.page, stack, u);
  await plain.page.waitForSelector("#methods, #setup-now, #app-passwords-heading");
  assert.equal(await plain.page.evaluate(async () => (await fetch("/api/v1/admin/activity")).status), 403);
  await plain.page.goto(stack.web + "/admin/activity");
  await plain.page.waitForFunction(() => location.pathname === "/security");
  await plain.context.close();
  await context.close();
});

// An administrator of the pilot group: signed in on /admin, the list searched for `tag`.
async function adminPage(tag) {
  const boss = { login: `boss-${tag}@example.org`, password: "Boss-password-long-1" };
  stack.kunci("user", "add", boss.login, "--admin", "--password-stdin", { input: boss.password + "\n" });
  const session = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  await signIn(session.page, stack, boss);
  await session.page.waitForSelector("#admin-link");
  await session.page.goto(stack.web + "/admin?q=" + tag);
  await session.page.waitForSelector("#users tbody tr");
  return session;
}

async function select(page, logins) {
  for (const l of logins) await page.check(`#users input[data-login="${l}"]`);
}

test("a rollout: three users required at once, readiness before Enforce, one finishes set-up", async () => {
  const tag = "pilot" + Date.now().toString(36);
  const users = [0, 1, 2].map((i) => {
    const u = { login: `${tag}-${i}@example.org`, password: "Primary-pass-1" };
    stack.kunci("user", "add", u.login, "--password-stdin", { input: u.password + "\n" });
    return u;
  });
  // The first reads mail with the account password.
  assert.equal(stack.imap(users[0].login, users[0].password), "OK");
  const { page, context } = await adminPage(tag);
  await select(page, users.map((u) => u.login));
  assert.match(await page.textContent("#selected-count"), /3 selected/);
  await page.click("#bulk-enabled");
  await page.waitForSelector("#confirm-dialog");
  assert.match(await page.textContent("#dialog-text"), /set up a method/);
  await screenshot(page, "admin-bulk-require");
  await page.click("#dialog-confirm");
  await page.waitForFunction(() => /Done for 3 users/.test(document.querySelector("#error")?.textContent));
  for (const u of users) assert.match(stack.kunci("user", "show", u.login), /mfa:\s+enabled/);
  // The readiness column names the one on the account password.
  const cell = await page.textContent(`#users tr[data-login="${users[0].login}"] .readiness`);
  assert.match(cell, /1 on the account password/);
  // Enforce says who would be cut off, and how.
  await select(page, users.map((u) => u.login));
  await page.click("#bulk-enforced");
  await page.waitForSelector("#cut-off");
  assert.match(await page.textContent("#dialog-text"), /^1 of these users still use their account password/);
  assert.match(await page.textContent("#cut-off"), new RegExp(`${users[0].login}: IMAP from 127\\.0\\.0\\.1`));
  await screenshot(page, "admin-enforce-readiness");
  await page.click("#dialog-cancel");
  assert.match(stack.kunci("user", "show", users[0].login), /mfa:\s+enabled/); // nothing changed
  // The second user finishes "Set it up now" and is enforced by it.
  const walk = await newPage(browser);
  await signIn(walk.page, stack, users[1]);
  await walk.page.click("#setup-now");
  await walk.page.waitForSelector("#totp-secret");
  const secret = (await walk.page.textContent("#totp-secret")).replace(/\s/g, "");
  await walk.page.fill("#code", totp(secret));
  await walk.page.click("#verify");
  await walk.page.waitForSelector("#verified");
  await walk.page.click("#next");
  await walk.page.waitForSelector("#app-password");
  await walk.context.close();
  await page.reload();
  await page.waitForSelector(`#users tr[data-login="${users[1].login}"]`);
  assert.match(await page.textContent(`#users tr[data-login="${users[1].login}"] .mfa-state`), /Enforced/);
  assert.match(await page.textContent(`#users tr[data-login="${users[0].login}"] .mfa-state`), /Required/);
  await context.close();
});

test("Manage user settings: deleting all app passwords refuses the user's IMAP at once", async () => {
  const tag = "manage" + Date.now().toString(36);
  const user = { login: `${tag}@example.org`, password: "Primary-pass-1" };
  stack.kunci("user", "add", user.login, "--password-stdin", { input: user.password + "\n" });
  stack.kunci("mfa", "set", user.login, "enforced");
  const ap = JSON.parse(stack.kunci("app-password", "create", user.login, "--name", "Laptop", "--json")).password;
  assert.equal(stack.imap(user.login, ap), "OK");
  const { page, context } = await adminPage(tag);
  await select(page, [user.login]);
  await page.click("#bulk-manage");
  await page.waitForSelector("#manage-actions");
  await page.check("#manage-delete_app_passwords");
  await screenshot(page, "admin-manage");
  await page.click("#dialog-confirm");
  await page.waitForFunction(() => /Done for 1 users/.test(document.querySelector("#error")?.textContent));
  assert.notEqual(stack.imap(user.login, ap), "OK");
  assert.equal(JSON.parse(stack.kunci("app-password", "list", user.login, "--json")).length, 0);
  await context.close();
});

test("a lost phone: the administrator's temporary access pass signs in to register a new method", async () => {
  const tag = "lost" + Date.now().toString(36);
  const user = { login: `${tag}@example.org`, password: "Primary-pass-1" };
  stack.kunci("user", "add", user.login, "--password-stdin", { input: user.password + "\n" });
  stack.kunci("mfa", "set", user.login, "enabled");
  const first = await newPage(browser);
  await registered(first.page, user);
  await first.context.close();
  // The phone is gone; the administrator issues a pass in /admin.
  const { page, context } = await adminPage(tag);
  page.once("dialog", (d) => d.accept());
  await page.click(`#users tr[data-login="${user.login}"] button[aria-label="Temporary access pass for ${user.login}"]`);
  await page.waitForSelector("#pass-valid");
  await page.selectOption("#pass-valid", "1h");
  await page.click("#dialog-confirm");
  await page.waitForSelector("#access-pass");
  const pass = (await page.textContent("#access-pass")).trim();
  await screenshot(page, "admin-access-pass");
  await context.close();
  // The user signs in with it and is led to register a new method.
  const again = await newPage(browser);
  await signIn(again.page, stack, { login: user.login, password: pass });
  await again.page.waitForSelector("#method");
  assert.match(await again.page.textContent("#notice"), /temporary access pass/);
  await again.page.selectOption("#method", "totp");
  await again.page.waitForSelector("#totp-secret");
  const secret = (await again.page.textContent("#totp-secret")).replace(/\s/g, "");
  await again.page.fill("#code", totp(secret));
  await again.page.click("#verify");
  await again.page.waitForSelector("#verified");
  await again.page.click("#next"); // "Done" when adding from Security info
  await again.page.waitForSelector("#methods");
  assert.equal(await again.page.locator("#methods li").count(), 2);
  await again.context.close();
  // Used once: it no longer signs in.
  const third = await newPage(browser);
  await signIn(third.page, stack, { login: user.login, password: pass });
  await third.page.waitForSelector("#error:not(:empty)");
  assert.match(await third.page.textContent("#error"), /incorrect/);
  await third.context.close();
});

test("backup codes: shown once with Copy and Download, each signs in once", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser);
  await registered(page, user);
  await page.click("#new-backup-codes");
  await page.waitForSelector("#backup-codes");
  const codes = await page.$$eval("#backup-codes li", (lis) => lis.map((li) => li.textContent.trim()));
  assert.equal(codes.length, 10);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-codes")]);
  const saved = readFileSync(await download.path(), "utf8");
  for (const c of codes) assert.ok(saved.includes(c));
  await screenshot(page, "backup-codes");
  await page.click("#done");
  await page.waitForSelector("#backup-status");
  assert.match(await page.textContent("#backup-status"), /10 of 10 left/);
  await context.close();
  // One code signs in once; the same code a second time does not.
  const once = await newPage(browser);
  await signIn(once.page, stack, user);
  await once.page.click("#use-backup-code");
  await once.page.fill("#backup-code", codes[0]);
  await once.page.click("#verify-backup");
  await once.page.waitForSelector("#backup-status");
  assert.match(await once.page.textContent("#backup-status"), /9 of 10 left/);
  await once.context.close();
  const twice = await newPage(browser);
  await signIn(twice.page, stack, user);
  await twice.page.click("#use-backup-code");
  await twice.page.fill("#backup-code", codes[0]);
  await twice.page.click("#verify-backup");
  await twice.page.waitForFunction(() => /didn't work/.test(document.querySelector("#error")?.textContent));
  await twice.context.close();
});

test("service settings in /admin; Not now while the grace lasts; a forgotten password reset", async () => {
  const tag = "grace" + Date.now().toString(36);
  const { page, context } = await adminPage(tag + "-boss");
  await page.goto(stack.web + "/admin/settings");
  await page.waitForSelector("#settings-form");
  assert.match(await page.textContent("#group-trusted_networks"), /second factor/);
  await page.fill("#setting-mfa_setup_grace_days", "3");
  await page.check("#setting-password_reset_allowed");
  await screenshot(page, "admin-settings");
  await page.click("#save-settings");
  await page.waitForFunction(() => /Saved 2 settings/.test(document.querySelector("#error")?.textContent));
  assert.equal(stack.kunci("settings", "get", "mfa_setup_grace_days").trim(), "3");
  // A bad value is refused and nothing is saved.
  await page.fill("#setting-remember_device_days", "999");
  await page.click("#save-settings");
  await page.waitForFunction(() => document.querySelector("#setting-remember_device_days:invalid") || /range/.test(document.querySelector("#error")?.textContent));
  assert.equal(stack.kunci("settings", "get", "remember_device_days").trim(), "14");
  await context.close();
  try {
    // Not now, then Security info says by when.
    const user = newUser(stack, "enabled");
    const s = await newPage(browser);
    await signIn(s.page, stack, user);
    await s.page.waitForSelector("#not-now");
    assert.match(await s.page.textContent("#grace"), /put this off until/);
    await s.page.click("#not-now");
    await s.page.waitForSelector("#setup-pending");
    assert.match(await s.page.textContent("#setup-pending"), /Set it up by/);
    await s.context.close();
    // A forgotten password: a code to the alternate e-mail, then the new password.
    const forgetful = newUser(stack, "enabled");
    const w = await newPage(browser);
    await signIn(w.page, stack, forgetful);
    await w.page.click("#setup-now");
    await w.page.selectOption("#method", "email");
    const alt = `reset-${Date.now()}@example.net`;
    await w.page.fill("#alt-email", alt);
    await w.page.click("#send-email");
    await w.page.waitForSelector("#code");
    await w.page.fill("#code", await waitFor(() => mailedCode(stack, alt)));
    await w.page.click("#verify");
    await w.page.waitForSelector("#verified");
    await w.context.close();
    stack.kunci("settings", "set", "code_resend_seconds", "0");
    const r = await newPage(browser);
    await r.page.goto(stack.web + "/");
    await r.page.click("#forgot-password");
    await r.page.fill("#reset-login", forgetful.login);
    const before = mailedCode(stack, alt);
    await r.page.click("#reset-send");
    await r.page.waitForSelector("#reset-code");
    const code = await waitFor(() => { const c = mailedCode(stack, alt); return c && c !== before ? c : null; });
    await r.page.fill("#reset-code", code);
    await r.page.click("#reset-verify");
    await r.page.waitForSelector("#new-password");
    await r.page.fill("#new-password", "Fresh-Lantern-88");
    await r.page.fill("#repeat-password", "Fresh-Lantern-88");
    await r.page.click("#reset-save");
    await r.page.waitForSelector("#notice");
    assert.match(await r.page.textContent("#notice"), /password was changed/);
    await screenshot(r.page, "reset-done");
    await r.context.close();
    const again = await newPage(browser);
    await signIn(again.page, stack, { login: forgetful.login, password: "Fresh-Lantern-88" });
    await again.page.waitForSelector("#setup-now, #methods, #code");
    await again.context.close();
  } finally {
    stack.kunci("settings", "set", "mfa_setup_grace_days", "0");
    stack.kunci("settings", "set", "password_reset_allowed", "false");
    stack.kunci("settings", "set", "code_resend_seconds", "60");
  }
});
