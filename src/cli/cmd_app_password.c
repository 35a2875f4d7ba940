#include "cli/cli.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/events.h"
#include "core/netmask.h"
#include "core/protocol.h"
#include "core/secret.h"
#include "core/timespec.h"

static const char ap_usage[] =
    "Usage: kunci app-password COMMAND ...\n"
    "\n"
    "  create LOGIN --name NAME [--protocols imap,pop3,smtp,eas,dav,ews]\n"
    "         [--expires 90d|12h|2w|2027-01-31] [--networks 10.0.0.0/8,2001:db8::/32]\n"
    "      Prints the new app password once, in groups of four. Needs MFA required for the\n"
    "      user (kunci mfa set LOGIN enabled) and app_passwords_allowed.\n"
    "  list LOGIN [--json]\n"
    "  delete LOGIN ID\n"
    "  delete-all LOGIN\n";

static json_t *ap_json(const struct kunci_app_password *ap)
{
    char protocols[KUNCI_PROTOCOLS_MAX], created[32], expires[32], used[32];

    kunci_protocols_format(ap->protocols, protocols, sizeof(protocols));
    kunci_time_format(ap->created_at, created, sizeof(created));
    kunci_time_format(ap->expires_at, expires, sizeof(expires));
    kunci_time_format(ap->last_used_at, used, sizeof(used));
    json_t *j = json_pack("{s:I, s:s, s:s, s:s, s:s}", "id", (json_int_t)ap->id, "name", ap->name,
                          "protocols", protocols, "networks", ap->networks, "created_at", created);
    json_object_set_new(j, "expires_at", ap->expires_at ? json_string(expires) : json_null());
    json_object_set_new(j, "last_used",
                        ap->last_used_at
                            ? json_pack("{s:s, s:s, s:s}", "at", used, "ip", ap->last_used_ip,
                                        "protocol", ap->last_used_protocol)
                            : json_null());
    return j;
}

/* Options before and after LOGIN are both accepted: `create alice --name X`. */
static int parse_common(struct cli *cli, int argc, char **argv, const struct option *opts,
                        const char *usage_line, int nargs, int (*on_opt)(int c, void *arg),
                        void *arg)
{
    int c;

    while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
        if (c == 'h') {
            printf("Usage: kunci app-password %s\n", usage_line);
            return EXIT_OK;
        }
        if (c == '?' || on_opt == NULL || on_opt(c, arg) != 0) {
            fprintf(stderr, "Usage: kunci app-password %s\n", usage_line);
            return EXIT_USAGE;
        }
    }
    if (argc - optind != nargs) {
        fprintf(stderr, "Usage: kunci app-password %s\n", usage_line);
        return EXIT_USAGE;
    }
    return -1;
}

struct create_opts {
    const char *name, *protocols, *expires, *networks;
};

static int create_opt(int c, void *arg)
{
    struct create_opts *o = arg;
    if (c == 'n')
        o->name = optarg;
    else if (c == 'p')
        o->protocols = optarg;
    else if (c == 'e')
        o->expires = optarg;
    else if (c == 'N')
        o->networks = optarg;
    else
        return -1;
    return 0;
}

static int ap_create(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"protocols", required_argument, NULL, 'p'},
                                         {"expires", required_argument, NULL, 'e'},
                                         {"networks", required_argument, NULL, 'N'},
                                         {NULL, 0, NULL, 0}};
    static const char line[] = "create LOGIN --name NAME [--protocols LIST] [--expires WHEN] "
                               "[--networks LIST]";
    struct create_opts o = {NULL, NULL, NULL, NULL};
    struct kunci_app_password_spec spec = {0};
    struct kunci_app_password ap;
    struct kunci_account a;
    char pw[KUNCI_APP_PASSWORD_MAX_LEN + 1], shown[KUNCI_APP_PASSWORD_FORMATTED_MAX];
    char canon[KUNCI_NETWORKS_MAX + 1];
    int64_t now = (int64_t)time(NULL);
    int r = parse_common(cli, argc, argv, opts, line, 1, create_opt, &o);
    if (r >= 0)
        return r;
    if (o.name == NULL || o.name[0] == '\0') {
        cli_error("an app password needs a name: --name NAME (like \"iPhone mail\")");
        return EXIT_USAGE;
    }
    spec.name = o.name;
    if (o.protocols != NULL && kunci_protocols_parse(o.protocols, &spec.protocols) != KUNCI_OK) {
        cli_error("--protocols takes a comma-separated list of imap, pop3, smtp, eas, dav, ews");
        return EXIT_USAGE;
    }
    if (o.expires != NULL && kunci_expiry_parse(o.expires, now, &spec.expires_at) != KUNCI_OK) {
        cli_error("--expires takes a duration (90d, 12h, 2w) or a future date (2027-01-31)");
        return EXIT_USAGE;
    }
    if (o.networks != NULL &&
        kunci_networks_canonical(o.networks, canon, sizeof(canon)) != KUNCI_OK) {
        cli_error("--networks takes at most %d comma-separated networks like 10.0.0.0/8 or "
                  "2001:db8::/32, with the host bits zero",
                  KUNCI_NETWORKS_COUNT_MAX);
        return EXIT_USAGE;
    }
    spec.networks = o.networks;
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    if ((r = cli_account(cli, argv[optind], &a)) != EXIT_OK)
        return r;
    r = kunci_app_password_create(&cli->ctx, &cli->store, &a, &spec, now, pw, sizeof(pw), &ap);
    if (r == KUNCI_ERR_LIMIT) {
        cli_error("%s has reached the limit of app passwords (app_passwords_max); delete one "
                  "first",
                  a.login);
        return EXIT_FAIL;
    }
    if (r == KUNCI_ERR_INVALID || r == KUNCI_ERR_TOO_LONG) {
        cli_error("the name must be 1 to %d printable characters", KUNCI_APP_NAME_MAX);
        return EXIT_FAIL;
    }
    if (r != KUNCI_OK)
        return cli_fail(r, "cannot create an app password");
    cli_event(cli, "app_password_created", &a, ap.name);
    kunci_app_password_format(pw, shown, sizeof(shown));
    if (cli->json) {
        json_t *j = ap_json(&ap);
        json_object_set_new(j, "password", json_string(shown));
        json_object_set_new(j, "login", json_string(a.login));
        cli_print_json(j);
    } else {
        printf("app password \"%s\" (id %lld) for %s:\n\n    %s\n\n"
               "Shown once. Type it in the app instead of the password; spaces are optional.\n",
               ap.name, (long long)ap.id, a.login, shown);
    }
    sodium_memzero(pw, sizeof(pw));
    sodium_memzero(shown, sizeof(shown));
    return EXIT_OK;
}

static int print_ap(void *arg, const struct kunci_app_password *ap)
{
    json_t *list = arg;
    char protocols[KUNCI_PROTOCOLS_MAX], created[32], expires[32], used[32];

    if (list != NULL) {
        json_array_append_new(list, ap_json(ap));
        return 0;
    }
    kunci_protocols_format(ap->protocols, protocols, sizeof(protocols));
    kunci_time_format(ap->created_at, created, sizeof(created));
    kunci_time_format(ap->expires_at, expires, sizeof(expires));
    kunci_time_format(ap->last_used_at, used, sizeof(used));
    printf("%-5lld %-24s created %s  protocols %s  expires %s  networks %s  last used %s%s%s%s%s\n",
           (long long)ap->id, ap->name, created, protocols[0] ? protocols : "all",
           ap->expires_at ? expires : "never", ap->networks[0] ? ap->networks : "any",
           ap->last_used_at ? used : "never", ap->last_used_at ? " from " : "",
           ap->last_used_at ? (ap->last_used_ip[0] ? ap->last_used_ip : "?") : "",
           ap->last_used_at ? " over " : "", ap->last_used_at ? ap->last_used_protocol : "");
    return 0;
}

static int ap_list(struct cli *cli, int argc, char **argv)
{
    struct kunci_account a;
    int r = parse_common(cli, argc, argv, NULL, "list LOGIN [--json]", 1, NULL, NULL);
    if (r >= 0)
        return r;
    if ((r = cli_open(cli)) != EXIT_OK || (r = cli_account(cli, argv[optind], &a)) != EXIT_OK)
        return r;
    json_t *list = cli->json ? json_array() : NULL;
    r = kunci_store_app_password_list(&cli->store, a.id, print_ap, list);
    if (r != KUNCI_OK) {
        json_decref(list);
        return cli_fail(r, "app-password list");
    }
    if (list != NULL)
        cli_print_json(list);
    return EXIT_OK;
}

static int ap_delete(struct cli *cli, int argc, char **argv)
{
    struct kunci_account a;
    char *end;
    int r = parse_common(cli, argc, argv, NULL, "delete LOGIN ID", 2, NULL, NULL);
    if (r >= 0)
        return r;
    errno = 0;
    long long id = strtoll(argv[optind + 1], &end, 10);
    if (*end != '\0' || errno != 0 || id <= 0) {
        cli_error("ID is the number shown by 'kunci app-password list', not '%s'",
                  argv[optind + 1]);
        return EXIT_USAGE;
    }
    if ((r = cli_open(cli)) != EXIT_OK || (r = cli_account(cli, argv[optind], &a)) != EXIT_OK)
        return r;
    r = kunci_store_app_password_delete(&cli->store, a.id, id);
    if (r == KUNCI_ERR_NOT_FOUND) {
        cli_error("%s has no app password with id %lld", a.login, id);
        return EXIT_FAIL;
    }
    if (r != KUNCI_OK)
        return cli_fail(r, "app-password delete");
    char detail[32];
    snprintf(detail, sizeof(detail), "id %lld", id);
    cli_event(cli, "app_password_deleted", &a, detail);
    if (cli->json)
        cli_print_json(
            json_pack("{s:s, s:I, s:b}", "login", a.login, "id", (json_int_t)id, "deleted", 1));
    else
        printf("deleted app password %lld of %s\n", id, a.login);
    return EXIT_OK;
}

static int ap_delete_all(struct cli *cli, int argc, char **argv)
{
    struct kunci_account a;
    int count = 0;
    int r = parse_common(cli, argc, argv, NULL, "delete-all LOGIN", 1, NULL, NULL);
    if (r >= 0)
        return r;
    if ((r = cli_open(cli)) != EXIT_OK || (r = cli_account(cli, argv[optind], &a)) != EXIT_OK)
        return r;
    r = kunci_store_app_password_delete_all(&cli->store, a.id, &count);
    if (r != KUNCI_OK)
        return cli_fail(r, "app-password delete-all");
    char n[32];
    snprintf(n, sizeof(n), "%d", count);
    cli_event(cli, "app_passwords_deleted", &a, n);
    if (cli->json)
        cli_print_json(json_pack("{s:s, s:i}", "login", a.login, "deleted", count));
    else
        printf("deleted %d app password%s of %s\n", count, count == 1 ? "" : "s", a.login);
    return EXIT_OK;
}

int cmd_app_password(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {
        {"create", ap_create, NULL},         {"list", ap_list, NULL}, {"delete", ap_delete, NULL},
        {"delete-all", ap_delete_all, NULL}, {NULL, NULL, NULL},
    };
    return cli_dispatch(cli, "app-password", cmds, argc, argv, ap_usage);
}
