/* dp_alloc.h: the one allocation seam of dpipe.
 *
 * All heap memory goes through these functions. They keep a process-wide account of live and peak
 * bytes (what the memory tests and the progress line report), refuse single requests above
 * DP_LIMIT_ALLOC_MAX, check count*size for overflow, and let tests inject failures.
 * Memory from dp_malloc must be released with dp_free (never free()).
 *
 * Thread safety: all functions are thread-safe (atomic counters).
 */
#ifndef DP_UTIL_ALLOC_H
#define DP_UTIL_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* NULL on failure (out of memory, over the cap, injected failure). dp_malloc(0) returns a
 * unique non-NULL pointer. */
void *dp_malloc(size_t size);
/* Zeroed; NULL when count*size overflows. */
void *dp_calloc(size_t count, size_t size);
/* count*size bytes, uninitialised; NULL when it overflows. */
void *dp_mallocarray(size_t count, size_t size);
/* Like realloc; on failure the old block is untouched and NULL is returned. */
void *dp_realloc(void *ptr, size_t size);
/* count*size with overflow check. */
void *dp_reallocarray(void *ptr, size_t count, size_t size);
/* Accepts NULL. */
void dp_free(void *ptr);
/* Copy of a NUL-terminated string / of n bytes plus a NUL. */
char *dp_strdup(const char *s);
char *dp_strndup(const char *s, size_t n);

/* Accounting. */
int64_t dp_alloc_live_bytes(void);
int64_t dp_alloc_peak_bytes(void);
int64_t dp_alloc_count(void); /* allocations made since start */
/* Set the peak to the current live size (start of a measured region). */
void dp_alloc_reset_peak(void);

/* Test hook: the n-th allocation from now (1 = the next one) fails, and every later one
 * succeeds again. n <= 0 disables injection. */
void dp_alloc_fail_after(int64_t n);

#endif
