/* Pass-4 measures (HSIC/CKA, RDC, combined S, null level); see dp_nonlinear.h. */
#include "passes/dp_nonlinear.h"
#include "dpipe/dp_features.h"
#include "util/dp_alloc.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest matrix the eigensolvers take: the k x k feature blocks of pass 4 and the p x p
 * correlation matrices of pass 3 (PSD projection); memory (n^2 doubles) bounds it further. */
#define DP__EIG_MAX 65536

#if DP_HAVE_LAPACKE
#include <lapacke.h>
#endif

/* A column is constant when the trace of its feature covariance is below this fraction of the
 * raw second moment of its (shifted) features: blocked float64 sums over n <= 1e8 rows keep
 * their rounding below ~1e-13 of the raw moment, and a real descriptor column whose variance is
 * below 1e-11 of it carries no usable dependence signal. */
#define DP__CONST_REL 1e-11

void dp_nonlinear_options_default(dp_nonlinear_options *o) {
    memset(o, 0, sizeof *o);
    o->w_hsic = 0.5;
    o->w_rdc = 0.5;
    o->ridge = DP_NONLINEAR_RIDGE_DEFAULT;
    o->missing = DP_FG_MISSING_PAIRWISE;
    o->min_pair_rows = DP_NONLINEAR_MIN_PAIR_ROWS_DEFAULT;
    o->threads = 1;
    o->hsic_estimator = DP_HSIC_MERCER;
    o->sketch_debias = true;
}

void dp_nonlinear_result_init(dp_nonlinear_result *r) {
    memset(r, 0, sizeof *r);
}

void dp_nonlinear_result_reset(dp_nonlinear_result *r) {
    dp_free(r->hsic);
    dp_free(r->rdc);
    dp_free(r->sim);
    memset(r, 0, sizeof *r);
}

/* ---- small dense linear algebra ------------------------------------------------------------ */

static void dp__sort_eig(int64_t n, double *w, double *V) {
    /* Selection sort (n <= 256): ascending eigenvalues, vectors follow. */
    for (int64_t a = 0; a < n; a++) {
        int64_t best = a;
        for (int64_t b = a + 1; b < n; b++)
            if (w[b] < w[best])
                best = b;
        if (best != a) {
            double t = w[a];
            w[a] = w[best];
            w[best] = t;
            if (V != NULL)
                for (int64_t r = 0; r < n; r++) {
                    double x = V[r + a * n];
                    V[r + a * n] = V[r + best * n];
                    V[r + best * n] = x;
                }
        }
    }
}

dp_status dp__sym_eig_jacobi(int64_t n, double *A, double *w, double *V, dp_error *err) {
    if (n < 0 || n > DP__EIG_MAX)
        return dp_error_set(err, DP_INVALID_ARG, "Jacobi eigensolver: n = %lld", (long long) n);
    if (V != NULL)
        for (int64_t c = 0; c < n; c++)
            for (int64_t r = 0; r < n; r++)
                V[r + c * n] = r == c ? 1.0 : 0.0;
    /* Symmetrise from the average of both triangles. */
    for (int64_t c = 0; c < n; c++)
        for (int64_t r = 0; r < c; r++) {
            double x = 0.5 * (A[r + c * n] + A[c + r * n]);
            A[r + c * n] = A[c + r * n] = x;
        }
    for (int64_t a = 0; a < n; a++)
        if (!isfinite(A[a + a * n]))
            return dp_error_set(err, DP_NUMERIC, "Jacobi eigensolver: non-finite input");
    int sweep;
    for (sweep = 0; sweep < 100; sweep++) {
        double off = 0, tot = 0;
        for (int64_t c = 0; c < n; c++)
            for (int64_t r = 0; r < n; r++) {
                double x = A[r + c * n] * A[r + c * n];
                tot += x;
                if (r != c)
                    off += x;
            }
        if (!isfinite(tot))
            return dp_error_set(err, DP_NUMERIC, "Jacobi eigensolver: non-finite input");
        if (off <= DBL_EPSILON * DBL_EPSILON * tot * 1e-4 || off == 0)
            break;
        for (int64_t p = 0; p < n - 1; p++) {
            for (int64_t q = p + 1; q < n; q++) {
                const double apq = A[p + q * n];
                if (apq == 0)
                    continue;
                const double app = A[p + p * n], aqq = A[q + q * n];
                /* Skip rotations below the rounding of the diagonal (after a few sweeps). */
                if (sweep > 3 && fabs(apq) * 1e18 < fabs(app) && fabs(apq) * 1e18 < fabs(aqq)) {
                    A[p + q * n] = A[q + p * n] = 0;
                    continue;
                }
                const double theta = (aqq - app) / (2.0 * apq);
                double t;
                if (fabs(theta) > 1e150)
                    t = 0.5 / theta;
                else
                    t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
                const double cs = 1.0 / sqrt(t * t + 1.0), sn = t * cs;
                for (int64_t r = 0; r < n; r++) {
                    if (r == p || r == q)
                        continue;
                    const double arp = A[r + p * n], arq = A[r + q * n];
                    const double np_ = cs * arp - sn * arq, nq_ = sn * arp + cs * arq;
                    A[r + p * n] = A[p + r * n] = np_;
                    A[r + q * n] = A[q + r * n] = nq_;
                }
                A[p + p * n] = app - t * apq;
                A[q + q * n] = aqq + t * apq;
                A[p + q * n] = A[q + p * n] = 0;
                if (V != NULL)
                    for (int64_t r = 0; r < n; r++) {
                        const double vp = V[r + p * n], vq = V[r + q * n];
                        V[r + p * n] = cs * vp - sn * vq;
                        V[r + q * n] = sn * vp + cs * vq;
                    }
            }
        }
    }
    if (sweep == 100)
        return dp_error_set(err, DP_NUMERIC,
                            "Jacobi eigensolver did not converge in 100 sweeps (n = %lld)",
                            (long long) n);
    for (int64_t a = 0; a < n; a++)
        w[a] = A[a + a * n];
    dp__sort_eig(n, w, V);
    return DP_OK;
}

dp_status dp__sym_eig(int64_t n, double *A, double *w, double *V, dp_error *err) {
#if DP_HAVE_LAPACKE
    dp_status st = DP_OK;
    double *work = NULL;
    lapack_int *iwork = NULL;
    if (n < 0 || n > DP__EIG_MAX)
        return dp_error_set(err, DP_INVALID_ARG, "eigensolver: n = %lld (at most %d)",
                            (long long) n, DP__EIG_MAX);
    if (n == 0)
        return DP_OK;
    for (int64_t a = 0; a < n * n; a++)
        if (!isfinite(A[a]))
            return dp_error_set(err, DP_NUMERIC, "eigensolver: non-finite input");
    /* Symmetrise so that the triangle LAPACK reads carries both halves' information. */
    for (int64_t c = 0; c < n; c++)
        for (int64_t r = 0; r < c; r++)
            A[r + c * n] = A[c + r * n] = 0.5 * (A[r + c * n] + A[c + r * n]);
    if ((double) n * (double) n * 2 + 6.0 * (double) n + 1 > 2147483647.0)
        return dp_error_set(err, DP_LIMIT,
                            "eigensolver: n = %lld needs more LAPACK workspace "
                            "than a 32-bit index can address",
                            (long long) n);
    const lapack_int ni = (lapack_int) n;
    const lapack_int lwork = 1 + 6 * ni + 2 * ni * ni, liwork = 3 + 5 * ni;
    work = dp_mallocarray((size_t) lwork, sizeof(double));
    iwork = dp_mallocarray((size_t) liwork, sizeof(lapack_int));
    if (work == NULL || iwork == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory in the eigensolver (n = %lld)", (long long) n);
    lapack_int info = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, V != NULL ? 'V' : 'N', 'U', ni, A, ni,
                                          w, work, lwork, iwork, liwork);
    if (info != 0)
        DP_FAIL(err, DP_NUMERIC, "LAPACK dsyevd failed (info %d, n = %lld)", (int) info,
                (long long) n);
    if (V != NULL)
        memcpy(V, A, (size_t) (n * n) * sizeof(double));
cleanup:
    dp_free(work);
    dp_free(iwork);
    return st;
#else
    return dp__sym_eig_jacobi(n, A, w, V, err);
#endif
}

/* Sturm count: eigenvalues of the tridiagonal (d, e) below x. */
static int64_t dp__sturm(int64_t n, const double *d, const double *e2, double x, double tiny) {
    int64_t count = 0;
    double q = d[0] - x;
    if (q == 0)
        q = -tiny;
    count += q < 0;
    for (int64_t i = 1; i < n; i++) {
        q = d[i] - x - e2[i - 1] / q;
        if (q == 0)
            q = -tiny;
        count += q < 0;
    }
    return count;
}

double dp__sym_max_eig(int64_t n, double *A, double *work) {
    if (n <= 0)
        return NAN;
    double *d = work, *e = work + n, *v = work + 2 * n;
    /* Householder reduction to tridiagonal form; only the trailing block is updated. */
    for (int64_t k = 0; k + 2 < n; k++) {
        const int64_t m = n - k - 1;
        double *x = A + (k + 1) + k * n; /* column k below the diagonal */
        double scale = 0;
        for (int64_t i = 0; i < m; i++)
            scale = fmax(scale, fabs(x[i]));
        if (scale == 0) {
            e[k] = 0;
            continue;
        }
        double nrm2 = 0;
        for (int64_t i = 0; i < m; i++) {
            v[i] = x[i] / scale;
            nrm2 += v[i] * v[i];
        }
        const double nrm = sqrt(nrm2);
        const double alpha = v[0] > 0 ? -nrm : nrm;
        v[0] -= alpha;
        const double vtv = nrm2 - 2.0 * alpha * (v[0] + alpha) + alpha * alpha;
        e[k] = alpha * scale;
        if (vtv == 0)
            continue;
        const double beta = 2.0 / vtv;
        /* p = beta * B v, K = beta/2 * v.p, q = p - K v, B -= v q^T + q v^T */
        double *B = A + (k + 1) + (k + 1) * n;
        double *pv = d; /* d is free until the end: use it as scratch for p (length m <= n) */
        for (int64_t i = 0; i < m; i++)
            pv[i] = 0;
        for (int64_t c = 0; c < m; c++) {
            const double vc = v[c];
            const double *bc = B + c * n;
            for (int64_t r = 0; r < m; r++)
                pv[r] += bc[r] * vc;
        }
        double vp = 0;
        for (int64_t i = 0; i < m; i++) {
            pv[i] *= beta;
            vp += v[i] * pv[i];
        }
        const double K = 0.5 * beta * vp;
        for (int64_t i = 0; i < m; i++)
            pv[i] -= K * v[i];
        for (int64_t c = 0; c < m; c++) {
            double *bc = B + c * n;
            const double vc = v[c], qc = pv[c];
            for (int64_t r = 0; r < m; r++)
                bc[r] -= v[r] * qc + pv[r] * vc;
        }
    }
    if (n >= 2)
        e[n - 2] = A[(n - 1) + (n - 2) * n];
    for (int64_t i = 0; i < n; i++)
        d[i] = A[i + i * n];
    /* Gershgorin bounds, then bisection on the Sturm count for the largest eigenvalue. */
    double lo = INFINITY, hi = -INFINITY, norm = 0;
    double *e2 = v;
    for (int64_t i = 0; i < n; i++) {
        double r = (i > 0 ? fabs(e[i - 1]) : 0) + (i + 1 < n ? fabs(e[i]) : 0);
        lo = fmin(lo, d[i] - r);
        hi = fmax(hi, d[i] + r);
        norm = fmax(norm, fabs(d[i]) + r);
        if (i + 1 < n)
            e2[i] = e[i] * e[i];
    }
    if (!isfinite(lo) || !isfinite(hi))
        return NAN;
    if (norm == 0)
        return 0;
    const double tiny = DBL_MIN * 4 + norm * DBL_EPSILON * DBL_EPSILON;
    hi += norm * DBL_EPSILON * 4;
    lo -= norm * DBL_EPSILON * 4;
    /* invariant: count(lo) <= n - 1 (some eigenvalue >= lo), count(hi) == n */
    for (int it = 0; it < 200; it++) {
        double mid = 0.5 * (lo + hi);
        if (mid <= lo || mid >= hi || hi - lo <= 2.0 * DBL_EPSILON * fmax(fabs(lo), fabs(hi)))
            break;
        if (dp__sturm(n, d, e2, mid, tiny) == n)
            hi = mid;
        else
            lo = mid;
    }
    return 0.5 * (lo + hi);
}

dp_status dp__inv_sqrt_psd(int64_t k, const double *C, double ridge, double *W, double *work,
                           dp_error *err) {
    double *A = work, *V = work + k * k, *w = work + 2 * k * k;
    double tr = 0;
    for (int64_t a = 0; a < k; a++)
        tr += C[a + a * k];
    const double lambda = ridge * tr / (double) k;
    memcpy(A, C, (size_t) (k * k) * sizeof(double));
    for (int64_t a = 0; a < k; a++)
        A[a + a * k] += lambda;
    DP_TRY(dp__sym_eig(k, A, w, V, err));
    for (int64_t x = 0; x < k * k; x++)
        W[x] = 0;
    for (int64_t e = 0; e < k; e++) {
        if (!(w[e] > 0))
            continue;
        const double s = 1.0 / sqrt(w[e]);
        const double *ve = V + e * k;
        for (int64_t c = 0; c < k; c++) {
            const double vc = ve[c] * s;
            for (int64_t r = 0; r < k; r++)
                W[r + c * k] += ve[r] * vc;
        }
    }
    return DP_OK;
}

/* C = A B for k x k column-major matrices (axpy form: unit-stride inner loop). */
static void dp__mm(int64_t k, const double *A, const double *B, double *C) {
    for (int64_t c = 0; c < k; c++) {
        double *cc = C + c * k;
        for (int64_t r = 0; r < k; r++)
            cc[r] = 0;
        for (int64_t l = 0; l < k; l++) {
            const double blc = B[l + c * k];
            const double *al = A + l * k;
            for (int64_t r = 0; r < k; r++)
                cc[r] += al[r] * blc;
        }
    }
}

double dp__sigma_max(int64_t k, const double *M, double *work) {
    double *B = work, *w2 = work + k * k;
    /* B = M^T M: dot products of M's columns. */
    for (int64_t c = 0; c < k; c++)
        for (int64_t r = 0; r <= c; r++) {
            const double *mr = M + r * k, *mc = M + c * k;
            double s = 0;
            for (int64_t t = 0; t < k; t++)
                s += mr[t] * mc[t];
            B[r + c * k] = B[c + r * k] = s;
        }
    double l = dp__sym_max_eig(k, B, w2);
    return isnan(l) ? NAN : sqrt(fmax(l, 0.0));
}

/* ---- the measures -------------------------------------------------------------------------- */

typedef struct dp__nl_ctx {
    /* HSIC: n_vh views (1: Mercer; r: the sketch repetitions), NULL when the measure is off */
    const dp_featgram_view *vh, *vr;
    int32_t n_vh;
    const dp_nonlinear_options *opt;
    int64_t p;
    const double *norm_h; /* n_vh * p: ||C_ii||_F per view, NaN for constant columns */
    const double *W;      /* p * k * k, NULL entries as NaN-marked by rconst */
    const uint8_t *rconst;
    double *hsic, *rdc;
    int threads;
    int tid;
} dp__nl_ctx;

static double dp__frob2(const double *C, int64_t n) {
    double s = 0;
    for (int64_t x = 0; x < n; x++)
        s += C[x] * C[x];
    return s;
}

static double dp__clamp01(double x) {
    return isnan(x) ? x : (x < 0 ? 0 : (x > 1 ? 1 : x));
}

double dp__median_finite(double *x, int64_t n) {
    int64_t m = 0;
    for (int64_t a = 0; a < n; a++)
        if (isfinite(x[a]))
            x[m++] = x[a];
    if (m == 0)
        return NAN;
    /* insertion sort: n is the number of sketch repetitions (<= 1024) */
    for (int64_t a = 1; a < m; a++) {
        const double v = x[a];
        int64_t b = a;
        while (b > 0 && x[b - 1] > v) {
            x[b] = x[b - 1];
            b--;
        }
        x[b] = v;
    }
    return (m & 1) ? x[m / 2] : 0.5 * (x[m / 2 - 1] + x[m / 2]);
}

/* HSIC of columns i, j (shadow < 0) or of shadow pair number shadow: the CKA of every HSIC view
 * (clamped to [0, 1]), then their median. C: f x f scratch, vals: n_vh scratch. */
static double dp__pair_hsic(const dp__nl_ctx *cx, int64_t i, int64_t j, int64_t shadow, double *C,
                            double *vals) {
    const int64_t p = cx->p;
    for (int32_t q = 0; q < cx->n_vh; q++) {
        const dp_featgram_view *v = &cx->vh[q];
        int64_t n = shadow < 0 ? dp_featgram_cov_block(v, i, j, cx->opt->missing, C)
                               : dp_featgram_shadow_cov(v, shadow, cx->opt->missing, C);
        /* every view has the same rows: the count is the same for all */
        if (n < cx->opt->min_pair_rows)
            return NAN;
        const double ni = cx->norm_h[q * p + i], nj = cx->norm_h[q * p + j];
        vals[q] = isnan(ni) || isnan(nj)
                      ? NAN
                      : dp__clamp01(dp__frob2(C, (int64_t) v->f * v->f) / (ni * nj));
    }
    return dp__median_finite(vals, cx->n_vh);
}

static double dp__pair_rdc(const dp__nl_ctx *cx, int64_t i, int64_t j, const double *C,
                           double *work) {
    if (cx->rconst[i] || cx->rconst[j])
        return NAN;
    const int64_t k = cx->vr->f;
    double *T1 = work, *M = work + k * k, *w2 = work + 2 * k * k;
    dp__mm(k, cx->W + i * k * k, C, T1);
    dp__mm(k, T1, cx->W + j * k * k, M);
    double s = dp__sigma_max(k, M, w2);
    return isnan(s) ? s : fmin(s, 1.0);
}

static void *dp__pairs_worker(void *arg) {
    dp__nl_ctx *cx = arg;
    const int64_t p = cx->p;
    /* f <= DP_FEATURES_MAX; a C block plus 6 k^2 of scratch. */
    const int64_t fh = cx->vh ? cx->vh->f : 0, fr = cx->vr ? cx->vr->f : 0;
    const int64_t fmx = DP_MAX(fh, fr);
    double *buf = dp_mallocarray((size_t) (7 * fmx * fmx + 8 * fmx + cx->n_vh), sizeof(double));
    if (buf == NULL)
        return (void *) 1;
    double *C = buf, *work = buf + fmx * fmx, *vals = buf + 7 * fmx * fmx + 8 * fmx;
    for (int64_t i = cx->tid; i < p; i += cx->threads) {
        for (int64_t j = i + 1; j < p; j++) {
            if (cx->vh != NULL) {
                double h = dp__pair_hsic(cx, i, j, -1, C, vals);
                cx->hsic[i + j * p] = cx->hsic[j + i * p] = h;
            }
            if (cx->vr != NULL) {
                int64_t n = dp_featgram_cov_block(cx->vr, i, j, cx->opt->missing, C);
                double r = n < cx->opt->min_pair_rows ? NAN : dp__pair_rdc(cx, i, j, C, work);
                cx->rdc[i + j * p] = cx->rdc[j + i * p] = r;
            }
        }
    }
    dp_free(buf);
    return NULL;
}

static int dp__cmp_double(const void *a, const void *b) {
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

static void dp__summarise(double *vals, int64_t n, dp_nonlinear_null *out) {
    int64_t m = 0;
    for (int64_t x = 0; x < n; x++)
        if (isfinite(vals[x]))
            vals[m++] = vals[x];
    memset(out, 0, sizeof *out);
    out->n_samples = m;
    if (m == 0) {
        out->mean = out->sd = out->q95 = out->max = NAN;
        return;
    }
    qsort(vals, (size_t) m, sizeof(double), dp__cmp_double);
    double s = 0;
    for (int64_t x = 0; x < m; x++)
        s += vals[x];
    out->mean = s / (double) m;
    double ss = 0;
    for (int64_t x = 0; x < m; x++)
        ss += (vals[x] - out->mean) * (vals[x] - out->mean);
    out->sd = m > 1 ? sqrt(ss / (double) (m - 1)) : 0;
    /* nearest-rank 95th percentile */
    int64_t rank = (int64_t) ceil(0.95 * (double) m);
    out->q95 = vals[DP_MAX(rank, 1) - 1];
    out->max = vals[m - 1];
}

/* Per-column quantities: HSIC norms and RDC whitening matrices. debias: the norm is the
 * sketch-debiased sqrt((||C||^2 - tr(C)^2 / f) / (1 + 1/f)) (dp_nonlinear.h), NaN when that is
 * not positive. */
static dp_status dp__columns(const dp_featgram_view *v, const dp_nonlinear_options *opt,
                             bool want_w, bool debias, double *norm, double *W, uint8_t *cst,
                             double *C, double *work, dp_error *err) {
    const int64_t f = v->f;
    for (int64_t i = 0; i < v->p; i++) {
        int64_t n = dp_featgram_cov_block(v, i, i, opt->missing, C);
        double tr = 0, raw = 0;
        const double inv = n > 0 ? 1.0 / (double) n : 0;
        for (int64_t a = 0; a < f; a++) {
            const int64_t ia = i * f + a;
            tr += C[a + a * f];
            raw += v->S[ia + ia * v->N] * inv;
        }
        bool constant = n < 2 || !(tr > DP__CONST_REL * raw) || !isfinite(tr);
        if (norm != NULL) {
            double fro = dp__frob2(C, f * f);
            if (debias)
                fro = (fro - tr * tr / (double) f) / (1.0 + 1.0 / (double) f);
            norm[i] = constant || !(fro > 0) ? NAN : sqrt(fro);
        }
        if (cst != NULL)
            cst[i] = constant;
        if (want_w) {
            if (constant) {
                for (int64_t x = 0; x < f * f; x++)
                    W[i * f * f + x] = NAN;
            } else {
                dp_status st = dp__inv_sqrt_psd(f, C, opt->ridge, W + i * f * f, work, err);
                if (st != DP_OK) {
                    dp_error_prefix(err, "RDC whitening of column %lld: ", (long long) i);
                    return st;
                }
            }
        }
    }
    return DP_OK;
}

dp_status dp_nonlinear_compute(const dp_featgram *g, const dp_nonlinear_options *opt,
                               dp_nonlinear_result *res, dp_error *err) {
    dp_status st = DP_OK;
    dp_nonlinear_options defaults;
    dp_featgram_view vr, *vh = NULL;
    int32_t n_vh = 0;
    double *norm_h = NULL, *W = NULL, *C = NULL, *work = NULL, *nul = NULL, *vals = NULL;
    uint8_t *rconst = NULL;
    pthread_t *tids = NULL;
    dp__nl_ctx *ctx = NULL;
    int started = 0;
    if (opt == NULL) {
        dp_nonlinear_options_default(&defaults);
        opt = &defaults;
    }
    dp_nonlinear_result_reset(res);
    if (!(opt->w_hsic >= 0) || !(opt->w_rdc >= 0) || !isfinite(opt->w_hsic + opt->w_rdc) ||
        !(opt->w_hsic + opt->w_rdc > 0))
        DP_FAIL(err, DP_INVALID_ARG,
                "--w-hsic %g and --w-rdc %g must be >= 0, finite, and not both 0", opt->w_hsic,
                opt->w_rdc);
    if (!(opt->ridge >= 0) || !isfinite(opt->ridge))
        DP_FAIL(err, DP_INVALID_ARG, "RDC ridge %g must be finite and >= 0", opt->ridge);
    if (opt->hsic_estimator != DP_HSIC_MERCER && opt->hsic_estimator != DP_HSIC_SKETCH)
        DP_FAIL(err, DP_INVALID_ARG, "unknown HSIC estimator %d", (int) opt->hsic_estimator);
    const double wsum = opt->w_hsic + opt->w_rdc;
    const bool use_h = opt->w_hsic > 0, use_r = opt->w_rdc > 0;
    const bool sketch = opt->hsic_estimator == DP_HSIC_SKETCH;
    if (use_h) {
        n_vh = sketch ? DP_MAX(dp_featgram_get_config(g)->sketch_r, 1) : 1;
        vh = dp_calloc((size_t) n_vh, sizeof *vh);
        vals = dp_calloc((size_t) n_vh, sizeof(double));
        if (vh == NULL || vals == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory for %d HSIC views", (int) n_vh);
        for (int32_t q = 0; q < n_vh; q++)
            DP_CHECK(sketch ? dp_featgram_sketch_view(g, q, &vh[q], err)
                            : dp_featgram_view_get(g, DP_FG_HSIC, &vh[q], err));
    }
    if (use_r)
        DP_CHECK(dp_featgram_view_get(g, DP_FG_RDC, &vr, err));
    const int64_t p = dp_featgram_columns(g);
    const size_t pp = (size_t) p * (size_t) p;
    res->p = p;
    res->n_rows = dp_featgram_rows(g);
    res->w_hsic = opt->w_hsic / wsum;
    res->w_rdc = opt->w_rdc / wsum;
    res->sim = dp_mallocarray(pp, sizeof(double));
    if (res->sim == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for the %lld x %lld pass-4 matrices", (long long) p,
                (long long) p);
    const int64_t fh = use_h ? vh[0].f : 0, fr = use_r ? vr.f : 0, fmx = DP_MAX(fh, fr);
    C = dp_mallocarray((size_t) (fmx * fmx), sizeof(double));
    work = dp_mallocarray((size_t) (7 * fmx * fmx + 8 * fmx), sizeof(double));
    if (C == NULL || work == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for pass-4 scratch");
    if (use_h) {
        res->hsic = dp_mallocarray(pp, sizeof(double));
        norm_h = dp_mallocarray((size_t) p * (size_t) n_vh, sizeof(double));
        if (res->hsic == NULL || norm_h == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory for the %lld x %lld HSIC matrix", (long long) p,
                    (long long) p);
        for (int32_t q = 0; q < n_vh; q++)
            DP_CHECK(dp__columns(&vh[q], opt, false, sketch && opt->sketch_debias, norm_h + q * p,
                                 NULL, NULL, C, work, err));
    }
    if (use_r) {
        res->rdc = dp_mallocarray(pp, sizeof(double));
        W = dp_mallocarray((size_t) p * (size_t) (fr * fr), sizeof(double));
        rconst = dp_calloc((size_t) p, 1);
        if (res->rdc == NULL || W == NULL || rconst == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory for the %lld x %lld RDC matrix", (long long) p,
                    (long long) p);
        DP_CHECK(dp__columns(&vr, opt, true, false, NULL, W, rconst, C, work, err));
    }
    int nthreads = opt->threads > 1 ? opt->threads : 1;
    if (nthreads > 256)
        nthreads = 256;
    if (nthreads > p)
        nthreads = (int) DP_MAX(p, 1);
    ctx = dp_calloc((size_t) nthreads, sizeof *ctx);
    tids = dp_calloc((size_t) nthreads, sizeof *tids);
    if (ctx == NULL || tids == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for pass-4 threads");
    for (int t = 0; t < nthreads; t++) {
        ctx[t] = (dp__nl_ctx){.vh = use_h ? vh : NULL,
                              .vr = use_r ? &vr : NULL,
                              .n_vh = n_vh,
                              .opt = opt,
                              .p = p,
                              .norm_h = norm_h,
                              .W = W,
                              .rconst = rconst,
                              .hsic = res->hsic,
                              .rdc = res->rdc,
                              .threads = nthreads,
                              .tid = t};
    }
    bool worker_failed = false;
    for (int t = 1; t < nthreads; t++) {
        if (pthread_create(&tids[t], NULL, dp__pairs_worker, &ctx[t]) != 0) {
            worker_failed = true;
            break;
        }
        started = t;
    }
    if (dp__pairs_worker(&ctx[0]) != NULL)
        worker_failed = true;
    for (int t = 1; t <= started; t++) {
        void *rv = NULL;
        pthread_join(tids[t], &rv);
        if (rv != NULL)
            worker_failed = true;
    }
    started = 0;
    if (worker_failed)
        DP_FAIL(err, DP_NOMEM, "pass-4 pair loop: a worker thread could not start or allocate");
    for (int64_t i = 0; i < p; i++) {
        if (use_h) {
            bool any = false;
            for (int32_t q = 0; q < n_vh; q++)
                any = any || !isnan(norm_h[q * p + i]);
            res->hsic[i + i * p] = any ? 1.0 : NAN;
        }
        if (use_r)
            res->rdc[i + i * p] = rconst[i] ? NAN : 1.0;
    }
    for (size_t x = 0; x < pp; x++)
        res->sim[x] =
            (use_h ? res->w_hsic * res->hsic[x] : 0) + (use_r ? res->w_rdc * res->rdc[x] : 0);
    /* Null level from the shadow pairs. */
    {
        const int64_t nq =
            use_h ? (int64_t) vh[0].n_sets * vh[0].n_shadow : (int64_t) vr.n_sets * vr.n_shadow;
        nul = dp_mallocarray((size_t) (3 * nq + 1), sizeof(double));
        if (nul == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory for the null level");
        double *nh = nul, *nr = nul + nq, *ns = nul + 2 * nq;
        for (int64_t q = 0; q < nq; q++) {
            double h = 0, r = 0;
            if (use_h) {
                const int64_t i = vh[0].shadow_col[q % vh[0].n_shadow], j = vh[0].shadow_partner[q];
                h = dp__pair_hsic(&ctx[0], i, j, q, C, vals);
            }
            if (use_r) {
                const int64_t i = vr.shadow_col[q % vr.n_shadow], j = vr.shadow_partner[q];
                int64_t n = dp_featgram_shadow_cov(&vr, q, opt->missing, C);
                r = n < opt->min_pair_rows ? NAN : dp__pair_rdc(&ctx[0], i, j, C, work);
            }
            nh[q] = use_h ? h : NAN;
            nr[q] = use_r ? r : NAN;
            ns[q] = res->w_hsic * (use_h ? h : 0) + res->w_rdc * (use_r ? r : 0);
        }
        dp__summarise(nh, nq, &res->null_hsic);
        dp__summarise(nr, nq, &res->null_rdc);
        dp__summarise(ns, nq, &res->null_sim);
    }
cleanup:
    for (int t = 1; t <= started; t++)
        pthread_join(tids[t], NULL);
    dp_free(norm_h);
    dp_free(vh);
    dp_free(vals);
    dp_free(W);
    dp_free(rconst);
    dp_free(C);
    dp_free(work);
    dp_free(nul);
    dp_free(ctx);
    dp_free(tids);
    if (st != DP_OK)
        dp_nonlinear_result_reset(res);
    return st;
}

bool dp_nonlinear_null_warning(const dp_nonlinear_result *r, double threshold, char *msg,
                               size_t msg_size) {
    const dp_nonlinear_null *n = &r->null_sim;
    if (n->n_samples == 0 || !(threshold < 3.0 * n->mean))
        return false;
    if (msg != NULL && msg_size > 0)
        snprintf(msg, msg_size,
                 "--nonlinear-threshold %.4g is below 3x the estimated null level of the combined "
                 "similarity (mean %.4g, 95th percentile %.4g over %lld shadow pairs at n = %lld "
                 "rows): independent columns may be linked; raise the threshold or "
                 "--nonlinear-rows",
                 threshold, n->mean, n->q95, (long long) n->n_samples, (long long) r->n_rows);
    return true;
}
