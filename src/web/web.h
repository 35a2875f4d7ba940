/* The public web listener: the UI's static files and the JSON API under /api/v1. */
#ifndef KUNCI_WEB_H
#define KUNCI_WEB_H

#include <microhttpd.h>

#include "core/context.h"

struct conn_guard;
struct hash_pool;
/* Starts the web listener under the guard, with at most `limit` connections; password
 * checks and hashes run on the pool. */
int web_start(struct kunci_ctx *ctx, struct conn_guard *guard, struct hash_pool *pool,
              unsigned limit, struct MHD_Daemon **daemon_r);

struct kunci_profile_signer;
/* Device set-up (api_devices.c): the key Apple profiles are signed with, NULL for none (then
 * Apple devices are not offered). Set before web_start. */
void web_devices_init(const struct kunci_profile_signer *signer);

#endif
