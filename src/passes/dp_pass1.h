/* dp_pass1.h: the Pass-1 keep/drop decisions from finalized column statistics (dp_colstats.h),
 * and the per-column report row of `dpipe stats` (TSV and JSON).
 *
 * A column is kept iff all four rules hold; a removed column gets exactly one reason, the first
 * failing rule in this order, with its numbers:
 *   1. constant:    at least 2 distinct valid (finite) values;
 *   2. missing:     missing_ratio = (null + NaN + Inf) / rows <= max_missing_ratio (0.5);
 *                   NaN and +-Inf are missing (the original counted NaN as valid: W12);
 *   3. effective-n: n_valid >= min_effective_n (100);
 *   4. variance:    normalised variance = var / range^2 >= variance_threshold (0.002), with
 *                   var the sample variance (ddof = 1, the same variance as the reported std;
 *                   the original used ddof = 0 — at n_valid >= 100 the two differ by <= 1 %)
 *                   and range chosen by range_mode: max - min, the trimmed range
 *                   q(trim_high) - q(trim_low) (default 2.5 / 97.5 %), or the IQR. When the
 *                   chosen range is zero the column is judged on max - min instead (the original
 *                   divided by 1e-12 there, so columns non-constant only in < 2.5 % of rows
 *                   passed with a huge normalised variance: W4).
 * Quantiles (clip, trim, IQR) come from the marginal model (dp_marginal_fit_quantile: numpy's
 * default type 7 on exact tables; the sketch's mid-rank inverse otherwise).
 *
 * Ownership: plain values; nothing allocated except in the caller's dp_buf. Thread safety: pure
 * functions.
 */
#ifndef DP_PASSES_PASS1_H
#define DP_PASSES_PASS1_H

#include "accum/dp_colstats.h"
#include "util/dp_buf.h"

typedef enum dp_range_mode {
    DP_RANGE_MINMAX = 0,
    DP_RANGE_TRIMMED = 1,
    DP_RANGE_IQR = 2,
} dp_range_mode;

/* "minmax" / "trimmed" / "iqr". */
const char *dp_range_mode_name(dp_range_mode m);
/* Parse one of the names above; INVALID_ARG with the accepted names otherwise. */
dp_status dp_range_mode_parse(const char *s, dp_range_mode *out, dp_error *err) DP_MUST_USE;

typedef struct dp_pass1_opts {
    double max_missing_ratio;   /* 0.5, in [0, 1] */
    int64_t min_effective_n;    /* 100, >= 0 */
    double variance_threshold;  /* 0.002, >= 0 */
    dp_range_mode range_mode;   /* trimmed */
    double trim_low, trim_high; /* percentiles, 2.5 / 97.5; 0 <= low < high <= 100 */
    double clip_low, clip_high; /* percentiles, 2.5 / 97.5; 0 <= low < high <= 100 */
} dp_pass1_opts;

void dp_pass1_opts_default(dp_pass1_opts *o);
/* INVALID_ARG naming the option and its value. */
dp_status dp_pass1_opts_check(const dp_pass1_opts *o, dp_error *err) DP_MUST_USE;

typedef enum dp_pass1_reason {
    DP_PASS1_KEPT = 0,
    DP_PASS1_CONSTANT = 1,
    DP_PASS1_MISSING = 2,
    DP_PASS1_EFFECTIVE_N = 3,
    DP_PASS1_VARIANCE = 4,
} dp_pass1_reason;

/* "kept" / "constant" / "missing" / "effective-n" / "variance". */
const char *dp_pass1_reason_name(dp_pass1_reason r);

typedef struct dp_pass1_column {
    bool kept;
    dp_pass1_reason reason;
    char detail[320]; /* "variance: normalised variance ... < ..." with the numbers; "" if kept */
    int64_t rows, n_null, n_nan, n_posinf, n_neginf, n_valid;
    double missing_ratio;            /* NaN when rows = 0 */
    double min, max, mean, std, var; /* NaN when undefined (no / one valid value) */
    double clip_low, clip_high, trim_low, trim_high, iqr;
    dp_range_mode range_used; /* the range actually used for norm_variance */
    bool range_fallback;      /* the chosen range was zero: judged on max - min */
    double range;
    double norm_variance; /* var / range^2; NaN when undefined */
    int64_t distinct;     /* exact, or a lower bound (distinct_exact false: a sketch) */
    bool distinct_exact;
    dp_marginal_kind model;
} dp_pass1_column;

/* Decide one column. INVALID_ARG for bad options. */
dp_status dp_pass1_decide(const dp_colstats_column *c, const dp_pass1_opts *o, dp_pass1_column *out,
                          dp_error *err) DP_MUST_USE;
/* All columns of r into out[0 .. r->n_cols); *n_kept (optional) receives the kept count. */
dp_status dp_pass1_decide_all(const dp_colstats_result *r, const dp_pass1_opts *o,
                              dp_pass1_column *out, int64_t *n_kept, dp_error *err) DP_MUST_USE;

/* Report rows. Columns: name kept reason rows n_null n_nan n_inf n_valid missing_ratio min max
 * mean std clip_low clip_high trim_low trim_high iqr norm_variance distinct model.
 * reason is the detail text ("-" when kept); n_inf = +Inf + -Inf; distinct is the count or
 * ">N" for a sketch column (more than N = exact-distinct distinct values); doubles are printed
 * in the shortest form that reads back to the same double (%.15g..%.17g), non-finite as nan /
 * inf / -inf. Names are escaped (\t \n \r \\) so a row is always one line. Each call appends one
 * line ending in '\n' and leaves the buffer NUL-terminated (the NUL is not counted in size). */
dp_status dp_pass1_tsv_header(dp_buf *out, dp_error *err) DP_MUST_USE;
dp_status dp_pass1_tsv_row(dp_buf *out, const char *name, const dp_pass1_column *c,
                           dp_error *err) DP_MUST_USE;
/* One JSON object (no trailing newline or comma) with the same fields plus reason (name or
 * null), reason_detail, n_posinf, n_neginf, range, range_mode, range_fallback, distinct_exact;
 * non-finite numbers are null; the name is a JSON string with control characters escaped. */
dp_status dp_pass1_json_object(dp_buf *out, const char *name, const dp_pass1_column *c,
                               dp_error *err) DP_MUST_USE;

/* Shortest round-trip text of a double into buf (>= 32 bytes): "nan", "inf", "-inf" for
 * non-finite values. Returns buf. */
char *dp__format_double(double v, char *buf);

#endif
