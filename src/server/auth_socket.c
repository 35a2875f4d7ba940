/* The local socket for pam_kunci (and any local program): one request, one answer.
 *
 *   request: AUTH <TAB> protocol <TAB> client-ip or "-" <TAB> login <TAB> secret <LF>
 *   answer:  OK <TAB> canonical-login <LF> | FAIL <LF> | TEMPFAIL <LF>
 *
 * At most 1 KiB, no CR or NUL, and the whole request within 5 seconds of connecting. The
 * socket's file mode decides who may ask ([serve] socket_mode). One thread reads every
 * connection without blocking, so slow clients hold only their own slot (and a local user
 * only their share of the slots); complete requests are decided on the hash pool's workers,
 * shared fairly by client address (the request's, or the asking user's). See
 * docs/socket.md. */
#include "server/internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/events.h"
#include "core/log.h"
#include "core/metrics.h"
#include "core/err.h"
#include "core/protocol.h"
#include "listen/wire.h"

#define REQUEST_MAX      1024
#define REQUEST_MS       5000 /* from connecting to the end of the request line */
#define CLIENTS_MAX      256  /* connections being read at once */
#define CLIENTS_PER_USER 32   /* of those, one local user's */

struct client {
    int fd;
    uid_t uid;
    int64_t deadline_ms;
    size_t len;
    char buf[REQUEST_MAX + 1];
};

/* A complete request on its way to a decision. */
struct socket_job {
    struct hash_job job;
    struct socket_listener *l;
    int fd;
    char local[24]; /* "uid:N": the asking user, when the request names no address */
    char buf[REQUEST_MAX + 1];
    struct wire_socket_request rq;
    unsigned protocol;
    int64_t started_us;
};

struct socket_listener {
    const struct kunci_ctx *ctx;
    struct hash_pool *pool;
    int fd, stop_fd, epoll_fd;
    pthread_t reader;
    bool reading;
    atomic_bool quiesced;
    atomic_int pending; /* connections being read or decided */
    struct client *clients[CLIENTS_MAX];
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The answer is one short line: it fits the socket's buffer, so it never blocks. */
static void answer(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n <= 0)
            return;
        text += n;
        len -= (size_t)n;
    }
}

static void done_with(struct socket_listener *l, int fd, const char *text)
{
    if (text != NULL)
        answer(fd, text);
    close(fd);
    atomic_fetch_sub(&l->pending, 1);
}

static void decide(struct hash_job *job, struct kunci_store_handle *h)
{
    struct socket_job *sj = (struct socket_job *)((char *)job - offsetof(struct socket_job, job));
    const struct kunci_ctx *ctx = sj->l->ctx;
    struct kunci_auth_outcome out;
    char reply[KUNCI_LOGIN_MAX + 8];
    const struct wire_socket_request *f = &sj->rq;

    memset(&out, 0, sizeof(out));
    out.result = KUNCI_AUTH_TEMPFAIL; /* deny until decided */
    struct kunci_auth_request req = {
        .login = f->login,
        .login_len = strlen(f->login),
        .secret = f->secret,
        .secret_len = strlen(f->secret),
        .protocol = sj->protocol,
        .client_ip = strcmp(f->client_ip, "-") == 0 ? sj->local : f->client_ip,
        .now = (int64_t)time(NULL),
    };
    bool hashed = false;
    /* Without a handle: the database is away, or kunci is stopping. */
    if (h != NULL && kunci_auth_fast(ctx, h, &req, &out) == KUNCI_AUTH_NEEDS_HASH) {
        hashed = true;
        kunci_auth_slow(ctx, h, &req, &out);
    }
    kunci_metrics_check(KUNCI_METRIC_SOCKET, out.result, hashed,
                        kunci_log_now_us() - sj->started_us);
    const char *text = out.result == KUNCI_AUTH_TEMPFAIL || out.result == KUNCI_AUTH_THROTTLED
                           ? "TEMPFAIL\n"
                           : "FAIL\n";
    if (out.result == KUNCI_AUTH_ALLOWED && http_header_safe(out.login)) {
        snprintf(reply, sizeof(reply), "OK\t%s\n", out.login);
        text = reply;
    }
    if (out.result != KUNCI_AUTH_ALLOWED || kunci_ctx_live(ctx)->log_allowed)
        kunci_log_decision(&(struct kunci_log_decision){
            .event = "auth",
            .endpoint = "socket",
            .login = out.login,
            .protocol = kunci_protocol_name(sj->protocol),
            .client_ip = req.client_ip,
            .result = kunci_auth_result_name(out.result),
            .reason = h == NULL ? "store unavailable or stopping" : NULL,
            .via = out.app_password_id ? "app_password" : "password",
            .app_password_id = out.app_password_id,
            .duration_us = kunci_log_now_us() - sj->started_us,
        });
    struct kunci_event ev;
    if (kunci_events_recording()) {
        kunci_event_mail_login(&ev, req.now, out.login, out.account_id,
                               kunci_protocol_name(sj->protocol), req.client_ip,
                               kunci_auth_result_name(out.result), out.app_password_id);
        ev.logged = true;
        kunci_event_emit(&ev);
    }
    done_with(sj->l, sj->fd, text);
    sodium_memzero(&out, sizeof(out));
    sodium_memzero(sj, sizeof(*sj));
    free(sj);
}

static void drop_client(struct socket_listener *l, int slot, const char *text, bool close_fd)
{
    struct client *c = l->clients[slot];
    epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    if (close_fd)
        done_with(l, c->fd, text);
    sodium_memzero(c, sizeof(*c));
    free(c);
    l->clients[slot] = NULL;
}

/* A whole line arrived: off to the hash pool, or refused when it has no room for it. */
static void dispatch(struct socket_listener *l, int slot)
{
    struct client *c = l->clients[slot];
    struct socket_job *sj = calloc(1, sizeof(*sj));
    char *lf = memchr(c->buf, '\n', c->len);
    size_t len = (size_t)(lf - c->buf);

    if (sj == NULL) {
        drop_client(l, slot, "TEMPFAIL\n", true);
        return;
    }
    memcpy(sj->buf, c->buf, len);
    sj->buf[len] = '\0';
    sj->fd = c->fd;
    sj->l = l;
    sj->started_us = kunci_log_now_us();
    sj->job.run = decide;
    bool ok = wire_socket_request(sj->buf, len, &sj->rq) &&
              (sj->protocol = kunci_protocol_parse(sj->rq.protocol)) != 0;
    if (!ok) {
        drop_client(l, slot, "FAIL\n", true);
        sodium_memzero(sj, sizeof(*sj));
        free(sj);
        return;
    }
    /* Whose share of the pool it takes, and whose failures count: the client's address,
     * else the local user's. */
    snprintf(sj->local, sizeof(sj->local), "uid:%u", (unsigned)c->uid);
    if (kunci_address_key(sj->rq.client_ip, sj->job.address, sizeof(sj->job.address)) != KUNCI_OK)
        snprintf(sj->job.address, sizeof(sj->job.address), "%s", sj->local);
    drop_client(l, slot, NULL, false); /* the descriptor goes with the job */
    if (hash_pool_submit(l->pool, &sj->job) != KUNCI_OK) {
        kunci_log("auth.overload", "socket: hash queue full, answering try again later");
        done_with(l, sj->fd, "TEMPFAIL\n");
        sodium_memzero(sj, sizeof(*sj));
        free(sj);
    }
}

static void read_client(struct socket_listener *l, int slot)
{
    struct client *c = l->clients[slot];

    for (;;) {
        ssize_t n = recv(c->fd, c->buf + c->len, REQUEST_MAX - c->len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            drop_client(l, slot, NULL, true);
            return;
        }
        c->len += (size_t)n;
        if (memchr(c->buf, '\n', c->len) != NULL) {
            dispatch(l, slot);
            return;
        }
        if (c->len >= REQUEST_MAX) {
            drop_client(l, slot, "FAIL\n", true);
            return;
        }
    }
}

static void accept_clients(struct socket_listener *l)
{
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct ucred cred = {0, (uid_t)-1, (gid_t)-1};
        socklen_t cl = sizeof(cred);
        (void)getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl);
        int free_slot = -1, same_user = 0;
        for (int i = 0; i < CLIENTS_MAX; i++) {
            if (l->clients[i] == NULL && free_slot < 0)
                free_slot = i;
            else if (l->clients[i] != NULL && l->clients[i]->uid == cred.uid)
                same_user++;
        }
        struct client *c =
            free_slot >= 0 && same_user < CLIENTS_PER_USER ? calloc(1, sizeof(*c)) : NULL;
        atomic_fetch_add(&l->pending, 1);
        if (c == NULL) {
            done_with(l, fd, "TEMPFAIL\n");
            continue;
        }
        c->fd = fd;
        c->uid = cred.uid;
        c->deadline_ms = now_ms() + REQUEST_MS;
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)free_slot};
        l->clients[free_slot] = c;
        if (epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) != 0)
            drop_client(l, free_slot, "TEMPFAIL\n", true);
    }
}

#define EV_LISTEN UINT32_MAX
#define EV_STOP   (UINT32_MAX - 1)

static void *reader_main(void *arg)
{
    struct socket_listener *l = arg;
    struct epoll_event events[64];

    for (;;) {
        int n = epoll_wait(l->epoll_fd, events, 64, 250);
        if (n < 0 && errno != EINTR)
            return NULL;
        for (int i = 0; i < n; i++) {
            uint32_t slot = events[i].data.u32;
            if (slot == EV_STOP)
                return NULL;
            if (slot == EV_LISTEN)
                accept_clients(l);
            else if (slot < CLIENTS_MAX && l->clients[slot] != NULL)
                read_client(l, (int)slot);
        }
        /* The deadline is per request, not per read: dribbling bytes does not extend it. */
        int64_t now = now_ms();
        for (int i = 0; i < CLIENTS_MAX; i++)
            if (l->clients[i] != NULL && now >= l->clients[i]->deadline_ms)
                drop_client(l, i, "FAIL\n", true);
    }
}

int socket_listener_start(const struct kunci_ctx *ctx, struct hash_pool *pool,
                          struct socket_listener **l_r)
{
    struct sockaddr_un sa;
    struct socket_listener *l;

    *l_r = NULL;
    if (strlen(ctx->cfg.socket_path) >= sizeof(sa.sun_path))
        return KUNCI_ERR_TOO_LONG;
    if ((l = calloc(1, sizeof(*l))) == NULL)
        return KUNCI_ERR_NOMEM;
    l->ctx = ctx;
    l->pool = pool;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, ctx->cfg.socket_path, strlen(ctx->cfg.socket_path) + 1);
    unlink(ctx->cfg.socket_path); /* a stale socket from a previous run */
    l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    l->stop_fd = eventfd(0, EFD_CLOEXEC);
    l->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    mode_t old = umask(0777 & ~(mode_t)ctx->cfg.socket_mode);
    bool ok = l->fd >= 0 && l->stop_fd >= 0 && l->epoll_fd >= 0 &&
              bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(l->fd, 128) == 0;
    umask(old);
    if (ok)
        ok = chmod(ctx->cfg.socket_path, (mode_t)ctx->cfg.socket_mode) == 0;
    struct epoll_event lev = {.events = EPOLLIN, .data.u32 = EV_LISTEN};
    struct epoll_event sev = {.events = EPOLLIN, .data.u32 = EV_STOP};
    if (ok)
        ok = epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->fd, &lev) == 0 &&
             epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->stop_fd, &sev) == 0;
    if (ok)
        ok = pthread_create(&l->reader, NULL, reader_main, l) == 0;
    l->reading = ok;
    if (!ok) {
        socket_listener_stop(l);
        return KUNCI_ERR_IO;
    }
    *l_r = l;
    return KUNCI_OK;
}

void socket_listener_quiesce(struct socket_listener *l)
{
    if (l == NULL || atomic_exchange(&l->quiesced, true))
        return;
    /* New clients are refused by the kernel; those connected are read to the end. */
    epoll_ctl(l->epoll_fd, EPOLL_CTL_DEL, l->fd, NULL);
    unlink(l->ctx->cfg.socket_path);
}

bool socket_listener_busy(struct socket_listener *l)
{
    return l != NULL && atomic_load(&l->pending) > 0;
}

void socket_listener_stop(struct socket_listener *l)
{
    uint64_t one = 1;

    if (l == NULL)
        return;
    if (l->reading) {
        if (write(l->stop_fd, &one, sizeof(one)) < 0)
            perror("kunci: socket listener stop");
        pthread_join(l->reader, NULL);
    }
    for (int i = 0; i < CLIENTS_MAX; i++)
        if (l->clients[i] != NULL)
            drop_client(l, i, "TEMPFAIL\n", true);
    if (l->fd >= 0) {
        close(l->fd);
        if (!atomic_load(&l->quiesced))
            unlink(l->ctx->cfg.socket_path);
    }
    if (l->stop_fd >= 0)
        close(l->stop_fd);
    if (l->epoll_fd >= 0)
        close(l->epoll_fd);
    free(l);
}
