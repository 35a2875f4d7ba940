/* kunci audit list|export: the activity record (core/events.h) for administrators and
 * scripts. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/events.h"
#include "core/login.h"
#include "core/timespec.h"

static const char audit_usage[] =
    "Usage: kunci audit list [--user LOGIN] [--since WHEN] [--until WHEN] [--event E]\n"
    "                        [--outcome ok|refused|tempfail] [--protocol P] [--ip IP]\n"
    "                        [--limit N] [--json]\n"
    "       kunci audit export [the same filters]\n"
    "\n"
    "The activity record: web sign-ins and second factors, every mail login's decision\n"
    "(allowed ones one row per app password, address and protocol per hour, with a count),\n"
    "methods and app passwords added and removed, MFA states, users and settings changed,\n"
    "lockouts cleared. Kept activity_days (kunci settings). Newest first.\n"
    "WHEN is 7d, 12h, 2w (that long ago) or a date: 2026-11-01 or 2026-11-01T08:00:00Z (UTC).\n"
    "'list' prints a table (--json: an array), at most --limit rows (default 100, at most\n"
    "1000); 'export' prints every matching event as one JSON object per line, oldest last.\n"
    "Events: sign_in second_factor mail_login method_added method_removed method_renamed\n"
    "method_default app_password_created app_password_deleted app_passwords_deleted\n"
    "mfa_state_changed password_changed password_reset user_created user_enabled user_disabled\n"
    "user_changed user_deleted settings_changed lockout_cleared sessions_revoked\n";

struct audit {
    json_t *json; /* list --json: the array */
    bool lines;   /* export: a JSON object per line */
    int rows;
    int64_t last_id;
};

static json_t *event_json(const struct kunci_event *e)
{
    char at[32], last[32];
    kunci_time_format(e->at, at, sizeof(at));
    kunci_time_format(e->last_at, last, sizeof(last));
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:i}", "id",
                     (json_int_t)e->id, "at", at, "last_at", last, "event", e->event, "actor",
                     e->actor, "subject", e->subject, "client_ip", e->client_ip, "agent", e->agent,
                     "outcome", e->outcome, "reason", e->reason, "detail", e->detail,
                     "app_password_id", (json_int_t)e->app_password_id, "count", e->count);
}

static int print_event(void *arg, const struct kunci_event *e)
{
    struct audit *a = arg;
    a->last_id = e->id;
    if (a->json != NULL) {
        json_array_append_new(a->json, event_json(e));
    } else if (a->lines) {
        json_t *o = event_json(e);
        char *text = o != NULL ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(o);
        if (text != NULL) {
            puts(text);
            free(text);
        }
    } else {
        char at[32];
        kunci_time_format(e->at, at, sizeof(at));
        if (a->rows == 0)
            printf("%-20s  %-22s  %-30s  %-15s  %-9s  %-8s  %s\n", "TIME", "EVENT", "SUBJECT", "IP",
                   "AGENT", "OUTCOME", "REASON / DETAIL");
        char more[32] = "";
        if (e->count > 1)
            snprintf(more, sizeof(more), " (x%d)", e->count);
        printf("%-20s  %-22s  %-30s  %-15s  %-9s  %-8s  %s%s%s%s\n", at, e->event,
               e->subject[0] ? e->subject : "-", e->client_ip[0] ? e->client_ip : "-",
               e->agent[0] ? e->agent : "-", e->outcome, e->reason,
               e->reason[0] && e->detail[0] ? " " : "", e->detail, more);
    }
    a->rows++;
    return KUNCI_OK;
}

static int parse(struct cli *cli, int argc, char **argv, struct kunci_event_query *q)
{
    static const struct option opts[] = {{"user", required_argument, NULL, 'u'},
                                         {"since", required_argument, NULL, 's'},
                                         {"until", required_argument, NULL, 't'},
                                         {"event", required_argument, NULL, 'e'},
                                         {"outcome", required_argument, NULL, 'o'},
                                         {"protocol", required_argument, NULL, 'p'},
                                         {"ip", required_argument, NULL, 'i'},
                                         {"limit", required_argument, NULL, 'l'},
                                         {NULL, 0, NULL, 0}};
    int64_t now = (int64_t)time(NULL);
    int c;
    char *end;

    memset(q, 0, sizeof(*q));
    q->limit = 100;
    while ((c = cli_getopt(cli, argc, argv, "", opts)) != -1) {
        switch (c) {
        case 'u':
            if (kunci_login_canonical(optarg, strlen(optarg), q->subject) != KUNCI_OK) {
                cli_error("not a valid login (expected an address like alice@example.org): %s",
                          optarg);
                return EXIT_USAGE;
            }
            break;
        case 's':
        case 't':
            if (kunci_since_parse(optarg, now, c == 's' ? &q->since : &q->until) != KUNCI_OK) {
                cli_error("--%s takes 7d, 12h, 2w or a date like 2026-11-01, not '%s'",
                          c == 's' ? "since" : "until", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'e':
            kunci_event_set(q->event, sizeof(q->event), optarg);
            break;
        case 'o':
            if (strcmp(optarg, "ok") != 0 && strcmp(optarg, "refused") != 0 &&
                strcmp(optarg, "tempfail") != 0) {
                cli_error("--outcome is ok, refused or tempfail, not '%s'", optarg);
                return EXIT_USAGE;
            }
            kunci_event_set(q->outcome, sizeof(q->outcome), optarg);
            break;
        case 'p':
            kunci_event_set(q->agent, sizeof(q->agent), optarg);
            break;
        case 'i':
            kunci_event_set(q->client_ip, sizeof(q->client_ip), optarg);
            break;
        case 'l': {
            long v = strtol(optarg, &end, 10);
            if (*end != '\0' || v < 1 || v > KUNCI_EVENT_LIST_MAX) {
                cli_error("--limit is 1 to %d, not '%s'", KUNCI_EVENT_LIST_MAX, optarg);
                return EXIT_USAGE;
            }
            q->limit = (int)v;
            break;
        }
        default:
            fputs(audit_usage, c == 'h' ? stdout : stderr);
            return c == 'h' ? EXIT_OK : EXIT_USAGE;
        }
    }
    if (argc != optind) {
        fputs(audit_usage, stderr);
        return EXIT_USAGE;
    }
    return -1;
}

static int audit_list(struct cli *cli, int argc, char **argv)
{
    struct kunci_event_query q;
    struct audit a = {NULL, false, 0, 0};
    int r = parse(cli, argc, argv, &q);
    if (r >= 0)
        return r;
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    if (cli->json)
        a.json = json_array();
    r = kunci_store_event_list(&cli->store, &q, print_event, &a);
    if (r != KUNCI_OK) {
        json_decref(a.json);
        return cli_fail(r, "audit list");
    }
    if (a.json != NULL)
        cli_print_json(a.json);
    else if (a.rows == 0)
        printf("no events\n");
    return EXIT_OK;
}

static int audit_export(struct cli *cli, int argc, char **argv)
{
    struct kunci_event_query q;
    struct audit a = {NULL, true, 0, 0};
    int r = parse(cli, argc, argv, &q);
    if (r >= 0)
        return r;
    if ((r = cli_open(cli)) != EXIT_OK)
        return r;
    q.limit = KUNCI_EVENT_LIST_MAX;
    for (;;) { /* page by page, newest first */
        int before = a.rows;
        r = kunci_store_event_list(&cli->store, &q, print_event, &a);
        if (r != KUNCI_OK)
            return cli_fail(r, "audit export");
        if (a.rows - before < q.limit)
            break;
        q.before_id = a.last_id;
    }
    return EXIT_OK;
}

int cmd_audit(struct cli *cli, int argc, char **argv)
{
    static const struct command cmds[] = {
        {"list", audit_list, NULL}, {"export", audit_export, NULL}, {NULL, NULL, NULL}};
    return cli_dispatch(cli, "audit", cmds, argc, argv, audit_usage);
}
