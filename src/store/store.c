#include "store/store.h"
#include "core/err.h"

#include <string.h>

static const struct kunci_store_backend *const backends[] = {
    &kunci_store_sqlite,
    &kunci_store_pgsql,
};

const struct kunci_store_backend *kunci_store_backend_find(const char *name)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
        if (strcmp(backends[i]->name, name) == 0)
            return backends[i];
    return NULL;
}

int kunci_store_open(const char *backend, const struct kunci_store_options *opts,
                     struct kunci_store_handle *h_r)
{
    memset(h_r, 0, sizeof(*h_r));
    h_r->backend = kunci_store_backend_find(backend);
    if (h_r->backend == NULL)
        return KUNCI_ERR_INVALID;
    return h_r->backend->open(opts, &h_r->store);
}

void kunci_store_close(struct kunci_store_handle *h)
{
    if (h->backend != NULL && h->store != NULL)
        h->backend->close(h->store);
    h->store = NULL;
}

static int apply_setting(void *arg, const char *key, const char *value)
{
    kunci_settings_apply(arg, key, value);
    return 0;
}

int kunci_store_settings(struct kunci_store_handle *h, struct kunci_settings *settings_r)
{
    kunci_settings_defaults(settings_r);
    return h->backend->settings_each(h->store, apply_setting, settings_r);
}
