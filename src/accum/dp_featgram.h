/* dp_featgram.h: the Pass-4 accumulator - co-moments of per-column feature blocks in one scan.
 *
 * For p columns it accumulates, in float64, independent "parts" (no cross terms between parts):
 *   HSIC part:   m Mercer features of each column's normal score z (N = p*m features);
 *   RDC part:    k random sine features of each column's uniform copula u (N = p*k);
 *   sketch parts (--hsic-estimator sketch): sketch_r repetitions, each with the sketch_m
 *                CountSketch buckets of sketch_D random Fourier features of z per column
 *                (N = p*sketch_m per repetition; draws keyed by (seed, column name, repetition)).
 *                All repetitions come from the same rows in the same scan; every repetition
 *                is a part of its own (r (p m)^2 co-moments, not (r p m)^2).
 * A part whose width is 0 (weight 0 in S = w_hsic HSIC + w_rdc RDC, or the other HSIC
 * estimator) is not allocated and not computed. Features are defined in
 * transform/dp_nlfeatures.h.
 *
 * Arithmetic. Every feature g is shifted by its pilot (the analytic mean of the feature, a
 * constant of the map), so a missing value contributes exactly 0 and the shifted sums stay small
 * (no cancellation when the centred covariance is formed; METHODS §1.4). Per part:
 *   S  (N x N, upper triangle) = sum_t g_t g_t^T           (backend syrk_tn per row block)
 *   s  (N)                     = sum_t g_t
 *   miss (p), MM (p x p upper) = rows with column i missing / with both i and j missing
 *   T  (N x p)                 = sum_t g_t[a] * [column j missing at t]   (only blocks that have
 *                                missing values; allocated on the first such block)
 * From these, dp_featgram_cov_block gives the centred covariance block C_ij (f x f) of any pair:
 *   DP_FG_MISSING_PAIRWISE (default): C_ij over the rows where both columns are observed, with
 *     the means taken over those same rows (n_ij = n - miss_i - miss_j + MM_ij); the diagonal
 *     block C_ii over the rows where column i is observed. Exact, not approximate.
 *   DP_FG_MISSING_IMPUTE: the covariance over all n rows of the imputed features (a missing row
 *     of column i holds i's pilot) - what the oracle computes when given those imputed features;
 *     it shrinks dependence by about the observed fractions.
 * With complete data both are the same two-pass covariance (1/n normalisation).
 *
 * Row blocks. Rows are staged into blocks of block_rows rows counted from the first row this
 * accumulator receives (the ordinal of the rows used, not the global row index: with a row
 * sample of 1e6 out of 1e8 rows, global-index blocks would hold a handful of rows each). Each full
 * block is pushed through syrk as one call, so the bits depend on the sequence of rows, never on
 * how they were cut into batches. The last partial block is pushed by dp_featgram_flush.
 *
 * Null level ("shadow" pairs). In every block, for up to shadow_columns columns i (evenly spaced),
 * the features of i at row t are paired with those of a partner column at row (t + L) mod r,
 * L = floor(r/3), r = rows in the block (blocks with r < 3 are skipped): set 0 pairs i with
 * itself, set 1 with column (i + 1) mod p. Under exchangeable rows the shifted partner is
 * independent of i, so the measures computed on these blocks are draws from the measure's null
 * distribution at the working n and with the real marginals. The shift is cyclic and 2L != 0
 * mod r, so no pair of rows is used twice and the summands are uncorrelated. Rows that are
 * ordered by something related to the values (sorted files) make lagged rows dependent, which
 * raises the estimate (conservative).
 *
 * Ownership: create/free; the accumulator borrows the backend (it must outlive it) and copies
 * the column names. Views returned by dp_featgram_view_get borrow the accumulator's memory and
 * are valid until the next update/merge/free. Thread safety: one thread at a time.
 */
#ifndef DP_ACCUM_FEATGRAM_H
#define DP_ACCUM_FEATGRAM_H

#include "backend/dp_backend.h"
#include "transform/dp_nlfeatures.h"
#include "util/dp_buf.h"
#include "util/dp_checksum.h"

#define DP_FEATGRAM_BLOCK_ROWS_DEFAULT     1024
#define DP_FEATGRAM_SHADOW_COLUMNS_DEFAULT 64
/* Most columns one accumulator takes (each needs its own feature block). */
#define DP_FEATGRAM_MAX_COLUMNS 1000000

typedef struct dp_featgram dp_featgram;

/* DP_FG_SKETCH names the first sketch repetition (dp_featgram_sketch_view reaches the others). */
typedef enum dp_featgram_part { DP_FG_HSIC = 0, DP_FG_RDC = 1, DP_FG_SKETCH = 2 } dp_featgram_part;

/* Which features the HSIC measure comes from (--hsic-estimator). */
typedef enum dp_hsic_estimator { DP_HSIC_MERCER = 0, DP_HSIC_SKETCH = 1 } dp_hsic_estimator;

typedef enum dp_featgram_missing {
    DP_FG_MISSING_PAIRWISE = 0,
    DP_FG_MISSING_IMPUTE = 1
} dp_featgram_missing;

typedef struct dp_featgram_config {
    int32_t m;              /* Mercer features per column; 0 = no HSIC part */
    int32_t k;              /* RDC features per column; 0 = no RDC part */
    double sigma;           /* Mercer kernel width (DP_MERCER_SIGMA_DEFAULT) */
    double s;               /* RDC scale, R-code convention (DP_RDC_S_DEFAULT) */
    uint64_t seed;          /* RDC draws, keyed by (seed, column name) */
    int32_t block_rows;     /* rows per syrk block (changes the bits: part of the result) */
    int32_t shadow_columns; /* columns with null-level shadow pairs per set; 0 = none */
    int32_t sketch_D;       /* random Fourier features per column before the sketch */
    int32_t sketch_m;       /* CountSketch buckets per column (features of a sketch part) */
    int32_t sketch_r;       /* sketch repetitions; 0 = no sketch parts */
} dp_featgram_config;

/* m = 10, k = 20, sigma = 0.9539, s = 6, seed 0, 1024-row blocks, 64 shadow columns; sketch
 * off (r = 0; D = 256, m = 16 ready for it). */
void dp_featgram_config_default(dp_featgram_config *c);
/* Select the HSIC features the way the options do: DP_HSIC_MERCER sets m = D (--hsic-D; <= 0
 * gives 10) and turns the sketch off; DP_HSIC_SKETCH sets m = 0 and sketch_D = D (<= 0: 256),
 * sketch_m = m (--m; <= 0: 16), sketch_r = r (--r; <= 0: 8), checked by dp_sketch_check_params.
 * To skip HSIC altogether (w_hsic = 0) set c->m = 0 and c->sketch_r = 0 afterwards. */
dp_status dp_featgram_config_set_hsic(dp_featgram_config *c, dp_hsic_estimator est, int32_t D,
                                      int32_t m, int32_t r, dp_error *err) DP_MUST_USE;

/* ---- Memory plan ------------------------------------------------------------------------- */

typedef struct dp_featgram_plan {
    int64_t p;
    int32_t m, k;
    int32_t sketch_D, sketch_m, sketch_r; /* 0 when the sketch is off */
    /* 8 * ((p m)^2 + (p k)^2 + r (p sketch_m)^2): the co-moment matrices */
    int64_t matrix_bytes;
    /* staging blocks, T, masks, shadows, sketch draws, p x p results of the measures */
    int64_t buffer_bytes;
    /* the record a scan checkpoint builds (dp_featgram_record_bound); 0 from the estimate,
     * set by callers that checkpoint */
    int64_t checkpoint_bytes;
    int64_t total_bytes;
} dp_featgram_plan;

/* Fill the plan; DP_LIMIT when the sizes overflow 64 bits. */
dp_status dp_featgram_estimate(int64_t p, const dp_featgram_config *cfg, dp_featgram_plan *plan,
                               dp_error *err) DP_MUST_USE;
/* An upper bound on the size of dp_featgram_serialize's record for a plan (a checkpoint builds
 * one): the upper triangles of the co-moment matrices, at most the buffers, the column names
 * (names_bytes: the sum of their lengths) and the header. */
int64_t dp_featgram_record_bound(const dp_featgram_plan *plan, int64_t names_bytes);
/* DP_LIMIT (message naming --nonlinear-rows, --max-memory-gb, the column count and, with the
 * sketch, --m and --r) when the plan exceeds budget_bytes; budget_bytes <= 0 means no budget. */
dp_status dp_featgram_check_budget(const dp_featgram_plan *plan, int64_t budget_bytes,
                                   int64_t nonlinear_rows, dp_error *err) DP_MUST_USE;

/* ---- Row sample for --nonlinear-rows ------------------------------------------------------ */

/* Stateless row sample: global row r is used iff hash(seed, r) < threshold, threshold =
 * target/total * 2^64. The count is Binomial(total, target/total) (target +- sqrt(target)), not
 * exactly target; in exchange the decision for a row needs nothing but its index, so it does not
 * depend on batches, threads, ranks or files, and a hash (unlike a stride) cannot alias with
 * periodic structure in the file order. target >= total (or total <= 0) keeps every row. */
typedef struct dp_rowsel {
    uint64_t seed;
    uint64_t threshold;
    bool all;
} dp_rowsel;

void dp_rowsel_init(dp_rowsel *sel, uint64_t seed, int64_t total_rows, int64_t target_rows);
static inline bool dp_rowsel_keep(const dp_rowsel *sel, int64_t row) {
    return sel->all ||
           dp_hash64_combine(sel->seed ^ 0x726f7773656cull, (uint64_t) row) < sel->threshold;
}

/* ---- Accumulator ------------------------------------------------------------------------- */

/* p >= 1 columns named names[0..p) (copied; they key the RDC draws). */
dp_status dp_featgram_create(const dp_featgram_config *cfg, int64_t p, const char *const *names,
                             dp_backend *backend, dp_featgram **out, dp_error *err) DP_MUST_USE;
void dp_featgram_free(dp_featgram *g);

/* Add n_rows rows. z: column-major normal scores, z[t + i*ldz] (NULL only when m == 0 and
 * sketch_r == 0); u: the uniform copula values, u[t + i*ldu] (NULL only when k == 0). NaN =
 * missing. The rows are the next rows of the sample in scan order (the caller applies
 * dp_rowsel_keep). */
dp_status dp_featgram_update(dp_featgram *g, int64_t n_rows, const double *z, int64_t ldz,
                             const double *u, int64_t ldu, dp_error *err) DP_MUST_USE;
/* Push the pending partial block (a no-op when none). Views need it. */
dp_status dp_featgram_flush(dp_featgram *g, dp_error *err) DP_MUST_USE;
/* dst += src for accumulators built with the same config and columns (STATE otherwise). Both
 * are flushed first, so dst's next rows start a new block. */
dp_status dp_featgram_merge(dp_featgram *dst, dp_featgram *src, dp_error *err) DP_MUST_USE;

/* Append the state (pending rows included, so a resumed scan gives the same bits) as one
 * dp_serial record. */
dp_status dp_featgram_serialize(const dp_featgram *g, dp_buf *out, dp_error *err) DP_MUST_USE;
/* Rebuild from a record (features are re-derived from the stored config and names, and checked
 * against the stored fingerprint). consumed (optional) receives the record size. */
dp_status dp_featgram_deserialize(const void *data, size_t len, dp_backend *backend,
                                  dp_featgram **out, size_t *consumed, dp_error *err) DP_MUST_USE;

/* ---- Read access -------------------------------------------------------------------------- */

int64_t dp_featgram_columns(const dp_featgram *g);
int64_t dp_featgram_rows(const dp_featgram *g); /* rows added so far (pending included) */
const dp_featgram_config *dp_featgram_get_config(const dp_featgram *g);
const char *dp_featgram_column_name(const dp_featgram *g, int64_t i);
/* Features of the parts (for the oracle and for tests). */
const dp_mercer *dp_featgram_mercer(const dp_featgram *g); /* NULL when m == 0 */
/* w, b, pilot of column i (k values each); false when k == 0 or i is out of range. */
bool dp_featgram_rdc_draws(const dp_featgram *g, int64_t i, const double **w, const double **b,
                           const double **pilot);
/* Draws of column i in sketch repetition rep (views into the accumulator); false when the sketch
 * is off or i, rep are out of range. */
bool dp_featgram_sketch_map(const dp_featgram *g, int64_t i, int32_t rep, dp_sketch_map *map);
/* Bytes held (dp_xxx_sizeof). */
int64_t dp_featgram_sizeof(const dp_featgram *g);

typedef struct dp_featgram_view {
    int64_t p;
    int32_t f;                     /* features per column */
    int64_t N;                     /* p * f */
    int64_t n;                     /* rows */
    const double *S;               /* N x N, ld N, upper triangle (a <= b) valid */
    const double *s;               /* N */
    const double *T;               /* N x p or NULL (no missing value seen) */
    const double *MM;              /* p x p, ld p, upper triangle */
    const int64_t *miss;           /* p */
    int32_t n_sets;                /* shadow sets present: 0, 1 (p == 1: self only) or 2 */
    int64_t n_shadow;              /* shadow columns per set */
    const int64_t *shadow_col;     /* n_shadow: column i of each shadow */
    const int64_t *shadow_partner; /* n_sets * n_shadow: partner column */
    const double *shadow_S;        /* n_sets * n_shadow blocks of f x f (ld f) */
    const int64_t *shadow_rows;    /* n_sets * n_shadow: rows paired */
    const int64_t *shadow_obs;     /* n_sets * n_shadow: rows where both were observed */
} dp_featgram_view;

/* STATE when rows are pending (call dp_featgram_flush), NOT_FOUND when the part is disabled.
 * DP_FG_SKETCH gives repetition 0. */
dp_status dp_featgram_view_get(const dp_featgram *g, dp_featgram_part part, dp_featgram_view *v,
                               dp_error *err) DP_MUST_USE;
/* View of sketch repetition rep (0 <= rep < sketch_r; NOT_FOUND otherwise). */
dp_status dp_featgram_sketch_view(const dp_featgram *g, int32_t rep, dp_featgram_view *v,
                                  dp_error *err) DP_MUST_USE;

/* Centred covariance block C_ij (f x f, column-major, ld f) of columns i and j; returns the rows
 * it is based on (n_ij, n_i or n by mode); out is left NaN when that is below 2. */
int64_t dp_featgram_cov_block(const dp_featgram_view *v, int64_t i, int64_t j,
                              dp_featgram_missing mode, double *out);
/* Covariance of shadow pair number q (0 <= q < n_sets * n_shadow): columns shadow_col[q %
 * n_shadow] and shadow_partner[q]; same conventions. */
int64_t dp_featgram_shadow_cov(const dp_featgram_view *v, int64_t q, dp_featgram_missing mode,
                               double *out);

/* ---- Raw state, for device backends (backend/cuda) ----------------------------------------
 * A device accumulator keeps the sums in device memory and copies them straight into and out of
 * the arrays of a host dp_featgram built with the same config and columns, so that the measures,
 * merge and the serialised format stay this file's. Pointers of a disabled part are NULL. */
typedef struct dp__featgram_raw_part {
    double *S;         /* N x N (ld N), upper triangle */
    double *s;         /* N */
    double *T;         /* N x p; NULL while the part has seen no missing value */
    double *MM;        /* p x p (ld p), upper triangle */
    int64_t *miss;     /* p */
    double *shS;       /* n_sets * n_shadow blocks of f x f */
    int64_t *sh_rows;  /* n_sets * n_shadow */
    int64_t *sh_obs;   /* n_sets * n_shadow */
    double *G;         /* staging block (ld block_rows): the first `fill` rows are pending */
    uint8_t *mis;      /* block_rows x p, 1 = missing (first `fill` rows pending) */
    int64_t *blk_miss; /* p: missing values among the pending rows */
} dp__featgram_raw_part;

typedef struct dp__featgram_raw {
    int64_t n_rows;                /* rows added (pending included) */
    int64_t fill;                  /* pending rows, < block_rows */
    int32_t n_sets;                /* read only: shadow layout */
    int64_t n_shadow;              /* read only */
    const int64_t *shadow_col;     /* read only: n_shadow */
    const int64_t *shadow_partner; /* read only: n_sets * n_shadow */
    dp__featgram_raw_part part[2]; /* DP_FG_HSIC, DP_FG_RDC */
} dp__featgram_raw;

/* Pointers into g's arrays and its scalars. with_missing allocates T (zeroed) for the enabled
 * parts that have none yet (NOMEM). UNSUPPORTED for an accumulator with HSIC sketch parts
 * (sketch_r > 0), which have no device implementation. */
dp_status dp__featgram_raw_get(dp_featgram *g, bool with_missing, dp__featgram_raw *out,
                               dp_error *err) DP_MUST_USE;
/* After writing into the arrays of out: take n_rows and fill from *in. CORRUPT when counts are
 * out of range. */
dp_status dp__featgram_raw_commit(dp_featgram *g, const dp__featgram_raw *in,
                                  dp_error *err) DP_MUST_USE;

#endif
