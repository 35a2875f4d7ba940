/* A store handle's cache of app-password lookups (the auth path's one read), kept only while
 * its driver can prove that nothing it depends on has changed since: a generation (SQLite: a
 * change count kept by triggers, read again only when the WAL index header moves;
 * PostgreSQL: a counter bumped by LISTEN/NOTIFY on every change; both: this process's own
 * commits). A different generation empties the whole cache, so a
 * deleted or expired app password, a disabled account, MFA turned off or app passwords
 * turned off is refused by the very next check. docs/cache.md gives the argument. */
#ifndef KUNCI_STORE_LOOKUP_CACHE_H
#define KUNCI_STORE_LOOKUP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/store.h"
#include "store/driver.h"

struct lookup_cache;

/* entries is rounded down to a power of two, at least 4; 0 gives NULL (no cache). */
struct lookup_cache *lookup_cache_new(size_t entries);
void lookup_cache_free(struct lookup_cache *c);

/* Before a lookup, under the driver's generation now: the digest's row when it was read under
 * this very generation (the cache's own, until its next get or put), else NULL. A generation
 * other than the last empties the cache. */
const struct kunci_app_password_match *lookup_cache_get(struct lookup_cache *c,
                                                        const struct kunci_sql_generation *gen,
                                                        const uint8_t *digest);
/* After a lookup that found the row: kept under the generation given to the get before it
 * (a change between that read and the query makes the next get miss). The caller leaves out
 * what the cache must not hold (the account's password hash). */
void lookup_cache_put(struct lookup_cache *c, const uint8_t *digest,
                      const struct kunci_app_password_match *m);
/* A lookup made without the cache (its generation unknown): counted, nothing kept. */
void lookup_cache_missed(struct lookup_cache *c);

/* App password id was used at `now` (its last use recorded): cached copies say so. */
void lookup_cache_used(struct lookup_cache *c, int64_t id, int64_t now);

void lookup_cache_counts(const struct lookup_cache *c, uint64_t *hits_r, uint64_t *misses_r);

#endif
