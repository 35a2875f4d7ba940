/* Parsers of what users and operators type: logins, protocols, settings, expiry, config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/config.h"
#include "core/err.h"
#include "core/login.h"
#include "core/protocol.h"
#include "core/settings.h"
#include "core/timespec.h"

static void test_login(void **state)
{
    char out[KUNCI_LOGIN_MAX + 1];
    (void)state;

    assert_int_equal(kunci_login_canonical(" Alice@Example.ORG ", 19, out), KUNCI_OK);
    assert_string_equal(out, "alice@example.org");
    static const char *const bad[] = {"alice",         "@example.org", "alice@",      "a@b@c",
                                      "al ice@ex.org", "alice@.org",   "a\r\n@x.org", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(kunci_login_canonical(bad[i], strlen(bad[i]), out), KUNCI_ERR_INVALID);
    char longer[300];
    memset(longer, 'a', sizeof(longer));
    memcpy(longer + 250, "@x.org", 6);
    assert_int_equal(kunci_login_canonical(longer, 256, out), KUNCI_ERR_INVALID);
}

static void test_protocols(void **state)
{
    unsigned mask;
    char out[KUNCI_PROTOCOLS_MAX];
    (void)state;

    assert_int_equal(kunci_protocols_parse("smtp, IMAP", &mask), KUNCI_OK);
    assert_int_equal(mask, KUNCI_PROTO_IMAP | KUNCI_PROTO_SMTP);
    kunci_protocols_format(mask, out, sizeof(out));
    assert_string_equal(out, "imap,smtp");
    kunci_protocols_format(KUNCI_PROTO_ALL, out, sizeof(out));
    assert_string_equal(out, "imap,pop3,smtp,eas,dav,ews");
    assert_int_equal(kunci_protocols_parse("imap,ftp", &mask), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_protocols_parse("imap,", &mask), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_protocols_parse("", &mask), KUNCI_OK);
    assert_int_equal(mask, 0);
}

static void test_settings(void **state)
{
    char out[KUNCI_SETTING_VALUE_MAX];
    struct kunci_settings s;
    (void)state;

    kunci_settings_defaults(&s);
    assert_true(s.app_passwords_allowed);
    assert_int_equal(s.app_passwords_max, 40);
    assert_int_equal(s.app_password_length, 24);
    assert_false(s.app_passwords_revoke_on_password_change);
    const struct kunci_setting_def *d = kunci_setting_find("app_passwords_allowed");
    assert_non_null(d);
    assert_int_equal(kunci_setting_canonical(d, "OFF", out), KUNCI_OK);
    assert_string_equal(out, "false");
    assert_int_equal(kunci_setting_canonical(d, "maybe", out), KUNCI_ERR_INVALID);
    d = kunci_setting_find("app_password_length");
    assert_int_equal(kunci_setting_canonical(d, "15", out), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_setting_canonical(d, "32", out), KUNCI_OK);
    assert_int_equal(kunci_setting_canonical(d, "32x", out), KUNCI_ERR_INVALID);
    assert_null(kunci_setting_find("no_such_setting"));
    /* A corrupt stored value falls back to the default, not to something looser. */
    kunci_settings_apply(&s, "app_passwords_max", "99999999");
    assert_int_equal(s.app_passwords_max, 40);
}

static void test_expiry(void **state)
{
    const int64_t now = 1800000000; /* 2027-01-15T08:00:00Z */
    int64_t at;
    char out[32];
    (void)state;

    assert_int_equal(kunci_expiry_parse("90d", now, &at), KUNCI_OK);
    assert_int_equal(at, now + 90 * 86400);
    assert_int_equal(kunci_expiry_parse("12h", now, &at), KUNCI_OK);
    assert_int_equal(at, now + 12 * 3600);
    assert_int_equal(kunci_expiry_parse("2w", now, &at), KUNCI_OK);
    assert_int_equal(at, now + 14 * 86400);
    assert_int_equal(kunci_expiry_parse("2027-01-31", now, &at), KUNCI_OK);
    kunci_time_format(at, out, sizeof(out));
    assert_string_equal(out, "2027-01-31T00:00:00Z");
    static const char *const bad[] = {"2027-02-31", "2020-01-01", "0d", "-5d",          "90",
                                      "90x",        "tomorrow",   "",   "999999999999d"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(kunci_expiry_parse(bad[i], now, &at), KUNCI_ERR_INVALID);
}

static void test_config(void **state)
{
    char path[] = "/tmp/kunci-test-config-XXXXXX", err[512], host[64];
    struct kunci_config cfg;
    unsigned port;
    (void)state;

    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("; comment\n[store]\ndata_dir = /srv/kunci\n[serve]\nauth_listen = [::1]:9000 ; inline\n"
          "[mail]\nimap = 127.0.0.1:1143\nauth_wait = 1\n",
          f);
    fclose(f);
    kunci_config_defaults(&cfg);
    assert_int_equal(kunci_config_load(&cfg, path, err, sizeof(err)), KUNCI_OK);
    kunci_config_finish(&cfg);
    assert_string_equal(cfg.store_location, "/srv/kunci/kunci.db");
    assert_string_equal(cfg.key_file, "/srv/kunci/kunci.key");
    assert_string_equal(cfg.auth_listen, "[::1]:9000");
    assert_string_equal(cfg.mail_imap, "127.0.0.1:1143");
    assert_int_equal(cfg.auth_wait, 1);

    f = fopen(path, "w");
    fputs("[mail]\nimap = mail.example.org:143\n", f);
    fclose(f);
    assert_int_equal(kunci_config_load(&cfg, path, err, sizeof(err)), KUNCI_ERR_INVALID);
    assert_non_null(strstr(err, ":2: expected IP:port"));
    f = fopen(path, "w");
    fputs("[serve]\nauth_lisen = 127.0.0.1:1\n", f);
    fclose(f);
    assert_int_equal(kunci_config_load(&cfg, path, err, sizeof(err)), KUNCI_ERR_INVALID);
    assert_non_null(strstr(err, "unknown key 'auth_lisen'"));
    unlink(path);

    assert_int_equal(kunci_addr_parse("127.0.0.1:143", host, sizeof(host), &port), KUNCI_OK);
    assert_string_equal(host, "127.0.0.1");
    assert_int_equal(port, 143);
    assert_int_equal(kunci_addr_parse("127.0.0.1:0", host, sizeof(host), &port), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_addr_parse("127.0.0.1", host, sizeof(host), &port), KUNCI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_login),    cmocka_unit_test(test_protocols),
        cmocka_unit_test(test_settings), cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
