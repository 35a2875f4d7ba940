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

/* An argument of a shared statement. */
struct kunci_sql_arg {
    enum { KUNCI_SQL_INT, KUNCI_SQL_TEXT, KUNCI_SQL_BLOB } kind;
    int64_t i;
    const char *text;
    const void *blob;
    size_t len;
};
#define SQL_INT(v)     ((struct kunci_sql_arg){KUNCI_SQL_INT, (int64_t)(v), NULL, NULL, 0})
#define SQL_TEXT(s)    ((struct kunci_sql_arg){KUNCI_SQL_TEXT, 0, (s), NULL, 0})
#define SQL_BLOB(p, n) ((struct kunci_sql_arg){KUNCI_SQL_BLOB, 0, NULL, (p), (n)})

/* A result row of a shared statement, read through its backend. */
struct kunci_sql_row {
    int64_t (*integer)(const struct kunci_sql_row *row, int col);
    const char *(*text)(const struct kunci_sql_row *row, int col); /* "" for NULL */
    void *impl;
    int index;
};
typedef int (*kunci_sql_row_cb)(void *arg, const struct kunci_sql_row *row);

/* account_update flags */
#define KUNCI_UPDATE_REVOKE_APP_PASSWORDS 1u
#define KUNCI_UPDATE_END_SESSIONS         2u

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

    /* What the operations written once (store_ops.c) need from a backend: a transaction,
     * and one shared statement (enum stmt_id in store_sql.h) run with arguments, each row
     * handed to cb. changes_r (may be NULL) receives the rows a change touched. */
    int (*tx_begin)(struct kunci_store *store);
    /* Commits when r is KUNCI_OK, else rolls back; returns r or the commit's failure. */
    int (*tx_finish)(struct kunci_store *store, int r);
    int (*run)(struct kunci_store *store, int stmt, const struct kunci_sql_arg *args, int nargs,
               kunci_sql_row_cb cb, void *arg, int64_t *changes_r);
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

/* ---- Operations written once over every backend (store_ops.c) ---- */

int kunci_store_begin(struct kunci_store_handle *h);
/* Commits when r is KUNCI_OK, else rolls back; returns r or the commit's failure. */
int kunci_store_finish(struct kunci_store_handle *h, int r);

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
/* Inside a transaction: the subject's row, made at zero if missing, and held against other
 * writers until the transaction ends. */
int kunci_store_lockout_hold(struct kunci_store_handle *h, const char *scope, const char *subject,
                             const char *label, int64_t now, struct kunci_lockout *row_r);
/* The subject's row without holding it; KUNCI_ERR_NOT_FOUND when there is none. */
int kunci_store_lockout_get(struct kunci_store_handle *h, const char *scope, const char *subject,
                            struct kunci_lockout *row_r);
int kunci_store_lockout_save(struct kunci_store_handle *h, const struct kunci_lockout *row);
int kunci_store_lockout_delete(struct kunci_store_handle *h, const char *scope,
                               const char *subject);
/* Deletes every row with this label (a login's or an address's); count_r may be NULL. */
int kunci_store_lockout_clear_label(struct kunci_store_handle *h, const char *label, int *count_r);
int kunci_store_lockout_list(struct kunci_store_handle *h, kunci_lockout_cb cb, void *arg);

/* The distinct wrong secrets of a login (by key), so a repeated one counts once: seen_r is
 * true (and its time refreshed) when this secret was recorded before, else it is recorded. */
int kunci_store_secret_seen(struct kunci_store_handle *h, const char *login_key,
                            const uint8_t *secret_key, int64_t now, bool *seen_r);
int kunci_store_secrets_forget(struct kunci_store_handle *h, const char *login_key);

/* A login's successful password from an address (written at most once a minute). */
int kunci_store_address_success(struct kunci_store_handle *h, const char *address,
                                const char *login_key, int64_t now);
/* true when the login signed in from this address since `since`: with its password, or
 * with one of its app passwords from client_ip. */
int kunci_store_address_known(struct kunci_store_handle *h, const char *address,
                              const char *client_ip, const char *login_key, const char *login,
                              int64_t since, bool *known_r);

/* One-time codes sent, for the limits per account and per destination (a keyed hash). */
struct kunci_code_sends {
    int account_recent, account_day;         /* this account's codes */
    int destination_recent, destination_day; /* this destination's, from any account */
    int64_t destination_last;                /* the last code to this destination, or 0 */
    int registering_destinations;            /* distinct new destinations this day */
    bool destination_registering;            /* ... this one among them */
};
int kunci_store_code_sends(struct kunci_store_handle *h, int64_t account_id,
                           const uint8_t *destination, int64_t recent_since, int64_t day_since,
                           struct kunci_code_sends *sends_r);
int kunci_store_code_send_record(struct kunci_store_handle *h, int64_t account_id,
                                 const uint8_t *destination, bool registering, int64_t now);

/* Housekeeping of the tables above, at each web sign-in. */
int kunci_store_purge_guards(struct kunci_store_handle *h, int64_t now);
/* A real write: proves the database takes writes (kunci serve checks at start). */
int kunci_store_write_probe(struct kunci_store_handle *h, int64_t now);

extern const struct kunci_store_backend kunci_store_sqlite;
extern const struct kunci_store_backend kunci_store_pgsql;

#endif
