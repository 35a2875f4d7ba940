#include "core/recovery.h"

#include <sodium.h>
#include <string.h>

#include "core/err.h"
#include "core/guard.h"
#include "core/keys.h"
#include "core/secret.h"
#include "core/settings.h"

/* HMAC-SHA256 of purpose, account and normalised secret under the enrolment key (kept by
 * key rotations, core/keys.h): a code copied to another account's row proves nothing there. */
static void digest(const struct kunci_ctx *ctx, const char *purpose, int64_t account_id,
                   const char *secret, size_t len, uint8_t out[KUNCI_DIGEST_BYTES])
{
    crypto_auth_hmacsha256_state st;
    uint8_t id[8];
    for (int i = 0; i < 8; i++)
        id[i] = (uint8_t)((uint64_t)account_id >> (8 * i));
    crypto_auth_hmacsha256_init(&st, ctx->keys->enrolment, KUNCI_SUBKEY_BYTES);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)purpose, strlen(purpose) + 1);
    crypto_auth_hmacsha256_update(&st, id, sizeof(id));
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)secret, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

int kunci_backup_codes_new(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                           const struct kunci_account *acct, int64_t now,
                           char codes_r[KUNCI_BACKUP_CODES][KUNCI_BACKUP_CODE_FORMATTED])
{
    uint8_t digests[KUNCI_BACKUP_CODES][KUNCI_DIGEST_BYTES];
    char digits[KUNCI_BACKUP_CODE_DIGITS + 1];

    for (int i = 0; i < KUNCI_BACKUP_CODES; i++) {
        kunci_random_string(digits, KUNCI_BACKUP_CODE_DIGITS, "0123456789");
        digits[KUNCI_BACKUP_CODE_DIGITS] = '\0';
        digest(ctx, "backup", acct->id, digits, KUNCI_BACKUP_CODE_DIGITS, digests[i]);
        memcpy(codes_r[i], digits, 5);
        codes_r[i][5] = ' ';
        memcpy(codes_r[i] + 6, digits + 5, 5);
        codes_r[i][11] = '\0';
    }
    sodium_memzero(digits, sizeof(digits));
    int r = kunci_store_backup_codes_replace(
        h, acct->id, (const uint8_t(*)[KUNCI_DIGEST_BYTES])digests, KUNCI_BACKUP_CODES, now);
    if (r != KUNCI_OK)
        sodium_memzero(codes_r, sizeof(char[KUNCI_BACKUP_CODES][KUNCI_BACKUP_CODE_FORMATTED]));
    return r;
}

/* Ten digits, with any spaces or dashes people type between them. */
static bool normalise_code(const char *in, char out[KUNCI_BACKUP_CODE_DIGITS + 1])
{
    size_t o = 0;
    for (size_t i = 0; in[i] != '\0' && i < 64; i++) {
        if (in[i] == ' ' || in[i] == '-')
            continue;
        if (in[i] < '0' || in[i] > '9' || o == KUNCI_BACKUP_CODE_DIGITS)
            return false;
        out[o++] = in[i];
    }
    out[o] = '\0';
    return o == KUNCI_BACKUP_CODE_DIGITS;
}

int kunci_backup_code_check(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                            const struct kunci_account *acct, const char *code, int64_t now,
                            int64_t *retry_after_r)
{
    struct kunci_settings s;
    struct kunci_guard_result g;
    char digits[KUNCI_BACKUP_CODE_DIGITS + 1];
    uint8_t d[KUNCI_DIGEST_BYTES];

    *retry_after_r = 0;
    /* Counted before it is checked, with the account's other codes. */
    int r = kunci_settings_load(h, &s);
    if (r == KUNCI_OK)
        r = kunci_guard_code_begin(h, &s, acct->id, acct->login, now, &g);
    if (r != KUNCI_OK)
        return r;
    if (g.verdict != KUNCI_GUARD_GO) {
        *retry_after_r = g.retry_after;
        return KUNCI_ERR_LOCKED;
    }
    if (!normalise_code(code, digits))
        return KUNCI_ERR_INVALID;
    digest(ctx, "backup", acct->id, digits, KUNCI_BACKUP_CODE_DIGITS, d);
    sodium_memzero(digits, sizeof(digits));
    r = kunci_store_backup_code_use(h, acct->id, d, now);
    if (r == KUNCI_ERR_NOT_FOUND)
        return KUNCI_ERR_INVALID;
    if (r == KUNCI_OK)
        (void)kunci_guard_code_success(h, acct->id); /* best effort: it stays counted */
    return r;
}

int kunci_access_pass_issue(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                            const struct kunci_account *acct, int64_t now, int64_t seconds,
                            bool one_time, char pass_r[KUNCI_ACCESS_PASS_FORMATTED])
{
    char letters[KUNCI_ACCESS_PASS_LETTERS + 1];
    uint8_t d[KUNCI_DIGEST_BYTES];

    if (seconds <= 0 || seconds > KUNCI_ACCESS_PASS_MAX_SECONDS)
        return KUNCI_ERR_INVALID;
    if (kunci_app_password_generate(letters, KUNCI_ACCESS_PASS_LETTERS) != KUNCI_OK)
        return KUNCI_ERR_INTERNAL;
    letters[KUNCI_ACCESS_PASS_LETTERS] = '\0';
    digest(ctx, "access-pass", acct->id, letters, KUNCI_ACCESS_PASS_LETTERS, d);
    kunci_app_password_format(letters, pass_r, KUNCI_ACCESS_PASS_FORMATTED);
    sodium_memzero(letters, sizeof(letters));
    int r = kunci_store_access_pass_set(h, acct->id, d, now, now + seconds, one_time);
    if (r != KUNCI_OK)
        sodium_memzero(pass_r, KUNCI_ACCESS_PASS_FORMATTED);
    return r;
}

int kunci_access_pass_use(const struct kunci_ctx *ctx, struct kunci_store_handle *h,
                          int64_t account_id, const char *secret, size_t len, int64_t now)
{
    char letters[KUNCI_APP_PASSWORD_MAX_LEN + 1];
    uint8_t d[KUNCI_DIGEST_BYTES];
    size_t n = 0;

    if (kunci_app_password_normalise(secret, len, letters, &n) != KUNCI_OK ||
        n != KUNCI_ACCESS_PASS_LETTERS)
        return KUNCI_ERR_NOT_FOUND;
    digest(ctx, "access-pass", account_id, letters, n, d);
    sodium_memzero(letters, sizeof(letters));
    return kunci_store_access_pass_use(h, account_id, d, now);
}
