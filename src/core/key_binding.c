#include "core/key_binding.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/keys.h"

static int take_fingerprint(void *arg, const char *key, const char *value)
{
    if (strcmp(key, KUNCI_KEY_FINGERPRINT_SETTING) == 0)
        snprintf(arg, KUNCI_KEY_FINGERPRINT_HEX + 1, "%s", value);
    return KUNCI_OK;
}

int kunci_key_binding_check(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                            char found_r[KUNCI_KEY_FINGERPRINT_HEX + 1])
{
    char found[KUNCI_KEY_FINGERPRINT_HEX + 1] = "";
    int r = kunci_store_settings_each(h, take_fingerprint, found);

    if (r == KUNCI_OK && found[0] == '\0') {
        /* A database from before fingerprints, or new: it belongs to this key from now on. */
        int written =
            kunci_store_setting_set(h, KUNCI_KEY_FINGERPRINT_SETTING, ctx->keys->fingerprint);
        (void)written; /* read-only commands on a read-only database still work */
        memcpy(found, ctx->keys->fingerprint, sizeof(found));
    }
    if (found_r != NULL)
        memcpy(found_r, found, sizeof(found));
    if (r != KUNCI_OK)
        return r;
    if (strcmp(found, ctx->keys->fingerprint) == 0)
        return KUNCI_OK;
    /* A rotation whose database step has not run yet (core/key_rotation.h). */
    if (ctx->keys->previous != NULL && strcmp(found, ctx->keys->previous->fingerprint) == 0)
        return KUNCI_OK;
    return KUNCI_ERR_KEY_MISMATCH;
}
