/* Device set-up's untrusted inputs: a link's token (from the URL), an autoconfig request's
 * e-mail address, the [devices] values, and names put into the formats. A token kunci did
 * not seal never opens; one it sealed opens to what was put in. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/err.h"
#include "core/login.h"
#include "device/device.h"
#include "device/link.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct kunci_keys keys; /* a fixed key: any will do */
    struct kunci_ctx ctx;
    struct kunci_device_link link, back;
    char token[KUNCI_DEVICE_LINK_MAX + 1];
    char *s = malloc(size + 1);

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    memset(&ctx, 0, sizeof(ctx));
    ctx.keys = &keys;
    if (kunci_device_link_open(&ctx, s, &link) == KUNCI_OK)
        abort(); /* forged: the fuzzer has no key */
    /* Any name that passes the label check goes into a link and comes back whole. */
    memset(&link, 0, sizeof(link));
    link.kind = KUNCI_DEVICE_ANDROID;
    link.issued_at = 1800000000;
    if (size <= KUNCI_APP_NAME_MAX && kunci_label_check(s, KUNCI_APP_NAME_MAX) == KUNCI_OK) {
        memcpy(link.name, s, size + 1);
        if (kunci_device_link_issue(&ctx, &link, token, sizeof(token)) != KUNCI_OK ||
            kunci_device_link_open(&ctx, token, &back) != KUNCI_OK ||
            strcmp(back.name, link.name) != 0)
            abort();
    }
    (void)kunci_hostname_valid(s);
    (void)kunci_https_url_valid(s);
    struct kunci_devices_config d;
    memset(&d, 0, sizeof(d));
    strcpy(d.imap_host, "imap.example.org");
    strcpy(d.smtp_host, "smtp.example.org");
    strcpy(d.imap_security, "ssl");
    strcpy(d.smtp_security, "starttls");
    strcpy(d.pop3_security, "ssl");
    char login[KUNCI_LOGIN_MAX + 1];
    if (kunci_login_canonical(s, size, login) == KUNCI_OK) {
        /* What an autoconfig request may name reaches the XML escaped, never as markup. */
        char *xml = kunci_autoconfig_xml(&d, s, NULL);
        if (xml == NULL || strstr(xml, "<script") != NULL)
            abort();
        kunci_device_free(xml);
    }
    if (size < 120) {
        snprintf(d.organization, sizeof(d.organization), "%s", s);
        struct kunci_device_profile p = {
            &d, "rina@example.org", s, "rina@example.org", "abcdefghijklmnopqrstuvwx", "phone", 0};
        kunci_device_free(kunci_apple_profile(&p));
        kunci_device_free(kunci_android_payload(&p));
    }
    free(s);
    return 0;
}
