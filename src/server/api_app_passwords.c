/* /api/v1/app-passwords: the user's app passwords on the Security info page. */
#include "server/web.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/protocol.h"
#include "core/secret.h"
#include "core/timespec.h"

json_t *app_password_json(const struct kunci_app_password *ap)
{
    char created[32], expires[32], used[32];
    json_t *protocols = json_array();

    for (unsigned bit = KUNCI_PROTO_IMAP; bit <= KUNCI_PROTO_EWS; bit <<= 1)
        if (ap->protocols & bit)
            json_array_append_new(protocols, json_string(kunci_protocol_name(bit)));
    kunci_time_format(ap->created_at, created, sizeof(created));
    kunci_time_format(ap->expires_at, expires, sizeof(expires));
    kunci_time_format(ap->last_used_at, used, sizeof(used));
    return json_pack("{s:I, s:s, s:o, s:s, s:s, s:s?, s:o}", "id", (json_int_t)ap->id, "name",
                     ap->name, "protocols", protocols, "networks", ap->networks, "created_at",
                     created, "expires_at", ap->expires_at ? expires : NULL, "last_used",
                     ap->last_used_at
                         ? json_pack("{s:s, s:s, s:s}", "at", used, "ip", ap->last_used_ip,
                                     "protocol", ap->last_used_protocol)
                         : json_null());
}

static int add_item(void *arg, const struct kunci_app_password *ap)
{
    json_array_append_new(arg, app_password_json(ap));
    return 0;
}

static enum MHD_Result list(struct web_request *rq)
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
    return api_json(rq, 200,
                    json_pack("{s:b, s:s?, s:o, s:i, s:b}", "available", reason == NULL, "reason",
                              reason, "items", items, "max", s.app_passwords_max, "reauth_required",
                              !reauth_fresh(rq)));
}

static enum MHD_Result create(struct web_request *rq)
{
    struct kunci_app_password_spec spec = {0};
    struct kunci_app_password ap;
    char pw[KUNCI_APP_PASSWORD_MAX_LEN + 1], shown[KUNCI_APP_PASSWORD_FORMATTED_MAX];
    json_t *protocols = json_object_get(rq->body, "protocols");
    const char *expires = body_string(rq, "expires");
    size_t i;
    json_t *p;

    if (!reauth_fresh(rq))
        return api_reauth_required(rq);
    spec.name = body_string(rq, "name");
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
    spec.networks = body_string(rq, "networks");
    int r = kunci_app_password_create(rq->ctx, rq->h, &rq->account, &spec, rq->now, pw, sizeof(pw),
                                      &ap);
    if (r == KUNCI_ERR_LIMIT)
        return api_error(rq, 409, "limit",
                         "You have reached the limit of app passwords. Delete one first.");
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    kunci_app_password_format(pw, shown, sizeof(shown));
    json_t *out = app_password_json(&ap);
    json_object_set_new(out, "password", json_string(shown));
    sodium_memzero(pw, sizeof(pw));
    sodium_memzero(shown, sizeof(shown));
    return api_json(rq, 201, out);
}

enum MHD_Result api_app_passwords(struct web_request *rq)
{
    long long id;

    if (!rq->has_session || rq->session.stage != KUNCI_SESSION_FULL)
        return api_error(rq, 401, "not_signed_in", "Sign in first.");
    if (strcmp(rq->path, "/app-passwords") == 0) {
        if (strcmp(rq->method, "GET") == 0)
            return list(rq);
        if (strcmp(rq->method, "POST") == 0)
            return create(rq);
        if (strcmp(rq->method, "DELETE") == 0) {
            int count = 0;
            int r = kunci_store_app_password_delete_all(rq->h, rq->account.id, &count);
            return r == KUNCI_OK ? api_json(rq, 200, json_pack("{s:i}", "deleted", count))
                                 : api_fail(rq, r);
        }
    }
    if (sscanf(rq->path, "/app-passwords/%lld", &id) == 1 && strcmp(rq->method, "DELETE") == 0) {
        int r = kunci_store_app_password_delete(rq->h, rq->account.id, id);
        return r == KUNCI_OK ? api_json(rq, 200, json_pack("{s:i}", "deleted", 1))
                             : api_fail(rq, r);
    }
    return api_error(rq, 404, "not_found", "No such endpoint.");
}
