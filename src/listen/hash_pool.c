/* Argon2id takes tens of milliseconds: a fixed set of workers does it, fed by a bounded
 * queue, so request threads never block on it and app-password checks keep flowing. */
#include "listen/listen.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/err.h"

#define HASH_WORKER_NICE 10

struct hash_worker {
    pthread_t thread;
    char address[KUNCI_ADDRESS_KEY_MAX]; /* of the job it runs, "" when idle */
    bool busy;
};

struct hash_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct hash_job *head, *tail;
    int queued, queue_max, per_address, nworkers;
    bool stopping;
    struct hash_worker *workers;
};

struct worker_arg {
    struct hash_pool *pool;
    struct hash_worker *self;
};

/* Jobs of this address waiting or running; called with the lock held. */
static int address_share(const struct hash_pool *pool, const char *address)
{
    int n = 0;
    for (const struct hash_job *j = pool->head; j != NULL; j = j->next)
        n += strcmp(j->address, address) == 0;
    for (int i = 0; i < pool->nworkers; i++)
        n += pool->workers[i].busy && strcmp(pool->workers[i].address, address) == 0;
    return n;
}

static bool address_running(const struct hash_pool *pool, const char *address)
{
    for (int i = 0; i < pool->nworkers; i++)
        if (pool->workers[i].busy && strcmp(pool->workers[i].address, address) == 0)
            return true;
    return false;
}

/* Takes the oldest job of an address no worker is busy with, else the oldest: one address
 * with a long queue does not make the others wait behind all of it. Lock held. */
static struct hash_job *next_job(struct hash_pool *pool)
{
    struct hash_job *prev = NULL, *job = pool->head;

    while (job != NULL && address_running(pool, job->address)) {
        prev = job;
        job = job->next;
    }
    if (job == NULL) {
        prev = NULL;
        job = pool->head;
    }
    if (job == NULL)
        return NULL;
    if (prev != NULL)
        prev->next = job->next;
    else
        pool->head = job->next;
    if (pool->tail == job)
        pool->tail = prev;
    return job;
}

static void *worker_main(void *arg)
{
    struct hash_pool *pool = ((struct worker_arg *)arg)->pool;
    struct hash_worker *self = ((struct worker_arg *)arg)->self;
    free(arg);

    /* Below the request threads: when both compete for a core, the fast checks win. Linux
     * applies nice per thread. Failure only loses the preference. */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), HASH_WORKER_NICE);

    for (;;) {
        pthread_mutex_lock(&pool->lock);
        while (pool->head == NULL && !pool->stopping)
            pthread_cond_wait(&pool->wake, &pool->lock);
        struct hash_job *job = next_job(pool);
        if (job == NULL) { /* stopping with nothing left */
            pthread_mutex_unlock(&pool->lock);
            return NULL;
        }
        pool->queued--;
        /* The job may be gone once it ran (its request answered): keep whose it was. */
        memcpy(self->address, job->address, sizeof(self->address));
        self->busy = true;
        bool abort = pool->stopping;
        pthread_mutex_unlock(&pool->lock);
        /* Stopping: what is still queued is answered "try again later" at once. */
        job->run(job, abort ? NULL : listen_thread_store());
        pthread_mutex_lock(&pool->lock);
        self->busy = false;
        pthread_mutex_unlock(&pool->lock);
    }
}

int hash_pool_start(struct hash_pool **pool_r, int workers, int queue_max, int per_address)
{
    struct hash_pool *pool = calloc(1, sizeof(*pool));

    *pool_r = NULL;
    if (pool == NULL)
        return KUNCI_ERR_NOMEM;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->queue_max = queue_max;
    pool->per_address = per_address;
    pool->workers = calloc((size_t)workers, sizeof(*pool->workers));
    if (pool->workers == NULL) {
        free(pool);
        return KUNCI_ERR_NOMEM;
    }
    for (; pool->nworkers < workers; pool->nworkers++) {
        struct worker_arg *wa = malloc(sizeof(*wa));
        if (wa == NULL)
            break;
        *wa = (struct worker_arg){pool, &pool->workers[pool->nworkers]};
        if (pthread_create(&pool->workers[pool->nworkers].thread, NULL, worker_main, wa) != 0) {
            free(wa);
            break;
        }
    }
    if (pool->nworkers == 0) {
        hash_pool_free(pool);
        return KUNCI_ERR_INTERNAL;
    }
    *pool_r = pool;
    return KUNCI_OK;
}

int hash_pool_submit(struct hash_pool *pool, struct hash_job *job)
{
    int r = KUNCI_OK;

    job->next = NULL;
    pthread_mutex_lock(&pool->lock);
    /* Past half full, each client address gets its share and no more: one source cannot
     * take the queue from the others (an office behind one address is served fully while
     * there is room). */
    if (pool->stopping || pool->queued >= pool->queue_max ||
        (pool->queued >= pool->queue_max / 2 &&
         address_share(pool, job->address) >= pool->per_address)) {
        r = KUNCI_ERR_LIMIT;
    } else {
        if (pool->tail != NULL)
            pool->tail->next = job;
        else
            pool->head = job;
        pool->tail = job;
        pool->queued++;
        pthread_cond_signal(&pool->wake);
    }
    pthread_mutex_unlock(&pool->lock);
    return r;
}

void hash_pool_set_per_address(struct hash_pool *pool, int per_address)
{
    pthread_mutex_lock(&pool->lock);
    pool->per_address = per_address;
    pthread_mutex_unlock(&pool->lock);
}

int hash_pool_depth(struct hash_pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    int n = pool->queued;
    for (int i = 0; i < pool->nworkers; i++)
        n += pool->workers[i].busy;
    pthread_mutex_unlock(&pool->lock);
    return n;
}

bool hash_pool_idle(struct hash_pool *pool)
{
    return hash_pool_depth(pool) == 0;
}

void hash_pool_stop(struct hash_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    bool joined = pool->stopping && pool->nworkers == 0;
    pool->stopping = true;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    if (joined)
        return;
    for (int i = 0; i < pool->nworkers; i++)
        pthread_join(pool->workers[i].thread, NULL);
    pthread_mutex_lock(&pool->lock);
    pool->nworkers = 0;
    pthread_mutex_unlock(&pool->lock);
}

void hash_pool_free(struct hash_pool *pool)
{
    if (pool == NULL)
        return;
    hash_pool_stop(pool);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->workers);
    free(pool);
}
