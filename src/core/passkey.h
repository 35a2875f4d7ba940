/* Passkeys and security keys as a method: registering one, signing in with one as the
 * second factor, and passwordless sign-in with a discoverable one (both factors at once).
 * The ceremonies' checks are core/webauthn.c's; this file adds the challenges, the store and
 * the counter. */
#ifndef KUNCI_PASSKEY_H
#define KUNCI_PASSKEY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/context.h"
#include "core/store.h"
#include "core/types.h"
#include "core/webauthn.h"

#define KUNCI_CHALLENGE_SECONDS 300 /* a challenge is answered within 5 minutes, once */
#define KUNCI_PASSKEY_NAME_MAX  64

enum kunci_passkey_purpose {
    KUNCI_PASSKEY_REGISTER = 1,     /* the wizard or Security info adds one */
    KUNCI_PASSKEY_SECOND = 2,       /* the second factor after the password */
    KUNCI_PASSKEY_PASSWORDLESS = 3, /* no login, no password: a discoverable credential */
};

/* What the browser returned, its base64url fields decoded. */
struct kunci_passkey_response {
    const uint8_t *credential_id;
    size_t credential_id_len;
    const uint8_t *client_data;
    size_t client_data_len;
    const uint8_t *attestation; /* registration */
    size_t attestation_len;
    const uint8_t *auth_data; /* sign-in */
    size_t auth_data_len;
    const uint8_t *signature;
    size_t signature_len;
    const uint8_t *user_handle; /* sign-in with a discoverable credential */
    size_t user_handle_len;
    const char *transports; /* registration: "internal,hybrid" */
    bool discoverable;      /* registration: credProps.rk, as the browser reported it */
};

/* A new challenge: 12 random bytes, the time, the purpose, and a keyed hash binding them to
 * `binding` (the session's token hash; zeros for passwordless sign-in, which has none) under
 * the server key. Nothing is stored until it is answered. */
void kunci_passkey_challenge(const struct kunci_ctx *ctx, enum kunci_passkey_purpose purpose,
                             const uint8_t binding[KUNCI_TOKEN_HASH_BYTES], int64_t now,
                             uint8_t out[KUNCI_CHALLENGE_BYTES]);

/* The opaque user handle of an account (WebAuthn's user.id): no login, no number in it. */
void kunci_passkey_user_handle(const struct kunci_ctx *ctx, int64_t account_id,
                               uint8_t out[KUNCI_USER_HANDLE_BYTES]);

/* Whether a signature must carry user verification: always for passwordless sign-in (it
 * stands for both factors), else as [web] webauthn_user_verification says; a discoverable
 * credential (a passkey) always, at registration and at every use. */
bool kunci_passkey_uv_required(const struct kunci_ctx *ctx, enum kunci_passkey_purpose purpose);

/* Registers the credential in resp for acct under name: the challenge (ours, this session's,
 * in time, not answered before), then the attestation. KUNCI_ERR_EXPIRED, KUNCI_ERR_REUSED,
 * KUNCI_ERR_EXISTS (registered already), KUNCI_ERR_INVALID with *why_r. */
int kunci_passkey_register(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                           const struct kunci_account *acct,
                           const uint8_t binding[KUNCI_TOKEN_HASH_BYTES], const char *name,
                           const struct kunci_passkey_response *resp, int64_t now,
                           struct kunci_passkey *pk_r, const char **why_r);

/* Checks a sign-in: the challenge, the credential (acct's when account_id is not 0; for
 * passwordless, whichever account it belongs to, whose user handle must match), the
 * signature, and the counter (KUNCI_ERR_COUNTER when it went backwards: refused). pk_r gets
 * the credential, its account in pk_r->account_id. KUNCI_ERR_NOT_FOUND: not registered. */
int kunci_passkey_authenticate(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                               enum kunci_passkey_purpose purpose, int64_t account_id,
                               const uint8_t binding[KUNCI_TOKEN_HASH_BYTES],
                               const struct kunci_passkey_response *resp, int64_t now,
                               struct kunci_passkey *pk_r, const char **why_r);

/* A name a user gave: 1 to 64 bytes of UTF-8 without control characters. */
bool kunci_passkey_name_ok(const char *name);

#endif
