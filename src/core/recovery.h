/* Recovery when a phone is lost: backup codes the user keeps (each used once, a new set
 * replaces the old), and a temporary access pass an administrator issues, which signs the
 * user in once (or until it expires) so that they register a new method. Both are stored as
 * HMACs bound to their account, under the server key. */
#ifndef KUNCI_RECOVERY_H
#define KUNCI_RECOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/context.h"
#include "core/store.h"

#define KUNCI_BACKUP_CODES       10
#define KUNCI_BACKUP_CODE_DIGITS 10 /* about 33 bits each; guesses are counted and locked */
/* "12345 67890" and its NUL */
#define KUNCI_BACKUP_CODE_FORMATTED (KUNCI_BACKUP_CODE_DIGITS + 2)
#define KUNCI_ACCESS_PASS_LETTERS   16 /* about 75 bits */
/* "abcd efgh ijkl mnop" and its NUL */
#define KUNCI_ACCESS_PASS_FORMATTED   (KUNCI_ACCESS_PASS_LETTERS * 5 / 4)
#define KUNCI_ACCESS_PASS_MAX_SECONDS (30 * 86400)

/* A new set of backup codes for the account (the old set stops working), formatted. */
int kunci_backup_codes_new(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                           const struct kunci_account *acct, int64_t now,
                           char codes_r[KUNCI_BACKUP_CODES][KUNCI_BACKUP_CODE_FORMATTED]);
/* A backup code as a second factor: counted by the account's code guard like any code
 * (KUNCI_ERR_LOCKED with *retry_after_r), then used up. KUNCI_ERR_INVALID when it is not
 * one of the account's unused codes. */
int kunci_backup_code_check(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                            const struct kunci_account *acct, const char *code, int64_t now,
                            int64_t *retry_after_r);
/* A temporary access pass valid for `seconds` (at most KUNCI_ACCESS_PASS_MAX_SECONDS),
 * usable once unless reusable; it replaces any earlier pass of the account. */
int kunci_access_pass_issue(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                            const struct kunci_account *acct, int64_t now, int64_t seconds,
                            bool one_time, char pass_r[KUNCI_ACCESS_PASS_FORMATTED]);
/* KUNCI_OK when secret is the account's pass, unexpired (and used up if one-time);
 * KUNCI_ERR_NOT_FOUND otherwise. */
int kunci_access_pass_use(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                          int64_t account_id, const char *secret, size_t len, int64_t now);

#endif
