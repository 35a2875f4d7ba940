#include "store/open.h"
#include "core/err.h"
#include "store/driver.h"

#include <string.h>

static const struct kunci_sql_driver *const drivers[] = {
    &kunci_sql_sqlite,
    &kunci_sql_pgsql,
};

int kunci_store_open(const char *backend, const struct kunci_store_options *opts,
                     struct kunci_store_handle *h_r)
{
    memset(h_r, 0, sizeof(*h_r));
    for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++)
        if (strcmp(drivers[i]->name, backend) == 0)
            return kunci_store_sql_open(drivers[i], opts, h_r);
    return KUNCI_ERR_INVALID;
}

int kunci_store_open_config(const struct kunci_config *cfg, unsigned flags,
                            struct kunci_store_handle *h_r)
{
    struct kunci_store_options opts = {
        .location = cfg->store_location,
        .busy_timeout_ms = cfg->busy_timeout_ms,
        .create = (flags & KUNCI_STORE_CREATE) != 0,
        .lookup_cache = (flags & KUNCI_STORE_CACHE) ? (size_t)cfg->app_password_cache : 0,
    };
    int r = kunci_store_open(cfg->store_backend, &opts, h_r);
    if (r == KUNCI_OK && (flags & KUNCI_STORE_MIGRATE))
        r = kunci_store_migrate(h_r, NULL);
    if (r != KUNCI_OK)
        kunci_store_close(h_r);
    return r;
}

static bool is_sqlite(const struct kunci_config *cfg)
{
    return strcmp(cfg->store_backend, "sqlite") == 0;
}

int kunci_store_backup(const struct kunci_config *cfg, const char *dest)
{
    return is_sqlite(cfg) ? kunci_sqlite_backup(cfg->store_location, dest, cfg->busy_timeout_ms)
                          : KUNCI_ERR_POLICY;
}

int kunci_store_inspect(const struct kunci_config *cfg, const char *file,
                        struct kunci_backup_facts *facts_r)
{
    return is_sqlite(cfg) ? kunci_sqlite_inspect(file, facts_r) : KUNCI_ERR_POLICY;
}

int kunci_store_restore(const struct kunci_config *cfg, const char *file, const char *keep)
{
    return is_sqlite(cfg)
               ? kunci_sqlite_restore(file, cfg->store_location, keep, cfg->busy_timeout_ms)
               : KUNCI_ERR_POLICY;
}
