/* GET /auth/nginx: the nginx mail module's auth_http protocol.
 *
 * nginx ignores the HTTP status and reads only Auth-* headers; Auth-User and Auth-Pass
 * arrive percent-escaped; Auth-Server must be an IP literal; Auth-Pass in the reply
 * replaces the password nginx sends to the backend, so backends never see app passwords. */
#include "server/internal.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/netmask.h"
#include "core/protocol.h"
#include "listen/kept_replies.h"
#include "listen/wire.h"

#define STATUS_INVALID  "Invalid login or password"
#define STATUS_TEMPFAIL "Temporary server problem, try again later"

/* Reads a percent-escaped header into out (decoded); false if absent, too long, or if
 * decoding produced a NUL byte. */
static bool escaped_header(struct MHD_Connection *conn, const char *name, char *out, size_t max,
                           size_t *len_r)
{
    char raw[3 * (REQUEST_SECRET_MAX + 1) + 1];
    size_t raw_len;

    if (!http_header_copy(conn, name, raw, sizeof(raw) - 1, &raw_len))
        return false;
    bool ok = wire_percent_decode(raw, raw_len, out, max, len_r);
    sodium_memzero(raw, sizeof(raw));
    return ok;
}

static enum parse_result nginx_parse(struct request *rq)
{
    char method[16], proto[16];
    size_t len;

    if (!server_key_ok(rq->server, rq->conn)) {
        static const struct http_header h[] = {
            {"Auth-Status", STATUS_TEMPFAIL}, {"Auth-Wait", "3"}, {NULL, NULL}};
        kunci_log("auth.refused", "/auth/nginx: missing or wrong X-Kunci-Key");
        return http_respond(rq->conn, MHD_HTTP_FORBIDDEN, h, NULL) == MHD_YES ? PARSE_ANSWERED
                                                                              : PARSE_REFUSE;
    }
    if (http_header_copy(rq->conn, "Auth-Protocol", proto, sizeof(proto) - 1, &len))
        rq->protocol = kunci_protocol_parse(proto);
    if (http_header_copy(rq->conn, "Client-IP", rq->client_ip, KUNCI_IP_MAX, &len)) {
        struct kunci_ip ip;
        if (kunci_ip_parse(rq->client_ip, &ip) != 0)
            rq->client_ip[0] = '\0';
    }
    if (rq->protocol != KUNCI_PROTO_IMAP && rq->protocol != KUNCI_PROTO_POP3 &&
        rq->protocol != KUNCI_PROTO_SMTP)
        return PARSE_REFUSE;
    /* Only methods that carry the secret itself can be checked (not cram-md5, apop, none). */
    if (!http_header_copy(rq->conn, "Auth-Method", method, sizeof(method) - 1, &len) ||
        (strcasecmp(method, "plain") != 0 && strcasecmp(method, "login") != 0))
        return PARSE_REFUSE;
    if (!escaped_header(rq->conn, "Auth-User", rq->login, REQUEST_LOGIN_MAX, &rq->login_len) ||
        !escaped_header(rq->conn, "Auth-Pass", rq->secret, REQUEST_SECRET_MAX, &rq->secret_len))
        return PARSE_REFUSE;
    return PARSE_OK;
}

/* Each listener thread keeps its OK answers: every header but Auth-User is fixed by the
 * settings, so a login's answer is built once and queued again (a tenth of the fast path's
 * instructions). 1,024 answers of about 700 bytes per thread; freed when the thread ends. */
#define KEPT_OK_ANSWERS 1024
static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;

static void kept_free(void *t)
{
    kept_replies_free(t);
}

static void kept_key_create(void)
{
    if (pthread_key_create(&kept_key, kept_free) != 0)
        abort(); /* only when the process is out of keys: nothing can go on */
}

static struct kept_replies *thread_kept(void)
{
    pthread_once(&kept_once, kept_key_create);
    struct kept_replies *t = pthread_getspecific(kept_key);
    if (t == NULL && (t = kept_replies_new(KEPT_OK_ANSWERS)) != NULL &&
        pthread_setspecific(kept_key, t) != 0) {
        kept_replies_free(t);
        t = NULL;
    }
    return t;
}

static enum MHD_Result respond_ok(struct request *rq, const struct server_settings *s,
                                  const char *server, unsigned port)
{
    uint64_t epoch = s->replies_epoch;
    /* While draining every answer says Connection: close, which a kept one does not. */
    struct kept_replies *kept = http_draining() ? NULL : thread_kept();
    struct MHD_Response *resp;

    if (kept != NULL &&
        (resp = kept_replies_find(kept, epoch, rq->protocol, rq->out.login)) != NULL)
        return MHD_queue_response(rq->conn, MHD_HTTP_OK, resp);

    char port_str[8];
    snprintf(port_str, sizeof(port_str), "%u", port);
    const struct http_header h[] = {{"Auth-Status", "OK"},
                                    {"Auth-Server", server},
                                    {"Auth-Port", port_str},
                                    {"Auth-User", rq->out.login},
                                    {"Auth-Pass", s->backend_password},
                                    {NULL, NULL}};
    if (kept == NULL || (resp = http_response_new(h)) == NULL)
        return http_respond(rq->conn, MHD_HTTP_OK, h, NULL);
    enum MHD_Result ret = MHD_queue_response(rq->conn, MHD_HTTP_OK, resp);
    kept_replies_put(kept, epoch, rq->protocol, rq->out.login, resp);
    return ret;
}

static enum MHD_Result nginx_respond(struct request *rq)
{
    unsigned port = 0;
    bool smtp = rq->protocol == KUNCI_PROTO_SMTP;
    const struct server_settings *s = server_settings(rq->server);

    if (rq->out.result == KUNCI_AUTH_ALLOWED) {
        const char *server = server_mail_backend(s, rq->protocol, &port);
        if (server != NULL && http_header_safe(rq->out.login))
            return respond_ok(rq, s, server, port);
        /* Allowed, but nowhere to send it: a configuration problem, never an OK. */
        kunci_log("auth.config", "/auth/nginx: no [mail] backend for protocol %s",
                  kunci_protocol_name(rq->protocol));
        rq->out.result = KUNCI_AUTH_TEMPFAIL;
    }
    char wait[24];
    bool throttled = rq->out.result == KUNCI_AUTH_THROTTLED;
    bool temp = rq->out.result == KUNCI_AUTH_TEMPFAIL || throttled;
    /* nginx holds the client this long before it may try again: longer the more failures
     * its address has made lately, and as long as a block lasts (within reason). */
    int64_t seconds = (int64_t)s->auth_wait * (1 + rq->out.address_level / 5);
    if (throttled && rq->out.retry_after > seconds)
        seconds = rq->out.retry_after;
    if (seconds > 60)
        seconds = 60;
    snprintf(wait, sizeof(wait), "%lld", (long long)seconds);
    const struct http_header h[] = {
        {"Auth-Status", temp ? STATUS_TEMPFAIL : STATUS_INVALID},
        {"Auth-Wait", wait},
        {smtp ? "Auth-Error-Code" : NULL, throttled ? "454 4.7.0"
                                          : temp    ? "451 4.3.0"
                                                    : "535 5.7.8"},
        {NULL, NULL},
    };
    return http_respond(rq->conn, MHD_HTTP_OK, h, NULL);
}

const struct endpoint endpoint_nginx = {
    .path = "/auth/nginx",
    .parse = nginx_parse,
    .respond = nginx_respond,
};
