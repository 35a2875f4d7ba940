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

/* Whose password: a user's, unless said. */
#define OWNER(login, name) (&(struct kunci_password_owner){(login), (name), KUNCI_ROLE_USER})

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

    /* Varied characters: a long run of one is refused as easy to guess (below). */
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof(long_pw) - 1; i++) {
        x = x * 1103515245u + 12345u;
        long_pw[i] =
            "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"[(x >> 16) % 64];
    }
    long_pw[sizeof(long_pw) - 1] = '\0';
    assert_int_equal(kunci_password_acceptable(long_pw, KUNCI_PASSWORD_MAX + 1, OWNER(NULL, NULL)),
                     KUNCI_ERR_TOO_LONG);
    assert_int_equal(kunci_password_hash(&fast, long_pw, KUNCI_PASSWORD_MAX + 1, hash),
                     KUNCI_ERR_TOO_LONG);
    assert_int_equal(kunci_password_acceptable(long_pw, KUNCI_PASSWORD_MAX, OWNER(NULL, NULL)),
                     KUNCI_OK);
    /* Even a hash of the first bytes does not match an over-long input. */
    kunci_password_hash(&fast, "x", 1, hash);
    assert_false(kunci_password_verify(hash, long_pw, KUNCI_PASSWORD_MAX + 1));
    assert_int_equal(kunci_password_acceptable("short", 5, OWNER(NULL, NULL)), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_password_acceptable("with\nnewline", 12, OWNER(NULL, NULL)),
                     KUNCI_ERR_INVALID);
}

/* NIST SP 800-63B: common and breached-looking passwords are refused (libzxcvbn), and so is
 * one built from the login or the display name; anything else of 8 to 256 characters, any
 * characters, is accepted. */
static void test_common_and_personal(void **state)
{
    static const char *const common[] = {"password",  "password1", "qwerty123",
                                         "12345678",  "iloveyou1", "xxxxxxxxxxxxxxxxxxxx",
                                         "abcdefgh12"};
    const char *login = "dewi.kartika@universitas.ac.id", *name = "Dewi Kartika";
    (void)state;

    for (size_t i = 0; i < sizeof(common) / sizeof(common[0]); i++)
        assert_int_equal(
            kunci_password_acceptable(common[i], strlen(common[i]), OWNER(login, name)),
            KUNCI_ERR_PASSWORD_COMMON);
    assert_int_equal(kunci_password_acceptable("kartikadewi88", 13, OWNER(login, name)),
                     KUNCI_ERR_PASSWORD_PERSONAL);
    assert_int_equal(
        kunci_password_acceptable("kartikadewi88", 13, OWNER("bob@example.org", "Bob")), KUNCI_OK);
    assert_int_equal(kunci_password_acceptable("universitas2024", 15, OWNER(login, NULL)),
                     KUNCI_ERR_PASSWORD_PERSONAL);
    assert_int_equal(kunci_password_acceptable("Wanderlust-Orbit-7", 18, OWNER(login, name)),
                     KUNCI_OK);
    assert_int_equal(kunci_password_acceptable("correct horse battery", 21, OWNER(login, name)),
                     KUNCI_OK);
    assert_int_equal(kunci_password_acceptable("kata sandi ñandú 🙂!",
                                               strlen("kata sandi ñandú 🙂!"),
                                               OWNER(login, name)),
                     KUNCI_OK); /* any characters */
    /* An administrator's: 15 characters at least, the rest alike. */
    struct kunci_password_owner admin = {login, name, KUNCI_ROLE_ADMIN};
    assert_int_equal(kunci_password_acceptable("Wanderlust-Orb7", 15, &admin), KUNCI_OK);
    assert_int_equal(kunci_password_acceptable("Wanderlust-Orb", 14, &admin),
                     KUNCI_ERR_PASSWORD_SHORT);
    assert_int_equal(kunci_password_acceptable("Wanderlust-Orb", 14, OWNER(login, name)), KUNCI_OK);
    assert_int_equal(kunci_password_acceptable("password12345678", 16, &admin),
                     KUNCI_ERR_PASSWORD_COMMON);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answer),
        cmocka_unit_test(test_common_and_personal),
        cmocka_unit_test(test_hash_then_verify),
        cmocka_unit_test(test_needs_rehash_when_params_change),
        cmocka_unit_test(test_length_cap),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
