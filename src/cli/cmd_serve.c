#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "server/server.h"

static const char serve_usage[] =
    "Usage: kunci [--config FILE] serve\n"
    "\n"
    "Serves the auth listener ([serve] auth_listen, default 127.0.0.1:8081):\n"
    "  GET /auth/nginx   nginx mail auth_http (IMAP, POP3, SMTP)\n"
    "  GET /auth/basic   HTTP Basic for nginx auth_request, Traefik, Caddy\n"
    "  GET /healthz      200 when the database answers\n"
    "On SIGINT or SIGTERM it stops taking connections, answers the requests in flight\n"
    "(for at most 10 seconds) and exits. On SIGHUP it reads kunci.conf and its secret files\n"
    "again and applies what can change while serving: [log], [mail], [phone], [email],\n"
    "log_allowed, auth_key_file and the limits per address; the rest needs a restart (logged).\n"
    "See the README for kunci.conf.\n";

static int reread(void *arg, struct kunci_config *cfg_r, char *err, size_t err_size)
{
    return cli_read_config(arg, cfg_r, err, err_size);
}

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
    if ((r = cli_load_config(cli)) != EXIT_OK)
        return r;
    /* Held (shared) until the process ends: kunci restore waits for no serve to hold it.
     * Without it (a data directory that takes no new file), kunci restore cannot tell that
     * kunci serves: said, not refused; the store's own checks decide whether to serve. */
    if (cli_serve_lock(cli, false) < 0)
        fprintf(stderr,
                "kunci: %s/kunci.lock: %s (kunci restore will not know that kunci serves)\n",
                cli->cfg.data_dir, strerror(errno));
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    /* A lockout that cannot count is not a lockout: a database that refuses writes is a
     * misconfiguration to fix before serving, not something to find out at a guess. */
    if ((r = kunci_store_write_probe(&cli->store, (int64_t)time(NULL))) != KUNCI_OK) {
        cli_error("the database %s does not take writes (%s): kunci cannot count wrong "
                  "passwords there, so it does not serve. Check that the file and its "
                  "directory are writable by this user, and the disk has room.",
                  cli->cfg.store_location, kunci_strerror(r));
        return EXIT_FAIL;
    }
    /* Server threads open their own handles; this one only checked and migrated. */
    kunci_store_close(&cli->store);
    cli->store_ready = false;
    r = kunci_serve(&cli->ctx, reread, cli);
    return r == KUNCI_OK ? EXIT_OK : EXIT_FAIL;
}
