#include "core/passkey.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/err.h"

#define NONCE_BYTES 12
#define TAG_BYTES   (KUNCI_CHALLENGE_BYTES - NONCE_BYTES - 4 - 1)

static void challenge_tag(const struct kunci_ctx *ctx, const uint8_t *head, size_t head_len,
                          const uint8_t binding[KUNCI_TOKEN_HASH_BYTES], uint8_t tag[TAG_BYTES])
{
    static const char label[] = "kunci webauthn challenge 1";
    uint8_t full[crypto_generichash_BYTES_MIN];
    crypto_generichash_state st;

    crypto_generichash_init(&st, ctx->keys->tokens, KUNCI_SUBKEY_BYTES, sizeof(full));
    crypto_generichash_update(&st, (const unsigned char *)label, sizeof(label));
    crypto_generichash_update(&st, head, head_len);
    crypto_generichash_update(&st, binding, KUNCI_TOKEN_HASH_BYTES);
    crypto_generichash_final(&st, full, sizeof(full));
    memcpy(tag, full, TAG_BYTES);
}

void kunci_passkey_challenge(const struct kunci_ctx *ctx, enum kunci_passkey_purpose purpose,
                             const uint8_t binding[KUNCI_TOKEN_HASH_BYTES], int64_t now,
                             uint8_t out[KUNCI_CHALLENGE_BYTES])
{
    uint32_t t = (uint32_t)now;
    randombytes_buf(out, NONCE_BYTES);
    out[NONCE_BYTES + 0] = (uint8_t)(t >> 24);
    out[NONCE_BYTES + 1] = (uint8_t)(t >> 16);
    out[NONCE_BYTES + 2] = (uint8_t)(t >> 8);
    out[NONCE_BYTES + 3] = (uint8_t)t;
    out[NONCE_BYTES + 4] = (uint8_t)purpose;
    challenge_tag(ctx, out, NONCE_BYTES + 5, binding, out + NONCE_BYTES + 5);
}

/* Ours, for this purpose and binding, and in time: KUNCI_OK, KUNCI_ERR_EXPIRED or
 * KUNCI_ERR_INVALID. Whether it was answered before is the store's to say. */
static int challenge_check(const struct kunci_ctx *ctx, enum kunci_passkey_purpose purpose,
                           const uint8_t binding[KUNCI_TOKEN_HASH_BYTES], int64_t now,
                           const uint8_t c[KUNCI_CHALLENGE_BYTES], int64_t *expires_r)
{
    uint8_t tag[TAG_BYTES];
    challenge_tag(ctx, c, NONCE_BYTES + 5, binding, tag);
    if (sodium_memcmp(tag, c + NONCE_BYTES + 5, TAG_BYTES) != 0 || c[NONCE_BYTES + 4] != purpose)
        return KUNCI_ERR_INVALID;
    int64_t issued = (int64_t)((uint32_t)c[NONCE_BYTES] << 24 | (uint32_t)c[NONCE_BYTES + 1] << 16 |
                               (uint32_t)c[NONCE_BYTES + 2] << 8 | c[NONCE_BYTES + 3]);
    *expires_r = issued + KUNCI_CHALLENGE_SECONDS;
    /* A clock stepped back by a minute still accepts it; one from the future is not ours. */
    if (issued > now + 60)
        return KUNCI_ERR_INVALID;
    return now < *expires_r ? KUNCI_OK : KUNCI_ERR_EXPIRED;
}

/* clientDataJSON's challenge checked, then spent: a second answer to it is refused. */
static int spend_challenge(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                           enum kunci_passkey_purpose purpose,
                           const uint8_t binding[KUNCI_TOKEN_HASH_BYTES],
                           const struct kunci_passkey_response *resp, int64_t now,
                           const char **why_r)
{
    uint8_t c[KUNCI_CHALLENGE_BYTES];
    int64_t expires = 0;
    enum kunci_webauthn_ceremony ceremony =
        purpose == KUNCI_PASSKEY_REGISTER ? KUNCI_CEREMONY_CREATE : KUNCI_CEREMONY_GET;
    int r = kunci_webauthn_client_data(resp->client_data, resp->client_data_len, ceremony,
                                       ctx->cfg.origin, c, why_r);
    if (r != KUNCI_OK)
        return r;
    r = challenge_check(ctx, purpose, binding, now, c, &expires);
    if (r == KUNCI_ERR_INVALID)
        *why_r = "a challenge not given to this session for this";
    if (r == KUNCI_OK)
        r = kunci_store_challenge_use(h, c, sizeof(c), expires);
    return r;
}

void kunci_passkey_user_handle(const struct kunci_ctx *ctx, int64_t account_id,
                               uint8_t out[KUNCI_USER_HANDLE_BYTES])
{
    static const char label[] = "kunci webauthn user handle 1";
    uint8_t id[8];
    crypto_generichash_state st;

    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)((uint64_t)account_id >> (56 - 8 * i));
    crypto_generichash_init(&st, ctx->keys->enrolment, KUNCI_SUBKEY_BYTES, KUNCI_USER_HANDLE_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)label, sizeof(label));
    crypto_generichash_update(&st, id, sizeof(id));
    crypto_generichash_final(&st, out, KUNCI_USER_HANDLE_BYTES);
}

bool kunci_passkey_uv_required(const struct kunci_ctx *ctx, enum kunci_passkey_purpose purpose)
{
    return purpose == KUNCI_PASSKEY_PASSWORDLESS || ctx->cfg.webauthn_uv_required;
}

bool kunci_passkey_name_ok(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n > KUNCI_PASSKEY_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return false;
    return true;
}

int kunci_passkey_register(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                           const struct kunci_account *acct,
                           const uint8_t binding[KUNCI_TOKEN_HASH_BYTES], const char *name,
                           const struct kunci_passkey_response *resp, int64_t now,
                           struct kunci_passkey *pk_r, const char **why_r)
{
    *why_r = NULL;
    memset(pk_r, 0, sizeof(*pk_r));
    if (!kunci_passkey_name_ok(name)) {
        *why_r = "a name of 1 to 64 characters";
        return KUNCI_ERR_INVALID;
    }
    int r = spend_challenge(ctx, h, KUNCI_PASSKEY_REGISTER, binding, resp, now, why_r);
    if (r != KUNCI_OK)
        return r;
    /* A passkey (discoverable) signs in without a password: it must verify its user. */
    bool uv = resp->discoverable || kunci_passkey_uv_required(ctx, KUNCI_PASSKEY_REGISTER);
    r = kunci_webauthn_register(ctx->cfg.rp_id, resp->client_data, resp->client_data_len,
                                resp->attestation, resp->attestation_len, uv, pk_r, why_r);
    if (r != KUNCI_OK)
        return r;
    pk_r->account_id = acct->id;
    pk_r->discoverable = resp->discoverable;
    pk_r->created_at = now;
    snprintf(pk_r->transports, sizeof(pk_r->transports), "%s",
             resp->transports != NULL ? resp->transports : "");
    struct kunci_mfa_method m;
    memset(&m, 0, sizeof(m));
    m.account_id = acct->id;
    m.created_at = now;
    snprintf(m.target, sizeof(m.target), "%s", name);
    /* A credential registered already (to anyone) meets the unique constraint: EXISTS. */
    r = kunci_store_passkey_insert(h, &m, pk_r);
    pk_r->method_id = m.id;
    return r;
}

int kunci_passkey_authenticate(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                               enum kunci_passkey_purpose purpose, int64_t account_id,
                               const uint8_t binding[KUNCI_TOKEN_HASH_BYTES],
                               const struct kunci_passkey_response *resp, int64_t now,
                               struct kunci_passkey *pk_r, const char **why_r)
{
    uint32_t count = 0;
    uint8_t flags = 0;

    *why_r = NULL;
    if (resp->credential_id_len == 0 || resp->credential_id_len > KUNCI_CREDENTIAL_ID_MAX) {
        *why_r = "no credential id";
        return KUNCI_ERR_INVALID;
    }
    int r = spend_challenge(ctx, h, purpose, binding, resp, now, why_r);
    if (r != KUNCI_OK)
        return r;
    r = kunci_store_passkey_find(h, resp->credential_id, resp->credential_id_len, pk_r);
    if (r == KUNCI_OK && account_id != 0 && pk_r->account_id != account_id)
        r = KUNCI_ERR_NOT_FOUND; /* another account's: as if unknown */
    if (r != KUNCI_OK)
        return r;
    if (purpose == KUNCI_PASSKEY_PASSWORDLESS) {
        uint8_t handle[KUNCI_USER_HANDLE_BYTES];
        kunci_passkey_user_handle(ctx, pk_r->account_id, handle);
        if (resp->user_handle_len != sizeof(handle) ||
            sodium_memcmp(handle, resp->user_handle, sizeof(handle)) != 0) {
            *why_r = "user handle of another account";
            return KUNCI_ERR_INVALID;
        }
    }
    /* A passkey (a discoverable credential) verifies its user at every use, as at its
     * registration; a security key as [web] webauthn_user_verification says. */
    bool uv = kunci_passkey_uv_required(ctx, purpose) || pk_r->discoverable;
    r = kunci_webauthn_assert(ctx->cfg.rp_id, resp->client_data, resp->client_data_len,
                              resp->auth_data, resp->auth_data_len, resp->signature,
                              resp->signature_len, pk_r, uv, &count, &flags, why_r);
    if (r != KUNCI_OK)
        return r;
    if (!kunci_webauthn_counter_ok(pk_r->sign_count, count)) {
        *why_r = "signature counter went backwards";
        return KUNCI_ERR_COUNTER;
    }
    r = kunci_store_passkey_use(h, pk_r->method_id, count, (flags & KUNCI_AUTHDATA_BS) != 0, now);
    if (r == KUNCI_ERR_COUNTER)
        *why_r = "signature counter went backwards";
    if (r == KUNCI_OK) {
        pk_r->sign_count = count;
        pk_r->last_used_at = now;
    }
    return r;
}
