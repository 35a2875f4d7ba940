/* Opening a store by its backend's name: the one place that knows which databases kunci
 * can use. What a store can do is the core's interface, core/store.h. */
#ifndef KUNCI_STORE_OPEN_H
#define KUNCI_STORE_OPEN_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/keys.h"
#include "core/store.h"

struct kunci_store_options {
    const char *location; /* backend-specific: a file path, a connection string */
    int busy_timeout_ms;  /* how long to wait on a lock before KUNCI_ERR_TEMPFAIL */
    bool create;          /* create the database if missing (kunci init only) */
    size_t lookup_cache;  /* app-password lookups kept per handle (0: none; the server's) */
};

/* KUNCI_ERR_INVALID for a backend kunci does not have. */
int kunci_store_open(const char *backend, const struct kunci_store_options *opts,
                     struct kunci_store_handle *h_r);
#define KUNCI_STORE_CREATE  1u /* make the database if it is missing (kunci init only) */
#define KUNCI_STORE_MIGRATE 2u /* bring its schema up to date */
#define KUNCI_STORE_CACHE   4u /* keep app-password lookups ([serve] app_password_cache) */
/* Opens the store kunci.conf names. */
int kunci_store_open_config(const struct kunci_config *cfg, unsigned flags,
                            struct kunci_store_handle *h_r);

/* Backups of the whole database (kunci backup, kunci restore). SQLite only: for PostgreSQL
 * these are KUNCI_ERR_POLICY (pg_dump and pg_restore do it). */
struct kunci_backup_facts {
    int version;                                     /* the schema version it has */
    int newest_version;                              /* the one this kunci makes */
    char fingerprint[KUNCI_KEY_FINGERPRINT_HEX + 1]; /* its key file's, or "" */
};
/* A consistent copy of the database, taken while kunci serves, as the new file dest. */
int kunci_store_backup(const struct kunci_config *cfg, const char *dest);
/* What a backup file is, read without changing it: KUNCI_ERR_STORE_INVALID unless it is
 * kunci's database, whole. */
int kunci_store_inspect(const struct kunci_config *cfg, const char *file,
                        struct kunci_backup_facts *facts_r);
/* Puts file in the database's place, keeping what was there as keep. Only while no kunci
 * serves it (the caller holds the serve lock). */
int kunci_store_restore(const struct kunci_config *cfg, const char *file, const char *keep);

#endif
