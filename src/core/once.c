#include "core/once.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

bool kunci_once_key_valid(const char *key)
{
    size_t n = key != NULL ? strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                         "0123456789-_.:")
                           : 0;
    return n > 0 && n <= KUNCI_ONCE_KEY_MAX && key[n] == '\0';
}

void kunci_once_fingerprint(const char *method, const char *path, const char *body,
                            uint8_t out[KUNCI_ONCE_DIGEST_BYTES])
{
    crypto_generichash_state st;
    const char *parts[3] = {method, path, body != NULL ? body : ""};

    crypto_generichash_init(&st, NULL, 0, KUNCI_ONCE_DIGEST_BYTES);
    for (int i = 0; i < 3; i++) /* each part with its NUL: "a","bc" differs from "ab","c" */
        crypto_generichash_update(&st, (const uint8_t *)parts[i], strlen(parts[i]) + 1);
    crypto_generichash_final(&st, out, KUNCI_ONCE_DIGEST_BYTES);
}

/* The sealed text names its account and key, so an answer moved to another row in the
 * database is refused rather than shown to someone else. */
static int binding(char *out, size_t size, int64_t account_id, const char *key, int status)
{
    int n = snprintf(out, size, "%lld\n%s\n%d\n", (long long)account_id, key, status);
    return n > 0 && (size_t)n < size ? n : -1;
}

int kunci_once_claim(const struct kunci_keys *keys, struct kunci_store_handle *h,
                     int64_t account_id, const char *key,
                     const uint8_t fingerprint[KUNCI_ONCE_DIGEST_BYTES], int64_t now,
                     enum kunci_once_outcome *outcome_r, int *status_r, char **answer_r)
{
    struct kunci_once_row row;
    bool claimed = false;

    *answer_r = NULL;
    *status_r = 0;
    int r = kunci_store_once_claim(h, account_id, key, fingerprint, now,
                                   now - KUNCI_ONCE_RUNNING_SECONDS, now - KUNCI_ONCE_SECONDS,
                                   &claimed, &row);
    if (r != KUNCI_OK)
        return r;
    if (claimed) {
        *outcome_r = KUNCI_ONCE_FIRST;
        return KUNCI_OK;
    }
    if (sodium_memcmp(row.fingerprint, fingerprint, KUNCI_ONCE_DIGEST_BYTES) != 0)
        *outcome_r = KUNCI_ONCE_OTHER_REQUEST;
    else if (row.status == 0)
        *outcome_r = KUNCI_ONCE_RUNNING;
    else
        *outcome_r = KUNCI_ONCE_LOST;
    if (*outcome_r == KUNCI_ONCE_LOST && row.sealed != NULL) {
        char head[KUNCI_ONCE_KEY_MAX + 48];
        size_t len = 0;
        int hn = binding(head, sizeof(head), account_id, key, row.status);
        char *plain = sodium_malloc(row.sealed_len + 1);
        if (plain != NULL && hn > 0 &&
            kunci_unseal(keys, row.sealed, row.sealed_len, (uint8_t *)plain, row.sealed_len,
                         &len) == KUNCI_OK &&
            len >= (size_t)hn && memcmp(plain, head, (size_t)hn) == 0 &&
            (*answer_r = malloc(len - (size_t)hn + 1)) != NULL) {
            memcpy(*answer_r, plain + hn, len - (size_t)hn);
            (*answer_r)[len - (size_t)hn] = '\0';
            *status_r = row.status;
            *outcome_r = KUNCI_ONCE_REPEAT;
        }
        if (plain != NULL)
            sodium_free(plain); /* zeroes it */
    }
    free(row.sealed);
    return KUNCI_OK;
}

int kunci_once_finish(const struct kunci_keys *keys, struct kunci_store_handle *h,
                      int64_t account_id, const char *key, int status, const char *answer)
{
    char head[KUNCI_ONCE_KEY_MAX + 48];
    int hn = binding(head, sizeof(head), account_id, key, status);
    size_t alen = strlen(answer), plen = (size_t)hn + alen, slen = 0;

    if (hn < 0 || status <= 0)
        return KUNCI_ERR_INVALID;
    if (plen + KUNCI_SEAL_OVERHEAD > KUNCI_ONCE_SEALED_MAX) {
        kunci_store_best_effort(kunci_once_release(h, account_id, key));
        return KUNCI_ERR_TOO_LONG;
    }
    uint8_t *plain = sodium_malloc(plen), *sealed = malloc(plen + KUNCI_SEAL_OVERHEAD);
    int r = KUNCI_ERR_NOMEM;
    if (plain != NULL && sealed != NULL) {
        memcpy(plain, head, (size_t)hn);
        memcpy(plain + hn, answer, alen);
        r = kunci_seal(keys, plain, plen, sealed, plen + KUNCI_SEAL_OVERHEAD, &slen);
        if (r == KUNCI_OK)
            r = kunci_store_once_finish(h, account_id, key, status, sealed, slen);
    }
    if (plain != NULL)
        sodium_free(plain);
    free(sealed); /* ciphertext: nothing to wipe */
    return r;
}

int kunci_once_release(struct kunci_store_handle *h, int64_t account_id, const char *key)
{
    return kunci_store_once_release(h, account_id, key);
}
