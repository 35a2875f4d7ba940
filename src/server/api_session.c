/* /api/v1/session, /password, /reauth: signing in and out, the second factor, and
 * passwords. */
#include "server/web.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/guard.h"
#include "core/login.h"
#include "core/mfa.h"
#include "delivery/delivery.h"

/* An account with a verified method proves one at every sign-in, whatever its MFA state;
 * set-up follows only for one without (or after a method verified in this very session).
 * An unreadable method list asks for the second factor: never less than that. */
const char *session_next(struct web_request *rq)
{
    int count = 1;

    if (rq->session.stage == KUNCI_SESSION_FULL)
        return "done";
    if (rq->account.must_change_password)
        return "change_password";
    if (kunci_mfa_verified_count(rq->h, rq->account.id, &count, NULL) != KUNCI_OK)
        count = 1;
    if (count > 0 && rq->session.mfa_at == 0)
        return "second_factor";
    if (rq->account.mfa_state != KUNCI_MFA_DISABLED)
        return "setup";
    return count > 0 ? "second_factor" : "done";
}

json_t *session_json(struct web_request *rq)
{
    if (!rq->has_session)
        return json_pack("{s:b}", "signed_in", 0);
    const struct kunci_account *a = &rq->account;
    return json_pack("{s:b, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:b}, s:o}", "signed_in", 1, "next",
                     session_next(rq), "csrf", rq->session.csrf, "user", "login", a->login,
                     "display_name", a->display_name, "role", kunci_role_name(a->role), "mfa_state",
                     kunci_mfa_state_name(a->mfa_state), "must_change_password",
                     a->must_change_password, "methods", methods_json(rq));
}

/* Replaces the session with a new one at the given stage: a new token whenever the
 * session gains privileges. */
int session_rotate(struct web_request *rq, enum kunci_session_stage stage)
{
    char token[KUNCI_TOKEN_MAX];
    struct kunci_session fresh;

    int r = kunci_session_start(rq->ctx, rq->h, rq->account.id, stage, rq->now, token, &fresh);
    if (r != KUNCI_OK)
        return r;
    if (rq->has_session) {
        fresh.password_at = rq->session.password_at;
        fresh.mfa_at = rq->session.mfa_at;
        r = kunci_store_session_update(rq->h, &fresh);
        if (r == KUNCI_OK)
            r = kunci_store_session_delete(rq->h, rq->session.id);
        if (r != KUNCI_OK) {
            kunci_store_best_effort(kunci_store_session_delete(rq->h, fresh.id));
            sodium_memzero(token, sizeof(token));
            return r;
        }
    }
    rq->session = fresh;
    rq->has_session = true;
    set_session_cookie(rq, token, false);
    sodium_memzero(token, sizeof(token));
    return KUNCI_OK;
}

static enum MHD_Result sign_in(struct web_request *rq)
{
    const char *login = body_string(rq, "login"), *pw = body_string(rq, "password");
    struct kunci_auth_outcome out;
    struct kunci_account a;

    if (login == NULL || pw == NULL)
        return api_error(rq, 400, "invalid", "Enter your account and password.");
    /* The one decision every way in takes: lockout, per-address limits, the same work for
     * unknown accounts. App passwords never open the web. */
    struct kunci_auth_request req = {
        .login = login,
        .login_len = strlen(login),
        .secret = pw,
        .secret_len = strlen(pw),
        .client_ip = rq->client_ip,
        .now = rq->now,
        .primary_only = true,
    };
    enum kunci_auth_result result = kunci_auth_check(rq->ctx, rq->h, &req, &out);
    int64_t account_id = out.account_id, retry_after = out.retry_after;
    if (result != KUNCI_AUTH_ALLOWED)
        fprintf(stderr, "web sign-in login=%s ip=%s result=%s\n", out.login[0] ? out.login : "-",
                rq->client_ip[0] ? rq->client_ip : "-", kunci_auth_result_name(result));
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
    struct kunci_session_policy policy;
    web_session_policy(rq->ctx, &policy);
    /* Housekeeping; failure is harmless. */
    (void)kunci_session_purge(rq->h, &policy, rq->now);
    kunci_store_best_effort(kunci_store_purge_guards(rq->h, rq->now));
    rq->account = a;
    sodium_memzero(&a, sizeof(a));
    rq->has_session = false;
    memset(&rq->session, 0, sizeof(rq->session));
    rq->session.stage = KUNCI_SESSION_PASSWORD;
    const char *next = session_next(rq);
    enum kunci_session_stage stage = KUNCI_SESSION_PASSWORD;
    if (strcmp(next, "done") == 0 ||
        (strcmp(next, "second_factor") == 0 &&
         kunci_device_trusted(rq->ctx, rq->h, rq->account.id, cookie(rq, "kunci_device"), rq->now)))
        stage = KUNCI_SESSION_FULL;
    r = session_rotate(rq, stage);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200, session_json(rq));
}

static enum MHD_Result sign_out(struct web_request *rq)
{
    if (rq->has_session)
        kunci_store_best_effort(kunci_store_session_delete(rq->h, rq->session.id));
    rq->has_session = false;
    set_session_cookie(rq, "", true);
    return api_json(rq, 200, json_pack("{s:b}", "signed_in", 0));
}

static int64_t body_id(struct web_request *rq, const char *key)
{
    json_t *v = rq->body ? json_object_get(rq->body, key) : NULL;
    return json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
}

/* Wrong codes one session may type before it ends: with a TOTP window of three codes,
 * ten guesses give an attacker a chance of 3 in 100,000 per sign-in. */
#define SESSION_CODE_FAILURES_MAX 10

enum MHD_Result code_error(struct web_request *rq, int r, int64_t retry_after)
{
    int failures = 0;

    if (r == KUNCI_ERR_LOCKED)
        return api_retry(rq, 429, "code_locked",
                         retry_after > 0 ? "Too many wrong codes for this account. Wait and try "
                                           "again."
                                         : "Too many wrong codes: this account's codes are "
                                           "locked. Contact your administrator.",
                         retry_after);

    if ((r == KUNCI_ERR_INVALID || r == KUNCI_ERR_REUSED || r == KUNCI_ERR_EXPIRED ||
         r == KUNCI_ERR_LIMIT) &&
        kunci_store_session_code_failure(rq->h, rq->session.id, &failures) == KUNCI_OK &&
        failures >= SESSION_CODE_FAILURES_MAX) {
        kunci_store_best_effort(kunci_store_session_delete(rq->h, rq->session.id));
        rq->has_session = false;
        set_session_cookie(rq, "", true);
        fprintf(stderr, "web: %s signed out after %d wrong codes\n", rq->account.login, failures);
        return api_error(rq, 429, "signed_out", "Too many wrong codes. Sign in again.");
    }
    switch (r) {
    case KUNCI_ERR_INVALID:
        return api_error(rq, 400, "wrong_code", "That code didn't work. Check it and try again.");
    case KUNCI_ERR_EXPIRED:
        return api_error(rq, 400, "code_expired", "That code has expired. Ask for a new one.");
    case KUNCI_ERR_LIMIT:
        return api_error(rq, 429, "too_many_attempts", "Too many wrong codes. Ask for a new code.");
    case KUNCI_ERR_REUSED:
        return api_error(rq, 400, "code_used",
                         "That code was used already. Wait for the next one in your app.");
    case KUNCI_ERR_NOT_FOUND:
        return api_error(rq, 400, "no_code", "Ask for a new code first.");
    default:
        return api_fail(rq, r);
    }
}

enum MHD_Result codes_refused(struct web_request *rq, int64_t retry_after)
{
    return api_retry(rq, 429, "too_many_codes",
                     "Too many codes were sent. Wait before asking for another one.", retry_after);
}

json_int_t resend_after(struct web_request *rq)
{
    struct kunci_settings s;
    return kunci_settings_load(rq->h, &s) == KUNCI_OK ? s.code_resend_seconds : 60;
}

static enum MHD_Result send_code(struct web_request *rq)
{
    char err[256] = "";
    int64_t retry_after = 0;
    struct kunci_delivery_request dr = {&rq->ctx->cfg, web_language(rq)};

    if (strcmp(session_next(rq), "second_factor") != 0)
        return api_error(rq, 409, "not_needed", "No code is needed now.");
    int r = kunci_mfa_send_code(rq->ctx, rq->h, &rq->account, body_id(rq, "method_id"), rq->now,
                                kunci_delivery_send, &dr, err, sizeof(err), &retry_after);
    if (r == KUNCI_ERR_DELIVERY)
        fprintf(stderr, "web: code for %s not delivered: %s\n", rq->account.login, err);
    if (r == KUNCI_ERR_RATE)
        return codes_refused(rq, retry_after);
    if (r != KUNCI_OK)
        return api_fail(rq, r == KUNCI_ERR_INVALID ? KUNCI_ERR_NOT_FOUND : r);
    return api_json(rq, 200, json_pack("{s:b, s:I}", "sent", 1, "resend_after", resend_after(rq)));
}

static enum MHD_Result verify_second_factor(struct web_request *rq)
{
    const char *code = body_string(rq, "code");
    json_t *remember = rq->body ? json_object_get(rq->body, "remember") : NULL;
    struct kunci_mfa_method m;

    if (strcmp(session_next(rq), "second_factor") != 0)
        return api_error(rq, 409, "not_needed", "No code is needed now.");
    int64_t id = body_id(rq, "method_id");
    if (code == NULL || kunci_store_method_get(rq->h, rq->account.id, id, &m) != 0 || !m.verified)
        return api_error(rq, 400, "invalid", "Choose a method and enter its code.");
    int64_t retry_after = 0;
    int r = kunci_mfa_check(rq->ctx, rq->h, &rq->account, id, code, rq->now, &retry_after);
    if (r != KUNCI_OK)
        return code_error(rq, r, retry_after);
    rq->session.mfa_at = rq->now;
    if ((r = session_rotate(rq, KUNCI_SESSION_FULL)) != KUNCI_OK)
        return api_fail(rq, r);
    if (json_is_true(remember)) {
        struct kunci_settings s;
        char token[KUNCI_TOKEN_MAX];
        if (kunci_settings_load(rq->h, &s) == KUNCI_OK &&
            kunci_device_remember(rq->ctx, rq->h, rq->account.id, rq->now, s.remember_device_days,
                                  token) == KUNCI_OK)
            set_device_cookie(rq, token, s.remember_device_days);
        sodium_memzero(token, sizeof(token));
    }
    return api_json(rq, 200, session_json(rq));
}

static enum MHD_Result change_password(struct web_request *rq)
{
    const char *current = body_string(rq, "current"), *fresh = body_string(rq, "new");
    bool revoked;

    if (current == NULL || fresh == NULL)
        return api_error(rq, 400, "invalid", "Enter your current and your new password.");
    if (rq->session.stage != KUNCI_SESSION_FULL && !rq->account.must_change_password)
        return api_error(rq, 403, "not_signed_in", "Sign in first.");
    enum kunci_auth_result result = web_password_check(rq, current);
    if (result != KUNCI_AUTH_ALLOWED)
        return api_password_refused(rq, result, rq->password_retry_after, "wrong_password",
                                    "Your current password is incorrect.");
    if (strcmp(current, fresh) == 0)
        return api_error(rq, 400, "same_password", "Choose a password you have not used here.");
    int r = kunci_password_acceptable(fresh, strlen(fresh));
    if (r != KUNCI_OK)
        return api_error(rq, 400, "weak_password",
                         r == KUNCI_ERR_TOO_LONG ? "Use at most 256 characters."
                                                 : "Use at least 8 characters.");
    rq->account.must_change_password = false;
    /* Every other session ends and remembered devices are forgotten. */
    r = kunci_account_set_password(rq->ctx, rq->h, &rq->account, fresh, strlen(fresh), rq->now,
                                   rq->session.id, &revoked);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    enum kunci_session_stage stage = rq->session.stage;
    if (stage != KUNCI_SESSION_FULL && strcmp(session_next(rq), "done") == 0)
        stage = KUNCI_SESSION_FULL;
    rq->session.password_at = rq->now;
    if ((r = session_rotate(rq, stage)) != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200, session_json(rq));
}

static enum MHD_Result reauth(struct web_request *rq)
{
    const char *pw = body_string(rq, "password");
    if (pw == NULL)
        return api_error(rq, 401, "wrong_password", "Your password is incorrect.");
    /* Counted like any other guess at the password. */
    enum kunci_auth_result result = web_password_check(rq, pw);
    if (result != KUNCI_AUTH_ALLOWED)
        return api_password_refused(rq, result, rq->password_retry_after, "wrong_password",
                                    "Your password is incorrect.");
    rq->session.password_at = rq->now;
    int r = kunci_store_session_update(rq->h, &rq->session);
    return r == KUNCI_OK ? api_json(rq, 200, json_pack("{s:b}", "ok", 1)) : api_fail(rq, r);
}

enum MHD_Result api_session(struct web_request *rq)
{
    bool get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;

    if (strcmp(rq->path, "/session") == 0) {
        if (get)
            return api_json(rq, 200, session_json(rq));
        if (post)
            return sign_in(rq);
        if (strcmp(rq->method, "DELETE") == 0)
            return sign_out(rq);
    }
    if (!rq->has_session)
        return api_error(rq, 401, "not_signed_in", "Sign in first.");
    if (post && strcmp(rq->path, "/session/code") == 0)
        return send_code(rq);
    if (post && strcmp(rq->path, "/session/verify") == 0)
        return verify_second_factor(rq);
    if (post && strcmp(rq->path, "/password") == 0)
        return change_password(rq);
    /* The wizard re-authenticates too, when its steps took longer than REAUTH_SECONDS. */
    if (post && strcmp(rq->path, "/reauth") == 0 &&
        (rq->session.stage == KUNCI_SESSION_FULL || strcmp(session_next(rq), "setup") == 0))
        return reauth(rq);
    return api_error(rq, 404, "not_found", "No such endpoint.");
}
