#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/err.h"
#include "core/keys.h"

static const char init_usage[] =
    "Usage: kunci init\n"
    "\n"
    "Creates the data directory (mode 0700), the key file kunci.key (mode 0600, random; the\n"
    "app-password pepper and the encryption key are derived from it) and the database, and\n"
    "brings the database schema up to date. Running it again changes nothing that exists.\n"
    "Keep the key file out of database backups: without it a copied database reveals nothing.\n";

static int make_dir(const char *path)
{
    char buf[PATH_MAX];

    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int cmd_init(struct cli *cli, int argc, char **argv)
{
    int c, r;

    while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1) {
        if (c == 'h') {
            fputs(init_usage, stdout);
            return EXIT_OK;
        }
        fputs(init_usage, stderr);
        return EXIT_USAGE;
    }
    if ((r = cli_load_config(cli)) != EXIT_OK)
        return r;
    if (make_dir(cli->cfg.data_dir) != 0) {
        cli_error("cannot create data directory %s: %s", cli->cfg.data_dir, strerror(errno));
        return EXIT_FAIL;
    }
    r = kunci_keys_create(cli->cfg.key_file);
    if (r == KUNCI_OK) {
        printf("created key file %s\n", cli->cfg.key_file);
    } else if (r == KUNCI_ERR_EXISTS) {
        printf("key file %s exists, kept\n", cli->cfg.key_file);
    } else {
        cli_error("cannot create key file %s: %s", cli->cfg.key_file, kunci_strerror(r));
        return EXIT_FAIL;
    }
    cli->create_store = true;
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    printf("database %s ready (%s)\n", cli->cfg.store_location, cli->cfg.store_backend);
    return EXIT_OK;
}
