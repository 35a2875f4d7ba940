/* The decision at the heart of kunci: may LOGIN, with SECRET, use PROTOCOL from IP?
 *
 * It runs in two phases so that servers can keep slow work off the threads that answer
 * fast checks. kunci_auth_fast() settles every app password with one HMAC and one indexed
 * lookup; when the secret may be a primary password it returns KUNCI_AUTH_NEEDS_HASH and
 * kunci_auth_slow() (Argon2id, tens of milliseconds) finishes the decision.
 *
 * Results are distinct so logs and tests can tell them apart; callers decide what to
 * reveal (a mail client sees only "invalid" or "try again later"). */
#ifndef KUNCI_DECISION_H
#define KUNCI_DECISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/context.h"
#include "core/types.h"
#include "core/settings.h"
#include "core/store.h"

enum kunci_auth_result {
    KUNCI_AUTH_ALLOWED = 0,
    KUNCI_AUTH_WRONG_SECRET,
    KUNCI_AUTH_UNKNOWN_USER,
    KUNCI_AUTH_DISABLED,
    KUNCI_AUTH_MFA_REQUIRED, /* right primary password, but MFA is enforced: use an app password */
    KUNCI_AUTH_PROTOCOL_NOT_ALLOWED,
    KUNCI_AUTH_EXPIRED,
    KUNCI_AUTH_NETWORK_NOT_ALLOWED,
    KUNCI_AUTH_TEMPFAIL,
    KUNCI_AUTH_LOCKED,     /* too many distinct wrong passwords lately; app passwords still pass */
    KUNCI_AUTH_THROTTLED,  /* too many failures from this client address: wait */
    KUNCI_AUTH_NEEDS_HASH, /* only between the two phases */
};

struct kunci_auth_request {
    const char *login;
    size_t login_len;
    const char *secret;
    size_t secret_len;
    unsigned protocol;     /* one KUNCI_PROTO_* bit */
    const char *client_ip; /* NULL or "" when unknown */
    int64_t now;
    /* The web: the primary password only (app passwords never open it), and a right one is
     * "allowed" whatever the MFA state; the caller asks for the second factor. */
    bool primary_only;
};

struct kunci_auth_outcome {
    enum kunci_auth_result result;
    char login[KUNCI_LOGIN_MAX + 1]; /* canonical, when the login was well formed */
    int64_t account_id;              /* 0 when unknown */
    int64_t app_password_id;         /* 0 unless an app password decided */
    /* Carried from the fast phase to the slow one. */
    bool account_known;
    bool account_enabled;
    enum kunci_mfa_state mfa_state;
    char password_hash[KUNCI_HASH_MAX];
    struct kunci_settings settings; /* read in the fast phase, for the guards */
    int64_t retry_after;            /* LOCKED, THROTTLED: seconds (0: until cleared) */
    int address_level;              /* the client address's failures lately */
};

/* Seconds between two writes of an app password's last use. */
#define KUNCI_LAST_USE_INTERVAL 60

enum kunci_auth_result kunci_auth_fast(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                                       const struct kunci_auth_request *req,
                                       struct kunci_auth_outcome *out);
enum kunci_auth_result kunci_auth_slow(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                                       const struct kunci_auth_request *req,
                                       struct kunci_auth_outcome *out);
/* Both phases, for callers that may block (the CLI). */
enum kunci_auth_result kunci_auth_check(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                                        const struct kunci_auth_request *req,
                                        struct kunci_auth_outcome *out);
const char *kunci_auth_result_name(enum kunci_auth_result result);

#endif
