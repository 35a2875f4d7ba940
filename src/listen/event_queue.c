/* The server's sink for the activity record (core/events.h). A request thread copies its
 * event into a bounded queue under a mutex and goes on; one writer thread, with its own
 * store handle, drains the queue into a batch, merging aggregated events of the same row as
 * they come, and writes the batch (one transaction) every FLUSH_MS or when it holds BATCH_MAX
 * rows; once an hour it deletes what is older than activity_days. Commits follow the rows,
 * not the requests: each one also empties every auth thread's cache (lookup_cache.h).
 * A full queue drops events and says how many in the log; a database away keeps the batch
 * and tries again. */
#include "listen/event_queue.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/err.h"
#include "core/log.h"
#include "core/settings.h"
#include "listen/listen.h"

#define QUEUE_MAX        4096
#define BATCH_MAX        256
#define FLUSH_MS         500
#define SETTINGS_SECONDS 30
#define PRUNE_SECONDS    3600
#define RETRY_MS         1000

struct event_queue {
    pthread_mutex_t mu;
    pthread_cond_t wake, flushed;
    struct kunci_event *ring;
    size_t head, len;
    bool stopping;
    unsigned long writes_done; /* batches written, for event_queue_flush */
    pthread_t thread;
    atomic_ulong dropped;
    struct kunci_event batch[BATCH_MAX];
    int batch_len;
    int16_t slots[BATCH_MAX * 2]; /* aggregated rows of the batch by key: index + 1, 0 free */
    bool flush_asked;
    event_written_fn written; /* each event once it is stored (notifications), or NULL */
    void *written_arg;
};

static void enqueue(void *arg, const struct kunci_event *ev)
{
    struct event_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    if (q->len == QUEUE_MAX) {
        atomic_fetch_add(&q->dropped, 1);
    } else {
        q->ring[(q->head + q->len) % QUEUE_MAX] = *ev;
        if (++q->len == QUEUE_MAX / 2)
            pthread_cond_signal(&q->wake);
    }
    pthread_mutex_unlock(&q->mu);
}

static size_t slot_of(const struct kunci_event *e)
{
    uint64_t h;
    memcpy(&h, e->agg_key, sizeof(h)); /* SipHash output (core/events.c): evenly spread */
    return (size_t)((h ^ (uint64_t)e->agg_bucket * 0x9e3779b97f4a7c15u) % (BATCH_MAX * 2));
}

/* Moves queued events into the batch until it holds BATCH_MAX rows: an aggregated event of a
 * row the batch has already adds its count to that row. */
static void take(struct event_queue *q)
{
    if (q->batch_len == 0)
        memset(q->slots, 0, sizeof(q->slots));
    while (q->len > 0 && q->batch_len < BATCH_MAX) {
        struct kunci_event *e = &q->ring[q->head];
        struct kunci_event *row = NULL;
        size_t i = 0;
        if (e->aggregate) {
            for (i = slot_of(e); q->slots[i] != 0; i = (i + 1) % (BATCH_MAX * 2)) {
                struct kunci_event *b = &q->batch[q->slots[i] - 1];
                if (b->agg_bucket == e->agg_bucket &&
                    memcmp(b->agg_key, e->agg_key, KUNCI_EVENT_AGG_BYTES) == 0) {
                    row = b;
                    break;
                }
            }
        }
        if (row != NULL) {
            row->count += e->count;
            if (e->last_at > row->last_at)
                row->last_at = e->last_at;
        } else {
            if (e->aggregate)
                q->slots[i] = (int16_t)(q->batch_len + 1);
            q->batch[q->batch_len++] = *e;
        }
        q->head = (q->head + 1) % QUEUE_MAX;
        q->len--;
    }
}

static void deadline_in(struct timespec *ts, int ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

static void *writer(void *arg)
{
    struct event_queue *q = arg;
    int64_t next_settings = 0, next_prune = 0;
    int days = 30;
    bool failing = false;

    struct timespec due;
    deadline_in(&due, FLUSH_MS);
    pthread_mutex_lock(&q->mu);
    for (;;) {
        /* Until the batch is due (its time, a full batch, a flush asked, the stop), events
         * waiting in the queue are merged into it; a failed write waits RETRY_MS. */
        for (;;) {
            take(q);
            if (q->stopping || q->flush_asked || (q->batch_len == BATCH_MAX && !failing))
                break;
            struct timespec now_ts;
            clock_gettime(CLOCK_REALTIME, &now_ts);
            if (now_ts.tv_sec > due.tv_sec ||
                (now_ts.tv_sec == due.tv_sec && now_ts.tv_nsec >= due.tv_nsec))
                break;
            pthread_cond_timedwait(&q->wake, &q->mu, &due);
        }
        bool stopping = q->stopping;
        q->flush_asked = false;
        pthread_mutex_unlock(&q->mu);

        int64_t now = (int64_t)time(NULL);
        struct kunci_store_handle *h = listen_thread_store();
        int r = h != NULL ? KUNCI_OK : KUNCI_ERR_TEMPFAIL;
        if (h != NULL && now >= next_settings) {
            struct kunci_settings s;
            if (kunci_settings_load(h, &s) == KUNCI_OK) {
                days = s.activity_days;
                kunci_events_set_recording(days > 0);
                next_settings = now + SETTINGS_SECONDS;
            }
        }
        if (h != NULL && q->batch_len > 0) {
            r = kunci_store_event_write(h, q->batch, q->batch_len);
            if (r != KUNCI_OK && r != KUNCI_ERR_TEMPFAIL) {
                /* Not an outage: trying again would fail again and hold up the rest. */
                kunci_log("activity.lost", "%d events not recorded: %s", q->batch_len,
                          kunci_strerror(r));
                r = KUNCI_OK;
            }
            for (int i = 0; r == KUNCI_OK && q->written != NULL && i < q->batch_len; i++)
                q->written(q->written_arg, &q->batch[i]);
            if (r == KUNCI_OK)
                q->batch_len = 0;
        }
        if (r != KUNCI_OK && !failing)
            kunci_log("activity.unavailable", "activity not written yet (%s): tried again",
                      kunci_strerror(r));
        failing = r != KUNCI_OK;
        if (h != NULL && days > 0 && now >= next_prune &&
            kunci_store_event_purge(h, now - (int64_t)days * 86400) == KUNCI_OK)
            next_prune = now + PRUNE_SECONDS;
        unsigned long lost = atomic_exchange(&q->dropped, 0);
        if (lost > 0)
            kunci_log("activity.dropped", "%lu events not recorded: the queue was full", lost);

        deadline_in(&due, failing ? RETRY_MS : FLUSH_MS);
        pthread_mutex_lock(&q->mu);
        q->writes_done++;
        pthread_cond_broadcast(&q->flushed);
        if (stopping && (q->len == 0 || failing))
            break;
    }
    if (q->batch_len + (int)q->len > 0)
        kunci_log("activity.lost", "%d events not recorded: the database was away at stop",
                  q->batch_len + (int)q->len);
    pthread_mutex_unlock(&q->mu);
    return NULL;
}

static void flush(void *arg);

int event_queue_start(event_written_fn written, void *arg, struct event_queue **q_r)
{
    struct event_queue *q = calloc(1, sizeof(*q));
    if (q == NULL || (q->ring = calloc(QUEUE_MAX, sizeof(*q->ring))) == NULL) {
        free(q);
        return KUNCI_ERR_NOMEM;
    }
    q->written = written;
    q->written_arg = arg;
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->wake, NULL);
    pthread_cond_init(&q->flushed, NULL);
    kunci_events_set_recording(true); /* until the settings say otherwise */
    if (pthread_create(&q->thread, NULL, writer, q) != 0) {
        free(q->ring);
        free(q);
        return KUNCI_ERR_INTERNAL;
    }
    kunci_events_set_sink(enqueue, flush, q);
    *q_r = q;
    return KUNCI_OK;
}

static void flush(void *arg)
{
    struct event_queue *q = arg;
    pthread_mutex_lock(&q->mu);
    unsigned long target = q->writes_done + 2; /* a whole pass after this call */
    while (q->writes_done < target && !q->stopping) {
        q->flush_asked = true;
        pthread_cond_signal(&q->wake);
        pthread_cond_wait(&q->flushed, &q->mu);
    }
    pthread_mutex_unlock(&q->mu);
}

void event_queue_stop(struct event_queue *q)
{
    if (q == NULL)
        return;
    kunci_events_set_sink(NULL, NULL, NULL);
    pthread_mutex_lock(&q->mu);
    q->stopping = true;
    pthread_cond_signal(&q->wake);
    pthread_mutex_unlock(&q->mu);
    pthread_join(q->thread, NULL);
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->wake);
    pthread_cond_destroy(&q->flushed);
    free(q->ring);
    free(q);
}
