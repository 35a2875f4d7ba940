/* The JSON views of what the API shows: the session, the methods, an app password. */
#ifndef KUNCI_WEB_VIEWS_H
#define KUNCI_WEB_VIEWS_H

#include "web/request.h"

/* {signed_in, next, csrf, user, methods} */
json_t *web_session_json(struct web_request *rq);
/* The signed-in user's verified methods, their targets masked. */
json_t *web_methods_json(struct web_request *rq);
json_t *web_app_password_json(const struct kunci_app_password *ap);
/* "phone +62 ••••7890": a method as the activity record names it (masked). */
void web_method_label(const struct kunci_mfa_method *m, char *out, size_t size);
/* The same for the signed-in user's method id (fallback when it cannot be read). */
void web_method_label_of(struct web_request *rq, int64_t id, const char *fallback, char *out,
                         size_t size);
/* The maker of a passkey by its authenticator's AAGUID ("iCloud Keychain"), from the table
 * web/passkey-providers.json; NULL when unknown. */
const char *web_passkey_provider(const char *web_root, const uint8_t aaguid[16]);
/* Seconds before another code may be sent to the same place (for the UI's countdown). */
json_int_t web_resend_after(struct web_request *rq);

#endif
