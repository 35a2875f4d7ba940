/* Argon2id takes tens of milliseconds: a fixed set of workers does it, fed by a bounded
 * queue, so request threads never block on it and app-password checks keep flowing. */
#include "server/internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "core/err.h"

#define HASH_WORKER_NICE 10

struct hash_pool {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct hash_job *head, *tail;
    int queued, queue_max, nworkers;
    bool stopping;
    pthread_t *workers;
};

static void *worker_main(void *arg)
{
    struct hash_pool *pool = arg;

    /* Below the request threads: when both compete for a core, the fast checks win. Linux
     * applies nice per thread. Failure only loses the preference. */
    (void)setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), HASH_WORKER_NICE);

    for (;;) {
        pthread_mutex_lock(&pool->lock);
        while (pool->head == NULL && !pool->stopping)
            pthread_cond_wait(&pool->wake, &pool->lock);
        struct hash_job *job = pool->head;
        if (job == NULL) { /* stopping with nothing left */
            pthread_mutex_unlock(&pool->lock);
            return NULL;
        }
        pool->head = job->next;
        if (pool->head == NULL)
            pool->tail = NULL;
        pool->queued--;
        pthread_mutex_unlock(&pool->lock);
        job->run(job, thread_store());
    }
}

int hash_pool_start(struct hash_pool **pool_r, int workers, int queue_max)
{
    struct hash_pool *pool = calloc(1, sizeof(*pool));

    *pool_r = NULL;
    if (pool == NULL)
        return KUNCI_ERR_NOMEM;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    pool->queue_max = queue_max;
    pool->workers = calloc((size_t)workers, sizeof(pthread_t));
    if (pool->workers == NULL) {
        free(pool);
        return KUNCI_ERR_NOMEM;
    }
    for (; pool->nworkers < workers; pool->nworkers++)
        if (pthread_create(&pool->workers[pool->nworkers], NULL, worker_main, pool) != 0)
            break;
    if (pool->nworkers == 0) {
        hash_pool_stop(pool);
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
    if (pool->stopping || pool->queued >= pool->queue_max) {
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

void hash_pool_stop(struct hash_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->nworkers; i++)
        pthread_join(pool->workers[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->workers);
    free(pool);
}
