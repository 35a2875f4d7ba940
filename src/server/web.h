/* The public web listener: static UI files and the JSON API under /api/v1. */
#ifndef KUNCI_SERVER_WEB_H
#define KUNCI_SERVER_WEB_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>

#include "core/context.h"
#include "core/decision.h"
#include "core/session.h"
#include "core/store.h"

#define WEB_BODY_MAX (16 * 1024)
/* Creating an app password, adding or removing a method, completing set-up and an
 * administrator's changes ask for the password again after this long. */
#define REAUTH_SECONDS 600

struct web_request {
    struct MHD_Connection *conn;
    const struct kunci_ctx *ctx;
    struct kunci_store_handle *h;
    const char *method;
    const char *path; /* after /api/v1 */
    json_t *body;     /* parsed JSON body, or NULL */
    int64_t now;
    char client_ip[KUNCI_IP_MAX + 1]; /* the browser's address (behind trusted_proxies too) */
    bool secure;                      /* https, as the proxy in front says */
    /* Filled when a session cookie resolves. */
    bool has_session;
    struct kunci_session session;
    struct kunci_account account;
    /* Set-Cookie lines for the response. */
    char cookies[2][256];
    int ncookies;
    char retry_after[24];         /* a Retry-After header for the response, when set */
    int64_t password_retry_after; /* from the last web_password_check */
};

/* Answers from the API modules. */
enum MHD_Result api_json(struct web_request *rq, unsigned status, json_t *body);
enum MHD_Result api_error(struct web_request *rq, unsigned status, const char *code,
                          const char *message);
/* Maps a KUNCI_ERR_* from the core to an API error. */
enum MHD_Result api_fail(struct web_request *rq, int err);
/* An error with a Retry-After header and "retry_after" (seconds) in the body. */
enum MHD_Result api_retry(struct web_request *rq, unsigned status, const char *code,
                          const char *message, int64_t retry_after);
/* The password was typed within REAUTH_SECONDS in this session. */
bool reauth_fresh(const struct web_request *rq);
enum MHD_Result api_reauth_required(struct web_request *rq);
/* A check of the signed-in user's password (re-authentication, password change) through
 * the one decision, its lockout included: KUNCI_AUTH_ALLOWED or why not. */
enum kunci_auth_result web_password_check(struct web_request *rq, const char *password);
/* Answers a refused password check (wrong, locked, throttled, try again later). */
enum MHD_Result api_password_refused(struct web_request *rq, enum kunci_auth_result result,
                                     int64_t retry_after, const char *code, const char *message);
const char *body_string(struct web_request *rq, const char *key);
void set_session_cookie(struct web_request *rq, const char *token, bool clear);
void set_device_cookie(struct web_request *rq, const char *token, int days);
/* A cookie of ours by its base name ("kunci_session"): "__Host-" in front on https. */
const char *cookie(struct web_request *rq, const char *name);
void web_session_policy(const struct kunci_ctx *ctx, struct kunci_session_policy *policy);
/* The user's language: "lang" in the body if kunci has it, else from Accept-Language. */
const char *web_language(struct web_request *rq);

/* api_session.c */
enum MHD_Result api_session(struct web_request *rq);
/* api_mfa.c */
enum MHD_Result api_methods(struct web_request *rq);
enum MHD_Result api_setup_complete(struct web_request *rq);
json_t *methods_json(struct web_request *rq);
/* api_app_passwords.c */
enum MHD_Result api_app_passwords(struct web_request *rq);
json_t *app_password_json(const struct kunci_app_password *ap);
/* api_admin.c */
enum MHD_Result api_admin(struct web_request *rq);
/* qr.c: an SVG of a QR code, caller frees */
char *qr_svg(const char *text);

/* Answers a failed code check; a session with too many wrong codes is ended. */
enum MHD_Result code_error(struct web_request *rq, int r, int64_t retry_after);
/* Too many codes sent: 429 with the wait. */
enum MHD_Result codes_refused(struct web_request *rq, int64_t retry_after);
/* Seconds before another code may be sent to the same place (for the UI's countdown). */
json_int_t resend_after(struct web_request *rq);

/* Replaces the session with a new one at the given stage (a new token whenever a session
 * gains rights), keeping when its password and second factor were proven. */
int session_rotate(struct web_request *rq, enum kunci_session_stage stage);
/* Where a signed-in user goes next: done, setup, second_factor, change_password. */
const char *session_next(struct web_request *rq);
json_t *session_json(struct web_request *rq);

struct conn_guard;
/* Starts the web listener under the guard, with at most `limit` connections. */
int web_start(struct kunci_ctx *ctx, struct conn_guard *guard, unsigned limit,
              struct MHD_Daemon **daemon_r);

#endif
