#include "core/totp.h"
#include "core/err.h"

#include <liboath/oath.h>
#include <pthread.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_once_t oath_once = PTHREAD_ONCE_INIT;

static void oath_start(void)
{
    oath_init();
}

void kunci_totp_secret_new(uint8_t secret[KUNCI_TOTP_SECRET_BYTES])
{
    randombytes_buf(secret, KUNCI_TOTP_SECRET_BYTES);
}

int kunci_totp_base32(const uint8_t *secret, size_t len, char out[KUNCI_TOTP_BASE32_MAX + 1])
{
    char *b32 = NULL;
    size_t b32_len = 0;

    pthread_once(&oath_once, oath_start);
    if (oath_base32_encode((const char *)secret, len, &b32, &b32_len) != OATH_OK)
        return KUNCI_ERR_NOMEM;
    while (b32_len > 0 && b32[b32_len - 1] == '=')
        b32_len--;
    int r = b32_len <= KUNCI_TOTP_BASE32_MAX ? KUNCI_OK : KUNCI_ERR_TOO_LONG;
    if (r == KUNCI_OK) {
        memcpy(out, b32, b32_len);
        out[b32_len] = '\0';
    }
    sodium_memzero(b32, strlen(b32));
    free(b32);
    return r;
}

/* Percent-encodes what an otpauth label or parameter may not hold. */
static size_t uri_escape(const char *in, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;

    for (; *in != '\0'; in++) {
        unsigned char c = (unsigned char)*in;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '-' || c == '.' || c == '_' || c == '@';
        if (o + 4 >= size)
            return (size_t)-1;
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return o;
}

int kunci_totp_uri(const char *issuer, const char *login, const char *base32, char *out,
                   size_t out_size)
{
    char e_issuer[256], e_login[3 * 254 + 1];

    if (uri_escape(issuer, e_issuer, sizeof(e_issuer)) == (size_t)-1 ||
        uri_escape(login, e_login, sizeof(e_login)) == (size_t)-1)
        return KUNCI_ERR_TOO_LONG;
    int n = snprintf(out, out_size,
                     "otpauth://totp/%s:%s?secret=%s&issuer=%s&algorithm=SHA1&digits=6&period=30",
                     e_issuer, e_login, base32, e_issuer);
    return n > 0 && (size_t)n < out_size ? KUNCI_OK : KUNCI_ERR_TOO_LONG;
}

int kunci_totp_check(const uint8_t *secret, size_t len, const char *code, int64_t now,
                     int64_t *step_r)
{
    int pos = 0;
    uint64_t counter = 0;

    *step_r = 0;
    if (strlen(code) != 6 || strspn(code, "0123456789") != 6)
        return KUNCI_ERR_INVALID;
    pthread_once(&oath_once, oath_start);
    int rc = oath_totp_validate3((const char *)secret, len, (time_t)now, KUNCI_TOTP_STEP, 0,
                                 KUNCI_TOTP_WINDOW, &pos, &counter, code);
    if (rc < 0)
        return KUNCI_ERR_INVALID;
    *step_r = (int64_t)counter;
    return KUNCI_OK;
}

int kunci_totp_code(const uint8_t *secret, size_t len, int64_t now, char out[7])
{
    pthread_once(&oath_once, oath_start);
    return oath_totp_generate((const char *)secret, len, (time_t)now, KUNCI_TOTP_STEP, 0, 6, out) ==
                   OATH_OK
               ? KUNCI_OK
               : KUNCI_ERR_CRYPTO;
}
