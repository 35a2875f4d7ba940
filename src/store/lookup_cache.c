#include "store/lookup_cache.h"

#include "core/metrics.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    uint64_t epoch; /* 0: empty */
    uint8_t digest[KUNCI_DIGEST_BYTES];
    struct kunci_app_password_match match;
};

struct lookup_cache {
    size_t mask;
    uint64_t epoch; /* entries of another epoch are stale */
    bool have_generation;
    struct kunci_sql_generation generation;
    uint64_t hits, misses;
    struct entry *entries;
};

struct lookup_cache *lookup_cache_new(size_t entries)
{
    size_t n = 1;
    if (entries == 0)
        return NULL;
    while (n * 2 <= entries)
        n *= 2;
    struct lookup_cache *c = calloc(1, sizeof(*c));
    if (c == NULL || (c->entries = calloc(n, sizeof(*c->entries))) == NULL) {
        free(c);
        return NULL;
    }
    c->mask = n - 1;
    c->epoch = 1;
    return c;
}

void lookup_cache_free(struct lookup_cache *c)
{
    if (c == NULL)
        return;
    sodium_memzero(c->entries, (c->mask + 1) * sizeof(*c->entries));
    free(c->entries);
    free(c);
}

/* Digests are keyed hashes: their first bytes spread evenly, and no client can aim a
 * password at a slot without the server key. */
static struct entry *slot(struct lookup_cache *c, const uint8_t *digest)
{
    uint64_t x;
    memcpy(&x, digest, sizeof(x));
    return &c->entries[x & c->mask];
}

bool lookup_cache_get(struct lookup_cache *c, const struct kunci_sql_generation *gen,
                      const uint8_t *digest, struct kunci_app_password_match *m)
{
    if (!c->have_generation || memcmp(&c->generation, gen, sizeof(*gen)) != 0) {
        c->generation = *gen;
        c->have_generation = true;
        c->epoch++;
    }
    struct entry *e = slot(c, digest);
    if (e->epoch == c->epoch && sodium_memcmp(e->digest, digest, KUNCI_DIGEST_BYTES) == 0) {
        *m = e->match;
        c->hits++;
        kunci_metrics_cache(true);
        return true;
    }
    lookup_cache_missed(c);
    return false;
}

void lookup_cache_put(struct lookup_cache *c, const uint8_t *digest,
                      const struct kunci_app_password_match *m)
{
    struct entry *e = slot(c, digest);
    e->epoch = c->epoch;
    memcpy(e->digest, digest, KUNCI_DIGEST_BYTES);
    e->match = *m;
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
    for (size_t i = 0; i <= c->mask; i++)
        if (c->entries[i].epoch == c->epoch && c->entries[i].match.app_password.id == id)
            c->entries[i].match.app_password.last_used_at = now;
}

void lookup_cache_counts(const struct lookup_cache *c, uint64_t *hits_r, uint64_t *misses_r)
{
    *hits_r = c != NULL ? c->hits : 0;
    *misses_r = c != NULL ? c->misses : 0;
}
