/* WebAuthn on the server: what a browser's navigator.credentials.create() and .get() return,
 * checked for one relying party (W3C Web Authentication, Level 2, sections 7.1 and 7.2).
 * Signatures, the attestation statement and the authenticator data are checked by libfido2,
 * the attestation object is read by libcbor, clientDataJSON by jansson: no hand-written
 * CBOR or signature code. Pure functions: no store, no clock. */
#ifndef KUNCI_WEBAUTHN_H
#define KUNCI_WEBAUTHN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/types.h"

#define KUNCI_CHALLENGE_BYTES   32
#define KUNCI_CLIENT_DATA_MAX   4096 /* clientDataJSON: a few hundred bytes in practice */
#define KUNCI_ATTESTATION_MAX   8192 /* an attestation object with a certificate chain */
#define KUNCI_AUTH_DATA_MAX     1024
#define KUNCI_SIGNATURE_MAX     512
#define KUNCI_RP_ID_MAX         253
#define KUNCI_ORIGIN_MAX        300
#define KUNCI_USER_HANDLE_BYTES 16

/* The authenticator data's flags (section 6.1). */
#define KUNCI_AUTHDATA_UP 0x01 /* user present */
#define KUNCI_AUTHDATA_UV 0x04 /* user verified: PIN, biometric */
#define KUNCI_AUTHDATA_BE 0x08 /* backup eligible */
#define KUNCI_AUTHDATA_BS 0x10 /* backed up */

enum kunci_webauthn_ceremony {
    KUNCI_CEREMONY_CREATE, /* "webauthn.create" */
    KUNCI_CEREMONY_GET,    /* "webauthn.get" */
};

/* Checks clientDataJSON: its type, the origin (exactly the configured one), not embedded
 * cross-origin; copies the challenge it signs. KUNCI_ERR_INVALID with *why_r otherwise. */
int kunci_webauthn_client_data(const uint8_t *json, size_t len,
                               enum kunci_webauthn_ceremony ceremony, const char *origin,
                               uint8_t challenge_r[KUNCI_CHALLENGE_BYTES], const char **why_r);

/* Verifies a registration's attestation object over clientDataJSON for rp_id: the rp id's
 * hash, user presence (and verification when require_uv), attestation "none" or "packed"
 * (self, or x5c: the signature under the certificate's key; the chain is not judged). Fills
 * the credential's id, key, algorithm, counter, AAGUID and flags. */
int kunci_webauthn_register(const char *rp_id, const uint8_t *client_data, size_t client_data_len,
                            const uint8_t *attestation, size_t attestation_len, bool require_uv,
                            struct kunci_passkey *out, const char **why_r);

/* Verifies an assertion by key: the rp id's hash, user presence (and verification when
 * require_uv), the signature over authenticatorData and the hash of clientDataJSON. The new
 * counter and the flags come back; the caller checks the counter against the stored one. */
int kunci_webauthn_assert(const char *rp_id, const uint8_t *client_data, size_t client_data_len,
                          const uint8_t *auth_data, size_t auth_data_len, const uint8_t *sig,
                          size_t sig_len, const struct kunci_passkey *key, bool require_uv,
                          uint32_t *sign_count_r, uint8_t *flags_r, const char **why_r);

/* The counter rule (section 6.1.1): a new value must exceed the stored one, unless both
 * are 0 (authenticators that keep no counter, like most synced passkeys). */
bool kunci_webauthn_counter_ok(uint32_t stored, uint32_t presented);

/* "01020304-0506-..." */
void kunci_aaguid_format(const uint8_t aaguid[KUNCI_AAGUID_BYTES], char out[37]);

#endif
