#include "core/keys.h"
#include "core/err.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KEY_MAGIC     "kunci-key-v1 "
#define KEY_CONTEXT   "kuncikey" /* crypto_kdf contexts are exactly 8 bytes */
#define MASTER_BYTES  crypto_kdf_KEYBYTES
#define KEY_LINE_SIZE (sizeof(KEY_MAGIC) - 1 + MASTER_BYTES * 2 + 1)

int kunci_keys_create(const char *path)
{
    uint8_t master[MASTER_BYTES];
    char line[KEY_LINE_SIZE + 1];
    int fd, r = KUNCI_ERR_INTERNAL;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? KUNCI_ERR_EXISTS : KUNCI_ERR_IO;
    crypto_kdf_keygen(master);
    memcpy(line, KEY_MAGIC, sizeof(KEY_MAGIC) - 1);
    sodium_bin2hex(line + sizeof(KEY_MAGIC) - 1, MASTER_BYTES * 2 + 1, master, MASTER_BYTES);
    line[KEY_LINE_SIZE - 1] = '\n';
    if (write(fd, line, KEY_LINE_SIZE) != (ssize_t)KEY_LINE_SIZE || fsync(fd) != 0) {
        r = KUNCI_ERR_IO;
        unlink(path);
        goto out;
    }
    r = KUNCI_OK;
out:
    close(fd);
    sodium_memzero(master, sizeof(master));
    sodium_memzero(line, sizeof(line));
    return r;
}

int kunci_keys_load(const char *path, struct kunci_keys **keys_r)
{
    uint8_t master[MASTER_BYTES];
    char line[KEY_LINE_SIZE + 1];
    struct kunci_keys *keys = NULL;
    struct stat st;
    size_t bin_len = 0;
    ssize_t n;
    int fd, r = KUNCI_ERR_INTERNAL;

    *keys_r = NULL;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return errno == ENOENT ? KUNCI_ERR_NOT_FOUND : KUNCI_ERR_IO;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        r = KUNCI_ERR_IO;
        goto out;
    }
    if ((st.st_mode & 077) != 0) {
        r = KUNCI_ERR_KEY_PERMS;
        goto out;
    }
    n = read(fd, line, sizeof(line));
    if (n < (ssize_t)KEY_LINE_SIZE - 1 || memcmp(line, KEY_MAGIC, sizeof(KEY_MAGIC) - 1) != 0 ||
        sodium_hex2bin(master, sizeof(master), line + sizeof(KEY_MAGIC) - 1, MASTER_BYTES * 2, NULL,
                       &bin_len, NULL) != 0 ||
        bin_len != MASTER_BYTES) {
        r = KUNCI_ERR_INVALID;
        goto out;
    }
    keys = sodium_malloc(sizeof(*keys));
    if (keys == NULL) {
        r = KUNCI_ERR_NOMEM;
        goto out;
    }
    crypto_kdf_derive_from_key(keys->app_password_pepper, KUNCI_SUBKEY_BYTES,
                               KUNCI_SUBKEY_APP_PASSWORD_PEPPER, KEY_CONTEXT, master);
    crypto_kdf_derive_from_key(keys->encryption, KUNCI_SUBKEY_BYTES, KUNCI_SUBKEY_ENCRYPTION,
                               KEY_CONTEXT, master);
    crypto_kdf_derive_from_key(keys->tokens, KUNCI_SUBKEY_BYTES, KUNCI_SUBKEY_TOKENS, KEY_CONTEXT,
                               master);
    uint8_t fingerprint[KUNCI_KEY_FINGERPRINT_HEX / 2];
    crypto_kdf_derive_from_key(fingerprint, sizeof(fingerprint), KUNCI_SUBKEY_FINGERPRINT,
                               KEY_CONTEXT, master);
    sodium_bin2hex(keys->fingerprint, sizeof(keys->fingerprint), fingerprint, sizeof(fingerprint));
    kunci_keys_prepare(keys);
    sodium_mprotect_readonly(keys);
    *keys_r = keys;
    keys = NULL;
    r = KUNCI_OK;
out:
    close(fd);
    sodium_memzero(master, sizeof(master));
    sodium_memzero(line, sizeof(line));
    if (keys != NULL)
        sodium_free(keys);
    return r;
}

void kunci_keys_prepare(struct kunci_keys *keys)
{
    crypto_auth_hmacsha256_init(&keys->app_password_hmac, keys->app_password_pepper,
                                KUNCI_SUBKEY_BYTES);
}

void kunci_keys_free(struct kunci_keys *keys)
{
    if (keys != NULL)
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
                                   keys->encryption) != 0)
        return KUNCI_ERR_CRYPTO;
    *out_len_r = len - KUNCI_SEAL_OVERHEAD;
    return KUNCI_OK;
}
