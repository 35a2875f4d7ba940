/* `kunci serve`: the libmicrohttpd shell around the core. */
#ifndef KUNCI_SERVER_H
#define KUNCI_SERVER_H

#include "core/context.h"

/* Serves until SIGINT or SIGTERM. Returns 0 on a clean stop. On SIGHUP, reread fills a new
 * configuration from kunci.conf (as at start: file, environment, flags), or says why not;
 * what can change while serving is applied (README, "Reloading"). */
int kunci_serve(struct kunci_ctx *ctx,
                int (*reread)(void *arg, struct kunci_config *cfg_r, char *err, size_t err_size),
                void *reread_arg);

#endif
