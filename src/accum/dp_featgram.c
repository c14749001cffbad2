/* Pass-4 feature-block co-moment accumulator; see dp_featgram.h for the arithmetic. */
#include "accum/dp_featgram.h"
#include "util/dp_alloc.h"
#include "util/dp_serial.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define DP__FG_MAGIC   0x47465044u /* "DPFG" */
#define DP__FG_VERSION 2u          /* 2: HSIC sketch parts */
/* Caps on values read back from a record (and accepted from a config). */
#define DP__FG_BLOCK_ROWS_MAX (1 << 20)
#define DP__FG_SHADOW_MAX     (1 << 20)
#define DP__FG_NAME_MAX       65536
/* Sketch draws a record may imply without matching co-moments (see dp_featgram_deserialize). */
#define DP__FG_RECORD_DRAWS_MAX ((int64_t) 1 << 30)

typedef struct dp__fg_part {
    int32_t f;
    int64_t N;
    double *S;         /* N x N */
    double *s;         /* N */
    double *T;         /* N x p, lazily */
    double *Ttmp;      /* N x p, lazily: gemm output for the columns missing in a block */
    double *MM;        /* p x p */
    double *MMtmp;     /* p x p, lazily */
    double *Mi;        /* block_rows x p, lazily: compacted missing indicators */
    int64_t *J;        /* p: columns with a missing value in the current block */
    int64_t *miss;     /* p */
    int64_t *blk_miss; /* p: missing values of the pending block */
    double *pilot;     /* N: the shift of every feature */
    double *G;         /* block_rows x N staging block (shifted features) */
    uint8_t *mis;      /* block_rows x p: 1 = missing */
    double *shS;       /* n_sets * n_sh * f * f */
    int64_t *sh_rows;  /* n_sets * n_sh */
    int64_t *sh_obs;   /* n_sets * n_sh */
} dp__fg_part;

struct dp_featgram {
    dp_featgram_config cfg;
    int64_t p;
    char **names;
    dp_backend *be;
    dp_mercer mercer;
    double *rdc_w, *rdc_b, *rdc_pilot; /* p x k each, row i at i * k */
    /* Sketch draws, D values per (column i, repetition q) at (i * r + q) * D. */
    double *sk_w, *sk_b, *sk_a;
    int32_t *sk_h;
    int64_t n_rows;
    int64_t fill; /* rows pending in the staging block */
    int32_t n_sets;
    int64_t n_sh;
    int64_t *sh_col;     /* n_sh */
    int64_t *sh_partner; /* n_sets * n_sh */
    /* part[DP_FG_HSIC] (Mercer), part[DP_FG_RDC], then part[DP_FG_SKETCH + q] for the sketch
     * repetitions q < sketch_r; a part with f == 0 is disabled. */
    dp__fg_part *part;
    int32_t n_parts;
    uint64_t fingerprint;
    int64_t bytes;
};

void dp_featgram_config_default(dp_featgram_config *c) {
    memset(c, 0, sizeof *c);
    c->m = DP_MERCER_M_DEFAULT;
    c->k = DP_RDC_K_DEFAULT;
    c->sigma = DP_MERCER_SIGMA_DEFAULT;
    c->s = DP_RDC_S_DEFAULT;
    c->seed = 0;
    c->block_rows = DP_FEATGRAM_BLOCK_ROWS_DEFAULT;
    c->shadow_columns = DP_FEATGRAM_SHADOW_COLUMNS_DEFAULT;
    c->sketch_D = DP_SKETCH_D_DEFAULT;
    c->sketch_m = DP_SKETCH_M_DEFAULT;
    c->sketch_r = 0;
}

dp_status dp_featgram_config_set_hsic(dp_featgram_config *c, dp_hsic_estimator est, int32_t D,
                                      int32_t m, int32_t r, dp_error *err) {
    if (est == DP_HSIC_MERCER) {
        c->m = D > 0 ? D : DP_MERCER_M_DEFAULT;
        c->sketch_r = 0;
        return DP_OK;
    }
    if (est != DP_HSIC_SKETCH)
        return dp_error_set(err, DP_INVALID_ARG, "unknown HSIC estimator %d", (int) est);
    c->m = 0;
    c->sketch_D = D > 0 ? D : DP_SKETCH_D_DEFAULT;
    c->sketch_m = m > 0 ? m : DP_SKETCH_M_DEFAULT;
    c->sketch_r = r > 0 ? r : DP_SKETCH_R_DEFAULT;
    return dp_sketch_check_params(c->sketch_D, c->sketch_m, c->sketch_r, c->sigma, err);
}

static dp_status dp__check_config(const dp_featgram_config *c, int64_t p, dp_error *err) {
    if (p < 1 || p > DP_FEATGRAM_MAX_COLUMNS)
        return dp_error_set(err, DP_INVALID_ARG,
                            "feature accumulator: %lld columns is outside [1, %d]", (long long) p,
                            DP_FEATGRAM_MAX_COLUMNS);
    if (c->m < 0 || c->m > DP_FEATURES_MAX || c->k < 0 || c->k > DP_FEATURES_MAX)
        return dp_error_set(err, DP_INVALID_ARG,
                            "feature accumulator: m = %d, k = %d must be in [0, %d]", (int) c->m,
                            (int) c->k, DP_FEATURES_MAX);
    if (c->sketch_r < 0 || c->sketch_r > DP_SKETCH_R_MAX)
        return dp_error_set(err, DP_INVALID_ARG,
                            "feature accumulator: sketch repetitions r = %d outside [0, %d]",
                            (int) c->sketch_r, DP_SKETCH_R_MAX);
    if (c->m == 0 && c->k == 0 && c->sketch_r == 0)
        return dp_error_set(err, DP_INVALID_ARG,
                            "feature accumulator: HSIC (Mercer m, sketch r) and RDC (k) are all "
                            "disabled");
    if (c->block_rows < 1 || c->block_rows > DP__FG_BLOCK_ROWS_MAX)
        return dp_error_set(err, DP_INVALID_ARG,
                            "feature accumulator: block_rows = %d is outside [1, %d]",
                            (int) c->block_rows, DP__FG_BLOCK_ROWS_MAX);
    if (c->shadow_columns < 0 || c->shadow_columns > DP__FG_SHADOW_MAX)
        return dp_error_set(err, DP_INVALID_ARG,
                            "feature accumulator: shadow_columns = %d is outside [0, %d]",
                            (int) c->shadow_columns, DP__FG_SHADOW_MAX);
    if (c->m > 0 && (!(c->sigma > 0) || !isfinite(c->sigma)))
        return dp_error_set(err, DP_INVALID_ARG, "feature accumulator: sigma = %g", c->sigma);
    if (c->k > 0)
        DP_TRY(dp_rdc_check_params(c->k, c->s, err));
    if (c->sketch_r > 0)
        DP_TRY(dp_sketch_check_params(c->sketch_D, c->sketch_m, c->sketch_r, c->sigma, err));
    return DP_OK;
}

/* ---- plan ---------------------------------------------------------------------------------- */

static bool dp__plan_part(int64_t p, int64_t f, int64_t rows, int64_t n_sh, int64_t *matrix,
                          int64_t *buffers) {
    int64_t N, NN, t, acc = 0;
    if (f == 0) {
        *matrix = 0;
        *buffers = 0;
        return true;
    }
    if (!dp_mul_i64(p, f, &N) || !dp_mul_i64(N, N, &NN) || !dp_mul_i64(NN, 8, matrix))
        return false;
    /* staging G, T and Ttmp, MM and MMtmp, Mi, s/pilot, masks, shadows */
    if (!dp_mul_i64(rows, N, &t) || !dp_add_i64(acc, t, &acc))
        return false;
    if (!dp_mul_i64(N, p, &t) || !dp_mul_i64(t, 2, &t) || !dp_add_i64(acc, t, &acc))
        return false;
    if (!dp_mul_i64(p, p, &t) || !dp_mul_i64(t, 2, &t) || !dp_add_i64(acc, t, &acc))
        return false;
    if (!dp_mul_i64(rows, p, &t) || !dp_add_i64(acc, t, &acc))
        return false;
    if (!dp_add_i64(acc, 2 * N + 4 * p, &acc))
        return false;
    if (!dp_mul_i64(2 * n_sh, f * f + 2, &t) || !dp_add_i64(acc, t, &acc))
        return false;
    if (!dp_mul_i64(acc, 8, &acc))
        return false;
    /* the byte mask */
    if (!dp_mul_i64(rows, p, &t) || !dp_add_i64(acc, t, &acc))
        return false;
    *buffers = acc;
    return true;
}

dp_status dp_featgram_estimate(int64_t p, const dp_featgram_config *cfg, dp_featgram_plan *plan,
                               dp_error *err) {
    memset(plan, 0, sizeof *plan);
    DP_TRY(dp__check_config(cfg, p, err));
    int64_t n_sh = DP_MIN(p, (int64_t) cfg->shadow_columns);
    const int64_t r = cfg->sketch_r;
    int64_t mh, bh, mr, br, ms = 0, bs = 0, res, draws = 0;
    bool ok = dp__plan_part(p, cfg->m, cfg->block_rows, n_sh, &mh, &bh) &&
              dp__plan_part(p, cfg->k, cfg->block_rows, n_sh, &mr, &br) && dp_mul_i64(p, p, &res) &&
              dp_mul_i64(res, 3 * 8, &res);
    if (ok && r > 0) {
        /* r parts of m features, and w, b, a (doubles) and h (int32) for D draws per column and
         * repetition */
        ok = dp__plan_part(p, cfg->sketch_m, cfg->block_rows, n_sh, &ms, &bs) &&
             dp_mul_i64(ms, r, &ms) && dp_mul_i64(bs, r, &bs) && dp_mul_i64(p, r, &draws) &&
             dp_mul_i64(draws, cfg->sketch_D, &draws) && dp_mul_i64(draws, 3 * 8 + 4, &draws);
    }
    int64_t matrix = 0, buffers = 0;
    ok = ok && dp_add_i64(mh, mr, &matrix) && dp_add_i64(matrix, ms, &matrix) &&
         dp_add_i64(bh, br, &buffers) && dp_add_i64(buffers, bs, &buffers) &&
         dp_add_i64(buffers, draws, &buffers) && dp_add_i64(buffers, res, &buffers) &&
         dp_add_i64(matrix, buffers, &plan->total_bytes);
    if (!ok)
        return dp_error_set(err, DP_LIMIT,
                            "pass 4 memory plan for %lld columns (m = %d, k = %d, sketch D = %d, "
                            "m = %d, r = %d) overflows 64 bits",
                            (long long) p, (int) cfg->m, (int) cfg->k, (int) cfg->sketch_D,
                            (int) cfg->sketch_m, (int) r);
    plan->p = p;
    plan->m = cfg->m;
    plan->k = cfg->k;
    plan->sketch_D = r > 0 ? cfg->sketch_D : 0;
    plan->sketch_m = r > 0 ? cfg->sketch_m : 0;
    plan->sketch_r = (int32_t) r;
    plan->matrix_bytes = matrix;
    /* p x p HSIC, RDC and combined matrices of the measures are in the buffers */
    plan->buffer_bytes = buffers;
    plan->checkpoint_bytes = 0;
    return DP_OK;
}

int64_t dp_featgram_record_bound(const dp_featgram_plan *plan, int64_t names_bytes) {
    /* Serialised: upper(S) = matrix/2 + 8 N per part; s, T, upper(MM), the shadows, the pending
     * staging rows and masks each fit in their buffer's share; per column a 4-byte name length
     * and a few 8-byte counters. The plan's sizes were checked for overflow, and N <= sqrt of
     * them. */
    int64_t n_feat =
        plan->p * ((int64_t) plan->m + plan->k + (int64_t) plan->sketch_r * plan->sketch_m);
    return plan->matrix_bytes / 2 + plan->buffer_bytes + 8 * n_feat + 64 * plan->p + names_bytes +
           4096;
}

dp_status dp_featgram_check_budget(const dp_featgram_plan *plan, int64_t budget_bytes,
                                   int64_t nonlinear_rows, dp_error *err) {
    if (budget_bytes <= 0 || plan->total_bytes <= budget_bytes)
        return DP_OK;
    const double gb = 1024.0 * 1024.0 * 1024.0;
    char terms[256];
    int len = 0;
    terms[0] = 0;
    /* (p*m)^2 + (p*k)^2 + r (p*m_s)^2 with the parts present, then the settings */
    if (plan->m > 0)
        len += snprintf(terms + len, sizeof terms - (size_t) len, "(%lld)^2",
                        (long long) (plan->p * plan->m));
    if (plan->k > 0)
        len += snprintf(terms + len, sizeof terms - (size_t) len, "%s(%lld)^2", len ? " + " : "",
                        (long long) (plan->p * plan->k));
    if (plan->sketch_r > 0)
        len +=
            snprintf(terms + len, sizeof terms - (size_t) len, "%s%d x (%lld)^2", len ? " + " : "",
                     (int) plan->sketch_r, (long long) (plan->p * plan->sketch_m));
    char ckpt[160] = "";
    if (plan->checkpoint_bytes > 0)
        snprintf(ckpt, sizeof ckpt,
                 " and %.2f GB for a checkpoint record (built every --checkpoint-interval; "
                 "--no-checkpoint drops it)",
                 (double) plan->checkpoint_bytes / (1024.0 * 1024.0 * 1024.0));
    char settings[160];
    if (plan->sketch_r > 0)
        snprintf(settings, sizeof settings, "--hsic-D %d, --m %d, --r %d, k = %d",
                 (int) plan->sketch_D, (int) plan->sketch_m, (int) plan->sketch_r, (int) plan->k);
    else
        snprintf(settings, sizeof settings, "m = %d, k = %d", (int) plan->m, (int) plan->k);
    return dp_error_set(
        err, DP_LIMIT,
        "pass 4 needs %.2f GB for %lld columns (%.2f GB for the %s co-moment doubles with %s, "
        "plus %.2f GB of buffers%s) but --max-memory-gb allows %.2f GB. Raise --max-memory-gb, %s"
        "or let fewer columns reach pass 4 (stricter pass-2/pass-3 thresholds); --nonlinear-rows "
        "(now %lld) bounds the rows and the time, not this memory",
        (double) plan->total_bytes / gb, (long long) plan->p, (double) plan->matrix_bytes / gb,
        terms, settings, (double) plan->buffer_bytes / gb, ckpt, (double) budget_bytes / gb,
        plan->sketch_r > 0 ? "lower --m or --r, " : "", (long long) nonlinear_rows);
}

/* ---- row sample ---------------------------------------------------------------------------- */

void dp_rowsel_init(dp_rowsel *sel, uint64_t seed, int64_t total_rows, int64_t target_rows) {
    sel->seed = seed;
    sel->all = total_rows <= 0 || target_rows >= total_rows;
    if (sel->all || target_rows <= 0) {
        sel->threshold = sel->all ? UINT64_MAX : 0;
        return;
    }
    /* target/total * 2^64 in long double (64-bit mantissa on x86; elsewhere the rounding of
     * double is far below the binomial spread). */
    long double frac = (long double) target_rows / (long double) total_rows;
    sel->threshold = (uint64_t) (frac * 18446744073709551616.0L);
}

/* ---- create / free ------------------------------------------------------------------------- */

static void dp__part_free(dp__fg_part *pt) {
    dp_free(pt->S);
    dp_free(pt->s);
    dp_free(pt->T);
    dp_free(pt->Ttmp);
    dp_free(pt->MM);
    dp_free(pt->MMtmp);
    dp_free(pt->Mi);
    dp_free(pt->J);
    dp_free(pt->miss);
    dp_free(pt->blk_miss);
    dp_free(pt->pilot);
    dp_free(pt->G);
    dp_free(pt->mis);
    dp_free(pt->shS);
    dp_free(pt->sh_rows);
    dp_free(pt->sh_obs);
    memset(pt, 0, sizeof *pt);
}

void dp_featgram_free(dp_featgram *g) {
    if (g == NULL)
        return;
    if (g->part != NULL)
        for (int32_t i = 0; i < g->n_parts; i++)
            dp__part_free(&g->part[i]);
    dp_free(g->part);
    if (g->names != NULL)
        for (int64_t i = 0; i < g->p; i++)
            dp_free(g->names[i]);
    dp_free(g->names);
    dp_free(g->rdc_w);
    dp_free(g->rdc_b);
    dp_free(g->rdc_pilot);
    dp_free(g->sk_w);
    dp_free(g->sk_b);
    dp_free(g->sk_a);
    dp_free(g->sk_h);
    dp_free(g->sh_col);
    dp_free(g->sh_partner);
    dp_free(g);
}

/* Allocation that also counts the bytes for dp_featgram_sizeof. */
static void *dp__fg_calloc(dp_featgram *g, size_t count, size_t size) {
    void *ptr = dp_calloc(count == 0 ? 1 : count, size);
    if (ptr != NULL)
        g->bytes += (int64_t) (count * size);
    return ptr;
}

static dp_status dp__part_init(dp_featgram *g, dp__fg_part *pt, int32_t f, dp_error *err) {
    pt->f = f;
    if (f == 0)
        return DP_OK;
    const size_t p = (size_t) g->p, rows = (size_t) g->cfg.block_rows;
    pt->N = g->p * f;
    const size_t N = (size_t) pt->N;
    size_t NN, RN, RP;
    if (!dp_mul_size(N, N, &NN) || !dp_mul_size(rows, N, &RN) || !dp_mul_size(rows, p, &RP))
        return dp_error_set(err, DP_LIMIT, "feature accumulator: %zu features overflow", N);
    const size_t nsh = (size_t) (g->n_sets * g->n_sh);
    pt->S = dp__fg_calloc(g, NN, sizeof(double));
    pt->s = dp__fg_calloc(g, N, sizeof(double));
    pt->MM = dp__fg_calloc(g, p * p, sizeof(double));
    pt->J = dp__fg_calloc(g, p, sizeof(int64_t));
    pt->miss = dp__fg_calloc(g, p, sizeof(int64_t));
    pt->blk_miss = dp__fg_calloc(g, p, sizeof(int64_t));
    pt->pilot = dp__fg_calloc(g, N, sizeof(double));
    pt->G = dp__fg_calloc(g, RN, sizeof(double));
    pt->mis = dp__fg_calloc(g, RP, 1);
    pt->shS = dp__fg_calloc(g, nsh * (size_t) f * (size_t) f, sizeof(double));
    pt->sh_rows = dp__fg_calloc(g, nsh, sizeof(int64_t));
    pt->sh_obs = dp__fg_calloc(g, nsh, sizeof(int64_t));
    if (!pt->S || !pt->s || !pt->MM || !pt->J || !pt->miss || !pt->blk_miss || !pt->pilot ||
        !pt->G || !pt->mis || !pt->shS || !pt->sh_rows || !pt->sh_obs)
        return dp_error_set(err, DP_NOMEM,
                            "out of memory allocating the pass-4 accumulator: %zu x %zu "
                            "co-moments (%.2f GB) for %zu columns x %d features",
                            N, N, (double) NN * 8.0 / 1073741824.0, p, (int) f);
    return DP_OK;
}

static uint64_t dp__hash_f64(uint64_t h, const double *x, size_t n) {
    return dp_hash64(x, n * sizeof(double), h);
}

static void dp__fingerprint(dp_featgram *g) {
    const dp_featgram_config *c = &g->cfg;
    uint64_t h = dp_hash64_combine(0x44504647ull, (uint64_t) g->p);
    /* the sketch settings count only when the sketch is on (else they are unused defaults) */
    const bool sk = c->sketch_r > 0;
    int64_t ints[8] = {c->m,
                       c->k,
                       c->block_rows,
                       c->shadow_columns,
                       sk ? c->sketch_D : 0,
                       sk ? c->sketch_m : 0,
                       c->sketch_r,
                       (int64_t) c->seed};
    h = dp_hash64(ints, sizeof ints, h);
    double reals[2] = {c->sigma, c->s};
    h = dp__hash_f64(h, reals, 2);
    for (int64_t i = 0; i < g->p; i++)
        h = dp_hash64_str(g->names[i], h);
    if (c->m > 0) {
        h = dp__hash_f64(h, g->mercer.coef, (size_t) c->m);
        h = dp__hash_f64(h, g->mercer.pilot, (size_t) c->m);
    }
    if (c->k > 0) {
        size_t n = (size_t) g->p * (size_t) c->k;
        h = dp__hash_f64(h, g->rdc_w, n);
        h = dp__hash_f64(h, g->rdc_b, n);
        h = dp__hash_f64(h, g->rdc_pilot, n);
    }
    if (c->sketch_r > 0) {
        size_t n = (size_t) g->p * (size_t) c->sketch_r * (size_t) c->sketch_D;
        h = dp__hash_f64(h, g->sk_w, n);
        h = dp__hash_f64(h, g->sk_b, n);
        h = dp__hash_f64(h, g->sk_a, n);
        h = dp_hash64(g->sk_h, n * sizeof(int32_t), h);
    }
    g->fingerprint = h;
}

dp_status dp_featgram_create(const dp_featgram_config *cfg, int64_t p, const char *const *names,
                             dp_backend *backend, dp_featgram **out, dp_error *err) {
    dp_status st = DP_OK;
    dp_featgram *g = NULL;
    *out = NULL;
    DP_CHECK(dp__check_config(cfg, p, err));
    if (backend == NULL || backend->syrk_tn == NULL || backend->gemm_tn == NULL)
        DP_FAIL(err, DP_INVALID_ARG, "feature accumulator: no backend");
    if (names == NULL)
        DP_FAIL(err, DP_INVALID_ARG, "feature accumulator: no column names");
    g = dp_calloc(1, sizeof *g);
    if (g == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory creating the pass-4 accumulator");
    g->cfg = *cfg;
    g->p = p;
    g->be = backend;
    g->bytes = (int64_t) sizeof *g;
    g->names = dp__fg_calloc(g, (size_t) p, sizeof(char *));
    if (g->names == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for %lld column names", (long long) p);
    for (int64_t i = 0; i < p; i++) {
        if (names[i] == NULL)
            DP_FAIL(err, DP_INVALID_ARG, "feature accumulator: column %lld has no name",
                    (long long) i);
        g->names[i] = dp_strdup(names[i]);
        if (g->names[i] == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory copying column names");
        g->bytes += (int64_t) strlen(names[i]) + 1;
    }
    g->n_sh = DP_MIN(p, (int64_t) cfg->shadow_columns);
    g->n_sets = g->n_sh == 0 ? 0 : (p >= 2 ? 2 : 1);
    g->sh_col = dp__fg_calloc(g, (size_t) g->n_sh, sizeof(int64_t));
    g->sh_partner = dp__fg_calloc(g, (size_t) (g->n_sets * g->n_sh), sizeof(int64_t));
    if (g->sh_col == NULL || g->sh_partner == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for shadow pairs");
    for (int64_t q = 0; q < g->n_sh; q++) {
        /* Evenly spaced and distinct because n_sh <= p. */
        int64_t i = q * p / g->n_sh; /* q < 2^20 and p <= 1e6: no overflow */
        g->sh_col[q] = i;
        g->sh_partner[q] = i;
        if (g->n_sets == 2)
            g->sh_partner[g->n_sh + q] = (i + 1) % p;
    }
    if (cfg->m > 0)
        DP_CHECK(dp_mercer_init(&g->mercer, cfg->m, cfg->sigma, err));
    if (cfg->k > 0) {
        size_t n = (size_t) p * (size_t) cfg->k;
        g->rdc_w = dp__fg_calloc(g, n, sizeof(double));
        g->rdc_b = dp__fg_calloc(g, n, sizeof(double));
        g->rdc_pilot = dp__fg_calloc(g, n, sizeof(double));
        if (g->rdc_w == NULL || g->rdc_b == NULL || g->rdc_pilot == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory for RDC draws");
        for (int64_t i = 0; i < p; i++) {
            double *w = g->rdc_w + i * cfg->k, *b = g->rdc_b + i * cfg->k;
            dp_rdc_draw(cfg->seed, g->names[i], cfg->k, cfg->s, w, b);
            dp_rdc_pilot(w, b, cfg->k, g->rdc_pilot + i * cfg->k);
        }
    }
    g->n_parts = DP_FG_SKETCH + cfg->sketch_r;
    g->part = dp__fg_calloc(g, (size_t) g->n_parts, sizeof *g->part);
    if (g->part == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory creating the pass-4 accumulator");
    DP_CHECK(dp__part_init(g, &g->part[DP_FG_HSIC], cfg->m, err));
    DP_CHECK(dp__part_init(g, &g->part[DP_FG_RDC], cfg->k, err));
    if (cfg->sketch_r > 0) {
        const int32_t D = cfg->sketch_D, ms = cfg->sketch_m, r = cfg->sketch_r;
        size_t n;
        if (!dp_mul_size((size_t) p * (size_t) r, (size_t) D, &n))
            DP_FAIL(err, DP_LIMIT, "HSIC sketch draws overflow");
        g->sk_w = dp__fg_calloc(g, n, sizeof(double));
        g->sk_b = dp__fg_calloc(g, n, sizeof(double));
        g->sk_a = dp__fg_calloc(g, n, sizeof(double));
        g->sk_h = dp__fg_calloc(g, n, sizeof(int32_t));
        if (g->sk_w == NULL || g->sk_b == NULL || g->sk_a == NULL || g->sk_h == NULL)
            DP_FAIL(err, DP_NOMEM,
                    "out of memory for the HSIC sketch draws (%lld columns x %d repetitions x "
                    "%d features)",
                    (long long) p, (int) r, (int) D);
        for (int32_t q = 0; q < r; q++) {
            dp__fg_part *pt = &g->part[DP_FG_SKETCH + q];
            DP_CHECK(dp__part_init(g, pt, ms, err));
            for (int64_t i = 0; i < p; i++) {
                const size_t off = ((size_t) i * (size_t) r + (size_t) q) * (size_t) D;
                dp_sketch_draw(cfg->seed, g->names[i], q, D, ms, cfg->sigma, g->sk_w + off,
                               g->sk_b + off, g->sk_h + off, g->sk_a + off);
                dp_sketch_pilot(D, ms, g->sk_w + off, g->sk_b + off, g->sk_h + off, g->sk_a + off,
                                pt->pilot + i * ms);
            }
        }
    }
    if (cfg->m > 0)
        for (int64_t i = 0; i < p; i++)
            memcpy(g->part[DP_FG_HSIC].pilot + i * cfg->m, g->mercer.pilot,
                   (size_t) cfg->m * sizeof(double));
    if (cfg->k > 0)
        memcpy(g->part[DP_FG_RDC].pilot, g->rdc_pilot,
               (size_t) p * (size_t) cfg->k * sizeof(double));
    dp__fingerprint(g);
    *out = g;
    g = NULL;
cleanup:
    dp_featgram_free(g);
    return st;
}

/* ---- accumulation -------------------------------------------------------------------------- */

static dp_status dp__ensure_missing_buffers(dp_featgram *g, dp__fg_part *pt, dp_error *err) {
    if (pt->T != NULL)
        return DP_OK;
    const size_t p = (size_t) g->p, N = (size_t) pt->N;
    pt->T = dp__fg_calloc(g, N * p, sizeof(double));
    pt->Ttmp = dp__fg_calloc(g, N * p, sizeof(double));
    pt->MMtmp = dp__fg_calloc(g, p * p, sizeof(double));
    pt->Mi = dp__fg_calloc(g, (size_t) g->cfg.block_rows * p, sizeof(double));
    if (pt->T == NULL || pt->Ttmp == NULL || pt->MMtmp == NULL || pt->Mi == NULL)
        return dp_error_set(err, DP_NOMEM,
                            "out of memory for the pass-4 missing-value sums (%zu x %zu)", N, p);
    return DP_OK;
}

/* Push the r staged rows of one part. */
static dp_status dp__flush_part(dp_featgram *g, dp__fg_part *pt, int64_t r, dp_error *err) {
    const int64_t R = g->cfg.block_rows, N = pt->N, p = g->p, f = pt->f;
    dp_backend *be = g->be;
    DP_TRY(be->syrk_tn(be, N, r, 1.0, pt->G, R, 1.0, pt->S, N, err));
    for (int64_t a = 0; a < N; a++) {
        const double *col = pt->G + a * R;
        double acc = 0;
        for (int64_t t = 0; t < r; t++)
            acc += col[t];
        pt->s[a] += acc;
    }
    int64_t nJ = 0;
    for (int64_t i = 0; i < p; i++) {
        if (pt->blk_miss[i] > 0) {
            pt->J[nJ++] = i;
            pt->miss[i] += pt->blk_miss[i];
        }
    }
    if (nJ > 0) {
        DP_TRY(dp__ensure_missing_buffers(g, pt, err));
        for (int64_t c = 0; c < nJ; c++) {
            const uint8_t *mk = pt->mis + pt->J[c] * R;
            double *mi = pt->Mi + c * R;
            for (int64_t t = 0; t < r; t++)
                mi[t] = mk[t] ? 1.0 : 0.0;
        }
        DP_TRY(be->gemm_tn(be, N, nJ, r, 1.0, pt->G, R, pt->Mi, R, 0.0, pt->Ttmp, N, err));
        for (int64_t c = 0; c < nJ; c++) {
            double *dst = pt->T + pt->J[c] * N;
            const double *src = pt->Ttmp + c * N;
            for (int64_t a = 0; a < N; a++)
                dst[a] += src[a];
        }
        DP_TRY(be->syrk_tn(be, nJ, r, 1.0, pt->Mi, R, 0.0, pt->MMtmp, nJ, err));
        for (int64_t c2 = 0; c2 < nJ; c2++)
            for (int64_t c1 = 0; c1 <= c2; c1++)
                pt->MM[pt->J[c1] + pt->J[c2] * p] += pt->MMtmp[c1 + c2 * nJ];
    }
    if (g->n_sets > 0 && r >= 3) {
        const int64_t L = r / 3;
        for (int64_t q = 0; q < g->n_sets * g->n_sh; q++) {
            const int64_t i = g->sh_col[q % g->n_sh], j = g->sh_partner[q];
            double *X = pt->shS + q * f * f;
            const double *Gi = pt->G + i * f * R, *Gj = pt->G + j * f * R;
            /* row t of i with row (t + L) mod r of j, in two contiguous pieces */
            DP_TRY(be->gemm_tn(be, f, f, r - L, 1.0, Gi, R, Gj + L, R, 1.0, X, f, err));
            DP_TRY(be->gemm_tn(be, f, f, L, 1.0, Gi + (r - L), R, Gj, R, 1.0, X, f, err));
            const uint8_t *mi = pt->mis + i * R, *mj = pt->mis + j * R;
            int64_t obs = 0;
            for (int64_t t = 0; t < r; t++) {
                int64_t tj = t + L < r ? t + L : t + L - r;
                obs += (!mi[t] && !mj[tj]) ? 1 : 0;
            }
            pt->sh_rows[q] += r;
            pt->sh_obs[q] += obs;
        }
    }
    memset(pt->blk_miss, 0, (size_t) p * sizeof(int64_t));
    return DP_OK;
}

dp_status dp_featgram_flush(dp_featgram *g, dp_error *err) {
    if (g->fill == 0)
        return DP_OK;
    for (int32_t i = 0; i < g->n_parts; i++)
        if (g->part[i].f > 0)
            DP_TRY(dp__flush_part(g, &g->part[i], g->fill, err));
    g->fill = 0;
    return DP_OK;
}

dp_status dp_featgram_update(dp_featgram *g, int64_t n_rows, const double *z, int64_t ldz,
                             const double *u, int64_t ldu, dp_error *err) {
    const int32_t m = g->cfg.m, k = g->cfg.k, sr = g->cfg.sketch_r;
    const int64_t R = g->cfg.block_rows, p = g->p;
    if (n_rows < 0)
        return dp_error_set(err, DP_INVALID_ARG, "feature accumulator: %lld rows",
                            (long long) n_rows);
    if (n_rows == 0)
        return DP_OK;
    if ((m > 0 || sr > 0) && (z == NULL || (p > 1 && ldz < n_rows)))
        return dp_error_set(err, DP_INVALID_ARG,
                            "feature accumulator: normal scores missing or ldz = %lld < %lld rows",
                            (long long) ldz, (long long) n_rows);
    if (k > 0 && (u == NULL || (p > 1 && ldu < n_rows)))
        return dp_error_set(err, DP_INVALID_ARG,
                            "feature accumulator: copula values missing or ldu = %lld < %lld rows",
                            (long long) ldu, (long long) n_rows);
    if (g->n_rows > INT64_MAX - n_rows)
        return dp_error_set(err, DP_LIMIT, "feature accumulator: row count overflows");
    int64_t done = 0;
    while (done < n_rows) {
        const int64_t take = DP_MIN(R - g->fill, n_rows - done);
        if (m > 0) {
            dp__fg_part *pt = &g->part[DP_FG_HSIC];
            for (int64_t i = 0; i < p; i++) {
                const double *zi = z + i * ldz + done;
                pt->blk_miss[i] += dp_mercer_fill(&g->mercer, zi, take, g->mercer.pilot,
                                                  pt->G + g->fill + i * m * R, R);
                uint8_t *mk = pt->mis + i * R + g->fill;
                for (int64_t t = 0; t < take; t++)
                    mk[t] = isnan(zi[t]) ? 1 : 0;
            }
        }
        for (int32_t q = 0; q < sr; q++) {
            dp__fg_part *pt = &g->part[DP_FG_SKETCH + q];
            const int32_t D = g->cfg.sketch_D, ms = g->cfg.sketch_m;
            for (int64_t i = 0; i < p; i++) {
                const double *zi = z + i * ldz + done;
                const size_t off = ((size_t) i * (size_t) sr + (size_t) q) * (size_t) D;
                const double *pl = pt->pilot + i * ms;
                const dp_sketch_map map = {
                    D, ms, g->sk_w + off, g->sk_b + off, g->sk_h + off, g->sk_a + off, pl};
                pt->blk_miss[i] +=
                    dp_sketch_fill(&map, zi, take, pl, pt->G + g->fill + i * ms * R, R);
                uint8_t *mk = pt->mis + i * R + g->fill;
                for (int64_t t = 0; t < take; t++)
                    mk[t] = isnan(zi[t]) ? 1 : 0;
            }
        }
        if (k > 0) {
            dp__fg_part *pt = &g->part[DP_FG_RDC];
            for (int64_t i = 0; i < p; i++) {
                const double *ui = u + i * ldu + done;
                const double *w = g->rdc_w + i * k, *b = g->rdc_b + i * k;
                const double *pl = g->rdc_pilot + i * k;
                pt->blk_miss[i] +=
                    dp_rdc_fill(w, b, pl, k, ui, take, pl, pt->G + g->fill + i * k * R, R);
                uint8_t *mk = pt->mis + i * R + g->fill;
                for (int64_t t = 0; t < take; t++)
                    mk[t] = isnan(ui[t]) ? 1 : 0;
            }
        }
        g->fill += take;
        g->n_rows += take;
        done += take;
        if (g->fill == R)
            DP_TRY(dp_featgram_flush(g, err));
    }
    return DP_OK;
}

dp_status dp_featgram_merge(dp_featgram *dst, dp_featgram *src, dp_error *err) {
    if (dst == src)
        return dp_error_set(err, DP_INVALID_ARG, "cannot merge a pass-4 accumulator into itself");
    if (dst->fingerprint != src->fingerprint || dst->p != src->p)
        return dp_error_set(err, DP_STATE,
                            "cannot merge pass-4 accumulators built for different columns or "
                            "settings (%lld vs %lld columns)",
                            (long long) dst->p, (long long) src->p);
    if (dst->n_rows > INT64_MAX - src->n_rows)
        return dp_error_set(err, DP_LIMIT, "feature accumulator: row count overflows");
    DP_TRY(dp_featgram_flush(dst, err));
    DP_TRY(dp_featgram_flush(src, err));
    const int64_t p = dst->p;
    for (int32_t pi = 0; pi < dst->n_parts; pi++) {
        dp__fg_part *a = &dst->part[pi], *b = &src->part[pi];
        if (a->f == 0)
            continue;
        const int64_t N = a->N;
        for (int64_t c = 0; c < N; c++)
            for (int64_t r = 0; r <= c; r++)
                a->S[r + c * N] += b->S[r + c * N];
        for (int64_t x = 0; x < N; x++)
            a->s[x] += b->s[x];
        if (b->T != NULL) {
            DP_TRY(dp__ensure_missing_buffers(dst, a, err));
            for (int64_t x = 0; x < N * p; x++)
                a->T[x] += b->T[x];
        }
        for (int64_t c = 0; c < p; c++) {
            for (int64_t r = 0; r <= c; r++)
                a->MM[r + c * p] += b->MM[r + c * p];
            a->miss[c] += b->miss[c];
        }
        const int64_t nq = dst->n_sets * dst->n_sh;
        for (int64_t x = 0; x < nq * a->f * a->f; x++)
            a->shS[x] += b->shS[x];
        for (int64_t q = 0; q < nq; q++) {
            a->sh_rows[q] += b->sh_rows[q];
            a->sh_obs[q] += b->sh_obs[q];
        }
    }
    dst->n_rows += src->n_rows;
    return DP_OK;
}

/* ---- serialisation ------------------------------------------------------------------------- */

static void dp__write_upper(dp_serial_writer *w, const double *A, int64_t n) {
    for (int64_t c = 0; c < n; c++)
        dp_sw_f64_array(w, A + c * n, (size_t) c + 1);
}

static bool dp__read_upper(dp_serial_reader *r, double *A, int64_t n) {
    for (int64_t c = 0; c < n; c++)
        if (!dp_sr_f64_array(r, A + c * n, (size_t) c + 1))
            return false;
    return true;
}

dp_status dp_featgram_serialize(const dp_featgram *g, dp_buf *out, dp_error *err) {
    dp_serial_writer w;
    const dp_featgram_config *c = &g->cfg;
    dp_sw_begin(&w, out, DP__FG_MAGIC, DP__FG_VERSION);
    dp_sw_u32(&w, (uint32_t) c->m);
    dp_sw_u32(&w, (uint32_t) c->k);
    dp_sw_f64(&w, c->sigma);
    dp_sw_f64(&w, c->s);
    dp_sw_u64(&w, c->seed);
    dp_sw_u32(&w, (uint32_t) c->block_rows);
    dp_sw_u32(&w, (uint32_t) c->shadow_columns);
    dp_sw_u32(&w, (uint32_t) c->sketch_D);
    dp_sw_u32(&w, (uint32_t) c->sketch_m);
    dp_sw_u32(&w, (uint32_t) c->sketch_r);
    dp_sw_i64(&w, g->p);
    for (int64_t i = 0; i < g->p; i++)
        dp_sw_str(&w, g->names[i]);
    dp_sw_u64(&w, g->fingerprint);
    dp_sw_i64(&w, g->n_rows);
    dp_sw_i64(&w, g->fill);
    const int64_t p = g->p, R = c->block_rows, nq = g->n_sets * g->n_sh;
    for (int32_t pi = 0; pi < g->n_parts; pi++) {
        const dp__fg_part *pt = &g->part[pi];
        if (pt->f == 0)
            continue;
        dp__write_upper(&w, pt->S, pt->N);
        dp_sw_f64_array(&w, pt->s, (size_t) pt->N);
        dp_sw_u8(&w, pt->T != NULL);
        if (pt->T != NULL)
            dp_sw_f64_array(&w, pt->T, (size_t) (pt->N * p));
        dp__write_upper(&w, pt->MM, p);
        dp_sw_i64_array(&w, pt->miss, (size_t) p);
        dp_sw_f64_array(&w, pt->shS, (size_t) (nq * pt->f * pt->f));
        dp_sw_i64_array(&w, pt->sh_rows, (size_t) nq);
        dp_sw_i64_array(&w, pt->sh_obs, (size_t) nq);
        /* pending rows of the staging block */
        for (int64_t a = 0; a < pt->N; a++)
            dp_sw_f64_array(&w, pt->G + a * R, (size_t) g->fill);
        for (int64_t i = 0; i < p; i++)
            dp_sw_bytes(&w, pt->mis + i * R, (size_t) g->fill);
        dp_sw_i64_array(&w, pt->blk_miss, (size_t) p);
    }
    return dp_sw_end(&w, err);
}

/* Bytes the per-part payload must have, to check a record before allocating for it. */
static bool dp__part_payload(int64_t p, int64_t f, int64_t fill, int64_t nq, int64_t *bytes) {
    int64_t N, t, acc = 0;
    if (f == 0) {
        *bytes = 0;
        return true;
    }
    if (!dp_mul_i64(p, f, &N) || !dp_mul_i64(N, N + 1, &t) || !dp_add_i64(acc, t / 2, &acc))
        return false;
    if (!dp_add_i64(acc, N, &acc) || !dp_mul_i64(p, p + 1, &t) || !dp_add_i64(acc, t / 2, &acc))
        return false;
    if (!dp_add_i64(acc, p, &acc) || !dp_mul_i64(nq, f * f + 2, &t) || !dp_add_i64(acc, t, &acc))
        return false;
    if (!dp_mul_i64(N, fill, &t) || !dp_add_i64(acc, t, &acc) || !dp_add_i64(acc, p, &acc))
        return false;
    if (!dp_mul_i64(acc, 8, &acc) || !dp_mul_i64(p, fill, &t) || !dp_add_i64(acc, t + 1, &acc))
        return false;
    *bytes = acc; /* plus N * p doubles when the T flag is set */
    return true;
}

dp_status dp_featgram_deserialize(const void *data, size_t len, dp_backend *backend,
                                  dp_featgram **out, size_t *consumed, dp_error *err) {
    dp_status st = DP_OK;
    dp_featgram *g = NULL;
    char **names = NULL;
    int64_t p = 0;
    dp_serial_reader r;
    *out = NULL;
    DP_CHECK(dp_sr_begin(&r, data, len, DP__FG_MAGIC, DP__FG_VERSION, "pass-4 accumulator",
                         consumed, err));
    dp_featgram_config c;
    memset(&c, 0, sizeof c);
    uint32_t m = 0, k = 0, rows = 0, shadow = 0, sD = 0, sm = 0, sr = 0;
    uint64_t fp = 0;
    int64_t n_rows = 0, fill = 0;
    bool ok = dp_sr_u32(&r, &m) && dp_sr_u32(&r, &k) && dp_sr_f64(&r, &c.sigma) &&
              dp_sr_f64(&r, &c.s) && dp_sr_u64(&r, &c.seed) && dp_sr_u32(&r, &rows) &&
              dp_sr_u32(&r, &shadow) && dp_sr_u32(&r, &sD) && dp_sr_u32(&r, &sm) &&
              dp_sr_u32(&r, &sr) && dp_sr_i64(&r, &p);
    if (!ok)
        DP_FAIL(err, DP_CORRUPT, "pass-4 accumulator record: truncated header");
    if (m > DP_FEATURES_MAX || k > DP_FEATURES_MAX || rows > DP__FG_BLOCK_ROWS_MAX ||
        shadow > DP__FG_SHADOW_MAX || p < 1 || p > DP_FEATGRAM_MAX_COLUMNS ||
        sD > DP_SKETCH_D_MAX || sm > DP_SKETCH_M_MAX || sr > DP_SKETCH_R_MAX)
        DP_FAIL(err, DP_CORRUPT,
                "pass-4 accumulator record: m = %u, k = %u, block rows %u, shadows %u, "
                "%lld columns, sketch D = %u, m = %u, r = %u out of range",
                m, k, rows, shadow, (long long) p, sD, sm, sr);
    c.m = (int32_t) m;
    c.k = (int32_t) k;
    c.sketch_D = (int32_t) sD;
    c.sketch_m = (int32_t) sm;
    c.sketch_r = (int32_t) sr;
    c.block_rows = (int32_t) rows;
    c.shadow_columns = (int32_t) shadow;
    /* every name takes at least its 4-byte length */
    if ((uint64_t) p > dp_sr_remaining(&r) / 4)
        DP_FAIL(err, DP_CORRUPT, "pass-4 accumulator record: %lld names do not fit in %zu bytes",
                (long long) p, dp_sr_remaining(&r));
    names = dp_calloc((size_t) p, sizeof(char *));
    if (names == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory reading %lld column names", (long long) p);
    for (int64_t i = 0; i < p; i++) {
        const char *s;
        size_t n;
        if (!dp_sr_str(&r, &s, &n) || n > DP__FG_NAME_MAX)
            DP_FAIL(err, DP_CORRUPT, "pass-4 accumulator record: bad name of column %lld",
                    (long long) i);
        names[i] = dp_strndup(s, n);
        if (names[i] == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory reading column names");
    }
    if (!dp_sr_u64(&r, &fp) || !dp_sr_i64(&r, &n_rows) || !dp_sr_i64(&r, &fill) || n_rows < 0 ||
        fill < 0 || fill >= (int64_t) rows || fill > n_rows)
        DP_FAIL(err, DP_CORRUPT, "pass-4 accumulator record: bad row counts %lld / %lld",
                (long long) n_rows, (long long) fill);
    {
        /* Check the remaining payload can hold every part before allocating (N^2 doubles). */
        int64_t n_sh = DP_MIN(p, (int64_t) shadow);
        int64_t nq = n_sh == 0 ? 0 : (p >= 2 ? 2 : 1) * n_sh;
        int64_t need_h, need_r, need_s = 0, need, draws = 0;
        ok = dp__part_payload(p, m, fill, nq, &need_h) &&
             dp__part_payload(p, k, fill, nq, &need_r) && dp_add_i64(need_h, need_r, &need);
        if (ok && sr > 0)
            ok = dp__part_payload(p, sm, fill, nq, &need_s) && dp_mul_i64(need_s, sr, &need_s) &&
                 dp_add_i64(need, need_s, &need) && dp_mul_i64(p, (int64_t) sr * sD, &draws) &&
                 dp_mul_i64(draws, 3 * 8 + 4, &draws);
        if (!ok || (uint64_t) need > dp_sr_remaining(&r))
            DP_FAIL(err, DP_CORRUPT,
                    "pass-4 accumulator record: %zu payload bytes left, the stated sizes "
                    "(%lld columns, m = %u, k = %u, sketch m = %u, r = %u) need more",
                    dp_sr_remaining(&r), (long long) p, m, k, sm, sr);
        /* The sketch draws are re-derived, not stored: a short record could otherwise ask for
         * up to 1e6 x 1024 x 65536 of them. Real settings keep them far below the co-moments. */
        if (draws > DP__FG_RECORD_DRAWS_MAX && draws / 64 > need)
            DP_FAIL(err, DP_LIMIT,
                    "pass-4 accumulator record: %lld bytes of sketch draws (%lld columns x r = "
                    "%u x D = %u) for %lld bytes of co-moments is out of proportion",
                    (long long) draws, (long long) p, sr, sD, (long long) need);
    }
    st = dp_featgram_create(&c, p, (const char *const *) names, backend, &g, err);
    if (st == DP_INVALID_ARG) {
        dp_error_prefix(err, "pass-4 accumulator record: ");
        st = DP_CORRUPT;
        if (err != NULL)
            err->status = st;
    }
    if (st != DP_OK)
        goto cleanup;
    if (g->fingerprint != fp)
        DP_FAIL(err, DP_CORRUPT,
                "pass-4 accumulator record: feature fingerprint %016llx differs from the "
                "re-derived %016llx (record from another dpipe version or corrupt)",
                (unsigned long long) fp, (unsigned long long) g->fingerprint);
    g->n_rows = n_rows;
    g->fill = fill;
    const int64_t R = c.block_rows, nq = g->n_sets * g->n_sh;
    for (int32_t pi = 0; pi < g->n_parts; pi++) {
        dp__fg_part *pt = &g->part[pi];
        if (pt->f == 0)
            continue;
        uint8_t hasT = 0;
        ok = dp__read_upper(&r, pt->S, pt->N) && dp_sr_f64_array(&r, pt->s, (size_t) pt->N) &&
             dp_sr_u8(&r, &hasT) && hasT <= 1;
        if (!ok)
            DP_FAIL(err, DP_CORRUPT, "pass-4 accumulator record: truncated co-moments");
        if (hasT) {
            if ((uint64_t) (pt->N * p) > dp_sr_remaining(&r) / 8)
                DP_FAIL(err, DP_CORRUPT, "pass-4 accumulator record: truncated missing sums");
            DP_CHECK(dp__ensure_missing_buffers(g, pt, err));
            if (!dp_sr_f64_array(&r, pt->T, (size_t) (pt->N * p)))
                DP_FAIL(err, DP_CORRUPT, "pass-4 accumulator record: truncated missing sums");
        }
        ok = dp__read_upper(&r, pt->MM, p) && dp_sr_i64_array(&r, pt->miss, (size_t) p) &&
             dp_sr_f64_array(&r, pt->shS, (size_t) (nq * pt->f * pt->f)) &&
             dp_sr_i64_array(&r, pt->sh_rows, (size_t) nq) &&
             dp_sr_i64_array(&r, pt->sh_obs, (size_t) nq);
        for (int64_t a = 0; ok && a < pt->N; a++)
            ok = dp_sr_f64_array(&r, pt->G + a * R, (size_t) fill);
        for (int64_t i = 0; ok && i < p; i++)
            ok = dp_sr_bytes(&r, pt->mis + i * R, (size_t) fill);
        ok = ok && dp_sr_i64_array(&r, pt->blk_miss, (size_t) p);
        if (!ok)
            DP_FAIL(err, DP_CORRUPT, "pass-4 accumulator record: truncated part %d", pi);
        for (int64_t i = 0; i < p; i++)
            if (pt->miss[i] < 0 || pt->miss[i] > n_rows || pt->blk_miss[i] < 0 ||
                pt->blk_miss[i] > fill)
                DP_FAIL(err, DP_CORRUPT,
                        "pass-4 accumulator record: column %lld has %lld missing of %lld rows",
                        (long long) i, (long long) pt->miss[i], (long long) n_rows);
    }
    DP_CHECK(dp_sr_end(&r, err));
    *out = g;
    g = NULL;
cleanup:
    if (names != NULL)
        for (int64_t i = 0; i < p; i++)
            dp_free(names[i]);
    dp_free(names);
    dp_featgram_free(g);
    return st;
}

/* ---- raw state (device backends) ----------------------------------------------------------- */

dp_status dp__featgram_raw_get(dp_featgram *g, bool with_missing, dp__featgram_raw *out,
                               dp_error *err) {
    memset(out, 0, sizeof *out);
    /* The raw view carries the Mercer and RDC parts only: a device copy of an accumulator with
     * sketch parts would leave them empty. */
    if (g->cfg.sketch_r > 0)
        return dp_error_set(err, DP_UNSUPPORTED,
                            "pass 4 on the GPU: the HSIC sketch (--hsic-estimator sketch) is "
                            "computed on the CPU only; run it without --gpu");
    out->n_rows = g->n_rows;
    out->fill = g->fill;
    out->n_sets = g->n_sets;
    out->n_shadow = g->n_sh;
    out->shadow_col = g->sh_col;
    out->shadow_partner = g->sh_partner;
    for (int pi = 0; pi < 2; pi++) {
        dp__fg_part *pt = &g->part[pi];
        dp__featgram_raw_part *o = &out->part[pi];
        if (pt->f == 0)
            continue;
        if (with_missing)
            DP_TRY(dp__ensure_missing_buffers(g, pt, err));
        o->S = pt->S;
        o->s = pt->s;
        o->T = pt->T;
        o->MM = pt->MM;
        o->miss = pt->miss;
        o->shS = pt->shS;
        o->sh_rows = pt->sh_rows;
        o->sh_obs = pt->sh_obs;
        o->G = pt->G;
        o->mis = pt->mis;
        o->blk_miss = pt->blk_miss;
    }
    return DP_OK;
}

dp_status dp__featgram_raw_commit(dp_featgram *g, const dp__featgram_raw *in, dp_error *err) {
    const int64_t p = g->p, R = g->cfg.block_rows;
    if (in->n_rows < 0 || in->fill < 0 || in->fill >= R || in->fill > in->n_rows)
        return dp_error_set(err, DP_CORRUPT, "pass-4 state: bad row counts %lld / %lld",
                            (long long) in->n_rows, (long long) in->fill);
    for (int pi = 0; pi < 2; pi++) {
        const dp__fg_part *pt = &g->part[pi];
        for (int64_t i = 0; pt->f > 0 && i < p; i++)
            if (pt->miss[i] < 0 || pt->miss[i] > in->n_rows || pt->blk_miss[i] < 0 ||
                pt->blk_miss[i] > in->fill)
                return dp_error_set(err, DP_CORRUPT,
                                    "pass-4 state: column %lld has %lld missing of %lld rows",
                                    (long long) i, (long long) pt->miss[i], (long long) in->n_rows);
    }
    g->n_rows = in->n_rows;
    g->fill = in->fill;
    return DP_OK;
}

/* ---- read access --------------------------------------------------------------------------- */

int64_t dp_featgram_columns(const dp_featgram *g) {
    return g->p;
}
int64_t dp_featgram_rows(const dp_featgram *g) {
    return g->n_rows;
}
const dp_featgram_config *dp_featgram_get_config(const dp_featgram *g) {
    return &g->cfg;
}
const char *dp_featgram_column_name(const dp_featgram *g, int64_t i) {
    return i >= 0 && i < g->p ? g->names[i] : NULL;
}
const dp_mercer *dp_featgram_mercer(const dp_featgram *g) {
    return g->cfg.m > 0 ? &g->mercer : NULL;
}
bool dp_featgram_rdc_draws(const dp_featgram *g, int64_t i, const double **w, const double **b,
                           const double **pilot) {
    if (g->cfg.k == 0 || i < 0 || i >= g->p)
        return false;
    *w = g->rdc_w + i * g->cfg.k;
    *b = g->rdc_b + i * g->cfg.k;
    *pilot = g->rdc_pilot + i * g->cfg.k;
    return true;
}
bool dp_featgram_sketch_map(const dp_featgram *g, int64_t i, int32_t rep, dp_sketch_map *map) {
    const dp_featgram_config *c = &g->cfg;
    if (c->sketch_r == 0 || i < 0 || i >= g->p || rep < 0 || rep >= c->sketch_r)
        return false;
    const size_t off = ((size_t) i * (size_t) c->sketch_r + (size_t) rep) * (size_t) c->sketch_D;
    map->D = c->sketch_D;
    map->m = c->sketch_m;
    map->w = g->sk_w + off;
    map->b = g->sk_b + off;
    map->h = g->sk_h + off;
    map->a = g->sk_a + off;
    map->pilot = g->part[DP_FG_SKETCH + rep].pilot + i * c->sketch_m;
    return true;
}
int64_t dp_featgram_sizeof(const dp_featgram *g) {
    return g->bytes;
}

static dp_status dp__view(const dp_featgram *g, int32_t part, dp_featgram_view *v, dp_error *err) {
    if (g->fill != 0)
        return dp_error_set(err, DP_STATE,
                            "pass-4 accumulator: %lld rows pending (call dp_featgram_flush)",
                            (long long) g->fill);
    const dp__fg_part *pt = &g->part[part];
    memset(v, 0, sizeof *v);
    v->p = g->p;
    v->f = pt->f;
    v->N = pt->N;
    v->n = g->n_rows;
    v->S = pt->S;
    v->s = pt->s;
    v->T = pt->T;
    v->MM = pt->MM;
    v->miss = pt->miss;
    v->n_sets = g->n_sets;
    v->n_shadow = g->n_sh;
    v->shadow_col = g->sh_col;
    v->shadow_partner = g->sh_partner;
    v->shadow_S = pt->shS;
    v->shadow_rows = pt->sh_rows;
    v->shadow_obs = pt->sh_obs;
    return DP_OK;
}

dp_status dp_featgram_view_get(const dp_featgram *g, dp_featgram_part part, dp_featgram_view *v,
                               dp_error *err) {
    memset(v, 0, sizeof *v);
    if (part == DP_FG_SKETCH)
        return dp_featgram_sketch_view(g, 0, v, err);
    if ((int) part < 0 || (int) part > 1 || g->part[part].f == 0)
        return dp_error_set(err, DP_NOT_FOUND, "pass-4 accumulator: the %s part is disabled",
                            part == DP_FG_HSIC ? "Mercer HSIC" : "RDC");
    return dp__view(g, (int32_t) part, v, err);
}

dp_status dp_featgram_sketch_view(const dp_featgram *g, int32_t rep, dp_featgram_view *v,
                                  dp_error *err) {
    memset(v, 0, sizeof *v);
    if (g->cfg.sketch_r == 0)
        return dp_error_set(err, DP_NOT_FOUND,
                            "pass-4 accumulator: the HSIC sketch part is disabled (r = 0)");
    if (rep < 0 || rep >= g->cfg.sketch_r)
        return dp_error_set(err, DP_NOT_FOUND,
                            "pass-4 accumulator: no HSIC sketch repetition %d (r = %d)", (int) rep,
                            (int) g->cfg.sketch_r);
    return dp__view(g, DP_FG_SKETCH + rep, v, err);
}

static void dp__fill_nan(double *out, int64_t n) {
    for (int64_t x = 0; x < n; x++)
        out[x] = NAN;
}

int64_t dp_featgram_cov_block(const dp_featgram_view *v, int64_t i, int64_t j,
                              dp_featgram_missing mode, double *out) {
    const int64_t f = v->f, N = v->N, p = v->p;
    const double *si = v->s + i * f, *sj = v->s + j * f;
    double ai[DP_FEATURES_MAX], aj[DP_FEATURES_MAX];
    int64_t n_use;
    if (mode == DP_FG_MISSING_IMPUTE) {
        n_use = v->n;
    } else if (i == j) {
        n_use = v->n - v->miss[i];
    } else {
        int64_t lo = DP_MIN(i, j), hi = DP_MAX(i, j);
        n_use = v->n - v->miss[i] - v->miss[j] + (int64_t) v->MM[lo + hi * p];
    }
    if (n_use < 2) {
        dp__fill_nan(out, f * f);
        return n_use;
    }
    const double inv = 1.0 / (double) n_use;
    const bool pair_means = mode == DP_FG_MISSING_PAIRWISE && i != j && v->T != NULL;
    for (int64_t a = 0; a < f; a++) {
        ai[a] = (pair_means ? si[a] - v->T[i * f + a + j * N] : si[a]) * inv;
        aj[a] = (pair_means ? sj[a] - v->T[j * f + a + i * N] : sj[a]) * inv;
    }
    for (int64_t b = 0; b < f; b++) {
        const int64_t cb = j * f + b;
        for (int64_t a = 0; a < f; a++) {
            const int64_t ra = i * f + a;
            double sv = ra <= cb ? v->S[ra + cb * N] : v->S[cb + ra * N];
            out[a + b * f] = sv * inv - ai[a] * aj[b];
        }
    }
    return n_use;
}

int64_t dp_featgram_shadow_cov(const dp_featgram_view *v, int64_t q, dp_featgram_missing mode,
                               double *out) {
    const int64_t f = v->f;
    const int64_t i = v->shadow_col[q % v->n_shadow], j = v->shadow_partner[q];
    const double *X = v->shadow_S + q * f * f;
    int64_t n_use, ni, nj;
    if (mode == DP_FG_MISSING_IMPUTE) {
        n_use = v->shadow_rows[q];
        ni = nj = v->n;
    } else {
        /* The means over the shadow's own rows are not kept; the columns' means differ from
         * them by O(n^-1/2), i.e. O(1/n) in the covariance - far below the null level itself. */
        n_use = v->shadow_obs[q];
        ni = v->n - v->miss[i];
        nj = v->n - v->miss[j];
    }
    if (n_use < 2 || ni < 1 || nj < 1) {
        dp__fill_nan(out, f * f);
        return n_use;
    }
    const double inv = 1.0 / (double) n_use;
    const double *si = v->s + i * f, *sj = v->s + j * f;
    for (int64_t b = 0; b < f; b++)
        for (int64_t a = 0; a < f; a++)
            out[a + b * f] = X[a + b * f] * inv - (si[a] / (double) ni) * (sj[b] / (double) nj);
    return n_use;
}
