/* What every shell (server, CLI) holds once: configuration, keys, hashing parameters. */
#ifndef KUNCI_CONTEXT_H
#define KUNCI_CONTEXT_H

#include <stdatomic.h>

#include "core/config.h"
#include "core/keys.h"
#include "core/password.h"

struct kunci_ctx {
    struct kunci_config cfg; /* as at start */
    struct kunci_keys *keys;
    struct kunci_pwparams pwparams;
    /* kunci serve: the configuration reloaded by SIGHUP, NULL until then (kunci_ctx_live). */
    _Atomic(const struct kunci_config *) live;
};

/* The configuration for what may change while serving (log_allowed, [phone], [email]): the
 * last one SIGHUP read, else cfg. Valid until the server stops. */
const struct kunci_config *kunci_ctx_live(const struct kunci_ctx *ctx);

/* Loads the key file and sets the hashing parameters; cfg must be finished. */
int kunci_ctx_init(struct kunci_ctx *ctx, const struct kunci_config *cfg);
void kunci_ctx_free(struct kunci_ctx *ctx);
/* A hash of a random password under the current parameters, computed once: unknown users
 * are verified against it so they cost what a known user costs (OpenSSH's fakepw). */
const char *kunci_ctx_dummy_hash(const struct kunci_ctx *ctx);

#endif
