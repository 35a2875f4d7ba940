/* GET /auth/basic: for nginx auth_request, Traefik ForwardAuth and Caddy forward_auth.
 * 200 with X-Kunci-User, 401 with a Basic challenge, 503 on a temporary failure. */
#include "server/internal.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/netmask.h"
#include "core/protocol.h"
#include "listen/wire.h"

#define AUTH_HEADER_MAX 1024

static enum parse_result basic_parse(struct request *rq)
{
    char header[AUTH_HEADER_MAX + 1], proto[16];
    size_t len;
    const char *q;

    if (!server_key_ok(rq->server, rq->conn)) {
        kunci_log("auth.refused", "/auth/basic: missing or wrong X-Kunci-Key");
        return http_respond(rq->conn, MHD_HTTP_FORBIDDEN, NULL, "forbidden\n") == MHD_YES
                   ? PARSE_ANSWERED
                   : PARSE_REFUSE;
    }
    rq->protocol = KUNCI_PROTO_DAV;
    if (http_header_copy(rq->conn, "X-Kunci-Protocol", proto, sizeof(proto) - 1, &len) ||
        ((q = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "protocol")) != NULL &&
         snprintf(proto, sizeof(proto), "%s", q) < (int)sizeof(proto))) {
        rq->protocol = kunci_protocol_parse(proto);
        if (rq->protocol == 0)
            return http_respond(rq->conn, MHD_HTTP_BAD_REQUEST, NULL,
                                "unknown protocol: use imap, pop3, smtp, eas, dav or ews\n") ==
                           MHD_YES
                       ? PARSE_ANSWERED
                       : PARSE_REFUSE;
    }
    if (http_header_copy(rq->conn, "X-Real-IP", rq->client_ip, KUNCI_IP_MAX, &len)) {
        struct kunci_ip ip;
        if (kunci_ip_parse(rq->client_ip, &ip) != 0)
            rq->client_ip[0] = '\0';
    }
    if (!http_header_copy(rq->conn, MHD_HTTP_HEADER_AUTHORIZATION, header, AUTH_HEADER_MAX, &len))
        return PARSE_REFUSE;
    struct wire_credentials c = {rq->login,  REQUEST_LOGIN_MAX,  0,
                                 rq->secret, REQUEST_SECRET_MAX, 0};
    bool ok = wire_basic_credentials(header, len, &c);
    sodium_memzero(header, sizeof(header));
    rq->login_len = c.login_len;
    rq->secret_len = c.secret_len;
    return ok ? PARSE_OK : PARSE_REFUSE;
}

static enum MHD_Result basic_respond(struct request *rq)
{
    if (rq->out.result == KUNCI_AUTH_ALLOWED) {
        const struct http_header h[] = {{"X-Kunci-User", rq->out.login}, {NULL, NULL}};
        return http_respond(rq->conn, MHD_HTTP_OK, h, "ok\n");
    }
    if (rq->out.result == KUNCI_AUTH_THROTTLED) {
        char wait[24];
        snprintf(wait, sizeof(wait), "%lld", (long long)rq->out.retry_after);
        const struct http_header h[] = {{"Retry-After", wait}, {NULL, NULL}};
        return http_respond(rq->conn, MHD_HTTP_TOO_MANY_REQUESTS, h,
                            "too many failed logins from this address, try again later\n");
    }
    if (rq->out.result == KUNCI_AUTH_TEMPFAIL) {
        static const struct http_header h[] = {{"Retry-After", "5"}, {NULL, NULL}};
        return http_respond(rq->conn, MHD_HTTP_SERVICE_UNAVAILABLE, h,
                            "temporary server problem, try again later\n");
    }
    static const struct http_header h[] = {{"WWW-Authenticate", "Basic realm=\"kunci\""},
                                           {NULL, NULL}};
    return http_respond(rq->conn, MHD_HTTP_UNAUTHORIZED, h, "invalid login or password\n");
}

const struct endpoint endpoint_basic = {
    .path = "/auth/basic",
    .parse = basic_parse,
    .respond = basic_respond,
};
