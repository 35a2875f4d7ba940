/* /api/v1/session, /password, /reauth: signing in and out, the second factor, and
 * passwords. */
#include "web/api.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/recovery.h"
#include "core/settings.h"
#include "core/netmask.h"
#include "core/guard.h"
#include "core/log.h"
#include "core/login.h"
#include "core/mfa.h"
#include "delivery/delivery.h"

/* The one decision every way in takes: lockout, per-address limits, the same work for
 * unknown accounts. App passwords never open the web (primary_only). */
static enum kunci_auth_result password_check(struct web_request *rq, const char *login,
                                             const char *password, struct kunci_auth_outcome *out)
{
    struct kunci_auth_request req = {
        .login = login,
        .login_len = strlen(login),
        .secret = password,
        .secret_len = strlen(password),
        .client_ip = rq->client_ip,
        .now = rq->now,
        .primary_only = true,
    };
    return kunci_auth_check(rq->ctx, rq->h, &req, out);
}

/* The signed-in user's own password (re-authentication, a password change): true when it
 * is right, else the refusal (wrong, locked, throttled, try again later) is queued in *ret_r. */
static bool own_password_right(struct web_request *rq, const char *password,
                               const char *wrong_message, enum MHD_Result *ret_r)
{
    struct kunci_auth_outcome out;
    enum kunci_auth_result r = password_check(rq, rq->account.login, password, &out);
    int64_t retry_after = out.retry_after;
    sodium_memzero(&out, sizeof(out));
    if (r == KUNCI_AUTH_ALLOWED)
        return true;
    *ret_r = api_password_refused(rq, r, retry_after, "wrong_password", wrong_message);
    return false;
}

/* Why a new password is refused, as the API says it (the change and the meter alike). */
static const struct {
    int err;
    const char *code, *message;
} password_problems[] = {
    {KUNCI_ERR_PASSWORD_COMMON, "common_password",
     "This password is too common or too easy to guess. Choose another: a few unrelated words "
     "work well."},
    {KUNCI_ERR_PASSWORD_PERSONAL, "personal_password",
     "Don't build your password from your account or your name."},
    {KUNCI_ERR_PASSWORD_SHORT, "admin_password_short",
     "An administrator's password has at least 15 characters."},
    {KUNCI_ERR_TOO_LONG, "weak_password", "Use at most 256 characters."},
    {KUNCI_ERR_INVALID, "weak_password", "Use at least 8 characters."},
};

static size_t password_problem(int err)
{
    size_t i = 0;
    while (i + 1 < sizeof(password_problems) / sizeof(password_problems[0]) &&
           password_problems[i].err != err)
        i++;
    return i; /* anything else: the last, the length rule */
}

static int found_event(void *arg, const struct kunci_event *ev)
{
    (void)ev;
    *(bool *)arg = true;
    return KUNCI_OK;
}

/* A sign-in from an address this account never signed in from (in the activity record),
 * when it has signed in before: worth telling its owner. */
static bool new_network(struct web_request *rq, int64_t account_id)
{
    struct kunci_event_query q = {.account_id = account_id, .limit = 1};
    bool before = false, here = false;
    if (account_id == 0 || rq->client_ip[0] == '\0')
        return false;
    kunci_event_set(q.event, sizeof(q.event), "sign_in");
    kunci_event_set(q.outcome, sizeof(q.outcome), "ok");
    if (kunci_store_event_list(rq->h, &q, found_event, &before) != KUNCI_OK || !before)
        return false;
    kunci_event_set(q.client_ip, sizeof(q.client_ip), rq->client_ip);
    return kunci_store_event_list(rq->h, &q, found_event, &here) == KUNCI_OK && !here;
}

/* Sign-ins from the organization's trusted networks skip the second factor; said in the
 * activity record. */
static bool from_trusted_network(struct web_request *rq)
{
    char trusted[KUNCI_SETTING_VALUE_MAX];
    if (kunci_trusted_networks_load(rq->h, trusted) != KUNCI_OK ||
        !kunci_network_trusted(trusted, rq->client_ip))
        return false;
    web_event(rq, "second_factor", NULL, NULL, "trusted_network", NULL);
    return true;
}

enum MHD_Result web_password_set_failed(struct web_request *rq, int err)
{
    size_t i = password_problem(err);
    if (password_problems[i].err != err)
        return api_fail(rq, err); /* not the rule's refusal: the store's failure */
    return api_error(rq, 400, password_problems[i].code, password_problems[i].message);
}

enum MHD_Result api_sign_in(struct web_request *rq)
{
    const char *login = web_body_string(rq, "login"), *pw = web_body_string(rq, "password");
    struct kunci_auth_outcome out;
    struct kunci_account a;

    if (login == NULL || pw == NULL)
        return api_error(rq, 400, "invalid", "Enter your account and password.");
    enum kunci_auth_result result = password_check(rq, login, pw, &out);
    int64_t account_id = out.account_id, retry_after = out.retry_after;
    /* Not the password: perhaps the temporary access pass an administrator issued for a
     * lost phone. It stands for both factors and leads to registering a new method. */
    bool by_pass =
        result == KUNCI_AUTH_WRONG_SECRET && account_id != 0 &&
        kunci_access_pass_use(rq->ctx, rq->h, account_id, pw, strlen(pw), rq->now) == KUNCI_OK;
    if (by_pass) {
        result = KUNCI_AUTH_ALLOWED;
        (void)kunci_guard_password_success(rq->ctx, rq->h, out.login, rq->client_ip, rq->now);
    }
    if (result != KUNCI_AUTH_ALLOWED || kunci_ctx_live(rq->ctx)->log_allowed)
        kunci_log_decision(&(struct kunci_log_decision){
            .event = "web.sign_in",
            .endpoint = "/api/v1/session",
            .login = out.login,
            .protocol = "web",
            .client_ip = rq->client_ip,
            .result = kunci_auth_result_name(result),
            .via = "password",
            .duration_us = kunci_log_now_us() - rq->started_us,
        });
    struct kunci_event ev;
    web_sign_in_event(rq, out.login, out.account_id, &ev);
    if (result != KUNCI_AUTH_ALLOWED) {
        KUNCI_EVENT_SET(&ev, outcome, result == KUNCI_AUTH_TEMPFAIL ? "tempfail" : "refused");
        KUNCI_EVENT_SET(&ev, reason, kunci_auth_result_name(result));
    } else if (by_pass) {
        KUNCI_EVENT_SET(&ev, reason, "access_pass");
    } else if (new_network(rq, account_id)) {
        KUNCI_EVENT_SET(&ev, reason, "new_network"); /* the owner is told (core/notify.h) */
    }
    ev.logged = true;
    kunci_event_emit(&ev);
    sodium_memzero(&out, sizeof(out));
    if (result == KUNCI_AUTH_DISABLED)
        return api_error(rq, 403, "account_disabled",
                         "Your account is disabled. Contact your administrator.");
    /* One answer for an unknown account and a wrong password. */
    if (result != KUNCI_AUTH_ALLOWED)
        return api_password_refused(rq, result, retry_after, "invalid_credentials",
                                    "Your account or password is incorrect.");
    int r = kunci_store_account_by_id(rq->h, account_id, &a);
    if (r != KUNCI_OK)
        return api_fail(rq, r == KUNCI_ERR_NOT_FOUND ? KUNCI_ERR_TEMPFAIL : r);
    if (!a.enabled) { /* a temporary access pass does not open a disabled account */
        sodium_memzero(&a, sizeof(a));
        return api_error(rq, 403, "account_disabled",
                         "Your account is disabled. Contact your administrator.");
    }
    /* The users list's "last sign-in"; informational. */
    kunci_store_best_effort(kunci_store_account_signed_in(rq->h, account_id, rq->now));
    struct kunci_session_policy policy;
    kunci_session_policy_from(&rq->ctx->cfg, &policy);
    /* Housekeeping; failure is harmless. */
    kunci_store_best_effort(kunci_session_purge(rq->h, &policy, rq->now));
    kunci_store_best_effort(kunci_store_purge_guards(rq->h, rq->now));
    rq->account = a;
    sodium_memzero(&a, sizeof(a));
    rq->has_session = false;
    memset(&rq->session, 0, sizeof(rq->session));
    rq->session.stage = KUNCI_SESSION_PASSWORD;
    enum kunci_next_step next = web_next(rq);
    enum kunci_session_stage stage = KUNCI_SESSION_PASSWORD;
    if (by_pass) {
        if ((r = web_session_rotate(rq, KUNCI_SESSION_FULL)) != KUNCI_OK)
            return api_fail(rq, r);
        rq->session.mfa_at = rq->now; /* the pass proves both: set-up may complete */
        if ((r = kunci_store_session_update(rq->h, &rq->session)) != KUNCI_OK)
            return api_fail(rq, r);
        json_t *s = web_session_json(rq);
        json_object_set_new(s, "access_pass", json_true());
        return api_json(rq, 200, s);
    }
    if (next == KUNCI_NEXT_DONE ||
        (next == KUNCI_NEXT_SECOND_FACTOR && !web_passkey_only(rq) &&
         (kunci_device_trusted(rq->ctx, rq->h, rq->account.id, rq->device_cookie, rq->now) ||
          from_trusted_network(rq))))
        stage = KUNCI_SESSION_FULL;
    r = web_session_rotate(rq, stage);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200, web_session_json(rq));
}

enum MHD_Result api_sign_out(struct web_request *rq)
{
    if (rq->has_session)
        kunci_store_best_effort(kunci_store_session_delete(rq->h, rq->session.id));
    rq->has_session = false;
    web_set_session_cookie(rq, "", true);
    return api_json(rq, 200, json_pack("{s:b}", "signed_in", 0));
}

static int64_t body_id(struct web_request *rq, const char *key)
{
    json_t *v = rq->body ? json_object_get(rq->body, key) : NULL;
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

enum MHD_Result api_session_code(struct web_request *rq)
{
    char err[256] = "";
    int64_t retry_after = 0;
    struct kunci_delivery_request dr = {kunci_ctx_live(rq->ctx), web_language(rq)};

    if (web_next(rq) != KUNCI_NEXT_SECOND_FACTOR)
        return api_error(rq, 409, "not_needed", "No code is needed now.");
    if (web_passkey_only(rq))
        return api_error(rq, 403, "passkey_required",
                         "Your organization requires your passkey or security key here.");
    int r = kunci_mfa_send_code(rq->ctx, rq->h, &rq->account, body_id(rq, "method_id"), rq->now,
                                kunci_delivery_send, &dr, err, sizeof(err), &retry_after);
    if (r == KUNCI_ERR_DELIVERY)
        kunci_log("web.delivery_failed", "code for %s not delivered: %s", rq->account.login, err);
    if (r == KUNCI_ERR_RATE)
        return web_codes_refused(rq, retry_after);
    if (r != KUNCI_OK)
        return api_fail(rq, r == KUNCI_ERR_INVALID ? KUNCI_ERR_NOT_FOUND : r);
    return api_json(rq, 200,
                    json_pack("{s:b, s:I}", "sent", 1, "resend_after", web_resend_after(rq)));
}

enum MHD_Result api_session_verify(struct web_request *rq)
{
    const char *code = web_body_string(rq, "code");
    json_t *remember = rq->body ? json_object_get(rq->body, "remember") : NULL;
    struct kunci_mfa_method m;

    if (web_next(rq) != KUNCI_NEXT_SECOND_FACTOR)
        return api_error(rq, 409, "not_needed", "No code is needed now.");
    if (web_passkey_only(rq))
        return api_error(rq, 403, "passkey_required",
                         "Your organization requires your passkey or security key here.");
    int64_t id = body_id(rq, "method_id");
    if (code == NULL || kunci_store_method_get(rq->h, rq->account.id, id, &m) != 0 || !m.verified)
        return api_error(rq, 400, "invalid", "Choose a method and enter its code.");
    int64_t retry_after = 0;
    int r = kunci_mfa_check(rq->ctx, rq->h, &rq->account, id, code, rq->now, &retry_after);
    char label[320];
    web_method_label(&m, label, sizeof(label));
    web_event(rq, "second_factor", NULL, r == KUNCI_OK ? NULL : "refused",
              r == KUNCI_OK ? NULL : web_code_error_name(r), label);
    if (r != KUNCI_OK)
        return web_code_error(rq, r, retry_after);
    return web_second_factor_proven(rq, json_is_true(remember));
}

enum MHD_Result web_second_factor_proven(struct web_request *rq, bool remember)
{
    rq->session.mfa_at = rq->now;
    int r = web_session_rotate(rq, KUNCI_SESSION_FULL);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    if (remember) {
        struct kunci_settings s;
        char token[KUNCI_TOKEN_MAX];
        if (kunci_settings_load(rq->h, &s) == KUNCI_OK &&
            kunci_device_remember(rq->ctx, rq->h, rq->account.id, rq->now, s.remember_device_days,
                                  token) == KUNCI_OK)
            web_set_device_cookie(rq, token, s.remember_device_days);
        sodium_memzero(token, sizeof(token));
    }
    return api_json(rq, 200, web_session_json(rq));
}

enum MHD_Result api_password_change(struct web_request *rq)
{
    const char *current = web_body_string(rq, "current"), *fresh = web_body_string(rq, "new");
    bool revoked;

    if (current == NULL || fresh == NULL)
        return api_error(rq, 400, "invalid", "Enter your current and your new password.");
    if (rq->session.stage != KUNCI_SESSION_FULL && !rq->account.must_change_password)
        return api_error(rq, 403, "not_signed_in", "Sign in first.");
    enum MHD_Result ret;
    if (!own_password_right(rq, current, "Your current password is incorrect.", &ret))
        return ret;
    if (strcmp(current, fresh) == 0)
        return api_error(rq, 400, "same_password", "Choose a password you have not used here.");
    rq->account.must_change_password = false;
    /* The rule is checked there (kunci_password_acceptable); every other session ends and
     * remembered devices are forgotten. */
    int r = kunci_account_set_password(rq->ctx, rq->h, &rq->account, fresh, strlen(fresh), rq->now,
                                       rq->session.id, &revoked);
    if (r != KUNCI_OK)
        return web_password_set_failed(rq, r);
    web_event(rq, "password_changed", NULL, NULL, NULL, NULL);
    enum kunci_session_stage stage = rq->session.stage;
    if (stage != KUNCI_SESSION_FULL && web_next(rq) == KUNCI_NEXT_DONE)
        stage = KUNCI_SESSION_FULL;
    rq->session.password_at = rq->now;
    if ((r = web_session_rotate(rq, stage)) != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200, web_session_json(rq));
}

enum MHD_Result api_reauth(struct web_request *rq)
{
    const char *pw = web_body_string(rq, "password");
    if (pw == NULL)
        return api_error(rq, 401, "wrong_password", "Your password is incorrect.");
    /* Counted like any other guess at the password. */
    enum MHD_Result ret;
    if (!own_password_right(rq, pw, "Your password is incorrect.", &ret))
        return ret;
    rq->session.password_at = rq->now;
    int r = kunci_store_session_update(rq->h, &rq->session);
    return r == KUNCI_OK ? api_json(rq, 200, json_pack("{s:b}", "ok", 1)) : api_fail(rq, r);
}

/* How good a new password would be, for the strength meter: nothing is stored or counted. */
enum MHD_Result api_password_strength(struct web_request *rq)
{
    const char *pw = web_body_string(rq, "password");
    double bits = 0;

    if (pw == NULL)
        return api_error(rq, 400, "invalid", "Send the password to assess.");
    struct kunci_password_owner owner = {rq->account.login, rq->account.display_name,
                                         rq->account.role};
    int r = kunci_password_assess(pw, strlen(pw), &owner, &bits);
    const char *problem = r == KUNCI_OK ? NULL : password_problems[password_problem(r)].code;
    /* 0 to 4, as zxcvbn's scores: under 2^20 guesses, 2^30, 2^40, 2^50, more. */
    int score = r != KUNCI_OK ? 0 : bits < 30 ? 1 : bits < 40 ? 2 : bits < 50 ? 3 : 4;
    return api_json(rq, 200,
                    json_pack("{s:b, s:s?, s:i}", "acceptable", r == KUNCI_OK, "problem", problem,
                              "score", score));
}

enum MHD_Result api_session_get(struct web_request *rq)
{
    return api_json(rq, 200, web_session_json(rq));
}
