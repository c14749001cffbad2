/* dp_status.h: the error model shared by every dpipe function.
 *
 * Every fallible function returns a dp_status and takes an optional `dp_error *err` (may be
 * NULL). On failure the function writes a message into err that names what failed with the
 * numbers involved (file, row group, column, byte offset, sizes). On success err is untouched.
 *
 * Thread safety: a dp_error belongs to one thread at a time; dp_status_name() is reentrant.
 * Ownership: dp_error is a caller-allocated value with a fixed-size buffer; nothing to free.
 */
#ifndef DPIPE_DP_STATUS_H
#define DPIPE_DP_STATUS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X-macro list: name, value, short description. Values are stable (they appear in logs). */
#define DP_STATUS_LIST(X)                                                                          \
    X(OK, 0, "ok")                                                                                 \
    X(NOMEM, 1, "out of memory")                                                                   \
    X(IO, 2, "I/O error")                                                                          \
    X(TRUNCATED, 3, "truncated input")                                                             \
    X(CORRUPT, 4, "corrupt input")                                                                 \
    X(UNSUPPORTED, 5, "unsupported feature")                                                       \
    X(ENCRYPTED, 6, "encrypted file")                                                              \
    X(INVALID_ARG, 7, "invalid argument")                                                          \
    X(LIMIT, 8, "limit exceeded")                                                                  \
    X(BACKEND, 9, "backend error")                                                                 \
    X(NUMERIC, 10, "numerical error")                                                              \
    X(INTERRUPTED, 11, "interrupted")                                                              \
    X(NOT_FOUND, 12, "not found")                                                                  \
    X(STATE, 13, "invalid state")

typedef enum dp_status {
#define DP__STATUS_ENUM(name, value, text) DP_##name = value,
    DP_STATUS_LIST(DP__STATUS_ENUM)
#undef DP__STATUS_ENUM
} dp_status;

#define DP_ERROR_MSG_MAX 1024

typedef struct dp_error {
    dp_status status;
    char msg[DP_ERROR_MSG_MAX];
} dp_error;

#if defined(__GNUC__) || defined(__clang__)
#define DP_PRINTF(fmt_idx, arg_idx) __attribute__((format(printf, fmt_idx, arg_idx)))
#else
#define DP_PRINTF(fmt_idx, arg_idx)
#endif

/* "CORRUPT" etc.; "UNKNOWN" for values outside the list. */
const char *dp_status_name(dp_status st);
/* A short English description ("corrupt input"). */
const char *dp_status_text(dp_status st);

/* Clear err (status OK, empty message). err may be NULL. */
void dp_error_init(dp_error *err);

/* Set err to (st, formatted message) and return st, so that
 *     return dp_error_set(err, DP_CORRUPT, "page header at offset %lld", off);
 * reads naturally. err may be NULL. */
dp_status dp_error_set(dp_error *err, dp_status st, const char *fmt, ...) DP_PRINTF(3, 4);

/* Prepend context ("file.parquet: row group 3: ") to an existing message. err may be NULL. */
void dp_error_prefix(dp_error *err, const char *fmt, ...) DP_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif
#endif
