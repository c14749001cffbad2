/* Pass-1 decisions: one case per rule, the W4 case (non-zero in < 2.5 % of rows), NaN / Inf as
 * missing (W12), the order of reasons, range modes, and the report rows (TSV / JSON). The
 * statistics come from the real accumulator over generated columns; expected numbers are
 * computed naively in the test. */
#include "dp_test.h"
#include "passes/dp_pass1.h"
#include "util/dp_rng.h"

/* Statistics of one column (NaN / +-Inf in x are counted as NaN / Inf, as a producer does). */
static dp_colstats_result p1_stats(const double *x, size_t n) {
    dp_colstats *cs = NULL;
    dp_batch b;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_colstats_create(&cs, 1, NULL, err), err);
    DP_ASSERT_OK(dp_batch_init(&b, (int64_t) (n ? n : 1), 1, err), err);
    memcpy(b.values, x, n * sizeof *x);
    b.n_rows = (int64_t) n;
    dp_batch_normalize_column(&b, 0);
    DP_ASSERT_OK(dp_colstats_update(cs, &b, err), err);
    dp_colstats_result r;
    DP_ASSERT_OK(dp_colstats_finalize(cs, &r, err), err);
    dp_batch_reset(&b);
    dp_colstats_free(cs);
    return r;
}

static dp_pass1_column p1_decide(const double *x, size_t n, const dp_pass1_opts *o) {
    dp_colstats_result r = p1_stats(x, n);
    dp_pass1_column c;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_pass1_decide(&r.cols[0], o, &c, err), err);
    dp_colstats_result_reset(&r);
    return c;
}

static int p1_cmp(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

/* Naive references over the finite values. */
static double p1_type7(const double *x, size_t n, double q) {
    double *s = malloc(n * sizeof *s);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            s[m++] = x[i];
    qsort(s, m, sizeof *s, p1_cmp);
    double h = (double) (m - 1) * q, fl = floor(h), g = h - fl;
    size_t i = (size_t) fl;
    double v = i >= m - 1 ? s[m - 1]
                          : (g >= 0.5 ? s[i + 1] - (s[i + 1] - s[i]) * (1 - g)
                                      : s[i] + (s[i + 1] - s[i]) * g);
    free(s);
    return v;
}

static double p1_var(const double *x, size_t n) {
    long double s = 0, ss = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) {
            s += x[i];
            m++;
        }
    long double mean = s / m;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            ss += (x[i] - mean) * (x[i] - mean);
    return (double) (ss / (m - 1));
}

DP_TEST(pass1_keeps_ordinary_column_with_exact_numbers) {
    size_t n = 1000;
    double x[1000];
    dp_rng r;
    dp_rng_seed(&r, 1);
    for (size_t i = 0; i < n; i++)
        x[i] = dp_rng_normal(&r);
    dp_pass1_opts o;
    dp_pass1_opts_default(&o);
    dp_pass1_column c = p1_decide(x, n, &o);
    DP_ASSERT_TRUE(c.kept);
    DP_ASSERT_EQ_INT(c.reason, DP_PASS1_KEPT);
    DP_ASSERT_STREQ(c.detail, "");
    DP_ASSERT_EQ_INT(c.model, DP_MARGINAL_TABLE);
    DP_ASSERT_EQ_INT(c.distinct, 1000);
    /* Quantiles of a table column equal numpy's type 7 exactly. */
    DP_ASSERT_BITS_EQ(c.trim_low, p1_type7(x, n, 0.025));
    DP_ASSERT_BITS_EQ(c.trim_high, p1_type7(x, n, 0.975));
    DP_ASSERT_BITS_EQ(c.clip_low, p1_type7(x, n, 0.025));
    DP_ASSERT_BITS_EQ(c.clip_high, p1_type7(x, n, 0.975));
    DP_ASSERT_BITS_EQ(c.iqr, p1_type7(x, n, 0.75) - p1_type7(x, n, 0.25));
    double var = p1_var(x, n), range = c.trim_high - c.trim_low;
    DP_ASSERT_EQ_INT(c.range_used, DP_RANGE_TRIMMED);
    DP_ASSERT_TRUE(!c.range_fallback);
    /* A few roundings apart (variance 1e-15, the halved range form): 1e-13. */
    DP_ASSERT_REL(c.norm_variance, var / (range * range), 1e-13, 0);
    DP_ASSERT_REL(c.std, sqrt(var), 1e-13, 0);
    DP_ASSERT_BITS_EQ(c.missing_ratio, 0.0);
}

DP_TEST(pass1_rule_constant) {
    double x[500];
    for (int i = 0; i < 500; i++)
        x[i] = i % 3 == 0 ? NAN : 4.25;
    dp_pass1_opts o;
    dp_pass1_opts_default(&o);
    dp_pass1_column c = p1_decide(x, 500, &o);
    DP_ASSERT_TRUE(!c.kept);
    DP_ASSERT_EQ_INT(c.reason, DP_PASS1_CONSTANT);
    DP_ASSERT_CONTAINS(c.detail, "constant: 1 distinct valid value (4.25)");
    DP_ASSERT_EQ_INT(c.distinct, 1);
    for (int i = 0; i < 500; i++)
        x[i] = NAN;
    c = p1_decide(x, 500, &o);
    DP_ASSERT_EQ_INT(c.reason, DP_PASS1_CONSTANT);
    DP_ASSERT_CONTAINS(c.detail, "no valid value in 500 rows");
    DP_ASSERT_EQ_INT(c.model, DP_MARGINAL_EMPTY);
    DP_ASSERT_TRUE(isnan(c.mean) && isnan(c.norm_variance) && isnan(c.clip_low));
}

DP_TEST(pass1_rule_missing_counts_nan_and_inf) {
    /* W12: NaN and +-Inf are missing. 40 % NaN + 15 % -Inf = 0.55 > 0.5: removed as missing
     * (the original counted NaN as valid, got a NaN variance and removed it as "low
     * variance"). 30 % NaN + 10 % +Inf = 0.4: kept, with mean / variance over the finite
     * values only. */
    size_t n = 2000;
    double *x = malloc(n * sizeof *x);
    dp_rng r;
    dp_rng_seed(&r, 2);
    for (size_t i = 0; i < n; i++)
        x[i] = i % 20 < 8 ? NAN : i % 20 < 11 ? -INFINITY : dp_rng_normal(&r);
    dp_pass1_opts o;
    dp_pass1_opts_default(&o);
    dp_pass1_column c = p1_decide(x, n, &o);
    DP_ASSERT_EQ_INT(c.reason, DP_PASS1_MISSING);
    DP_ASSERT_EQ_INT(c.n_nan, 800);
    DP_ASSERT_EQ_INT(c.n_neginf, 300);
    DP_ASSERT_EQ_INT(c.n_valid, 900);
    DP_ASSERT_BITS_EQ(c.missing_ratio, 0.55);
    DP_ASSERT_CONTAINS(c.detail, "missing: ratio 0.55 > 0.5 (null 0, NaN 800, +inf 0, -inf 300");
    for (size_t i = 0; i < n; i++)
        x[i] = i % 10 < 3 ? NAN : i % 10 < 4 ? INFINITY : dp_rng_normal(&r);
    c = p1_decide(x, n, &o);
    DP_ASSERT_TRUE(c.kept);
    DP_ASSERT_EQ_INT(c.n_posinf, 200);
    DP_ASSERT_BITS_EQ(c.missing_ratio, 0.4);
    DP_ASSERT_TRUE(isfinite(c.mean));
    DP_ASSERT_REL(c.std * c.std, p1_var(x, n), 1e-12, 0);
    free(x);
}

DP_TEST(pass1_rule_effective_n) {
    double x[99];
    for (int i = 0; i < 99; i++)
        x[i] = i;
    dp_pass1_opts o;
    dp_pass1_opts_default(&o);
    dp_pass1_column c = p1_decide(x, 99, &o);
    DP_ASSERT_EQ_INT(c.reason, DP_PASS1_EFFECTIVE_N);
    DP_ASSERT_STREQ(c.detail, "effective-n: 99 valid values < 100");
    o.min_effective_n = 99;
    c = p1_decide(x, 99, &o);
    DP_ASSERT_TRUE(c.kept);
}

DP_TEST(pass1_rule_variance_and_range_modes) {
    /* 999 values 0.01 N(0,1) and one at 100: on min-max the normalised variance is about
     * 10 / 100^2 = 0.001 < 0.002 (removed); on the trimmed range or the IQR it is huge
     * (kept). Each mode's number is checked against var / range^2 from naive references. */
    size_t n = 1000;
    double x[1000];
    dp_rng r;
    dp_rng_seed(&r, 3);
    for (size_t i = 0; i < n; i++)
        x[i] = i == 500 ? 100.0 : 0.01 * dp_rng_normal(&r);
    double var = p1_var(x, n);
    dp_pass1_opts o;
    dp_pass1_opts_default(&o);
    o.range_mode = DP_RANGE_MINMAX;
    dp_pass1_column c = p1_decide(x, n, &o);
    DP_ASSERT_EQ_INT(c.reason, DP_PASS1_VARIANCE);
    DP_ASSERT_EQ_INT(c.range_used, DP_RANGE_MINMAX);
    double mm = p1_type7(x, n, 1) - p1_type7(x, n, 0);
    DP_ASSERT_REL(c.norm_variance, var / (mm * mm), 1e-13, 0);
    DP_ASSERT_CONTAINS(c.detail, "variance: normalised variance 0.000999");
    DP_ASSERT_CONTAINS(c.detail, "< 0.002 (variance 9.99");
    DP_ASSERT_CONTAINS(c.detail, "minmax range 100.0");
    o.range_mode = DP_RANGE_TRIMMED;
    c = p1_decide(x, n, &o);
    DP_ASSERT_TRUE(c.kept);
    double tr = p1_type7(x, n, 0.975) - p1_type7(x, n, 0.025);
    DP_ASSERT_REL(c.norm_variance, var / (tr * tr), 1e-13, 0);
    o.range_mode = DP_RANGE_IQR;
    c = p1_decide(x, n, &o);
    DP_ASSERT_TRUE(c.kept);
    DP_ASSERT_EQ_INT(c.range_used, DP_RANGE_IQR);
    double iqr = p1_type7(x, n, 0.75) - p1_type7(x, n, 0.25);
    DP_ASSERT_REL(c.norm_variance, var / (iqr * iqr), 1e-13, 0);
    /* Threshold boundary: >= keeps. */
    o.range_mode = DP_RANGE_MINMAX;
    o.variance_threshold = c.norm_variance = var / (mm * mm);
    c = p1_decide(x, n, &o);
    o.variance_threshold = c.norm_variance;
    c = p1_decide(x, n, &o);
    DP_ASSERT_TRUE(c.kept);
}

DP_TEST(pass1_w4_rare_nonzero_judged_on_minmax) {
    /* W4: a column non-zero in < 2.5 % of rows has a zero trimmed range. The original divided
     * by 1e-12 and kept every such column; here it is judged on max - min. 1 % ones:
     * variance ~0.0099 >= 0.002, kept (with the fallback recorded). 0.1 % ones: variance ~0.001
     * < 0.002, removed for variance although the original would have kept it. */
    dp_pass1_opts o;
    dp_pass1_opts_default(&o);
    size_t n = 2000;
    double *x = malloc(n * sizeof *x);
    for (int pct10 = 10; pct10 >= 1; pct10 -= 9) { /* 1 % and 0.1 % */
        size_t ones = n * (size_t) pct10 / 1000;
        for (size_t i = 0; i < n; i++)
            x[i] = i % (n / ones) == 0 ? 1.0 : 0.0;
        dp_pass1_column c = p1_decide(x, n, &o);
        DP_ASSERT_BITS_EQ(c.trim_low, 0.0);
        DP_ASSERT_BITS_EQ(c.trim_high, 0.0);
        DP_ASSERT_TRUE(c.range_fallback);
        DP_ASSERT_EQ_INT(c.range_used, DP_RANGE_MINMAX);
        double p = (double) ones / (double) n;
        double var = p * (1 - p) * (double) n / (double) (n - 1);
        DP_ASSERT_REL(c.norm_variance, var, 1e-13, 0);
        /* The original: population variance / max(trimmed range^2, RANGE_EPS^2 = 1e-12). */
        double original = p * (1 - p) / 1e-12;
        DP_ASSERT_TRUE(original >= o.variance_threshold);
        if (pct10 == 10) {
            DP_ASSERT_TRUE(c.kept);
        } else {
            DP_ASSERT_EQ_INT(c.reason, DP_PASS1_VARIANCE);
            DP_ASSERT_CONTAINS(c.detail, "trimmed range is 0, judged on min-max");
        }
    }
    free(x);
}

DP_TEST(pass1_reason_order) {
    /* The first failing rule in the order constant, missing, effective-n, variance. */
    dp_pass1_opts o;
    dp_pass1_opts_default(&o);
    double x[400];
    /* constant + missing + effective-n: constant */
    for (int i = 0; i < 400; i++)
        x[i] = i < 10 ? 1.0 : NAN;
    DP_ASSERT_EQ_INT(p1_decide(x, 400, &o).reason, DP_PASS1_CONSTANT);
    /* missing + effective-n + variance: missing */
    for (int i = 0; i < 400; i++)
        x[i] = i < 60 ? (double) i : NAN;
    /* Below 100 values var / range^2 >= ~1/(2n) > 0.002 always, so a higher threshold makes
     * the variance rule fail too. */
    o.variance_threshold = 0.5;
    dp_pass1_column c = p1_decide(x, 400, &o);
    DP_ASSERT_EQ_INT(c.reason, DP_PASS1_MISSING);
    DP_ASSERT_TRUE(c.n_valid < o.min_effective_n && c.norm_variance < o.variance_threshold);
    /* effective-n + variance: effective-n */
    c = p1_decide(x, 60, &o);
    DP_ASSERT_EQ_INT(c.reason, DP_PASS1_EFFECTIVE_N);
    DP_ASSERT_TRUE(c.norm_variance < o.variance_threshold);
    /* exactly the maximum missing ratio is allowed */
    dp_pass1_opts_default(&o);
    for (int i = 0; i < 400; i++)
        x[i] = i % 2 ? NAN : (double) i;
    c = p1_decide(x, 400, &o);
    DP_ASSERT_BITS_EQ(c.missing_ratio, 0.5);
    DP_ASSERT_TRUE(c.kept);
}

DP_TEST(pass1_sketch_column) {
    /* A continuous column past exact-distinct: sketch model, distinct reported as a lower
     * bound, quantiles within the sketch's rank bound of the exact ones. */
    size_t n = 30000;
    double *x = malloc(n * sizeof *x), *s = malloc(n * sizeof *s);
    dp_rng r;
    dp_rng_seed(&r, 4);
    for (size_t i = 0; i < n; i++)
        s[i] = x[i] = exp(dp_rng_normal(&r));
    qsort(s, n, sizeof *s, p1_cmp);
    dp_pass1_opts o;
    dp_pass1_opts_default(&o);
    dp_pass1_column c = p1_decide(x, n, &o);
    DP_ASSERT_TRUE(c.kept);
    DP_ASSERT_EQ_INT(c.model, DP_MARGINAL_SKETCH);
    DP_ASSERT_TRUE(!c.distinct_exact);
    DP_ASSERT_EQ_INT(c.distinct, 4097);
    double qs[2] = {0.025, 0.975}, got[2] = {c.clip_low, c.clip_high};
    for (int k = 0; k < 2; k++) {
        size_t le = 0;
        while (le < n && s[le] <= got[k])
            le++;
        DP_ASSERT_NEAR((double) le / (double) n, qs[k], 0.005 + 1.0 / (double) n);
    }
    free(x);
    free(s);
}

DP_TEST(pass1_options_validation) {
    dp_pass1_opts o;
    dp_error eb, *err = &eb;
    dp_pass1_opts_default(&o);
    DP_ASSERT_OK(dp_pass1_opts_check(&o, err), err);
    o.max_missing_ratio = 1.5;
    DP_ASSERT_STATUS(dp_pass1_opts_check(&o, err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err->msg, "--max-missing-ratio 1.5");
    dp_pass1_opts_default(&o);
    o.trim_low = 97.5;
    o.trim_high = 2.5;
    DP_ASSERT_STATUS(dp_pass1_opts_check(&o, err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err->msg, "--trim-percentiles");
    dp_pass1_opts_default(&o);
    o.variance_threshold = NAN;
    DP_ASSERT_STATUS(dp_pass1_opts_check(&o, err), DP_INVALID_ARG);
    dp_range_mode m;
    DP_ASSERT_OK(dp_range_mode_parse("iqr", &m, err), err);
    DP_ASSERT_EQ_INT(m, DP_RANGE_IQR);
    DP_ASSERT_STATUS(dp_range_mode_parse("robust", &m, err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err->msg, "minmax, trimmed, iqr");
}

/* Split a line at tabs in place; returns the field count. */
static int p1_split(char *line, char **f, int max) {
    int k = 0;
    f[k++] = line;
    for (char *p = line; *p && *p != '\n'; p++) {
        if (*p == '\t') {
            *p = 0;
            if (k < max)
                f[k++] = p + 1;
        }
    }
    char *nl = strchr(f[k - 1], '\n');
    if (nl)
        *nl = 0;
    return k;
}

DP_TEST(pass1_tsv_and_json_rows) {
    dp_error eb, *err = &eb;
    dp_buf b;
    dp_buf_init(&b);
    DP_ASSERT_OK(dp_pass1_tsv_header(&b, err), err);
    DP_ASSERT_STREQ((const char *) b.data,
                    "name\tkept\treason\trows\tn_null\tn_nan\tn_inf\tn_valid\tmissing_ratio\tmin\t"
                    "max\tmean\tstd\tclip_low\tclip_high\ttrim_low\ttrim_high\tiqr\tnorm_variance\t"
                    "distinct\tmodel\n");
    dp_buf_reset(&b);
    /* A kept table column and a removed sketch column. */
    size_t n = 10000;
    double *x = malloc(n * sizeof *x);
    dp_rng r;
    dp_rng_seed(&r, 5);
    for (size_t i = 0; i < n; i++)
        x[i] = i % 100 == 0 ? NAN : i % 333 == 0 ? -INFINITY : 0.1 * (double) dp_rng_below(&r, 50);
    dp_pass1_opts o;
    dp_pass1_opts_default(&o);
    dp_pass1_column c = p1_decide(x, n, &o);
    DP_ASSERT_OK(dp_pass1_tsv_row(&b, "logP\tx\\y", &c, err), err);
    char *f[32];
    char *line = (char *) b.data;
    DP_ASSERT_EQ_INT(p1_split(line, f, 32), 21);
    DP_ASSERT_STREQ(f[0], "logP\\tx\\\\y");
    DP_ASSERT_STREQ(f[1], "yes");
    DP_ASSERT_STREQ(f[2], "-");
    DP_ASSERT_EQ_INT(atoll(f[3]), 10000);
    DP_ASSERT_EQ_INT(atoll(f[5]), c.n_nan);
    DP_ASSERT_EQ_INT(atoll(f[6]), c.n_posinf + c.n_neginf);
    double want[] = {c.missing_ratio, c.min,      c.max,       c.mean, c.std,          c.clip_low,
                     c.clip_high,     c.trim_low, c.trim_high, c.iqr,  c.norm_variance};
    for (int k = 0; k < 11; k++)
        DP_ASSERT_BITS_EQ(strtod(f[8 + k], NULL), want[k]); /* round trip */
    /* Shortest round-trip form: the fewest significant digits that read back exactly. */
    for (int k = 0; k < 11; k++) {
        char sh[40];
        for (int prec = 1; prec <= 17; prec++) {
            snprintf(sh, sizeof sh, "%.*g", prec, want[k]);
            if (strtod(sh, NULL) == want[k])
                break;
        }
        DP_ASSERT_STREQ(f[8 + k], sh);
    }
    DP_ASSERT_STREQ(f[19], "50");
    DP_ASSERT_STREQ(f[20], "table");
    dp_buf_reset(&b);
    n = 12000; /* 7200 missing, 4800 distinct valid values: a sketch */
    x = realloc(x, n * sizeof *x);
    for (size_t i = 0; i < n; i++)
        x[i] = i < 7200 ? NAN : dp_rng_normal(&r) + (double) i;
    c = p1_decide(x, n, &o);
    DP_ASSERT_OK(dp_pass1_tsv_row(&b, "w", &c, err), err);
    line = (char *) b.data;
    DP_ASSERT_EQ_INT(p1_split(line, f, 32), 21);
    DP_ASSERT_STREQ(f[1], "no");
    DP_ASSERT_CONTAINS(f[2], "missing: ratio 0.6 > 0.5");
    DP_ASSERT_STREQ(f[19], ">4096");
    DP_ASSERT_STREQ(f[20], "sketch");
    dp_buf_reset(&b);
    DP_ASSERT_OK(dp_pass1_json_object(&b, "q\"\n", &c, err), err);
    const char *js = (const char *) b.data;
    DP_ASSERT_CONTAINS(js, "{\"name\": \"q\\\"\\u000a\", \"kept\": false, \"reason\": \"missing\"");
    DP_ASSERT_CONTAINS(js, "\"rows\": 12000, \"n_null\": 0, \"n_nan\": 7200");
    DP_ASSERT_CONTAINS(js, "\"distinct\": 4097, \"distinct_exact\": false, \"model\": \"sketch\"}");
    /* Undefined numbers are null, never NaN (JSON has no NaN). */
    dp_pass1_column e = c;
    e.norm_variance = NAN;
    dp_buf_reset(&b);
    DP_ASSERT_OK(dp_pass1_json_object(&b, "e", &e, err), err);
    DP_ASSERT_CONTAINS((const char *) b.data, "\"norm_variance\": null");
    /* A second opinion: python's json module parses it (when present). */
    if (system("/usr/bin/python3 -c 'import json' 2>/dev/null") == 0) {
        char path[4200], cmd[8600];
        snprintf(path, sizeof path, "%s/row.json", dp_test_tmp_dir());
        FILE *fp = fopen(path, "w");
        fwrite(b.data, 1, b.size, fp);
        fclose(fp);
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
                 "assert d[\"name\"] == \"e\" and d[\"norm_variance\"] is None' %s",
                 path);
        DP_ASSERT_EQ_INT(system(cmd), 0);
    }
    dp_buf_reset(&b);
    free(x);
}

DP_TEST(pass1_decide_all_counts_kept) {
    /* Through the accumulator with several columns: decide_all agrees with per-column calls. */
    dp_colstats *cs = NULL;
    dp_batch b;
    dp_error eb, *err = &eb;
    DP_ASSERT_OK(dp_colstats_create(&cs, 4, NULL, err), err);
    DP_ASSERT_OK(dp_batch_init(&b, 500, 4, err), err);
    b.n_rows = 500;
    for (int i = 0; i < 500; i++) {
        dp_batch_col(&b, 0)[i] = i;                 /* kept */
        dp_batch_col(&b, 1)[i] = 1.0;               /* constant */
        dp_batch_col(&b, 2)[i] = i < 300 ? NAN : i; /* missing */
        dp_batch_col(&b, 3)[i] = i % 7;             /* kept */
    }
    for (int j = 0; j < 4; j++)
        dp_batch_normalize_column(&b, j);
    DP_ASSERT_OK(dp_colstats_update(cs, &b, err), err);
    dp_colstats_result res;
    DP_ASSERT_OK(dp_colstats_finalize(cs, &res, err), err);
    dp_pass1_opts o;
    dp_pass1_opts_default(&o);
    dp_pass1_column out[4];
    int64_t kept = -1;
    DP_ASSERT_OK(dp_pass1_decide_all(&res, &o, out, &kept, err), err);
    DP_ASSERT_EQ_INT(kept, 2);
    DP_ASSERT_EQ_INT(out[1].reason, DP_PASS1_CONSTANT);
    DP_ASSERT_EQ_INT(out[2].reason, DP_PASS1_MISSING);
    DP_ASSERT_TRUE(out[0].kept && out[3].kept);
    o.max_missing_ratio = -1;
    DP_ASSERT_STATUS(dp_pass1_decide_all(&res, &o, out, &kept, err), DP_INVALID_ARG);
    dp_colstats_result_reset(&res);
    dp_batch_reset(&b);
    dp_colstats_free(cs);
}
