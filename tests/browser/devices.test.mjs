// "Set up this device" in Chromium: at the end of "Set it up now" on an iPhone-sized page, a
// signed profile whose account signs in through nginx and Dovecot without the password ever
// being on the page; the link working once; the device cut off when its app password is
// deleted in Security info. Then Thunderbird for Android's QR code (the screenshot of it
// decoded by zbarimg) and Thunderbird on a computer.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startStack, launch, newPage, screenshot, newUser, setUpWithTotp, root } from "./harness.mjs";

const IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Mobile/15E148 Safari/604.1";
const ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36";
const deviceFiles = join(root, "tests", "integration", "device_files.py");
let stack, browser, scratch;
before(async () => {
  stack = await startStack();
  browser = await launch();
  scratch = mkdtempSync(join(tmpdir(), "kunci-devices-"));
});
after(async () => {
  await browser?.close();
  rmSync(scratch, { recursive: true, force: true });
  assert.equal(await stack?.stop(), 0);
});

function read(kind, file) {
  const args = kind === "profile" ? [deviceFiles, "profile", file, stack.profile_ca] : [deviceFiles, kind, file];
  return JSON.parse(execFileSync("/usr/bin/python3", args, { encoding: "utf8" }));
}

test("an iPhone gets a signed profile at the end of Set it up now, without seeing its password", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser, { userAgent: IPHONE, isMobile: true, hasTouch: true });
  await setUpWithTotp(page, stack, user);
  assert.equal((await page.textContent("#set-up-device")).trim(), "Set up this device");
  await page.click("#set-up-device");
  await page.waitForSelector("#device-continue");
  assert.ok(await page.isChecked("#device-kind-apple"), "an iPhone is guessed from the browser");
  await screenshot(page, "device-choose");
  await page.click("#device-continue");
  await page.waitForSelector("#device-download");
  assert.match(await page.textContent("#device-warning"), /contains a password/);
  assert.match(await page.textContent("#device-warning"), /once, for 10 minutes/);
  await screenshot(page, "device-apple");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#device-download")]);
  const file = join(scratch, "iphone.mobileconfig");
  await download.saveAs(file);
  const profile = read("profile", file);
  const mail = profile.PayloadContent[0];
  assert.equal(mail.PayloadType, "com.apple.mail.managed");
  assert.equal(mail.IncomingMailServerUsername, user.login);
  const password = mail.IncomingPassword;
  assert.match(password, /^[a-z]{24}$/);
  // The password was never on the page.
  assert.ok(!(await page.content()).includes(password));
  assert.equal(stack.imap(user.login, password), "OK");
  // The link works once.
  const again = await page.request.get(stack.web + (await page.getAttribute("#device-download", "href")));
  assert.equal(again.status(), 410);
  // The device's app password, in Security info like any other: deleting it cuts it off.
  await page.click("#done");
  await page.waitForSelector("#app-password-list");
  const row = page.locator('#app-password-list tr[data-name="iPhone, iPad or Mac"]');
  assert.equal(await row.count(), 1);
  page.once("dialog", (d) => d.accept());
  await row.locator("button.danger").click();
  await page.waitForFunction(() => !document.querySelector('#app-password-list tr[data-name="iPhone, iPad or Mac"]'));
  assert.match(stack.imap(user.login, password), /Invalid login or password/);
  await context.close();
});

test("Thunderbird for Android scans a QR code from Security info", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser, { userAgent: ANDROID, isMobile: true, hasTouch: true });
  await setUpWithTotp(page, stack, user);
  await page.click("#done");
  await page.waitForSelector("#set-up-device");
  await page.click("#set-up-device");
  await page.waitForSelector("#device-continue");
  assert.ok(await page.isChecked("#device-kind-android"));
  await page.fill("#device-name", "Rina's Pixel");
  await page.click("#device-continue");
  await page.waitForSelector("#device-qr");
  await page.waitForFunction(() => document.querySelector("#device-qr").naturalWidth > 0);
  await screenshot(page, "device-android");
  const shot = join(scratch, "android.png");
  await page.locator("#device-qr").screenshot({ path: shot });
  const payload = read("qr-image", shot);
  assert.equal(payload.imap.username, user.login);
  assert.equal(payload.identity[0], user.login);
  assert.equal(stack.imap(user.login, payload.imap.password), "OK");
  // The code's link was used by the page: a second fetch gets nothing.
  const again = await page.request.get(stack.web + (await page.getAttribute("#device-qr", "src")));
  assert.equal(again.status(), 410);
  await page.click("#done");
  await page.waitForSelector('#app-password-list tr[data-name="Rina\'s Pixel"]');
  await context.close();
});

test("Thunderbird on a computer gets the settings and the password to paste once", async () => {
  const user = newUser(stack, "enabled");
  const { page, context } = await newPage(browser, { viewport: { width: 1280, height: 900 } });
  await setUpWithTotp(page, stack, user);
  await page.click("#done");
  await page.click("#set-up-device");
  await page.waitForSelector("#device-continue");
  assert.ok(await page.isChecked("#device-kind-thunderbird"));
  await page.click("#device-continue");
  await page.waitForSelector("#device-settings");
  assert.match(await page.textContent("#device-settings"), new RegExp(`port ${stack.ports.imap}, STARTTLS`));
  const shown = (await page.textContent("#app-password")).trim();
  await screenshot(page, "device-thunderbird");
  assert.equal(stack.imap(user.login, shown.replaceAll(" ", "")), "OK");
  const conf = await page.request.get(stack.web + "/.well-known/autoconfig/mail/config-v1.1.xml");
  assert.equal(conf.status(), 200);
  assert.match(await conf.text(), new RegExp(`<port>${stack.ports.imap}</port>`));
  await page.click("#copy");
  await page.click("#done");
  await page.waitForSelector('#app-password-list tr[data-name="Thunderbird"]');
  await context.close();
});
