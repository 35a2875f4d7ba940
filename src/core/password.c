#include "core/password.h"
#include "core/err.h"

#include "core/secret.h"

#include <sodium.h>
#include <string.h>

void kunci_password_generate(char out[KUNCI_GENERATED_PASSWORD_LEN + 1])
{
    /* No 0/O, 1/l/I: it is read off a screen and typed once. */
    kunci_random_string(out, KUNCI_GENERATED_PASSWORD_LEN,
                        "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789");
}

int kunci_password_acceptable(const char *pw, size_t len)
{
    if (len > KUNCI_PASSWORD_MAX)
        return KUNCI_ERR_TOO_LONG;
    if (len < KUNCI_PASSWORD_MIN)
        return KUNCI_ERR_INVALID;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
            return KUNCI_ERR_INVALID; /* control characters cannot be typed in a mail client */
    return KUNCI_OK;
}

int kunci_password_hash(const struct kunci_pwparams *params, const char *pw, size_t len,
                        char hash_r[KUNCI_HASH_MAX])
{
    if (len > KUNCI_PASSWORD_MAX)
        return KUNCI_ERR_TOO_LONG;
    if (crypto_pwhash_str_alg(hash_r, pw, len, params->opslimit, params->memlimit,
                              crypto_pwhash_ALG_ARGON2ID13) != 0)
        return KUNCI_ERR_NOMEM;
    return KUNCI_OK;
}

bool kunci_password_verify(const char *hash, const char *pw, size_t len)
{
    static const char filler[KUNCI_PASSWORD_MAX + 1];
    bool too_long = len > KUNCI_PASSWORD_MAX;

    /* An over-long password still pays for one hash, so the answer takes as long. */
    int rc = crypto_pwhash_str_verify(hash, too_long ? filler : pw, too_long ? 1 : len);
    return rc == 0 && !too_long;
}

bool kunci_password_needs_rehash(const char *hash, const struct kunci_pwparams *params)
{
    return crypto_pwhash_str_needs_rehash(hash, params->opslimit, params->memlimit) != 0;
}
