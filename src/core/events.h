/* The activity record: every security event (a sign-in, a mail login's decision, a method
 * or app password added or removed, an administrator's change) with who did it, to whom,
 * from where, and how it ended; never a secret. Shells emit events; a sink stores them (the
 * server batches them off the request threads, src/listen/event_queue.c; the CLI writes
 * each at once). Allowed mail logins are aggregated: one row per app password (or
 * password), address and protocol per hour, with a count; refusals one per minute. */
#ifndef KUNCI_EVENTS_H
#define KUNCI_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/types.h"

#define KUNCI_EVENT_NAME_MAX   32
#define KUNCI_EVENT_AGENT_MAX  96
#define KUNCI_EVENT_REASON_MAX 40
#define KUNCI_EVENT_DETAIL_MAX 160
#define KUNCI_EVENT_AGG_BYTES  16

struct kunci_event {
    int64_t id; /* set by the store */
    int64_t at; /* seconds (UTC) */
    int64_t last_at;
    char event[KUNCI_EVENT_NAME_MAX];    /* "sign_in", "mail_login", "method_added", ... */
    char actor[KUNCI_LOGIN_MAX + 1];     /* who acted: a login, or "cli" */
    char subject[KUNCI_LOGIN_MAX + 1];   /* whose account: a canonical login, or "" */
    int64_t account_id;                  /* the subject's id when it is an account */
    char client_ip[KUNCI_IP_MAX + 1];    /* "" when not known */
    char agent[KUNCI_EVENT_AGENT_MAX];   /* a protocol ("imap"), or the browser's user agent */
    char outcome[12];                    /* "ok", "refused", "tempfail" */
    char reason[KUNCI_EVENT_REASON_MAX]; /* why: "wrong_secret", "locked", "by_admin", ... */
    char detail[KUNCI_EVENT_DETAIL_MAX]; /* no secret: an app password's name, a method */
    int64_t app_password_id;
    int count;   /* events this row stands for (aggregated mail logins) */
    bool logged; /* its decision's own line was written (kunci_log_decision): not again */
    /* Aggregation: events with the same key in the same bucket are one row. */
    bool aggregate;
    uint8_t agg_key[KUNCI_EVENT_AGG_BYTES];
    int64_t agg_bucket;
};

/* A new event: name, time, outcome "ok"; the rest empty. Strings are truncated to fit. */
void kunci_event_init(struct kunci_event *ev, const char *name, int64_t now);
void kunci_event_set(char *field, size_t size, const char *value);
#define KUNCI_EVENT_SET(ev, field, value) kunci_event_set((ev)->field, sizeof((ev)->field), (value))

/* A mail login's decision: aggregated as the record says. */
void kunci_event_mail_login(struct kunci_event *ev, int64_t now, const char *login,
                            int64_t account_id, const char *protocol, const char *client_ip,
                            const char *result, int64_t app_password_id);

/* Where events go. The default sink drops them; the log line is written either way. */
typedef void (*kunci_event_sink)(void *arg, const struct kunci_event *ev);
/* flush (may be NULL) waits until what was emitted before is stored. */
void kunci_events_set_sink(kunci_event_sink sink, void (*flush)(void *arg), void *arg);
/* Before reading the record: what this process emitted is in it. */
void kunci_events_flush(void);
/* Whether events are kept (a sink, and activity_days > 0 as the sink last read it): the
 * mail path builds no event it would throw away. */
bool kunci_events_recording(void);
void kunci_events_set_recording(bool on);
/* Logs the event (one line "audit.<event>"; JSON with [log] format = json) unless it was
 * logged already, and hands it to the sink. */
void kunci_event_emit(const struct kunci_event *ev);

/* Which events a listing wants; empty strings and zeros match everything. */
struct kunci_event_query {
    int64_t account_id; /* the subject's account */
    char subject[KUNCI_LOGIN_MAX + 1];
    char event[KUNCI_EVENT_NAME_MAX];
    char outcome[12];
    char agent[KUNCI_EVENT_AGENT_MAX]; /* a protocol, exactly */
    char client_ip[KUNCI_IP_MAX + 1];
    int64_t since, until; /* at >= since, at < until (0: no bound) */
    int64_t before_id;    /* paging: rows older than this id */
    int limit;            /* newest first; at most KUNCI_EVENT_LIST_MAX */
};
#define KUNCI_EVENT_LIST_MAX 1000
typedef int (*kunci_event_cb)(void *arg, const struct kunci_event *ev);

#endif
