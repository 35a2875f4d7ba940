/* Authenticator apps: TOTP (RFC 6238, HMAC-SHA1, 6 digits, 30 s) through liboath. */
#ifndef KUNCI_TOTP_H
#define KUNCI_TOTP_H

#include <stddef.h>
#include <stdint.h>

#define KUNCI_TOTP_SECRET_BYTES 20 /* 160 bits, RFC 4226's recommendation */
#define KUNCI_TOTP_BASE32_MAX   40
#define KUNCI_TOTP_STEP         30
#define KUNCI_TOTP_WINDOW       1 /* one step of drift either way */

void kunci_totp_secret_new(uint8_t secret[KUNCI_TOTP_SECRET_BYTES]);
/* The secret as people type it into an app: base32 without padding. */
int kunci_totp_base32(const uint8_t *secret, size_t len, char out[KUNCI_TOTP_BASE32_MAX + 1]);
/* otpauth://totp/ISSUER:LOGIN?secret=...&issuer=ISSUER&... */
int kunci_totp_uri(const char *issuer, const char *login, const char *base32, char *out,
                   size_t out_size);
/* KUNCI_OK and the matched time step, or KUNCI_ERR_INVALID. */
int kunci_totp_check(const uint8_t *secret, size_t len, const char *code, int64_t now,
                     int64_t *step_r);
/* The code for a time, for tests and tools. */
int kunci_totp_code(const uint8_t *secret, size_t len, int64_t now, char out[7]);

#endif
