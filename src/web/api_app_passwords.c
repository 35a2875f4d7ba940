/* /api/v1/app-passwords: the user's app passwords on the Security info page. */
#include "web/api.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/protocol.h"
#include "core/secret.h"
#include "core/timespec.h"

static int add_item(void *arg, const struct kunci_app_password *ap)
{
    json_array_append_new(arg, web_app_password_json(ap));
    return 0;
}

struct named {
    int64_t id;
    char *name;
    size_t size;
};

static int find_item(void *arg, const struct kunci_app_password *ap)
{
    struct named *n = arg;
    if (ap->id == n->id)
        snprintf(n->name, n->size, "%s", ap->name);
    return 0;
}

/* The name of one of the user's app passwords, for the record of its deletion. */
static void find_name(struct web_request *rq, int64_t id, char *name, size_t size)
{
    struct named n = {id, name, size};
    kunci_store_best_effort(kunci_store_app_password_list(rq->h, rq->account.id, find_item, &n));
}

enum MHD_Result api_app_passwords_list(struct web_request *rq)
{
    struct kunci_settings s;
    const char *reason = NULL;
    int r = kunci_settings_load(rq->h, &s);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    if (rq->account.mfa_state == KUNCI_MFA_DISABLED)
        reason = "mfa_not_required";
    else if (!s.app_passwords_allowed)
        reason = "app_passwords_off";
    json_t *items = json_array();
    r = kunci_store_app_password_list(rq->h, rq->account.id, add_item, items);
    if (r != KUNCI_OK) {
        json_decref(items);
        return api_fail(rq, r);
    }
    /* While MFA is required but not yet registered, the mail apps still on the account
     * password: each needs an app password before "enforced" refuses it. */
    json_t *legacy = rq->account.mfa_state == KUNCI_MFA_ENABLED
                         ? web_legacy_clients(rq, rq->account.id)
                         : json_array();
    return api_json(rq, 200,
                    json_pack("{s:b, s:s?, s:o, s:i, s:b, s:o}", "available", reason == NULL,
                              "reason", reason, "items", items, "max", s.app_passwords_max,
                              "reauth_required", !web_reauth_fresh(rq), "account_password_clients",
                              legacy ? legacy : json_array()));
}

enum MHD_Result api_app_passwords_create(struct web_request *rq)
{
    struct kunci_app_password_spec spec = {0};
    struct kunci_app_password ap;
    char pw[KUNCI_APP_PASSWORD_MAX_LEN + 1], shown[KUNCI_APP_PASSWORD_FORMATTED_MAX];
    json_t *protocols = json_object_get(rq->body, "protocols");
    const char *expires = web_body_string(rq, "expires");
    size_t i;
    json_t *p;

    if (!web_reauth_fresh(rq))
        return api_reauth_required(rq);
    spec.name = web_body_string(rq, "name");
    if (spec.name == NULL || spec.name[0] == '\0')
        return api_error(rq, 400, "name_required", "Give the app password a name.");
    if (protocols != NULL && !json_is_array(protocols))
        return api_error(rq, 400, "invalid", "protocols is a list.");
    json_array_foreach(protocols, i, p)
    {
        unsigned bit = json_is_string(p) ? kunci_protocol_parse(json_string_value(p)) : 0;
        if (bit == 0)
            return api_error(rq, 400, "bad_protocol", "Unknown protocol.");
        spec.protocols |= bit;
    }
    if (expires != NULL && expires[0] != '\0' &&
        kunci_expiry_parse(expires, rq->now, &spec.expires_at) != KUNCI_OK)
        return api_error(rq, 400, "bad_expiry", "Choose a date in the future.");
    spec.networks = web_body_string(rq, "networks");
    int r = kunci_app_password_create(rq->ctx, rq->h, &rq->account, &spec, rq->now, pw, sizeof(pw),
                                      &ap);
    if (r == KUNCI_ERR_LIMIT)
        return api_error(rq, 409, "limit",
                         "You have reached the limit of app passwords. Delete one first.");
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    web_event(rq, "app_password_created", NULL, NULL, NULL, ap.name);
    kunci_app_password_format(pw, shown, sizeof(shown));
    json_t *out = web_app_password_json(&ap);
    json_object_set_new(out, "password", json_string(shown));
    sodium_memzero(pw, sizeof(pw));
    sodium_memzero(shown, sizeof(shown));
    return api_json(rq, 201, out);
}

enum MHD_Result api_app_passwords_delete_all(struct web_request *rq)
{
    int count = 0;
    int r = kunci_store_app_password_delete_all(rq->h, rq->account.id, &count);
    if (r == KUNCI_OK && count > 0) {
        char n[32];
        snprintf(n, sizeof(n), "%d", count);
        web_event(rq, "app_passwords_deleted", NULL, NULL, NULL, n);
    }
    return r == KUNCI_OK ? api_json(rq, 200, json_pack("{s:i}", "deleted", count))
                         : api_fail(rq, r);
}

enum MHD_Result api_app_password_delete(struct web_request *rq)
{
    int64_t id;
    if (!web_param_id(rq, 0, &id))
        return api_error(rq, 404, "not_found", "Not found.");
    char name[KUNCI_APP_NAME_MAX + 1] = "";
    find_name(rq, id, name, sizeof(name));
    int r = kunci_store_app_password_delete(rq->h, rq->account.id, id);
    if (r == KUNCI_OK)
        web_event(rq, "app_password_deleted", NULL, NULL, NULL, name);
    return r == KUNCI_OK ? api_json(rq, 200, json_pack("{s:i}", "deleted", 1)) : api_fail(rq, r);
}
