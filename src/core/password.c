#include "core/password.h"
#include "core/err.h"

#include "core/secret.h"

#include <ctype.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zxcvbn.h>

#include "core/types.h"

void kunci_password_generate(char out[KUNCI_GENERATED_PASSWORD_LEN + 1])
{
    /* No 0/O, 1/l/I: it is read off a screen and typed once. */
    kunci_random_string(out, KUNCI_GENERATED_PASSWORD_LEN,
                        "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789");
}

/* The words of a login and a display name, lowercased, for zxcvbn's user dictionary:
 * "alice.smith@example.org", "Alice Smith" -> alice, smith, example. */
#define PERSONAL_WORDS_MAX 16
struct personal_words {
    char buf[KUNCI_LOGIN_MAX + KUNCI_DISPLAY_NAME_MAX + 2];
    const char *words[PERSONAL_WORDS_MAX + 1];
    size_t n;
};

static void add_word(struct personal_words *w, const char *s, size_t n, size_t *used)
{
    /* Short words say little about the person. */
    if (n < 4 || w->n == PERSONAL_WORDS_MAX || *used + n + 1 > sizeof(w->buf))
        return;
    char *dst = w->buf + *used;
    for (size_t i = 0; i < n; i++)
        dst[i] = (char)tolower((unsigned char)s[i]);
    dst[n] = '\0';
    w->words[w->n++] = dst;
    w->words[w->n] = NULL;
    *used += n + 1;
}

/* Each run of letters and digits in text[0..len). */
static void add_words(struct personal_words *w, const char *text, size_t len, size_t *used)
{
    for (size_t i = 0; i < len;) {
        size_t start = i;
        while (i < len && isalnum((unsigned char)text[i]))
            i++;
        add_word(w, text + start, i - start, used);
        while (i < len && !isalnum((unsigned char)text[i]))
            i++;
    }
}

int kunci_password_acceptable(const char *pw, size_t len, const struct kunci_password_owner *owner)
{
    return kunci_password_assess(pw, len, owner, NULL);
}

int kunci_password_assess(const char *pw, size_t len, const struct kunci_password_owner *owner,
                          double *bits_r)
{
    const char *login = owner->login, *display_name = owner->display_name;
    struct personal_words w = {.n = 0};
    size_t used = 0;
    static const char *const none[] = {NULL};

    if (len > KUNCI_PASSWORD_MAX)
        return KUNCI_ERR_TOO_LONG;
    if (len < KUNCI_PASSWORD_MIN)
        return KUNCI_ERR_INVALID;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)pw[i] < 0x20 || pw[i] == 0x7f)
            return KUNCI_ERR_INVALID; /* control characters (NUL too) cannot be typed */
    if (owner->role == KUNCI_ROLE_ADMIN && len < KUNCI_PASSWORD_MIN_ADMIN)
        return KUNCI_ERR_PASSWORD_SHORT;
    char *copy = malloc(len + 1); /* zxcvbn reads a C string */
    if (copy == NULL)
        return KUNCI_ERR_NOMEM;
    memcpy(copy, pw, len);
    copy[len] = '\0';
    if (login != NULL) {
        /* The local part, and the domain without its top level: alice.smith, example. */
        const char *at = strchr(login, '@');
        add_words(&w, login, at != NULL ? (size_t)(at - login) : strlen(login), &used);
        const char *dot = at != NULL ? strrchr(at, '.') : NULL;
        if (dot != NULL)
            add_words(&w, at + 1, (size_t)(dot - at - 1), &used);
    }
    if (display_name != NULL)
        add_words(&w, display_name, strlen(display_name), &used);
    double bits = ZxcvbnMatch(copy, (const char **)none, NULL);
    double personal = w.n > 0 ? ZxcvbnMatch(copy, w.words, NULL) : bits;
    if (bits_r != NULL)
        *bits_r = personal < bits ? personal : bits;
    sodium_memzero(copy, len);
    free(copy);
    sodium_memzero(&w, sizeof(w));
    if (bits < KUNCI_PASSWORD_MIN_BITS)
        return KUNCI_ERR_PASSWORD_COMMON;
    if (personal < KUNCI_PASSWORD_MIN_BITS)
        return KUNCI_ERR_PASSWORD_PERSONAL;
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
