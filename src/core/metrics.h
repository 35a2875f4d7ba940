/* Operational figures for Prometheus (GET /metrics on the auth listener, text format 0.0.4):
 * checks by endpoint and result, their latency on the fast and the hash path, deliveries by
 * driver and outcome, store errors. Each thread counts into a block of its own (no shared
 * cache line on the auth path); a scrape adds the blocks up. Counters only grow, from the
 * process's start. */
#ifndef KUNCI_CORE_METRICS_H
#define KUNCI_CORE_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/decision.h"

enum kunci_metric_endpoint {
    KUNCI_METRIC_NGINX,
    KUNCI_METRIC_BASIC,
    KUNCI_METRIC_SOCKET,
    KUNCI_METRIC_ENDPOINTS
};

/* One decision of an auth endpoint; hashed: it went through the hash pool (Argon2id). */
void kunci_metrics_check(enum kunci_metric_endpoint endpoint, enum kunci_auth_result result,
                         bool hashed, int64_t micros);
/* One message handed to a delivery driver (by its name), delivered or not. */
void kunci_metrics_delivery(const char *driver, bool delivered);
/* An app-password lookup answered from a request thread's cache, or not (docs/cache.md). */
void kunci_metrics_cache(bool hit);
/* A store operation that failed for a reason other than "not found" or a taken key. */
void kunci_metrics_store_error(void);

/* What a scrape reads at the time it is made. */
struct kunci_metrics_now {
    int hash_queue;   /* password checks waiting or running */
    int64_t sessions; /* web sessions in the database, -1 when unreadable */
};

/* The whole exposition, malloc'ed (NULL when memory is short). */
char *kunci_metrics_render(const struct kunci_metrics_now *now);

#endif
