/* Web sessions and trusted devices. Tokens are 32 random bytes in base64url; the store keeps
 * only HMAC-SHA256(token key, token), so a copied database opens no session. */
#ifndef KUNCI_SESSION_H
#define KUNCI_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/context.h"
#include "core/types.h"
#include "core/store.h"

#define KUNCI_TOKEN_MAX 48 /* 43 base64url characters and NUL, with room */

struct kunci_session_policy {
    int64_t idle_seconds;
    int64_t max_seconds;
};

/* 32 random bytes as URL-safe base64: a session's or a device's token, a CSRF token. */
void kunci_random_token(char out[KUNCI_TOKEN_MAX]);
void kunci_token_hash(const struct kunci_ctx *ctx, const char *token,
                      uint8_t hash_r[KUNCI_TOKEN_HASH_BYTES]);
/* A fresh session (and a fresh token: never reuse one across sign-ins). */
int kunci_session_start(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                        int64_t account_id, enum kunci_session_stage stage, int64_t now,
                        char token_r[KUNCI_TOKEN_MAX], struct kunci_session *sess_r);
/* Deletes what has expired: idle or old sessions, trusted devices, one-time codes.
 * Called at each sign-in, so the tables stay as small as the active users. */
int kunci_session_purge(struct kunci_store_handle *h, const struct kunci_session_policy *policy,
                        int64_t now);
/* KUNCI_ERR_NOT_FOUND for an unknown, idle or too old session (deleted on the way). */
int kunci_session_resolve(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                          const char *token, int64_t now, const struct kunci_session_policy *policy,
                          struct kunci_session *sess_r);
int kunci_device_remember(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                          int64_t account_id, int64_t now, int days, char token_r[KUNCI_TOKEN_MAX]);
bool kunci_device_trusted(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                          int64_t account_id, const char *token, int64_t now);
/* Replaces `old` (NULL: none yet) with a session at `stage` under a new token: whenever a
 * session gains rights its token changes (no fixation). When and how the password and the
 * second factor were proven carry over. */
int kunci_session_rotate(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                         const struct kunci_session *old, int64_t account_id,
                         enum kunci_session_stage stage, int64_t now, char token_r[KUNCI_TOKEN_MAX],
                         struct kunci_session *sess_r);

/* Where a signed-in user goes next. */
enum kunci_next_step {
    KUNCI_NEXT_DONE,            /* full rights */
    KUNCI_NEXT_CHANGE_PASSWORD, /* the administrator set a one-time password */
    KUNCI_NEXT_SECOND_FACTOR,   /* prove a verified method */
    KUNCI_NEXT_SETUP,           /* register a method (MFA required, none verified yet) */
};
/* An account with a verified method proves one at every sign-in, whatever its MFA state;
 * set-up follows only for one without (or after a method verified in this very session).
 * An unreadable method list asks for the second factor: never less than that. */
enum kunci_next_step kunci_session_next(struct kunci_store_handle *h,
                                        const struct kunci_account *acct,
                                        const struct kunci_session *sess);
/* "done", "change_password", "second_factor", "setup": the API's words. */
const char *kunci_next_step_name(enum kunci_next_step step);

/* "Not now" on "More information required": allowed while mfa_setup_grace_days have not
 * passed since the account first answered it. *until_r is when set-up becomes mandatory (0:
 * no grace at all). With defer, a first answer is recorded. */
int kunci_setup_grace(struct kunci_store_handle *h, const struct kunci_account *acct, int64_t now,
                      bool defer, bool *allowed_r, int64_t *until_r);
/* The session limits kunci.conf sets. */
void kunci_session_policy_from(const struct kunci_config *cfg,
                               struct kunci_session_policy *policy_r);

/* A constant-time comparison of two NUL-terminated tokens. */
bool kunci_token_equal(const char *a, const char *b);

#endif
