/* dp_cuda_host.h: the host-side parts of the CUDA backend that need no CUDA: precision names,
 * the device memory plan, the flat layout of the uploaded marginal models, the batch ring size,
 * and the translation of CUDA / cuBLAS error codes into dp_status. Compiled in every build (the
 * unit tests check them without a GPU); the device code (dp_cuda_*.c, .cu) uses them.
 *
 * Memory plan. A device accumulator asks for all of its device memory at once, as one arena
 * carved into the plan's items (each aligned to DP_CUDA_ALIGN bytes): nothing is allocated in the
 * batch loop, so device memory is flat over a scan. The plan is printed before the scan and
 * refused up front (DP_LIMIT, naming what to change) when it does not fit the budget:
 * --max-gpu-memory-gb, or 90 % of the device's free memory when that is 0.
 *
 * Ownership: dp_cuda_plan is a plain value (item names are static strings). dp_cuda_flat is a
 * caller value with init/reset that owns its arrays. Thread safety: pure functions, and values
 * used by one thread at a time.
 */
#ifndef DP_BACKEND_CUDA_HOST_H
#define DP_BACKEND_CUDA_HOST_H

#include "backend/cuda/dp_cuda_math.h"
#include "transform/dp_copula.h"

#include <stddef.h>

/* ---- precision --------------------------------------------------------------------------- */

typedef enum dp_cuda_precision {
    DP_CUDA_FP64 = 0, /* float64 everywhere (default; matches the CPU to ~1e-15) */
    DP_CUDA_FP32 = 1, /* the big product (Q, S) of each block in float32 (SSYRK) */
    DP_CUDA_TF32 = 2  /* the same with TF32 tensor cores (GEMM, 10-bit mantissa inputs) */
} dp_cuda_precision;

const char *dp_cuda_precision_name(dp_cuda_precision p);
/* "fp64" / "fp32" / "tf32"; INVALID_ARG otherwise. */
dp_status dp_cuda_precision_parse(const char *s, dp_cuda_precision *out, dp_error *err) DP_MUST_USE;
/* The stated bound on |r_gpu - r_cpu| of a correlation (pass 2) or of a normalised measure
 * (pass 4) for this precision (0 for fp64, whose bound is relative: 1e-12). See docs/gpu.md. */
double dp_cuda_precision_abs_bound(dp_cuda_precision p);

/* ---- batch ring -------------------------------------------------------------------------- */

#define DP_CUDA_SLOTS      3                    /* pinned buffers in flight (>= 2) */
#define DP_CUDA_SLOT_BYTES ((int64_t) 64 << 20) /* target bytes per slot */
#define DP_CUDA_AUX_SLOTS  4                    /* pinned column lists in flight */
#define DP_CUDA_ALIGN      256

/* Rows per slot for p columns: batch_rows (0 = 65536), at most DP_CUDA_SLOT_BYTES / (8 p) but
 * at least min_rows (one accumulator block), and >= 1. */
int64_t dp_cuda_slot_rows(int64_t p, int64_t batch_rows, int64_t min_rows);

/* ---- memory plan --------------------------------------------------------------------------- */

#define DP_CUDA_PLAN_MAX_ITEMS 32

typedef struct dp_cuda_plan_item {
    const char *name; /* what it holds (static string) */
    int64_t bytes;    /* 0 = not needed */
    int64_t offset;   /* in the arena (aligned) */
} dp_cuda_plan_item;

typedef struct dp_cuda_plan {
    const char *what; /* "pass 2 (correlation)", "pass 4 (features)" */
    int n_items;
    dp_cuda_plan_item item[DP_CUDA_PLAN_MAX_ITEMS];
    int64_t device_bytes; /* the arena: the sum of the aligned items */
    int64_t pinned_bytes; /* page-locked host memory (the batch ring and column lists) */
    int64_t host_bytes;   /* ordinary host memory of the accumulator besides its host mirror */
    bool overflow;        /* a size overflowed 63 bits: the plan is unusable (LIMIT) */
} dp_cuda_plan;

void dp_cuda_plan_init(dp_cuda_plan *pl, const char *what);
/* Append an item of count x size bytes (overflow sets pl->overflow); returns its index. */
int dp_cuda_plan_add(dp_cuda_plan *pl, const char *name, int64_t count, int64_t size);
/* count x size x times, with overflow check (for pinned/host totals). */
int64_t dp_cuda_bytes3(dp_cuda_plan *pl, int64_t a, int64_t b, int64_t c);

/* Pass-2 accumulator shape. */
typedef struct dp_cuda_gram_shape {
    int64_t p;
    bool pairwise;
    int64_t block_rows;
    dp_cuda_precision prec;
    int64_t slot_rows;
    int64_t n_knots; /* total knots of the flat models */
} dp_cuda_gram_shape;

/* Item indices of the pass-2 plan (fixed order). */
enum {
    DP_CUDA_G_Q = 0, /* p x p upper sums Z^T Z */
    DP_CUDA_G_SC,    /* p x p: Z^T W */
    DP_CUDA_G_SSC,   /* p x p: (Z.Z)^T W */
    DP_CUDA_G_NC,    /* p x p upper: W^T W */
    DP_CUDA_G_TMP,   /* p x p: mask-product output before scattering */
    DP_CUDA_G_VEC,   /* 4 p doubles: zs, zq, K, missing value */
    DP_CUDA_G_Z,     /* block_rows x p: centred block */
    DP_CUDA_G_Z2,    /* block_rows x p: its squares */
    DP_CUDA_G_W,     /* block_rows x p: missing indicators of the columns with missing values */
    DP_CUDA_G_IDX,   /* 2 p int32: column -> compact index, compact index -> column */
    DP_CUDA_G_RING,  /* DP_CUDA_SLOTS x slot_rows x p raw values */
    DP_CUDA_G_COLS,  /* p dp_cm_col */
    DP_CUDA_G_KNOTS, /* 4 x n_knots doubles: values, u0, slope, kv */
    DP_CUDA_G_ZF,    /* fp32/tf32: block_rows x p floats */
    DP_CUDA_G_QF,    /* fp32/tf32: p x p float partial sums */
    DP_CUDA_G_N_ITEMS
};

void dp_cuda_plan_gram(const dp_cuda_gram_shape *s, dp_cuda_plan *pl);

/* Pass-4 accumulator shape. */
typedef struct dp_cuda_featgram_shape {
    int64_t p;
    int32_t m, k;       /* features per column of the HSIC and RDC parts (0 = part off) */
    int64_t block_rows; /* the featgram's block_rows */
    int64_t n_pairs;    /* shadow pairs: n_sets * n_shadow */
    dp_cuda_precision prec;
    int64_t slot_rows;
    int64_t n_knots;
} dp_cuda_featgram_shape;

/* Item indices of the pass-4 plan: DP_CUDA_F_PART_ITEMS per part (HSIC first), then shared. The
 * float32 items exist for the HSIC part only: the RDC part always accumulates in float64. */
enum {
    DP_CUDA_F_S = 0, /* N x N upper co-moments */
    DP_CUDA_F_SVEC,  /* 2 N: sums, pilots */
    DP_CUDA_F_T,     /* N x p: sums over rows where a column is missing */
    DP_CUDA_F_TTMP,  /* N x p: gemm output before scattering */
    DP_CUDA_F_MM,    /* 2 p x p: missing pair counts and temporary */
    DP_CUDA_F_MI,    /* block_rows x p: compacted missing indicators */
    DP_CUDA_F_G,     /* block_rows x N: feature block */
    DP_CUDA_F_MIS,   /* block_rows x p bytes: missing flags */
    DP_CUDA_F_SH,    /* n_pairs x (f^2 + 1): shadow sums and observed counts */
    DP_CUDA_F_GF,    /* fp32/tf32: block_rows x N floats */
    DP_CUDA_F_SF,    /* fp32/tf32: N x N float partial sums */
    DP_CUDA_F_SD,    /* fp32/tf32: p blocks of f x f: the diagonal blocks of S in float64 */
    DP_CUDA_F_PART_ITEMS
};
enum {
    DP_CUDA_F_RING = 2 * DP_CUDA_F_PART_ITEMS, /* DP_CUDA_SLOTS x slot_rows x p raw values */
    DP_CUDA_F_COLS,                            /* 2 p dp_cm_col */
    DP_CUDA_F_KNOTS,                           /* 5 x n_knots: values, u0, slope, kv (2) */
    DP_CUDA_F_FEAT,                            /* Mercer 4 m + RDC 3 p k doubles */
    DP_CUDA_F_IDX,                             /* 2 p int32 column lists + shadow columns */
    DP_CUDA_F_N_ITEMS
};

void dp_cuda_plan_featgram(const dp_cuda_featgram_shape *s, dp_cuda_plan *pl);

/* The device memory budget: max_gb GiB when > 0, else 90 % of free_bytes. */
int64_t dp_cuda_budget_bytes(double max_gb, int64_t free_bytes);
/* DP_OK when already + pl->device_bytes <= min(budget, free_bytes); else DP_LIMIT with a message
 * naming the need, the largest items, the budget and free memory, and `hint` (what to change). */
dp_status dp_cuda_plan_check(const dp_cuda_plan *pl, int64_t budget, int64_t free_bytes,
                             int64_t already, const char *hint, dp_error *err) DP_MUST_USE;
/* One line per non-empty item plus totals into buf (for the log). */
void dp_cuda_plan_format(const dp_cuda_plan *pl, char *buf, size_t cap);

/* ---- flat models --------------------------------------------------------------------------- */

typedef struct dp_cuda_flat {
    int64_t p;       /* columns */
    int32_t n_tr;    /* transforms per column */
    int64_t n_knots; /* total knots */
    double *values;  /* n_knots each: the knots of every column, one column after another */
    double *u0;      /* the prepared transform's interpolation base and slope at each knot */
    double *slope;
    double *kv;      /* n_tr x n_knots: transform t's knot values at kv + t * n_knots */
    dp_cm_col *cols; /* n_tr x p: column j of transform t at cols[t * p + j] */
} dp_cuda_flat;

void dp_cuda_flat_init(dp_cuda_flat *f);
void dp_cuda_flat_reset(dp_cuda_flat *f);
/* Flatten the prepared transforms tr[t][0..p) (t < n_tr; each references its pass-1 fit). The
 * transforms of one column must share one fit (INVALID_ARG otherwise). LIMIT when the knots
 * exceed DP_CUDA_MAX_KNOTS, NOMEM. */
#define DP_CUDA_MAX_KNOTS ((int64_t) 1 << 31)
dp_status dp_cuda_flat_build(dp_cuda_flat *out, int64_t p, int32_t n_tr,
                             const dp_copula_col *const *tr, dp_error *err) DP_MUST_USE;

/* ---- error translation ----------------------------------------------------------------------- */

typedef enum dp_cuda_api { DP_CUDA_API_RUNTIME = 0, DP_CUDA_API_CUBLAS = 1 } dp_cuda_api;

/* Codes the translation singles out (the CUDA / cuBLAS enum values; dp_cuda_ctx.c asserts that
 * they match the headers). */
#define DP_CUDA_RT_MEMORY_ALLOCATION   2
#define DP_CUDA_RT_INSUFFICIENT_DRIVER 35
#define DP_CUDA_RT_NO_DEVICE           100
#define DP_CUDA_RT_INVALID_DEVICE      101
#define DP_CUDA_RT_NO_KERNEL_IMAGE     209
#define DP_CUBLAS_ALLOC_FAILED         3
#define DP_CUBLAS_NOT_SUPPORTED        15

/* The dp_status of a failed call: out of memory -> NOMEM; no device, driver too old, no kernel
 * image for this GPU, operation not supported -> UNSUPPORTED; anything else -> BACKEND. */
dp_status dp_cuda_status_of(dp_cuda_api api, int code);
/* Set err to "<expr> failed at <file>:<line>: CUDA error <name> (<code>): <text>" (or "cuBLAS
 * error ...") with the status above, and return it. code 0 is success: returns DP_OK untouched. */
dp_status dp_cuda_error(dp_error *err, dp_cuda_api api, int code, const char *name,
                        const char *text, const char *expr, const char *file, int line);

#endif
