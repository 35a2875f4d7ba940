/* The records of the domain, shared by the core and every storage backend. */
#ifndef KUNCI_TYPES_H
#define KUNCI_TYPES_H

#include <stdbool.h>
#include <stddef.h> /* size_t */
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

/* In both structures what an app-password check reads comes first, so that a cached row
 * (store/lookup_cache.c) is read from two cache lines, not six. */
struct kunci_account {
    int64_t id;
    enum kunci_role role;
    bool enabled;
    enum kunci_mfa_state mfa_state;
    bool must_change_password; /* a one-time password set by an administrator or make run */
    int64_t created_at;
    int64_t password_changed_at;
    char login[KUNCI_LOGIN_MAX + 1];
    char display_name[KUNCI_DISPLAY_NAME_MAX + 1];
    char password_hash[KUNCI_HASH_MAX];
};

struct kunci_app_password {
    int64_t id;
    int64_t account_id;
    unsigned protocols; /* mask of KUNCI_PROTO_*; 0 means every protocol */
    int64_t created_at;
    int64_t expires_at;                    /* 0: never */
    int64_t last_used_at;                  /* 0: never */
    char networks[KUNCI_NETWORKS_MAX + 1]; /* empty means from anywhere */
    char name[KUNCI_APP_NAME_MAX + 1];
    uint8_t digest[KUNCI_DIGEST_BYTES];
    char last_used_ip[KUNCI_IP_MAX + 1];
    char last_used_protocol[8];
    char key_id[33]; /* inserts: the fingerprint of the key its digest is under (keys.h) */
};

#define KUNCI_TOKEN_HASH_BYTES 32
#define KUNCI_CSRF_MAX         47  /* a token: 43 base64url characters, room to 48 */
#define KUNCI_TARGET_MAX       254 /* a phone number or an e-mail address */
#define KUNCI_SECRET_BOX_MAX   128 /* an encrypted TOTP secret: nonce, MAC, 20 bytes */

enum kunci_session_stage {
    KUNCI_SESSION_PASSWORD = 1, /* first factor done: only MFA set-up or the code may follow */
    KUNCI_SESSION_FULL = 2,
    /* Self-service password reset: only the /password-reset routes may use it. mfa_at is when its
     * first code was proven, password_at when its second (if the account has another). */
    KUNCI_SESSION_RESET = 3,
};

/* A web session. The cookie holds a random token; the store holds only its HMAC. */
struct kunci_session {
    int64_t id;
    int64_t account_id;
    uint8_t token_hash[KUNCI_TOKEN_HASH_BYTES];
    char csrf[KUNCI_CSRF_MAX + 1];
    enum kunci_session_stage stage;
    int64_t created_at;
    int64_t last_seen_at;
    int64_t password_at; /* when the password was last typed: gates sensitive changes */
    int64_t mfa_at;      /* when a second factor was proven or a method verified in it */
};

enum kunci_method_kind {
    KUNCI_METHOD_TOTP = 1,    /* authenticator app */
    KUNCI_METHOD_PHONE = 2,   /* code by text message or voice call */
    KUNCI_METHOD_EMAIL = 3,   /* code to an alternate address */
    KUNCI_METHOD_PASSKEY = 4, /* a passkey or a security key (WebAuthn); target: its name */
};

struct kunci_mfa_method {
    int64_t id;
    int64_t account_id;
    enum kunci_method_kind kind;
    char target[KUNCI_TARGET_MAX + 1];    /* "+62 81234567890" or an address */
    char channel[8];                      /* phone: "sms" or "voice" */
    uint8_t secret[KUNCI_SECRET_BOX_MAX]; /* TOTP: secretbox(nonce || box) */
    size_t secret_len;
    bool is_default;
    bool verified;
    int64_t last_totp_step; /* a TOTP code is accepted once */
    int64_t created_at;
};

#define KUNCI_CREDENTIAL_ID_MAX 1023 /* WebAuthn's limit on a credential id */
#define KUNCI_PASSKEY_KEY_MAX   300  /* libfido2's raw key: RS256 259 bytes, ES256 64, EdDSA 32 */
#define KUNCI_AAGUID_BYTES      16

/* What kunci keeps of a WebAuthn credential besides its method row (whose target is the
 * name the user gave it). */
struct kunci_passkey {
    int64_t method_id;
    int64_t account_id;
    uint8_t credential_id[KUNCI_CREDENTIAL_ID_MAX];
    size_t credential_id_len;
    uint8_t public_key[KUNCI_PASSKEY_KEY_MAX]; /* as libfido2's es256/rs256/eddsa_pk_from_ptr */
    size_t public_key_len;
    int algorithm;       /* COSE: -7 ES256, -8 EdDSA, -257 RS256 */
    uint32_t sign_count; /* the authenticator's counter: it must grow (or stay 0) */
    uint8_t aaguid[KUNCI_AAGUID_BYTES];
    bool backup_eligible, backup_state; /* synced passkey: may be copied to other devices */
    bool user_verified;                 /* a PIN or biometric at registration */
    bool discoverable;                  /* a resident key: can sign in without a login */
    char transports[64];                /* "internal,hybrid", as the browser reported */
    int64_t created_at;
    int64_t last_used_at; /* 0: never */
};

/* A one-time code sent by text, call or e-mail; only its HMAC is stored. */
struct kunci_code {
    int64_t id;
    int64_t account_id;
    int64_t method_id;
    uint8_t code_hash[KUNCI_TOKEN_HASH_BYTES];
    int64_t expires_at;
    int attempts;
};

const char *kunci_method_kind_name(enum kunci_method_kind kind);
int kunci_method_kind_parse(const char *s, enum kunci_method_kind *kind_r);
const char *kunci_role_name(enum kunci_role role);
int kunci_role_parse(const char *s, enum kunci_role *role_r);
const char *kunci_mfa_state_name(enum kunci_mfa_state state);
int kunci_mfa_state_parse(const char *s, enum kunci_mfa_state *state_r);

#endif
