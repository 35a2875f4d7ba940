#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/events.h"
#include "core/settings.h"

static const char settings_usage[] = "Usage: kunci settings get [KEY] [--json]\n"
                                     "       kunci settings set KEY VALUE\n"
                                     "\n"
                                     "Organization settings (default in brackets):\n";

/* The usage text, with the settings listed from their one table. */
static void print_usage(FILE *out)
{
    fputs(settings_usage, out);
    for (size_t i = 0; i < kunci_setting_count; i++) {
        const struct kunci_setting_def *d = &kunci_setting_defs[i];
        fprintf(out, "  %-40s [%s] %s", d->key, d->default_value, d->description);
        if (d->type == KUNCI_SETTING_INT)
            fprintf(out, " (%ld-%ld)", d->min, d->max);
        fputc('\n', out);
    }
}

/* One value per setting, in the order of kunci_setting_defs. */
struct collect {
    char (*values)[KUNCI_SETTING_VALUE_MAX];
};

static int collect_setting(void *arg, const char *key, const char *value)
{
    struct collect *c = arg;
    for (size_t i = 0; i < kunci_setting_count; i++)
        if (strcmp(kunci_setting_defs[i].key, key) == 0)
            kunci_setting_canonical(&kunci_setting_defs[i], value, c->values[i]);
    return 0;
}

static int settings_get(struct cli *cli, int argc, char **argv)
{
    struct collect c;
    int opt, r;

    while ((opt = cli_getopt(cli, argc, argv, "", NULL)) != -1) {
        print_usage(opt == 'h' ? stdout : stderr);
        return opt == 'h' ? EXIT_OK : EXIT_USAGE;
    }
    if (argc - optind > 1) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const char *only = argc - optind == 1 ? argv[optind] : NULL;
    if (only != NULL && kunci_setting_find(only) == NULL) {
        cli_error("unknown setting '%s' (see 'kunci settings --help')", only);
        return EXIT_USAGE;
    }
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    c.values = calloc(kunci_setting_count, sizeof(*c.values));
    if (c.values == NULL)
        return cli_fail(KUNCI_ERR_NOMEM, "settings get");
    for (size_t i = 0; i < kunci_setting_count; i++)
        kunci_setting_canonical(&kunci_setting_defs[i], kunci_setting_defs[i].default_value,
                                c.values[i]);
    r = kunci_store_settings_each(&cli->store, collect_setting, &c);
    if (r != KUNCI_OK) {
        free(c.values);
        return cli_fail(r, "settings get");
    }
    json_t *obj = cli->json ? json_object() : NULL;
    for (size_t i = 0; i < kunci_setting_count; i++) {
        const struct kunci_setting_def *d = &kunci_setting_defs[i];
        if (only != NULL && strcmp(only, d->key) != 0)
            continue;
        if (obj != NULL) {
            json_t *v = d->type == KUNCI_SETTING_BOOL
                            ? json_boolean(strcmp(c.values[i], "true") == 0)
                        : d->type == KUNCI_SETTING_INT ? json_integer(atoll(c.values[i]))
                                                       : json_string(c.values[i]);
            json_object_set_new(obj, d->key, v);
        } else if (only != NULL) {
            printf("%s\n", c.values[i]);
        } else {
            printf("%s = %s\n", d->key, c.values[i]);
        }
    }
    if (obj != NULL)
        cli_print_json(obj);
    free(c.values);
    return EXIT_OK;
}

static int settings_set(struct cli *cli, int argc, char **argv)
{
    char canon[KUNCI_SETTING_VALUE_MAX];
    int opt, r;

    while ((opt = cli_getopt(cli, argc, argv, "", NULL)) != -1) {
        print_usage(opt == 'h' ? stdout : stderr);
        return opt == 'h' ? EXIT_OK : EXIT_USAGE;
    }
    if (argc - optind != 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    const struct kunci_setting_def *d = kunci_setting_find(argv[optind]);
    if (d == NULL) {
        cli_error("unknown setting '%s' (see 'kunci settings --help')", argv[optind]);
        return EXIT_USAGE;
    }
    if (kunci_setting_canonical(d, argv[optind + 1], canon) != KUNCI_OK) {
        if (d->type == KUNCI_SETTING_NETWORKS)
            cli_error("%s takes up to %d address ranges like 10.0.0.0/8,2001:db8::/32 (an "
                      "empty value for none), not '%s'",
                      d->key, KUNCI_TRUSTED_NETWORKS_MAX, argv[optind + 1]);
        else if (d->type == KUNCI_SETTING_BOOL)
            cli_error("%s takes true or false, not '%s'", d->key, argv[optind + 1]);
        else if (d->type == KUNCI_SETTING_USERS)
            cli_error("%s takes none, admins, everyone, or logins like a@example.org,b@example.org "
                      "(at most %d characters), not '%s'",
                      d->key, KUNCI_SETTING_VALUE_MAX - 1, argv[optind + 1]);
        else
            cli_error("%s takes a whole number from %ld to %ld, not '%s'", d->key, d->min, d->max,
                      argv[optind + 1]);
        return EXIT_FAIL;
    }
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    if ((r = kunci_store_setting_set(&cli->store, d->key, canon)) != KUNCI_OK)
        return cli_fail(r, "settings set");
    char detail[KUNCI_EVENT_DETAIL_MAX];
    int n = snprintf(detail, sizeof(detail), "%s = ", d->key);
    if (n > 0 && (size_t)n < sizeof(detail)) /* a long list is cut: the record shows its start */
        kunci_event_set(detail + n, sizeof(detail) - (size_t)n, canon);
    cli_event(cli, "settings_changed", NULL, detail);
    if (cli->json)
        cli_print_json(json_pack("{s:s, s:s}", "key", d->key, "value", canon));
    else
        printf("%s = %s\n", d->key, canon);
    return EXIT_OK;
}

int cmd_settings(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {
        {"get", settings_get, NULL}, {"set", settings_set, NULL}, {NULL, NULL, NULL}};
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        print_usage(stdout);
        return EXIT_OK;
    }
    if (argc < 2) {
        print_usage(stderr);
        return EXIT_USAGE;
    }
    return cli_dispatch(cli, "settings", cmds, argc, argv, settings_usage);
}
