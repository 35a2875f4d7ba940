/* Account operations shared by every shell: the CLI now, the web API next. */
#ifndef KUNCI_ACCOUNTS_H
#define KUNCI_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/context.h"
#include "core/types.h"
#include "core/store.h"

struct kunci_app_password_spec {
    const char *name;
    unsigned protocols;   /* 0: every protocol */
    int64_t expires_at;   /* 0: never */
    const char *networks; /* comma-separated CIDR list, "" or NULL for anywhere */
};

int kunci_account_get(struct kunci_store_handle *h, const char *login,
                      struct kunci_account *acct_r);
int kunci_account_create(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                         const char *login, const char *display_name, enum kunci_role role,
                         const char *password, size_t password_len, int64_t now,
                         struct kunci_account *acct_r);
/* Sets a new password: ends every session of the account but keep_session_id (0: all) and
 * forgets its remembered devices, clears its locks, and deletes its app passwords too when
 * the organization says so. */
int kunci_account_set_password(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                               struct kunci_account *acct, const char *password,
                               size_t password_len, int64_t now, int64_t keep_session_id,
                               bool *revoked_r);
int kunci_account_save(struct kunci_store_handle *h, const struct kunci_account *acct);

/* "Manage user settings": what an administrator may do to an account besides its state. */
enum kunci_manage {
    KUNCI_MANAGE_RESET_METHODS = 1,        /* register methods again (enforced -> enabled) */
    KUNCI_MANAGE_DELETE_APP_PASSWORDS = 2, /* refused at once on every protocol */
    KUNCI_MANAGE_FORGET_DEVICES = 4,       /* the second factor again on every browser */
    KUNCI_MANAGE_SIGN_OUT = 8,             /* every web session ends */
};
/* Does what `what` asks (KUNCI_MANAGE_* bits) in one transaction. Resetting methods also
 * signs the account out everywhere. */
int kunci_account_manage(struct kunci_store_handle *h, struct kunci_account *acct, unsigned what);
/* "reset_methods" to KUNCI_MANAGE_RESET_METHODS; 0 when unknown. */
unsigned kunci_manage_parse(const char *name);
const char *kunci_manage_name(unsigned bit);

/* Creates an app password: refused unless MFA is required for the user and the organization
 * allows app passwords. password_r receives the plain letters, shown once. */
int kunci_app_password_create(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                              const struct kunci_account *acct,
                              const struct kunci_app_password_spec *spec, int64_t now,
                              char *password_r, size_t password_size,
                              struct kunci_app_password *ap_r);

#endif
