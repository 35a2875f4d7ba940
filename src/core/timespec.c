#include "core/timespec.h"
#include "core/err.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_RELATIVE_DAYS (100L * 366)

int kunci_expiry_parse(const char *s, int64_t now, int64_t *at_r)
{
    struct tm tm;
    char *end;
    size_t len = strlen(s);

    *at_r = 0;
    if (len >= 2 && s[0] >= '0' && s[0] <= '9' && strchr("hdw", s[len - 1]) != NULL && len < 12) {
        errno = 0;
        long n = strtol(s, &end, 10);
        long unit = s[len - 1] == 'h' ? 3600 : s[len - 1] == 'd' ? 86400 : 7 * 86400;
        if (errno != 0 || end != s + len - 1 || n <= 0 ||
            n * (unit / 3600) > MAX_RELATIVE_DAYS * 24)
            return KUNCI_ERR_INVALID;
        *at_r = now + (int64_t)n * unit;
        return KUNCI_OK;
    }
    memset(&tm, 0, sizeof(tm));
    end = NULL;
    if (len == 10)
        end = strptime(s, "%Y-%m-%d", &tm);
    else if (len == 20)
        end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (end == NULL || *end != '\0')
        return KUNCI_ERR_INVALID;
    /* strptime accepts 2027-02-31; a round trip through timegm catches it. */
    struct tm check = tm;
    time_t t = timegm(&check);
    if (t == (time_t)-1 || check.tm_mday != tm.tm_mday || check.tm_mon != tm.tm_mon)
        return KUNCI_ERR_INVALID;
    if ((int64_t)t <= now)
        return KUNCI_ERR_INVALID; /* an expiry in the past is a mistake, not a request */
    *at_r = (int64_t)t;
    return KUNCI_OK;
}

int kunci_since_parse(const char *s, int64_t now, int64_t *at_r)
{
    size_t len = strlen(s);
    int64_t at;

    if (len >= 2 && s[0] >= '0' && s[0] <= '9' && strchr("hdw", s[len - 1]) != NULL) {
        int r = kunci_expiry_parse(s, 0, &at); /* the length of time */
        if (r == KUNCI_OK)
            *at_r = now - at > 0 ? now - at : 1;
        return r;
    }
    /* Absolute: parsed as an expiry from the beginning of time. */
    return kunci_expiry_parse(s, 0, at_r);
}

void kunci_time_format(int64_t t, char *out, size_t out_size)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (out_size == 0)
        return;
    out[0] = '\0';
    if (t == 0 || gmtime_r(&tt, &tm) == NULL)
        return;
    strftime(out, out_size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
