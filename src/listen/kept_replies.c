#include "listen/kept_replies.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Set-associative, like the lookup cache (store/lookup_cache.c): with one slot per key, a
 * fifth of 200 logins shared a slot with another and had their answer built again on every
 * other request. Each entry's 64-bit hash sits in a small array of its own, so a lookup
 * reads one cache line of hashes and touches the entry itself only when its hash matches. */
#define WAYS 4

struct kept_reply {
    struct MHD_Response *resp; /* NULL: empty */
    uint64_t epoch;
    unsigned kind;
    char key[KEPT_REPLIES_KEY_MAX + 1];
};

struct kept_replies {
    unsigned sets_mask, ways;
    uint64_t random;  /* xorshift state: which way a full set gives up */
    uint64_t *hashes; /* of each slot's (kind, key); 0: empty */
    struct kept_reply slot[];
};

struct kept_replies *kept_replies_new(unsigned slots)
{
    unsigned n = 1;
    while (n * 2 <= slots && n < (1u << 20))
        n *= 2;
    struct kept_replies *t = calloc(1, sizeof(*t) + n * sizeof(t->slot[0]));
    if (t == NULL || (t->hashes = calloc(n, sizeof(*t->hashes))) == NULL) {
        free(t);
        return NULL;
    }
    t->ways = n < WAYS ? n : WAYS;
    t->sets_mask = n / t->ways - 1;
    t->random = 0x9e3779b97f4a7c15u;
    return t;
}

void kept_replies_free(struct kept_replies *t)
{
    if (t == NULL)
        return;
    for (unsigned i = 0; i < (t->sets_mask + 1) * t->ways; i++)
        if (t->slot[i].resp != NULL)
            MHD_destroy_response(t->slot[i].resp);
    free(t->hashes);
    free(t);
}

/* FNV-1a: the key is a login, and a collision costs only a rebuilt answer (the whole key is
 * compared before a kept answer is used). Never 0, which marks an empty slot. */
static uint64_t hash_of(unsigned kind, const char *key)
{
    uint64_t h = 14695981039346656037u ^ kind;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211u;
    return h | 1;
}

static unsigned first_of(const struct kept_replies *t, uint64_t h)
{
    return (unsigned)((h ^ (h >> 32)) >> 1 & t->sets_mask) * t->ways;
}

static bool holds(const struct kept_replies *t, unsigned i, uint64_t h, unsigned kind,
                  const char *key)
{
    const struct kept_reply *s = &t->slot[i];
    return t->hashes[i] == h && s->kind == kind && strcmp(s->key, key) == 0; /* h is never 0 */
}

struct MHD_Response *kept_replies_find(struct kept_replies *t, uint64_t epoch, unsigned kind,
                                       const char *key)
{
    uint64_t h = hash_of(kind, key);
    unsigned first = first_of(t, h);
    for (unsigned i = first; i < first + t->ways; i++)
        if (holds(t, i, h, kind, key))
            return t->slot[i].epoch == epoch ? t->slot[i].resp : NULL;
    return NULL;
}

void kept_replies_put(struct kept_replies *t, uint64_t epoch, unsigned kind, const char *key,
                      struct MHD_Response *resp)
{
    size_t len = strlen(key);
    if (len > KEPT_REPLIES_KEY_MAX) {
        MHD_destroy_response(resp);
        return;
    }
    uint64_t h = hash_of(kind, key);
    unsigned first = first_of(t, h), victim = first + t->ways;
    /* The key's own slot (an answer of an older epoch), else an empty or outdated one, else
     * one at random. */
    for (unsigned i = first; i < first + t->ways && victim == first + t->ways; i++)
        if (holds(t, i, h, kind, key))
            victim = i;
    for (unsigned i = first; i < first + t->ways && victim == first + t->ways; i++)
        if (t->hashes[i] == 0 || t->slot[i].epoch != epoch)
            victim = i;
    if (victim == first + t->ways) {
        t->random ^= t->random << 13;
        t->random ^= t->random >> 7;
        t->random ^= t->random << 17;
        victim = first + (unsigned)(t->random % t->ways);
    }
    struct kept_reply *s = &t->slot[victim];
    if (s->resp != NULL)
        MHD_destroy_response(s->resp);
    s->resp = resp;
    s->epoch = epoch;
    s->kind = kind;
    memcpy(s->key, key, len + 1);
    t->hashes[victim] = h;
}
