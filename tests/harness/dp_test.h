/* dp_test.h: the dpipe test harness.
 *
 *   DP_TEST(cursor_reads_varints) { DP_ASSERT_EQ_INT(x, 3); }
 *
 * Tests register themselves; tests/CMakeLists.txt finds every DP_TEST(name) in tests/unit and
 * adds one CTest entry per test, which runs `dp_tests name` in its own process. Running
 * `dp_tests` with no argument runs all tests, each in a forked child, and prints TAP.
 * Asserts print both values; a failed assert ends the test (exit 1). DP_SKIP(...) exits 77,
 * which CTest reports as skipped, and prints why.
 */
#ifndef DP_TEST_H
#define DP_TEST_H

#include "dpipe/dp_status.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*dp_test_fn)(void);
void dp__test_register(const char *name, dp_test_fn fn, const char *file);
_Noreturn void dp__test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
_Noreturn void dp__test_skip(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define DP_TEST(name)                                                                              \
    static void dp_test_fn_##name(void);                                                           \
    __attribute__((constructor)) static void dp_test_reg_##name(void) {                            \
        dp__test_register(#name, dp_test_fn_##name, __FILE__);                                     \
    }                                                                                              \
    static void dp_test_fn_##name(void)

#define DP_FAILF(...) dp__test_fail(__FILE__, __LINE__, __VA_ARGS__)
#define DP_SKIP(...)  dp__test_skip(__FILE__, __LINE__, __VA_ARGS__)

#define DP_ASSERT_TRUE(c)                                                                          \
    do {                                                                                           \
        if (!(c))                                                                                  \
            DP_FAILF("assertion failed: %s", #c);                                                  \
    } while (0)

#define DP_ASSERT_EQ_INT(a, b)                                                                     \
    do {                                                                                           \
        long long dp__a = (long long) (a), dp__b = (long long) (b);                                \
        if (dp__a != dp__b)                                                                        \
            DP_FAILF("%s == %s failed: %lld != %lld", #a, #b, dp__a, dp__b);                       \
    } while (0)

#define DP_ASSERT_EQ_U64(a, b)                                                                     \
    do {                                                                                           \
        unsigned long long dp__a = (unsigned long long) (a), dp__b = (unsigned long long) (b);     \
        if (dp__a != dp__b)                                                                        \
            DP_FAILF("%s == %s failed: %llu (0x%llx) != %llu (0x%llx)", #a, #b, dp__a, dp__a,      \
                     dp__b, dp__b);                                                                \
    } while (0)

#define DP_ASSERT_CMP_INT(a, op, b)                                                                \
    do {                                                                                           \
        long long dp__a = (long long) (a), dp__b = (long long) (b);                                \
        if (!(dp__a op dp__b))                                                                     \
            DP_FAILF("%s %s %s failed: %lld vs %lld", #a, #op, #b, dp__a, dp__b);                  \
    } while (0)

/* |a - b| <= tol; NaN equals NaN only when both are NaN. */
#define DP_ASSERT_NEAR(a, b, tol)                                                                  \
    do {                                                                                           \
        double dp__a = (double) (a), dp__b = (double) (b), dp__t = (double) (tol);                 \
        int dp__ok =                                                                               \
            (isnan(dp__a) && isnan(dp__b)) || (dp__a == dp__b) || (fabs(dp__a - dp__b) <= dp__t);  \
        if (!dp__ok)                                                                               \
            DP_FAILF("|%s - %s| <= %s failed: %.17g vs %.17g (diff %.3g, tol %.3g)", #a, #b, #tol, \
                     dp__a, dp__b, fabs(dp__a - dp__b), dp__t);                                    \
    } while (0)

/* Relative: |a - b| <= tol * max(|a|, |b|, floor). */
#define DP_ASSERT_REL(a, b, tol, floor_)                                                           \
    do {                                                                                           \
        double dp__a = (double) (a), dp__b = (double) (b);                                         \
        double dp__s = fmax(fmax(fabs(dp__a), fabs(dp__b)), (double) (floor_));                    \
        int dp__ok = (isnan(dp__a) && isnan(dp__b)) || (dp__a == dp__b) ||                         \
                     (fabs(dp__a - dp__b) <= (tol) *dp__s);                                        \
        if (!dp__ok)                                                                               \
            DP_FAILF("%s ~ %s (rel %g) failed: %.17g vs %.17g (rel diff %.3g)", #a, #b,            \
                     (double) (tol), dp__a, dp__b, fabs(dp__a - dp__b) / dp__s);                   \
    } while (0)

/* Bitwise equality of doubles (so -0.0 != 0.0 and NaN payloads count). */
#define DP_ASSERT_BITS_EQ(a, b)                                                                    \
    do {                                                                                           \
        double dp__a = (a), dp__b = (b);                                                           \
        if (memcmp(&dp__a, &dp__b, sizeof(double)) != 0)                                           \
            DP_FAILF("bits of %s == %s failed: %.17g vs %.17g", #a, #b, dp__a, dp__b);             \
    } while (0)

#define DP_ASSERT_STREQ(a, b)                                                                      \
    do {                                                                                           \
        const char *dp__a = (a), *dp__b = (b);                                                     \
        if (dp__a == NULL || dp__b == NULL || strcmp(dp__a, dp__b) != 0)                           \
            DP_FAILF("%s == %s failed:\n  \"%s\"\n  \"%s\"", #a, #b, dp__a ? dp__a : "(null)",     \
                     dp__b ? dp__b : "(null)");                                                    \
    } while (0)

#define DP_ASSERT_CONTAINS(haystack, needle)                                                       \
    do {                                                                                           \
        const char *dp__h = (haystack), *dp__n = (needle);                                         \
        if (dp__h == NULL || strstr(dp__h, dp__n) == NULL)                                         \
            DP_FAILF("%s contains \"%s\" failed: \"%s\"", #haystack, dp__n,                        \
                     dp__h ? dp__h : "(null)");                                                    \
    } while (0)

#define DP_ASSERT_MEMEQ(a, b, n)                                                                   \
    do {                                                                                           \
        const unsigned char *dp__a = (const void *) (a), *dp__b = (const void *) (b);              \
        size_t dp__n = (n);                                                                        \
        for (size_t dp__i = 0; dp__i < dp__n; dp__i++)                                             \
            if (dp__a[dp__i] != dp__b[dp__i])                                                      \
                DP_FAILF("%s == %s (%zu bytes) failed at byte %zu: 0x%02x != 0x%02x", #a, #b,      \
                         dp__n, dp__i, dp__a[dp__i], dp__b[dp__i]);                                \
    } while (0)

/* expr must return DP_OK; on failure print the status and err's message. */
#define DP_ASSERT_OK(expr, errp)                                                                   \
    do {                                                                                           \
        dp_status dp__st = (expr);                                                                 \
        if (dp__st != DP_OK)                                                                       \
            DP_FAILF("%s returned %s: %s", #expr, dp_status_name(dp__st), dp__test_errmsg(errp));  \
    } while (0)

#define DP_ASSERT_STATUS(expr, expected)                                                           \
    do {                                                                                           \
        dp_status dp__st = (expr);                                                                 \
        if (dp__st != (expected))                                                                  \
            DP_FAILF("%s returned %s, expected %s", #expr, dp_status_name(dp__st),                 \
                     dp_status_name(expected));                                                    \
    } while (0)

static inline const char *dp__test_errmsg(const dp_error *e) {
    return e != NULL ? e->msg : "";
}

/* Paths for test data. */
const char *dp_test_source_dir(void); /* repository root */
const char *dp_test_tmp_dir(void);    /* a fresh directory for this test, removed if it passes */
/* dp_test_path("tests/data/x.parquet") -> absolute path in a static rotating buffer. */
const char *dp_test_path(const char *rel);

#endif
