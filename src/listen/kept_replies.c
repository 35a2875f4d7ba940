#include "listen/kept_replies.h"

#include <stdlib.h>
#include <string.h>

struct kept_reply {
    struct MHD_Response *resp; /* NULL: empty */
    uint64_t epoch;
    unsigned kind;
    char key[KEPT_REPLIES_KEY_MAX + 1];
};

struct kept_replies {
    unsigned mask;
    struct kept_reply slot[];
};

struct kept_replies *kept_replies_new(unsigned slots)
{
    unsigned n = 1;
    while (n * 2 <= slots && n < (1u << 20))
        n *= 2;
    struct kept_replies *t = calloc(1, sizeof(*t) + n * sizeof(t->slot[0]));
    if (t != NULL)
        t->mask = n - 1;
    return t;
}

void kept_replies_free(struct kept_replies *t)
{
    if (t == NULL)
        return;
    for (unsigned i = 0; i <= t->mask; i++)
        if (t->slot[i].resp != NULL)
            MHD_destroy_response(t->slot[i].resp);
    free(t);
}

/* FNV-1a: the key is a login, and a collision costs only a rebuilt answer (the whole key is
 * compared before a kept answer is used). */
static struct kept_reply *slot_of(struct kept_replies *t, unsigned kind, const char *key)
{
    uint64_t h = 14695981039346656037u ^ kind;
    for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++)
        h = (h ^ *p) * 1099511628211u;
    return &t->slot[(h ^ (h >> 32)) & t->mask];
}

struct MHD_Response *kept_replies_find(struct kept_replies *t, uint64_t epoch, unsigned kind,
                                       const char *key)
{
    struct kept_reply *s = slot_of(t, kind, key);
    if (s->resp == NULL || s->epoch != epoch || s->kind != kind || strcmp(s->key, key) != 0)
        return NULL;
    return s->resp;
}

void kept_replies_put(struct kept_replies *t, uint64_t epoch, unsigned kind, const char *key,
                      struct MHD_Response *resp)
{
    size_t len = strlen(key);
    if (len > KEPT_REPLIES_KEY_MAX) {
        MHD_destroy_response(resp);
        return;
    }
    struct kept_reply *s = slot_of(t, kind, key);
    if (s->resp != NULL)
        MHD_destroy_response(s->resp);
    s->resp = resp;
    s->epoch = epoch;
    s->kind = kind;
    memcpy(s->key, key, len + 1);
}
