/* The auth listener: libmicrohttpd with a thread pool answers fast checks; primary-password
 * checks are suspended and handed to the hash pool, then resumed with their answer. */
#include "server/server.h"
#include "server/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/events.h"
#include "core/notify.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/err.h"
#include "core/protocol.h"
#include "delivery/delivery.h"
#include "device/device.h"
#include "device/profile_sign.h"
#include "listen/event_queue.h"
#include "web/web.h"

#define SECRET_FILE_MAX 256

struct server {
    struct kunci_ctx *ctx;
    struct hash_pool *pool;
    struct event_queue *events;
    struct conn_guard *auth_guard, *web_guard;
    /* What SIGHUP may change, as one snapshot: a request reads it once and answers from
     * it, so it never mixes two configurations. A replaced snapshot stays valid (a request
     * may hold it) until the server stops: each reload keeps about two kilobytes. */
    _Atomic(const struct server_settings *) settings;
    struct retired {
        struct retired *next;
        struct server_settings *settings;
        struct kunci_config *cfg;
    } * retired;
    int (*reread)(void *arg, struct kunci_config *cfg_r, char *err, size_t err_size);
    void *reread_arg;
};

_Static_assert(sizeof(((struct server_settings *)0)->auth_key_hash) == crypto_generichash_BYTES,
               "the auth key's hash");

const struct server_settings *server_settings(const struct server *srv)
{
    return atomic_load(&((struct server *)srv)->settings);
}

void server_log_decision(const struct request *rq, const char *via)
{
    /* Only the canonical login is logged: it was checked for shape, so a hostile value
     * cannot forge log lines. The secret is never logged. */
    struct kunci_log_decision d = {
        .event = "auth",
        .endpoint = rq->endpoint->path,
        .login = rq->out.login,
        .protocol = rq->protocol ? kunci_protocol_name(rq->protocol) : NULL,
        .client_ip = rq->client_ip,
        .result = kunci_auth_result_name(rq->out.result),
        .reason = rq->reason,
        .via = via,
        .app_password_id = rq->out.app_password_id,
        .duration_us = kunci_log_now_us() - rq->started_us,
    };
    kunci_log_decision(&d);
}

static int mail_index(unsigned protocol)
{
    return protocol == KUNCI_PROTO_IMAP   ? 0
           : protocol == KUNCI_PROTO_POP3 ? 1
           : protocol == KUNCI_PROTO_SMTP ? 2
                                          : -1;
}

const char *server_mail_backend(const struct server_settings *s, unsigned protocol,
                                unsigned *port_r)
{
    int i = mail_index(protocol);
    if (i < 0 || s->mail[i].host[0] == '\0')
        return NULL;
    *port_r = s->mail[i].port;
    return s->mail[i].host;
}

bool server_key_ok(const struct server *srv, struct MHD_Connection *conn)
{
    char key[SECRET_FILE_MAX + 1];
    uint8_t hash[crypto_generichash_BYTES];
    size_t len;
    const struct server_settings *s = server_settings(srv);

    if (!s->auth_key_required)
        return true;
    if (!http_header_copy(conn, "X-Kunci-Key", key, SECRET_FILE_MAX, &len))
        return false;
    /* Hashing both sides first makes the comparison constant-time whatever the lengths. */
    crypto_generichash(hash, sizeof(hash), (const unsigned char *)key, len, NULL, 0);
    sodium_memzero(key, sizeof(key));
    return sodium_memcmp(hash, s->auth_key_hash, sizeof(hash)) == 0;
}

/* Reads a one-line secret file: mode 0600 or stricter, printable, no spaces. */
static int read_secret_file(const char *path, char *out, size_t size, const char *what)
{
    struct stat st;
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        kunci_log("serve.config", "%s %s: %s", what, path, strerror(errno));
        return KUNCI_ERR_IO;
    }
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        kunci_log("serve.config", "%s %s is readable by group or others; run chmod 600 on it", what,
                  path);
        close(fd);
        return KUNCI_ERR_KEY_PERMS;
    }
    n = read(fd, out, size - 1);
    close(fd);
    if (n < 0)
        return KUNCI_ERR_IO;
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)out[i] <= 0x20 || out[i] == 0x7f || out[i] == '%') {
            kunci_log("serve.config",
                      "%s %s must be one line of printable characters without spaces or %%", what,
                      path);
            return KUNCI_ERR_INVALID;
        }
    if (n == 0) {
        kunci_log("serve.config", "%s %s is empty", what, path);
        return KUNCI_ERR_INVALID;
    }
    return KUNCI_OK;
}

static const struct endpoint *const endpoints[] = {&endpoint_nginx, &endpoint_basic};

static void hash_job_run(struct hash_job *job, struct kunci_store_handle *h)
{
    struct request *rq = (struct request *)((char *)job - offsetof(struct request, job));

    if (h == NULL)
        rq->out.result = KUNCI_AUTH_TEMPFAIL;
    else
        kunci_auth_slow(rq->server->ctx, h, &rq->req, &rq->out);
    rq->phase = PHASE_DECIDED;
    MHD_resume_connection(rq->conn);
}

static enum MHD_Result finish(struct request *rq)
{
    struct kunci_event ev;

    sodium_memzero(rq->secret, sizeof(rq->secret));
    kunci_metrics_check(rq->endpoint == &endpoint_basic ? KUNCI_METRIC_BASIC : KUNCI_METRIC_NGINX,
                        rq->out.result, rq->phase == PHASE_DECIDED,
                        kunci_log_now_us() - rq->started_us);
    /* Refusals are always logged; allowed logins on request, as Dovecot's auth_verbose. */
    if (rq->out.result != KUNCI_AUTH_ALLOWED || kunci_ctx_live(rq->server->ctx)->log_allowed)
        server_log_decision(rq, rq->out.app_password_id ? "app_password" : "password");
    if (kunci_events_recording()) {
        kunci_event_mail_login(&ev, rq->req.now ? rq->req.now : (int64_t)time(NULL), rq->out.login,
                               rq->out.account_id,
                               rq->protocol ? kunci_protocol_name(rq->protocol) : "", rq->client_ip,
                               kunci_auth_result_name(rq->out.result), rq->out.app_password_id);
        ev.logged = true;
        kunci_event_emit(&ev);
    }
    return rq->endpoint->respond(rq);
}

static enum MHD_Result handle_auth(struct request *rq)
{
    struct kunci_store_handle *h;

    if (rq->phase == PHASE_DECIDED)
        return finish(rq);
    switch (rq->endpoint->parse(rq)) {
    case PARSE_ANSWERED:
        sodium_memzero(rq->secret, sizeof(rq->secret));
        return MHD_YES;
    case PARSE_REFUSE:
        rq->out.result = KUNCI_AUTH_WRONG_SECRET;
        return finish(rq);
    case PARSE_OK:
        break;
    }
    rq->req.login = rq->login;
    rq->req.login_len = rq->login_len;
    rq->req.secret = rq->secret;
    rq->req.secret_len = rq->secret_len;
    rq->req.protocol = rq->protocol;
    /* Without a client address from the proxy, the peer's stands for it. */
    if (rq->client_ip[0] == '\0')
        http_peer_address(rq->conn, rq->client_ip, sizeof(rq->client_ip));
    rq->req.client_ip = rq->client_ip;
    rq->req.now = (int64_t)time(NULL);
    h = listen_thread_store();
    if (h == NULL ||
        kunci_auth_fast(rq->server->ctx, h, &rq->req, &rq->out) != KUNCI_AUTH_NEEDS_HASH) {
        if (h == NULL)
            rq->out.result = KUNCI_AUTH_TEMPFAIL;
        return finish(rq);
    }
    rq->job.run = hash_job_run;
    if (kunci_address_key(rq->client_ip, rq->job.address, sizeof(rq->job.address)) != KUNCI_OK)
        rq->job.address[0] = '\0';
    rq->phase = PHASE_WAITING;
    MHD_suspend_connection(rq->conn);
    if (hash_pool_submit(rq->server->pool, &rq->job) != KUNCI_OK) {
        MHD_resume_connection(rq->conn);
        rq->out.result = KUNCI_AUTH_TEMPFAIL; /* overloaded: try again later */
        rq->phase = PHASE_DECIDED;
        rq->reason = "hash queue full";
        kunci_log("auth.overload",
                  "hash queue full (or %s's share of it), answering try again later",
                  rq->job.address[0] ? rq->job.address : "-");
    }
    return MHD_YES;
}

static enum MHD_Result handle_health(struct MHD_Connection *conn)
{
    struct kunci_store_handle *h = listen_thread_store();
    struct kunci_settings settings;

    if (h == NULL || kunci_settings_load(h, &settings) != KUNCI_OK)
        return http_respond(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "store unavailable\n");
    return http_respond(conn, MHD_HTTP_OK, NULL, "ok\n");
}

/* Prometheus's text format; the figures of this server only (each node has its own). */
static enum MHD_Result handle_metrics(struct server *srv, struct MHD_Connection *conn)
{
    static const struct http_header type[] = {
        {"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}, {NULL, NULL}};
    struct kunci_store_handle *h = listen_thread_store();
    struct kunci_metrics_now now = {srv->pool != NULL ? hash_pool_depth(srv->pool) : 0, -1};

    if (h == NULL || kunci_store_session_count(h, &now.sessions) != KUNCI_OK)
        now.sessions = -1;
    char *text = kunci_metrics_render(&now);
    if (text == NULL)
        return http_respond(conn, MHD_HTTP_SERVICE_UNAVAILABLE, NULL, "out of memory\n");
    return http_respond_owned(conn, MHD_HTTP_OK, type, text);
}

/* Each request thread keeps one wiped request for its next: at 1,296 bytes a request is past
 * malloc's per-thread cache, and allocating and freeing one was 2% of the auth path. */
static pthread_key_t spare_key;
static pthread_once_t spare_once = PTHREAD_ONCE_INIT;

static void spare_key_create(void)
{
    if (pthread_key_create(&spare_key, free) != 0)
        abort(); /* only when the process is out of keys: nothing can go on */
}

static struct request *request_new(void)
{
    pthread_once(&spare_once, spare_key_create);
    struct request *rq = pthread_getspecific(spare_key);
    if (rq != NULL && pthread_setspecific(spare_key, NULL) == 0)
        return rq; /* zero: wiped when it was released */
    return calloc(1, sizeof(*rq));
}

/* After request_new, which made the key. */
static void request_release(struct request *rq)
{
    sodium_memzero(rq, sizeof(*rq));
    if (pthread_getspecific(spare_key) == NULL && pthread_setspecific(spare_key, rq) == 0)
        return;
    free(rq);
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    struct server *srv = cls;
    struct request *rq = *con_cls;
    (void)version;
    (void)upload_data;

    if (rq == NULL) {
        /* Answer on the second call: answering on the first makes MHD close keep-alive
         * connections. */
        rq = request_new();
        if (rq == NULL)
            return MHD_NO;
        rq->server = srv;
        rq->conn = conn;
        rq->started_us = kunci_log_now_us();
        conn_guard_request_started(srv->auth_guard, conn);
        for (size_t i = 0; i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
            if (strcmp(url, endpoints[i]->path) == 0)
                rq->endpoint = endpoints[i];
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        *upload_data_size = 0; /* bodies are ignored */
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        static const struct http_header h[] = {{"Allow", "GET, HEAD"}, {NULL, NULL}};
        return http_respond(conn, MHD_HTTP_METHOD_NOT_ALLOWED, h, "method not allowed\n");
    }
    if (rq->endpoint != NULL)
        return handle_auth(rq);
    if (strcmp(url, "/healthz") == 0)
        return handle_health(conn);
    if (strcmp(url, "/metrics") == 0)
        return handle_metrics(srv, conn);
    return http_respond(conn, MHD_HTTP_NOT_FOUND, NULL, "not found\n");
}

static void request_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                              enum MHD_RequestTerminationCode toe)
{
    struct server *srv = cls;
    (void)toe;
    conn_guard_request_done(srv->auth_guard, conn);
    if (*con_cls != NULL) {
        request_release(*con_cls);
        *con_cls = NULL;
    }
}

static void settings_free(struct server_settings *s)
{
    if (s == NULL)
        return;
    if (s->backend_password != NULL)
        sodium_free(s->backend_password);
    sodium_memzero(s, sizeof(*s));
    free(s);
}

/* Reads what the endpoints answer from: kunci.conf's values and the secret files they name
 * (read again at each reload, so a changed secret is taken up). */
static int load_settings(const struct kunci_config *cfg, struct server_settings **s_r)
{
    char buf[SECRET_FILE_MAX + 1];
    const char *addrs[3] = {cfg->mail_imap, cfg->mail_pop3, cfg->mail_smtp};
    int r = KUNCI_ERR_NOMEM;
    static _Atomic uint64_t epochs;
    struct server_settings *s = calloc(1, sizeof(*s));

    *s_r = NULL;
    if (s == NULL)
        return KUNCI_ERR_NOMEM;
    /* A new epoch whenever what an answer is made of is (re)read: no thread uses an answer
     * it kept under older settings. */
    s->replies_epoch = atomic_fetch_add(&epochs, 1) + 1;
    s->auth_wait = cfg->auth_wait;
    for (int i = 0; i < 3; i++)
        if (addrs[i][0] != '\0' &&
            kunci_addr_parse(addrs[i], s->mail[i].host, sizeof(s->mail[i].host),
                             &s->mail[i].port) != KUNCI_OK) {
            r = KUNCI_ERR_INVALID;
            goto fail;
        }
    if (cfg->auth_key_file[0] != '\0') {
        if ((r = read_secret_file(cfg->auth_key_file, buf, sizeof(buf), "auth_key_file")) != 0)
            goto fail;
        crypto_generichash(s->auth_key_hash, sizeof(s->auth_key_hash), (const unsigned char *)buf,
                           strlen(buf), NULL, 0);
        s->auth_key_required = true;
    }
    if (cfg->backend_password_file[0] != '\0') {
        r = read_secret_file(cfg->backend_password_file, buf, sizeof(buf), "backend_password_file");
        if (r != KUNCI_OK)
            goto fail;
        s->backend_password = sodium_malloc(strlen(buf) + 1);
        if (s->backend_password == NULL) {
            r = KUNCI_ERR_NOMEM;
            goto fail;
        }
        memcpy(s->backend_password, buf, strlen(buf) + 1);
        sodium_mprotect_readonly(s->backend_password);
    }
    sodium_memzero(buf, sizeof(buf));
    *s_r = s;
    return KUNCI_OK;
fail:
    sodium_memzero(buf, sizeof(buf));
    settings_free(s);
    return r;
}

/* Bytes of memory per connection for a request and its answer. An auth request is a few
 * headers (a login of at most 254 bytes and a secret of at most 256, percent-encoded: under
 * 3 KiB in all); libmicrohttpd clears the whole area before each request on a kept-alive
 * connection, and its default of 32 KiB made that a tenth of the auth path's time. A request
 * that does not fit is answered 431. */
#define AUTH_CONNECTION_MEMORY (8 * 1024)

static struct MHD_Daemon *start_listener(struct server *srv, const char *listen_addr, int threads,
                                         struct conn_guard *guard, unsigned limit)
{
    struct sockaddr_storage ss;
    uint16_t port;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_ITC;

    if (!http_listen_address(listen_addr, &ss, &port, &flags))
        return NULL;
    return MHD_start_daemon(
        flags, port, conn_guard_accept, guard, access_handler, srv, MHD_OPTION_EXTERNAL_LOGGER,
        conn_guard_mhd_log, guard, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)AUTH_IDLE_SECONDS, MHD_OPTION_CONNECTION_LIMIT, limit,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_NOTIFY_COMPLETED,
        request_completed, srv, MHD_OPTION_NOTIFY_CONNECTION, conn_guard_notify, guard,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)AUTH_CONNECTION_MEMORY, MHD_OPTION_END);
}

/* Connections one client address may hold on a listener that holds limit: kunci.conf's, or
 * half. */
static unsigned per_address_limit(const struct kunci_config *cfg, unsigned limit)
{
    return cfg->max_connections_per_address > 0 ? (unsigned)cfg->max_connections_per_address
                                                : (limit / 2 > 0 ? limit / 2 : 1);
}

/* The log's format, from kunci.conf: at start and at each reload. */
static void set_log_format(const struct kunci_config *cfg)
{
    kunci_log_set_format(kunci_log_format_parse(cfg->log_format) == KUNCI_LOG_JSON
                             ? KUNCI_LOG_JSON
                             : KUNCI_LOG_TEXT);
}

/* [phone] and [email] as their drivers need them; why says what is wrong. */
static int check_delivery(const struct kunci_config *cfg, char *why, size_t why_size)
{
    int r = kunci_delivery_check("phone", &cfg->phone, why, why_size);
    return r != KUNCI_OK ? r : kunci_delivery_check("email", &cfg->email, why, why_size);
}

/* Each listener's guard: limits from the file limit unless kunci.conf sets them. */
static int start_guards(struct server *srv, unsigned *limit_r)
{
    const struct kunci_config *cfg = &srv->ctx->cfg;
    unsigned limit;

    conn_guard_limits(2, &limit);
    if (cfg->max_connections > 0)
        limit = (unsigned)cfg->max_connections;
    unsigned per_address = per_address_limit(cfg, limit);
    struct conn_guard_options auth = {"auth listener",   limit,
                                      per_address,       (unsigned)cfg->header_timeout,
                                      AUTH_IDLE_SECONDS, NULL};
    struct conn_guard_options web = {"web listener",   limit,
                                     per_address,      (unsigned)cfg->header_timeout,
                                     WEB_IDLE_SECONDS, cfg->trusted_proxies};
    *limit_r = limit;
    if (conn_guard_new(&auth, &srv->auth_guard) != KUNCI_OK ||
        conn_guard_new(&web, &srv->web_guard) != KUNCI_OK)
        return KUNCI_ERR_NOMEM;
    return KUNCI_OK;
}

/* Seconds the requests in flight get to be answered after SIGTERM. */
#define DRAIN_SECONDS 10

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Stop taking connections; answer what is in flight (the queued hashes included) within
 * DRAIN_SECONDS; then what is left is answered "try again later". Nothing is freed while a
 * request can still reach it. */
static void drain(struct server *srv, struct MHD_Daemon *auth, struct MHD_Daemon *web,
                  struct socket_listener *sock)
{
    struct MHD_Daemon *daemons[2] = {auth, web};
    int64_t deadline = monotonic_ms() + DRAIN_SECONDS * 1000;

    conn_guard_stop_accepting(srv->auth_guard);
    conn_guard_stop_accepting(srv->web_guard);
    for (int i = 0; i < 2; i++) {
        if (daemons[i] == NULL)
            continue;
        MHD_socket fd = MHD_quiesce_daemon(daemons[i]);
        if (fd != MHD_INVALID_SOCKET)
            close(fd);
    }
    socket_listener_quiesce(sock);
    http_set_draining(true); /* kept-alive connections close after their answer */
    while (monotonic_ms() < deadline &&
           ((srv->pool != NULL && !hash_pool_idle(srv->pool)) ||
            (auth != NULL && conn_guard_busy(srv->auth_guard) > 0) ||
            (web != NULL && conn_guard_busy(srv->web_guard) > 0) || socket_listener_busy(sock)))
        usleep(20 * 1000);
}

/* [devices]: the certificate and key Apple profiles are signed with, when configured. A
 * file that is missing, unreadable, too open or not the certificate's key stops the start:
 * the operator asked for signed profiles. */
static int load_profile_signer(const struct kunci_devices_config *d,
                               struct kunci_profile_signer **signer_r)
{
    char err[PATH_MAX * 2 + 128], subject[256];
    *signer_r = NULL;
    if (!kunci_devices_enabled(d))
        return KUNCI_OK;
    if (d->profile_signing_cert[0] == '\0') {
        kunci_log("serve.start",
                  "device set-up for %s without profile_signing_cert: Apple "
                  "devices are not offered (profiles must be signed)",
                  d->imap_host);
        return KUNCI_OK;
    }
    int r = kunci_profile_signer_load(d->profile_signing_cert, d->profile_signing_key, signer_r,
                                      err, sizeof(err));
    if (r != KUNCI_OK) {
        kunci_log("serve.config", "[devices] %s", err);
        return KUNCI_ERR_INVALID;
    }
    kunci_profile_signer_subject(*signer_r, subject, sizeof(subject));
    kunci_log("serve.start", "device set-up for %s; Apple profiles signed as %s", d->imap_host,
              subject);
    return KUNCI_OK;
}

/* The account's owner is told of what they should know (core/notify.h), by e-mail, once
 * the event is stored. */
static void notify_owner(void *arg, const struct kunci_event *ev)
{
    const struct kunci_ctx *ctx = arg;
    char subject[KUNCI_NOTIFY_SUBJECT_MAX], text[KUNCI_NOTIFY_TEXT_MAX], err[256] = "";
    if (!kunci_notify_message(ev, subject, text))
        return;
    if (kunci_delivery_notify(kunci_ctx_live(ctx), ev->subject, subject, text, err, sizeof(err)) !=
        KUNCI_OK)
        kunci_log("notify.failed", "notice \"%s\" to %s not delivered: %s", subject, ev->subject,
                  err);
}

/* The keys SIGHUP applies to a running server; any other that changed is logged as taking
 * effect at the next restart. A section with key NULL: every key of it. */
static const struct {
    const char *section, *key;
} reloadable[] = {
    {"log", "format"},
    {"serve", "log_allowed"},
    {"serve", "auth_key_file"},
    {"serve", "header_timeout"},
    {"serve", "max_connections_per_address"},
    {"serve", "hash_queue_per_address"},
    {"mail", NULL},
    {"phone", NULL},
    {"email", NULL},
};

static bool is_reloadable(const char *section, const char *key)
{
    for (size_t i = 0; i < sizeof(reloadable) / sizeof(reloadable[0]); i++)
        if (strcmp(reloadable[i].section, section) == 0 &&
            (reloadable[i].key == NULL || strcmp(reloadable[i].key, key) == 0))
            return true;
    return false;
}

struct changes {
    struct kunci_config *merged; /* the running configuration, reloadable keys from the file */
    const struct kunci_config *fresh;
    char applied[1024], restart[1024];
};

static void add_key(char *list, size_t size, const char *section, const char *key)
{
    size_t n = strlen(list);
    if (n + 1 < size)
        snprintf(list + n, size - n, "%s[%s] %s", n > 0 ? ", " : "", section, key);
}

static void note_change(const char *section, const char *key, void *arg)
{
    struct changes *c = arg;
    if (is_reloadable(section, key)) {
        kunci_config_copy_key(c->merged, c->fresh, section, key);
        add_key(c->applied, sizeof(c->applied), section, key);
    } else {
        add_key(c->restart, sizeof(c->restart), section, key);
    }
}

static void apply_limits(struct server *srv, const struct kunci_config *cfg)
{
    unsigned per_address = per_address_limit(cfg, conn_guard_limit(srv->auth_guard));
    conn_guard_set_limits(srv->auth_guard, per_address, (unsigned)cfg->header_timeout);
    conn_guard_set_limits(srv->web_guard, per_address, (unsigned)cfg->header_timeout);
    hash_pool_set_per_address(srv->pool, cfg->hash_queue_per_address);
}

/* SIGHUP: kunci.conf and the secret files it names read again; what can change while
 * serving is applied at once (all of it or, if anything in it is wrong, none of it). */
static void reload(struct server *srv)
{
    struct kunci_ctx *ctx = srv->ctx;
    const struct kunci_config *running = kunci_ctx_live(ctx);
    struct kunci_config *fresh = malloc(sizeof(*fresh));
    struct kunci_config *merged = malloc(sizeof(*merged));
    struct server_settings *settings = NULL;
    struct retired *old = calloc(1, sizeof(*old));
    char err[512] = "";
    int r = KUNCI_ERR_NOMEM;

    if (fresh == NULL || merged == NULL || old == NULL)
        goto fail;
    if ((r = srv->reread(srv->reread_arg, fresh, err, sizeof(err))) != KUNCI_OK)
        goto fail;
    *merged = *running;
    struct changes c = {merged, fresh, "", ""};
    kunci_config_diff(running, fresh, note_change, &c);
    if ((r = check_delivery(merged, err, sizeof(err))) != KUNCI_OK)
        goto fail;
    if ((r = load_settings(merged, &settings)) != KUNCI_OK) {
        snprintf(err, sizeof(err), "%s", kunci_strerror(r));
        goto fail;
    }
    /* Published: requests from now on read the new snapshots; the old ones stay valid. */
    old->settings = (struct server_settings *)server_settings(srv);
    old->cfg = (struct kunci_config *)(atomic_load(&ctx->live) != NULL ? running : NULL);
    old->next = srv->retired;
    srv->retired = old;
    atomic_store(&srv->settings, settings);
    atomic_store(&ctx->live, merged);
    set_log_format(merged);
    apply_limits(srv, merged);
    free(fresh);
    kunci_log("serve.reload", "SIGHUP: kunci.conf and its secret files read again; %s%s%s%s",
              c.applied[0] != '\0' ? "now in effect: " : "no change to apply", c.applied,
              c.restart[0] != '\0' ? "; needs a restart to take effect: " : "", c.restart);
    return;
fail:
    kunci_log("serve.reload",
              "SIGHUP: kunci.conf not reloaded (%s); the running configuration stays",
              err[0] != '\0' ? err : kunci_strerror(r));
    free(fresh);
    free(merged);
    free(old);
}

int kunci_serve(struct kunci_ctx *ctx,
                int (*reread)(void *arg, struct kunci_config *cfg_r, char *err, size_t err_size),
                void *reread_arg)
{
    struct server srv;
    struct MHD_Daemon *daemon = NULL, *web = NULL;
    struct socket_listener *sock = NULL;
    struct server_settings *settings = NULL;
    struct kunci_profile_signer *signer = NULL;
    sigset_t sigs;
    int sig, r;

    unsigned limit = 0;

    memset(&srv, 0, sizeof(srv));
    srv.ctx = ctx;
    srv.reread = reread;
    srv.reread_arg = reread_arg;
    set_log_format(&ctx->cfg);
    if ((r = listen_thread_store_init(ctx)) != KUNCI_OK)
        return r;
    if ((r = load_settings(&ctx->cfg, &settings)) != KUNCI_OK)
        goto out;
    atomic_store(&srv.settings, settings);
    /* Computed before the first request, so the first unknown user costs no more than the
     * next one. */
    (void)kunci_ctx_dummy_hash(ctx);

    /* Signals go to the main thread only; every thread started after this inherits the mask. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* A thread of its own: started with the signals blocked, like every other. */
    if ((r = event_queue_start(notify_owner, ctx, &srv.events)) != KUNCI_OK)
        goto out;

    if ((r = start_guards(&srv, &limit)) != KUNCI_OK)
        goto out;
    if ((r = hash_pool_start(&srv.pool, ctx->cfg.hash_workers, ctx->cfg.hash_queue,
                             ctx->cfg.hash_queue_per_address)) != 0)
        goto out;
    char why[512];
    if (check_delivery(&ctx->cfg, why, sizeof(why)) != KUNCI_OK) {
        kunci_log("serve.config", "%s", why);
        r = KUNCI_ERR_INVALID;
        goto out;
    }
    daemon = start_listener(&srv, ctx->cfg.auth_listen, ctx->cfg.threads, srv.auth_guard, limit);
    if (daemon == NULL) {
        kunci_log("serve.listen",
                  "cannot listen on %s (auth_listen): in use or not an address of this machine",
                  ctx->cfg.auth_listen);
        r = KUNCI_ERR_IO;
        goto out;
    }
    if (ctx->cfg.socket_path[0] != '\0') {
        if (socket_listener_start(ctx, srv.pool, &sock) != KUNCI_OK) {
            kunci_log("serve.listen", "cannot listen on the socket %s: %s", ctx->cfg.socket_path,
                      strerror(errno));
            r = KUNCI_ERR_IO;
            goto out;
        }
        kunci_log("serve.start", "serving pam_kunci on %s (mode %04o)", ctx->cfg.socket_path,
                  (unsigned)ctx->cfg.socket_mode);
    }
    if ((r = load_profile_signer(&ctx->cfg.devices, &signer)) != KUNCI_OK)
        goto out;
    web_devices_init(signer);
    if (web_start(ctx, srv.web_guard, srv.pool, limit, &web) != KUNCI_OK) {
        kunci_log("serve.listen",
                  "cannot listen on %s (web_listen): in use or not an address of this machine",
                  ctx->cfg.web_listen);
        r = KUNCI_ERR_IO;
        goto out;
    }
    kunci_log("serve.start", "web UI on http://%s (files from %s)", ctx->cfg.web_listen,
              ctx->cfg.web_root);
    for (int i = 0; i < 2; i++) {
        const struct kunci_channel_config *ch = i == 0 ? &ctx->cfg.phone : &ctx->cfg.email;
        if (strcmp(ch->driver, "outbox") == 0)
            kunci_log("serve.start",
                      "%s codes are not sent but written to the outbox %s (development; set "
                      "[%s] driver)",
                      i == 0 ? "phone" : "e-mail", ch->outbox_dir, i == 0 ? "phone" : "email");
    }
    kunci_log("serve.start",
              "serving auth on http://%s (/auth/nginx, /auth/basic, /healthz); %d threads, %d "
              "hash workers; at most %u connections per listener; store %s %s",
              ctx->cfg.auth_listen, ctx->cfg.threads, ctx->cfg.hash_workers, limit,
              ctx->cfg.store_backend, ctx->cfg.store_location);
    for (;;) {
        if (sigwait(&sigs, &sig) != 0)
            continue;
        if (sig != SIGHUP)
            break;
        if (srv.reread != NULL)
            reload(&srv);
    }
    kunci_log("serve.signal", "%s received: no new connections, answering those in flight",
              sig == SIGTERM ? "SIGTERM" : "SIGINT");
    drain(&srv, daemon, web, sock);
    r = KUNCI_OK;
out:
    /* The pool before the listeners: its jobs resume suspended connections, which MHD needs
     * before stopping; and no listener may reach the pool once it is freed. */
    hash_pool_stop(srv.pool);
    socket_listener_stop(sock);
    if (web != NULL)
        MHD_stop_daemon(web);
    if (daemon != NULL)
        MHD_stop_daemon(daemon);
    kunci_profile_signer_free(signer);
    hash_pool_free(srv.pool);
    event_queue_stop(srv.events); /* after the listeners: what they emitted is written */
    conn_guard_free(srv.web_guard);
    conn_guard_free(srv.auth_guard);
    settings_free((struct server_settings *)server_settings(&srv));
    while (srv.retired != NULL) {
        struct retired *next = srv.retired->next;
        settings_free(srv.retired->settings);
        free(srv.retired->cfg);
        free(srv.retired);
        srv.retired = next;
    }
    /* The last reloaded configuration: nothing reads it once the listeners stopped. */
    struct kunci_config *live = (struct kunci_config *)atomic_exchange(&ctx->live, NULL);
    free(live);
    kunci_log("serve.stop", "stopped");
    return r;
}
