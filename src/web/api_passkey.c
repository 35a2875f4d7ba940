/* /api/v1/methods/webauthn and /session/webauthn, /session/passkey: passkeys and security
 * keys. Each ceremony has a begin (the options for navigator.credentials, with a challenge
 * bound to the session) and a finish (what the browser returned, checked by core/passkey.c).
 * Binary fields travel as base64url without padding, as WebAuthn's JSON forms do. */
#include "web/api.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/log.h"
#include "core/passkey.h"
#include "core/settings.h"

/* A zero binding: passwordless sign-in starts without a session. */
static const uint8_t no_session[KUNCI_TOKEN_HASH_BYTES];

static json_t *b64url(const uint8_t *bin, size_t len)
{
    char out[sodium_base64_ENCODED_LEN(KUNCI_CREDENTIAL_ID_MAX,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    if (len > KUNCI_CREDENTIAL_ID_MAX)
        return json_null();
    sodium_bin2base64(out, sizeof(out), bin, len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return json_string(out);
}

/* A base64url member of obj decoded into a buffer of its own (freed by the caller);
 * false when absent, malformed or longer than max. */
static bool b64_member(json_t *obj, const char *key, size_t max, uint8_t **bin_r, size_t *len_r)
{
    const char *s = json_string_value(json_object_get(obj, key));
    size_t n = 0;
    *bin_r = NULL;
    *len_r = 0;
    if (s == NULL || strlen(s) > (max * 4 + 2) / 3 + 4)
        return false;
    uint8_t *bin = malloc(max + 1);
    if (bin == NULL)
        return false;
    if (sodium_base642bin(bin, max, s, strlen(s), NULL, &n, NULL,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0) {
        free(bin);
        return false;
    }
    *bin_r = bin;
    *len_r = n;
    return true;
}

/* Whether passkeys may be used: kunci.conf names a relying party browsers accept and, to
 * register one or to sign in without a password, the organization offers them (a passkey
 * registered before mfa_webauthn_allowed was turned off stays a second factor, as an
 * authenticator app does when its method is turned off). Else the refusal is queued. */
static bool passkeys_usable(struct web_request *rq, bool offered_needed, enum MHD_Result *ret_r)
{
    struct kunci_settings s;
    if (rq->ctx->cfg.rp_id[0] == '\0') {
        *ret_r = api_error(rq, 503, "passkeys_unconfigured",
                           "Passkeys are not set up on this server: its administrator sets "
                           "[web] origin in kunci.conf.");
        return false;
    }
    if (!offered_needed)
        return true;
    int r = kunci_settings_load(rq->h, &s);
    if (r != KUNCI_OK) {
        *ret_r = api_fail(rq, r);
        return false;
    }
    if (!s.mfa_webauthn_allowed) {
        *ret_r =
            api_error(rq, 403, "method_not_allowed", "Your organization does not offer passkeys.");
        return false;
    }
    return true;
}

static const char *uv_word(bool required)
{
    return required ? "required" : "preferred";
}

struct credential_list {
    json_t *list;
    int n;
};

static int add_credential(void *arg, const struct kunci_passkey *pk)
{
    struct credential_list *c = arg;
    json_t *d = json_pack("{s:s, s:o}", "type", "public-key", "id",
                          b64url(pk->credential_id, pk->credential_id_len));
    if (pk->transports[0] != '\0') {
        json_t *t = json_array();
        for (const char *p = pk->transports; *p != '\0';) {
            size_t n = strcspn(p, ",");
            json_array_append_new(t, json_stringn(p, n));
            p += n + (p[n] == ',');
        }
        json_object_set_new(d, "transports", t);
    }
    json_array_append_new(c->list, d);
    c->n++;
    return 0;
}

/* The account's credentials as excludeCredentials or allowCredentials. */
static int account_credentials(struct web_request *rq, struct credential_list *c)
{
    c->list = json_array();
    c->n = 0;
    return kunci_store_passkey_list(rq->h, rq->account.id, add_credential, c);
}

static json_t *challenge_json(struct web_request *rq, enum kunci_passkey_purpose purpose,
                              const uint8_t *binding)
{
    uint8_t c[KUNCI_CHALLENGE_BYTES];
    kunci_passkey_challenge(rq->ctx, purpose, binding, rq->now, c);
    return b64url(c, sizeof(c));
}

/* What the browser sent back, decoded; the buffers are freed by response_free. */
struct response {
    struct kunci_passkey_response r;
    uint8_t *id, *client_data, *attestation, *auth_data, *signature, *user_handle;
    char transports[64];
};

static void response_free(struct response *x)
{
    free(x->id);
    free(x->client_data);
    free(x->attestation);
    free(x->auth_data);
    free(x->signature);
    free(x->user_handle);
}

static bool response_decode(struct web_request *rq, bool registering, struct response *x)
{
    json_t *body = rq->body, *resp = json_object_get(body, "response");
    memset(x, 0, sizeof(*x));
    if (!json_is_object(resp) ||
        !b64_member(body, "id", KUNCI_CREDENTIAL_ID_MAX, &x->id, &x->r.credential_id_len) ||
        !b64_member(resp, "clientDataJSON", KUNCI_CLIENT_DATA_MAX, &x->client_data,
                    &x->r.client_data_len))
        return false;
    x->r.credential_id = x->id;
    x->r.client_data = x->client_data;
    if (registering) {
        if (!b64_member(resp, "attestationObject", KUNCI_ATTESTATION_MAX, &x->attestation,
                        &x->r.attestation_len))
            return false;
        x->r.attestation = x->attestation;
        /* Reported by the browser, not signed: used for the label and to ask for user
         * verification, never to let anything through. */
        json_t *t = json_object_get(resp, "transports"), *v;
        size_t i, used = 0;
        json_array_foreach(t, i, v)
        {
            const char *s = json_string_value(v);
            if (s == NULL || strlen(s) > 16 ||
                strspn(s, "abcdefghijklmnopqrstuvwxyz-") != strlen(s) ||
                used + strlen(s) + 2 > sizeof(x->transports))
                continue;
            used += (size_t)snprintf(x->transports + used, sizeof(x->transports) - used, "%s%s",
                                     used ? "," : "", s);
        }
        x->r.transports = x->transports;
        x->r.discoverable = json_is_true(json_object_get(body, "discoverable"));
        return true;
    }
    if (!b64_member(resp, "authenticatorData", KUNCI_AUTH_DATA_MAX, &x->auth_data,
                    &x->r.auth_data_len) ||
        !b64_member(resp, "signature", KUNCI_SIGNATURE_MAX, &x->signature, &x->r.signature_len))
        return false;
    x->r.auth_data = x->auth_data;
    x->r.signature = x->signature;
    if (json_object_get(resp, "userHandle") != NULL &&
        !json_is_null(json_object_get(resp, "userHandle"))) {
        if (!b64_member(resp, "userHandle", 64, &x->user_handle, &x->r.user_handle_len))
            return false;
        x->r.user_handle = x->user_handle;
    }
    return true;
}

/* The browser's answer in the body, or the 400 to send (nothing kept). */
static bool response_read(struct web_request *rq, bool registering, struct response *x,
                          enum MHD_Result *ret_r)
{
    if (response_decode(rq, registering, x))
        return true;
    response_free(x);
    *ret_r = api_error(rq, 400, "invalid", "Send the browser's answer as it gave it.");
    return false;
}

/* The API's word for a refusal (also the activity record's reason). */
static const char *passkey_error_name(int r)
{
    switch (r) {
    case KUNCI_ERR_EXPIRED:
        return "passkey_expired";
    case KUNCI_ERR_REUSED:
        return "passkey_replayed";
    case KUNCI_ERR_NOT_FOUND:
        return "passkey_unknown";
    case KUNCI_ERR_EXISTS:
        return "passkey_exists";
    case KUNCI_ERR_COUNTER:
        return "passkey_cloned";
    case KUNCI_ERR_INVALID:
        return "passkey_refused";
    case KUNCI_ERR_TEMPFAIL:
        return "unavailable";
    }
    return "internal";
}

/* A refusal as the API says it; the reason goes to the log, not to the browser. */
static enum MHD_Result passkey_refused(struct web_request *rq, int r, const char *why,
                                       const char *login)
{
    kunci_log("web.passkey_refused", "login=%s client_ip=%s reason=\"%s\" why=\"%s\"",
              login[0] ? login : "-", rq->client_ip, kunci_strerror(r), why ? why : "");
    switch (r) {
    case KUNCI_ERR_EXPIRED:
        return api_error(rq, 400, passkey_error_name(r), "That took too long. Try again.");
    case KUNCI_ERR_REUSED:
        return api_error(rq, 400, "passkey_replayed", "That answer was used already. Try again.");
    case KUNCI_ERR_NOT_FOUND:
        return api_error(rq, 400, "passkey_unknown",
                         "That passkey isn't registered for this account. Try another one, or "
                         "another way to sign in.");
    case KUNCI_ERR_EXISTS:
        return api_error(rq, 409, "passkey_exists",
                         "That passkey or security key is registered already.");
    case KUNCI_ERR_COUNTER:
        return api_error(rq, 400, "passkey_cloned",
                         "That passkey was refused: it may have been copied. Use another way "
                         "to sign in and tell your administrator.");
    case KUNCI_ERR_INVALID:
        return api_error(rq, 400, "passkey_refused",
                         "That passkey or security key wasn't accepted. Try again.");
    }
    return api_fail(rq, r);
}

/* ---- Registering (the wizard, Security info) ---- */

enum MHD_Result api_passkey_register_begin(struct web_request *rq)
{
    enum MHD_Result ret;
    struct credential_list c;
    uint8_t handle[KUNCI_USER_HANDLE_BYTES];

    if (!passkeys_usable(rq, true, &ret))
        return ret;
    int r = account_credentials(rq, &c);
    if (r != KUNCI_OK) {
        json_decref(c.list);
        return api_fail(rq, r);
    }
    kunci_passkey_user_handle(rq->ctx, rq->account.id, handle);
    const char *rp_name =
        rq->ctx->cfg.organization_name[0] ? rq->ctx->cfg.organization_name : rq->ctx->cfg.issuer;
    json_t *options = json_pack(
        "{s:o, s:{s:s, s:s}, s:{s:o, s:s, s:s}, s:[{s:s, s:i}, {s:s, s:i}, {s:s, s:i}], s:i, "
        "s:s, s:{s:s, s:s}, s:o, s:{s:b}}",
        "challenge", challenge_json(rq, KUNCI_PASSKEY_REGISTER, rq->session.token_hash), "rp", "id",
        rq->ctx->cfg.rp_id, "name", rp_name, "user", "id", b64url(handle, sizeof(handle)), "name",
        rq->account.login, "displayName",
        rq->account.display_name[0] ? rq->account.display_name : rq->account.login,
        "pubKeyCredParams", "type", "public-key", "alg", -7, "type", "public-key", "alg", -8,
        "type", "public-key", "alg", -257, "timeout", KUNCI_CHALLENGE_SECONDS * 1000, "attestation",
        "none", "authenticatorSelection", "residentKey", "preferred", "userVerification",
        uv_word(kunci_passkey_uv_required(rq->ctx, KUNCI_PASSKEY_REGISTER)), "excludeCredentials",
        c.list, "extensions", "credProps", 1);
    return api_json(rq, 200, json_pack("{s:o}", "publicKey", options));
}

enum MHD_Result api_passkey_register_finish(struct web_request *rq)
{
    enum MHD_Result ret;
    struct response x;
    struct kunci_passkey pk;
    const char *why = NULL;
    char name[KUNCI_PASSKEY_NAME_MAX * 4 + 1];

    if (!passkeys_usable(rq, true, &ret))
        return ret;
    if (!response_read(rq, true, &x, &ret))
        return ret;
    const char *given = web_body_string(rq, "name");
    snprintf(name, sizeof(name), "%s", given ? given : "");
    if (given != NULL && !kunci_passkey_name_ok(given)) {
        response_free(&x);
        return api_error(rq, 400, "bad_name", "Give it a name of at most 64 characters.");
    }
    if (name[0] == '\0') /* named later from its AAGUID, else by what it is */
        snprintf(name, sizeof(name), "%s",
                 strcmp(web_language(rq), "id") == 0
                     ? (x.r.discoverable ? "Passkey" : "Kunci keamanan")
                     : (x.r.discoverable ? "Passkey" : "Security key"));
    int r = kunci_passkey_register(rq->ctx, rq->h, &rq->account, rq->session.token_hash, name, &x.r,
                                   rq->now, &pk, &why);
    response_free(&x);
    if (r == KUNCI_OK && (given == NULL || given[0] == '\0')) {
        const char *provider = web_passkey_provider(rq->ctx->cfg.web_root, pk.aaguid);
        if (provider != NULL && kunci_passkey_name_ok(provider))
            kunci_store_best_effort(
                kunci_store_method_rename(rq->h, rq->account.id, pk.method_id, provider));
    }
    if (r != KUNCI_OK)
        return passkey_refused(rq, r, why, rq->account.login);
    char label[320];
    web_method_label_of(rq, pk.method_id, "passkey", label, sizeof(label));
    web_event(rq, "method_added", NULL, NULL, NULL, label);
    if ((r = web_method_verified(rq)) != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200,
                    json_pack("{s:b, s:I, s:o, s:s}", "verified", 1, "method_id",
                              (json_int_t)pk.method_id, "methods", web_methods_json(rq), "csrf",
                              rq->session.csrf));
}

/* ---- The second factor at sign-in ---- */

/* /session/webauthn without a session that owes its second factor is passwordless sign-in
 * (the same as /session/passkey). */
static bool owes_second_factor(struct web_request *rq)
{
    return rq->has_session && web_next(rq) == KUNCI_NEXT_SECOND_FACTOR;
}

enum MHD_Result api_passkey_second_begin(struct web_request *rq)
{
    enum MHD_Result ret;
    struct credential_list c;

    if (!owes_second_factor(rq))
        return api_passkey_sign_in_begin(rq);
    if (!passkeys_usable(rq, false, &ret))
        return ret;
    int r = account_credentials(rq, &c);
    if (r != KUNCI_OK || c.n == 0) {
        json_decref(c.list);
        return r != KUNCI_OK ? api_fail(rq, r)
                             : api_error(rq, 404, "not_found", "You have no passkey here.");
    }
    json_t *options = json_pack(
        "{s:o, s:s, s:i, s:o, s:s}", "challenge",
        challenge_json(rq, KUNCI_PASSKEY_SECOND, rq->session.token_hash), "rpId",
        rq->ctx->cfg.rp_id, "timeout", KUNCI_CHALLENGE_SECONDS * 1000, "allowCredentials", c.list,
        "userVerification", uv_word(kunci_passkey_uv_required(rq->ctx, KUNCI_PASSKEY_SECOND)));
    return api_json(rq, 200, json_pack("{s:o}", "publicKey", options));
}

enum MHD_Result api_passkey_second_finish(struct web_request *rq)
{
    enum MHD_Result ret;
    struct response x;
    struct kunci_passkey pk;
    const char *why = NULL;

    if (!owes_second_factor(rq))
        return api_passkey_sign_in_finish(rq);
    if (!passkeys_usable(rq, false, &ret))
        return ret;
    if (!response_read(rq, false, &x, &ret))
        return ret;
    int r = kunci_passkey_authenticate(rq->ctx, rq->h, KUNCI_PASSKEY_SECOND, rq->account.id,
                                       rq->session.token_hash, &x.r, rq->now, &pk, &why);
    response_free(&x);
    char label[320] = "passkey";
    if (r == KUNCI_OK)
        web_method_label_of(rq, pk.method_id, "passkey", label, sizeof(label));
    web_event(rq, "second_factor", NULL, r == KUNCI_OK ? NULL : "refused",
              r == KUNCI_OK ? NULL : passkey_error_name(r), label);
    if (r != KUNCI_OK)
        return passkey_refused(rq, r, why, rq->account.login);
    return web_second_factor_proven(
        rq, json_is_true(rq->body ? json_object_get(rq->body, "remember") : NULL));
}

/* ---- Passwordless sign-in: a discoverable credential is both factors ---- */

enum MHD_Result api_passkey_sign_in_begin(struct web_request *rq)
{
    enum MHD_Result ret;
    if (!passkeys_usable(rq, true, &ret))
        return ret;
    json_t *options = json_pack("{s:o, s:s, s:i, s:[], s:s}", "challenge",
                                challenge_json(rq, KUNCI_PASSKEY_PASSWORDLESS, no_session), "rpId",
                                rq->ctx->cfg.rp_id, "timeout", KUNCI_CHALLENGE_SECONDS * 1000,
                                "allowCredentials", "userVerification", "required");
    return api_json(rq, 200, json_pack("{s:o}", "publicKey", options));
}

enum MHD_Result api_passkey_sign_in_finish(struct web_request *rq)
{
    enum MHD_Result ret;
    struct response x;
    struct kunci_passkey pk;
    struct kunci_account a;
    const char *why = NULL;

    if (!passkeys_usable(rq, true, &ret))
        return ret;
    if (!response_read(rq, false, &x, &ret))
        return ret;
    int r = kunci_passkey_authenticate(rq->ctx, rq->h, KUNCI_PASSKEY_PASSWORDLESS, 0, no_session,
                                       &x.r, rq->now, &pk, &why);
    response_free(&x);
    memset(&a, 0, sizeof(a));
    if (r == KUNCI_OK) /* its account deleted meanwhile: as if unknown */
        r = kunci_store_account_by_id(rq->h, pk.account_id, &a);
    if (r == KUNCI_OK && kunci_ctx_live(rq->ctx)->log_allowed)
        kunci_log_decision(&(struct kunci_log_decision){
            .event = "web.sign_in",
            .endpoint = rq->path,
            .login = a.login,
            .protocol = "web",
            .client_ip = rq->client_ip,
            .result = a.enabled ? "allowed" : "disabled",
            .via = "passkey",
            .duration_us = kunci_log_now_us() - rq->started_us,
        });
    struct kunci_event ev;
    web_sign_in_event(rq, a.login, a.id, &ev);
    KUNCI_EVENT_SET(&ev, detail, "passkey");
    if (r != KUNCI_OK) {
        KUNCI_EVENT_SET(&ev, outcome, r == KUNCI_ERR_TEMPFAIL ? "tempfail" : "refused");
        KUNCI_EVENT_SET(&ev, reason, passkey_error_name(r));
    } else if (!a.enabled) {
        KUNCI_EVENT_SET(&ev, outcome, "refused");
        KUNCI_EVENT_SET(&ev, reason, "disabled");
    } else {
        KUNCI_EVENT_SET(&ev, reason, "passkey");
    }
    kunci_event_emit(&ev);
    if (r != KUNCI_OK)
        return passkey_refused(rq, r, why, a.login);
    if (!a.enabled) {
        sodium_memzero(&a, sizeof(a));
        return api_error(rq, 403, "account_disabled",
                         "Your account is disabled. Contact your administrator.");
    }
    kunci_store_best_effort(kunci_store_account_signed_in(rq->h, a.id, rq->now));
    struct kunci_session_policy policy;
    kunci_session_policy_from(&rq->ctx->cfg, &policy);
    kunci_store_best_effort(kunci_session_purge(rq->h, &policy, rq->now));
    rq->account = a;
    sodium_memzero(&a, sizeof(a));
    /* Whatever session this browser had ends: a new one, under a new token. A passkey that
     * verified its user stands for the password and the second factor. */
    if (rq->has_session)
        kunci_store_best_effort(kunci_store_session_delete(rq->h, rq->session.id));
    rq->has_session = false;
    memset(&rq->session, 0, sizeof(rq->session));
    r = web_session_rotate(rq, rq->account.must_change_password ? KUNCI_SESSION_PASSWORD
                                                                : KUNCI_SESSION_FULL);
    if (r == KUNCI_OK) {
        rq->session.mfa_at = rq->now;
        r = kunci_store_session_update(rq->h, &rq->session);
    }
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    return api_json(rq, 200, web_session_json(rq));
}

/* ---- Renaming (Security info) ---- */

enum MHD_Result api_method_rename(struct web_request *rq)
{
    int64_t id;
    const char *name = web_body_string(rq, "name");
    if (!web_param_id(rq, 0, &id))
        return api_error(rq, 404, "not_found", "No such method.");
    if (name == NULL || !kunci_passkey_name_ok(name))
        return api_error(rq, 400, "bad_name", "Give it a name of at most 64 characters.");
    int r = kunci_store_method_rename(rq->h, rq->account.id, id, name);
    if (r == KUNCI_ERR_NOT_FOUND)
        return api_error(rq, 404, "not_found", "No such passkey.");
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    web_event(rq, "method_renamed", NULL, NULL, NULL, name);
    return api_json(rq, 200, web_methods_json(rq));
}

/* ---- mfa_phishing_resistant_required ---- */

static int find_passkey(void *arg, const struct kunci_mfa_method *m)
{
    if (m->verified && m->kind == KUNCI_METHOD_PASSKEY)
        *(bool *)arg = true;
    return 0;
}

bool web_passkey_named(struct web_request *rq)
{
    bool named = true; /* unreadable: the stricter answer */
    if (kunci_policy_names(rq->h, "mfa_phishing_resistant_required", &rq->account, &named) !=
        KUNCI_OK)
        return true;
    return named;
}

bool web_passkey_only(struct web_request *rq)
{
    bool has = false;
    if (!web_passkey_named(rq))
        return false;
    if (kunci_store_method_list(rq->h, rq->account.id, find_passkey, &has) != KUNCI_OK)
        return true; /* unreadable: the stricter answer */
    return has;
}
