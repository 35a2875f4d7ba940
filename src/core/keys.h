/* The server key: one random master key in a file outside the database, from which
 * purpose-bound subkeys are derived (libsodium crypto_kdf). A database copied without
 * the key file reveals no app password and decrypts nothing.
 *
 * Rotation (kunci key rotate) puts a new master key in the file and keeps the old one as
 * "previous" until kunci key finish-rotation: sealed secrets open under either, app
 * passwords are looked up under either (and moved to the current one at their first use).
 * What users enrolled with the server's key in it (backup codes, passkeys' user handles)
 * is bound to the enrolment key, which a rotation keeps: written into the file at the first
 * rotation as it was derived until then. */
#ifndef KUNCI_KEYS_H
#define KUNCI_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <sodium.h>
#include <stdint.h>

#define KUNCI_SUBKEY_BYTES 32

enum kunci_subkey_id {
    KUNCI_SUBKEY_APP_PASSWORD_PEPPER = 1,
    KUNCI_SUBKEY_ENCRYPTION = 2,
    KUNCI_SUBKEY_TOKENS = 3,
    KUNCI_SUBKEY_FINGERPRINT = 4,
};

/* A key's public name: 16 bytes derived from it, in hex. It reveals nothing of the key; the
 * database keeps the fingerprint of its key file (core/key_binding.h). */
#define KUNCI_KEY_FINGERPRINT_HEX 32

struct kunci_keys {
    uint8_t app_password_pepper[KUNCI_SUBKEY_BYTES];
    uint8_t encryption[KUNCI_SUBKEY_BYTES];
    uint8_t tokens[KUNCI_SUBKEY_BYTES];
    /* HMAC-SHA256 keyed with the pepper, ready for a message: a digest on the auth path
     * copies it instead of hashing the key's pads again (half of its SHA-256 blocks). */
    crypto_auth_hmacsha256_state app_password_hmac;
    /* BLAKE2b keyed with a key derived from the pepper, ready for a message: what a request
     * thread's cache of lookups is keyed by (kunci_app_password_cache_key). One compression
     * where the HMAC takes two of SHA-256, which costs several times more. */
    crypto_generichash_state app_password_cache;
    char fingerprint[KUNCI_KEY_FINGERPRINT_HEX + 1];
    /* Backup codes and passkeys' user handles: kept across rotations. */
    uint8_t enrolment[KUNCI_SUBKEY_BYTES];
    /* During a rotation, the previous key's (its enrolment is this one's); else NULL. */
    struct kunci_keys *previous;
};

/* Writes a new key file (mode 0600, O_EXCL). KUNCI_ERR_EXISTS when it is already there. */
int kunci_keys_create(const char *path);

/* Loads the key file into guarded memory (sodium_malloc, read-only afterwards).
 * KUNCI_ERR_KEY_PERMS when group or others may read or write the file. */
int kunci_keys_load(const char *path, struct kunci_keys **keys_r);

void kunci_keys_free(struct kunci_keys *keys);

/* kunci key rotate: a new master key becomes the current one and the current one the
 * previous, in a new file put in place by rename (same owner, 0600). KUNCI_ERR_EXISTS when
 * the file holds a previous key already (a rotation to finish first). */
int kunci_keys_rotate_file(const char *path);
/* kunci key finish-rotation: the file without its previous key. */
int kunci_keys_drop_previous(const char *path);

/* Computes what follows from the subkeys (app_password_hmac); kunci_keys_load calls it, and
 * so must whoever fills a struct kunci_keys by hand (the unit tests). */
void kunci_keys_prepare(struct kunci_keys *keys);

/* Encryption at rest (secretbox under the derived encryption key): out holds nonce, MAC and
 * ciphertext, len + KUNCI_SEAL_OVERHEAD bytes. */
#define KUNCI_SEAL_OVERHEAD (24 + 16)
int kunci_seal(const struct kunci_keys *keys, const uint8_t *plain, size_t len, uint8_t *out,
               size_t out_size, size_t *out_len_r);
/* Whether sealed opens under the current key (not the previous one). */
bool kunci_sealed_under_current(const struct kunci_keys *keys, const uint8_t *sealed, size_t len);
/* Opens under the current key, or during a rotation the previous one. */
int kunci_unseal(const struct kunci_keys *keys, const uint8_t *sealed, size_t len, uint8_t *out,
                 size_t out_size, size_t *out_len_r);

#endif
