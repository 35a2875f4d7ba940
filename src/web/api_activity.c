/* /api/v1/activity: the activity record (core/events.h). The user's own (Recent activity,
 * with the reason of every refusal, which only the owner and administrators see) and
 * "This wasn't me"; everyone's for administrators, filtered. */
#include "web/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/events.h"
#include "core/login.h"
#include "core/settings.h"
#include "core/timespec.h"

#define USER_DAYS_DEFAULT  30
#define LIST_LIMIT_DEFAULT 100

struct listing {
    json_t *items;
    json_t *names; /* the user's app passwords by id, for "app password 'Laptop'" */
    bool admin;
    int64_t last_id;
};

static json_t *text_or_null(const char *s)
{
    return s[0] != '\0' ? json_string(s) : json_null();
}

static int add_event(void *arg, const struct kunci_event *e)
{
    struct listing *l = arg;
    char at[32], last[32], id[24];

    kunci_time_format(e->at, at, sizeof(at));
    kunci_time_format(e->last_at, last, sizeof(last));
    json_t *o = json_pack(
        "{s:I, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:i}", "id", (json_int_t)e->id, "at",
        at, "last_at", last, "event", e->event, "client_ip", text_or_null(e->client_ip), "agent",
        text_or_null(e->agent), "reason", text_or_null(e->reason), "outcome", e->outcome, "detail",
        text_or_null(e->detail), "app_password_id",
        e->app_password_id ? json_integer(e->app_password_id) : json_null(), "count", e->count);
    if (o == NULL)
        return 0;
    if (l->names != NULL) { /* the owner's view: the app password by its name */
        snprintf(id, sizeof(id), "%lld", (long long)e->app_password_id);
        json_t *name = e->app_password_id != 0 ? json_object_get(l->names, id) : NULL;
        json_object_set_new(o, "app_password", name != NULL ? json_incref(name) : json_null());
    }
    /* Who acted: another person (an administrator) is named to the owner too. */
    json_object_set_new(o, "actor", text_or_null(e->actor));
    if (l->admin)
        json_object_set_new(o, "subject", text_or_null(e->subject));
    json_array_append_new(l->items, o);
    l->last_id = e->id;
    return 0;
}

static int add_name(void *arg, const struct kunci_app_password *ap)
{
    char id[24];
    snprintf(id, sizeof(id), "%lld", (long long)ap->id);
    json_object_set_new(arg, id, json_string(ap->name));
    return 0;
}

static const char *arg(struct web_request *rq, const char *name)
{
    const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
    return v != NULL ? v : "";
}

static enum MHD_Result listing_reply(struct web_request *rq, struct kunci_event_query *q,
                                     struct listing *l)
{
    kunci_events_flush(); /* what this server recorded a moment ago is in the answer */
    int r = kunci_store_event_list(rq->h, q, add_event, l);
    json_decref(l->names);
    if (r != KUNCI_OK) {
        json_decref(l->items);
        return api_fail(rq, r);
    }
    size_t n = json_array_size(l->items);
    return api_json(
        rq, 200,
        json_pack("{s:o, s:o}", "items", l->items, "next_before",
                  n > 0 && (int)n == q->limit ? json_integer(l->last_id) : json_null()));
}

/* limit and before, shared by both listings. */
static bool paging(struct web_request *rq, struct kunci_event_query *q, enum MHD_Result *ret_r)
{
    const char *limit = arg(rq, "limit"), *before = arg(rq, "before");
    char *end;
    q->limit = LIST_LIMIT_DEFAULT;
    if (limit[0] != '\0') {
        long v = strtol(limit, &end, 10);
        if (*end != '\0' || v < 1 || v > KUNCI_EVENT_LIST_MAX) {
            *ret_r = api_error(rq, 400, "invalid", "limit is 1 to 1000.");
            return false;
        }
        q->limit = (int)v;
    }
    if (before[0] != '\0') {
        long long v = strtoll(before, &end, 10);
        if (*end != '\0' || v < 1) {
            *ret_r = api_error(rq, 400, "invalid", "before is an event's id.");
            return false;
        }
        q->before_id = v;
    }
    return true;
}

enum MHD_Result api_activity(struct web_request *rq)
{
    struct kunci_event_query q = {.account_id = rq->account.id};
    struct kunci_settings s;
    enum MHD_Result ret;

    if (!paging(rq, &q, &ret))
        return ret;
    int days = kunci_settings_load(rq->h, &s) == KUNCI_OK && s.activity_days > 0
                   ? (s.activity_days < USER_DAYS_DEFAULT ? s.activity_days : USER_DAYS_DEFAULT)
                   : USER_DAYS_DEFAULT;
    q.since = rq->now - (int64_t)days * 86400;
    struct listing l = {json_array(), json_object(), false, 0};
    kunci_store_best_effort(
        kunci_store_app_password_list(rq->h, rq->account.id, add_name, l.names));
    return listing_reply(rq, &q, &l);
}

/* This wasn't me: every other session ends and remembered devices are forgotten; the user
 * goes on to change the password. */
enum MHD_Result api_activity_not_me(struct web_request *rq)
{
    int r =
        kunci_store_account_update(rq->h, &rq->account, KUNCI_UPDATE_END_SESSIONS, rq->session.id);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    web_event(rq, "sessions_revoked", NULL, NULL, "not_me", NULL);
    return api_json(rq, 200,
                    json_pack("{s:b, s:s}", "signed_out_elsewhere", 1, "next", "change_password"));
}

enum MHD_Result api_admin_activity(struct web_request *rq)
{
    struct kunci_event_query q = {0};
    enum MHD_Result ret;
    const char *user = arg(rq, "user"), *since = arg(rq, "since"), *until = arg(rq, "until");

    if (!paging(rq, &q, &ret))
        return ret;
    if (user[0] != '\0' && kunci_login_canonical(user, strlen(user), q.subject) != KUNCI_OK)
        return api_error(rq, 400, "bad_login", "Enter a login like alice@example.org.");
    kunci_event_set(q.event, sizeof(q.event), arg(rq, "event"));
    kunci_event_set(q.outcome, sizeof(q.outcome), arg(rq, "outcome"));
    kunci_event_set(q.agent, sizeof(q.agent), arg(rq, "protocol"));
    kunci_event_set(q.client_ip, sizeof(q.client_ip), arg(rq, "ip"));
    if ((since[0] != '\0' && kunci_since_parse(since, rq->now, &q.since) != KUNCI_OK) ||
        (until[0] != '\0' && kunci_since_parse(until, rq->now, &q.until) != KUNCI_OK))
        return api_error(rq, 400, "bad_time",
                         "since and until are like 7d, 12h or 2026-11-01 (UTC).");
    struct listing l = {json_array(), NULL, true, 0};
    return listing_reply(rq, &q, &l);
}
