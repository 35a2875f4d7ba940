/* The local socket's client (docs/socket.md): pam_kunci and `kunci checkpassword` ask
 * `kunci serve` with it. Plain libc, no state: it links into a PAM module as it is. */
#ifndef KUNCI_SOCKET_CLIENT_H
#define KUNCI_SOCKET_CLIENT_H

#include <stdbool.h>

#define SOCKET_CLIENT_DEFAULT_PATH    "/run/kunci/auth.sock"
#define SOCKET_CLIENT_DEFAULT_TIMEOUT 10000 /* milliseconds */

enum socket_answer {
    SOCKET_ANSWER_OK,          /* allowed */
    SOCKET_ANSWER_FAIL,        /* refused, or the request could not be made (tabs, too long) */
    SOCKET_ANSWER_TEMPFAIL,    /* kunci said try again later */
    SOCKET_ANSWER_UNREACHABLE, /* no answer within the timeout: try again later */
};

/* Asks whether login may pass with secret for protocol (imap, pop3, smtp, eas, dav, ews),
 * from client_ip (NULL or "" when unknown), within timeout_ms. On OK, the login as kunci
 * knows it (lower case) is copied to canonical (may be NULL). Every buffer that held the
 * secret is wiped. */
#define SOCKET_CLIENT_LOGIN_MAX 254
enum socket_answer socket_client_ask(const char *socket_path, int timeout_ms, const char *protocol,
                                     const char *client_ip, const char *login, const char *secret,
                                     char canonical[SOCKET_CLIENT_LOGIN_MAX + 1]);

#endif
