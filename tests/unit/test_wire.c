/* The parsers of what arrives on the wire (src/listen/wire.c), the API's route matcher
 * (src/web/routes.c), as pure functions; and the answers a listener thread keeps
 * (src/listen/kept_replies.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "listen/kept_replies.h"
#include "listen/wire.h"
#include "web/routes.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void test_percent_decode(void **state)
{
    char out[16];
    size_t len = 0;
    (void)state;

    assert_true(wire_percent_decode(S("a%20b%2Bc"), out, 15, &len));
    assert_string_equal(out, "a b+c");
    assert_int_equal(len, 5);
    /* What is not an escape stays as it is, as nginx sent it. */
    assert_true(wire_percent_decode(S("100%"), out, 15, &len));
    assert_string_equal(out, "100%");
    assert_true(wire_percent_decode(S("%zz%4"), out, 15, &len));
    assert_string_equal(out, "%zz%4");
    assert_true(wire_percent_decode(S("%41%42"), out, 15, &len));
    assert_string_equal(out, "AB");
    /* A NUL, escaped or not, is refused; so is anything longer than the buffer. */
    assert_false(wire_percent_decode(S("ab%00cd"), out, 15, &len));
    assert_false(wire_percent_decode("ab\0cd", 5, out, 15, &len));
    assert_false(wire_percent_decode(S("0123456789abcdefX"), out, 15, &len));
    assert_true(wire_percent_decode(S("%41%41%41"), out, 3, &len));
    assert_false(wire_percent_decode(S("%41%41%41%41"), out, 3, &len));
}

static void test_basic(void **state)
{
    char login[16], secret[16];
    struct wire_credentials c = {login, 15, 0, secret, 15, 0};
    (void)state;

    /* alice:pass:word */
    assert_true(wire_basic_credentials(S("Basic YWxpY2U6cGFzczp3b3Jk"), &c));
    assert_string_equal(login, "alice");
    assert_string_equal(secret, "pass:word"); /* only the first colon splits */
    assert_int_equal(c.login_len, 5);
    assert_int_equal(c.secret_len, 9);
    assert_true(wire_basic_credentials(S("basic   YWxpY2U6"), &c)); /* alice: */
    assert_string_equal(secret, "");
    assert_false(wire_basic_credentials(S("Bearer YWxpY2U6cGFzcw=="), &c));
    assert_false(wire_basic_credentials(S("Basic YWxpY2U="), &c));     /* no colon */
    assert_false(wire_basic_credentials(S("Basic !!!"), &c));          /* not base64 */
    assert_false(wire_basic_credentials(S("Basic YWwAaWNlOnB3"), &c)); /* "al\0ice:pw" */
    assert_false(wire_basic_credentials(S("Basic YWFhYWFhYWFhYWFhYWFhYTpw"), &c)); /* 16 a */
}

static void test_socket_request(void **state)
{
    struct wire_socket_request r;
    char line[64];
    (void)state;

    snprintf(line, sizeof(line), "AUTH\timap\t192.0.2.1\talice@example.org\t");
    assert_true(wire_socket_request(line, strlen(line), &r));
    assert_string_equal(r.protocol, "imap");
    assert_string_equal(r.client_ip, "192.0.2.1");
    assert_string_equal(r.login, "alice@example.org");
    assert_string_equal(r.secret, ""); /* an empty password is a field too */
    static const char *const bad[] = {"AUTH\timap\t-\talice", "AUTH\timap\t-\ta\tb\tc",
                                      "HELO\timap\t-\talice\tpw", "AUTH\timap\t-\talice\tp\rw", ""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(line, sizeof(line), "%s", bad[i]);
        assert_false(wire_socket_request(line, strlen(line), &r));
    }
    memcpy(line, "AUTH\timap\t-\ta\0b\tpw", 19);
    assert_false(wire_socket_request(line, 18, &r));
}

static void test_cookie(void **state)
{
    char out[8];
    (void)state;

    assert_true(wire_cookie(S("a=1; kunci_session=tok; b=2"), "kunci_session", out, 7));
    assert_string_equal(out, "tok");
    assert_true(wire_cookie(S("kunci_session=\"q\""), "kunci_session", out, 7));
    assert_string_equal(out, "q");
    /* A name must match whole: no prefix or suffix of another cookie's. */
    assert_false(wire_cookie(S("xkunci_session=1; kunci_sessionx=2"), "kunci_session", out, 7));
    assert_true(wire_cookie(S("__Host-kunci_session=h; kunci_session=p"), "kunci_session", out, 7));
    assert_string_equal(out, "p");
    assert_true(
        wire_cookie(S("kunci_session=first; kunci_session=second"), "kunci_session", out, 7));
    assert_string_equal(out, "first");
    assert_false(wire_cookie(S("kunci_session=toolongvalue"), "kunci_session", out, 7));
    assert_false(wire_cookie(S(""), "kunci_session", out, 7));
    assert_true(wire_cookie(S("kunci_session="), "kunci_session", out, 7));
    assert_string_equal(out, "");
}

static void test_accept_language(void **state)
{
    (void)state;
    assert_string_equal(wire_accept_language(S("id-ID,id;q=0.9,en;q=0.8")), "id");
    assert_string_equal(wire_accept_language(S("fr-FR, en-GB;q=0.8, id")), "en");
    assert_string_equal(wire_accept_language(S("fr, de")), "en");
    assert_string_equal(wire_accept_language(S("ida, id")), "id");
    assert_string_equal(wire_accept_language(S("")), "en");
    /* Bounded by the length given, not by a NUL. */
    assert_string_equal(wire_accept_language("fr, id", 3), "en");
}

static bool trusted(void *arg, const char *ip)
{
    (void)arg;
    return strncmp(ip, "10.", 3) == 0;
}

static void test_user_agent(void **state)
{
    static const char *const cases[][2] = {
        {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/120.0 Safari/537.36 Edg/120.0",
         "Edge on Windows"},
        {"Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
         "Firefox on Linux"},
        {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
         "like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
         "Safari on iPhone"},
        {"Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
         "Chrome on Android"},
        {"curl/7.88.1", "curl"},
        {"Python-urllib/3.11", "Python"},
        {"\"><script>alert(1)</script>", "another browser"},
        {"", ""},
    };
    char out[48];
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        wire_user_agent(cases[i][0], strlen(cases[i][0]), out, sizeof(out));
        assert_string_equal(out, cases[i][1]);
    }
}

static void test_forwarded_for(void **state)
{
    char out[64];
    (void)state;

    assert_true(wire_forwarded_for(S("203.0.113.9, 198.51.100.7, 10.0.0.2"), trusted, NULL, out,
                                   sizeof(out)));
    assert_string_equal(out, "198.51.100.7"); /* what the last trusted proxy saw */
    assert_false(wire_forwarded_for(S("10.0.0.1, 10.0.0.2"), trusted, NULL, out, sizeof(out)));
    /* A forged hop that is not an address: nothing before it is believed. */
    assert_false(
        wire_forwarded_for(S("198.51.100.7, bogus, 10.0.0.2"), trusted, NULL, out, sizeof(out)));
    assert_true(wire_forwarded_for(S(" 2001:db8::1 "), trusted, NULL, out, sizeof(out)));
    assert_string_equal(out, "2001:db8::1");
    assert_false(wire_forwarded_for(S(""), trusted, NULL, out, sizeof(out)));
}

static void test_json_object(void **state)
{
    (void)state;
    json_t *v = wire_json_object(S("{\"login\": \"a\"}"));
    assert_non_null(v);
    assert_string_equal(json_string_value(json_object_get(v, "login")), "a");
    json_decref(v);
    assert_null(wire_json_object(S("[1, 2]")));
    assert_null(wire_json_object(S("{\"a\": 1, \"a\": 2}"))); /* one key, one value */
    assert_null(wire_json_object(S("{\"a\": 1")));
    assert_null(wire_json_object(S("")));
}

static enum MHD_Result handler(struct web_request *rq)
{
    (void)rq;
    return MHD_YES;
}

static void test_routes(void **state)
{
    static const struct web_route table[] = {
        {"GET", "/methods", WEB_FULL, false, false, false, handler},
        {"POST", "/methods/{}/verify", WEB_REGISTERING, false, false, false, handler},
        {"DELETE", "/methods/{}", WEB_FULL, true, false, false, handler},
        {"POST", "/methods/{}", WEB_REGISTERING, true, false, false, handler},
    };
    char params[WEB_PATH_PARAMS][WEB_PATH_PARAM_MAX + 1];
    char longer[WEB_PATH_PARAM_MAX + 20];
    (void)state;

    assert_ptr_equal(web_route_match(table, 4, "GET", "/methods", params), &table[0]);
    assert_ptr_equal(web_route_match(table, 4, "POST", "/methods/12/verify", params), &table[1]);
    assert_string_equal(params[0], "12");
    assert_ptr_equal(web_route_match(table, 4, "POST", "/methods/totp", params), &table[3]);
    assert_string_equal(params[0], "totp");
    assert_ptr_equal(web_route_match(table, 4, "DELETE", "/methods/7", params), &table[2]);
    /* Nothing more, nothing less, and the method matters. */
    assert_null(web_route_match(table, 4, "GET", "/methods/", params));
    assert_null(web_route_match(table, 4, "POST", "/methods//verify", params));
    assert_null(web_route_match(table, 4, "POST", "/methods/1/verify/x", params));
    assert_null(web_route_match(table, 4, "PUT", "/methods/1", params));
    assert_null(web_route_match(table, 4, "GET", "/method", params));
    memset(longer, 'a', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    memcpy(longer, "/methods/", 9);
    assert_null(web_route_match(table, 4, "DELETE", longer, params));
}

static struct MHD_Response *answer_for(const char *user)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    assert_non_null(r);
    MHD_add_response_header(r, "Auth-User", user);
    return r;
}

static const char *kept_user(struct kept_replies *t, uint64_t epoch, unsigned kind, const char *key)
{
    struct MHD_Response *r = kept_replies_find(t, epoch, kind, key);
    return r != NULL ? MHD_get_response_header(r, "Auth-User") : NULL;
}

/* An answer kept for one login is never given for another: in one slot every key collides,
 * and the newest answer replaces the older; the kind (protocol) and the epoch (settings)
 * are part of the key. */
static void test_kept_replies(void **state)
{
    (void)state;
    struct kept_replies *t = kept_replies_new(1);
    assert_non_null(t);

    assert_null(kept_replies_find(t, 1, 1, "alice@example.org"));
    kept_replies_put(t, 1, 1, "alice@example.org", answer_for("alice@example.org"));
    assert_string_equal(kept_user(t, 1, 1, "alice@example.org"), "alice@example.org");
    assert_null(kept_replies_find(t, 1, 1, "bob@example.org"));
    assert_null(kept_replies_find(t, 1, 1, "alice@example.or"));
    assert_null(kept_replies_find(t, 1, 1, "alice@example.org2"));
    assert_null(kept_replies_find(t, 1, 3, "alice@example.org"));
    assert_null(kept_replies_find(t, 2, 1, "alice@example.org"));

    kept_replies_put(t, 1, 1, "bob@example.org", answer_for("bob@example.org"));
    assert_null(kept_replies_find(t, 1, 1, "alice@example.org"));
    assert_string_equal(kept_user(t, 1, 1, "bob@example.org"), "bob@example.org");

    /* A key too long to keep is refused (and its answer released, for ASan's leak check). */
    char long_key[KEPT_REPLIES_KEY_MAX + 2];
    memset(long_key, 'a', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    kept_replies_put(t, 1, 1, long_key, answer_for("long"));
    assert_null(kept_replies_find(t, 1, 1, long_key));
    assert_string_equal(kept_user(t, 1, 1, "bob@example.org"), "bob@example.org");
    kept_replies_free(t);

    /* With many slots, many logins are kept at once, each with its own answer. */
    t = kept_replies_new(1024);
    assert_non_null(t);
    char key[64];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "user%d@example.org", i);
        kept_replies_put(t, 7, 1, key, answer_for(key));
    }
    int kept = 0;
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof(key), "user%d@example.org", i);
        const char *user = kept_user(t, 7, 1, key);
        if (user != NULL) {
            assert_string_equal(user, key);
            kept++;
        }
    }
    assert_true(kept > 900 && kept <= 1024);
    kept_replies_free(t);

    /* 200 logins in 1,024 slots are all kept (with one slot per key, a fifth of them shared
     * one and were built again on every other request); a new epoch replaces each in place. */
    t = kept_replies_new(1024);
    assert_non_null(t);
    for (uint64_t epoch = 1; epoch <= 2; epoch++)
        for (int i = 0; i < 200; i++) {
            snprintf(key, sizeof(key), "user%d@example.org", i);
            kept_replies_put(t, epoch, 1, key, answer_for(key));
        }
    for (int i = 0; i < 200; i++) {
        snprintf(key, sizeof(key), "user%d@example.org", i);
        assert_string_equal(kept_user(t, 2, 1, key), key);
        assert_null(kept_replies_find(t, 1, 1, key));
    }
    kept_replies_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_percent_decode),  cmocka_unit_test(test_basic),
        cmocka_unit_test(test_socket_request),  cmocka_unit_test(test_cookie),
        cmocka_unit_test(test_accept_language), cmocka_unit_test(test_forwarded_for),
        cmocka_unit_test(test_json_object),     cmocka_unit_test(test_routes),
        cmocka_unit_test(test_user_agent),      cmocka_unit_test(test_kept_replies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
