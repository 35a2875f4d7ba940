/* SQLite backend: WAL, foreign keys, versioned migrations (PRAGMA user_version), every
 * change in one transaction, prepared statements kept per handle for the hot path. */
#include "core/err.h"
#include "store/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/protocol.h"

static const char *const migrations[] = {
    /* 1: the foundation */
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY,"
    "  login TEXT NOT NULL UNIQUE,"
    "  display_name TEXT NOT NULL DEFAULT '',"
    "  role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  mfa_state TEXT NOT NULL DEFAULT 'disabled'"
    "    CHECK (mfa_state IN ('disabled', 'enabled', 'enforced')),"
    "  password_hash TEXT NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  password_changed_at INTEGER NOT NULL);"
    "CREATE TABLE app_passwords ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  digest BLOB NOT NULL UNIQUE,"
    "  protocols TEXT NOT NULL DEFAULT '',"
    "  networks TEXT NOT NULL DEFAULT '',"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER,"
    "  last_used_at INTEGER,"
    "  last_used_ip TEXT,"
    "  last_used_protocol TEXT);"
    "CREATE INDEX app_passwords_account ON app_passwords (account_id);"
    "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

#define ACCOUNT_COLUMNS                                                                            \
    "a.id, a.login, a.display_name, a.role, a.enabled, a.mfa_state, a.password_hash, "             \
    "a.created_at, a.password_changed_at"
#define ACCOUNT_NCOLS 9
#define APP_PASSWORD_COLUMNS                                                                       \
    "ap.id, ap.account_id, ap.name, ap.digest, ap.protocols, ap.networks, ap.created_at, "         \
    "COALESCE(ap.expires_at, 0), COALESCE(ap.last_used_at, 0), COALESCE(ap.last_used_ip, ''), "    \
    "COALESCE(ap.last_used_protocol, '')"

enum stmt_id {
    ST_ACCOUNT_BY_LOGIN,
    ST_ACCOUNT_INSERT,
    ST_ACCOUNT_UPDATE,
    ST_ACCOUNT_REHASH,
    ST_ACCOUNT_DELETE,
    ST_ACCOUNT_LIST,
    ST_AP_COUNT,
    ST_AP_INSERT,
    ST_AP_LOOKUP,
    ST_AP_LIST,
    ST_AP_DELETE,
    ST_AP_DELETE_ALL,
    ST_AP_TOUCH,
    ST_SETTING_SET,
    ST_SETTINGS_EACH,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_ACCOUNT_BY_LOGIN] = "SELECT " ACCOUNT_COLUMNS " FROM accounts a WHERE a.login = ?1",
    [ST_ACCOUNT_INSERT] = "INSERT INTO accounts (login, display_name, role, enabled, mfa_state, "
                          "password_hash, created_at, password_changed_at) "
                          "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_ACCOUNT_UPDATE] = "UPDATE accounts SET display_name = ?2, role = ?3, enabled = ?4, "
                          "mfa_state = ?5, password_hash = ?6, password_changed_at = ?7 "
                          "WHERE id = ?1",
    [ST_ACCOUNT_REHASH] = "UPDATE accounts SET password_hash = ?3 WHERE id = ?1 AND "
                          "password_hash = ?2",
    [ST_ACCOUNT_DELETE] = "DELETE FROM accounts WHERE id = ?1",
    [ST_ACCOUNT_LIST] = "SELECT " ACCOUNT_COLUMNS " FROM accounts a ORDER BY a.login",
    [ST_AP_COUNT] = "SELECT count(*) FROM app_passwords WHERE account_id = ?1",
    [ST_AP_INSERT] = "INSERT INTO app_passwords (account_id, name, digest, protocols, networks, "
                     "created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULLIF(?7, 0))",
    [ST_AP_LOOKUP] = "SELECT " APP_PASSWORD_COLUMNS ", " ACCOUNT_COLUMNS ", "
                     "COALESCE((SELECT value FROM settings WHERE key = 'app_passwords_allowed'), "
                     "'true') FROM app_passwords ap JOIN accounts a ON a.id = ap.account_id "
                     "WHERE ap.digest = ?1",
    [ST_AP_LIST] = "SELECT " APP_PASSWORD_COLUMNS " FROM app_passwords ap "
                   "WHERE ap.account_id = ?1 ORDER BY ap.id",
    [ST_AP_DELETE] = "DELETE FROM app_passwords WHERE account_id = ?1 AND id = ?2",
    [ST_AP_DELETE_ALL] = "DELETE FROM app_passwords WHERE account_id = ?1",
    [ST_AP_TOUCH] = "UPDATE app_passwords SET last_used_at = ?2, last_used_ip = ?3, "
                    "last_used_protocol = ?4 WHERE id = ?1 AND "
                    "(last_used_at IS NULL OR last_used_at <= ?2 - ?5 OR last_used_at > ?2)",
    [ST_SETTING_SET] = "INSERT INTO settings (key, value) VALUES (?1, ?2) "
                       "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    [ST_SETTINGS_EACH] = "SELECT key, value FROM settings ORDER BY key",
};

struct kunci_store {
    sqlite3 *db; /* NULL after the file went away, until it can be opened again */
    sqlite3_stmt *stmts[ST_COUNT];
    char *path;
    int busy_timeout_ms;
};

static int db_ready(struct kunci_store *s);

/* Everything but a constraint or memory is a reason to try again later: a locked, missing,
 * unreadable or full database must never look like a wrong password. */
static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return KUNCI_OK;
    case SQLITE_CONSTRAINT:
        return KUNCI_ERR_EXISTS;
    case SQLITE_NOMEM:
        return KUNCI_ERR_NOMEM;
    default:
        return KUNCI_ERR_TEMPFAIL;
    }
}

static int stmt_get(struct kunci_store *s, enum stmt_id id, sqlite3_stmt **st_r)
{
    int r = db_ready(s);
    if (r != KUNCI_OK)
        return r;
    if (s->stmts[id] == NULL) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            s->stmts[id] = NULL;
            return map_rc(rc);
        }
    }
    *st_r = s->stmts[id];
    return KUNCI_OK;
}

/* Statements are reset after each use so no read transaction outlives a call. */
static void stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static int exec(struct kunci_store *s, const char *sql)
{
    return map_rc(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

static int begin(struct kunci_store *s)
{
    int r = db_ready(s);
    return r != KUNCI_OK ? r : exec(s, "BEGIN IMMEDIATE");
}

static int finish(struct kunci_store *s, int r)
{
    if (r == KUNCI_OK) {
        r = exec(s, "COMMIT");
        if (r == KUNCI_OK)
            return KUNCI_OK;
    }
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(dst, size, "%s", t ? (const char *)t : "");
}

static void row_account(sqlite3_stmt *st, int c, struct kunci_account *a)
{
    memset(a, 0, sizeof(*a));
    a->id = sqlite3_column_int64(st, c + 0);
    copy_text(a->login, sizeof(a->login), st, c + 1);
    copy_text(a->display_name, sizeof(a->display_name), st, c + 2);
    a->role = strcmp((const char *)sqlite3_column_text(st, c + 3), "admin") == 0 ? KUNCI_ROLE_ADMIN
                                                                                 : KUNCI_ROLE_USER;
    a->enabled = sqlite3_column_int(st, c + 4) != 0;
    if (kunci_mfa_state_parse((const char *)sqlite3_column_text(st, c + 5), &a->mfa_state) != 0)
        a->mfa_state = KUNCI_MFA_ENFORCED; /* unreadable: the strictest state */
    copy_text(a->password_hash, sizeof(a->password_hash), st, c + 6);
    a->created_at = sqlite3_column_int64(st, c + 7);
    a->password_changed_at = sqlite3_column_int64(st, c + 8);
}

static void row_app_password(sqlite3_stmt *st, struct kunci_app_password *ap)
{
    memset(ap, 0, sizeof(*ap));
    ap->id = sqlite3_column_int64(st, 0);
    ap->account_id = sqlite3_column_int64(st, 1);
    copy_text(ap->name, sizeof(ap->name), st, 2);
    if (sqlite3_column_bytes(st, 3) == KUNCI_DIGEST_BYTES)
        memcpy(ap->digest, sqlite3_column_blob(st, 3), KUNCI_DIGEST_BYTES);
    const unsigned char *protocols = sqlite3_column_text(st, 4);
    if (protocols != NULL && kunci_protocols_parse((const char *)protocols, &ap->protocols) != 0)
        ap->protocols = 0u - 1u; /* unreadable scope: a mask no request matches alone */
    copy_text(ap->networks, sizeof(ap->networks), st, 5);
    ap->created_at = sqlite3_column_int64(st, 6);
    ap->expires_at = sqlite3_column_int64(st, 7);
    ap->last_used_at = sqlite3_column_int64(st, 8);
    copy_text(ap->last_used_ip, sizeof(ap->last_used_ip), st, 9);
    copy_text(ap->last_used_protocol, sizeof(ap->last_used_protocol), st, 10);
}

static void db_close(struct kunci_store *s)
{
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(s->stmts[i]);
        s->stmts[i] = NULL;
    }
    sqlite3_close_v2(s->db);
    s->db = NULL;
}

static int db_open(struct kunci_store *s, bool create)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int r, rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);

    if (rc != SQLITE_OK) {
        r = map_rc(rc);
        goto fail;
    }
    sqlite3_busy_timeout(s->db, s->busy_timeout_ms);
    sqlite3_extended_result_codes(s->db, 1);
    r = exec(s, "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;");
    if (r != KUNCI_OK)
        goto fail;
    /* WAL lets readers go on while a writer commits. */
    r = exec(s, "PRAGMA journal_mode = WAL");
    if (r != KUNCI_OK)
        goto fail;
    return KUNCI_OK;
fail:
    db_close(s);
    return r;
}

/* A database file that was removed or replaced under a running server is an outage, not an
 * empty database: the handle is dropped and reopened (never created) on a later call. The
 * check is one stat(2). */
static int db_ready(struct kunci_store *s)
{
    int moved = 0;

    if (s->db != NULL &&
        (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK || moved))
        db_close(s);
    if (s->db == NULL)
        return db_open(s, false);
    return KUNCI_OK;
}

static int sqlite_open(const struct kunci_store_options *opts, struct kunci_store **store_r)
{
    struct kunci_store *s;
    int r;

    *store_r = NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->path = strdup(opts->location)) == NULL) {
        free(s);
        return KUNCI_ERR_NOMEM;
    }
    s->busy_timeout_ms = opts->busy_timeout_ms > 0 ? opts->busy_timeout_ms : 2000;
    r = db_open(s, opts->create);
    if (r != KUNCI_OK) {
        free(s->path);
        free(s);
        return r;
    }
    *store_r = s;
    return KUNCI_OK;
}

static void sqlite_close(struct kunci_store *s)
{
    db_close(s);
    free(s->path);
    free(s);
}

static int user_version(struct kunci_store *s, int *version_r)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return map_rc(rc);
    rc = sqlite3_step(st);
    *version_r = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? KUNCI_OK : map_rc(rc);
}

static int sqlite_migrate(struct kunci_store *s, int *version_r)
{
    char sql[64];
    int version, r;

    if ((r = db_ready(s)) != KUNCI_OK)
        return r;
    r = user_version(s, &version);
    if (r == KUNCI_OK && version == SCHEMA_VERSION)
        goto out;
    if (r != KUNCI_OK || (r = begin(s)) != KUNCI_OK)
        return r;
    r = user_version(s, &version); /* another process may have migrated meanwhile */
    if (r == KUNCI_OK && version > SCHEMA_VERSION)
        r = KUNCI_ERR_SCHEMA;
    for (; r == KUNCI_OK && version < SCHEMA_VERSION; version++)
        r = exec(s, migrations[version]);
    if (r == KUNCI_OK) {
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
        r = exec(s, sql);
    }
    r = finish(s, r);
    if (r != KUNCI_OK)
        return r;
out:
    if (version_r != NULL)
        *version_r = version;
    return KUNCI_OK;
}

static int sqlite_account_by_login(struct kunci_store *s, const char *login,
                                   struct kunci_account *acct_r)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_ACCOUNT_BY_LOGIN, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_text(st, 1, login, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row_account(st, 0, acct_r);
        r = KUNCI_OK;
    } else {
        r = rc == SQLITE_DONE ? KUNCI_ERR_NOT_FOUND : map_rc(rc);
    }
    stmt_done(st);
    return r;
}

static void bind_account(sqlite3_stmt *st, const struct kunci_account *a)
{
    sqlite3_bind_text(st, 2, a->display_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kunci_role_name(a->role), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, a->enabled ? 1 : 0);
    sqlite3_bind_text(st, 5, kunci_mfa_state_name(a->mfa_state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->password_hash, -1, SQLITE_STATIC);
}

static int step_once(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? KUNCI_OK : map_rc(rc == SQLITE_ROW ? SQLITE_MISUSE : rc);
    stmt_done(st);
    return r;
}

static int sqlite_account_insert(struct kunci_store *s, struct kunci_account *acct)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_ACCOUNT_INSERT, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_text(st, 1, acct->login, -1, SQLITE_STATIC);
    bind_account(st, acct);
    sqlite3_bind_int64(st, 7, acct->created_at);
    sqlite3_bind_int64(st, 8, acct->password_changed_at);
    r = step_once(st);
    if (r == KUNCI_OK)
        acct->id = sqlite3_last_insert_rowid(s->db);
    return r;
}

static int changed_or_not_found(struct kunci_store *s, int r)
{
    if (r == KUNCI_OK && sqlite3_changes(s->db) == 0)
        return KUNCI_ERR_NOT_FOUND;
    return r;
}

static int sqlite_account_update(struct kunci_store *s, const struct kunci_account *acct,
                                 bool revoke_app_passwords)
{
    sqlite3_stmt *st = NULL;
    int r = begin(s);
    if (r != KUNCI_OK)
        return r;
    r = stmt_get(s, ST_ACCOUNT_UPDATE, &st);
    if (r == KUNCI_OK) {
        sqlite3_bind_int64(st, 1, acct->id);
        bind_account(st, acct);
        sqlite3_bind_int64(st, 7, acct->password_changed_at);
        r = changed_or_not_found(s, step_once(st));
    }
    if (r == KUNCI_OK && revoke_app_passwords && (r = stmt_get(s, ST_AP_DELETE_ALL, &st)) == 0) {
        sqlite3_bind_int64(st, 1, acct->id);
        r = step_once(st);
    }
    return finish(s, r);
}

static int sqlite_account_rehash(struct kunci_store *s, int64_t account_id, const char *old_hash,
                                 const char *new_hash)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_ACCOUNT_REHASH, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, old_hash, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, new_hash, -1, SQLITE_STATIC);
    return changed_or_not_found(s, step_once(st));
}

static int sqlite_account_delete(struct kunci_store *s, int64_t account_id)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_ACCOUNT_DELETE, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, account_id);
    return changed_or_not_found(s, step_once(st));
}

static int sqlite_account_list(struct kunci_store *s, kunci_account_cb cb, void *arg)
{
    struct kunci_account a;
    sqlite3_stmt *st = NULL;
    int rc, r = stmt_get(s, ST_ACCOUNT_LIST, &st);
    if (r != KUNCI_OK)
        return r;
    while (r == KUNCI_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        row_account(st, 0, &a);
        r = cb(arg, &a);
    }
    if (r == KUNCI_OK && rc != SQLITE_DONE)
        r = map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_app_password_insert(struct kunci_store *s, struct kunci_app_password *ap,
                                      int max_per_account)
{
    char protocols[KUNCI_PROTOCOLS_MAX];
    sqlite3_stmt *st = NULL;
    int r = begin(s);
    if (r != KUNCI_OK)
        return r;
    if ((r = stmt_get(s, ST_AP_COUNT, &st)) == KUNCI_OK) {
        sqlite3_bind_int64(st, 1, ap->account_id);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            r = map_rc(rc);
        else if (sqlite3_column_int(st, 0) >= max_per_account)
            r = KUNCI_ERR_LIMIT;
        stmt_done(st);
    }
    if (r == KUNCI_OK && (r = stmt_get(s, ST_AP_INSERT, &st)) == KUNCI_OK) {
        kunci_protocols_format(ap->protocols, protocols, sizeof(protocols));
        sqlite3_bind_int64(st, 1, ap->account_id);
        sqlite3_bind_text(st, 2, ap->name, -1, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, ap->digest, KUNCI_DIGEST_BYTES, SQLITE_STATIC);
        sqlite3_bind_text(st, 4, protocols, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 5, ap->networks, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 6, ap->created_at);
        sqlite3_bind_int64(st, 7, ap->expires_at);
        r = step_once(st);
        if (r == KUNCI_OK)
            ap->id = sqlite3_last_insert_rowid(s->db);
    }
    return finish(s, r);
}

static int sqlite_app_password_lookup(struct kunci_store *s, const uint8_t *digest,
                                      struct kunci_app_password_match *m)
{
    struct kunci_settings settings;
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_AP_LOOKUP, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_blob(st, 1, digest, KUNCI_DIGEST_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row_app_password(st, &m->app_password);
        row_account(st, 11, &m->account);
        kunci_settings_defaults(&settings);
        kunci_settings_apply(&settings, "app_passwords_allowed",
                             (const char *)sqlite3_column_text(st, 11 + ACCOUNT_NCOLS));
        m->app_passwords_allowed = settings.app_passwords_allowed;
        r = KUNCI_OK;
    } else {
        r = rc == SQLITE_DONE ? KUNCI_ERR_NOT_FOUND : map_rc(rc);
    }
    stmt_done(st);
    return r;
}

static int sqlite_app_password_list(struct kunci_store *s, int64_t account_id,
                                    kunci_app_password_cb cb, void *arg)
{
    struct kunci_app_password ap;
    sqlite3_stmt *st = NULL;
    int rc, r = stmt_get(s, ST_AP_LIST, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, account_id);
    while (r == KUNCI_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        row_app_password(st, &ap);
        r = cb(arg, &ap);
    }
    if (r == KUNCI_OK && rc != SQLITE_DONE)
        r = map_rc(rc);
    stmt_done(st);
    return r;
}

static int sqlite_app_password_delete(struct kunci_store *s, int64_t account_id, int64_t id)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_AP_DELETE, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, id);
    return changed_or_not_found(s, step_once(st));
}

static int sqlite_app_password_delete_all(struct kunci_store *s, int64_t account_id, int *count_r)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_AP_DELETE_ALL, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, account_id);
    r = step_once(st);
    if (count_r != NULL)
        *count_r = r == KUNCI_OK ? sqlite3_changes(s->db) : 0;
    return r;
}

static int sqlite_app_password_touch(struct kunci_store *s, int64_t id, int64_t now,
                                     int64_t min_interval, const char *ip, const char *protocol)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_AP_TOUCH, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_text(st, 3, ip, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, protocol, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, min_interval);
    return step_once(st);
}

static int sqlite_setting_set(struct kunci_store *s, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_SETTING_SET, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
    return step_once(st);
}

static int sqlite_settings_each(struct kunci_store *s, kunci_setting_cb cb, void *arg)
{
    sqlite3_stmt *st = NULL;
    int rc, r = stmt_get(s, ST_SETTINGS_EACH, &st);
    if (r != KUNCI_OK)
        return r;
    while (r == KUNCI_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        r = cb(arg, (const char *)sqlite3_column_text(st, 0),
               (const char *)sqlite3_column_text(st, 1));
    if (r == KUNCI_OK && rc != SQLITE_DONE)
        r = map_rc(rc);
    stmt_done(st);
    return r;
}

const struct kunci_store_backend kunci_store_sqlite = {
    .name = "sqlite",
    .open = sqlite_open,
    .close = sqlite_close,
    .migrate = sqlite_migrate,
    .account_by_login = sqlite_account_by_login,
    .account_insert = sqlite_account_insert,
    .account_update = sqlite_account_update,
    .account_rehash = sqlite_account_rehash,
    .account_delete = sqlite_account_delete,
    .account_list = sqlite_account_list,
    .app_password_insert = sqlite_app_password_insert,
    .app_password_lookup = sqlite_app_password_lookup,
    .app_password_list = sqlite_app_password_list,
    .app_password_delete = sqlite_app_password_delete,
    .app_password_delete_all = sqlite_app_password_delete_all,
    .app_password_touch = sqlite_app_password_touch,
    .setting_set = sqlite_setting_set,
    .settings_each = sqlite_settings_each,
};
