/* The handlers of /api/v1, one per route (routes.c says which request reaches which, and
 * what it must have proven first), and what they share. */
#ifndef KUNCI_WEB_API_H
#define KUNCI_WEB_API_H

#include "web/reply.h"
#include "web/request.h"
#include "web/views.h"

/* Registering a method is for the wizard (MFA required, no method yet, or one verified in
 * this session) or a full session: never for a session that still owes its second factor. */
bool web_may_register(struct web_request *rq);
/* The route's {…} part i as a positive id. */
bool web_param_id(const struct web_request *rq, int i, int64_t *id_r);

/* listener.c */
enum MHD_Result api_config(struct web_request *rq);
/* api_session.c: signing in and out, the second factor, passwords */
enum MHD_Result api_session_get(struct web_request *rq);
enum MHD_Result api_sign_in(struct web_request *rq);
enum MHD_Result api_sign_out(struct web_request *rq);
enum MHD_Result api_session_code(struct web_request *rq);
enum MHD_Result api_session_verify(struct web_request *rq);
enum MHD_Result api_password_change(struct web_request *rq);
enum MHD_Result api_password_strength(struct web_request *rq);
enum MHD_Result api_reauth(struct web_request *rq);
/* A second factor proven at sign-in: the session gains full rights under a new token, and
 * the browser is remembered when asked. */
enum MHD_Result web_second_factor_proven(struct web_request *rq, bool remember);
/* Whether the organization accepts only a passkey as this user's second factor on the web
 * (mfa_phishing_resistant_required names them, and they have one). */
bool web_passkey_only(struct web_request *rq);
/* Whether mfa_phishing_resistant_required names this user (they may register passkeys only). */
bool web_passkey_named(struct web_request *rq);
/* api_passkey.c: passkeys and security keys (WebAuthn) */
enum MHD_Result api_passkey_register_begin(struct web_request *rq);
enum MHD_Result api_passkey_register_finish(struct web_request *rq);
enum MHD_Result api_passkey_second_begin(struct web_request *rq);
enum MHD_Result api_passkey_second_finish(struct web_request *rq);
enum MHD_Result api_passkey_sign_in_begin(struct web_request *rq);
enum MHD_Result api_passkey_sign_in_finish(struct web_request *rq);
enum MHD_Result api_method_rename(struct web_request *rq);
/* api_mfa.c: the wizard and the methods on Security info */
enum MHD_Result api_methods_list(struct web_request *rq);
enum MHD_Result api_method_begin(struct web_request *rq);
enum MHD_Result api_method_verify(struct web_request *rq);
enum MHD_Result api_method_default(struct web_request *rq);
enum MHD_Result api_method_delete(struct web_request *rq);
enum MHD_Result api_setup_complete(struct web_request *rq);
enum MHD_Result api_setup_later(struct web_request *rq);
/* A method was verified (a code, or a passkey registered) in this session: set-up may
 * complete in it; one still setting up gets a new token. */
int web_method_verified(struct web_request *rq);
/* api_app_passwords.c */
enum MHD_Result api_app_passwords_list(struct web_request *rq);
enum MHD_Result api_app_passwords_create(struct web_request *rq);
enum MHD_Result api_app_passwords_delete_all(struct web_request *rq);
enum MHD_Result api_app_password_delete(struct web_request *rq);
/* api_devices.c: Set up this device */
enum MHD_Result api_devices(struct web_request *rq);
enum MHD_Result api_device_begin(struct web_request *rq);
enum MHD_Result api_device_download(struct web_request *rq);
/* Whether [devices] is set; the public autoconfig file (listener.c serves it). */
bool web_devices_enabled(const struct kunci_ctx *ctx);
enum MHD_Result web_autoconfig(struct web_request *rq);
/* api_activity.c: Recent activity, This wasn't me, the administrators' log */
enum MHD_Result api_activity(struct web_request *rq);
enum MHD_Result api_activity_not_me(struct web_request *rq);
enum MHD_Result api_admin_activity(struct web_request *rq);
/* api_admin_users.c: the users list at scale, bulk MFA, Manage user settings, readiness */
enum MHD_Result api_admin_users(struct web_request *rq);
enum MHD_Result api_admin_users_mfa(struct web_request *rq);
enum MHD_Result api_admin_users_manage(struct web_request *rq);
enum MHD_Result api_admin_readiness(struct web_request *rq);
/* An account's mail clients on its password lately, or NULL when the store failed. */
json_t *web_legacy_clients(struct web_request *rq, int64_t account_id);
/* api_recovery.c: backup codes, the temporary access pass */
enum MHD_Result api_backup_codes_new(struct web_request *rq);
enum MHD_Result api_session_backup_code(struct web_request *rq);
enum MHD_Result api_admin_access_pass(struct web_request *rq);
/* api_reset.c: self-service password reset */
enum MHD_Result api_reset_begin(struct web_request *rq);
enum MHD_Result api_reset_verify(struct web_request *rq);
enum MHD_Result api_reset_code(struct web_request *rq);
enum MHD_Result api_reset_second(struct web_request *rq);
enum MHD_Result api_reset_complete(struct web_request *rq);
/* A failed kunci_account_set_password: the rule's refusal (core/password.h) as the API says
 * it, anything else as api_fail. */
enum MHD_Result web_password_set_failed(struct web_request *rq, int err);
/* api_admin.c */
enum MHD_Result api_admin_lockouts(struct web_request *rq);
enum MHD_Result api_admin_lockout_clear(struct web_request *rq);
enum MHD_Result api_admin_user_create(struct web_request *rq);
enum MHD_Result api_admin_user_update(struct web_request *rq);
enum MHD_Result api_admin_user_password(struct web_request *rq);
enum MHD_Result api_admin_user_delete(struct web_request *rq);
enum MHD_Result api_admin_settings(struct web_request *rq);
enum MHD_Result api_admin_settings_update(struct web_request *rq);
enum MHD_Result api_admin_user_app_passwords_delete(struct web_request *rq);

#endif
