#include "core/context.h"
#include "core/err.h"
#include "core/secret.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

/* Computed on first need, under a lock: one per process, with the first caller's
 * parameters (a process has one context). */
static pthread_mutex_t dummy_lock = PTHREAD_MUTEX_INITIALIZER;
static char dummy_hash[KUNCI_HASH_MAX];
static bool dummy_ready;

int kunci_ctx_init(struct kunci_ctx *ctx, const struct kunci_config *cfg)
{
    memset(ctx, 0, sizeof(*ctx));
    if (sodium_init() < 0)
        return KUNCI_ERR_CRYPTO;
    ctx->cfg = *cfg;
    ctx->pwparams.opslimit = cfg->argon2_iterations;
    ctx->pwparams.memlimit = (size_t)cfg->argon2_memory_kib * 1024u;
    return kunci_keys_load(cfg->key_file, &ctx->keys);
}

const struct kunci_config *kunci_ctx_live(const struct kunci_ctx *ctx)
{
    const struct kunci_config *live = atomic_load(&((struct kunci_ctx *)ctx)->live);
    return live != NULL ? live : &ctx->cfg;
}

void kunci_ctx_free(struct kunci_ctx *ctx)
{
    kunci_keys_free(ctx->keys);
    ctx->keys = NULL;
}

const char *kunci_ctx_dummy_hash(const struct kunci_ctx *ctx)
{
    char pw[33];

    pthread_mutex_lock(&dummy_lock);
    if (!dummy_ready) {
        kunci_random_string(pw, sizeof(pw) - 1, "abcdefghijklmnopqrstuvwxyz0123456789");
        /* On failure (memory) verification fails at once; still never a match. */
        if (kunci_password_hash(&ctx->pwparams, pw, strlen(pw), dummy_hash) != KUNCI_OK)
            dummy_hash[0] = '\0';
        sodium_memzero(pw, sizeof(pw));
        dummy_ready = true;
    }
    pthread_mutex_unlock(&dummy_lock);
    return dummy_hash;
}
