/* kunci backup and kunci restore: the database as one file, and back. The key file is not
 * in the backup (a database copied without it reveals nothing); the backup names its key
 * file's fingerprint, and a restore checks it. */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/keys.h"

static const char backup_usage[] =
    "Usage: kunci backup FILE\n"
    "\n"
    "Writes a consistent copy of the database to the new file FILE (mode 0600), while kunci\n"
    "serves. SQLite only: with PostgreSQL use pg_dump. The key file is not in it: keep a copy\n"
    "of the key file too, apart from the backups (a restore needs the one that goes with\n"
    "the backup).\n";

static const char restore_usage[] =
    "Usage: kunci restore FILE\n"
    "\n"
    "Puts the backup FILE in the database's place. Only while kunci serve is stopped; only a\n"
    "backup made with this key file (put the backup's key file in place first) and by this\n"
    "kunci or an older one (its schema is brought up to date). What the database held is\n"
    "kept beside it as DATABASE.before-restore. SQLite only: with PostgreSQL use pg_restore.\n";

static int one_file(struct cli *cli, int argc, char **argv, const char *usage, const char **file_r)
{
    int c;
    while ((c = cli_getopt(cli, argc, argv, "", NULL)) != -1) {
        fputs(usage, c == 'h' ? stdout : stderr);
        return c == 'h' ? EXIT_OK : EXIT_USAGE;
    }
    if (argc - optind != 1) {
        fputs(usage, stderr);
        return EXIT_USAGE;
    }
    *file_r = argv[optind];
    return -1;
}

static bool sqlite_or_say(struct cli *cli, const char *what, const char *tool)
{
    if (strcmp(cli->cfg.store_backend, "sqlite") == 0)
        return true;
    cli_error("kunci %s works on SQLite databases; this one is %s: use %s (and keep the key "
              "file %s with the dumps, apart from them)",
              what, cli->cfg.store_backend, tool, cli->cfg.key_file);
    return false;
}

int cmd_backup(struct cli *cli, int argc, char **argv)
{
    const char *file;
    int r = one_file(cli, argc, argv, backup_usage, &file);
    if (r >= 0)
        return r;
    if ((r = cli_load_config(cli)) != EXIT_OK)
        return r;
    if (!sqlite_or_say(cli, "backup", "pg_dump -Fc"))
        return EXIT_FAIL;
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    errno = 0;
    r = kunci_store_backup(&cli->cfg, file);
    if (r == KUNCI_ERR_EXISTS) {
        cli_error("%s exists: kunci backup never writes over a file; name a new one", file);
        return EXIT_FAIL;
    }
    if ((r == KUNCI_ERR_IO || r == KUNCI_ERR_STORE_ACCESS) && errno != 0) {
        cli_error("cannot write the backup %s: %s", file, strerror(errno));
        return EXIT_FAIL;
    }
    if (r != KUNCI_OK)
        return cli_fail(r, file);
    struct kunci_backup_facts facts;
    if ((r = kunci_store_inspect(&cli->cfg, file, &facts)) != KUNCI_OK)
        return cli_fail(r, file);
    if (cli->json) {
        cli_print_json(json_pack("{s:s, s:s, s:i, s:s, s:s}", "file", file, "database",
                                 cli->cfg.store_location, "schema_version", facts.version,
                                 "key_fingerprint", facts.fingerprint, "key_file",
                                 cli->cfg.key_file));
    } else {
        printf("backup of %s written to %s (schema %d, key fingerprint %.16s)\n"
               "Keep a copy of the key file %s too, apart from the backups: a restore needs "
               "it.\n",
               cli->cfg.store_location, file, facts.version, facts.fingerprint, cli->cfg.key_file);
    }
    return EXIT_OK;
}

/* Every kunci serve holds DATA_DIR/kunci.lock shared while it runs; a restore holds it alone
 * (cmd_serve.c takes it). Returns the descriptor, or -1 (errno). */
int cli_serve_lock(struct cli *cli, bool alone)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/kunci.lock", cli->cfg.data_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 && (errno == EACCES || errno == EROFS)) /* a read-only data directory */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    if (flock(fd, (alone ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0)
        return fd;
    if (errno == EWOULDBLOCK && !alone) {
        /* A restore is under way: serve what it puts back, once it is done. */
        fprintf(stderr, "kunci: waiting for a restore to finish (%s is held)\n", path);
        if (flock(fd, LOCK_SH) == 0)
            return fd;
    }
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
    const char *file;
    int r = one_file(cli, argc, argv, restore_usage, &file);
    if (r >= 0)
        return r;
    if ((r = cli_load_config(cli)) != EXIT_OK)
        return r;
    if (!sqlite_or_say(cli, "restore", "pg_restore"))
        return EXIT_FAIL;
    if ((r = kunci_ctx_init(&cli->ctx, &cli->cfg)) != KUNCI_OK) {
        cli_error("key file %s: %s (a restore needs the key file that goes with the backup)",
                  cli->cfg.key_file, r == KUNCI_ERR_NOT_FOUND ? "missing" : kunci_strerror(r));
        return EXIT_FAIL;
    }
    cli->ctx_ready = true;
    int lock = cli_serve_lock(cli, true);
    if (lock < 0) {
        if (errno == EWOULDBLOCK)
            cli_error("kunci serve is running on %s (%s/kunci.lock is held): stop it first "
                      "(systemctl stop kunci), then restore",
                      cli->cfg.store_location, cli->cfg.data_dir);
        else
            cli_error("%s/kunci.lock: %s", cli->cfg.data_dir, strerror(errno));
        return EXIT_FAIL;
    }
    struct kunci_backup_facts facts;
    struct stat backup_st, live_st;
    r = kunci_store_inspect(&cli->cfg, file, &facts);
    if (r == KUNCI_OK && stat(file, &backup_st) == 0 &&
        stat(cli->cfg.store_location, &live_st) == 0 && backup_st.st_dev == live_st.st_dev &&
        backup_st.st_ino == live_st.st_ino) {
        cli_error("%s is the database itself, not a backup of it: nothing was changed", file);
        r = KUNCI_ERR_INVALID;
    } else if (r == KUNCI_ERR_NOT_FOUND)
        cli_error("%s: no such file", file);
    else if (r == KUNCI_ERR_STORE_INVALID)
        cli_error("%s is not a kunci database, or it is damaged: nothing was changed", file);
    else if (r != KUNCI_OK)
        cli_error("%s: %s", file, kunci_strerror(r));
    else if (facts.version > facts.newest_version)
        cli_error("%s was made by a newer kunci (schema %d; this one knows %d): restore it with "
                  "that version; nothing was changed",
                  file, facts.version, facts.newest_version);
    else if (facts.fingerprint[0] == '\0')
        cli_error("%s does not name the key file it belongs to (made before kunci 0.9?): "
                  "restore it by hand with sqlite3 if you are sure; nothing was changed",
                  file);
    else if (strcmp(facts.fingerprint, cli->ctx.keys->fingerprint) != 0)
        cli_error("%s was made with another key file (fingerprint %.16s; %s is %.16s): put "
                  "the backup's key file in place first; nothing was changed",
                  file, facts.fingerprint, cli->cfg.key_file, cli->ctx.keys->fingerprint);
    else {
        char keep[PATH_MAX + 16];
        snprintf(keep, sizeof(keep), "%s.before-restore", cli->cfg.store_location);
        r = kunci_store_restore(&cli->cfg, file, keep);
        if (r != KUNCI_OK) {
            close(lock);
            return cli_fail(r, cli->cfg.store_location);
        }
        /* Brings an older backup's schema up to date, and checks it opens. */
        if ((r = cli_open(cli)) != EXIT_OK) {
            close(lock);
            return r;
        }
        if (cli->json)
            cli_print_json(json_pack("{s:s, s:s, s:i, s:s}", "restored", file, "database",
                                     cli->cfg.store_location, "schema_version", facts.version,
                                     "kept", keep));
        else
            printf("restored %s into %s (schema %d); what it held before is kept as %s\n", file,
                   cli->cfg.store_location, facts.version, keep);
        close(lock);
        return EXIT_OK;
    }
    close(lock);
    return r == KUNCI_ERR_TEMPFAIL ? EXIT_TEMPFAIL : EXIT_FAIL;
}
