/* The records of the domain, shared by the core and every storage backend. */
#ifndef KUNCI_TYPES_H
#define KUNCI_TYPES_H

#include <stdbool.h>
#include <stdint.h>

#define KUNCI_LOGIN_MAX        254 /* an e-mail address, RFC 5321 path limit */
#define KUNCI_DISPLAY_NAME_MAX 128
#define KUNCI_HASH_MAX         128 /* crypto_pwhash_STRBYTES */
#define KUNCI_APP_NAME_MAX     64
#define KUNCI_NETWORKS_MAX     512 /* canonical comma-separated CIDR list */
#define KUNCI_PROTOCOLS_MAX    40  /* "imap,pop3,smtp,eas,dav,ews" */
#define KUNCI_IP_MAX           46  /* INET6_ADDRSTRLEN */
#define KUNCI_DIGEST_BYTES     32  /* HMAC-SHA256 */

enum kunci_role {
    KUNCI_ROLE_USER = 0,
    KUNCI_ROLE_ADMIN = 1,
};

/* Per-user MFA state, as in the system the seed describes: `enabled` means required but
 * not yet registered; completing registration moves it to `enforced`. */
enum kunci_mfa_state {
    KUNCI_MFA_DISABLED = 0,
    KUNCI_MFA_ENABLED = 1,
    KUNCI_MFA_ENFORCED = 2,
};

struct kunci_account {
    int64_t id;
    char login[KUNCI_LOGIN_MAX + 1];
    char display_name[KUNCI_DISPLAY_NAME_MAX + 1];
    enum kunci_role role;
    bool enabled;
    enum kunci_mfa_state mfa_state;
    char password_hash[KUNCI_HASH_MAX];
    int64_t created_at;
    int64_t password_changed_at;
};

struct kunci_app_password {
    int64_t id;
    int64_t account_id;
    char name[KUNCI_APP_NAME_MAX + 1];
    uint8_t digest[KUNCI_DIGEST_BYTES];
    unsigned protocols;                    /* mask of KUNCI_PROTO_*; 0 means every protocol */
    char networks[KUNCI_NETWORKS_MAX + 1]; /* empty means from anywhere */
    int64_t created_at;
    int64_t expires_at;   /* 0: never */
    int64_t last_used_at; /* 0: never */
    char last_used_ip[KUNCI_IP_MAX + 1];
    char last_used_protocol[8];
};

const char *kunci_role_name(enum kunci_role role);
int kunci_role_parse(const char *s, enum kunci_role *role_r);
const char *kunci_mfa_state_name(enum kunci_mfa_state state);
int kunci_mfa_state_parse(const char *s, enum kunci_mfa_state *state_r);

#endif
