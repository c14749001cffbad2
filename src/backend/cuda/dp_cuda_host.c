/* Host-side parts of the CUDA backend (no CUDA needed); see dp_cuda_host.h. */
#include "backend/cuda/dp_cuda_host.h"
#include "util/dp_alloc.h"

#include <stdio.h>
#include <string.h>

_Static_assert(DP_CM_SPEARMAN == (int) DP_COPULA_SPEARMAN, "method values");
_Static_assert(DP_CM_GAUSSIAN == (int) DP_COPULA_GAUSSIAN, "method values");
_Static_assert(DP_CM_PEARSON == (int) DP_COPULA_PEARSON, "method values");
_Static_assert(DP_CM_UNIFORM == (int) DP_COPULA_UNIFORM_RDC, "method values");

/* ---- precision ------------------------------------------------------------------------------ */

const char *dp_cuda_precision_name(dp_cuda_precision p) {
    switch (p) {
    case DP_CUDA_FP64:
        return "fp64";
    case DP_CUDA_FP32:
        return "fp32";
    case DP_CUDA_TF32:
        return "tf32";
    }
    return "?";
}

dp_status dp_cuda_precision_parse(const char *s, dp_cuda_precision *out, dp_error *err) {
    for (int p = DP_CUDA_FP64; p <= DP_CUDA_TF32; p++)
        if (s != NULL && strcmp(s, dp_cuda_precision_name((dp_cuda_precision) p)) == 0) {
            *out = (dp_cuda_precision) p;
            return DP_OK;
        }
    return dp_error_set(err, DP_INVALID_ARG, "--precision '%s': expected fp64, fp32 or tf32",
                        s != NULL ? s : "");
}

double dp_cuda_precision_abs_bound(dp_cuda_precision p) {
    /* docs/gpu.md derives these: fp32 rounds each value to 24 bits and sums <= 16384-row folds
     * in float32 (typical relative error of a sum ~ sqrt(16384) 2^-24 ~ 1e-5 of sum |z_i z_j|,
     * ~1e-6 on r after the folds average); tf32 rounds the products' inputs to 11 bits
     * (2^-11 ~ 5e-4 relative), systematic for tied values, so |dr| can reach ~2e-3. */
    switch (p) {
    case DP_CUDA_FP64:
        return 0.0;
    case DP_CUDA_FP32:
        return 1e-4;
    case DP_CUDA_TF32:
        return 5e-3;
    }
    return 0.0;
}

/* ---- batch ring ----------------------------------------------------------------------------- */

int64_t dp_cuda_slot_rows(int64_t p, int64_t batch_rows, int64_t min_rows) {
    int64_t rows = batch_rows > 0 ? batch_rows : 65536;
    int64_t cap = DP_CUDA_SLOT_BYTES / (8 * (p > 0 ? p : 1));
    if (rows > cap)
        rows = cap;
    if (rows < min_rows)
        rows = min_rows;
    return rows < 1 ? 1 : rows;
}

/* ---- plan ----------------------------------------------------------------------------------- */

void dp_cuda_plan_init(dp_cuda_plan *pl, const char *what) {
    memset(pl, 0, sizeof *pl);
    pl->what = what;
}

int64_t dp_cuda_bytes3(dp_cuda_plan *pl, int64_t a, int64_t b, int64_t c) {
    int64_t t;
    if (a < 0 || b < 0 || c < 0 || !dp_mul_i64(a, b, &t) || !dp_mul_i64(t, c, &t)) {
        pl->overflow = true;
        return 0;
    }
    return t;
}

int dp_cuda_plan_add(dp_cuda_plan *pl, const char *name, int64_t count, int64_t size) {
    if (pl->n_items >= DP_CUDA_PLAN_MAX_ITEMS) {
        pl->overflow = true;
        return pl->n_items - 1;
    }
    int64_t bytes = dp_cuda_bytes3(pl, count, size, 1);
    int64_t aligned, off = pl->device_bytes;
    if (!dp_add_i64(bytes, DP_CUDA_ALIGN - 1, &aligned)) {
        pl->overflow = true;
        aligned = 0;
    }
    aligned = aligned / DP_CUDA_ALIGN * DP_CUDA_ALIGN;
    if (!dp_add_i64(pl->device_bytes, aligned, &pl->device_bytes)) {
        pl->overflow = true;
        pl->device_bytes = INT64_MAX;
    }
    dp_cuda_plan_item *it = &pl->item[pl->n_items];
    it->name = name;
    it->bytes = bytes;
    it->offset = off;
    return pl->n_items++;
}

void dp_cuda_plan_gram(const dp_cuda_gram_shape *s, dp_cuda_plan *pl) {
    dp_cuda_plan_init(pl, "pass 2 (correlation)");
    const int64_t p = s->p, b = s->block_rows, pp = dp_cuda_bytes3(pl, p, p, 1);
    const int64_t mask = s->pairwise ? 1 : 0;
    const int64_t low = s->prec != DP_CUDA_FP64 ? 1 : 0;
    dp_cuda_plan_add(pl, "correlation sums Z'Z", pp, 8);
    dp_cuda_plan_add(pl, "missing-value sums Z'W", mask * pp, 8);
    dp_cuda_plan_add(pl, "missing-value sums (Z.Z)'W", mask * pp, 8);
    dp_cuda_plan_add(pl, "missing pair counts W'W", mask * pp, 8);
    dp_cuda_plan_add(pl, "mask product temporary", mask * pp, 8);
    dp_cuda_plan_add(pl, "column sums and centres", 4 * p, 8);
    dp_cuda_plan_add(pl, "block of transformed rows", dp_cuda_bytes3(pl, b, p, 1), 8);
    dp_cuda_plan_add(pl, "block squares", mask * dp_cuda_bytes3(pl, b, p, 1), 8);
    dp_cuda_plan_add(pl, "block missing indicators", mask * dp_cuda_bytes3(pl, b, p, 1), 8);
    dp_cuda_plan_add(pl, "column lists", 2 * p, 4);
    dp_cuda_plan_add(pl, "batch ring (device)", dp_cuda_bytes3(pl, DP_CUDA_SLOTS, s->slot_rows, p),
                     8);
    dp_cuda_plan_add(pl, "column transforms", p, (int64_t) sizeof(dp_cm_col));
    dp_cuda_plan_add(pl, "marginal model knots", dp_cuda_bytes3(pl, 4, s->n_knots, 1), 8);
    dp_cuda_plan_add(pl, "float32 block", low * dp_cuda_bytes3(pl, b, p, 1), 4);
    dp_cuda_plan_add(pl, "float32 partial sums", low * pp, 4);
    pl->pinned_bytes = dp_cuda_bytes3(pl, DP_CUDA_SLOTS, s->slot_rows, p) * 8 +
                       dp_cuda_bytes3(pl, DP_CUDA_AUX_SLOTS, 2 * p, 4);
    /* per-piece missing counts of a slot (<= slot_rows / block_rows + 2 pieces) */
    pl->host_bytes = dp_cuda_bytes3(pl, s->slot_rows / (b > 0 ? b : 1) + 2, p, 16);
}

void dp_cuda_plan_featgram(const dp_cuda_featgram_shape *s, dp_cuda_plan *pl) {
    dp_cuda_plan_init(pl, "pass 4 (features)");
    const int64_t p = s->p, R = s->block_rows;
    static const char *const names[2][DP_CUDA_F_PART_ITEMS] = {
        {"HSIC co-moments", "HSIC feature sums and pilots", "HSIC missing-value sums",
         "HSIC missing-value temporary", "HSIC missing pair counts", "HSIC missing indicators",
         "HSIC feature block", "HSIC missing flags", "HSIC shadow pairs", "HSIC float32 block",
         "HSIC float32 partial sums", "HSIC float64 diagonal blocks"},
        {"RDC co-moments", "RDC feature sums and pilots", "RDC missing-value sums",
         "RDC missing-value temporary", "RDC missing pair counts", "RDC missing indicators",
         "RDC feature block", "RDC missing flags", "RDC shadow pairs", "RDC float32 block",
         "RDC float32 partial sums", "RDC float64 diagonal blocks"}};
    for (int part = 0; part < 2; part++) {
        const int64_t f = part == 0 ? s->m : s->k, on = f > 0 ? 1 : 0;
        /* reduced precision for the HSIC part only (dp_cuda.h: RDC stays float64) */
        const int64_t low = part == 0 && s->prec != DP_CUDA_FP64 ? 1 : 0;
        const int64_t N = dp_cuda_bytes3(pl, p, f, 1);
        const int64_t NN = dp_cuda_bytes3(pl, N, N, 1);
        const char *const *nm = names[part];
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_S], NN, 8);
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_SVEC], 2 * N, 8);
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_T], dp_cuda_bytes3(pl, N, p, 1), 8);
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_TTMP], dp_cuda_bytes3(pl, N, p, 1), 8);
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_MM], dp_cuda_bytes3(pl, 2 * on, p, p), 8);
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_MI], dp_cuda_bytes3(pl, on * R, p, 1), 8);
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_G], dp_cuda_bytes3(pl, R, N, 1), 8);
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_MIS], dp_cuda_bytes3(pl, on * R, p, 1), 1);
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_SH], dp_cuda_bytes3(pl, on * s->n_pairs, f * f + 1, 1),
                         8);
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_GF], low * dp_cuda_bytes3(pl, R, N, 1), 4);
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_SF], low * NN, 4);
        dp_cuda_plan_add(pl, nm[DP_CUDA_F_SD], low * dp_cuda_bytes3(pl, p, f, f), 8);
    }
    dp_cuda_plan_add(pl, "batch ring (device)", dp_cuda_bytes3(pl, DP_CUDA_SLOTS, s->slot_rows, p),
                     8);
    dp_cuda_plan_add(pl, "column transforms", 2 * p, (int64_t) sizeof(dp_cm_col));
    dp_cuda_plan_add(pl, "marginal model knots", dp_cuda_bytes3(pl, 5, s->n_knots, 1), 8);
    dp_cuda_plan_add(pl, "feature maps (Mercer, RDC draws)",
                     4 * (int64_t) s->m + dp_cuda_bytes3(pl, 3 * p, s->k, 1), 8);
    dp_cuda_plan_add(pl, "column lists", 4 * p + 2 * s->n_pairs, 4);
    pl->pinned_bytes = dp_cuda_bytes3(pl, DP_CUDA_SLOTS, s->slot_rows, p) * 8 +
                       dp_cuda_bytes3(pl, DP_CUDA_AUX_SLOTS, 2 * p, 4);
    pl->host_bytes = dp_cuda_bytes3(pl, s->slot_rows / (R > 0 ? R : 1) + 2, p, 16);
}

int64_t dp_cuda_budget_bytes(double max_gb, int64_t free_bytes) {
    if (max_gb > 0)
        return max_gb * 1073741824.0 >= 9.2e18 ? INT64_MAX : (int64_t) (max_gb * 1073741824.0);
    return (int64_t) (0.9 * (double) (free_bytes > 0 ? free_bytes : 0));
}

static double dp__gib(int64_t b) {
    return (double) b / 1073741824.0;
}

dp_status dp_cuda_plan_check(const dp_cuda_plan *pl, int64_t budget, int64_t free_bytes,
                             int64_t already, const char *hint, dp_error *err) {
    if (pl->overflow)
        return dp_error_set(err, DP_LIMIT,
                            "%s on the GPU: the device memory plan overflows 64-bit sizes; %s",
                            pl->what, hint != NULL ? hint : "use fewer columns");
    int64_t need;
    if (!dp_add_i64(pl->device_bytes, already, &need))
        need = INT64_MAX;
    int64_t limit = budget < free_bytes ? budget : free_bytes;
    if (need <= limit)
        return DP_OK;
    /* the two largest items, which are what a change of settings shrinks */
    int a = -1, b = -1;
    for (int i = 0; i < pl->n_items; i++) {
        if (a < 0 || pl->item[i].bytes > pl->item[a].bytes) {
            b = a;
            a = i;
        } else if (b < 0 || pl->item[i].bytes > pl->item[b].bytes) {
            b = i;
        }
    }
    return dp_error_set(
        err, DP_LIMIT,
        "%s on the GPU needs %.2f GiB of device memory (largest: %s %.2f GiB, %s %.2f GiB%s) but "
        "%s is %.2f GiB (%.2f GiB free on the device): %s; or raise --max-gpu-memory-gb if the "
        "device has room, or run without --gpu",
        pl->what, dp__gib(need), a >= 0 ? pl->item[a].name : "-",
        a >= 0 ? dp__gib(pl->item[a].bytes) : 0.0, b >= 0 ? pl->item[b].name : "-",
        b >= 0 ? dp__gib(pl->item[b].bytes) : 0.0,
        already > 0 ? ", plus what earlier accumulators hold" : "",
        budget <= free_bytes ? "the budget (--max-gpu-memory-gb, default 90 % of free memory)"
                             : "the free device memory",
        dp__gib(limit), dp__gib(free_bytes), hint != NULL ? hint : "use fewer columns");
}

void dp_cuda_plan_format(const dp_cuda_plan *pl, char *buf, size_t cap) {
    size_t used = 0;
    if (cap == 0)
        return;
    buf[0] = '\0';
    for (int i = 0; i < pl->n_items && used < cap; i++) {
        if (pl->item[i].bytes == 0)
            continue;
        int w = snprintf(buf + used, cap - used, "  %-34s %10.1f MiB\n", pl->item[i].name,
                         (double) pl->item[i].bytes / 1048576.0);
        used += w > 0 ? (size_t) w : 0;
    }
    if (used < cap)
        snprintf(buf + used, cap - used,
                 "  device total %.2f GiB, pinned host %.1f MiB (allocated once for the scan)",
                 dp__gib(pl->device_bytes), (double) pl->pinned_bytes / 1048576.0);
}

/* ---- flat models ---------------------------------------------------------------------------- */

void dp_cuda_flat_init(dp_cuda_flat *f) {
    memset(f, 0, sizeof *f);
}

void dp_cuda_flat_reset(dp_cuda_flat *f) {
    dp_free(f->values);
    dp_free(f->u0);
    dp_free(f->slope);
    dp_free(f->kv);
    dp_free(f->cols);
    memset(f, 0, sizeof *f);
}

/* Knots a transform contributes: none for Pearson, an empty fit, or a column left unprepared. */
static int64_t dp__tr_knots(const dp_copula_col *c) {
    if (c->method == DP_COPULA_PEARSON || c->fit == NULL || c->knot_value == NULL ||
        c->u0 == NULL || c->slope == NULL)
        return 0;
    return c->fit->n_knots;
}

dp_status dp_cuda_flat_build(dp_cuda_flat *out, int64_t p, int32_t n_tr,
                             const dp_copula_col *const *tr, dp_error *err) {
    dp_status st = DP_OK;
    dp_cuda_flat_reset(out);
    if (p < 1 || n_tr < 1 || n_tr > 8 || tr == NULL)
        DP_FAIL(err, DP_INVALID_ARG, "flat models: %lld columns, %d transforms", (long long) p,
                (int) n_tr);
    int64_t total = 0;
    for (int64_t j = 0; j < p; j++) {
        int64_t mj = 0;
        const dp_marginal_fit *fit = NULL;
        for (int32_t t = 0; t < n_tr; t++) {
            const dp_copula_col *c = &tr[t][j];
            int64_t m = dp__tr_knots(c);
            if (m == 0)
                continue;
            if (fit != NULL && c->fit != fit)
                DP_FAIL(err, DP_INVALID_ARG,
                        "flat models: the transforms of column %lld use different pass-1 fits",
                        (long long) j);
            fit = c->fit;
            mj = m;
        }
        if (!dp_add_i64(total, mj, &total) || total > DP_CUDA_MAX_KNOTS)
            DP_FAIL(err, DP_LIMIT, "flat models: more than %lld knots in all (column %lld)",
                    (long long) DP_CUDA_MAX_KNOTS, (long long) j);
    }
    out->p = p;
    out->n_tr = n_tr;
    out->n_knots = total;
    size_t nk = (size_t) (total > 0 ? total : 1);
    out->values = dp_mallocarray(nk, sizeof(double));
    out->u0 = dp_mallocarray(nk, sizeof(double));
    out->slope = dp_mallocarray(nk, sizeof(double));
    out->kv = dp_calloc(nk * (size_t) n_tr, sizeof(double));
    out->cols = dp_calloc((size_t) p * (size_t) n_tr, sizeof(dp_cm_col));
    if (out->values == NULL || out->u0 == NULL || out->slope == NULL || out->kv == NULL ||
        out->cols == NULL)
        DP_FAIL(err, DP_NOMEM, "flat models: out of memory for %lld knots", (long long) total);
    int64_t off = 0;
    for (int64_t j = 0; j < p; j++) {
        int64_t mj = 0;
        for (int32_t t = 0; t < n_tr; t++) {
            const dp_copula_col *c = &tr[t][j];
            int64_t m = dp__tr_knots(c);
            if (m > 0 && mj == 0) {
                mj = m;
                memcpy(out->values + off, c->fit->values, (size_t) m * sizeof(double));
                memcpy(out->u0 + off, c->u0, (size_t) m * sizeof(double));
                memcpy(out->slope + off, c->slope, (size_t) m * sizeof(double));
            }
            if (m > 0)
                memcpy(out->kv + (size_t) t * nk + (size_t) off, c->knot_value,
                       (size_t) m * sizeof(double));
            dp_cm_col *o = &out->cols[(size_t) t * (size_t) p + (size_t) j];
            o->off = off;
            o->m = m;
            o->n = c->fit != NULL ? (double) c->fit->n : 0.0;
            o->u_lo = c->u_lo;
            o->u_hi = c->u_hi;
            o->clip_lo = c->clip_lo;
            o->clip_hi = c->clip_hi;
            o->method = (int32_t) c->method;
            o->clip = c->clip ? 1 : 0;
        }
        off += mj;
    }
    return DP_OK;
cleanup:
    dp_cuda_flat_reset(out);
    return st;
}

/* ---- error translation ------------------------------------------------------------------------
 */

dp_status dp_cuda_status_of(dp_cuda_api api, int code) {
    if (code == 0)
        return DP_OK;
    if (api == DP_CUDA_API_RUNTIME) {
        switch (code) {
        case DP_CUDA_RT_MEMORY_ALLOCATION:
            return DP_NOMEM;
        case DP_CUDA_RT_INSUFFICIENT_DRIVER:
        case DP_CUDA_RT_NO_DEVICE:
        case DP_CUDA_RT_INVALID_DEVICE:
        case DP_CUDA_RT_NO_KERNEL_IMAGE:
            return DP_UNSUPPORTED;
        default:
            return DP_BACKEND;
        }
    }
    switch (code) {
    case DP_CUBLAS_ALLOC_FAILED:
        return DP_NOMEM;
    case DP_CUBLAS_NOT_SUPPORTED:
        return DP_UNSUPPORTED;
    default:
        return DP_BACKEND;
    }
}

dp_status dp_cuda_error(dp_error *err, dp_cuda_api api, int code, const char *name,
                        const char *text, const char *expr, const char *file, int line) {
    dp_status st = dp_cuda_status_of(api, code);
    if (st == DP_OK)
        return DP_OK;
    const char *base = file != NULL ? strrchr(file, '/') : NULL;
    return dp_error_set(err, st, "%s failed at %s:%d: %s error %s (%d): %s",
                        expr != NULL ? expr : "?", base != NULL ? base + 1 : (file ? file : "?"),
                        line, api == DP_CUDA_API_RUNTIME ? "CUDA" : "cuBLAS",
                        name != NULL ? name : "?", code, text != NULL ? text : "");
}
