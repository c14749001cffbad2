#include "util/dp_pool.h"
#include "util/dp_alloc.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

struct dp_pool {
    int n; /* threads including the caller */
    pthread_t *threads;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv_start, cv_done;
    uint64_t generation;
    bool stop;
    /* current loop */
    void (*fn)(void *, int64_t);
    void *arg;
    int64_t total;
    _Atomic int64_t next;
    int running; /* helper threads still inside the current loop */
};

int dp_ncores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int) n : 1;
}

static void dp__drain(dp_pool *p) {
    for (;;) {
        int64_t i = atomic_fetch_add(&p->next, 1);
        if (i >= p->total)
            break;
        p->fn(p->arg, i);
    }
}

static void *dp__pool_main(void *arg) {
    dp_pool *p = arg;
    uint64_t seen = 0;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!p->stop && p->generation == seen)
            pthread_cond_wait(&p->cv_start, &p->mu);
        if (p->stop)
            break;
        seen = p->generation;
        pthread_mutex_unlock(&p->mu);
        dp__drain(p);
        pthread_mutex_lock(&p->mu);
        if (--p->running == 0)
            pthread_cond_signal(&p->cv_done);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

dp_status dp_pool_create(int threads, dp_pool **out, dp_error *err) {
    *out = NULL;
    if (threads <= 0)
        threads = dp_ncores();
    if (threads > 1024)
        threads = 1024;
    dp_pool *p = dp_calloc(1, sizeof *p);
    if (p == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory creating a thread pool");
    p->n = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_start, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    if (threads > 1) {
        p->threads = dp_calloc((size_t) threads - 1, sizeof *p->threads);
        if (p->threads == NULL) {
            dp_pool_free(p);
            return dp_error_set(err, DP_NOMEM, "out of memory creating a thread pool");
        }
        for (int i = 0; i < threads - 1; i++) {
            if (pthread_create(&p->threads[i], NULL, dp__pool_main, p) != 0) {
                dp_pool_free(p);
                return dp_error_set(err, DP_IO, "cannot start worker thread %d", i);
            }
            p->started++;
        }
    }
    *out = p;
    return DP_OK;
}

void dp_pool_free(dp_pool *p) {
    if (p == NULL)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = true;
    pthread_cond_broadcast(&p->cv_start);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->started; i++)
        pthread_join(p->threads[i], NULL);
    dp_free(p->threads);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_start);
    pthread_cond_destroy(&p->cv_done);
    dp_free(p);
}

int dp_pool_threads(const dp_pool *p) {
    return p != NULL ? p->n : 1;
}

void dp_pool_for(dp_pool *p, int64_t n, void (*fn)(void *arg, int64_t i), void *arg) {
    if (n <= 0)
        return;
    if (p == NULL || p->started == 0 || n == 1) {
        for (int64_t i = 0; i < n; i++)
            fn(arg, i);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->fn = fn;
    p->arg = arg;
    p->total = n;
    atomic_store(&p->next, 0);
    p->running = p->started;
    p->generation++;
    pthread_cond_broadcast(&p->cv_start);
    pthread_mutex_unlock(&p->mu);
    dp__drain(p);
    pthread_mutex_lock(&p->mu);
    while (p->running > 0)
        pthread_cond_wait(&p->cv_done, &p->mu);
    pthread_mutex_unlock(&p->mu);
}
