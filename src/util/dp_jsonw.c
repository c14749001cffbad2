#include "util/dp_jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dp_jw_init(dp_jw *w, dp_buf *out, bool pretty) {
    memset(w, 0, sizeof *w);
    w->out = out;
    w->pretty = pretty;
    w->first[0] = true;
}

static void dp__put(dp_jw *w, const char *s, size_t n) {
    if (!w->failed && dp_buf_append(w->out, s, n) != DP_OK)
        w->failed = true;
}

static void dp__puts(dp_jw *w, const char *s) {
    dp__put(w, s, strlen(s));
}

static void dp__newline(dp_jw *w) {
    if (!w->pretty)
        return;
    dp__put(w, "\n", 1);
    for (int i = 0; i < w->depth; i++)
        dp__put(w, "  ", 2);
}

/* Before any value or key: the comma and indentation. */
static void dp__sep(dp_jw *w) {
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (w->depth > 0) {
        if (!w->first[w->depth])
            dp__put(w, ",", 1);
        w->first[w->depth] = false;
        dp__newline(w);
    }
}

static void dp__open(dp_jw *w, const char *c) {
    dp__sep(w);
    dp__puts(w, c);
    if (w->depth >= 63) {
        w->failed = true;
        return;
    }
    w->depth++;
    w->first[w->depth] = true;
}

static void dp__close(dp_jw *w, const char *c) {
    if (w->depth <= 0) {
        w->failed = true;
        return;
    }
    bool empty = w->first[w->depth];
    w->depth--;
    if (!empty)
        dp__newline(w);
    dp__puts(w, c);
}

void dp_jw_object_begin(dp_jw *w) {
    dp__open(w, "{");
}
void dp_jw_object_end(dp_jw *w) {
    dp__close(w, "}");
}
void dp_jw_array_begin(dp_jw *w) {
    dp__open(w, "[");
}
void dp_jw_array_end(dp_jw *w) {
    dp__close(w, "]");
}

static void dp__string_body(dp_jw *w, const char *s) {
    dp__put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"':
            dp__put(w, "\\\"", 2);
            break;
        case '\\':
            dp__put(w, "\\\\", 2);
            break;
        case '\n':
            dp__put(w, "\\n", 2);
            break;
        case '\t':
            dp__put(w, "\\t", 2);
            break;
        case '\r':
            dp__put(w, "\\r", 2);
            break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                dp__puts(w, esc);
            } else {
                dp__put(w, (const char *) p, 1);
            }
        }
    }
    dp__put(w, "\"", 1);
}

void dp_jw_key(dp_jw *w, const char *key) {
    dp__sep(w);
    dp__string_body(w, key);
    dp__put(w, w->pretty ? ": " : ":", w->pretty ? 2 : 1);
    w->after_key = true;
}

void dp_jw_string(dp_jw *w, const char *s) {
    dp__sep(w);
    if (s == NULL)
        dp__puts(w, "null");
    else
        dp__string_body(w, s);
}

void dp_format_double_shortest(double v, char *buf, size_t cap) {
    /* Integers print as integers ("10", not "1e+01"). */
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(buf, cap, "%.0f", v);
        if (strtod(buf, NULL) == v)
            return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

void dp_jw_number(dp_jw *w, double v) {
    dp__sep(w);
    if (!isfinite(v)) {
        dp__puts(w, "null");
        return;
    }
    char buf[40];
    dp_format_double_shortest(v, buf, sizeof buf);
    dp__puts(w, buf);
}

void dp_jw_int(dp_jw *w, int64_t v) {
    dp__sep(w);
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    dp__puts(w, buf);
}

void dp_jw_uint(dp_jw *w, uint64_t v) {
    dp__sep(w);
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    dp__puts(w, buf);
}

void dp_jw_bool(dp_jw *w, bool v) {
    dp__sep(w);
    dp__puts(w, v ? "true" : "false");
}

void dp_jw_null(dp_jw *w) {
    dp__sep(w);
    dp__puts(w, "null");
}

void dp_jw_kv_string(dp_jw *w, const char *key, const char *s) {
    dp_jw_key(w, key);
    dp_jw_string(w, s);
}
void dp_jw_kv_number(dp_jw *w, const char *key, double v) {
    dp_jw_key(w, key);
    dp_jw_number(w, v);
}
void dp_jw_kv_int(dp_jw *w, const char *key, int64_t v) {
    dp_jw_key(w, key);
    dp_jw_int(w, v);
}
void dp_jw_kv_bool(dp_jw *w, const char *key, bool v) {
    dp_jw_key(w, key);
    dp_jw_bool(w, v);
}

dp_status dp_jw_finish(dp_jw *w, dp_error *err) {
    if (w->depth != 0)
        w->failed = true;
    dp__put(w, "\n", 1);
    if (w->failed)
        return dp_error_set(err, w->depth != 0 ? DP_STATE : DP_NOMEM, "JSON writer: %s",
                            w->depth != 0 ? "unbalanced nesting" : "out of memory");
    return DP_OK;
}
