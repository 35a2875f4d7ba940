/* The database's side of a key rotation (kunci key rotate, kunci key finish-rotation; the
 * key file's side is core/keys.h). While the key file holds a previous key: sealed secrets
 * open under either key; app passwords are found under either, and move to the current key
 * at their first use; the database names the current key's fingerprint. */
#ifndef KUNCI_KEY_ROTATION_H
#define KUNCI_KEY_ROTATION_H

#include <stdbool.h>

#include "core/context.h"
#include "core/store.h"

struct kunci_rotation_report {
    int secrets_resealed;   /* second-factor secrets moved to the current key */
    int app_passwords_left; /* app passwords still under the previous key */
};

/* After kunci_keys_rotate_file (ctx's keys have a previous): in one transaction, every sealed
 * secret is sealed again under the current key, app passwords from before key ids are marked
 * as the previous key's, and the database names the current key. Run again, it does no harm
 * (an interrupted rotation is finished by running it again). */
int kunci_key_rotation_apply(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                             struct kunci_rotation_report *rep);

/* How many app passwords are still under the previous key (0 when there is none). */
int kunci_key_rotation_left(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                            int *count_r);

/* Before the previous key is dropped: what is still sealed under it is sealed again, and the
 * app passwords still under it (with force; else KUNCI_ERR_LIMIT while there are any) are
 * deleted: without the previous key they could never be checked. */
int kunci_key_rotation_finish(const struct kunci_ctx *ctx, struct kunci_store_handle *h, bool force,
                              int *deleted_r);

#endif
