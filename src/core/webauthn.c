#include "core/webauthn.h"

#include <cbor.h>
#include <fido.h>
#include <fido/eddsa.h>
#include <fido/es256.h>
#include <fido/rs256.h>
#include <jansson.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

/* The algorithms kunci offers (pubKeyCredParams), in the order it offers them. */
static const int algorithms[] = {COSE_ES256, COSE_EDDSA, COSE_RS256};

static int refuse(const char **why_r, const char *why)
{
    *why_r = why;
    return KUNCI_ERR_INVALID;
}

int kunci_webauthn_client_data(const uint8_t *json, size_t len,
                               enum kunci_webauthn_ceremony ceremony, const char *origin,
                               uint8_t challenge_r[KUNCI_CHALLENGE_BYTES], const char **why_r)
{
    json_error_t jerr;
    size_t n = 0;
    int r = KUNCI_ERR_INVALID;

    if (len == 0 || len > KUNCI_CLIENT_DATA_MAX)
        return refuse(why_r, "client data missing or too long");
    json_t *cd = json_loadb((const char *)json, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *type = json_string_value(json_object_get(cd, "type"));
    const char *challenge = json_string_value(json_object_get(cd, "challenge"));
    const char *from = json_string_value(json_object_get(cd, "origin"));
    const char *want = ceremony == KUNCI_CEREMONY_CREATE ? "webauthn.create" : "webauthn.get";
    if (!json_is_object(cd))
        *why_r = "client data is not JSON";
    else if (type == NULL || strcmp(type, want) != 0)
        *why_r = "client data of another ceremony";
    else if (from == NULL || strcmp(from, origin) != 0)
        *why_r = "wrong origin";
    else if (json_is_true(json_object_get(cd, "crossOrigin")))
        *why_r = "used from inside another site's frame";
    else if (challenge == NULL ||
             sodium_base642bin(challenge_r, KUNCI_CHALLENGE_BYTES, challenge, strlen(challenge),
                               NULL, &n, NULL, sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
             n != KUNCI_CHALLENGE_BYTES)
        *why_r = "no challenge of ours";
    else
        r = KUNCI_OK;
    json_decref(cd);
    return r;
}

/* A walk over CBOR's items, before anything is built from them: libcbor allocates a map's or
 * an array's declared size up front, and a few bytes may declare billions. A declared count
 * that the bytes left cannot hold, or an indefinite length (WebAuthn's encoding has none),
 * makes the input implausible. */
struct cbor_walk {
    size_t left; /* bytes from the item being decoded to the end */
    bool bad;
};

static void walk_collection(void *ctx, size_t n)
{
    struct cbor_walk *w = ctx;
    if (n > w->left)
        w->bad = true;
}

static void walk_map(void *ctx, size_t n)
{
    walk_collection(ctx, n > SIZE_MAX / 2 ? SIZE_MAX : n * 2);
}

static void walk_indefinite(void *ctx)
{
    ((struct cbor_walk *)ctx)->bad = true;
}

static bool cbor_plausible(const uint8_t *p, size_t len)
{
    struct cbor_callbacks cb = cbor_empty_callbacks;
    struct cbor_walk w = {0, false};
    cb.array_start = walk_collection;
    cb.map_start = walk_map;
    cb.indef_array_start = cb.indef_map_start = walk_indefinite;
    cb.byte_string_start = cb.string_start = walk_indefinite;
    for (size_t pos = 0; pos < len && !w.bad;) {
        w.left = len - pos; /* the item's own header is in it: a bound, not an exact count */
        struct cbor_decoder_result res = cbor_stream_decode(p + pos, len - pos, &cb, &w);
        if (res.status != CBOR_DECODER_FINISHED || res.read == 0)
            return false;
        pos += res.read;
    }
    return !w.bad;
}

/* The rp id's hash and the flags every ceremony checks, over raw authenticator data. */
static int check_auth_data(const char *rp_id, const uint8_t *auth_data, size_t len, bool require_uv,
                           const char **why_r)
{
    uint8_t want[crypto_hash_sha256_BYTES];

    if (len < 37)
        return refuse(why_r, "authenticator data too short");
    crypto_hash_sha256(want, (const unsigned char *)rp_id, strlen(rp_id));
    if (sodium_memcmp(want, auth_data, sizeof(want)) != 0)
        return refuse(why_r, "wrong rp id hash");
    if (!(auth_data[32] & KUNCI_AUTHDATA_UP))
        return refuse(why_r, "user not present");
    if (require_uv && !(auth_data[32] & KUNCI_AUTHDATA_UV))
        return refuse(why_r, "user not verified");
    return KUNCI_OK;
}

static const cbor_item_t *map_get(const cbor_item_t *map, const char *key)
{
    struct cbor_pair *pairs = cbor_map_handle(map);
    size_t klen = strlen(key);
    for (size_t i = 0; i < cbor_map_size(map); i++) {
        const cbor_item_t *k = pairs[i].key;
        if (cbor_isa_string(k) && cbor_string_is_definite(k) && cbor_string_length(k) == klen &&
            memcmp(cbor_string_handle(k), key, klen) == 0)
            return pairs[i].value;
    }
    return NULL;
}

/* The attested credential from raw authenticator data: libfido2 reads the COSE key only for
 * the algorithm it is told, so each offered one is tried. */
static fido_cred_t *cred_from_auth_data(const uint8_t *auth_data, size_t len)
{
    for (size_t i = 0; i < sizeof(algorithms) / sizeof(algorithms[0]); i++) {
        fido_cred_t *cred = fido_cred_new();
        if (cred == NULL)
            return NULL;
        if (fido_cred_set_type(cred, algorithms[i]) == FIDO_OK &&
            fido_cred_set_authdata_raw(cred, auth_data, len) == FIDO_OK)
            return cred;
        fido_cred_free(&cred);
    }
    return NULL;
}

static int verify_packed(fido_cred_t *cred, const cbor_item_t *att_stmt, const char **why_r)
{
    unsigned char *buf = NULL;
    size_t size = 0;
    size_t n = cbor_serialize_alloc(att_stmt, &buf, &size);
    int r = n > 0 ? fido_cred_set_attstmt(cred, buf, n) : FIDO_ERR_INTERNAL;
    free(buf);
    if (r != FIDO_OK || fido_cred_set_fmt(cred, "packed") != FIDO_OK)
        return refuse(why_r, "malformed attestation statement");
    /* With a certificate: signed by its key. Without: self attestation, by the new key. */
    r = fido_cred_x5c_ptr(cred) != NULL ? fido_cred_verify(cred) : fido_cred_verify_self(cred);
    return r == FIDO_OK ? KUNCI_OK : refuse(why_r, "attestation signature does not verify");
}

int kunci_webauthn_register(const char *rp_id, const uint8_t *client_data, size_t client_data_len,
                            const uint8_t *attestation, size_t attestation_len, bool require_uv,
                            struct kunci_passkey *out, const char **why_r)
{
    struct cbor_load_result res;
    uint8_t cdh[crypto_hash_sha256_BYTES];
    fido_cred_t *cred = NULL;
    int r = KUNCI_ERR_INVALID;

    if (attestation_len == 0 || attestation_len > KUNCI_ATTESTATION_MAX)
        return refuse(why_r, "attestation missing or too long");
    if (!cbor_plausible(attestation, attestation_len))
        return refuse(why_r, "attestation object is not CBOR of a plausible size");
    cbor_item_t *obj = cbor_load(attestation, attestation_len, &res);
    if (obj == NULL || res.error.code != CBOR_ERR_NONE || res.read != attestation_len ||
        !cbor_isa_map(obj)) {
        r = refuse(why_r, "attestation object is not CBOR");
        goto out;
    }
    const cbor_item_t *fmt = map_get(obj, "fmt"), *ad = map_get(obj, "authData"),
                      *stmt = map_get(obj, "attStmt");
    if (fmt == NULL || !cbor_isa_string(fmt) || !cbor_string_is_definite(fmt) || ad == NULL ||
        !cbor_isa_bytestring(ad) || !cbor_bytestring_is_definite(ad) || stmt == NULL ||
        !cbor_isa_map(stmt)) {
        r = refuse(why_r, "attestation object lacks fmt, authData or attStmt");
        goto out;
    }
    const uint8_t *auth_data = cbor_bytestring_handle(ad);
    size_t auth_data_len = cbor_bytestring_length(ad);
    if (auth_data_len > KUNCI_AUTH_DATA_MAX + KUNCI_CREDENTIAL_ID_MAX) {
        r = refuse(why_r, "authenticator data too long");
        goto out;
    }
    if ((r = check_auth_data(rp_id, auth_data, auth_data_len, require_uv, why_r)) != KUNCI_OK)
        goto out;
    /* The credential's COSE key and any extensions after it are CBOR too, read by libfido2:
     * the same walk first. */
    size_t key_at = 37 + KUNCI_AAGUID_BYTES + 2;
    if (auth_data_len < key_at ||
        auth_data_len - key_at < (size_t)(auth_data[53] << 8 | auth_data[54]) ||
        !cbor_plausible(auth_data + key_at + (auth_data[53] << 8 | auth_data[54]),
                        auth_data_len - key_at - (size_t)(auth_data[53] << 8 | auth_data[54]))) {
        r = refuse(why_r, "malformed attested credential data");
        goto out;
    }
    if ((cred = cred_from_auth_data(auth_data, auth_data_len)) == NULL) {
        r = refuse(why_r, "no credential of an offered algorithm in the authenticator data");
        goto out;
    }
    crypto_hash_sha256(cdh, client_data, client_data_len);
    if (fido_cred_set_rp(cred, rp_id, NULL) != FIDO_OK ||
        fido_cred_set_clientdata_hash(cred, cdh, sizeof(cdh)) != FIDO_OK ||
        fido_cred_set_uv(cred, require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK) {
        r = KUNCI_ERR_INTERNAL;
        goto out;
    }
    size_t fmt_len = cbor_string_length(fmt);
    const char *f = (const char *)cbor_string_handle(fmt);
    if (fmt_len == 4 && memcmp(f, "none", 4) == 0) {
        /* Nothing signed beyond what the assertions will prove; the statement is empty. */
        r = cbor_map_size(stmt) == 0 ? KUNCI_OK : refuse(why_r, "\"none\" with a statement");
    } else if (fmt_len == 6 && memcmp(f, "packed", 6) == 0) {
        r = verify_packed(cred, stmt, why_r);
    } else {
        r = refuse(why_r, "attestation format not accepted (none and packed are)");
    }
    if (r != KUNCI_OK)
        goto out;

    size_t id_len = fido_cred_id_len(cred), key_len = fido_cred_pubkey_len(cred);
    if (id_len == 0 || id_len > sizeof(out->credential_id) || key_len == 0 ||
        key_len > sizeof(out->public_key) || fido_cred_aaguid_len(cred) != KUNCI_AAGUID_BYTES) {
        r = refuse(why_r, "credential id or key of an unexpected size");
        goto out;
    }
    memcpy(out->credential_id, fido_cred_id_ptr(cred), id_len);
    out->credential_id_len = id_len;
    memcpy(out->public_key, fido_cred_pubkey_ptr(cred), key_len);
    out->public_key_len = key_len;
    memcpy(out->aaguid, fido_cred_aaguid_ptr(cred), KUNCI_AAGUID_BYTES);
    out->algorithm = fido_cred_type(cred);
    out->sign_count = fido_cred_sigcount(cred);
    uint8_t flags = fido_cred_flags(cred);
    out->user_verified = (flags & KUNCI_AUTHDATA_UV) != 0;
    out->backup_eligible = (flags & KUNCI_AUTHDATA_BE) != 0;
    out->backup_state = (flags & KUNCI_AUTHDATA_BS) != 0;
out:
    fido_cred_free(&cred);
    if (obj != NULL)
        cbor_decref(&obj);
    return r;
}

int kunci_webauthn_assert(const char *rp_id, const uint8_t *client_data, size_t client_data_len,
                          const uint8_t *auth_data, size_t auth_data_len, const uint8_t *sig,
                          size_t sig_len, const struct kunci_passkey *key, bool require_uv,
                          uint32_t *sign_count_r, uint8_t *flags_r, const char **why_r)
{
    uint8_t cdh[crypto_hash_sha256_BYTES];
    es256_pk_t *es = NULL;
    rs256_pk_t *rs = NULL;
    eddsa_pk_t *ed = NULL;
    const void *pk = NULL;
    int r;

    if (auth_data_len == 0 || auth_data_len > KUNCI_AUTH_DATA_MAX || sig_len == 0 ||
        sig_len > KUNCI_SIGNATURE_MAX)
        return refuse(why_r, "authenticator data or signature missing or too long");
    if ((r = check_auth_data(rp_id, auth_data, auth_data_len, require_uv, why_r)) != KUNCI_OK)
        return r;
    /* Extensions, if any, follow the fixed 37 bytes as CBOR. */
    if (auth_data_len > 37 && !cbor_plausible(auth_data + 37, auth_data_len - 37))
        return refuse(why_r, "malformed authenticator data extensions");
    switch (key->algorithm) {
    case COSE_ES256:
        if ((es = es256_pk_new()) != NULL &&
            es256_pk_from_ptr(es, key->public_key, key->public_key_len) == FIDO_OK)
            pk = es;
        break;
    case COSE_RS256:
        if ((rs = rs256_pk_new()) != NULL &&
            rs256_pk_from_ptr(rs, key->public_key, key->public_key_len) == FIDO_OK)
            pk = rs;
        break;
    case COSE_EDDSA:
        if ((ed = eddsa_pk_new()) != NULL &&
            eddsa_pk_from_ptr(ed, key->public_key, key->public_key_len) == FIDO_OK)
            pk = ed;
        break;
    }
    fido_assert_t *a = fido_assert_new();
    crypto_hash_sha256(cdh, client_data, client_data_len);
    r = KUNCI_ERR_INTERNAL;
    if (pk == NULL)
        *why_r = "the stored key cannot be read";
    else if (a == NULL || fido_assert_set_count(a, 1) != FIDO_OK ||
             fido_assert_set_rp(a, rp_id) != FIDO_OK ||
             fido_assert_set_clientdata_hash(a, cdh, sizeof(cdh)) != FIDO_OK ||
             fido_assert_set_up(a, FIDO_OPT_TRUE) != FIDO_OK ||
             fido_assert_set_uv(a, require_uv ? FIDO_OPT_TRUE : FIDO_OPT_OMIT) != FIDO_OK)
        *why_r = "libfido2";
    else if (fido_assert_set_authdata_raw(a, 0, auth_data, auth_data_len) != FIDO_OK ||
             fido_assert_set_sig(a, 0, sig, sig_len) != FIDO_OK)
        r = refuse(why_r, "malformed authenticator data or signature");
    else if (fido_assert_verify(a, 0, key->algorithm, pk) != FIDO_OK)
        r = refuse(why_r, "signature does not verify");
    else {
        *sign_count_r = fido_assert_sigcount(a, 0);
        *flags_r = fido_assert_flags(a, 0);
        r = KUNCI_OK;
    }
    fido_assert_free(&a);
    es256_pk_free(&es);
    rs256_pk_free(&rs);
    eddsa_pk_free(&ed);
    return r;
}

bool kunci_webauthn_counter_ok(uint32_t stored, uint32_t presented)
{
    return presented > stored || (stored == 0 && presented == 0);
}

void kunci_aaguid_format(const uint8_t g[KUNCI_AAGUID_BYTES], char out[37])
{
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", g[0],
             g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11], g[12], g[13],
             g[14], g[15]);
}
