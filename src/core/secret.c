#include "core/secret.h"
#include "core/err.h"

#include <sodium.h>
#include <string.h>

void kunci_random_string(char *out, size_t len, const char *alphabet)
{
    uint32_t n = (uint32_t)strlen(alphabet);

    for (size_t i = 0; i < len; i++)
        out[i] = alphabet[randombytes_uniform(n)];
    out[len] = '\0';
}

int kunci_app_password_generate(char *out, size_t len)
{
    if (len < KUNCI_APP_PASSWORD_MIN_LEN || len > KUNCI_APP_PASSWORD_MAX_LEN)
        return KUNCI_ERR_INVALID;
    kunci_random_string(out, len, "abcdefghijklmnopqrstuvwxyz");
    return KUNCI_OK;
}

void kunci_app_password_format(const char *pw, char *out, size_t out_size)
{
    size_t o = 0;

    if (out_size == 0)
        return;
    for (size_t i = 0; pw[i] != '\0' && o + 1 < out_size; i++) {
        if (i > 0 && i % 4 == 0) {
            if (o + 2 >= out_size)
                break;
            out[o++] = ' ';
        }
        out[o++] = pw[i];
    }
    out[o] = '\0';
}

int kunci_app_password_normalise(const char *in, size_t in_len,
                                 char out[KUNCI_APP_PASSWORD_MAX_LEN + 1], size_t *out_len_r)
{
    size_t o = 0;

    *out_len_r = 0;
    out[0] = '\0';
    if (in_len > KUNCI_SECRET_INPUT_MAX)
        return KUNCI_ERR_INVALID;
    for (size_t i = 0; i < in_len; i++) {
        char c = in[i];
        if (c == ' ' || c == '-')
            continue;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c < 'a' || c > 'z' || o >= KUNCI_APP_PASSWORD_MAX_LEN) {
            sodium_memzero(out, KUNCI_APP_PASSWORD_MAX_LEN + 1);
            return KUNCI_ERR_INVALID;
        }
        out[o++] = c;
    }
    out[o] = '\0';
    if (o < KUNCI_APP_PASSWORD_MIN_LEN) {
        sodium_memzero(out, KUNCI_APP_PASSWORD_MAX_LEN + 1);
        return KUNCI_ERR_INVALID;
    }
    *out_len_r = o;
    return KUNCI_OK;
}

void kunci_app_password_cache_key(const struct kunci_keys *keys, const char *normalised, size_t len,
                                  uint8_t key_r[KUNCI_DIGEST_BYTES])
{
    crypto_generichash_state st = keys->app_password_cache;

    crypto_generichash_update(&st, (const unsigned char *)normalised, len);
    crypto_generichash_final(&st, key_r, KUNCI_DIGEST_BYTES);
    sodium_memzero(&st, sizeof(st));
}

void kunci_app_password_digest(const struct kunci_keys *keys, const char *normalised, size_t len,
                               uint8_t digest_r[KUNCI_DIGEST_BYTES])
{
    crypto_auth_hmacsha256_state st = keys->app_password_hmac;

    crypto_auth_hmacsha256_update(&st, (const unsigned char *)normalised, len);
    crypto_auth_hmacsha256_final(&st, digest_r);
    sodium_memzero(&st, sizeof(st));
}
