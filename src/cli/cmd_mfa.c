/* kunci mfa set|reset-methods, kunci sessions revoke, kunci devices forget: per-user MFA and
 * "Manage user settings", for one user or many (--from-file). Every login is checked
 * before anything changes. */
#include "cli/cli.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"

static const char mfa_usage[] =
    "Usage: kunci mfa set [--from-file FILE] LOGIN... disabled|enabled|enforced\n"
    "       kunci mfa reset-methods [--from-file FILE] LOGIN...\n"
    "\n"
    "  disabled   password only; app passwords are not available\n"
    "  enabled    MFA required, not yet registered: the user is asked to set it up at the\n"
    "             next web sign-in; the password still works on mail protocols until then\n"
    "  enforced   registered: the password alone is refused on mail protocols; use app\n"
    "             passwords there\n"
    "\n"
    "reset-methods deletes the user's methods: they register again at their next web\n"
    "sign-in (an enforced user becomes enabled), and every session of theirs ends.\n"
    "--from-file FILE (or - for standard input): one login a line, # comments. Every login\n"
    "must exist, or nothing is changed.\n";

static const char sessions_usage[] =
    "Usage: kunci sessions revoke [--from-file FILE] LOGIN...\n"
    "\n"
    "Ends every web session of the users: they sign in again (mail apps are not affected).\n";

static const char devices_usage[] =
    "Usage: kunci devices forget [--from-file FILE] LOGIN...\n"
    "\n"
    "Forgets the browsers where the users chose \"Don't ask again\": the second factor is\n"
    "asked again at their next sign-in everywhere.\n";

/* The accounts of a bulk request hold password hashes: wiped before they are freed. */
static void accounts_free(struct kunci_account *accts, size_t n)
{
    if (accts != NULL)
        sodium_memzero(accts, n * sizeof(*accts));
    free(accts);
}

/* Options and the logins of a bulk command; the last `tail` arguments are not logins (after
 * getopt has moved the options before them), and check_tail judges them first. */
static int bulk_args(struct cli *cli, int argc, char **argv, const char *usage, int tail,
                     int (*check_tail)(const char *arg, void *out), void *out,
                     struct kunci_account **accts_r, int *n_r)
{
    static const struct option opts[] = {{"from-file", required_argument, NULL, 'f'},
                                         {NULL, 0, NULL, 0}};
    const char *from_file = NULL;
    int c, r;

    while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
        if (c == 'f') {
            from_file = optarg;
            continue;
        }
        fputs(usage, c == 'h' ? stdout : stderr);
        return c == 'h' ? EXIT_OK : EXIT_USAGE;
    }
    int n = argc - optind - tail;
    if (n < 0 || (n == 0 && from_file == NULL)) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    if (check_tail != NULL && (r = check_tail(argv[argc - 1], out)) != EXIT_OK)
        return r;
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    r = cli_accounts(cli, argv + optind, n, from_file, accts_r, n_r);
    return r == EXIT_OK ? -1 : r;
}

static void print_done(struct cli *cli, json_t *items, const struct kunci_account *a,
                       const char *text)
{
    if (cli->json)
        json_array_append_new(items, json_pack("{s:s, s:s}", "login", a->login, "mfa_state",
                                               kunci_mfa_state_name(a->mfa_state)));
    else
        printf("%s: %s\n", a->login, text);
}

static int state_arg(const char *arg, void *out)
{
    if (kunci_mfa_state_parse(arg, out) == KUNCI_OK)
        return EXIT_OK;
    cli_error("unknown MFA state '%s': use disabled, enabled or enforced (the last argument)", arg);
    return EXIT_USAGE;
}

static int mfa_set(struct cli *cli, int argc, char **argv)
{
    struct kunci_account *accts;
    enum kunci_mfa_state state = KUNCI_MFA_DISABLED;
    int n, r;

    if ((r = bulk_args(cli, argc, argv, mfa_usage, 1, state_arg, &state, &accts, &n)) >= 0)
        return r;
    json_t *items = json_array();
    for (int i = 0; i < n; i++) {
        struct kunci_account *a = &accts[i];
        enum kunci_mfa_state before = a->mfa_state;
        char detail[64], text[80];
        a->mfa_state = state;
        if ((r = kunci_account_save(&cli->store, a)) != KUNCI_OK) {
            json_decref(items);
            accounts_free(accts, (size_t)n);
            return cli_fail(r, a->login);
        }
        snprintf(detail, sizeof(detail), "%s -> %s", kunci_mfa_state_name(before),
                 kunci_mfa_state_name(state));
        if (before != state)
            cli_event(cli, "mfa_state_changed", a, detail);
        snprintf(text, sizeof(text), "mfa %s (was %s)", kunci_mfa_state_name(state),
                 kunci_mfa_state_name(before));
        print_done(cli, items, a, text);
        if (cli->json)
            json_object_set_new(json_array_get(items, json_array_size(items) - 1), "previous",
                                json_string(kunci_mfa_state_name(before)));
    }
    /* One user: the object itself, as before bulk existed. */
    if (cli->json)
        cli_print_json(n == 1 ? json_incref(json_array_get(items, 0)) : json_incref(items));
    json_decref(items);
    accounts_free(accts, (size_t)n);
    return EXIT_OK;
}

/* One of "Manage user settings" on each named account. */
static int manage(struct cli *cli, int argc, char **argv, const char *usage, unsigned what,
                  const char *event, const char *done)
{
    struct kunci_account *accts;
    int n, r;

    if ((r = bulk_args(cli, argc, argv, usage, 0, NULL, NULL, &accts, &n)) >= 0)
        return r;
    json_t *items = json_array();
    for (int i = 0; i < n; i++) {
        if ((r = kunci_account_manage(&cli->store, &accts[i], what)) != KUNCI_OK) {
            json_decref(items);
            accounts_free(accts, (size_t)n);
            return cli_fail(r, accts[i].login);
        }
        cli_event(cli, event, &accts[i], NULL);
        print_done(cli, items, &accts[i], done);
    }
    if (cli->json)
        cli_print_json(items);
    else
        json_decref(items);
    accounts_free(accts, (size_t)n);
    return EXIT_OK;
}

static int mfa_reset_methods(struct cli *cli, int argc, char **argv)
{
    return manage(cli, argc, argv, mfa_usage, KUNCI_MANAGE_RESET_METHODS, "methods_reset",
                  "methods deleted; registers again at the next sign-in; signed out");
}

int cmd_mfa(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {
        {"set", mfa_set, NULL}, {"reset-methods", mfa_reset_methods, NULL}, {NULL, NULL, NULL}};
    return cli_dispatch(cli, "mfa", cmds, argc, argv, mfa_usage);
}

static int sessions_revoke(struct cli *cli, int argc, char **argv)
{
    return manage(cli, argc, argv, sessions_usage, KUNCI_MANAGE_SIGN_OUT, "sessions_revoked",
                  "signed out everywhere");
}

int cmd_sessions(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {{"revoke", sessions_revoke, NULL}, {NULL, NULL, NULL}};
    return cli_dispatch(cli, "sessions", cmds, argc, argv, sessions_usage);
}

static int devices_forget(struct cli *cli, int argc, char **argv)
{
    return manage(cli, argc, argv, devices_usage, KUNCI_MANAGE_FORGET_DEVICES, "devices_forgotten",
                  "remembered browsers forgotten");
}

int cmd_devices(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {{"forget", devices_forget, NULL}, {NULL, NULL, NULL}};
    return cli_dispatch(cli, "devices", cmds, argc, argv, devices_usage);
}
