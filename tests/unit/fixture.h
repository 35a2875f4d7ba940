/* A real data directory for unit tests that need the store: key file, database and a
 * context with the cheapest Argon2id libsodium allows. Include after cmocka.h.
 * SQLite by default; with KUNCI_TEST_PG set to a connection URI, an emptied PostgreSQL
 * database (make unit-pgsql). */
#ifndef KUNCI_TEST_FIXTURE_H
#define KUNCI_TEST_FIXTURE_H

#include <libpq-fe.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/context.h"
#include "core/err.h"
#include "store/open.h"

struct test_store {
    char dir[64];
    struct kunci_config cfg;
    struct kunci_ctx ctx;
    struct kunci_store_handle h;
};

static inline void test_store_open(struct test_store *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/kunci-unit-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    kunci_config_defaults(&t->cfg);
    snprintf(t->cfg.data_dir, sizeof(t->cfg.data_dir), "%s", t->dir);
    t->cfg.argon2_iterations = 1;
    t->cfg.argon2_memory_kib = 8; /* fast tests */
    /* SQLite: a short wait on a lock keeps the tests quick. On PostgreSQL the same setting is
     * the statement timeout, and 50 ms failed a schema migration on a loaded machine (one
     * unit-pgsql run in a clean-clone make test): the default there. */
    t->cfg.busy_timeout_ms = 50;
    const char *pg = getenv("KUNCI_TEST_PG");
    if (pg != NULL && pg[0] != '\0') {
        PGconn *c = PQconnectdb(pg);
        assert_int_equal(PQstatus(c), CONNECTION_OK);
        PGresult *res = PQexec(c, "SET client_min_messages = warning; "
                                  "DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
        assert_int_equal(PQresultStatus(res), PGRES_COMMAND_OK);
        PQclear(res);
        PQfinish(c);
        snprintf(t->cfg.store_backend, sizeof(t->cfg.store_backend), "postgresql");
        snprintf(t->cfg.store_location, sizeof(t->cfg.store_location), "%s", pg);
        t->cfg.busy_timeout_ms = 2000;
    }
    kunci_config_finish(&t->cfg);
    assert_int_equal(kunci_keys_create(t->cfg.key_file), KUNCI_OK);
    assert_int_equal(kunci_ctx_init(&t->ctx, &t->cfg), KUNCI_OK);
    /* The cache of app-password lookups on, as in the server: every revocation the tests
     * check goes through it. */
    unsigned flags = KUNCI_STORE_CREATE | KUNCI_STORE_MIGRATE | KUNCI_STORE_CACHE;
    assert_int_equal(kunci_store_open_config(&t->cfg, flags, &t->h), KUNCI_OK);
}

static inline bool test_store_is_sqlite(const struct test_store *t)
{
    return strcmp(t->cfg.store_backend, "sqlite") == 0;
}

/* Runs SQL on the test's database behind kunci's back (damage, time travel), whichever
 * store it is. */
static inline void test_store_sql(struct test_store *t, const char *sql)
{
    if (test_store_is_sqlite(t)) {
        sqlite3 *db;
        assert_int_equal(sqlite3_open(t->cfg.store_location, &db), SQLITE_OK);
        char *err = NULL;
        int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
        if (rc != SQLITE_OK)
            fprintf(stderr, "test_store_sql: %s: %s\n", sql, err ? err : "?");
        sqlite3_free(err);
        sqlite3_close(db);
        assert_int_equal(rc, SQLITE_OK);
        return;
    }
    PGconn *c = PQconnectdb(t->cfg.store_location);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        fprintf(stderr, "test_store_sql: %s: %s\n", sql, PQerrorMessage(c));
    PQclear(res);
    PQfinish(c);
    assert_true(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK);
}

static inline void test_store_close(struct test_store *t)
{
    char cmd[128];

    kunci_store_close(&t->h);
    kunci_ctx_free(&t->ctx);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    assert_int_equal(system(cmd), 0);
}

#endif
