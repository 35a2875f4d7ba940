/* Organization settings: a fixed table of typed keys with defaults and bounds. The store
 * keeps only values that differ from the defaults' absence (a key/value table). */
#ifndef KUNCI_SETTINGS_H
#define KUNCI_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>

enum kunci_setting_type {
    KUNCI_SETTING_BOOL,
    KUNCI_SETTING_INT,
    /* A list of up to KUNCI_TRUSTED_NETWORKS_MAX CIDR ranges: not in struct kunci_settings
     * (read where it is needed, kunci_trusted_networks_load), so every check stays small. */
    KUNCI_SETTING_NETWORKS,
    /* Who a policy applies to: "none", "admins", "everyone", or logins (comma-separated).
     * Read where it is needed too (kunci_policy_names). */
    KUNCI_SETTING_USERS,
};

struct kunci_setting_def {
    const char *key;
    enum kunci_setting_type type;
    const char *default_value;
    long min, max; /* for KUNCI_SETTING_INT */
    const char *description;
    size_t offset;     /* of its bool or int in struct kunci_settings */
    const char *group; /* as /admin shows them: "app_passwords", "verification", ... */
};

#define KUNCI_TRUSTED_NETWORKS_MAX 50
/* 50 ranges of at most 43 characters ("ffff:...:ffff/128"), commas, NUL. */
#define KUNCI_SETTING_VALUE_MAX (KUNCI_TRUSTED_NETWORKS_MAX * 44 + 1)

struct kunci_settings {
    bool app_passwords_allowed;
    int app_passwords_max;
    int app_password_length;
    bool app_passwords_revoke_on_password_change;
    int remember_device_days;
    bool mfa_totp_allowed, mfa_phone_allowed, mfa_email_allowed, mfa_webauthn_allowed;
    int lockout_threshold;
    int lockout_minutes;
    int lockout_hard_limit;
    int mfa_lockout_threshold;
    int mfa_lockout_minutes;
    int address_threshold;
    int address_minutes;
    int codes_per_15_minutes;
    int codes_per_day;
    int code_resend_seconds;
    int code_destinations_per_day;
    int activity_days;
    int mfa_setup_grace_days;
    bool password_reset_allowed;
};

extern const struct kunci_setting_def kunci_setting_defs[];
extern const size_t kunci_setting_count;

const struct kunci_setting_def *kunci_setting_find(const char *key);
/* Validates value for def and writes its canonical form ("true"/"false", decimal). */
int kunci_setting_canonical(const struct kunci_setting_def *def, const char *value,
                            char out[KUNCI_SETTING_VALUE_MAX]);
/* Applies one stored key/value to the struct; unknown keys are ignored (newer versions). */
void kunci_settings_apply(struct kunci_settings *settings, const char *key, const char *value);
void kunci_settings_defaults(struct kunci_settings *settings);
struct kunci_store_handle;
/* Reads every stored setting over the defaults. */
int kunci_settings_load(struct kunci_store_handle *h, struct kunci_settings *settings_r);
/* The trusted networks' canonical list ("" for none). */
int kunci_trusted_networks_load(struct kunci_store_handle *h, char out[KUNCI_SETTING_VALUE_MAX]);
struct kunci_account;
/* Whether the policy setting `key` (KUNCI_SETTING_USERS) names acct. */
int kunci_policy_names(struct kunci_store_handle *h, const char *key,
                       const struct kunci_account *acct, bool *named_r);
/* One boolean setting from its stored value (its default when absent or unreadable). */
bool kunci_setting_true(const char *key, const char *value);

#endif
