/* dp_jsonw.h: a small JSON writer into a dp_buf, for dpipe's reports, manifests and summaries.
 *
 * Commas and nesting are tracked by the writer; numbers are written in the shortest form that
 * reads back to the same double (NaN and infinities become null, which JSON cannot express
 * otherwise); strings are escaped (control bytes as \u00XX, UTF-8 passed through). Errors
 * (out of memory, nesting deeper than 64) stick and are reported once by dp_jw_finish.
 * Ownership: the writer appends to a caller-owned buffer. Thread safety: one thread per writer.
 */
#ifndef DP_UTIL_JSONW_H
#define DP_UTIL_JSONW_H

#include "util/dp_buf.h"

typedef struct dp_jw {
    dp_buf *out;
    int depth;
    bool first[64];
    bool after_key;
    bool pretty;
    bool failed;
} dp_jw;

void dp_jw_init(dp_jw *w, dp_buf *out, bool pretty);
void dp_jw_object_begin(dp_jw *w);
void dp_jw_object_end(dp_jw *w);
void dp_jw_array_begin(dp_jw *w);
void dp_jw_array_end(dp_jw *w);
void dp_jw_key(dp_jw *w, const char *key);
void dp_jw_string(dp_jw *w, const char *s);
void dp_jw_number(dp_jw *w, double v);
void dp_jw_int(dp_jw *w, int64_t v);
void dp_jw_uint(dp_jw *w, uint64_t v);
void dp_jw_bool(dp_jw *w, bool v);
void dp_jw_null(dp_jw *w);
/* Convenience: key + value. */
void dp_jw_kv_string(dp_jw *w, const char *key, const char *s);
void dp_jw_kv_number(dp_jw *w, const char *key, double v);
void dp_jw_kv_int(dp_jw *w, const char *key, int64_t v);
void dp_jw_kv_bool(dp_jw *w, const char *key, bool v);
/* Appends a final newline; DP_NOMEM or DP_STATE (unbalanced nesting) on failure. */
dp_status dp_jw_finish(dp_jw *w, dp_error *err) DP_MUST_USE;
/* Shortest round-trip text of v into buf (at least 32 bytes). */
void dp_format_double_shortest(double v, char *buf, size_t cap);

#endif
