/* Device set-up ([devices] in kunci.conf; docs/devices.md): a new app password for one
 * device, handed to the device whole instead of typed: a signed Apple configuration
 * profile, Thunderbird for Android's account-import QR code, or Thunderbird's autoconfig
 * file with the password shown once. No HTTP and no SQL: the web and the CLI are its
 * shells. */
#ifndef KUNCI_DEVICE_H
#define KUNCI_DEVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/context.h"
#include "core/store.h"
#include "core/types.h"

enum kunci_device_kind {
    KUNCI_DEVICE_APPLE = 1,      /* iPhone, iPad, Mac: a signed .mobileconfig */
    KUNCI_DEVICE_ANDROID = 2,    /* Thunderbird for Android: its account-import QR code */
    KUNCI_DEVICE_AUTOCONFIG = 3, /* Thunderbird desktop and other apps: autoconfig + password */
};

/* What the user picked: a kind and the words its app password is named with by default. */
struct kunci_device_choice {
    enum kunci_device_kind kind;
    const char *name; /* "iPhone, iPad or Mac", ... */
    const char *id;   /* "apple", "android", "thunderbird", "other" */
};

/* "apple", "android", "thunderbird", "other", or "autoconfig" (the CLI's word for the last
 * two); false for anything else. */
bool kunci_device_choice_parse(const char *id, struct kunci_device_choice *choice_r);

/* Whether [devices] names a mail host to set devices up with. */
bool kunci_devices_enabled(const struct kunci_devices_config *cfg);
/* The port a device uses: the configured one, else the usual one for its security. */
int kunci_devices_port(const char *protocol, int port, const char *security);
/* The protocols a kind's app password is scoped to (KUNCI_PROTO_* mask). */
unsigned kunci_device_protocols(const struct kunci_devices_config *cfg,
                                enum kunci_device_kind kind);
/* The user's e-mail address: the login when it is one, else NULL. */
const char *kunci_device_address(const char *login);

/* Everything a device's settings are made of. password is the app password's letters. */
struct kunci_device_profile {
    const struct kunci_devices_config *cfg;
    const char *login;
    const char *display_name;
    const char *address; /* the e-mail address, or NULL when not known */
    const char *password;
    const char *name;   /* the app password's name: the profile's description */
    int64_t expires_at; /* the app password's expiry (0: never): the profile's removal date */
};

/* The Apple configuration profile (a property list: com.apple.mail.managed, and CalDAV and
 * CardDAV accounts when configured), unsigned. Returns malloc'd text, NULL when out of
 * memory. */
char *kunci_apple_profile(const struct kunci_device_profile *p);
/* Thunderbird for Android's "Export for Mobile" QR payload, format version 1 (JSON).
 * NULL when out of memory or there is no address (the format needs one). */
char *kunci_android_payload(const struct kunci_device_profile *p);
/* Thunderbird's autoconfig file (config-v1.1.xml): no password in it. address (for the
 * domain) and login (the user name) may be NULL: Mozilla's placeholders stand for them. */
char *kunci_autoconfig_xml(const struct kunci_devices_config *cfg, const char *address,
                           const char *login);
/* Wipes and frees what the functions above and below return (they may hold a password). */
void kunci_device_free(char *text);
/* A QR code of text as SVG (libqrencode); malloc'd, NULL when it does not fit. */
char *kunci_qr_svg(const char *text);

/* Creates the device's app password: named (the user's name, else the kind's), scoped to
 * what the kind configures, expiring at expires_at (0: never). As
 * kunci_app_password_create, whose rules it keeps. */
int kunci_device_app_password(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                              const struct kunci_account *acct, enum kunci_device_kind kind,
                              const char *name, int64_t expires_at, int64_t now, char *password_r,
                              size_t password_size, struct kunci_app_password *ap_r);

#endif
