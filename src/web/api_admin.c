/* /api/v1/admin: administrators create users, require MFA per user, and reset passwords. */
#include "web/api.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/login.h"
#include "core/accounts.h"
#include "core/err.h"
#include "core/guard.h"
#include "core/events.h"
#include "core/password.h"
#include "core/secret.h"
#include "core/settings.h"
#include "core/timespec.h"

static json_t *user_json(const struct kunci_account *a)
{
    char created[32];
    kunci_time_format(a->created_at, created, sizeof(created));
    return json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:b}", "login", a->login, "display_name",
                     a->display_name, "role", kunci_role_name(a->role), "enabled", a->enabled,
                     "mfa_state", kunci_mfa_state_name(a->mfa_state), "created_at", created,
                     "must_change_password", a->must_change_password);
}

struct lockout_list {
    json_t *list;
    int64_t now;
};

static int lockout_item(void *arg, const struct kunci_lockout *l)
{
    struct lockout_list *ll = arg;
    char until[32], last[32];
    bool hard = l->locked_until == KUNCI_LOCKED_UNTIL_CLEARED;
    bool locked = hard || l->locked_until > ll->now;

    kunci_time_format(locked && !hard ? l->locked_until : 0, until, sizeof(until));
    kunci_time_format(l->last_at, last, sizeof(last));
    json_array_append_new(ll->list,
                          json_pack("{s:s, s:s, s:i, s:b, s:b, s:s?, s:I, s:s}", "kind", l->scope,
                                    "subject", l->label, "failures", l->failures, "locked", locked,
                                    "until_cleared", hard, "locked_until",
                                    locked && !hard ? until : NULL, "retry_after",
                                    (json_int_t)(locked && !hard ? l->locked_until - ll->now : 0),
                                    "last_failure", last));
    return 0;
}

enum MHD_Result api_admin_user_create(struct web_request *rq)
{
    const char *login = web_body_string(rq, "login"), *name = web_body_string(rq, "display_name");
    const char *state = web_body_string(rq, "mfa_state"), *role = web_body_string(rq, "role");
    struct kunci_account a;
    enum kunci_mfa_state mfa = KUNCI_MFA_DISABLED;
    enum kunci_role r_role = KUNCI_ROLE_USER;
    char pw[KUNCI_GENERATED_PASSWORD_LEN + 1];

    if (login == NULL)
        return api_error(rq, 400, "invalid", "Enter the login.");
    if (state != NULL && kunci_mfa_state_parse(state, &mfa) != KUNCI_OK)
        return api_error(rq, 400, "invalid", "mfa_state is disabled, enabled or enforced.");
    if (role != NULL && kunci_role_parse(role, &r_role) != KUNCI_OK)
        return api_error(rq, 400, "invalid", "role is user or admin.");
    kunci_password_generate(pw);
    int r = kunci_account_create(rq->ctx, rq->h, login, name, r_role, pw, strlen(pw), rq->now, &a);
    if (r == KUNCI_ERR_INVALID || r == KUNCI_ERR_TOO_LONG) {
        sodium_memzero(pw, sizeof(pw));
        return api_error(rq, 400, "bad_login", "Enter a login like alice@example.org.");
    }
    if (r == KUNCI_ERR_EXISTS) {
        sodium_memzero(pw, sizeof(pw));
        return api_error(rq, 409, "exists", "A user with this login exists already.");
    }
    if (r == KUNCI_OK) {
        a.must_change_password = true;
        a.mfa_state = mfa;
        r = kunci_account_save(rq->h, &a);
    }
    if (r != KUNCI_OK) {
        sodium_memzero(pw, sizeof(pw));
        return api_fail(rq, r);
    }
    char detail[64];
    snprintf(detail, sizeof(detail), "role %s, MFA %s", kunci_role_name(a.role),
             kunci_mfa_state_name(a.mfa_state));
    web_event(rq, "user_created", &a, NULL, "by_admin", detail);
    json_t *out = user_json(&a);
    json_object_set_new(out, "one_time_password", json_string(pw));
    sodium_memzero(pw, sizeof(pw));
    return api_json(rq, 201, out);
}

/* What an administrator changed on an account, one event per kind of change. */
static void admin_change_events(struct web_request *rq, const struct kunci_account *before,
                                const struct kunci_account *after)
{
    char detail[64];
    if (before->mfa_state != after->mfa_state) {
        snprintf(detail, sizeof(detail), "%s -> %s", kunci_mfa_state_name(before->mfa_state),
                 kunci_mfa_state_name(after->mfa_state));
        web_event(rq, "mfa_state_changed", after, NULL, "by_admin", detail);
    }
    if (before->enabled != after->enabled)
        web_event(rq, after->enabled ? "user_enabled" : "user_disabled", after, NULL, "by_admin",
                  NULL);
    if (strcmp(before->display_name, after->display_name) != 0 || before->role != after->role)
        web_event(rq, "user_changed", after, NULL, "by_admin", NULL);
}

static enum MHD_Result update_user(struct web_request *rq, struct kunci_account *a)
{
    const char *state = web_body_string(rq, "mfa_state");
    const char *name = web_body_string(rq, "display_name");
    json_t *enabled = json_object_get(rq->body, "enabled");
    const struct kunci_account before = *a;

    if (name != NULL) {
        if (kunci_label_check(name, KUNCI_DISPLAY_NAME_MAX) != KUNCI_OK)
            return api_error(rq, 400, "invalid",
                             "The display name is at most 128 printable characters.");
        snprintf(a->display_name, sizeof(a->display_name), "%s", name);
    }
    if (state != NULL && kunci_mfa_state_parse(state, &a->mfa_state) != KUNCI_OK)
        return api_error(rq, 400, "invalid", "mfa_state is disabled, enabled or enforced.");
    if (json_is_boolean(enabled)) {
        if (!json_is_true(enabled) && a->id == rq->account.id)
            return api_error(rq, 409, "self", "You cannot disable your own account.");
        a->enabled = json_is_true(enabled);
    }
    int r = kunci_account_save(rq->h, a);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    admin_change_events(rq, &before, a);
    return api_json(rq, 200, user_json(a));
}

static enum MHD_Result reset_password(struct web_request *rq, struct kunci_account *a)
{
    char pw[KUNCI_GENERATED_PASSWORD_LEN + 1];
    bool revoked;

    kunci_password_generate(pw);
    a->must_change_password = true;
    /* Every session of the user ends, and its remembered devices are forgotten. */
    int r = kunci_account_set_password(rq->ctx, rq->h, a, pw, strlen(pw), rq->now, 0, &revoked);
    json_t *out = r == KUNCI_OK ? json_pack("{s:s, s:b}", "one_time_password", pw,
                                            "app_passwords_revoked", revoked)
                                : NULL;
    if (r == KUNCI_OK)
        web_event(rq, "password_reset", a, NULL, "by_admin", NULL);
    sodium_memzero(pw, sizeof(pw));
    return r == KUNCI_OK ? api_json(rq, 200, out) : api_fail(rq, r);
}

enum MHD_Result api_admin_lockouts(struct web_request *rq)
{
    json_t *list = json_array();
    struct lockout_list l = {list, rq->now};
    int r = kunci_store_lockout_list(rq->h, lockout_item, &l);
    if (r != KUNCI_OK) {
        json_decref(list);
        return api_fail(rq, r);
    }
    return api_json(rq, 200, list);
}

enum MHD_Result api_admin_lockout_clear(struct web_request *rq)
{
    const char *subject = rq->params[0];
    int count = 0;
    int r = kunci_guard_clear(rq->ctx, rq->h, subject, &count);
    if (r == KUNCI_ERR_INVALID)
        return api_error(rq, 400, "invalid", "Give a login or an IP address.");
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    struct kunci_account whose;
    if (kunci_account_get(rq->h, subject, &whose) != KUNCI_OK) {
        /* an address, or a login no longer there */
        memset(&whose, 0, sizeof(whose));
        kunci_event_set(whose.login, sizeof(whose.login), subject);
    }
    char n[32];
    snprintf(n, sizeof(n), "%d", count);
    web_event(rq, "lockout_cleared", &whose, NULL, "by_admin", n);
    return api_json(rq, 200, json_pack("{s:i}", "cleared", count));
}

/* The account a route's {login} names, or the answer already queued. */
static bool named_account(struct web_request *rq, struct kunci_account *a, enum MHD_Result *ret_r)
{
    int r = kunci_account_get(rq->h, rq->params[0], a);
    if (r == KUNCI_OK)
        return true;
    *ret_r = api_fail(rq, r == KUNCI_ERR_INVALID ? KUNCI_ERR_NOT_FOUND : r);
    return false;
}

enum MHD_Result api_admin_user_update(struct web_request *rq)
{
    struct kunci_account a;
    enum MHD_Result ret;
    return named_account(rq, &a, &ret) ? update_user(rq, &a) : ret;
}

enum MHD_Result api_admin_user_delete(struct web_request *rq)
{
    struct kunci_account a;
    enum MHD_Result ret;
    if (!named_account(rq, &a, &ret))
        return ret;
    if (a.id == rq->account.id)
        return api_error(rq, 409, "self", "You cannot delete your own account.");
    int r = kunci_store_account_delete(rq->h, a.id);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    web_event(rq, "user_deleted", &a, NULL, "by_admin", NULL);
    return api_json(rq, 200, json_pack("{s:s, s:b}", "login", a.login, "deleted", 1));
}

enum MHD_Result api_admin_user_password(struct web_request *rq)
{
    struct kunci_account a;
    enum MHD_Result ret;
    return named_account(rq, &a, &ret) ? reset_password(rq, &a) : ret;
}

enum MHD_Result api_admin_user_app_passwords_delete(struct web_request *rq)
{
    struct kunci_account a;
    enum MHD_Result ret;
    int count = 0;
    if (!named_account(rq, &a, &ret))
        return ret;
    int r = kunci_store_app_password_delete_all(rq->h, a.id, &count);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    char n[32];
    snprintf(n, sizeof(n), "%d", count);
    web_event(rq, "app_passwords_deleted", &a, NULL, "by_admin", n);
    return api_json(rq, 200, json_pack("{s:i}", "deleted", count));
}

/* Service settings: every one `kunci settings` has, with its group, explanation, bounds. */
struct settings_collect {
    char (*values)[KUNCI_SETTING_VALUE_MAX];
};

static int collect_value(void *arg, const char *key, const char *value)
{
    struct settings_collect *c = arg;
    for (size_t i = 0; i < kunci_setting_count; i++)
        if (strcmp(kunci_setting_defs[i].key, key) == 0 &&
            kunci_setting_canonical(&kunci_setting_defs[i], value, c->values[i]) != KUNCI_OK)
            kunci_setting_canonical(&kunci_setting_defs[i], kunci_setting_defs[i].default_value,
                                    c->values[i]);
    return 0;
}

static json_t *setting_value(const struct kunci_setting_def *d, const char *v)
{
    return d->type == KUNCI_SETTING_BOOL  ? json_boolean(strcmp(v, "true") == 0)
           : d->type == KUNCI_SETTING_INT ? json_integer(strtoll(v, NULL, 10))
                                          : json_string(v);
}

enum MHD_Result api_admin_settings(struct web_request *rq)
{
    static const char *const types[] = {"bool", "int", "networks", "users"};
    struct settings_collect c = {calloc(kunci_setting_count, sizeof(*c.values))};
    if (c.values == NULL)
        return api_fail(rq, KUNCI_ERR_NOMEM);
    for (size_t i = 0; i < kunci_setting_count; i++)
        kunci_setting_canonical(&kunci_setting_defs[i], kunci_setting_defs[i].default_value,
                                c.values[i]);
    int r = kunci_store_settings_each(rq->h, collect_value, &c);
    if (r != KUNCI_OK) {
        free(c.values);
        return api_fail(rq, r);
    }
    json_t *list = json_array();
    for (size_t i = 0; i < kunci_setting_count; i++) {
        const struct kunci_setting_def *d = &kunci_setting_defs[i];
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:o, s:o, s:s}", "key", d->key, "group", d->group, "type",
                      types[d->type], "value", setting_value(d, c.values[i]), "default",
                      setting_value(d, d->default_value), "description", d->description);
        if (d->type == KUNCI_SETTING_INT || d->type == KUNCI_SETTING_NETWORKS) {
            json_object_set_new(o, "min", json_integer(d->min));
            json_object_set_new(o, "max", json_integer(d->max));
        }
        json_array_append_new(list, o);
    }
    free(c.values);
    return api_json(rq, 200, list);
}

/* {key: value, ...}: every value is checked before any is written. */
enum MHD_Result api_admin_settings_update(struct web_request *rq)
{
    const char *key;
    json_t *v;
    size_t n = json_object_size(rq->body), i = 0;

    if (!json_is_object(rq->body) || n == 0 || n > kunci_setting_count)
        return api_error(rq, 400, "invalid", "Send the settings to change as {key: value}.");
    char(*canon)[KUNCI_SETTING_VALUE_MAX] = calloc(n, sizeof(*canon));
    const struct kunci_setting_def **defs = calloc(n, sizeof(*defs));
    if (canon == NULL || defs == NULL) {
        free(canon);
        free(defs);
        return api_fail(rq, KUNCI_ERR_NOMEM);
    }
    json_object_foreach(rq->body, key, v)
    {
        char text[32];
        const char *value = json_is_string(v) ? json_string_value(v) : NULL;
        if (json_is_boolean(v))
            value = json_is_true(v) ? "true" : "false";
        else if (json_is_integer(v)) {
            snprintf(text, sizeof(text), "%lld", (long long)json_integer_value(v));
            value = text;
        }
        defs[i] = kunci_setting_find(key);
        if (defs[i] == NULL || value == NULL ||
            kunci_setting_canonical(defs[i], value, canon[i]) != KUNCI_OK) {
            json_t *err =
                json_pack("{s:s, s:s, s:s}", "error", "invalid_setting", "message",
                          defs[i] == NULL ? "No such setting." : defs[i]->description, "key", key);
            free(canon);
            free(defs);
            return api_json(rq, 400, err);
        }
        i++;
    }
    /* All or none: a failed write is never half done. */
    int r = kunci_store_begin(rq->h);
    if (r == KUNCI_OK) {
        for (i = 0; i < n && r == KUNCI_OK; i++)
            r = kunci_store_setting_set(rq->h, defs[i]->key, canon[i]);
        r = kunci_store_finish(rq->h, r);
    }
    for (i = 0; i < n && r == KUNCI_OK; i++) {
        char detail[KUNCI_EVENT_DETAIL_MAX];
        int len = snprintf(detail, sizeof(detail), "%s = ", defs[i]->key);
        if (len > 0 && (size_t)len < sizeof(detail))
            kunci_event_set(detail + len, sizeof(detail) - (size_t)len, canon[i]);
        struct kunci_account none = {.id = 0};
        web_event(rq, "settings_changed", &none, NULL, "by_admin", detail);
    }
    free(canon);
    free(defs);
    return r == KUNCI_OK ? api_admin_settings(rq) : api_fail(rq, r);
}
