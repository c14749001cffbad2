#include "pipeline/dp_models.h"
#include "pipeline/dp_outputs.h"
#include "util/dp_alloc.h"
#include "util/dp_serial.h"

#include <string.h>

#define DP__MODELS_MAGIC   0x4d315044u /* "DP1M" */
#define DP__MODELS_VERSION 1u

void dp__models_reset(dp__models *ms) {
    for (int64_t i = 0; i < ms->n; i++) {
        dp_free(ms->m[i].name);
        dp_marginal_fit_reset(&ms->m[i].fit);
    }
    dp_free(ms->m);
    memset(ms, 0, sizeof *ms);
}

dp_status dp__models_alloc(dp__models *ms, int64_t n, dp_error *err) {
    memset(ms, 0, sizeof *ms);
    ms->m = dp_calloc((size_t) (n > 0 ? n : 1), sizeof *ms->m);
    if (ms->m == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory for %lld column models", (long long) n);
    ms->n = n;
    for (int64_t i = 0; i < n; i++)
        dp_marginal_fit_init(&ms->m[i].fit);
    return DP_OK;
}

dp_status dp__models_write(const char *path, const dp__models *ms, uint32_t *crc, dp_error *err) {
    dp_buf b;
    dp_buf_init(&b);
    dp_status st = dp__models_serialize(ms, &b, err);
    if (st == DP_OK)
        st = dp__write_file(path, b.data, b.size, crc, err);
    dp_buf_reset(&b);
    return st;
}

dp_status dp__models_serialize(const dp__models *ms, dp_buf *b, dp_error *err) {
    dp_serial_writer w;
    dp_sw_begin(&w, b, DP__MODELS_MAGIC, DP__MODELS_VERSION);
    dp_sw_i64(&w, ms->n);
    for (int64_t i = 0; i < ms->n; i++) {
        const dp__model *m = &ms->m[i];
        const dp_marginal_fit *f = &m->fit;
        dp_sw_str(&w, m->name);
        dp_sw_f64(&w, m->mean);
        dp_sw_f64(&w, m->clip_lo);
        dp_sw_f64(&w, m->clip_hi);
        dp_sw_i64(&w, m->n_missing);
        dp_sw_i64(&w, m->rows);
        dp_sw_u8(&w, (uint8_t) f->kind);
        dp_sw_i64(&w, f->n);
        dp_sw_i64(&w, f->n_knots);
        dp_sw_f64(&w, f->min);
        dp_sw_f64(&w, f->max);
        dp_sw_i64(&w, f->distinct);
        dp_sw_u8(&w, f->distinct_exact);
        if (f->n_knots > 0) {
            dp_sw_f64_array(&w, f->values, (size_t) f->n_knots);
            dp_sw_f64_array(&w, f->lo, (size_t) f->n_knots);
            dp_sw_f64_array(&w, f->hi, (size_t) f->n_knots);
        }
    }
    return dp_sw_end(&w, err);
}

dp_status dp__models_read(const char *path, dp__models *ms, dp_error *err) {
    memset(ms, 0, sizeof *ms);
    dp_buf b;
    dp_buf_init(&b);
    dp_status st = dp__read_file(path, (size_t) 1 << 36, &b, err);
    if (st == DP_OK)
        st = dp__models_parse(b.data, b.size, path, ms, err);
    dp_buf_reset(&b);
    return st;
}

dp_status dp__models_parse(const uint8_t *data, size_t len, const char *path, dp__models *ms,
                           dp_error *err) {
    memset(ms, 0, sizeof *ms);
    double *tmp = NULL;
    dp_status st = DP_OK;
    dp_serial_reader r;
    DP_CHECK(dp_sr_begin(&r, data, len, DP__MODELS_MAGIC, DP__MODELS_VERSION, path, NULL, err));
    int64_t n;
    if (!dp_sr_i64(&r, &n) || n < 0 || (uint64_t) n > dp_sr_remaining(&r))
        DP_FAIL(err, DP_CORRUPT, "%s: bad column count", path);
    DP_CHECK(dp__models_alloc(ms, n, err));
    for (int64_t i = 0; i < n; i++) {
        dp__model *m = &ms->m[i];
        const char *name;
        size_t nl;
        uint8_t kind, exact;
        dp_marginal_fit f;
        dp_marginal_fit_init(&f);
        int64_t knots;
        if (!dp_sr_str(&r, &name, &nl) || !dp_sr_f64(&r, &m->mean) || !dp_sr_f64(&r, &m->clip_lo) ||
            !dp_sr_f64(&r, &m->clip_hi) || !dp_sr_i64(&r, &m->n_missing) ||
            !dp_sr_i64(&r, &m->rows) || !dp_sr_u8(&r, &kind) || !dp_sr_i64(&r, &f.n) ||
            !dp_sr_i64(&r, &knots) || !dp_sr_f64(&r, &f.min) || !dp_sr_f64(&r, &f.max) ||
            !dp_sr_i64(&r, &f.distinct) || !dp_sr_u8(&r, &exact) || knots < 0 || kind > 2 ||
            (uint64_t) knots > dp_sr_remaining(&r) / 24)
            DP_FAIL(err, DP_CORRUPT, "%s: model %lld is damaged", path, (long long) i);
        m->name = dp_strndup(name, nl);
        if (m->name == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory");
        f.kind = (dp_marginal_kind) kind;
        f.n_knots = knots;
        f.distinct_exact = exact != 0;
        if (knots > 0) {
            tmp = dp_mallocarray((size_t) knots * 3, sizeof(double));
            if (tmp == NULL)
                DP_FAIL(err, DP_NOMEM, "out of memory");
            f.values = tmp;
            f.lo = tmp + knots;
            f.hi = tmp + 2 * knots;
            if (!dp_sr_f64_array(&r, f.values, (size_t) knots) ||
                !dp_sr_f64_array(&r, f.lo, (size_t) knots) ||
                !dp_sr_f64_array(&r, f.hi, (size_t) knots))
                DP_FAIL(err, DP_CORRUPT, "%s: model %lld is damaged", path, (long long) i);
        }
        DP_CHECK(dp_marginal_fit_copy(&f, &m->fit, err));
        dp_free(tmp);
        tmp = NULL;
    }
    DP_CHECK(dp_sr_end(&r, err));
cleanup:
    dp_free(tmp);
    if (st != DP_OK)
        dp__models_reset(ms);
    return st;
}

const dp__model *dp__models_find(const dp__models *ms, const char *name) {
    for (int64_t i = 0; i < ms->n; i++)
        if (strcmp(ms->m[i].name, name) == 0)
            return &ms->m[i];
    return NULL;
}
