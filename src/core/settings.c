#include "core/settings.h"
#include "core/err.h"
#include "core/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct kunci_setting_def kunci_setting_defs[] = {
    {"app_passwords_allowed", KUNCI_SETTING_BOOL, "true", 0, 0,
     "users whose MFA is required may create and use app passwords"},
    {"app_passwords_max", KUNCI_SETTING_INT, "40", 1, 1000, "app passwords per user"},
    {"app_password_length", KUNCI_SETTING_INT, "24", KUNCI_APP_PASSWORD_MIN_LEN,
     KUNCI_APP_PASSWORD_MAX_LEN, "letters in a new app password"},
    {"app_passwords_revoke_on_password_change", KUNCI_SETTING_BOOL, "false", 0, 0,
     "changing a user's password deletes their app passwords"},
    {"remember_device_days", KUNCI_SETTING_INT, "14", 1, 365,
     "days a browser may skip the second factor after \"don't ask again\""},
    {"mfa_totp_allowed", KUNCI_SETTING_BOOL, "true", 0, 0, "the authenticator app method"},
    {"mfa_phone_allowed", KUNCI_SETTING_BOOL, "true", 0, 0, "codes by text message or call"},
    {"mfa_email_allowed", KUNCI_SETTING_BOOL, "true", 0, 0, "codes to an alternate e-mail"},
    {"lockout_threshold", KUNCI_SETTING_INT, "10", 0, 1000,
     "distinct wrong passwords that lock a login's password (0: never); app passwords go on"},
    {"lockout_minutes", KUNCI_SETTING_INT, "15", 1, 1440,
     "how far back wrong passwords count, and so how long a lock lasts"},
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

int kunci_setting_canonical(const struct kunci_setting_def *def, const char *value,
                            char out[KUNCI_SETTING_VALUE_MAX])
{
    bool b;
    long l;

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

void kunci_settings_apply(struct kunci_settings *s, const char *key, const char *value)
{
    const struct kunci_setting_def *def = kunci_setting_find(key);
    char canon[KUNCI_SETTING_VALUE_MAX];
    bool b = false;
    long l = 0;

    /* A value that no longer validates falls back to the default, never to something
     * looser: the default is what an administrator reads in the documentation. */
    if (def == NULL)
        return;
    if (value == NULL || kunci_setting_canonical(def, value, canon) != KUNCI_OK)
        kunci_setting_canonical(def, def->default_value, canon);
    if (def->type == KUNCI_SETTING_BOOL)
        parse_bool(canon, &b);
    else
        parse_long(canon, &l);
    if (strcmp(key, "app_passwords_allowed") == 0)
        s->app_passwords_allowed = b;
    else if (strcmp(key, "app_passwords_max") == 0)
        s->app_passwords_max = (int)l;
    else if (strcmp(key, "app_password_length") == 0)
        s->app_password_length = (int)l;
    else if (strcmp(key, "app_passwords_revoke_on_password_change") == 0)
        s->app_passwords_revoke_on_password_change = b;
    else if (strcmp(key, "remember_device_days") == 0)
        s->remember_device_days = (int)l;
    else if (strcmp(key, "mfa_totp_allowed") == 0)
        s->mfa_totp_allowed = b;
    else if (strcmp(key, "mfa_phone_allowed") == 0)
        s->mfa_phone_allowed = b;
    else if (strcmp(key, "mfa_email_allowed") == 0)
        s->mfa_email_allowed = b;
    else if (strcmp(key, "lockout_threshold") == 0)
        s->lockout_threshold = (int)l;
    else if (strcmp(key, "lockout_minutes") == 0)
        s->lockout_minutes = (int)l;
}

void kunci_settings_defaults(struct kunci_settings *s)
{
    for (size_t i = 0; i < kunci_setting_count; i++)
        kunci_settings_apply(s, kunci_setting_defs[i].key, kunci_setting_defs[i].default_value);
}
