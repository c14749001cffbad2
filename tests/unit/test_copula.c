/* Copula transforms against naive average ranks and normal scores. */
#include "dp_test.h"
#include "transform/dp_copula.h"
#include "transform/dp_normal.h"
#include "util/dp_rng.h"

#include <stdlib.h>

static void fit_of(const double *x, int64_t n, int32_t exact_distinct, dp_marginal_fit *fit) {
    dp_marginal m;
    dp_error err;
    DP_ASSERT_OK(dp_marginal_init(&m, exact_distinct, DP_KLL_K_DEFAULT, 1, &err), &err);
    DP_ASSERT_OK(dp_marginal_update(&m, x, (size_t) n, &err), &err);
    dp_marginal_fit_init(fit);
    DP_ASSERT_OK(dp_marginal_fit_build(&m, fit, &err), &err);
    dp_marginal_reset(&m);
}

/* Average rank (1-based) of x[i] among the finite values, by counting. */
static double avg_rank(const double *x, int64_t n, double v, int64_t *valid) {
    int64_t less = 0, equal = 0, nv = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            continue;
        nv++;
        less += x[i] < v;
        equal += x[i] == v;
    }
    *valid = nv;
    return (double) less + (double) (equal + 1) / 2.0;
}

DP_TEST(copula_table_columns_are_exact) {
    /* Integer counts with heavy ties and missing values: the table model gives exact mid-ranks
     * and normal scores (tolerance: one rounding in (lo+hi)/2/n vs (R-1/2)/n, and dp_norm_ppf's
     * 1e-15 relative accuracy). */
    enum { N = 5000 };
    double x[N];
    dp_rng r;
    dp_rng_seed(&r, 3);
    for (int i = 0; i < N; i++)
        x[i] = i % 17 == 0 ? NAN : (double) dp_rng_below(&r, 20) + (i % 3 == 0 ? 100 : 0);
    dp_marginal_fit fit;
    fit_of(x, N, 4096, &fit);
    DP_ASSERT_EQ_INT(fit.kind, DP_MARGINAL_TABLE);
    dp_copula_col sp, ga, un;
    dp_error err;
    dp_copula_col_init(&sp);
    dp_copula_col_init(&ga);
    dp_copula_col_init(&un);
    DP_ASSERT_OK(dp_copula_col_prepare(&sp, DP_COPULA_SPEARMAN, &fit, false, 0, 0, &err), &err);
    DP_ASSERT_OK(dp_copula_col_prepare(&ga, DP_COPULA_GAUSSIAN, &fit, false, 0, 0, &err), &err);
    DP_ASSERT_OK(dp_copula_col_prepare(&un, DP_COPULA_UNIFORM_RDC, &fit, false, 0, 0, &err), &err);
    double u[N], z[N], w[N];
    dp_copula_apply(&sp, x, N, u);
    dp_copula_apply(&ga, x, N, z);
    dp_copula_apply(&un, x, N, w);
    for (int i = 0; i < N; i++) {
        if (isnan(x[i])) {
            DP_ASSERT_TRUE(isnan(u[i]) && isnan(z[i]) && isnan(w[i]));
            continue;
        }
        int64_t nv;
        double R = avg_rank(x, N, x[i], &nv);
        double ue = (R - 0.5) / (double) nv;
        DP_ASSERT_NEAR(u[i], ue, 1e-15);
        DP_ASSERT_NEAR(w[i], R / (double) nv, 1e-15);
        DP_ASSERT_NEAR(z[i], dp_norm_ppf(R / (double) (nv + 1)), 1e-13);
    }
    dp_copula_col_reset(&sp);
    dp_copula_col_reset(&ga);
    dp_copula_col_reset(&un);
    dp_marginal_fit_reset(&fit);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

DP_TEST(copula_sketch_columns_within_rank_error) {
    /* Continuous data past exact_distinct: the sketch's mid-rank CDF is within its stated rank
     * error (0.5 % of n, dp_kll.h) of the exact one; gaussian scores accordingly. */
    enum { N = 200000 };
    double *x = malloc(N * sizeof *x);
    dp_rng r;
    dp_rng_seed(&r, 9);
    for (int i = 0; i < N; i++)
        x[i] = exp(dp_rng_normal(&r)); /* lognormal: skewed */
    dp_marginal_fit fit;
    fit_of(x, N, 64, &fit);
    DP_ASSERT_EQ_INT(fit.kind, DP_MARGINAL_SKETCH);
    dp_copula_col sp;
    dp_error err;
    dp_copula_col_init(&sp);
    DP_ASSERT_OK(dp_copula_col_prepare(&sp, DP_COPULA_SPEARMAN, &fit, false, 0, 0, &err), &err);
    /* Exact ranks by sorting. */
    double *s = malloc(N * sizeof *s);
    memcpy(s, x, N * sizeof *s);
    qsort(s, N, sizeof *s, cmp_double);
    double worst = 0;
    for (int i = 0; i < N; i += 97) {
        double u = dp_copula_value(&sp, x[i]);
        /* rank of x[i] (distinct continuous values) by binary search */
        int64_t lo = 0, hi = N;
        while (lo < hi) {
            int64_t mid = (lo + hi) / 2;
            if (s[mid] < x[i])
                lo = mid + 1;
            else
                hi = mid;
        }
        double ue = ((double) lo + 0.5) / N;
        worst = fmax(worst, fabs(u - ue));
    }
    printf("sketch mid-rank CDF: worst |u - u_exact| = %.3g\n", worst);
    DP_ASSERT_CMP_INT((int64_t) (worst * 1e6), <=, 5000); /* 0.5 % */
    /* Values beyond the data map to the extreme knots, never to 0 or 1. */
    DP_ASSERT_NEAR(dp_copula_value(&sp, -1.0), 0.5 / N, 1e-12);
    DP_ASSERT_NEAR(dp_copula_value(&sp, 1e300), 1 - 0.5 / N, 1e-12);
    dp_copula_col_reset(&sp);
    dp_marginal_fit_reset(&fit);
    free(x);
    free(s);
}

DP_TEST(copula_pearson_clips) {
    dp_marginal_fit fit;
    double x[4] = {-5, 0.5, 3, NAN};
    fit_of(x, 4, 16, &fit);
    dp_copula_col c;
    dp_error err;
    dp_copula_col_init(&c);
    DP_ASSERT_OK(dp_copula_col_prepare(&c, DP_COPULA_PEARSON, &fit, true, -1, 2, &err), &err);
    double y[4];
    dp_copula_apply(&c, x, 4, y);
    DP_ASSERT_NEAR(y[0], -1, 0);
    DP_ASSERT_NEAR(y[1], 0.5, 0);
    DP_ASSERT_NEAR(y[2], 2, 0);
    DP_ASSERT_TRUE(isnan(y[3]));
    dp_copula_col_reset(&c);
    dp_marginal_fit_reset(&fit);
    /* Fast normal quantile: relative error < 1.2e-9 (Acklam). */
    for (double p = 1e-300; p < 1; p = p < 1e-3 ? p * 7 : p + 1e-3) {
        double a = dp_norm_ppf(p), b = dp_norm_ppf_fast(p);
        DP_ASSERT_NEAR(b, a, 1.2e-9 * fabs(a) + 1e-15);
    }
    DP_ASSERT_NEAR(dp_norm_ppf(0.975), 1.959963984540054, 1e-15);
    DP_ASSERT_NEAR(dp_norm_cdf(dp_norm_ppf(1e-10)), 1e-10, 1e-24);
}
