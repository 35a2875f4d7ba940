/* What every shell (server, CLI) holds once: configuration, keys, hashing parameters. */
#ifndef KUNCI_CONTEXT_H
#define KUNCI_CONTEXT_H

#include "core/config.h"
#include "core/keys.h"
#include "core/password.h"
#include "store/store.h"

struct kunci_ctx {
    struct kunci_config cfg;
    struct kunci_keys *keys;
    struct kunci_pwparams pwparams;
    struct kunci_store_options store_opts;
};

/* Loads the key file and sets the hashing parameters; cfg must be finished. */
int kunci_ctx_init(struct kunci_ctx *ctx, const struct kunci_config *cfg);
void kunci_ctx_free(struct kunci_ctx *ctx);
/* Opens a store handle and brings its schema up to date; create only for `kunci init`. */
int kunci_ctx_store_open(const struct kunci_ctx *ctx, bool create, struct kunci_store_handle *h_r);
/* A hash of a random password under the current parameters, computed once: unknown users
 * are verified against it so they cost what a known user costs (OpenSSH's fakepw). */
const char *kunci_ctx_dummy_hash(const struct kunci_ctx *ctx);

#endif
