/* One error shape for the whole project: 0 is success, failures are negative
 * KUNCI_ERR_* codes, and kunci_strerror() names them. Modelled on OpenSSH's ssherr.h. */
#ifndef KUNCI_ERR_H
#define KUNCI_ERR_H

enum {
    KUNCI_OK = 0,
    KUNCI_ERR_INTERNAL = -1, /* a bug or an impossible state */
    KUNCI_ERR_NOMEM = -2,
    KUNCI_ERR_INVALID = -3, /* bad input from the caller */
    KUNCI_ERR_NOT_FOUND = -4,
    KUNCI_ERR_EXISTS = -5,
    KUNCI_ERR_TEMPFAIL = -6, /* storage unreachable or busy: try again later */
    KUNCI_ERR_LIMIT = -7,    /* a configured limit was reached */
    KUNCI_ERR_POLICY = -8,   /* refused by the organization's policy */
    KUNCI_ERR_IO = -9,
    KUNCI_ERR_KEY_PERMS = -10, /* key file readable by others */
    KUNCI_ERR_TOO_LONG = -11,
    KUNCI_ERR_CRYPTO = -12,
    KUNCI_ERR_SCHEMA = -13,            /* database schema newer than this program */
    KUNCI_ERR_MFA_NOT_REQUIRED = -14,  /* app passwords need MFA required for the user */
    KUNCI_ERR_APP_PASSWORDS_OFF = -15, /* the organization does not allow app passwords */
    KUNCI_ERR_EXPIRED = -16,           /* a one-time code past its time */
    KUNCI_ERR_REUSED = -17,            /* a TOTP code that was accepted before */
    KUNCI_ERR_DELIVERY = -18,          /* a code could not be sent */
    KUNCI_ERR_LOCKED = -19,            /* too many wrong attempts: locked for a while */
    KUNCI_ERR_RATE = -20,              /* too many codes sent: wait before asking again */
    KUNCI_ERR_STORE_ACCESS = -21,      /* the database cannot be opened or written: permissions */
    KUNCI_ERR_STORE_INVALID = -22,     /* the file is not kunci's database, or it is damaged */
    KUNCI_ERR_PASSWORD_COMMON = -23,   /* a new password that is common or easy to guess */
    KUNCI_ERR_PASSWORD_PERSONAL = -24, /* a new password built from the login or the name */
    KUNCI_ERR_PASSWORD_SHORT = -25,    /* an administrator's new password under 15 characters */
    KUNCI_ERR_COUNTER = -26,           /* a passkey's signature counter went backwards: a clone? */
    KUNCI_ERR_KEY_MISMATCH = -27,      /* the key file is not the one the database was made with */
};

const char *kunci_strerror(int err);

#endif
