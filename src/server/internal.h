/* Shared by the server's files; nothing outside src/server includes this. */
#ifndef KUNCI_SERVER_INTERNAL_H
#define KUNCI_SERVER_INTERNAL_H

#include <microhttpd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/decision.h"
#include "core/guard.h"
#include "core/password.h"
#include "core/secret.h"

struct server;

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
/* Nothing queued or running. */
bool hash_pool_idle(struct hash_pool *pool);
/* Refuses new jobs (submit says KUNCI_ERR_LIMIT), answers the queued ones "try again later"
 * (their run gets no store handle) and waits for the running ones. The pool stays valid. */
void hash_pool_stop(struct hash_pool *pool);
/* Once no listener can reach it. */
void hash_pool_free(struct hash_pool *pool);

/* auth_socket.c: the local socket for pam_kunci. Its requests are decided on the hash
 * pool's workers. */
struct socket_listener;
int socket_listener_start(const struct kunci_ctx *ctx, struct hash_pool *pool,
                          struct socket_listener **l_r);
/* No new connections; those in flight go on. */
void socket_listener_quiesce(struct socket_listener *l);
/* Requests being read or decided. */
bool socket_listener_busy(struct socket_listener *l);
/* After the hash pool stopped: closes what is left and frees. */
void socket_listener_stop(struct socket_listener *l);

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

/* The store handle of the calling thread, opened on first use; NULL when unreachable. */
struct kunci_store_handle *thread_store(void);

enum request_phase { PHASE_NEW, PHASE_WAITING, PHASE_DECIDED };

/* Kept raw secrets just over the cap: anything longer is refused without being read. */
#define REQUEST_SECRET_MAX (KUNCI_PASSWORD_MAX + 1)
#define REQUEST_LOGIN_MAX  (KUNCI_LOGIN_MAX + 1)

struct request {
    const struct endpoint *endpoint;
    struct server *server;
    struct MHD_Connection *conn;
    enum request_phase phase;
    char login[REQUEST_LOGIN_MAX + 1];
    size_t login_len;
    char secret[REQUEST_SECRET_MAX + 1];
    size_t secret_len;
    char client_ip[KUNCI_IP_MAX + 1];
    unsigned protocol;
    struct kunci_auth_request req;
    struct kunci_auth_outcome out;
    struct hash_job job;
};

enum parse_result {
    PARSE_OK,       /* credentials read: decide */
    PARSE_REFUSE,   /* malformed credentials: refuse without deciding */
    PARSE_ANSWERED, /* the endpoint queued its own answer (400, 403) */
};

struct endpoint {
    const char *path;
    enum parse_result (*parse)(struct request *rq);
    /* Answers from rq->out.result (KUNCI_AUTH_WRONG_SECRET when the parse refused). */
    enum MHD_Result (*respond)(struct request *rq);
};

extern const struct endpoint endpoint_nginx;
extern const struct endpoint endpoint_basic;

/* Server facts the endpoints read. */
const char *server_backend_password(const struct server *srv);
const char *server_mail_backend(const struct server *srv, unsigned protocol, unsigned *port_r);
int server_auth_wait(const struct server *srv);
bool server_key_ok(const struct server *srv, struct MHD_Connection *conn);

/* http_util.c */
struct header {
    const char *name, *value;
};
enum MHD_Result respond(struct MHD_Connection *conn, unsigned status, const struct header *headers,
                        const char *body);
/* Shutting down: every answer from now on closes its connection. */
void http_set_draining(bool draining);
bool http_draining(void);
/* Copies a request header of at most max bytes; false when absent, too long or holding NUL. */
bool header_copy(struct MHD_Connection *conn, const char *name, char *out, size_t max,
                 size_t *len_r);
/* An address as text (IPv4-mapped IPv6 folded to IPv4); the connection's peer's. */
bool sockaddr_text(const struct sockaddr *sa, char *out, size_t size);
bool peer_address(struct MHD_Connection *conn, char *out, size_t size);
/* true when s may be echoed in a header: no CR, LF, NUL or other control bytes. */
bool header_safe(const char *s);
void log_decision(const struct request *rq, const char *via);
/* Fills a socket address from "IP:port"; adds MHD_USE_IPv6 to flags for IPv6. */
bool listen_address(const char *addr, struct sockaddr_storage *ss, uint16_t *port_r,
                    unsigned *flags);

#endif
