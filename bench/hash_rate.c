/* The raw rate of Argon2id (19 MiB, t=2, p=1: kunci's default) on N threads, verifying one
 * stored hash again and again, three ways: libsodium's crypto_pwhash_str_verify (what kunci
 * calls), libargon2's argon2id_verify, and libargon2 with memory each thread keeps between
 * hashes (allocate_cbk). Built and run by bench/hash.sh; not part of kunci.
 *
 * Usage: hash_rate THREADS SECONDS */
#include <argon2.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#define MEM_KIB 19456
#define T_COST  2
static const char password[] = "Correct-horse-battery-1";
static char stored[crypto_pwhash_STRBYTES];
static int seconds;

/* The PHC string's salt and hash (libsodium writes $argon2id$v=19$m=..,t=..,p=..$SALT$HASH). */
static uint8_t salt[64], digest[64];
static size_t salt_len, digest_len;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static _Thread_local uint8_t *kept;
static _Thread_local size_t kept_size;

static int keep_alloc(uint8_t **memory, size_t bytes)
{
    if (kept == NULL) {
        kept = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (kept == MAP_FAILED)
            return ARGON2_MEMORY_ALLOCATION_ERROR;
        kept_size = bytes;
    }
    if (bytes > kept_size)
        return ARGON2_MEMORY_ALLOCATION_ERROR;
    *memory = kept;
    return ARGON2_OK;
}

static void keep_free(uint8_t *memory, size_t bytes)
{
    (void)memory;
    (void)bytes; /* kept for the next hash */
}

static int verify_kept(void)
{
    uint8_t out[64];
    argon2_context ctx = {
        .out = out,
        .outlen = (uint32_t)digest_len,
        .pwd = (uint8_t *)password,
        .pwdlen = (uint32_t)strlen(password),
        .salt = salt,
        .saltlen = (uint32_t)salt_len,
        .t_cost = T_COST,
        .m_cost = MEM_KIB,
        .lanes = 1,
        .threads = 1,
        .allocate_cbk = keep_alloc,
        .free_cbk = keep_free,
        .version = ARGON2_VERSION_13,
        .flags = ARGON2_DEFAULT_FLAGS,
    };
    return argon2id_ctx(&ctx) == ARGON2_OK && sodium_memcmp(out, digest, digest_len) == 0;
}

static int mode;
static void *worker(void *arg)
{
    long *done = arg;
    double end = now() + seconds;
    while (now() < end) {
        int ok = mode == 0   ? crypto_pwhash_str_verify(stored, password, strlen(password)) == 0
                 : mode == 1 ? argon2id_verify(stored, password, strlen(password)) == ARGON2_OK
                             : verify_kept();
        if (!ok) {
            fprintf(stderr, "hash_rate: a verification failed (mode %d)\n", mode);
            exit(1);
        }
        (*done)++;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    seconds = argc > 2 ? atoi(argv[2]) : 5;
    static const char *const names[] = {"libsodium crypto_pwhash_str_verify",
                                        "libargon2 argon2id_verify",
                                        "libargon2, memory kept per thread"};
    if (sodium_init() < 0 || threads < 1 || threads > 64 || seconds < 1)
        return 64;
    if (crypto_pwhash_str_alg(stored, password, strlen(password), T_COST,
                              (size_t)MEM_KIB * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0)
        return 1;
    char *p = strrchr(stored, '$');
    char *q = p - 1;
    while (*q != '$')
        q--;
    if (sodium_base642bin(salt, sizeof(salt), q + 1, (size_t)(p - q - 1), NULL, &salt_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
        sodium_base642bin(digest, sizeof(digest), p + 1, strlen(p + 1), NULL, &digest_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0)
        return 1;
    for (mode = 0; mode < 3; mode++) {
        pthread_t t[64];
        long done[64] = {0};
        double start = now();
        for (int i = 0; i < threads; i++)
            pthread_create(&t[i], NULL, worker, &done[i]);
        long total = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(t[i], NULL);
            total += done[i];
        }
        double took = now() - start;
        printf("%-38s %8.1f hashes/s  (%.1f ms each per thread)\n", names[mode],
               (double)total / took, took * 1000.0 * threads / (double)total);
    }
    return 0;
}
