#include "client/socket_client.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_MAX 1024

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
 * "unavailable" after the timeout, never a hung login. */
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

/* Sends the request and reads the one-line answer into reply, all before the deadline. */
static bool exchange(const char *socket_path, int64_t deadline, const char *request, char *reply,
                     size_t size)
{
    struct sockaddr_un sa;
    size_t len = 0, sent = 0, total = strlen(request);
    bool ok = false;

    if (strlen(socket_path) >= sizeof(sa.sun_path))
        return false;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, socket_path, strlen(socket_path) + 1);
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

enum socket_answer socket_client_ask(const char *socket_path, int timeout_ms, const char *protocol,
                                     const char *client_ip, const char *login, const char *secret,
                                     char canonical[SOCKET_CLIENT_LOGIN_MAX + 1])
{
    char request[REQUEST_MAX + 2], reply[300];
    enum socket_answer answer = SOCKET_ANSWER_FAIL;

    if (client_ip == NULL || client_ip[0] == '\0' || !plain(client_ip))
        client_ip = "-";
    if (!plain(login) || !plain(secret) || !plain(protocol))
        return SOCKET_ANSWER_FAIL;
    int n = snprintf(request, sizeof(request), "AUTH\t%s\t%s\t%s\t%s\n", protocol, client_ip, login,
                     secret);
    if (n < 0 || (size_t)n >= sizeof(request))
        answer = SOCKET_ANSWER_FAIL;
    else if (!exchange(socket_path, now_ms() + timeout_ms, request, reply, sizeof(reply)))
        answer = SOCKET_ANSWER_UNREACHABLE;
    else if (strncmp(reply, "OK\t", 3) == 0 && strlen(reply + 3) <= SOCKET_CLIENT_LOGIN_MAX) {
        answer = SOCKET_ANSWER_OK;
        if (canonical != NULL)
            memcpy(canonical, reply + 3, strlen(reply + 3) + 1);
    } else if (strcmp(reply, "TEMPFAIL") == 0)
        answer = SOCKET_ANSWER_TEMPFAIL;
    /* The request held the secret. */
    explicit_bzero(request, sizeof(request));
    return answer;
}
