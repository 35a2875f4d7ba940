/* Second factors and sessions: TOTP against RFC 6238's vectors, sent codes (single use,
 * expiry, attempts), sealed secrets, sessions' timeouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/mfa.h"
#include "core/once.h"
#include "core/session.h"
#include "core/totp.h"
#include "fixture.h"

#define NOW 1800000000

/* RFC 6238 appendix B, SHA-1, secret "12345678901234567890": the low 6 digits. */
static void test_totp_rfc6238_vectors(void **state)
{
    static const struct {
        int64_t t;
        const char *code;
    } v[] = {{59, "287082"},         {1111111109, "081804"}, {1111111111, "050471"},
             {1234567890, "005924"}, {2000000000, "279037"}, {20000000000LL, "353130"}};
    const uint8_t *secret = (const uint8_t *)"12345678901234567890";
    char code[7];
    int64_t step;
    (void)state;

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        assert_int_equal(kunci_totp_code(secret, 20, v[i].t, code), KUNCI_OK);
        assert_string_equal(code, v[i].code);
        assert_int_equal(kunci_totp_check(secret, 20, v[i].code, v[i].t, &step), KUNCI_OK);
        assert_int_equal(step, v[i].t / 30);
    }
    /* One step of drift either way, not two. */
    assert_int_equal(kunci_totp_check(secret, 20, "287082", 59 + 30, &step), KUNCI_OK);
    assert_int_equal(kunci_totp_check(secret, 20, "287082", 59 + 60, &step), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_totp_check(secret, 20, "28708", 59, &step), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_totp_check(secret, 20, "28708a", 59, &step), KUNCI_ERR_INVALID);
}

static void test_totp_uri_and_base32(void **state)
{
    char b32[KUNCI_TOTP_BASE32_MAX + 1], uri[512];
    (void)state;
    assert_int_equal(kunci_totp_base32((const uint8_t *)"12345678901234567890", 20, b32), KUNCI_OK);
    assert_string_equal(b32, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    assert_int_equal(kunci_totp_uri("Example Org", "alice@example.org", b32, uri, sizeof(uri)),
                     KUNCI_OK);
    assert_string_equal(uri, "otpauth://totp/Example%20Org:alice@example.org?secret="
                             "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Example%20Org&algorithm="
                             "SHA1&digits=6&period=30");
}

static void test_phone_and_email(void **state)
{
    char out[64];
    (void)state;
    assert_int_equal(kunci_phone_canonical("+62", "0812-3456 7890", out, sizeof(out)), KUNCI_OK);
    assert_string_equal(out, "+62 81234567890");
    assert_int_equal(kunci_phone_canonical("1", "(555) 010 0199", out, sizeof(out)), KUNCI_OK);
    assert_string_equal(out, "+1 5550100199");
    assert_int_equal(kunci_phone_canonical("+62", "12", out, sizeof(out)), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_phone_canonical("+0", "8123456", out, sizeof(out)), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_phone_canonical("+62", "0812abc", out, sizeof(out)), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_phone_canonical("+62", "1234567890123456", out, sizeof(out)),
                     KUNCI_ERR_INVALID);
    assert_int_equal(kunci_email_check("dewi@example.net"), KUNCI_OK);
    assert_int_equal(kunci_email_check("dewi@localhost"), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_email_check("Dewi@Example.net"), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_email_check("dewi@example.net\r\nBcc: x@y.z"), KUNCI_ERR_INVALID);
}

struct fixture {
    struct test_store t;
    struct kunci_account alice;
    char last_code[8];
    int sent;
    bool fail_delivery;
};

static int count_rows(void *arg, const struct kunci_mfa_method *m)
{
    (void)m;
    (*(int *)arg)++;
    return 0;
}

static int kunci_setting_set_for_test(struct fixture *f, const char *key, const char *value)
{
    return kunci_store_setting_set(&f->t.h, key, value);
}

static int capture(void *arg, const struct kunci_message *msg, char *err, size_t err_size)
{
    struct fixture *f = arg;
    if (f->fail_delivery) {
        snprintf(err, err_size, "gateway down");
        return KUNCI_ERR_DELIVERY;
    }
    snprintf(f->last_code, sizeof(f->last_code), "%s", msg->code);
    assert_non_null(strstr(msg->text, msg->code));
    f->sent++;
    return KUNCI_OK;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    test_store_open(&f->t);
    assert_int_equal(kunci_account_create(&f->t.ctx, &f->t.h, "alice@example.org", "",
                                          KUNCI_ROLE_USER, "Plum-Orbit-77", 13, NOW, &f->alice),
                     KUNCI_OK);
    f->alice.mfa_state = KUNCI_MFA_ENABLED;
    assert_int_equal(kunci_account_save(&f->t.h, &f->alice), KUNCI_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_store_close(&f->t);
    free(f);
    return 0;
}

static int64_t begin_phone(struct fixture *f)
{
    char err[128];
    int64_t id = 0;
    assert_int_equal(kunci_mfa_code_begin(&f->t.ctx, &f->t.h, &f->alice, KUNCI_METHOD_PHONE,
                                          "+62 81234567890", "sms", NOW, capture, f, err,
                                          sizeof(err), &id, NULL),
                     KUNCI_OK);
    return id;
}

static void test_sent_code_single_use(void **state)
{
    struct fixture *f = *state;
    int64_t id = begin_phone(f);
    int count;

    assert_int_equal(f->sent, 1);
    assert_int_equal(strlen(f->last_code), 6);
    assert_int_equal(kunci_mfa_complete(&f->t.h, &f->alice), KUNCI_ERR_POLICY); /* not verified */
    assert_int_equal(
        kunci_mfa_verify_method(&f->t.ctx, &f->t.h, &f->alice, id, f->last_code, NOW + 5, NULL),
        KUNCI_OK);
    assert_int_equal(
        kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, id, f->last_code, NOW + 6, NULL),
        KUNCI_ERR_NOT_FOUND);
    assert_int_equal(kunci_mfa_verified_count(&f->t.h, f->alice.id, &count, NULL), KUNCI_OK);
    assert_int_equal(count, 1);
    assert_int_equal(kunci_mfa_complete(&f->t.h, &f->alice), KUNCI_OK);
    assert_int_equal(f->alice.mfa_state, KUNCI_MFA_ENFORCED);
    /* The last method stays while MFA is required. */
    assert_int_equal(kunci_mfa_remove(&f->t.h, &f->alice, id), KUNCI_ERR_POLICY);
}

/* Against the promise (10 minutes, 5 attempts), not the code's own constants. */
static void test_sent_code_expiry_and_attempts(void **state)
{
    struct fixture *f = *state;
    int64_t id = begin_phone(f), t;
    char wrong[12];

    /* The code's own limit of attempts, apart from the account's lockout. */
    assert_int_equal(kunci_setting_set_for_test(f, "mfa_lockout_threshold", "100"), KUNCI_OK);
    assert_int_equal(
        kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, id, f->last_code, NOW + 600, NULL),
        KUNCI_ERR_EXPIRED);
    t = NOW + 661;
    assert_int_equal(
        kunci_mfa_send_code(&f->t.ctx, &f->t.h, &f->alice, id, t, capture, f, NULL, 0, NULL),
        KUNCI_OK);
    assert_int_equal(
        kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, id, f->last_code, t + 599, NULL),
        KUNCI_OK); /* still valid at 599 s */
    t += 700;
    assert_int_equal(
        kunci_mfa_send_code(&f->t.ctx, &f->t.h, &f->alice, id, t, capture, f, NULL, 0, NULL),
        KUNCI_OK);
    snprintf(wrong, sizeof(wrong), "%06d", (atoi(f->last_code) + 1) % 1000000);
    for (int i = 1; i < 5; i++)
        assert_int_equal(kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, id, wrong, t + 1, NULL),
                         KUNCI_ERR_INVALID);
    assert_int_equal(kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, id, wrong, t + 1, NULL),
                     KUNCI_ERR_LIMIT);
    /* Spent: even the right code no longer works. */
    assert_int_equal(kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, id, f->last_code, t + 1, NULL),
                     KUNCI_ERR_NOT_FOUND);
}

/* Wrong codes count per account across codes sent and sessions; only a right code resets
 * the count; a locked account's right code is refused too. */
static void test_wrong_codes_lock_the_account(void **state)
{
    struct fixture *f = *state;
    char wrong[12];
    int64_t retry = 0, t = NOW;
    int64_t id = begin_phone(f);

    assert_int_equal(
        kunci_mfa_verify_method(&f->t.ctx, &f->t.h, &f->alice, id, f->last_code, t, NULL),
        KUNCI_OK);
    assert_int_equal(kunci_setting_set_for_test(f, "code_resend_seconds", "0"), KUNCI_OK);
    for (int sent = 0; sent < 2; sent++) { /* two codes, five wrong tries each */
        assert_int_equal(
            kunci_mfa_send_code(&f->t.ctx, &f->t.h, &f->alice, id, ++t, capture, f, NULL, 0, NULL),
            KUNCI_OK);
        snprintf(wrong, sizeof(wrong), "%06d", (atoi(f->last_code) + 1) % 1000000);
        for (int i = 0; i < 4; i++)
            assert_int_equal(kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, id, wrong, t, NULL),
                             KUNCI_ERR_INVALID);
        assert_int_equal(kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, id, wrong, t, NULL),
                         KUNCI_ERR_LIMIT);
    }
    assert_int_equal(
        kunci_mfa_send_code(&f->t.ctx, &f->t.h, &f->alice, id, ++t, capture, f, NULL, 0, NULL),
        KUNCI_OK);
    assert_int_equal(kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, id, f->last_code, t, &retry),
                     KUNCI_ERR_LOCKED);
    assert_int_equal(retry, 5 * 60 - 1); /* mfa_lockout_minutes, set at the tenth */
    t += retry;
    assert_int_equal(kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, id, f->last_code, t, NULL),
                     KUNCI_OK);
}

/* Codes sent: a cool-down per destination, a count per 15 minutes and per day, and few new
 * destinations per day while registering. */
static void test_codes_sent_are_limited(void **state)
{
    struct fixture *f = *state;
    char err[64];
    int64_t id = begin_phone(f), other = 0, retry = 0;

    assert_int_equal(kunci_mfa_send_code(&f->t.ctx, &f->t.h, &f->alice, id, NOW + 10, capture, f,
                                         err, sizeof(err), &retry),
                     KUNCI_ERR_RATE);
    assert_int_equal(retry, 50);
    for (int i = 1; i <= 4; i++)
        assert_int_equal(kunci_mfa_send_code(&f->t.ctx, &f->t.h, &f->alice, id, NOW + 60 * i,
                                             capture, f, err, sizeof(err), NULL),
                         KUNCI_OK);
    assert_int_equal(f->sent, 5);
    assert_int_equal(kunci_mfa_send_code(&f->t.ctx, &f->t.h, &f->alice, id, NOW + 300, capture, f,
                                         err, sizeof(err), &retry),
                     KUNCI_ERR_RATE);
    assert_int_equal(f->sent, 5);
    /* New destinations while registering: three a day. */
    const char *addresses[] = {"one@example.net", "two@example.net", "three@example.net"};
    for (int i = 0; i < 3; i++)
        assert_int_equal(kunci_mfa_code_begin(&f->t.ctx, &f->t.h, &f->alice, KUNCI_METHOD_EMAIL,
                                              addresses[i], "", NOW + 1000 + 60 * i, capture, f,
                                              err, sizeof(err), &other, &retry),
                         i < 2 ? KUNCI_OK : KUNCI_ERR_RATE);
}

static void test_failed_delivery_registers_nothing(void **state)
{
    struct fixture *f = *state;
    char err[128] = "";
    int64_t id = 0;
    int count = -1;

    f->fail_delivery = true;
    assert_int_equal(kunci_mfa_code_begin(&f->t.ctx, &f->t.h, &f->alice, KUNCI_METHOD_EMAIL,
                                          "dewi@example.net", "", NOW, capture, f, err, sizeof(err),
                                          &id, NULL),
                     KUNCI_ERR_DELIVERY);
    assert_string_equal(err, "gateway down");
    assert_int_equal(id, 0);
    assert_int_equal(kunci_mfa_verified_count(&f->t.h, f->alice.id, &count, NULL), KUNCI_OK);
    assert_int_equal(count, 0);
    /* Not a verified method, nor an unverified one, nor a pending code: no row at all. */
    count = 0;
    assert_int_equal(kunci_store_method_list(&f->t.h, f->alice.id, count_rows, &count), KUNCI_OK);
    assert_int_equal(count, 0);
}

static void test_totp_enrolment_and_replay(void **state)
{
    struct fixture *f = *state;
    struct kunci_totp_enrollment e;
    uint8_t secret[64];
    size_t len = 0;
    char code[7];

    assert_int_equal(kunci_mfa_totp_begin(&f->t.ctx, &f->t.h, &f->alice, "kunci", NOW, &e),
                     KUNCI_OK);
    /* A reload, Back or a second tab within half an hour: the same secret, not a new one
     * the entry already scanned would not match. Later, a new one. */
    struct kunci_totp_enrollment again;
    assert_int_equal(
        kunci_mfa_totp_begin(&f->t.ctx, &f->t.h, &f->alice, "kunci", NOW + 1799, &again), KUNCI_OK);
    assert_int_equal(again.method_id, e.method_id);
    assert_string_equal(again.base32, e.base32);
    assert_int_equal(
        kunci_mfa_totp_begin(&f->t.ctx, &f->t.h, &f->alice, "kunci", NOW + 1800, &again), KUNCI_OK);
    assert_int_not_equal(again.method_id, e.method_id);
    assert_string_not_equal(again.base32, e.base32);
    e = again;
    /* Stored sealed: the database row is not the secret. */
    struct kunci_mfa_method m;
    assert_int_equal(kunci_store_method_get(&f->t.h, f->alice.id, e.method_id, &m), KUNCI_OK);
    assert_int_equal(m.secret_len, KUNCI_TOTP_SECRET_BYTES + KUNCI_SEAL_OVERHEAD);
    assert_int_equal(
        kunci_unseal(f->t.ctx.keys, m.secret, m.secret_len, secret, sizeof(secret), &len),
        KUNCI_OK);
    m.secret[30] ^= 1;
    assert_int_equal(
        kunci_unseal(f->t.ctx.keys, m.secret, m.secret_len, secret, sizeof(secret), &len),
        KUNCI_ERR_CRYPTO);
    kunci_totp_code(secret, len, NOW, code);
    assert_int_equal(
        kunci_mfa_verify_method(&f->t.ctx, &f->t.h, &f->alice, e.method_id, code, NOW, NULL),
        KUNCI_OK);
    assert_int_equal(
        kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, e.method_id, code, NOW + 1, NULL),
        KUNCI_ERR_REUSED);
    /* An older step than the last accepted one is refused too. */
    kunci_totp_code(secret, len, NOW - 30, code);
    assert_int_equal(
        kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, e.method_id, code, NOW + 1, NULL),
        KUNCI_ERR_REUSED);
    kunci_totp_code(secret, len, NOW + 30, code);
    assert_int_equal(
        kunci_mfa_check(&f->t.ctx, &f->t.h, &f->alice, e.method_id, code, NOW + 30, NULL),
        KUNCI_OK);
}

static void test_sessions(void **state)
{
    struct fixture *f = *state;
    struct kunci_session_policy policy = {1800, 12 * 3600};
    struct kunci_session s, got;
    char token[KUNCI_TOKEN_MAX], device[KUNCI_TOKEN_MAX];

    assert_int_equal(
        kunci_session_start(&f->t.ctx, &f->t.h, f->alice.id, KUNCI_SESSION_FULL, NOW, token, &s),
        KUNCI_OK);
    assert_int_equal(strlen(token), 43);
    assert_int_equal(kunci_session_resolve(&f->t.ctx, &f->t.h, token, NOW + 60, &policy, &got),
                     KUNCI_OK);
    assert_int_equal(got.account_id, f->alice.id);
    assert_true(kunci_token_equal(got.csrf, s.csrf));
    assert_int_equal(kunci_session_resolve(&f->t.ctx, &f->t.h, "not-a-token", NOW, &policy, &got),
                     KUNCI_ERR_NOT_FOUND);
    /* Idle too long: gone, and gone for good. */
    assert_int_equal(
        kunci_session_resolve(&f->t.ctx, &f->t.h, token, NOW + 60 + 1801, &policy, &got),
        KUNCI_ERR_NOT_FOUND);
    assert_int_equal(kunci_session_resolve(&f->t.ctx, &f->t.h, token, NOW + 61, &policy, &got),
                     KUNCI_ERR_NOT_FOUND);
    /* Absolute limit, however active. */
    assert_int_equal(
        kunci_session_start(&f->t.ctx, &f->t.h, f->alice.id, KUNCI_SESSION_FULL, NOW, token, &s),
        KUNCI_OK);
    int64_t t = NOW;
    for (; t < NOW + 12 * 3600; t += 1200)
        assert_int_equal(kunci_session_resolve(&f->t.ctx, &f->t.h, token, t, &policy, &got),
                         KUNCI_OK);
    assert_int_equal(
        kunci_session_resolve(&f->t.ctx, &f->t.h, token, NOW + 12 * 3600 + 1, &policy, &got),
        KUNCI_ERR_NOT_FOUND);
    /* Trusted devices: for this account, until they expire. */
    assert_int_equal(kunci_device_remember(&f->t.ctx, &f->t.h, f->alice.id, NOW, 14, device),
                     KUNCI_OK);
    assert_true(kunci_device_trusted(&f->t.ctx, &f->t.h, f->alice.id, device, NOW + 86400));
    assert_false(kunci_device_trusted(&f->t.ctx, &f->t.h, f->alice.id + 1, device, NOW));
    assert_false(kunci_device_trusted(&f->t.ctx, &f->t.h, f->alice.id, device, NOW + 14 * 86400));
    assert_false(kunci_device_trusted(&f->t.ctx, &f->t.h, f->alice.id, "", NOW));

    /* Purging removes the rows themselves: asked about an earlier time, they are gone. */
    assert_int_equal(
        kunci_session_start(&f->t.ctx, &f->t.h, f->alice.id, KUNCI_SESSION_FULL, NOW, token, &s),
        KUNCI_OK);
    assert_int_equal(kunci_session_purge(&f->t.h, &policy, NOW + 100), KUNCI_OK);
    assert_int_equal(kunci_session_resolve(&f->t.ctx, &f->t.h, token, NOW + 100, &policy, &got),
                     KUNCI_OK);
    assert_true(kunci_device_trusted(&f->t.ctx, &f->t.h, f->alice.id, device, NOW + 100));
    assert_int_equal(kunci_session_purge(&f->t.h, &policy, NOW + 15 * 86400), KUNCI_OK);
    assert_false(kunci_device_trusted(&f->t.ctx, &f->t.h, f->alice.id, device, NOW + 100));
    uint8_t hash[KUNCI_TOKEN_HASH_BYTES];
    kunci_token_hash(&f->t.ctx, token, hash);
    assert_int_equal(kunci_store_session_lookup(&f->t.h, hash, &got), KUNCI_ERR_NOT_FOUND);
}

/* A request sent twice: the first runs, a repeat waits, then gets the first answer; a
 * failure is forgotten; a dead first request, an old answer and an answer moved to
 * another account's row do not stand. */
static void test_requests_sent_twice(void **state)
{
    struct fixture *f = *state;
    const struct kunci_keys *keys = f->t.ctx.keys;
    uint8_t fp[KUNCI_ONCE_DIGEST_BYTES], other[KUNCI_ONCE_DIGEST_BYTES];
    enum kunci_once_outcome o;
    int status;
    char *answer;
    struct kunci_account bob;

    assert_true(kunci_once_key_valid("3f2a-9c:x_y.z"));
    assert_false(kunci_once_key_valid(""));
    assert_false(kunci_once_key_valid("two words"));
    char longer[KUNCI_ONCE_KEY_MAX + 2];
    memset(longer, 'k', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_false(kunci_once_key_valid(longer));
    kunci_once_fingerprint("POST", "/app-passwords", "{\"name\":\"a\"}", fp);
    kunci_once_fingerprint("POST", "/app-passwords", "{\"name\":\"b\"}", other);
    assert_int_not_equal(memcmp(fp, other, sizeof(fp)), 0);

#define CLAIM(acct, key, print, at)                                                                \
    assert_int_equal(                                                                              \
        kunci_once_claim(keys, &f->t.h, (acct), (key), (print), (at), &o, &status, &answer),       \
        KUNCI_OK)
    CLAIM(f->alice.id, "k1", fp, NOW);
    assert_int_equal(o, KUNCI_ONCE_FIRST);
    CLAIM(f->alice.id, "k1", fp, NOW + 1);
    assert_int_equal(o, KUNCI_ONCE_RUNNING);
    CLAIM(f->alice.id, "k1", other, NOW + 1);
    assert_int_equal(o, KUNCI_ONCE_OTHER_REQUEST);
    assert_int_equal(
        kunci_once_finish(keys, &f->t.h, f->alice.id, "k1", 201, "{\"password\":\"abcd efgh\"}"),
        KUNCI_OK);
    CLAIM(f->alice.id, "k1", fp, NOW + 2);
    assert_int_equal(o, KUNCI_ONCE_REPEAT);
    assert_int_equal(status, 201);
    assert_string_equal(answer, "{\"password\":\"abcd efgh\"}");
    free(answer);
    /* Sealed: the password is not in the row. */
    struct kunci_once_row row;
    bool claimed;
    assert_int_equal(
        kunci_store_once_claim(&f->t.h, f->alice.id, "k1", fp, NOW + 3, 0, 0, &claimed, &row),
        KUNCI_OK);
    assert_false(claimed);
    assert_non_null(row.sealed);
    assert_null(memmem(row.sealed, row.sealed_len, "abcd efgh", 9));
    free(row.sealed);
    /* After KUNCI_ONCE_SECONDS the key names a new request. */
    CLAIM(f->alice.id, "k1", fp, NOW + KUNCI_ONCE_SECONDS + 3);
    assert_int_equal(o, KUNCI_ONCE_FIRST);
    /* A failure releases the claim: the repeat runs. */
    CLAIM(f->alice.id, "k2", fp, NOW);
    assert_int_equal(o, KUNCI_ONCE_FIRST);
    assert_int_equal(kunci_once_release(&f->t.h, f->alice.id, "k2"), KUNCI_OK);
    CLAIM(f->alice.id, "k2", other, NOW + 1);
    assert_int_equal(o, KUNCI_ONCE_FIRST);
    /* A first request that never answered (its server stopped) is taken for dead. */
    CLAIM(f->alice.id, "k2", other, NOW + KUNCI_ONCE_RUNNING_SECONDS);
    assert_int_equal(o, KUNCI_ONCE_RUNNING);
    CLAIM(f->alice.id, "k2", other, NOW + KUNCI_ONCE_RUNNING_SECONDS + 2);
    assert_int_equal(o, KUNCI_ONCE_FIRST);
    /* Keys are per account; an answer moved to another account's row is not shown. */
    assert_int_equal(kunci_account_create(&f->t.ctx, &f->t.h, "bob@example.org", "",
                                          KUNCI_ROLE_USER, "Plum-Orbit-78", 13, NOW, &bob),
                     KUNCI_OK);
    CLAIM(f->alice.id, "k3", fp, NOW);
    assert_int_equal(kunci_once_finish(keys, &f->t.h, f->alice.id, "k3", 200, "{}"), KUNCI_OK);
    CLAIM(bob.id, "k3", fp, NOW);
    assert_int_equal(o, KUNCI_ONCE_FIRST);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "UPDATE request_once SET sealed = (SELECT sealed FROM request_once WHERE "
             "account_id = %lld AND request_key = 'k3'), status = 200 WHERE account_id = %lld "
             "AND request_key = 'k3'",
             (long long)f->alice.id, (long long)bob.id);
    test_store_sql(&f->t, sql);
    CLAIM(bob.id, "k3", fp, NOW + 1);
    assert_int_equal(o, KUNCI_ONCE_LOST);
    assert_null(answer);
#undef CLAIM
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_totp_rfc6238_vectors),
        cmocka_unit_test(test_totp_uri_and_base32),
        cmocka_unit_test(test_phone_and_email),
        cmocka_unit_test_setup_teardown(test_sent_code_single_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sent_code_expiry_and_attempts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_delivery_registers_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_codes_lock_the_account, setup, teardown),
        cmocka_unit_test_setup_teardown(test_codes_sent_are_limited, setup, teardown),
        cmocka_unit_test_setup_teardown(test_totp_enrolment_and_replay, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_requests_sent_twice, setup, teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
