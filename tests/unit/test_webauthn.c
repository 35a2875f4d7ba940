/* Passkeys: a software authenticator in this file (OpenSSL's P-256 and libsodium's Ed25519
 * keys, libcbor for the attestation object) makes registrations and assertions as a browser
 * would return them; core/webauthn.c must accept them, and refuse each one tampered with: a
 * signature, the origin, the rp id's hash, the ceremony, user verification. Then
 * core/passkey.c on a real store: challenges bound to their session and purpose, answered
 * once, in time; counters that go backwards; user handles; another account's credential. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cbor.h>
#include <jansson.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/accounts.h"
#include "core/err.h"
#include "core/passkey.h"
#include "core/settings.h"
#include "core/webauthn.h"
#include "fixture.h"

#define RP     "login.example.org"
#define ORIGIN "https://login.example.org"
#define NOW    1800000000

/* ---- The software authenticator ---- */

struct soft_auth {
    bool eddsa;
    EVP_PKEY *key; /* ES256 */
    uint8_t ed_pk[crypto_sign_PUBLICKEYBYTES], ed_sk[crypto_sign_SECRETKEYBYTES];
    uint8_t cred_id[32];
    uint8_t aaguid[16];
    uint32_t count;
    uint8_t flags; /* UP, UV, BE, BS */
};

static void soft_new(struct soft_auth *a, bool eddsa)
{
    memset(a, 0, sizeof(*a));
    a->eddsa = eddsa;
    if (eddsa)
        crypto_sign_keypair(a->ed_pk, a->ed_sk);
    else
        assert_non_null(a->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"));
    randombytes_buf(a->cred_id, sizeof(a->cred_id));
    memcpy(a->aaguid, "kunci-test-auth!", 16);
    a->flags = KUNCI_AUTHDATA_UP | KUNCI_AUTHDATA_UV;
}

static void soft_free(struct soft_auth *a)
{
    EVP_PKEY_free(a->key);
}

static void add_pair(cbor_item_t *map, cbor_item_t *k, cbor_item_t *v)
{
    assert_true(cbor_map_add(map, (struct cbor_pair){cbor_move(k), cbor_move(v)}));
}

/* The credential's public key as COSE (RFC 9053): EC2 P-256 or OKP Ed25519. */
static size_t cose_key(const struct soft_auth *a, uint8_t *out, size_t max)
{
    cbor_item_t *m = cbor_new_definite_map(a->eddsa ? 4 : 5);
    if (a->eddsa) {
        add_pair(m, cbor_build_uint8(1), cbor_build_uint8(1));   /* kty: OKP */
        add_pair(m, cbor_build_uint8(3), cbor_build_negint8(7)); /* alg: -8 */
        add_pair(m, cbor_build_negint8(0), cbor_build_uint8(6)); /* crv: Ed25519 */
        add_pair(m, cbor_build_negint8(1), cbor_build_bytestring(a->ed_pk, 32));
    } else {
        uint8_t x[32], y[32];
        BIGNUM *bx = NULL, *by = NULL;
        assert_int_equal(EVP_PKEY_get_bn_param(a->key, OSSL_PKEY_PARAM_EC_PUB_X, &bx), 1);
        assert_int_equal(EVP_PKEY_get_bn_param(a->key, OSSL_PKEY_PARAM_EC_PUB_Y, &by), 1);
        BN_bn2binpad(bx, x, 32);
        BN_bn2binpad(by, y, 32);
        BN_free(bx);
        BN_free(by);
        add_pair(m, cbor_build_uint8(1), cbor_build_uint8(2));   /* kty: EC2 */
        add_pair(m, cbor_build_uint8(3), cbor_build_negint8(6)); /* alg: -7 */
        add_pair(m, cbor_build_negint8(0), cbor_build_uint8(1)); /* crv: P-256 */
        add_pair(m, cbor_build_negint8(1), cbor_build_bytestring(x, 32));
        add_pair(m, cbor_build_negint8(2), cbor_build_bytestring(y, 32));
    }
    unsigned char *buf = NULL;
    size_t size = 0, n = cbor_serialize_alloc(m, &buf, &size);
    assert_true(n > 0 && n <= max);
    memcpy(out, buf, n);
    free(buf);
    cbor_decref(&m);
    return n;
}

/* rpIdHash, flags, counter, and with attested, the credential (section 6.1). */
static size_t auth_data(struct soft_auth *a, const char *rp_id, bool attested, uint8_t *out)
{
    size_t n = 0;
    crypto_hash_sha256(out, (const unsigned char *)rp_id, strlen(rp_id));
    n += 32;
    out[n++] = (uint8_t)(a->flags | (attested ? 0x40 : 0));
    out[n++] = (uint8_t)(a->count >> 24);
    out[n++] = (uint8_t)(a->count >> 16);
    out[n++] = (uint8_t)(a->count >> 8);
    out[n++] = (uint8_t)a->count;
    if (attested) {
        memcpy(out + n, a->aaguid, 16);
        n += 16;
        out[n++] = 0;
        out[n++] = sizeof(a->cred_id);
        memcpy(out + n, a->cred_id, sizeof(a->cred_id));
        n += sizeof(a->cred_id);
        n += cose_key(a, out + n, 200);
    }
    return n;
}

/* A signature by key (or the authenticator's Ed25519 key) over msg. */
static size_t sign_with(EVP_PKEY *key, const struct soft_auth *a, const uint8_t *msg, size_t len,
                        uint8_t *sig)
{
    if (key == NULL && a->eddsa) {
        crypto_sign_detached(sig, NULL, msg, len, a->ed_sk);
        return crypto_sign_BYTES;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    size_t n = 128;
    assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key ? key : a->key), 1);
    assert_int_equal(EVP_DigestSign(md, sig, &n, msg, len), 1);
    EVP_MD_CTX_free(md);
    return n;
}

/* What a signature covers: authenticatorData || SHA-256(clientDataJSON). */
static size_t signed_part(const uint8_t *ad, size_t ad_len, const char *cd, uint8_t *out)
{
    memcpy(out, ad, ad_len);
    crypto_hash_sha256(out + ad_len, (const unsigned char *)cd, strlen(cd));
    return ad_len + 32;
}

static void client_data(const char *type, const uint8_t challenge[32], const char *origin,
                        char out[512])
{
    char b64[64];
    sodium_bin2base64(b64, sizeof(b64), challenge, 32, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(out, 512,
             "{\"type\":\"%s\",\"challenge\":\"%s\",\"origin\":\"%s\",\"crossOrigin\":false}", type,
             b64, origin);
}

/* A self-signed attestation certificate (packed with x5c), DER. */
static size_t attestation_cert(EVP_PKEY *att, uint8_t *out)
{
    X509 *x = X509_new();
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 3600);
    X509_set_pubkey(x, att);
    X509_NAME *name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"kunci test", -1,
                               -1, 0);
    X509_set_issuer_name(x, name);
    assert_true(X509_sign(x, att, EVP_sha256()) > 0);
    unsigned char *p = out;
    int n = i2d_X509(x, &p);
    assert_true(n > 0);
    X509_free(x);
    return (size_t)n;
}

enum att_format { ATT_NONE, ATT_PACKED_SELF, ATT_PACKED_X5C };

/* A registration as navigator.credentials.create() returns it. */
static size_t make_attestation(struct soft_auth *a, const char *rp_id, enum att_format fmt,
                               const char *cd, uint8_t *out, size_t max)
{
    uint8_t ad[512], msg[600], sig[128], cert[1024];
    size_t ad_len = auth_data(a, rp_id, true, ad);
    cbor_item_t *stmt = cbor_new_definite_map(fmt == ATT_NONE ? 0 : fmt == ATT_PACKED_SELF ? 2 : 3);
    if (fmt != ATT_NONE) {
        EVP_PKEY *att = fmt == ATT_PACKED_X5C ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") : NULL;
        size_t n = signed_part(ad, ad_len, cd, msg);
        size_t sig_len = sign_with(att, a, msg, n, sig);
        add_pair(stmt, cbor_build_string("alg"),
                 a->eddsa && att == NULL ? cbor_build_negint8(7) : cbor_build_negint8(6));
        add_pair(stmt, cbor_build_string("sig"), cbor_build_bytestring(sig, sig_len));
        if (att != NULL) {
            cbor_item_t *x5c = cbor_new_definite_array(1);
            assert_true(cbor_array_push(
                x5c, cbor_move(cbor_build_bytestring(cert, attestation_cert(att, cert)))));
            add_pair(stmt, cbor_build_string("x5c"), x5c);
            EVP_PKEY_free(att);
        }
    }
    cbor_item_t *obj = cbor_new_definite_map(3);
    add_pair(obj, cbor_build_string("fmt"), cbor_build_string(fmt == ATT_NONE ? "none" : "packed"));
    add_pair(obj, cbor_build_string("attStmt"), stmt);
    add_pair(obj, cbor_build_string("authData"), cbor_build_bytestring(ad, ad_len));
    unsigned char *buf = NULL;
    size_t size = 0, n = cbor_serialize_alloc(obj, &buf, &size);
    assert_true(n > 0 && n <= max);
    memcpy(out, buf, n);
    free(buf);
    cbor_decref(&obj);
    return n;
}

/* An assertion as navigator.credentials.get() returns it; the counter moves first. */
static void make_assertion(struct soft_auth *a, const char *rp_id, const char *cd, uint8_t *ad,
                           size_t *ad_len, uint8_t *sig, size_t *sig_len)
{
    uint8_t msg[600];
    a->count++;
    *ad_len = auth_data(a, rp_id, false, ad);
    *sig_len = sign_with(NULL, a, msg, signed_part(ad, *ad_len, cd, msg), sig);
}

/* ---- core/webauthn.c: the checks themselves ---- */

static const uint8_t challenge[32] = "a challenge of thirty-two bytes";

static int registered(struct soft_auth *a, enum att_format fmt, const char *origin,
                      const char *rp_id, bool require_uv, struct kunci_passkey *pk)
{
    char cd[512];
    uint8_t att[4096], got[32];
    const char *why = NULL;
    client_data("webauthn.create", challenge, origin, cd);
    size_t n = make_attestation(a, rp_id, fmt, cd, att, sizeof(att));
    int r = kunci_webauthn_client_data((const uint8_t *)cd, strlen(cd), KUNCI_CEREMONY_CREATE,
                                       ORIGIN, got, &why);
    if (r != KUNCI_OK)
        return r;
    assert_memory_equal(got, challenge, 32);
    memset(pk, 0, sizeof(*pk));
    return kunci_webauthn_register(RP, (const uint8_t *)cd, strlen(cd), att, n, require_uv, pk,
                                   &why);
}

static void test_registration_formats(void **state)
{
    struct soft_auth a, e;
    struct kunci_passkey pk;
    (void)state;

    soft_new(&a, false);
    a.count = 7;
    assert_int_equal(registered(&a, ATT_NONE, ORIGIN, RP, true, &pk), KUNCI_OK);
    assert_int_equal(pk.algorithm, -7);
    assert_int_equal(pk.credential_id_len, 32);
    assert_memory_equal(pk.credential_id, a.cred_id, 32);
    assert_int_equal(pk.public_key_len, 64);
    assert_int_equal(pk.sign_count, 7);
    assert_memory_equal(pk.aaguid, "kunci-test-auth!", 16);
    assert_true(pk.user_verified);
    assert_false(pk.backup_eligible);
    char id[37];
    kunci_aaguid_format(pk.aaguid, id);
    assert_string_equal(id, "6b756e63-692d-7465-7374-2d6175746821");

    a.flags |= KUNCI_AUTHDATA_BE | KUNCI_AUTHDATA_BS;
    assert_int_equal(registered(&a, ATT_PACKED_SELF, ORIGIN, RP, true, &pk), KUNCI_OK);
    assert_true(pk.backup_eligible && pk.backup_state);
    assert_int_equal(registered(&a, ATT_PACKED_X5C, ORIGIN, RP, true, &pk), KUNCI_OK);

    soft_new(&e, true);
    assert_int_equal(registered(&e, ATT_NONE, ORIGIN, RP, true, &pk), KUNCI_OK);
    assert_int_equal(pk.algorithm, -8);
    assert_int_equal(pk.public_key_len, 32);
    assert_int_equal(registered(&e, ATT_PACKED_SELF, ORIGIN, RP, true, &pk), KUNCI_OK);
    soft_free(&a);
    soft_free(&e);
}

static void test_registration_refused(void **state)
{
    struct soft_auth a;
    struct kunci_passkey pk;
    char cd[512];
    uint8_t att[4096], got[32];
    const char *why = NULL;
    (void)state;

    soft_new(&a, false);
    /* Another site's page, another site's rp id, a packed signature tampered with. */
    assert_int_equal(registered(&a, ATT_NONE, "https://login.example.org.evil.test", RP, true, &pk),
                     KUNCI_ERR_INVALID);
    assert_int_equal(registered(&a, ATT_NONE, ORIGIN, "example.org", true, &pk), KUNCI_ERR_INVALID);
    client_data("webauthn.create", challenge, ORIGIN, cd);
    size_t n = make_attestation(&a, RP, ATT_PACKED_SELF, cd, att, sizeof(att));
    /* The signature's last byte sits before authData's bytes in this map's order: find the
     * "sig" value and flip a byte inside it. */
    uint8_t *sig = memmem(att, n, "csig", 4);
    assert_non_null(sig);
    sig[10] ^= 0x01;
    assert_int_equal(
        kunci_webauthn_register(RP, (const uint8_t *)cd, strlen(cd), att, n, true, &pk, &why),
        KUNCI_ERR_INVALID);
    /* clientDataJSON other than the one signed. */
    n = make_attestation(&a, RP, ATT_PACKED_X5C, cd, att, sizeof(att));
    cd[2] = 'T';
    assert_int_equal(
        kunci_webauthn_register(RP, (const uint8_t *)cd, strlen(cd), att, n, true, &pk, &why),
        KUNCI_ERR_INVALID);
    /* A get() answer where a create() is due, and no challenge at all. */
    client_data("webauthn.get", challenge, ORIGIN, cd);
    assert_int_equal(kunci_webauthn_client_data((const uint8_t *)cd, strlen(cd),
                                                KUNCI_CEREMONY_CREATE, ORIGIN, got, &why),
                     KUNCI_ERR_INVALID);
    const char *bare = "{\"type\":\"webauthn.create\",\"origin\":\"" ORIGIN "\"}";
    assert_int_equal(kunci_webauthn_client_data((const uint8_t *)bare, strlen(bare),
                                                KUNCI_CEREMONY_CREATE, ORIGIN, got, &why),
                     KUNCI_ERR_INVALID);
    /* No user verification where it is required; accepted where it is only preferred. */
    a.flags = KUNCI_AUTHDATA_UP;
    assert_int_equal(registered(&a, ATT_NONE, ORIGIN, RP, true, &pk), KUNCI_ERR_INVALID);
    assert_int_equal(registered(&a, ATT_NONE, ORIGIN, RP, false, &pk), KUNCI_OK);
    /* Not even user presence. */
    a.flags = 0;
    assert_int_equal(registered(&a, ATT_NONE, ORIGIN, RP, false, &pk), KUNCI_ERR_INVALID);
    /* Garbage and a truncated object. */
    assert_int_equal(kunci_webauthn_register(RP, (const uint8_t *)cd, strlen(cd),
                                             (const uint8_t *)"\xa1\x63", 2, false, &pk, &why),
                     KUNCI_ERR_INVALID);
    soft_free(&a);
}

static void test_assertions(void **state)
{
    struct soft_auth keys[2];
    struct kunci_passkey pk;
    char cd[512];
    uint8_t ad[128], sig[128];
    size_t ad_len, sig_len;
    uint32_t count;
    uint8_t flags;
    const char *why = NULL;
    (void)state;

    soft_new(&keys[0], false);
    soft_new(&keys[1], true);
    for (int i = 0; i < 2; i++) {
        struct soft_auth *a = &keys[i];
        assert_int_equal(registered(a, ATT_NONE, ORIGIN, RP, true, &pk), KUNCI_OK);
        client_data("webauthn.get", challenge, ORIGIN, cd);
        make_assertion(a, RP, cd, ad, &ad_len, sig, &sig_len);
        assert_int_equal(kunci_webauthn_assert(RP, (const uint8_t *)cd, strlen(cd), ad, ad_len, sig,
                                               sig_len, &pk, true, &count, &flags, &why),
                         KUNCI_OK);
        assert_int_equal(count, a->count);
        /* A signature tampered with. */
        sig[sig_len - 1] ^= 0x01;
        assert_int_equal(kunci_webauthn_assert(RP, (const uint8_t *)cd, strlen(cd), ad, ad_len, sig,
                                               sig_len, &pk, true, &count, &flags, &why),
                         KUNCI_ERR_INVALID);
        sig[sig_len - 1] ^= 0x01;
        /* A counter rewritten after signing. */
        ad[36] ^= 0x01;
        assert_int_equal(kunci_webauthn_assert(RP, (const uint8_t *)cd, strlen(cd), ad, ad_len, sig,
                                               sig_len, &pk, true, &count, &flags, &why),
                         KUNCI_ERR_INVALID);
        /* Signed for another rp id. */
        make_assertion(a, "evil.test", cd, ad, &ad_len, sig, &sig_len);
        assert_int_equal(kunci_webauthn_assert(RP, (const uint8_t *)cd, strlen(cd), ad, ad_len, sig,
                                               sig_len, &pk, true, &count, &flags, &why),
                         KUNCI_ERR_INVALID);
        /* Without user verification: refused where required, not where preferred. */
        a->flags = KUNCI_AUTHDATA_UP;
        make_assertion(a, RP, cd, ad, &ad_len, sig, &sig_len);
        assert_int_equal(kunci_webauthn_assert(RP, (const uint8_t *)cd, strlen(cd), ad, ad_len, sig,
                                               sig_len, &pk, true, &count, &flags, &why),
                         KUNCI_ERR_INVALID);
        assert_int_equal(kunci_webauthn_assert(RP, (const uint8_t *)cd, strlen(cd), ad, ad_len, sig,
                                               sig_len, &pk, false, &count, &flags, &why),
                         KUNCI_OK);
    }
    /* One authenticator's signature under the other's key. */
    assert_int_equal(registered(&keys[0], ATT_NONE, ORIGIN, RP, false, &pk), KUNCI_OK);
    make_assertion(&keys[1], RP, cd, ad, &ad_len, sig, &sig_len);
    assert_int_equal(kunci_webauthn_assert(RP, (const uint8_t *)cd, strlen(cd), ad, ad_len, sig,
                                           sig_len, &pk, false, &count, &flags, &why),
                     KUNCI_ERR_INVALID);
    /* The counter rule: it grows, or stays at 0. */
    assert_true(kunci_webauthn_counter_ok(0, 0));
    assert_true(kunci_webauthn_counter_ok(5, 6));
    assert_false(kunci_webauthn_counter_ok(5, 5));
    assert_false(kunci_webauthn_counter_ok(5, 4));
    assert_false(kunci_webauthn_counter_ok(5, 0));
    soft_free(&keys[0]);
    soft_free(&keys[1]);
}

/* ---- What Chromium sent (tests/browser/record_webauthn_vectors.mjs recorded it) ---- */

static size_t vector(json_t *obj, const char *key, uint8_t *out, size_t max)
{
    const char *s = json_string_value(json_object_get(obj, key));
    size_t n = 0;
    assert_non_null(s);
    assert_int_equal(sodium_base642bin(out, max, s, strlen(s), NULL, &n, NULL,
                                       sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                     0);
    return n;
}

static void test_chromium_vectors(void **state)
{
    json_error_t jerr;
    json_t *v = json_load_file(VECTORS_DIR "/chromium.json", 0, &jerr);
    uint8_t cd[1024], att[4096], ad[256], sig[128], want[32], got[32];
    struct kunci_passkey pk, packed;
    const char *why = NULL;
    uint32_t count;
    uint8_t flags;
    (void)state;

    assert_non_null(v);
    const char *origin = json_string_value(json_object_get(v, "origin"));
    json_t *none = json_object_get(v, "registration_none");
    json_t *direct = json_object_get(v, "registration_packed");
    json_t *as = json_object_get(v, "assertion");

    /* Attestation "none", then "packed" with Chromium's x5c certificate. */
    size_t cd_len = vector(none, "clientDataJSON", cd, sizeof(cd));
    vector(none, "challenge", want, sizeof(want));
    assert_int_equal(
        kunci_webauthn_client_data(cd, cd_len, KUNCI_CEREMONY_CREATE, origin, got, &why), KUNCI_OK);
    assert_memory_equal(got, want, 32);
    assert_int_equal(kunci_webauthn_client_data(cd, cd_len, KUNCI_CEREMONY_CREATE,
                                                "http://localhost", got, &why),
                     KUNCI_ERR_INVALID);
    size_t att_len = vector(none, "attestationObject", att, sizeof(att));
    assert_int_equal(
        kunci_webauthn_register("localhost", cd, cd_len, att, att_len, true, &pk, &why), KUNCI_OK);
    assert_int_equal(pk.algorithm, -7);
    uint8_t id[KUNCI_CREDENTIAL_ID_MAX];
    size_t id_len = vector(none, "id", id, sizeof(id));
    assert_int_equal(pk.credential_id_len, id_len);
    assert_memory_equal(pk.credential_id, id, id_len);
    assert_true(pk.user_verified);
    assert_int_equal(
        kunci_webauthn_register("example.org", cd, cd_len, att, att_len, true, &pk, &why),
        KUNCI_ERR_INVALID);
    assert_int_equal(
        kunci_webauthn_register("localhost", cd, cd_len, att, att_len, true, &pk, &why), KUNCI_OK);

    size_t cd2_len = vector(direct, "clientDataJSON", cd, sizeof(cd));
    att_len = vector(direct, "attestationObject", att, sizeof(att));
    assert_non_null(memmem(att, att_len, "cx5c", 4));
    assert_int_equal(
        kunci_webauthn_register("localhost", cd, cd2_len, att, att_len, true, &packed, &why),
        KUNCI_OK);
    /* Its statement signs this clientDataJSON, not another. */
    cd[cd2_len - 2] ^= 0x01;
    assert_int_equal(
        kunci_webauthn_register("localhost", cd, cd2_len, att, att_len, true, &packed, &why),
        KUNCI_ERR_INVALID);

    /* The assertion by the first credential. */
    cd_len = vector(as, "clientDataJSON", cd, sizeof(cd));
    size_t ad_len = vector(as, "authenticatorData", ad, sizeof(ad));
    size_t sig_len = vector(as, "signature", sig, sizeof(sig));
    assert_int_equal(kunci_webauthn_client_data(cd, cd_len, KUNCI_CEREMONY_GET, origin, got, &why),
                     KUNCI_OK);
    assert_int_equal(kunci_webauthn_assert("localhost", cd, cd_len, ad, ad_len, sig, sig_len, &pk,
                                           true, &count, &flags, &why),
                     KUNCI_OK);
    assert_true(kunci_webauthn_counter_ok(pk.sign_count, count) || count == 0);
    assert_true(flags & KUNCI_AUTHDATA_UV);
    /* Under the other credential's key, tampered, or for another relying party: refused. */
    assert_int_equal(kunci_webauthn_assert("localhost", cd, cd_len, ad, ad_len, sig, sig_len,
                                           &packed, true, &count, &flags, &why),
                     KUNCI_ERR_INVALID);
    sig[sig_len / 2] ^= 0x01;
    assert_int_equal(kunci_webauthn_assert("localhost", cd, cd_len, ad, ad_len, sig, sig_len, &pk,
                                           true, &count, &flags, &why),
                     KUNCI_ERR_INVALID);
    sig[sig_len / 2] ^= 0x01;
    assert_int_equal(kunci_webauthn_assert("example.org", cd, cd_len, ad, ad_len, sig, sig_len, &pk,
                                           true, &count, &flags, &why),
                     KUNCI_ERR_INVALID);
    json_decref(v);
}

/* ---- core/passkey.c on a store ---- */

struct fixture {
    struct test_store t;
    struct kunci_account alice, bob;
    uint8_t session[KUNCI_TOKEN_HASH_BYTES];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    test_store_open(&f->t);
    snprintf(f->t.ctx.cfg.rp_id, sizeof(f->t.ctx.cfg.rp_id), RP);
    snprintf(f->t.ctx.cfg.origin, sizeof(f->t.ctx.cfg.origin), ORIGIN);
    assert_int_equal(kunci_account_create(&f->t.ctx, &f->t.h, "alice@example.org", "",
                                          KUNCI_ROLE_USER, "Plum-Orbit-77", 13, NOW, &f->alice),
                     KUNCI_OK);
    assert_int_equal(kunci_account_create(&f->t.ctx, &f->t.h, "bob@example.org", "",
                                          KUNCI_ROLE_USER, "Plum-Orbit-78", 13, NOW, &f->bob),
                     KUNCI_OK);
    randombytes_buf(f->session, sizeof(f->session));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    test_store_close(&f->t);
    free(f);
    return 0;
}

/* The browser's answer to a registration, for the challenge the server gave. */
struct answer {
    char cd[512];
    uint8_t att[4096], ad[128], sig[128], handle[KUNCI_USER_HANDLE_BYTES];
    struct kunci_passkey_response r;
};

static void answer_create(struct soft_auth *a, const uint8_t c[32], bool discoverable,
                          struct answer *x)
{
    memset(x, 0, sizeof(*x));
    client_data("webauthn.create", c, ORIGIN, x->cd);
    x->r.client_data = (const uint8_t *)x->cd;
    x->r.client_data_len = strlen(x->cd);
    x->r.attestation = x->att;
    x->r.attestation_len = make_attestation(a, RP, ATT_NONE, x->cd, x->att, sizeof(x->att));
    x->r.discoverable = discoverable;
    x->r.transports = "internal";
}

static void answer_get(struct soft_auth *a, const uint8_t c[32], struct answer *x)
{
    size_t ad_len, sig_len;
    memset(x, 0, sizeof(*x));
    client_data("webauthn.get", c, ORIGIN, x->cd);
    make_assertion(a, RP, x->cd, x->ad, &ad_len, x->sig, &sig_len);
    x->r.client_data = (const uint8_t *)x->cd;
    x->r.client_data_len = strlen(x->cd);
    x->r.credential_id = a->cred_id;
    x->r.credential_id_len = sizeof(a->cred_id);
    x->r.auth_data = x->ad;
    x->r.auth_data_len = ad_len;
    x->r.signature = x->sig;
    x->r.signature_len = sig_len;
}

static int do_register(struct fixture *f, struct soft_auth *a, const struct kunci_account *acct,
                       const uint8_t *binding, int64_t issued, int64_t now,
                       struct kunci_passkey *pk)
{
    uint8_t c[32];
    struct answer x;
    const char *why;
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_REGISTER, binding, issued, c);
    answer_create(a, c, true, &x);
    return kunci_passkey_register(&f->t.ctx, &f->t.h, acct, binding, "Laptop", &x.r, now, pk, &why);
}

static void test_challenges(void **state)
{
    struct fixture *f = *state;
    struct soft_auth a;
    struct kunci_passkey pk;
    uint8_t c[32], other[KUNCI_TOKEN_HASH_BYTES];
    struct answer x;
    const char *why;

    soft_new(&a, false);
    /* Issued to another session, for another purpose, too long ago: refused. */
    memcpy(other, f->session, sizeof(other));
    other[0] ^= 1;
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_REGISTER, other, NOW, c);
    answer_create(&a, c, true, &x);
    assert_int_equal(kunci_passkey_register(&f->t.ctx, &f->t.h, &f->alice, f->session, "Laptop",
                                            &x.r, NOW, &pk, &why),
                     KUNCI_ERR_INVALID);
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_SECOND, f->session, NOW, c);
    answer_create(&a, c, true, &x);
    assert_int_equal(kunci_passkey_register(&f->t.ctx, &f->t.h, &f->alice, f->session, "Laptop",
                                            &x.r, NOW, &pk, &why),
                     KUNCI_ERR_INVALID);
    assert_int_equal(
        do_register(f, &a, &f->alice, f->session, NOW - KUNCI_CHALLENGE_SECONDS, NOW, &pk),
        KUNCI_ERR_EXPIRED);
    /* A challenge of one's own making (not keyed by the server) is not ours. */
    randombytes_buf(c, sizeof(c));
    answer_create(&a, c, true, &x);
    assert_int_equal(kunci_passkey_register(&f->t.ctx, &f->t.h, &f->alice, f->session, "Laptop",
                                            &x.r, NOW, &pk, &why),
                     KUNCI_ERR_INVALID);
    /* In time: registered; the same answer again (a replayed challenge) is refused. */
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_REGISTER, f->session, NOW - 10, c);
    answer_create(&a, c, true, &x);
    assert_int_equal(kunci_passkey_register(&f->t.ctx, &f->t.h, &f->alice, f->session, "Laptop",
                                            &x.r, NOW, &pk, &why),
                     KUNCI_OK);
    assert_true(pk.method_id > 0);
    assert_int_equal(kunci_passkey_register(&f->t.ctx, &f->t.h, &f->alice, f->session, "Laptop",
                                            &x.r, NOW, &pk, &why),
                     KUNCI_ERR_REUSED);
    /* The same credential under a fresh challenge: registered already. */
    assert_int_equal(do_register(f, &a, &f->alice, f->session, NOW, NOW, &pk), KUNCI_ERR_EXISTS);

    /* Sign-in: once per challenge. */
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_SECOND, f->session, NOW, c);
    answer_get(&a, c, &x);
    assert_int_equal(kunci_passkey_authenticate(&f->t.ctx, &f->t.h, KUNCI_PASSKEY_SECOND,
                                                f->alice.id, f->session, &x.r, NOW, &pk, &why),
                     KUNCI_OK);
    assert_int_equal(pk.account_id, f->alice.id);
    assert_int_equal(pk.last_used_at, NOW);
    assert_int_equal(kunci_passkey_authenticate(&f->t.ctx, &f->t.h, KUNCI_PASSKEY_SECOND,
                                                f->alice.id, f->session, &x.r, NOW, &pk, &why),
                     KUNCI_ERR_REUSED);
    /* A passkey (discoverable) verifies its user at every use; a security key registered
     * without a resident key or user verification needs only a touch (preferred). */
    a.flags = KUNCI_AUTHDATA_UP;
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_SECOND, f->session, NOW, c);
    answer_get(&a, c, &x);
    assert_int_equal(kunci_passkey_authenticate(&f->t.ctx, &f->t.h, KUNCI_PASSKEY_SECOND,
                                                f->alice.id, f->session, &x.r, NOW, &pk, &why),
                     KUNCI_ERR_INVALID);
    a.flags = KUNCI_AUTHDATA_UP | KUNCI_AUTHDATA_UV;
    struct soft_auth key;
    soft_new(&key, false);
    key.flags = KUNCI_AUTHDATA_UP;
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_REGISTER, f->session, NOW, c);
    answer_create(&key, c, false, &x);
    assert_int_equal(kunci_passkey_register(&f->t.ctx, &f->t.h, &f->alice, f->session,
                                            "Security key", &x.r, NOW, &pk, &why),
                     KUNCI_OK);
    assert_false(pk.discoverable);
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_SECOND, f->session, NOW, c);
    answer_get(&key, c, &x);
    assert_int_equal(kunci_passkey_authenticate(&f->t.ctx, &f->t.h, KUNCI_PASSKEY_SECOND,
                                                f->alice.id, f->session, &x.r, NOW, &pk, &why),
                     KUNCI_OK);
    /* A touch alone registers no passkey (a discoverable credential). */
    soft_free(&key);
    soft_new(&key, false);
    key.flags = KUNCI_AUTHDATA_UP;
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_REGISTER, f->session, NOW, c);
    answer_create(&key, c, true, &x);
    assert_int_equal(kunci_passkey_register(&f->t.ctx, &f->t.h, &f->alice, f->session, "Passkey",
                                            &x.r, NOW, &pk, &why),
                     KUNCI_ERR_INVALID);
    soft_free(&key);
    /* Alice's passkey is not Bob's second factor. */
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_SECOND, f->session, NOW, c);
    answer_get(&a, c, &x);
    assert_int_equal(kunci_passkey_authenticate(&f->t.ctx, &f->t.h, KUNCI_PASSKEY_SECOND, f->bob.id,
                                                f->session, &x.r, NOW, &pk, &why),
                     KUNCI_ERR_NOT_FOUND);
    soft_free(&a);
}

/* A passwordless sign-in by a synced passkey (it signs with 0) whose user handle says it is
 * `account`'s. */
static int passwordless(struct fixture *f, struct soft_auth *a, int64_t account,
                        struct kunci_passkey *pk)
{
    const uint8_t *zero = (const uint8_t[KUNCI_TOKEN_HASH_BYTES]){0};
    uint8_t c[32];
    struct answer x;
    const char *why = NULL;

    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_PASSWORDLESS, zero, NOW, c);
    a->count = (uint32_t)-1;
    answer_get(a, c, &x);
    kunci_passkey_user_handle(&f->t.ctx, account, x.handle);
    x.r.user_handle = x.handle;
    x.r.user_handle_len = sizeof(x.handle);
    return kunci_passkey_authenticate(&f->t.ctx, &f->t.h, KUNCI_PASSKEY_PASSWORDLESS, 0, zero, &x.r,
                                      NOW, pk, &why);
}

static void test_counter_and_user_handle(void **state)
{
    struct fixture *f = *state;
    struct soft_auth a, synced;
    struct kunci_passkey pk;
    uint8_t c[32];
    struct answer x;
    const char *why;

    soft_new(&a, false);
    a.count = 10;
    assert_int_equal(do_register(f, &a, &f->alice, f->session, NOW, NOW, &pk), KUNCI_OK);
    /* Backwards (a clone that signed less often): refused, and the stored counter stays. */
    a.count = 5;
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_SECOND, f->session, NOW, c);
    answer_get(&a, c, &x); /* signs with 6 */
    assert_int_equal(kunci_passkey_authenticate(&f->t.ctx, &f->t.h, KUNCI_PASSKEY_SECOND,
                                                f->alice.id, f->session, &x.r, NOW, &pk, &why),
                     KUNCI_ERR_COUNTER);
    a.count = 10; /* signs with 11 */
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_SECOND, f->session, NOW, c);
    answer_get(&a, c, &x);
    assert_int_equal(kunci_passkey_authenticate(&f->t.ctx, &f->t.h, KUNCI_PASSKEY_SECOND,
                                                f->alice.id, f->session, &x.r, NOW, &pk, &why),
                     KUNCI_OK);
    assert_int_equal(pk.sign_count, 11);
    /* The same value twice is not growth either. */
    a.count = 10;
    kunci_passkey_challenge(&f->t.ctx, KUNCI_PASSKEY_SECOND, f->session, NOW, c);
    answer_get(&a, c, &x);
    assert_int_equal(kunci_passkey_authenticate(&f->t.ctx, &f->t.h, KUNCI_PASSKEY_SECOND,
                                                f->alice.id, f->session, &x.r, NOW, &pk, &why),
                     KUNCI_ERR_COUNTER);

    /* A synced passkey keeps no counter: 0 stays 0, every time. Passwordless sign-in needs
     * its user handle to be the account's. */
    soft_new(&synced, false);
    assert_int_equal(do_register(f, &synced, &f->bob, f->session, NOW, NOW, &pk), KUNCI_OK);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(passwordless(f, &synced, f->bob.id, &pk), KUNCI_OK);
        assert_int_equal(pk.account_id, f->bob.id);
        assert_int_equal(pk.sign_count, 0);
    }
    assert_int_equal(passwordless(f, &synced, f->alice.id, &pk), KUNCI_ERR_INVALID);
    /* Passwordless sign-in requires user verification. */
    synced.flags = KUNCI_AUTHDATA_UP;
    assert_int_equal(passwordless(f, &synced, f->bob.id, &pk), KUNCI_ERR_INVALID);
    soft_free(&a);
    soft_free(&synced);
}

/* mfa_phishing_resistant_required: whom it names. */
static void test_policy_names(void **state)
{
    struct fixture *f = *state;
    const struct kunci_setting_def *d = kunci_setting_find("mfa_phishing_resistant_required");
    char canon[KUNCI_SETTING_VALUE_MAX];
    bool alice, bob;
    static const struct {
        const char *value, *canonical;
        bool alice, bob;
    } cases[] = {
        {"none", "none", false, false},
        {"", "none", false, false},
        {"Everyone", "everyone", true, true},
        {"true", "everyone", true, true},
        {"off", "none", false, false},
        {"admins", "admins", true, false},
        {" Bob@Example.org, carol@example.org", "bob@example.org,carol@example.org", false, true},
        {"bob@example.org.evil", "bob@example.org.evil", false, false},
    };

    f->alice.role = KUNCI_ROLE_ADMIN;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(kunci_setting_canonical(d, cases[i].value, canon), KUNCI_OK);
        assert_string_equal(canon, cases[i].canonical);
        assert_int_equal(kunci_store_setting_set(&f->t.h, d->key, canon), KUNCI_OK);
        assert_int_equal(kunci_policy_names(&f->t.h, d->key, &f->alice, &alice), KUNCI_OK);
        assert_int_equal(kunci_policy_names(&f->t.h, d->key, &f->bob, &bob), KUNCI_OK);
        assert_int_equal(alice, cases[i].alice);
        assert_int_equal(bob, cases[i].bob);
    }
    assert_int_equal(kunci_setting_canonical(d, "bob", canon), KUNCI_ERR_INVALID);
    assert_int_equal(kunci_setting_canonical(d, ",,", canon), KUNCI_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registration_formats),
        cmocka_unit_test(test_registration_refused),
        cmocka_unit_test(test_assertions),
        cmocka_unit_test(test_chromium_vectors),
        cmocka_unit_test_setup_teardown(test_challenges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counter_and_user_handle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy_names, setup, teardown),
    };
    if (sodium_init() < 0)
        return 1;
    return cmocka_run_group_tests(tests, NULL, NULL);
}
