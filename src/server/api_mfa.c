/* /api/v1/methods and /setup/complete: the seed's "Set it up now" wizard and the methods on
 * the Security info page. */
#include "server/web.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/mfa.h"
#include "core/secret.h"
#include "delivery/delivery.h"

/* "+62 ••••••7890", "a•••@example.org": enough to recognise, not to harvest. */
static void mask_target(const struct kunci_mfa_method *m, char *out, size_t size)
{
    const char *t = m->target;
    if (m->kind == KUNCI_METHOD_EMAIL) {
        const char *at = strchr(t, '@');
        snprintf(out, size, "%c\u2022\u2022\u2022%s", t[0], at ? at : "");
    } else if (m->kind == KUNCI_METHOD_PHONE) {
        size_t len = strlen(t);
        const char *space = strchr(t, ' ');
        int cc = space ? (int)(space - t) : 0;
        snprintf(out, size, "%.*s \u2022\u2022\u2022\u2022%s", cc, t, len > 4 ? t + len - 4 : t);
    } else {
        out[0] = '\0';
    }
}

static int add_method(void *arg, const struct kunci_mfa_method *m)
{
    char masked[300];
    if (!m->verified)
        return 0;
    mask_target(m, masked, sizeof(masked));
    json_array_append_new(arg, json_pack("{s:I, s:s, s:s, s:s, s:b}", "id", (json_int_t)m->id,
                                         "kind", kunci_method_kind_name(m->kind), "target", masked,
                                         "channel", m->channel, "default", m->is_default));
    return 0;
}

json_t *methods_json(struct web_request *rq)
{
    json_t *list = json_array();
    kunci_store_best_effort(kunci_store_method_list(rq->h, rq->account.id, add_method, list));
    return list;
}

/* Registering is for the wizard (MFA required, no method yet, or one verified in this
 * session) or a full session: never for a session that still owes its second factor. */
static bool may_register(struct web_request *rq)
{
    return rq->session.stage == KUNCI_SESSION_FULL || strcmp(session_next(rq), "setup") == 0;
}

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
    char *svg = qr_svg(e.uri);
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
        const char *cc = body_string(rq, "country_code"), *number = body_string(rq, "number");
        channel = body_string(rq, "channel");
        if (cc == NULL || number == NULL || channel == NULL ||
            kunci_phone_canonical(cc, number, target, sizeof(target)) != KUNCI_OK)
            return api_error(rq, 400, "bad_phone",
                             "Enter the country code and the phone number, digits only.");
    } else {
        const char *address = body_string(rq, "address");
        if (address == NULL || strlen(address) > KUNCI_TARGET_MAX ||
            kunci_email_check(address) != KUNCI_OK)
            return api_error(rq, 400, "bad_email",
                             "Enter an e-mail address like name@example.org.");
        snprintf(target, sizeof(target), "%s", address);
    }
    struct kunci_delivery_request dr = {&rq->ctx->cfg, web_language(rq)};
    int64_t retry_after = 0;
    int r = kunci_mfa_code_begin(rq->ctx, rq->h, &rq->account, kind, target, channel, rq->now,
                                 kunci_delivery_send, &dr, err, sizeof(err), &id, &retry_after);
    if (r == KUNCI_ERR_DELIVERY)
        fprintf(stderr, "web: code for %s not delivered: %s\n", rq->account.login, err);
    if (r == KUNCI_ERR_RATE)
        return codes_refused(rq, retry_after);
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200,
                    json_pack("{s:I, s:b, s:I}", "method_id", (json_int_t)id, "sent", 1,
                              "resend_after", resend_after(rq)));
}

static enum MHD_Result verify_method(struct web_request *rq, int64_t id)
{
    const char *code = body_string(rq, "code");
    if (code == NULL)
        return api_error(rq, 400, "invalid", "Enter the code.");
    int64_t retry_after = 0;
    int r = kunci_mfa_verify_method(rq->ctx, rq->h, &rq->account, id, code, rq->now, &retry_after);
    if (r != KUNCI_OK)
        return code_error(rq, r, retry_after);
    /* Set-up may complete in this session, and only in one where a method was verified. */
    rq->session.mfa_at = rq->now;
    if ((r = kunci_store_session_update(rq->h, &rq->session)) != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200, json_pack("{s:b, s:o}", "verified", 1, "methods", methods_json(rq)));
}

enum MHD_Result api_methods(struct web_request *rq)
{
    bool post = strcmp(rq->method, "POST") == 0;
    long long id = 0;
    char action[16] = "";
    enum kunci_method_kind kind;

    if (!rq->has_session)
        return api_error(rq, 401, "not_signed_in", "Sign in first.");
    if (strcmp(rq->path, "/methods") == 0 && strcmp(rq->method, "GET") == 0) {
        if (rq->session.stage != KUNCI_SESSION_FULL)
            return api_error(rq, 401, "not_signed_in", "Sign in first.");
        return api_json(rq, 200, methods_json(rq));
    }
    if (post && strncmp(rq->path, "/methods/", 9) == 0 &&
        kunci_method_kind_parse(rq->path + 9, &kind) == KUNCI_OK) {
        if (!may_register(rq))
            return api_error(rq, 401, "not_signed_in", "Sign in first.");
        if (!reauth_fresh(rq))
            return api_reauth_required(rq);
        if (!method_allowed(rq, kind))
            return api_error(rq, 403, "method_not_allowed",
                             "Your organization does not offer this method.");
        return kind == KUNCI_METHOD_TOTP ? begin_totp(rq) : begin_code(rq, kind);
    }
    int n = sscanf(rq->path, "/methods/%lld/%15s", &id, action);
    if (n == 2 && post && strcmp(action, "verify") == 0) {
        if (!may_register(rq))
            return api_error(rq, 401, "not_signed_in", "Sign in first.");
        return verify_method(rq, id);
    }
    if (rq->session.stage != KUNCI_SESSION_FULL)
        return api_error(rq, 401, "not_signed_in", "Sign in first.");
    if (((n == 2 && post && strcmp(action, "default") == 0) ||
         (n == 1 && strcmp(rq->method, "DELETE") == 0)) &&
        !reauth_fresh(rq))
        return api_reauth_required(rq);
    if (n == 2 && post && strcmp(action, "default") == 0) {
        int r = kunci_store_method_set_default(rq->h, rq->account.id, id);
        return r == KUNCI_OK ? api_json(rq, 200, methods_json(rq)) : api_fail(rq, r);
    }
    if (n == 1 && strcmp(rq->method, "DELETE") == 0) {
        int r = kunci_mfa_remove(rq->h, &rq->account, id);
        if (r == KUNCI_ERR_POLICY)
            return api_error(rq, 409, "last_method",
                             "Your organization requires multi-factor authentication, so you "
                             "can't remove your last method. Add another one first.");
        return r == KUNCI_OK ? api_json(rq, 200, methods_json(rq)) : api_fail(rq, r);
    }
    return api_error(rq, 404, "not_found", "No such endpoint.");
}

/* The wizard's Next: registration completes (enabled becomes enforced) and the last step
 * shows an app password for the apps that cannot do MFA. */
enum MHD_Result api_setup_complete(struct web_request *rq)
{
    struct kunci_app_password_spec spec = {"Outlook, Apple Mail and other apps", 0, 0, NULL};
    struct kunci_app_password ap;
    char pw[KUNCI_APP_PASSWORD_MAX_LEN + 1], shown[KUNCI_APP_PASSWORD_FORMATTED_MAX];

    if (!rq->has_session || strcmp(rq->method, "POST") != 0)
        return api_error(rq, 401, "not_signed_in", "Sign in first.");
    /* Only a session that is setting up (or whose account still has it to do) completes. */
    if (!may_register(rq) ||
        (rq->session.stage == KUNCI_SESSION_FULL && rq->account.mfa_state != KUNCI_MFA_ENABLED))
        return api_error(rq, 409, "not_needed", "Set-up is complete already.");
    /* A method verified in this session, not merely one the account has. */
    if (rq->session.mfa_at == 0)
        return api_error(rq, 409, "verify_first", "Verify a method first.");
    if (!reauth_fresh(rq))
        return api_reauth_required(rq);
    int r = kunci_mfa_complete(rq->h, &rq->account);
    if (r == KUNCI_ERR_POLICY)
        return api_error(rq, 409, "verify_first", "Verify a method first.");
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    /* Registration done: the session gains full rights, under a new token. */
    if ((r = session_rotate(rq, KUNCI_SESSION_FULL)) != KUNCI_OK)
        return api_fail(rq, r);
    json_t *app = json_null();
    r = kunci_app_password_create(rq->ctx, rq->h, &rq->account, &spec, rq->now, pw, sizeof(pw),
                                  &ap);
    if (r == KUNCI_OK) {
        kunci_app_password_format(pw, shown, sizeof(shown));
        app = app_password_json(&ap);
        json_object_set_new(app, "password", json_string(shown));
        sodium_memzero(pw, sizeof(pw));
        sodium_memzero(shown, sizeof(shown));
    }
    json_t *out = session_json(rq);
    json_object_set_new(out, "app_password", app);
    return api_json(rq, 200, out);
}
