#include "core/events.h"

#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"

void kunci_event_set(char *field, size_t size, const char *value)
{
    /* On the mail path for every decision: a bounded copy, not a formatted print. */
    if (size == 0)
        return;
    if (value == NULL || memccpy(field, value, '\0', size) == NULL)
        field[value == NULL ? 0 : size - 1] = '\0';
}

void kunci_event_init(struct kunci_event *ev, const char *name, int64_t now)
{
    memset(ev, 0, sizeof(*ev));
    KUNCI_EVENT_SET(ev, event, name);
    KUNCI_EVENT_SET(ev, outcome, "ok");
    ev->at = ev->last_at = now;
    ev->count = 1;
}

void kunci_event_mail_login(struct kunci_event *ev, int64_t now, const char *login,
                            int64_t account_id, const char *protocol, const char *client_ip,
                            const char *result, int64_t app_password_id)
{
    bool allowed = strcmp(result, "allowed") == 0;
    /* SipHash under a fixed key: the same row on every server (the key only spreads). */
    static const uint8_t agg_secret[crypto_shorthash_KEYBYTES] = {0};
    char key[512];
    size_t len = 0;

    kunci_event_init(ev, "mail_login", now);
    KUNCI_EVENT_SET(ev, subject, login);
    KUNCI_EVENT_SET(ev, actor, login);
    ev->account_id = account_id;
    KUNCI_EVENT_SET(ev, agent, protocol);
    KUNCI_EVENT_SET(ev, client_ip, client_ip);
    KUNCI_EVENT_SET(ev, outcome,
                    allowed                           ? "ok"
                    : strcmp(result, "tempfail") == 0 ? "tempfail"
                                                      : "refused");
    if (!allowed)
        KUNCI_EVENT_SET(ev, reason, result);
    ev->app_password_id = app_password_id;
    /* One row per credential, address, protocol and outcome: per hour when allowed, per
     * minute when refused (a flood of guesses is a few rows with a count). */
    ev->aggregate = true;
    ev->agg_bucket = allowed ? now / 3600 : now / 60;
    memcpy(key, &app_password_id, sizeof(app_password_id));
    len = sizeof(app_password_id);
    const char *parts[] = {ev->subject, ev->client_ip, ev->agent, ev->outcome, ev->reason};
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
        size_t n = strlen(parts[i]) + 1; /* with its NUL: "a","bc" is not "ab","c" */
        if (len + n > sizeof(key))
            n = sizeof(key) - len;
        memcpy(key + len, parts[i], n);
        len += n;
    }
    crypto_shorthash(ev->agg_key, (const uint8_t *)key, len, agg_secret);
}

typedef void (*flush_fn)(void *arg);
static struct {
    _Atomic(kunci_event_sink) sink;
    _Atomic(flush_fn) flush;
    void *_Atomic arg;
    atomic_bool recording;
} events = {.recording = true};

bool kunci_events_recording(void)
{
    return atomic_load_explicit(&events.sink, memory_order_relaxed) != NULL &&
           atomic_load_explicit(&events.recording, memory_order_relaxed);
}

void kunci_events_set_recording(bool on)
{
    atomic_store(&events.recording, on);
}

void kunci_events_set_sink(kunci_event_sink sink, void (*flush)(void *arg), void *arg)
{
    atomic_store(&events.arg, arg);
    atomic_store(&events.flush, flush);
    atomic_store(&events.sink, sink);
}

void kunci_events_flush(void)
{
    flush_fn flush = atomic_load(&events.flush);
    if (flush != NULL)
        flush(atomic_load(&events.arg));
}

void kunci_event_emit(const struct kunci_event *ev)
{
    if (!ev->logged) {
        char when[24], id[24];
        snprintf(when, sizeof(when), "%lld", (long long)ev->at);
        snprintf(id, sizeof(id), "%lld", (long long)ev->app_password_id);
        const char *kv[] = {"at",
                            when,
                            "actor",
                            ev->actor,
                            "subject",
                            ev->subject,
                            "ip",
                            ev->client_ip,
                            "agent",
                            ev->agent,
                            "outcome",
                            ev->outcome,
                            "reason",
                            ev->reason,
                            "detail",
                            ev->detail,
                            "app_password_id",
                            ev->app_password_id ? id : NULL};
        char name[KUNCI_EVENT_NAME_MAX + 8];
        snprintf(name, sizeof(name), "audit.%s", ev->event);
        kunci_log_fields(name, kv, sizeof(kv) / sizeof(kv[0]) / 2);
    }
    kunci_event_sink sink = atomic_load(&events.sink);
    if (sink != NULL && atomic_load_explicit(&events.recording, memory_order_relaxed))
        sink(atomic_load(&events.arg), ev);
}
