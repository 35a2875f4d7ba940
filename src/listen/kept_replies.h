/* Answers a listener thread queues again instead of building again: libmicrohttpd
 * responses are reference counted and may be queued on many connections, so an answer
 * whose every byte is fixed by (kind, key) for the life of a configuration is made once.
 *
 * A table belongs to one thread (no lock). The decision is still made on every request;
 * only the formatting of its answer is kept. */
#ifndef KUNCI_KEPT_REPLIES_H
#define KUNCI_KEPT_REPLIES_H

#include <microhttpd.h>
#include <stdint.h>

struct kept_replies;

/* slots: rounded down to a power of two, at least 1. NULL when out of memory. */
struct kept_replies *kept_replies_new(unsigned slots);
/* Destroys every kept response (connections still sending one keep their reference). */
void kept_replies_free(struct kept_replies *t);
/* The response kept for (epoch, kind, key), or NULL. epoch names the configuration the
 * answer was made under: a different epoch never matches. */
struct MHD_Response *kept_replies_find(struct kept_replies *t, uint64_t epoch, unsigned kind,
                                       const char *key);
/* Keeps resp for (epoch, kind, key), taking over the caller's reference and replacing
 * whatever held its slot. A key longer than KEPT_REPLIES_KEY_MAX is not kept: resp is
 * destroyed (the caller must have queued it already if it wanted it sent). */
#define KEPT_REPLIES_KEY_MAX 320
void kept_replies_put(struct kept_replies *t, uint64_t epoch, unsigned kind, const char *key,
                      struct MHD_Response *resp);

#endif
