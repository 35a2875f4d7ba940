// kunci web UI: plain JavaScript over the JSON API (/api/v1, see docs/openapi.yaml).
// Every string comes from i18n/<lang>.json; DOM nodes are built, never parsed from HTML.
"use strict";

const state = { csrf: null, session: null, config: null, lang: "en", strings: {},
  codesSent: new Set(), keepPassword: null, notice: null };
const app = () => document.getElementById("app");

function t(key, vars) {
  let s = state.strings[key] ?? key;
  for (const [k, v] of Object.entries(vars || {})) s = s.replaceAll("{" + k + "}", String(v));
  return s;
}

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let fieldSeq = 0;
function field(labelKey, attrs) {
  const id = attrs.id || "f" + ++fieldSeq;
  return [h("label", { for: id }, t(labelKey)), h("input", { ...attrs, id })];
}

// A key naming one request, so that sending it again (a second click, a retry after an
// answer lost on the way) gets the first answer instead of doing it twice.
function requestKey() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

// ---- Passkeys (WebAuthn) ------------------------------------------------------------------
// The API speaks WebAuthn's JSON: binary fields as base64url. The browser's API wants
// ArrayBuffers; these convert both ways.
// Offered where the browser has WebAuthn and the page is on the relying party's domain
// (browsers refuse it on an IP address, such as http://127.0.0.1: use http://localhost).
function passkeysSupported() {
  const rp = state.config && state.config.rp_id;
  const host = location.hostname;
  return typeof window.PublicKeyCredential === "function" && !!(navigator.credentials && navigator.credentials.create) &&
    !!rp && (host === rp || host.endsWith("." + rp));
}

function fromB64url(s) {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
  return Uint8Array.from(b, (c) => c.charCodeAt(0)).buffer;
}

function toB64url(buf) {
  let s = "";
  for (const x of new Uint8Array(buf)) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function creationOptions(o) {
  return { ...o, challenge: fromB64url(o.challenge), user: { ...o.user, id: fromB64url(o.user.id) },
    excludeCredentials: (o.excludeCredentials || []).map((c) => ({ ...c, id: fromB64url(c.id) })) };
}

function requestOptions(o) {
  return { ...o, challenge: fromB64url(o.challenge),
    allowCredentials: (o.allowCredentials || []).map((c) => ({ ...c, id: fromB64url(c.id) })) };
}

// What navigator.credentials returned, as the API takes it.
function credentialJson(cred) {
  const r = cred.response;
  const out = { id: toB64url(cred.rawId), type: cred.type, response: { clientDataJSON: toB64url(r.clientDataJSON) } };
  if (r.attestationObject) {
    out.response.attestationObject = toB64url(r.attestationObject);
    out.response.transports = r.getTransports ? r.getTransports() : [];
    const ext = cred.getClientExtensionResults ? cred.getClientExtensionResults() : {};
    out.discoverable = !!(ext.credProps && ext.credProps.rk);
  } else {
    out.response.authenticatorData = toB64url(r.authenticatorData);
    out.response.signature = toB64url(r.signature);
    out.response.userHandle = r.userHandle ? toB64url(r.userHandle) : null;
  }
  return out;
}

// A browser that refused or was cancelled: a message of ours, not the browser's.
function passkeyProblem(e) {
  // The API's errors carry a word; a DOMException's code is a legacy number.
  if (e && typeof e.code === "string") return problem(e);
  if (e && e.name === "InvalidStateError") return t("passkey.exists");
  if (e && e.name === "NotAllowedError") return t("passkey.cancelled");
  if (e && e.name === "AbortError") return "";
  return t("passkey.failed");
}

// Passwordless sign-in: the passkey is both factors.
let passkeyAbort = null;
async function passkeySignIn(err, conditional) {
  if (passkeyAbort) passkeyAbort.abort();
  const abort = new AbortController();
  passkeyAbort = abort;
  try {
    const begin = await api("POST", "/session/passkey/begin", {});
    const cred = await navigator.credentials.get({ publicKey: requestOptions(begin.publicKey),
      signal: abort.signal, ...(conditional ? { mediation: "conditional" } : {}) });
    if (!cred) return;
    state.session = await api("POST", "/session/passkey/finish", credentialJson(cred));
    go(nextPath(state.session));
  } catch (e) {
    if (abort.signal.aborted) return;
    const text = passkeyProblem(e);
    if (text) say(err, text);
  } finally {
    if (passkeyAbort === abort) passkeyAbort = null;
  }
}

async function api(method, path, body, retried, key) {
  const headers = {};
  if (method !== "GET") {
    headers["Content-Type"] = "application/json";
    if (state.csrf) headers["X-CSRF-Token"] = state.csrf;
  }
  if (key) headers["Idempotency-Key"] = key;
  let resp;
  try {
    resp = await fetch("/api/v1" + path, {
      method, headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    const err = new Error("network");
    err.code = "network";
    throw err;
  }
  let data = {};
  try { data = await resp.json(); } catch (e) { data = {}; }
  if (data && data.csrf) state.csrf = data.csrf;
  // The session changed in another tab (a new sign-in there gave it a new token): take the
  // current one and send the request once more.
  if (resp.status === 403 && data.error === "csrf" && !retried) {
    try {
      const s = await api("GET", "/session");
      if (s.signed_in) return api(method, path, body, true, key);
    } catch (e) { /* said below */ }
    data.error = "not_signed_in";
  }
  // The same request, sent before, is still being handled: its answer comes shortly.
  if (resp.status === 409 && data.error === "request_in_progress" && key) {
    await new Promise((r) => setTimeout(r, 1000 * (data.retry_after || 1)));
    return api(method, path, body, retried, key);
  }
  if (!resp.ok) {
    const err = new Error(data.error || "internal");
    err.code = data.error || "internal";
    err.status = resp.status;
    err.retryAfter = data.retry_after || 0;
    throw err;
  }
  return data;
}

function duration(seconds) {
  if (seconds < 120) return t("time.seconds", { n: seconds });
  if (seconds < 7200) return t("time.minutes", { n: Math.ceil(seconds / 60) });
  return t("time.hours", { n: Math.ceil(seconds / 3600) });
}

// A user-facing message for an API error: the catalog's, by error code, and how long to
// wait when the server says so.
function problem(err) {
  // The session ended (too many wrong codes): back to sign-in, which says why.
  if (err.code === "signed_out") {
    state.notice = t("signin.after_wrong_codes");
    setTimeout(() => go("/"), 2500);
  }
  // Signed out in another tab, or after a while without use: say so where the user is, with
  // a way to sign in again; what was typed stays on the page.
  if (err.code === "not_signed_in" && location.pathname !== "/") {
    sessionEnded();
    return t("error.session_ended");
  }
  // A lock without an end is cleared by an administrator.
  if ((err.code === "locked" || err.code === "code_locked") && err.status === 429 && !err.retryAfter)
    return t("error." + err.code + "_hard");
  const key = "error." + (err.code || "internal");
  const text = state.strings[key] ? t(key) : t("error.internal");
  return err.retryAfter ? text + " " + t("error.wait", { time: duration(err.retryAfter) }) : text;
}

// Keeps a button that sends a code disabled, with a countdown, until another may be sent.
function coolDown(buttons, note, seconds) {
  if (!seconds) return;
  const until = Date.now() + seconds * 1000;
  buttons.forEach((b) => { b.disabled = true; b.dataset.coolingDown = "1"; });
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 1000);
    if (left <= 0 || !note.isConnected) {
      buttons.forEach((b) => { b.disabled = false; delete b.dataset.coolingDown; });
      note.textContent = "";
      return;
    }
    note.textContent = t("code.resend_in", { n: left });
    setTimeout(tick, 1000);
  };
  tick();
}

// Runs a change; when the server asks for the password again (it was typed more than ten
// minutes ago), asks for it and runs the change once more. false when the user cancelled.
async function withPassword(change) {
  try { return await change(); } catch (e) {
    if (e.code !== "reauth_required") throw e;
    if (!(await reauthenticate())) return false;
    return await change();
  }
}

// A sender for a form that makes something once (an app password): one Idempotency-Key per
// form, so pressed again after an answer was lost it gets the same answer; changed and sent
// again, a new one.
function onceSender(method, path) {
  let key = requestKey();
  return async (body) => {
    try { return await api(method, path, body, false, key); } catch (e) {
      if (e.code !== "idempotency_key_reused") throw e;
      key = requestKey();
      return api(method, path, body, false, key);
    }
  };
}

function sessionEnded() {
  if (document.getElementById("session-ended")) return;
  const banner = h("div", { class: "notice", id: "session-ended", role: "alert" },
    h("p", {}, t("error.session_ended")),
    h("button", { type: "button", id: "sign-in-again", onclick: () => {
      banner.remove();
      state.notice = null;
      go("/");
    } }, t("signin.button")));
  app().prepend(banner);
}

function show(title, ...content) {
  // A passkey request waiting in the sign-in page's suggestions ends with the page.
  if (passkeyAbort) passkeyAbort.abort();
  const main = app();
  // The administrators' tables get the width of the screen.
  main.classList.toggle("wide", location.pathname.startsWith("/admin"));
  main.replaceChildren(h("h1", { id: "title" }, title), ...content.filter(Boolean));
  document.title = title + " – kunci";
  main.focus();
}

// One per form: ids stay unique when two forms share a page.
function errorBox(id, forField) {
  return h("p", { class: "error", role: "alert", id: id || "error", "data-for": forField });
}

// A message in its box; an error also marks the field it is about (data-for) as invalid
// and described by the message.
function say(box, text, ok) {
  box.textContent = text;
  box.className = ok ? "ok" : "error";
  const input = box.dataset.for ? document.getElementById(box.dataset.for) : null;
  if (input && !ok && text) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", box.id);
  }
}

// Runs a request for a button: the button is disabled and says it is working until the
// answer is in, so a second press cannot send it again.
async function working(button, run) {
  if (!button || button.disabled) return undefined;
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = t("common.working");
  try { return await run(); } finally {
    button.disabled = Boolean(button.dataset.coolingDown);
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}

// Messages belong to the state they describe: a new state clears the old ones.
function clearMessages(root) {
  for (const box of (root || app()).querySelectorAll(".error, .ok")) {
    if (box.classList.contains("secret")) continue;
    box.textContent = "";
  }
  for (const input of (root || app()).querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    if (input.getAttribute("aria-describedby") !== "strength-text") input.removeAttribute("aria-describedby");
  }
}

// "+62 •••• 7890", "a•••@example.org": where a code went, enough to recognise.
function maskTarget(kind, value) {
  const v = (value || "").trim();
  if (kind === "email") {
    const at = v.indexOf("@");
    return at > 0 ? v[0] + "\u2022\u2022\u2022" + v.slice(at) : v;
  }
  const digits = v.replace(/[^0-9+]/g, "");
  return "\u2022\u2022\u2022\u2022" + digits.slice(-4);
}

function go(path, replace) {
  if (location.pathname !== path) history[replace ? "replaceState" : "pushState"]({}, "", path);
  route();
}

async function loadLanguage(lang) {
  const resp = await fetch("/i18n/" + lang + ".json");
  state.strings = await resp.json();
  state.lang = lang;
  document.documentElement.lang = lang;
  document.getElementById("lang").value = lang;
  document.getElementById("lang-label").textContent = t("language");
}

// Where the session says the user goes next.
function nextPath(s) {
  if (!s || !s.signed_in) return "/";
  return { setup: "/setup", second_factor: "/verify", change_password: "/password" }[s.next] ||
    "/security";
}

async function route() {
  try {
    state.session = await api("GET", "/session");
  } catch (e) {
    return show(t("error.title"), h("p", { class: "error", role: "alert" }, problem(e)));
  }
  const want = nextPath(state.session);
  const path = location.pathname;
  // The wizard's steps have URLs of their own under /setup (so Back goes one step back).
  const setupStep = want === "/setup" && path === "/setup/method";
  if (path === "/reset" && !state.session.signed_in) return resetPassword();
  if (want !== "/security" && path !== want && !setupStep) return go(want, true);
  // Set-up put off ("Not now") may be done from Security info at any time.
  const deferred = state.session.user && state.session.user.mfa_state === "enabled" && ["/setup", "/setup/method"].includes(path);
  if (want === "/security" && !deferred && !["/security", "/security/activity", "/security/device", "/admin", "/admin/activity", "/admin/settings", "/password"].includes(path)) return go("/security", true);
  if (path.startsWith("/admin") && state.session.user.role !== "admin") return go("/security", true);
  ({ "/": signIn, "/setup": setupIntro, "/setup/method": () => chooseMethod(false),
     "/verify": verify, "/password": changePassword, "/security": security,
     "/security/activity": recentActivity, "/security/device": setUpDevice, "/admin": admin, "/admin/activity": adminActivity,
     "/admin/settings": adminSettings })[path]();
}

// ---- Forgotten password ----------------------------------------------------------------
// A code to the phone or alternate e-mail, the other method if there is one, a new password.
function resetPassword() {
  const err = errorBox("error", "reset-code");
  const step = (title, ...content) => show(title, ...content, err,
    h("button", { type: "button", class: "secondary", onclick: () => go("/") }, t("common.cancel")));
  const codeForm = (intro, send) => {
    const form = h("form", {}, h("p", {}, intro),
      ...field("code.label", { type: "text", name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "12", required: true, id: "reset-code" }),
      h("button", { type: "submit", id: "reset-verify" }, t("code.verify")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearMessages(form);
      await working(form.querySelector("#reset-verify"), async () => {
        try { next(await send(form.code.value.trim())); } catch (e) { say(err, problem(e)); form.code.select(); }
      });
    });
    return form;
  };
  const next = (r) => {
    if (r.next === "new_password") return newPassword();
    // Another method: the second proof.
    const pick = h("ul", { class: "list", id: "reset-methods" }, ...r.methods.map((m) => h("li", {},
      h("button", { type: "button", class: "secondary", onclick: async () => {
        if (m.kind !== "totp") {
          try { await api("POST", "/password-reset/code", { method_id: m.id, lang: state.lang }); } catch (e) { return say(err, problem(e)); }
        }
        step(t("reset.title"), codeForm(m.kind === "totp" ? t("verify.totp_intro") : t("code.sent_to", { target: m.target }),
          (code) => api("POST", "/password-reset/second", { method_id: m.id, code })));
      } }, methodLabel(m)))));
    step(t("reset.title"), h("p", {}, t("reset.second")), pick);
  };
  const newPassword = () => {
    const form = h("form", {},
      ...field("password.new", { type: "password", name: "fresh", autocomplete: "new-password", required: true, id: "new-password" }),
      ...field("password.repeat", { type: "password", name: "again", autocomplete: "new-password", required: true, id: "repeat-password" }),
      h("button", { type: "submit", id: "reset-save" }, t("password.button")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearMessages(form);
      if (form.fresh.value !== form.again.value) return say(err, t("password.mismatch"));
      await working(form.querySelector("#reset-save"), async () => {
        try {
          await api("POST", "/password-reset/complete", { new: form.fresh.value });
          state.notice = t("reset.done");
          go("/");
        } catch (e) { say(err, problem(e)); }
      });
    });
    step(t("reset.title"), h("p", {}, t("reset.new_password")), form);
  };
  const form = h("form", {},
    ...field("signin.account", { type: "email", name: "login", autocomplete: "username", required: true, id: "reset-login" }),
    h("button", { type: "submit", id: "reset-send" }, t("reset.send")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearMessages(form);
    await working(form.querySelector("#reset-send"), async () => {
      try {
        await api("POST", "/password-reset", { login: form.login.value.trim(), lang: state.lang });
        step(t("reset.title"), codeForm(t("reset.sent"), (code) => api("POST", "/password-reset/verify", { code })));
      } catch (e) { say(err, problem(e)); }
    });
  });
  step(t("reset.title"), h("p", {}, t("reset.intro")), form);
}

// ---- Sign in ------------------------------------------------------------------------
function signIn() {
  const err = errorBox();
  const offerPasskeys = passkeysSupported() && state.config.methods.includes("passkey");
  const notice = state.notice;
  state.notice = null;
  const form = h("form", { novalidate: true },
    ...field("signin.account", { type: "email", name: "login", autocomplete: offerPasskeys ? "username webauthn" : "username", required: true, id: "login" }),
    ...field("signin.password", { type: "password", name: "password", autocomplete: "current-password", required: true, id: "password" }),
    err,
    h("button", { type: "submit", id: "signin" }, t("signin.button")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearMessages(form);
    const login = form.login.value.trim();
    // What is not an account at all is said as such, before anything is sent.
    const fieldError = (input, text) => { err.dataset.for = input.id; say(err, text); input.focus(); };
    if (!login) return fieldError(form.login, t("signin.login_missing"));
    if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(login)) return fieldError(form.login, t("error.bad_login"));
    if (!form.password.value) return fieldError(form.password, t("signin.password_missing"));
    delete err.dataset.for;
    if (passkeyAbort) passkeyAbort.abort();
    await working(form.querySelector("#signin"), async () => {
      try {
        state.session = await api("POST", "/session", { login, password: form.password.value });
        // A temporary access pass: straight to registering a new method.
        if (state.session.access_pass) {
          state.notice = t("signin.access_pass");
          state.addAfterPass = state.session.user.mfa_state !== "enabled";
          return go(state.addAfterPass ? "/security" : "/setup/method");
        }
        go(nextPath(state.session));
      } catch (e) { say(err, problem(e)); form.password.value = ""; form.password.focus(); }
    });
  });
  const forgot = state.config && state.config.password_reset_allowed
    ? h("p", {}, h("a", { href: "/reset", id: "forgot-password", onclick: (ev) => { ev.preventDefault(); go("/reset"); } }, t("reset.link"))) : null;
  const passkeyButton = offerPasskeys ? h("button", { type: "button", class: "secondary", id: "passkey-sign-in",
    onclick: (ev) => working(ev.currentTarget, () => { clearMessages(form); return passkeySignIn(err, false); }) },
  t("passkey.sign_in")) : null;
  show(t("signin.title"), notice ? h("p", { class: "notice", id: "notice", role: "status" }, notice) : null,
    h("p", {}, t("signin.intro")), form, passkeyButton, forgot);
  // Where the browser offers passkeys in the account field's suggestions, they are there.
  if (offerPasskeys && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((yes) => {
      if (yes && document.getElementById("login") === form.login) passkeySignIn(err, true);
    }).catch(() => {});
  }
}

// A strength meter for a new password: the server's estimate (the same rule it applies),
// asked for a moment after typing stops.
function strengthMeter() {
  const meter = h("meter", { id: "strength", min: "0", max: "4", low: "2", high: "3", optimum: "4", value: "0", "aria-labelledby": "strength-label" });
  const text = h("span", { id: "strength-text", class: "muted" });
  const box = h("div", { class: "strength" }, h("span", { id: "strength-label" }, t("password.strength")), " ", meter, " ", text);
  let timer = null, seq = 0;
  box.watch = (input) => input.addEventListener("input", () => {
    clearTimeout(timer);
    const mine = ++seq;
    timer = setTimeout(async () => {
      if (!input.value) { meter.value = 0; text.textContent = ""; return; }
      try {
        const r = await api("POST", "/password/strength", { password: input.value });
        if (mine !== seq) return;
        meter.value = r.score;
        text.textContent = r.problem ? t("error." + r.problem) : t("password.score_" + r.score);
      } catch (e) { /* the meter is a help, not a gate */ }
    }, 250);
  });
  return box;
}

function changePassword() {
  const err = errorBox();
  const notice = state.notice;
  state.notice = null;
  const form = h("form", {},
    notice ? h("p", { class: "notice", id: "notice", role: "status" }, notice) : null,
    h("p", {}, t("password.intro")),
    ...field("password.current", { type: "password", name: "current", autocomplete: "current-password", required: true, id: "current" }),
    ...field("password.new", { type: "password", name: "fresh", autocomplete: "new-password", required: true, id: "new-password", "aria-describedby": "strength-text" }),
    strengthMeter(),
    ...field("password.repeat", { type: "password", name: "again", autocomplete: "new-password", required: true, id: "repeat-password" }),
    err, h("button", { type: "submit" }, t("password.button")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearMessages(form);
    if (form.fresh.value !== form.again.value) return say(err, t("password.mismatch"));
    await working(form.querySelector("button[type=submit]"), async () => {
      try {
        state.session = await api("POST", "/password", { current: form.current.value, new: form.fresh.value });
        go(nextPath(state.session));
      } catch (e) { say(err, problem(e)); }
    });
  });
  form.querySelector(".strength").watch(form.fresh);
  show(t("password.title"), form, state.session.next === "change_password" ? signOutButton() : null);
}

// ---- The seed's wizard: "Set it up now", a method, Next, the app password ----------
// "Step 2 of 3": where the wizard is.
function stepIndicator(n) {
  return h("p", { class: "step", id: "step" }, t("setup.step_of", { n, total: 3 }));
}

// "IMAP from 10.0.0.5, POP3 from 10.0.0.6": the mail apps still on the account password.
function legacyNotice(key, clients, id) {
  if (!clients || !clients.length) return null;
  const list = clients.map((c) => c.protocol.toUpperCase() + " " + c.client_ip).join(", ");
  return h("p", { class: "notice", id }, t(key, { n: clients.length, list }));
}

function setupIntro() {
  const grace = state.session.setup_grace;
  const err = errorBox();
  const later = grace && grace.allowed && state.session.next === "setup"
    ? h("button", { class: "secondary", id: "not-now", onclick: async () => {
        try { state.session = await api("POST", "/setup/later", {}); go("/security"); } catch (e) { say(err, problem(e)); }
      } }, t("setup.not_now")) : null;
  show(t("setup.title"),
    stepIndicator(1),
    h("p", {}, t("setup.intro")),
    legacyNotice("setup.legacy_clients", state.session.account_password_clients, "legacy-clients"),
    grace && grace.allowed ? h("p", { class: "muted", id: "grace" }, t("setup.grace_until", { date: when(grace.until) })) : null,
    h("p", { class: "muted" }, state.session.user.login),
    err,
    h("button", { id: "setup-now", onclick: () => go("/setup/method") }, t("setup.button")),
    later,
    signOutButton());
}

// replacing: a phone or an address being changed (Security info's "Change"): the new one
// takes its place, and its default, once verified.
async function chooseMethod(adding, replacing) {
  if (!state.config) state.config = await api("GET", "/config");
  const names = { passkey: "method.passkey", totp: "method.totp", phone: "method.phone", email: "method.email" };
  // Passkeys first where the browser can make one; only them where the organization says so.
  let kinds = replacing ? [replacing.kind] : state.config.methods.filter((m) => m !== "passkey" || passkeysSupported());
  if (!replacing && state.session.passkey_required) kinds = kinds.filter((m) => m === "passkey");
  if (!kinds.length) {
    return show(adding ? t("security.add_method") : t("setup.step_method"),
      h("p", { class: "error", role: "alert", id: "error" }, t("passkey.unsupported")),
      h("button", { type: "button", class: "secondary", id: "cancel-setup", onclick: () => go(adding ? "/security" : "/setup") }, t("common.cancel")));
  }
  const picker = h("select", { id: "method" },
    ...kinds.map((m) => h("option", { value: m }, t(names[m]))));
  const area = h("div", { id: "method-area" });
  const render = () => renderMethod(picker.value, area, adding, replacing);
  picker.addEventListener("change", render);
  // Cancel leads back: to "More information required" in the wizard, to Security info.
  const cancel = h("button", { type: "button", class: "secondary", id: "cancel-setup",
    onclick: () => go(adding ? "/security" : "/setup") }, t("common.cancel"));
  const notice = state.notice;
  state.notice = null;
  show(replacing ? t("security.change_title", { method: methodName(replacing) }) : adding ? t("security.add_method") : t("setup.step_method"),
    notice ? h("p", { class: "notice", id: "notice", role: "status" }, notice) : null,
    adding ? null : stepIndicator(2),
    h("p", {}, t("setup.method_intro")),
    h("label", { for: "method" }, t("setup.method_label")), picker, area, cancel);
  render();
}

function codeForm(methodId, onVerified) {
  const err = errorBox("code-error", "code");
  const form = h("form", {},
    ...field("code.label", { type: "text", name: "code", inputmode: "numeric", autocomplete: "one-time-code", pattern: "[0-9]*", maxlength: "6", required: true, id: "code" }),
    err, h("button", { type: "submit", id: "verify" }, t("code.verify")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearMessages(form);
    await working(form.querySelector("#verify"), async () => {
      try {
        await api("POST", "/methods/" + methodId() + "/verify", { code: form.code.value.trim() });
        onVerified();
      } catch (e) { say(err, problem(e)); form.code.select(); }
    });
  });
  return form;
}

async function replaceMethod(old, newId) {
  if (old.default) await api("POST", "/methods/" + newId + "/default");
  await api("DELETE", "/methods/" + old.id);
}

function verifiedStep(adding, replacing, newId) {
  clearMessages();
  const next = h("button", { id: "next" }, adding ? t("common.done") : t("setup.next"));
  next.addEventListener("click", () => {
    if (!adding) return working(next, finishSetup);
    if (!replacing) return go("/security");
    return working(next, async () => {
      try {
        if (await withPassword(() => replaceMethod(replacing, newId)) === false) return;
        go("/security");
      } catch (e) {
        let box = document.getElementById("setup-error");
        if (!box) app().append(box = h("p", { class: "error", role: "alert", id: "setup-error" }));
        box.textContent = problem(e);
      }
    });
  });
  app().append(h("p", { class: "ok", role: "status", id: "verified" }, t("setup.verified")), next);
  next.focus();
}

// A button that copies text (without the spaces it is shown with) and says so.
function copyButton(id, text, label) {
  const button = h("button", { type: "button", class: "secondary", id }, label);
  button.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(text); button.textContent = t("apppw.copied"); }
    catch (e) { button.textContent = t("apppw.copy_failed"); }
  });
  return button;
}

// The method shown last: a slower answer for one chosen before must not land beside it.
let methodShown = 0;

async function renderMethod(kind, area, adding, replacing) {
  const err = errorBox();
  const shown = ++methodShown;
  area.replaceChildren();
  let methodId = null;
  if (kind === "passkey") return renderPasskey(area, err, adding, replacing);
  if (kind === "totp") {
    try {
      let e;
      try { e = await api("POST", "/methods/totp"); } catch (x) {
        if (shown !== methodShown) return;
        if (x.code !== "reauth_required") throw x;
        // The page is the password prompt now: start this step again after it.
        if (await reauthenticate()) chooseMethod(adding);
        return;
      }
      if (shown !== methodShown) return; // another method was chosen meanwhile
      methodId = e.method_id;
      area.append(
        h("p", {}, t("totp.intro")),
        h("img", { class: "qr", src: e.qr, alt: t("totp.qr_alt"), id: "qr" }),
        h("p", {}, t("totp.manual")),
        h("p", {}, h("span", { class: "secret", id: "totp-secret" }, e.secret.match(/.{1,4}/g).join(" ")), " ",
          copyButton("copy-secret", e.secret, t("totp.copy_secret"))),
        codeForm(() => methodId, () => verifiedStep(adding, replacing, methodId)));
    } catch (e) {
      if (shown === methodShown) area.append(h("p", { class: "error", role: "alert" }, problem(e)));
    }
    return;
  }
  const codeArea = h("div", {});
  const wait = h("p", { class: "muted", id: "resend-wait", role: "status" });
  const senders = [];
  const send = async (body, path, button, target) => working(button, async () => {
    clearMessages(area);
    try {
      const r = await api("POST", path, body);
      methodId = r.method_id;
      say(err, t("code.sent_to", { target }), true);
      codeArea.replaceChildren(codeForm(() => methodId, () => verifiedStep(adding, replacing, methodId)));
      codeArea.querySelector("input").focus();
      coolDown(senders, wait, r.resend_after);
    } catch (e) {
      if (e.code === "reauth_required") {
        if (await reauthenticate()) chooseMethod(adding);
        return;
      }
      say(err, problem(e)); button.focus();
      if (e.code === "too_many_codes") coolDown(senders, wait, e.retryAfter);
    }
  });
  if (kind === "phone") {
    const cc = h("input", { type: "tel", id: "country-code", value: "+62", autocomplete: "tel-country-code", required: true });
    const number = h("input", { type: "tel", id: "phone-number", autocomplete: "tel-national", required: true });
    const textMe = h("button", { type: "button", id: "text-me" }, t("phone.text"));
    const callMe = h("button", { type: "button", class: "secondary", id: "call-me" }, t("phone.call"));
    const body = (channel) => ({ country_code: cc.value, number: number.value, channel, lang: state.lang });
    senders.push(textMe, callMe);
    const where = () => cc.value.trim() + " " + maskTarget("phone", number.value);
    textMe.addEventListener("click", () => send(body("sms"), "/methods/phone", textMe, where()));
    callMe.addEventListener("click", () => send(body("voice"), "/methods/phone", callMe, where()));
    area.append(h("p", {}, t("phone.intro")),
      h("div", { class: "row" },
        h("div", { class: "cc" }, h("label", { for: "country-code" }, t("phone.country")), cc),
        h("div", { class: "grow" }, h("label", { for: "phone-number" }, t("phone.number")), number)),
      textMe, callMe, wait, err, codeArea);
  } else {
    const address = h("input", { type: "email", id: "alt-email", autocomplete: "email", required: true });
    const sendButton = h("button", { type: "button", id: "send-email" }, t("email.send"));
    senders.push(sendButton);
    sendButton.addEventListener("click", () => send({ address: address.value, lang: state.lang }, "/methods/email", sendButton, maskTarget("email", address.value)));
    area.append(h("p", {}, t("email.intro")),
      h("label", { for: "alt-email" }, t("email.address")), address, sendButton, wait, err, codeArea);
  }
}

// "Passkey or security key": the browser makes it (a fingerprint, a face, a PIN, or a key
// touched); kunci checks what it returns. The name is optional: kunci names it after its maker
// when it knows it.
function renderPasskey(area, err, adding, replacing) {
  const name = h("input", { type: "text", id: "passkey-name", maxlength: "64", autocomplete: "off", placeholder: t("passkey.name_placeholder") });
  const create = h("button", { type: "button", id: "create-passkey" }, t("passkey.create"));
  create.addEventListener("click", () => working(create, async () => {
    clearMessages(area);
    let begin;
    try { begin = await api("POST", "/methods/webauthn/begin", {}); } catch (e) {
      if (e.code === "reauth_required") { if (await reauthenticate()) chooseMethod(adding); return; }
      return say(err, problem(e));
    }
    try {
      const cred = await navigator.credentials.create({ publicKey: creationOptions(begin.publicKey) });
      const body = credentialJson(cred);
      if (name.value.trim()) body.name = name.value.trim();
      const r = await api("POST", "/methods/webauthn/finish", body);
      area.replaceChildren(h("p", { class: "ok", id: "passkey-created" }, t("passkey.created")));
      verifiedStep(adding, replacing, r.method_id);
    } catch (e) { say(err, passkeyProblem(e)); create.focus(); }
  }));
  area.append(h("p", {}, t("passkey.intro")),
    h("label", { for: "passkey-name" }, t("passkey.name_label")), name, create, err);
}

async function finishSetup() {
  try {
    state.setupKey = state.setupKey || requestKey();
    const r = await withPassword(() => api("POST", "/setup/complete", { lang: state.lang }, false, state.setupKey));
    if (r === false) return;
    state.setupKey = null;
    state.session = r;
    if (!r.app_password) return go("/security");
    showNewAppPassword(t("apppw.title"), r.app_password.password, t("apppw.intro"), () => go("/security"), 3);
  } catch (e) {
    let box = document.getElementById("setup-error");
    if (!box) app().append(box = h("p", { class: "error", role: "alert", id: "setup-error" }));
    box.textContent = problem(e);
  }
}

// The password shown once is not lost by accident: leaving the page (reload, Back, closing
// it) asks first, until it was copied or Done was pressed.
function keepPassword(on) {
  if (on && !state.keepPassword) {
    state.keepPassword = (ev) => { ev.preventDefault(); ev.returnValue = ""; };
    window.addEventListener("beforeunload", state.keepPassword);
    history.pushState({ keep: true }, "", location.pathname);
  } else if (!on && state.keepPassword) {
    window.removeEventListener("beforeunload", state.keepPassword);
    state.keepPassword = null;
  }
}

function showNewAppPassword(title, password, intro, done, step) {
  const status = h("p", { role: "status", id: "copy-status", class: "ok" });
  const copy = h("button", { id: "copy" }, t("apppw.copy"));
  keepPassword(true);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(password);
      keepPassword(false);
      status.textContent = t("apppw.copied");
    } catch (e) {
      status.className = "error";
      status.textContent = t("apppw.copy_failed");
    }
  });
  show(title, step ? stepIndicator(step) : null, h("p", {}, intro),
    h("p", {}, h("span", { class: "secret", id: "app-password" }, password)),
    copy, status,
    h("p", {}, t("apppw.where")),
    h("p", { class: "muted" }, t("apppw.once")),
    deviceButton(() => keepPassword(false)),
    h("button", { class: "secondary", id: "done", onclick: () => { keepPassword(false); done(); } }, t("common.done")));
  copy.focus();
}

// ---- Second factor at sign-in -------------------------------------------------------
// What a method is, as Security info lists it: "Authenticator app", "Phone +62 ••••7890".
function methodName(m) {
  if (m.kind === "passkey") {
    // "Work laptop (passkey)"; a default name already says what it is.
    const what = t(m.discoverable === false ? "method.security_key" : "method.a_passkey");
    if (!m.target) return t("method.passkey");
    return m.target.toLowerCase() === what.toLowerCase() ? m.target : t("method.name_passkey", { name: m.target, what });
  }
  if (m.kind === "totp") return t("method.name_totp");
  return t(m.kind === "phone" ? "method.name_phone" : "method.name_email", { target: m.target });
}

function methodLabel(m) {
  if (m.kind === "passkey") return t("verify.passkey_named", { name: m.target });
  if (m.kind === "totp") return t("method.totp");
  if (m.kind === "phone") return t(m.channel === "voice" ? "verify.call_to" : "verify.text_to", { target: m.target });
  return t("verify.email_to", { target: m.target });
}

async function verify(chosenId) {
  if (!state.config) state.config = await api("GET", "/config");
  // A browser without WebAuthn cannot use a passkey; an organization may accept nothing else.
  const usable = (x) => x.kind !== "passkey" || passkeysSupported();
  const methods = state.session.methods.filter((x) => usable(x) && (!state.session.passkey_only || x.kind === "passkey"));
  const m = methods.find((x) => x.id === chosenId) || methods.find((x) => x.kind === "passkey") ||
    methods.find((x) => x.default) || methods[0];
  if (!m) return show(t("verify.title"), h("p", { class: "error", role: "alert", id: "error" }, t("passkey.unsupported")), signOutButton());
  if (m.kind === "passkey") return verifyPasskey(m, methods);
  const err = errorBox("error", "code");
  const remember = h("input", { type: "checkbox", id: "remember" });
  const form = h("form", {},
    ...field("code.label", { type: "text", name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6", required: true, id: "code" }),
    h("label", { class: "inline", for: "remember" }, remember, t("verify.remember", { days: state.config.remember_device_days })),
    err, h("button", { type: "submit", id: "verify" }, t("code.verify")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearMessages(form);
    await working(form.querySelector("#verify"), async () => {
      try {
        state.session = await api("POST", "/session/verify", { method_id: m.id, code: form.code.value.trim(), remember: remember.checked });
        go(nextPath(state.session));
      } catch (e) { say(err, problem(e)); form.code.select(); }
    });
  });
  const top = [h("p", {}, m.kind === "totp" ? t("verify.totp_intro") : methodLabel(m))];
  let sendNow = null;
  if (m.kind !== "totp") {
    const sendButton = h("button", { type: "button", class: "secondary", id: "send-code" }, t("verify.send"));
    const wait = h("p", { class: "muted", id: "resend-wait", role: "status" });
    const send = () => working(sendButton, async () => {
      clearMessages(form);
      try {
        const r = await api("POST", "/session/code", { method_id: m.id, lang: state.lang });
        state.codesSent.add(m.id);
        say(err, t("code.sent_to", { target: m.target }), true); form.code.focus();
        coolDown([sendButton], wait, r.resend_after);
      } catch (e) {
        say(err, problem(e));
        if (e.code === "too_many_codes") coolDown([sendButton], wait, e.retryAfter);
      }
    });
    sendButton.addEventListener("click", send);
    top.push(sendButton, wait);
    // A phone or an address as the default: its code goes out at once, once per sign-in.
    if (!state.codesSent.has(m.id)) sendNow = send;
  }
  // Other methods below the code field, as "I can't use my authenticator app right now".
  show(t("verify.title"), ...top, form, ...otherMethods(m, methods), signOutButton());
  if (sendNow) sendNow();
}

// "Other ways to sign in": every usable method but the one shown, and backup codes.
function otherMethods(m, methods) {
  const others = methods.filter((x) => x.id !== m.id && (m.kind !== "passkey" || x.kind !== "passkey"));
  const backup = !state.session.passkey_only && state.session.backup_codes && state.session.backup_codes.unused > 0
    ? h("li", {}, h("button", { type: "button", class: "secondary", id: "use-backup-code", onclick: backupCodeSignIn }, t("verify.backup_code"))) : null;
  return others.length || backup ? [h("h2", {}, t("verify.other")),
    h("ul", { class: "list", id: "other-methods" }, ...others.map((o) => h("li", {},
      h("button", { type: "button", class: "secondary", onclick: () => verify(o.id) }, methodLabel(o)))), backup)] : [];
}

// The second factor with a passkey: any of the account's (the browser offers those it has).
function verifyPasskey(m, methods) {
  const err = errorBox("error");
  const remember = h("input", { type: "checkbox", id: "remember" });
  const use = h("button", { type: "button", id: "use-passkey" }, t("verify.passkey_button"));
  use.addEventListener("click", () => working(use, async () => {
    clearMessages(app());
    try {
      const begin = await api("POST", "/session/webauthn/begin", {});
      const cred = await navigator.credentials.get({ publicKey: requestOptions(begin.publicKey) });
      const body = credentialJson(cred);
      body.remember = remember.checked;
      state.session = await api("POST", "/session/webauthn/finish", body);
      go(nextPath(state.session));
    } catch (e) { say(err, passkeyProblem(e)); use.focus(); }
  }));
  show(t("verify.passkey_title"), h("p", {}, t("verify.passkey_intro")), use,
    state.session.passkey_only ? null : h("label", { class: "inline", for: "remember" }, remember, t("verify.remember", { days: state.config.remember_device_days })),
    err, ...otherMethods(m, methods), signOutButton());
  use.focus();
}

// A backup code instead of the usual second factor (the phone is lost).
function backupCodeSignIn() {
  const err = errorBox("error", "backup-code");
  const form = h("form", {},
    h("p", {}, t("verify.backup_intro")),
    ...field("verify.backup_label", { type: "text", name: "code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "12", required: true, id: "backup-code" }),
    err, h("button", { type: "submit", id: "verify-backup" }, t("code.verify")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearMessages(form);
    await working(form.querySelector("#verify-backup"), async () => {
      try {
        state.session = await api("POST", "/session/backup-code", { code: form.code.value.trim() });
        go(nextPath(state.session));
      } catch (e) { say(err, problem(e)); form.code.select(); }
    });
  });
  show(t("verify.title"), form,
    h("button", { type: "button", class: "secondary", onclick: () => verify() }, t("common.cancel")), signOutButton());
}

// New backup codes: shown once, with Copy and Download; leaving asks first until either.
async function newBackupCodes() {
  const err = errorBox();
  let r;
  try {
    r = await withPassword(() => api("POST", "/methods/backup-codes", {}, false, requestKey()));
  } catch (e) { return say(document.getElementById("error"), problem(e)); }
  if (r === false) return;
  const text = r.codes.join("\n") + "\n";
  const status = h("p", { class: "ok", id: "codes-status", role: "status" });
  const done = () => { keepPassword(false); route(); };
  keepPassword(true);
  const copy = h("button", { type: "button", class: "secondary", id: "copy-codes", onclick: async () => {
    try { await navigator.clipboard.writeText(text); keepPassword(false); status.textContent = t("backup.copied"); } catch (e) { say(err, t("apppw.copy_failed")); }
  } }, t("apppw.copy"));
  const download = h("a", { class: "button secondary", id: "download-codes", download: "kunci-backup-codes.txt",
    href: URL.createObjectURL(new Blob([t("backup.file_header", { login: state.session.user.login }) + "\n\n" + text], { type: "text/plain" })),
    onclick: () => { keepPassword(false); status.textContent = t("backup.downloaded"); } }, t("backup.download"));
  show(t("backup.title"), h("p", {}, t("backup.intro")),
    h("ol", { class: "codes secret", id: "backup-codes" }, ...r.codes.map((c) => h("li", {}, c))),
    copy, download, status, err,
    h("div", {}, h("button", { type: "button", id: "done", onclick: done }, t("common.done"))));
}

function signOutButton() {
  return h("button", { class: "secondary", id: "signout", onclick: async () => {
    try { await api("DELETE", "/session"); } catch (e) { /* signed out either way */ }
    state.csrf = null;
    go("/");
  } }, t("common.signout"));
}

// ---- Security info ------------------------------------------------------------------
function when(iso) {
  return iso ? new Date(iso).toLocaleString(state.lang) : t("common.never");
}

async function security() {
  if (state.addAfterPass) {
    state.addAfterPass = false;
    return chooseMethod(true);
  }
  const user = state.session.user;
  const err = errorBox();
  // The last method cannot go while MFA is required: no button that can only fail.
  const lastStays = state.session.methods.length === 1 && user.mfa_state !== "disabled";
  const methodList = h("ul", { class: "list", id: "methods" },
    ...state.session.methods.map((m) => h("li", {},
      h("span", { class: "method-name" }, methodName(m)), " ",
      m.default ? h("span", { class: "badge" }, t("security.default")) : null,
      h("span", { class: "muted method-added" }, " ", t("security.added", { date: when(m.created_at) })),
      m.kind === "passkey" ? h("span", { class: "muted passkey-details" }, " · ",
        m.provider && m.provider !== m.target ? m.provider + " · " : "",
        m.last_used_at ? t("passkey.last_used", { date: when(m.last_used_at) }) : t("passkey.never_used"),
        m.synced ? " · " + t("passkey.synced") : "") : null,
      h("div", {},
        m.default ? null : h("button", { class: "secondary", "aria-label": t("security.make_default_named", { method: methodName(m) }), onclick: async () => {
          try { await withPassword(() => api("POST", "/methods/" + m.id + "/default")); route(); } catch (e) { say(err, problem(e)); }
        } }, t("security.make_default")),
        m.kind === "passkey" ? h("button", { class: "secondary rename", "aria-label": t("passkey.rename_named", { method: methodName(m) }), onclick: (ev) => renamePasskey(m, ev.currentTarget.closest("li"), err) }, t("passkey.rename")) : null,
        m.kind === "totp" || m.kind === "passkey" ? null : h("button", { class: "secondary change", "aria-label": t("security.change_named", { method: methodName(m) }), onclick: () => chooseMethod(true, m) }, t("security.change")),
        lastStays ? null : h("button", { class: "danger", "aria-label": t("security.remove_named", { method: methodName(m) }), onclick: async () => {
          if (!confirm(t("security.remove_confirm"))) return;
          try { await withPassword(() => api("DELETE", "/methods/" + m.id)); route(); } catch (e) { say(err, problem(e)); }
        } }, t("security.remove"))))));
  const grace = state.session.setup_grace;
  const needsPasskey = state.session.passkey_required && !state.session.methods.some((m) => m.kind === "passkey");
  const parts = [
    needsPasskey ? h("div", { class: "notice", id: "passkey-required" },
      h("p", {}, t("passkey.required_notice")),
      passkeysSupported() ? h("button", { id: "add-passkey", onclick: () => chooseMethod(true) }, t("passkey.add")) : null) : null,
    user.mfa_state === "enabled" ? h("div", { class: "notice", id: "setup-pending" },
      h("p", {}, grace ? t("security.setup_by", { date: when(grace.until) }) : t("security.setup_pending")),
      h("button", { id: "setup-from-security", onclick: () => go("/setup") }, t("setup.button"))) : null,
    h("p", {}, t("security.intro", { login: user.login })),
    h("h2", {}, t("security.methods")),
    state.session.methods.length ? methodList : h("p", { class: "muted" }, t("security.no_methods")),
    h("button", { class: "secondary", id: "add-method", onclick: () => chooseMethod(true) }, t("security.add_method")),
    h("h2", {}, t("backup.title")),
    h("p", { id: "backup-status", class: "muted" }, state.session.backup_codes
      ? t("backup.status", { unused: state.session.backup_codes.unused, total: state.session.backup_codes.total, date: when(state.session.backup_codes.created_at) })
      : t("backup.none")),
    h("button", { class: "secondary", id: "new-backup-codes", onclick: async () => {
      if (state.session.backup_codes && !confirm(t("backup.replace_confirm"))) return;
      await newBackupCodes();
    } }, t(state.session.backup_codes ? "backup.replace" : "backup.create")),
    err,
    h("h2", { id: "app-passwords-heading" }, t("security.app_passwords")),
  ];
  let list;
  try { list = await api("GET", "/app-passwords"); } catch (e) { say(err, problem(e)); }
  if (list && !list.available) {
    parts.push(h("p", { id: "app-passwords-unavailable" },
      t(list.reason === "app_passwords_off" ? "apppw.off" : "apppw.mfa_not_required")));
  } else if (list) {
    parts.push(h("p", { class: "muted" }, t("apppw.about")),
      legacyNotice("apppw.legacy_clients", list.account_password_clients, "legacy-clients"),
      appPasswordTable(list, err),
      h("button", { id: "create-app-password", onclick: () => createAppPassword(list) }, t("apppw.create")),
      deviceButton());
    if (list.items.length) {
      parts.push(h("button", { class: "danger", id: "delete-all", onclick: async () => {
        if (!confirm(t("apppw.delete_all_confirm"))) return;
        try { await api("DELETE", "/app-passwords"); route(); } catch (e) { say(err, problem(e)); }
      } }, t("apppw.delete_all")));
    }
  }
  parts.push(h("h2", {}, t("security.account")),
    h("button", { class: "secondary", id: "activity-link", onclick: () => go("/security/activity") }, t("activity.title")),
    h("button", { class: "secondary", onclick: () => go("/password") }, t("password.title")));
  if (user.role === "admin") parts.push(h("button", { class: "secondary", id: "admin-link", onclick: () => go("/admin") }, t("admin.title")));
  parts.push(signOutButton());
  show(t("security.title"), ...parts);
}

// Rename, in place: a field with the name, Save and Cancel.
function renamePasskey(m, li, err) {
  const input = h("input", { type: "text", class: "passkey-rename", maxlength: "64", value: m.target, "aria-label": t("passkey.name_label") });
  const save = h("button", { type: "submit", class: "save-name" }, t("passkey.save_name"));
  const form = h("form", { class: "row" }, input, save,
    h("button", { type: "button", class: "secondary", onclick: () => route() }, t("common.cancel")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    return working(save, async () => {
      try { await api("PATCH", "/methods/" + m.id, { name: input.value.trim() }); route(); }
      catch (e) { say(err, problem(e)); input.focus(); }
    });
  });
  li.replaceChildren(form);
  input.select();
}

// "…from 192.0.2.7 over IMAP", or without an address "…over IMAP"; "Never" when unused.
function lastUsed(u) {
  if (!u) return t("apppw.never_used");
  const vars = { at: when(u.at), ip: u.ip, protocol: u.protocol.toUpperCase() };
  return u.ip ? t("apppw.used_from", vars) : t("apppw.used_over", vars);
}

function appPasswordTable(list, err) {
  if (!list.items.length) return h("p", { class: "muted", id: "no-app-passwords" }, t("apppw.none"));
  return h("table", { id: "app-password-list" },
    h("thead", {}, h("tr", {}, ...["apppw.name", "apppw.created", "apppw.last_used", "apppw.protocols", "apppw.expires", "apppw.actions"].map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, ...list.items.map((a) => h("tr", { "data-name": a.name },
      h("td", { "data-label": t("apppw.name") }, a.name),
      h("td", { "data-label": t("apppw.created") }, when(a.created_at)),
      h("td", { class: "last-used", "data-label": t("apppw.last_used") }, lastUsed(a.last_used)),
      h("td", { "data-label": t("apppw.protocols") }, a.protocols.length ? a.protocols.join(", ").toUpperCase() : t("apppw.all_protocols")),
      h("td", { "data-label": t("apppw.expires") }, a.expires_at ? when(a.expires_at) : t("common.never")),
      h("td", {}, h("button", { class: "danger", "aria-label": t("apppw.delete_named", { name: a.name }), onclick: async () => {
        if (!confirm(t("apppw.delete_confirm", { name: a.name }))) return;
        try { await api("DELETE", "/app-passwords/" + a.id); route(); } catch (e) { say(err, problem(e)); }
      } }, t("apppw.delete")))))));
}

async function reauthenticate() {
  return new Promise((resolve) => {
    const err = errorBox();
    const form = h("form", {},
      h("p", {}, t("reauth.intro")),
      ...field("signin.password", { type: "password", name: "password", autocomplete: "current-password", required: true, id: "reauth-password" }),
      err, h("button", { type: "submit", id: "reauth" }, t("reauth.button")),
      h("button", { type: "button", class: "secondary", onclick: () => {
        // In the wizard, back to its first step (the method step would ask again).
        if (location.pathname === "/setup/method") go("/setup"); else route();
        resolve(false);
      } }, t("common.cancel")));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      clearMessages(form);
      await working(form.querySelector("#reauth"), async () => {
        try { await api("POST", "/reauth", { password: form.password.value }); resolve(true); }
        catch (e) { say(err, problem(e)); }
      });
    });
    show(t("reauth.title"), form);
  });
}

function createAppPassword(list) {
  const err = errorBox();
  const send = onceSender("POST", "/app-passwords");
  const protos = ["imap", "pop3", "smtp", "eas", "dav", "ews"];
  const form = h("form", {},
    ...field("apppw.name", { type: "text", name: "name", maxlength: "64", required: true, id: "app-password-name" }),
    h("fieldset", {}, h("legend", {}, t("apppw.protocols_choose")),
      ...protos.map((p) => h("label", { class: "inline" }, h("input", { type: "checkbox", name: "proto", value: p, id: "proto-" + p }), p.toUpperCase()))),
    h("label", { for: "expires" }, t("apppw.expires")),
    h("select", { id: "expires", name: "expires" },
      h("option", { value: "" }, t("common.never")),
      h("option", { value: "30d" }, t("apppw.days", { n: 30 })),
      h("option", { value: "90d" }, t("apppw.days", { n: 90 })),
      h("option", { value: "365d" }, t("apppw.days", { n: 365 }))),
    err,
    h("button", { type: "submit", id: "create" }, t("apppw.create_button")),
    h("button", { type: "button", class: "secondary", onclick: () => route() }, t("common.cancel")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { name: form.name.value.trim(), expires: form.expires.value,
      protocols: [...form.querySelectorAll("input[name=proto]:checked")].map((x) => x.value) };
    clearMessages(form);
    await working(form.querySelector("#create"), async () => {
      try {
        const created = await withPassword(() => send(body));
        if (created === false) return;
        showNewAppPassword(t("apppw.created_title", { name: created.name }), created.password, t("apppw.created_intro"), () => route());
      } catch (e) { say(err, problem(e)); }
    });
  });
  show(t("apppw.create"), form);
  if (list.reauth_required) { /* asked on submit, after the name is typed */ }
}

// ---- Set up this device ----------------------------------------------------------------
// The app password goes into the mail app without being typed: a signed profile for Apple
// devices, a QR code for Thunderbird for Android (each from a link that works once, for ten
// minutes, in this session only), or the settings and the password to paste for others.
function deviceButton(before) {
  if (!state.config || !state.config.devices) return null;
  return h("button", { class: "secondary", id: "set-up-device", onclick: () => { if (before) before(); go("/security/device"); } }, t("device.button"));
}

function guessDeviceKind() {
  const ua = navigator.userAgent;
  if (/iPhone|iPad|Macintosh/.test(ua)) return "apple";
  if (/Android/.test(ua)) return "android";
  return "thunderbird";
}

async function setUpDevice() {
  const err = errorBox();
  let info;
  try { info = await api("GET", "/devices"); } catch (e) { say(err, problem(e)); return show(t("device.title"), err); }
  if (!info.available) {
    return show(t("device.title"), h("p", { id: "device-unavailable" }, t("device.unavailable")),
      h("button", { class: "secondary", onclick: () => go("/security") }, t("common.done")));
  }
  const guess = guessDeviceKind();
  const usable = info.kinds.filter((k) => k.available);
  const chosen = (usable.find((k) => k.id === guess) || usable[0] || {}).id;
  const send = onceSender("POST", "/devices");
  const form = h("form", {},
    h("p", {}, t("device.intro")),
    h("fieldset", {}, h("legend", {}, t("device.kind_choose")),
      ...info.kinds.map((k) => h("label", { class: "choice" },
        h("input", { type: "radio", name: "kind", value: k.id, id: "device-kind-" + k.id, checked: k.id === chosen, disabled: !k.available }),
        " ", t("device.kind_" + k.id),
        k.available ? null : h("span", { class: "muted" }, " — ", t("device.reason_" + k.reason))))),
    ...field("device.name", { type: "text", name: "name", maxlength: "64", id: "device-name", placeholder: t("device.name_hint") }),
    h("label", { for: "device-expires" }, t("apppw.expires")),
    h("select", { id: "device-expires", name: "expires" },
      h("option", { value: "" }, t("common.never")),
      h("option", { value: "30d" }, t("apppw.days", { n: 30 })),
      h("option", { value: "90d" }, t("apppw.days", { n: 90 })),
      h("option", { value: "365d" }, t("apppw.days", { n: 365 }))),
    err,
    h("button", { type: "submit", id: "device-continue" }, t("device.continue")),
    h("button", { type: "button", class: "secondary", onclick: () => go("/security") }, t("common.cancel")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const picked = form.querySelector("input[name=kind]:checked");
    if (!picked) return say(err, t("device.kind_choose"));
    const body = { kind: picked.value, name: form.name.value.trim(), expires: form.expires.value };
    clearMessages(form);
    await working(form.querySelector("#device-continue"), async () => {
      try {
        const r = await withPassword(() => send(body));
        if (r === false) return;
        deviceResult(r, info);
      } catch (e) { say(err, problem(e)); }
    });
  });
  show(t("device.title"), form);
}

function deviceWarning(once) {
  return h("div", { class: "notice", id: "device-warning", role: "note" },
    h("p", {}, t("device.contains_password")), h("p", {}, once));
}

function serverList(settings) {
  const row = (label, s) => h("li", {}, h("strong", {}, label + ": "), s.host + ", " + t("device.port") + " " + s.port + ", " + (s.security === "ssl" ? "SSL/TLS" : "STARTTLS"));
  return h("ul", { class: "list", id: "device-settings" },
    row(t("device.incoming_imap"), settings.imap),
    settings.pop3 ? row(t("device.incoming_pop3"), settings.pop3) : null,
    row(t("device.outgoing_smtp"), settings.smtp),
    h("li", {}, h("strong", {}, t("device.username") + ": "), settings.username));
}

function deviceResult(r, info) {
  const done = h("button", { class: "secondary", id: "done", onclick: () => go("/security") }, t("common.done"));
  const minutes = Math.round((r.expires_in || info.link_seconds || 600) / 60);
  if (r.kind === "apple") {
    const status = h("p", { role: "status", id: "device-status", class: "ok" });
    const link = h("a", { href: r.download, id: "device-download", class: "button primary" }, t("device.download_profile"));
    link.addEventListener("click", () => { status.textContent = t("device.downloaded"); });
    return show(t("device.apple_title"), deviceWarning(t("device.link_once", { minutes })), link, status,
      h("ol", {}, h("li", {}, t("device.apple_step1")), h("li", {}, t("device.apple_step2")), h("li", {}, t("device.apple_step3"))),
      h("p", { class: "muted" }, t("device.revoke_hint", { name: r.name })), done);
  }
  if (r.kind === "android") {
    const status = h("p", { role: "status", id: "device-status", class: "error" });
    const img = h("img", { src: r.download, id: "device-qr", class: "qr qr-large", alt: t("device.qr_alt") });
    img.addEventListener("error", () => { status.textContent = t("device.qr_failed"); });
    return show(t("device.android_title"), deviceWarning(t("device.qr_once")), img, status,
      h("ol", {}, h("li", {}, t("device.android_step1")), h("li", {}, t("device.android_step2")), h("li", {}, t("device.android_step3"))),
      h("p", { class: "muted" }, t("device.revoke_hint", { name: r.name })), done);
  }
  // Thunderbird and other apps: the settings, and the password to paste once.
  const copyStatus = h("p", { role: "status", id: "copy-status", class: "ok" });
  const copy = h("button", { id: "copy" }, t("apppw.copy"));
  keepPassword(true);
  copy.addEventListener("click", async () => {
    try { await navigator.clipboard.writeText(r.password); keepPassword(false); copyStatus.textContent = t("apppw.copied"); }
    catch (e) { copyStatus.className = "error"; copyStatus.textContent = t("apppw.copy_failed"); }
  });
  show(t("apppw.created_title", { name: r.app_password.name }),
    h("p", {}, t(r.kind === "thunderbird" ? "device.thunderbird_intro" : "device.other_intro")),
    serverList(r.settings),
    h("p", {}, h("span", { class: "secret", id: "app-password" }, r.password)), copy, copyStatus,
    h("p", { class: "muted" }, t("apppw.once")),
    h("button", { class: "secondary", id: "done", onclick: () => { keepPassword(false); go("/security"); } }, t("common.done")));
  copy.focus();
}

// ---- Recent activity ------------------------------------------------------------------
// One event as a sentence the owner can act on: a mail client's refusal says why.
function activityText(e) {
  const detail = e.detail || "";
  // Methods are recorded as "kind target" (the target masked), MFA changes as "a -> b".
  const space = detail.indexOf(" ");
  const kind = space < 0 ? detail : detail.slice(0, space);
  const method = ["totp", "phone", "email"].includes(kind)
    ? methodName({ kind, target: space < 0 ? "" : detail.slice(space + 1) }) : detail;
  const states = detail.split(" -> ");
  const dated = ["access_pass_issued", "setup_deferred"].includes(e.event) && detail;
  const vars = { protocol: (e.agent || "").toUpperCase(), name: e.app_password || "", ip: e.client_ip || "",
    detail: e.event === "mfa_state_changed" && states.length === 2
      ? states.map((s) => t("mfa." + s)).join(" → ") : dated ? when(detail) : detail, method };
  if (e.event === "mail_login") {
    if (e.outcome === "ok") return t(e.app_password ? "activity.mail_ok_app" : e.app_password_id ? "activity.mail_ok_deleted" : "activity.mail_ok_password", vars);
    const key = "activity.mail_" + e.reason;
    return state.strings[key] ? t(key, vars) : t("activity.mail_refused", vars);
  }
  if (e.event === "sign_in" || e.event === "second_factor") {
    if (e.outcome === "ok") return t(e.event === "sign_in" && e.reason === "passkey" ? "activity.sign_in_passkey" : "activity." + e.event, vars);
    const why = "error." + (e.reason === "wrong_secret" || e.reason === "unknown_user" ? "invalid_credentials" : e.reason);
    return t("activity." + e.event + "_refused", vars) + " " + (state.strings[why] ? t(why) : "");
  }
  const managed = "activity.user_managed_" + detail;
  if (e.event === "user_managed" && state.strings[managed]) return t(managed);
  if (e.event === "app_password_created" && (e.reason || "").startsWith("device_"))
    return t("activity.app_password_created_device", { ...vars, device: t("device.kind_" + e.reason.slice(7)) });
  const key = "activity." + e.event;
  return state.strings[key] ? t(key, vars) : e.event;
}

// "from 10.0.0.5, Firefox on Linux" / "from 10.0.0.5 over IMAP".
function activityWhere(e) {
  const parts = [];
  if (e.client_ip) parts.push(e.client_ip);
  if (e.agent && e.event !== "mail_login") parts.push(e.agent === "cli" ? t("activity.by_admin") : e.agent);
  return parts.join(", ");
}

async function recentActivity() {
  const err = errorBox();
  let list = { items: [] };
  try { list = await api("GET", "/activity"); } catch (e) { say(err, problem(e)); }
  // Newest first by when it happened (events reach the record in batches, not in order).
  list.items.sort((a, b) => (a.last_at < b.last_at) - (a.last_at > b.last_at) || b.id - a.id);
  const rows = list.items.map((e) => h("tr", { class: "event", "data-event": e.event, "data-outcome": e.outcome },
    h("td", { "data-label": t("activity.when") }, when(e.last_at),
      e.count > 1 ? h("span", { class: "muted" }, " " + t("activity.times", { n: e.count })) : null),
    h("td", { "data-label": t("activity.what") }, e.outcome === "ok" ? null : h("span", { class: "badge refused" }, t("activity.outcome_" + e.outcome)), " ", activityText(e)),
    h("td", { "data-label": t("activity.where") }, activityWhere(e))));
  const table = rows.length
    ? h("table", { id: "activity" }, h("thead", {}, h("tr", {}, ...["activity.when", "activity.what", "activity.where"].map((k) => h("th", { scope: "col" }, t(k))))), h("tbody", {}, ...rows))
    : h("p", { class: "muted", id: "no-activity" }, t("activity.none"));
  const notMe = h("button", { class: "danger", id: "not-me" }, t("activity.not_me"));
  notMe.addEventListener("click", async () => {
    if (!confirm(t("activity.not_me_confirm"))) return;
    await working(notMe, async () => {
      try {
        await api("POST", "/activity/not-me", {});
        state.notice = t("activity.not_me_done");
        go("/password");
      } catch (e) { say(err, problem(e)); }
    });
  });
  show(t("activity.title"), h("p", {}, t("activity.intro")), err, table,
    h("h2", {}, t("activity.not_me_heading")), h("p", {}, t("activity.not_me_intro")), notMe,
    h("div", {}, h("button", { class: "secondary", onclick: () => go("/security") }, t("security.title"))));
}

// ---- Administration -----------------------------------------------------------------
// A modal dialog that says what an action changes; resolves true on confirm. `extra` is
// more content (a list, checkboxes) read by the caller before the dialog closes.
function confirmDialog(title, text, extra, confirmLabel, danger) {
  return new Promise((resolve) => {
    const ok = h("button", { type: "button", id: "dialog-confirm", class: danger ? "danger" : null }, confirmLabel);
    const cancel = h("button", { type: "button", class: "secondary", id: "dialog-cancel" }, t("common.cancel"));
    const dialog = h("dialog", { id: "confirm-dialog", "aria-labelledby": "dialog-title" },
      h("h2", { id: "dialog-title" }, title), h("p", { id: "dialog-text" }, text), extra || null,
      h("div", { class: "dialog-buttons" }, ok, cancel));
    const close = (v) => { dialog.close(); dialog.remove(); resolve(v); };
    ok.addEventListener("click", () => close(true));
    cancel.addEventListener("click", () => close(false));
    dialog.addEventListener("cancel", (ev) => { ev.preventDefault(); close(false); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

// The users list at scale: search, pages, a selection, and what to do with it.
async function admin(created) {
  const err = errorBox();
  const params = new URLSearchParams(location.search);
  const selected = new Set();
  const search = h("input", { type: "search", id: "user-search", name: "q", value: params.get("q") || "",
    placeholder: t("admin.search_placeholder") });
  const searchForm = h("form", { class: "filters", role: "search", id: "user-search-form" },
    h("div", {}, h("label", { for: "user-search" }, t("admin.search")), search),
    h("button", { type: "submit", id: "search-users" }, t("admin.search_button")));
  searchForm.addEventListener("submit", (ev) => {
    ev.preventDefault();
    history.pushState({}, "", "/admin" + (search.value ? "?q=" + encodeURIComponent(search.value) : ""));
    admin();
  });
  const count = h("span", { id: "selected-count", role: "status" }, t("admin.selected", { n: 0 }));
  const bulk = ["enabled", "enforced", "disabled"].map((st) =>
    h("button", { type: "button", class: "secondary bulk", id: "bulk-" + st, disabled: true }, t("admin.bulk_" + st)));
  const manageButton = h("button", { type: "button", class: "secondary bulk", id: "bulk-manage", disabled: true }, t("admin.manage"));
  const refreshSelection = () => {
    count.textContent = t("admin.selected", { n: selected.size });
    for (const b of [...bulk, manageButton]) b.disabled = selected.size === 0;
  };
  const body = h("tbody", {});
  const allBox = h("input", { type: "checkbox", id: "select-all", "aria-label": t("admin.select_all") });
  allBox.addEventListener("change", () => {
    for (const box of body.querySelectorAll("input[type=checkbox]")) {
      box.checked = allBox.checked;
      box.dispatchEvent(new Event("change"));
    }
  });
  const cols = ["admin.login", "admin.mfa", "admin.methods", "admin.app_passwords", "admin.last_sign_in", "admin.readiness", "admin.status"];
  const table = h("table", { id: "users" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, allBox), ...cols.map((k) => h("th", { scope: "col" }, t(k))))), body);
  const more = h("button", { type: "button", class: "secondary", id: "more-users", hidden: true }, t("admin.more_users"));
  let after = "";
  const patch = (u, change) => withPassword(() => api("PATCH", "/admin/users/" + encodeURIComponent(u.login), change));
  function row(u) {
    const box = h("input", { type: "checkbox", "data-login": u.login, "aria-label": t("admin.select_user", { login: u.login }) });
    box.addEventListener("change", () => { if (box.checked) selected.add(u.login); else selected.delete(u.login); refreshSelection(); });
    const act = (key, handler, cls) => h("button", { type: "button", class: cls || "secondary", "aria-label": t(key + "_named", { login: u.login }), onclick: async () => {
      try { await handler(); } catch (e) { say(err, problem(e)); }
    } }, t(key));
    return h("tr", { "data-login": u.login },
      h("td", {}, box),
      h("td", { "data-label": t(cols[0]) }, u.login, h("br"), h("span", { class: "muted" }, u.display_name),
        u.role === "admin" ? h("span", { class: "badge" }, " " + t("role.admin")) : null),
      h("td", { "data-label": t(cols[1]), class: "mfa-state" }, t("mfa." + u.mfa_state)),
      h("td", { "data-label": t(cols[2]) }, String(u.methods)),
      h("td", { "data-label": t(cols[3]) }, String(u.app_passwords)),
      h("td", { "data-label": t(cols[4]) }, u.last_sign_in_at ? when(u.last_sign_in_at) : t("apppw.never_used")),
      h("td", { "data-label": t(cols[5]), class: "readiness" }, u.legacy_clients
        ? h("span", { class: "badge refused" }, t("admin.legacy_clients", { n: u.legacy_clients })) : t("admin.ready")),
      h("td", { "data-label": t(cols[6]) }, t(u.enabled ? "admin.enabled" : "admin.disabled"), h("br"),
        act("admin.edit", async () => {
          const name = prompt(t("admin.edit_prompt", { login: u.login }), u.display_name);
          if (name === null) return;
          if (await patch(u, { display_name: name }) !== false) admin();
        }),
        act(u.enabled ? "admin.disable" : "admin.enable", async () => {
          if (!(await confirmDialog(t(u.enabled ? "admin.disable_title" : "admin.enable_title", { login: u.login }),
            t(u.enabled ? "admin.disable_text" : "admin.enable_text"), null, t(u.enabled ? "admin.disable" : "admin.enable"), u.enabled))) return;
          if (await patch(u, { enabled: !u.enabled }) !== false) admin();
        }),
        act("admin.reset", async () => {
          if (!(await confirmDialog(t("admin.reset"), t("admin.reset_confirm", { login: u.login }), null, t("admin.reset"), true))) return;
          const r = await withPassword(() => api("POST", "/admin/users/" + encodeURIComponent(u.login) + "/password"));
          if (r !== false) admin({ login: u.login, one_time_password: r.one_time_password, reset: true });
        }),
        act("admin.access_pass", async () => {
          const valid = h("select", { id: "pass-valid" }, ...[["1h", t("common.hours", { n: 1 })], ["8h", t("common.hours", { n: 8 })],
            ["1d", t("common.days", { n: 1 })], ["7d", t("common.days", { n: 7 })]].map(([v, l]) => h("option", { value: v, selected: v === "8h" }, l)));
          const once = h("input", { type: "checkbox", id: "pass-once", checked: true });
          const extra = h("div", {}, h("label", { for: "pass-valid" }, t("admin.access_pass_valid")), valid,
            h("label", { class: "inline", for: "pass-once" }, once, t("admin.access_pass_once")));
          if (!(await confirmDialog(t("admin.access_pass_title", { login: u.login }), t("admin.access_pass_text"), extra, t("admin.access_pass_issue")))) return;
          const r = await withPassword(() => api("POST", "/admin/users/" + encodeURIComponent(u.login) + "/access-pass", { valid: valid.value, one_time: once.checked }));
          if (r === false) return;
          const box = document.getElementById("created-user");
          box.replaceChildren(h("p", { class: "ok" }, t("admin.access_pass_done", { login: u.login, date: when(r.expires_at) })),
            h("p", {}, h("span", { class: "secret", id: "access-pass" }, r.pass)));
          box.scrollIntoView();
        }),
        act("admin.delete", async () => {
          if (!(await confirmDialog(t("admin.delete_title", { login: u.login }), t("admin.delete_text"), null, t("admin.delete"), true))) return;
          if (await withPassword(() => api("DELETE", "/admin/users/" + encodeURIComponent(u.login))) !== false) admin();
        }, "danger")));
  }
  async function page() {
    const q = new URLSearchParams({ q: params.get("q") || "", limit: "50" });
    if (after) q.set("after", after);
    try {
      const r = await api("GET", "/admin/users?" + q);
      for (const u of r.items) body.append(row(u));
      after = r.next_after;
      more.hidden = !after;
      if (!body.children.length) body.append(h("tr", {}, h("td", { colspan: "8", id: "no-users" }, t("admin.no_users"))));
    } catch (e) { say(err, problem(e)); }
  }
  more.addEventListener("click", () => working(more, page));
  const list = () => [...selected];
  // The list again, then the message on it: said before the new page was shown, it went
  // with the old one (a flash, and a test that sometimes missed it).
  const done = async (key, n) => { await admin(); say(document.getElementById("error"), t(key, { n }), true); };
  bulk.forEach((button, i) => {
    const st = ["enabled", "enforced", "disabled"][i];
    button.addEventListener("click", async () => {
      const logins = list();
      let extra = null, text = t("admin.bulk_" + st + "_text", { n: logins.length });
      if (st === "enforced") {
        try {
          const r = await api("POST", "/admin/readiness", { logins });
          const cut = r.users.filter((u) => u.clients.length && u.mfa_state !== "enforced");
          text = t("admin.enforce_ready", { n: logins.length });
          if (r.affected) {
            text = t("admin.enforce_cut_off", { n: r.affected, days: r.days });
            extra = h("ul", { id: "cut-off" }, ...cut.map((u) => h("li", {}, u.login + ": ",
              u.clients.map((c) => t("admin.client", { protocol: c.protocol.toUpperCase(), ip: c.client_ip, at: when(c.last_seen) })).join("; "))));
          }
        } catch (e) { return say(err, problem(e)); }
      }
      if (!(await confirmDialog(t("admin.bulk_" + st + "_title", { n: logins.length }), text, extra, t("admin.bulk_" + st), st !== "enabled"))) return;
      try {
        const r = await withPassword(() => api("POST", "/admin/users/mfa", { logins, mfa_state: st }));
        if (r !== false) await done("admin.bulk_done", logins.length);
      } catch (e) { say(err, problem(e)); }
    });
  });
  manageButton.addEventListener("click", async () => {
    const logins = list();
    const actions = ["reset_methods", "delete_app_passwords", "forget_devices", "sign_out"];
    const boxes = h("fieldset", { id: "manage-actions" }, h("legend", {}, t("admin.manage_legend", { n: logins.length })),
      ...actions.map((a) => h("label", { class: "inline block", for: "manage-" + a },
        h("input", { type: "checkbox", id: "manage-" + a, value: a }), t("admin.manage_" + a))));
    if (!(await confirmDialog(t("admin.manage"), t("admin.manage_text"), boxes, t("admin.manage_apply"), true))) return;
    const chosen = actions.filter((a) => boxes.querySelector("#manage-" + a).checked);
    if (!chosen.length) return;
    try {
      const r = await withPassword(() => api("POST", "/admin/users/manage", { logins, actions: chosen }));
      if (r !== false) await done("admin.bulk_done", logins.length);
    } catch (e) { say(err, problem(e)); }
  });
  await page();
  const result = h("div", { id: "created-user", role: "status" });
  if (created) {
    result.append(h("p", { class: "ok" }, t(created.reset ? "admin.reset_done" : "admin.created", { login: created.login })),
      h("p", {}, t("admin.one_time")), h("p", {}, h("span", { class: "secret", id: "one-time-password" }, created.one_time_password)));
  }
  const form = h("form", {},
    ...field("admin.login", { type: "email", name: "login", required: true, id: "new-login" }),
    ...field("admin.display_name", { type: "text", name: "display_name", id: "new-display-name" }),
    h("div", {},
      h("label", { class: "inline", for: "new-mfa" }, h("input", { type: "checkbox", id: "new-mfa", checked: true }), t("admin.require_mfa")),
      h("label", { class: "inline", for: "new-admin" }, h("input", { type: "checkbox", id: "new-admin" }), t("admin.make_admin"))),
    h("button", { type: "submit", id: "create-user" }, t("admin.create")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try {
      const body = { login: form.login.value, display_name: form.display_name.value,
        mfa_state: form.querySelector("#new-mfa").checked ? "enabled" : "disabled",
        role: form.querySelector("#new-admin").checked ? "admin" : "user" };
      const u = await withPassword(() => api("POST", "/admin/users", body));
      if (u === false) return;
      // The new user is shown: the list searched for them.
      history.replaceState({}, "", "/admin?q=" + encodeURIComponent(u.login));
      admin(u);
    } catch (e) { say(err, problem(e)); }
  });
  show(t("admin.title"), err, result,
    h("button", { class: "secondary", id: "admin-activity-link", onclick: () => go("/admin/activity") }, t("admin.activity")),
    h("button", { class: "secondary", id: "admin-settings-link", onclick: () => go("/admin/settings") }, t("settings.title")),
    h("h2", {}, t("admin.users")), searchForm,
    h("div", { class: "bulk-bar" }, count, ...bulk, manageButton),
    h("div", { class: "table-scroll" }, table), more,
    h("h2", {}, t("admin.create")), form,
    await lockoutsSection(err),
    h("button", { class: "secondary", onclick: () => go("/security") }, t("security.title")), signOutButton());
}

// Service settings, grouped as the seed's system groups them, each with its explanation.
async function adminSettings() {
  const err = errorBox();
  let list = [];
  try { list = await api("GET", "/admin/settings"); } catch (e) { say(err, problem(e)); }
  const groups = ["app_passwords", "verification", "remember", "trusted_networks", "setup", "reset", "lockouts", "codes", "activity"];
  const inputs = {};
  const form = h("form", { id: "settings-form" });
  for (const g of groups) {
    const items = list.filter((s) => s.group === g);
    if (!items.length) continue;
    const section = h("fieldset", { class: "settings-group", id: "group-" + g },
      h("legend", {}, t("settings.group_" + g)), h("p", { class: "muted" }, t("settings.group_" + g + "_intro")));
    for (const s of items) {
      const id = "setting-" + s.key;
      const help = h("span", { class: "muted", id: id + "-help" }, (state.strings["settings." + s.key] ? t("settings." + s.key) : s.description) +
        (s.type === "int" ? " " + t("settings.range", { min: s.min, max: s.max, def: s.default }) : ""));
      let input;
      if (s.type === "bool") {
        input = h("input", { type: "checkbox", id, checked: s.value, "aria-describedby": id + "-help" });
        section.append(h("div", { class: "setting" }, h("label", { class: "inline", for: id }, input, s.key), h("br"), help));
      } else if (s.type === "int") {
        input = h("input", { type: "number", id, min: String(s.min), max: String(s.max), value: String(s.value), required: true, "aria-describedby": id + "-help" });
        section.append(h("div", { class: "setting" }, h("label", { for: id }, s.key), input, help));
      } else {
        input = h("textarea", { id, rows: "3", "aria-describedby": id + "-help",
          placeholder: s.type === "users" ? "none, admins, everyone, dewi@example.org" : "10.0.0.0/8, 2001:db8::/32" });
        input.value = s.value.split(",").filter(Boolean).join(", ");
        section.append(h("div", { class: "setting" }, h("label", { for: id }, s.key), input, help));
      }
      inputs[s.key] = { input, setting: s };
    }
    form.append(section);
  }
  form.append(err, h("button", { type: "submit", id: "save-settings" }, t("settings.save")),
    h("button", { type: "button", class: "secondary", onclick: () => go("/admin") }, t("admin.title")));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const change = {};
    for (const [key, { input, setting }] of Object.entries(inputs)) {
      const v = setting.type === "bool" ? input.checked : setting.type === "int" ? Number(input.value) : input.value.replace(/\s+/g, "");
      const old = setting.type === "networks" ? setting.value : setting.value;
      if (v !== old) change[key] = v;
    }
    if (!Object.keys(change).length) return say(err, t("settings.unchanged"), true);
    await working(form.querySelector("#save-settings"), async () => {
      try {
        const r = await withPassword(() => api("PATCH", "/admin/settings", change));
        if (r === false) return;
        await adminSettings();
        say(document.getElementById("error"), t("settings.saved", { n: Object.keys(change).length }), true);
      } catch (e) {
        say(err, e.code === "invalid_setting" ? t("settings.invalid") : problem(e));
      }
    });
  });
  show(t("settings.title"), h("p", {}, t("settings.intro")), form);
}

// The sign-in log and audit: everyone's events, filtered, newest first, page by page.
async function adminActivity() {
  const err = errorBox();
  const params = new URLSearchParams(location.search);
  const outcomes = ["", "ok", "refused", "tempfail"];
  const events = ["", "sign_in", "second_factor", "mail_login", "method_added", "method_renamed", "method_removed",
    "app_password_created", "app_password_deleted", "app_passwords_deleted", "mfa_state_changed",
    "password_changed", "password_reset", "user_created", "user_disabled", "user_enabled",
    "user_deleted", "settings_changed", "lockout_cleared", "sessions_revoked", "user_managed",
    "methods_reset", "devices_forgotten", "backup_codes_created", "access_pass_issued",
    "password_reset_started", "setup_deferred", "account_locked"];
  const input = (name, label, attrs) => [h("label", { for: "filter-" + name }, t(label)),
    h("input", { ...attrs, id: "filter-" + name, name, value: params.get(name) || "" })];
  const select = (name, label, values, prefix) => [h("label", { for: "filter-" + name }, t(label)),
    h("select", { id: "filter-" + name, name }, ...values.map((v) => h("option", { value: v, selected: (params.get(name) || "") === v }, v ? (state.strings[prefix + v] ? t(prefix + v) : v) : t("admin.filter_any"))))];
  const form = h("form", { class: "filters", id: "activity-filters" },
    h("div", {}, ...input("user", "admin.login", { type: "text" })),
    h("div", {}, ...select("event", "admin.filter_event", events, "event.")),
    h("div", {}, ...select("outcome", "admin.filter_outcome", outcomes, "activity.outcome_")),
    h("div", {}, ...input("protocol", "admin.filter_protocol", { type: "text", placeholder: "imap" })),
    h("div", {}, ...input("ip", "admin.filter_ip", { type: "text" })),
    h("div", {}, ...input("since", "admin.filter_since", { type: "text", placeholder: "7d" })),
    h("button", { type: "submit", id: "apply-filters" }, t("admin.filter_apply")));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const el of form.querySelectorAll("input, select")) if (el.value) q.set(el.name, el.value);
    history.pushState({}, "", "/admin/activity" + (q.toString() ? "?" + q : ""));
    adminActivity();
  });
  const body = h("tbody", {});
  const more = h("button", { class: "secondary", id: "more-activity", hidden: true }, t("admin.more"));
  const cols = ["activity.when", "admin.login", "admin.filter_event", "activity.what", "activity.where"];
  const table = h("table", { id: "admin-activity" }, h("thead", {}, h("tr", {}, ...cols.map((k) => h("th", { scope: "col" }, t(k))))), body);
  let before = null;
  async function page() {
    const q = new URLSearchParams(location.search);
    if (before) q.set("before", before);
    try {
      const r = await api("GET", "/admin/activity?" + q);
      for (const e of r.items) body.append(h("tr", { class: "event", "data-outcome": e.outcome, "data-event": e.event, "data-subject": e.subject || "" },
        h("td", { "data-label": t(cols[0]) }, when(e.last_at), e.count > 1 ? h("span", { class: "muted" }, " " + t("activity.times", { n: e.count })) : null),
        h("td", { "data-label": t(cols[1]) }, e.subject || "–", e.actor && e.actor !== e.subject ? h("span", { class: "muted" }, " (" + t("admin.by", { actor: e.actor }) + ")") : null),
        h("td", { "data-label": t(cols[2]) }, state.strings["event." + e.event] ? t("event." + e.event) : e.event),
        h("td", { "data-label": t(cols[3]) }, e.outcome === "ok" ? null : h("span", { class: "badge refused" }, t("activity.outcome_" + e.outcome)), " ", [e.agent && e.event === "mail_login" ? e.agent.toUpperCase() : "", e.reason, e.detail].filter(Boolean).join(" · ")),
        h("td", { "data-label": t(cols[4]) }, [e.client_ip, e.event === "mail_login" ? "" : e.agent].filter(Boolean).join(", "))));
      before = r.next_before;
      more.hidden = !before;
    } catch (e) { say(err, problem(e)); }
  }
  more.addEventListener("click", () => working(more, page));
  await page();
  show(t("admin.activity"), form, err, table, more,
    h("div", {}, h("button", { class: "secondary", onclick: () => go("/admin") }, t("admin.title"))));
}

// Failures counted against passwords, codes and addresses, and a way to clear them.
async function lockoutsSection(err) {
  let rows = [];
  try { rows = await api("GET", "/admin/lockouts"); } catch (e) { say(err, problem(e)); }
  const section = h("section", { id: "lockouts" }, h("h2", {}, t("admin.lockouts")),
    h("p", { class: "muted" }, t("admin.lockouts_intro")));
  if (!rows.length) {
    section.append(h("p", { class: "muted", id: "no-lockouts" }, t("admin.lockout_none")));
    return section;
  }
  const cols = ["admin.lockout_kind", "admin.lockout_subject", "admin.lockout_failures", "admin.lockout_locked", "admin.lockout_last", "apppw.actions"];
  section.append(h("table", { id: "lockout-list" },
    h("thead", {}, h("tr", {}, ...cols.map((k) => h("th", { scope: "col" }, t(k))))),
    h("tbody", {}, ...rows.map((l) => h("tr", { "data-subject": l.subject, "data-kind": l.kind },
      h("td", { "data-label": t(cols[0]) }, t("kind." + l.kind)),
      h("td", { "data-label": t(cols[1]) }, l.subject),
      h("td", { "data-label": t(cols[2]) }, String(l.failures)),
      h("td", { "data-label": t(cols[3]) }, l.until_cleared ? t("admin.lockout_until_cleared") : l.locked ? when(l.locked_until) : t("admin.lockout_no")),
      h("td", { "data-label": t(cols[4]) }, when(l.last_failure)),
      h("td", {}, h("button", { class: "secondary", "aria-label": t("admin.lockout_clear_named", { subject: l.subject }), onclick: async () => {
        try {
          if (await withPassword(() => api("DELETE", "/admin/lockouts/" + encodeURIComponent(l.subject))) === false) return;
          await admin();
          say(document.getElementById("error"), t("admin.lockout_cleared", { subject: l.subject }), true);
        } catch (e) { say(err, problem(e)); }
      } }, t("admin.lockout_clear"))))))));
  return section;
}

// ---- Start ----------------------------------------------------------------------------
async function start() {
  const select = document.getElementById("lang");
  let lang = localStorage.getItem("kunci.lang");
  try {
    state.config = await api("GET", "/config");
    lang = lang || state.config.language;
    // The organization's name and logo ([web] organization_name, logo_file) in the header.
    if (state.config.organization_name) document.getElementById("brand").textContent = state.config.organization_name;
    if (state.config.logo) {
      const logo = document.getElementById("logo");
      logo.src = "/logo";
      logo.alt = state.config.organization_name || "";
      logo.hidden = false;
    }
  } catch (e) { lang = lang || "en"; }
  await loadLanguage(lang);
  select.addEventListener("change", async () => {
    localStorage.setItem("kunci.lang", select.value);
    await loadLanguage(select.value);
    route();
  });
  window.addEventListener("popstate", () => {
    // Back on the page that shows a new app password: ask, and stay unless the user agrees.
    if (state.keepPassword) {
      if (!confirm(t("apppw.leave_confirm"))) return history.pushState({ keep: true }, "", location.pathname);
      keepPassword(false);
    }
    route();
  });
  route();
}
start();
