#include "core/key_rotation.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/key_binding.h"
#include "core/keys.h"
#include "core/types.h"

struct sealed_row {
    int64_t id;
    uint8_t sealed[KUNCI_SECRET_BOX_MAX];
    size_t len;
};

struct sealed_rows {
    struct sealed_row *rows;
    size_t n, cap;
};

/* Collected first, changed after: no row is written while the statement reading them runs. */
static int collect(void *arg, int64_t id, const uint8_t *sealed, size_t len)
{
    struct sealed_rows *all = arg;
    if (len > KUNCI_SECRET_BOX_MAX)
        return KUNCI_ERR_STORE_INVALID;
    if (all->n == all->cap) {
        size_t cap = all->cap ? all->cap * 2 : 64;
        struct sealed_row *grown = realloc(all->rows, cap * sizeof(*grown));
        if (grown == NULL)
            return KUNCI_ERR_NOMEM;
        all->rows = grown;
        all->cap = cap;
    }
    struct sealed_row *row = &all->rows[all->n++];
    row->id = id;
    memcpy(row->sealed, sealed, len);
    row->len = len;
    return KUNCI_OK;
}

/* Every sealed secret that opens only under the previous key is sealed under the current. */
static int reseal(const struct kunci_ctx *ctx, struct kunci_store_handle *h, int *count_r)
{
    struct sealed_rows all = {NULL, 0, 0};
    uint8_t plain[KUNCI_SECRET_BOX_MAX], sealed[KUNCI_SECRET_BOX_MAX];
    size_t plain_len, sealed_len;
    int r = kunci_store_method_secret_each(h, collect, &all);

    *count_r = 0;
    for (size_t i = 0; r == KUNCI_OK && i < all.n; i++) {
        struct sealed_row *row = &all.rows[i];
        if (kunci_sealed_under_current(ctx->keys, row->sealed, row->len))
            continue;
        if (kunci_unseal(ctx->keys, row->sealed, row->len, plain, sizeof(plain), &plain_len) !=
            KUNCI_OK)
            continue; /* under neither: left as it is (it was unreadable before too) */
        r = kunci_seal(ctx->keys, plain, plain_len, sealed, sizeof(sealed), &sealed_len);
        if (r == KUNCI_OK)
            r = kunci_store_method_secret_set(h, row->id, sealed, sealed_len);
        if (r == KUNCI_OK)
            (*count_r)++;
    }
    sodium_memzero(plain, sizeof(plain));
    if (all.rows != NULL) {
        sodium_memzero(all.rows, all.cap * sizeof(*all.rows));
        free(all.rows);
    }
    return r;
}

int kunci_key_rotation_apply(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                             struct kunci_rotation_report *rep)
{
    int marked = 0;
    memset(rep, 0, sizeof(*rep));
    if (ctx->keys->previous == NULL)
        return KUNCI_ERR_INVALID;
    int r = kunci_store_begin(h);
    if (r != KUNCI_OK)
        return r;
    r = reseal(ctx, h, &rep->secrets_resealed);
    if (r == KUNCI_OK)
        r = kunci_store_app_password_key_mark(h, ctx->keys->previous->fingerprint, &marked);
    if (r == KUNCI_OK)
        r = kunci_store_setting_set(h, KUNCI_KEY_FINGERPRINT_SETTING, ctx->keys->fingerprint);
    r = kunci_store_finish(h, r);
    if (r == KUNCI_OK)
        r = kunci_key_rotation_left(ctx, h, &rep->app_passwords_left);
    return r;
}

int kunci_key_rotation_left(const struct kunci_ctx *ctx, struct kunci_store_handle *h, int *count_r)
{
    *count_r = 0;
    if (ctx->keys->previous == NULL)
        return KUNCI_OK;
    return kunci_store_app_password_key_count(h, ctx->keys->previous->fingerprint, count_r);
}

int kunci_key_rotation_finish(const struct kunci_ctx *ctx, struct kunci_store_handle *h, bool force,
                              int *deleted_r)
{
    int left = 0, resealed = 0;
    *deleted_r = 0;
    if (ctx->keys->previous == NULL)
        return KUNCI_OK;
    int r = kunci_store_begin(h);
    if (r != KUNCI_OK)
        return r;
    r = reseal(ctx, h, &resealed);
    if (r == KUNCI_OK)
        r = kunci_store_app_password_key_count(h, ctx->keys->previous->fingerprint, &left);
    if (r == KUNCI_OK && left > 0 && !force)
        r = KUNCI_ERR_LIMIT;
    if (r == KUNCI_OK && left > 0)
        r = kunci_store_app_password_key_delete(h, ctx->keys->previous->fingerprint, deleted_r);
    if (r == KUNCI_OK)
        r = kunci_store_setting_set(h, KUNCI_KEY_FINGERPRINT_SETTING, ctx->keys->fingerprint);
    return kunci_store_finish(h, r);
}
