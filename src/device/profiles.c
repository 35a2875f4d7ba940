/* What a device is given (device.h): Apple's configuration profile, Thunderbird for
 * Android's QR payload, Thunderbird's autoconfig file. Written from the formats' public
 * descriptions: Apple's "Mail" and "CalDAV"/"CardDAV" payloads of the Configuration Profile
 * Reference; Thunderbird's "Export for Mobile" QR code format, version 1 (2025-02-06);
 * Mozilla's autoconfig file format (config-v1.1.xml). */
#include "device/device.h"
#include "device/text.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/timespec.h"

void kunci_device_free(char *text)
{
    text_free_secret(text);
}

static bool ssl(const char *security)
{
    return strcmp(security, "ssl") == 0;
}

/* A random (version 4) UUID, as Apple's PayloadUUID wants it. */
static void uuid4(char out[37])
{
    uint8_t b[16];
    randombytes_buf(b, sizeof(b));
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

static void key_string(struct text *t, const char *key, const char *value)
{
    text_add(t, "<key>%s</key><string>", key);
    text_xml(t, value);
    text_add(t, "</string>\n");
}

static void key_int(struct text *t, const char *key, int value)
{
    text_add(t, "<key>%s</key><integer>%d</integer>\n", key, value);
}

static void key_bool(struct text *t, const char *key, bool value)
{
    text_add(t, "<key>%s</key><%s/>\n", key, value ? "true" : "false");
}

/* What the device shows the account as: the organization, else the mail host. */
static const char *account_title(const struct kunci_devices_config *cfg)
{
    return cfg->organization[0] != '\0' ? cfg->organization : cfg->imap_host;
}

/* The keys every payload has, the profile's own included: its identifier is under the IMAP
 * host ("kunci.imap.example.org.mail.UUID"), unique, so two devices' profiles never replace
 * each other. */
static void payload_keys(struct text *t, const struct kunci_device_profile *p, const char *type,
                         const char *what)
{
    char uuid[37];
    uuid4(uuid);
    key_string(t, "PayloadType", type);
    key_int(t, "PayloadVersion", 1);
    text_add(t, "<key>PayloadIdentifier</key><string>kunci.");
    text_xml(t, p->cfg->imap_host);
    text_add(t, ".%s%s%s</string>\n", what, what[0] ? "." : "", uuid);
    key_string(t, "PayloadUUID", uuid);
    key_string(t, "PayloadDisplayName", account_title(p->cfg));
}

/* A server of the mail payload: its keys differ only in their prefix ("Incoming",
 * "Outgoing"). Apple's UseSSL is TLS either way: at once on 993, after STARTTLS on 143. */
static void mail_server(struct text *t, const char *prefix, const char *host, int port,
                        const char *login)
{
    char key[64];
#define MAIL_KEY(name) (snprintf(key, sizeof(key), "%sMailServer%s", prefix, name), key)
    key_string(t, MAIL_KEY("Authentication"), "EmailAuthPassword");
    key_string(t, MAIL_KEY("HostName"), host);
    key_int(t, MAIL_KEY("PortNumber"), port);
    key_bool(t, MAIL_KEY("UseSSL"), true);
    key_string(t, MAIL_KEY("Username"), login);
#undef MAIL_KEY
}

static void mail_payload(struct text *t, const struct kunci_device_profile *p)
{
    const struct kunci_devices_config *c = p->cfg;
    text_add(t, "<dict>\n");
    payload_keys(t, p, "com.apple.mail.managed", "mail");
    key_string(t, "PayloadDescription", "Mail account");
    key_string(t, "EmailAccountDescription", account_title(c));
    key_string(t, "EmailAccountName", p->display_name[0] ? p->display_name : p->login);
    key_string(t, "EmailAccountType", "EmailTypeIMAP");
    if (p->address != NULL)
        key_string(t, "EmailAddress", p->address);
    mail_server(t, "Incoming", c->imap_host,
                kunci_devices_port("imap", c->imap_port, c->imap_security), p->login);
    key_string(t, "IncomingPassword", p->password);
    mail_server(t, "Outgoing", c->smtp_host,
                kunci_devices_port("smtp", c->smtp_port, c->smtp_security), p->login);
    key_bool(t, "OutgoingPasswordSameAsIncomingPassword", true);
    text_add(t, "</dict>\n");
}

/* "https://dav.example.org:8443/path" to its host and port (443 unless given). */
static bool url_host_port(const char *url, char *host, size_t size, int *port_r)
{
    const char *h = url + strlen("https://");
    size_t n = strcspn(h, ":/");
    if (n == 0 || n >= size)
        return false;
    memcpy(host, h, n);
    host[n] = '\0';
    *port_r = h[n] == ':' ? atoi(h + n + 1) : 443;
    return *port_r > 0 && *port_r <= 65535;
}

/* CalDAV or CardDAV: their keys differ only in their prefix ("CalDAV", "CardDAV"), their
 * type in its lowercase ("caldav", "carddav"). */
static void dav_payload(struct text *t, const struct kunci_device_profile *p, const char *prefix,
                        const char *what, const char *url)
{
    char type[40], key[64], host[254];
    int port;
    if (url[0] == '\0' || !url_host_port(url, host, sizeof(host), &port))
        return;
    snprintf(type, sizeof(type), "com.apple.%s.account", what);
    text_add(t, "<dict>\n");
    payload_keys(t, p, type, what);
#define DAV_KEY(name) (snprintf(key, sizeof(key), "%s%s", prefix, name), key)
    key_string(t, DAV_KEY("AccountDescription"), account_title(p->cfg));
    key_string(t, DAV_KEY("HostName"), host);
    key_int(t, DAV_KEY("Port"), port);
    key_string(t, DAV_KEY("PrincipalURL"), url);
    key_bool(t, DAV_KEY("UseSSL"), true);
    key_string(t, DAV_KEY("Username"), p->login);
    key_string(t, DAV_KEY("Password"), p->password);
#undef DAV_KEY
    text_add(t, "</dict>\n");
}

char *kunci_apple_profile(const struct kunci_device_profile *p)
{
    struct text t;
    char when[32];

    text_init(&t);
    text_add(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
                 "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
                 "<plist version=\"1.0\">\n<dict>\n<key>PayloadContent</key>\n<array>\n");
    mail_payload(&t, p);
    dav_payload(&t, p, "CalDAV", "caldav", p->cfg->caldav_url);
    dav_payload(&t, p, "CardDAV", "carddav", p->cfg->carddav_url);
    text_add(&t, "</array>\n");
    payload_keys(&t, p, "Configuration", "");
    key_string(&t, "PayloadDescription", p->name);
    if (p->cfg->organization[0] != '\0')
        key_string(&t, "PayloadOrganization", p->cfg->organization);
    key_bool(&t, "PayloadRemovalDisallowed", false);
    /* The profile leaves the device when its app password stops working. */
    if (p->expires_at != 0) {
        kunci_time_format(p->expires_at, when, sizeof(when));
        text_add(&t, "<key>RemovalDate</key><date>%s</date>\n", when);
    }
    text_add(&t, "</dict>\n</plist>\n");
    return text_finish(&t);
}

/* ConnectionSecurity: 2 AlwaysStartTls, 3 Tls. AuthenticationType 1: PasswordCleartext
 * (inside TLS). */
static void android_server(struct text *t, const char *host, int port, const char *security,
                           const char *login)
{
    text_add(t, "0,");
    text_json(t, host);
    text_add(t, ",%d,%d,1,", port, ssl(security) ? 3 : 2);
    text_json(t, login);
}

char *kunci_android_payload(const struct kunci_device_profile *p)
{
    const struct kunci_devices_config *c = p->cfg;
    struct text t;

    if (p->address == NULL)
        return NULL;
    text_init(&t);
    /* [FormatVersion, [SequenceNumber, SequenceEnd], IncomingServer, OutgoingServerGroups] */
    text_add(&t, "[1,[1,1],[");
    android_server(&t, c->imap_host, kunci_devices_port("imap", c->imap_port, c->imap_security),
                   c->imap_security, p->login);
    text_add(&t, ",");
    text_json(&t, c->organization); /* AccountName: "" means the address */
    text_add(&t, ",");
    text_json(&t, p->password);
    text_add(&t, "],[[[");
    android_server(&t, c->smtp_host, kunci_devices_port("smtp", c->smtp_port, c->smtp_security),
                   c->smtp_security, p->login);
    text_add(&t, ",");
    text_json(&t, p->password);
    text_add(&t, "],[");
    text_json(&t, p->address);
    text_add(&t, ",");
    text_json(&t, p->display_name[0] ? p->display_name : p->login);
    text_add(&t, "]]]]");
    return text_finish(&t);
}

static void autoconfig_server(struct text *t, const char *element, const char *type,
                              const char *host, int port, const char *security,
                              const char *username)
{
    text_add(t, "    <%s type=\"%s\">\n      <hostname>", element, type);
    text_xml(t, host);
    text_add(t,
             "</hostname>\n      <port>%d</port>\n      <socketType>%s</socketType>\n"
             "      <authentication>password-cleartext</authentication>\n      <username>",
             port, ssl(security) ? "SSL" : "STARTTLS");
    text_xml(t, username);
    text_add(t, "</username>\n    </%s>\n", element);
}

char *kunci_autoconfig_xml(const struct kunci_devices_config *c, const char *address,
                           const char *login)
{
    struct text t;
    const char *at = address != NULL ? strchr(address, '@') : NULL;
    const char *dot = strchr(c->imap_host, '.');
    /* The address's domain, else the mail host's ("imap.example.org": example.org). */
    const char *domain = at != NULL                            ? at + 1
                         : dot != NULL && strchr(dot + 1, '.') ? dot + 1
                                                               : c->imap_host;
    /* Logins are addresses: Mozilla's placeholder for the one the user typed. */
    const char *user = login != NULL ? login : "%EMAILADDRESS%";

    text_init(&t);
    text_add(&t, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n"
                 "  <emailProvider id=\"");
    text_xml(&t, domain);
    text_add(&t, "\">\n    <domain>");
    text_xml(&t, domain);
    text_add(&t, "</domain>\n    <displayName>");
    text_xml(&t, account_title(c));
    text_add(&t, "</displayName>\n    <displayShortName>");
    text_xml(&t, account_title(c));
    text_add(&t, "</displayShortName>\n");
    autoconfig_server(&t, "incomingServer", "imap", c->imap_host,
                      kunci_devices_port("imap", c->imap_port, c->imap_security), c->imap_security,
                      user);
    if (c->pop3_host[0] != '\0')
        autoconfig_server(&t, "incomingServer", "pop3", c->pop3_host,
                          kunci_devices_port("pop3", c->pop3_port, c->pop3_security),
                          c->pop3_security, user);
    autoconfig_server(&t, "outgoingServer", "smtp", c->smtp_host,
                      kunci_devices_port("smtp", c->smtp_port, c->smtp_security), c->smtp_security,
                      user);
    text_add(&t, "  </emailProvider>\n</clientConfig>\n");
    return text_finish(&t);
}
