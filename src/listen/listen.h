/* What every listener shares (the auth listener, the web, the socket): listening
 * addresses, HTTP replies, the guards on connections, and a store handle per thread. */
#ifndef KUNCI_LISTEN_H
#define KUNCI_LISTEN_H

#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/context.h"
#include "core/guard.h"
#include "core/store.h"

/* thread_store.c: the store handle of the calling thread, opened on first use with the
 * context given to listen_thread_store_init (one per process); NULL when unreachable. */
int listen_thread_store_init(const struct kunci_ctx *ctx);
struct kunci_store_handle *listen_thread_store(void);

/* hash_pool.c: Argon2id (and whatever else must not hold a listener's threads) on a fixed
 * set of niced workers, fed by a bounded queue shared fairly per client address. */
/* One background job: Argon2id for one request, on a hash worker. */
struct hash_job {
    void (*run)(struct hash_job *job, struct kunci_store_handle *h);
    struct hash_job *next;
    char address[KUNCI_ADDRESS_KEY_MAX]; /* whose it is: the client's address key, or "" */
};

struct hash_pool;
/* per_address: how many jobs of one address may wait or run at once. */
int hash_pool_start(struct hash_pool **pool_r, int workers, int queue_max, int per_address);
/* KUNCI_ERR_LIMIT when the queue is full, or holds the address's share already: the caller
 * answers "try again later". */
int hash_pool_submit(struct hash_pool *pool, struct hash_job *job);
/* A new share per address (SIGHUP), for the jobs submitted from now on. */
void hash_pool_set_per_address(struct hash_pool *pool, int per_address);
/* Jobs queued or running. */
int hash_pool_depth(struct hash_pool *pool);
/* Nothing queued or running. */
bool hash_pool_idle(struct hash_pool *pool);
/* Refuses new jobs (submit says KUNCI_ERR_LIMIT), answers the queued ones "try again later"
 * (their run gets no store handle) and waits for the running ones. The pool stays valid. */
void hash_pool_stop(struct hash_pool *pool);
/* Once no listener can reach it. */
void hash_pool_free(struct hash_pool *pool);

/* conn_guard.c: connection limits, a cap per address, a deadline for each request's line
 * and headers, and a rate-limited log, for one libmicrohttpd listener. */
/* Seconds a connection may stay idle before libmicrohttpd closes it. */
#define AUTH_IDLE_SECONDS 15
#define WEB_IDLE_SECONDS  30

struct conn_guard;
struct conn_guard_options {
    const char *name; /* "auth", "web": in its log lines */
    unsigned limit;   /* connections at once */
    unsigned per_address;
    unsigned header_seconds;
    unsigned keepalive_seconds; /* how long a kept-alive connection may wait, idle, first */
    const char *exempt;         /* canonical CIDR list without the per-address cap, or NULL */
};
int conn_guard_new(const struct conn_guard_options *opt, struct conn_guard **g_r);
void conn_guard_free(struct conn_guard *g);
/* No new connections from now on (shutting down). */
void conn_guard_stop_accepting(struct conn_guard *g);
unsigned conn_guard_count(struct conn_guard *g);
/* Connections it holds at most (its options' limit). */
unsigned conn_guard_limit(struct conn_guard *g);
/* New limits per address and for a request's headers (SIGHUP), for what comes next. */
void conn_guard_set_limits(struct conn_guard *g, unsigned per_address, unsigned header_seconds);
/* Connections with a request in progress (headers in, not yet answered). */
unsigned conn_guard_busy(struct conn_guard *g);
/* The hooks, with the guard as their closure: MHD's accept policy, NOTIFY_CONNECTION and
 * EXTERNAL_LOGGER; and the listener's own calls when a request's headers are in and when
 * it is answered. */
enum MHD_Result conn_guard_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen);
void conn_guard_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                       enum MHD_ConnectionNotificationCode toe);
void conn_guard_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void conn_guard_request_started(struct conn_guard *g, struct MHD_Connection *conn);
void conn_guard_request_done(struct conn_guard *g, struct MHD_Connection *conn);
/* Raises the file limit as far as allowed and says how many connections each of
 * `listeners` may hold. */
void conn_guard_limits(int listeners, unsigned *limit_r);

/* http.c: replies and the facts of a connection. */
struct http_header {
    const char *name, *value;
};
enum MHD_Result http_respond(struct MHD_Connection *conn, unsigned status,
                             const struct http_header *headers, const char *body);
/* The same with a body made for this answer (malloc'ed): freed once it is sent. */
enum MHD_Result http_respond_owned(struct MHD_Connection *conn, unsigned status,
                                   const struct http_header *headers, char *body);
/* An answer without a body that may be queued on many connections (listen/kept_replies.h);
 * the caller owns the reference. It never says Connection: close: not for use while
 * draining. NULL when out of memory. */
struct MHD_Response *http_response_new(const struct http_header *headers);
/* Shutting down: every answer from now on closes its connection. */
void http_set_draining(bool draining);
bool http_draining(void);
/* Copies a request header of at most max bytes; false when absent, too long or holding NUL. */
bool http_header_copy(struct MHD_Connection *conn, const char *name, char *out, size_t max,
                      size_t *len_r);
/* An address as text (IPv4-mapped IPv6 folded to IPv4); the connection's peer's. */
bool http_sockaddr_text(const struct sockaddr *sa, char *out, size_t size);
bool http_peer_address(struct MHD_Connection *conn, char *out, size_t size);
/* true when s may be echoed in a header: no CR, LF, NUL or other control bytes. */
bool http_header_safe(const char *s);
/* Fills a socket address from "IP:port"; adds MHD_USE_IPv6 to flags for IPv6. */
bool http_listen_address(const char *addr, struct sockaddr_storage *ss, uint16_t *port_r,
                         unsigned *flags);

#endif
