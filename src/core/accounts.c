#include "core/accounts.h"
#include "core/err.h"
#include "core/guard.h"
#include "core/login.h"
#include "core/netmask.h"
#include "core/password.h"
#include "core/protocol.h"
#include "core/secret.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

int kunci_account_get(struct kunci_store_handle *h, const char *login, struct kunci_account *acct_r)
{
    char canonical[KUNCI_LOGIN_MAX + 1];

    if (kunci_login_canonical(login, strlen(login), canonical) != KUNCI_OK)
        return KUNCI_ERR_INVALID;
    return kunci_store_account_by_login(h, canonical, acct_r);
}

int kunci_account_create(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                         const char *login, const char *display_name, enum kunci_role role,
                         const char *password, size_t password_len, int64_t now,
                         struct kunci_account *acct_r)
{
    struct kunci_account a;
    int r;

    memset(&a, 0, sizeof(a));
    if (kunci_login_canonical(login, strlen(login), a.login) != KUNCI_OK)
        return KUNCI_ERR_INVALID;
    if (display_name == NULL)
        display_name = "";
    if ((r = kunci_label_check(display_name, KUNCI_DISPLAY_NAME_MAX)) != KUNCI_OK)
        return r;
    struct kunci_password_owner owner = {a.login, display_name, role};
    if ((r = kunci_password_acceptable(password, password_len, &owner)) != KUNCI_OK)
        return r;
    snprintf(a.display_name, sizeof(a.display_name), "%s", display_name);
    a.role = role;
    a.enabled = true;
    a.mfa_state = KUNCI_MFA_DISABLED;
    a.created_at = now;
    a.password_changed_at = now;
    r = kunci_password_hash(&ctx->pwparams, password, password_len, a.password_hash);
    if (r == KUNCI_OK)
        r = kunci_store_account_insert(h, &a);
    if (r == KUNCI_OK && acct_r != NULL)
        *acct_r = a;
    sodium_memzero(&a, sizeof(a));
    return r;
}

int kunci_account_set_password(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                               struct kunci_account *acct, const char *password,
                               size_t password_len, int64_t now, int64_t keep_session_id,
                               bool *revoked_r)
{
    int cleared;
    struct kunci_settings settings;
    int r;

    *revoked_r = false;
    struct kunci_password_owner owner = {acct->login, acct->display_name, acct->role};
    if ((r = kunci_password_acceptable(password, password_len, &owner)) != KUNCI_OK)
        return r;
    if ((r = kunci_settings_load(h, &settings)) != KUNCI_OK)
        return r;
    r = kunci_password_hash(&ctx->pwparams, password, password_len, acct->password_hash);
    if (r != KUNCI_OK)
        return r;
    acct->password_changed_at = now;
    unsigned flags = KUNCI_UPDATE_END_SESSIONS;
    if (settings.app_passwords_revoke_on_password_change)
        flags |= KUNCI_UPDATE_REVOKE_APP_PASSWORDS;
    r = kunci_store_account_update(h, acct, flags, keep_session_id);
    if (r == KUNCI_OK)
        *revoked_r = settings.app_passwords_revoke_on_password_change;
    /* A new password starts a new count (an administrator's reset unlocks). */
    if (r == KUNCI_OK)
        r = kunci_guard_clear(ctx, h, acct->login, &cleared);
    return r;
}

int kunci_account_save(struct kunci_store_handle *h, const struct kunci_account *acct)
{
    return kunci_store_account_update(h, acct, 0, 0);
}

static const struct {
    unsigned bit;
    const char *name;
} manage_names[] = {
    {KUNCI_MANAGE_RESET_METHODS, "reset_methods"},
    {KUNCI_MANAGE_DELETE_APP_PASSWORDS, "delete_app_passwords"},
    {KUNCI_MANAGE_FORGET_DEVICES, "forget_devices"},
    {KUNCI_MANAGE_SIGN_OUT, "sign_out"},
};

unsigned kunci_manage_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(manage_names) / sizeof(manage_names[0]); i++)
        if (strcmp(name, manage_names[i].name) == 0)
            return manage_names[i].bit;
    return 0;
}

const char *kunci_manage_name(unsigned bit)
{
    for (size_t i = 0; i < sizeof(manage_names) / sizeof(manage_names[0]); i++)
        if (manage_names[i].bit == bit)
            return manage_names[i].name;
    return "";
}

int kunci_account_manage(struct kunci_store_handle *h, struct kunci_account *acct, unsigned what)
{
    unsigned flags = 0;
    struct kunci_account changed = *acct;

    if (what & KUNCI_MANAGE_RESET_METHODS) {
        /* Without methods an enforced account could not sign in on the web at all: it is
         * asked to register again instead. Its sessions held proofs of the old methods. */
        flags |= KUNCI_UPDATE_RESET_METHODS | KUNCI_UPDATE_SIGN_OUT;
        if (changed.mfa_state == KUNCI_MFA_ENFORCED)
            changed.mfa_state = KUNCI_MFA_ENABLED;
    }
    if (what & KUNCI_MANAGE_DELETE_APP_PASSWORDS)
        flags |= KUNCI_UPDATE_REVOKE_APP_PASSWORDS;
    if (what & KUNCI_MANAGE_FORGET_DEVICES)
        flags |= KUNCI_UPDATE_FORGET_DEVICES;
    if (what & KUNCI_MANAGE_SIGN_OUT)
        flags |= KUNCI_UPDATE_SIGN_OUT;
    int r = kunci_store_account_update(h, &changed, flags, 0);
    if (r == KUNCI_OK)
        *acct = changed;
    sodium_memzero(&changed, sizeof(changed));
    return r;
}

int kunci_app_password_create(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                              const struct kunci_account *acct,
                              const struct kunci_app_password_spec *spec, int64_t now,
                              char *password_r, size_t password_size,
                              struct kunci_app_password *ap_r)
{
    struct kunci_settings settings;
    struct kunci_app_password ap;
    char letters[KUNCI_APP_PASSWORD_MAX_LEN + 1];
    int r;

    memset(&ap, 0, sizeof(ap));
    if (acct->mfa_state == KUNCI_MFA_DISABLED)
        return KUNCI_ERR_MFA_NOT_REQUIRED;
    if (spec->name == NULL || spec->name[0] == '\0')
        return KUNCI_ERR_INVALID;
    if ((r = kunci_label_check(spec->name, KUNCI_APP_NAME_MAX)) != KUNCI_OK)
        return r;
    if (spec->expires_at != 0 && spec->expires_at <= now)
        return KUNCI_ERR_INVALID;
    if ((spec->protocols & ~KUNCI_PROTO_ALL) != 0)
        return KUNCI_ERR_INVALID;
    if (spec->networks != NULL &&
        kunci_networks_canonical(spec->networks, ap.networks, sizeof(ap.networks)) != KUNCI_OK)
        return KUNCI_ERR_INVALID;
    if ((r = kunci_settings_load(h, &settings)) != KUNCI_OK)
        return r;
    if (!settings.app_passwords_allowed)
        return KUNCI_ERR_APP_PASSWORDS_OFF;
    if ((size_t)settings.app_password_length + 1 > password_size)
        return KUNCI_ERR_TOO_LONG;

    snprintf(ap.name, sizeof(ap.name), "%s", spec->name);
    ap.account_id = acct->id;
    ap.protocols = spec->protocols;
    ap.expires_at = spec->expires_at;
    ap.created_at = now;
    r = kunci_app_password_generate(letters, (size_t)settings.app_password_length);
    if (r == KUNCI_OK) {
        kunci_app_password_digest(ctx->keys, letters, strlen(letters), ap.digest);
        memcpy(ap.key_id, ctx->keys->fingerprint, sizeof(ap.key_id));
        r = kunci_store_app_password_insert(h, &ap, settings.app_passwords_max);
    }
    if (r == KUNCI_OK) {
        memcpy(password_r, letters, strlen(letters) + 1);
        if (ap_r != NULL)
            *ap_r = ap;
    }
    sodium_memzero(letters, sizeof(letters));
    return r;
}
