#include "core/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static atomic_int log_format = KUNCI_LOG_TEXT;

void kunci_log_set_format(enum kunci_log_format format)
{
    atomic_store(&log_format, (int)format);
}

int kunci_log_format_parse(const char *s)
{
    return strcmp(s, "text") == 0 ? KUNCI_LOG_TEXT : strcmp(s, "json") == 0 ? KUNCI_LOG_JSON : -1;
}

int64_t kunci_log_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A line is built whole and written with one call, so lines from threads do not mix. */
struct line {
    char buf[2048];
    size_t len;
};

static void put(struct line *l, const char *s, size_t n)
{
    if (l->len + n >= sizeof(l->buf) - 2) /* room for the newline */
        n = sizeof(l->buf) - 2 - l->len;
    memcpy(l->buf + l->len, s, n);
    l->len += n;
}

/* A value as it is when it is a plain word, else quoted with \" \\ and \xNN escapes: a
 * hostile value cannot forge a field or a line. */
static void put_value(struct line *l, const char *v)
{
    bool plain = v[0] != '\0';
    for (const char *p = v; *p != '\0' && plain; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                strchr("._:/@+-,[]()%'", *p) != NULL;
    if (plain) {
        put(l, v, strlen(v));
        return;
    }
    put(l, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)v; *p != '\0'; p++) {
        char esc[8];
        if (*p == '"' || *p == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*p;
            put(l, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof(esc), "\\x%02x", *p);
            put(l, esc, 4);
        } else {
            put(l, (const char *)p, 1);
        }
    }
    put(l, "\"", 1);
}

static void put_field(struct line *l, const char *key, const char *value)
{
    if (l->len > 0)
        put(l, " ", 1);
    put(l, key, strlen(key));
    put(l, "=", 1);
    put_value(l, value != NULL && value[0] != '\0' ? value : "-");
}

static void write_line(struct line *l)
{
    l->buf[l->len++] = '\n';
    fwrite(l->buf, 1, l->len, stderr);
    fflush(stderr);
}

/* A JSON line starts with its time (UTC) and its event. */
static json_t *json_event(const char *event)
{
    char when[32];
    struct tm tm;
    time_t now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
    json_t *o = json_object();
    json_object_set_new(o, "time", json_string(when));
    json_object_set_new(o, "event", json_string(event));
    return o;
}

static void write_json(json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(9));
    json_decref(obj);
    if (text == NULL)
        return;
    struct line l = {.len = 0};
    put(&l, text, strlen(text));
    free(text);
    write_line(&l);
}

static json_t *json_text(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return json_null();
    json_t *v = json_stringn(s, strlen(s));
    return v != NULL ? v : json_string("(not UTF-8)");
}

void kunci_log_decision(const struct kunci_log_decision *d)
{
    char id[24], ms[32];

    snprintf(ms, sizeof(ms), "%.3f", (double)d->duration_us / 1000.0);
    if (atomic_load(&log_format) == KUNCI_LOG_JSON) {
        json_t *o = json_event(d->event);
        json_object_set_new(o, "endpoint", json_text(d->endpoint));
        json_object_set_new(o, "login", json_text(d->login));
        json_object_set_new(o, "protocol", json_text(d->protocol));
        json_object_set_new(o, "client_ip", json_text(d->client_ip));
        json_object_set_new(o, "result", json_text(d->result));
        json_object_set_new(o, "reason", json_text(d->reason));
        json_object_set_new(o, "via", json_text(d->via));
        json_object_set_new(o, "app_password_id",
                            d->app_password_id ? json_integer(d->app_password_id) : json_null());
        json_object_set_new(
            o, "duration_ms",
            json_real((double)(d->duration_us / 1000) + (double)(d->duration_us % 1000) / 1000.0));
        write_json(o);
        return;
    }
    struct line l = {.len = 0};
    snprintf(id, sizeof(id), "%lld", (long long)d->app_password_id);
    put_field(&l, "event", d->event);
    put_field(&l, "endpoint", d->endpoint);
    put_field(&l, "login", d->login);
    put_field(&l, "protocol", d->protocol);
    put_field(&l, "ip", d->client_ip);
    put_field(&l, "result", d->result);
    put_field(&l, "reason", d->reason);
    put_field(&l, "via", d->via);
    put_field(&l, "app_password_id", d->app_password_id ? id : NULL);
    put_field(&l, "duration_ms", ms);
    write_line(&l);
}

void kunci_log_fields(const char *event, const char *const *kv, size_t n)
{
    if (atomic_load(&log_format) == KUNCI_LOG_JSON) {
        json_t *o = json_event(event);
        for (size_t i = 0; i < n; i++)
            json_object_set_new(o, kv[2 * i], json_text(kv[2 * i + 1]));
        write_json(o);
        return;
    }
    struct line l = {.len = 0};
    put_field(&l, "event", event);
    for (size_t i = 0; i < n; i++)
        put_field(&l, kv[2 * i], kv[2 * i + 1]);
    write_line(&l);
}

void kunci_log(const char *event, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (atomic_load(&log_format) == KUNCI_LOG_JSON) {
        json_t *o = json_event(event);
        json_object_set_new(o, "msg", json_text(msg));
        write_json(o);
        return;
    }
    struct line l = {.len = 0};
    put_field(&l, "event", event);
    put_field(&l, "msg", msg);
    write_line(&l);
}
