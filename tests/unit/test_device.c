/* Device set-up (src/device/): single-use links on a real store, each kind's scope, the
 * formats with hostile names in them (parsed back: jansson for Thunderbird's JSON), and the
 * CMS signature of a profile checked by OpenSSL against its certificate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <openssl/cms.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include "fixture.h"

#include "core/protocol.h"
#include "device/device.h"
#include "device/link.h"
#include "device/profile_sign.h"

#define NOW 1800000000

static int setup(void **state)
{
    struct test_store *t = calloc(1, sizeof(*t));
    test_store_open(t);
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    struct test_store *t = *state;
    test_store_close(t);
    free(t);
    return 0;
}

static void issue(struct test_store *t, const char *name, char *token, size_t size)
{
    struct kunci_device_link link = {KUNCI_DEVICE_APPLE, 7, 42, NOW, NOW + 86400, ""};
    snprintf(link.name, sizeof(link.name), "%s", name);
    assert_int_equal(kunci_device_link_issue(&t->ctx, &link, token, size), KUNCI_OK);
    assert_true(strlen(token) <= KUNCI_DEVICE_LINK_MAX);
}

static void test_link_works_once_in_its_session(void **state)
{
    struct test_store *t = *state;
    struct kunci_device_link got;
    char token[KUNCI_DEVICE_LINK_MAX + 1];
    /* The longest name, in UTF-8: the link still fits a path segment. */
    char name[KUNCI_APP_NAME_MAX + 1] = "";
    for (int i = 0; i < 32; i++)
        strcat(name, "\xc3\xa9");
    issue(t, name, token, sizeof(token));

    /* Another session, another account: no link at all (and not spent by the try). */
    assert_int_equal(kunci_device_link_redeem(&t->ctx, &t->h, token, 43, 7, NOW + 1, &got),
                     KUNCI_ERR_NOT_FOUND);
    assert_int_equal(kunci_device_link_redeem(&t->ctx, &t->h, token, 42, 8, NOW + 1, &got),
                     KUNCI_ERR_NOT_FOUND);
    assert_int_equal(kunci_device_link_redeem(&t->ctx, &t->h, token, 42, 7, NOW + 1, &got),
                     KUNCI_OK);
    assert_int_equal(got.kind, KUNCI_DEVICE_APPLE);
    assert_int_equal(got.expires_at, NOW + 86400);
    assert_string_equal(got.name, name);
    assert_int_equal(kunci_device_link_redeem(&t->ctx, &t->h, token, 42, 7, NOW + 2, &got),
                     KUNCI_ERR_REUSED);
}

static void test_link_expires_and_cannot_be_forged(void **state)
{
    struct test_store *t = *state;
    struct kunci_device_link got;
    char token[KUNCI_DEVICE_LINK_MAX + 1], forged[KUNCI_DEVICE_LINK_MAX + 1];
    issue(t, "phone", token, sizeof(token));

    assert_int_equal(kunci_device_link_redeem(&t->ctx, &t->h, token, 42, 7,
                                              NOW + KUNCI_DEVICE_LINK_SECONDS, &got),
                     KUNCI_ERR_EXPIRED);
    assert_int_equal(kunci_device_link_redeem(&t->ctx, &t->h, token, 42, 7, NOW - 1, &got),
                     KUNCI_ERR_EXPIRED);
    /* Each character changed in turn: never a link. */
    for (size_t i = 0; token[i] != '\0'; i++) {
        memcpy(forged, token, sizeof(token));
        forged[i] = forged[i] == 'A' ? 'B' : 'A';
        assert_int_equal(kunci_device_link_redeem(&t->ctx, &t->h, forged, 42, 7, NOW + 1, &got),
                         KUNCI_ERR_NOT_FOUND);
    }
    assert_int_equal(kunci_device_link_redeem(&t->ctx, &t->h, "", 42, 7, NOW + 1, &got),
                     KUNCI_ERR_NOT_FOUND);
    assert_int_equal(kunci_device_link_redeem(&t->ctx, &t->h, "%%%", 42, 7, NOW + 1, &got),
                     KUNCI_ERR_NOT_FOUND);
    /* Still good after all that. */
    assert_int_equal(kunci_device_link_redeem(&t->ctx, &t->h, token, 42, 7, NOW + 1, &got),
                     KUNCI_OK);
    /* A name over the limit is not put in a link. */
    struct kunci_device_link big = {KUNCI_DEVICE_ANDROID, 7, 42, NOW, 0, ""};
    memset(big.name, 'x', KUNCI_APP_NAME_MAX);
    big.name[KUNCI_APP_NAME_MAX] = '\0';
    assert_int_equal(kunci_device_link_issue(&t->ctx, &big, token, 40), KUNCI_ERR_TOO_LONG);
}

static void settings(struct kunci_devices_config *d)
{
    memset(d, 0, sizeof(*d));
    strcpy(d->imap_host, "imap.example.org");
    strcpy(d->smtp_host, "smtp.example.org");
    strcpy(d->imap_security, "ssl");
    strcpy(d->smtp_security, "starttls");
    strcpy(d->pop3_security, "ssl");
}

static void test_scope_follows_the_settings(void **state)
{
    (void)state;
    struct kunci_devices_config d;
    settings(&d);
    unsigned mail = KUNCI_PROTO_IMAP | KUNCI_PROTO_SMTP;
    assert_int_equal(kunci_device_protocols(&d, KUNCI_DEVICE_APPLE), mail);
    assert_int_equal(kunci_device_protocols(&d, KUNCI_DEVICE_AUTOCONFIG), mail);
    strcpy(d.caldav_url, "https://dav.example.org/");
    strcpy(d.pop3_host, "pop.example.org");
    assert_int_equal(kunci_device_protocols(&d, KUNCI_DEVICE_APPLE), mail | KUNCI_PROTO_DAV);
    assert_int_equal(kunci_device_protocols(&d, KUNCI_DEVICE_ANDROID), mail);
    assert_int_equal(kunci_device_protocols(&d, KUNCI_DEVICE_AUTOCONFIG), mail | KUNCI_PROTO_POP3);
    assert_int_equal(kunci_devices_port("imap", 0, "ssl"), 993);
    assert_int_equal(kunci_devices_port("smtp", 0, "starttls"), 587);
    assert_int_equal(kunci_devices_port("smtp", 2525, "starttls"), 2525);
    struct kunci_device_choice c;
    assert_true(kunci_device_choice_parse("other", &c) && c.kind == KUNCI_DEVICE_AUTOCONFIG);
    assert_false(kunci_device_choice_parse("Apple", &c));
    assert_false(kunci_device_choice_parse(NULL, &c));
}

static void test_android_payload_is_format_1_json(void **state)
{
    (void)state;
    struct kunci_devices_config d;
    settings(&d);
    strcpy(d.organization, "Org \"Q\" \\ \x01");
    struct kunci_device_profile p = {&d,
                                     "rina@example.org",
                                     "Rina \"R\"\n",
                                     "rina@example.org",
                                     "abcdefghijklmnopqrstuvwx",
                                     "phone",
                                     0};
    char *text = kunci_android_payload(&p);
    assert_non_null(text);
    json_error_t e;
    json_t *root = json_loads(text, 0, &e);
    assert_non_null(root);
    assert_int_equal(json_integer_value(json_array_get(root, 0)), 1);
    json_t *in = json_array_get(root, 2);
    assert_string_equal(json_string_value(json_array_get(in, 1)), "imap.example.org");
    assert_int_equal(json_integer_value(json_array_get(in, 2)), 993);
    assert_int_equal(json_integer_value(json_array_get(in, 3)), 3);
    /* On one line: the app refuses a value with a line break. */
    assert_string_equal(json_string_value(json_array_get(in, 6)), "Org \"Q\" \\  ");
    assert_string_equal(json_string_value(json_array_get(in, 7)), p.password);
    json_t *group = json_array_get(json_array_get(root, 3), 0);
    json_t *out = json_array_get(group, 0);
    assert_int_equal(json_integer_value(json_array_get(out, 2)), 587);
    assert_int_equal(json_integer_value(json_array_get(out, 3)), 2);
    assert_string_equal(json_string_value(json_array_get(out, 6)), p.password);
    assert_string_equal(json_string_value(json_array_get(json_array_get(group, 1), 1)),
                        "Rina \"R\" ");
    json_decref(root);
    kunci_device_free(text);
    p.address = NULL; /* the format needs an address */
    assert_null(kunci_android_payload(&p));
    /* A QR code holds it; one too long for any QR code is NULL, not a crash. */
    char *big = malloc(8000);
    memset(big, 'a', 7999);
    big[7999] = '\0';
    assert_null(kunci_qr_svg(big));
    free(big);
}

static void test_xml_is_escaped(void **state)
{
    (void)state;
    struct kunci_devices_config d;
    settings(&d);
    strcpy(d.organization, "A & <B> \"C\"\x02");
    strcpy(d.carddav_url, "https://dav.example.org:8443/card/");
    struct kunci_device_profile p = {&d,
                                     "rina@example.org",
                                     "",
                                     "rina@example.org",
                                     "abcdefghijklmnopqrstuvwx",
                                     "</string><x>",
                                     NOW + 3600};
    char *plist = kunci_apple_profile(&p);
    assert_non_null(plist);
    assert_null(strstr(plist, "<B>"));
    assert_null(strstr(plist, "</string><x>"));
    assert_null(strchr(plist, '\x02'));
    assert_non_null(strstr(plist, "A &amp; &lt;B&gt; &quot;C&quot;"));
    assert_non_null(strstr(plist, "<key>IncomingPassword</key><string>abcdefghijklmnopqrstuvwx"));
    assert_non_null(strstr(plist, "<key>CardDAVPort</key><integer>8443</integer>"));
    assert_non_null(strstr(plist, "<key>RemovalDate</key><date>2027-01-15T09:00:00Z</date>"));
    kunci_device_free(plist);

    char *xml = kunci_autoconfig_xml(&d, NULL, NULL);
    assert_non_null(strstr(xml, "<domain>example.org</domain>"));
    assert_non_null(strstr(xml, "<username>%EMAILADDRESS%</username>"));
    assert_non_null(strstr(xml, "<socketType>SSL</socketType>"));
    assert_null(strstr(xml, "type=\"pop3\""));
    kunci_device_free(xml);
    strcpy(d.pop3_host, "pop.example.org");
    xml = kunci_autoconfig_xml(&d, "rina@mail.example.net", "rina@mail.example.net");
    assert_non_null(strstr(xml, "<domain>mail.example.net</domain>"));
    assert_non_null(strstr(xml, "<username>rina@mail.example.net</username>"));
    assert_non_null(strstr(xml, "<port>995</port>"));
    kunci_device_free(xml);
}

/* A self-signed certificate and its key, written as PEM files in dir. */
static void make_signer(const char *dir, char *cert_path, char *key_path, EVP_PKEY **key_r,
                        X509 **cert_r)
{
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *x = X509_new();
    assert_non_null(key);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), -60);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, key);
    X509_NAME *n = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, (const unsigned char *)"profiles", -1, -1, 0);
    X509_set_issuer_name(x, n);
    assert_true(X509_sign(x, key, EVP_sha256()) > 0);
    sprintf(cert_path, "%s/signer.pem", dir);
    sprintf(key_path, "%s/signer.key", dir);
    FILE *f = fopen(cert_path, "w");
    PEM_write_X509(f, x);
    fclose(f);
    f = fopen(key_path, "w");
    PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
    fclose(f);
    *key_r = key;
    *cert_r = x;
}

static void test_profile_signature_verifies(void **state)
{
    struct test_store *t = *state;
    char cert_path[128], key_path[128], other_cert[128], other_key[128], err[512];
    struct kunci_profile_signer *s = NULL;
    EVP_PKEY *key, *key2;
    X509 *cert, *cert2;

    make_signer(t->dir, cert_path, key_path, &key, &cert);
    /* A key readable by others is refused, saying what to do. */
    chmod(key_path, 0644);
    assert_int_not_equal(kunci_profile_signer_load(cert_path, key_path, &s, err, sizeof(err)),
                         KUNCI_OK);
    assert_non_null(strstr(err, "chmod 600"));
    chmod(key_path, 0600);
    /* Another certificate's key is refused. */
    char sub[96];
    snprintf(sub, sizeof(sub), "%s/other", t->dir);
    mkdir(sub, 0700);
    make_signer(sub, other_cert, other_key, &key2, &cert2);
    chmod(other_key, 0600);
    assert_int_not_equal(kunci_profile_signer_load(cert_path, other_key, &s, err, sizeof(err)),
                         KUNCI_OK);
    assert_non_null(strstr(err, "is not the key"));
    assert_int_not_equal(
        kunci_profile_signer_load("/nonexistent.pem", key_path, &s, err, sizeof(err)), KUNCI_OK);

    assert_int_equal(kunci_profile_signer_load(cert_path, key_path, &s, err, sizeof(err)),
                     KUNCI_OK);
    static const char profile[] = "<plist><dict><key>a</key><string>b</string></dict></plist>";
    uint8_t *der = NULL;
    size_t len = 0;
    assert_int_equal(kunci_profile_sign(s, profile, strlen(profile), &der, &len), KUNCI_OK);

    /* OpenSSL reads it back: SignedData, the profile inside, signed by that certificate. */
    const unsigned char *p = der;
    CMS_ContentInfo *cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
    assert_non_null(cms);
    X509_STORE *trust = X509_STORE_new();
    X509_STORE_add_cert(trust, cert);
    BIO *out = BIO_new(BIO_s_mem());
    assert_int_equal(CMS_verify(cms, NULL, trust, NULL, out, CMS_BINARY), 1);
    char *inside;
    long n = BIO_get_mem_data(out, &inside);
    assert_int_equal((size_t)n, strlen(profile));
    assert_memory_equal(inside, profile, strlen(profile));
    BIO_free(out);
    CMS_ContentInfo_free(cms);

    /* One byte of the content changed: the signature no longer holds. */
    uint8_t *at = memmem(der, len, "<string>b", 9);
    assert_non_null(at);
    at[8] = 'c';
    p = der;
    cms = d2i_CMS_ContentInfo(NULL, &p, (long)len);
    out = BIO_new(BIO_s_mem());
    assert_int_not_equal(CMS_verify(cms, NULL, trust, NULL, out, CMS_BINARY), 1);
    BIO_free(out);
    CMS_ContentInfo_free(cms);

    X509_STORE_free(trust);
    free(der);
    kunci_profile_signer_free(s);
    EVP_PKEY_free(key);
    EVP_PKEY_free(key2);
    X509_free(cert);
    X509_free(cert2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_link_works_once_in_its_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_expires_and_cannot_be_forged, setup, teardown),
        cmocka_unit_test(test_scope_follows_the_settings),
        cmocka_unit_test(test_android_payload_is_format_1_json),
        cmocka_unit_test(test_xml_is_escaped),
        cmocka_unit_test_setup_teardown(test_profile_signature_verifies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
