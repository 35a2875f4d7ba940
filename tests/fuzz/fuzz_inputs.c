/* Everything a client or a user types that the core parses: logins, app passwords, networks,
 * protocols, expiry, phone numbers, e-mail addresses, listen addresses, setting values. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/login.h"
#include "core/mfa.h"
#include "core/netmask.h"
#include "core/protocol.h"
#include "core/secret.h"
#include "core/settings.h"
#include "core/timespec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), out[1024], login[KUNCI_LOGIN_MAX + 1];
    char letters[KUNCI_APP_PASSWORD_MAX_LEN + 1], host[KUNCI_ADDR_MAX];
    struct kunci_ip ip;
    unsigned mask, port;
    int64_t at;
    size_t len;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    (void)kunci_login_canonical((const char *)data, size, login);
    if (kunci_app_password_normalise((const char *)data, size, letters, &len) == 0 &&
        (len < KUNCI_APP_PASSWORD_MIN_LEN || len > KUNCI_APP_PASSWORD_MAX_LEN))
        abort();
    if (kunci_networks_canonical(s, out, sizeof(out)) == 0 && kunci_ip_parse("10.1.2.3", &ip) == 0)
        (void)kunci_networks_allow(out, &ip);
    (void)kunci_protocols_parse(s, &mask);
    (void)kunci_expiry_parse(s, 1800000000, &at);
    char *comma = strchr(s, ',');
    if (comma != NULL) {
        *comma = '\0';
        (void)kunci_phone_canonical(s, comma + 1, out, sizeof(out));
        *comma = ',';
    }
    (void)kunci_email_check(s);
    (void)kunci_addr_parse(s, host, sizeof(host), &port);
    for (size_t i = 0; i < kunci_setting_count; i++) {
        char value[KUNCI_SETTING_VALUE_MAX];
        (void)kunci_setting_canonical(&kunci_setting_defs[i], s, value);
    }
    (void)kunci_label_check(s, KUNCI_APP_NAME_MAX);
    free(s);
    return 0;
}
