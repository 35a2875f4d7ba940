#include "core/lockout.h"
#include "core/err.h"

#include <sodium.h>
#include <string.h>

static void login_key(const struct kunci_ctx *ctx, const char *login,
                      uint8_t out[KUNCI_TOKEN_HASH_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, ctx->keys->tokens, KUNCI_SUBKEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"lockout-login:", 14);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)login, strlen(login));
    crypto_auth_hmacsha256_final(&st, out);
}

int kunci_lockout_check(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                        const struct kunci_settings *settings, const char *login, int64_t now,
                        bool *locked_r)
{
    uint8_t key[KUNCI_TOKEN_HASH_BYTES];
    int count = 0;

    *locked_r = false;
    if (settings->lockout_threshold == 0)
        return KUNCI_OK;
    login_key(ctx, login, key);
    int r = h->backend->failure_count(h->store, key, now - (int64_t)settings->lockout_minutes * 60,
                                      &count);
    if (r == KUNCI_OK)
        *locked_r = count >= settings->lockout_threshold;
    return r;
}

int kunci_lockout_fail(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                       const struct kunci_settings *settings, const char *login, const char *secret,
                       size_t secret_len, int64_t now)
{
    uint8_t key[KUNCI_TOKEN_HASH_BYTES], secret_key[KUNCI_TOKEN_HASH_BYTES];
    crypto_auth_hmacsha256_state st;
    int count;

    if (settings->lockout_threshold == 0)
        return KUNCI_OK;
    login_key(ctx, login, key);
    /* Bound to the login, so one password tried on many logins counts on each. */
    crypto_auth_hmacsha256_init(&st, ctx->keys->tokens, KUNCI_SUBKEY_BYTES);
    crypto_auth_hmacsha256_update(&st, key, sizeof(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)secret, secret_len);
    crypto_auth_hmacsha256_final(&st, secret_key);
    int r = h->backend->failure_record(h->store, key, secret_key, now,
                                       now - (int64_t)settings->lockout_minutes * 60, &count);
    sodium_memzero(secret_key, sizeof(secret_key));
    return r;
}

int kunci_lockout_clear(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                        const char *login)
{
    uint8_t key[KUNCI_TOKEN_HASH_BYTES];
    login_key(ctx, login, key);
    return h->backend->failure_clear(h->store, key);
}
