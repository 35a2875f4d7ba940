#include "store/lookup_cache.h"

#include "core/metrics.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* Set-associative: a digest may sit in any of the WAYS entries of its set, so a few
 * passwords whose digests share a set do not push each other out on every check (direct
 * mapping lost a fifth of the lookups with 200 passwords in 1,024 entries). A full set gives
 * up a way chosen at random: mail clients come back in turn, and with more of them than
 * ways, least-recently-used would always evict the very one to come next. The tags are kept
 * apart from the rows, so a lookup reads a few cache lines; the rows' pages are touched only
 * as entries fill. */
#define WAYS 4

struct tag {
    uint64_t epoch; /* 0: empty */
    uint8_t digest[KUNCI_DIGEST_BYTES];
};

struct lookup_cache {
    size_t sets_mask;
    uint64_t epoch;  /* entries of another epoch are stale */
    uint64_t random; /* xorshift state: which way a full set gives up */
    bool have_generation;
    struct kunci_sql_generation generation;
    uint64_t hits, misses;
    struct tag *tags;                      /* WAYS per set */
    struct kunci_app_password_match *rows; /* the row of each tag */
};

struct lookup_cache *lookup_cache_new(size_t entries)
{
    size_t n = WAYS;
    if (entries == 0)
        return NULL;
    while (n * 2 <= entries)
        n *= 2;
    struct lookup_cache *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->tags = calloc(n, sizeof(*c->tags))) == NULL ||
        (c->rows = calloc(n, sizeof(*c->rows))) == NULL) {
        if (c != NULL)
            free(c->tags);
        free(c);
        return NULL;
    }
    c->sets_mask = n / WAYS - 1;
    c->epoch = 1;
    c->random = 0x9e3779b97f4a7c15u;
    return c;
}

static size_t entry_count(const struct lookup_cache *c)
{
    return (c->sets_mask + 1) * WAYS;
}

void lookup_cache_free(struct lookup_cache *c)
{
    if (c == NULL)
        return;
    /* Only the rows ever filled: the others' pages were never touched. */
    for (size_t i = 0; i < entry_count(c); i++)
        if (c->tags[i].epoch != 0)
            sodium_memzero(&c->rows[i], sizeof(c->rows[i]));
    free(c->rows);
    free(c->tags);
    free(c);
}

/* Digests are keyed hashes: their first bytes spread evenly, and no client can aim a
 * password at a set without the server key. Returns the index of the set's first entry. */
static size_t set_of(const struct lookup_cache *c, const uint8_t *digest)
{
    uint64_t x;
    memcpy(&x, digest, sizeof(x));
    return (size_t)(x & c->sets_mask) * WAYS;
}

const struct kunci_app_password_match *lookup_cache_get(struct lookup_cache *c,
                                                        const struct kunci_sql_generation *gen,
                                                        const uint8_t *digest)
{
    if (!c->have_generation || memcmp(&c->generation, gen, sizeof(*gen)) != 0) {
        c->generation = *gen;
        c->have_generation = true;
        c->epoch++;
    }
    size_t first = set_of(c, digest);
    for (size_t i = first; i < first + WAYS; i++) {
        struct tag *t = &c->tags[i];
        if (t->epoch == c->epoch && sodium_memcmp(t->digest, digest, KUNCI_DIGEST_BYTES) == 0) {
            c->hits++;
            kunci_metrics_cache(true);
            /* What the check reads of the row (types.h), fetched together. */
            __builtin_prefetch(&c->rows[i]);
            __builtin_prefetch(&c->rows[i].account);
            __builtin_prefetch(&c->rows[i].account.login);
            return &c->rows[i];
        }
    }
    lookup_cache_missed(c);
    return NULL;
}

void lookup_cache_put(struct lookup_cache *c, const uint8_t *digest,
                      const struct kunci_app_password_match *m)
{
    size_t first = set_of(c, digest), victim = SIZE_MAX;
    for (size_t i = first; i < first + WAYS && victim == SIZE_MAX; i++)
        if (c->tags[i].epoch != c->epoch) /* empty or stale */
            victim = i;
    if (victim == SIZE_MAX) {
        c->random ^= c->random << 13;
        c->random ^= c->random >> 7;
        c->random ^= c->random << 17;
        victim = first + (size_t)(c->random % WAYS);
    }
    struct tag *t = &c->tags[victim];
    t->epoch = c->epoch;
    memcpy(t->digest, digest, KUNCI_DIGEST_BYTES);
    c->rows[victim] = *m;
}

void lookup_cache_missed(struct lookup_cache *c)
{
    c->misses++;
    kunci_metrics_cache(false);
}

void lookup_cache_used(struct lookup_cache *c, int64_t id, int64_t now)
{
    if (c == NULL)
        return;
    /* Rare (once a minute per app password in use): a pass over the entries is cheap. */
    for (size_t i = 0; i < entry_count(c); i++)
        if (c->tags[i].epoch == c->epoch && c->rows[i].app_password.id == id)
            c->rows[i].app_password.last_used_at = now;
}

void lookup_cache_counts(const struct lookup_cache *c, uint64_t *hits_r, uint64_t *misses_r)
{
    *hits_r = c != NULL ? c->hits : 0;
    *misses_r = c != NULL ? c->misses : 0;
}
