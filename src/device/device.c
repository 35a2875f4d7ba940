/* Device set-up: the kinds a user picks from, the scope and name of a device's app
 * password, and the user's address (device.h). */
#include "device/device.h"

#include <stdio.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/protocol.h"

static const struct kunci_device_choice choices[] = {
    {KUNCI_DEVICE_APPLE, "iPhone, iPad or Mac", "apple"},
    {KUNCI_DEVICE_ANDROID, "Android (Thunderbird)", "android"},
    {KUNCI_DEVICE_AUTOCONFIG, "Thunderbird", "thunderbird"},
    {KUNCI_DEVICE_AUTOCONFIG, "Mail app", "other"},
    {KUNCI_DEVICE_AUTOCONFIG, "Mail app", "autoconfig"},
};

bool kunci_device_choice_parse(const char *id, struct kunci_device_choice *choice_r)
{
    for (size_t i = 0; id != NULL && i < sizeof(choices) / sizeof(choices[0]); i++)
        if (strcmp(choices[i].id, id) == 0) {
            *choice_r = choices[i];
            return true;
        }
    return false;
}

bool kunci_devices_enabled(const struct kunci_devices_config *cfg)
{
    return cfg->imap_host[0] != '\0' && cfg->smtp_host[0] != '\0';
}

int kunci_devices_port(const char *protocol, int port, const char *security)
{
    bool ssl = strcmp(security, "ssl") == 0;
    if (port != 0)
        return port;
    if (strcmp(protocol, "imap") == 0)
        return ssl ? 993 : 143;
    if (strcmp(protocol, "pop3") == 0)
        return ssl ? 995 : 110;
    return ssl ? 465 : 587; /* smtp: submission */
}

unsigned kunci_device_protocols(const struct kunci_devices_config *cfg, enum kunci_device_kind kind)
{
    unsigned mask = KUNCI_PROTO_IMAP | KUNCI_PROTO_SMTP;
    /* Apple's profile carries the calendar and contacts accounts too; autoconfig offers
     * POP3 beside IMAP; Thunderbird for Android's code holds one IMAP account. */
    if (kind == KUNCI_DEVICE_APPLE && (cfg->caldav_url[0] != '\0' || cfg->carddav_url[0] != '\0'))
        mask |= KUNCI_PROTO_DAV;
    if (kind == KUNCI_DEVICE_AUTOCONFIG && cfg->pop3_host[0] != '\0')
        mask |= KUNCI_PROTO_POP3;
    return mask;
}

const char *kunci_device_address(const char *login)
{
    /* Logins are addresses (core/login.h); an older database may hold other ones. */
    return strchr(login, '@') != NULL ? login : NULL;
}

int kunci_device_app_password(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                              const struct kunci_account *acct, enum kunci_device_kind kind,
                              const char *name, int64_t expires_at, int64_t now, char *password_r,
                              size_t password_size, struct kunci_app_password *ap_r)
{
    struct kunci_app_password_spec spec = {name, kunci_device_protocols(&ctx->cfg.devices, kind),
                                           expires_at, NULL};
    return kunci_app_password_create(ctx, h, acct, &spec, now, password_r, password_size, ap_r);
}
