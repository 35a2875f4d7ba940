/* /api/v1/devices: "Set up this device" (src/device/, docs/devices.md). The user picks a
 * kind; Apple's profile and Thunderbird for Android's QR code come from a single-use link
 * bound to this session, made (app password included) when the link is used and never kept;
 * Thunderbird desktop and other apps get the autoconfig settings and the password to paste
 * once. Also the public autoconfig file. */
#include "web/api.h"
#include "web/web.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/login.h"
#include "core/log.h"
#include "core/protocol.h"
#include "core/secret.h"
#include "core/settings.h"
#include "core/timespec.h"
#include "device/device.h"
#include "device/link.h"
#include "device/profile_sign.h"

static const struct kunci_profile_signer *profile_signer;

void web_devices_init(const struct kunci_profile_signer *signer)
{
    profile_signer = signer;
}

bool web_devices_enabled(const struct kunci_ctx *ctx)
{
    return kunci_devices_enabled(&ctx->cfg.devices);
}

/* What the kind cannot do for this user, or NULL. */
static const char *kind_problem(struct web_request *rq, enum kunci_device_kind kind)
{
    if (kind == KUNCI_DEVICE_APPLE && profile_signer == NULL)
        return "unsigned";
    if (kind == KUNCI_DEVICE_ANDROID && kunci_device_address(rq->account.login) == NULL)
        return "no_address";
    return NULL;
}

static json_t *server_json(const char *protocol, const char *host, int port, const char *security)
{
    return json_pack("{s:s, s:i, s:s}", "host", host, "port",
                     kunci_devices_port(protocol, port, security), "security", security);
}

static json_t *settings_json(struct web_request *rq)
{
    const struct kunci_devices_config *c = &rq->ctx->cfg.devices;
    json_t *out =
        json_pack("{s:o, s:o, s:s}", "imap",
                  server_json("imap", c->imap_host, c->imap_port, c->imap_security), "smtp",
                  server_json("smtp", c->smtp_host, c->smtp_port, c->smtp_security), "username",
                  rq->account.login);
    if (c->pop3_host[0] != '\0')
        json_object_set_new(out, "pop3",
                            server_json("pop3", c->pop3_host, c->pop3_port, c->pop3_security));
    return out;
}

enum MHD_Result api_devices(struct web_request *rq)
{
    static const char *const ids[] = {"apple", "android", "thunderbird", "other"};
    struct kunci_device_choice choice;

    if (!web_devices_enabled(rq->ctx))
        return api_json(rq, 200, json_pack("{s:b}", "available", false));
    json_t *kinds = json_array();
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        kunci_device_choice_parse(ids[i], &choice);
        const char *problem = kind_problem(rq, choice.kind);
        json_array_append_new(kinds,
                              json_pack("{s:s, s:s, s:b, s:s?}", "id", ids[i], "name", choice.name,
                                        "available", problem == NULL, "reason", problem));
    }
    return api_json(rq, 200,
                    json_pack("{s:b, s:o, s:o, s:i}", "available", true, "kinds", kinds, "settings",
                              settings_json(rq), "link_seconds", KUNCI_DEVICE_LINK_SECONDS));
}

/* The app password was made for a device: an event naming the device's kind. */
static void device_event(struct web_request *rq, const char *choice_id, const char *name)
{
    char reason[32];
    snprintf(reason, sizeof(reason), "device_%s", choice_id);
    web_event(rq, "app_password_created", NULL, NULL, reason, name);
}

/* Thunderbird desktop and other apps: the app password now, to paste once. */
static enum MHD_Result create_now(struct web_request *rq, const struct kunci_device_choice *c,
                                  const char *name, int64_t expires_at)
{
    struct kunci_app_password ap;
    char pw[KUNCI_APP_PASSWORD_MAX_LEN + 1], shown[KUNCI_APP_PASSWORD_FORMATTED_MAX];
    int r = kunci_device_app_password(rq->ctx, rq->h, &rq->account, c->kind, name, expires_at,
                                      rq->now, pw, sizeof(pw), &ap);
    if (r == KUNCI_ERR_LIMIT)
        return api_error(rq, 409, "limit",
                         "You have reached the limit of app passwords. Delete one first.");
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    device_event(rq, c->id, ap.name);
    kunci_app_password_format(pw, shown, sizeof(shown));
    json_t *out =
        json_pack("{s:s, s:s, s:o, s:o, s:s}", "kind", c->id, "password", shown, "app_password",
                  web_app_password_json(&ap), "settings", settings_json(rq), "autoconfig_url",
                  "/.well-known/autoconfig/mail/config-v1.1.xml");
    sodium_memzero(pw, sizeof(pw));
    sodium_memzero(shown, sizeof(shown));
    return api_json(rq, 201, out);
}

enum MHD_Result api_device_begin(struct web_request *rq)
{
    struct kunci_device_choice choice;
    struct kunci_settings s;
    const char *expires = web_body_string(rq, "expires");
    const char *name = web_body_string(rq, "name");
    int64_t expires_at = 0;
    int r;

    if (!web_devices_enabled(rq->ctx))
        return api_error(rq, 404, "devices_off", "Device set-up is not available here.");
    if (!kunci_device_choice_parse(web_body_string(rq, "kind"), &choice) ||
        strcmp(choice.id, "autoconfig") == 0)
        return api_error(rq, 400, "bad_kind",
                         "Choose the kind of device: apple, android, thunderbird or other.");
    if (kind_problem(rq, choice.kind) != NULL)
        return api_error(rq, 409, "kind_unavailable",
                         choice.kind == KUNCI_DEVICE_APPLE
                             ? "Profiles for Apple devices are not set up on this server."
                             : "Your login is not an e-mail address, which this app "
                               "needs.");
    if (name == NULL || name[0] == '\0')
        name = choice.name;
    if (kunci_label_check(name, KUNCI_APP_NAME_MAX) != KUNCI_OK)
        return api_error(rq, 400, "bad_name", "Give the device a shorter name (64 characters).");
    if (expires != NULL && expires[0] != '\0' &&
        kunci_expiry_parse(expires, rq->now, &expires_at) != KUNCI_OK)
        return api_error(rq, 400, "bad_expiry", "Choose a date in the future.");
    /* What the app password will need, said now rather than when the link is used. */
    if (rq->account.mfa_state == KUNCI_MFA_DISABLED)
        return api_fail(rq, KUNCI_ERR_MFA_NOT_REQUIRED);
    if ((r = kunci_settings_load(rq->h, &s)) != KUNCI_OK)
        return api_fail(rq, r);
    if (!s.app_passwords_allowed)
        return api_fail(rq, KUNCI_ERR_APP_PASSWORDS_OFF);
    if (choice.kind == KUNCI_DEVICE_AUTOCONFIG)
        return create_now(rq, &choice, name, expires_at);

    struct kunci_device_link link = {choice.kind, rq->account.id, rq->session.id,
                                     rq->now,     expires_at,     ""};
    char token[KUNCI_DEVICE_LINK_MAX + 1], url[KUNCI_DEVICE_LINK_MAX + 64];
    snprintf(link.name, sizeof(link.name), "%s", name);
    if ((r = kunci_device_link_issue(rq->ctx, &link, token, sizeof(token))) != KUNCI_OK)
        return api_fail(rq, r);
    snprintf(url, sizeof(url), "/api/v1/devices/download/%s", token);
    return api_json(rq, 201,
                    json_pack("{s:s, s:s, s:s, s:i}", "kind", choice.id, "name", name, "download",
                              url, "expires_in", KUNCI_DEVICE_LINK_SECONDS));
}

/* An answer that holds a password: wiped when libmicrohttpd is done with it. */
struct secret_body {
    size_t len;
    uint8_t data[];
};

static void secret_body_free(void *cls)
{
    struct secret_body *b = cls;
    sodium_memzero(b->data, b->len);
    free(b);
}

static enum MHD_Result send_secret(struct web_request *rq, const void *data, size_t len,
                                   const char *type, const char *file_name)
{
    struct secret_body *b = malloc(sizeof(*b) + len);
    if (b == NULL)
        return api_fail(rq, KUNCI_ERR_NOMEM);
    b->len = len;
    memcpy(b->data, data, len);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer_with_free_callback_cls(len, b->data, secret_body_free, b);
    if (resp == NULL) {
        secret_body_free(b);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (file_name != NULL) {
        char disposition[128];
        snprintf(disposition, sizeof(disposition), "attachment; filename=\"%s\"", file_name);
        MHD_add_response_header(resp, "Content-Disposition", disposition);
    }
    return web_send(rq, 200, resp);
}

static enum MHD_Result link_refused(struct web_request *rq, int r)
{
    switch (r) {
    case KUNCI_ERR_NOT_FOUND:
        return api_error(rq, 404, "link_unknown",
                         "This link is not valid in this browser session. Start again from "
                         "Security info.");
    case KUNCI_ERR_EXPIRED:
        return api_error(rq, 410, "link_expired",
                         "This link has expired (it works for 10 minutes). Start again from "
                         "Security info.");
    case KUNCI_ERR_REUSED:
        return api_error(rq, 410, "link_used",
                         "This link was used already: each works once. Start again from "
                         "Security info.");
    default:
        return api_fail(rq, r);
    }
}

/* The profile or code for the link's device, with the app password made for it now. */
static enum MHD_Result send_device(struct web_request *rq, const struct kunci_device_link *link,
                                   const char *password, const struct kunci_app_password *ap)
{
    struct kunci_device_profile p = {&rq->ctx->cfg.devices,
                                     rq->account.login,
                                     rq->account.display_name,
                                     kunci_device_address(rq->account.login),
                                     password,
                                     ap->name,
                                     ap->expires_at};
    enum MHD_Result ret;
    uint8_t *der = NULL;
    size_t der_len = 0;

    if (link->kind == KUNCI_DEVICE_APPLE) {
        char *plist = kunci_apple_profile(&p);
        int r = plist != NULL
                    ? kunci_profile_sign(profile_signer, plist, strlen(plist), &der, &der_len)
                    : KUNCI_ERR_NOMEM;
        kunci_device_free(plist);
        if (r != KUNCI_OK) {
            kunci_log("web.device", "the profile for %s could not be signed: %s", rq->account.login,
                      kunci_strerror(r));
            return api_fail(rq, KUNCI_ERR_INTERNAL);
        }
        ret =
            send_secret(rq, der, der_len, "application/x-apple-aspen-config", "kunci.mobileconfig");
        sodium_memzero(der, der_len);
        free(der);
        return ret;
    }
    char *payload = kunci_android_payload(&p);
    char *svg = payload != NULL ? kunci_qr_svg(payload) : NULL;
    kunci_device_free(payload);
    if (svg == NULL)
        return api_fail(rq, KUNCI_ERR_NOMEM);
    ret = send_secret(rq, svg, strlen(svg), "image/svg+xml", NULL);
    kunci_device_free(svg);
    return ret;
}

enum MHD_Result api_device_download(struct web_request *rq)
{
    struct kunci_device_link link;
    struct kunci_app_password ap;
    char pw[KUNCI_APP_PASSWORD_MAX_LEN + 1];

    if (!web_devices_enabled(rq->ctx))
        return api_error(rq, 404, "devices_off", "Device set-up is not available here.");
    int r = kunci_device_link_redeem(rq->ctx, rq->h, rq->params[0], rq->session.id, rq->account.id,
                                     rq->now, &link);
    if (r != KUNCI_OK)
        return link_refused(rq, r);
    if (link.kind != KUNCI_DEVICE_APPLE && link.kind != KUNCI_DEVICE_ANDROID)
        return link_refused(rq, KUNCI_ERR_NOT_FOUND);
    r = kunci_device_app_password(rq->ctx, rq->h, &rq->account, link.kind, link.name,
                                  link.expires_at, rq->now, pw, sizeof(pw), &ap);
    if (r == KUNCI_ERR_LIMIT)
        return api_error(rq, 409, "limit",
                         "You have reached the limit of app passwords. Delete one first.");
    if (r != KUNCI_OK)
        return api_fail(rq, r);
    device_event(rq, link.kind == KUNCI_DEVICE_APPLE ? "apple" : "android", ap.name);
    enum MHD_Result ret = send_device(rq, &link, pw, &ap);
    sodium_memzero(pw, sizeof(pw));
    return ret;
}

enum MHD_Result web_autoconfig(struct web_request *rq)
{
    const char *address =
        MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "emailaddress");
    if (!web_devices_enabled(rq->ctx))
        return api_error(rq, 404, "not_found", "Not found.");
    char canonical[KUNCI_LOGIN_MAX + 1];
    /* Checked as a login is (logins are addresses); what goes into the XML is escaped. */
    if (address != NULL && address[0] != '\0' &&
        kunci_login_canonical(address, strlen(address), canonical) != KUNCI_OK)
        return api_error(rq, 400, "bad_address", "emailaddress is not an e-mail address.");
    /* The same answer for every address of the domain: it says nothing of who has an
     * account. */
    char *xml = kunci_autoconfig_xml(&rq->ctx->cfg.devices,
                                     address != NULL && address[0] ? address : NULL, NULL);
    if (xml == NULL)
        return api_fail(rq, KUNCI_ERR_NOMEM);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(xml), xml, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(xml);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/xml; charset=utf-8");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    return web_send(rq, 200, resp);
}
