#include "core/err.h"

const char *kunci_strerror(int err)
{
    switch (err) {
    case KUNCI_OK:
        return "success";
    case KUNCI_ERR_INTERNAL:
        return "internal error";
    case KUNCI_ERR_NOMEM:
        return "out of memory";
    case KUNCI_ERR_INVALID:
        return "invalid input";
    case KUNCI_ERR_NOT_FOUND:
        return "not found";
    case KUNCI_ERR_EXISTS:
        return "already exists";
    case KUNCI_ERR_TEMPFAIL:
        return "temporary failure, try again later";
    case KUNCI_ERR_LIMIT:
        return "limit reached";
    case KUNCI_ERR_POLICY:
        return "not allowed by policy";
    case KUNCI_ERR_IO:
        return "input/output error";
    case KUNCI_ERR_KEY_PERMS:
        return "key file is accessible by group or others";
    case KUNCI_ERR_TOO_LONG:
        return "input too long";
    case KUNCI_ERR_CRYPTO:
        return "cryptographic operation failed";
    case KUNCI_ERR_SCHEMA:
        return "database schema is newer than this program";
    case KUNCI_ERR_MFA_NOT_REQUIRED:
        return "multi-factor authentication is not required for this account, so app passwords "
               "are not available";
    case KUNCI_ERR_APP_PASSWORDS_OFF:
        return "the organization does not allow app passwords";
    case KUNCI_ERR_EXPIRED:
        return "the code has expired";
    case KUNCI_ERR_REUSED:
        return "the code was used already";
    case KUNCI_ERR_DELIVERY:
        return "the code could not be sent";
    case KUNCI_ERR_LOCKED:
        return "too many wrong attempts; locked for now";
    case KUNCI_ERR_RATE:
        return "too many codes sent; wait before asking for another";
    case KUNCI_ERR_STORE_ACCESS:
        return "the database cannot be opened or written (permissions, or a read-only file or "
               "file system)";
    case KUNCI_ERR_STORE_INVALID:
        return "the file is not kunci's database, or it is damaged";
    case KUNCI_ERR_PASSWORD_COMMON:
        return "the password is too common or too easy to guess; choose another (a few unrelated "
               "words work well)";
    case KUNCI_ERR_PASSWORD_PERSONAL:
        return "the password is built from the login or the name; choose another";
    case KUNCI_ERR_PASSWORD_SHORT:
        return "an administrator's password must have at least 15 characters";
    case KUNCI_ERR_COUNTER:
        return "the passkey's signature counter went backwards: the authenticator may have been "
               "copied";
    case KUNCI_ERR_KEY_MISMATCH:
        return "the key file is not the one this database was made with";
    }
    return "unknown error";
}
