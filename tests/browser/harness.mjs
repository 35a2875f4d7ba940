// Shared by the browser tests: the stack (kunci + nginx + Dovecot), the CLI, Chromium,
// TOTP codes, the outbox and the maildir Postfix delivers to, and screenshots as test
// artifacts.
import { spawn, execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const root = join(here, "..", "..");
const KUNCI = process.env.KUNCI_BIN || join(root, "build", "kunci");
const PYTHON = "/usr/bin/python3";
export const artifacts = join(root, "tests", "artifacts", "browser");
mkdirSync(artifacts, { recursive: true });

export async function startStack() {
  const proc = spawn(PYTHON, [join(here, "stack.py")], {
    stdio: ["pipe", "pipe", "inherit"], env: { ...process.env, KUNCI_BIN: KUNCI } });
  const info = await new Promise((resolve, reject) => {
    let buf = "";
    proc.stdout.on("data", (d) => {
      buf += d;
      const nl = buf.indexOf("\n");
      if (nl >= 0) resolve(JSON.parse(buf.slice(0, nl)));
    });
    proc.on("exit", (code) => reject(new Error("stack exited " + code)));
  });
  info.stop = () => new Promise((resolve) => { proc.on("exit", resolve); proc.stdin.end(); });
  info.web = `http://127.0.0.1:${info.ports.web}`;
  info.kunci = (...args) => {
    const opts = { env: { ...process.env, KUNCI_CONFIG: info.config, KUNCI_DATA_DIR: info.data }, encoding: "utf8" };
    if (args.length && typeof args[args.length - 1] === "object") Object.assign(opts, args.pop());
    return execFileSync(KUNCI, args, opts);
  };
  // SQL behind kunci's back (time travel), on whichever store the stack runs.
  info.sql = (statement) => info.pg_uri
    ? execFileSync("psql", ["-q", "-v", "ON_ERROR_STOP=1", info.pg_uri, "-c", statement], { encoding: "utf8" })
    : execFileSync("sqlite3", [join(info.data, "kunci.db"), statement], { encoding: "utf8" });
  // A mail login that cannot even connect says what nginx logged (a flake to find, not hide).
  const mailLogin = (args) => {
    try {
      return execFileSync(PYTHON, [join(here, "imap_login.py"), ...args], { encoding: "utf8" }).trim();
    } catch (e) {
      let log = "";
      try { log = readFileSync(join(info.root, "nginx", "error.log"), "utf8").split("\n").slice(-30).join("\n"); } catch (x) { /* none */ }
      e.message += "\nnginx error.log (last lines):\n" + log;
      throw e;
    }
  };
  info.imap = (user, password) => mailLogin([String(info.ports.imap), user, password]);
  info.pop3 = (user, password) => mailLogin([String(info.ports.pop3), user, password, "pop3"]);
  return info;
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

export async function newPage(browser, options = {}) {
  const context = await browser.newContext({ viewport: { width: 375, height: 812 }, ...options });
  await context.grantPermissions(["clipboard-read", "clipboard-write"]);
  const page = await context.newPage();
  return { context, page };
}

const axeSource = readFileSync(join(here, "node_modules", "axe-core", "axe.min.js"), "utf8");

// axe-core on the page as it is: any violation fails the test that took the screenshot.
export async function accessibility(page, name) {
  // Evaluated through the DevTools protocol: the page's CSP (rightly) refuses inline scripts.
  if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  });
  if (violations.length) throw new Error(`${name}: axe-core: ${violations.join("; ")}`);
}

let shot = 0;
// Each screenshot also checks the page: no horizontal scrolling at its width, a label for
// every field, ids used once, only messages as live regions, and no axe-core violation.
export async function screenshot(page, name) {
  const problems = await page.evaluate(() => {
    const out = [];
    if (document.documentElement.scrollWidth > window.innerWidth)
      out.push(`horizontal scroll: ${document.documentElement.scrollWidth} > ${window.innerWidth}`);
    for (const el of document.querySelectorAll("input, select, textarea")) {
      const labelled = (el.labels && el.labels.length) || el.getAttribute("aria-label") ||
        el.closest("label");
      if (!labelled) out.push("unlabelled field " + (el.id || el.name || el.type));
    }
    const ids = [...document.querySelectorAll("[id]")].map((el) => el.id);
    for (const id of new Set(ids.filter((id, i) => ids.indexOf(id) !== i))) out.push("id used twice: " + id);
    if (document.querySelector("main[aria-live], #app[aria-live]")) out.push("the whole page is a live region");
    return out;
  });
  if (problems.length) throw new Error(`${name}: ${problems.join("; ")}`);
  await accessibility(page, name);
  await page.screenshot({ path: join(artifacts, `${String(++shot).padStart(2, "0")}-${name}.png`), fullPage: true });
}

function base32Decode(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0, value = 0;
  const out = [];
  for (const c of s.replace(/\s+/g, "").replace(/=+$/, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8; }
  }
  return Buffer.from(out);
}

// RFC 6238 with HMAC-SHA1, 6 digits, 30 s: computed here, independently of kunci.
export function totp(secret, time = Date.now() / 1000) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(time / 30)));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const off = mac[mac.length - 1] & 15;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, "0");
}

// The newest code the outbox holds for an address or number.
export function outboxCode(stack, to) {
  let files = [];
  try { files = readdirSync(stack.outbox).filter((f) => f.endsWith(".json")).sort(); } catch (e) { return null; }
  for (const f of files.reverse()) {
    const m = JSON.parse(readFileSync(join(stack.outbox, f), "utf8"));
    if (m.to === to) return m.code;
  }
  return null;
}

// The code in the newest message Postfix delivered for an address (its maildir).
export function mailedCode(stack, to) {
  const files = [];
  for (const sub of ["new", "cur"]) {
    const folder = join(stack.mail, "all", sub);
    let names = [];
    try { names = readdirSync(folder); } catch (e) { continue; }
    for (const n of names) files.push({ path: join(folder, n), at: statSync(join(folder, n)).mtimeMs });
  }
  files.sort((a, b) => b.at - a.at || (b.path > a.path ? 1 : -1));
  for (const f of files) {
    const text = readFileSync(f.path, "utf8");
    if (text.includes(`To: <${to}>`)) return (text.match(/code is (\d{6})/) || [])[1] || null;
  }
  return null;
}

export async function waitFor(fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

let userSeq = 0;
export function newUser(stack, mfa = "enabled", password = "Primary-pass-1") {
  const login = `b${Date.now().toString(36)}${++userSeq}@example.org`;
  stack.kunci("user", "add", login, "--password-stdin", { input: password + "\n" });
  if (mfa !== "disabled") stack.kunci("mfa", "set", login, mfa);
  return { login, password };
}

// Signs in and goes through "Set it up now" with an authenticator app, to the page that
// shows the new app password.
export async function setUpWithTotp(page, stack, user) {
  await signIn(page, stack, user);
  await page.click("#setup-now");
  await page.waitForSelector("#totp-secret");
  await page.fill("#code", totp((await page.textContent("#totp-secret")).trim()));
  await page.click("#verify");
  await page.waitForSelector("#verified");
  await page.click("#next");
  await page.waitForSelector("#app-password");
}

export async function signIn(page, stack, user) {
  await page.goto(stack.web + "/");
  await page.fill("#login", user.login);
  await page.fill("#password", user.password);
  await page.click("#signin");
}
