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
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "client/socket_client.h"

struct options {
    const char *socket_path;
    const char *protocol;
    int timeout_ms;
};

static int parse_options(pam_handle_t *pamh, int argc, const char **argv, struct options *o)
{
    o->socket_path = SOCKET_CLIENT_DEFAULT_PATH;
    o->protocol = NULL;
    o->timeout_ms = SOCKET_CLIENT_DEFAULT_TIMEOUT;
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

PAM_EXTERN int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    const char *user = NULL, *pass = NULL, *rhost = NULL;
    struct options o;
    int r;
    (void)flags;

    if ((r = parse_options(pamh, argc, argv, &o)) != PAM_SUCCESS)
        return r;
    if (pam_get_user(pamh, &user, NULL) != PAM_SUCCESS || user == NULL || user[0] == '\0')
        return PAM_USER_UNKNOWN;
    if (pam_get_authtok(pamh, PAM_AUTHTOK, &pass, NULL) != PAM_SUCCESS || pass == NULL)
        return PAM_AUTH_ERR;
    if (pam_get_item(pamh, PAM_RHOST, (const void **)&rhost) != PAM_SUCCESS)
        rhost = NULL;
    errno = 0;
    switch (socket_client_ask(o.socket_path, o.timeout_ms, o.protocol, rhost, user, pass, NULL)) {
    case SOCKET_ANSWER_OK:
        return PAM_SUCCESS;
    case SOCKET_ANSWER_TEMPFAIL:
        return PAM_AUTHINFO_UNAVAIL;
    case SOCKET_ANSWER_UNREACHABLE:
        pam_syslog(pamh, LOG_ERR, "kunci at %s did not answer: %s", o.socket_path,
                   errno ? strerror(errno) : "no reply");
        return PAM_AUTHINFO_UNAVAIL;
    case SOCKET_ANSWER_FAIL:
        break;
    }
    return PAM_AUTH_ERR; /* deny unless kunci said OK */
}

PAM_EXTERN int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
    (void)pamh;
    (void)flags;
    (void)argc;
    (void)argv;
    return PAM_SUCCESS;
}
