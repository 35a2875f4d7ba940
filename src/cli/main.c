#include "cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kunci_version.h"

static const char usage[] =
    "Usage: kunci [--data-dir DIR] [--config FILE] [--json] COMMAND ...\n"
    "\n"
    "kunci is the sign-in service of an organization: multi-factor authentication that the\n"
    "administrator requires per user, and app passwords for apps that cannot do it.\n"
    "\n"
    "Commands:\n"
    "  init                          create the data directory, database and key file\n"
    "  serve                         answer mail proxies and auth_request (see kunci.conf)\n"
    "  user add|list|show|passwd|disable|enable|delete\n"
    "  mfa set LOGIN... disabled|enabled|enforced | mfa reset-methods LOGIN...\n"
    "  sessions revoke LOGIN...      end every web session of the users\n"
    "  devices forget LOGIN...       ask the second factor again on every browser\n"
    "  app-password create|list|delete|delete-all\n"
    "  device profile LOGIN --kind apple|android|autoconfig --out FILE   set up a device\n"
    "  auth check LOGIN --protocol P [--client-ip IP]   (secret on standard input)\n"
    "  settings get [KEY] | settings set KEY VALUE\n"
    "  lockout list | lockout clear LOGIN|IP\n"
    "  audit list|export [--user L] [--since 7d] [--event E] ...   the activity record\n"
    "  checkpassword PROGRAM...      the checkpassword interface (Dovecot), over the socket\n"
    "  config show [--defaults]      the configuration in effect (or the built-in one)\n"
    "  backup FILE                   the database to one new file, while kunci serves\n"
    "  restore FILE                  a backup put back, with kunci stopped\n"
    "  key rotate|finish-rotation|status   a new master key without downtime\n"
    "\n"
    "Options:\n"
    "  --data-dir DIR   data directory (env KUNCI_DATA_DIR; default /var/lib/kunci)\n"
    "  --config FILE    configuration file (env KUNCI_CONFIG; default DIR/kunci.conf if present)\n"
    "  --json           print records as JSON\n"
    "  --version        print the version\n"
    "  --list-commands  print every command, one a line\n"
    "  --help           this text; 'kunci COMMAND --help' for a command\n"
    "\n"
    "Exit codes: 0 success, 1 refused or failed, 2 temporary failure (try again later),\n"
    "64 usage error.\n";

static const struct command families[] = {
    {"init", cmd_init, NULL},
    {"serve", cmd_serve, NULL},
    {"user", cmd_user, NULL},
    {"mfa", cmd_mfa, NULL},
    {"app-password", cmd_app_password, NULL},
    {"auth", cmd_auth, NULL},
    {"settings", cmd_settings, NULL},
    {"lockout", cmd_lockout, NULL},
    {"audit", cmd_audit, NULL},
    {"sessions", cmd_sessions, NULL},
    {"devices", cmd_devices, NULL},
    {"device", cmd_device, NULL},
    {"checkpassword", cmd_checkpassword, NULL},
    {"config", cmd_config, NULL},
    {"backup", cmd_backup, NULL},
    {"key", cmd_key, NULL},
    {"restore", cmd_restore, NULL},
    {NULL, NULL, NULL},
};

/* Every command, "family subcommand" one a line: for completion scripts, and for the test
 * that keeps kunci(1) whole. */
static int list_commands(struct cli *cli)
{
    /* The commands above that have no subcommands. */
    static const char *const single[] = {"init",   "serve",   "checkpassword",
                                         "backup", "restore", NULL};
    for (const struct command *f = families; f->name != NULL; f++) {
        bool leaf = false;
        for (int i = 0; single[i] != NULL; i++)
            leaf = leaf || strcmp(single[i], f->name) == 0;
        if (leaf) {
            printf("%s\n", f->name);
            continue;
        }
        char *argv[] = {(char *)f->name, "--list-commands", NULL};
        optind = 0;
        f->run(cli, 2, argv);
    }
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"version", no_argument, NULL, 'V'},
        {"list-commands", no_argument, NULL, 'L'},
        {NULL, 0, NULL, 0},
    };
    struct cli cli;
    int c, rc;

    memset(&cli, 0, sizeof(cli));
    setvbuf(stdout, NULL, _IOLBF, 0);
    umask(077); /* the database holds password hashes: owner only */
    for (;;) {
        c = cli_getopt(&cli, argc, argv, "+d:c:V", opts);
        if (c == -1)
            break;
        switch (c) {
        case 'd':
            cli.data_dir = optarg;
            break;
        case 'c':
            cli.config_path = optarg;
            break;
        case 'V':
            printf("kunci %s\n", KUNCI_VERSION);
            return EXIT_OK;
        case 'h':
            fputs(usage, stdout);
            return EXIT_OK;
        case 'L':
            return list_commands(&cli);
        default:
            fputs(usage, stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    argc -= optind - 1;
    argv += optind - 1;
    argv[0] = "kunci";
    rc = cli_dispatch(&cli, "", families, argc, argv, usage);
    cli_close(&cli);
    return rc;
}
