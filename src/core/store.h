/* The storage the core needs, as the core defines it: a table of operations (as Dovecot's
 * auth core defines passdb_module_interface and OpenSMTPD's smtpd.h struct table_backend).
 * src/store/ implements it, once, over a driver per database; the core never sees SQL.
 *
 * A handle is used by one thread at a time; servers open one per thread.
 *
 * Every operation returns KUNCI_OK or a negative KUNCI_ERR_*. KUNCI_ERR_TEMPFAIL means the
 * database could not be reached or was busy: callers answer "try again later", never
 * "wrong password" and never "OK". KUNCI_ERR_STORE_ACCESS and KUNCI_ERR_STORE_INVALID are
 * what waiting will not fix. Every change runs in one transaction. */
#ifndef KUNCI_CORE_STORE_H
#define KUNCI_CORE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/types.h"
#include "core/events.h"

/* A result that must be looked at: a write that failed is never reported as done. */
#define KUNCI_MUST_CHECK __attribute__((warn_unused_result))

struct kunci_store;

typedef int (*kunci_account_cb)(void *arg, const struct kunci_account *acct);
typedef int (*kunci_app_password_cb)(void *arg, const struct kunci_app_password *ap);
typedef int (*kunci_setting_cb)(void *arg, const char *key, const char *value);
/* A sealed second-factor secret (core/keys.h, kunci_seal). */
typedef int (*kunci_sealed_cb)(void *arg, int64_t method_id, const uint8_t *sealed, size_t len);
typedef int (*kunci_method_cb)(void *arg, const struct kunci_mfa_method *method);
typedef int (*kunci_passkey_cb)(void *arg, const struct kunci_passkey *pk);

/* account_update flags */
#define KUNCI_UPDATE_REVOKE_APP_PASSWORDS 1u
#define KUNCI_UPDATE_END_SESSIONS         2u  /* sign out (all but one) and forget devices */
#define KUNCI_UPDATE_RESET_METHODS        4u  /* delete every method: register again */
#define KUNCI_UPDATE_SIGN_OUT             8u  /* end its sessions (all but one) */
#define KUNCI_UPDATE_FORGET_DEVICES       16u /* the second factor again on every browser */

/* A row of the administrators' users list. */
struct kunci_account_summary {
    struct kunci_account account; /* without its password hash */
    int methods;                  /* verified */
    int app_passwords;
    int64_t last_sign_in_at; /* on the web; 0: never */
    int legacy_clients;      /* mail clients seen using the account password lately */
};
typedef int (*kunci_account_summary_cb)(void *arg, const struct kunci_account_summary *s);

/* A mail client that signed in with the account password. */
struct kunci_legacy_client {
    char protocol[16];
    char client_ip[KUNCI_IP_MAX + 1];
    int64_t first_at, last_at;
    int count; /* sign-ins recorded (at most one a minute) */
};
typedef int (*kunci_legacy_client_cb)(void *arg, const struct kunci_legacy_client *c);

/* What the legacy-login decision needs about one app password, in one round trip. */
struct kunci_app_password_match {
    bool app_passwords_allowed; /* the organization setting, read in the same query */
    struct kunci_app_password app_password;
    struct kunci_account account;
};

/* What an app password is looked up by. The database knows it by its digest (HMAC-SHA256
 * under the pepper), made by `digest` only when the database is asked; a request thread's
 * cache knows it by cache_key (kunci_app_password_cache_key, cheaper), so a hit needs no
 * digest. cache_key NULL: the cache is neither read nor filled. */
struct kunci_app_password_query {
    const uint8_t *cache_key;
    void (*digest)(const struct kunci_app_password_query *q, uint8_t digest_r[KUNCI_DIGEST_BYTES]);
    const void *arg;
};

/* Consecutive failures of one subject: a login's password (scope "password", subject the
 * login's key), an account's second factor ("code", the account id) or a client address
 * ("address"). The label is what an administrator sees: the login or the address. */
#define KUNCI_SUBJECT_MAX          96
#define KUNCI_LOCKED_UNTIL_CLEARED (-1) /* locked_until: until an administrator clears it */
struct kunci_lockout {
    char scope[12];
    char subject[KUNCI_SUBJECT_MAX + 1];
    char label[KUNCI_LOGIN_MAX + 1];
    int failures;
    int64_t locked_until; /* 0 or in the past: not locked */
    int64_t last_at;
};
typedef int (*kunci_lockout_cb)(void *arg, const struct kunci_lockout *row);

/* One-time codes sent, for the limits per account and per destination (a keyed hash). */
struct kunci_code_sends {
    int account_recent, account_day;         /* this account's codes */
    int destination_recent, destination_day; /* this destination's, from any account */
    int64_t destination_last;                /* the last code to this destination, or 0 */
    int registering_destinations;            /* distinct new destinations this day */
    bool destination_registering;            /* ... this one among them */
};

/* A request the client may send again (core/once.h): claimed by its first arrival, then
 * holding its answer, sealed under the server key. */
#define KUNCI_ONCE_KEY_MAX      64
#define KUNCI_ONCE_DIGEST_BYTES 32
#define KUNCI_ONCE_SEALED_MAX   (16 * 1024)
struct kunci_once_row {
    uint8_t fingerprint[KUNCI_ONCE_DIGEST_BYTES]; /* what was asked: method, path, body */
    int status;                                   /* 0 while the first is still running */
    uint8_t *sealed;                              /* the answer (status > 0), malloc'd */
    size_t sealed_len;
    int64_t created_at;
};

struct kunci_store_backend {
    const char *name;

    void (*close)(struct kunci_store *store);
    /* How often app_password_lookup was answered from the handle's cache, and not. */
    void (*cache_counts)(struct kunci_store *store, uint64_t *hits_r, uint64_t *misses_r);
    /* Brings the schema to the newest version; KUNCI_ERR_SCHEMA if it is newer still. */
    int (*migrate)(struct kunci_store *store, int *version_r);
    int (*begin)(struct kunci_store *store);
    /* Commits when r is KUNCI_OK, else rolls back; returns r or the commit's failure. */
    int (*finish)(struct kunci_store *store, int r);

    int (*account_by_login)(struct kunci_store *store, const char *login,
                            struct kunci_account *acct_r);
    int (*account_by_id)(struct kunci_store *store, int64_t id, struct kunci_account *acct_r);
    int (*account_insert)(struct kunci_store *store, struct kunci_account *acct);
    /* Writes every mutable field. With KUNCI_UPDATE_REVOKE_APP_PASSWORDS the account's app
     * passwords are deleted, with KUNCI_UPDATE_END_SESSIONS its sessions (all but
     * keep_session_id) and remembered devices, in the same transaction. */
    int (*account_update)(struct kunci_store *store, const struct kunci_account *acct,
                          unsigned flags, int64_t keep_session_id);
    /* Replaces the hash only if it is still old_hash (a rehash racing a password change
     * must lose). */
    int (*account_rehash)(struct kunci_store *store, int64_t account_id, const char *old_hash,
                          const char *new_hash);
    int (*account_delete)(struct kunci_store *store, int64_t account_id);
    int (*account_list)(struct kunci_store *store, kunci_account_cb cb, void *arg);
    /* A page of users in login order: those whose login or display name starts with prefix
     * (lowercase; "" for all), after after_login; legacy_since bounds legacy_clients. */
    int (*account_search)(struct kunci_store *store, const char *prefix, const char *after_login,
                          int limit, int64_t legacy_since, kunci_account_summary_cb cb, void *arg);
    int (*account_signed_in)(struct kunci_store *store, int64_t account_id, int64_t now);
    /* When the account first put set-up off (0: never); with defer, that is now unless it
     * did before. */
    int (*account_setup_deferred)(struct kunci_store *store, int64_t account_id, bool defer,
                                  int64_t now, int64_t *at_r);
    int (*legacy_client_seen)(struct kunci_store *store, int64_t account_id, const char *protocol,
                              const char *client_ip, int64_t now);
    int (*legacy_client_list)(struct kunci_store *store, int64_t account_id, int64_t since,
                              kunci_legacy_client_cb cb, void *arg);

    /* Inserts unless the account already has max_per_account (KUNCI_ERR_LIMIT). */
    int (*app_password_insert)(struct kunci_store *store, struct kunci_app_password *ap,
                               int max_per_account);
    /* The app password with q's digest, its account (without the password hash) and the
     * organization's app_passwords_allowed, as committed now. *match_r points into the
     * store's own memory (a cached row is not copied: its 1,320 bytes were 2% of the auth
     * path), readable until the handle's next app_password_lookup. */
    int (*app_password_lookup)(struct kunci_store *store, const struct kunci_app_password_query *q,
                               const struct kunci_app_password_match **match_r);
    int (*app_password_list)(struct kunci_store *store, int64_t account_id,
                             kunci_app_password_cb cb, void *arg);
    int (*app_password_delete)(struct kunci_store *store, int64_t account_id, int64_t id);
    int (*app_password_count)(struct kunci_store *store, int64_t account_id, int *count_r);
    int (*app_password_delete_all)(struct kunci_store *store, int64_t account_id, int *count_r);
    /* Records a use unless one was recorded less than min_interval seconds ago. */
    int (*app_password_touch)(struct kunci_store *store, int64_t id, int64_t now,
                              int64_t min_interval, const char *ip, const char *protocol);

    /* Key rotation (core/key_rotation.h). The digest of app password id moves from
     * old_digest (if it still is) to new_digest under key key_id. */
    int (*app_password_rekey)(struct kunci_store *store, int64_t id, const uint8_t *old_digest,
                              const uint8_t *new_digest, const char *key_id);
    /* App passwords with no key named yet (made before key ids) are under key_id. */
    int (*app_password_key_mark)(struct kunci_store *store, const char *key_id, int *count_r);
    int (*app_password_key_count)(struct kunci_store *store, const char *key_id, int *count_r);
    int (*app_password_key_delete)(struct kunci_store *store, const char *key_id, int *count_r);
    int (*method_secret_each)(struct kunci_store *store, kunci_sealed_cb cb, void *arg);
    int (*method_secret_set)(struct kunci_store *store, int64_t method_id, const uint8_t *sealed,
                             size_t len);

    int (*setting_set)(struct kunci_store *store, const char *key, const char *value);
    int (*settings_each)(struct kunci_store *store, kunci_setting_cb cb, void *arg);

    /* Web sessions, looked up by the HMAC of their token. */
    int (*session_insert)(struct kunci_store *store, struct kunci_session *sess);
    int (*session_lookup)(struct kunci_store *store, const uint8_t *token_hash,
                          struct kunci_session *sess_r);
    int (*session_update)(struct kunci_store *store, const struct kunci_session *sess);
    int (*session_delete)(struct kunci_store *store, int64_t id);
    /* Sessions in the database, expired ones not yet purged included (for /metrics). */
    int (*session_count)(struct kunci_store *store, int64_t *count_r);
    /* Counts a wrong code typed in this session; returns the count so far. */
    int (*session_code_failure)(struct kunci_store *store, int64_t id, int *count_r);
    /* Deletes sessions idle since before idle_before or created before created_before, and
     * trusted devices and one-time codes expired at now. */
    int (*purge_expired)(struct kunci_store *store, int64_t idle_before, int64_t created_before,
                         int64_t now);

    /* Second factors. */
    int (*method_insert)(struct kunci_store *store, struct kunci_mfa_method *m);
    int (*method_get)(struct kunci_store *store, int64_t account_id, int64_t id,
                      struct kunci_mfa_method *m_r);
    int (*method_list)(struct kunci_store *store, int64_t account_id, kunci_method_cb cb,
                       void *arg);
    int (*method_delete)(struct kunci_store *store, int64_t account_id, int64_t id);
    /* Makes id the account's only default method. */
    int (*method_set_default)(struct kunci_store *store, int64_t account_id, int64_t id);
    /* Records a TOTP step as used; KUNCI_ERR_EXISTS if it (or a later one) already was. */
    int (*method_use_totp_step)(struct kunci_store *store, int64_t id, int64_t step);
    /* Marks a method verified; the account's first verified method becomes its default. */
    int (*method_verify)(struct kunci_store *store, int64_t account_id, int64_t id);

    /* Passkeys (core/passkey.h). passkey_insert adds the method (m: kind, target, created_at;
     * verified, the default if the account has none) and its credential in one transaction;
     * KUNCI_ERR_EXISTS when the credential id is registered already. passkey_use records a
     * sign-in: KUNCI_ERR_COUNTER when the counter did not grow (the rule is in the statement,
     * so two sign-ins at once cannot both pass with one value). */
    int (*passkey_insert)(struct kunci_store *store, struct kunci_mfa_method *m,
                          const struct kunci_passkey *pk);
    int (*passkey_find)(struct kunci_store *store, const uint8_t *credential_id, size_t len,
                        struct kunci_passkey *pk_r);
    int (*passkey_list)(struct kunci_store *store, int64_t account_id, kunci_passkey_cb cb,
                        void *arg);
    int (*passkey_use)(struct kunci_store *store, int64_t method_id, uint32_t sign_count,
                       bool backup_state, int64_t now);
    int (*method_rename)(struct kunci_store *store, int64_t account_id, int64_t id,
                         const char *name);
    /* Records a challenge as answered until it expires: KUNCI_ERR_REUSED the second time. */
    int (*challenge_use)(struct kunci_store *store, const uint8_t *challenge, size_t len,
                         int64_t expires_at);

    /* One pending code per method: a new one replaces the old. */
    int (*code_put)(struct kunci_store *store, struct kunci_code *code);
    int (*code_get)(struct kunci_store *store, int64_t account_id, int64_t method_id,
                    struct kunci_code *code_r);
    int (*code_count_attempt)(struct kunci_store *store, int64_t id);
    int (*code_delete)(struct kunci_store *store, int64_t id);

    /* "Don't ask again on this device": KUNCI_OK when valid, KUNCI_ERR_NOT_FOUND when not. */
    int (*device_insert)(struct kunci_store *store, int64_t account_id, const uint8_t *token_hash,
                         int64_t created_at, int64_t expires_at);
    int (*device_valid)(struct kunci_store *store, int64_t account_id, const uint8_t *token_hash,
                        int64_t now);

    /* The guards. lockout_hold: inside a transaction, the subject's row, made at zero if
     * missing and held against other writers until the transaction ends. lockout_get: the
     * row without holding it, KUNCI_ERR_NOT_FOUND when there is none. */
    int (*lockout_hold)(struct kunci_store *store, const char *scope, const char *subject,
                        const char *label, int64_t now, struct kunci_lockout *row_r);
    int (*lockout_get)(struct kunci_store *store, const char *scope, const char *subject,
                       struct kunci_lockout *row_r);
    int (*lockout_save)(struct kunci_store *store, const struct kunci_lockout *row);
    int (*lockout_delete)(struct kunci_store *store, const char *scope, const char *subject);
    /* Deletes every row with this label (a login's or an address's); count_r may be NULL. */
    int (*lockout_clear_label)(struct kunci_store *store, const char *label, int *count_r);
    int (*lockout_list)(struct kunci_store *store, kunci_lockout_cb cb, void *arg);
    /* The distinct wrong secrets of a login (by key), so a repeated one counts once: seen_r
     * is true (and its time refreshed) when this secret was recorded before, else it is
     * recorded. */
    int (*secret_seen)(struct kunci_store *store, const char *login_key, const uint8_t *secret_key,
                       int64_t now, bool *seen_r);
    int (*secrets_forget)(struct kunci_store *store, const char *login_key);
    /* A login's successful password from an address (written at most once a minute). */
    int (*address_success)(struct kunci_store *store, const char *address, const char *login_key,
                           int64_t now);
    /* known_r: the login signed in from this address since `since`, with its password or
     * with one of its app passwords from client_ip. */
    int (*address_known)(struct kunci_store *store, const char *address, const char *client_ip,
                         const char *login_key, const char *login, int64_t since, bool *known_r);
    int (*code_sends)(struct kunci_store *store, int64_t account_id, const uint8_t *destination,
                      int64_t recent_since, int64_t day_since, struct kunci_code_sends *sends_r);
    int (*code_send_record)(struct kunci_store *store, int64_t account_id,
                            const uint8_t *destination, bool registering, int64_t now);
    /* Claims (account_id, key) for a new request (claimed_r true), unless it is held by
     * one that arrived after stale_before, or answered after expired_before; then the
     * holder is in *row_r (row_r->sealed to be freed by the caller). */
    int (*once_claim)(struct kunci_store *store, int64_t account_id, const char *key,
                      const uint8_t *fingerprint, int64_t now, int64_t stale_before,
                      int64_t expired_before, bool *claimed_r, struct kunci_once_row *row_r);
    /* The answer of a claimed request; release forgets a claim whose request failed. */
    int (*once_finish)(struct kunci_store *store, int64_t account_id, const char *key, int status,
                       const uint8_t *sealed, size_t sealed_len);
    int (*once_release)(struct kunci_store *store, int64_t account_id, const char *key);
    /* The activity record (core/events.h): a batch written in one transaction, an
     * aggregated event adding its count to its bucket's row; listed newest first. */
    int (*event_write)(struct kunci_store *store, const struct kunci_event *events, int n);
    int (*event_list)(struct kunci_store *store, const struct kunci_event_query *q,
                      kunci_event_cb cb, void *arg);
    int (*event_purge)(struct kunci_store *store, int64_t before);
    /* Recovery. Backup codes: a new set replaces the old one in one transaction; a use marks
     * one used (KUNCI_ERR_NOT_FOUND: no such unused code). */
    int (*backup_codes_replace)(struct kunci_store *store, int64_t account_id,
                                const uint8_t (*digests)[KUNCI_DIGEST_BYTES], int n, int64_t now);
    int (*backup_code_use)(struct kunci_store *store, int64_t account_id, const uint8_t *digest,
                           int64_t now);
    int (*backup_codes_count)(struct kunci_store *store, int64_t account_id, int *total_r,
                              int *unused_r, int64_t *created_at_r);
    /* A temporary access pass: one per account, replaced by a new one; a use is accepted
     * before expires_at, once when one_time (KUNCI_ERR_NOT_FOUND otherwise). */
    int (*access_pass_set)(struct kunci_store *store, int64_t account_id, const uint8_t *digest,
                           int64_t now, int64_t expires_at, bool one_time);
    int (*access_pass_use)(struct kunci_store *store, int64_t account_id, const uint8_t *digest,
                           int64_t now);
    int (*access_pass_delete)(struct kunci_store *store, int64_t account_id);
    /* Housekeeping of the guards' tables, at each web sign-in. */
    int (*purge_guards)(struct kunci_store *store, int64_t now);
    /* A real write: proves the database takes writes (kunci serve checks at start). */
    int (*write_probe)(struct kunci_store *store, int64_t now);
};

/* A store with its operations. Opened by src/store (store/open.h). */
struct kunci_store_handle {
    const struct kunci_store_backend *backend;
    struct kunci_store *store;
};

/* kunci_store_<op>(h, ...): one call per operation, so callers never dispatch by hand. */
#define KUNCI_STORE_CALL(op, ...) return h->backend->op(h->store, __VA_ARGS__)
#define KUNCI_STORE_OP            static inline KUNCI_MUST_CHECK int

KUNCI_STORE_OP kunci_store_migrate(struct kunci_store_handle *h, int *version_r)
{
    KUNCI_STORE_CALL(migrate, version_r);
}
KUNCI_STORE_OP kunci_store_begin(struct kunci_store_handle *h)
{
    return h->backend->begin(h->store);
}
KUNCI_STORE_OP kunci_store_finish(struct kunci_store_handle *h, int r)
{
    KUNCI_STORE_CALL(finish, r);
}
KUNCI_STORE_OP kunci_store_account_by_login(struct kunci_store_handle *h, const char *login,
                                            struct kunci_account *acct_r)
{
    KUNCI_STORE_CALL(account_by_login, login, acct_r);
}
KUNCI_STORE_OP kunci_store_account_by_id(struct kunci_store_handle *h, int64_t id,
                                         struct kunci_account *acct_r)
{
    KUNCI_STORE_CALL(account_by_id, id, acct_r);
}
KUNCI_STORE_OP kunci_store_account_insert(struct kunci_store_handle *h, struct kunci_account *acct)
{
    KUNCI_STORE_CALL(account_insert, acct);
}
KUNCI_STORE_OP kunci_store_account_update(struct kunci_store_handle *h,
                                          const struct kunci_account *acct, unsigned flags,
                                          int64_t keep_session_id)
{
    KUNCI_STORE_CALL(account_update, acct, flags, keep_session_id);
}
KUNCI_STORE_OP kunci_store_account_rehash(struct kunci_store_handle *h, int64_t account_id,
                                          const char *old_hash, const char *new_hash)
{
    KUNCI_STORE_CALL(account_rehash, account_id, old_hash, new_hash);
}
KUNCI_STORE_OP kunci_store_account_delete(struct kunci_store_handle *h, int64_t account_id)
{
    KUNCI_STORE_CALL(account_delete, account_id);
}
KUNCI_STORE_OP kunci_store_account_list(struct kunci_store_handle *h, kunci_account_cb cb,
                                        void *arg)
{
    KUNCI_STORE_CALL(account_list, cb, arg);
}
KUNCI_STORE_OP kunci_store_app_password_insert(struct kunci_store_handle *h,
                                               struct kunci_app_password *ap, int max_per_account)
{
    KUNCI_STORE_CALL(app_password_insert, ap, max_per_account);
}
KUNCI_STORE_OP kunci_store_app_password_lookup(struct kunci_store_handle *h,
                                               const struct kunci_app_password_query *q,
                                               const struct kunci_app_password_match **match_r)
{
    KUNCI_STORE_CALL(app_password_lookup, q, match_r);
}
KUNCI_STORE_OP kunci_store_app_password_list(struct kunci_store_handle *h, int64_t account_id,
                                             kunci_app_password_cb cb, void *arg)
{
    KUNCI_STORE_CALL(app_password_list, account_id, cb, arg);
}
KUNCI_STORE_OP kunci_store_app_password_delete(struct kunci_store_handle *h, int64_t account_id,
                                               int64_t id)
{
    KUNCI_STORE_CALL(app_password_delete, account_id, id);
}
KUNCI_STORE_OP kunci_store_app_password_delete_all(struct kunci_store_handle *h, int64_t account_id,
                                                   int *count_r)
{
    KUNCI_STORE_CALL(app_password_delete_all, account_id, count_r);
}
KUNCI_STORE_OP kunci_store_app_password_touch(struct kunci_store_handle *h, int64_t id, int64_t now,
                                              int64_t min_interval, const char *ip,
                                              const char *protocol)
{
    KUNCI_STORE_CALL(app_password_touch, id, now, min_interval, ip, protocol);
}
KUNCI_STORE_OP kunci_store_app_password_rekey(struct kunci_store_handle *h, int64_t id,
                                              const uint8_t *old_digest, const uint8_t *new_digest,
                                              const char *key_id)
{
    KUNCI_STORE_CALL(app_password_rekey, id, old_digest, new_digest, key_id);
}
KUNCI_STORE_OP kunci_store_app_password_key_mark(struct kunci_store_handle *h, const char *key_id,
                                                 int *count_r)
{
    KUNCI_STORE_CALL(app_password_key_mark, key_id, count_r);
}
KUNCI_STORE_OP kunci_store_app_password_key_count(struct kunci_store_handle *h, const char *key_id,
                                                  int *count_r)
{
    KUNCI_STORE_CALL(app_password_key_count, key_id, count_r);
}
KUNCI_STORE_OP kunci_store_app_password_key_delete(struct kunci_store_handle *h, const char *key_id,
                                                   int *count_r)
{
    KUNCI_STORE_CALL(app_password_key_delete, key_id, count_r);
}
KUNCI_STORE_OP kunci_store_method_secret_each(struct kunci_store_handle *h, kunci_sealed_cb cb,
                                              void *arg)
{
    KUNCI_STORE_CALL(method_secret_each, cb, arg);
}
KUNCI_STORE_OP kunci_store_method_secret_set(struct kunci_store_handle *h, int64_t method_id,
                                             const uint8_t *sealed, size_t len)
{
    KUNCI_STORE_CALL(method_secret_set, method_id, sealed, len);
}
KUNCI_STORE_OP kunci_store_setting_set(struct kunci_store_handle *h, const char *key,
                                       const char *value)
{
    KUNCI_STORE_CALL(setting_set, key, value);
}
KUNCI_STORE_OP kunci_store_settings_each(struct kunci_store_handle *h, kunci_setting_cb cb,
                                         void *arg)
{
    KUNCI_STORE_CALL(settings_each, cb, arg);
}
KUNCI_STORE_OP kunci_store_session_insert(struct kunci_store_handle *h, struct kunci_session *sess)
{
    KUNCI_STORE_CALL(session_insert, sess);
}
KUNCI_STORE_OP kunci_store_session_lookup(struct kunci_store_handle *h, const uint8_t *token_hash,
                                          struct kunci_session *sess_r)
{
    KUNCI_STORE_CALL(session_lookup, token_hash, sess_r);
}
KUNCI_STORE_OP kunci_store_session_update(struct kunci_store_handle *h,
                                          const struct kunci_session *sess)
{
    KUNCI_STORE_CALL(session_update, sess);
}
KUNCI_STORE_OP kunci_store_session_count(struct kunci_store_handle *h, int64_t *count_r)
{
    KUNCI_STORE_CALL(session_count, count_r);
}
KUNCI_STORE_OP kunci_store_session_delete(struct kunci_store_handle *h, int64_t id)
{
    KUNCI_STORE_CALL(session_delete, id);
}
KUNCI_STORE_OP kunci_store_session_code_failure(struct kunci_store_handle *h, int64_t id,
                                                int *count_r)
{
    KUNCI_STORE_CALL(session_code_failure, id, count_r);
}
KUNCI_STORE_OP kunci_store_purge_expired(struct kunci_store_handle *h, int64_t idle_before,
                                         int64_t created_before, int64_t now)
{
    KUNCI_STORE_CALL(purge_expired, idle_before, created_before, now);
}
KUNCI_STORE_OP kunci_store_method_insert(struct kunci_store_handle *h, struct kunci_mfa_method *m)
{
    KUNCI_STORE_CALL(method_insert, m);
}
KUNCI_STORE_OP kunci_store_method_get(struct kunci_store_handle *h, int64_t account_id, int64_t id,
                                      struct kunci_mfa_method *m_r)
{
    KUNCI_STORE_CALL(method_get, account_id, id, m_r);
}
KUNCI_STORE_OP kunci_store_method_list(struct kunci_store_handle *h, int64_t account_id,
                                       kunci_method_cb cb, void *arg)
{
    KUNCI_STORE_CALL(method_list, account_id, cb, arg);
}
KUNCI_STORE_OP kunci_store_method_delete(struct kunci_store_handle *h, int64_t account_id,
                                         int64_t id)
{
    KUNCI_STORE_CALL(method_delete, account_id, id);
}
KUNCI_STORE_OP kunci_store_method_set_default(struct kunci_store_handle *h, int64_t account_id,
                                              int64_t id)
{
    KUNCI_STORE_CALL(method_set_default, account_id, id);
}
KUNCI_STORE_OP kunci_store_method_use_totp_step(struct kunci_store_handle *h, int64_t id,
                                                int64_t step)
{
    KUNCI_STORE_CALL(method_use_totp_step, id, step);
}
KUNCI_STORE_OP kunci_store_method_verify(struct kunci_store_handle *h, int64_t account_id,
                                         int64_t id)
{
    KUNCI_STORE_CALL(method_verify, account_id, id);
}
KUNCI_STORE_OP kunci_store_passkey_insert(struct kunci_store_handle *h, struct kunci_mfa_method *m,
                                          const struct kunci_passkey *pk)
{
    KUNCI_STORE_CALL(passkey_insert, m, pk);
}
KUNCI_STORE_OP kunci_store_passkey_find(struct kunci_store_handle *h, const uint8_t *credential_id,
                                        size_t len, struct kunci_passkey *pk_r)
{
    KUNCI_STORE_CALL(passkey_find, credential_id, len, pk_r);
}
KUNCI_STORE_OP kunci_store_passkey_list(struct kunci_store_handle *h, int64_t account_id,
                                        kunci_passkey_cb cb, void *arg)
{
    KUNCI_STORE_CALL(passkey_list, account_id, cb, arg);
}
KUNCI_STORE_OP kunci_store_passkey_use(struct kunci_store_handle *h, int64_t method_id,
                                       uint32_t sign_count, bool backup_state, int64_t now)
{
    KUNCI_STORE_CALL(passkey_use, method_id, sign_count, backup_state, now);
}
KUNCI_STORE_OP kunci_store_method_rename(struct kunci_store_handle *h, int64_t account_id,
                                         int64_t id, const char *name)
{
    KUNCI_STORE_CALL(method_rename, account_id, id, name);
}
KUNCI_STORE_OP kunci_store_challenge_use(struct kunci_store_handle *h, const uint8_t *challenge,
                                         size_t len, int64_t expires_at)
{
    KUNCI_STORE_CALL(challenge_use, challenge, len, expires_at);
}
KUNCI_STORE_OP kunci_store_code_put(struct kunci_store_handle *h, struct kunci_code *code)
{
    KUNCI_STORE_CALL(code_put, code);
}
KUNCI_STORE_OP kunci_store_code_get(struct kunci_store_handle *h, int64_t account_id,
                                    int64_t method_id, struct kunci_code *code_r)
{
    KUNCI_STORE_CALL(code_get, account_id, method_id, code_r);
}
KUNCI_STORE_OP kunci_store_code_count_attempt(struct kunci_store_handle *h, int64_t id)
{
    KUNCI_STORE_CALL(code_count_attempt, id);
}
KUNCI_STORE_OP kunci_store_code_delete(struct kunci_store_handle *h, int64_t id)
{
    KUNCI_STORE_CALL(code_delete, id);
}
KUNCI_STORE_OP kunci_store_device_insert(struct kunci_store_handle *h, int64_t account_id,
                                         const uint8_t *token_hash, int64_t created_at,
                                         int64_t expires_at)
{
    KUNCI_STORE_CALL(device_insert, account_id, token_hash, created_at, expires_at);
}
KUNCI_STORE_OP kunci_store_device_valid(struct kunci_store_handle *h, int64_t account_id,
                                        const uint8_t *token_hash, int64_t now)
{
    KUNCI_STORE_CALL(device_valid, account_id, token_hash, now);
}
KUNCI_STORE_OP kunci_store_lockout_hold(struct kunci_store_handle *h, const char *scope,
                                        const char *subject, const char *label, int64_t now,
                                        struct kunci_lockout *row_r)
{
    KUNCI_STORE_CALL(lockout_hold, scope, subject, label, now, row_r);
}
KUNCI_STORE_OP kunci_store_lockout_get(struct kunci_store_handle *h, const char *scope,
                                       const char *subject, struct kunci_lockout *row_r)
{
    KUNCI_STORE_CALL(lockout_get, scope, subject, row_r);
}
KUNCI_STORE_OP kunci_store_lockout_save(struct kunci_store_handle *h,
                                        const struct kunci_lockout *row)
{
    KUNCI_STORE_CALL(lockout_save, row);
}
KUNCI_STORE_OP kunci_store_lockout_delete(struct kunci_store_handle *h, const char *scope,
                                          const char *subject)
{
    KUNCI_STORE_CALL(lockout_delete, scope, subject);
}
KUNCI_STORE_OP kunci_store_lockout_clear_label(struct kunci_store_handle *h, const char *label,
                                               int *count_r)
{
    KUNCI_STORE_CALL(lockout_clear_label, label, count_r);
}
KUNCI_STORE_OP kunci_store_lockout_list(struct kunci_store_handle *h, kunci_lockout_cb cb,
                                        void *arg)
{
    KUNCI_STORE_CALL(lockout_list, cb, arg);
}
KUNCI_STORE_OP kunci_store_secret_seen(struct kunci_store_handle *h, const char *login_key,
                                       const uint8_t *secret_key, int64_t now, bool *seen_r)
{
    KUNCI_STORE_CALL(secret_seen, login_key, secret_key, now, seen_r);
}
KUNCI_STORE_OP kunci_store_secrets_forget(struct kunci_store_handle *h, const char *login_key)
{
    KUNCI_STORE_CALL(secrets_forget, login_key);
}
KUNCI_STORE_OP kunci_store_address_success(struct kunci_store_handle *h, const char *address,
                                           const char *login_key, int64_t now)
{
    KUNCI_STORE_CALL(address_success, address, login_key, now);
}
KUNCI_STORE_OP kunci_store_address_known(struct kunci_store_handle *h, const char *address,
                                         const char *client_ip, const char *login_key,
                                         const char *login, int64_t since, bool *known_r)
{
    KUNCI_STORE_CALL(address_known, address, client_ip, login_key, login, since, known_r);
}
KUNCI_STORE_OP kunci_store_code_sends(struct kunci_store_handle *h, int64_t account_id,
                                      const uint8_t *destination, int64_t recent_since,
                                      int64_t day_since, struct kunci_code_sends *sends_r)
{
    KUNCI_STORE_CALL(code_sends, account_id, destination, recent_since, day_since, sends_r);
}
KUNCI_STORE_OP kunci_store_code_send_record(struct kunci_store_handle *h, int64_t account_id,
                                            const uint8_t *destination, bool registering,
                                            int64_t now)
{
    KUNCI_STORE_CALL(code_send_record, account_id, destination, registering, now);
}
KUNCI_STORE_OP kunci_store_once_claim(struct kunci_store_handle *h, int64_t account_id,
                                      const char *key, const uint8_t *fingerprint, int64_t now,
                                      int64_t stale_before, int64_t expired_before, bool *claimed_r,
                                      struct kunci_once_row *row_r)
{
    KUNCI_STORE_CALL(once_claim, account_id, key, fingerprint, now, stale_before, expired_before,
                     claimed_r, row_r);
}
KUNCI_STORE_OP kunci_store_once_finish(struct kunci_store_handle *h, int64_t account_id,
                                       const char *key, int status, const uint8_t *sealed,
                                       size_t sealed_len)
{
    KUNCI_STORE_CALL(once_finish, account_id, key, status, sealed, sealed_len);
}
KUNCI_STORE_OP kunci_store_once_release(struct kunci_store_handle *h, int64_t account_id,
                                        const char *key)
{
    KUNCI_STORE_CALL(once_release, account_id, key);
}
KUNCI_STORE_OP kunci_store_event_write(struct kunci_store_handle *h,
                                       const struct kunci_event *events, int n)
{
    KUNCI_STORE_CALL(event_write, events, n);
}
KUNCI_STORE_OP kunci_store_event_list(struct kunci_store_handle *h,
                                      const struct kunci_event_query *q, kunci_event_cb cb,
                                      void *arg)
{
    KUNCI_STORE_CALL(event_list, q, cb, arg);
}
KUNCI_STORE_OP kunci_store_event_purge(struct kunci_store_handle *h, int64_t before)
{
    KUNCI_STORE_CALL(event_purge, before);
}
KUNCI_STORE_OP kunci_store_account_search(struct kunci_store_handle *h, const char *prefix,
                                          const char *after_login, int limit, int64_t legacy_since,
                                          kunci_account_summary_cb cb, void *arg)
{
    KUNCI_STORE_CALL(account_search, prefix, after_login, limit, legacy_since, cb, arg);
}
KUNCI_STORE_OP kunci_store_account_signed_in(struct kunci_store_handle *h, int64_t account_id,
                                             int64_t now)
{
    KUNCI_STORE_CALL(account_signed_in, account_id, now);
}
KUNCI_STORE_OP kunci_store_account_setup_deferred(struct kunci_store_handle *h, int64_t account_id,
                                                  bool defer, int64_t now, int64_t *at_r)
{
    KUNCI_STORE_CALL(account_setup_deferred, account_id, defer, now, at_r);
}
KUNCI_STORE_OP kunci_store_legacy_client_seen(struct kunci_store_handle *h, int64_t account_id,
                                              const char *protocol, const char *client_ip,
                                              int64_t now)
{
    KUNCI_STORE_CALL(legacy_client_seen, account_id, protocol, client_ip, now);
}
KUNCI_STORE_OP kunci_store_legacy_client_list(struct kunci_store_handle *h, int64_t account_id,
                                              int64_t since, kunci_legacy_client_cb cb, void *arg)
{
    KUNCI_STORE_CALL(legacy_client_list, account_id, since, cb, arg);
}
KUNCI_STORE_OP kunci_store_app_password_count(struct kunci_store_handle *h, int64_t account_id,
                                              int *count_r)
{
    KUNCI_STORE_CALL(app_password_count, account_id, count_r);
}
KUNCI_STORE_OP kunci_store_backup_codes_replace(struct kunci_store_handle *h, int64_t account_id,
                                                const uint8_t (*digests)[KUNCI_DIGEST_BYTES], int n,
                                                int64_t now)
{
    KUNCI_STORE_CALL(backup_codes_replace, account_id, digests, n, now);
}
KUNCI_STORE_OP kunci_store_backup_code_use(struct kunci_store_handle *h, int64_t account_id,
                                           const uint8_t *digest, int64_t now)
{
    KUNCI_STORE_CALL(backup_code_use, account_id, digest, now);
}
KUNCI_STORE_OP kunci_store_backup_codes_count(struct kunci_store_handle *h, int64_t account_id,
                                              int *total_r, int *unused_r, int64_t *created_at_r)
{
    KUNCI_STORE_CALL(backup_codes_count, account_id, total_r, unused_r, created_at_r);
}
KUNCI_STORE_OP kunci_store_access_pass_set(struct kunci_store_handle *h, int64_t account_id,
                                           const uint8_t *digest, int64_t now, int64_t expires_at,
                                           bool one_time)
{
    KUNCI_STORE_CALL(access_pass_set, account_id, digest, now, expires_at, one_time);
}
KUNCI_STORE_OP kunci_store_access_pass_use(struct kunci_store_handle *h, int64_t account_id,
                                           const uint8_t *digest, int64_t now)
{
    KUNCI_STORE_CALL(access_pass_use, account_id, digest, now);
}
KUNCI_STORE_OP kunci_store_access_pass_delete(struct kunci_store_handle *h, int64_t account_id)
{
    KUNCI_STORE_CALL(access_pass_delete, account_id);
}
KUNCI_STORE_OP kunci_store_purge_guards(struct kunci_store_handle *h, int64_t now)
{
    KUNCI_STORE_CALL(purge_guards, now);
}
KUNCI_STORE_OP kunci_store_write_probe(struct kunci_store_handle *h, int64_t now)
{
    KUNCI_STORE_CALL(write_probe, now);
}

#undef KUNCI_STORE_CALL
#undef KUNCI_STORE_OP

/* A write whose failure must not change the answer (the last use of an app password, a
 * rehash, a purge): each call site says why. gcc would not let a (void) cast through. */
static inline void kunci_store_best_effort(int r)
{
    (void)r;
}

static inline void kunci_store_cache_counts(struct kunci_store_handle *h, uint64_t *hits_r,
                                            uint64_t *misses_r)
{
    *hits_r = *misses_r = 0;
    if (h->backend != NULL && h->store != NULL && h->backend->cache_counts != NULL)
        h->backend->cache_counts(h->store, hits_r, misses_r);
}

/* Closes the handle (safe on one that never opened, and twice). */
static inline void kunci_store_close(struct kunci_store_handle *h)
{
    if (h->backend != NULL && h->store != NULL)
        h->backend->close(h->store);
    h->store = NULL;
}

#endif
