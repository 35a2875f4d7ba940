/* /api/v1 as one table: each route's method, path pattern, what the session must have
 * proven, and its handler (as OpenSSH's authmethods[] lists its ways in). */
#ifndef KUNCI_WEB_ROUTES_H
#define KUNCI_WEB_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include "web/request.h"

enum web_stage {
    WEB_PUBLIC,      /* anyone */
    WEB_SESSION,     /* a session, whatever it still owes */
    WEB_REGISTERING, /* a full session, or one setting up its first method */
    WEB_FULL,        /* a full session */
    WEB_ADMIN,       /* an administrator's full session */
    WEB_RESET,       /* a self-service password reset under way */
};

struct web_route {
    const char *method;
    const char *pattern; /* "/methods/{}/verify": {} is one path segment */
    enum web_stage stage;
    bool reauth;  /* the password typed within REAUTH_SECONDS, too */
    bool on_pool; /* checks or sets a password hash: runs on the hash pool */
    bool once;    /* an Idempotency-Key makes a repeat get the first answer (web/once.c) */
    enum MHD_Result (*handler)(struct web_request *rq);
};

/* The route of table[0..n) for method and path, its {} parts copied into params; NULL when
 * none matches (a part longer than WEB_PATH_PARAM_MAX matches nothing). Pure: no I/O. */
const struct web_route *web_route_match(const struct web_route *table, size_t n, const char *method,
                                        const char *path,
                                        char params[WEB_PATH_PARAMS][WEB_PATH_PARAM_MAX + 1]);
/* The route of /api/v1 for the request, its {} parts in rq->params; NULL when none. */
const struct web_route *web_route_find(struct web_request *rq);
/* true when the request may run the route; else the answer (404 for no route, 401 for a
 * session short of the route's stage, 403 for a missing role or a stale password) was
 * queued and is in *ret_r. */
bool web_route_allows(struct web_request *rq, const struct web_route *route,
                      enum MHD_Result *ret_r);

#endif
