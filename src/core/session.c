#include "core/session.h"
#include "core/settings.h"
#include "core/err.h"
#include "core/mfa.h"

#include <sodium.h>
#include <string.h>

/* last_seen_at is written at most this often, not on every request. */
#define TOUCH_INTERVAL 60

void kunci_random_token(char out[KUNCI_TOKEN_MAX])
{
    uint8_t raw[32];

    randombytes_buf(raw, sizeof(raw));
    sodium_bin2base64(out, KUNCI_TOKEN_MAX, raw, sizeof(raw),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof(raw));
}

void kunci_token_hash(const struct kunci_ctx *ctx, const char *token,
                      uint8_t hash_r[KUNCI_TOKEN_HASH_BYTES])
{
    crypto_auth_hmacsha256(hash_r, (const unsigned char *)token, strlen(token), ctx->keys->tokens);
}

bool kunci_token_equal(const char *a, const char *b)
{
    uint8_t ha[32], hb[32];

    /* Hash first: equal lengths for sodium_memcmp whatever the inputs. */
    crypto_generichash(ha, sizeof(ha), (const unsigned char *)a, strlen(a), NULL, 0);
    crypto_generichash(hb, sizeof(hb), (const unsigned char *)b, strlen(b), NULL, 0);
    return sodium_memcmp(ha, hb, sizeof(ha)) == 0;
}

int kunci_session_start(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                        int64_t account_id, enum kunci_session_stage stage, int64_t now,
                        char token_r[KUNCI_TOKEN_MAX], struct kunci_session *sess_r)
{
    struct kunci_session s;

    memset(&s, 0, sizeof(s));
    kunci_random_token(token_r);
    kunci_random_token(s.csrf);
    kunci_token_hash(ctx, token_r, s.token_hash);
    s.account_id = account_id;
    s.stage = stage;
    s.created_at = s.last_seen_at = s.password_at = now;
    int r = kunci_store_session_insert(h, &s);
    if (r != KUNCI_OK) {
        sodium_memzero(token_r, KUNCI_TOKEN_MAX);
        return r;
    }
    *sess_r = s;
    return KUNCI_OK;
}

int kunci_session_purge(struct kunci_store_handle *h, const struct kunci_session_policy *policy,
                        int64_t now)
{
    return kunci_store_purge_expired(h, now - policy->idle_seconds, now - policy->max_seconds, now);
}

int kunci_session_resolve(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                          const char *token, int64_t now, const struct kunci_session_policy *policy,
                          struct kunci_session *sess_r)
{
    uint8_t hash[KUNCI_TOKEN_HASH_BYTES];

    if (strlen(token) >= KUNCI_TOKEN_MAX)
        return KUNCI_ERR_NOT_FOUND;
    kunci_token_hash(ctx, token, hash);
    int r = kunci_store_session_lookup(h, hash, sess_r);
    if (r != KUNCI_OK)
        return r;
    if (now - sess_r->last_seen_at > policy->idle_seconds ||
        now - sess_r->created_at > policy->max_seconds) {
        kunci_store_best_effort(kunci_store_session_delete(h, sess_r->id));
        return KUNCI_ERR_NOT_FOUND;
    }
    if (now - sess_r->last_seen_at >= TOUCH_INTERVAL) {
        sess_r->last_seen_at = now;
        kunci_store_best_effort(kunci_store_session_update(h, sess_r));
    }
    return KUNCI_OK;
}

int kunci_device_remember(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                          int64_t account_id, int64_t now, int days, char token_r[KUNCI_TOKEN_MAX])
{
    uint8_t hash[KUNCI_TOKEN_HASH_BYTES];

    kunci_random_token(token_r);
    kunci_token_hash(ctx, token_r, hash);
    return kunci_store_device_insert(h, account_id, hash, now, now + (int64_t)days * 86400);
}

bool kunci_device_trusted(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                          int64_t account_id, const char *token, int64_t now)
{
    uint8_t hash[KUNCI_TOKEN_HASH_BYTES];

    if (token == NULL || token[0] == '\0' || strlen(token) >= KUNCI_TOKEN_MAX)
        return false;
    kunci_token_hash(ctx, token, hash);
    return kunci_store_device_valid(h, account_id, hash, now) == KUNCI_OK;
}

int kunci_session_rotate(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                         const struct kunci_session *old, int64_t account_id,
                         enum kunci_session_stage stage, int64_t now, char token_r[KUNCI_TOKEN_MAX],
                         struct kunci_session *sess_r)
{
    struct kunci_session fresh;

    int r = kunci_session_start(ctx, h, account_id, stage, now, token_r, &fresh);
    if (r != KUNCI_OK || old == NULL) {
        if (r == KUNCI_OK)
            *sess_r = fresh;
        return r;
    }
    fresh.password_at = old->password_at;
    fresh.mfa_at = old->mfa_at;
    r = kunci_store_session_update(h, &fresh);
    if (r == KUNCI_OK)
        r = kunci_store_session_delete(h, old->id);
    if (r != KUNCI_OK) {
        /* The old session stays as it was; the new one must not outlive the failure. */
        kunci_store_best_effort(kunci_store_session_delete(h, fresh.id));
        sodium_memzero(token_r, KUNCI_TOKEN_MAX);
        return r;
    }
    *sess_r = fresh;
    return KUNCI_OK;
}

enum kunci_next_step kunci_session_next(struct kunci_store_handle *h,
                                        const struct kunci_account *acct,
                                        const struct kunci_session *sess)
{
    int count = 1;

    if (sess->stage == KUNCI_SESSION_FULL)
        return KUNCI_NEXT_DONE;
    if (acct->must_change_password)
        return KUNCI_NEXT_CHANGE_PASSWORD;
    if (kunci_mfa_verified_count(h, acct->id, &count, NULL) != KUNCI_OK)
        count = 1;
    if (count > 0 && sess->mfa_at == 0)
        return KUNCI_NEXT_SECOND_FACTOR;
    if (acct->mfa_state != KUNCI_MFA_DISABLED)
        return KUNCI_NEXT_SETUP;
    return count > 0 ? KUNCI_NEXT_SECOND_FACTOR : KUNCI_NEXT_DONE;
}

const char *kunci_next_step_name(enum kunci_next_step step)
{
    switch (step) {
    case KUNCI_NEXT_DONE:
        return "done";
    case KUNCI_NEXT_CHANGE_PASSWORD:
        return "change_password";
    case KUNCI_NEXT_SECOND_FACTOR:
        return "second_factor";
    case KUNCI_NEXT_SETUP:
        return "setup";
    }
    return "second_factor";
}

void kunci_session_policy_from(const struct kunci_config *cfg,
                               struct kunci_session_policy *policy_r)
{
    policy_r->idle_seconds = (int64_t)cfg->session_idle_minutes * 60;
    policy_r->max_seconds = (int64_t)cfg->session_max_hours * 3600;
}

int kunci_setup_grace(struct kunci_store_handle *h, const struct kunci_account *acct, int64_t now,
                      bool defer, bool *allowed_r, int64_t *until_r)
{
    struct kunci_settings s;
    int64_t first = 0;

    *allowed_r = false;
    *until_r = 0;
    if (acct->mfa_state != KUNCI_MFA_ENABLED)
        return KUNCI_OK;
    int r = kunci_settings_load(h, &s);
    if (r != KUNCI_OK || s.mfa_setup_grace_days == 0)
        return r;
    r = kunci_store_account_setup_deferred(h, acct->id, false, now, &first);
    if (r != KUNCI_OK)
        return r;
    *until_r = (first != 0 ? first : now) + (int64_t)s.mfa_setup_grace_days * 86400;
    *allowed_r = now < *until_r;
    if (defer && *allowed_r && first == 0)
        r = kunci_store_account_setup_deferred(h, acct->id, true, now, &first);
    return r;
}
