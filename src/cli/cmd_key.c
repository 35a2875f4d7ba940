/* kunci key rotate | finish-rotation | status: the master key replaced without downtime
 * (core/keys.h for the file, core/key_rotation.h for the database). */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/key_rotation.h"
#include "core/keys.h"

static const char key_usage[] =
    "Usage: kunci key rotate | kunci key finish-rotation [--force] | kunci key status\n"
    "\n"
    "  rotate           a new master key in the key file, the old one kept as \"previous\";\n"
    "                   authenticator secrets are encrypted again under the new key, app\n"
    "                   passwords move to it at their next use; web sessions end. Restart\n"
    "                   kunci serve after it (several servers: copy the key file to each,\n"
    "                   then restart them).\n"
    "  finish-rotation  drops the previous key once no app password uses it (says how many\n"
    "                   still do); --force drops it anyway and deletes those app passwords.\n"
    "  status           the keys' fingerprints and the app passwords under the previous key.\n";

static void say_left(int left)
{
    if (left > 0)
        printf("%d app password%s still use%s the previous key: each moves to the new one at "
               "its next use; then run 'kunci key finish-rotation'.\n",
               left, left == 1 ? "" : "s", left == 1 ? "s" : "");
    else
        printf("No app password uses the previous key: run 'kunci key finish-rotation'.\n");
}

static int no_options(struct cli *cli, int argc, char **argv)
{
    int c;
    while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1) {
        fputs(key_usage, c == 'h' ? stdout : stderr);
        return c == 'h' ? EXIT_OK : EXIT_USAGE;
    }
    if (optind != argc) {
        fputs(key_usage, stderr);
        return EXIT_USAGE;
    }
    return -1;
}

static int key_rotate(struct cli *cli, int argc, char **argv)
{
    struct kunci_rotation_report rep;
    int r = no_options(cli, argc, argv);
    if (r >= 0)
        return r;
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    struct kunci_keys *keys = cli->ctx.keys;
    if (keys->previous != NULL && strcmp(cli->store_key, keys->fingerprint) == 0) {
        int left = 0;
        if ((r = kunci_key_rotation_left(&cli->ctx, &cli->store, &left)) != KUNCI_OK)
            return cli_fail(r, cli->cfg.store_location);
        cli_error("a rotation is under way (the key file %s holds a previous key): finish it "
                  "first with 'kunci key finish-rotation' (%d app password%s still use%s the "
                  "previous key)",
                  cli->cfg.key_file, left, left == 1 ? "" : "s", left == 1 ? "s" : "");
        return EXIT_FAIL;
    }
    if (keys->previous == NULL) {
        if ((r = kunci_keys_rotate_file(cli->cfg.key_file)) != KUNCI_OK)
            return cli_fail(r, cli->cfg.key_file);
        struct kunci_keys *rotated = NULL;
        if ((r = kunci_keys_load(cli->cfg.key_file, &rotated)) != KUNCI_OK)
            return cli_fail(r, cli->cfg.key_file);
        kunci_keys_free(cli->ctx.keys);
        cli->ctx.keys = rotated;
    } /* else: the file was rotated before, the database not yet: its step is done now */
    if ((r = kunci_key_rotation_apply(&cli->ctx, &cli->store, &rep)) != KUNCI_OK) {
        cli_error("the key file %s holds the new key, but the database was not brought along "
                  "(%s): run 'kunci key rotate' again to finish that step",
                  cli->cfg.key_file, kunci_strerror(r));
        return cli_exit_code(r);
    }
    keys = cli->ctx.keys;
    if (cli->json) {
        cli_print_json(json_pack("{s:s, s:s, s:i, s:i}", "key_fingerprint", keys->fingerprint,
                                 "previous_fingerprint", keys->previous->fingerprint,
                                 "secrets_resealed", rep.secrets_resealed, "app_passwords_left",
                                 rep.app_passwords_left));
        return EXIT_OK;
    }
    printf("New master key %.16s in %s; the previous one (%.16s) is kept until the rotation is "
           "finished.\n%d authenticator secret%s encrypted under the new key. Web sessions end "
           "at the restart.\nRestart kunci serve now (systemctl restart kunci); with several "
           "servers, copy %s to each of them and restart them.\n",
           keys->fingerprint, cli->cfg.key_file, keys->previous->fingerprint, rep.secrets_resealed,
           rep.secrets_resealed == 1 ? "" : "s", cli->cfg.key_file);
    say_left(rep.app_passwords_left);
    return EXIT_OK;
}

static int key_finish(struct cli *cli, int argc, char **argv)
{
    static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {NULL, 0, NULL, 0}};
    bool force = false;
    int c, r, deleted = 0, left = 0;

    while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
        if (c == 'f')
            force = true;
        else {
            fputs(key_usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (optind != argc) {
        fputs(key_usage, stderr);
        return EXIT_USAGE;
    }
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    if (cli->ctx.keys->previous == NULL) {
        printf("No rotation under way: the key file %s holds one key.\n", cli->cfg.key_file);
        return EXIT_OK;
    }
    r = kunci_key_rotation_finish(&cli->ctx, &cli->store, force, &deleted);
    if (r == KUNCI_ERR_LIMIT) {
        (void)kunci_key_rotation_left(&cli->ctx, &cli->store, &left);
        cli_error("%d app password%s still use%s the previous key: not finished. They move to "
                  "the new key at their next use; --force finishes now and deletes them",
                  left, left == 1 ? "" : "s", left == 1 ? "s" : "");
        return EXIT_FAIL;
    }
    if (r != KUNCI_OK)
        return cli_fail(r, cli->cfg.store_location);
    if ((r = kunci_keys_drop_previous(cli->cfg.key_file)) != KUNCI_OK)
        return cli_fail(r, cli->cfg.key_file);
    if (cli->json) {
        cli_print_json(json_pack("{s:s, s:i}", "key_fingerprint", cli->ctx.keys->fingerprint,
                                 "app_passwords_deleted", deleted));
        return EXIT_OK;
    }
    if (deleted > 0)
        printf("%d app password%s under the previous key deleted.\n", deleted,
               deleted == 1 ? "" : "s");
    printf("Rotation finished: %s holds only the key %.16s. With several servers, copy it to "
           "each of them and restart them.\n",
           cli->cfg.key_file, cli->ctx.keys->fingerprint);
    return EXIT_OK;
}

static int key_status(struct cli *cli, int argc, char **argv)
{
    int left = 0;
    int r = no_options(cli, argc, argv);
    if (r >= 0)
        return r;
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    const struct kunci_keys *keys = cli->ctx.keys;
    if ((r = kunci_key_rotation_left(&cli->ctx, &cli->store, &left)) != KUNCI_OK)
        return cli_fail(r, cli->cfg.store_location);
    if (cli->json) {
        json_t *j =
            json_pack("{s:s, s:s, s:s, s:b, s:i}", "key_file", cli->cfg.key_file, "key_fingerprint",
                      keys->fingerprint, "database_names", cli->store_key, "rotating",
                      keys->previous != NULL, "app_passwords_left", left);
        json_object_set_new(j, "previous_fingerprint",
                            keys->previous ? json_string(keys->previous->fingerprint)
                                           : json_null());
        cli_print_json(j);
        return EXIT_OK;
    }
    printf("key file %s: key %.16s%s%.16s\n", cli->cfg.key_file, keys->fingerprint,
           keys->previous ? ", previous " : "", keys->previous ? keys->previous->fingerprint : "");
    printf("database %s names key %.16s\n", cli->cfg.store_location, cli->store_key);
    if (keys->previous != NULL)
        say_left(left);
    return EXIT_OK;
}

int cmd_key(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {{"rotate", key_rotate, NULL},
                                          {"finish-rotation", key_finish, NULL},
                                          {"status", key_status, NULL},
                                          {NULL, NULL, NULL}};
    return cli_dispatch(cli, "key", cmds, argc, argv, key_usage);
}
