/* The legacy-login decision against a real SQLite store and a real key file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/accounts.h"
#include "core/decision.h"
#include "core/err.h"
#include "core/guard.h"
#include "core/protocol.h"
#include "core/secret.h"
#include "fixture.h"

#define NOW 1800000000

struct fixture {
    struct test_store t;
    struct kunci_account alice, bob;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    test_store_open(&f->t);
    assert_int_equal(kunci_account_create(&f->t.ctx, &f->t.h, "Alice@Example.org", "Alice",
                                          KUNCI_ROLE_USER, "alice-primary-pw", 16, NOW, &f->alice),
                     KUNCI_OK);
    assert_int_equal(kunci_account_create(&f->t.ctx, &f->t.h, "bob@example.org", "Bob",
                                          KUNCI_ROLE_USER, "bob-primary-pw", 14, NOW, &f->bob),
                     KUNCI_OK);
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

static void set_setting(struct fixture *f, const char *key, const char *value)
{
    assert_int_equal(kunci_store_setting_set(&f->t.h, key, value), KUNCI_OK);
}

static void set_mfa(struct fixture *f, struct kunci_account *a, enum kunci_mfa_state st)
{
    a->mfa_state = st;
    assert_int_equal(kunci_account_save(&f->t.h, a), KUNCI_OK);
}

static int64_t make_app_password(struct fixture *f, struct kunci_account *a, const char *name,
                                 unsigned protocols, int64_t expires, const char *networks,
                                 char pw[KUNCI_APP_PASSWORD_MAX_LEN + 1])
{
    struct kunci_app_password_spec spec = {name, protocols, expires, networks};
    struct kunci_app_password ap;
    assert_int_equal(kunci_app_password_create(&f->t.ctx, &f->t.h, a, &spec, NOW, pw,
                                               KUNCI_APP_PASSWORD_MAX_LEN + 1, &ap),
                     KUNCI_OK);
    return ap.id;
}

static enum kunci_auth_result check_at(struct fixture *f, const char *login, const char *secret,
                                       unsigned protocol, const char *ip, int64_t now,
                                       struct kunci_auth_outcome *out)
{
    struct kunci_auth_outcome local;
    struct kunci_auth_request req = {login, strlen(login), secret, strlen(secret), protocol,
                                     ip,    now,           false};
    return kunci_auth_check(&f->t.ctx, &f->t.h, &req, out ? out : &local);
}

static enum kunci_auth_result check(struct fixture *f, const char *login, const char *secret,
                                    unsigned protocol)
{
    return check_at(f, login, secret, protocol, "192.0.2.10", NOW, NULL);
}

static void test_mfa_states_and_primary_password(void **state)
{
    struct fixture *f = *state;

    assert_int_equal(check(f, "alice@example.org", "alice-primary-pw", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_ALLOWED);
    set_mfa(f, &f->alice, KUNCI_MFA_ENABLED);
    assert_int_equal(check(f, "ALICE@example.org", "alice-primary-pw", KUNCI_PROTO_POP3),
                     KUNCI_AUTH_ALLOWED);
    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    for (unsigned p = KUNCI_PROTO_IMAP; p <= KUNCI_PROTO_EWS; p <<= 1)
        assert_int_equal(check(f, "alice@example.org", "alice-primary-pw", p),
                         KUNCI_AUTH_MFA_REQUIRED);
    assert_int_equal(check(f, "alice@example.org", "wrong-password", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_WRONG_SECRET);
}

static void test_app_passwords_under_enforced_mfa(void **state)
{
    struct fixture *f = *state;
    char pw1[65], pw2[65], bobs[65], grouped[90];
    struct kunci_auth_outcome out;

    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    set_mfa(f, &f->bob, KUNCI_MFA_ENFORCED);
    int64_t id1 = make_app_password(f, &f->alice, "Outlook", 0, 0, NULL, pw1);
    make_app_password(f, &f->alice, "iPhone", 0, 0, NULL, pw2);
    make_app_password(f, &f->bob, "Bob's phone", 0, 0, NULL, bobs);
    assert_int_equal(strlen(pw1), 24);

    assert_int_equal(check_at(f, "alice@example.org", pw1, KUNCI_PROTO_IMAP, NULL, NOW, &out),
                     KUNCI_AUTH_ALLOWED);
    assert_int_equal(out.app_password_id, id1);
    assert_string_equal(out.login, "alice@example.org");
    assert_int_equal(check(f, "alice@example.org", pw2, KUNCI_PROTO_SMTP), KUNCI_AUTH_ALLOWED);
    /* Typed in groups, with dashes, in capitals. */
    kunci_app_password_format(pw1, grouped, sizeof(grouped));
    assert_int_equal(check(f, "alice@example.org", grouped, KUNCI_PROTO_POP3), KUNCI_AUTH_ALLOWED);
    for (char *p = grouped; *p; p++)
        *p = *p == ' ' ? '-' : (char)(*p - 'a' + 'A');
    assert_int_equal(check(f, "alice@example.org", grouped, KUNCI_PROTO_POP3), KUNCI_AUTH_ALLOWED);
    /* Bob's app password proves nothing for Alice. */
    assert_int_equal(check(f, "alice@example.org", bobs, KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_WRONG_SECRET);
    assert_int_equal(check(f, "bob@example.org", bobs, KUNCI_PROTO_IMAP), KUNCI_AUTH_ALLOWED);
    /* Deleted: refused at once. */
    assert_int_equal(kunci_store_app_password_delete(&f->t.h, f->alice.id, id1), KUNCI_OK);
    assert_int_equal(check(f, "alice@example.org", pw1, KUNCI_PROTO_IMAP), KUNCI_AUTH_WRONG_SECRET);
    assert_int_equal(check(f, "alice@example.org", pw2, KUNCI_PROTO_IMAP), KUNCI_AUTH_ALLOWED);
}

static void test_scope_expiry_networks(void **state)
{
    struct fixture *f = *state;
    char smtp_only[65], expiring[65], office[65];

    set_mfa(f, &f->alice, KUNCI_MFA_ENABLED);
    make_app_password(f, &f->alice, "printer", KUNCI_PROTO_SMTP, 0, NULL, smtp_only);
    make_app_password(f, &f->alice, "trial", 0, NOW + 100, NULL, expiring);
    make_app_password(f, &f->alice, "office", 0, 0, "10.0.0.0/8, 2001:db8::/32", office);

    assert_int_equal(check(f, "alice@example.org", smtp_only, KUNCI_PROTO_SMTP),
                     KUNCI_AUTH_ALLOWED);
    assert_int_equal(check(f, "alice@example.org", smtp_only, KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_PROTOCOL_NOT_ALLOWED);
    assert_int_equal(
        check_at(f, "alice@example.org", expiring, KUNCI_PROTO_IMAP, NULL, NOW + 99, NULL),
        KUNCI_AUTH_ALLOWED);
    assert_int_equal(
        check_at(f, "alice@example.org", expiring, KUNCI_PROTO_IMAP, NULL, NOW + 100, NULL),
        KUNCI_AUTH_EXPIRED);
    assert_int_equal(
        check_at(f, "alice@example.org", office, KUNCI_PROTO_IMAP, "10.9.8.7", NOW, NULL),
        KUNCI_AUTH_ALLOWED);
    assert_int_equal(
        check_at(f, "alice@example.org", office, KUNCI_PROTO_IMAP, "2001:db8::9", NOW, NULL),
        KUNCI_AUTH_ALLOWED);
    assert_int_equal(
        check_at(f, "alice@example.org", office, KUNCI_PROTO_IMAP, "192.0.2.1", NOW, NULL),
        KUNCI_AUTH_NETWORK_NOT_ALLOWED);
    assert_int_equal(check_at(f, "alice@example.org", office, KUNCI_PROTO_IMAP, NULL, NOW, NULL),
                     KUNCI_AUTH_NETWORK_NOT_ALLOWED);
}

static void test_disabled_and_unknown(void **state)
{
    struct fixture *f = *state;
    char pw[65];

    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    make_app_password(f, &f->alice, "Outlook", 0, 0, NULL, pw);
    f->alice.enabled = false;
    assert_int_equal(kunci_account_save(&f->t.h, &f->alice), KUNCI_OK);
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_DISABLED);
    /* The state is only told to someone who knows the password. */
    assert_int_equal(check(f, "alice@example.org", "not-her-password", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_WRONG_SECRET);
    set_mfa(f, &f->alice, KUNCI_MFA_DISABLED);
    assert_int_equal(check(f, "alice@example.org", "alice-primary-pw", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_DISABLED);
    assert_int_equal(check(f, "nobody@example.org", "alice-primary-pw", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_UNKNOWN_USER);
    assert_int_equal(check(f, "not a login", "x", KUNCI_PROTO_IMAP), KUNCI_AUTH_UNKNOWN_USER);
}

static void test_creation_policy(void **state)
{
    struct fixture *f = *state;
    struct kunci_app_password_spec spec = {"Mail", 0, 0, NULL};
    char pw[65];

    /* MFA not required: the seed's "options won't be available". */
    assert_int_equal(
        kunci_app_password_create(&f->t.ctx, &f->t.h, &f->alice, &spec, NOW, pw, sizeof(pw), NULL),
        KUNCI_ERR_MFA_NOT_REQUIRED);
    set_mfa(f, &f->alice, KUNCI_MFA_ENABLED);
    assert_int_equal(kunci_store_setting_set(&f->t.h, "app_passwords_allowed", "false"), KUNCI_OK);
    assert_int_equal(
        kunci_app_password_create(&f->t.ctx, &f->t.h, &f->alice, &spec, NOW, pw, sizeof(pw), NULL),
        KUNCI_ERR_APP_PASSWORDS_OFF);
    assert_int_equal(kunci_store_setting_set(&f->t.h, "app_passwords_allowed", "true"), KUNCI_OK);
    assert_int_equal(kunci_store_setting_set(&f->t.h, "app_passwords_max", "3"), KUNCI_OK);
    assert_int_equal(kunci_store_setting_set(&f->t.h, "app_password_length", "32"), KUNCI_OK);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(kunci_app_password_create(&f->t.ctx, &f->t.h, &f->alice, &spec, NOW, pw,
                                                   sizeof(pw), NULL),
                         KUNCI_OK);
        assert_int_equal(strlen(pw), 32);
    }
    assert_int_equal(
        kunci_app_password_create(&f->t.ctx, &f->t.h, &f->alice, &spec, NOW, pw, sizeof(pw), NULL),
        KUNCI_ERR_LIMIT);
    spec.name = "";
    assert_int_equal(
        kunci_app_password_create(&f->t.ctx, &f->t.h, &f->bob, &spec, NOW, pw, sizeof(pw), NULL),
        KUNCI_ERR_MFA_NOT_REQUIRED);
}

/* Existing app passwords stop working when MFA is no longer required or the organization
 * turns them off. */
static void test_app_passwords_follow_policy(void **state)
{
    struct fixture *f = *state;
    char pw[65];

    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    make_app_password(f, &f->alice, "Outlook", 0, 0, NULL, pw);
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_ALLOWED);
    set_setting(f, "app_passwords_allowed", "false");
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_WRONG_SECRET);
    set_setting(f, "app_passwords_allowed", "true");
    set_mfa(f, &f->alice, KUNCI_MFA_DISABLED);
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_WRONG_SECRET);
    set_mfa(f, &f->alice, KUNCI_MFA_ENABLED);
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_ALLOWED);
}

struct last_use {
    int64_t at;
    char ip[64], protocol[8];
};

static int read_last_use(void *arg, const struct kunci_app_password *ap)
{
    struct last_use *u = arg;
    u->at = ap->last_used_at;
    snprintf(u->ip, sizeof(u->ip), "%s", ap->last_used_ip);
    snprintf(u->protocol, sizeof(u->protocol), "%s", ap->last_used_protocol);
    return 0;
}

static void test_last_use_at_most_once_a_minute(void **state)
{
    struct fixture *f = *state;
    struct last_use u = {0};
    char pw[65];

    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    make_app_password(f, &f->alice, "Outlook", 0, 0, NULL, pw);
    assert_int_equal(kunci_store_app_password_list(&f->t.h, f->alice.id, read_last_use, &u),
                     KUNCI_OK);
    assert_int_equal(u.at, 0);
    assert_int_equal(
        check_at(f, "alice@example.org", pw, KUNCI_PROTO_IMAP, "198.51.100.7", NOW, NULL),
        KUNCI_AUTH_ALLOWED);
    assert_int_equal(kunci_store_app_password_list(&f->t.h, f->alice.id, read_last_use, &u),
                     KUNCI_OK);
    assert_int_equal(u.at, NOW);
    assert_string_equal(u.ip, "198.51.100.7");
    assert_string_equal(u.protocol, "imap");
    assert_int_equal(
        check_at(f, "alice@example.org", pw, KUNCI_PROTO_SMTP, "198.51.100.8", NOW + 59, NULL),
        KUNCI_AUTH_ALLOWED); /* allowed, and not written again within the minute */
    assert_int_equal(kunci_store_app_password_list(&f->t.h, f->alice.id, read_last_use, &u),
                     KUNCI_OK);
    assert_int_equal(u.at, NOW);
    assert_string_equal(u.protocol, "imap");
    assert_int_equal(
        check_at(f, "alice@example.org", pw, KUNCI_PROTO_SMTP, "198.51.100.8", NOW + 60, NULL),
        KUNCI_AUTH_ALLOWED);
    assert_int_equal(kunci_store_app_password_list(&f->t.h, f->alice.id, read_last_use, &u),
                     KUNCI_OK);
    assert_int_equal(u.at, NOW + 60);
    assert_string_equal(u.protocol, "smtp");
}

static void test_rehash_on_new_parameters(void **state)
{
    struct fixture *f = *state;
    struct kunci_account a;

    f->t.ctx.pwparams.opslimit = 2; /* an operator raised argon2_iterations */
    assert_int_equal(check(f, "bob@example.org", "bob-primary-pw", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_ALLOWED);
    assert_int_equal(kunci_account_get(&f->t.h, "bob@example.org", &a), KUNCI_OK);
    assert_non_null(strstr(a.password_hash, ",t=2,"));
    assert_false(kunci_password_needs_rehash(a.password_hash, &f->t.ctx.pwparams));
    assert_int_equal(check(f, "bob@example.org", "bob-primary-pw", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_ALLOWED);
}

static void test_password_change_revocation_setting(void **state)
{
    struct fixture *f = *state;
    char pw[65];
    bool revoked;

    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    make_app_password(f, &f->alice, "Outlook", 0, 0, NULL, pw);
    assert_int_equal(kunci_account_set_password(&f->t.ctx, &f->t.h, &f->alice, "new-password-1", 14,
                                                NOW, 0, &revoked),
                     KUNCI_OK);
    assert_false(revoked);
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_ALLOWED);
    set_setting(f, "app_passwords_revoke_on_password_change", "true");
    assert_int_equal(kunci_account_set_password(&f->t.ctx, &f->t.h, &f->alice, "new-password-2", 14,
                                                NOW, 0, &revoked),
                     KUNCI_OK);
    assert_true(revoked);
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_WRONG_SECRET);
}

/* Distinct wrong passwords lock the password, an identical one counts once, app passwords
 * go on, unknown logins lock the same way, and the lock ends by itself. */
static void test_lockout(void **state)
{
    struct fixture *f = *state;
    char pw[65], wrong[32];

    assert_int_equal(kunci_store_setting_set(&f->t.h, "lockout_threshold", "5"), KUNCI_OK);
    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    make_app_password(f, &f->alice, "phone", 0, 0, NULL, pw);
    for (int i = 0; i < 20; i++) /* a client retrying its stale password */
        assert_int_equal(check(f, "alice@example.org", "stale-password-1", KUNCI_PROTO_IMAP),
                         KUNCI_AUTH_WRONG_SECRET);
    assert_int_equal(check(f, "alice@example.org", "alice-primary-pw", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_MFA_REQUIRED); /* right, so not locked; and failures cleared */
    for (int i = 0; i < 5; i++) {
        snprintf(wrong, sizeof(wrong), "guess-number-%d", i);
        assert_int_equal(check(f, "alice@example.org", wrong, KUNCI_PROTO_IMAP),
                         KUNCI_AUTH_WRONG_SECRET);
    }
    assert_int_equal(check(f, "alice@example.org", "alice-primary-pw", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_LOCKED);
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_ALLOWED);
    assert_int_equal(check_at(f, "alice@example.org", "alice-primary-pw", KUNCI_PROTO_IMAP, NULL,
                              NOW + 15 * 60 + 1, NULL),
                     KUNCI_AUTH_MFA_REQUIRED);
    for (int i = 0; i < 5; i++) {
        snprintf(wrong, sizeof(wrong), "guess-number-%d", i);
        assert_int_equal(check(f, "ghost@example.org", wrong, KUNCI_PROTO_IMAP),
                         KUNCI_AUTH_UNKNOWN_USER);
    }
    assert_int_equal(check(f, "ghost@example.org", "anything-1", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_LOCKED);
    /* 0 turns the lockout off. */
    assert_int_equal(kunci_store_setting_set(&f->t.h, "lockout_threshold", "0"), KUNCI_OK);
    assert_int_equal(check(f, "ghost@example.org", "anything-1", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_UNKNOWN_USER);
}

/* A scope the store cannot read (a damaged row) refuses every protocol: fail closed. */
static void test_unreadable_scope_refuses(void **state)
{
    struct fixture *f = *state;
    char pw[65], sql[128];

    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    int64_t id = make_app_password(f, &f->alice, "Outlook", KUNCI_PROTO_IMAP, 0, NULL, pw);
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_ALLOWED);
    snprintf(sql, sizeof(sql), "UPDATE app_passwords SET protocols = 'imap,gopher' WHERE id = %lld",
             (long long)id);
    test_store_sql(&f->t, sql);
    for (unsigned p = KUNCI_PROTO_IMAP; p <= KUNCI_PROTO_EWS; p <<= 1)
        assert_int_equal(check(f, "alice@example.org", pw, p), KUNCI_AUTH_PROTOCOL_NOT_ALLOWED);
}

/* A lockout that cannot count is not a lockout: when failures cannot be recorded, primary
 * passwords are "try again later", the right one included; app passwords go on. */
static void test_a_guard_that_cannot_count_refuses(void **state)
{
    struct fixture *f = *state;
    char pw[65], wrong[32];

    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    make_app_password(f, &f->alice, "Outlook", 0, 0, NULL, pw);
    test_store_sql(&f->t, "DROP TABLE lockouts");
    for (int i = 0; i < 12; i++) {
        snprintf(wrong, sizeof(wrong), "guess-number-%d", i);
        assert_int_equal(check(f, "bob@example.org", wrong, KUNCI_PROTO_IMAP), KUNCI_AUTH_TEMPFAIL);
    }
    assert_int_equal(check(f, "bob@example.org", "bob-primary-pw", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_TEMPFAIL);
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_ALLOWED);
}

/* Ids are never used twice: a stale "delete ID" cannot hit a newer app password. */
static void test_app_password_ids_are_never_reused(void **state)
{
    struct fixture *f = *state;
    char pw[65];

    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    make_app_password(f, &f->alice, "first", 0, 0, NULL, pw);
    int64_t newest = make_app_password(f, &f->alice, "second", 0, 0, NULL, pw);
    assert_int_equal(kunci_store_app_password_delete(&f->t.h, f->alice.id, newest), KUNCI_OK);
    int64_t next = make_app_password(f, &f->alice, "third", 0, 0, NULL, pw);
    assert_true(next > newest);
    assert_int_equal(kunci_store_app_password_delete(&f->t.h, f->alice.id, newest),
                     KUNCI_ERR_NOT_FOUND);
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_ALLOWED);
}

/* Consecutive failures add up across locks, each lock twice as long, until the hard limit;
 * a success resets the count; a repeated secret counts once. */
static void test_consecutive_failures_and_the_hard_lock(void **state)
{
    struct fixture *f = *state;
    struct kunci_auth_outcome out;
    char wrong[32];
    int64_t t = NOW;

    set_setting(f, "lockout_threshold", "3");
    set_setting(f, "lockout_minutes", "1");
    set_setting(f, "lockout_hard_limit", "9");
    int n = 0;
    for (int lock = 1; lock <= 2; lock++) {
        for (int i = 0; i < 3; i++, n++) {
            snprintf(wrong, sizeof(wrong), "guess-%d", n);
            assert_int_equal(check_at(f, "bob@example.org", wrong, KUNCI_PROTO_IMAP, NULL, t, NULL),
                             KUNCI_AUTH_WRONG_SECRET);
        }
        assert_int_equal(
            check_at(f, "bob@example.org", "bob-primary-pw", KUNCI_PROTO_IMAP, NULL, t, &out),
            KUNCI_AUTH_LOCKED);
        assert_int_equal(out.retry_after, 60 << (lock - 1)); /* 1 minute, then 2 */
        t += out.retry_after;
    }
    /* A stale secret tried again counts once, even across locks. */
    assert_int_equal(check_at(f, "bob@example.org", "guess-0", KUNCI_PROTO_IMAP, NULL, t, NULL),
                     KUNCI_AUTH_WRONG_SECRET);
    for (int i = 0; i < 3; i++, n++) {
        snprintf(wrong, sizeof(wrong), "guess-%d", n);
        assert_int_equal(check_at(f, "bob@example.org", wrong, KUNCI_PROTO_IMAP, NULL, t, NULL),
                         KUNCI_AUTH_WRONG_SECRET);
    }
    /* The ninth: locked until an administrator clears it, a week later too. */
    assert_int_equal(check_at(f, "bob@example.org", "bob-primary-pw", KUNCI_PROTO_IMAP, NULL,
                              t + 7 * 86400, &out),
                     KUNCI_AUTH_LOCKED);
    assert_int_equal(out.retry_after, 0);
    int cleared = 0;
    assert_int_equal(kunci_guard_clear(&f->t.ctx, &f->t.h, "Bob@Example.org", &cleared), KUNCI_OK);
    assert_true(cleared >= 1);
    assert_int_equal(
        check_at(f, "bob@example.org", "bob-primary-pw", KUNCI_PROTO_IMAP, NULL, t, NULL),
        KUNCI_AUTH_ALLOWED);
    /* A success reset the count: three more wrong ones before the next lock. */
    for (int i = 0; i < 2; i++) {
        snprintf(wrong, sizeof(wrong), "later-%d", i);
        assert_int_equal(check_at(f, "bob@example.org", wrong, KUNCI_PROTO_IMAP, NULL, t, NULL),
                         KUNCI_AUTH_WRONG_SECRET);
    }
    assert_int_equal(
        check_at(f, "bob@example.org", "bob-primary-pw", KUNCI_PROTO_IMAP, NULL, t, NULL),
        KUNCI_AUTH_ALLOWED);
}

/* An address: its threshold of failures, then blocked, the same for known and unknown
 * logins; a login that signed in from there lately is not blocked there. */
static void test_failures_per_address(void **state)
{
    struct fixture *f = *state;
    struct kunci_auth_outcome out;
    char login[64];
    const char *office = "198.51.100.9";

    set_setting(f, "address_threshold", "4");
    set_setting(f, "address_minutes", "60");
    assert_int_equal(
        check_at(f, "bob@example.org", "bob-primary-pw", KUNCI_PROTO_IMAP, office, NOW, NULL),
        KUNCI_AUTH_ALLOWED);
    for (int i = 0; i < 4; i++) {
        snprintf(login, sizeof(login), "sprayed%d@example.org", i);
        assert_int_equal(check_at(f, login, "Summer-2026!", KUNCI_PROTO_IMAP, office, NOW, NULL),
                         KUNCI_AUTH_UNKNOWN_USER);
    }
    assert_int_equal(
        check_at(f, "alice@example.org", "alice-primary-pw", KUNCI_PROTO_IMAP, office, NOW, &out),
        KUNCI_AUTH_THROTTLED);
    assert_int_equal(out.retry_after, 15 * 60); /* one failure over: 60 min / 4 */
    assert_int_equal(check_at(f, "nobody@example.org", "x", KUNCI_PROTO_IMAP, office, NOW, NULL),
                     KUNCI_AUTH_THROTTLED);
    assert_int_equal(
        check_at(f, "bob@example.org", "bob-primary-pw", KUNCI_PROTO_IMAP, office, NOW, NULL),
        KUNCI_AUTH_ALLOWED);
    assert_int_equal(check_at(f, "alice@example.org", "alice-primary-pw", KUNCI_PROTO_IMAP,
                              "192.0.2.77", NOW, NULL),
                     KUNCI_AUTH_ALLOWED);
    /* The count decays: a period later the address is free again. */
    assert_int_equal(check_at(f, "alice@example.org", "alice-primary-pw", KUNCI_PROTO_IMAP, office,
                              NOW + 3600, NULL),
                     KUNCI_AUTH_ALLOWED);
}

static void test_lock_arithmetic(void **state)
{
    char key[KUNCI_ADDRESS_KEY_MAX];
    (void)state;
    assert_int_equal(kunci_lock_until(9, 10, 900, 100, NOW, 0), 0);
    assert_int_equal(kunci_lock_until(10, 10, 900, 100, NOW, 0), NOW + 900);
    assert_int_equal(kunci_lock_until(20, 10, 900, 100, NOW, 0), NOW + 1800);
    assert_int_equal(kunci_lock_until(30, 10, 900, 100, NOW, 0), NOW + 3600);
    assert_int_equal(kunci_lock_until(90, 10, 900, 100, NOW, 0), NOW + 86400); /* at most a day */
    assert_int_equal(kunci_lock_until(100, 10, 900, 100, NOW, 0), KUNCI_LOCKED_UNTIL_CLEARED);
    assert_int_equal(kunci_lock_until(11, 10, 900, 100, NOW, 123), 123);
    assert_int_equal(kunci_address_level(20, 0, 20, 3600), 20);
    assert_int_equal(kunci_address_level(20, 180, 20, 3600), 19);
    assert_int_equal(kunci_address_level(20, 7200, 20, 3600), 0);
    assert_int_equal(kunci_address_key("203.0.113.9", key, sizeof(key)), KUNCI_OK);
    assert_string_equal(key, "203.0.113.9");
    assert_int_equal(kunci_address_key("2001:db8:1:2:3:4:5:6", key, sizeof(key)), KUNCI_OK);
    assert_string_equal(key, "2001:db8:1:2::/64");
    assert_int_equal(kunci_address_key("::ffff:192.0.2.1", key, sizeof(key)), KUNCI_OK);
    assert_string_equal(key, "192.0.2.1");
    assert_int_equal(kunci_address_key("not an address", key, sizeof(key)), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_address_key("uid:1000", key, sizeof(key)), KUNCI_OK);
    assert_string_equal(key, "uid:1000");
    assert_int_equal(kunci_address_key("uid:", key, sizeof(key)), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_address_key("uid:12x", key, sizeof(key)), KUNCI_ERR_INVALID);
}

/* The database file gone: "try again later", never "wrong password", never "OK"; and
 * back to normal when it returns. */
static void test_database_outage_is_temporary(void **state)
{
    struct fixture *f = *state;
    char pw[65], away[PATH_MAX + 8];

    if (!test_store_is_sqlite(&f->t))
        skip(); /* the integration tests stop the PostgreSQL server instead */
    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    make_app_password(f, &f->alice, "Outlook", 0, 0, NULL, pw);
    snprintf(away, sizeof(away), "%s.away", f->t.cfg.store_location);
    assert_int_equal(rename(f->t.cfg.store_location, away), 0);
    /* Heard (inotify) as soon as the driver's watching thread has run, microseconds after the
     * rename; until then the old file, which held the data until that moment, may answer. */
    enum kunci_auth_result r;
    for (int i = 0;
         (r = check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP)) != KUNCI_AUTH_TEMPFAIL; i++) {
        assert_int_equal(r, KUNCI_AUTH_ALLOWED);
        assert_true(i < 2000); /* 2 s: far past the thread's wake-up */
        usleep(1000);
    }
    assert_int_equal(check(f, "alice@example.org", "alice-primary-pw", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_TEMPFAIL);
    assert_int_equal(check(f, "nobody@example.org", "whatever-pw", KUNCI_PROTO_IMAP),
                     KUNCI_AUTH_TEMPFAIL);
    assert_int_equal(rename(away, f->t.cfg.store_location), 0);
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), KUNCI_AUTH_ALLOWED);
}

/* The lookups are cached (lookup_cache.h), and every change made behind the handle's back,
 * by another connection as another process or node would, is seen by the very next check. */
static void cached_check(struct fixture *f, const char *pw, enum kunci_auth_result want)
{
    assert_int_equal(check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP), want);
}

static void behind_its_back(struct fixture *f, const char *sql)
{
    test_store_sql(&f->t, sql);
}

static void alice_set(struct fixture *f, const char *assignment)
{
    char sql[160];
    snprintf(sql, sizeof(sql), "UPDATE accounts SET %s WHERE id = %lld", assignment,
             (long long)f->alice.id);
    behind_its_back(f, sql);
}

/* The first check after a change. SQLite's WAL index is shared memory: the very next check
 * sees the commit. PostgreSQL announces it to each process's listener (NOTIFY), a fraction
 * of a millisecond after the commit (BENCHMARKS.md has the measured bound): the checks go on
 * until the answer changes, at most 2 s, so a change never announced still fails. */
static void seen(struct fixture *f, const char *pw, enum kunci_auth_result want)
{
    enum kunci_auth_result r = check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP);
    for (int i = 0; r != want && !test_store_is_sqlite(&f->t) && i < 2000; i++) {
        usleep(1000);
        r = check(f, "alice@example.org", pw, KUNCI_PROTO_IMAP);
    }
    assert_int_equal(r, want);
}

/* Checks until one is answered from the cache: on PostgreSQL, once the change listener
 * vouches and the announcements of earlier changes are in (at most 3 s). */
static void until_cached(struct fixture *f, const char *pw)
{
    uint64_t hits, misses, before;

    kunci_store_cache_counts(&f->t.h, &before, &misses);
    for (int i = 0; i < 300; i++) {
        cached_check(f, pw, KUNCI_AUTH_ALLOWED);
        kunci_store_cache_counts(&f->t.h, &hits, &misses);
        if (hits > before)
            return;
        usleep(10 * 1000);
    }
    fail_msg("no check was answered from the cache");
}

static void test_cache_sees_every_change_at_once(void **state)
{
    struct fixture *f = *state;
    char pw[65], sql[160];

    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    int64_t id = make_app_password(f, &f->alice, "Outlook", 0, 0, NULL, pw);
    until_cached(f, pw);

    alice_set(f, "enabled = 0");
    seen(f, pw, KUNCI_AUTH_DISABLED);
    alice_set(f, "enabled = 1");
    seen(f, pw, KUNCI_AUTH_ALLOWED);
    cached_check(f, pw, KUNCI_AUTH_ALLOWED);

    alice_set(f, "mfa_state = 'disabled'");
    seen(f, pw, KUNCI_AUTH_WRONG_SECRET);
    alice_set(f, "mfa_state = 'enforced'");
    seen(f, pw, KUNCI_AUTH_ALLOWED);

    behind_its_back(f, "INSERT INTO settings (key, value) VALUES ('app_passwords_allowed', "
                       "'false')");
    seen(f, pw, KUNCI_AUTH_WRONG_SECRET);
    behind_its_back(f, "DELETE FROM settings WHERE key = 'app_passwords_allowed'");
    seen(f, pw, KUNCI_AUTH_ALLOWED);

    snprintf(sql, sizeof(sql), "UPDATE app_passwords SET protocols = 'smtp' WHERE id = %lld",
             (long long)id);
    behind_its_back(f, sql);
    seen(f, pw, KUNCI_AUTH_PROTOCOL_NOT_ALLOWED);
    /* Expiry is a matter of time, not of a change: the cached row carries it. */
    snprintf(sql, sizeof(sql),
             "UPDATE app_passwords SET protocols = '', expires_at = %lld WHERE id = %lld",
             (long long)NOW + 60, (long long)id);
    behind_its_back(f, sql);
    seen(f, pw, KUNCI_AUTH_ALLOWED);
    assert_int_equal(
        check_at(f, "alice@example.org", pw, KUNCI_PROTO_IMAP, "192.0.2.10", NOW + 60, NULL),
        KUNCI_AUTH_EXPIRED);

    until_cached(f, pw); /* so the delete below must empty the cache */
    snprintf(sql, sizeof(sql), "DELETE FROM app_passwords WHERE id = %lld", (long long)id);
    behind_its_back(f, sql);
    seen(f, pw, KUNCI_AUTH_WRONG_SECRET);
}

/* A change made through another handle of this process (the web's, which keeps no cache) is
 * refused by the very next check on both stores: the node that deleted an app password does
 * not wait for the database to announce it. */
static void test_cache_sees_this_process_at_once(void **state)
{
    struct fixture *f = *state;
    struct kunci_store_handle web;
    char pw[65];

    assert_int_equal(kunci_store_open_config(&f->t.cfg, 0, &web), KUNCI_OK);
    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    for (int round = 0; round < 3; round++) {
        int64_t id = make_app_password(f, &f->alice, "Outlook", 0, 0, NULL, pw);
        until_cached(f, pw);

        f->alice.enabled = false;
        assert_int_equal(kunci_store_account_update(&web, &f->alice, 0, 0), KUNCI_OK);
        cached_check(f, pw, KUNCI_AUTH_DISABLED);
        f->alice.enabled = true;
        assert_int_equal(kunci_store_account_update(&web, &f->alice, 0, 0), KUNCI_OK);
        cached_check(f, pw, KUNCI_AUTH_ALLOWED);
        assert_int_equal(kunci_store_setting_set(&web, "app_passwords_allowed", "false"), KUNCI_OK);
        cached_check(f, pw, KUNCI_AUTH_WRONG_SECRET);
        assert_int_equal(kunci_store_setting_set(&web, "app_passwords_allowed", "true"), KUNCI_OK);
        cached_check(f, pw, KUNCI_AUTH_ALLOWED);
        cached_check(f, pw, KUNCI_AUTH_ALLOWED);
        assert_int_equal(kunci_store_app_password_delete(&web, f->alice.id, id), KUNCI_OK);
        cached_check(f, pw, KUNCI_AUTH_WRONG_SECRET);
    }
    kunci_store_close(&web);
}

/* Commits that change nothing a lookup reads (a last use, a last web sign-in, a session)
 * leave every cached row in place: the next check is answered from the cache. */
static void test_cache_outlives_unrelated_commits(void **state)
{
    struct fixture *f = *state;
    char pw[65];
    uint64_t hits, misses, hits_before, misses_before;

    set_mfa(f, &f->alice, KUNCI_MFA_ENFORCED);
    int64_t id = make_app_password(f, &f->alice, "Outlook", 0, 0, NULL, pw);
    until_cached(f, pw);
    if (!test_store_is_sqlite(&f->t)) /* an announcement of the set-up still on its way */
        usleep(200 * 1000);
    until_cached(f, pw);

    char unrelated[3][200];
    snprintf(unrelated[0], sizeof(unrelated[0]),
             "UPDATE app_passwords SET last_used_at = 7, last_used_ip = '192.0.2.7', "
             "last_used_protocol = 'imap' WHERE id = %lld",
             (long long)id);
    snprintf(unrelated[1], sizeof(unrelated[1]),
             "UPDATE accounts SET last_sign_in_at = 7 WHERE id = %lld", (long long)f->alice.id);
    snprintf(unrelated[2], sizeof(unrelated[2]), "UPDATE heartbeat SET at = at + 1");
    for (size_t i = 0; i < sizeof(unrelated) / sizeof(unrelated[0]); i++) {
        kunci_store_cache_counts(&f->t.h, &hits_before, &misses_before);
        behind_its_back(f, unrelated[i]);
        cached_check(f, pw, KUNCI_AUTH_ALLOWED);
        kunci_store_cache_counts(&f->t.h, &hits, &misses);
        assert_int_equal(misses, misses_before);
        assert_int_equal(hits, hits_before + 1);
    }
    /* And one that does still counts. */
    alice_set(f, "enabled = 0");
    seen(f, pw, KUNCI_AUTH_DISABLED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mfa_states_and_primary_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_passwords_under_enforced_mfa, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scope_expiry_networks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disabled_and_unknown, setup, teardown),
        cmocka_unit_test_setup_teardown(test_creation_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_passwords_follow_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_last_use_at_most_once_a_minute, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rehash_on_new_parameters, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_change_revocation_setting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unreadable_scope_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_guard_that_cannot_count_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_app_password_ids_are_never_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consecutive_failures_and_the_hard_lock, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_failures_per_address, setup, teardown),
        cmocka_unit_test(test_lock_arithmetic),
        cmocka_unit_test_setup_teardown(test_database_outage_is_temporary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_sees_every_change_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_sees_this_process_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cache_outlives_unrelated_commits, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
