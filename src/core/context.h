/* What every shell (server, CLI) holds once: configuration, keys, hashing parameters. */
#ifndef KUNCI_CONTEXT_H
#define KUNCI_CONTEXT_H

#include "core/config.h"
#include "core/keys.h"
#include "core/password.h"

struct kunci_ctx {
    struct kunci_config cfg;
    struct kunci_keys *keys;
    struct kunci_pwparams pwparams;
};

/* Loads the key file and sets the hashing parameters; cfg must be finished. */
int kunci_ctx_init(struct kunci_ctx *ctx, const struct kunci_config *cfg);
void kunci_ctx_free(struct kunci_ctx *ctx);
/* A hash of a random password under the current parameters, computed once: unknown users
 * are verified against it so they cost what a known user costs (OpenSSH's fakepw). */
const char *kunci_ctx_dummy_hash(const struct kunci_ctx *ctx);

#endif
