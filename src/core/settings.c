#include "core/settings.h"
#include "core/err.h"
#include "core/login.h"
#include "core/netmask.h"
#include "core/secret.h"
#include "core/store.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define B(group, key, def, desc)                                                                   \
    {                                                                                              \
#key, KUNCI_SETTING_BOOL, def, 0, 0, desc, offsetof(struct kunci_settings, key), group     \
    }
#define I(group, key, def, lo, hi, desc)                                                           \
    {                                                                                              \
#key, KUNCI_SETTING_INT, def, lo, hi, desc, offsetof(struct kunci_settings, key), group    \
    }

const struct kunci_setting_def kunci_setting_defs[] = {
    B("app_passwords", app_passwords_allowed, "true",
      "users whose MFA is required may create and use app passwords"),
    I("app_passwords", app_passwords_max, "40", 1, 1000, "app passwords per user"),
    I("app_passwords", app_password_length, "24", KUNCI_APP_PASSWORD_MIN_LEN,
      KUNCI_APP_PASSWORD_MAX_LEN, "letters in a new app password"),
    B("app_passwords", app_passwords_revoke_on_password_change, "false",
      "changing a user's password deletes their app passwords"),
    B("verification", mfa_totp_allowed, "true", "the authenticator app method"),
    B("verification", mfa_phone_allowed, "true", "codes by text message or call"),
    B("verification", mfa_email_allowed, "true", "codes to an alternate e-mail"),
    B("verification", mfa_webauthn_allowed, "true",
      "passkeys and security keys (WebAuthn), offered first where the browser supports them"),
    {"mfa_phishing_resistant_required", KUNCI_SETTING_USERS, "none", 0, 0,
     "who may prove the second factor on the web only with a passkey or security key: none, "
     "admins, everyone, or logins (comma-separated); app passwords are not affected",
     0, "verification"},
    I("remember", remember_device_days, "14", 1, 365,
      "days a browser may skip the second factor after \"don't ask again\""),
    {"trusted_networks", KUNCI_SETTING_NETWORKS, "", 0, KUNCI_TRUSTED_NETWORKS_MAX,
     "up to 50 address ranges (CIDR, comma-separated): browser sign-ins from them skip the "
     "second factor, and mail apps from them may use the account password while the user has "
     "no app password",
     0, "trusted_networks"},
    B("reset", password_reset_allowed, "false",
      "users may reset a forgotten password themselves with a code to their phone or "
      "alternate e-mail (and their second method, if they have another)"),
    I("setup", mfa_setup_grace_days, "0", 0, 90,
      "days a user may answer \"Not now\" to \"More information required\", counted from the "
      "first time (0: set-up at once)"),
    I("lockouts", lockout_threshold, "10", 0, 1000,
      "consecutive distinct wrong passwords that lock a login's password (0: never); app "
      "passwords go on"),
    I("lockouts", lockout_minutes, "15", 1, 1440,
      "how long the first lock lasts; each further lock lasts twice as long (at most a day)"),
    I("lockouts", lockout_hard_limit, "100", 1, 100,
      "consecutive wrong passwords or codes after which only an administrator unlocks"),
    I("lockouts", mfa_lockout_threshold, "10", 1, 100,
      "consecutive wrong second-factor codes that lock an account's codes"),
    I("lockouts", mfa_lockout_minutes, "5", 1, 1440,
      "how long the first lock of codes lasts; each further one twice as long"),
    I("lockouts", address_threshold, "20", 0, 100000,
      "distinct wrong passwords one client address may make per address_minutes before it is "
      "slowed down (0: never)"),
    I("lockouts", address_minutes, "60", 1, 1440,
      "the period of address_threshold, and the longest wait an address is given"),
    I("codes", codes_per_15_minutes, "5", 1, 100,
      "codes sent per account, and per phone or address"),
    I("codes", codes_per_day, "20", 1, 1000,
      "codes sent per day, per account and per phone or address"),
    I("codes", code_resend_seconds, "60", 0, 3600, "seconds before another code to the same place"),
    I("codes", code_destinations_per_day, "3", 1, 100,
      "new phones or addresses an account may send codes to per day while registering"),
    I("activity", activity_days, "30", 0, 3650,
      "days sign-ins, mail logins and changes are kept in the activity record (0: none kept)"),
};
const size_t kunci_setting_count = sizeof(kunci_setting_defs) / sizeof(kunci_setting_defs[0]);

const struct kunci_setting_def *kunci_setting_find(const char *key)
{
    for (size_t i = 0; i < kunci_setting_count; i++)
        if (strcmp(kunci_setting_defs[i].key, key) == 0)
            return &kunci_setting_defs[i];
    return NULL;
}

static int parse_bool(const char *v, bool *b_r)
{
    static const char *const yes[] = {"true", "on", "yes", "1"};
    static const char *const no[] = {"false", "off", "no", "0"};

    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *b_r = true;
            return KUNCI_OK;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *b_r = false;
            return KUNCI_OK;
        }
    }
    return KUNCI_ERR_INVALID;
}

static int parse_long(const char *v, long *l_r)
{
    char *end;

    errno = 0;
    if (*v == '\0')
        return KUNCI_ERR_INVALID;
    long l = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0')
        return KUNCI_ERR_INVALID;
    *l_r = l;
    return KUNCI_OK;
}

/* "none", "admins", "everyone", or canonical logins joined by commas. */
static int users_canonical(const char *value, char out[KUNCI_SETTING_VALUE_MAX])
{
    static const char *const words[] = {"none", "admins", "everyone"};
    size_t used = 0;
    bool b;

    while (*value == ' ')
        value++;
    /* Said as a switch: on for everyone, off for no one. */
    if (parse_bool(value, &b) == KUNCI_OK) {
        snprintf(out, KUNCI_SETTING_VALUE_MAX, "%s", b ? "everyone" : "none");
        return KUNCI_OK;
    }
    for (size_t i = 0; i < 3; i++)
        if (strcasecmp(value, words[i]) == 0 || (i == 0 && *value == '\0')) {
            snprintf(out, KUNCI_SETTING_VALUE_MAX, "%s", words[i]);
            return KUNCI_OK;
        }
    out[0] = '\0';
    for (const char *p = value; *p != '\0';) {
        size_t n = strcspn(p, ", ");
        if (n > 0) {
            char login[KUNCI_LOGIN_MAX + 1];
            if (kunci_login_canonical(p, n, login) != KUNCI_OK)
                return KUNCI_ERR_INVALID;
            size_t len = strlen(login);
            if (used + len + 2 > KUNCI_SETTING_VALUE_MAX)
                return KUNCI_ERR_TOO_LONG;
            if (used > 0)
                out[used++] = ',';
            memcpy(out + used, login, len + 1);
            used += len;
        }
        p += n;
        p += strspn(p, ", ");
    }
    return used > 0 ? KUNCI_OK : KUNCI_ERR_INVALID;
}

int kunci_setting_canonical(const struct kunci_setting_def *def, const char *value,
                            char out[KUNCI_SETTING_VALUE_MAX])
{
    bool b;
    long l;

    if (def->type == KUNCI_SETTING_NETWORKS) {
        if (kunci_networks_canonical(value, out, KUNCI_SETTING_VALUE_MAX) != KUNCI_OK)
            return KUNCI_ERR_INVALID;
        size_t n = out[0] != '\0';
        for (const char *p = out; *p != '\0'; p++)
            n += *p == ',';
        return n <= KUNCI_TRUSTED_NETWORKS_MAX ? KUNCI_OK : KUNCI_ERR_TOO_LONG;
    }
    if (def->type == KUNCI_SETTING_USERS)
        return users_canonical(value, out);
    if (def->type == KUNCI_SETTING_BOOL) {
        if (parse_bool(value, &b) != KUNCI_OK)
            return KUNCI_ERR_INVALID;
        snprintf(out, KUNCI_SETTING_VALUE_MAX, "%s", b ? "true" : "false");
        return KUNCI_OK;
    }
    if (parse_long(value, &l) != KUNCI_OK || l < def->min || l > def->max)
        return KUNCI_ERR_INVALID;
    snprintf(out, KUNCI_SETTING_VALUE_MAX, "%ld", l);
    return KUNCI_OK;
}

/* A value that no longer validates falls back to the default, never to something looser:
 * the default is what an administrator reads in the documentation. Canonical values are
 * read without formatting them again (this runs on every check). */
static void apply_def(struct kunci_settings *s, const struct kunci_setting_def *def,
                      const char *value)
{
    bool b = false;
    long l = 0;

    if (def->type == KUNCI_SETTING_NETWORKS || def->type == KUNCI_SETTING_USERS)
        return; /* read where it is needed: kunci_trusted_networks_load, kunci_policy_names */
    if (def->type == KUNCI_SETTING_BOOL) {
        if (value == NULL || parse_bool(value, &b) != KUNCI_OK)
            parse_bool(def->default_value, &b);
        *(bool *)(void *)((char *)s + def->offset) = b;
    } else {
        if (value == NULL || parse_long(value, &l) != KUNCI_OK || l < def->min || l > def->max)
            parse_long(def->default_value, &l);
        *(int *)(void *)((char *)s + def->offset) = (int)l;
    }
}

void kunci_settings_apply(struct kunci_settings *s, const char *key, const char *value)
{
    const struct kunci_setting_def *def = kunci_setting_find(key);
    if (def != NULL)
        apply_def(s, def, value);
}

void kunci_settings_defaults(struct kunci_settings *s)
{
    for (size_t i = 0; i < kunci_setting_count; i++)
        apply_def(s, &kunci_setting_defs[i], NULL);
}

bool kunci_setting_true(const char *key, const char *value)
{
    struct kunci_settings s;
    const struct kunci_setting_def *def = kunci_setting_find(key);
    if (def == NULL || def->type != KUNCI_SETTING_BOOL)
        return false;
    apply_def(&s, def, value);
    return *(bool *)(void *)((char *)&s + def->offset);
}

static int apply_stored(void *arg, const char *key, const char *value)
{
    kunci_settings_apply(arg, key, value);
    return KUNCI_OK;
}

int kunci_settings_load(struct kunci_store_handle *h, struct kunci_settings *settings_r)
{
    kunci_settings_defaults(settings_r);
    return kunci_store_settings_each(h, apply_stored, settings_r);
}

static int take_networks(void *arg, const char *key, const char *value)
{
    if (strcmp(key, "trusted_networks") == 0 &&
        kunci_setting_canonical(kunci_setting_find(key), value, arg) != KUNCI_OK)
        ((char *)arg)[0] = '\0'; /* unreadable: nothing is trusted */
    return KUNCI_OK;
}

int kunci_trusted_networks_load(struct kunci_store_handle *h, char out[KUNCI_SETTING_VALUE_MAX])
{
    out[0] = '\0';
    int r = kunci_store_settings_each(h, take_networks, out);
    if (r != KUNCI_OK)
        out[0] = '\0';
    return r;
}

struct policy_read {
    const char *key;
    const struct kunci_account *acct;
    bool named;
};

static int take_policy(void *arg, const char *key, const char *value)
{
    struct policy_read *p = arg;
    char canon[KUNCI_SETTING_VALUE_MAX];
    if (strcmp(key, p->key) != 0)
        return KUNCI_OK;
    /* Unreadable: the default ("none"), as for every setting. */
    if (users_canonical(value, canon) != KUNCI_OK || strcmp(canon, "none") == 0)
        return KUNCI_OK;
    if (strcmp(canon, "everyone") == 0)
        p->named = true;
    else if (strcmp(canon, "admins") == 0)
        p->named = p->acct->role == KUNCI_ROLE_ADMIN;
    else {
        size_t n = strlen(p->acct->login);
        for (const char *s = canon; *s != '\0'; s += strcspn(s, ","), s += *s == ',')
            if (strncmp(s, p->acct->login, n) == 0 && (s[n] == ',' || s[n] == '\0'))
                p->named = true;
    }
    return KUNCI_OK;
}

int kunci_policy_names(struct kunci_store_handle *h, const char *key,
                       const struct kunci_account *acct, bool *named_r)
{
    struct policy_read p = {key, acct, false};
    int r = kunci_store_settings_each(h, take_policy, &p);
    *named_r = p.named;
    return r;
}
