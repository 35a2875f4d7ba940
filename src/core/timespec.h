/* Expiry times: relative ("90d", "12h", "2w") or absolute ("2027-01-31", which means the
 * start of that day in UTC, or "2027-01-31T12:00:00Z"). */
#ifndef KUNCI_TIMESPEC_H
#define KUNCI_TIMESPEC_H

#include <stddef.h>
#include <stdint.h>

int kunci_expiry_parse(const char *s, int64_t now, int64_t *at_r);
/* A time in the past for listings: relative ("7d", "12h", "2w": that long ago) or
 * absolute as above (any date, past or not). */
int kunci_since_parse(const char *s, int64_t now, int64_t *at_r);
/* "2027-01-31T00:00:00Z"; "" for 0. */
void kunci_time_format(int64_t t, char *out, size_t out_size);

#endif
