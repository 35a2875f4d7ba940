#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include <bsd/readpassphrase.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/key_binding.h"
#include "core/events.h"
#include "core/notify.h"
#include "delivery/delivery.h"
#include "core/settings.h"
#include "core/secret.h"

void cli_error(const char *fmt, ...)
{
    va_list ap;

    fputs("kunci: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_exit_code(int err)
{
    if (err == KUNCI_OK)
        return EXIT_OK;
    if (err == KUNCI_ERR_TEMPFAIL)
        return EXIT_TEMPFAIL;
    return EXIT_FAIL;
}

int cli_fail(int err, const char *what)
{
    if (err == KUNCI_ERR_TEMPFAIL)
        cli_error("%s: the database is unavailable or busy; try again later", what);
    else
        cli_error("%s: %s", what, kunci_strerror(err));
    return cli_exit_code(err);
}

/* What waiting will not fix, with the path and what to do. */
static int store_problem(const struct kunci_config *cfg, int err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", cfg->store_location);
    char *slash = strrchr(dir, '/');
    if (slash != NULL)
        *slash = '\0';
    if (err == KUNCI_ERR_STORE_ACCESS)
        cli_error("the database %s cannot be opened for writing: the file and its directory "
                  "%s must belong to this user and be writable (for the -wal and -shm files "
                  "next to it), on a file system that is not read-only",
                  cfg->store_location, slash != NULL ? dir : ".");
    else if (err == KUNCI_ERR_STORE_INVALID)
        cli_error("%s is not kunci's database, or it is damaged: restore it from a backup, or "
                  "move it away and run 'kunci init' for a new one",
                  cfg->store_location);
    else if (err == KUNCI_ERR_SCHEMA)
        cli_error("the database %s was made by a newer kunci: run that version",
                  cfg->store_location);
    else
        return cli_fail(err, cfg->store_location);
    return EXIT_FAIL;
}

int cli_read_config(struct cli *cli, struct kunci_config *cfg, char *err, size_t err_size)
{
    char implicit[PATH_MAX];
    const char *env_dir = getenv("KUNCI_DATA_DIR");
    const char *path = cli->config_path ? cli->config_path : getenv("KUNCI_CONFIG");

    kunci_config_defaults(cfg);
    if (path == NULL) {
        /* Without --config, a kunci.conf in the data directory is read if present. */
        const char *dir = cli->data_dir ? cli->data_dir
                          : env_dir     ? env_dir
                                        : KUNCI_DEFAULT_DATA_DIR;
        snprintf(implicit, sizeof(implicit), "%s/kunci.conf", dir);
        if (access(implicit, F_OK) == 0)
            path = implicit;
    }
    if (path != NULL && kunci_config_load(cfg, path, err, err_size) != KUNCI_OK)
        return KUNCI_ERR_INVALID;
    const char *dir = cli->data_dir ? cli->data_dir : env_dir;
    if (dir != NULL) {
        if (strlen(dir) >= sizeof(cfg->data_dir)) {
            snprintf(err, err_size, "data directory path too long");
            return KUNCI_ERR_INVALID;
        }
        snprintf(cfg->data_dir, sizeof(cfg->data_dir), "%s", dir);
    }
    kunci_config_finish(cfg);
    return KUNCI_OK;
}

/* Root working on a data directory that belongs to another user (the packaged service's
 * /var/lib/kunci, owned by kunci) becomes that user first: the files a command makes there
 * (the key, the database's -wal and -shm, kunci.lock) would otherwise be root's, and the
 * service could not open them. */
static int become_data_owner(const struct kunci_config *cfg)
{
    struct stat st;
    if (geteuid() != 0 || stat(cfg->data_dir, &st) != 0 || st.st_uid == 0)
        return EXIT_OK;
    struct passwd *pw = getpwuid(st.st_uid);
    if ((pw != NULL ? initgroups(pw->pw_name, st.st_gid) : setgroups(0, NULL)) != 0 ||
        setgid(st.st_gid) != 0 || setuid(st.st_uid) != 0) {
        cli_error("cannot become %s, the owner of the data directory %s: %s",
                  pw != NULL ? pw->pw_name : "its owner", cfg->data_dir, strerror(errno));
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int cli_load_config(struct cli *cli)
{
    char err[PATH_MAX + 128];
    if (cli->config_ready) /* a command that read it before opening the store */
        return EXIT_OK;
    if (cli_read_config(cli, &cli->cfg, err, sizeof(err)) != KUNCI_OK) {
        cli_error("%s", err);
        return EXIT_USAGE;
    }
    int r = become_data_owner(&cli->cfg);
    cli->config_ready = r == EXIT_OK;
    return r;
}

/* The command line's sink: each event written at once (a command makes few). */
static void write_event(void *arg, const struct kunci_event *ev)
{
    struct cli *cli = arg;
    struct kunci_settings s;
    if (!cli->store_ready)
        return;
    if (kunci_settings_load(&cli->store, &s) == KUNCI_OK && s.activity_days == 0)
        return;
    int r = kunci_store_event_write(&cli->store, ev, 1);
    char subject[KUNCI_NOTIFY_SUBJECT_MAX], text[KUNCI_NOTIFY_TEXT_MAX], err[256] = "";
    if (r == KUNCI_OK && kunci_notify_message(ev, subject, text) &&
        kunci_delivery_notify(&cli->cfg, ev->subject, subject, text, err, sizeof(err)) != KUNCI_OK)
        fprintf(stderr, "kunci: warning: %s was not told by e-mail (%s)\n", ev->subject, err);
    if (r != KUNCI_OK)
        fprintf(stderr,
                "kunci: warning: the change was made, but not recorded in the activity "
                "record (%s)\n",
                kunci_strerror(r));
}

int cli_open(struct cli *cli)
{
    int r = cli_load_config(cli);
    if (r != EXIT_OK)
        return r;
    r = kunci_ctx_init(&cli->ctx, &cli->cfg);
    if (r == KUNCI_ERR_NOT_FOUND) {
        cli_error("no key file at %s; run 'kunci init' first (data directory %s)",
                  cli->cfg.key_file, cli->cfg.data_dir);
        return EXIT_FAIL;
    }
    if (r == KUNCI_ERR_KEY_PERMS) {
        cli_error("refusing to use key file %s: it is readable by group or others; "
                  "run: chmod 600 %s",
                  cli->cfg.key_file, cli->cfg.key_file);
        return EXIT_FAIL;
    }
    if (r != KUNCI_OK) {
        cli_error("key file %s: %s", cli->cfg.key_file, kunci_strerror(r));
        return EXIT_FAIL;
    }
    cli->ctx_ready = true;
    r = kunci_store_open_config(
        &cli->cfg, (cli->create_store ? KUNCI_STORE_CREATE : 0) | KUNCI_STORE_MIGRATE, &cli->store);
    if (r == KUNCI_ERR_TEMPFAIL && strcmp(cli->cfg.store_backend, "sqlite") == 0 &&
        access(cli->cfg.store_location, F_OK) != 0) {
        /* The key is there, so this was set up: a missing database is an outage. */
        cli_error("the database %s is unavailable (missing); try again later, or run "
                  "'kunci init' on a new installation",
                  cli->cfg.store_location);
        return EXIT_TEMPFAIL;
    }
    if (r != KUNCI_OK)
        return store_problem(&cli->cfg, r);
    const char *found = cli->store_key;
    r = kunci_key_binding_check(&cli->ctx, &cli->store, cli->store_key);
    if (r == KUNCI_ERR_KEY_MISMATCH) {
        cli_error("the key file %s (fingerprint %.16s) is not the one the database %s was made "
                  "with (%.16s): app passwords and authenticator codes would all fail. Put back "
                  "the key file that belongs to this database (a backup's key file goes with "
                  "that backup)",
                  cli->cfg.key_file, cli->ctx.keys->fingerprint, cli->cfg.store_location, found);
        kunci_store_close(&cli->store);
        return EXIT_FAIL;
    }
    if (r != KUNCI_OK) {
        kunci_store_close(&cli->store);
        return store_problem(&cli->cfg, r);
    }
    cli->store_ready = true;
    kunci_events_set_sink(write_event, NULL, cli);
    return EXIT_OK;
}

void cli_event(struct cli *cli, const char *name, const struct kunci_account *subject,
               const char *detail)
{
    cli_event_why(cli, name, subject, "by_admin", detail);
}

void cli_event_why(struct cli *cli, const char *name, const struct kunci_account *subject,
                   const char *reason, const char *detail)
{
    struct kunci_event ev;
    struct passwd *pw = getpwuid(geteuid());
    if (!cli->store_ready)
        return; /* nothing was changed */
    char actor[KUNCI_LOGIN_MAX + 1];

    snprintf(actor, sizeof(actor), "cli:%s", pw != NULL ? pw->pw_name : "?");
    kunci_event_init(&ev, name, (int64_t)time(NULL));
    KUNCI_EVENT_SET(&ev, actor, actor);
    KUNCI_EVENT_SET(&ev, agent, "cli");
    KUNCI_EVENT_SET(&ev, reason, reason);
    KUNCI_EVENT_SET(&ev, detail, detail);
    if (subject != NULL) {
        KUNCI_EVENT_SET(&ev, subject, subject->login);
        ev.account_id = subject->id;
    }
    ev.logged = true; /* a command's standard error is for its user, not a log */
    kunci_event_emit(&ev);
}

void cli_close(struct cli *cli)
{
    kunci_events_set_sink(NULL, NULL, NULL);
    if (cli->store_ready)
        kunci_store_close(&cli->store);
    if (cli->ctx_ready)
        kunci_ctx_free(&cli->ctx);
    cli->store_ready = cli->ctx_ready = false;
}

int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *opts)
{
    struct option all[16];
    char shorts[32];
    size_t n = 0;

    for (; opts != NULL && opts[n].name != NULL && n < 13; n++)
        all[n] = opts[n];
    all[n++] = (struct option){"json", no_argument, NULL, 'J'};
    all[n++] = (struct option){"help", no_argument, NULL, 'h'};
    all[n] = (struct option){NULL, 0, NULL, 0};
    /* A leading + (main) stops at the command; subcommands take options anywhere. */
    if (shortopts[0] == '+')
        snprintf(shorts, sizeof(shorts), "+h%s", shortopts + 1);
    else
        snprintf(shorts, sizeof(shorts), "h%s", shortopts);
    for (;;) {
        int c = getopt_long(argc, argv, shorts, all, NULL);
        if (c == 'J') {
            cli->json = true;
            continue;
        }
        return c;
    }
}

/* readpassphrase(3) turns echo off before it prompts (a line typed ahead of the prompt is
 * not echoed), reads from the terminal itself, and puts the terminal back on a signal. */
static int read_line_tty(const char *prompt, char *out, size_t size)
{
    return readpassphrase(prompt, out, size, RPP_REQUIRE_TTY) != NULL ? KUNCI_OK : KUNCI_ERR_IO;
}

int cli_read_stdin_secret(char *out, size_t size, size_t *len_r)
{
    size_t len = 0;
    int c;

    while ((c = getchar()) != EOF) {
        if (len + 1 >= size) {
            sodium_memzero(out, size);
            return KUNCI_ERR_TOO_LONG;
        }
        out[len++] = (char)c;
    }
    if (len > 0 && out[len - 1] == '\n')
        len--;
    if (len > 0 && out[len - 1] == '\r')
        len--;
    out[len] = '\0';
    *len_r = len;
    return KUNCI_OK;
}

int cli_new_password(bool from_stdin, char *out, size_t size, bool *generated_r)
{
    char again[KUNCI_PASSWORD_MAX + 2];
    int r;

    *generated_r = false;
    if (from_stdin) {
        /* One line, so `printf '%s\n' "$pw" | kunci ...` and a heredoc both work. */
        if (fgets(out, (int)size, stdin) == NULL) {
            cli_error("no password on standard input");
            return KUNCI_ERR_INVALID;
        }
        out[strcspn(out, "\r\n")] = '\0';
        return KUNCI_OK;
    }
    if (isatty(STDIN_FILENO)) {
        if (read_line_tty("New password: ", out, size) != KUNCI_OK ||
            read_line_tty("Repeat password: ", again, sizeof(again)) != KUNCI_OK)
            return KUNCI_ERR_IO;
        r = strcmp(out, again) == 0 ? KUNCI_OK : KUNCI_ERR_INVALID;
        sodium_memzero(again, sizeof(again));
        if (r != KUNCI_OK)
            cli_error("the passwords do not match");
        return r;
    }
    if (size <= KUNCI_GENERATED_PASSWORD_LEN)
        return KUNCI_ERR_TOO_LONG;
    kunci_password_generate(out);
    *generated_r = true;
    return KUNCI_OK;
}

void cli_print_json(json_t *value)
{
    char *s = json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (s != NULL) {
        puts(s);
        free(s);
    }
    json_decref(value);
}

int cli_account(struct cli *cli, const char *login, struct kunci_account *acct_r)
{
    int r = kunci_account_get(&cli->store, login, acct_r);
    if (r == KUNCI_ERR_NOT_FOUND)
        cli_error("no such user: %s", login);
    else if (r == KUNCI_ERR_INVALID)
        cli_error("not a valid login (expected an address like alice@example.org): %s", login);
    else if (r != KUNCI_OK)
        return cli_fail(r, login);
    return cli_exit_code(r);
}

static int add_account(struct cli *cli, const char *login, struct kunci_account **list, int *n,
                       int *cap, int *bad)
{
    struct kunci_account a;
    int r = kunci_account_get(&cli->store, login, &a);
    if (r == KUNCI_ERR_NOT_FOUND || r == KUNCI_ERR_INVALID) {
        cli_error("%s: %s", r == KUNCI_ERR_NOT_FOUND ? "no such user" : "not a valid login", login);
        (*bad)++;
        return KUNCI_OK;
    }
    if (r != KUNCI_OK)
        return r;
    /* Whole: a save writes every field back, the password hash too. */
    for (int i = 0; i < *n; i++)
        if ((*list)[i].id == a.id)
            return KUNCI_OK; /* named twice: done once */
    if (*n == *cap) {
        int grown = *cap ? *cap * 2 : 16;
        struct kunci_account *more = realloc(*list, (size_t)grown * sizeof(**list));
        if (more == NULL)
            return KUNCI_ERR_NOMEM;
        *list = more;
        *cap = grown;
    }
    (*list)[(*n)++] = a;
    return KUNCI_OK;
}

int cli_accounts(struct cli *cli, char **logins, int n, const char *from_file,
                 struct kunci_account **accts_r, int *n_r)
{
    struct kunci_account *list = NULL;
    int count = 0, cap = 0, bad = 0, r = KUNCI_OK;

    *accts_r = NULL;
    *n_r = 0;
    for (int i = 0; i < n && r == KUNCI_OK; i++)
        r = add_account(cli, logins[i], &list, &count, &cap, &bad);
    if (r == KUNCI_OK && from_file != NULL) {
        FILE *f = strcmp(from_file, "-") == 0 ? stdin : fopen(from_file, "r");
        if (f == NULL) {
            cli_error("cannot read %s: %s", from_file, strerror(errno));
            sodium_memzero(list, (size_t)count * sizeof(*list));
            free(list);
            return EXIT_FAIL;
        }
        char line[KUNCI_LOGIN_MAX + 64];
        int lineno = 0;
        while (r == KUNCI_OK && fgets(line, sizeof(line), f) != NULL) {
            lineno++;
            char *s = line + strspn(line, " \t");
            s[strcspn(s, "\r\n")] = '\0';
            for (size_t len = strlen(s); len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t');)
                s[--len] = '\0';
            if (s[0] == '\0' || s[0] == '#')
                continue;
            r = add_account(cli, s, &list, &count, &cap, &bad);
        }
        if (f != stdin)
            fclose(f);
    }
    if (r != KUNCI_OK) {
        sodium_memzero(list, (size_t)count * sizeof(*list));
        free(list);
        return cli_fail(r, "users");
    }
    if (bad > 0 || count == 0) {
        if (count == 0 && bad == 0)
            cli_error("no logins given");
        else
            cli_error("%d unknown login%s: nothing was changed", bad, bad == 1 ? "" : "s");
        sodium_memzero(list, (size_t)count * sizeof(*list));
        free(list);
        return count == 0 && bad == 0 ? EXIT_USAGE : EXIT_FAIL;
    }
    *accts_r = list;
    *n_r = count;
    return EXIT_OK;
}

int cli_dispatch(struct cli *cli, const char *family, const struct command *cmds, int argc,
                 char **argv, const char *usage)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "--list-commands") == 0) {
        for (const struct command *c = cmds; c->name != NULL; c++)
            printf("%s%s%s\n", family, family[0] != '\0' ? " " : "", c->name);
        return EXIT_OK;
    }
    for (const struct command *c = cmds; c->name != NULL; c++)
        if (strcmp(c->name, argv[1]) == 0) {
            optind = 0; /* 0 makes glibc getopt start afresh */
            return c->run(cli, argc - 1, argv + 1);
        }
    cli_error("unknown command: %s %s (see 'kunci %s --help')", family, argv[1], family);
    return EXIT_USAGE;
}
