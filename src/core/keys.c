#include "core/keys.h"
#include "core/types.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_MAGIC       "kunci-key-v1 "
#define PREVIOUS_MAGIC  "kunci-key-previous-v1 "
#define ENROLMENT_MAGIC "kunci-enrolment-v1 "
#define KEY_CONTEXT     "kuncikey" /* crypto_kdf contexts are exactly 8 bytes */
#define MASTER_BYTES    crypto_kdf_KEYBYTES
#define FILE_MAX        512

/* What a key file holds: the current master key, perhaps the previous one, perhaps the
 * enrolment key (written at the first rotation; before that it is derived). */
struct key_file {
    uint8_t current[MASTER_BYTES], previous[MASTER_BYTES], enrolment[KUNCI_SUBKEY_BYTES];
    bool has_previous, has_enrolment;
};

static bool hex_line(const char *line, const char *magic, uint8_t *out, size_t n)
{
    size_t bin_len = 0, m = strlen(magic);
    return strncmp(line, magic, m) == 0 && strlen(line + m) == n * 2 &&
           sodium_hex2bin(out, n, line + m, n * 2, NULL, &bin_len, NULL) == 0 && bin_len == n;
}

static int parse_file(char *text, struct key_file *kf)
{
    bool has_current = false;
    memset(kf, 0, sizeof(*kf));
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (!has_current && hex_line(line, KEY_MAGIC, kf->current, MASTER_BYTES))
            has_current = true;
        else if (!kf->has_previous && hex_line(line, PREVIOUS_MAGIC, kf->previous, MASTER_BYTES))
            kf->has_previous = true;
        else if (!kf->has_enrolment &&
                 hex_line(line, ENROLMENT_MAGIC, kf->enrolment, KUNCI_SUBKEY_BYTES))
            kf->has_enrolment = true;
        else
            return KUNCI_ERR_INVALID;
    }
    return has_current ? KUNCI_OK : KUNCI_ERR_INVALID;
}

static void append_line(char *out, size_t size, const char *magic, const uint8_t *bin, size_t n)
{
    size_t len = strlen(out);
    char hex[2 * MASTER_BYTES + 1];
    sodium_bin2hex(hex, sizeof(hex), bin, n);
    snprintf(out + len, size - len, "%s%s\n", magic, hex);
    sodium_memzero(hex, sizeof(hex));
}

/* Writes kf to path: a new file when create, else a temporary beside it renamed over it. */
static int write_file(const char *path, const struct key_file *kf, bool create)
{
    char text[FILE_MAX] = "", tmp[PATH_MAX];
    int r = KUNCI_OK;
    struct stat st;

    append_line(text, sizeof(text), KEY_MAGIC, kf->current, MASTER_BYTES);
    if (kf->has_previous)
        append_line(text, sizeof(text), PREVIOUS_MAGIC, kf->previous, MASTER_BYTES);
    if (kf->has_enrolment)
        append_line(text, sizeof(text), ENROLMENT_MAGIC, kf->enrolment, KUNCI_SUBKEY_BYTES);
    if (!create &&
        (stat(path, &st) != 0 || snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))) {
        sodium_memzero(text, sizeof(text));
        return KUNCI_ERR_IO;
    }
    const char *target = create ? path : tmp;
    if (!create)
        unlink(tmp); /* a leftover of an interrupted rotation */
    int fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        sodium_memzero(text, sizeof(text));
        return errno == EEXIST ? KUNCI_ERR_EXISTS : KUNCI_ERR_IO;
    }
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len || fsync(fd) != 0 ||
        (!create && fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM))
        r = KUNCI_ERR_IO;
    close(fd);
    sodium_memzero(text, sizeof(text));
    if (r == KUNCI_OK && !create && rename(tmp, path) != 0)
        r = KUNCI_ERR_IO;
    if (r != KUNCI_OK)
        unlink(target);
    return r;
}

int kunci_keys_create(const char *path)
{
    struct key_file kf;
    memset(&kf, 0, sizeof(kf));
    crypto_kdf_keygen(kf.current);
    int r = write_file(path, &kf, true);
    sodium_memzero(&kf, sizeof(kf));
    return r;
}

/* Reads and parses the key file: KUNCI_ERR_KEY_PERMS when group or others may read or
 * write it. */
static int read_file(const char *path, struct key_file *kf)
{
    char text[FILE_MAX + 1];
    struct stat st;
    int r;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return errno == ENOENT ? KUNCI_ERR_NOT_FOUND : KUNCI_ERR_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        r = KUNCI_ERR_IO;
    else if ((st.st_mode & 077) != 0)
        r = KUNCI_ERR_KEY_PERMS;
    else {
        ssize_t n = read(fd, text, FILE_MAX);
        if (n <= 0 || n == FILE_MAX)
            r = KUNCI_ERR_INVALID;
        else {
            text[n] = '\0';
            r = parse_file(text, kf);
        }
    }
    close(fd);
    sodium_memzero(text, sizeof(text));
    return r;
}

/* The subkeys of one master key, in guarded memory. */
static struct kunci_keys *derive(const uint8_t master[MASTER_BYTES], const uint8_t *enrolment)
{
    struct kunci_keys *keys = sodium_malloc(sizeof(*keys));
    uint8_t fingerprint[KUNCI_KEY_FINGERPRINT_HEX / 2];
    if (keys == NULL)
        return NULL;
    memset(keys, 0, sizeof(*keys));
    crypto_kdf_derive_from_key(keys->app_password_pepper, KUNCI_SUBKEY_BYTES,
                               KUNCI_SUBKEY_APP_PASSWORD_PEPPER, KEY_CONTEXT, master);
    crypto_kdf_derive_from_key(keys->encryption, KUNCI_SUBKEY_BYTES, KUNCI_SUBKEY_ENCRYPTION,
                               KEY_CONTEXT, master);
    crypto_kdf_derive_from_key(keys->tokens, KUNCI_SUBKEY_BYTES, KUNCI_SUBKEY_TOKENS, KEY_CONTEXT,
                               master);
    crypto_kdf_derive_from_key(fingerprint, sizeof(fingerprint), KUNCI_SUBKEY_FINGERPRINT,
                               KEY_CONTEXT, master);
    sodium_bin2hex(keys->fingerprint, sizeof(keys->fingerprint), fingerprint, sizeof(fingerprint));
    /* Until a first rotation writes it, the enrolment key is what tokens were derived as:
     * backup codes and passkeys made before then go on working. */
    memcpy(keys->enrolment, enrolment != NULL ? enrolment : keys->tokens, KUNCI_SUBKEY_BYTES);
    kunci_keys_prepare(keys);
    return keys;
}

int kunci_keys_load(const char *path, struct kunci_keys **keys_r)
{
    struct key_file kf;
    int r;

    *keys_r = NULL;
    if ((r = read_file(path, &kf)) != KUNCI_OK) {
        sodium_memzero(&kf, sizeof(kf));
        return r;
    }
    struct kunci_keys *keys = derive(kf.current, kf.has_enrolment ? kf.enrolment : NULL);
    if (keys != NULL && kf.has_previous) {
        keys->previous = derive(kf.previous, keys->enrolment);
        if (keys->previous == NULL) {
            kunci_keys_free(keys);
            keys = NULL;
        } else {
            sodium_mprotect_readonly(keys->previous);
        }
    }
    sodium_memzero(&kf, sizeof(kf));
    if (keys == NULL)
        return KUNCI_ERR_NOMEM;
    sodium_mprotect_readonly(keys);
    *keys_r = keys;
    return KUNCI_OK;
}

int kunci_keys_rotate_file(const char *path)
{
    struct key_file kf;
    int r = read_file(path, &kf);
    if (r == KUNCI_OK && kf.has_previous)
        r = KUNCI_ERR_EXISTS;
    if (r == KUNCI_OK) {
        /* Written as derive() derives it until now, so enrolments go on working. */
        if (!kf.has_enrolment)
            crypto_kdf_derive_from_key(kf.enrolment, KUNCI_SUBKEY_BYTES, KUNCI_SUBKEY_TOKENS,
                                       KEY_CONTEXT, kf.current);
        kf.has_enrolment = true;
        memcpy(kf.previous, kf.current, MASTER_BYTES);
        kf.has_previous = true;
        crypto_kdf_keygen(kf.current);
    }
    if (r == KUNCI_OK)
        r = write_file(path, &kf, false);
    sodium_memzero(&kf, sizeof(kf));
    return r;
}

int kunci_keys_drop_previous(const char *path)
{
    struct key_file kf;
    int r = read_file(path, &kf);
    if (r == KUNCI_OK && kf.has_previous) {
        kf.has_previous = false;
        r = write_file(path, &kf, false);
    }
    sodium_memzero(&kf, sizeof(kf));
    return r;
}

void kunci_keys_prepare(struct kunci_keys *keys)
{
    static const char purpose[] = "kunci app-password lookup cache v1";
    uint8_t cache_key[crypto_generichash_KEYBYTES];

    crypto_auth_hmacsha256_init(&keys->app_password_hmac, keys->app_password_pepper,
                                KUNCI_SUBKEY_BYTES);
    crypto_generichash(cache_key, sizeof(cache_key), (const uint8_t *)purpose, sizeof(purpose) - 1,
                       keys->app_password_pepper, KUNCI_SUBKEY_BYTES);
    crypto_generichash_init(&keys->app_password_cache, cache_key, sizeof(cache_key),
                            KUNCI_DIGEST_BYTES);
    sodium_memzero(cache_key, sizeof(cache_key));
}

void kunci_keys_free(struct kunci_keys *keys)
{
    if (keys == NULL)
        return;
    if (keys->previous != NULL)
        sodium_free(keys->previous);
    sodium_free(keys); /* sodium_free wipes before unmapping */
}

int kunci_seal(const struct kunci_keys *keys, const uint8_t *plain, size_t len, uint8_t *out,
               size_t out_size, size_t *out_len_r)
{
    if (out_size < len + KUNCI_SEAL_OVERHEAD)
        return KUNCI_ERR_TOO_LONG;
    randombytes_buf(out, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(out + crypto_secretbox_NONCEBYTES, plain, len, out, keys->encryption);
    *out_len_r = len + KUNCI_SEAL_OVERHEAD;
    return KUNCI_OK;
}

int kunci_unseal(const struct kunci_keys *keys, const uint8_t *sealed, size_t len, uint8_t *out,
                 size_t out_size, size_t *out_len_r)
{
    if (len < KUNCI_SEAL_OVERHEAD || out_size < len - KUNCI_SEAL_OVERHEAD)
        return KUNCI_ERR_INVALID;
    if (crypto_secretbox_open_easy(out, sealed + crypto_secretbox_NONCEBYTES,
                                   len - crypto_secretbox_NONCEBYTES, sealed,
                                   keys->encryption) != 0 &&
        (keys->previous == NULL ||
         crypto_secretbox_open_easy(out, sealed + crypto_secretbox_NONCEBYTES,
                                    len - crypto_secretbox_NONCEBYTES, sealed,
                                    keys->previous->encryption) != 0))
        return KUNCI_ERR_CRYPTO;
    *out_len_r = len - KUNCI_SEAL_OVERHEAD;
    return KUNCI_OK;
}

bool kunci_sealed_under_current(const struct kunci_keys *keys, const uint8_t *sealed, size_t len)
{
    uint8_t plain[256];
    if (len < KUNCI_SEAL_OVERHEAD || len - KUNCI_SEAL_OVERHEAD > sizeof(plain))
        return false;
    bool ok = crypto_secretbox_open_easy(plain, sealed + crypto_secretbox_NONCEBYTES,
                                         len - crypto_secretbox_NONCEBYTES, sealed,
                                         keys->encryption) == 0;
    sodium_memzero(plain, sizeof(plain));
    return ok;
}
