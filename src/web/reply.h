/* Every answer of the web listener: JSON replies and errors, the security headers, cookies,
 * the user's language. */
#ifndef KUNCI_WEB_REPLY_H
#define KUNCI_WEB_REPLY_H

#include "core/decision.h"
#include "web/request.h"

/* Queues resp with the security headers, the cookies and Retry-After of rq. */
enum MHD_Result web_send(struct web_request *rq, unsigned status, struct MHD_Response *resp);
enum MHD_Result api_json(struct web_request *rq, unsigned status, json_t *body);
enum MHD_Result api_error(struct web_request *rq, unsigned status, const char *code,
                          const char *message);
/* Maps a KUNCI_ERR_* from the core to an API error. */
enum MHD_Result api_fail(struct web_request *rq, int err);
/* An error with a Retry-After header and "retry_after" (seconds) in the body. */
enum MHD_Result api_retry(struct web_request *rq, unsigned status, const char *code,
                          const char *message, int64_t retry_after);
enum MHD_Result api_reauth_required(struct web_request *rq);
/* Answers a refused password check (wrong, locked, throttled, try again later). */
enum MHD_Result api_password_refused(struct web_request *rq, enum kunci_auth_result result,
                                     int64_t retry_after, const char *code, const char *message);
/* Answers a failed code check; a session with too many wrong codes is ended. */
enum MHD_Result web_code_error(struct web_request *rq, int r, int64_t retry_after);
/* The API's name of a failed code check ("wrong_code", ...), for the activity record. */
const char *web_code_error_name(int r);
/* Too many codes sent: 429 with the wait. */
enum MHD_Result web_codes_refused(struct web_request *rq, int64_t retry_after);

void web_set_session_cookie(struct web_request *rq, const char *token, bool clear);
void web_set_device_cookie(struct web_request *rq, const char *token, int days);
/* Replaces the session with a new one at the given stage (a new token whenever a session
 * gains rights), keeping when its password and second factor were proven; sets the cookie. */
int web_session_rotate(struct web_request *rq, enum kunci_session_stage stage);

/* A web sign-in's event, begun: who (login, account_id 0 when unknown), from the browser's
 * address and user agent; the caller adds the outcome and emits it. */
void web_sign_in_event(struct web_request *rq, const char *login, int64_t account_id,
                       struct kunci_event *ev);
/* An event in the activity record for this request: the signed-in user (or the login
 * trying to sign in) acts on subject (NULL: their own account), from the browser's address
 * and user agent; outcome NULL is "ok". */
void web_event(struct web_request *rq, const char *name, const struct kunci_account *subject,
               const char *outcome, const char *reason, const char *detail);

/* The user's language: "lang" in the body if kunci has it, else from Accept-Language. */
const char *web_language(struct web_request *rq);

#endif
