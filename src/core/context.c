#include "core/context.h"
#include "core/err.h"
#include "core/secret.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;
static char dummy_hash[KUNCI_HASH_MAX];
static struct kunci_pwparams dummy_params;

int kunci_ctx_init(struct kunci_ctx *ctx, const struct kunci_config *cfg)
{
    memset(ctx, 0, sizeof(*ctx));
    if (sodium_init() < 0)
        return KUNCI_ERR_CRYPTO;
    ctx->cfg = *cfg;
    ctx->pwparams.opslimit = cfg->argon2_iterations;
    ctx->pwparams.memlimit = (size_t)cfg->argon2_memory_kib * 1024u;
    ctx->store_opts.location = ctx->cfg.store_location;
    ctx->store_opts.busy_timeout_ms = cfg->busy_timeout_ms;
    return kunci_keys_load(cfg->key_file, &ctx->keys);
}

void kunci_ctx_free(struct kunci_ctx *ctx)
{
    kunci_keys_free(ctx->keys);
    ctx->keys = NULL;
}

int kunci_ctx_store_open(const struct kunci_ctx *ctx, bool create, struct kunci_store_handle *h_r)
{
    struct kunci_store_options opts = ctx->store_opts;

    opts.create = create;
    int r = kunci_store_open(ctx->cfg.store_backend, &opts, h_r);
    if (r == KUNCI_OK)
        r = h_r->backend->migrate(h_r->store, NULL);
    if (r != KUNCI_OK)
        kunci_store_close(h_r);
    return r;
}

static void make_dummy_hash(void)
{
    char pw[33];

    kunci_random_string(pw, sizeof(pw) - 1, "abcdefghijklmnopqrstuvwxyz0123456789");
    if (kunci_password_hash(&dummy_params, pw, strlen(pw), dummy_hash) != KUNCI_OK)
        dummy_hash[0] = '\0'; /* verify then fails at once; only under memory exhaustion */
    sodium_memzero(pw, sizeof(pw));
}

const char *kunci_ctx_dummy_hash(const struct kunci_ctx *ctx)
{
    dummy_params = ctx->pwparams; /* one context per process: the first caller's params */
    pthread_once(&dummy_once, make_dummy_hash);
    return dummy_hash;
}
