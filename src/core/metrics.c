#include "core/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESULTS (KUNCI_AUTH_NEEDS_HASH + 1)

/* Seconds: from a cached app password (tens of microseconds) to Argon2id under load. */
static const double bounds[] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5};
#define BUCKETS (sizeof(bounds) / sizeof(bounds[0]))

static const char *const endpoint_names[KUNCI_METRIC_ENDPOINTS] = {"nginx", "basic", "socket"};
static const char *const driver_names[] = {"outbox", "smtp", "command", "webhook", "other"};
#define DRIVERS (sizeof(driver_names) / sizeof(driver_names[0]))

struct block {
    struct block *next;
    atomic_uint_fast64_t checks[KUNCI_METRIC_ENDPOINTS][RESULTS];
    atomic_uint_fast64_t buckets[2][BUCKETS]; /* [hashed]: at most bounds[i], not cumulative */
    atomic_uint_fast64_t count[2], sum_us[2];
    atomic_uint_fast64_t deliveries[DRIVERS][2];
    atomic_uint_fast64_t store_errors;
    atomic_uint_fast64_t cache[2]; /* [hit] */
};

static pthread_mutex_t blocks_lock = PTHREAD_MUTEX_INITIALIZER;
static struct block *blocks;
static _Thread_local struct block *mine;

/* The thread's block, made on its first count and kept for the process's life (a thread
 * that ends leaves its counts in). NULL when memory is short: that count is lost. */
static struct block *block(void)
{
    if (mine == NULL && (mine = calloc(1, sizeof(*mine))) != NULL) {
        pthread_mutex_lock(&blocks_lock);
        mine->next = blocks;
        blocks = mine;
        pthread_mutex_unlock(&blocks_lock);
    }
    return mine;
}

static void add(atomic_uint_fast64_t *c, uint64_t n)
{
    /* Only the owning thread writes: a relaxed load and store, no locked instruction. */
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

void kunci_metrics_check(enum kunci_metric_endpoint endpoint, enum kunci_auth_result result,
                         bool hashed, int64_t micros)
{
    struct block *b = block();
    if (b == NULL || endpoint >= KUNCI_METRIC_ENDPOINTS || (unsigned)result >= RESULTS)
        return;
    add(&b->checks[endpoint][result], 1);
    if (micros < 0)
        micros = 0;
    size_t i = 0;
    while (i < BUCKETS && (double)micros / 1e6 > bounds[i])
        i++;
    if (i < BUCKETS)
        add(&b->buckets[hashed][i], 1);
    add(&b->count[hashed], 1);
    add(&b->sum_us[hashed], (uint64_t)micros);
}

void kunci_metrics_delivery(const char *driver, bool delivered)
{
    struct block *b = block();
    size_t d = 0;
    while (d < DRIVERS - 1 && strcmp(driver, driver_names[d]) != 0)
        d++;
    if (b != NULL)
        add(&b->deliveries[d][delivered], 1);
}

void kunci_metrics_cache(bool hit)
{
    struct block *b = block();
    if (b != NULL)
        add(&b->cache[hit], 1);
}

void kunci_metrics_store_error(void)
{
    struct block *b = block();
    if (b != NULL)
        add(&b->store_errors, 1);
}

static uint64_t total(size_t offset)
{
    uint64_t n = 0;
    for (const struct block *b = blocks; b != NULL; b = b->next)
        n += atomic_load_explicit((const atomic_uint_fast64_t *)((const char *)b + offset),
                                  memory_order_relaxed);
    return n;
}
#define TOTAL(field) total(offsetof(struct block, field))

char *kunci_metrics_render(const struct kunci_metrics_now *now)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);
    if (f == NULL)
        return NULL;

    pthread_mutex_lock(&blocks_lock);
    fputs("# HELP kunci_auth_checks_total Decisions of the auth endpoints, by result.\n"
          "# TYPE kunci_auth_checks_total counter\n",
          f);
    for (int e = 0; e < KUNCI_METRIC_ENDPOINTS; e++)
        for (int r = 0; r < KUNCI_AUTH_NEEDS_HASH; r++)
            fprintf(f, "kunci_auth_checks_total{endpoint=\"%s\",result=\"%s\"} %llu\n",
                    endpoint_names[e], kunci_auth_result_name((enum kunci_auth_result)r),
                    (unsigned long long)TOTAL(checks[e][r]));
    fputs("# HELP kunci_auth_duration_seconds Time to a decision: path=\"fast\" without a "
          "password hash (app passwords, refusals), path=\"hash\" through the hash pool.\n"
          "# TYPE kunci_auth_duration_seconds histogram\n",
          f);
    for (int h = 0; h < 2; h++) {
        const char *path = h ? "hash" : "fast";
        uint64_t cumulative = 0;
        for (size_t i = 0; i < BUCKETS; i++) {
            cumulative += TOTAL(buckets[h][i]);
            fprintf(f, "kunci_auth_duration_seconds_bucket{path=\"%s\",le=\"%g\"} %llu\n", path,
                    bounds[i], (unsigned long long)cumulative);
        }
        uint64_t count = TOTAL(count[h]);
        fprintf(f, "kunci_auth_duration_seconds_bucket{path=\"%s\",le=\"+Inf\"} %llu\n", path,
                (unsigned long long)count);
        fprintf(f, "kunci_auth_duration_seconds_sum{path=\"%s\"} %.6f\n", path,
                (double)TOTAL(sum_us[h]) / 1e6);
        fprintf(f, "kunci_auth_duration_seconds_count{path=\"%s\"} %llu\n", path,
                (unsigned long long)count);
    }
    fputs("# HELP kunci_deliveries_total Codes and notices handed to a delivery driver.\n"
          "# TYPE kunci_deliveries_total counter\n",
          f);
    for (size_t d = 0; d < DRIVERS; d++)
        for (int ok = 1; ok >= 0; ok--)
            fprintf(f, "kunci_deliveries_total{driver=\"%s\",outcome=\"%s\"} %llu\n",
                    driver_names[d], ok ? "delivered" : "failed",
                    (unsigned long long)TOTAL(deliveries[d][ok]));
    fprintf(f,
            "# HELP kunci_store_errors_total Store operations that failed (an outage, a "
            "timeout, a full disk, permissions).\n"
            "# TYPE kunci_store_errors_total counter\n"
            "kunci_store_errors_total %llu\n",
            (unsigned long long)TOTAL(store_errors));
    fprintf(f,
            "# HELP kunci_app_password_cache_total App-password lookups, answered from a "
            "request thread's cache or not (docs/cache.md).\n"
            "# TYPE kunci_app_password_cache_total counter\n"
            "kunci_app_password_cache_total{outcome=\"hit\"} %llu\n"
            "kunci_app_password_cache_total{outcome=\"miss\"} %llu\n",
            (unsigned long long)TOTAL(cache[1]), (unsigned long long)TOTAL(cache[0]));
    pthread_mutex_unlock(&blocks_lock);

    fprintf(f,
            "# HELP kunci_hash_queue Password checks waiting for or in the hash pool.\n"
            "# TYPE kunci_hash_queue gauge\n"
            "kunci_hash_queue %d\n",
            now->hash_queue);
    if (now->sessions >= 0)
        fprintf(f,
                "# HELP kunci_sessions Web sessions in the database (every node's).\n"
                "# TYPE kunci_sessions gauge\n"
                "kunci_sessions %lld\n",
                (long long)now->sessions);
    fprintf(f,
            "# HELP kunci_up 1 when the store answered this scrape.\n"
            "# TYPE kunci_up gauge\n"
            "kunci_up %d\n",
            now->sessions >= 0);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
