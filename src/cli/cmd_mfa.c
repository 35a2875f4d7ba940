#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"

static const char mfa_usage[] =
    "Usage: kunci mfa set LOGIN disabled|enabled|enforced\n"
    "\n"
    "  disabled   password only; app passwords are not available\n"
    "  enabled    MFA required, not yet registered: the user is asked to set it up at the\n"
    "             next web sign-in; the password still works on mail protocols until then\n"
    "  enforced   registered: the password alone is refused on mail protocols; use app\n"
    "             passwords there\n";

static int mfa_set(struct cli *cli, int argc, char **argv)
{
    struct kunci_account a;
    enum kunci_mfa_state state;
    int c, r;

    while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1) {
        fputs(mfa_usage, c == 'h' ? stdout : stderr);
        return c == 'h' ? EXIT_OK : EXIT_USAGE;
    }
    if (argc - optind != 2) {
        fputs(mfa_usage, stderr);
        return EXIT_USAGE;
    }
    if (kunci_mfa_state_parse(argv[optind + 1], &state) != KUNCI_OK) {
        cli_error("unknown MFA state '%s': use disabled, enabled or enforced", argv[optind + 1]);
        return EXIT_USAGE;
    }
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    if ((r = cli_account(cli, argv[optind], &a)) != EXIT_OK)
        return r;
    enum kunci_mfa_state before = a.mfa_state;
    a.mfa_state = state;
    if ((r = kunci_account_save(&cli->store, &a)) != KUNCI_OK)
        return cli_fail(r, a.login);
    if (before != state) {
        char detail[64];
        snprintf(detail, sizeof(detail), "%s -> %s", kunci_mfa_state_name(before),
                 kunci_mfa_state_name(state));
        cli_event(cli, "mfa_state_changed", &a, detail);
    }
    if (cli->json)
        cli_print_json(json_pack("{s:s, s:s, s:s}", "login", a.login, "mfa_state",
                                 kunci_mfa_state_name(state), "previous",
                                 kunci_mfa_state_name(before)));
    else
        printf("mfa for %s: %s (was %s)\n", a.login, kunci_mfa_state_name(state),
               kunci_mfa_state_name(before));
    return EXIT_OK;
}

int cmd_mfa(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {{"set", mfa_set, NULL}, {NULL, NULL, NULL}};
    return cli_dispatch(cli, "mfa", cmds, argc, argv, mfa_usage);
}
