/* Requests a client may send again: a retry after an answer lost on the way, a second
 * click. The client names a request with a key (the Idempotency-Key header); the first
 * request with that key runs, and its answer is given again to a repeat within
 * KUNCI_ONCE_SECONDS instead of running it twice. An answer may hold a secret shown once
 * (an app password), so it is kept sealed under the server key, and not for long. */
#ifndef KUNCI_ONCE_H
#define KUNCI_ONCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/keys.h"
#include "core/store.h"

#define KUNCI_ONCE_SECONDS 600
/* A first request still unanswered after this long is taken for dead (its server
 * stopped): a repeat may run. */
#define KUNCI_ONCE_RUNNING_SECONDS 60

enum kunci_once_outcome {
    KUNCI_ONCE_FIRST,         /* claimed: run the request, then finish or release */
    KUNCI_ONCE_REPEAT,        /* answered before: *status_r and *answer_r hold it */
    KUNCI_ONCE_RUNNING,       /* the first is still running */
    KUNCI_ONCE_OTHER_REQUEST, /* the key was used for a different request */
    KUNCI_ONCE_LOST,          /* answered before, but the answer cannot be read again */
};

/* 1 to KUNCI_ONCE_KEY_MAX letters, digits, '-', '_', '.' or ':' (a UUID fits). */
bool kunci_once_key_valid(const char *key);
/* What a request asks, so one key cannot stand for two different requests. */
void kunci_once_fingerprint(const char *method, const char *path, const char *body,
                            uint8_t out[KUNCI_ONCE_DIGEST_BYTES]);
/* *answer_r (malloc'd, NUL-terminated) is set for KUNCI_ONCE_REPEAT only. */
int kunci_once_claim(const struct kunci_keys *keys, struct kunci_store_handle *h,
                     int64_t account_id, const char *key,
                     const uint8_t fingerprint[KUNCI_ONCE_DIGEST_BYTES], int64_t now,
                     enum kunci_once_outcome *outcome_r, int *status_r, char **answer_r);
/* Keeps the answer of a claimed request. KUNCI_ERR_TOO_LONG for one over
 * KUNCI_ONCE_SEALED_MAX (the claim is then released: a repeat runs again). */
int kunci_once_finish(const struct kunci_keys *keys, struct kunci_store_handle *h,
                      int64_t account_id, const char *key, int status, const char *answer);
/* Forgets a claim whose request failed, so a repeat runs it. */
int kunci_once_release(struct kunci_store_handle *h, int64_t account_id, const char *key);

#endif
