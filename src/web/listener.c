/* The web listener: the UI's static files and the JSON API, with sessions in cookies,
 * CSRF tokens on every change, and strict security headers. */
#include "web/web.h"
#include "web/api.h"
#include "web/once.h"
#include "web/routes.h"
#include "listen/listen.h"
#include "listen/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/err.h"
#include "core/netmask.h"
#include "core/settings.h"

/* One request on its connection, kept across libmicrohttpd's calls (and while its handler
 * runs on the hash pool). */
struct web_conn {
    char *body;
    size_t body_len;
    bool too_big;
    enum { WEB_READING, WEB_ON_POOL, WEB_ANSWERED } state;
    const struct web_route *route;
    struct hash_job job;
    struct web_request rq;
};

static bool secure_request(struct MHD_Connection *conn, const struct kunci_ctx *ctx)
{
    const char *proto = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-Proto");
    return ctx->cfg.secure_cookies || (proto != NULL && strcmp(proto, "https") == 0);
}

static bool trusted_proxy(const struct kunci_ctx *ctx, const char *address)
{
    struct kunci_ip ip;
    return ctx->cfg.trusted_proxies[0] != '\0' && kunci_ip_parse(address, &ip) == KUNCI_OK &&
           kunci_networks_allow(ctx->cfg.trusted_proxies, &ip);
}

/* The browser's address: the peer's, or behind trusted_proxies the last address in
 * X-Forwarded-For that is not one of them (what the proxy itself saw), else X-Real-IP. Only
 * a trusted proxy is believed: anyone else could name any address there. */
static bool trusted_hop(void *arg, const char *address)
{
    return trusted_proxy(arg, address);
}

static void resolve_client(struct web_request *rq)
{
    struct kunci_ip ip;
    const char *v;
    size_t len = 0;

    http_peer_address(rq->conn, rq->client_ip, sizeof(rq->client_ip));
    if (!trusted_proxy(rq->ctx, rq->client_ip))
        return;
    if (MHD_lookup_connection_value_n(rq->conn, MHD_HEADER_KIND, "X-Forwarded-For", 15, &v, &len) ==
            MHD_YES &&
        v != NULL && len < 1024 &&
        wire_forwarded_for(v, len, trusted_hop, (void *)rq->ctx, rq->client_ip,
                           sizeof(rq->client_ip)))
        return;
    const char *real = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-Real-IP");
    if (real != NULL && strlen(real) <= KUNCI_IP_MAX && kunci_ip_parse(real, &ip) == KUNCI_OK)
        snprintf(rq->client_ip, sizeof(rq->client_ip), "%s", real);
}

/* What the handlers read of the request's headers, read once here: a handler may run on
 * the hash pool, away from the connection. */
static void read_headers(struct web_request *rq)
{
    char name[64];
    const char *v;
    size_t len = 0;

    rq->language = "en";
    if (MHD_lookup_connection_value_n(rq->conn, MHD_HEADER_KIND, "User-Agent", 10, &v, &len) ==
            MHD_YES &&
        v != NULL)
        wire_user_agent(v, len, rq->user_agent, sizeof(rq->user_agent));
    if (MHD_lookup_connection_value_n(rq->conn, MHD_HEADER_KIND, "Accept-Language", 15, &v, &len) ==
            MHD_YES &&
        v != NULL)
        rq->language = wire_accept_language(v, len);
    if (MHD_lookup_connection_value_n(rq->conn, MHD_HEADER_KIND, "Cookie", 6, &v, &len) !=
            MHD_YES ||
        v == NULL)
        return;
    snprintf(name, sizeof(name), "%skunci_session", rq->secure ? "__Host-" : "");
    wire_cookie(v, len, name, rq->session_cookie, sizeof(rq->session_cookie) - 1);
    snprintf(name, sizeof(name), "%skunci_device", rq->secure ? "__Host-" : "");
    wire_cookie(v, len, name, rq->device_cookie, sizeof(rq->device_cookie) - 1);
}

enum MHD_Result api_config(struct web_request *rq)
{
    struct kunci_settings s;
    int r = kunci_settings_load(rq->h, &s);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    json_t *methods = json_array();
    /* Passkeys first (the UI offers them where the browser has WebAuthn). */
    bool passkeys = s.mfa_webauthn_allowed && rq->ctx->cfg.rp_id[0] != '\0';
    if (passkeys)
        json_array_append_new(methods, json_string("passkey"));
    if (s.mfa_totp_allowed)
        json_array_append_new(methods, json_string("totp"));
    if (s.mfa_phone_allowed)
        json_array_append_new(methods, json_string("phone"));
    if (s.mfa_email_allowed)
        json_array_append_new(methods, json_string("email"));
    return api_json(
        rq, 200,
        json_pack("{s:s, s:[s,s], s:o, s:i, s:b, s:s?, s:b, s:b, s:s?, s:b}", "language",
                  rq->language, "languages", "en", "id", "methods", methods, "remember_device_days",
                  s.remember_device_days, "app_passwords_allowed", s.app_passwords_allowed,
                  "organization_name",
                  rq->ctx->cfg.organization_name[0] ? rq->ctx->cfg.organization_name : NULL, "logo",
                  rq->ctx->cfg.logo_file[0] != '\0', "password_reset_allowed",
                  s.password_reset_allowed, "rp_id",
                  rq->ctx->cfg.rp_id[0] ? rq->ctx->cfg.rp_id : NULL, "devices",
                  web_devices_enabled(rq->ctx)));
}

static void resolve_session(struct web_request *rq)
{
    struct kunci_session_policy policy;
    kunci_session_policy_from(&rq->ctx->cfg, &policy);
    const char *token = rq->session_cookie;

    if (token == NULL || token[0] == '\0')
        return;
    if (kunci_session_resolve(rq->ctx, rq->h, token, rq->now, &policy, &rq->session) != KUNCI_OK)
        return;
    if (kunci_store_account_by_id(rq->h, rq->session.account_id, &rq->account) != KUNCI_OK ||
        !rq->account.enabled)
        return;
    rq->has_session = true;
}

static bool csrf_ok(struct web_request *rq)
{
    const char *t = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-CSRF-Token");
    return rq->has_session && t != NULL && kunci_token_equal(t, rq->session.csrf);
}

/* Browsers send Origin on cross-site POSTs: it must name this host (as the proxy in front
 * saw it, when it says so in X-Forwarded-Host). */
static bool origin_ok(struct web_request *rq)
{
    const char *origin = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Origin");
    const char *host = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "X-Forwarded-Host");
    if (host == NULL)
        host = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Host");
    if (origin == NULL)
        return true;
    if (host == NULL)
        return false;
    const char *o = strstr(origin, "://");
    return o != NULL && strcmp(o + 3, host) == 0;
}

static void request_done(struct web_request *rq)
{
    web_once_end(rq);
    json_decref(rq->body);
    rq->body = NULL;
    sodium_memzero(&rq->account, sizeof(rq->account));
    sodium_memzero(rq->session_cookie, sizeof(rq->session_cookie));
    sodium_memzero(rq->device_cookie, sizeof(rq->device_cookie));
}

/* One web listener per process: its guard and the hash pool, for the handlers' hooks. */
static struct {
    struct conn_guard *guard;
    struct hash_pool *pool;
} listener;

/* On a hash worker: the handler with the worker's store handle, its answer kept for the
 * connection's thread (libmicrohttpd queues answers only there). */
static void pool_job_run(struct hash_job *job, struct kunci_store_handle *h)
{
    struct web_conn *wc = (struct web_conn *)((char *)job - offsetof(struct web_conn, job));
    struct web_request *rq = &wc->rq;

    if (h == NULL) { /* the database is away, or kunci is stopping */
        api_fail(rq, KUNCI_ERR_TEMPFAIL);
    } else {
        rq->h = h;
        wc->route->handler(rq);
    }
    request_done(rq);
    wc->state = WEB_ANSWERED;
    MHD_resume_connection(rq->conn);
}

/* Routes that check or set a password hash run on the hash pool, so a flood of sign-ins
 * takes the pool's share of its address, not the threads that serve everyone's pages. */
static enum MHD_Result run_on_pool(struct web_conn *wc, const struct web_route *route)
{
    struct web_request *rq = &wc->rq;

    wc->route = route;
    wc->job.run = pool_job_run;
    if (kunci_address_key(rq->client_ip, wc->job.address, sizeof(wc->job.address)) != KUNCI_OK)
        wc->job.address[0] = '\0';
    rq->deferred = true;
    wc->state = WEB_ON_POOL;
    MHD_suspend_connection(rq->conn);
    if (hash_pool_submit(listener.pool, &wc->job) == KUNCI_OK)
        return MHD_YES;
    MHD_resume_connection(rq->conn);
    kunci_log("web.overload", "hash queue full (or %s's share of it), answering try again later",
              wc->job.address[0] ? wc->job.address : "-");
    api_fail(rq, KUNCI_ERR_TEMPFAIL);
    request_done(rq);
    wc->state = WEB_ANSWERED;
    return MHD_YES;
}

static enum MHD_Result handle_api(struct web_request *rq, struct web_conn *wc)
{
    bool changes = strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0;
    enum MHD_Result ret;

    if (wc->too_big)
        return api_error(rq, 413, "too_large", "The request is too large.");
    if (changes) {
        const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Content-Type");
        if (!origin_ok(rq))
            return api_error(rq, 403, "bad_origin", "Cross-site request refused.");
        if (wc->body_len > 0) {
            if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
                return api_error(rq, 415, "json_only", "Send JSON.");
            rq->body = wire_json_object(wc->body, wc->body_len);
            if (rq->body == NULL)
                return api_error(rq, 400, "bad_json", "The request is not a JSON object.");
        }
    }
    resolve_session(rq);
    /* Every change but signing in (with a password or a passkey) or starting a password reset
     * carries the session's CSRF token. Those are checked for their Origin, and a passkey's
     * answer names the page that asked for it besides. */
    bool owes_proof = rq->has_session && rq->session.stage == KUNCI_SESSION_PASSWORD;
    bool passkey_in = strcmp(rq->path, "/session/passkey/begin") == 0 ||
                      strcmp(rq->path, "/session/passkey/finish") == 0 ||
                      /* passwordless there too, unless the session owes a second factor */
                      (!owes_proof && (strcmp(rq->path, "/session/webauthn/begin") == 0 ||
                                       strcmp(rq->path, "/session/webauthn/finish") == 0));
    bool signing_in =
        strcmp(rq->method, "POST") == 0 && (strcmp(rq->path, "/session") == 0 || passkey_in ||
                                            strcmp(rq->path, "/password-reset") == 0);
    const struct web_route *route = web_route_find(rq);
    if (route != NULL && route->stage == WEB_RESET &&
        (!rq->has_session || rq->session.stage != KUNCI_SESSION_RESET))
        /* A reset begun for a login that does not exist has no session: it fails as a wrong
         * code would, so the answers do not tell accounts apart. */
        ret = api_error(rq, 400, "wrong_code", "That code didn't work. Check it and try again.");
    else if (changes && !signing_in && !csrf_ok(rq))
        ret = api_error(rq, 403, "csrf", "Reload the page and try again.");
    else if (!web_route_allows(rq, route, &ret))
        ; /* answered */
    else if (route->once && !web_once_begin(rq, &ret))
        ; /* answered: the first answer again, or why not */
    else if (route->on_pool)
        return run_on_pool(wc, route);
    else
        ret = route->handler(rq);
    request_done(rq);
    return ret;
}

static const char *content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    static const struct {
        const char *ext, *type;
    } types[] = {{".html", "text/html; charset=utf-8"},
                 {".js", "text/javascript; charset=utf-8"},
                 {".css", "text/css; charset=utf-8"},
                 {".json", "application/json"},
                 {".svg", "image/svg+xml"},
                 {".yaml", "text/yaml; charset=utf-8"},
                 {".ico", "image/x-icon"},
                 {".png", "image/png"},
                 {".jpg", "image/jpeg"},
                 {".jpeg", "image/jpeg"},
                 {".webp", "image/webp"}};
    for (size_t i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
        if (strcmp(dot, types[i].ext) == 0)
            return types[i].type;
    return "application/octet-stream";
}

/* The UI's pages all load index.html; the script shows the page for the path. */
static bool is_page(const char *url)
{
    static const char *const pages[] = {"/",
                                        "/setup",
                                        "/setup/method",
                                        "/verify",
                                        "/security",
                                        "/security/activity",
                                        "/security/device",
                                        "/admin",
                                        "/admin/activity",
                                        "/admin/settings",
                                        "/password",
                                        "/reset"};
    for (size_t i = 0; i < sizeof(pages) / sizeof(pages[0]); i++)
        if (strcmp(url, pages[i]) == 0)
            return true;
    return false;
}

static enum MHD_Result serve_path(struct web_request *rq, const char *path);

static enum MHD_Result serve_file(struct web_request *rq, const char *url)
{
    char path[PATH_MAX + 160];

    if (is_page(url))
        url = "/index.html";
    size_t len = strlen(url);
    if (len > 128 ||
        strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") != len ||
        strstr(url, "..") != NULL || strstr(url, "/.") != NULL)
        return api_error(rq, 404, "not_found", "Not found.");
    snprintf(path, sizeof(path), "%s%s", rq->ctx->cfg.web_root, url);
    return serve_path(rq, path);
}

/* A regular file, at most LOGO_MAX bytes when it is the organization's logo. */
#define LOGO_MAX (1024 * 1024)
static enum MHD_Result serve_path(struct web_request *rq, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        (path == rq->ctx->cfg.logo_file && st.st_size > LOGO_MAX)) {
        if (fd >= 0)
            close(fd);
        return api_error(rq, 404, "not_found", "Not found.");
    }
    struct MHD_Response *resp = MHD_create_response_from_fd((size_t)st.st_size, fd);
    if (resp == NULL) {
        close(fd);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type(path));
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    return web_send(rq, 200, resp);
}

static enum MHD_Result web_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **con_cls)
{
    struct kunci_ctx *ctx = cls;
    struct web_conn *wc = *con_cls;
    (void)version;

    if (wc == NULL) {
        wc = calloc(1, sizeof(*wc));
        if (wc == NULL)
            return MHD_NO;
        *con_cls = wc;
        conn_guard_request_started(listener.guard, conn);
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        if (wc->body_len + *upload_data_size > WEB_BODY_MAX) {
            wc->too_big = true;
        } else {
            char *nb = realloc(wc->body, wc->body_len + *upload_data_size + 1);
            if (nb == NULL)
                return MHD_NO;
            wc->body = nb;
            memcpy(wc->body + wc->body_len, upload_data, *upload_data_size);
            wc->body_len += *upload_data_size;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    struct web_request *rq = &wc->rq;
    if (wc->state == WEB_ANSWERED) { /* back from the hash pool */
        enum MHD_Result ret = MHD_queue_response(conn, rq->pending_status, rq->pending);
        MHD_destroy_response(rq->pending);
        rq->pending = NULL;
        return ret;
    }
    if (wc->state == WEB_ON_POOL)
        return MHD_YES; /* not yet */
    memset(rq, 0, sizeof(*rq));
    rq->conn = conn;
    rq->ctx = ctx;
    rq->method = method;
    rq->now = (int64_t)time(NULL);
    rq->started_us = kunci_log_now_us();
    rq->secure = secure_request(conn, ctx);
    resolve_client(rq);
    read_headers(rq);
    if (strncmp(url, "/api/v1/", 8) == 0) {
        rq->path = url + 7;
        rq->h = listen_thread_store();
        if (rq->h == NULL)
            return api_fail(rq, KUNCI_ERR_TEMPFAIL);
        return handle_api(rq, wc);
    }
    /* The organization's logo ([web] logo_file), for the header. */
    if (strcmp(url, "/logo") == 0 && rq->ctx->cfg.logo_file[0] != '\0')
        return serve_path(rq, rq->ctx->cfg.logo_file);
    /* Thunderbird's autoconfig file, where it looks for it (docs/devices.md). */
    if (strcmp(url, "/.well-known/autoconfig/mail/config-v1.1.xml") == 0 ||
        strcmp(url, "/mail/config-v1.1.xml") == 0)
        return web_autoconfig(rq);
    if (strcmp(url, "/healthz") == 0)
        return api_json(rq, 200, json_pack("{s:s}", "status", "ok"));
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return api_error(rq, 405, "method", "Method not allowed.");
    return serve_file(rq, url);
}

static void web_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                          enum MHD_RequestTerminationCode toe)
{
    struct web_conn *wc = *con_cls;
    (void)cls;
    (void)toe;
    conn_guard_request_done(listener.guard, conn);
    if (wc != NULL) {
        if (wc->body != NULL) {
            sodium_memzero(wc->body, wc->body_len); /* it may hold a password */
            free(wc->body);
        }
        if (wc->rq.pending != NULL)
            MHD_destroy_response(wc->rq.pending);
        request_done(&wc->rq);
        free(wc);
        *con_cls = NULL;
    }
}

int web_start(struct kunci_ctx *ctx, struct conn_guard *guard, struct hash_pool *pool,
              unsigned limit, struct MHD_Daemon **daemon_r)
{
    struct sockaddr_storage ss;
    uint16_t port;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
                     MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;

    *daemon_r = NULL;
    if (!http_listen_address(ctx->cfg.web_listen, &ss, &port, &flags))
        return KUNCI_ERR_INVALID;
    listener.guard = guard;
    listener.pool = pool;
    *daemon_r = MHD_start_daemon(
        flags, port, conn_guard_accept, guard, web_handler, ctx, MHD_OPTION_EXTERNAL_LOGGER,
        conn_guard_mhd_log, guard, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)ctx->cfg.threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)WEB_IDLE_SECONDS, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_NOTIFY_COMPLETED, web_completed,
        NULL, MHD_OPTION_NOTIFY_CONNECTION, conn_guard_notify, guard, MHD_OPTION_END);
    return *daemon_r != NULL ? KUNCI_OK : KUNCI_ERR_IO;
}
