/* pam_kunci: asks a running `kunci serve` over its local socket whether the user's password
 * (or app password) may pass. Deny by default: only an "OK" answer is PAM_SUCCESS; a kunci
 * that cannot be reached or says TEMPFAIL is PAM_AUTHINFO_UNAVAIL (try again later), never a
 * wrong password and never a success.
 *
 *   auth required pam_kunci.so protocol=imap [socket=/run/kunci/auth.sock] [timeout=10000]
 */
#define PAM_SM_AUTH
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_SOCKET  "/run/kunci/auth.sock"
#define DEFAULT_TIMEOUT 10000
#define REQUEST_MAX     1024

struct options {
    const char *socket_path;
    const char *protocol;
    int timeout_ms;
};

static int parse_options(pam_handle_t *pamh, int argc, const char **argv, struct options *o)
{
    o->socket_path = DEFAULT_SOCKET;
    o->protocol = NULL;
    o->timeout_ms = DEFAULT_TIMEOUT;
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "socket=", 7) == 0)
            o->socket_path = argv[i] + 7;
        else if (strncmp(argv[i], "protocol=", 9) == 0)
            o->protocol = argv[i] + 9;
        else if (strncmp(argv[i], "timeout=", 8) == 0)
            o->timeout_ms = atoi(argv[i] + 8);
        else {
            pam_syslog(pamh, LOG_ERR, "unknown option: %s", argv[i]);
            return PAM_SERVICE_ERR;
        }
    }
    if (o->protocol == NULL || o->timeout_ms <= 0) {
        pam_syslog(pamh, LOG_ERR, "protocol=imap|pop3|smtp|eas|dav|ews is required");
        return PAM_SERVICE_ERR;
    }
    return PAM_SUCCESS;
}

/* Tabs and line breaks would change the request's shape: refuse them outright. */
static bool plain(const char *s)
{
    return strpbrk(s, "\t\r\n") == NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is ready for `events` or the deadline passes. */
static bool wait_for(int fd, short events, int64_t deadline)
{
    struct pollfd p = {fd, events, 0};
    int left = (int)(deadline - now_ms());
    return left > 0 && poll(&p, 1, left) > 0 && (p.revents & events) != 0;
}

/* A Unix socket whose backlog is full refuses a non-blocking connect with EAGAIN instead of
 * making it wait: try again until the deadline, so a kunci that cannot keep up is
 * "unavailable" after timeout=, never a hung login. */
static bool connect_by(int fd, const struct sockaddr_un *sa, int64_t deadline)
{
    for (;;) {
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
            return true;
        if (errno == EINPROGRESS) {
            int err = 0;
            socklen_t len = sizeof(err);
            return wait_for(fd, POLLOUT, deadline) &&
                   getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
        }
        if (errno != EAGAIN && errno != EINTR)
            return false;
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return false;
        struct timespec nap = {0, (left < 10 ? left : 10) * 1000000L};
        nanosleep(&nap, NULL);
    }
}

/* Sends the request and reads the one-line answer into reply, all within timeout=. false on
 * any failure. */
static bool ask(const struct options *o, const char *request, char *reply, size_t size)
{
    struct sockaddr_un sa;
    int64_t deadline = now_ms() + o->timeout_ms;
    size_t len = 0, sent = 0, total = strlen(request);
    bool ok = false;

    if (strlen(o->socket_path) >= sizeof(sa.sun_path))
        return false;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, o->socket_path, strlen(o->socket_path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 || !connect_by(fd, &sa, deadline))
        goto out;
    while (sent < total) {
        if (!wait_for(fd, POLLOUT, deadline))
            goto out;
        ssize_t n = send(fd, request + sent, total - sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            goto out;
        sent += (size_t)n;
    }
    while (len + 1 < size) {
        if (!wait_for(fd, POLLIN, deadline))
            goto out;
        ssize_t n = recv(fd, reply + len, size - 1 - len, 0);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n <= 0)
            goto out;
        len += (size_t)n;
        reply[len] = '\0';
        char *lf = strchr(reply, '\n');
        if (lf != NULL) {
            *lf = '\0';
            ok = true;
            break;
        }
    }
out:
    if (fd >= 0)
        close(fd);
    return ok;
}

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    const char *user = NULL, *pass = NULL, *rhost = NULL;
    char request[REQUEST_MAX + 2], reply[300];
    struct options o;
    int r = PAM_AUTH_ERR; /* deny until kunci says OK */
    (void)flags;

    if ((r = parse_options(pamh, argc, argv, &o)) != PAM_SUCCESS)
        return r;
    r = PAM_AUTH_ERR;
    if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL || user[0] == '\0')
        return PAM_USER_UNKNOWN;
    if (pam_get_authtok(pamh, PAM_AUTHTOK, &pass, NULL) != PAM_SUCCESS || pass == NULL)
        return PAM_AUTH_ERR;
    if (pam_get_item(pamh, PAM_RHOST, (const void **)&rhost) != PAM_SUCCESS || rhost == NULL ||
        rhost[0] == '\0' || !plain(rhost))
        rhost = "-";
    if (!plain(user) || !plain(pass) || !plain(o.protocol))
        return PAM_AUTH_ERR;
    int n =
        snprintf(request, sizeof(request), "AUTH\t%s\t%s\t%s\t%s\n", o.protocol, rhost, user, pass);
    if (n < 0 || (size_t)n >= sizeof(request)) {
        memset(request, 0, sizeof(request));
        return PAM_AUTH_ERR;
    }
    if (!ask(&o, request, reply, sizeof(reply))) {
        pam_syslog(pamh, LOG_ERR, "kunci at %s did not answer: %s", o.socket_path,
                   errno ? strerror(errno) : "no reply");
        r = PAM_AUTHINFO_UNAVAIL;
    } else if (strncmp(reply, "OK\t", 3) == 0) {
        r = PAM_SUCCESS;
    } else if (strcmp(reply, "TEMPFAIL") == 0) {
        r = PAM_AUTHINFO_UNAVAIL;
    } else {
        r = PAM_AUTH_ERR;
    }
    /* The request held the password. */
    explicit_bzero(request, sizeof(request));
    return r;
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}
