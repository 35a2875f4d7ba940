/* The `kunci` command: one file per command family, this header for what they share. */
#ifndef KUNCI_CLI_H
#define KUNCI_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "core/context.h"
#include "core/store.h"
#include "store/open.h"

/* Documented exit codes (README, "Exit codes"). */
enum {
    EXIT_OK = 0,
    EXIT_FAIL = 1,     /* refused, not found, invalid input */
    EXIT_TEMPFAIL = 2, /* storage unavailable: try again later */
    EXIT_USAGE = 64,   /* bad command line (sysexits EX_USAGE) */
};

struct cli {
    const char *config_path;
    const char *data_dir;
    bool json;
    bool create_store; /* kunci init */
    struct kunci_config cfg;
    struct kunci_ctx ctx;
    struct kunci_store_handle store;
    bool config_ready, ctx_ready, store_ready;
    char store_key[KUNCI_KEY_FINGERPRINT_HEX + 1]; /* the key fingerprint the database names */
};

struct command {
    const char *name;
    int (*run)(struct cli *cli, int argc, char **argv);
    const char *summary;
};

/* Loads the configuration (file, environment, flags) without touching keys or store. */
int cli_load_config(struct cli *cli);
/* The same into cfg, saying in err what is wrong (kunci serve's SIGHUP). */
int cli_read_config(struct cli *cli, struct kunci_config *cfg, char *err, size_t err_size);
/* Loads keys and opens the store; prints the reason and returns an exit code on failure. */
int cli_open(struct cli *cli);
void cli_close(struct cli *cli);
int cli_exit_code(int err);
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Reports a KUNCI_ERR_* about `what` and returns the matching exit code. */
int cli_fail(int err, const char *what);
/* getopt_long over a subcommand's argv, adding --json and --help to opts. Returns the option,
 * -1 at the end, 'h' for help, '?' on an error (already printed). */
int cli_getopt(struct cli *cli, int argc, char **argv, const char *shortopts,
               const struct option *opts);
/* A new password: from stdin with --password-stdin, asked twice on a terminal, otherwise
 * generated (generated_r set; the caller prints it once). */
int cli_new_password(bool from_stdin, char *out, size_t size, bool *generated_r);
/* Reads all of stdin (at most size - 1 bytes, one trailing newline dropped). */
int cli_read_stdin_secret(char *out, size_t size, size_t *len_r);
void cli_print_json(json_t *value);
int cli_account(struct cli *cli, const char *login, struct kunci_account *acct_r);
/* The accounts a bulk command names: logins[0..n) and the lines of from_file (may be NULL;
 * "-" is standard input; blank lines and # comments skipped). Every one must exist, or
 * nothing is done: each unknown login is reported and EXIT_FAIL returned. *accts_r is
 * malloc'd. */
int cli_accounts(struct cli *cli, char **logins, int n, const char *from_file,
                 struct kunci_account **accts_r, int *n_r);
/* An event in the activity record (core/events.h), done from the command line by the
 * Unix user ("cli:root") to subject (NULL: none), written at once. */
void cli_event(struct cli *cli, const char *name, const struct kunci_account *subject,
               const char *detail);
/* The same with a reason other than "by_admin" ("device_apple"). */
void cli_event_why(struct cli *cli, const char *name, const struct kunci_account *subject,
                   const char *reason, const char *detail);

int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);
int cmd_user(struct cli *cli, int argc, char **argv);
int cmd_mfa(struct cli *cli, int argc, char **argv);
int cmd_app_password(struct cli *cli, int argc, char **argv);
int cmd_auth(struct cli *cli, int argc, char **argv);
int cmd_settings(struct cli *cli, int argc, char **argv);
int cmd_lockout(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_sessions(struct cli *cli, int argc, char **argv);
int cmd_devices(struct cli *cli, int argc, char **argv);
int cmd_device(struct cli *cli, int argc, char **argv);
int cmd_checkpassword(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_key(struct cli *cli, int argc, char **argv);
int cmd_restore(struct cli *cli, int argc, char **argv);
/* The serve lock (DATA_DIR/kunci.lock): kunci serve holds it shared, waiting while a restore
 * holds it alone; kunci restore takes it alone or fails at once (EWOULDBLOCK). Returns the
 * descriptor to keep open, or -1 with errno. */
int cli_serve_lock(struct cli *cli, bool alone);
/* Finds argv[1] among cmds and runs it; prints usage on no or unknown subcommand. With
 * argv[1] "--list-commands", prints "family name" for each of cmds, one a line. */
int cli_dispatch(struct cli *cli, const char *family, const struct command *cmds, int argc,
                 char **argv, const char *usage);

#endif
