#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/err.h"
#include "core/netmask.h"

static bool allows(const char *list, const char *ip_str)
{
    char canon[256];
    struct kunci_ip ip;

    assert_int_equal(kunci_networks_canonical(list, canon, sizeof(canon)), KUNCI_OK);
    assert_int_equal(kunci_ip_parse(ip_str, &ip), KUNCI_OK);
    return kunci_networks_allow(canon, &ip);
}

static void test_ipv4(void **state)
{
    (void)state;
    assert_true(allows("10.0.0.0/8", "10.200.3.4"));
    assert_false(allows("10.0.0.0/8", "11.0.0.1"));
    assert_true(allows("192.168.1.0/24,10.0.0.0/8", "192.168.1.255"));
    assert_false(allows("192.168.1.0/25", "192.168.1.128"));
    assert_true(allows("203.0.113.7", "203.0.113.7"));
    assert_false(allows("203.0.113.7", "203.0.113.8"));
    assert_true(allows("0.0.0.0/0", "198.51.100.1"));
}

static void test_ipv6_and_mapped(void **state)
{
    (void)state;
    assert_true(allows("2001:db8::/32", "2001:db8:1::5"));
    assert_false(allows("2001:db8::/32", "2001:db9::1"));
    /* nginx may hand over an IPv4 client as ::ffff:a.b.c.d */
    assert_true(allows("10.0.0.0/8", "::ffff:10.1.2.3"));
    assert_false(allows("2001:db8::/32", "10.1.2.3"));
}

static void test_canonical_and_errors(void **state)
{
    char canon[256];
    (void)state;

    assert_int_equal(kunci_networks_canonical(" 10.0.0.0/8 , 2001:DB8::/32", canon, sizeof(canon)),
                     KUNCI_OK);
    assert_string_equal(canon, "10.0.0.0/8,2001:db8::/32");
    assert_int_equal(kunci_networks_canonical("", canon, sizeof(canon)), KUNCI_OK);
    assert_string_equal(canon, "");
    static const char *const bad[] = {"10.1.2.3/8",  "10.0.0.0/33", "10.0.0.0/",   "bogus",
                                      "10.0.0.0/8,", ",10.0.0.0/8", "10.0.0.0/-1", "::/129"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(kunci_networks_canonical(bad[i], canon, sizeof(canon)), KUNCI_ERR_INVALID);
}

static void test_empty_list_allows_unknown_ip(void **state)
{
    (void)state;
    assert_true(kunci_networks_allow("", NULL));
    assert_false(kunci_networks_allow("10.0.0.0/8", NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ipv4),
        cmocka_unit_test(test_ipv6_and_mapped),
        cmocka_unit_test(test_canonical_and_errors),
        cmocka_unit_test(test_empty_list_allows_unknown_ip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
