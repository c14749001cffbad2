/* dp_pool.h: a fixed set of worker threads for parallel loops (accumulators split their columns
 * over it). dp_pool_for(p, n, fn, arg) calls fn(arg, i) for every i in [0, n) — on the pool's
 * threads and the caller's — and returns when all calls are done. Which thread runs which i is
 * not fixed, so fn must make each i's work independent of the others (results then do not depend
 * on the thread count).
 * Ownership: create/free (free accepts NULL). Thread safety: one dp_pool_for at a time per pool.
 */
#ifndef DP_UTIL_POOL_H
#define DP_UTIL_POOL_H

#include "util/dp_base.h"

typedef struct dp_pool dp_pool;

/* threads: total threads including the caller's (0 = all cores; 1 = run inline). */
dp_status dp_pool_create(int threads, dp_pool **out, dp_error *err) DP_MUST_USE;
void dp_pool_free(dp_pool *p);
int dp_pool_threads(const dp_pool *p);
void dp_pool_for(dp_pool *p, int64_t n, void (*fn)(void *arg, int64_t i), void *arg);
/* Cores of this machine. */
int dp_ncores(void);

#endif
