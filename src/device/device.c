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

const char *kunci_device_kind_name(enum kunci_device_kind kind)
{
    switch (kind) {
    case KUNCI_DEVICE_APPLE:
        return "apple";
    case KUNCI_DEVICE_ANDROID:
        return "android";
    case KUNCI_DEVICE_AUTOCONFIG:
        return "autoconfig";
    }
    return "unknown";
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

int kunci_device_address(const struct kunci_devices_config *cfg, const char *login, char *out,
                         size_t size)
{
    (void)cfg;
    /* Logins are addresses (core/login.h); an older database may hold other ones. */
    if (strchr(login, '@') == NULL)
        return KUNCI_ERR_NOT_FOUND;
    int n = snprintf(out, size, "%s", login);
    return n > 0 && (size_t)n < size ? KUNCI_OK : KUNCI_ERR_TOO_LONG;
}

bool kunci_device_address_valid(const char *s)
{
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    if (n == 0 || n > KUNCI_LOGIN_MAX || at == NULL || at == s || at[1] == '\0' ||
        strchr(at + 1, '@') != NULL || !kunci_hostname_valid(at + 1))
        return false;
    for (const char *p = s; p < at; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("\"<>&'\\", *p))
            return false;
    return true;
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
