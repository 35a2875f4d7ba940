/* What a database driver gives the operations written once (store_sql.c), as Dovecot's
 * lib-sql driver table sits under passdb-sql.c: a connection, a transaction, and one shared
 * statement (enum stmt_id in statements.h) run with arguments, each row handed to a
 * callback. A driver keeps what differs between databases: connecting, noticing an outage
 * and reconnecting, placeholders, prepared statements per connection, the schema. */
#ifndef KUNCI_STORE_DRIVER_H
#define KUNCI_STORE_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "store/open.h"

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

/* A result row of a shared statement, read through its driver. */
struct kunci_sql_row {
    int64_t (*integer)(const struct kunci_sql_row *row, int col);  /* 0 for NULL */
    const char *(*text)(const struct kunci_sql_row *row, int col); /* "" for NULL */
    /* Copies the value into dst when it is at most max bytes; returns its length, or
     * SIZE_MAX (nothing copied) when it is longer or unreadable. 0 for NULL. */
    size_t (*blob)(const struct kunci_sql_row *row, int col, void *dst, size_t max);
    void *impl;
    int index;
};
typedef int (*kunci_sql_row_cb)(void *arg, const struct kunci_sql_row *row);

/* The state of a database as its driver can read it cheaply: equal generations, no change
 * that an app-password lookup would see committed in between (lookup_cache.h). */
struct kunci_sql_generation {
    unsigned char bytes[48];
    uint64_t local; /* not the driver's: this process's own commits (store_sql.c) */
};

/* Statements only some databases need. */
#define KUNCI_SQL_ROW_LOCKS 1u /* SELECT ... FOR UPDATE (SQLite's BEGIN IMMEDIATE locks all) */

struct kunci_sql_driver {
    const char *name;
    unsigned features;

    int (*open)(const struct kunci_store_options *opts, void **db_r);
    void (*close)(void *db);
    /* Brings the schema to the newest version; KUNCI_ERR_SCHEMA if it is newer still. */
    int (*migrate)(void *db, int *version_r);
    int (*begin)(void *db);
    /* Commits when r is KUNCI_OK, else rolls back; returns r or the commit's failure. */
    int (*finish)(void *db, int r);
    /* Runs statement stmt with args; each row goes to cb (may be NULL); changes_r (may be
     * NULL) receives the rows a change touched. A unique key already taken is
     * KUNCI_ERR_EXISTS. */
    int (*run)(void *db, int stmt, const struct kunci_sql_arg *args, int nargs, kunci_sql_row_cb cb,
               void *arg, int64_t *changes_r);
    /* Optional: the database's generation now, cheaper than the lookup it saves. KUNCI_OK
     * when the driver can vouch for it (every committed change to what ST_AP_LOOKUP reads,
     * from any process or node, gives another); anything else when it cannot tell now. */
    int (*generation)(void *db, struct kunci_sql_generation *gen_r);
};

extern const struct kunci_sql_driver kunci_sql_sqlite;
extern const struct kunci_sql_driver kunci_sql_pgsql;

/* SQLite's files as a whole (kunci backup, kunci restore; store_sqlite.c), behind
 * kunci_store_backup and the others in open.h. */
int kunci_sqlite_inspect(const char *path, struct kunci_backup_facts *facts_r);
/* A consistent copy of live, taken while others read and write it, as the new file dest
 * (mode 0600 under kunci's umask; KUNCI_ERR_EXISTS if there is one). */
int kunci_sqlite_backup(const char *live, const char *dest, int busy_timeout_ms);
/* Copies file over live, after copying what live held to keep. Only while nothing else
 * uses live (the caller holds the serve lock). */
int kunci_sqlite_restore(const char *file, const char *live, const char *keep, int busy_timeout_ms);

/* The operations over a driver (store_sql.c). */
int kunci_store_sql_open(const struct kunci_sql_driver *driver,
                         const struct kunci_store_options *opts, struct kunci_store_handle *h_r);

#endif
