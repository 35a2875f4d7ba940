#include "web/once.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "web/reply.h"

static enum MHD_Result replay(struct web_request *rq, int status, char *answer)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(answer), answer, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(answer);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Idempotent-Replayed", "true");
    return web_send(rq, (unsigned)status, resp);
}

bool web_once_begin(struct web_request *rq, enum MHD_Result *ret_r)
{
    const char *key = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Idempotency-Key");
    uint8_t fingerprint[KUNCI_ONCE_DIGEST_BYTES];
    enum kunci_once_outcome outcome;
    int status = 0;
    char *answer = NULL;

    if (key == NULL)
        return true; /* without a key, each request is a new one */
    if (!kunci_once_key_valid(key)) {
        *ret_r = api_error(rq, 400, "bad_idempotency_key",
                           "Idempotency-Key is 1 to 64 letters, digits, '-', '_', '.' or ':'.");
        return false;
    }
    /* The body in a canonical form: the same request with its members reordered is the
     * same request. */
    char *body = rq->body != NULL ? json_dumps(rq->body, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    kunci_once_fingerprint(rq->method, rq->path, body, fingerprint);
    if (body != NULL) {
        sodium_memzero(body, strlen(body)); /* it may hold a password */
        free(body);
    }
    int r = kunci_once_claim(rq->ctx->keys, rq->h, rq->account.id, key, fingerprint, rq->now,
                             &outcome, &status, &answer);
    if (r != KUNCI_OK) {
        *ret_r = api_fail(rq, r);
        return false;
    }
    switch (outcome) {
    case KUNCI_ONCE_FIRST:
        rq->once_claimed = true;
        rq->once_account_id = rq->account.id;
        strcpy(rq->once_key, key); /* valid: at most KUNCI_ONCE_KEY_MAX */
        return true;
    case KUNCI_ONCE_REPEAT:
        *ret_r = replay(rq, status, answer);
        return false;
    case KUNCI_ONCE_RUNNING:
        *ret_r = api_retry(rq, 409, "request_in_progress",
                           "This request is still being handled. Wait a moment.", 1);
        return false;
    case KUNCI_ONCE_OTHER_REQUEST:
        *ret_r = api_error(rq, 422, "idempotency_key_reused",
                           "This Idempotency-Key was used for a different request.");
        return false;
    case KUNCI_ONCE_LOST:
    default:
        *ret_r = api_error(rq, 409, "already_done",
                           "This request was handled already, and its answer can't be shown "
                           "again.");
        return false;
    }
}

void web_once_settle(struct web_request *rq, unsigned status, const char *answer)
{
    if (!rq->once_claimed)
        return;
    rq->once_claimed = false;
    if (status >= 200 && status < 300) {
        int r = kunci_once_finish(rq->ctx->keys, rq->h, rq->once_account_id, rq->once_key,
                                  (int)status, answer);
        /* The answer still goes out; only a repeat would miss it (it runs again after
         * KUNCI_ONCE_RUNNING_SECONDS). */
        if (r != KUNCI_OK)
            kunci_log("web.once_unsaved", "answer to %s %s not kept for a repeat: %s", rq->method,
                      rq->path, kunci_strerror(r));
    } else {
        kunci_store_best_effort(kunci_once_release(rq->h, rq->once_account_id, rq->once_key));
    }
}

void web_once_end(struct web_request *rq)
{
    if (rq->once_claimed) {
        rq->once_claimed = false;
        kunci_store_best_effort(kunci_once_release(rq->h, rq->once_account_id, rq->once_key));
    }
}
