/* Turning decoded Parquet values into doubles (statistics) and text (`dpipe cat`).
 *
 * Decimals are converted through their exact decimal text and strtod, so the double is the
 * correctly rounded value of the decimal whatever its physical storage (INT32, INT64, FLBA,
 * BYTE_ARRAY up to any width).
 */
#include "parquet/pq_internal.h"
#include "util/dp_alloc.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t *dp__fixed(const dp_pq_values *v, int64_t i) {
    return v->fixed.data + (size_t) i * (size_t) v->width;
}

static void dp__bytes(const dp_pq_values *v, int64_t i, const uint8_t **p, size_t *n) {
    if (v->width > 0) {
        *p = dp__fixed(v, i);
        *n = (size_t) v->width;
    } else {
        const int64_t *o = (const int64_t *) (const void *) v->offsets.data;
        *n = (size_t) (o[i + 1] - o[i]);
        /* An all-empty column has no heap at all. */
        *p = v->heap.data != NULL ? v->heap.data + o[i] : (const uint8_t *) "";
    }
}

static double dp__half_to_double(uint16_t h) {
    int sign = h >> 15, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    double v;
    if (exp == 0)
        v = ldexp((double) man, -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexp((double) (man | 0x400), exp - 25);
    return sign ? -v : v;
}

/* Unscaled decimal integer (big-endian two's complement bytes) to decimal digits with the sign,
 * then the point inserted `scale` digits from the right. Writes into out (NUL-terminated).
 * Returns false if it does not fit. */
static bool dp__decimal_text(const uint8_t *be, size_t n, int32_t scale, char *out, size_t cap) {
    /* Magnitude as little-endian 32-bit limbs. */
    uint32_t limbs[64];
    size_t nl = (n + 3) / 4;
    if (n == 0) {
        if (cap < 2)
            return false;
        strcpy(out, "0");
        return true;
    }
    if (nl > DP_ARRAY_LEN(limbs))
        return false;
    bool neg = (be[0] & 0x80) != 0;
    memset(limbs, 0, sizeof limbs);
    for (size_t k = 0; k < n; k++) {
        uint8_t b = be[n - 1 - k];
        limbs[k / 4] |= (uint32_t) b << (8 * (k % 4));
    }
    if (neg) {
        /* Sign-extend the top limb, then negate (two's complement). */
        for (size_t k = n; k < nl * 4; k++)
            limbs[k / 4] |= (uint32_t) 0xff << (8 * (k % 4));
        uint64_t carry = 1;
        for (size_t k = 0; k < nl; k++) {
            uint64_t x = (uint64_t) (uint32_t) ~limbs[k] + carry;
            limbs[k] = (uint32_t) x;
            carry = x >> 32;
        }
    }
    char digits[700];
    size_t nd = 0;
    size_t top = nl;
    while (top > 0 && limbs[top - 1] == 0)
        top--;
    while (top > 0) {
        uint64_t rem = 0;
        for (size_t k = top; k-- > 0;) {
            uint64_t cur = rem << 32 | limbs[k];
            limbs[k] = (uint32_t) (cur / 1000000000u);
            rem = cur % 1000000000u;
        }
        while (top > 0 && limbs[top - 1] == 0)
            top--;
        for (int k = 0; k < 9; k++) {
            if (nd >= sizeof digits)
                return false;
            digits[nd++] = (char) ('0' + rem % 10);
            rem /= 10;
            if (top == 0 && rem == 0)
                break;
        }
    }
    if (nd == 0)
        digits[nd++] = '0';
    /* digits are least significant first; pad so that there is one digit before the point. */
    size_t sc = scale > 0 ? (size_t) scale : 0;
    while (nd < sc + 1) {
        if (nd >= sizeof digits)
            return false;
        digits[nd++] = '0';
    }
    size_t pos = 0;
    bool zero = true;
    for (size_t k = 0; k < nd; k++)
        if (digits[k] != '0')
            zero = false;
    if (neg && !zero) {
        if (pos + 1 >= cap)
            return false;
        out[pos++] = '-';
    }
    for (size_t k = nd; k-- > 0;) {
        if (pos + 2 >= cap)
            return false;
        out[pos++] = digits[k];
        if (k == sc && sc > 0)
            out[pos++] = '.';
    }
    out[pos] = '\0';
    return true;
}

static void dp__decimal_bytes_of(const dp_pq_values *v, const dp_pq_column_desc *c, int64_t i,
                                 uint8_t *tmp, const uint8_t **p, size_t *n) {
    if (c->type == DP_PQ_INT32 || c->type == DP_PQ_INT64) {
        /* Re-express the little-endian integer as big-endian bytes. */
        int64_t x;
        if (c->type == DP_PQ_INT32) {
            int32_t y;
            memcpy(&y, dp__fixed(v, i), 4);
            x = y;
        } else {
            memcpy(&x, dp__fixed(v, i), 8);
        }
        for (int k = 0; k < 8; k++)
            tmp[k] = (uint8_t) ((uint64_t) x >> (8 * (7 - k)));
        *p = tmp;
        *n = 8;
    } else {
        dp__bytes(v, i, p, n);
    }
}

double dp_pq_value_to_double(const dp_pq_values *v, const dp_pq_column_desc *c, int64_t i) {
    if (!v->valid.data[i])
        return NAN;
    switch (c->kind) {
    case DP_PQ_KIND_FLOAT:
        if (c->type == DP_PQ_DOUBLE) {
            double x;
            memcpy(&x, dp__fixed(v, i), 8);
            return x;
        } else {
            float x;
            memcpy(&x, dp__fixed(v, i), 4);
            return (double) x;
        }
    case DP_PQ_KIND_FLOAT16: {
        const uint8_t *p = dp__fixed(v, i);
        return dp__half_to_double((uint16_t) (p[0] | p[1] << 8));
    }
    case DP_PQ_KIND_INT:
        if (c->type == DP_PQ_INT32) {
            int32_t x;
            memcpy(&x, dp__fixed(v, i), 4);
            return (double) x;
        } else {
            int64_t x;
            memcpy(&x, dp__fixed(v, i), 8);
            return (double) x;
        }
    case DP_PQ_KIND_UINT:
        if (c->type == DP_PQ_INT32) {
            uint32_t x;
            memcpy(&x, dp__fixed(v, i), 4);
            return (double) x;
        } else {
            uint64_t x;
            memcpy(&x, dp__fixed(v, i), 8);
            return (double) x;
        }
    case DP_PQ_KIND_BOOL:
        return v->fixed.data[i] ? 1.0 : 0.0;
    case DP_PQ_KIND_DECIMAL: {
        uint8_t tmp[8];
        const uint8_t *p;
        size_t n;
        dp__decimal_bytes_of(v, c, i, tmp, &p, &n);
        char text[720];
        if (!dp__decimal_text(p, n, c->scale, text, sizeof text))
            return NAN;
        return strtod(text, NULL);
    }
    default:
        return NAN;
    }
}

static dp_status dp__append_escaped(dp_buf *out, const uint8_t *p, size_t n) {
    for (size_t k = 0; k < n; k++) {
        uint8_t ch = p[k];
        dp_status st;
        if (ch == '\t')
            st = dp_buf_append(out, "\\t", 2);
        else if (ch == '\n')
            st = dp_buf_append(out, "\\n", 2);
        else if (ch == '\\')
            st = dp_buf_append(out, "\\\\", 2);
        else if (ch == '\r')
            st = dp_buf_append(out, "\\r", 2);
        else
            st = dp_buf_append_u8(out, ch);
        if (st != DP_OK)
            return st;
    }
    return DP_OK;
}

static dp_status dp__append_hex(dp_buf *out, const uint8_t *p, size_t n) {
    static const char hex[] = "0123456789abcdef";
    for (size_t k = 0; k < n; k++) {
        char two[2] = {hex[p[k] >> 4], hex[p[k] & 15]};
        DP_TRY(dp_buf_append(out, two, 2));
    }
    return DP_OK;
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void dp__civil(int64_t days, int64_t *y, int *m, int *d) {
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int) (doy - (153 * mp + 2) / 5 + 1);
    *m = (int) (mp < 10 ? mp + 3 : mp - 9);
    *y = yy + (*m <= 2);
}

/* Floor division and the matching non-negative remainder, without the overflow of a - q * b
 * near INT64_MIN. */
static void dp__divmod(int64_t a, int64_t b, int64_t *q, int64_t *r) {
    int64_t rem = a % b;
    int64_t quo = a / b;
    if (rem < 0) {
        rem += b;
        quo -= 1;
    }
    *q = quo;
    *r = rem;
}

/* Seconds since the epoch plus a fraction (frac_digits digits) to "YYYY-MM-DD HH:MM:SS[.fff]".
 * Any int64 seconds are accepted (years far outside 0..9999 print with more digits). */
static dp_status dp__append_timestamp(dp_buf *out, int64_t secs, int64_t frac, int frac_digits) {
    int64_t days, sod;
    dp__divmod(secs, 86400, &days, &sod);
    int64_t y;
    int m, d;
    dp__civil(days, &y, &m, &d);
    DP_TRY(dp_buf_printf(out, "%04" PRId64 "-%02d-%02d %02d:%02d:%02d", y, m, d, (int) (sod / 3600),
                         (int) (sod / 60 % 60), (int) (sod % 60)));
    if (frac_digits > 0)
        DP_TRY(dp_buf_printf(out, ".%0*" PRId64, frac_digits, frac));
    return DP_OK;
}

static dp_status dp__format_temporal(const dp_pq_values *v, const dp_pq_column_desc *c, int64_t i,
                                     dp_buf *out) {
    /* A temporal annotation on a physical type that cannot carry it (a damaged or odd schema):
     * show the raw bytes rather than read past them. */
    if (v->width != 4 && v->width != 8 && v->width != 12) {
        const uint8_t *p;
        size_t n;
        dp__bytes(v, i, &p, &n);
        return dp__append_hex(out, p, n);
    }
    if ((c->type == DP_PQ_INT96) != (v->width == 12))
        return dp__append_hex(out, dp__fixed(v, i), (size_t) v->width);
    const uint8_t *p = dp__fixed(v, i);
    if (c->type == DP_PQ_INT96) {
        /* Nanoseconds of the day (8 bytes LE) then the Julian day (4 bytes LE). */
        int64_t nanos;
        int32_t jd;
        memcpy(&nanos, p, 8);
        memcpy(&jd, p + 8, 4);
        int64_t days = (int64_t) jd - 2440588;
        int64_t extra, ns;
        dp__divmod(nanos, 1000000000, &extra, &ns);
        return dp__append_timestamp(out, days * 86400 + extra, ns, 9);
    }
    int32_t ct = c->converted_type;
    dp_pq_logical_kind lk = c->logical.kind;
    if (lk == DP_PQ_LT_DATE || ct == DP_PQ_CT_DATE) {
        int32_t days;
        memcpy(&days, p, 4);
        int64_t y;
        int m, d;
        dp__civil(days, &y, &m, &d);
        return dp_buf_printf(out, "%04" PRId64 "-%02d-%02d", y, m, d);
    }
    int unit = c->logical.time_unit;
    if (lk == DP_PQ_LT_NONE) {
        unit = (ct == DP_PQ_CT_TIME_MILLIS || ct == DP_PQ_CT_TIMESTAMP_MILLIS) ? 0 : 1;
    }
    int64_t per_sec = unit == 0 ? 1000 : unit == 1 ? 1000000 : 1000000000;
    int digits = unit == 0 ? 3 : unit == 1 ? 6 : 9;
    int64_t x;
    if (c->type == DP_PQ_INT32) {
        int32_t y;
        memcpy(&y, p, 4);
        x = y;
    } else {
        memcpy(&x, p, 8);
    }
    if (lk == DP_PQ_LT_TIME || ct == DP_PQ_CT_TIME_MILLIS || ct == DP_PQ_CT_TIME_MICROS) {
        int64_t secs, frac;
        dp__divmod(x, per_sec, &secs, &frac);
        return dp_buf_printf(out, "%02d:%02d:%02d.%0*" PRId64, (int) (secs / 3600),
                             (int) (secs / 60 % 60), (int) (secs % 60), digits, frac);
    }
    int64_t secs, frac;
    dp__divmod(x, per_sec, &secs, &frac);
    return dp__append_timestamp(out, secs, frac, digits);
}

dp_status dp_pq_value_format(const dp_pq_values *v, const dp_pq_column_desc *c, int64_t i,
                             dp_buf *out) {
    if (!v->valid.data[i])
        return DP_OK;
    const uint8_t *p;
    size_t n;
    switch (c->kind) {
    case DP_PQ_KIND_FLOAT:
    case DP_PQ_KIND_FLOAT16: {
        double x = dp_pq_value_to_double(v, c, i);
        if (isnan(x))
            return dp_buf_append(out, "nan", 3);
        if (isinf(x))
            return x > 0 ? dp_buf_append(out, "inf", 3) : dp_buf_append(out, "-inf", 4);
        return dp_buf_printf(out, "%.17g", x);
    }
    case DP_PQ_KIND_INT:
        if (c->type == DP_PQ_INT32) {
            int32_t x;
            memcpy(&x, dp__fixed(v, i), 4);
            return dp_buf_printf(out, "%" PRId32, x);
        } else {
            int64_t x;
            memcpy(&x, dp__fixed(v, i), 8);
            return dp_buf_printf(out, "%" PRId64, x);
        }
    case DP_PQ_KIND_UINT:
        if (c->type == DP_PQ_INT32) {
            uint32_t x;
            memcpy(&x, dp__fixed(v, i), 4);
            return dp_buf_printf(out, "%" PRIu32, x);
        } else {
            uint64_t x;
            memcpy(&x, dp__fixed(v, i), 8);
            return dp_buf_printf(out, "%" PRIu64, x);
        }
    case DP_PQ_KIND_BOOL:
        return v->fixed.data[i] ? dp_buf_append(out, "true", 4) : dp_buf_append(out, "false", 5);
    case DP_PQ_KIND_DECIMAL: {
        uint8_t tmp[8];
        dp__decimal_bytes_of(v, c, i, tmp, &p, &n);
        char text[720];
        if (!dp__decimal_text(p, n, c->scale, text, sizeof text))
            return DP_LIMIT;
        return dp_buf_append(out, text, strlen(text));
    }
    case DP_PQ_KIND_STRING:
        dp__bytes(v, i, &p, &n);
        return dp__append_escaped(out, p, n);
    case DP_PQ_KIND_TEMPORAL:
        return dp__format_temporal(v, c, i, out);
    case DP_PQ_KIND_BINARY:
    case DP_PQ_KIND_OTHER:
    default:
        if (v->width == 0 || c->type == DP_PQ_FIXED_LEN_BYTE_ARRAY) {
            dp__bytes(v, i, &p, &n);
            return dp__append_hex(out, p, n);
        }
        return dp__append_hex(out, dp__fixed(v, i), (size_t) v->width);
    case DP_PQ_KIND_NULL:
        return DP_OK;
    }
}
