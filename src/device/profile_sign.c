/* CMS SignedData over a profile (profile_sign.h), with OpenSSL: no ASN.1 written here. */
#include "device/profile_sign.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/err.h"

struct kunci_profile_signer {
    X509 *cert;
    EVP_PKEY *key;
    STACK_OF(X509) * chain; /* intermediates sent along, maybe empty */
};

static void openssl_reason(char *err, size_t size, const char *what, const char *path)
{
    unsigned long e = ERR_get_error();
    char reason[160] = "not in PEM format";
    if (e != 0)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    snprintf(err, size, "%s %s: %s", what, path, reason);
}

static FILE *open_pem(const char *path, bool secret, char *err, size_t size)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (secret && (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0)) {
        snprintf(err, size, "%s is readable by group or others; run chmod 600 on it", path);
        close(fd);
        return NULL;
    }
    FILE *f = fdopen(fd, "r");
    if (f == NULL)
        close(fd);
    return f;
}

static int load_certs(struct kunci_profile_signer *s, const char *path, char *err, size_t size)
{
    FILE *f = open_pem(path, false, err, size);
    X509 *x;
    if (f == NULL)
        return KUNCI_ERR_IO;
    s->cert = PEM_read_X509(f, NULL, NULL, NULL);
    if (s->cert == NULL) {
        fclose(f);
        openssl_reason(err, size, "profile_signing_cert", path);
        return KUNCI_ERR_INVALID;
    }
    while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
        if (sk_X509_push(s->chain, x) <= 0) {
            X509_free(x);
            fclose(f);
            return KUNCI_ERR_NOMEM;
        }
    ERR_clear_error(); /* the end of the file */
    fclose(f);
    return KUNCI_OK;
}

int kunci_profile_signer_load(const char *cert_path, const char *key_path,
                              struct kunci_profile_signer **signer_r, char *err, size_t err_size)
{
    struct kunci_profile_signer *s = calloc(1, sizeof(*s));
    int r = KUNCI_ERR_NOMEM;
    FILE *f = NULL;

    *signer_r = NULL;
    if (s == NULL || (s->chain = sk_X509_new_null()) == NULL)
        goto out;
    if ((r = load_certs(s, cert_path, err, err_size)) != KUNCI_OK)
        goto out;
    if ((f = open_pem(key_path, true, err, err_size)) == NULL) {
        r = KUNCI_ERR_IO;
        goto out;
    }
    s->key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    if (s->key == NULL) {
        openssl_reason(err, err_size, "profile_signing_key", key_path);
        r = KUNCI_ERR_INVALID;
        goto out;
    }
    if (X509_check_private_key(s->cert, s->key) != 1) {
        ERR_clear_error();
        snprintf(err, err_size, "profile_signing_key %s is not the key of profile_signing_cert %s",
                 key_path, cert_path);
        r = KUNCI_ERR_INVALID;
        goto out;
    }
    *signer_r = s;
    s = NULL;
    r = KUNCI_OK;
out:
    if (f != NULL)
        fclose(f);
    kunci_profile_signer_free(s);
    return r;
}

void kunci_profile_signer_free(struct kunci_profile_signer *s)
{
    if (s == NULL)
        return;
    X509_free(s->cert);
    EVP_PKEY_free(s->key);
    sk_X509_pop_free(s->chain, X509_free);
    free(s);
}

void kunci_profile_signer_subject(const struct kunci_profile_signer *s, char *out, size_t size)
{
    X509_NAME_oneline(X509_get_subject_name(s->cert), out, (int)size);
}

int kunci_profile_sign(const struct kunci_profile_signer *s, const char *data, size_t len,
                       uint8_t **der_r, size_t *der_len_r)
{
    BIO *in = BIO_new_mem_buf(data, (int)len);
    BIO *out = BIO_new(BIO_s_mem());
    CMS_ContentInfo *cms = NULL;
    int r = KUNCI_ERR_CRYPTO;
    char *mem;
    long n;

    *der_r = NULL;
    if (in == NULL || out == NULL || len > INT32_MAX) {
        r = KUNCI_ERR_NOMEM;
        goto out;
    }
    /* Binary: the property list is signed byte for byte, not as MIME text. */
    cms = CMS_sign(s->cert, s->key, s->chain, in, CMS_BINARY);
    if (cms == NULL || i2d_CMS_bio(out, cms) != 1)
        goto out;
    n = BIO_get_mem_data(out, &mem);
    if (n <= 0 || (*der_r = malloc((size_t)n)) == NULL) {
        r = KUNCI_ERR_NOMEM;
        goto out;
    }
    memcpy(*der_r, mem, (size_t)n);
    sodium_memzero(mem, (size_t)n);
    *der_len_r = (size_t)n;
    r = KUNCI_OK;
out:
    ERR_clear_error();
    CMS_ContentInfo_free(cms);
    BIO_free(in);
    BIO_free(out);
    return r;
}
