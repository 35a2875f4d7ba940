/* Apple configuration profiles signed as CMS SignedData (OpenSSL's CMS API), so the device
 * shows who made the profile and that nobody changed it on the way. */
#ifndef KUNCI_PROFILE_SIGN_H
#define KUNCI_PROFILE_SIGN_H

#include <stddef.h>
#include <stdint.h>

struct kunci_profile_signer;

/* Loads the certificate (PEM: the signer's first, then any intermediates to send with it)
 * and its private key (PEM, mode 0600 or stricter). On error err says what is wrong. */
int kunci_profile_signer_load(const char *cert_path, const char *key_path,
                              struct kunci_profile_signer **signer_r, char *err, size_t err_size);
void kunci_profile_signer_free(struct kunci_profile_signer *signer);
/* The certificate's subject, for the log ("CN=..."). */
void kunci_profile_signer_subject(const struct kunci_profile_signer *signer, char *out,
                                  size_t size);
/* data signed, the data inside (DER). *der_r is malloc'd; the caller wipes and frees it (it
 * holds the profile, password included). Safe from several threads at once. */
int kunci_profile_sign(const struct kunci_profile_signer *signer, const char *data, size_t len,
                       uint8_t **der_r, size_t *der_len_r);

#endif
