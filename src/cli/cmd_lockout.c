/* kunci lockout list|clear: the guards' counts, visible and clearable by an administrator. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/events.h"
#include "core/guard.h"
#include "core/timespec.h"

static const char lockout_usage[] =
    "Usage: kunci lockout list [--json]\n"
    "       kunci lockout clear LOGIN|IP\n"
    "\n"
    "Failures counted against a login's password (kind password), an account's second-factor\n"
    "codes (code) and a client address (address), and the locks they caused. A login's lock\n"
    "after lockout_hard_limit failures lasts until it is cleared here (or in /admin).\n"
    "'clear' forgets a login's failures and locks (password and codes), or an address's\n"
    "(an IPv6 address clears its /64).\n";

struct listing {
    json_t *json;
    int64_t now;
    int rows;
};

static int print_row(void *arg, const struct kunci_lockout *l)
{
    struct listing *ls = arg;
    char until[32] = "", last[32];
    bool hard = l->locked_until == KUNCI_LOCKED_UNTIL_CLEARED;
    bool locked = hard || l->locked_until > ls->now;

    if (locked && !hard)
        kunci_time_format(l->locked_until, until, sizeof(until));
    kunci_time_format(l->last_at, last, sizeof(last));
    if (ls->json != NULL) {
        json_array_append_new(ls->json,
                              json_pack("{s:s, s:s, s:i, s:b, s:b, s:s?, s:s}", "kind", l->scope,
                                        "subject", l->label, "failures", l->failures, "locked",
                                        locked, "until_cleared", hard, "locked_until",
                                        locked && !hard ? until : NULL, "last_failure", last));
    } else {
        if (ls->rows == 0)
            printf("%-8s  %-40s  %8s  %-30s  %s\n", "KIND", "SUBJECT", "FAILURES", "LOCKED",
                   "LAST FAILURE");
        printf("%-8s  %-40s  %8d  %-30s  %s\n", l->scope, l->label, l->failures,
               hard     ? "until cleared"
               : locked ? until
                        : "no",
               last);
    }
    ls->rows++;
    return KUNCI_OK;
}

static int lockout_list(struct cli *cli, int argc, char **argv)
{
    struct listing ls = {NULL, (int64_t)time(NULL), 0};
    int c, r;

    while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1) {
        fputs(lockout_usage, c == 'h' ? stdout : stderr);
        return c == 'h' ? EXIT_OK : EXIT_USAGE;
    }
    if (argc != optind) {
        fputs(lockout_usage, stderr);
        return EXIT_USAGE;
    }
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    if (cli->json)
        ls.json = json_array();
    r = kunci_store_lockout_list(&cli->store, print_row, &ls);
    if (r != KUNCI_OK) {
        json_decref(ls.json);
        return cli_fail(r, "lockout list");
    }
    if (ls.json != NULL)
        cli_print_json(ls.json);
    else if (ls.rows == 0)
        printf("no failures counted\n");
    return EXIT_OK;
}

static int lockout_clear(struct cli *cli, int argc, char **argv)
{
    int c, r, count = 0;

    while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1) {
        fputs(lockout_usage, c == 'h' ? stdout : stderr);
        return c == 'h' ? EXIT_OK : EXIT_USAGE;
    }
    if (argc - optind != 1) {
        fputs(lockout_usage, stderr);
        return EXIT_USAGE;
    }
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    const char *subject = argv[optind];
    r = kunci_guard_clear(&cli->ctx, &cli->store, subject, &count);
    if (r == KUNCI_ERR_INVALID) {
        cli_error("'%s' is neither a login nor an IP address", subject);
        return EXIT_FAIL;
    }
    if (r != KUNCI_OK)
        return cli_fail(r, "lockout clear");
    struct kunci_account whose;
    if (kunci_account_get(&cli->store, subject, &whose) != KUNCI_OK) {
        memset(&whose, 0, sizeof(whose));
        kunci_event_set(whose.login, sizeof(whose.login), subject);
    }
    cli_event(cli, "lockout_cleared", &whose, NULL);
    if (cli->json)
        cli_print_json(json_pack("{s:s, s:i}", "subject", subject, "cleared", count));
    else
        printf("%s: %s\n", subject,
               count > 0 ? "failures and locks cleared" : "nothing was counted against it");
    return EXIT_OK;
}

int cmd_lockout(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {
        {"list", lockout_list, NULL}, {"clear", lockout_clear, NULL}, {NULL, NULL, NULL}};
    return cli_dispatch(cli, "lockout", cmds, argc, argv, lockout_usage);
}
