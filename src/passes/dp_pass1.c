/* Pass-1 decisions and report rows. See dp_pass1.h. */
#include "passes/dp_pass1.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *dp_range_mode_name(dp_range_mode m) {
    switch (m) {
    case DP_RANGE_MINMAX:
        return "minmax";
    case DP_RANGE_TRIMMED:
        return "trimmed";
    case DP_RANGE_IQR:
        return "iqr";
    }
    return "unknown";
}

dp_status dp_range_mode_parse(const char *s, dp_range_mode *out, dp_error *err) {
    static const dp_range_mode modes[] = {DP_RANGE_MINMAX, DP_RANGE_TRIMMED, DP_RANGE_IQR};
    for (size_t i = 0; i < DP_ARRAY_LEN(modes); i++) {
        if (s != NULL && strcmp(s, dp_range_mode_name(modes[i])) == 0) {
            *out = modes[i];
            return DP_OK;
        }
    }
    return dp_error_set(err, DP_INVALID_ARG, "range mode \"%s\" is not one of minmax, trimmed, iqr",
                        s ? s : "");
}

const char *dp_pass1_reason_name(dp_pass1_reason r) {
    switch (r) {
    case DP_PASS1_KEPT:
        return "kept";
    case DP_PASS1_CONSTANT:
        return "constant";
    case DP_PASS1_MISSING:
        return "missing";
    case DP_PASS1_EFFECTIVE_N:
        return "effective-n";
    case DP_PASS1_VARIANCE:
        return "variance";
    }
    return "unknown";
}

void dp_pass1_opts_default(dp_pass1_opts *o) {
    o->max_missing_ratio = 0.5;
    o->min_effective_n = 100;
    o->variance_threshold = 0.002;
    o->range_mode = DP_RANGE_TRIMMED;
    o->trim_low = 2.5;
    o->trim_high = 97.5;
    o->clip_low = 2.5;
    o->clip_high = 97.5;
}

dp_status dp_pass1_opts_check(const dp_pass1_opts *o, dp_error *err) {
    if (!(o->max_missing_ratio >= 0 && o->max_missing_ratio <= 1))
        return dp_error_set(err, DP_INVALID_ARG, "--max-missing-ratio %g is not in [0, 1]",
                            o->max_missing_ratio);
    if (o->min_effective_n < 0)
        return dp_error_set(err, DP_INVALID_ARG, "--min-effective-n %lld is negative",
                            (long long) o->min_effective_n);
    if (!(o->variance_threshold >= 0 && isfinite(o->variance_threshold)))
        return dp_error_set(err, DP_INVALID_ARG,
                            "--variance-threshold %g is not a finite value >= 0",
                            o->variance_threshold);
    if (o->range_mode != DP_RANGE_MINMAX && o->range_mode != DP_RANGE_TRIMMED &&
        o->range_mode != DP_RANGE_IQR)
        return dp_error_set(err, DP_INVALID_ARG, "range mode %d unknown", (int) o->range_mode);
    if (!(o->trim_low >= 0 && o->trim_low < o->trim_high && o->trim_high <= 100))
        return dp_error_set(err, DP_INVALID_ARG,
                            "--trim-percentiles %g/%g: need 0 <= low < high <= 100", o->trim_low,
                            o->trim_high);
    if (!(o->clip_low >= 0 && o->clip_low < o->clip_high && o->clip_high <= 100))
        return dp_error_set(err, DP_INVALID_ARG,
                            "--clip-percentiles %g/%g: need 0 <= low < high <= 100", o->clip_low,
                            o->clip_high);
    return DP_OK;
}

/* (std / (hi - lo))^2 without overflow in hi - lo for values near +-DBL_MAX. */
static double dp__norm_var(double var, double lo, double hi) {
    double half = 0.5 * hi - 0.5 * lo;
    double r = (0.5 * sqrt(var)) / half;
    return r * r;
}

dp_status dp_pass1_decide(const dp_colstats_column *c, const dp_pass1_opts *o, dp_pass1_column *out,
                          dp_error *err) {
    DP_TRY(dp_pass1_opts_check(o, err));
    const dp_moments_result *m = &c->mom;
    const dp_marginal_fit *f = &c->fit;
    memset(out, 0, sizeof *out);
    out->rows = m->rows;
    out->n_null = m->n_null;
    out->n_nan = m->n_nan;
    out->n_posinf = m->n_posinf;
    out->n_neginf = m->n_neginf;
    out->n_valid = m->n_valid;
    int64_t missing = m->n_null + m->n_nan + m->n_posinf + m->n_neginf;
    out->missing_ratio = m->rows > 0 ? (double) missing / (double) m->rows : NAN;
    out->min = m->min;
    out->max = m->max;
    out->mean = m->mean;
    out->var = m->var;
    out->std = m->std;
    out->clip_low = dp_marginal_fit_quantile(f, o->clip_low / 100);
    out->clip_high = dp_marginal_fit_quantile(f, o->clip_high / 100);
    out->trim_low = dp_marginal_fit_quantile(f, o->trim_low / 100);
    out->trim_high = dp_marginal_fit_quantile(f, o->trim_high / 100);
    double q1 = dp_marginal_fit_quantile(f, 0.25), q3 = dp_marginal_fit_quantile(f, 0.75);
    out->iqr = q3 - q1;
    out->distinct = f->distinct;
    out->distinct_exact = f->distinct_exact;
    out->model = f->kind;

    /* Range for the normalised variance, with the min-max fallback (W4). */
    double lo = m->min, hi = m->max;
    out->range_used = o->range_mode;
    if (o->range_mode == DP_RANGE_TRIMMED) {
        lo = out->trim_low;
        hi = out->trim_high;
    } else if (o->range_mode == DP_RANGE_IQR) {
        lo = q1;
        hi = q3;
    }
    if (o->range_mode != DP_RANGE_MINMAX && !(hi > lo)) {
        out->range_fallback = true;
        out->range_used = DP_RANGE_MINMAX;
        lo = m->min;
        hi = m->max;
    }
    out->range = hi - lo;
    out->norm_variance = (hi > lo && m->n_valid >= 2) ? dp__norm_var(m->var, lo, hi) : NAN;

    /* Rules, in order; the first failing one is the reason. */
    char *d = out->detail;
    size_t dn = sizeof out->detail;
    if (!(f->distinct >= 2)) {
        out->reason = DP_PASS1_CONSTANT;
        if (f->distinct == 1)
            snprintf(d, dn, "constant: 1 distinct valid value (%.17g) in %lld valid of %lld rows",
                     m->min, (long long) m->n_valid, (long long) m->rows);
        else
            snprintf(d, dn, "constant: no valid value in %lld rows", (long long) m->rows);
    } else if (!(out->missing_ratio <= o->max_missing_ratio)) {
        out->reason = DP_PASS1_MISSING;
        snprintf(d, dn,
                 "missing: ratio %.6g > %.6g (null %lld, NaN %lld, +inf %lld, -inf %lld of %lld "
                 "rows)",
                 out->missing_ratio, o->max_missing_ratio, (long long) m->n_null,
                 (long long) m->n_nan, (long long) m->n_posinf, (long long) m->n_neginf,
                 (long long) m->rows);
    } else if (m->n_valid < o->min_effective_n) {
        out->reason = DP_PASS1_EFFECTIVE_N;
        snprintf(d, dn, "effective-n: %lld valid values < %lld", (long long) m->n_valid,
                 (long long) o->min_effective_n);
    } else if (!(out->norm_variance >= o->variance_threshold)) {
        out->reason = DP_PASS1_VARIANCE;
        snprintf(d, dn,
                 "variance: normalised variance %.6g < %.6g (variance %.6g / %s range %.6g "
                 "squared%s)",
                 out->norm_variance, o->variance_threshold, m->var,
                 dp_range_mode_name(out->range_used), out->range,
                 out->range_fallback
                     ? (o->range_mode == DP_RANGE_IQR ? "; IQR is 0, judged on min-max"
                                                      : "; trimmed range is 0, judged on min-max")
                     : "");
    } else {
        out->reason = DP_PASS1_KEPT;
    }
    out->kept = out->reason == DP_PASS1_KEPT;
    return DP_OK;
}

dp_status dp_pass1_decide_all(const dp_colstats_result *r, const dp_pass1_opts *o,
                              dp_pass1_column *out, int64_t *n_kept, dp_error *err) {
    DP_TRY(dp_pass1_opts_check(o, err));
    int64_t kept = 0;
    for (int64_t j = 0; j < r->n_cols; j++) {
        DP_TRY(dp_pass1_decide(&r->cols[j], o, &out[j], err));
        kept += out[j].kept;
    }
    if (n_kept != NULL)
        *n_kept = kept;
    return DP_OK;
}

/* ---- formatting ------------------------------------------------------------------------ */

char *dp__format_double(double v, char *buf) {
    if (isnan(v)) {
        strcpy(buf, "nan");
        return buf;
    }
    if (isinf(v)) {
        strcpy(buf, v > 0 ? "inf" : "-inf");
        return buf;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, 32, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            break;
    }
    return buf;
}

/* Append s and keep the buffer NUL-terminated (the NUL is not counted in size). */
static dp_status dp__put(dp_buf *out, const char *s, dp_error *err) {
    size_t n = strlen(s);
    if (dp_buf_reserve(out, out->size + n + 1) != DP_OK || dp_buf_append(out, s, n) != DP_OK)
        return dp_error_set(err, DP_NOMEM, "out of memory formatting a report row");
    out->data[out->size] = 0;
    return DP_OK;
}

static dp_status dp__putf(dp_buf *out, dp_error *err, const char *fmt, ...) DP_PRINTF(3, 4);
static dp_status dp__putf(dp_buf *out, dp_error *err, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t) n >= sizeof tmp)
        return dp_error_set(err, DP_INVALID_ARG, "report field longer than %zu bytes", sizeof tmp);
    return dp__put(out, tmp, err);
}

static const char *const dp__tsv_fields[] = {
    "name",      "kept",          "reason",    "rows", "n_null",        "n_nan",    "n_inf",
    "n_valid",   "missing_ratio", "min",       "max",  "mean",          "std",      "clip_low",
    "clip_high", "trim_low",      "trim_high", "iqr",  "norm_variance", "distinct", "model",
};

dp_status dp_pass1_tsv_header(dp_buf *out, dp_error *err) {
    for (size_t i = 0; i < DP_ARRAY_LEN(dp__tsv_fields); i++) {
        DP_TRY(dp__put(out, dp__tsv_fields[i], err));
        DP_TRY(dp__put(out, i + 1 < DP_ARRAY_LEN(dp__tsv_fields) ? "\t" : "\n", err));
    }
    return DP_OK;
}

static dp_status dp__tsv_name(dp_buf *out, const char *name, dp_error *err) {
    for (const char *p = name; *p; p++) {
        const char *e = NULL;
        switch (*p) {
        case '\t':
            e = "\\t";
            break;
        case '\n':
            e = "\\n";
            break;
        case '\r':
            e = "\\r";
            break;
        case '\\':
            e = "\\\\";
            break;
        default:
            break;
        }
        char one[2] = {*p, 0};
        DP_TRY(dp__put(out, e != NULL ? e : one, err));
    }
    return DP_OK;
}

dp_status dp_pass1_tsv_row(dp_buf *out, const char *name, const dp_pass1_column *c, dp_error *err) {
    char b[14][32];
    DP_TRY(dp__tsv_name(out, name, err));
    DP_TRY(dp__putf(out, err, "\t%s\t%s\t%lld\t%lld\t%lld\t%lld\t%lld", c->kept ? "yes" : "no",
                    c->kept ? "-" : c->detail, (long long) c->rows, (long long) c->n_null,
                    (long long) c->n_nan, (long long) (c->n_posinf + c->n_neginf),
                    (long long) c->n_valid));
    DP_TRY(dp__putf(out, err, "\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s",
                    dp__format_double(c->missing_ratio, b[0]), dp__format_double(c->min, b[1]),
                    dp__format_double(c->max, b[2]), dp__format_double(c->mean, b[3]),
                    dp__format_double(c->std, b[4]), dp__format_double(c->clip_low, b[5]),
                    dp__format_double(c->clip_high, b[6]), dp__format_double(c->trim_low, b[7]),
                    dp__format_double(c->trim_high, b[8]), dp__format_double(c->iqr, b[9]),
                    dp__format_double(c->norm_variance, b[10])));
    if (c->distinct_exact)
        DP_TRY(dp__putf(out, err, "\t%lld", (long long) c->distinct));
    else
        DP_TRY(dp__putf(out, err, "\t>%lld", (long long) c->distinct - 1));
    return dp__putf(out, err, "\t%s\n", dp_marginal_kind_name(c->model));
}

static dp_status dp__json_string(dp_buf *out, const char *s, dp_error *err) {
    DP_TRY(dp__put(out, "\"", err));
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char e[3] = {'\\', (char) *p, 0};
            DP_TRY(dp__put(out, e, err));
        } else if (*p < 0x20) {
            DP_TRY(dp__putf(out, err, "\\u%04x", *p));
        } else {
            char one[2] = {(char) *p, 0};
            DP_TRY(dp__put(out, one, err));
        }
    }
    return dp__put(out, "\"", err);
}

static dp_status dp__json_num(dp_buf *out, const char *key, double v, dp_error *err) {
    char b[32];
    return dp__putf(out, err, ", \"%s\": %s", key, isfinite(v) ? dp__format_double(v, b) : "null");
}

static dp_status dp__json_int(dp_buf *out, const char *key, int64_t v, dp_error *err) {
    return dp__putf(out, err, ", \"%s\": %lld", key, (long long) v);
}

dp_status dp_pass1_json_object(dp_buf *out, const char *name, const dp_pass1_column *c,
                               dp_error *err) {
    DP_TRY(dp__put(out, "{\"name\": ", err));
    DP_TRY(dp__json_string(out, name, err));
    DP_TRY(dp__putf(out, err, ", \"kept\": %s, \"reason\": ", c->kept ? "true" : "false"));
    if (c->kept) {
        DP_TRY(dp__put(out, "null, \"reason_detail\": null", err));
    } else {
        DP_TRY(dp__json_string(out, dp_pass1_reason_name(c->reason), err));
        DP_TRY(dp__put(out, ", \"reason_detail\": ", err));
        DP_TRY(dp__json_string(out, c->detail, err));
    }
    DP_TRY(dp__json_int(out, "rows", c->rows, err));
    DP_TRY(dp__json_int(out, "n_null", c->n_null, err));
    DP_TRY(dp__json_int(out, "n_nan", c->n_nan, err));
    DP_TRY(dp__json_int(out, "n_inf", c->n_posinf + c->n_neginf, err));
    DP_TRY(dp__json_int(out, "n_posinf", c->n_posinf, err));
    DP_TRY(dp__json_int(out, "n_neginf", c->n_neginf, err));
    DP_TRY(dp__json_int(out, "n_valid", c->n_valid, err));
    DP_TRY(dp__json_num(out, "missing_ratio", c->missing_ratio, err));
    DP_TRY(dp__json_num(out, "min", c->min, err));
    DP_TRY(dp__json_num(out, "max", c->max, err));
    DP_TRY(dp__json_num(out, "mean", c->mean, err));
    DP_TRY(dp__json_num(out, "std", c->std, err));
    DP_TRY(dp__json_num(out, "clip_low", c->clip_low, err));
    DP_TRY(dp__json_num(out, "clip_high", c->clip_high, err));
    DP_TRY(dp__json_num(out, "trim_low", c->trim_low, err));
    DP_TRY(dp__json_num(out, "trim_high", c->trim_high, err));
    DP_TRY(dp__json_num(out, "iqr", c->iqr, err));
    DP_TRY(dp__json_num(out, "norm_variance", c->norm_variance, err));
    DP_TRY(dp__json_num(out, "range", c->range, err));
    DP_TRY(dp__putf(out, err, ", \"range_mode\": \"%s\", \"range_fallback\": %s",
                    dp_range_mode_name(c->range_used), c->range_fallback ? "true" : "false"));
    DP_TRY(dp__json_int(out, "distinct", c->distinct, err));
    return dp__putf(out, err, ", \"distinct_exact\": %s, \"model\": \"%s\"}",
                    c->distinct_exact ? "true" : "false", dp_marginal_kind_name(c->model));
}
