/* Primary passwords: Argon2id through libsodium, checked against a hash made by another
 * implementation (Debian's argon2 command, the reference code). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "core/err.h"
#include "core/password.h"

static const struct kunci_pwparams fast = {1, 8192};

/* echo -n "correct horse battery" | argon2 kuncisaltsalt16b -id -t 2 -k 1024 -p 1 -l 32 -e */
static const char reference_hash[] = "$argon2id$v=19$m=1024,t=2,p=1$a3VuY2lzYWx0c2FsdDE2Yg$"
                                     "mlionh+0Z7+bAviB2cuanWQTdx5y3E6Fh17AkqRuIS0";

static void test_known_answer(void **state)
{
    (void)state;
    assert_true(kunci_password_verify(reference_hash, "correct horse battery", 21));
    assert_false(kunci_password_verify(reference_hash, "correct horse batterz", 21));
    assert_false(kunci_password_verify(reference_hash, "correct horse battery ", 22));
}

static void test_hash_then_verify(void **state)
{
    char hash[KUNCI_HASH_MAX];
    (void)state;

    assert_int_equal(kunci_password_hash(&fast, "s3cret-enough", 13, hash), KUNCI_OK);
    assert_non_null(strstr(hash, "$argon2id$"));
    assert_true(kunci_password_verify(hash, "s3cret-enough", 13));
    assert_false(kunci_password_verify(hash, "s3cret-enougH", 13));
    assert_false(kunci_password_verify(hash, "s3cret-enough", 12));
}

static void test_needs_rehash_when_params_change(void **state)
{
    char hash[KUNCI_HASH_MAX];
    const struct kunci_pwparams stronger = {2, 16384};
    (void)state;

    kunci_password_hash(&fast, "s3cret-enough", 13, hash);
    assert_false(kunci_password_needs_rehash(hash, &fast));
    assert_true(kunci_password_needs_rehash(hash, &stronger));
    /* The parameters live in the hash: it still verifies after the change. */
    assert_true(kunci_password_verify(hash, "s3cret-enough", 13));
}

static void test_length_cap(void **state)
{
    char long_pw[KUNCI_PASSWORD_MAX + 2], hash[KUNCI_HASH_MAX];
    (void)state;

    memset(long_pw, 'x', sizeof(long_pw) - 1);
    long_pw[sizeof(long_pw) - 1] = '\0';
    assert_int_equal(kunci_password_acceptable(long_pw, KUNCI_PASSWORD_MAX + 1),
                     KUNCI_ERR_TOO_LONG);
    assert_int_equal(kunci_password_hash(&fast, long_pw, KUNCI_PASSWORD_MAX + 1, hash),
                     KUNCI_ERR_TOO_LONG);
    assert_int_equal(kunci_password_acceptable(long_pw, KUNCI_PASSWORD_MAX), KUNCI_OK);
    /* Even a hash of the first bytes does not match an over-long input. */
    kunci_password_hash(&fast, "x", 1, hash);
    assert_false(kunci_password_verify(hash, long_pw, KUNCI_PASSWORD_MAX + 1));
    assert_int_equal(kunci_password_acceptable("short", 5), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_password_acceptable("with\nnewline", 12), KUNCI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_hash_then_verify),
        cmocka_unit_test(test_needs_rehash_when_params_change),
        cmocka_unit_test(test_length_cap),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
