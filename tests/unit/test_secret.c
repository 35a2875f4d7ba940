/* App passwords: generation, grouping, normalisation, and the HMAC that stores them; the key
 * file they depend on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"
#include "core/keys.h"
#include "core/secret.h"

static void test_generate_letters_and_length(void **state)
{
    char pw[KUNCI_APP_PASSWORD_MAX_LEN + 1];
    (void)state;

    for (size_t len = KUNCI_APP_PASSWORD_MIN_LEN; len <= KUNCI_APP_PASSWORD_MAX_LEN; len++) {
        assert_int_equal(kunci_app_password_generate(pw, len), KUNCI_OK);
        assert_int_equal(strlen(pw), len);
        for (size_t i = 0; i < len; i++)
            assert_true(pw[i] >= 'a' && pw[i] <= 'z');
    }
    assert_int_equal(kunci_app_password_generate(pw, 15), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_app_password_generate(pw, 65), KUNCI_ERR_INVALID);
}

/* Every letter turns up, at a frequency near 1/26: a broken (biased or constant) generator
 * fails this. 26,000 draws: each letter expected 1,000 times, sd about 31. */
static void test_generate_is_uniform(void **state)
{
    unsigned counts[26] = {0};
    char pw[26];
    (void)state;

    for (int i = 0; i < 1000; i++) {
        assert_int_equal(kunci_app_password_generate(pw, 25), KUNCI_OK);
        for (int j = 0; j < 25; j++) {
            assert_in_range(pw[j], 'a', 'z');
            counts[pw[j] - 'a']++;
        }
    }
    for (int c = 0; c < 26; c++) {
        assert_in_range(counts[c], 800, 1200);
    }
}

static void test_generate_differs(void **state)
{
    char a[25], b[25];
    (void)state;
    assert_int_equal(kunci_app_password_generate(a, 24), KUNCI_OK);
    assert_int_equal(kunci_app_password_generate(b, 24), KUNCI_OK);
    assert_int_equal(strlen(a), 24);
    assert_string_not_equal(a, b);
}

static void test_format_groups_of_four(void **state)
{
    char out[KUNCI_APP_PASSWORD_FORMATTED_MAX];
    (void)state;

    kunci_app_password_format("abcdefghijklmnopqrstuvwx", out, sizeof(out));
    assert_string_equal(out, "abcd efgh ijkl mnop qrst uvwx");
    kunci_app_password_format("abcdefghijklmnopq", out, sizeof(out));
    assert_string_equal(out, "abcd efgh ijkl mnop q");
}

static void test_normalise(void **state)
{
    char out[KUNCI_APP_PASSWORD_MAX_LEN + 1];
    size_t len;
    (void)state;

    static const char *const same[] = {
        "abcdefghijklmnopqrstuvwx",
        "abcd efgh ijkl mnop qrst uvwx",
        "ABCD-EFGH-IJKL-MNOP-QRST-UVWX",
        "  AbCd efgh-ijkl mnop qrst uvwx ",
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        assert_int_equal(kunci_app_password_normalise(same[i], strlen(same[i]), out, &len),
                         KUNCI_OK);
        assert_int_equal(len, 24);
        assert_string_equal(out, "abcdefghijklmnopqrstuvwx");
    }
    /* Not app passwords: digits, punctuation, too short, too long. */
    static const char *const not_app[] = {"abcdefghijklmnopqrstuvw1", "abcd_efgh_ijkl_mnop",
                                          "abcdefghijklmno", "hunter2"};
    for (size_t i = 0; i < sizeof(not_app) / sizeof(not_app[0]); i++)
        assert_int_equal(kunci_app_password_normalise(not_app[i], strlen(not_app[i]), out, &len),
                         KUNCI_ERR_INVALID);
    char longer[80];
    memset(longer, 'a', 65);
    longer[65] = '\0';
    assert_int_equal(kunci_app_password_normalise(longer, 65, out, &len), KUNCI_ERR_INVALID);
    /* Embedded NUL is not skipped. */
    assert_int_equal(kunci_app_password_normalise("abcdefgh\0ijklmnopqrst", 21, out, &len),
                     KUNCI_ERR_INVALID);
}

/* Keys whose pepper is the bytes 0..31 (the known answers below use it). */
static void pepper_0_to_31(struct kunci_keys *keys)
{
    memset(keys, 0, sizeof(*keys));
    for (int i = 0; i < 32; i++)
        keys->app_password_pepper[i] = (uint8_t)i;
    kunci_keys_prepare(keys);
}

/* Known answer, computed independently with Python's hmac module:
 * hmac.new(bytes(range(32)), b"abcdefghijklmnopqrstuvwx", sha256). */
static void test_digest_known_answer(void **state)
{
    struct kunci_keys keys;
    uint8_t digest[KUNCI_DIGEST_BYTES];
    char hex[2 * KUNCI_DIGEST_BYTES + 1];
    (void)state;

    pepper_0_to_31(&keys);
    kunci_app_password_digest(&keys, "abcdefghijklmnopqrstuvwx", 24, digest);
    sodium_bin2hex(hex, sizeof(hex), digest, sizeof(digest));
    assert_string_equal(hex, "80bb7d3718cf150e827ee6bf07b1d611f7f55977ca35a99d41eb372954d4a7d1");
    /* Another pepper, another digest: a database copied without the key file is useless. */
    keys.app_password_pepper[0] ^= 1;
    kunci_keys_prepare(&keys);
    uint8_t other[KUNCI_DIGEST_BYTES];
    kunci_app_password_digest(&keys, "abcdefghijklmnopqrstuvwx", 24, other);
    assert_memory_not_equal(digest, other, sizeof(digest));
}

/* The lookup cache's key: a known answer (computed independently with Python's hashlib:
 * k = blake2b(b"kunci app-password lookup cache v1", key=bytes(range(32)), digest_size=32),
 * then blake2b(letters, key=k, digest_size=32)); not the digest; another for other letters
 * or another pepper. */
static void test_cache_key(void **state)
{
    struct kunci_keys keys;
    uint8_t key[KUNCI_DIGEST_BYTES], again[KUNCI_DIGEST_BYTES], digest[KUNCI_DIGEST_BYTES];
    char hex[2 * KUNCI_DIGEST_BYTES + 1];
    (void)state;

    pepper_0_to_31(&keys);
    kunci_app_password_cache_key(&keys, "abcdefghijklmnopqrstuvwx", 24, key);
    sodium_bin2hex(hex, sizeof(hex), key, sizeof(key));
    assert_string_equal(hex, "c05df17603a014f84a43c41f59444a68ac5f24c251181ecfd78326c0d8e824b0");
    kunci_app_password_cache_key(&keys, "abcdefghijklmnopqrstuvwx", 24, again);
    assert_memory_equal(key, again, sizeof(key)); /* the prepared state is copied, not used */
    kunci_app_password_digest(&keys, "abcdefghijklmnopqrstuvwx", 24, digest);
    assert_memory_not_equal(key, digest, sizeof(key));
    kunci_app_password_cache_key(&keys, "abcdefghijklmnopqrstuvwy", 24, again);
    assert_memory_not_equal(key, again, sizeof(key));
    keys.app_password_pepper[0] ^= 1;
    kunci_keys_prepare(&keys);
    kunci_app_password_cache_key(&keys, "abcdefghijklmnopqrstuvwx", 24, again);
    assert_memory_not_equal(key, again, sizeof(key));
}

/* A key file's fingerprint: 32 hex digits, the same at every load, another for another key
 * file; and a key file readable by others is refused. */
static void test_key_fingerprint(void **state)
{
    (void)state;
    char dir[] = "/tmp/kunci-keys-XXXXXX", a[64], b[64];
    struct kunci_keys *ka = NULL, *ka2 = NULL, *kb = NULL;
    assert_non_null(mkdtemp(dir));
    snprintf(a, sizeof(a), "%s/a.key", dir);
    snprintf(b, sizeof(b), "%s/b.key", dir);
    assert_int_equal(kunci_keys_create(a), KUNCI_OK);
    assert_int_equal(kunci_keys_create(b), KUNCI_OK);
    assert_int_equal(kunci_keys_create(a), KUNCI_ERR_EXISTS);
    assert_int_equal(kunci_keys_load(a, &ka), KUNCI_OK);
    assert_int_equal(kunci_keys_load(a, &ka2), KUNCI_OK);
    assert_int_equal(kunci_keys_load(b, &kb), KUNCI_OK);
    assert_int_equal(strlen(ka->fingerprint), KUNCI_KEY_FINGERPRINT_HEX);
    assert_int_equal(strspn(ka->fingerprint, "0123456789abcdef"), KUNCI_KEY_FINGERPRINT_HEX);
    assert_string_equal(ka->fingerprint, ka2->fingerprint);
    assert_string_not_equal(ka->fingerprint, kb->fingerprint);
    kunci_keys_free(ka);
    kunci_keys_free(ka2);
    kunci_keys_free(kb);
    assert_int_equal(chmod(b, 0640), 0);
    assert_int_equal(kunci_keys_load(b, &kb), KUNCI_ERR_KEY_PERMS);
    unlink(a);
    unlink(b);
    rmdir(dir);
}

/* A rotation: the file's new key is current and the old one previous (a sealed secret opens
 * under either; found under the old key's fingerprint); the enrolment key is the same before,
 * during and after; a second rotation waits for the first to finish; finishing drops only
 * the previous key. */
static void test_key_rotation_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/kunci-keys-XXXXXX", path[64];
    struct kunci_keys *before = NULL, *during = NULL, *after = NULL;
    uint8_t sealed[64], plain[16];
    size_t sealed_len, plain_len;
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/kunci.key", dir);
    assert_int_equal(kunci_keys_create(path), KUNCI_OK);
    assert_int_equal(kunci_keys_load(path, &before), KUNCI_OK);
    assert_null(before->previous);
    assert_int_equal(kunci_seal(before, (const uint8_t *)"0123456789abcdef", 16, sealed,
                                sizeof(sealed), &sealed_len),
                     KUNCI_OK);

    assert_int_equal(kunci_keys_rotate_file(path), KUNCI_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    assert_int_equal(kunci_keys_load(path, &during), KUNCI_OK);
    assert_non_null(during->previous);
    assert_string_equal(during->previous->fingerprint, before->fingerprint);
    assert_string_not_equal(during->fingerprint, before->fingerprint);
    assert_memory_equal(during->enrolment, before->enrolment, KUNCI_SUBKEY_BYTES);
    assert_memory_not_equal(during->tokens, before->tokens, KUNCI_SUBKEY_BYTES);
    assert_false(kunci_sealed_under_current(during, sealed, sealed_len));
    assert_int_equal(kunci_unseal(during, sealed, sealed_len, plain, sizeof(plain), &plain_len),
                     KUNCI_OK);
    assert_memory_equal(plain, "0123456789abcdef", 16);
    assert_int_equal(kunci_keys_rotate_file(path), KUNCI_ERR_EXISTS);

    assert_int_equal(kunci_keys_drop_previous(path), KUNCI_OK);
    assert_int_equal(kunci_keys_load(path, &after), KUNCI_OK);
    assert_null(after->previous);
    assert_string_equal(after->fingerprint, during->fingerprint);
    assert_memory_equal(after->enrolment, before->enrolment, KUNCI_SUBKEY_BYTES);
    /* Without the previous key, what was sealed under it no longer opens. */
    assert_int_equal(kunci_unseal(after, sealed, sealed_len, plain, sizeof(plain), &plain_len),
                     KUNCI_ERR_CRYPTO);
    kunci_keys_free(before);
    kunci_keys_free(during);
    kunci_keys_free(after);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_letters_and_length),
        cmocka_unit_test(test_generate_is_uniform),
        cmocka_unit_test(test_generate_differs),
        cmocka_unit_test(test_format_groups_of_four),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_digest_known_answer),
        cmocka_unit_test(test_cache_key),
        cmocka_unit_test(test_key_fingerprint),
        cmocka_unit_test(test_key_rotation_file),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
