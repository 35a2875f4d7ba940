/* kunci's log: one line per event on standard error (journald keeps it under systemd), as
 * key=value pairs by default or as JSON lines with [log] format = json. Decisions carry the
 * same fields whichever way the login came in. Secrets are never passed here. */
#ifndef KUNCI_LOG_H
#define KUNCI_LOG_H

#include <stddef.h>
#include <stdint.h>

enum kunci_log_format { KUNCI_LOG_TEXT, KUNCI_LOG_JSON };

void kunci_log_set_format(enum kunci_log_format format);
/* "text" or "json"; -1 for anything else. */
int kunci_log_format_parse(const char *s);

/* A login decision, from /auth/nginx, /auth/basic, the socket or the web. */
struct kunci_log_decision {
    const char *event;    /* "auth" for the mail paths, "web.sign_in", ... */
    const char *endpoint; /* "/auth/nginx", "/auth/basic", "socket", "/api/v1/session" */
    const char *login;    /* canonical, or NULL */
    const char *protocol; /* "imap", ..., "web", or NULL */
    const char *client_ip;
    const char *result; /* kunci_auth_result_name() */
    const char *reason; /* what else is known of why, or NULL */
    const char *via;    /* "password", "app_password", or NULL */
    int64_t app_password_id;
    int64_t duration_us; /* from the request's arrival to its decision */
};
void kunci_log_decision(const struct kunci_log_decision *d);

/* An event with named fields: kv holds n key/value pairs (a NULL or empty value is
 * written as - in text, null in JSON). */
void kunci_log_fields(const char *event, const char *const *kv, size_t n);

/* Anything else: an event name ("serve.start", "store.unavailable", ...) and a message for
 * the operator. */
void kunci_log(const char *event, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Microseconds on the monotonic clock, for durations. */
int64_t kunci_log_now_us(void);

#endif
