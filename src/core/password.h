/* Primary passwords: Argon2id PHC strings through libsodium. The parameters live in each
 * hash, so a change of parameters is noticed at the next successful sign-in (rehash). */
#ifndef KUNCI_PASSWORD_H
#define KUNCI_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#include "core/types.h"

#define KUNCI_PASSWORD_MIN 8 /* NIST SP 800-63B minimum for user-chosen secrets */
/* NIST SP 800-63B rev. 4 asks 15 of a password used alone; an administrator's can do the
 * most harm, so it is held to that, second factor or not. */
#define KUNCI_PASSWORD_MIN_ADMIN 15
#define KUNCI_PASSWORD_MAX       256 /* bytes; capped before hashing */

struct kunci_pwparams {
    unsigned long long opslimit; /* Argon2 t */
    size_t memlimit;             /* bytes */
};

/* OWASP's minimum for Argon2id: 19 MiB, t=2, p=1. */
#define KUNCI_PWPARAMS_DEFAULT                                                                     \
    {                                                                                              \
        2, 19u * 1024u * 1024u                                                                     \
    }

#define KUNCI_GENERATED_PASSWORD_LEN 20 /* about 116 bits from 56 unambiguous characters */

/* A random password for a new account or a reset, NUL-terminated. */
void kunci_password_generate(char out[KUNCI_GENERATED_PASSWORD_LEN + 1]);
/* Fewer guesses than this (as zxcvbn estimates them, 2^bits) make a password common. */
#define KUNCI_PASSWORD_MIN_BITS 20.0

/* Whose password it is: the words it must not be built from, and the role. */
struct kunci_password_owner {
    const char *login;        /* may be NULL */
    const char *display_name; /* may be NULL */
    enum kunci_role role;
};

/* A new password as NIST SP 800-63B asks: KUNCI_PASSWORD_MIN to KUNCI_PASSWORD_MAX
 * characters, any printable ones (KUNCI_ERR_INVALID, KUNCI_ERR_TOO_LONG), and for an
 * administrator KUNCI_PASSWORD_MIN_ADMIN (KUNCI_ERR_PASSWORD_SHORT); not common or
 * breached-looking (KUNCI_ERR_PASSWORD_COMMON: libzxcvbn's dictionaries and patterns); not
 * built from the login or the display name (KUNCI_ERR_PASSWORD_PERSONAL). */
int kunci_password_acceptable(const char *pw, size_t len, const struct kunci_password_owner *owner);
/* The same, and the estimate in bits (log2 of the guesses; for a strength meter). */
int kunci_password_assess(const char *pw, size_t len, const struct kunci_password_owner *owner,
                          double *bits_r);
int kunci_password_hash(const struct kunci_pwparams *params, const char *pw, size_t len,
                        char hash_r[KUNCI_HASH_MAX]);
/* true on a match. A password over the cap never matches, but costs the same. */
bool kunci_password_verify(const char *hash, const char *pw, size_t len);
bool kunci_password_needs_rehash(const char *hash, const struct kunci_pwparams *params);

#endif
