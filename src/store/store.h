/* The one storage interface. Each backend is a const table of functions, found by name in
 * one registry (as OpenSMTPD's table backends). A handle is used by one thread at a time;
 * servers open one per thread.
 *
 * Every function returns KUNCI_OK or a negative KUNCI_ERR_*. KUNCI_ERR_TEMPFAIL means the
 * database could not be reached or was busy: callers answer "try again later", never
 * "wrong password" and never "OK". Every change runs in one transaction. */
#ifndef KUNCI_STORE_H
#define KUNCI_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/settings.h"
#include "core/types.h"

struct kunci_store;

typedef int (*kunci_account_cb)(void *arg, const struct kunci_account *acct);
typedef int (*kunci_app_password_cb)(void *arg, const struct kunci_app_password *ap);
typedef int (*kunci_setting_cb)(void *arg, const char *key, const char *value);
typedef int (*kunci_method_cb)(void *arg, const struct kunci_mfa_method *method);

struct kunci_store_options {
    const char *location; /* backend-specific: a file path, a connection string */
    int busy_timeout_ms;  /* how long to wait on a lock before KUNCI_ERR_TEMPFAIL */
    bool create;          /* create the database if missing (kunci init only) */
};

/* What the legacy-login decision needs about one app password, in one round trip. */
struct kunci_app_password_match {
    struct kunci_app_password app_password;
    struct kunci_account account;
    bool app_passwords_allowed; /* the organization setting, read in the same query */
};

struct kunci_store_backend {
    const char *name;

    int (*open)(const struct kunci_store_options *opts, struct kunci_store **store_r);
    void (*close)(struct kunci_store *store);
    /* Brings the schema to the newest version; KUNCI_ERR_SCHEMA if it is newer still. */
    int (*migrate)(struct kunci_store *store, int *version_r);

    int (*account_by_login)(struct kunci_store *store, const char *login,
                            struct kunci_account *acct_r);
    int (*account_insert)(struct kunci_store *store, struct kunci_account *acct);
    /* Writes every mutable field. With revoke_app_passwords, the account's app passwords
     * are deleted in the same transaction. */
    int (*account_update)(struct kunci_store *store, const struct kunci_account *acct,
                          bool revoke_app_passwords);
    /* Replaces the hash only if it is still old_hash (a rehash racing a password change
     * must lose). */
    int (*account_rehash)(struct kunci_store *store, int64_t account_id, const char *old_hash,
                          const char *new_hash);
    int (*account_delete)(struct kunci_store *store, int64_t account_id);
    int (*account_list)(struct kunci_store *store, kunci_account_cb cb, void *arg);

    /* Inserts unless the account already has max_per_account (KUNCI_ERR_LIMIT). */
    int (*app_password_insert)(struct kunci_store *store, struct kunci_app_password *ap,
                               int max_per_account);
    int (*app_password_lookup)(struct kunci_store *store, const uint8_t *digest,
                               struct kunci_app_password_match *match_r);
    int (*app_password_list)(struct kunci_store *store, int64_t account_id,
                             kunci_app_password_cb cb, void *arg);
    int (*app_password_delete)(struct kunci_store *store, int64_t account_id, int64_t id);
    int (*app_password_delete_all)(struct kunci_store *store, int64_t account_id, int *count_r);
    /* Records a use unless one was recorded less than min_interval seconds ago. */
    int (*app_password_touch)(struct kunci_store *store, int64_t id, int64_t now,
                              int64_t min_interval, const char *ip, const char *protocol);

    int (*setting_set)(struct kunci_store *store, const char *key, const char *value);
    int (*settings_each)(struct kunci_store *store, kunci_setting_cb cb, void *arg);

    int (*account_by_id)(struct kunci_store *store, int64_t id, struct kunci_account *acct_r);

    /* Web sessions, looked up by the HMAC of their token. */
    int (*session_insert)(struct kunci_store *store, struct kunci_session *sess);
    int (*session_lookup)(struct kunci_store *store, const uint8_t *token_hash,
                          struct kunci_session *sess_r);
    int (*session_update)(struct kunci_store *store, const struct kunci_session *sess);
    int (*session_delete)(struct kunci_store *store, int64_t id);
    /* Deletes sessions idle since before idle_before or created before created_before, and
     * trusted devices and one-time codes expired at now. */
    int (*purge_expired)(struct kunci_store *store, int64_t idle_before, int64_t created_before,
                         int64_t now);
    /* Wrong primary passwords, keyed by an HMAC of the login (known or not, so a lockout
     * tells nothing about who exists) and one of the secret (so a client retrying the same
     * stale password counts once). Records one and returns the distinct ones since `since`. */
    int (*failure_record)(struct kunci_store *store, const uint8_t *login_key,
                          const uint8_t *secret_key, int64_t now, int64_t since, int *count_r);
    int (*failure_count)(struct kunci_store *store, const uint8_t *login_key, int64_t since,
                         int *count_r);
    int (*failure_clear)(struct kunci_store *store, const uint8_t *login_key);
    /* Counts a wrong code typed in this session; returns the count so far. */
    int (*session_code_failure)(struct kunci_store *store, int64_t id, int *count_r);

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

    /* One pending code per method: a new one replaces the old. */
    int (*code_put)(struct kunci_store *store, struct kunci_code *code);
    int (*code_get)(struct kunci_store *store, int64_t account_id, int64_t method_id,
                    struct kunci_code *code_r);
    int (*code_count_attempt)(struct kunci_store *store, int64_t id);
    int (*code_delete)(struct kunci_store *store, int64_t id);

    /* "Don't ask again on this device". */
    int (*device_insert)(struct kunci_store *store, int64_t account_id, const uint8_t *token_hash,
                         int64_t created_at, int64_t expires_at);
    int (*device_valid)(struct kunci_store *store, int64_t account_id, const uint8_t *token_hash,
                        int64_t now);
};

const struct kunci_store_backend *kunci_store_backend_find(const char *name);

/* A handle with its backend, so callers write kunci_store_*(h, ...) without dispatching. */
struct kunci_store_handle {
    const struct kunci_store_backend *backend;
    struct kunci_store *store;
};

int kunci_store_open(const char *backend, const struct kunci_store_options *opts,
                     struct kunci_store_handle *h_r);
void kunci_store_close(struct kunci_store_handle *h);
/* Reads every stored setting over the defaults. */
int kunci_store_settings(struct kunci_store_handle *h, struct kunci_settings *settings_r);

extern const struct kunci_store_backend kunci_store_sqlite;
extern const struct kunci_store_backend kunci_store_pgsql;

#endif
