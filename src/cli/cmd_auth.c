#include "cli/cli.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/decision.h"
#include "core/err.h"
#include "core/netmask.h"
#include "core/protocol.h"

static const char auth_usage[] =
    "Usage: kunci auth check LOGIN --protocol imap|pop3|smtp|eas|dav|ews [--client-ip IP]\n"
    "\n"
    "Reads the secret (a password or an app password) from standard input and prints the\n"
    "decision kunci would give a mail server. Exit code 0 allowed, 1 refused, 2 temporary\n"
    "failure (try again later).\n";

static int auth_check(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"protocol", required_argument, NULL, 'p'},
                                         {"client-ip", required_argument, NULL, 'i'},
                                         {NULL, 0, NULL, 0}};
    struct kunci_auth_request req;
    struct kunci_auth_outcome out;
    struct kunci_ip ip;
    char secret[KUNCI_PASSWORD_MAX + 2];
    const char *protocol = NULL, *client_ip = NULL;
    size_t len;
    int c, r;

    while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
        if (c == 'p')
            protocol = optarg;
        else if (c == 'i')
            client_ip = optarg;
        else {
            fputs(auth_usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (argc - optind != 1 || protocol == NULL) {
        fputs(auth_usage, stderr);
        return EXIT_USAGE;
    }
    memset(&req, 0, sizeof(req));
    req.protocol = kunci_protocol_parse(protocol);
    if (req.protocol == 0) {
        cli_error("unknown protocol '%s': use imap, pop3, smtp, eas, dav or ews", protocol);
        return EXIT_USAGE;
    }
    if (client_ip != NULL && kunci_ip_parse(client_ip, &ip) != KUNCI_OK) {
        cli_error("--client-ip takes an IPv4 or IPv6 address, not '%s'", client_ip);
        return EXIT_USAGE;
    }
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    if (cli_read_stdin_secret(secret, sizeof(secret), &len) != KUNCI_OK)
        len = sizeof(secret); /* over the cap: refused, at the cost of a normal check */
    req.login = argv[optind];
    req.login_len = strlen(argv[optind]);
    req.secret = secret;
    req.secret_len = len;
    req.client_ip = client_ip;
    req.now = (int64_t)time(NULL);
    enum kunci_auth_result result = kunci_auth_check(&cli->ctx, &cli->store, &req, &out);
    sodium_memzero(secret, sizeof(secret));
    if (cli->json) {
        json_t *j = json_pack("{s:s, s:b, s:s, s:s}", "result", kunci_auth_result_name(result),
                              "allowed", result == KUNCI_AUTH_ALLOWED, "login", out.login,
                              "protocol", kunci_protocol_name(req.protocol));
        json_object_set_new(j, "app_password_id",
                            out.app_password_id ? json_integer(out.app_password_id) : json_null());
        cli_print_json(j);
    } else {
        printf("%s\n", kunci_auth_result_name(result));
    }
    if (result == KUNCI_AUTH_ALLOWED)
        return EXIT_OK;
    return result == KUNCI_AUTH_TEMPFAIL ? EXIT_TEMPFAIL : EXIT_FAIL;
}

int cmd_auth(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {{"check", auth_check, NULL}, {NULL, NULL, NULL}};
    return cli_dispatch(cli, "auth", cmds, argc, argv, auth_usage);
}
