/* The local socket for pam_kunci (and any local program): one request, one answer.
 *
 *   request: AUTH <TAB> protocol <TAB> client-ip or "-" <TAB> login <TAB> secret <LF>
 *   answer:  OK <TAB> canonical-login <LF> | FAIL <LF> | TEMPFAIL <LF>
 *
 * At most 1 KiB, no CR or NUL, 5 seconds to send it. The socket's file mode decides who may
 * ask ([serve] socket_mode). A few worker threads accept and answer, Argon2id included:
 * this path is for local services, the HTTP listeners keep their own threads. See
 * docs/socket.md. */
#include "server/internal.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/err.h"
#include "core/protocol.h"

#define REQUEST_MAX 1024

struct socket_listener {
    const struct kunci_ctx *ctx;
    int fd, stop_fd, nworkers;
    pthread_t *workers;
};

static void answer(int fd, const char *text)
{
    size_t len = strlen(text);
    while (len > 0) {
        ssize_t n = send(fd, text, len, MSG_NOSIGNAL);
        if (n <= 0)
            return;
        text += n;
        len -= (size_t)n;
    }
}

/* Reads one line; false when it is too long, malformed, late or absent. */
static bool read_request(int fd, char *buf, size_t size, size_t *len_r)
{
    size_t len = 0;
    while (len + 1 < size) {
        ssize_t n = recv(fd, buf + len, size - 1 - len, 0);
        if (n <= 0)
            return false;
        len += (size_t)n;
        char *lf = memchr(buf, '\n', len);
        if (lf != NULL) {
            *lf = '\0';
            *len_r = (size_t)(lf - buf);
            return memchr(buf, '\0', *len_r) == NULL && memchr(buf, '\r', *len_r) == NULL;
        }
    }
    return false;
}

static void handle(struct socket_listener *l, int fd)
{
    char buf[REQUEST_MAX + 1], reply[KUNCI_LOGIN_MAX + 8], *fields[5];
    struct kunci_auth_request req;
    struct kunci_auth_outcome out;
    struct timeval tv = {5, 0};
    size_t len;
    int n = 0;

    memset(&out, 0, sizeof(out));
    out.result = KUNCI_AUTH_WRONG_SECRET; /* deny until decided */
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (!read_request(fd, buf, sizeof(buf), &len)) {
        answer(fd, "FAIL\n");
        goto out;
    }
    /* strsep keeps empty fields (an empty password is a field too). */
    char *rest = buf;
    for (n = 0; n < 5 && rest != NULL; n++)
        fields[n] = strsep(&rest, "\t");
    if (rest != NULL)
        n = 0; /* a sixth field: malformed */
    unsigned protocol = n == 5 ? kunci_protocol_parse(fields[1]) : 0;
    if (n != 5 || strcmp(fields[0], "AUTH") != 0 || protocol == 0) {
        answer(fd, "FAIL\n");
        goto out;
    }
    memset(&req, 0, sizeof(req));
    req.protocol = protocol;
    req.client_ip = strcmp(fields[2], "-") == 0 ? NULL : fields[2];
    req.login = fields[3];
    req.login_len = strlen(fields[3]);
    req.secret = fields[4];
    req.secret_len = strlen(fields[4]);
    req.now = (int64_t)time(NULL);
    struct kunci_store_handle *h = thread_store();
    if (h == NULL)
        out.result = KUNCI_AUTH_TEMPFAIL;
    else
        kunci_auth_check(l->ctx, h, &req, &out);
    if (out.result == KUNCI_AUTH_ALLOWED && header_safe(out.login)) {
        snprintf(reply, sizeof(reply), "OK\t%s\n", out.login);
        answer(fd, reply);
    } else {
        answer(fd, out.result == KUNCI_AUTH_TEMPFAIL || out.result == KUNCI_AUTH_THROTTLED
                       ? "TEMPFAIL\n"
                       : "FAIL\n");
    }
    if (out.result != KUNCI_AUTH_ALLOWED || l->ctx->cfg.log_allowed)
        fprintf(stderr, "auth endpoint=socket protocol=%s login=%s ip=%s result=%s via=%s\n",
                kunci_protocol_name(protocol), out.login[0] ? out.login : "-",
                req.client_ip ? req.client_ip : "-", kunci_auth_result_name(out.result),
                out.app_password_id ? "app_password" : "password");
out:
    sodium_memzero(buf, sizeof(buf));
}

static void *worker_main(void *arg)
{
    struct socket_listener *l = arg;
    struct pollfd fds[2] = {{l->fd, POLLIN, 0}, {l->stop_fd, POLLIN, 0}};

    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            return NULL;
        if (fds[1].revents != 0)
            return NULL; /* stopping */
        if ((fds[0].revents & POLLIN) == 0)
            continue;
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            continue; /* another worker took it */
        handle(l, fd);
        close(fd);
    }
}

int socket_listener_start(const struct kunci_ctx *ctx, int workers, struct socket_listener **l_r)
{
    struct sockaddr_un sa;
    struct socket_listener *l;

    *l_r = NULL;
    if (strlen(ctx->cfg.socket_path) >= sizeof(sa.sun_path))
        return KUNCI_ERR_TOO_LONG;
    if ((l = calloc(1, sizeof(*l))) == NULL)
        return KUNCI_ERR_NOMEM;
    l->ctx = ctx;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, ctx->cfg.socket_path, strlen(ctx->cfg.socket_path) + 1);
    unlink(ctx->cfg.socket_path); /* a stale socket from a previous run */
    l->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    l->stop_fd = eventfd(0, EFD_CLOEXEC);
    mode_t old = umask(0777 & ~(mode_t)ctx->cfg.socket_mode);
    int ok = l->fd >= 0 && l->stop_fd >= 0 &&
             bind(l->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(l->fd, 64) == 0;
    umask(old);
    if (ok)
        ok = chmod(ctx->cfg.socket_path, (mode_t)ctx->cfg.socket_mode) == 0;
    l->workers = ok ? calloc((size_t)workers, sizeof(pthread_t)) : NULL;
    for (; l->workers != NULL && l->nworkers < workers; l->nworkers++)
        if (pthread_create(&l->workers[l->nworkers], NULL, worker_main, l) != 0)
            break;
    if (l->nworkers == 0) {
        socket_listener_stop(l);
        return KUNCI_ERR_IO;
    }
    *l_r = l;
    return KUNCI_OK;
}

void socket_listener_stop(struct socket_listener *l)
{
    uint64_t one = 1;

    if (l == NULL)
        return;
    if (l->stop_fd >= 0 && write(l->stop_fd, &one, sizeof(one)) < 0)
        perror("kunci: socket listener stop");
    for (int i = 0; i < l->nworkers; i++)
        pthread_join(l->workers[i], NULL);
    if (l->fd >= 0) {
        close(l->fd);
        unlink(l->ctx->cfg.socket_path);
    }
    if (l->stop_fd >= 0)
        close(l->stop_fd);
    free(l->workers);
    free(l);
}
