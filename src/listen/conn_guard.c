/* What keeps slow or greedy clients from taking a listener: a connection limit below the
 * process's file limit, a cap per client address, a deadline for each request's line and
 * headers (a connection that dribbles them is shut down, however slowly it sends), and a
 * log that says so without flooding. One guard per listener, hooked into libmicrohttpd. */
#include "listen/listen.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/err.h"
#include "core/netmask.h"

#define LOG_WINDOW_SECONDS   10
#define LOG_LINES_PER_WINDOW 5

/* One connection. Its own thread writes started_ms and in_request without the guard's lock
 * (atomics: two of them per request, on the hot path); the list and `shut` are the lock's. */
struct guarded_conn {
    struct guarded_conn *prev, *next;
    int fd;
    _Atomic int64_t started_ms; /* when its current request began */
    atomic_bool in_request;     /* its headers are in: the deadline no longer applies */
    bool shut;
    /* Not a connection yet: a place an accepted address holds until libmicrohttpd says the
     * connection started (0 once it did). The thread pool's threads accept at once, so the
     * cap is checked and the place taken in one step; a place never taken expires. */
    int64_t reserved_ms;
    char address[KUNCI_IP_MAX + 1];
};

#define RESERVATION_MS 2000

struct conn_guard {
    struct conn_guard_options opt;
    pthread_mutex_t lock;
    struct guarded_conn *head;
    unsigned count;
    /* the rate-limited log */
    int64_t log_window;
    int log_lines, log_dropped;
    /* the sweeper */
    pthread_t sweeper;
    pthread_cond_t stop_cond;
    bool stopping, sweeping;
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* At most LOG_LINES_PER_WINDOW lines per window, then one line saying how many were not
 * written: a flood of refused connections must not become a flood of log. */
static void guard_log(struct conn_guard *g, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void guard_log(struct conn_guard *g, const char *fmt, va_list ap)
{
    char line[512];
    int64_t window = now_ms() / (LOG_WINDOW_SECONDS * 1000);

    char event[32];
    vsnprintf(line, sizeof(line), fmt, ap);
    line[strcspn(line, "\n")] = '\0';
    snprintf(event, sizeof(event), "%s.connections", g->opt.name);
    pthread_mutex_lock(&g->lock);
    if (window != g->log_window) {
        if (g->log_dropped > 0)
            kunci_log(event, "%d more messages in the last %d s were not logged", g->log_dropped,
                      LOG_WINDOW_SECONDS);
        g->log_window = window;
        g->log_lines = 0;
        g->log_dropped = 0;
    }
    if (g->log_lines++ < LOG_LINES_PER_WINDOW)
        kunci_log(event, "%s", line);
    else
        g->log_dropped++;
    pthread_mutex_unlock(&g->lock);
}

void conn_guard_mhd_log(void *cls, const char *fmt, va_list ap)
{
    guard_log(cls, fmt, ap);
}

static void conn_guard_say(struct conn_guard *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void conn_guard_say(struct conn_guard *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    guard_log(g, fmt, ap);
    va_end(ap);
}

static bool exempt(const struct conn_guard *g, const char *address)
{
    struct kunci_ip ip;
    return g->opt.exempt != NULL && g->opt.exempt[0] != '\0' &&
           kunci_ip_parse(address, &ip) == KUNCI_OK && kunci_networks_allow(g->opt.exempt, &ip);
}

static void unlink_conn(struct conn_guard *g, struct guarded_conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        g->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    g->count--;
}

static void link_conn(struct conn_guard *g, struct guarded_conn *c)
{
    c->prev = NULL;
    c->next = g->head;
    if (g->head != NULL)
        g->head->prev = c;
    g->head = c;
    g->count++;
}

/* Connections (and places held) of one address; lock held. Only counted when the total
 * could exceed the cap; places that were never taken are dropped on the way. */
static unsigned address_count(struct conn_guard *g, const char *address, int64_t now)
{
    unsigned n = 0;
    if (g->count < g->opt.per_address)
        return 0;
    for (struct guarded_conn *c = g->head, *next; c != NULL; c = next) {
        next = c->next;
        if (c->reserved_ms != 0 && now - c->reserved_ms > RESERVATION_MS) {
            unlink_conn(g, c);
            free(c);
            continue;
        }
        n += strcmp(c->address, address) == 0;
    }
    return n;
}

enum MHD_Result conn_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    struct conn_guard *g = cls;
    char address[KUNCI_IP_MAX + 1];
    bool ok;
    (void)addrlen;

    if (!http_sockaddr_text(addr, address, sizeof(address)))
        return MHD_YES;
    struct guarded_conn *place = calloc(1, sizeof(*place));
    if (place == NULL)
        return MHD_NO;
    place->fd = -1;
    place->reserved_ms = now_ms();
    snprintf(place->address, sizeof(place->address), "%s", address);
    pthread_mutex_lock(&g->lock);
    ok = g->stopping == false &&
         (exempt(g, address) || address_count(g, address, place->reserved_ms) < g->opt.per_address);
    if (ok)
        link_conn(g, place);
    unsigned per_address = g->opt.per_address; /* SIGHUP may change it */
    pthread_mutex_unlock(&g->lock);
    if (!ok)
        free(place);
    if (!ok)
        conn_guard_say(g,
                       "refused a connection from %s: it holds %u already "
                       "(max_connections_per_address)",
                       address, per_address);
    return ok ? MHD_YES : MHD_NO;
}

void conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe)
{
    struct conn_guard *g = cls;
    struct guarded_conn *c = *socket_context;

    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *fd =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ad =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        char address[KUNCI_IP_MAX + 1] = "";
        http_sockaddr_text(ad != NULL ? ad->client_addr : NULL, address, sizeof(address));
        /* The place its address took when it was accepted, else a new entry. */
        pthread_mutex_lock(&g->lock);
        for (c = g->head; c != NULL; c = c->next)
            if (c->reserved_ms != 0 && strcmp(c->address, address) == 0)
                break;
        if (c == NULL && (c = calloc(1, sizeof(*c))) != NULL) {
            snprintf(c->address, sizeof(c->address), "%s", address);
            link_conn(g, c);
        }
        if (c != NULL) {
            c->reserved_ms = 0;
            c->fd = fd != NULL ? fd->connect_fd : -1;
            atomic_store(&c->started_ms, now_ms());
        }
        pthread_mutex_unlock(&g->lock);
        *socket_context = c; /* NULL: unguarded but served; the MHD limits still hold */
        return;
    }
    if (c == NULL)
        return;
    /* MHD closes the socket only after this returns: the sweeper, under the same lock,
     * never shuts down a descriptor that was closed and reused. */
    pthread_mutex_lock(&g->lock);
    unlink_conn(g, c);
    pthread_mutex_unlock(&g->lock);
    free(c);
    *socket_context = NULL;
}

static struct guarded_conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci != NULL ? ci->socket_context : NULL;
}

void conn_guard_request_started(struct conn_guard *g, struct MHD_Connection *conn)
{
    struct guarded_conn *c = conn_of(conn);
    (void)g;
    if (c != NULL)
        atomic_store(&c->in_request, true);
}

void conn_guard_request_done(struct conn_guard *g, struct MHD_Connection *conn)
{
    struct guarded_conn *c = conn_of(conn);
    if (c == NULL)
        return;
    /* The next request on this connection gets its own deadline, after the idle time a
     * kept-alive connection may take before it starts one (libmicrohttpd's own timeout
     * ends it when nothing at all comes). */
    atomic_store(&c->started_ms, now_ms() + (int64_t)g->opt.keepalive_seconds * 1000);
    atomic_store(&c->in_request, false);
}

unsigned conn_guard_limit(struct conn_guard *g)
{
    return g->opt.limit;
}

void conn_guard_set_limits(struct conn_guard *g, unsigned per_address, unsigned header_seconds)
{
    pthread_mutex_lock(&g->lock);
    g->opt.per_address = per_address;
    g->opt.header_seconds = header_seconds;
    pthread_mutex_unlock(&g->lock);
}

unsigned conn_guard_count(struct conn_guard *g)
{
    pthread_mutex_lock(&g->lock);
    unsigned n = g->count;
    pthread_mutex_unlock(&g->lock);
    return n;
}

unsigned conn_guard_busy(struct conn_guard *g)
{
    unsigned n = 0;
    pthread_mutex_lock(&g->lock);
    for (const struct guarded_conn *c = g->head; c != NULL; c = c->next)
        n += atomic_load(&c->in_request);
    pthread_mutex_unlock(&g->lock);
    return n;
}

static void *sweeper_main(void *arg)
{
    struct conn_guard *g = arg;
    struct timespec until;

    pthread_mutex_lock(&g->lock);
    while (!g->stopping) {
        int64_t now = now_ms(), limit = (int64_t)g->opt.header_seconds * 1000;
        unsigned shut = 0;
        for (struct guarded_conn *c = g->head; c != NULL; c = c->next) {
            if (atomic_load(&c->in_request) || c->shut || c->fd < 0 ||
                now - atomic_load(&c->started_ms) < limit)
                continue;
            /* MHD sees the end of the stream and closes the connection itself. */
            (void)shutdown(c->fd, SHUT_RDWR);
            c->shut = true;
            shut++;
        }
        if (shut > 0) {
            unsigned seconds = g->opt.header_seconds;
            pthread_mutex_unlock(&g->lock);
            conn_guard_say(g, "closed %u connections that did not send a request within %u s", shut,
                           seconds);
            pthread_mutex_lock(&g->lock);
        }
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 250 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&g->stop_cond, &g->lock, &until);
    }
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

int conn_guard_new(const struct conn_guard_options *opt, struct conn_guard **g_r)
{
    struct conn_guard *g = calloc(1, sizeof(*g));

    *g_r = NULL;
    if (g == NULL)
        return KUNCI_ERR_NOMEM;
    g->opt = *opt;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->stop_cond, NULL);
    if (pthread_create(&g->sweeper, NULL, sweeper_main, g) != 0) {
        pthread_cond_destroy(&g->stop_cond);
        pthread_mutex_destroy(&g->lock);
        free(g);
        return KUNCI_ERR_INTERNAL;
    }
    g->sweeping = true;
    *g_r = g;
    return KUNCI_OK;
}

void conn_guard_stop_accepting(struct conn_guard *g)
{
    if (g == NULL)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = true;
    pthread_cond_broadcast(&g->stop_cond);
    pthread_mutex_unlock(&g->lock);
}

/* After the listener stopped: every connection is gone. */
void conn_guard_free(struct conn_guard *g)
{
    if (g == NULL)
        return;
    conn_guard_stop_accepting(g);
    if (g->sweeping)
        pthread_join(g->sweeper, NULL);
    /* Places accepted addresses held for connections that never started. */
    while (g->head != NULL) {
        struct guarded_conn *c = g->head;
        unlink_conn(g, c);
        free(c);
    }
    pthread_cond_destroy(&g->stop_cond);
    pthread_mutex_destroy(&g->lock);
    free(g);
}

void conn_guard_limits(int listeners, unsigned *limit_r)
{
    struct rlimit rl;
    rlim_t want = 65536;

    /* Use the file limit the system allows (systemd's LimitNOFILE, or the hard limit). */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur < rl.rlim_max && rl.rlim_cur < want) {
            rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
            (void)setrlimit(RLIMIT_NOFILE, &rl);
            (void)getrlimit(RLIMIT_NOFILE, &rl);
        }
    } else {
        rl.rlim_cur = 1024;
    }
    /* What is left after the database, logs, the socket listener and its clients, shared
     * by the listeners, and never more than an HTTP listener needs. */
    rlim_t spare = rl.rlim_cur > 256 ? rl.rlim_cur - 256 : rl.rlim_cur / 2;
    rlim_t each = spare / (rlim_t)listeners;
    *limit_r = (unsigned)(each > 8192 ? 8192 : each < 16 ? 16 : each);
}
