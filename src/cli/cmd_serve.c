#include "cli/cli.h"

#include <stdio.h>

#include "core/err.h"
#include "server/server.h"

static const char serve_usage[] =
    "Usage: kunci [--config FILE] serve\n"
    "\n"
    "Serves the auth listener ([serve] auth_listen, default 127.0.0.1:8081):\n"
    "  GET /auth/nginx   nginx mail auth_http (IMAP, POP3, SMTP)\n"
    "  GET /auth/basic   HTTP Basic for nginx auth_request, Traefik, Caddy\n"
    "  GET /healthz      200 when the database answers\n"
    "Stops on SIGINT or SIGTERM. See the README for kunci.conf.\n";

int cmd_serve(struct cli *cli, int argc, char **argv)
{
    int c, r;

    while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1) {
        if (c == 'h') {
            fputs(serve_usage, stdout);
            return EXIT_OK;
        }
        fputs(serve_usage, stderr);
        return EXIT_USAGE;
    }
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    /* Server threads open their own handles; this one only checked and migrated. */
    kunci_store_close(&cli->store);
    cli->store_ready = false;
    r = kunci_serve(&cli->ctx);
    return r == KUNCI_OK ? EXIT_OK : EXIT_FAIL;
}
