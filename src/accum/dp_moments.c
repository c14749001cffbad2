/* Block-aligned shifted sums + Chan merge: see dp_moments.h for the numerics. */
#include "accum/dp_moments.h"

#include <float.h>
#include <math.h>
#include <string.h>

void dp_moments_init(dp_moments *m) {
    memset(m, 0, sizeof *m);
    m->min = INFINITY;
    m->max = -INFINITY;
    m->blk = -1;
    m->bshift = NAN;
}

void dp_moments_reset(dp_moments *m) {
    dp_moments_init(m);
}

/* Knuth's TwoSum: s + e == a + b exactly. */
static inline void dp__two_sum(double a, double b, double *s, double *e) {
    double x = a + b;
    double bb = x - a;
    *e = (a - (x - bb)) + (b - bb);
    *s = x;
}

/* Fold nb values with mean bshift + mb and centred sum of squares m2b into the total. */
static void dp__fold(dp_moments *m, int64_t nb, double bshift, double mb, double m2b) {
    if (nb == 0)
        return;
    if (m->n == 0) {
        dp__two_sum(bshift, mb, &m->shift, &m->mean_lo);
        m->m2 = m2b;
        m->n = nb;
        return;
    }
    /* bshift - shift is exact when both are close (Sterbenz), which is the common case. */
    double delta = (bshift - m->shift) + (mb - m->mean_lo);
    int64_t total = m->n + nb;
    double fb = (double) nb / (double) total;
    double lo = m->mean_lo + delta * fb;
    m->m2 += m2b + delta * delta * ((double) m->n * fb);
    dp__two_sum(m->shift, lo, &m->shift, &m->mean_lo);
    m->n = total;
}

static void dp__close_block(dp_moments *m) {
    if (m->blk < 0)
        return;
    if (m->bn > 0) {
        double s1 = (m->s1[0] + m->s1[1]) + (m->s1[2] + m->s1[3]);
        double s2 = (m->s2[0] + m->s2[1]) + (m->s2[2] + m->s2[3]);
        double mb = s1 / (double) m->bn;
        double m2b = s2 - s1 * mb;
        dp__fold(m, m->bn, m->bshift, mb, m2b > 0 ? m2b : 0.0);
    }
    m->blk = -1;
    m->bn = 0;
    m->bshift = NAN;
    for (int l = 0; l < DP_MOMENTS_LANES; l++)
        m->s1[l] = m->s2[l] = 0;
}

static void dp__open_block(dp_moments *m, int64_t b) {
    m->blk = b;
    m->bn = 0;
    m->bshift = m->n > 0 ? m->shift : NAN;
    for (int l = 0; l < DP_MOMENTS_LANES; l++)
        m->s1[l] = m->s2[l] = 0;
}

#define DP__STEP(lane, v)                                                                          \
    do {                                                                                           \
        double v_ = (v);                                                                           \
        int fin_ = fabs(v_) <= DBL_MAX;                                                            \
        double z_ = fin_ ? v_ - bs : 0.0;                                                          \
        double w_ = fin_ ? v_ + 0.0 : mn; /* -0.0 -> +0.0: extremes independent of order */        \
        double u_ = fin_ ? v_ + 0.0 : mx;                                                          \
        a1[lane] += z_;                                                                            \
        a2[lane] += z_ * z_;                                                                       \
        mn = w_ < mn ? w_ : mn;                                                                    \
        mx = u_ > mx ? u_ : mx;                                                                    \
        cnt += fin_;                                                                               \
    } while (0)

/* Rows [i0, i1) of x, all in the open block; g0 = global row of x[0]. Returns finite count. */
static int64_t dp__accumulate(dp_moments *m, const double *x, int64_t i0, int64_t i1, int64_t g0) {
    int64_t i = i0;
    if (isnan(m->bshift)) {
        while (i < i1 && !(fabs(x[i]) <= DBL_MAX))
            i++;
        if (i == i1)
            return 0;
        m->bshift = x[i] + 0.0;
    }
    double bs = m->bshift;
    double a1[DP_MOMENTS_LANES], a2[DP_MOMENTS_LANES];
    memcpy(a1, m->s1, sizeof a1);
    memcpy(a2, m->s2, sizeof a2);
    double mn = m->min, mx = m->max;
    int64_t cnt = 0;
    for (; i < i1 && ((g0 + i) & 3) != 0; i++)
        DP__STEP((g0 + i) & 3, x[i]);
    for (; i + 4 <= i1; i += 4) {
        DP__STEP(0, x[i]);
        DP__STEP(1, x[i + 1]);
        DP__STEP(2, x[i + 2]);
        DP__STEP(3, x[i + 3]);
    }
    for (; i < i1; i++)
        DP__STEP((g0 + i) & 3, x[i]);
    memcpy(m->s1, a1, sizeof a1);
    memcpy(m->s2, a2, sizeof a2);
    m->min = mn;
    m->max = mx;
    m->bn += cnt;
    return cnt;
}

dp_status dp_moments_update(dp_moments *m, const double *x, int64_t n_rows, int64_t row_offset,
                            const dp_batch_counts *counts, dp_error *err) {
    if (n_rows < 0 || row_offset < 0 || row_offset > INT64_MAX / 2 - n_rows)
        return dp_error_set(err, DP_INVALID_ARG, "moments: %lld rows at offset %lld",
                            (long long) n_rows, (long long) row_offset);
    if (row_offset < m->next_row)
        return dp_error_set(err, DP_INVALID_ARG,
                            "moments: rows must arrive in order (batch at row %lld, rows up to "
                            "%lld already seen); merge accumulators of separate ranges instead",
                            (long long) row_offset, (long long) m->next_row);
    int64_t missing = counts->n_null + counts->n_nan + counts->n_posinf + counts->n_neginf;
    if (counts->n_null < 0 || counts->n_nan < 0 || counts->n_posinf < 0 || counts->n_neginf < 0 ||
        missing > n_rows)
        return dp_error_set(err, DP_INVALID_ARG,
                            "moments: missing-value counts (null %lld, NaN %lld, +inf %lld, "
                            "-inf %lld) do not fit %lld rows",
                            (long long) counts->n_null, (long long) counts->n_nan,
                            (long long) counts->n_posinf, (long long) counts->n_neginf,
                            (long long) n_rows);
    int64_t valid = 0;
    for (int64_t i = 0; i < n_rows;) {
        int64_t g = row_offset + i;
        int64_t b = g / DP_MOMENTS_BLOCK;
        int64_t end = (b + 1) * DP_MOMENTS_BLOCK - row_offset;
        if (end > n_rows)
            end = n_rows;
        if (b != m->blk) {
            dp__close_block(m);
            dp__open_block(m, b);
        }
        valid += dp__accumulate(m, x, i, end, row_offset);
        i = end;
    }
    if (valid != n_rows - missing)
        return dp_error_set(err, DP_INVALID_ARG,
                            "moments: batch counts say %lld of %lld values are missing, but %lld "
                            "are not finite",
                            (long long) missing, (long long) n_rows, (long long) (n_rows - valid));
    m->rows += n_rows;
    m->n_null += counts->n_null;
    m->n_nan += counts->n_nan;
    m->n_posinf += counts->n_posinf;
    m->n_neginf += counts->n_neginf;
    m->n_valid += valid;
    m->next_row = row_offset + n_rows;
    return DP_OK;
}

void dp_moments_merge(dp_moments *dst, const dp_moments *src) {
    dp_moments s = *src;
    dp__close_block(dst);
    dp__close_block(&s);
    dst->rows += s.rows;
    dst->n_null += s.n_null;
    dst->n_nan += s.n_nan;
    dst->n_posinf += s.n_posinf;
    dst->n_neginf += s.n_neginf;
    dst->n_valid += s.n_valid;
    dst->min = s.min < dst->min ? s.min : dst->min;
    dst->max = s.max > dst->max ? s.max : dst->max;
    dp__fold(dst, s.n, s.shift, s.mean_lo, s.m2);
    dst->next_row = s.next_row > dst->next_row ? s.next_row : dst->next_row;
}

void dp_moments_finalize(const dp_moments *m, dp_moments_result *r) {
    dp_moments t = *m;
    dp__close_block(&t);
    memset(r, 0, sizeof *r);
    r->rows = t.rows;
    r->n_null = t.n_null;
    r->n_nan = t.n_nan;
    r->n_posinf = t.n_posinf;
    r->n_neginf = t.n_neginf;
    r->n_valid = t.n_valid;
    if (t.n_valid == 0) {
        r->min = r->max = r->mean = r->var = r->var_pop = r->std = NAN;
        return;
    }
    r->min = t.min;
    r->max = t.max;
    r->mean = t.shift + t.mean_lo;
    r->m2 = t.m2;
    r->var_pop = t.m2 / (double) t.n;
    r->var = t.n >= 2 ? t.m2 / (double) (t.n - 1) : NAN;
    r->std = sqrt(r->var);
}

void dp__moments_write(const dp_moments *m, dp_serial_writer *w) {
    dp_sw_i64(w, m->rows);
    dp_sw_i64(w, m->n_null);
    dp_sw_i64(w, m->n_nan);
    dp_sw_i64(w, m->n_posinf);
    dp_sw_i64(w, m->n_neginf);
    dp_sw_i64(w, m->n_valid);
    dp_sw_f64(w, m->min);
    dp_sw_f64(w, m->max);
    dp_sw_i64(w, m->n);
    dp_sw_f64(w, m->shift);
    dp_sw_f64(w, m->mean_lo);
    dp_sw_f64(w, m->m2);
    dp_sw_i64(w, m->blk);
    dp_sw_i64(w, m->bn);
    dp_sw_f64(w, m->bshift);
    dp_sw_f64_array(w, m->s1, DP_MOMENTS_LANES);
    dp_sw_f64_array(w, m->s2, DP_MOMENTS_LANES);
    dp_sw_i64(w, m->next_row);
}

dp_status dp__moments_read(dp_serial_reader *r, dp_moments *m, dp_error *err) {
    dp_moments_init(m);
    bool ok = dp_sr_i64(r, &m->rows) && dp_sr_i64(r, &m->n_null) && dp_sr_i64(r, &m->n_nan) &&
              dp_sr_i64(r, &m->n_posinf) && dp_sr_i64(r, &m->n_neginf) &&
              dp_sr_i64(r, &m->n_valid) && dp_sr_f64(r, &m->min) && dp_sr_f64(r, &m->max) &&
              dp_sr_i64(r, &m->n) && dp_sr_f64(r, &m->shift) && dp_sr_f64(r, &m->mean_lo) &&
              dp_sr_f64(r, &m->m2) && dp_sr_i64(r, &m->blk) && dp_sr_i64(r, &m->bn) &&
              dp_sr_f64(r, &m->bshift) && dp_sr_f64_array(r, m->s1, DP_MOMENTS_LANES) &&
              dp_sr_f64_array(r, m->s2, DP_MOMENTS_LANES) && dp_sr_i64(r, &m->next_row);
    if (!ok) {
        dp_moments_init(m);
        return dp_error_set(err, DP_TRUNCATED, "%s: moments fields cut short", r->what);
    }
    const int64_t cap = INT64_MAX / 8;
    bool counts_ok = m->rows >= 0 && m->rows <= cap && m->n_null >= 0 && m->n_nan >= 0 &&
                     m->n_posinf >= 0 && m->n_neginf >= 0 && m->n_valid >= 0 && m->n >= 0 &&
                     m->bn >= 0 && m->n_null <= cap && m->n_nan <= cap && m->n_posinf <= cap &&
                     m->n_neginf <= cap && m->n_valid <= cap &&
                     m->n_null + m->n_nan + m->n_posinf + m->n_neginf + m->n_valid == m->rows &&
                     m->n <= m->n_valid && m->n_valid - m->n == m->bn && m->blk >= -1 &&
                     (m->blk >= 0 || m->bn == 0) && m->next_row >= 0 && m->next_row <= cap;
    bool ext_ok = m->n_valid == 0
                      ? (m->min == INFINITY && m->max == -INFINITY)
                      : (fabs(m->min) <= DBL_MAX && fabs(m->max) <= DBL_MAX && m->min <= m->max);
    bool sums_ok = isfinite(m->shift) && isfinite(m->mean_lo) && isfinite(m->m2) && m->m2 >= 0 &&
                   (m->bn == 0 || isfinite(m->bshift));
    for (int l = 0; l < DP_MOMENTS_LANES; l++)
        sums_ok = sums_ok && isfinite(m->s1[l]) && isfinite(m->s2[l]) && m->s2[l] >= 0;
    if (!counts_ok || !ext_ok || !sums_ok) {
        dp_error_set(err, DP_CORRUPT,
                     "%s: moments state not consistent (rows %lld, valid %lld, completed %lld, "
                     "open %lld, min %.17g, max %.17g, M2 %.17g)",
                     r->what, (long long) m->rows, (long long) m->n_valid, (long long) m->n,
                     (long long) m->bn, m->min, m->max, m->m2);
        dp_moments_init(m);
        return DP_CORRUPT;
    }
    return DP_OK;
}
