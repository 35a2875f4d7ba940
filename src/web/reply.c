/* Every answer of the web listener: JSON replies and errors, the security headers, cookies,
 * the user's language. */
#include "web/reply.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/events.h"
#include "core/log.h"
#include "core/err.h"
#include "listen/listen.h"
#include "web/once.h"

/* Wrong codes one session may type before it ends: with a TOTP window of three codes,
 * ten guesses give an attacker a chance of 3 in 100,000 per sign-in. */
#define SESSION_CODE_FAILURES_MAX 10

static const char csp[] = "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                          "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; "
                          "base-uri 'none'; form-action 'self'";

static void security_headers(const struct web_request *rq, struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy", csp);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    /* Only over https (browsers ignore it on http anyway): a year, this host only. */
    if (rq->secure)
        MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
}

enum MHD_Result web_send(struct web_request *rq, unsigned status, struct MHD_Response *resp)
{
    security_headers(rq, resp);
    if (rq->retry_after[0] != '\0')
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, rq->retry_after);
    if (http_draining())
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    for (int i = 0; i < rq->ncookies; i++)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, rq->cookies[i]);
    if (rq->deferred) { /* queued on the connection's thread (listener.c) */
        if (rq->pending != NULL)
            MHD_destroy_response(rq->pending);
        rq->pending = resp;
        rq->pending_status = status;
        return MHD_YES;
    }
    enum MHD_Result ret = MHD_queue_response(rq->conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result api_json(struct web_request *rq, unsigned status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) {
        web_once_end(rq);
        return MHD_NO;
    }
    web_once_settle(rq, status, text);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    return web_send(rq, status, resp);
}

enum MHD_Result api_error(struct web_request *rq, unsigned status, const char *code,
                          const char *message)
{
    return api_json(rq, status, json_pack("{s:s, s:s}", "error", code, "message", message));
}

enum MHD_Result api_retry(struct web_request *rq, unsigned status, const char *code,
                          const char *message, int64_t retry_after)
{
    if (retry_after > 0)
        snprintf(rq->retry_after, sizeof(rq->retry_after), "%lld", (long long)retry_after);
    return api_json(rq, status,
                    json_pack("{s:s, s:s, s:I}", "error", code, "message", message, "retry_after",
                              (json_int_t)retry_after));
}

enum MHD_Result api_reauth_required(struct web_request *rq)
{
    return api_error(rq, 403, "reauth_required", "Enter your password again to continue.");
}

enum MHD_Result api_password_refused(struct web_request *rq, enum kunci_auth_result result,
                                     int64_t retry_after, const char *code, const char *message)
{
    switch (result) {
    case KUNCI_AUTH_LOCKED:
        if (retry_after == 0)
            return api_retry(rq, 429, "locked",
                             "Too many wrong passwords: this account's password is locked. "
                             "Contact your administrator.",
                             0);
        return api_retry(rq, 429, "locked",
                         "Too many wrong passwords. Wait a few minutes and try again.",
                         retry_after);
    case KUNCI_AUTH_THROTTLED:
        return api_retry(rq, 429, "throttled",
                         "Too many failed sign-ins from your network. Wait a moment and try "
                         "again.",
                         retry_after);
    case KUNCI_AUTH_TEMPFAIL:
        return api_fail(rq, KUNCI_ERR_TEMPFAIL);
    default:
        return api_error(rq, 401, code, message);
    }
}

enum MHD_Result api_fail(struct web_request *rq, int err)
{
    switch (err) {
    case KUNCI_ERR_TEMPFAIL:
    case KUNCI_ERR_STORE_ACCESS: /* the operator's to fix; the user can only wait */
    case KUNCI_ERR_STORE_INVALID:
        return api_error(rq, 503, "try_again_later",
                         "The service is temporarily unavailable. Try again later.");
    case KUNCI_ERR_NOT_FOUND:
        return api_error(rq, 404, "not_found", "Not found.");
    case KUNCI_ERR_INVALID:
    case KUNCI_ERR_TOO_LONG:
        return api_error(rq, 400, "invalid", "Check what you entered.");
    case KUNCI_ERR_LIMIT:
        return api_error(rq, 409, "limit", kunci_strerror(err));
    case KUNCI_ERR_EXISTS:
        return api_error(rq, 409, "exists", kunci_strerror(err));
    case KUNCI_ERR_MFA_NOT_REQUIRED:
        return api_error(rq, 403, "mfa_not_required", kunci_strerror(err));
    case KUNCI_ERR_APP_PASSWORDS_OFF:
        return api_error(rq, 403, "app_passwords_off", kunci_strerror(err));
    case KUNCI_ERR_LOCKED:
        return api_error(rq, 429, "code_locked", kunci_strerror(err));
    case KUNCI_ERR_RATE:
        return api_error(rq, 429, "too_many_codes", kunci_strerror(err));
    case KUNCI_ERR_DELIVERY:
        return api_error(rq, 502, "delivery_failed",
                         "We could not send the code. Check the number or address, or try "
                         "again later.");
    default:
        return api_error(rq, 500, "internal", "Something went wrong. Try again later.");
    }
}

const char *web_body_string(struct web_request *rq, const char *key)
{
    json_t *v = rq->body ? json_object_get(rq->body, key) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

void web_set_session_cookie(struct web_request *rq, const char *token, bool clear)
{
    if (rq->ncookies >= 2)
        return;
    snprintf(rq->cookies[rq->ncookies++], sizeof(rq->cookies[0]),
             "%skunci_session=%s; Path=/; HttpOnly; SameSite=Lax%s%s",
             (rq->secure ? "__Host-" : ""), clear ? "" : token, clear ? "; Max-Age=0" : "",
             rq->secure ? "; Secure" : "");
}

void web_set_device_cookie(struct web_request *rq, const char *token, int days)
{
    if (rq->ncookies >= 2)
        return;
    snprintf(rq->cookies[rq->ncookies++], sizeof(rq->cookies[0]),
             "%skunci_device=%s; Path=/; HttpOnly; SameSite=Lax; Max-Age=%d%s",
             (rq->secure ? "__Host-" : ""), token, days * 86400, rq->secure ? "; Secure" : "");
}

const char *web_language(struct web_request *rq)
{
    const char *lang = web_body_string(rq, "lang");
    if (lang != NULL && (strcmp(lang, "en") == 0 || strcmp(lang, "id") == 0))
        return lang;
    return rq->language != NULL ? rq->language : "en";
}

const char *web_code_error_name(int r)
{
    switch (r) {
    case KUNCI_ERR_LOCKED:
        return "code_locked";
    case KUNCI_ERR_INVALID:
        return "wrong_code";
    case KUNCI_ERR_EXPIRED:
        return "code_expired";
    case KUNCI_ERR_LIMIT:
        return "too_many_attempts";
    case KUNCI_ERR_REUSED:
        return "code_used";
    case KUNCI_ERR_NOT_FOUND:
        return "no_code";
    default:
        return "try_again_later";
    }
}

enum MHD_Result web_code_error(struct web_request *rq, int r, int64_t retry_after)
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
        web_set_session_cookie(rq, "", true);
        kunci_log("web.signed_out", "%s signed out after %d wrong codes", rq->account.login,
                  failures);
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

enum MHD_Result web_codes_refused(struct web_request *rq, int64_t retry_after)
{
    return api_retry(rq, 429, "too_many_codes",
                     "Too many codes were sent. Wait before asking for another one.", retry_after);
}

void web_sign_in_event(struct web_request *rq, const char *login, int64_t account_id,
                       struct kunci_event *ev)
{
    kunci_event_init(ev, "sign_in", rq->now);
    KUNCI_EVENT_SET(ev, actor, login);
    KUNCI_EVENT_SET(ev, subject, login);
    ev->account_id = account_id;
    KUNCI_EVENT_SET(ev, client_ip, rq->client_ip);
    KUNCI_EVENT_SET(ev, agent, rq->user_agent);
}

void web_event(struct web_request *rq, const char *name, const struct kunci_account *subject,
               const char *outcome, const char *reason, const char *detail)
{
    struct kunci_event ev;
    if (subject == NULL)
        subject = &rq->account;
    kunci_event_init(&ev, name, rq->now);
    KUNCI_EVENT_SET(&ev, actor, rq->account.login);
    KUNCI_EVENT_SET(&ev, subject, subject->login);
    ev.account_id = subject->id;
    KUNCI_EVENT_SET(&ev, client_ip, rq->client_ip);
    KUNCI_EVENT_SET(&ev, agent, rq->user_agent);
    if (outcome != NULL)
        KUNCI_EVENT_SET(&ev, outcome, outcome);
    KUNCI_EVENT_SET(&ev, reason, reason);
    KUNCI_EVENT_SET(&ev, detail, detail);
    kunci_event_emit(&ev);
}

/* Replaces the session with a new one at the given stage (a new token whenever a session
 * gains rights) and sets its cookie. */
int web_session_rotate(struct web_request *rq, enum kunci_session_stage stage)
{
    char token[KUNCI_TOKEN_MAX];
    struct kunci_session fresh;

    int r = kunci_session_rotate(rq->ctx, rq->h, rq->has_session ? &rq->session : NULL,
                                 rq->account.id, stage, rq->now, token, &fresh);
    if (r != KUNCI_OK)
        return r;
    rq->session = fresh;
    rq->has_session = true;
    web_set_session_cookie(rq, token, false);
    sodium_memzero(token, sizeof(token));
    return KUNCI_OK;
}
