/* Allocation seam: a 16-byte header in front of every block records its size, so frees can be
 * accounted without a lookup table, and the payload keeps malloc's 16-byte alignment. */
#include "util/dp_alloc.h"
#include "util/dp_limits.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define DP__HDR 16

static _Atomic int64_t dp__live;
static _Atomic int64_t dp__peak;
static _Atomic int64_t dp__count;
static _Atomic int64_t dp__fail_countdown;

static void dp__account(int64_t delta) {
    int64_t now = atomic_fetch_add(&dp__live, delta) + delta;
    if (delta > 0) {
        int64_t peak = atomic_load(&dp__peak);
        while (now > peak && !atomic_compare_exchange_weak(&dp__peak, &peak, now)) {
        }
    }
}

static int dp__should_fail(void) {
    atomic_fetch_add(&dp__count, 1);
    int64_t c = atomic_load(&dp__fail_countdown);
    while (c > 0) {
        if (atomic_compare_exchange_weak(&dp__fail_countdown, &c, c - 1))
            return c == 1;
    }
    return 0;
}

void *dp_malloc(size_t size) {
    if ((uint64_t) size > DP_LIMIT_ALLOC_MAX || dp__should_fail())
        return NULL;
    unsigned char *p = malloc(size + DP__HDR);
    if (p == NULL)
        return NULL;
    memcpy(p, &size, sizeof size);
    dp__account((int64_t) size);
    return p + DP__HDR;
}

void *dp_mallocarray(size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total))
        return NULL;
    return dp_malloc(total);
}

/* calloc itself, not malloc + memset: large blocks then come from fresh zero pages that cost
 * no memory until written (an accumulator whose lower triangle is never written, a resume that
 * replaces freshly created accumulators). */
void *dp_calloc(size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total))
        return NULL;
    if ((uint64_t) total > DP_LIMIT_ALLOC_MAX || dp__should_fail())
        return NULL;
    unsigned char *p = calloc(1, total + DP__HDR);
    if (p == NULL)
        return NULL;
    memcpy(p, &total, sizeof total);
    dp__account((int64_t) total);
    return p + DP__HDR;
}

void *dp_realloc(void *ptr, size_t size) {
    if (ptr == NULL)
        return dp_malloc(size);
    if ((uint64_t) size > DP_LIMIT_ALLOC_MAX || dp__should_fail())
        return NULL;
    unsigned char *base = (unsigned char *) ptr - DP__HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    unsigned char *p = realloc(base, size + DP__HDR);
    if (p == NULL)
        return NULL;
    memcpy(p, &size, sizeof size);
    dp__account((int64_t) size - (int64_t) old);
    return p + DP__HDR;
}

void *dp_reallocarray(void *ptr, size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total))
        return NULL;
    return dp_realloc(ptr, total);
}

void dp_free(void *ptr) {
    if (ptr == NULL)
        return;
    unsigned char *base = (unsigned char *) ptr - DP__HDR;
    size_t old;
    memcpy(&old, base, sizeof old);
    dp__account(-(int64_t) old);
    free(base);
}

char *dp_strndup(const char *s, size_t n) {
    char *d = dp_malloc(n + 1);
    if (d == NULL)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *dp_strdup(const char *s) {
    return dp_strndup(s, strlen(s));
}

int64_t dp_alloc_live_bytes(void) {
    return atomic_load(&dp__live);
}
int64_t dp_alloc_peak_bytes(void) {
    return atomic_load(&dp__peak);
}
int64_t dp_alloc_count(void) {
    return atomic_load(&dp__count);
}
void dp_alloc_reset_peak(void) {
    atomic_store(&dp__peak, atomic_load(&dp__live));
}
void dp_alloc_fail_after(int64_t n) {
    atomic_store(&dp__fail_countdown, n > 0 ? n : 0);
}
