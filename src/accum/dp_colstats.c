/* Pass-1 accumulator: moments + marginal model per column. See dp_colstats.h. */
#include "accum/dp_colstats.h"
#include "util/dp_alloc.h"
#include "util/dp_checksum.h"

#include <string.h>

#define DP_COLSTATS_MAGIC   0x31545343u /* "CST1" */
#define DP_COLSTATS_VERSION 1u

struct dp_colstats {
    int64_t n_cols;
    dp_colstats_opts opts;
    dp_moments *mom;
    dp_marginal *marg;
};

void dp_colstats_opts_default(dp_colstats_opts *o) {
    o->exact_distinct = DP_MARGINAL_EXACT_DISTINCT_DEFAULT;
    o->kll_k = DP_KLL_K_DEFAULT;
    o->seed = 0;
}

static uint64_t dp__col_seed(uint64_t seed, int64_t j) {
    return dp_hash64_combine(seed, (uint64_t) j);
}

/* Allocate the arrays of an accumulator with zeroed models (no marginal initialised yet). */
static dp_status dp__colstats_alloc(dp_colstats **out, int64_t n_cols, const dp_colstats_opts *o,
                                    dp_error *err) {
    *out = NULL;
    if (n_cols < 0 || (uint64_t) n_cols > SIZE_MAX / sizeof(dp_marginal))
        return dp_error_set(err, DP_INVALID_ARG, "column statistics for %lld columns",
                            (long long) n_cols);
    dp_colstats *cs = dp_calloc(1, sizeof *cs);
    if (cs == NULL)
        return dp_error_set(err, DP_NOMEM, "column statistics: out of memory");
    cs->n_cols = n_cols;
    cs->opts = *o;
    size_t nc = n_cols > 0 ? (size_t) n_cols : 1;
    cs->mom = dp_calloc(nc, sizeof *cs->mom);
    cs->marg = dp_calloc(nc, sizeof *cs->marg);
    if (cs->mom == NULL || cs->marg == NULL) {
        dp_colstats_free(cs);
        return dp_error_set(err, DP_NOMEM, "column statistics: out of memory for %lld columns",
                            (long long) n_cols);
    }
    *out = cs;
    return DP_OK;
}

dp_status dp_colstats_create(dp_colstats **out, int64_t n_cols, const dp_colstats_opts *o,
                             dp_error *err) {
    dp_status st = DP_OK;
    dp_colstats *cs = NULL;
    dp_colstats_opts def;
    if (o == NULL) {
        dp_colstats_opts_default(&def);
        o = &def;
    }
    *out = NULL;
    DP_CHECK(dp__colstats_alloc(&cs, n_cols, o, err));
    for (int64_t j = 0; j < n_cols; j++) {
        dp_moments_init(&cs->mom[j]);
        DP_CHECK(dp_marginal_init(&cs->marg[j], o->exact_distinct, o->kll_k,
                                  dp__col_seed(o->seed, j), err));
    }
    *out = cs;
    cs = NULL;
cleanup:
    dp_colstats_free(cs);
    return st;
}

void dp_colstats_free(dp_colstats *cs) {
    if (cs == NULL)
        return;
    if (cs->marg != NULL)
        for (int64_t j = 0; j < cs->n_cols; j++)
            dp_marginal_reset(&cs->marg[j]);
    dp_free(cs->marg);
    dp_free(cs->mom);
    dp_free(cs);
}

int64_t dp_colstats_n_cols(const dp_colstats *cs) {
    return cs->n_cols;
}

const dp_colstats_opts *dp_colstats_options(const dp_colstats *cs) {
    return &cs->opts;
}

dp_status dp_colstats_update_cols(dp_colstats *cs, const dp_batch *b, int64_t c0, int64_t c1,
                                  dp_error *err) {
    if (b->n_cols != cs->n_cols)
        return dp_error_set(err, DP_INVALID_ARG,
                            "column statistics: batch has %lld columns, accumulator %lld",
                            (long long) b->n_cols, (long long) cs->n_cols);
    if (c0 < 0 || c1 < c0 || c1 > cs->n_cols || b->n_rows < 0 || b->n_rows > b->ld)
        return dp_error_set(err, DP_INVALID_ARG,
                            "column statistics: columns [%lld, %lld) of %lld, %lld rows (ld %lld)",
                            (long long) c0, (long long) c1, (long long) cs->n_cols,
                            (long long) b->n_rows, (long long) b->ld);
    for (int64_t j = c0; j < c1; j++) {
        const double *x = dp_batch_col(b, j);
        dp_status st =
            dp_moments_update(&cs->mom[j], x, b->n_rows, b->row_offset, &b->counts[j], err);
        if (st == DP_OK)
            st = dp_marginal_update(&cs->marg[j], x, (size_t) b->n_rows, err);
        if (st != DP_OK) {
            dp_error_prefix(err, "column %lld: ", (long long) j);
            return st;
        }
    }
    return DP_OK;
}

dp_status dp_colstats_update(dp_colstats *cs, const dp_batch *b, dp_error *err) {
    return dp_colstats_update_cols(cs, b, 0, cs->n_cols, err);
}

dp_status dp_colstats_merge(dp_colstats *dst, const dp_colstats *src, dp_error *err) {
    if (dst == src)
        return dp_error_set(err, DP_INVALID_ARG, "column statistics: cannot merge into itself");
    if (dst->n_cols != src->n_cols || dst->opts.exact_distinct != src->opts.exact_distinct ||
        dst->opts.kll_k != src->opts.kll_k || dst->opts.seed != src->opts.seed)
        return dp_error_set(err, DP_INVALID_ARG,
                            "column statistics: cannot merge %lld columns (exact-distinct %d, k "
                            "%d, seed %llu) with %lld columns (%d, %d, %llu)",
                            (long long) dst->n_cols, (int) dst->opts.exact_distinct,
                            (int) dst->opts.kll_k, (unsigned long long) dst->opts.seed,
                            (long long) src->n_cols, (int) src->opts.exact_distinct,
                            (int) src->opts.kll_k, (unsigned long long) src->opts.seed);
    for (int64_t j = 0; j < dst->n_cols; j++) {
        dp_status st = dp_marginal_merge(&dst->marg[j], &src->marg[j], err);
        if (st != DP_OK) {
            dp_error_prefix(err, "column %lld: ", (long long) j);
            return st;
        }
        dp_moments_merge(&dst->mom[j], &src->mom[j]);
    }
    return DP_OK;
}

void dp_colstats_result_init(dp_colstats_result *r) {
    memset(r, 0, sizeof *r);
}

void dp_colstats_result_reset(dp_colstats_result *r) {
    if (r->cols != NULL)
        for (int64_t j = 0; j < r->n_cols; j++)
            dp_marginal_fit_reset(&r->cols[j].fit);
    dp_free(r->cols);
    dp_colstats_result_init(r);
}

dp_status dp_colstats_finalize(const dp_colstats *cs, dp_colstats_result *out, dp_error *err) {
    dp_status st = DP_OK;
    dp_colstats_result_init(out);
    out->cols = dp_calloc(cs->n_cols > 0 ? (size_t) cs->n_cols : 1, sizeof *out->cols);
    if (out->cols == NULL)
        return dp_error_set(err, DP_NOMEM,
                            "column statistics: out of memory finalizing %lld "
                            "columns",
                            (long long) cs->n_cols);
    out->n_cols = cs->n_cols;
    for (int64_t j = 0; j < cs->n_cols; j++) {
        dp_marginal_fit_init(&out->cols[j].fit);
        dp_moments_finalize(&cs->mom[j], &out->cols[j].mom);
        st = dp_marginal_fit_build(&cs->marg[j], &out->cols[j].fit, err);
        if (st != DP_OK) {
            dp_error_prefix(err, "column %lld: ", (long long) j);
            dp_colstats_result_reset(out);
            return st;
        }
    }
    return st;
}

dp_status dp_colstats_serialize(const dp_colstats *cs, dp_buf *out, dp_error *err) {
    dp_serial_writer w;
    dp_sw_begin(&w, out, DP_COLSTATS_MAGIC, DP_COLSTATS_VERSION);
    dp_sw_u32(&w, (uint32_t) cs->opts.exact_distinct);
    dp_sw_u32(&w, (uint32_t) cs->opts.kll_k);
    dp_sw_u64(&w, cs->opts.seed);
    dp_sw_i64(&w, cs->n_cols);
    for (int64_t j = 0; j < cs->n_cols; j++) {
        dp__moments_write(&cs->mom[j], &w);
        dp__marginal_write(&cs->marg[j], &w);
    }
    return dp_sw_end(&w, err);
}

dp_status dp_colstats_deserialize(const void *data, size_t len, dp_colstats **out, dp_error *err) {
    dp_status st = DP_OK;
    dp_colstats *cs = NULL;
    dp_serial_reader r;
    dp_colstats_opts o;
    uint32_t ed = 0, k = 0;
    int64_t n_cols = 0;
    *out = NULL;
    DP_CHECK(dp_sr_begin(&r, data, len, DP_COLSTATS_MAGIC, DP_COLSTATS_VERSION, "column statistics",
                         NULL, err));
    if (!dp_sr_u32(&r, &ed) || !dp_sr_u32(&r, &k) || !dp_sr_u64(&r, &o.seed) ||
        !dp_sr_i64(&r, &n_cols))
        DP_FAIL(err, DP_CORRUPT, "column statistics: header cut short");
    /* A column takes well over 64 bytes (moments alone are 18 fields), so this bounds the
     * allocation by the record size. */
    if (n_cols < 0 || (uint64_t) n_cols > dp_sr_remaining(&r) / 64)
        DP_FAIL(err, DP_CORRUPT, "column statistics: %lld columns in %zu bytes", (long long) n_cols,
                dp_sr_remaining(&r));
    if (ed > DP_MARGINAL_EXACT_DISTINCT_MAX || k < DP_KLL_K_MIN || k > DP_KLL_K_MAX)
        DP_FAIL(err, DP_CORRUPT, "column statistics: exact-distinct %u, k %u", ed, k);
    o.exact_distinct = (int32_t) ed;
    o.kll_k = (int32_t) k;
    DP_CHECK(dp__colstats_alloc(&cs, n_cols, &o, err));
    cs->n_cols = 0; /* columns read so far, for dp_colstats_free on failure */
    for (int64_t j = 0; j < n_cols; j++) {
        st = dp__moments_read(&r, &cs->mom[j], err);
        if (st == DP_OK)
            st = dp__marginal_read(&r, &cs->marg[j], err);
        if (st != DP_OK) {
            dp_error_prefix(err, "column %lld: ", (long long) j);
            goto cleanup;
        }
        cs->n_cols = j + 1;
        const dp_marginal *m = &cs->marg[j];
        if (m->exact_distinct != o.exact_distinct || m->kll_k != o.kll_k ||
            m->seed != dp__col_seed(o.seed, j) || m->n != cs->mom[j].n_valid)
            DP_FAIL(err, DP_CORRUPT,
                    "column statistics: column %lld: marginal model (%lld values) does not match "
                    "its moments (%lld valid) or the options",
                    (long long) j, (long long) m->n, (long long) cs->mom[j].n_valid);
    }
    DP_CHECK(dp_sr_end(&r, err));
    *out = cs;
    cs = NULL;
cleanup:
    dp_colstats_free(cs);
    return st;
}

size_t dp_colstats_sizeof(const dp_colstats *cs) {
    size_t b = sizeof *cs + (size_t) cs->n_cols * (sizeof(dp_moments) + sizeof(dp_marginal));
    for (int64_t j = 0; j < cs->n_cols; j++)
        b += dp_marginal_sizeof(&cs->marg[j]) - sizeof(dp_marginal);
    return b;
}

size_t dp_colstats_estimate(int64_t n_cols, int64_t rows, const dp_colstats_opts *o) {
    dp_colstats_opts def;
    if (o == NULL) {
        dp_colstats_opts_default(&def);
        o = &def;
    }
    size_t per = sizeof(dp_moments) + dp_marginal_estimate(o->exact_distinct, o->kll_k, rows);
    size_t total;
    if (n_cols < 0 || !dp_mul_size((size_t) n_cols, per, &total))
        return SIZE_MAX;
    return total + sizeof(dp_colstats);
}
