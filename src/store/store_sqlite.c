/* The SQLite driver: WAL, foreign keys, versioned migrations (PRAGMA user_version), prepared
 * statements kept per handle for the hot path, and the file a process serves pinned (a
 * database moved or replaced under it is an outage, never an empty database). */
#include "core/log.h"
#include "core/err.h"
#include "core/key_binding.h"
#include "store/driver.h"
#include "store/statements.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <limits.h>
#include <stdatomic.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    /* Answers kept for a request sent again (core/once.h): minutes-long. */
    "CREATE TABLE request_once ("
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  request_key TEXT NOT NULL,"
    "  fingerprint BLOB NOT NULL,"
    "  status INTEGER NOT NULL DEFAULT 0,"
    "  sealed BLOB,"
    "  created_at INTEGER NOT NULL,"
    "  PRIMARY KEY (account_id, request_key));"
    "CREATE INDEX request_once_created ON request_once (created_at);",
    /* The activity record (core/events.h). No foreign key: a deleted user's events stay,
     * under the login. */
    "CREATE TABLE events ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  at INTEGER NOT NULL,"
    "  last_at INTEGER NOT NULL,"
    "  event TEXT NOT NULL,"
    "  actor TEXT NOT NULL DEFAULT '',"
    "  subject TEXT NOT NULL DEFAULT '',"
    "  account_id INTEGER,"
    "  client_ip TEXT NOT NULL DEFAULT '',"
    "  agent TEXT NOT NULL DEFAULT '',"
    "  outcome TEXT NOT NULL DEFAULT '',"
    "  reason TEXT NOT NULL DEFAULT '',"
    "  detail TEXT NOT NULL DEFAULT '',"
    "  app_password_id INTEGER,"
    "  count INTEGER NOT NULL DEFAULT 1,"
    "  agg_key BLOB,"
    "  agg_bucket INTEGER);"
    "CREATE UNIQUE INDEX events_aggregate ON events (agg_key, agg_bucket);"
    "CREATE INDEX events_account ON events (account_id, id);"
    "CREATE INDEX events_last_at ON events (last_at);",
    /* The users list at scale: prefix search on the login and the display name (lowercase,
     * kept by the code), the last web sign-in; and the mail clients that still use the
     * account password (readiness before "enforced"). */
    "ALTER TABLE accounts ADD COLUMN display_key TEXT NOT NULL DEFAULT '';"
    "UPDATE accounts SET display_key = lower(display_name);"
    "CREATE INDEX accounts_display_key ON accounts (display_key);"
    "ALTER TABLE accounts ADD COLUMN last_sign_in_at INTEGER;"
    "CREATE TABLE legacy_clients ("
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  protocol TEXT NOT NULL,"
    "  client_ip TEXT NOT NULL,"
    "  first_at INTEGER NOT NULL,"
    "  last_at INTEGER NOT NULL,"
    "  count INTEGER NOT NULL DEFAULT 1,"
    "  PRIMARY KEY (account_id, protocol, client_ip));",
    /* The first "Not now" to set-up (mfa_setup_grace_days counts from it). */
    "ALTER TABLE accounts ADD COLUMN setup_deferred_at INTEGER;",
    /* Recovery: backup codes (keyed hashes, each used once) and an administrator's
     * temporary access pass (one per account). */
    "CREATE TABLE backup_codes ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  digest BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  used_at INTEGER,"
    "  UNIQUE (account_id, digest));"
    "CREATE TABLE access_passes ("
    "  account_id INTEGER PRIMARY KEY REFERENCES accounts (id) ON DELETE CASCADE,"
    "  digest BLOB NOT NULL,"
    "  created_at INTEGER NOT NULL,"
    "  expires_at INTEGER NOT NULL,"
    "  one_time INTEGER NOT NULL,"
    "  used_at INTEGER);",
    /* Passkeys and security keys (WebAuthn): a method of kind 'passkey' (the table is built
     * again for the new kind; pending codes go with the old one, they are minutes-long), its
     * credential beside it, and the challenges already answered (each is used once). */
    "CREATE TABLE mfa_methods_new ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  kind TEXT NOT NULL CHECK (kind IN ('totp', 'phone', 'email', 'passkey')),"
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
    "CREATE TABLE passkeys ("
    "  method_id INTEGER PRIMARY KEY REFERENCES mfa_methods (id) ON DELETE CASCADE,"
    "  account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,"
    "  credential_id BLOB NOT NULL UNIQUE,"
    "  public_key BLOB NOT NULL,"
    "  algorithm INTEGER NOT NULL,"
    "  sign_count INTEGER NOT NULL DEFAULT 0,"
    "  aaguid BLOB NOT NULL,"
    "  backup_eligible INTEGER NOT NULL DEFAULT 0,"
    "  backup_state INTEGER NOT NULL DEFAULT 0,"
    "  user_verified INTEGER NOT NULL DEFAULT 0,"
    "  discoverable INTEGER NOT NULL DEFAULT 0,"
    "  transports TEXT NOT NULL DEFAULT '',"
    "  last_used_at INTEGER);"
    "CREATE INDEX passkeys_account ON passkeys (account_id);"
    "CREATE TABLE webauthn_challenges ("
    "  challenge BLOB PRIMARY KEY,"
    "  expires_at INTEGER NOT NULL);",
    /* A count of the changes the auth path's cache depends on (docs/cache.md): an app
     * password's (not its last use), an account's (not its last sign-in), a setting's. Any
     * commit moves the WAL index; only these move the count, so a last use or the activity
     * record does not empty the caches. Triggers are part of the database: every writer,
     * the sqlite3 shell included, keeps the count. */
    "CREATE TABLE change_count (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);"
    "INSERT INTO change_count VALUES (1, 0);"
    "CREATE TRIGGER change_count_ap_insert AFTER INSERT ON app_passwords"
    "  BEGIN UPDATE change_count SET n = n + 1; END;"
    "CREATE TRIGGER change_count_ap_delete AFTER DELETE ON app_passwords"
    "  BEGIN UPDATE change_count SET n = n + 1; END;"
    "CREATE TRIGGER change_count_ap_update AFTER UPDATE OF id, account_id, name, digest,"
    "  protocols, networks, created_at, expires_at ON app_passwords"
    "  BEGIN UPDATE change_count SET n = n + 1; END;"
    "CREATE TRIGGER change_count_account_insert AFTER INSERT ON accounts"
    "  BEGIN UPDATE change_count SET n = n + 1; END;"
    "CREATE TRIGGER change_count_account_delete AFTER DELETE ON accounts"
    "  BEGIN UPDATE change_count SET n = n + 1; END;"
    "CREATE TRIGGER change_count_account_update AFTER UPDATE OF id, login, display_name, role,"
    "  enabled, mfa_state, password_hash, created_at, password_changed_at,"
    "  must_change_password ON accounts"
    "  BEGIN UPDATE change_count SET n = n + 1; END;"
    "CREATE TRIGGER change_count_setting_insert AFTER INSERT ON settings"
    "  BEGIN UPDATE change_count SET n = n + 1; END;"
    "CREATE TRIGGER change_count_setting_delete AFTER DELETE ON settings"
    "  BEGIN UPDATE change_count SET n = n + 1; END;"
    "CREATE TRIGGER change_count_setting_update AFTER UPDATE ON settings"
    "  BEGIN UPDATE change_count SET n = n + 1; END;",
    /* Key rotation: the key each app password's digest is under ('' before this). */
    "ALTER TABLE app_passwords ADD COLUMN key_id TEXT NOT NULL DEFAULT '';",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

struct sqlite_db {
    sqlite3 *db; /* NULL until it could be opened */
    sqlite3_stmt *stmts[ST_COUNT];
    char *path;
    int busy_timeout_ms;
    bool warned_invalid, warned_moved;
    int64_t moved_checked_ms;           /* when the file was last seen where it was opened */
    struct pin *pin;                    /* its path's (never freed), or NULL */
    unsigned pin_events;                /* the pin's events when it was seen there */
    bool has_read;                      /* a read went through: the WAL index exists */
    const volatile uint64_t *wal_index; /* its header, as SQLite maps it; NULL: unknown */
    /* The change count (sqlite_generation) as read under a WAL index header. */
    sqlite3_stmt *count_stmt;
    bool count_known;
    uint64_t count_header[6];
    int64_t count;
    uint64_t opened; /* connections opened so far: counts of two connections never mix */
};

static int db_ready(struct sqlite_db *s);

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
    atomic_uint events; /* what happened to the path in its folder (inotify): look again */
    int watch;          /* the folder's inotify watch, or -1 */
    const char *name;   /* the file's name in it */
    char path[];
};
static pthread_mutex_t pin_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pin *pins;

/* What happens in the folders of the databases a process opened (inotify): the file
 * renamed away or over, deleted, or the folder itself moved. One thread of the process waits
 * on the queue and counts each event in its pin; a handle compares the count before it
 * trusts its file, which costs a request no system call (reading the queue on every request
 * was a twentieth of the auth path's CPU). The thread wakes as the rename happens: a request
 * that comes after it has run sees it; one a few microseconds sooner is still answered from
 * the file it has, which held kunci's data until that moment. Without inotify, or without
 * the thread, handles look every MOVED_CHECK_MS. */
static int watch_fd = -1;

static void count_events(const char *buf, ssize_t n)
{
    pthread_mutex_lock(&pin_lock);
    for (const char *p = buf; p < buf + n;) {
        const struct inotify_event *ev = (const struct inotify_event *)p;
        for (struct pin *pin = pins; pin != NULL; pin = pin->next)
            if ((ev->mask & IN_Q_OVERFLOW) ||
                (pin->watch == ev->wd &&
                 ((ev->mask & (IN_MOVE_SELF | IN_DELETE_SELF | IN_IGNORED)) ||
                  (ev->len > 0 && strcmp(ev->name, pin->name) == 0))))
                atomic_fetch_add(&pin->events, 1);
        p += sizeof(*ev) + ev->len;
    }
    pthread_mutex_unlock(&pin_lock);
}

static void *watch_thread(void *arg)
{
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    (void)arg;
    for (;;) {
        ssize_t n = read(watch_fd, buf, sizeof(buf));
        if (n > 0)
            count_events(buf, n);
        else if (n < 0 && errno != EINTR)
            return NULL; /* cannot happen to a valid descriptor: the timed look remains */
    }
}

/* The watching thread takes no signal: the server waits for its own with sigwait. */
static bool watch_start(void)
{
    sigset_t all, old;
    pthread_attr_t attr;
    pthread_t t;

    sigfillset(&all);
    if (pthread_attr_init(&attr) != 0)
        return false;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    bool ok = pthread_create(&t, &attr, watch_thread, NULL) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return ok;
}

/* Under pin_lock. */
static void pin_watch(struct pin *p)
{
    static bool tried;
    p->watch = -1;
    if (!tried) {
        tried = true;
        watch_fd = inotify_init1(IN_CLOEXEC);
        if (watch_fd >= 0 && !watch_start()) {
            close(watch_fd);
            watch_fd = -1;
        }
    }
    if (watch_fd < 0)
        return;
    char dir[PATH_MAX];
    const char *slash = strrchr(p->path, '/');
    snprintf(dir, sizeof(dir), "%.*s",
             slash == NULL ? 1 : (int)(slash - p->path + (slash == p->path)),
             slash == NULL ? "." : p->path);
    p->name = slash == NULL ? p->path : slash + 1;
    p->watch = inotify_add_watch(watch_fd, dir,
                                 IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_CREATE |
                                     IN_MOVE_SELF | IN_DELETE_SELF);
}

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
    pin_watch(p);
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
            kunci_log("store.replaced",
                      "%s is another file than the one this process opened: it is not used "
                      "until the original is back or kunci restarts",
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

static int stmt_get(struct sqlite_db *s, enum stmt_id id, sqlite3_stmt **st_r)
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

static int exec_on(sqlite3 *db, const char *sql)
{
    return map_rc(sqlite3_exec(db, sql, NULL, NULL, NULL));
}

static int exec(struct sqlite_db *s, const char *sql)
{
    return exec_on(s->db, sql);
}

static int begin(struct sqlite_db *s)
{
    int r = db_ready(s);
    return r != KUNCI_OK ? r : exec(s, "BEGIN IMMEDIATE");
}

static int finish(struct sqlite_db *s, int r)
{
    if (r == KUNCI_OK) {
        r = exec(s, "COMMIT");
        if (r == KUNCI_OK)
            return KUNCI_OK;
    }
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    return r;
}

static void db_close(struct sqlite_db *s)
{
    s->wal_index = NULL;
    s->has_read = false;
    s->moved_checked_ms = 0;
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(s->stmts[i]);
        s->stmts[i] = NULL;
    }
    sqlite3_finalize(s->count_stmt);
    s->count_stmt = NULL;
    s->count_known = false;
    sqlite3_close_v2(s->db);
    s->db = NULL;
}

static int db_open(struct sqlite_db *s, bool create, bool fresh)
{
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    int r, rc;

    bool creating = create && access(s->path, F_OK) != 0;
    if (!creating && (r = check_file(s->path, fresh)) != KUNCI_OK) {
        if (r == KUNCI_ERR_STORE_INVALID && !fresh && !s->warned_invalid)
            kunci_log("store.invalid", "%s is not kunci's database: not opened", s->path);
        s->warned_invalid = r == KUNCI_ERR_STORE_INVALID;
        return r;
    }
    rc = sqlite3_open_v2(s->path, &s->db, flags, NULL);
    s->opened++;

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

/* How often a handle looks whether its file is still at its path when nothing was heard of
 * it (watch_thread), for what a folder's watch cannot tell (a folder above it renamed): a
 * stat(2) per statement cost the auth path a tenth of its speed. */
#define MOVED_CHECK_MS 100

static int64_t coarse_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A database file that was removed or replaced under a running server is an outage, not an
 * empty database: the handle stays on the file it has and answers "try again later" until
 * that file is back at its path (see check_file); a handle that has none opens one, never
 * creating it. The check is one stat(2), at most every MOVED_CHECK_MS while the file is in
 * place, on every call while it is not. */
static int db_ready(struct sqlite_db *s)
{
    int moved = 0;

    if (s->db == NULL)
        return db_open(s, false, false);
    int64_t now = coarse_ms();
    if (s->pin == NULL) {
        pthread_mutex_lock(&pin_lock);
        s->pin = pin_find(s->path);
        pthread_mutex_unlock(&pin_lock);
    }
    unsigned events = s->pin != NULL ? atomic_load(&s->pin->events) : 0;
    if (s->moved_checked_ms != 0 && events == s->pin_events &&
        now - s->moved_checked_ms < MOVED_CHECK_MS)
        return KUNCI_OK;
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK || moved) {
        if (!s->warned_moved)
            kunci_log("store.replaced",
                      "%s was moved away or replaced: try again later until it is back", s->path);
        s->warned_moved = true;
        s->moved_checked_ms = 0;
        return KUNCI_ERR_TEMPFAIL;
    }
    s->warned_moved = false;
    s->moved_checked_ms = now;
    s->pin_events = events; /* read before the look: an event since makes the next one look */
    return KUNCI_OK;
}

/* The WAL index header (https://www.sqlite.org/walformat.html#the_wal_index_file_format):
 * two copies of 48 bytes that every commit rewrites (the last frame, its checksum, the WAL's
 * salt when it starts over), the second copy first. Copies that agree are a header no
 * writer is changing; a header that changed is a commit (or a checkpoint) since. */
#define WAL_INDEX_HEADER 48
#define WAL_INDEX_REGION (32 * 1024)

static const volatile uint64_t *wal_index_map(struct sqlite_db *s)
{
    sqlite3_file *f = NULL;
    volatile void *p = NULL;

    /* Mapped by SQLite itself (the same pages its readers read), through the VFS's public
     * xShmMap, once a read has opened it; never extended from here. */
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_FILE_POINTER, &f) != SQLITE_OK ||
        f == NULL || f->pMethods == NULL || f->pMethods->iVersion < 2 ||
        f->pMethods->xShmMap == NULL ||
        f->pMethods->xShmMap(f, 0, WAL_INDEX_REGION, 0, &p) != SQLITE_OK)
        return NULL;
    return p;
}

static int read_change_count(struct sqlite_db *s, int64_t *count_r)
{
    if (s->count_stmt == NULL &&
        sqlite3_prepare_v3(s->db, "SELECT n FROM change_count WHERE id = 1", -1,
                           SQLITE_PREPARE_PERSISTENT, &s->count_stmt, NULL) != SQLITE_OK) {
        s->count_stmt = NULL;
        return KUNCI_ERR_TEMPFAIL; /* not migrated yet: no cache */
    }
    int rc = sqlite3_step(s->count_stmt);
    *count_r = sqlite3_column_int64(s->count_stmt, 0);
    int r = rc == SQLITE_ROW ? KUNCI_OK : KUNCI_ERR_TEMPFAIL;
    return done_with(s->count_stmt, r);
}

/* The generation is the change count (the last migration's triggers), read again only when
 * the WAL index header moved. A header equal to the one read before the count was read
 * means nothing was committed since, so the count still holds; a header that moved (any
 * commit, from any process) means reading it again, in a read transaction of its own that
 * starts after the header was read. */
static int sqlite_generation(void *db, struct kunci_sql_generation *gen_r)
{
    struct sqlite_db *s = db;
    /* In words: the map starts on a page, each copy on an eighth byte. */
    enum { WORDS = WAL_INDEX_HEADER / sizeof(uint64_t) };
    uint64_t header[WORDS], second[WORDS];

    if (db_ready(s) != KUNCI_OK || !s->has_read)
        return KUNCI_ERR_TEMPFAIL;
    if (s->wal_index == NULL && (s->wal_index = wal_index_map(s)) == NULL)
        return KUNCI_ERR_TEMPFAIL;
    for (size_t i = 0; i < WORDS; i++)
        header[i] = s->wal_index[i];
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (size_t i = 0; i < WORDS; i++)
        second[i] = s->wal_index[WORDS + i];
    /* isInit (byte 12) is 0 while the index is being rebuilt. */
    if (memcmp(header, second, WAL_INDEX_HEADER) != 0 || ((const unsigned char *)header)[12] == 0)
        return KUNCI_ERR_TEMPFAIL;
    _Static_assert(sizeof(s->count_header) == WAL_INDEX_HEADER, "the header read is kept whole");
    if (!s->count_known || memcmp(header, s->count_header, WAL_INDEX_HEADER) != 0) {
        int64_t count;
        s->count_known = false;
        if (read_change_count(s, &count) != KUNCI_OK)
            return KUNCI_ERR_TEMPFAIL;
        memcpy(s->count_header, header, WAL_INDEX_HEADER);
        s->count = count;
        s->count_known = true;
    }
    memset(gen_r, 0, sizeof(*gen_r));
    memcpy(gen_r->bytes, &s->count, sizeof(s->count));
    memcpy(gen_r->bytes + sizeof(s->count), &s->opened, sizeof(s->opened));
    return KUNCI_OK;
}

static int sqlite_open(const struct kunci_store_options *opts, void **store_r)
{
    struct sqlite_db *s;
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

static void sqlite_close(void *db)
{
    struct sqlite_db *s = db;
    db_close(s);
    free(s->path);
    free(s);
}

static int user_version(struct sqlite_db *s, int *version_r)
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

static int sqlite_migrate(void *db, int *version_r)
{
    struct sqlite_db *s = db;
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

static int64_t row_integer(const struct kunci_sql_row *row, int col)
{
    return sqlite3_column_int64(row->impl, col);
}

static const char *row_text(const struct kunci_sql_row *row, int col)
{
    const unsigned char *t = sqlite3_column_text(row->impl, col);
    return t != NULL ? (const char *)t : "";
}

static size_t row_blob(const struct kunci_sql_row *row, int col, void *dst, size_t max)
{
    const void *p = sqlite3_column_blob(row->impl, col);
    size_t n = (size_t)sqlite3_column_bytes(row->impl, col);
    if (n > max)
        return SIZE_MAX;
    if (n > 0 && p != NULL)
        memcpy(dst, p, n);
    return p != NULL ? n : 0;
}

static int sqlite_run(void *db, int id, const struct kunci_sql_arg *args, int nargs,
                      kunci_sql_row_cb cb, void *arg, int64_t *changes_r)
{
    struct sqlite_db *s = db;
    struct kunci_sql_row row = {row_integer, row_text, row_blob, NULL, 0};
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
    if (r == KUNCI_OK)
        s->has_read = true;
    return r;
}

static int sqlite_begin(void *db)
{
    return begin(db);
}

static int sqlite_finish(void *db, int r)
{
    return finish(db, r);
}

const struct kunci_sql_driver kunci_sql_sqlite = {
    .name = "sqlite",
    .features = 0,
    .open = sqlite_open,
    .close = sqlite_close,
    .migrate = sqlite_migrate,
    .begin = sqlite_begin,
    .finish = sqlite_finish,
    .run = sqlite_run,
    .generation = sqlite_generation,
};

/* --- Backups (kunci backup, kunci restore): SQLite's online backup API ------------------- */

/* One statement's first column as text (or ""), into out. */
static int single_text(sqlite3 *db, const char *sql, char *out, size_t size)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    out[0] = '\0';
    if (rc != SQLITE_OK)
        return map_rc(rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        snprintf(out, size, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? KUNCI_OK : map_rc(rc);
}

/* Copies every page of src's main database into dst's in one step: one read transaction on
 * src, so the copy is of one moment however many writers go on meanwhile (WAL). */
static int copy_database(sqlite3 *dst, sqlite3 *src)
{
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (b == NULL)
        return map_rc(sqlite3_errcode(dst));
    int rc = sqlite3_backup_step(b, -1);
    int finish = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? KUNCI_ERR_TEMPFAIL : map_rc(rc);
    return map_rc(finish);
}

static int open_file(const char *path, int flags, int busy_timeout_ms, sqlite3 **db_r)
{
    int rc = sqlite3_open_v2(path, db_r, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_close(*db_r);
        *db_r = NULL;
        return rc == SQLITE_CANTOPEN ? KUNCI_ERR_NOT_FOUND : map_rc(rc);
    }
    sqlite3_busy_timeout(*db_r, busy_timeout_ms);
    return KUNCI_OK;
}

int kunci_sqlite_inspect(const char *path, struct kunci_backup_facts *facts_r)
{
    sqlite3 *db = NULL;
    char text[64];
    int r;

    memset(facts_r, 0, sizeof(*facts_r));
    facts_r->newest_version = SCHEMA_VERSION;
    if (access(path, R_OK) != 0)
        return errno == ENOENT ? KUNCI_ERR_NOT_FOUND : KUNCI_ERR_STORE_ACCESS;
    if ((r = open_file(path, SQLITE_OPEN_READONLY, 2000, &db)) != KUNCI_OK)
        return r;
    if ((r = single_text(db, "PRAGMA application_id", text, sizeof(text))) != KUNCI_OK)
        goto out;
    if (strtoul(text, NULL, 10) != KUNCI_APPLICATION_ID) {
        r = KUNCI_ERR_STORE_INVALID;
        goto out;
    }
    if ((r = single_text(db, "PRAGMA quick_check", text, sizeof(text))) != KUNCI_OK)
        goto out;
    if (strcmp(text, "ok") != 0) {
        r = KUNCI_ERR_STORE_INVALID;
        goto out;
    }
    if ((r = single_text(db, "PRAGMA user_version", text, sizeof(text))) != KUNCI_OK)
        goto out;
    facts_r->version = atoi(text);
    r = single_text(db,
                    "SELECT value FROM settings WHERE key = '" KUNCI_KEY_FINGERPRINT_SETTING "'",
                    facts_r->fingerprint, sizeof(facts_r->fingerprint));
out:
    sqlite3_close(db);
    return r;
}

int kunci_sqlite_backup(const char *live, const char *dest, int busy_timeout_ms)
{
    char tmp[PATH_MAX];
    sqlite3 *src = NULL, *dst = NULL;
    int r;

    if (access(dest, F_OK) == 0)
        return KUNCI_ERR_EXISTS;
    if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", dest) >= (int)sizeof(tmp))
        return KUNCI_ERR_TOO_LONG;
    int fd = mkstemp(tmp);
    if (fd < 0)
        return errno == EACCES || errno == EPERM || errno == EROFS ? KUNCI_ERR_STORE_ACCESS
                                                                   : KUNCI_ERR_IO;
    close(fd);
    if ((r = check_file(live, false)) != KUNCI_OK ||
        (r = open_file(live, SQLITE_OPEN_READWRITE, busy_timeout_ms, &src)) != KUNCI_OK ||
        (r = open_file(tmp, SQLITE_OPEN_READWRITE, busy_timeout_ms, &dst)) != KUNCI_OK)
        goto out;
    r = copy_database(dst, src);
    /* One self-contained file: no -wal beside it to forget. */
    if (r == KUNCI_OK)
        r = exec_on(dst, "PRAGMA journal_mode = DELETE");
    char check[64];
    if (r == KUNCI_OK &&
        (r = single_text(dst, "PRAGMA quick_check", check, sizeof(check))) == KUNCI_OK &&
        strcmp(check, "ok") != 0)
        r = KUNCI_ERR_STORE_INVALID;
out:
    sqlite3_close(src);
    if (dst != NULL && sqlite3_close(dst) != SQLITE_OK && r == KUNCI_OK)
        r = KUNCI_ERR_IO;
    if (r == KUNCI_OK && (fd = open(tmp, O_RDONLY | O_CLOEXEC)) >= 0) {
        if (fsync(fd) != 0)
            r = KUNCI_ERR_IO;
        close(fd);
    }
    /* link, not rename: a file that appeared at dest meanwhile is never replaced. */
    if (r == KUNCI_OK && link(tmp, dest) != 0)
        r = errno == EEXIST ? KUNCI_ERR_EXISTS : KUNCI_ERR_IO;
    unlink(tmp);
    return r;
}

int kunci_sqlite_restore(const char *file, const char *live, const char *keep, int busy_timeout_ms)
{
    sqlite3 *src = NULL, *dst = NULL, *old = NULL;
    char partial[PATH_MAX];
    bool kept = false;
    int r;

    if (snprintf(partial, sizeof(partial), "%s.partial", keep) >= (int)sizeof(partial))
        return KUNCI_ERR_TOO_LONG;
    if ((r = open_file(file, SQLITE_OPEN_READONLY, busy_timeout_ms, &src)) != KUNCI_OK)
        return r;
    /* What was there is kept beside it first (a restore is undone by restoring that); under
     * another name until the end, since the backup restored may be the last one kept. */
    if (access(live, F_OK) == 0) {
        unlink(partial);
        kept = true;
        if ((r = open_file(live, SQLITE_OPEN_READWRITE, busy_timeout_ms, &dst)) != KUNCI_OK ||
            (r = open_file(partial, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, busy_timeout_ms,
                           &old)) != KUNCI_OK ||
            (r = copy_database(old, dst)) != KUNCI_OK ||
            (r = exec_on(old, "PRAGMA journal_mode = DELETE")) != KUNCI_OK)
            goto out;
    } else if ((r = open_file(live, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, busy_timeout_ms,
                              &dst)) != KUNCI_OK) {
        goto out;
    }
    if ((r = copy_database(dst, src)) == KUNCI_OK)
        r = exec_on(dst, "PRAGMA journal_mode = WAL");
out:
    sqlite3_close(src);
    sqlite3_close(old);
    if (dst != NULL && sqlite3_close(dst) != SQLITE_OK && r == KUNCI_OK)
        r = KUNCI_ERR_IO;
    if (kept && r == KUNCI_OK && rename(partial, keep) != 0)
        r = KUNCI_ERR_IO;
    if (kept && r != KUNCI_OK)
        unlink(partial);
    return r;
}
