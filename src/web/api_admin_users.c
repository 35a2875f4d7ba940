/* /api/v1/admin/users at scale: the list (search, pages, the columns an administrator
 * rolls MFA out by), MFA for many users at once, "Manage user settings", and readiness:
 * which mail clients still use the account password, and so would stop at "enforced". */
#include "web/api.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/events.h"
#include "core/timespec.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX     200
#define BULK_MAX     1000
/* A client seen on the account password this recently is one "enforced" would cut off. */
#define READINESS_DAYS 7

/* The accounts of a bulk request hold password hashes: wiped before they are freed. */
static void accounts_free(struct kunci_account *accts, size_t n)
{
    if (accts != NULL)
        sodium_memzero(accts, n * sizeof(*accts));
    free(accts);
}

struct page {
    json_t *items;
    char last[KUNCI_LOGIN_MAX + 1];
    int n;
};

static int add_summary(void *arg, const struct kunci_account_summary *s)
{
    struct page *p = arg;
    char created[32], signed_in[32];
    const struct kunci_account *a = &s->account;

    kunci_time_format(a->created_at, created, sizeof(created));
    kunci_time_format(s->last_sign_in_at, signed_in, sizeof(signed_in));
    json_array_append_new(
        p->items,
        json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:b, s:i, s:i, s:s?, s:i}", "login", a->login,
                  "display_name", a->display_name, "role", kunci_role_name(a->role), "enabled",
                  a->enabled, "mfa_state", kunci_mfa_state_name(a->mfa_state), "created_at",
                  created, "must_change_password", a->must_change_password, "methods", s->methods,
                  "app_passwords", s->app_passwords, "last_sign_in_at",
                  s->last_sign_in_at ? signed_in : NULL, "legacy_clients", s->legacy_clients));
    snprintf(p->last, sizeof(p->last), "%s", a->login);
    p->n++;
    return 0;
}

static const char *query(struct web_request *rq, const char *name)
{
    const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
    return v != NULL ? v : "";
}

enum MHD_Result api_admin_users(struct web_request *rq)
{
    const char *q = query(rq, "q"), *after = query(rq, "after"), *limit = query(rq, "limit");
    struct page p = {json_array(), "", 0};
    int n = PAGE_DEFAULT;

    if (limit[0] != '\0') {
        char *end;
        long v = strtol(limit, &end, 10);
        if (*end != '\0' || v < 1 || v > PAGE_MAX) {
            json_decref(p.items);
            return api_error(rq, 400, "invalid", "limit is 1 to 200.");
        }
        n = (int)v;
    }
    if (strlen(q) > KUNCI_LOGIN_MAX || strlen(after) > KUNCI_LOGIN_MAX) {
        json_decref(p.items);
        return api_error(rq, 400, "invalid", "The search is too long.");
    }
    int r = kunci_store_account_search(rq->h, q, after, n,
                                       rq->now - (int64_t)READINESS_DAYS * 86400, add_summary, &p);
    if (r != KUNCI_OK) {
        json_decref(p.items);
        return api_fail(rq, r);
    }
    return api_json(rq, 200,
                    json_pack("{s:o, s:o}", "items", p.items, "next_after",
                              p.n == n ? json_string(p.last) : json_null()));
}

/* The accounts a bulk request names in "logins": all of them, or an answer saying which do
 * not exist (nothing changes then). */
static bool named_accounts(struct web_request *rq, struct kunci_account **accts_r, int *n_r,
                           enum MHD_Result *ret_r)
{
    json_t *logins = json_object_get(rq->body, "logins"), *v;
    size_t i, n = json_array_size(logins);

    *accts_r = NULL;
    if (!json_is_array(logins) || n == 0 || n > BULK_MAX) {
        *ret_r = api_error(rq, 400, "invalid", "logins is a list of 1 to 1000 logins.");
        return false;
    }
    struct kunci_account *accts = calloc(n, sizeof(*accts));
    json_t *unknown = json_array();
    if (accts == NULL || unknown == NULL) {
        accounts_free(accts, (size_t)n);
        json_decref(unknown);
        *ret_r = api_fail(rq, KUNCI_ERR_NOMEM);
        return false;
    }
    json_array_foreach(logins, i, v)
    {
        int r = json_is_string(v) ? kunci_account_get(rq->h, json_string_value(v), &accts[i])
                                  : KUNCI_ERR_INVALID;
        if (r == KUNCI_ERR_NOT_FOUND || r == KUNCI_ERR_INVALID) {
            json_array_append(unknown, json_is_string(v) ? v : json_null());
        } else if (r != KUNCI_OK) {
            accounts_free(accts, (size_t)n);
            json_decref(unknown);
            *ret_r = api_fail(rq, r);
            return false;
        }
        /* Kept whole: a save writes every field back, the password hash too. */
    }
    if (json_array_size(unknown) > 0) {
        accounts_free(accts, (size_t)n);
        *ret_r = api_json(rq, 404,
                          json_pack("{s:s, s:s, s:o}", "error", "not_found", "message",
                                    "These users do not exist; nothing was changed.", "logins",
                                    unknown));
        return false;
    }
    json_decref(unknown);
    *accts_r = accts;
    *n_r = (int)n;
    return true;
}

enum MHD_Result api_admin_users_mfa(struct web_request *rq)
{
    const char *state = web_body_string(rq, "mfa_state");
    enum kunci_mfa_state to;
    struct kunci_account *accts;
    enum MHD_Result ret;
    int n, changed = 0;

    if (state == NULL || kunci_mfa_state_parse(state, &to) != KUNCI_OK)
        return api_error(rq, 400, "invalid", "mfa_state is disabled, enabled or enforced.");
    if (!named_accounts(rq, &accts, &n, &ret))
        return ret;
    for (int i = 0; i < n; i++) {
        enum kunci_mfa_state before = accts[i].mfa_state;
        if (before == to)
            continue;
        accts[i].mfa_state = to;
        int r = kunci_account_save(rq->h, &accts[i]);
        if (r != KUNCI_OK) {
            accounts_free(accts, (size_t)n);
            return api_fail(rq, r); /* the ones before stay changed, as their events say */
        }
        char detail[64];
        snprintf(detail, sizeof(detail), "%s -> %s", kunci_mfa_state_name(before),
                 kunci_mfa_state_name(to));
        web_event(rq, "mfa_state_changed", &accts[i], NULL, "by_admin", detail);
        changed++;
    }
    accounts_free(accts, (size_t)n);
    return api_json(rq, 200, json_pack("{s:i, s:i}", "changed", changed, "unchanged", n - changed));
}

enum MHD_Result api_admin_users_manage(struct web_request *rq)
{
    json_t *actions = json_object_get(rq->body, "actions"), *v;
    struct kunci_account *accts;
    enum MHD_Result ret;
    unsigned what = 0;
    size_t i;
    int n;

    json_array_foreach(actions, i, v)
    {
        unsigned bit = json_is_string(v) ? kunci_manage_parse(json_string_value(v)) : 0;
        if (bit == 0)
            return api_error(rq, 400, "invalid",
                             "actions are reset_methods, delete_app_passwords, forget_devices "
                             "and sign_out.");
        what |= bit;
    }
    if (what == 0)
        return api_error(rq, 400, "invalid", "Choose at least one action.");
    if (!named_accounts(rq, &accts, &n, &ret))
        return ret;
    for (int k = 0; k < n; k++) {
        int r = kunci_account_manage(rq->h, &accts[k], what);
        if (r != KUNCI_OK) {
            accounts_free(accts, (size_t)n);
            return api_fail(rq, r);
        }
        for (unsigned bit = 1; bit <= KUNCI_MANAGE_SIGN_OUT; bit <<= 1)
            if (what & bit)
                web_event(rq, "user_managed", &accts[k], NULL, "by_admin", kunci_manage_name(bit));
    }
    accounts_free(accts, (size_t)n);
    return api_json(rq, 200, json_pack("{s:i}", "changed", n));
}

static int add_client(void *arg, const struct kunci_legacy_client *c)
{
    char last[32];
    kunci_time_format(c->last_at, last, sizeof(last));
    json_array_append_new(arg,
                          json_pack("{s:s, s:s, s:s, s:i}", "protocol", c->protocol, "client_ip",
                                    c->client_ip, "last_seen", last, "count", c->count));
    return 0;
}

/* The mail clients that signed in with an account's password lately: what "enforced"
 * would cut off. */
json_t *web_legacy_clients(struct web_request *rq, int64_t account_id)
{
    json_t *list = json_array();
    if (kunci_store_legacy_client_list(rq->h, account_id, rq->now - (int64_t)READINESS_DAYS * 86400,
                                       add_client, list) != KUNCI_OK) {
        json_decref(list);
        return NULL;
    }
    return list;
}

enum MHD_Result api_admin_readiness(struct web_request *rq)
{
    struct kunci_account *accts;
    enum MHD_Result ret;
    int n, affected = 0;

    if (!named_accounts(rq, &accts, &n, &ret))
        return ret;
    json_t *users = json_array();
    for (int i = 0; i < n; i++) {
        json_t *clients = web_legacy_clients(rq, accts[i].id);
        if (clients == NULL) {
            accounts_free(accts, (size_t)n);
            json_decref(users);
            return api_fail(rq, KUNCI_ERR_TEMPFAIL);
        }
        /* Enforced users are cut off already; disabled ones are not asked for anything. */
        if (json_array_size(clients) > 0 && accts[i].mfa_state != KUNCI_MFA_ENFORCED)
            affected++;
        json_array_append_new(
            users, json_pack("{s:s, s:s, s:o}", "login", accts[i].login, "mfa_state",
                             kunci_mfa_state_name(accts[i].mfa_state), "clients", clients));
    }
    accounts_free(accts, (size_t)n);
    return api_json(
        rq, 200,
        json_pack("{s:o, s:i, s:i}", "users", users, "affected", affected, "days", READINESS_DAYS));
}
