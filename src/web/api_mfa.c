/* /api/v1/methods and /setup/complete: the seed's "Set it up now" wizard and the methods on
 * the Security info page. */
#include "web/api.h"
#include "device/device.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"
#include "core/accounts.h"
#include "core/err.h"
#include "core/mfa.h"
#include "core/secret.h"
#include "core/timespec.h"
#include "delivery/delivery.h"

static bool method_allowed(struct web_request *rq, enum kunci_method_kind kind)
{
    struct kunci_settings s;
    if (kunci_settings_load(rq->h, &s) != KUNCI_OK)
        return false;
    return kind == KUNCI_METHOD_TOTP    ? s.mfa_totp_allowed
           : kind == KUNCI_METHOD_PHONE ? s.mfa_phone_allowed
                                        : s.mfa_email_allowed;
}

static enum MHD_Result begin_totp(struct web_request *rq)
{
    struct kunci_totp_enrollment e;
    int r = kunci_mfa_totp_begin(rq->ctx, rq->h, &rq->account, rq->ctx->cfg.issuer, rq->now, &e);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    char *svg = kunci_qr_svg(e.uri);
    size_t b64_len =
        svg ? sodium_base64_ENCODED_LEN(strlen(svg), sodium_base64_VARIANT_ORIGINAL) : 0;
    char *data = svg ? malloc(b64_len + 32) : NULL;
    if (data != NULL) {
        static const char prefix[] = "data:image/svg+xml;base64,";
        memcpy(data, prefix, sizeof(prefix)); /* data holds b64_len + 32 bytes */
        sodium_bin2base64(data + sizeof(prefix) - 1, b64_len, (const unsigned char *)svg,
                          strlen(svg), sodium_base64_VARIANT_ORIGINAL);
    }
    json_t *out = json_pack("{s:I, s:s, s:s, s:s?}", "method_id", (json_int_t)e.method_id, "secret",
                            e.base32, "uri", e.uri, "qr", data);
    if (svg != NULL)
        sodium_memzero(svg, strlen(svg)); /* it draws the secret */
    free(svg);
    free(data);
    sodium_memzero(&e, sizeof(e));
    return api_json(rq, 200, out);
}

static enum MHD_Result begin_code(struct web_request *rq, enum kunci_method_kind kind)
{
    char target[KUNCI_TARGET_MAX + 1], err[256] = "";
    const char *channel = "";
    int64_t id;

    if (kind == KUNCI_METHOD_PHONE) {
        const char *cc = web_body_string(rq, "country_code"),
                   *number = web_body_string(rq, "number");
        channel = web_body_string(rq, "channel");
        if (cc == NULL || number == NULL || channel == NULL ||
            kunci_phone_canonical(cc, number, target, sizeof(target)) != KUNCI_OK)
            return api_error(rq, 400, "bad_phone",
                             "Enter the country code and the phone number, digits only.");
    } else {
        const char *address = web_body_string(rq, "address");
        if (address == NULL || strlen(address) > KUNCI_TARGET_MAX ||
            kunci_email_check(address) != KUNCI_OK)
            return api_error(rq, 400, "bad_email",
                             "Enter an e-mail address like name@example.org.");
        /* The alternate address is for when the work account is out of reach. */
        if (strcasecmp(address, rq->account.login) == 0)
            return api_error(rq, 400, "alternate_is_work",
                             "Use an address other than your work or school account.");
        snprintf(target, sizeof(target), "%s", address);
    }
    struct kunci_delivery_request dr = {kunci_ctx_live(rq->ctx), web_language(rq)};
    int64_t retry_after = 0;
    int r = kunci_mfa_code_begin(rq->ctx, rq->h, &rq->account, kind, target, channel, rq->now,
                                 kunci_delivery_send, &dr, err, sizeof(err), &id, &retry_after);
    if (r == KUNCI_ERR_DELIVERY)
        kunci_log("web.delivery_failed", "code for %s not delivered: %s", rq->account.login, err);
    if (r == KUNCI_ERR_RATE)
        return web_codes_refused(rq, retry_after);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200,
                    json_pack("{s:I, s:b, s:I}", "method_id", (json_int_t)id, "sent", 1,
                              "resend_after", web_resend_after(rq)));
}

static void method_event(struct web_request *rq, const char *name, int64_t id)
{
    char label[320];
    web_method_label_of(rq, id, "", label, sizeof(label));
    web_event(rq, name, NULL, NULL, NULL, label);
}

int web_method_verified(struct web_request *rq)
{
    /* Set-up may complete in this session, and only in one where a method was verified.
     * A session still setting up has just proven a second factor: it gets a new token
     * (a full session adding a method keeps its own, so its other tabs go on). */
    rq->session.mfa_at = rq->now;
    if (rq->session.stage == KUNCI_SESSION_FULL)
        return kunci_store_session_update(rq->h, &rq->session);
    return web_session_rotate(rq, rq->session.stage);
}

enum MHD_Result api_method_verify(struct web_request *rq)
{
    int64_t id;
    if (!web_param_id(rq, 0, &id))
        return api_error(rq, 404, "not_found", "No such method.");
    const char *code = web_body_string(rq, "code");
    if (code == NULL)
        return api_error(rq, 400, "invalid", "Enter the code.");
    int64_t retry_after = 0;
    int r = kunci_mfa_verify_method(rq->ctx, rq->h, &rq->account, id, code, rq->now, &retry_after);
    if (r != KUNCI_OK)
        return web_code_error(rq, r, retry_after);
    method_event(rq, "method_added", id);
    if ((r = web_method_verified(rq)) != KUNCI_OK)
        return api_fail(rq, r);
    /* csrf: the new token's, when the session was given one. */
    return api_json(rq, 200,
                    json_pack("{s:b, s:o, s:s}", "verified", 1, "methods", web_methods_json(rq),
                              "csrf", rq->session.csrf));
}

enum MHD_Result api_methods_list(struct web_request *rq)
{
    return api_json(rq, 200, web_methods_json(rq));
}

/* Registering a method: a TOTP secret to scan, or a code sent to a phone or an address. */
enum MHD_Result api_method_begin(struct web_request *rq)
{
    enum kunci_method_kind kind;

    /* Passkeys register through /methods/webauthn/begin and finish. */
    if (kunci_method_kind_parse(rq->params[0], &kind) != KUNCI_OK || kind == KUNCI_METHOD_PASSKEY)
        return api_error(rq, 404, "not_found", "No such endpoint.");
    if (web_passkey_named(rq))
        return api_error(rq, 403, "passkey_required",
                         "Your organization requires a passkey or security key: add one "
                         "instead.");
    if (!method_allowed(rq, kind))
        return api_error(rq, 403, "method_not_allowed",
                         "Your organization does not offer this method.");
    return kind == KUNCI_METHOD_TOTP ? begin_totp(rq) : begin_code(rq, kind);
}

enum MHD_Result api_method_default(struct web_request *rq)
{
    int64_t id;
    if (!web_param_id(rq, 0, &id))
        return api_error(rq, 404, "not_found", "No such method.");
    int r = kunci_store_method_set_default(rq->h, rq->account.id, id);
    if (r == KUNCI_OK)
        method_event(rq, "method_default", id);
    return r == KUNCI_OK ? api_json(rq, 200, web_methods_json(rq)) : api_fail(rq, r);
}

enum MHD_Result api_method_delete(struct web_request *rq)
{
    int64_t id;
    if (!web_param_id(rq, 0, &id))
        return api_error(rq, 404, "not_found", "No such method.");
    char label[320];
    web_method_label_of(rq, id, "", label, sizeof(label));
    int r = kunci_mfa_remove(rq->h, &rq->account, id);
    if (r == KUNCI_OK)
        web_event(rq, "method_removed", NULL, NULL, NULL, label);
    if (r == KUNCI_ERR_POLICY)
        return api_error(rq, 409, "last_method",
                         "Your organization requires multi-factor authentication, so you "
                         "can't remove your last method. Add another one first.");
    return r == KUNCI_OK ? api_json(rq, 200, web_methods_json(rq)) : api_fail(rq, r);
}

/* "Not now" on "More information required", while mfa_setup_grace_days allow: the session
 * goes on without set-up, which is asked again at every sign-in until the grace ends. */
enum MHD_Result api_setup_later(struct web_request *rq)
{
    bool allowed = false;
    int64_t until = 0;
    char when[32];

    if (web_next(rq) != KUNCI_NEXT_SETUP)
        return api_error(rq, 409, "not_needed", "Nothing to put off.");
    int r = kunci_setup_grace(rq->h, &rq->account, rq->now, true, &allowed, &until);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    if (!allowed)
        return api_error(rq, 403, "setup_required",
                         "Your organization requires you to set this up now.");
    kunci_time_format(until, when, sizeof(when));
    web_event(rq, "setup_deferred", NULL, NULL, NULL, when);
    if ((r = web_session_rotate(rq, KUNCI_SESSION_FULL)) != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200, web_session_json(rq));
}

/* The wizard's Next: registration completes (enabled becomes enforced) and the last step
 * shows an app password for the apps that cannot do MFA. */
enum MHD_Result api_setup_complete(struct web_request *rq)
{
    /* Named in the user's language: it is what Security info lists. */
    struct kunci_app_password_spec spec = {strcmp(web_language(rq), "id") == 0
                                               ? "Outlook, Apple Mail, dan aplikasi lain"
                                               : "Outlook, Apple Mail and other apps",
                                           0, 0, NULL};
    struct kunci_app_password ap;
    char pw[KUNCI_APP_PASSWORD_MAX_LEN + 1], shown[KUNCI_APP_PASSWORD_FORMATTED_MAX];

    /* Only a session that is setting up (or whose account still has it to do) completes. */
    if (!web_may_register(rq) ||
        (rq->session.stage == KUNCI_SESSION_FULL && rq->account.mfa_state != KUNCI_MFA_ENABLED))
        return api_error(rq, 409, "not_needed", "Set-up is complete already.");
    /* A method verified in this session, not merely one the account has. */
    if (rq->session.mfa_at == 0)
        return api_error(rq, 409, "verify_first", "Verify a method first.");
    if (!web_reauth_fresh(rq))
        return api_reauth_required(rq);
    int r = kunci_mfa_complete(rq->h, &rq->account);
    if (r == KUNCI_ERR_POLICY)
        return api_error(rq, 409, "verify_first", "Verify a method first.");
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    web_event(rq, "mfa_state_changed", NULL, NULL, "setup_complete", "enabled -> enforced");
    /* Registration done: the session gains full rights. Its token is the one issued when
     * the method was verified (the proof these rights rest on), so a repeat of this
     * request, sent with it when the first answer was lost, finds the same session and
     * gets the same answer (web/once.c). */
    rq->session.stage = KUNCI_SESSION_FULL;
    if ((r = kunci_store_session_update(rq->h, &rq->session)) != KUNCI_OK)
        return api_fail(rq, r);
    json_t *app = json_null();
    r = kunci_app_password_create(rq->ctx, rq->h, &rq->account, &spec, rq->now, pw, sizeof(pw),
                                  &ap);
    if (r == KUNCI_OK) {
        web_event(rq, "app_password_created", NULL, NULL, NULL, ap.name);
        kunci_app_password_format(pw, shown, sizeof(shown));
        app = web_app_password_json(&ap);
        json_object_set_new(app, "password", json_string(shown));
        sodium_memzero(pw, sizeof(pw));
        sodium_memzero(shown, sizeof(shown));
    }
    json_t *out = web_session_json(rq);
    json_object_set_new(out, "app_password", app);
    return api_json(rq, 200, out);
}
