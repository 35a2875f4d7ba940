#include "core/guard.h"
#include "core/err.h"
#include "core/events.h"
#include "core/login.h"
#include "core/netmask.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define SCOPE_PASSWORD "password"
#define SCOPE_CODE     "code"
#define SCOPE_ADDRESS  "address"

/* How long a sign-in from an address exempts it from being slowed for that login. */
#define ADDRESS_KNOWN_SECONDS (7 * 86400)

#define LOGIN_KEY_HEX (2 * KUNCI_TOKEN_HASH_BYTES + 1)

int64_t kunci_lock_until(int failures, int threshold, int64_t base_seconds, int hard_limit,
                         int64_t now, int64_t current)
{
    if (hard_limit > 0 && failures >= hard_limit)
        return KUNCI_LOCKED_UNTIL_CLEARED;
    if (threshold <= 0 || failures <= 0 || failures % threshold != 0)
        return current;
    int64_t seconds = base_seconds;
    for (int locks = failures / threshold; locks > 1 && seconds < KUNCI_LOCK_MAX_SECONDS; locks--)
        seconds *= 2;
    return now + (seconds < KUNCI_LOCK_MAX_SECONDS ? seconds : KUNCI_LOCK_MAX_SECONDS);
}

int kunci_address_level(int level, int64_t elapsed, int threshold, int64_t period_seconds)
{
    if (elapsed <= 0 || period_seconds <= 0)
        return level;
    int64_t forgiven = elapsed * threshold / period_seconds;
    return forgiven >= level ? 0 : level - (int)forgiven;
}

/* The block an address gets at `level` failures: none below the threshold; then as long as
 * the level takes to decay below it again (period / threshold per failure over), at most
 * a period. */
static int64_t address_wait(int level, int threshold, int64_t period_seconds)
{
    if (level < threshold)
        return 0;
    int64_t wait = (int64_t)(level - threshold + 1) * period_seconds / threshold;
    return wait < 1 ? 1 : wait < period_seconds ? wait : period_seconds;
}

int kunci_address_key(const char *ip, char *out, size_t size)
{
    struct kunci_ip a;
    char text[INET6_ADDRSTRLEN];

    /* A local client of the socket without an address of its own: its user ("uid:1000"). */
    if (ip != NULL && strncmp(ip, "uid:", 4) == 0 && ip[4] != '\0' &&
        strspn(ip + 4, "0123456789") == strlen(ip + 4) && strlen(ip) < size) {
        memcpy(out, ip, strlen(ip) + 1);
        return KUNCI_OK;
    }
    if (ip == NULL || ip[0] == '\0' || kunci_ip_parse(ip, &a) != KUNCI_OK)
        return KUNCI_ERR_INVALID;
    if (a.family == AF_INET) {
        if (inet_ntop(AF_INET, a.addr, text, sizeof(text)) == NULL)
            return KUNCI_ERR_INVALID;
        snprintf(out, size, "%s", text);
        return KUNCI_OK;
    }
    /* One IPv6 subscriber usually holds a whole /64. */
    memset(a.addr + 8, 0, 8);
    if (inet_ntop(AF_INET6, a.addr, text, sizeof(text)) == NULL)
        return KUNCI_ERR_INVALID;
    int n = snprintf(out, size, "%s/64", text);
    return n > 0 && (size_t)n < size ? KUNCI_OK : KUNCI_ERR_TOO_LONG;
}

static void login_key(const struct kunci_ctx *ctx, const char *login, char out[LOGIN_KEY_HEX])
{
    uint8_t key[KUNCI_TOKEN_HASH_BYTES];
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, ctx->keys->tokens, KUNCI_SUBKEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"lockout-login:", 14);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)login, strlen(login));
    crypto_auth_hmacsha256_final(&st, key);
    sodium_bin2hex(out, LOGIN_KEY_HEX, key, sizeof(key));
}

/* Bound to the login, so one password tried on many logins counts on each. */
static void secret_key(const struct kunci_ctx *ctx, const char *key, const char *secret,
                       size_t secret_len, uint8_t out[KUNCI_DIGEST_BYTES])
{
    crypto_auth_hmacsha256_state st;

    crypto_auth_hmacsha256_init(&st, ctx->keys->tokens, KUNCI_SUBKEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)"lockout-secret:", 15);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)key, strlen(key));
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)secret, secret_len);
    crypto_auth_hmacsha256_final(&st, out);
}

static bool locked_now(const struct kunci_lockout *row, int64_t now)
{
    return row->locked_until == KUNCI_LOCKED_UNTIL_CLEARED || now < row->locked_until;
}

static void set_locked(struct kunci_guard_result *r, const struct kunci_lockout *row, int64_t now)
{
    r->verdict = KUNCI_GUARD_LOCKED;
    r->retry_after = row->locked_until == KUNCI_LOCKED_UNTIL_CLEARED ? 0 : row->locked_until - now;
}

static bool address_guarded(const struct kunci_settings *s, const char *ip, char *akey)
{
    return s->address_threshold > 0 &&
           kunci_address_key(ip, akey, KUNCI_ADDRESS_KEY_MAX) == KUNCI_OK;
}

/* Throttled unless the login signed in from here lately (an office behind one NAT). */
static int address_verdict(struct kunci_store_handle *h, const struct kunci_lockout *row,
                           const char *akey, const char *ip, const char *key, const char *login,
                           int64_t now, struct kunci_guard_result *r)
{
    bool known = false;

    if (now >= row->locked_until)
        return KUNCI_OK;
    if (login[0] != '\0') {
        int rc =
            kunci_store_address_known(h, akey, ip, key, login, now - ADDRESS_KNOWN_SECONDS, &known);
        if (rc != KUNCI_OK)
            return rc;
    }
    if (!known) {
        r->verdict = KUNCI_GUARD_THROTTLED;
        r->retry_after = row->locked_until - now;
    }
    return KUNCI_OK;
}

int kunci_guard_password_peek(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                              const struct kunci_settings *settings, const char *login,
                              const char *client_ip, int64_t now, struct kunci_guard_result *r)
{
    char key[LOGIN_KEY_HEX] = "", akey[KUNCI_ADDRESS_KEY_MAX];
    struct kunci_lockout row;
    int rc;

    r->verdict = KUNCI_GUARD_GO;
    r->retry_after = 0;
    if (login[0] != '\0')
        login_key(ctx, login, key);
    if (login[0] != '\0' && settings->lockout_threshold > 0) {
        rc = kunci_store_lockout_get(h, SCOPE_PASSWORD, key, &row);
        if (rc == KUNCI_OK && locked_now(&row, now)) {
            set_locked(r, &row, now);
            return KUNCI_OK;
        }
        if (rc != KUNCI_OK && rc != KUNCI_ERR_NOT_FOUND)
            return rc;
    }
    if (!address_guarded(settings, client_ip, akey))
        return KUNCI_OK;
    rc = kunci_store_lockout_get(h, SCOPE_ADDRESS, akey, &row);
    if (rc == KUNCI_ERR_NOT_FOUND)
        return KUNCI_OK;
    return rc != KUNCI_OK ? rc : address_verdict(h, &row, akey, client_ip, key, login, now, r);
}

/* One more failure of an address, with its decay since the last. */
static int count_address(struct kunci_store_handle *h, const struct kunci_settings *s,
                         struct kunci_lockout *row, int64_t now, struct kunci_guard_result *r)
{
    int64_t period = (int64_t)s->address_minutes * 60;
    row->failures =
        kunci_address_level(row->failures, now - row->last_at, s->address_threshold, period) + 1;
    row->last_at = now;
    int64_t wait = address_wait(row->failures, s->address_threshold, period);
    row->locked_until = wait > 0 ? now + wait : 0;
    r->address_level = row->failures;
    return kunci_store_lockout_save(h, row);
}

static int password_begin(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                          const struct kunci_settings *s, const char *login, const char *secret,
                          size_t secret_len, const char *ip, int64_t now,
                          struct kunci_guard_result *r)
{
    char key[LOGIN_KEY_HEX] = "", akey[KUNCI_ADDRESS_KEY_MAX];
    uint8_t skey[KUNCI_DIGEST_BYTES];
    struct kunci_lockout arow = {.failures = 0}, lrow = {.failures = 0};
    bool by_address = address_guarded(s, ip, akey), by_login = s->lockout_threshold > 0;
    bool repeat = false;
    int rc = KUNCI_OK;

    if (login[0] != '\0')
        login_key(ctx, login, key);
    if (by_address) {
        rc = kunci_store_lockout_hold(h, SCOPE_ADDRESS, akey, akey, now, &arow);
        if (rc == KUNCI_OK)
            rc = address_verdict(h, &arow, akey, ip, key, login, now, r);
        if (rc != KUNCI_OK || r->verdict != KUNCI_GUARD_GO)
            return rc;
    }
    if (login[0] != '\0' && by_login) {
        rc = kunci_store_lockout_hold(h, SCOPE_PASSWORD, key, login, now, &lrow);
        if (rc != KUNCI_OK)
            return rc;
        if (locked_now(&lrow, now)) {
            set_locked(r, &lrow, now);
            return KUNCI_OK;
        }
    }
    if (login[0] != '\0' && (by_login || by_address)) {
        secret_key(ctx, key, secret, secret_len, skey);
        rc = kunci_store_secret_seen(h, key, skey, now, &repeat);
        sodium_memzero(skey, sizeof(skey));
        if (rc != KUNCI_OK || repeat) { /* a stale password retried: counted once already */
            r->address_level = arow.failures;
            return rc;
        }
    }
    if (login[0] != '\0' && by_login) {
        lrow.failures++;
        lrow.last_at = now;
        lrow.locked_until =
            kunci_lock_until(lrow.failures, s->lockout_threshold, (int64_t)s->lockout_minutes * 60,
                             s->lockout_hard_limit, now, lrow.locked_until);
        if ((rc = kunci_store_lockout_save(h, &lrow)) != KUNCI_OK)
            return rc;
        /* It was open a moment ago (see above): this guess locked it. The owner is told. */
        if (locked_now(&lrow, now)) {
            struct kunci_event ev;
            kunci_event_init(&ev, "account_locked", now);
            KUNCI_EVENT_SET(&ev, subject, login);
            KUNCI_EVENT_SET(&ev, client_ip, ip);
            KUNCI_EVENT_SET(&ev, reason,
                            lrow.locked_until == KUNCI_LOCKED_UNTIL_CLEARED ? "until_cleared"
                                                                            : "for_a_while");
            kunci_event_emit(&ev);
        }
    }
    return by_address ? count_address(h, s, &arow, now, r) : KUNCI_OK;
}

int kunci_guard_password_begin(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                               const struct kunci_settings *settings, const char *login,
                               const char *secret, size_t secret_len, const char *client_ip,
                               int64_t now, struct kunci_guard_result *r)
{
    r->verdict = KUNCI_GUARD_GO;
    r->retry_after = 0;
    r->address_level = 0;
    int rc = kunci_store_begin(h);
    if (rc != KUNCI_OK)
        return rc;
    rc = password_begin(ctx, h, settings, login, secret, secret_len, client_ip, now, r);
    return kunci_store_finish(h, rc);
}

int kunci_guard_password_success(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                                 const char *login, const char *client_ip, int64_t now)
{
    char key[LOGIN_KEY_HEX], akey[KUNCI_ADDRESS_KEY_MAX];
    struct kunci_lockout row;

    login_key(ctx, login, key);
    int rc = kunci_store_begin(h);
    if (rc != KUNCI_OK)
        return rc;
    rc = kunci_store_secrets_forget(h, key);
    if (rc == KUNCI_OK)
        rc = kunci_store_lockout_delete(h, SCOPE_PASSWORD, key);
    if (rc == KUNCI_OK && kunci_address_key(client_ip, akey, sizeof(akey)) == KUNCI_OK) {
        /* The attempt was counted in advance: give it back. */
        rc = kunci_store_lockout_get(h, SCOPE_ADDRESS, akey, &row);
        if (rc == KUNCI_OK && row.failures > 0) {
            row.failures--;
            rc = kunci_store_lockout_save(h, &row);
        } else if (rc == KUNCI_ERR_NOT_FOUND) {
            rc = KUNCI_OK;
        }
        if (rc == KUNCI_OK)
            rc = kunci_store_address_success(h, akey, key, now);
    }
    return kunci_store_finish(h, rc);
}

int kunci_guard_code_begin(struct kunci_store_handle *h, const struct kunci_settings *s,
                           int64_t account_id, const char *login, int64_t now,
                           struct kunci_guard_result *r)
{
    char subject[24];
    struct kunci_lockout row;

    r->verdict = KUNCI_GUARD_GO;
    r->retry_after = 0;
    snprintf(subject, sizeof(subject), "%lld", (long long)account_id);
    int rc = kunci_store_begin(h);
    if (rc != KUNCI_OK)
        return rc;
    rc = kunci_store_lockout_hold(h, SCOPE_CODE, subject, login, now, &row);
    if (rc == KUNCI_OK && locked_now(&row, now)) {
        set_locked(r, &row, now);
    } else if (rc == KUNCI_OK) {
        row.failures++;
        row.last_at = now;
        row.locked_until = kunci_lock_until(row.failures, s->mfa_lockout_threshold,
                                            (int64_t)s->mfa_lockout_minutes * 60,
                                            s->lockout_hard_limit, now, row.locked_until);
        rc = kunci_store_lockout_save(h, &row);
    }
    return kunci_store_finish(h, rc);
}

int kunci_guard_code_success(struct kunci_store_handle *h, int64_t account_id)
{
    char subject[24];
    snprintf(subject, sizeof(subject), "%lld", (long long)account_id);
    return kunci_store_lockout_delete(h, SCOPE_CODE, subject);
}

int kunci_guard_clear(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                      const char *login_or_address, int *count_r)
{
    char akey[KUNCI_ADDRESS_KEY_MAX], login[KUNCI_LOGIN_MAX + 1], key[LOGIN_KEY_HEX];

    *count_r = 0;
    if (strchr(login_or_address, '/') != NULL) /* an IPv6 /64 as listed */
        return kunci_store_lockout_clear_label(h, login_or_address, count_r);
    if (kunci_address_key(login_or_address, akey, sizeof(akey)) == KUNCI_OK)
        return kunci_store_lockout_clear_label(h, akey, count_r);
    if (kunci_login_canonical(login_or_address, strlen(login_or_address), login) != KUNCI_OK)
        return KUNCI_ERR_INVALID;
    login_key(ctx, login, key);
    int rc = kunci_store_begin(h);
    if (rc != KUNCI_OK)
        return rc;
    rc = kunci_store_lockout_clear_label(h, login, count_r);
    if (rc == KUNCI_OK)
        rc = kunci_store_secrets_forget(h, key);
    return kunci_store_finish(h, rc);
}
