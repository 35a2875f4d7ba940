/* kunci config show: the configuration in effect, every key, as kunci.conf would say it
 * (like `postconf` or `doveconf`). No key holds a secret: secrets stay in their files. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "core/config.h"

static const char config_usage[] =
    "Usage: kunci config show [--defaults] [--json]\n"
    "\n"
    "Prints every key of kunci.conf with the value in effect: the file's (--config, or\n"
    "kunci.conf in the data directory), else the built-in default, and the paths derived\n"
    "from the data directory. --defaults: the built-in values alone (no file read).\n"
    "--json: an object of sections, each an object of keys.\n";

struct show {
    const char *section; /* the last one printed */
    json_t *json;        /* or NULL: text */
};

static void show_key(const char *section, const char *key, const char *value, void *arg)
{
    struct show *sh = arg;
    if (sh->json != NULL) {
        json_t *sec = json_object_get(sh->json, section);
        if (sec == NULL)
            json_object_set_new(sh->json, section, sec = json_object());
        json_object_set_new(sec, key, json_string(value));
        return;
    }
    if (sh->section == NULL || strcmp(sh->section, section) != 0)
        printf("%s[%s]\n", sh->section != NULL ? "\n" : "", section);
    sh->section = section;
    printf("%s =%s%s\n", key, value[0] != '\0' ? " " : "", value);
}

static int config_show(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"defaults", no_argument, NULL, 'D'}, {NULL, 0, NULL, 0}};
    bool defaults = false;
    int c, r;

    while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
        if (c == 'D')
            defaults = true;
        else {
            fputs(config_usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fputs(config_usage, stderr);
        return EXIT_USAGE;
    }
    if (defaults)
        kunci_config_defaults(&cli->cfg);
    else if ((r = cli_load_config(cli)) != EXIT_OK)
        return r;
    struct show sh = {NULL, cli->json ? json_object() : NULL};
    kunci_config_each(&cli->cfg, show_key, &sh);
    if (sh.json != NULL)
        cli_print_json(sh.json);
    return EXIT_OK;
}

int cmd_config(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {{"show", config_show, NULL}, {NULL, NULL, NULL}};
    return cli_dispatch(cli, "config", cmds, argc, argv, config_usage);
}
