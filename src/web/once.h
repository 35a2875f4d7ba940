/* Requests safe to send twice (core/once.h) on the web listener: the routes marked `once`
 * honour an Idempotency-Key header (draft-ietf-httpapi-idempotency-key-header). */
#ifndef KUNCI_WEB_ONCE_H
#define KUNCI_WEB_ONCE_H

#include <stdbool.h>

#include "web/request.h"

/* true: run the handler (a first request, or one without a key). false: answered (the
 * first answer again, a request still running, a key reused for another request, a bad
 * key), the result in *ret_r. */
bool web_once_begin(struct web_request *rq, enum MHD_Result *ret_r);
/* The handler's answer: kept for a repeat when it succeeded, else the claim released. */
void web_once_settle(struct web_request *rq, unsigned status, const char *answer);
/* A claim the handler left unsettled (no answer made) is released. */
void web_once_end(struct web_request *rq);

#endif
