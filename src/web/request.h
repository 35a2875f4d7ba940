/* One request to the web listener, as every handler sees it. */
#ifndef KUNCI_WEB_REQUEST_H
#define KUNCI_WEB_REQUEST_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/context.h"
#include "core/log.h"
#include "core/once.h"
#include "core/session.h"
#include "core/store.h"

#define WEB_BODY_MAX (16 * 1024)
/* Creating an app password, adding or removing a method, completing set-up and an
 * administrator's changes ask for the password again after this long. */
#define REAUTH_SECONDS 600
/* Parts of a path a route names with {…}: "/methods/{id}/verify". */
#define WEB_PATH_PARAMS    2
#define WEB_PATH_PARAM_MAX 255

struct web_request {
    struct MHD_Connection *conn;
    const struct kunci_ctx *ctx;
    struct kunci_store_handle *h;
    const char *method;
    const char *path;                                     /* after /api/v1 */
    char params[WEB_PATH_PARAMS][WEB_PATH_PARAM_MAX + 1]; /* the route's {…} parts */
    json_t *body;                                         /* parsed JSON body, or NULL */
    int64_t now;
    int64_t started_us;               /* when the request arrived (kunci_log_now_us), for the log */
    char client_ip[KUNCI_IP_MAX + 1]; /* the browser's address (behind trusted_proxies too) */
    bool secure;                      /* https, as the proxy in front says */
    /* Filled when a session cookie resolves. */
    bool has_session;
    struct kunci_session session;
    struct kunci_account account;
    /* Set-Cookie lines for the response. */
    char cookies[2][256];
    int ncookies;
    char retry_after[24]; /* a Retry-After header for the response, when set */
    /* What the handlers read of the headers, read before any handler runs. */
    const char *language; /* "en" or "id", from Accept-Language */
    char user_agent[48];  /* "Firefox on Windows" (wire_user_agent), for the activity record */
    char session_cookie[KUNCI_TOKEN_MAX + 1], device_cookie[KUNCI_TOKEN_MAX + 1];
    /* A request sent with an Idempotency-Key (core/once.h) and claimed: its 2xx answer is
     * kept for a repeat, any other releases the claim (web/once.c). */
    bool once_claimed;
    int64_t once_account_id;
    char once_key[KUNCI_ONCE_KEY_MAX + 1];
    /* A handler on the hash pool: its answer waits here for the connection's thread. */
    bool deferred;
    struct MHD_Response *pending;
    unsigned pending_status;
};

/* The password was typed within REAUTH_SECONDS in this session. */
static inline bool web_reauth_fresh(const struct web_request *rq)
{
    return rq->now - rq->session.password_at <= REAUTH_SECONDS;
}

/* Where the signed-in user goes next. */
static inline enum kunci_next_step web_next(struct web_request *rq)
{
    return kunci_session_next(rq->h, &rq->account, &rq->session);
}

/* A string member of the JSON body, or NULL. */
const char *web_body_string(struct web_request *rq, const char *key);

#endif
