#include "web/routes.h"

#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "web/api.h"

/* {method, pattern, stage, reauth, on_pool, once, handler} */
static const struct web_route routes[] = {
    {"GET", "/config", WEB_PUBLIC, false, false, false, api_config},
    {"POST", "/password-reset", WEB_PUBLIC, false, false, false, api_reset_begin},
    {"POST", "/password-reset/verify", WEB_RESET, false, false, false, api_reset_verify},
    {"POST", "/password-reset/code", WEB_RESET, false, false, false, api_reset_code},
    {"POST", "/password-reset/second", WEB_RESET, false, false, false, api_reset_second},
    {"POST", "/password-reset/complete", WEB_RESET, false, true, false, api_reset_complete},
    {"GET", "/session", WEB_PUBLIC, false, false, false, api_session_get},
    {"POST", "/session", WEB_PUBLIC, false, true, false, api_sign_in},
    {"DELETE", "/session", WEB_PUBLIC, false, false, false, api_sign_out},
    {"POST", "/session/code", WEB_SESSION, false, false, false, api_session_code},
    {"POST", "/session/verify", WEB_SESSION, false, false, false, api_session_verify},
    {"POST", "/session/backup-code", WEB_SESSION, false, false, false, api_session_backup_code},
    /* The second factor when the session owes it, else passwordless sign-in. */
    {"POST", "/session/webauthn/begin", WEB_PUBLIC, false, false, false, api_passkey_second_begin},
    {"POST", "/session/webauthn/finish", WEB_PUBLIC, false, false, false,
     api_passkey_second_finish},
    {"POST", "/session/passkey/begin", WEB_PUBLIC, false, false, false, api_passkey_sign_in_begin},
    {"POST", "/session/passkey/finish", WEB_PUBLIC, false, false, false,
     api_passkey_sign_in_finish},
    {"POST", "/password", WEB_SESSION, false, true, false, api_password_change},
    {"POST", "/password/strength", WEB_SESSION, false, true, false, api_password_strength},
    /* The wizard re-authenticates too, when its steps took longer than REAUTH_SECONDS. */
    {"POST", "/reauth", WEB_REGISTERING, false, true, false, api_reauth},
    {"GET", "/methods", WEB_FULL, false, false, false, api_methods_list},
    {"POST", "/methods/backup-codes", WEB_FULL, true, false, true, api_backup_codes_new},
    {"POST", "/methods/webauthn/begin", WEB_REGISTERING, true, false, false,
     api_passkey_register_begin},
    {"POST", "/methods/webauthn/finish", WEB_REGISTERING, false, false, false,
     api_passkey_register_finish},
    {"POST", "/methods/{}", WEB_REGISTERING, true, false, false, api_method_begin},
    {"POST", "/methods/{}/verify", WEB_REGISTERING, false, false, false, api_method_verify},
    {"POST", "/methods/{}/default", WEB_FULL, true, false, false, api_method_default},
    {"DELETE", "/methods/{}", WEB_FULL, true, false, false, api_method_delete},
    {"PATCH", "/methods/{}", WEB_FULL, false, false, false, api_method_rename},
    {"POST", "/setup/complete", WEB_SESSION, false, false, true, api_setup_complete},
    {"POST", "/setup/later", WEB_SESSION, false, false, false, api_setup_later},
    {"GET", "/app-passwords", WEB_FULL, false, false, false, api_app_passwords_list},
    {"POST", "/app-passwords", WEB_FULL, false, false, true, api_app_passwords_create},
    {"DELETE", "/app-passwords", WEB_FULL, false, false, false, api_app_passwords_delete_all},
    {"DELETE", "/app-passwords/{}", WEB_FULL, false, false, false, api_app_password_delete},
    {"GET", "/devices", WEB_FULL, false, false, false, api_devices},
    {"POST", "/devices", WEB_FULL, true, false, true, api_device_begin},
    {"GET", "/devices/download/{}", WEB_FULL, false, false, false, api_device_download},
    {"GET", "/activity", WEB_FULL, false, false, false, api_activity},
    {"POST", "/activity/not-me", WEB_FULL, false, false, false, api_activity_not_me},
    {"GET", "/admin/activity", WEB_ADMIN, false, false, false, api_admin_activity},
    {"GET", "/admin/settings", WEB_ADMIN, false, false, false, api_admin_settings},
    {"PATCH", "/admin/settings", WEB_ADMIN, true, false, false, api_admin_settings_update},
    {"GET", "/admin/lockouts", WEB_ADMIN, false, false, false, api_admin_lockouts},
    {"DELETE", "/admin/lockouts/{}", WEB_ADMIN, true, false, false, api_admin_lockout_clear},
    {"GET", "/admin/users", WEB_ADMIN, false, false, false, api_admin_users},
    {"POST", "/admin/users", WEB_ADMIN, true, true, false, api_admin_user_create},
    {"POST", "/admin/users/mfa", WEB_ADMIN, true, false, false, api_admin_users_mfa},
    {"POST", "/admin/users/manage", WEB_ADMIN, true, false, false, api_admin_users_manage},
    {"POST", "/admin/readiness", WEB_ADMIN, false, false, false, api_admin_readiness},
    {"DELETE", "/admin/users/{}", WEB_ADMIN, true, false, false, api_admin_user_delete},
    {"PATCH", "/admin/users/{}", WEB_ADMIN, true, false, false, api_admin_user_update},
    {"POST", "/admin/users/{}/password", WEB_ADMIN, true, true, false, api_admin_user_password},
    {"POST", "/admin/users/{}/access-pass", WEB_ADMIN, true, false, false, api_admin_access_pass},
    {"DELETE", "/admin/users/{}/app-passwords", WEB_ADMIN, true, false, false,
     api_admin_user_app_passwords_delete},
};

const struct web_route *web_route_match(const struct web_route *table, size_t n, const char *method,
                                        const char *path,
                                        char params[WEB_PATH_PARAMS][WEB_PATH_PARAM_MAX + 1])
{
    for (size_t i = 0; i < n; i++) {
        const char *p = table[i].pattern, *s = path;
        int nparams = 0;

        if (strcmp(table[i].method, method) != 0)
            continue;
        while (*p != '\0') {
            if (p[0] == '{' && p[1] == '}') {
                size_t len = strcspn(s, "/");
                if (len == 0 || len > WEB_PATH_PARAM_MAX || nparams == WEB_PATH_PARAMS)
                    break;
                memcpy(params[nparams], s, len);
                params[nparams++][len] = '\0';
                s += len;
                p += 2;
            } else if (*p == *s) {
                p++;
                s++;
            } else {
                break;
            }
        }
        if (*p == '\0' && *s == '\0')
            return &table[i];
    }
    return NULL;
}

bool web_may_register(struct web_request *rq)
{
    return rq->session.stage == KUNCI_SESSION_FULL || web_next(rq) == KUNCI_NEXT_SETUP;
}

bool web_param_id(const struct web_request *rq, int i, int64_t *id_r)
{
    const char *s = rq->params[i];
    char *end;
    if (s[0] < '0' || s[0] > '9')
        return false;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || v <= 0)
        return false;
    *id_r = (int64_t)v;
    return true;
}

static bool stage_reached(struct web_request *rq, enum web_stage stage)
{
    /* A reset under way opens its own routes, nothing else a session could. */
    if (rq->has_session && rq->session.stage == KUNCI_SESSION_RESET)
        return stage == WEB_RESET || stage == WEB_PUBLIC;
    switch (stage) {
    case WEB_PUBLIC:
        return true;
    case WEB_SESSION:
        return rq->has_session;
    case WEB_REGISTERING:
        return rq->has_session && web_may_register(rq);
    case WEB_FULL:
    case WEB_ADMIN:
        return rq->has_session && rq->session.stage == KUNCI_SESSION_FULL;
    case WEB_RESET:
        return false; /* only a reset session, above */
    }
    return false;
}

const struct web_route *web_route_find(struct web_request *rq)
{
    return web_route_match(routes, sizeof(routes) / sizeof(routes[0]), rq->method, rq->path,
                           rq->params);
}

bool web_route_allows(struct web_request *rq, const struct web_route *route, enum MHD_Result *ret_r)
{
    if (route == NULL)
        *ret_r = api_error(rq, 404, "not_found", "No such endpoint.");
    else if (!stage_reached(rq, route->stage))
        *ret_r = api_error(rq, 401, "not_signed_in", "Sign in first.");
    else if (route->stage == WEB_ADMIN && rq->account.role != KUNCI_ROLE_ADMIN)
        *ret_r = api_error(rq, 403, "not_admin", "Only administrators may do this.");
    else if (route->reauth && !web_reauth_fresh(rq))
        *ret_r = api_reauth_required(rq);
    else
        return true;
    return false;
}
