/* `kunci serve`: the libmicrohttpd shell around the core. */
#ifndef KUNCI_SERVER_H
#define KUNCI_SERVER_H

#include "core/context.h"

/* Serves until SIGINT or SIGTERM. Returns 0 on a clean stop. */
int kunci_serve(struct kunci_ctx *ctx);

#endif
