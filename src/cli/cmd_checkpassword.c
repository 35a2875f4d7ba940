/* kunci checkpassword: the checkpassword interface (qmail's, as Dovecot's passdb
 * checkpassword runs it) over the local socket, like pam_kunci. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/socket_client.h"
#include "core/types.h"

static const char checkpassword_usage[] =
    "Usage: kunci checkpassword [--protocol P] [--socket PATH] [--timeout MS] PROGRAM [ARG...]\n"
    "\n"
    "The checkpassword interface (Dovecot's passdb checkpassword, qmail): reads the login and\n"
    "the secret from file descriptor 3 (login NUL secret NUL ...), asks a running 'kunci\n"
    "serve' over its local socket, and on OK runs PROGRAM with USER set to the login as kunci\n"
    "knows it. The protocol is --protocol, or else Dovecot's SERVICE (imap, pop3; smtp and\n"
    "submission are smtp); the client address is TCPREMOTEIP.\n"
    "\n"
    "  --protocol P   imap, pop3, smtp, eas, dav or ews\n"
    "  --socket PATH  kunci's local socket (default " SOCKET_CLIENT_DEFAULT_PATH ")\n"
    "  --timeout MS   give up after this many milliseconds (default 10000): try again later\n"
    "\n"
    "Exit codes (checkpassword's): PROGRAM's on OK, 1 refused, 2 misused (no file descriptor\n"
    "3, no PROGRAM, unknown protocol), 111 temporary failure (kunci or its database\n"
    "unreachable: try again later).\n";

enum { CHECKPASSWORD_REFUSED = 1, CHECKPASSWORD_MISUSED = 2, CHECKPASSWORD_TEMPFAIL = 111 };

/* Dovecot's service names to kunci's protocols. */
static const char *protocol_of_service(const char *service)
{
    static const char *const map[][2] = {{"imap", "imap"},      {"pop3", "pop3"},
                                         {"smtp", "smtp"},      {"submission", "smtp"},
                                         {"managesieve", NULL}, {NULL, NULL}};
    for (int i = 0; map[i][0] != NULL; i++)
        if (service != NULL && strcmp(service, map[i][0]) == 0)
            return map[i][1];
    return NULL;
}

/* Reads fd 3 to its end: at most KUNCI_LOGIN_MAX + KUNCI_PASSWORD_MAX + a timestamp. */
static ssize_t read_fd3(char *buf, size_t size)
{
    size_t len = 0;
    for (;;) {
        ssize_t n = read(3, buf + len, size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            return (ssize_t)len;
        len += (size_t)n;
        if (len == size)
            return -2; /* more than any login and secret: refused */
    }
}

int cmd_checkpassword(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"protocol", required_argument, NULL, 'p'},
                                         {"socket", required_argument, NULL, 's'},
                                         {"timeout", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    const char *protocol = NULL, *socket_path = SOCKET_CLIENT_DEFAULT_PATH;
    int timeout_ms = SOCKET_CLIENT_DEFAULT_TIMEOUT, c;
    char buf[KUNCI_LOGIN_MAX + KUNCI_PASSWORD_MAX + 64];
    char canonical[SOCKET_CLIENT_LOGIN_MAX + 1];

    while ((c = cli_getopt(cli, argc, argv, "+", opts)) != -1) {
        char *end;
        if (c == 'p')
            protocol = optarg;
        else if (c == 's')
            socket_path = optarg;
        else if (c == 't') {
            long l = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || l < 1 || l > 600000) {
                cli_error("--timeout takes milliseconds from 1 to 600000, not '%s'", optarg);
                return CHECKPASSWORD_MISUSED;
            }
            timeout_ms = (int)l;
        } else {
            fputs(checkpassword_usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : CHECKPASSWORD_MISUSED;
        }
    }
    if (optind >= argc) {
        cli_error("checkpassword: no program to run on success (see --help)");
        return CHECKPASSWORD_MISUSED;
    }
    if (protocol == NULL && (protocol = protocol_of_service(getenv("SERVICE"))) == NULL) {
        cli_error("checkpassword: no --protocol, and SERVICE=%s is not imap, pop3, smtp or "
                  "submission",
                  getenv("SERVICE") != NULL ? getenv("SERVICE") : "(unset)");
        return CHECKPASSWORD_MISUSED;
    }
    if (strcmp(protocol, "imap") != 0 && strcmp(protocol, "pop3") != 0 &&
        strcmp(protocol, "smtp") != 0 && strcmp(protocol, "eas") != 0 &&
        strcmp(protocol, "dav") != 0 && strcmp(protocol, "ews") != 0) {
        cli_error("checkpassword: unknown protocol '%s': use imap, pop3, smtp, eas, dav or ews",
                  protocol);
        return CHECKPASSWORD_MISUSED;
    }
    ssize_t len = read_fd3(buf, sizeof(buf) - 1);
    if (len == -1) {
        cli_error("checkpassword: nothing to read on file descriptor 3: %s", strerror(errno));
        return CHECKPASSWORD_MISUSED;
    }
    int result = CHECKPASSWORD_REFUSED;
    const char *login = buf, *secret = NULL;
    if (len >= 0) {
        buf[len] = '\0';
        const char *nul = memchr(buf, '\0', (size_t)len);
        if (nul != NULL && nul + 1 < buf + len &&
            memchr(nul + 1, '\0', (size_t)(buf + len - nul - 1)))
            secret = nul + 1;
    }
    if (secret == NULL || login[0] == '\0' || secret[0] == '\0') {
        /* Dovecot's userdb lookups (AUTHORIZED=1) come without a secret: kunci is a passdb. */
        cli_error("checkpassword: expected login NUL secret NUL on file descriptor 3%s",
                  getenv("AUTHORIZED") != NULL ? " (kunci is a passdb only: use another userdb)"
                                               : "");
    } else {
        errno = 0;
        switch (socket_client_ask(socket_path, timeout_ms, protocol, getenv("TCPREMOTEIP"), login,
                                  secret, canonical)) {
        case SOCKET_ANSWER_OK:
            result = EXIT_OK;
            break;
        case SOCKET_ANSWER_FAIL:
            break;
        case SOCKET_ANSWER_TEMPFAIL:
            result = CHECKPASSWORD_TEMPFAIL;
            break;
        case SOCKET_ANSWER_UNREACHABLE:
            if (errno != 0 && errno != EAGAIN && errno != EINTR)
                cli_error("checkpassword: cannot ask kunci at %s: %s", socket_path,
                          strerror(errno));
            else
                cli_error("checkpassword: kunci at %s did not answer within %d ms", socket_path,
                          timeout_ms);
            result = CHECKPASSWORD_TEMPFAIL;
            break;
        }
    }
    explicit_bzero(buf, sizeof(buf));
    if (result != EXIT_OK)
        return result;
    if (setenv("USER", canonical, 1) != 0)
        return CHECKPASSWORD_TEMPFAIL;
    execvp(argv[optind], argv + optind);
    cli_error("checkpassword: cannot run %s: %s", argv[optind], strerror(errno));
    return CHECKPASSWORD_TEMPFAIL;
}
