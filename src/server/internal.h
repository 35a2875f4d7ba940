/* Shared by the server's files (the auth listener, the socket, the hash pool, start and
 * stop); nothing outside src/server includes this. */
#ifndef KUNCI_SERVER_INTERNAL_H
#define KUNCI_SERVER_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "listen/listen.h"

#include "core/decision.h"
#include "core/guard.h"
#include "core/password.h"
#include "core/secret.h"

struct server;

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
    int64_t started_us; /* when the request arrived (kunci_log_now_us) */
    const char *reason; /* for the log: what else is known of why */
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

/* What the endpoints answer from, read from kunci.conf and its secret files at start and at
 * each SIGHUP. A request reads the snapshot once (server_settings) and answers from it. */
struct server_settings {
    struct {
        char host[KUNCI_ADDR_MAX];
        unsigned port;
    } mail[3];              /* imap, pop3, smtp */
    char *backend_password; /* sodium_malloc'd, or NULL */
    uint8_t auth_key_hash[32];
    bool auth_key_required;
    int auth_wait;
    uint64_t replies_epoch; /* names the settings kept answers were made under */
};
const struct server_settings *server_settings(const struct server *srv);
const char *server_mail_backend(const struct server_settings *s, unsigned protocol,
                                unsigned *port_r);
bool server_key_ok(const struct server *srv, struct MHD_Connection *conn);

/* Logs one decision of the auth listener (never the secret). */
void server_log_decision(const struct request *rq, const char *via);

#endif
