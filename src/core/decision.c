#include "core/decision.h"
#include "core/err.h"
#include "core/guard.h"
#include "core/login.h"
#include "core/netmask.h"
#include "core/protocol.h"
#include "core/secret.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

const char *kunci_auth_result_name(enum kunci_auth_result result)
{
    switch (result) {
    case KUNCI_AUTH_ALLOWED:
        return "allowed";
    case KUNCI_AUTH_WRONG_SECRET:
        return "wrong_secret";
    case KUNCI_AUTH_UNKNOWN_USER:
        return "unknown_user";
    case KUNCI_AUTH_DISABLED:
        return "disabled";
    case KUNCI_AUTH_MFA_REQUIRED:
        return "mfa_required";
    case KUNCI_AUTH_PROTOCOL_NOT_ALLOWED:
        return "protocol_not_allowed";
    case KUNCI_AUTH_EXPIRED:
        return "expired";
    case KUNCI_AUTH_NETWORK_NOT_ALLOWED:
        return "network_not_allowed";
    case KUNCI_AUTH_TEMPFAIL:
        return "temporary_failure";
    case KUNCI_AUTH_LOCKED:
        return "locked";
    case KUNCI_AUTH_THROTTLED:
        return "throttled";
    case KUNCI_AUTH_NEEDS_HASH:
        return "needs_hash";
    }
    return "unknown";
}

static enum kunci_auth_result set_result(struct kunci_auth_outcome *out, enum kunci_auth_result r)
{
    out->result = r;
    return r;
}

/* The letters a lookup's digest is made from, under one key set. */
struct letters {
    const struct kunci_keys *keys;
    const char *s;
    size_t len;
};

static void letters_digest(const struct kunci_app_password_query *q,
                           uint8_t digest_r[KUNCI_DIGEST_BYTES])
{
    const struct letters *l = q->arg;
    kunci_app_password_digest(l->keys, l->s, l->len, digest_r);
}

/* Settles the secret as an app password if it is one of this login's usable ones.
 * Returns KUNCI_AUTH_NEEDS_HASH when it is not, so the primary password is tried. */
static enum kunci_auth_result try_app_password(const struct kunci_ctx *ctx,
                                               struct kunci_store_handle *h,
                                               const struct kunci_auth_request *req,
                                               struct kunci_auth_outcome *out)
{
    char normalised[KUNCI_APP_PASSWORD_MAX_LEN + 1];
    uint8_t cache_key[KUNCI_DIGEST_BYTES];
    const struct kunci_app_password_match *m = NULL;
    struct kunci_ip ip, *ipp = NULL;
    size_t len;
    enum kunci_auth_result r;

    if (kunci_app_password_normalise(req->secret, req->secret_len, normalised, &len) != KUNCI_OK)
        return KUNCI_AUTH_NEEDS_HASH;
    struct letters current = {ctx->keys, normalised, len};
    kunci_app_password_cache_key(ctx->keys, normalised, len, cache_key);
    struct kunci_app_password_query q = {cache_key, letters_digest, &current};
    int rc = kunci_store_app_password_lookup(h, &q, &m);
    if (rc == KUNCI_ERR_NOT_FOUND && ctx->keys->previous != NULL) {
        /* During a key rotation: an app password made under the previous key, moved to the
         * current one at this first use (a failed move only means trying again next time).
         * Not through the cache: its keys are the current key's. */
        struct letters previous = {ctx->keys->previous, normalised, len};
        struct kunci_app_password_query old_q = {NULL, letters_digest, &previous};
        rc = kunci_store_app_password_lookup(h, &old_q, &m);
        if (rc == KUNCI_OK && strcmp(m->account.login, out->login) == 0) {
            uint8_t old[KUNCI_DIGEST_BYTES], digest[KUNCI_DIGEST_BYTES];
            letters_digest(&old_q, old);
            letters_digest(&q, digest);
            kunci_store_best_effort(kunci_store_app_password_rekey(h, m->app_password.id, old,
                                                                   digest, ctx->keys->fingerprint));
            sodium_memzero(old, sizeof(old));
            sodium_memzero(digest, sizeof(digest));
        }
    }
    sodium_memzero(normalised, sizeof(normalised));
    sodium_memzero(cache_key, sizeof(cache_key));
    if (rc == KUNCI_ERR_NOT_FOUND)
        return KUNCI_AUTH_NEEDS_HASH;
    if (rc != KUNCI_OK)
        return KUNCI_AUTH_TEMPFAIL;
    /* Another user's app password, or one this user may not use now, proves nothing for
     * this login: it goes on as a primary password, which it will not match. */
    if (strcmp(m->account.login, out->login) != 0 || m->account.mfa_state == KUNCI_MFA_DISABLED ||
        !m->app_passwords_allowed)
        return KUNCI_AUTH_NEEDS_HASH;

    out->account_id = m->account.id;
    out->app_password_id = m->app_password.id;
    out->account_known = true;
    if (req->client_ip != NULL && req->client_ip[0] != '\0' &&
        kunci_ip_parse(req->client_ip, &ip) == KUNCI_OK)
        ipp = &ip;
    if (!m->account.enabled)
        r = KUNCI_AUTH_DISABLED;
    else if (m->app_password.expires_at != 0 && req->now >= m->app_password.expires_at)
        r = KUNCI_AUTH_EXPIRED;
    else if (m->app_password.protocols != 0 && (m->app_password.protocols & req->protocol) == 0)
        r = KUNCI_AUTH_PROTOCOL_NOT_ALLOWED;
    else if (!kunci_networks_allow(m->app_password.networks, ipp))
        r = KUNCI_AUTH_NETWORK_NOT_ALLOWED;
    else
        r = KUNCI_AUTH_ALLOWED;
    if (r == KUNCI_AUTH_ALLOWED) {
        /* Last use is informational: a failed write must not turn away a valid login. The
         * statement itself skips the write within the interval, so most checks write
         * nothing. */
        if (req->now - m->app_password.last_used_at >= KUNCI_LAST_USE_INTERVAL ||
            m->app_password.last_used_at > req->now)
            kunci_store_best_effort(kunci_store_app_password_touch(
                h, m->app_password.id, req->now, KUNCI_LAST_USE_INTERVAL, ipp ? req->client_ip : "",
                kunci_protocol_name(req->protocol)));
    }
    return r;
}

static enum kunci_auth_result guard_result(const struct kunci_guard_result *g,
                                           struct kunci_auth_outcome *out)
{
    out->retry_after = g->retry_after;
    return set_result(out,
                      g->verdict == KUNCI_GUARD_LOCKED ? KUNCI_AUTH_LOCKED : KUNCI_AUTH_THROTTLED);
}

static const char *client_ip(const struct kunci_auth_request *req)
{
    return req->client_ip != NULL ? req->client_ip : "";
}

enum kunci_auth_result kunci_auth_fast(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                                       const struct kunci_auth_request *req,
                                       struct kunci_auth_outcome *out)
{
    struct kunci_account acct;
    struct kunci_guard_result g;
    enum kunci_auth_result r;

    memset(out, 0, sizeof(*out));
    out->result = KUNCI_AUTH_TEMPFAIL; /* deny until decided */
    if (kunci_login_canonical(req->login, req->login_len, out->login) != KUNCI_OK)
        out->login[0] = '\0'; /* malformed: hashed against the dummy, counted by address */
    if (out->login[0] != '\0' && !req->primary_only) {
        r = try_app_password(ctx, h, req, out);
        if (r != KUNCI_AUTH_NEEDS_HASH)
            return set_result(out, r);
        out->account_id = 0;
        out->app_password_id = 0;
        out->account_known = false;
    }
    /* A locked login or a slowed address costs nothing to refuse: no hash is queued. */
    if (kunci_settings_load(h, &out->settings) != KUNCI_OK ||
        kunci_guard_password_peek(ctx, h, &out->settings, out->login, client_ip(req), req->now,
                                  &g) != KUNCI_OK)
        return set_result(out, KUNCI_AUTH_TEMPFAIL);
    if (g.verdict != KUNCI_GUARD_GO)
        return guard_result(&g, out);
    if (out->login[0] != '\0') {
        int rc = kunci_store_account_by_login(h, out->login, &acct);
        if (rc == KUNCI_OK) {
            out->account_known = true;
            out->account_id = acct.id;
            out->account_enabled = acct.enabled;
            out->mfa_state = acct.mfa_state;
            memcpy(out->password_hash, acct.password_hash, sizeof(out->password_hash));
            sodium_memzero(&acct, sizeof(acct));
        } else if (rc != KUNCI_ERR_NOT_FOUND) {
            return set_result(out, KUNCI_AUTH_TEMPFAIL);
        }
    }
    if (!out->account_known)
        snprintf(out->password_hash, sizeof(out->password_hash), "%s", kunci_ctx_dummy_hash(ctx));
    return set_result(out, KUNCI_AUTH_NEEDS_HASH);
}

/* A mail app on a trusted network may use the account password while the user has no app
 * password yet (the seed's system's "trusted IPs" for legacy apps). Anything unreadable
 * answers no. */
static bool trusted_without_app_passwords(struct kunci_store_handle *h,
                                          const struct kunci_auth_request *req,
                                          const struct kunci_auth_outcome *out)
{
    char trusted[KUNCI_SETTING_VALUE_MAX];
    int count = 1;
    return kunci_trusted_networks_load(h, trusted) == KUNCI_OK &&
           kunci_network_trusted(trusted, client_ip(req)) &&
           kunci_store_app_password_count(h, out->account_id, &count) == KUNCI_OK && count == 0;
}

enum kunci_auth_result kunci_auth_slow(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                                       const struct kunci_auth_request *req,
                                       struct kunci_auth_outcome *out)
{
    char new_hash[KUNCI_HASH_MAX];
    struct kunci_guard_result g;

    if (out->result != KUNCI_AUTH_NEEDS_HASH)
        return out->result;
    /* Counted before it is hashed, in one transaction with the decision to hash it: guesses
     * sent at once cannot outrun the lockout. A guard that cannot count refuses. */
    if (kunci_guard_password_begin(ctx, h, &out->settings, out->login, req->secret, req->secret_len,
                                   client_ip(req), req->now, &g) != KUNCI_OK)
        return set_result(out, KUNCI_AUTH_TEMPFAIL);
    if (g.verdict != KUNCI_GUARD_GO)
        return guard_result(&g, out);
    out->address_level = g.address_level;
    bool match = kunci_password_verify(out->password_hash, req->secret, req->secret_len);
    if (!out->account_known)
        return set_result(out, KUNCI_AUTH_UNKNOWN_USER);
    if (!match)
        return set_result(out, KUNCI_AUTH_WRONG_SECRET);
    /* Best effort: the attempt stays counted if this fails, which errs on the safe side. */
    (void)kunci_guard_password_success(ctx, h, out->login, client_ip(req), req->now);
    /* The account's state is only told to someone who knows its password. */
    if (!out->account_enabled)
        return set_result(out, KUNCI_AUTH_DISABLED);
    if (out->mfa_state == KUNCI_MFA_ENFORCED && !req->primary_only &&
        !trusted_without_app_passwords(h, req, out))
        return set_result(out, KUNCI_AUTH_MFA_REQUIRED);
    if (kunci_password_needs_rehash(out->password_hash, &ctx->pwparams) &&
        kunci_password_hash(&ctx->pwparams, req->secret, req->secret_len, new_hash) == KUNCI_OK)
        kunci_store_best_effort(
            kunci_store_account_rehash(h, out->account_id, out->password_hash, new_hash));
    /* A mail client on the account password: what "enforced" would cut off (readiness).
     * Informational, like last use: a failed write changes no answer. */
    if (!req->primary_only)
        kunci_store_best_effort(kunci_store_legacy_client_seen(
            h, out->account_id, kunci_protocol_name(req->protocol), client_ip(req), req->now));
    return set_result(out, KUNCI_AUTH_ALLOWED);
}

enum kunci_auth_result kunci_auth_check(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                                        const struct kunci_auth_request *req,
                                        struct kunci_auth_outcome *out)
{
    if (kunci_auth_fast(ctx, h, req, out) == KUNCI_AUTH_NEEDS_HASH)
        return kunci_auth_slow(ctx, h, req, out);
    return out->result;
}
