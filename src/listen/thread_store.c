#include "listen/listen.h"
#include "core/log.h"
#include "core/err.h"
#include "store/open.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static const struct kunci_ctx *store_ctx; /* one server per process */
static pthread_key_t store_key;

static void store_free(void *p)
{
    struct kunci_store_handle *h = p;
    kunci_store_close(h);
    free(h);
}

int listen_thread_store_init(const struct kunci_ctx *ctx)
{
    store_ctx = ctx;
    return pthread_key_create(&store_key, store_free) == 0 ? KUNCI_OK : KUNCI_ERR_INTERNAL;
}

struct kunci_store_handle *listen_thread_store(void)
{
    struct kunci_store_handle *h = pthread_getspecific(store_key);

    if (h != NULL)
        return h;
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    int r = kunci_store_open_config(&store_ctx->cfg, KUNCI_STORE_CACHE, h);
    if (r != KUNCI_OK) {
        kunci_log("store.unavailable", "cannot open %s: %s", store_ctx->cfg.store_location,
                  kunci_strerror(r));
        free(h);
        return NULL; /* tried again on the next request */
    }
    pthread_setspecific(store_key, h);
    return h;
}
