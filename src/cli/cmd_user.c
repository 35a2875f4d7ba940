#include "cli/cli.h"
#include "core/webauthn.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/recovery.h"
#include "core/password.h"
#include "core/timespec.h"

static const char user_usage[] =
    "Usage: kunci user COMMAND ...\n"
    "\n"
    "  add LOGIN [--display-name NAME] [--admin] [--password-stdin] [--temporary]\n"
    "      Without --password-stdin: asks twice on a terminal; otherwise generates a password\n"
    "      and prints it once.\n"
    "  list [--json]\n"
    "  show LOGIN [--json]\n"
    "  passwd LOGIN [--password-stdin] [--temporary]\n"
    "      --temporary: the user must choose a new password at the next web sign-in.\n"
    "  disable LOGIN | enable LOGIN | delete LOGIN\n"
    "  temporary-pass LOGIN [--valid 8h] [--reusable]\n"
    "      A temporary access pass for a user who lost their phone: it signs them in on the\n"
    "      web (instead of the password and the second factor) once, or until it expires\n"
    "      with --reusable, and they register a new method. Printed once; at most 30 days.\n"
    "\n"
    "LOGIN is an address like alice@example.org, compared without regard to case.\n";

static json_t *account_json(const struct kunci_account *a)
{
    char created[32], changed[32];

    kunci_time_format(a->created_at, created, sizeof(created));
    kunci_time_format(a->password_changed_at, changed, sizeof(changed));
    return json_pack(
        "{s:I, s:s, s:s, s:s, s:b, s:s, s:s, s:s, s:b}", "id", (json_int_t)a->id, "login", a->login,
        "display_name", a->display_name, "role", kunci_role_name(a->role), "enabled", a->enabled,
        "mfa_state", kunci_mfa_state_name(a->mfa_state), "created_at", created,
        "password_changed_at", changed, "must_change_password", a->must_change_password);
}

static void account_print(const struct kunci_account *a)
{
    char created[32], changed[32];

    kunci_time_format(a->created_at, created, sizeof(created));
    kunci_time_format(a->password_changed_at, changed, sizeof(changed));
    printf("login:            %s\n"
           "display name:     %s\n"
           "role:             %s\n"
           "status:           %s\n"
           "mfa:              %s\n"
           "created:          %s\n"
           "password changed: %s\n",
           a->login, a->display_name, kunci_role_name(a->role), a->enabled ? "enabled" : "disabled",
           kunci_mfa_state_name(a->mfa_state), created, changed);
}

/* Parses options shared by the user commands; returns -1 to go on, or an exit code. */
static int user_opts(struct cli *cli, int argc, char **argv, const char *usage_line,
                     const struct option *opts, const char *shorts, int nargs,
                     int (*on_opt)(int c, void *arg), void *arg)
{
    int c;

    while ((c = cli_getopt(cli, argc, argv, shorts, opts)) != -1) {
        if (c == 'h') {
            printf("Usage: kunci user %s\n", usage_line);
            return EXIT_OK;
        }
        if (c == '?' || on_opt == NULL || on_opt(c, arg) != 0) {
            fprintf(stderr, "Usage: kunci user %s\n", usage_line);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != nargs) {
        fprintf(stderr, "Usage: kunci user %s\n", usage_line);
        return EXIT_USAGE;
    }
    int r = cli_open(cli);
    return r == EXIT_OK ? -1 : r;
}

struct add_opts {
    const char *display_name;
    bool admin, password_stdin, temporary;
};

static int add_opt(int c, void *arg)
{
    struct add_opts *o = arg;
    if (c == 'n')
        o->display_name = optarg;
    else if (c == 'a')
        o->admin = true;
    else if (c == 'p')
        o->password_stdin = true;
    else if (c == 't')
        o->temporary = true;
    else
        return -1;
    return 0;
}

static int password_problem(int r)
{
    if (r == KUNCI_ERR_PASSWORD_COMMON || r == KUNCI_ERR_PASSWORD_PERSONAL ||
        r == KUNCI_ERR_PASSWORD_SHORT)
        cli_error("%s", kunci_strerror(r));
    else if (r == KUNCI_ERR_TOO_LONG)
        cli_error("the password is longer than %d bytes", KUNCI_PASSWORD_MAX);
    else
        cli_error("the password must have at least %d characters and no control characters",
                  KUNCI_PASSWORD_MIN);
    return EXIT_FAIL;
}

static int user_add(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"display-name", required_argument, NULL, 'n'},
                                         {"admin", no_argument, NULL, 'a'},
                                         {"password-stdin", no_argument, NULL, 'p'},
                                         {"temporary", no_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    struct add_opts o = {NULL, false, false, false};
    struct kunci_account a;
    char pw[KUNCI_PASSWORD_MAX + 2];
    bool generated;
    int r = user_opts(cli, argc, argv,
                      "add LOGIN [--display-name NAME] [--admin] [--password-stdin] [--temporary]",
                      opts, "", 1, add_opt, &o);
    if (r >= 0)
        return r;
    const char *login = argv[optind];
    if (cli_new_password(o.password_stdin, pw, sizeof(pw), &generated) != KUNCI_OK)
        return EXIT_FAIL;
    r = kunci_account_create(&cli->ctx, &cli->store, login, o.display_name,
                             o.admin ? KUNCI_ROLE_ADMIN : KUNCI_ROLE_USER, pw, strlen(pw),
                             (int64_t)time(NULL), &a);
    struct kunci_password_owner owner = {login, o.display_name,
                                         o.admin ? KUNCI_ROLE_ADMIN : KUNCI_ROLE_USER};
    int bad_pw = kunci_password_acceptable(pw, strlen(pw), &owner);
    if (r != KUNCI_OK) {
        sodium_memzero(pw, sizeof(pw));
        if (bad_pw != KUNCI_OK)
            return password_problem(bad_pw);
        if (r == KUNCI_ERR_INVALID || r == KUNCI_ERR_TOO_LONG) {
            cli_error("not a valid login (expected an address like alice@example.org) or "
                      "display name: %s",
                      login);
            return EXIT_FAIL;
        }
        if (r == KUNCI_ERR_EXISTS) {
            cli_error("a user %s exists already", login);
            return EXIT_FAIL;
        }
        return cli_fail(r, "user add");
    }
    if (o.temporary) {
        a.must_change_password = true;
        if ((r = kunci_account_save(&cli->store, &a)) != KUNCI_OK) {
            sodium_memzero(pw, sizeof(pw));
            return cli_fail(r, "user add");
        }
    }
    cli_event(cli, "user_created", &a, kunci_role_name(a.role));
    if (cli->json) {
        json_t *j = account_json(&a);
        if (generated)
            json_object_set_new(j, "password", json_string(pw));
        cli_print_json(j);
    } else {
        printf("created %s %s\n", kunci_role_name(a.role), a.login);
        if (generated)
            printf("password: %s\n(shown once; the user changes it with 'kunci user passwd')\n",
                   pw);
    }
    sodium_memzero(pw, sizeof(pw));
    return EXIT_OK;
}

static int print_account(void *arg, const struct kunci_account *a)
{
    json_t *list = arg;
    if (list != NULL)
        json_array_append_new(list, account_json(a));
    else
        printf("%-40s %-5s %-8s mfa=%s\n", a->login, kunci_role_name(a->role),
               a->enabled ? "enabled" : "disabled", kunci_mfa_state_name(a->mfa_state));
    return 0;
}

static int user_list(struct cli *cli, int argc, char **argv)
{
    int r = user_opts(cli, argc, argv, "list [--json]", NULL, "", 0, NULL, NULL);
    if (r >= 0)
        return r;
    json_t *list = cli->json ? json_array() : NULL;
    r = kunci_store_account_list(&cli->store, print_account, list);
    if (r != KUNCI_OK) {
        json_decref(list);
        return cli_fail(r, "user list");
    }
    if (list != NULL)
        cli_print_json(list);
    return EXIT_OK;
}

static int add_method(void *arg, const struct kunci_mfa_method *m)
{
    char added[32];
    if (!m->verified)
        return 0;
    kunci_time_format(m->created_at, added, sizeof(added));
    json_array_append_new(arg, json_pack("{s:I, s:s, s:s, s:b, s:s}", "id", (json_int_t)m->id,
                                         "kind", kunci_method_kind_name(m->kind), "name", m->target,
                                         "default", m->is_default, "created_at", added));
    return 0;
}

static int add_passkey(void *arg, const struct kunci_passkey *pk)
{
    json_t *m;
    size_t i;
    char aaguid[37], used[32] = "";
    kunci_aaguid_format(pk->aaguid, aaguid);
    if (pk->last_used_at != 0)
        kunci_time_format(pk->last_used_at, used, sizeof(used));
    json_array_foreach((json_t *)arg, i, m)
    {
        if (json_integer_value(json_object_get(m, "id")) == pk->method_id)
            json_object_set_new(
                m, "passkey",
                json_pack("{s:s, s:b, s:b, s:b, s:s, s:I, s:s?}", "aaguid", aaguid, "discoverable",
                          pk->discoverable, "synced", pk->backup_state, "user_verified",
                          pk->user_verified, "transports", pk->transports, "sign_count",
                          (json_int_t)pk->sign_count, "last_used_at", used[0] ? used : NULL));
    }
    return 0;
}

/* The account's verified methods, passkeys with what kunci knows of them. */
static int methods_json(struct cli *cli, int64_t account_id, json_t **list_r)
{
    json_t *list = json_array();
    int r = kunci_store_method_list(&cli->store, account_id, add_method, list);
    if (r == KUNCI_OK)
        r = kunci_store_passkey_list(&cli->store, account_id, add_passkey, list);
    if (r != KUNCI_OK) {
        json_decref(list);
        return r;
    }
    *list_r = list;
    return KUNCI_OK;
}

static void methods_print(json_t *list)
{
    json_t *m;
    size_t i;
    printf("methods:          %s\n", json_array_size(list) ? "" : "none");
    json_array_foreach(list, i, m)
    {
        json_t *pk = json_object_get(m, "passkey");
        printf("  %-8s %s%s (added %s", json_string_value(json_object_get(m, "kind")),
               json_string_value(json_object_get(m, "name")),
               json_is_true(json_object_get(m, "default")) ? ", default" : "",
               json_string_value(json_object_get(m, "created_at")));
        if (pk != NULL) {
            const char *used = json_string_value(json_object_get(pk, "last_used_at"));
            printf("; %s%s; last used %s; aaguid %s",
                   json_is_true(json_object_get(pk, "discoverable")) ? "passkey" : "security key",
                   json_is_true(json_object_get(pk, "synced")) ? ", synced" : "",
                   used ? used : "never", json_string_value(json_object_get(pk, "aaguid")));
        }
        printf(")\n");
    }
}

static int user_show(struct cli *cli, int argc, char **argv)
{
    struct kunci_account a;
    int r = user_opts(cli, argc, argv, "show LOGIN [--json]", NULL, "", 1, NULL, NULL);
    if (r >= 0)
        return r;
    if ((r = cli_account(cli, argv[optind], &a)) != EXIT_OK)
        return r;
    json_t *methods = NULL;
    if ((r = methods_json(cli, a.id, &methods)) != KUNCI_OK)
        return cli_fail(r, "user show");
    if (cli->json) {
        json_t *o = account_json(&a);
        json_object_set_new(o, "methods", methods);
        cli_print_json(o);
    } else {
        account_print(&a);
        methods_print(methods);
        json_decref(methods);
    }
    return EXIT_OK;
}

static int passwd_opt(int c, void *arg)
{
    bool *flags = arg;
    if (c == 'p')
        flags[0] = true;
    else if (c == 't')
        flags[1] = true;
    else
        return -1;
    return 0;
}

static int user_passwd(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"password-stdin", no_argument, NULL, 'p'},
                                         {"temporary", no_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    struct kunci_account a;
    char pw[KUNCI_PASSWORD_MAX + 2];
    bool flags[2] = {false, false}, generated, revoked;
    int r = user_opts(cli, argc, argv, "passwd LOGIN [--password-stdin] [--temporary]", opts, "", 1,
                      passwd_opt, flags);
    if (r >= 0)
        return r;
    if ((r = cli_account(cli, argv[optind], &a)) != EXIT_OK)
        return r;
    if (cli_new_password(flags[0], pw, sizeof(pw), &generated) != KUNCI_OK)
        return EXIT_FAIL;
    a.must_change_password = flags[1];
    /* Its web sessions end and remembered devices are forgotten. */
    r = kunci_account_set_password(&cli->ctx, &cli->store, &a, pw, strlen(pw), (int64_t)time(NULL),
                                   0, &revoked);
    if (r == KUNCI_ERR_INVALID || r == KUNCI_ERR_TOO_LONG || r == KUNCI_ERR_PASSWORD_COMMON ||
        r == KUNCI_ERR_PASSWORD_PERSONAL || r == KUNCI_ERR_PASSWORD_SHORT) {
        sodium_memzero(pw, sizeof(pw));
        return password_problem(r);
    }
    if (r != KUNCI_OK) {
        sodium_memzero(pw, sizeof(pw));
        return cli_fail(r, "user passwd");
    }
    cli_event(cli, "password_reset", &a, NULL);
    if (cli->json) {
        json_t *j = json_pack("{s:s, s:b}", "login", a.login, "app_passwords_revoked", revoked);
        if (generated)
            json_object_set_new(j, "password", json_string(pw));
        cli_print_json(j);
    } else {
        printf("password of %s changed%s\n", a.login,
               revoked
                   ? "; its app passwords were deleted (app_passwords_revoke_on_password_change)"
                   : "");
        if (generated)
            printf("password: %s\n", pw);
    }
    sodium_memzero(pw, sizeof(pw));
    return EXIT_OK;
}

static int user_set_enabled(struct cli *cli, int argc, char **argv, bool enabled)
{
    struct kunci_account a;
    int r = user_opts(cli, argc, argv, enabled ? "enable LOGIN" : "disable LOGIN", NULL, "", 1,
                      NULL, NULL);
    if (r >= 0)
        return r;
    if ((r = cli_account(cli, argv[optind], &a)) != EXIT_OK)
        return r;
    bool was = a.enabled;
    a.enabled = enabled;
    if ((r = kunci_account_save(&cli->store, &a)) != KUNCI_OK)
        return cli_fail(r, a.login);
    if (was != enabled)
        cli_event(cli, enabled ? "user_enabled" : "user_disabled", &a, NULL);
    if (cli->json)
        cli_print_json(account_json(&a));
    else
        printf("%s %s\n", a.login, enabled ? "enabled" : "disabled");
    return EXIT_OK;
}

static int user_disable(struct cli *cli, int argc, char **argv)
{
    return user_set_enabled(cli, argc, argv, false);
}

static int user_enable(struct cli *cli, int argc, char **argv)
{
    return user_set_enabled(cli, argc, argv, true);
}

static int user_delete(struct cli *cli, int argc, char **argv)
{
    struct kunci_account a;
    int r = user_opts(cli, argc, argv, "delete LOGIN", NULL, "", 1, NULL, NULL);
    if (r >= 0)
        return r;
    if ((r = cli_account(cli, argv[optind], &a)) != EXIT_OK)
        return r;
    if ((r = kunci_store_account_delete(&cli->store, a.id)) != KUNCI_OK)
        return cli_fail(r, a.login);
    cli_event(cli, "user_deleted", &a, NULL);
    if (cli->json)
        cli_print_json(json_pack("{s:s, s:b}", "login", a.login, "deleted", 1));
    else
        printf("deleted %s and its app passwords\n", a.login);
    return EXIT_OK;
}

struct pass_opts {
    const char *valid;
    bool reusable;
};

static int pass_opt(int c, void *arg)
{
    struct pass_opts *o = arg;
    if (c == 'v')
        o->valid = optarg;
    else if (c == 'r')
        o->reusable = true;
    else
        return -1;
    return 0;
}

static int user_temporary_pass(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"valid", required_argument, NULL, 'v'},
                                         {"reusable", no_argument, NULL, 'r'},
                                         {NULL, 0, NULL, 0}};
    struct pass_opts o = {"8h", false};
    struct kunci_account a;
    char pass[KUNCI_ACCESS_PASS_FORMATTED], expires[32];
    int64_t now = (int64_t)time(NULL), until = 0;
    int r = user_opts(cli, argc, argv, "temporary-pass LOGIN [--valid 8h] [--reusable]", opts, "",
                      1, pass_opt, &o);
    if (r >= 0)
        return r;
    if (kunci_expiry_parse(o.valid, now, &until) != KUNCI_OK ||
        until - now > KUNCI_ACCESS_PASS_MAX_SECONDS) {
        cli_error("--valid takes 1h, 8h, 2d ... (at most 30 days), not '%s'", o.valid);
        return EXIT_USAGE;
    }
    if ((r = cli_account(cli, argv[optind], &a)) != EXIT_OK)
        return r;
    r = kunci_access_pass_issue(&cli->ctx, &cli->store, &a, now, until - now, !o.reusable, pass);
    if (r != KUNCI_OK)
        return cli_fail(r, "user temporary-pass");
    kunci_time_format(until, expires, sizeof(expires));
    cli_event(cli, "access_pass_issued", &a, expires);
    if (cli->json)
        cli_print_json(json_pack("{s:s, s:s, s:s, s:b}", "login", a.login, "pass", pass,
                                 "expires_at", expires, "one_time", !o.reusable));
    else
        printf("temporary access pass for %s (%s, until %s):\n\n    %s\n\n"
               "Shown once. The user signs in on the web with it instead of the password and\n"
               "registers a new method.\n",
               a.login, o.reusable ? "reusable" : "one sign-in", expires, pass);
    sodium_memzero(pass, sizeof(pass));
    return EXIT_OK;
}

int cmd_user(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {
        {"add", user_add, NULL},
        {"list", user_list, NULL},
        {"show", user_show, NULL},
        {"passwd", user_passwd, NULL},
        {"disable", user_disable, NULL},
        {"enable", user_enable, NULL},
        {"delete", user_delete, NULL},
        {"temporary-pass", user_temporary_pass, NULL},
        {NULL, NULL, NULL},
    };
    return cli_dispatch(cli, "user", cmds, argc, argv, user_usage);
}
