/* App passwords: generated from the CSPRNG, shown once in groups of four, accepted in
 * any case with spaces or dashes, stored only as HMAC-SHA256 under the server pepper. */
#ifndef KUNCI_SECRET_H
#define KUNCI_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "core/keys.h"
#include "core/types.h"

#define KUNCI_APP_PASSWORD_MIN_LEN 16
#define KUNCI_APP_PASSWORD_MAX_LEN 64
/* Longest accepted input before normalisation: groups with separators, and some slack. */
#define KUNCI_SECRET_INPUT_MAX 256
/* Room for the grouped form: letters, a space per group, NUL. */
#define KUNCI_APP_PASSWORD_FORMATTED_MAX (KUNCI_APP_PASSWORD_MAX_LEN * 5 / 4 + 1)

/* len letters drawn uniformly from alphabet (randombytes_uniform: no modulo bias). */
void kunci_random_string(char *out, size_t len, const char *alphabet);
/* len lowercase letters, NUL-terminated: out must hold len + 1. */
int kunci_app_password_generate(char *out, size_t len);
/* "abcdefgh" to "abcd efgh". */
void kunci_app_password_format(const char *pw, char *out, size_t out_size);
/* Drops spaces and dashes and folds case. KUNCI_ERR_INVALID when the result cannot be an
 * app password (other characters, or a length outside the bounds). */
int kunci_app_password_normalise(const char *in, size_t in_len,
                                 char out[KUNCI_APP_PASSWORD_MAX_LEN + 1], size_t *out_len_r);
void kunci_app_password_digest(const struct kunci_keys *keys, const char *normalised, size_t len,
                               uint8_t digest_r[KUNCI_DIGEST_BYTES]);
/* What a request thread's cache of lookups knows the same letters by: a keyed BLAKE2b under
 * a key of its own (keys.h), never stored. Collision-resistant like the digest, so a cached
 * row is found only by its own letters. */
void kunci_app_password_cache_key(const struct kunci_keys *keys, const char *normalised, size_t len,
                                  uint8_t key_r[KUNCI_DIGEST_BYTES]);

#endif
