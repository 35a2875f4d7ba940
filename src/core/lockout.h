/* Lockout of primary passwords after too many distinct wrong ones.
 *
 * Lessons from peers: a mail client retries a stale password for ever, and that must not
 * lock anyone out. So a repeated identical wrong password counts once, app passwords are
 * never locked (they are 113 random bits), and a lock ends by itself after lockout_minutes.
 * Failures are keyed by an HMAC of the login, known or not, so a lock says nothing about
 * which accounts exist. */
#ifndef KUNCI_LOCKOUT_H
#define KUNCI_LOCKOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/context.h"
#include "core/settings.h"
#include "store/store.h"

/* true when the login's password is locked now. Errors are returned, not guessed. */
int kunci_lockout_check(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                        const struct kunci_settings *settings, const char *login, int64_t now,
                        bool *locked_r);
/* Records a wrong password for the login. */
int kunci_lockout_fail(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                       const struct kunci_settings *settings, const char *login, const char *secret,
                       size_t secret_len, int64_t now);
/* Forgets the login's failures (after its right password). */
int kunci_lockout_clear(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                        const char *login);

#endif
