// Records what Chromium returns for a passkey (with its virtual authenticator), for
// tests/unit/test_webauthn.c to check byte for byte as a browser sends them:
//   cd tests/browser && node record_webauthn_vectors.mjs > ../unit/vectors/chromium.json
// A blank page on http://localhost (a secure context) asks for a registration with
// attestation "none", one with "direct" (Chromium then signs a packed statement with an x5c
// certificate), and an assertion by the first credential. The challenges are fixed.
import { createServer } from "node:http";
import { launch } from "./harness.mjs";

const server = createServer((req, res) => { res.setHeader("Content-Type", "text/html"); res.end("<!doctype html><title>vectors</title>"); });
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const origin = `http://localhost:${server.address().port}`;
const browser = await launch();
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", { options: { protocol: "ctap2", transport: "internal",
    hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true } });
  await page.goto(origin + "/");
  const out = await page.evaluate(async () => {
    const b64u = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const bytes = (from) => Uint8Array.from({ length: 32 }, (_, i) => from + i);
    const create = async (attestation, from) => {
      const c = await navigator.credentials.create({ publicKey: {
        challenge: bytes(from), rp: { id: "localhost", name: "kunci" },
        // A user id per registration: a second resident key for the same one would replace the first.
        user: { id: Uint8Array.from({ length: 16 }, (_, i) => from + i), name: "alice@example.org", displayName: "Alice" },
        pubKeyCredParams: [{ type: "public-key", alg: -7 }], attestation,
        authenticatorSelection: { residentKey: "required", userVerification: "required" } } });
      return { challenge: b64u(bytes(from)), id: b64u(c.rawId), clientDataJSON: b64u(c.response.clientDataJSON),
        attestationObject: b64u(c.response.attestationObject) };
    };
    const none = await create("none", 0);
    const direct = await create("direct", 100);
    const a = await navigator.credentials.get({ publicKey: { challenge: bytes(200), rpId: "localhost",
      allowCredentials: [{ type: "public-key", id: Uint8Array.from(atob(none.id.replace(/-/g, "+").replace(/_/g, "/")), (ch) => ch.charCodeAt(0)) }],
      userVerification: "required" } });
    return { origin: location.origin, rp_id: "localhost", registration_none: none, registration_packed: direct,
      assertion: { challenge: b64u(bytes(200)), id: b64u(a.rawId), clientDataJSON: b64u(a.response.clientDataJSON),
        authenticatorData: b64u(a.response.authenticatorData), signature: b64u(a.response.signature),
        userHandle: b64u(a.response.userHandle) } };
  });
  out.recorded_with = (await browser.version()) + " virtual authenticator (ctap2, internal, resident key, UV)";
  console.log(JSON.stringify(out, null, 1));
} finally {
  await browser.close();
  server.close();
}
