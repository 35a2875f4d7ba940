/* What a browser returns for a passkey, as an attacker may send it: clientDataJSON, the
 * attestation object (CBOR, read by libcbor and libfido2) and an assertion's authenticator
 * data and signature. The first byte picks the part; the rest is it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/webauthn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char client_data[] =
    "{\"type\":\"webauthn.create\",\"challenge\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
    "\"origin\":\"https://login.example.org\"}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct kunci_passkey pk;
    uint8_t challenge[KUNCI_CHALLENGE_BYTES];
    const char *why = NULL;
    uint32_t count;
    uint8_t flags;

    if (size < 1)
        return 0;
    const uint8_t *rest = data + 1;
    size_t n = size - 1;
    memset(&pk, 0, sizeof(pk));
    switch (data[0] % 3) {
    case 0:
        (void)kunci_webauthn_client_data(rest, n, KUNCI_CEREMONY_CREATE,
                                         "https://login.example.org", challenge, &why);
        break;
    case 1:
        if (kunci_webauthn_register("login.example.org", (const uint8_t *)client_data,
                                    strlen(client_data), rest, n, false, &pk, &why) == KUNCI_OK &&
            (pk.credential_id_len == 0 || pk.public_key_len == 0))
            abort();
        break;
    case 2:
        /* A P-256 key of 64 bytes from the input's end, authenticator data and a signature
         * split by the byte before them. */
        if (n < 66)
            return 0;
        pk.algorithm = -7;
        memcpy(pk.public_key, rest + n - 64, 64);
        pk.public_key_len = 64;
        n -= 64;
        size_t split = rest[0] < n - 1 ? rest[0] : n - 1;
        (void)kunci_webauthn_assert("login.example.org", (const uint8_t *)client_data,
                                    strlen(client_data), rest + 1, split, rest + 1 + split,
                                    n - 1 - split, &pk, false, &count, &flags, &why);
        break;
    }
    return 0;
}
