/* The link a device's settings are fetched from (Apple's profile, Thunderbird for
 * Android's QR code): single use, for ten minutes, bound to the web session that asked for
 * it. The link holds the request itself, sealed under the server's key, so nothing is kept
 * until it is used; its use is recorded once in the database (every node sees it), and only
 * then is the app password made and put in the answer. */
#ifndef KUNCI_DEVICE_LINK_H
#define KUNCI_DEVICE_LINK_H

#include <stddef.h>
#include <stdint.h>

#include "core/context.h"
#include "core/store.h"
#include "core/types.h"
#include "device/device.h"

#define KUNCI_DEVICE_LINK_SECONDS 600
#define KUNCI_DEVICE_LINK_MAX     256 /* characters of a link's token */

struct kunci_device_link {
    enum kunci_device_kind kind;
    int64_t account_id;
    int64_t session_id;
    int64_t issued_at;
    int64_t expires_at; /* the app password's expiry, 0: never */
    char name[KUNCI_APP_NAME_MAX + 1];
};

/* The token for a link: base64url, at most KUNCI_DEVICE_LINK_MAX characters. */
int kunci_device_link_issue(const struct kunci_ctx *ctx, const struct kunci_device_link *link,
                            char *token, size_t size);
/* The request a token holds, if kunci sealed it (no check of session, time or use):
 * KUNCI_ERR_NOT_FOUND otherwise. Pure: the fuzz target's way in. */
int kunci_device_link_open(const struct kunci_ctx *ctx, const char *token,
                           struct kunci_device_link *link_r);
/* Opens a token and spends it: KUNCI_ERR_NOT_FOUND for one that is not kunci's or not this
 * session's, KUNCI_ERR_EXPIRED after KUNCI_DEVICE_LINK_SECONDS, KUNCI_ERR_REUSED the second
 * time, KUNCI_ERR_TEMPFAIL when the database cannot say. */
int kunci_device_link_redeem(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                             const char *token, int64_t session_id, int64_t account_id, int64_t now,
                             struct kunci_device_link *link_r);

#endif
