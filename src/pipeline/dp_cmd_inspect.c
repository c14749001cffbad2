/* `dpipe inspect`: what a Parquet footer says about each file, as text for people or as one JSON
 * document (an array of file objects) for machines.
 *
 * Per file: path, created_by, format version, rows, row groups, key-value metadata keys; per leaf
 * column: path, physical, logical and converted type, repetition, nesting, levels, encodings and
 * codecs (union over row groups, in order of first appearance, at most 32 listed),
 * compressed and uncompressed bytes summed over row groups, and footer statistics: min/max combined
 * over row groups and decoded by type (exact integers and decimals, floats %.17g, strings escaped,
 * binary as hex), null count summed ("n/a" when a row group lacks it). Per row group: rows and
 * bytes.
 *
 * Statistics rules: min_value/max_value are preferred; the deprecated min/max are used only for
 * types whose legacy ordering was signed and therefore right (BOOLEAN, signed INT32/INT64 incl.
 * DECIMAL and temporal, FLOAT, DOUBLE). A row group holding only nulls (and NaNs, by its
 * null_count and nan_count) may lack bounds or have NaN ones and is skipped; any other row group
 * without bounds, with a bound of the wrong width or a NaN bound makes the combined min/max
 * "n/a". INT96 bounds are never shown (no defined order); temporal values show as the stored
 * integer.
 *
 * Errors: files are processed in order; the first file that cannot be read stops the command
 * and its status is returned (err names the file). Output for the files before it is complete
 * (in JSON mode the array is closed, so stdout stays one valid document); nothing is printed for
 * the failing file or the ones after it.
 */
#include "dpipe/dp_commands.h"
#include "io/dp_source.h"
#include "parquet/pq_meta.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"
#include "util/dp_cursor.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Longest string/binary bound shown in text mode (JSON gets it whole). */
#define DP__TEXT_VALUE_MAX 256
/* Longest decimal (bytes of the unscaled integer) converted to digits; longer ones show as hex. */
#define DP__DECIMAL_BYTES_MAX 128

typedef struct out {
    dp_buf b;
    bool failed;
} out;

static void emit(out *o, const char *fmt, ...) DP_PRINTF(2, 3);
static void emit(out *o, const char *fmt, ...) {
    if (o->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->failed = true;
    } else if ((size_t) n < sizeof small) {
        o->failed = dp_buf_append(&o->b, small, (size_t) n) != DP_OK;
    } else {
        size_t old = o->b.size;
        if (dp_buf_resize(&o->b, old + (size_t) n + 1) != DP_OK) {
            o->failed = true;
        } else {
            vsnprintf((char *) o->b.data + old, (size_t) n + 1, fmt, ap2);
            o->b.size = old + (size_t) n;
        }
    }
    va_end(ap2);
}

static void emit_bytes(out *o, const void *p, size_t n) {
    if (!o->failed && dp_buf_append(&o->b, p, n) != DP_OK)
        o->failed = true;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when invalid. */
static size_t utf8_len(const uint8_t *p, size_t n) {
    uint8_t c = p[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

typedef enum str_style { STR_JSON, STR_TEXT, STR_TEXT_QUOTED } str_style;

/* A string as JSON (quoted; invalid UTF-8 bytes become U+FFFD) or as escaped text (\t \n \r
 * \\ and \xHH for control and invalid bytes; optionally in double quotes, then \" too).
 * max = 0: no cap. */
static void emit_str(out *o, const uint8_t *p, size_t n, str_style style, size_t max) {
    bool json = style == STR_JSON, quoted = style != STR_TEXT;
    bool cut = max > 0 && n > max;
    if (cut)
        n = max;
    if (quoted)
        emit_bytes(o, "\"", 1);
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        if (c == '\\' || (quoted && c == '"')) {
            emit(o, "\\%c", c);
            i++;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            emit(o, "\\%c", c == '\n' ? 'n' : c == '\t' ? 't' : 'r');
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            emit(o, json ? "\\u%04x" : "\\x%02x", c);
            i++;
        } else {
            size_t l = utf8_len(p + i, n - i);
            if (l == 0) {
                if (json)
                    emit(o, "\\ufffd");
                else
                    emit(o, "\\x%02x", c);
                i++;
            } else {
                emit_bytes(o, p + i, l);
                i += l;
            }
        }
    }
    if (cut)
        emit(o, "...");
    if (quoted)
        emit_bytes(o, "\"", 1);
}

static void emit_cstr(out *o, const char *s, bool json) {
    emit_str(o, (const uint8_t *) s, strlen(s), json ? STR_JSON : STR_TEXT, 0);
}

static void emit_view(out *o, dp_view v, bool json) {
    emit_str(o, v.data != NULL ? v.data : (const uint8_t *) "", v.len, json ? STR_JSON : STR_TEXT,
             0);
}

/* ---- Statistics values ------------------------------------------------------------------ */

typedef enum stat_mode {
    SM_NONE, /* no usable order */
    SM_BOOL, /* 1 byte */
    SM_I32,  /* signed little-endian */
    SM_U32,  /* unsigned little-endian */
    SM_I64,
    SM_U64,
    SM_FLOAT,   /* 4 bytes */
    SM_DOUBLE,  /* 8 bytes */
    SM_FLOAT16, /* 2 bytes, FLBA(2) */
    SM_DECIMAL, /* big-endian two's complement (FLBA / BYTE_ARRAY) */
    SM_BYTES    /* unsigned lexicographic */
} stat_mode;

static stat_mode stat_mode_of(const dp_pq_column_desc *c) {
    switch (c->type) {
    case DP_PQ_BOOLEAN:
        return SM_BOOL;
    case DP_PQ_INT32:
        return c->kind == DP_PQ_KIND_UINT ? SM_U32 : SM_I32;
    case DP_PQ_INT64:
        return c->kind == DP_PQ_KIND_UINT ? SM_U64 : SM_I64;
    case DP_PQ_FLOAT:
        return SM_FLOAT;
    case DP_PQ_DOUBLE:
        return SM_DOUBLE;
    case DP_PQ_FIXED_LEN_BYTE_ARRAY:
    case DP_PQ_BYTE_ARRAY:
        if (c->kind == DP_PQ_KIND_FLOAT16)
            return SM_FLOAT16;
        if (c->kind == DP_PQ_KIND_DECIMAL)
            return SM_DECIMAL;
        return SM_BYTES;
    default: /* INT96 */
        return SM_NONE;
    }
}

/* Deprecated min/max were written with signed comparison; only these modes match it. */
static bool legacy_ok(stat_mode m) {
    return m == SM_BOOL || m == SM_I32 || m == SM_I64 || m == SM_FLOAT || m == SM_DOUBLE;
}

static double half_to_double(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp(man, -24);
    else if (exp == 31)
        v = man == 0 ? INFINITY : NAN;
    else
        v = ldexp(man + 1024, exp - 25);
    return sign ? -v : v;
}

/* Width check and NaN check: can this bound be used? */
static bool stat_usable(stat_mode m, const dp_pq_column_desc *c, dp_view v) {
    switch (m) {
    case SM_BOOL:
        return v.len == 1;
    case SM_I32:
    case SM_U32:
        return v.len == 4;
    case SM_I64:
    case SM_U64:
        return v.len == 8;
    case SM_FLOAT: {
        if (v.len != 4)
            return false;
        float f;
        memcpy(&f, v.data, 4);
        return !isnan(f);
    }
    case SM_DOUBLE: {
        if (v.len != 8)
            return false;
        double d;
        memcpy(&d, v.data, 8);
        return !isnan(d);
    }
    case SM_FLOAT16:
        return v.len == 2 && !isnan(half_to_double((uint16_t) (v.data[0] | v.data[1] << 8)));
    case SM_DECIMAL:
        return v.len > 0 &&
               (c->type != DP_PQ_FIXED_LEN_BYTE_ARRAY || v.len == (size_t) c->type_length);
    case SM_BYTES:
        return true;
    default:
        return false;
    }
}

static double stat_double(stat_mode m, dp_view v) {
    if (m == SM_FLOAT) {
        float f;
        memcpy(&f, v.data, 4);
        return f;
    }
    if (m == SM_FLOAT16)
        return half_to_double((uint16_t) (v.data[0] | v.data[1] << 8));
    double d;
    memcpy(&d, v.data, 8);
    return d;
}

/* Byte i (0 = most significant) of a big-endian two's complement number sign-extended to n. */
static uint8_t be_byte(dp_view v, size_t n, size_t i) {
    size_t pad = n - v.len;
    if (i >= pad)
        return v.data[i - pad];
    return (v.data[0] & 0x80) ? 0xff : 0x00;
}

static int cmp3(double a, double b) {
    return a < b ? -1 : a > b ? 1 : 0;
}

static int stat_cmp(stat_mode m, dp_view a, dp_view b) {
    switch (m) {
    case SM_BOOL:
        return (a.data[0] != 0) - (b.data[0] != 0);
    case SM_I32: {
        int32_t x = (int32_t) dp_load_u32le(a.data), y = (int32_t) dp_load_u32le(b.data);
        return (x > y) - (x < y);
    }
    case SM_U32: {
        uint32_t x = dp_load_u32le(a.data), y = dp_load_u32le(b.data);
        return (x > y) - (x < y);
    }
    case SM_I64: {
        int64_t x = (int64_t) dp_load_u64le(a.data), y = (int64_t) dp_load_u64le(b.data);
        return (x > y) - (x < y);
    }
    case SM_U64: {
        uint64_t x = dp_load_u64le(a.data), y = dp_load_u64le(b.data);
        return (x > y) - (x < y);
    }
    case SM_FLOAT:
    case SM_DOUBLE:
    case SM_FLOAT16:
        return cmp3(stat_double(m, a), stat_double(m, b));
    case SM_DECIMAL: {
        size_t n = DP_MAX(a.len, b.len);
        for (size_t i = 0; i < n; i++) {
            uint8_t x = be_byte(a, n, i), y = be_byte(b, n, i);
            if (i == 0) {
                x ^= 0x80;
                y ^= 0x80;
            }
            if (x != y)
                return x < y ? -1 : 1;
        }
        return 0;
    }
    default: {
        size_t n = DP_MIN(a.len, b.len);
        int r = n > 0 ? memcmp(a.data, b.data, n) : 0;
        if (r != 0)
            return r < 0 ? -1 : 1;
        return (a.len > b.len) - (a.len < b.len);
    }
    }
}

/* Exact decimal text of a big-endian two's complement integer scaled by 10^-scale. */
static void emit_decimal_be(out *o, const uint8_t *be, size_t n, int32_t scale) {
    uint8_t mag[DP__DECIMAL_BYTES_MAX];
    char digits[DP__DECIMAL_BYTES_MAX * 3 + 16];
    bool neg = n > 0 && (be[0] & 0x80);
    memcpy(mag, be, n);
    if (neg) { /* magnitude = ~x + 1 */
        int carry = 1;
        for (size_t i = n; i-- > 0;) {
            int v = (uint8_t) ~mag[i] + carry;
            mag[i] = (uint8_t) v;
            carry = v >> 8;
        }
    }
    /* Repeated division by 10^9 of the base-256 number; digits come out least significant
     * first. */
    size_t nd = 0, start = 0;
    while (start < n && mag[start] == 0)
        start++;
    while (start < n) {
        uint64_t rem = 0;
        for (size_t i = start; i < n; i++) {
            uint64_t cur = rem << 8 | mag[i];
            mag[i] = (uint8_t) (cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        while (start < n && mag[start] == 0)
            start++;
        for (int k = 0; k < 9; k++) {
            digits[nd++] = (char) ('0' + rem % 10);
            rem /= 10;
        }
    }
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (nd == 0)
        digits[nd++] = '0';
    bool zero = nd == 1 && digits[0] == '0';
    while ((int64_t) nd < (int64_t) scale + 1)
        digits[nd++] = '0';
    char text[sizeof digits + 4];
    size_t t = 0;
    if (neg && !zero)
        text[t++] = '-';
    for (size_t i = nd; i-- > 0;) {
        text[t++] = digits[i];
        if (scale > 0 && i == (size_t) scale)
            text[t++] = '.';
    }
    text[t] = '\0';
    emit(o, "%s", text);
}

static void emit_hex(out *o, dp_view v, size_t max) {
    size_t n = max > 0 && v.len > max ? max : v.len;
    for (size_t i = 0; i < n; i++)
        emit(o, "%02x", v.data[i]);
    if (n < v.len)
        emit(o, "...");
}

static void emit_double(out *o, double d) {
    if (isnan(d))
        emit(o, "nan");
    else if (isinf(d))
        emit(o, d > 0 ? "inf" : "-inf");
    else
        emit(o, "%.17g", d);
}

/* The text of one bound (quoted in JSON). */
static void emit_stat(out *o, stat_mode m, const dp_pq_column_desc *c, dp_view v, bool json) {
    size_t max = json ? 0 : DP__TEXT_VALUE_MAX;
    if (m == SM_BYTES && c->kind == DP_PQ_KIND_STRING) {
        emit_str(o, v.data, v.len, json ? STR_JSON : STR_TEXT_QUOTED, max);
        return;
    }
    /* JSON carries every bound as a string holding its exact text (64-bit integers and
     * decimals would lose digits as JSON numbers in most parsers). */
    if (json)
        emit_bytes(o, "\"", 1);
    switch (m) {
    case SM_BOOL:
        emit(o, "%s", v.data[0] ? "true" : "false");
        break;
    case SM_I32:
    case SM_I64: {
        int64_t x = m == SM_I32 ? (int32_t) dp_load_u32le(v.data) : (int64_t) dp_load_u64le(v.data);
        if (c->kind == DP_PQ_KIND_DECIMAL) {
            uint8_t be[8];
            for (int i = 0; i < 8; i++)
                be[i] = (uint8_t) ((uint64_t) x >> (56 - 8 * i));
            emit_decimal_be(o, be, 8, c->scale);
        } else {
            emit(o, "%lld", (long long) x);
        }
        break;
    }
    case SM_U32:
        emit(o, "%lu", (unsigned long) dp_load_u32le(v.data));
        break;
    case SM_U64:
        emit(o, "%llu", (unsigned long long) dp_load_u64le(v.data));
        break;
    case SM_FLOAT:
    case SM_DOUBLE:
    case SM_FLOAT16:
        emit_double(o, stat_double(m, v));
        break;
    case SM_DECIMAL:
        if (v.len <= DP__DECIMAL_BYTES_MAX)
            emit_decimal_be(o, v.data, v.len, c->scale);
        else
            emit_hex(o, v, max);
        break;
    default:
        emit_hex(o, v, max);
    }
    if (json)
        emit_bytes(o, "\"", 1);
}

typedef struct col_stats {
    bool minmax_ok; /* every row group contributed or was all-null */
    bool have;      /* at least one bound seen */
    dp_view min, max;
    bool nulls_ok;
    int64_t nulls;
} col_stats;

static void collect_stats(const dp_pq_file_meta *m, const dp_pq_column_desc *c, int32_t j,
                          col_stats *s) {
    stat_mode mode = stat_mode_of(c);
    memset(s, 0, sizeof *s);
    s->minmax_ok = mode != SM_NONE && c->kind != DP_PQ_KIND_NULL;
    s->nulls_ok = true;
    for (int32_t g = 0; g < m->n_row_groups; g++) {
        const dp_pq_column_meta *cm = &m->row_groups[g].columns[j].meta;
        const dp_pq_statistics *st = &cm->statistics;
        if (st->present && st->has_null_count) {
            if (!dp_add_i64(s->nulls, st->null_count, &s->nulls))
                s->nulls_ok = false;
        } else {
            s->nulls_ok = false;
        }
        if (!s->minmax_ok)
            continue;
        bool lo_ok = false, hi_ok = false;
        dp_view lo = {0}, hi = {0};
        if (st->present) {
            if (st->has_min_value) {
                lo = st->min_value;
                lo_ok = true;
            } else if (st->has_min && legacy_ok(mode)) {
                lo = st->min;
                lo_ok = true;
            }
            if (st->has_max_value) {
                hi = st->max_value;
                hi_ok = true;
            } else if (st->has_max && legacy_ok(mode)) {
                hi = st->max;
                hi_ok = true;
            }
        }
        /* A row group holding only nulls and NaNs has no (non-NaN) bounds to give: writers
         * omit them, or under IEEE 754 total order write NaN bounds. */
        int64_t nn = 0;
        bool empty = cm->num_values == 0 ||
                     (st->present && st->has_null_count &&
                      dp_add_i64(st->null_count, st->has_nan_count ? st->nan_count : 0, &nn) &&
                      nn >= cm->num_values);
        if (!lo_ok || !hi_ok || !stat_usable(mode, c, lo) || !stat_usable(mode, c, hi)) {
            if (!empty)
                s->minmax_ok = false;
            continue;
        }
        if (!s->have || stat_cmp(mode, lo, s->min) < 0)
            s->min = lo;
        if (!s->have || stat_cmp(mode, hi, s->max) > 0)
            s->max = hi;
        s->have = true;
    }
}

/* ---- Types ------------------------------------------------------------------------------- */

static void logical_text(const dp_pq_logical *lt, char *buf, size_t n) {
    static const char *const units[] = {"MILLIS", "MICROS", "NANOS"};
    const char *unit = lt->time_unit >= 0 && lt->time_unit <= 2 ? units[lt->time_unit] : "?";
    switch (lt->kind) {
    case DP_PQ_LT_NONE:
        buf[0] = '\0';
        break;
    case DP_PQ_LT_DECIMAL:
        snprintf(buf, n, "DECIMAL(%d,%d)", (int) lt->decimal_precision, (int) lt->decimal_scale);
        break;
    case DP_PQ_LT_INTEGER:
        snprintf(buf, n, "INTEGER(%d,%s)", (int) lt->int_bit_width,
                 lt->int_signed ? "signed" : "unsigned");
        break;
    case DP_PQ_LT_TIME:
    case DP_PQ_LT_TIMESTAMP:
        snprintf(buf, n, "%s(%s,%s)", lt->kind == DP_PQ_LT_TIME ? "TIME" : "TIMESTAMP", unit,
                 lt->time_utc ? "UTC" : "local");
        break;
    case DP_PQ_LT_OTHER:
        snprintf(buf, n, "OTHER(%d)", (int) lt->other_id);
        break;
    default: {
        const char *name = dp_pq_logical_name(lt->kind);
        snprintf(buf, n, "%s", name != NULL ? name : "?");
    }
    }
}

static void converted_text(const dp_pq_column_desc *c, char *buf, size_t n) {
    if (c->converted_type == DP_PQ_CT_NONE) {
        buf[0] = '\0';
        return;
    }
    const char *name = dp_pq_converted_name(c->converted_type);
    if (name == NULL)
        snprintf(buf, n, "CONVERTED(%d)", (int) c->converted_type);
    else if (c->converted_type == DP_PQ_CT_DECIMAL)
        snprintf(buf, n, "DECIMAL(%d,%d)", (int) c->precision, (int) c->scale);
    else
        snprintf(buf, n, "%s", name);
}

static void physical_text(const dp_pq_column_desc *c, char *buf, size_t n) {
    if (c->type == DP_PQ_FIXED_LEN_BYTE_ARRAY)
        snprintf(buf, n, "FIXED_LEN_BYTE_ARRAY(%d)", (int) c->type_length);
    else
        snprintf(buf, n, "%s", dp_pq_physical_name(c->type));
}

static const char *name_or(const char *name, int v, char *buf, size_t n) {
    if (name != NULL)
        return name;
    snprintf(buf, n, "UNKNOWN(%d)", v);
    return buf;
}

/* Distinct values in first-seen order. Real columns use a handful of encodings; a hostile
 * footer could list thousands, so the set is capped (and marked) rather than grown. */
#define DP__SET_MAX 32

typedef struct name_set {
    int32_t v[DP__SET_MAX];
    int n;
    bool more;
} name_set;

static void set_add(name_set *s, int32_t v) {
    for (int i = 0; i < s->n; i++)
        if (s->v[i] == v)
            return;
    if (s->n < DP__SET_MAX)
        s->v[s->n++] = v;
    else
        s->more = true;
}

/* Space-separated names (text; "-" when empty) or a JSON array of names. */
static void emit_name_set(out *o, const name_set *s, const char *(*namef)(int), bool json) {
    if (json)
        emit(o, "[");
    for (int i = 0; i < s->n; i++) {
        char buf[32];
        const char *name = name_or(namef(s->v[i]), s->v[i], buf, sizeof buf);
        if (json)
            emit(o, "%s\"%s\"", i > 0 ? ", " : "", name);
        else
            emit(o, "%s%s", i > 0 ? " " : "", name);
    }
    if (s->more)
        emit(o, json ? "%s\"...\"" : "%s...", s->n > 0 ? (json ? ", " : " ") : "");
    if (json)
        emit(o, "]");
    else if (s->n == 0)
        emit(o, "-");
}

/* ---- One file ---------------------------------------------------------------------------- */

typedef struct file_info {
    const char *path;
    const dp_pq_file_meta *m;
    const dp_pq_column_desc *cols;
    int32_t nc;
} file_info;

static int64_t sat_add(int64_t a, int64_t b) {
    int64_t r;
    return dp_add_i64(a, b, &r) ? r : INT64_MAX;
}

static void emit_column(out *o, const file_info *fi, int32_t j, bool json) {
    name_set enc = {0}, codecs = {0};
    const dp_pq_column_desc *c = &fi->cols[j];
    char phys[48], logical[64], conv[64];
    physical_text(c, phys, sizeof phys);
    logical_text(&c->logical, logical, sizeof logical);
    converted_text(c, conv, sizeof conv);
    int64_t comp = 0, uncomp = 0;
    for (int32_t g = 0; g < fi->m->n_row_groups; g++) {
        const dp_pq_column_meta *cm = &fi->m->row_groups[g].columns[j].meta;
        comp = sat_add(comp, cm->total_compressed_size);
        uncomp = sat_add(uncomp, cm->total_uncompressed_size);
        for (int32_t e = 0; e < cm->n_encodings; e++)
            set_add(&enc, cm->encodings[e]);
        set_add(&codecs, cm->codec);
    }
    col_stats s;
    collect_stats(fi->m, c, j, &s);
    stat_mode mode = stat_mode_of(c);
    bool show_minmax = s.minmax_ok && s.have;
    char rep_buf[32];
    const char *rep =
        name_or(dp_pq_repetition_name(c->repetition), c->repetition, rep_buf, sizeof rep_buf);
    if (json) {
        emit(o, "%s\n    {\"path\": ", j > 0 ? "," : "");
        emit_cstr(o, c->path, true);
        emit(o, ", \"physical_type\": \"%s\"", dp_pq_physical_name(c->type));
        if (c->type == DP_PQ_FIXED_LEN_BYTE_ARRAY)
            emit(o, ", \"type_length\": %d", (int) c->type_length);
        if (logical[0] != '\0')
            emit(o, ", \"logical_type\": \"%s\"", logical);
        else
            emit(o, ", \"logical_type\": null");
        if (conv[0] != '\0')
            emit(o, ", \"converted_type\": \"%s\"", conv);
        else
            emit(o, ", \"converted_type\": null");
        emit(o,
             ", \"repetition\": \"%s\", \"nested\": %s, \"max_definition_level\": %d, "
             "\"max_repetition_level\": %d, \"encodings\": ",
             rep, c->nested ? "true" : "false", (int) c->max_def, (int) c->max_rep);
        emit_name_set(o, &enc, dp_pq_encoding_name, true);
        emit(o, ", \"codecs\": ");
        emit_name_set(o, &codecs, dp_pq_codec_name, true);
        emit(o, ", \"compressed_bytes\": %lld, \"uncompressed_bytes\": %lld", (long long) comp,
             (long long) uncomp);
        emit(o, ", \"min\": ");
        if (show_minmax)
            emit_stat(o, mode, c, s.min, true);
        else
            emit(o, "null");
        emit(o, ", \"max\": ");
        if (show_minmax)
            emit_stat(o, mode, c, s.max, true);
        else
            emit(o, "null");
        if (s.nulls_ok)
            emit(o, ", \"null_count\": %lld}", (long long) s.nulls);
        else
            emit(o, ", \"null_count\": null}");
    } else {
        emit(o, "  column %d: ", (int) j);
        emit_cstr(o, c->path, false);
        emit(o, "\n    type:        %s", phys);
        if (logical[0] != '\0')
            emit(o, ", logical %s", logical);
        if (conv[0] != '\0')
            emit(o, ", converted %s", conv);
        emit(o,
             "\n    repetition:  %s, nested: %s (max definition level %d, repetition level "
             "%d)\n    encodings:   ",
             rep, c->nested ? "yes" : "no", (int) c->max_def, (int) c->max_rep);
        emit_name_set(o, &enc, dp_pq_encoding_name, false);
        emit(o, "\n    codecs:      ");
        emit_name_set(o, &codecs, dp_pq_codec_name, false);
        emit(o, "\n    bytes:       %lld compressed, %lld uncompressed\n    statistics:  min ",
             (long long) comp, (long long) uncomp);
        if (show_minmax)
            emit_stat(o, mode, c, s.min, false);
        else
            emit(o, "n/a");
        emit(o, ", max ");
        if (show_minmax)
            emit_stat(o, mode, c, s.max, false);
        else
            emit(o, "n/a");
        if (s.nulls_ok)
            emit(o, ", null_count %lld\n", (long long) s.nulls);
        else
            emit(o, ", null_count n/a\n");
    }
}

static void emit_file(out *o, const file_info *fi, bool json, bool first) {
    const dp_pq_file_meta *m = fi->m;
    if (json) {
        emit(o, "%s\n  {\"path\": ", first ? "" : ",");
        emit_cstr(o, fi->path, true);
        emit(o, ", \"created_by\": ");
        if (m->has_created_by)
            emit_view(o, m->created_by, true);
        else
            emit(o, "null");
        emit(o,
             ", \"format_version\": %d, \"num_rows\": %lld, \"num_row_groups\": %d, "
             "\"num_columns\": %d, \"key_value_keys\": [",
             (int) m->version, (long long) m->num_rows, (int) m->n_row_groups, (int) fi->nc);
        for (int32_t i = 0; i < m->n_kv; i++) {
            if (i > 0)
                emit(o, ", ");
            emit_view(o, m->kv[i].key, true);
        }
        emit(o, "],\n   \"columns\": [");
    } else {
        emit_cstr(o, fi->path, false);
        emit(o, "\n  created_by:  ");
        if (m->has_created_by)
            emit_view(o, m->created_by, false);
        else
            emit(o, "(none)");
        emit(o,
             "\n  version:     %d\n  rows:        %lld\n  row groups:  %d\n  columns:     %d\n"
             "  metadata:    ",
             (int) m->version, (long long) m->num_rows, (int) m->n_row_groups, (int) fi->nc);
        if (m->n_kv == 0)
            emit(o, "(no key-value metadata)");
        for (int32_t i = 0; i < m->n_kv; i++) {
            if (i > 0)
                emit(o, ", ");
            emit_view(o, m->kv[i].key, false);
        }
        emit(o, "\n");
    }
    for (int32_t j = 0; j < fi->nc; j++)
        emit_column(o, fi, j, json);
    if (json)
        emit(o, "],\n   \"row_groups\": [");
    for (int32_t g = 0; g < m->n_row_groups; g++) {
        const dp_pq_row_group *rg = &m->row_groups[g];
        int64_t comp = 0;
        for (int32_t j = 0; j < rg->n_columns; j++)
            comp = sat_add(comp, rg->columns[j].meta.total_compressed_size);
        if (json)
            emit(o,
                 "%s\n    {\"rows\": %lld, \"total_byte_size\": %lld, \"compressed_bytes\": %lld}",
                 g > 0 ? "," : "", (long long) rg->num_rows, (long long) rg->total_byte_size,
                 (long long) comp);
        else
            emit(o, "  row group %d: %lld rows, %lld bytes (%lld compressed)\n", (int) g,
                 (long long) rg->num_rows, (long long) rg->total_byte_size, (long long) comp);
    }
    if (json)
        emit(o, "]}");
}

static dp_status inspect_one(const char *path, out *o, bool json, bool first, dp_error *err) {
    dp_status st = DP_OK;
    dp_source *src = NULL;
    dp_buf footer;
    dp_pq_file_meta m;
    dp_pq_column_desc *cols = NULL;
    int32_t nc = 0;
    dp_buf_init(&footer);
    memset(&m, 0, sizeof m);
    DP_CHECK(dp_source_open_file(path, &src, err));
    DP_CHECK(dp_pq_footer_read(src, &footer, &m, &cols, &nc, err));
    file_info fi = {path, &m, cols, nc};
    emit_file(o, &fi, json, first);
cleanup:
    dp_pq_columns_free(cols, nc);
    dp_pq_file_meta_reset(&m);
    dp_buf_reset(&footer);
    dp_source_free(src);
    return st;
}

static dp_status flush_out(out *o, FILE *f, dp_error *err) {
    if (o->failed)
        return dp_error_set(err, DP_NOMEM, "inspect: out of memory formatting the output");
    if (o->b.size > 0 && fwrite(o->b.data, 1, o->b.size, f) != o->b.size)
        return dp_error_set(err, DP_IO, "inspect: cannot write the output");
    o->b.size = 0;
    return DP_OK;
}

dp_status dp_cmd_inspect(const char *const *paths, int n_paths, const dp_inspect_options *opts,
                         FILE *f, dp_error *err) {
    dp_status st = DP_OK, st_file = DP_OK;
    bool json = opts != NULL && opts->json;
    out o = {0};
    dp_buf_init(&o.b);
    if (n_paths < 0 || (n_paths > 0 && paths == NULL) || f == NULL)
        DP_FAIL(err, DP_INVALID_ARG, "inspect: invalid arguments");
    if (json)
        emit(&o, "[");
    for (int i = 0; i < n_paths; i++) {
        size_t mark = o.b.size;
        st_file = inspect_one(paths[i], &o, json, i == 0, err);
        if (st_file != DP_OK) {
            o.b.size = mark; /* nothing of a failing file */
            break;
        }
        if (!json && i + 1 < n_paths)
            emit(&o, "\n");
        DP_CHECK(flush_out(&o, f, err));
    }
    if (json)
        emit(&o, "\n]\n");
    DP_CHECK(flush_out(&o, f, err));
    if (fflush(f) != 0 || ferror(f))
        DP_FAIL(err, DP_IO, "inspect: cannot write the output");
    st = st_file;
cleanup:
    dp_buf_reset(&o.b);
    return st;
}
