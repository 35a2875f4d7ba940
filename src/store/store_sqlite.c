/* SQLite backend: WAL, foreign keys, versioned migrations (PRAGMA user_version), every
 * change in one transaction, prepared statements kept per handle for the hot path. */
#include "core/err.h"
#include "store/store.h"
#include "store/store_sql.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
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
    /* 2: the web: sessions, second factors, one-time codes, trusted devices */
    "ALTER TABLE accounts ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;"
    "CREATE TABLE sessions ("
    "  id INTEGER PRIMARY KEY,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  csrf TEXT NOT NULL,"
    "  stage INTEGER NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  last_seen_at INTEGER NOT NULL,"
    "  password_at INTEGER NOT NULL);"
    "CREATE INDEX sessions_account ON sessions (account_id);"
    "CREATE TABLE mfa_methods ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('totp', 'phone', 'email')),"
    "  target TEXT NOT NULL DEFAULT '',"
    "  channel TEXT NOT NULL DEFAULT '',"
    "  secret BLOB,"
    "  is_default INTEGER NOT NULL DEFAULT 0,"
    "  verified INTEGER NOT NULL DEFAULT 0,"
    "  last_totp_step INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX mfa_methods_account ON mfa_methods (account_id);"
    "CREATE TABLE codes ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  method_id INTEGER NOT NULL UNIQUE REFERENCES mfa_methods (id) ON DELETE CASCADE,"
    "  code_hash BLOB NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE trusted_devices ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL);",
    /* 3: wrong codes per session, so guessing TOTP codes ends the session */
    "ALTER TABLE sessions ADD COLUMN code_failures INTEGER NOT NULL DEFAULT 0;",
    /* 4: distinct wrong passwords per login, for the lockout */
    "CREATE TABLE login_failures ("
    "  login_key BLOB NOT NULL,"
    "  secret_key BLOB NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (login_key, secret_key));",
    /* 5: the guards (consecutive failures per login, account and address; distinct wrong
     * secrets; successes per address; codes sent), a second factor proven per session,
     * a row to prove writes with, kunci's mark in the file header, and ids that are never
     * used twice (a stale "delete ID" must not hit a newer app password). */
    "ALTER TABLE sessions ADD COLUMN mfa_at INTEGER NOT NULL DEFAULT 0;"
    "DROP TABLE login_failures;"
    "CREATE TABLE login_failures ("
    "  login_key TEXT NOT NULL,"
    "  secret_key BLOB NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (login_key, secret_key));"
    "CREATE INDEX login_failures_at ON login_failures (at);"
    "CREATE TABLE lockouts ("
    "  scope TEXT NOT NULL,"
    "  subject TEXT NOT NULL,"
    "  label TEXT NOT NULL,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  locked_until INTEGER NOT NULL DEFAULT 0,"
    "  last_at INTEGER NOT NULL,"
    "  PRIMARY KEY (scope, subject));"
    "CREATE TABLE address_logins ("
    "  address TEXT NOT NULL,"
    "  login_key TEXT NOT NULL,"
    "  at INTEGER NOT NULL,"
    "  PRIMARY KEY (address, login_key));"
    "CREATE TABLE code_sends ("
    "  id INTEGER PRIMARY KEY,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  destination BLOB NOT NULL,"
    "  registering INTEGER NOT NULL,"
    "  at INTEGER NOT NULL);"
    "CREATE INDEX code_sends_account ON code_sends (account_id, at);"
    "CREATE INDEX code_sends_destination ON code_sends (destination, at);"
    "CREATE TABLE heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), at INTEGER NOT NULL);"
    "INSERT INTO heartbeat VALUES (1, 0);"
    "CREATE TABLE app_passwords_new ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
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
    "INSERT INTO app_passwords_new (id, account_id, name, digest, protocols, networks,"
    "  created_at, expires_at, last_used_at, last_used_ip, last_used_protocol)"
    "  SELECT id, account_id, name, digest, protocols, networks, created_at, expires_at,"
    "  last_used_at, last_used_ip, last_used_protocol FROM app_passwords;"
    "DROP TABLE app_passwords;"
    "ALTER TABLE app_passwords_new RENAME TO app_passwords;"
    "CREATE INDEX app_passwords_account ON app_passwords (account_id);"
    /* Pending codes go with the old table (ON DELETE CASCADE): they are minutes-long. */
    "CREATE TABLE mfa_methods_new ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('totp', 'phone', 'email')),"
    "  target TEXT NOT NULL DEFAULT '',"
    "  channel TEXT NOT NULL DEFAULT '',"
    "  secret BLOB,"
    "  is_default INTEGER NOT NULL DEFAULT 0,"
    "  verified INTEGER NOT NULL DEFAULT 0,"
    "  last_totp_step INTEGER NOT NULL DEFAULT 0,"
    "  created_at INTEGER NOT NULL);"
    "INSERT INTO mfa_methods_new (id, account_id, kind, target, channel, secret, is_default,"
    "  verified, last_totp_step, created_at) SELECT id, account_id, kind, target, channel,"
    "  secret, is_default, verified, last_totp_step, created_at FROM mfa_methods;"
    "DROP TABLE mfa_methods;"
    "ALTER TABLE mfa_methods_new RENAME TO mfa_methods;"
    "CREATE INDEX mfa_methods_account ON mfa_methods (account_id);"
    "PRAGMA application_id = 1802396521;", /* "knci", 0x6b6e6369 */
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

struct kunci_store {
    sqlite3 *db; /* NULL until it could be opened */
    sqlite3_stmt *stmts[ST_COUNT];
    char *path;
    int busy_timeout_ms;
    bool warned_invalid, warned_moved;
};

static int db_ready(struct kunci_store *s);

/* A locked, missing, busy or full database is a reason to try again later, never a wrong
 * password. What waiting will not fix (permissions, a read-only file, a file that is not a
 * database) is said as such: clients still hear "try again later", the operator and the
 * command line hear what to fix. */
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
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return KUNCI_ERR_STORE_ACCESS;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return KUNCI_ERR_STORE_INVALID;
    default:
        return KUNCI_ERR_TEMPFAIL;
    }
}

/* kunci's mark in the database header (PRAGMA application_id, migration 5): "knci". */
#define KUNCI_APPLICATION_ID 0x6b6e6369u

/* The file a process serves is the one it first opened at a path. A database file that was
 * replaced under a running server is never opened in its place: connections to two files
 * that share one -wal and -shm by name lose data. It is "try again later" until the
 * original is back (a rename back), or until a restart.
 *
 * Only the first look at a path reads the file's header itself, before any connection to it
 * exists in this process: closing any descriptor of a file drops every POSIX lock the
 * process holds on it, SQLite's included, and another process would then take itself for
 * the last connection and delete the WAL the others still use. Later looks are a stat(2). */
struct pin {
    struct pin *next;
    dev_t dev;
    ino_t ino;
    bool warned;
    char path[];
};
static pthread_mutex_t pin_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pin *pins;

static struct pin *pin_find(const char *path)
{
    struct pin *p = pins;
    while (p != NULL && strcmp(p->path, path) != 0)
        p = p->next;
    return p;
}

static void pin_add(const char *path, const struct stat *st)
{
    struct pin *p = calloc(1, sizeof(*p) + strlen(path) + 1);
    if (p == NULL)
        return;
    p->dev = st->st_dev;
    p->ino = st->st_ino;
    memcpy(p->path, path, strlen(path) + 1);
    p->next = pins;
    pins = p;
}

/* Only kunci's database is ever opened for writing: a file of another kind at the path
 * (garbage, an empty file, another program's database) is refused before SQLite sees it.
 * `fresh` allows a database kunci has not yet marked (made by an older version). */
static int read_header(const char *path, bool fresh, struct stat *st)
{
    unsigned char header[100];
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

    if (fd < 0)
        return errno == EACCES || errno == EPERM ? KUNCI_ERR_STORE_ACCESS : KUNCI_ERR_TEMPFAIL;
    ssize_t n = fstat(fd, st) == 0 && S_ISREG(st->st_mode) ? read(fd, header, sizeof(header)) : -1;
    close(fd);
    if (n != (ssize_t)sizeof(header) || memcmp(header, "SQLite format 3", 16) != 0)
        return KUNCI_ERR_STORE_INVALID;
    uint32_t app = (uint32_t)header[68] << 24 | (uint32_t)header[69] << 16 |
                   (uint32_t)header[70] << 8 | header[71];
    if (app != KUNCI_APPLICATION_ID && !(fresh && app == 0))
        return KUNCI_ERR_STORE_INVALID;
    return KUNCI_OK;
}

static int check_file(const char *path, bool fresh)
{
    struct stat st;
    int r = KUNCI_OK;

    pthread_mutex_lock(&pin_lock);
    struct pin *p = pin_find(path);
    if (p == NULL) {
        if ((r = read_header(path, fresh, &st)) == KUNCI_OK)
            pin_add(path, &st);
    } else if (stat(path, &st) != 0) {
        r = errno == EACCES || errno == EPERM ? KUNCI_ERR_STORE_ACCESS : KUNCI_ERR_TEMPFAIL;
    } else if (p->dev != st.st_dev || p->ino != st.st_ino) {
        if (!p->warned)
            fprintf(stderr,
                    "store: %s is another file than the one this process opened: it is not "
                    "used until the original is back or kunci restarts\n",
                    path);
        p->warned = true;
        r = KUNCI_ERR_TEMPFAIL;
    } else {
        p->warned = false;
    }
    pthread_mutex_unlock(&pin_lock);
    return r;
}

/* After SQLite made a new file (kunci init): later looks compare against it. */
static void pin_created(const char *path)
{
    struct stat st;
    pthread_mutex_lock(&pin_lock);
    if (pin_find(path) == NULL && stat(path, &st) == 0)
        pin_add(path, &st);
    pthread_mutex_unlock(&pin_lock);
}

static int stmt_get(struct kunci_store *s, enum stmt_id id, sqlite3_stmt **st_r)
{
    int r = db_ready(s);
    if (r != KUNCI_OK)
        return r;
    if (s->stmts[id] == NULL) {
        int rc = sqlite3_prepare_v3(s->db, kunci_sql_text[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmts[id], NULL);
        if (rc != SQLITE_OK) {
            s->stmts[id] = NULL;
            return map_rc(rc);
        }
    }
    *st_r = s->stmts[id];
    return KUNCI_OK;
}

/* Statements are reset after each use so no read transaction outlives a call. A reset also
 * ends a statement that returned rows (INSERT ... RETURNING), and without an explicit
 * transaction that is where it commits: its result counts (a full disk shows here). */
static int stmt_done(sqlite3_stmt *st)
{
    int rc = sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/* r, or the reset's failure when r was a success. */
static int done_with(sqlite3_stmt *st, int r)
{
    int rc = stmt_done(st);
    return r == KUNCI_OK && rc != SQLITE_OK ? map_rc(rc) : r;
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
    a->must_change_password = sqlite3_column_int(st, c + 9) != 0;
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
        ap->protocols = KUNCI_PROTO_UNREADABLE; /* fail closed: matches no protocol */
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

static int db_open(struct kunci_store *s, bool create, bool fresh)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int r, rc;

    bool creating = create && access(s->path, F_OK) != 0;
    if (!creating && (r = check_file(s->path, fresh)) != KUNCI_OK) {
        if (r == KUNCI_ERR_STORE_INVALID && !fresh && !s->warned_invalid)
            fprintf(stderr, "store: %s is not kunci's database: not opened\n", s->path);
        s->warned_invalid = r == KUNCI_ERR_STORE_INVALID;
        return r;
    }
    rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);

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
    if (creating)
        pin_created(s->path);
    return KUNCI_OK;
fail:
    /* A file that is there but cannot be opened (or its -wal and -shm cannot be made next
     * to it): permissions, not an outage. */
    if (r == KUNCI_ERR_TEMPFAIL && s->db != NULL &&
        (sqlite3_extended_errcode(s->db) & 0xff) == SQLITE_CANTOPEN && access(s->path, F_OK) == 0)
        r = KUNCI_ERR_STORE_ACCESS;
    db_close(s);
    return r;
}

/* A database file that was removed or replaced under a running server is an outage, not an
 * empty database: the handle stays on the file it has and answers "try again later" until
 * that file is back at its path (see check_file); a handle that has none opens one, never
 * creating it. The check is one stat(2). */
static int db_ready(struct kunci_store *s)
{
    int moved = 0;

    if (s->db == NULL)
        return db_open(s, false, false);
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK || moved) {
        if (!s->warned_moved)
            fprintf(stderr,
                    "store: %s was moved away or replaced: try again later until it is "
                    "back\n",
                    s->path);
        s->warned_moved = true;
        return KUNCI_ERR_TEMPFAIL;
    }
    s->warned_moved = false;
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
    /* Opening at start (kunci init, a command, serve's first look) may meet a database an
     * older kunci made, not yet marked: the migration marks it. */
    r = db_open(s, opts->create, true);
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
    int version = 0, r;

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
    return done_with(st, r);
}

static void bind_account(sqlite3_stmt *st, const struct kunci_account *a)
{
    sqlite3_bind_text(st, 2, a->display_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, kunci_role_name(a->role), -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, a->enabled ? 1 : 0);
    sqlite3_bind_text(st, 5, kunci_mfa_state_name(a->mfa_state), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, a->password_hash, -1, SQLITE_STATIC);
}

static void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
    sqlite3_bind_blob(st, i, p, (int)n, SQLITE_STATIC);
}

static int step_once(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_DONE ? KUNCI_OK : map_rc(rc == SQLITE_ROW ? SQLITE_MISUSE : rc);
    return done_with(st, r);
}

/* INSERT ... RETURNING id, stepped to its end so that the write is done, or failed. */
static int step_returning_id(sqlite3_stmt *st, int64_t *id_r)
{
    int rc = sqlite3_step(st);
    int r = rc == SQLITE_ROW ? KUNCI_OK : map_rc(rc == SQLITE_DONE ? SQLITE_MISUSE : rc);
    if (r == KUNCI_OK) {
        int64_t id = sqlite3_column_int64(st, 0);
        rc = sqlite3_step(st);
        r = rc == SQLITE_DONE ? KUNCI_OK : map_rc(rc == SQLITE_ROW ? SQLITE_MISUSE : rc);
        if (r == KUNCI_OK)
            *id_r = id;
    }
    return done_with(st, r);
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
    sqlite3_bind_int(st, 9, acct->must_change_password ? 1 : 0);
    r = step_returning_id(st, &acct->id);
    return r;
}

static int changed_or_not_found(struct kunci_store *s, int r)
{
    if (r == KUNCI_OK && sqlite3_changes(s->db) == 0)
        return KUNCI_ERR_NOT_FOUND;
    return r;
}

static int sqlite_account_update(struct kunci_store *s, const struct kunci_account *acct,
                                 unsigned flags, int64_t keep_session_id)
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
        sqlite3_bind_int(st, 8, acct->must_change_password ? 1 : 0);
        r = changed_or_not_found(s, step_once(st));
    }
    if (r == KUNCI_OK && (flags & KUNCI_UPDATE_REVOKE_APP_PASSWORDS) &&
        (r = stmt_get(s, ST_AP_DELETE_ALL, &st)) == KUNCI_OK) {
        sqlite3_bind_int64(st, 1, acct->id);
        r = step_once(st);
    }
    if (r == KUNCI_OK && (flags & KUNCI_UPDATE_END_SESSIONS) &&
        (r = stmt_get(s, ST_SESSIONS_END, &st)) == KUNCI_OK) {
        sqlite3_bind_int64(st, 1, acct->id);
        sqlite3_bind_int64(st, 2, keep_session_id);
        if ((r = step_once(st)) == KUNCI_OK && (r = stmt_get(s, ST_DEVICES_FORGET, &st)) == 0) {
            sqlite3_bind_int64(st, 1, acct->id);
            r = step_once(st);
        }
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
    return done_with(st, r);
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
        r = done_with(st, r);
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
        r = step_returning_id(st, &ap->id);
    }
    return finish(s, r);
}

static int sqlite_app_password_lookup(struct kunci_store *s, const uint8_t *digest,
                                      struct kunci_app_password_match *m)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_AP_LOOKUP, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_blob(st, 1, digest, KUNCI_DIGEST_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        row_app_password(st, &m->app_password);
        row_account(st, APP_PASSWORD_NCOLS, &m->account);
        m->app_passwords_allowed = kunci_setting_true(
            "app_passwords_allowed",
            (const char *)sqlite3_column_text(st, APP_PASSWORD_NCOLS + ACCOUNT_NCOLS));
        r = KUNCI_OK;
    } else {
        r = rc == SQLITE_DONE ? KUNCI_ERR_NOT_FOUND : map_rc(rc);
    }
    return done_with(st, r);
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
    return done_with(st, r);
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
    return done_with(st, r);
}

/* Runs a prepared statement expected to return at most one row through fill. */
static int one_row(sqlite3_stmt *st, void (*fill)(sqlite3_stmt *, void *), void *out)
{
    int rc = sqlite3_step(st), r;
    if (rc == SQLITE_ROW) {
        if (fill != NULL)
            fill(st, out);
        rc = sqlite3_step(st); /* to its end: an UPDATE ... RETURNING commits there */
        r = rc == SQLITE_DONE || rc == SQLITE_ROW ? KUNCI_OK : map_rc(rc);
    } else {
        r = rc == SQLITE_DONE ? KUNCI_ERR_NOT_FOUND : map_rc(rc);
    }
    return done_with(st, r);
}

static void fill_account(sqlite3_stmt *st, void *out)
{
    row_account(st, 0, out);
}

static int sqlite_account_by_id(struct kunci_store *s, int64_t id, struct kunci_account *acct_r)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_ACCOUNT_BY_ID, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, id);
    return one_row(st, fill_account, acct_r);
}

static void fill_session(sqlite3_stmt *st, void *out)
{
    struct kunci_session *x = out;
    memset(x, 0, sizeof(*x));
    x->id = sqlite3_column_int64(st, 0);
    x->account_id = sqlite3_column_int64(st, 1);
    if (sqlite3_column_bytes(st, 2) == KUNCI_TOKEN_HASH_BYTES)
        memcpy(x->token_hash, sqlite3_column_blob(st, 2), KUNCI_TOKEN_HASH_BYTES);
    copy_text(x->csrf, sizeof(x->csrf), st, 3);
    x->stage = sqlite3_column_int(st, 4) == KUNCI_SESSION_FULL ? KUNCI_SESSION_FULL
                                                               : KUNCI_SESSION_PASSWORD;
    x->created_at = sqlite3_column_int64(st, 5);
    x->last_seen_at = sqlite3_column_int64(st, 6);
    x->password_at = sqlite3_column_int64(st, 7);
    x->mfa_at = sqlite3_column_int64(st, 8);
}

static int sqlite_session_insert(struct kunci_store *s, struct kunci_session *x)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_SESSION_INSERT, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, x->account_id);
    bind_blob(st, 2, x->token_hash, KUNCI_TOKEN_HASH_BYTES);
    sqlite3_bind_text(st, 3, x->csrf, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 4, (int)x->stage);
    sqlite3_bind_int64(st, 5, x->created_at);
    sqlite3_bind_int64(st, 6, x->last_seen_at);
    sqlite3_bind_int64(st, 7, x->password_at);
    sqlite3_bind_int64(st, 8, x->mfa_at);
    r = step_returning_id(st, &x->id);
    return r;
}

static int sqlite_session_lookup(struct kunci_store *s, const uint8_t *token_hash,
                                 struct kunci_session *sess_r)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_SESSION_LOOKUP, &st);
    if (r != KUNCI_OK)
        return r;
    bind_blob(st, 1, token_hash, KUNCI_TOKEN_HASH_BYTES);
    return one_row(st, fill_session, sess_r);
}

static int sqlite_session_update(struct kunci_store *s, const struct kunci_session *x)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_SESSION_UPDATE, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, x->id);
    sqlite3_bind_int(st, 2, (int)x->stage);
    sqlite3_bind_int64(st, 3, x->last_seen_at);
    sqlite3_bind_int64(st, 4, x->password_at);
    sqlite3_bind_int64(st, 5, x->mfa_at);
    return changed_or_not_found(s, step_once(st));
}

static int by_id(struct kunci_store *s, enum stmt_id id_stmt, int64_t a, int64_t b, int nargs)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, id_stmt, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, a);
    if (nargs > 1)
        sqlite3_bind_int64(st, 2, b);
    return changed_or_not_found(s, step_once(st));
}

static int sqlite_session_delete(struct kunci_store *s, int64_t id)
{
    return by_id(s, ST_SESSION_DELETE, id, 0, 1);
}

static int sqlite_purge_expired(struct kunci_store *s, int64_t idle_before, int64_t created_before,
                                int64_t now)
{
    static const enum stmt_id purges[] = {ST_PURGE_SESSIONS, ST_PURGE_DEVICES, ST_PURGE_CODES};
    sqlite3_stmt *st = NULL;
    int r = begin(s);

    for (size_t i = 0; r == KUNCI_OK && i < sizeof(purges) / sizeof(purges[0]); i++) {
        if ((r = stmt_get(s, purges[i], &st)) != KUNCI_OK)
            break;
        sqlite3_bind_int64(st, 1, purges[i] == ST_PURGE_SESSIONS ? idle_before : now);
        if (purges[i] == ST_PURGE_SESSIONS)
            sqlite3_bind_int64(st, 2, created_before);
        r = step_once(st);
    }
    return finish(s, r);
}

static void fill_int(sqlite3_stmt *st, void *out)
{
    *(int *)out = sqlite3_column_int(st, 0);
}

static int sqlite_session_code_failure(struct kunci_store *s, int64_t id, int *count_r)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_SESSION_FAILURE, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, id);
    return one_row(st, fill_int, count_r);
}

static void fill_method(sqlite3_stmt *st, void *out)
{
    struct kunci_mfa_method *m = out;
    memset(m, 0, sizeof(*m));
    m->id = sqlite3_column_int64(st, 0);
    m->account_id = sqlite3_column_int64(st, 1);
    if (kunci_method_kind_parse((const char *)sqlite3_column_text(st, 2), &m->kind) != 0)
        m->kind = 0;
    copy_text(m->target, sizeof(m->target), st, 3);
    copy_text(m->channel, sizeof(m->channel), st, 4);
    int n = sqlite3_column_bytes(st, 5);
    if (n > 0 && (size_t)n <= sizeof(m->secret)) {
        memcpy(m->secret, sqlite3_column_blob(st, 5), (size_t)n);
        m->secret_len = (size_t)n;
    }
    m->is_default = sqlite3_column_int(st, 6) != 0;
    m->verified = sqlite3_column_int(st, 7) != 0;
    m->last_totp_step = sqlite3_column_int64(st, 8);
    m->created_at = sqlite3_column_int64(st, 9);
}

static int sqlite_method_insert(struct kunci_store *s, struct kunci_mfa_method *m)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_METHOD_INSERT, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, m->account_id);
    sqlite3_bind_text(st, 2, kunci_method_kind_name(m->kind), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, m->target, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, m->channel, -1, SQLITE_STATIC);
    if (m->secret_len > 0)
        bind_blob(st, 5, m->secret, m->secret_len);
    sqlite3_bind_int64(st, 6, m->created_at);
    r = step_returning_id(st, &m->id);
    return r;
}

static int sqlite_method_get(struct kunci_store *s, int64_t account_id, int64_t id,
                             struct kunci_mfa_method *m_r)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_METHOD_GET, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, id);
    return one_row(st, fill_method, m_r);
}

static int sqlite_method_list(struct kunci_store *s, int64_t account_id, kunci_method_cb cb,
                              void *arg)
{
    struct kunci_mfa_method m;
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_DONE, r = stmt_get(s, ST_METHOD_LIST, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, account_id);
    while (r == KUNCI_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        fill_method(st, &m);
        r = cb(arg, &m);
    }
    if (r == KUNCI_OK && rc != SQLITE_DONE)
        r = map_rc(rc);
    sodium_memzero(&m, sizeof(m));
    return done_with(st, r);
}

static int sqlite_method_delete(struct kunci_store *s, int64_t account_id, int64_t id)
{
    return by_id(s, ST_METHOD_DELETE, account_id, id, 2);
}

static int sqlite_method_set_default(struct kunci_store *s, int64_t account_id, int64_t id)
{
    int r = begin(s);
    if (r != KUNCI_OK)
        return r;
    r = by_id(s, ST_METHOD_CLEAR_DEFAULT, account_id, 0, 1);
    if (r == KUNCI_ERR_NOT_FOUND)
        r = KUNCI_OK;
    if (r == KUNCI_OK)
        r = by_id(s, ST_METHOD_SET_DEFAULT, account_id, id, 2);
    return finish(s, r);
}

static int sqlite_method_use_totp_step(struct kunci_store *s, int64_t id, int64_t step)
{
    int r = by_id(s, ST_METHOD_USE_STEP, id, step, 2);
    return r == KUNCI_ERR_NOT_FOUND ? KUNCI_ERR_EXISTS : r;
}

static int sqlite_method_verify(struct kunci_store *s, int64_t account_id, int64_t id)
{
    int r = begin(s);
    if (r != KUNCI_OK)
        return r;
    r = by_id(s, ST_METHOD_VERIFY, account_id, id, 2);
    if (r == KUNCI_OK) {
        r = by_id(s, ST_METHOD_DEFAULT_IF_NONE, account_id, id, 2);
        if (r == KUNCI_ERR_NOT_FOUND)
            r = KUNCI_OK; /* it had a default already */
    }
    return finish(s, r);
}

static void fill_code(sqlite3_stmt *st, void *out)
{
    struct kunci_code *c = out;
    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(st, 0);
    c->account_id = sqlite3_column_int64(st, 1);
    c->method_id = sqlite3_column_int64(st, 2);
    if (sqlite3_column_bytes(st, 3) == KUNCI_TOKEN_HASH_BYTES)
        memcpy(c->code_hash, sqlite3_column_blob(st, 3), KUNCI_TOKEN_HASH_BYTES);
    c->expires_at = sqlite3_column_int64(st, 4);
    c->attempts = sqlite3_column_int(st, 5);
}

static int sqlite_code_put(struct kunci_store *s, struct kunci_code *c)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_CODE_PUT, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, c->account_id);
    sqlite3_bind_int64(st, 2, c->method_id);
    bind_blob(st, 3, c->code_hash, KUNCI_TOKEN_HASH_BYTES);
    sqlite3_bind_int64(st, 4, c->expires_at);
    return step_once(st);
}

static int sqlite_code_get(struct kunci_store *s, int64_t account_id, int64_t method_id,
                           struct kunci_code *code_r)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_CODE_GET, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_int64(st, 2, method_id);
    return one_row(st, fill_code, code_r);
}

static int sqlite_code_count_attempt(struct kunci_store *s, int64_t id)
{
    return by_id(s, ST_CODE_ATTEMPT, id, 0, 1);
}

static int sqlite_code_delete(struct kunci_store *s, int64_t id)
{
    return by_id(s, ST_CODE_DELETE, id, 0, 1);
}

static int sqlite_device_insert(struct kunci_store *s, int64_t account_id,
                                const uint8_t *token_hash, int64_t created_at, int64_t expires_at)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_DEVICE_INSERT, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, account_id);
    bind_blob(st, 2, token_hash, KUNCI_TOKEN_HASH_BYTES);
    sqlite3_bind_int64(st, 3, created_at);
    sqlite3_bind_int64(st, 4, expires_at);
    return step_once(st);
}

static int sqlite_device_valid(struct kunci_store *s, int64_t account_id, const uint8_t *token_hash,
                               int64_t now)
{
    sqlite3_stmt *st = NULL;
    int r = stmt_get(s, ST_DEVICE_VALID, &st);
    if (r != KUNCI_OK)
        return r;
    sqlite3_bind_int64(st, 1, account_id);
    bind_blob(st, 2, token_hash, KUNCI_TOKEN_HASH_BYTES);
    sqlite3_bind_int64(st, 3, now);
    return one_row(st, NULL, NULL);
}

static int64_t row_integer(const struct kunci_sql_row *row, int col)
{
    return sqlite3_column_int64(row->impl, col);
}

static const char *row_text(const struct kunci_sql_row *row, int col)
{
    const unsigned char *t = sqlite3_column_text(row->impl, col);
    return t != NULL ? (const char *)t : "";
}

static int sqlite_run(struct kunci_store *s, int id, const struct kunci_sql_arg *args, int nargs,
                      kunci_sql_row_cb cb, void *arg, int64_t *changes_r)
{
    struct kunci_sql_row row = {row_integer, row_text, NULL, 0};
    sqlite3_stmt *st = NULL;
    int rc = SQLITE_DONE, r = stmt_get(s, (enum stmt_id)id, &st);

    if (changes_r != NULL)
        *changes_r = 0;
    if (r != KUNCI_OK)
        return r;
    for (int i = 0; i < nargs; i++) {
        const struct kunci_sql_arg *a = &args[i];
        if (a->kind == KUNCI_SQL_INT)
            sqlite3_bind_int64(st, i + 1, a->i);
        else if (a->kind == KUNCI_SQL_TEXT)
            sqlite3_bind_text(st, i + 1, a->text, -1, SQLITE_STATIC);
        else
            sqlite3_bind_blob(st, i + 1, a->blob, (int)a->len, SQLITE_STATIC);
    }
    row.impl = st;
    while (r == KUNCI_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (cb != NULL)
            r = cb(arg, &row);
        row.index++;
    }
    if (r == KUNCI_OK && rc != SQLITE_DONE)
        r = map_rc(rc);
    r = done_with(st, r);
    if (r == KUNCI_OK && changes_r != NULL)
        *changes_r = sqlite3_changes(s->db);
    return r;
}

static int sqlite_tx_begin(struct kunci_store *s)
{
    return begin(s);
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
    .account_by_id = sqlite_account_by_id,
    .session_insert = sqlite_session_insert,
    .session_lookup = sqlite_session_lookup,
    .session_update = sqlite_session_update,
    .session_delete = sqlite_session_delete,
    .session_code_failure = sqlite_session_code_failure,
    .purge_expired = sqlite_purge_expired,
    .method_insert = sqlite_method_insert,
    .method_get = sqlite_method_get,
    .method_list = sqlite_method_list,
    .method_delete = sqlite_method_delete,
    .method_set_default = sqlite_method_set_default,
    .method_use_totp_step = sqlite_method_use_totp_step,
    .method_verify = sqlite_method_verify,
    .code_put = sqlite_code_put,
    .code_get = sqlite_code_get,
    .code_count_attempt = sqlite_code_count_attempt,
    .code_delete = sqlite_code_delete,
    .device_insert = sqlite_device_insert,
    .device_valid = sqlite_device_valid,
    .tx_begin = sqlite_tx_begin,
    .tx_finish = finish,
    .run = sqlite_run,
};
