/* Limits on guessing: every primary password, every second-factor code and every client
 * address has a budget of failures, kept in the store so that every thread and every node
 * counts against the same one.
 *
 * - A login's password: lockout_threshold consecutive distinct wrong passwords lock it for
 *   lockout_minutes, each further lock twice as long (at most a day); lockout_hard_limit
 *   (at most 100, NIST SP 800-63B) consecutive failures lock it until an administrator
 *   clears it. A success resets the count. A repeated identical wrong password counts once,
 *   so a mail client retrying a stale password never locks anyone out; app passwords are
 *   never locked. Logins are keyed by an HMAC, known or not: a lock says nothing about who
 *   exists.
 * - An account's second factor: the same rule over wrong codes (mfa_lockout_*), across
 *   sessions and resends; a right password does not reset it, only a right code.
 * - A client address (IPv4, or an IPv6 /64): its failures decay at address_threshold per
 *   address_minutes. Below the threshold each failure makes the mail proxy wait a little
 *   longer before it answers (Auth-Wait); at the threshold the address is blocked until
 *   its count decays below it again (at most address_minutes). An address that signed in
 *   as a login lately is not slowed for it.
 *
 * A guess is counted before it is checked, in one transaction with the decision to check
 * it, so guesses sent at once cannot outrun the count. A guard that cannot count (the
 * database refuses writes) refuses: a lockout that cannot count is not a lockout. */
#ifndef KUNCI_GUARD_H
#define KUNCI_GUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/context.h"
#include "core/settings.h"
#include "core/store.h"

#define KUNCI_ADDRESS_KEY_MAX  64
#define KUNCI_LOCK_MAX_SECONDS 86400

enum kunci_guard_verdict {
    KUNCI_GUARD_GO,        /* check it */
    KUNCI_GUARD_LOCKED,    /* the login's password (or the account's codes) is locked */
    KUNCI_GUARD_THROTTLED, /* the client address must wait */
};

struct kunci_guard_result {
    enum kunci_guard_verdict verdict;
    int64_t retry_after; /* seconds; 0 with LOCKED means until an administrator clears it */
    int address_level;   /* the address's failures lately, this one counted (for delays) */
};

/* The lock after `failures` consecutive failures: -1 (KUNCI_LOCKED_UNTIL_CLEARED) at
 * hard_limit, a new lock at each multiple of threshold (base_seconds, doubling, at most a
 * day), else `current` unchanged. */
int64_t kunci_lock_until(int failures, int threshold, int64_t base_seconds, int hard_limit,
                         int64_t now, int64_t current);
/* An address's failure level after `elapsed` seconds of decay at threshold per period. */
int kunci_address_level(int level, int64_t elapsed, int threshold, int64_t period_seconds);
/* The key an address is counted under: an IPv4 address, the /64 of an IPv6 one, or for a
 * local client of the socket without one, its user ("uid:1000"). */
int kunci_address_key(const char *ip, char *out, size_t size);

/* Read-only, cheap: whether an attempt would be refused now (no hash is queued for it). */
int kunci_guard_password_peek(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                              const struct kunci_settings *settings, const char *login,
                              const char *client_ip, int64_t now, struct kunci_guard_result *r);
/* Before the hash, in one transaction: refuses a locked login or a slowed address, else
 * counts the attempt as a failure of both until it proves right. login may be "" (a
 * malformed one: only the address counts). */
int kunci_guard_password_begin(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                               const struct kunci_settings *settings, const char *login,
                               const char *secret, size_t secret_len, const char *client_ip,
                               int64_t now, struct kunci_guard_result *r);
/* After a right password: the login's failures are forgotten, the address gets its count
 * back and is remembered for this login. */
int kunci_guard_password_success(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                                 const char *login, const char *client_ip, int64_t now);

/* Before checking a second-factor code of the account: refuses while its codes are locked,
 * else counts the attempt as a failure until it proves right. */
int kunci_guard_code_begin(struct kunci_store_handle *h, const struct kunci_settings *settings,
                           int64_t account_id, const char *login, int64_t now,
                           struct kunci_guard_result *r);
int kunci_guard_code_success(struct kunci_store_handle *h, int64_t account_id);

/* An administrator's clearing of a login's locks (password and codes) or an address's. */
int kunci_guard_clear(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                      const char *login_or_address, int *count_r);

#endif
