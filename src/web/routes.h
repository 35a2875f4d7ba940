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
};

struct web_route {
    const char *method;
    const char *pattern; /* "/methods/{}/verify": {} is one path segment */
    enum web_stage stage;
    bool reauth; /* the password typed within REAUTH_SECONDS, too */
    enum MHD_Result (*handler)(struct web_request *rq);
};

/* The route of table[0..n) for method and path, its {} parts copied into params; NULL when
 * none matches (a part longer than WEB_PATH_PARAM_MAX matches nothing). Pure: no I/O. */
const struct web_route *web_route_match(const struct web_route *table, size_t n, const char *method,
                                        const char *path,
                                        char params[WEB_PATH_PARAMS][WEB_PATH_PARAM_MAX + 1]);
/* Finds the route, checks what it requires and runs it; 404 when there is none. */
enum MHD_Result web_route(struct web_request *rq);

#endif
