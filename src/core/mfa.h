/* Second factors: registering them (the seed's "Set it up now" wizard) and checking them at
 * sign-in. Codes go out through a send function the shell provides (src/delivery). */
#ifndef KUNCI_MFA_H
#define KUNCI_MFA_H

#include <stdint.h>

#include "core/context.h"
#include "core/totp.h"
#include "core/types.h"
#include "core/store.h"

#define KUNCI_CODE_DIGITS       6
#define KUNCI_CODE_LIFETIME     600 /* ten minutes */
#define KUNCI_CODE_MAX_ATTEMPTS 5

enum kunci_channel {
    KUNCI_CHANNEL_SMS,
    KUNCI_CHANNEL_VOICE,
    KUNCI_CHANNEL_EMAIL,
};

struct kunci_message {
    enum kunci_channel channel;
    const char *to;
    const char *login;
    const char *code;
    const char *subject;
    const char *text;
};

/* Returns KUNCI_OK or KUNCI_ERR_DELIVERY; err gets a reason for the log. */
typedef int (*kunci_send_fn)(void *arg, const struct kunci_message *msg, char *err,
                             size_t err_size);

struct kunci_totp_enrollment {
    int64_t method_id;
    char base32[KUNCI_TOTP_BASE32_MAX + 1];
    char uri[512];
};

/* Checks a phone number: "+" and country code, then 4 to 14 digits (spaces allowed). */
int kunci_phone_canonical(const char *country_code, const char *number, char *out, size_t out_size);
int kunci_email_check(const char *address);

/* Starts registering an authenticator app: a new secret, kept encrypted, unverified. */
int kunci_mfa_totp_begin(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                         const struct kunci_account *acct, const char *issuer, int64_t now,
                         struct kunci_totp_enrollment *out);
/* Codes sent are limited per account and per destination (codes_per_15_minutes,
 * codes_per_day), with a cool-down between two codes to one place (code_resend_seconds) and
 * a cap on new destinations while registering (code_destinations_per_day): KUNCI_ERR_RATE,
 * with *retry_after_r (may be NULL) the seconds to wait. A code that could not be
 * delivered still counts. */

/* Starts registering a phone or e-mail method and sends it a code. Nothing stays
 * registered when the code cannot be sent. */
int kunci_mfa_code_begin(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                         const struct kunci_account *acct, enum kunci_method_kind kind,
                         const char *target, const char *channel, int64_t now, kunci_send_fn send,
                         void *send_arg, char *err, size_t err_size, int64_t *method_id_r,
                         int64_t *retry_after_r);
/* Sends a new code to a registered phone or e-mail method (sign-in). */
int kunci_mfa_send_code(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                        const struct kunci_account *acct, int64_t method_id, int64_t now,
                        kunci_send_fn send, void *send_arg, char *err, size_t err_size,
                        int64_t *retry_after_r);
/* Checks a code for a method: KUNCI_OK, KUNCI_ERR_INVALID (wrong), KUNCI_ERR_EXPIRED,
 * KUNCI_ERR_LIMIT (too many attempts: ask for a new code), KUNCI_ERR_REUSED (TOTP),
 * KUNCI_ERR_NOT_FOUND (no such method, or no code pending), KUNCI_ERR_LOCKED (too many
 * wrong codes for this account lately: *retry_after_r seconds, 0 until an administrator
 * clears it). Every attempt counts against the account until one is right. */
int kunci_mfa_check(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                    const struct kunci_account *acct, int64_t method_id, const char *code,
                    int64_t now, int64_t *retry_after_r);
/* Checks the code of an unverified method and marks it verified. */
int kunci_mfa_verify_method(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                            const struct kunci_account *acct, int64_t method_id, const char *code,
                            int64_t now, int64_t *retry_after_r);
/* Completes registration: needs a verified method; moves `enabled` to `enforced`. */
int kunci_mfa_complete(struct kunci_store_handle *h, struct kunci_account *acct);
/* Removes a method; the last verified one stays while MFA is required. */
int kunci_mfa_remove(struct kunci_store_handle *h, const struct kunci_account *acct,
                     int64_t method_id);
/* Counts verified methods. */
int kunci_mfa_verified_count(struct kunci_store_handle *h, int64_t account_id, int *count_r,
                             int64_t *default_id_r);

/* "sms", "voice", "email" */
const char *kunci_channel_name(enum kunci_channel channel);

#endif
