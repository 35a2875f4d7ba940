/* Device links (link.h): a sealed request, spent once. */
#include "device/link.h"

#include <sodium.h>
#include <string.h>

#include "core/err.h"

/* version, kind, name length, then account, session, issued, expires (little-endian). */
#define LINK_VERSION 1
#define LINK_FIXED   (3 + 4 * 8)
#define LINK_PLAIN   (LINK_FIXED + KUNCI_APP_NAME_MAX)
#define LINK_SEALED  (crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + LINK_PLAIN)

/* Links have a key of their own, derived from the tokens key: a link opens nothing else. */
static void link_key(const struct kunci_ctx *ctx, uint8_t key[crypto_secretbox_KEYBYTES])
{
    static const char purpose[] = "kunci device link v1";
    crypto_generichash(key, crypto_secretbox_KEYBYTES, (const uint8_t *)purpose,
                       sizeof(purpose) - 1, ctx->keys->tokens, KUNCI_SUBKEY_BYTES);
}

static void put64(uint8_t *p, int64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

static int64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return (int64_t)v;
}

int kunci_device_link_issue(const struct kunci_ctx *ctx, const struct kunci_device_link *link,
                            char *token, size_t size)
{
    uint8_t plain[LINK_PLAIN], sealed[LINK_SEALED], key[crypto_secretbox_KEYBYTES];
    size_t name_len = strlen(link->name);

    if (name_len > KUNCI_APP_NAME_MAX ||
        size < sodium_base64_ENCODED_LEN(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES +
                                             LINK_FIXED + name_len,
                                         sodium_base64_VARIANT_URLSAFE_NO_PADDING))
        return KUNCI_ERR_TOO_LONG;
    plain[0] = LINK_VERSION;
    plain[1] = (uint8_t)link->kind;
    plain[2] = (uint8_t)name_len;
    put64(plain + 3, link->account_id);
    put64(plain + 11, link->session_id);
    put64(plain + 19, link->issued_at);
    put64(plain + 27, link->expires_at);
    memcpy(plain + LINK_FIXED, link->name, name_len);
    size_t plain_len = LINK_FIXED + name_len;
    randombytes_buf(sealed, crypto_secretbox_NONCEBYTES);
    link_key(ctx, key);
    crypto_secretbox_easy(sealed + crypto_secretbox_NONCEBYTES, plain, plain_len, sealed, key);
    sodium_memzero(key, sizeof(key));
    sodium_bin2base64(token, size, sealed,
                      crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + plain_len,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return KUNCI_OK;
}

int kunci_device_link_open(const struct kunci_ctx *ctx, const char *token,
                           struct kunci_device_link *link_r)
{
    uint8_t sealed[LINK_SEALED], plain[LINK_PLAIN], key[crypto_secretbox_KEYBYTES];
    size_t len = 0, tlen = strlen(token);
    int r = KUNCI_ERR_NOT_FOUND;

    if (tlen > KUNCI_DEVICE_LINK_MAX ||
        sodium_base642bin(sealed, sizeof(sealed), token, tlen, NULL, &len, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        len < crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES + LINK_FIXED)
        return KUNCI_ERR_NOT_FOUND;
    size_t plain_len = len - crypto_secretbox_NONCEBYTES - crypto_secretbox_MACBYTES;
    link_key(ctx, key);
    if (crypto_secretbox_open_easy(plain, sealed + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, sealed, key) == 0 &&
        plain[0] == LINK_VERSION && plain[2] == plain_len - LINK_FIXED &&
        plain[2] <= KUNCI_APP_NAME_MAX) {
        memset(link_r, 0, sizeof(*link_r));
        link_r->kind = (enum kunci_device_kind)plain[1];
        link_r->account_id = get64(plain + 3);
        link_r->session_id = get64(plain + 11);
        link_r->issued_at = get64(plain + 19);
        link_r->expires_at = get64(plain + 27);
        memcpy(link_r->name, plain + LINK_FIXED, plain[2]);
        r = KUNCI_OK;
    }
    sodium_memzero(key, sizeof(key));
    return r;
}

int kunci_device_link_redeem(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                             const char *token, int64_t session_id, int64_t account_id, int64_t now,
                             struct kunci_device_link *link_r)
{
    uint8_t spent[32];
    int r = kunci_device_link_open(ctx, token, link_r);

    if (r != KUNCI_OK)
        return r;
    /* Another session's link (a forwarded or leaked one) is no link at all here. */
    if (link_r->session_id != session_id || link_r->account_id != account_id)
        return KUNCI_ERR_NOT_FOUND;
    if (now < link_r->issued_at || now >= link_r->issued_at + KUNCI_DEVICE_LINK_SECONDS)
        return KUNCI_ERR_EXPIRED;
    /* Spent once, by its own name among the answered challenges (any node's). */
    crypto_generichash(spent, sizeof(spent), (const uint8_t *)token, strlen(token),
                       (const uint8_t *)"kunci device link", 17);
    return kunci_store_challenge_use(h, spent, sizeof(spent),
                                     link_r->issued_at + KUNCI_DEVICE_LINK_SECONDS);
}
