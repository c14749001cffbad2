/* dp_base.h: internal macros every dpipe source file uses.
 *
 * - DP_TRY(expr): return the status of expr when it is not DP_OK.
 * - DP_CHECK(expr): for functions with one `cleanup:` exit and a local `dp_status st`:
 *   st = expr; on failure goto cleanup.
 * - DP_FAIL(err, st, ...): set the error and goto cleanup.
 * - DP_ASSERT(cond): internal invariant (never on file contents); active in debug builds.
 * - DP_MUST_USE: warn_unused_result on status-returning functions.
 */
#ifndef DP_UTIL_BASE_H
#define DP_UTIL_BASE_H

#include "dpipe/dp_status.h"

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#define DP_TRY(expr)                                                                               \
    do {                                                                                           \
        dp_status dp__try_st = (expr);                                                             \
        if (dp__try_st != DP_OK)                                                                   \
            return dp__try_st;                                                                     \
    } while (0)

#define DP_CHECK(expr)                                                                             \
    do {                                                                                           \
        st = (expr);                                                                               \
        if (st != DP_OK)                                                                           \
            goto cleanup;                                                                          \
    } while (0)

#define DP_FAIL(err, status, ...)                                                                  \
    do {                                                                                           \
        st = dp_error_set((err), (status), __VA_ARGS__);                                           \
        goto cleanup;                                                                              \
    } while (0)

#if defined(__GNUC__) || defined(__clang__)
#define DP_MUST_USE    __attribute__((warn_unused_result))
#define DP_LIKELY(x)   __builtin_expect(!!(x), 1)
#define DP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define DP_MUST_USE
#define DP_LIKELY(x)   (x)
#define DP_UNLIKELY(x) (x)
#endif

void dp__assert_fail(const char *expr, const char *file, int line);

#ifndef NDEBUG
#define DP_ASSERT(cond) ((cond) ? (void) 0 : dp__assert_fail(#cond, __FILE__, __LINE__))
#else
#define DP_ASSERT(cond) ((void) 0)
#endif

#define DP_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define DP_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define DP_MAX(a, b)    ((a) > (b) ? (a) : (b))

/* Overflow-checked size arithmetic: return false on overflow. */
static inline bool dp_mul_size(size_t a, size_t b, size_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool dp_add_size(size_t a, size_t b, size_t *out) {
    return !__builtin_add_overflow(a, b, out);
}
static inline bool dp_mul_i64(int64_t a, int64_t b, int64_t *out) {
    return !__builtin_mul_overflow(a, b, out);
}
static inline bool dp_add_i64(int64_t a, int64_t b, int64_t *out) {
    return !__builtin_add_overflow(a, b, out);
}

#endif
