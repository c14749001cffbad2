/* Scans: decode workers fill row-group slots; the caller's thread cuts batches from them.
 *
 * Synchronisation: one mutex guards the slot ring. Slot k % DP__SLOTS holds task k (the k-th row
 * group to decode). Workers take (slot, column) pieces of the oldest slot that still has columns
 * to hand out; the consumer waits until every column of its current slot is decoded, copies rows
 * out, and on leaving a slot assigns it the next task. A worker error is stored in its slot and
 * reported when the consumer reaches that slot, so errors surface in row order.
 */
#include "batch/dp_scan.h"
#include "util/dp_alloc.h"
#include "util/dp_checksum.h"
#include "util/dp_limits.h"
#include "util/dp_log.h"
#include "util/dp_progress.h"
#include "util/dp_rng.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DP__SLOTS 2

/* An open file shared by the slots that read from it. Guarded by the scan mutex. */
typedef struct dp__fref {
    int32_t file;
    dp_pq_file *f;
    int32_t *colmap; /* selected column -> file column, -1 when absent */
    int refs;
} dp__fref;

typedef struct dp__slot {
    int64_t task;     /* task number held, -1 = none */
    int32_t rg_index; /* global row-group index */
    int64_t rows;
    dp__fref *fref;
    int32_t cols_next; /* next column to hand out */
    int32_t cols_done;
    dp_status st;
    dp_error err;
    double *data;    /* ld = scan->slot_ld */
    int64_t *sample; /* SAMPLE mode: rows of this row group to deliver (relative) */
    int64_t n_sample;
} dp__slot;

struct dp_scan {
    const dp_dataset *ds;
    int32_t *cols;
    int32_t n_cols;
    dp_scan_options o;
    int64_t slot_ld;
    dp__slot slots[DP__SLOTS];
    dp__fref frefs[DP__SLOTS + 1];

    pthread_mutex_t mu;
    pthread_cond_t cv_work; /* workers wait for pieces */
    pthread_cond_t cv_done; /* consumer waits for slots */
    pthread_t *workers;
    int n_workers;
    bool stop;

    /* consumer side */
    int64_t next_assign_task; /* task number the next assigned slot gets */
    int32_t next_rg;          /* next global row group to consider for assignment */
    int64_t cur_task;         /* task being consumed */
    int64_t pos;              /* position within the current slot (row, or sample index) */
    int64_t row_offset;       /* row_offset of the next delivered row */
    bool at_boundary;
    int32_t boundary_rg; /* first rg of the task following the finished one */
    bool done;
    dp_batch batch; /* gathered rows (sample / filtered scans) */
    dp_batch view;  /* plain scans: a window into the current slot, no copy */
    int64_t input_rows_done;
    int64_t input_rows_total;
    uint64_t bytes_read;
    dp_progress *progress;

    /* SAMPLE mode: the sample of the file currently being assigned */
    int32_t sample_file;
    int64_t *sample_rows;
    int64_t n_sample_rows;
    int64_t sample_cap;
};

/* ---- sampling and filtering ---------------------------------------------------------------- */

void dp_scan_sample_rows(uint64_t seed, const char *base_name, int64_t rows, int64_t k,
                         int64_t *out) {
    if (k >= rows) {
        for (int64_t i = 0; i < rows; i++)
            out[i] = i;
        return;
    }
    /* Selection sampling (Knuth, TAOCP vol. 2, Algorithm S): row i is taken with probability
     * (still needed) / (rows left). One pass, exactly k rows, already sorted, and the stream
     * depends only on (seed, base name, rows, k). */
    dp_rng r;
    dp_rng_seed_key(&r, seed, base_name, 0x5a3b1e);
    int64_t n = 0;
    for (int64_t i = 0; i < rows && n < k; i++) {
        if ((double) (rows - i) * dp_rng_uniform(&r) < (double) (k - n))
            out[n++] = i;
    }
}

bool dp_scan_keeps_row(double keep_fraction, uint64_t keep_seed, int64_t r) {
    if (!(keep_fraction > 0) || keep_fraction >= 1)
        return true;
    uint64_t h = dp_hash64_combine(keep_seed, (uint64_t) r);
    return (double) (h >> 11) * 0x1.0p-53 < keep_fraction;
}

/* ---- files --------------------------------------------------------------------------------- */

static void dp__fref_release(dp_scan *s, dp__fref *fr) {
    (void) s;
    if (fr == NULL)
        return;
    if (--fr->refs == 0) {
        dp_pq_file_free(fr->f);
        dp_free(fr->colmap);
        fr->f = NULL;
        fr->colmap = NULL;
        fr->file = -1;
    }
}

/* Called with the mutex held; may open a file (slow, but only once per file). */
static dp_status dp__fref_get(dp_scan *s, int32_t file, dp__fref **out, dp_error *err) {
    for (int i = 0; i < DP__SLOTS + 1; i++)
        if (s->frefs[i].refs > 0 && s->frefs[i].file == file) {
            s->frefs[i].refs++;
            *out = &s->frefs[i];
            return DP_OK;
        }
    dp__fref *fr = NULL;
    for (int i = 0; i < DP__SLOTS + 1; i++)
        if (s->frefs[i].refs == 0) {
            fr = &s->frefs[i];
            break;
        }
    DP_ASSERT(fr != NULL);
    const dp_dataset_file *df = dp_dataset_file_at(s->ds, file);
    DP_TRY(dp_pq_file_open(df->path, &fr->f, err));
    if (dp_pq_file_footer_hash(fr->f) != df->footer_hash) {
        dp_pq_file_free(fr->f);
        fr->f = NULL;
        return dp_error_set(err, DP_STATE, "%s changed since the dataset was opened", df->path);
    }
    fr->colmap = dp_mallocarray((size_t) (s->n_cols > 0 ? s->n_cols : 1), sizeof(int32_t));
    if (fr->colmap == NULL) {
        dp_pq_file_free(fr->f);
        fr->f = NULL;
        return dp_error_set(err, DP_NOMEM, "out of memory");
    }
    for (int32_t k = 0; k < s->n_cols; k++) {
        const char *name = dp_dataset_column_at(s->ds, s->cols[k])->name;
        fr->colmap[k] = dp_pq_file_find_column(fr->f, name);
    }
    fr->file = file;
    fr->refs = 1;
    *out = fr;
    return DP_OK;
}

/* ---- workers ------------------------------------------------------------------------------- */

typedef struct {
    dp_scan *s;
} dp__worker_arg;

static void *dp__worker(void *arg) {
    dp_scan *s = arg;
    dp_pq_decoder *dec = NULL;
    dp_pq_decoder_options dopts = {.verify_crc = !s->o.no_verify_crc};
    dp_error derr;
    dp_status dst = dp_pq_decoder_create(&dopts, &dec, &derr);
    pthread_mutex_lock(&s->mu);
    while (!s->stop) {
        /* Oldest slot with columns left to hand out. */
        dp__slot *slot = NULL;
        for (int i = 0; i < DP__SLOTS; i++) {
            dp__slot *c = &s->slots[i];
            if (c->task >= 0 && c->cols_next < s->n_cols && (slot == NULL || c->task < slot->task))
                slot = c;
        }
        if (slot == NULL) {
            pthread_cond_wait(&s->cv_work, &s->mu);
            continue;
        }
        int32_t k = slot->cols_next++;
        dp__fref *fr = slot->fref;
        int32_t rg = dp_dataset_rg_at(s->ds, slot->rg_index)->rg;
        double *dst_col = slot->data + (size_t) k * (size_t) s->slot_ld;
        int64_t rows = slot->rows;
        bool failed = slot->st != DP_OK;
        pthread_mutex_unlock(&s->mu);

        dp_status st = DP_OK;
        dp_error err;
        int64_t n_null = 0;
        if (failed) {
            st = DP_OK; /* the slot already failed: skip the work */
        } else if (dst != DP_OK) {
            st = dst;
            err = derr;
        } else if (fr->colmap[k] < 0) {
            const uint64_t null_bits = DP_PQ_NULL_BITS;
            for (int64_t i = 0; i < rows; i++)
                memcpy(&dst_col[i], &null_bits, 8);
        } else {
            st = dp_pq_read_doubles(dec, fr->f, rg, fr->colmap[k], dst_col, &n_null, &err);
        }
        uint64_t chunk_bytes = 0;
        if (st == DP_OK && !failed && fr->colmap[k] >= 0) {
            const dp_pq_file_meta *m = dp_pq_file_metadata(fr->f);
            chunk_bytes =
                (uint64_t) m->row_groups[rg].columns[fr->colmap[k]].meta.total_compressed_size;
        }

        pthread_mutex_lock(&s->mu);
        s->bytes_read += chunk_bytes;
        if (st != DP_OK && slot->st == DP_OK) {
            slot->st = st;
            slot->err = err;
        }
        slot->cols_done++;
        if (slot->cols_done == s->n_cols)
            pthread_cond_broadcast(&s->cv_done);
    }
    pthread_mutex_unlock(&s->mu);
    dp_pq_decoder_free(dec);
    return NULL;
}

/* ---- assignment (consumer thread) ---------------------------------------------------------- */

/* Next row group to decode at or after s->next_rg; -1 when none. SAMPLE mode computes the file's
 * sample when it enters a new file and skips row groups without sampled rows. */
static dp_status dp__next_task_rg(dp_scan *s, int32_t *rg_out, dp_error *err) {
    int32_t n = dp_dataset_n_row_groups(s->ds);
    if (s->o.end_rg > 0 && s->o.end_rg < n)
        n = s->o.end_rg;
    while (s->next_rg < n) {
        const dp_dataset_rg *g = dp_dataset_rg_at(s->ds, s->next_rg);
        if (g->rows == 0) {
            s->next_rg++;
            continue;
        }
        if (s->o.mode == DP_SCAN_SAMPLE) {
            if (s->sample_file != g->file) {
                const dp_dataset_file *df = dp_dataset_file_at(s->ds, g->file);
                int64_t k = df->rows < s->o.sample_per_file ? df->rows : s->o.sample_per_file;
                if (k > s->sample_cap) {
                    int64_t *nr = dp_reallocarray(s->sample_rows, (size_t) k, sizeof *nr);
                    if (nr == NULL)
                        return dp_error_set(err, DP_NOMEM, "out of memory for %lld sampled rows",
                                            (long long) k);
                    s->sample_rows = nr;
                    s->sample_cap = k;
                }
                dp_scan_sample_rows(s->o.seed, df->base_name, df->rows, k, s->sample_rows);
                s->n_sample_rows = k;
                s->sample_file = g->file;
            }
            int64_t lo = g->first_row - dp_dataset_file_at(s->ds, g->file)->first_row;
            int64_t hi = lo + g->rows;
            bool any = false;
            for (int64_t i = 0; i < s->n_sample_rows && !any; i++)
                any = s->sample_rows[i] >= lo && s->sample_rows[i] < hi;
            if (!any) {
                s->input_rows_total -= g->rows;
                s->next_rg++;
                continue;
            }
        }
        *rg_out = s->next_rg++;
        return DP_OK;
    }
    *rg_out = -1;
    return DP_OK;
}

/* Give slot `slot` the next task (mutex held). */
static dp_status dp__assign(dp_scan *s, dp__slot *slot, dp_error *err) {
    int32_t rg;
    DP_TRY(dp__next_task_rg(s, &rg, err));
    if (rg < 0) {
        slot->task = -1;
        return DP_OK;
    }
    const dp_dataset_rg *g = dp_dataset_rg_at(s->ds, rg);
    dp__fref *fr = NULL;
    DP_TRY(dp__fref_get(s, g->file, &fr, err));
    slot->fref = fr;
    slot->rg_index = rg;
    slot->rows = g->rows;
    slot->cols_next = 0;
    slot->cols_done = 0;
    slot->st = DP_OK;
    slot->n_sample = 0;
    if (s->o.mode == DP_SCAN_SAMPLE) {
        int64_t lo = g->first_row - dp_dataset_file_at(s->ds, g->file)->first_row;
        for (int64_t i = 0; i < s->n_sample_rows; i++)
            if (s->sample_rows[i] >= lo && s->sample_rows[i] < lo + g->rows)
                slot->sample[slot->n_sample++] = s->sample_rows[i] - lo;
    }
    slot->task = s->next_assign_task++;
    if (s->n_cols == 0) {
        /* Nothing to decode: the slot is complete at once. */
        slot->cols_next = 0;
    }
    pthread_cond_broadcast(&s->cv_work);
    return DP_OK;
}

/* ---- open / free --------------------------------------------------------------------------- */

static int64_t dp__eff_batch_rows(const dp_dataset *ds, const dp_scan_options *o) {
    int64_t b = o->batch_rows > 0 ? o->batch_rows : 65536;
    if (b > DP_LIMIT_BATCH_ROWS_MAX)
        b = DP_LIMIT_BATCH_ROWS_MAX;
    int64_t m = dp_dataset_max_rg_rows(ds);
    if (m > 0 && b > m)
        b = m; /* batches never span row groups */
    return b > 0 ? b : 1;
}

int64_t dp_scan_plan_bytes(const dp_dataset *ds, int32_t n_cols, const dp_scan_options *opts) {
    int64_t rg = dp_dataset_max_rg_rows(ds);
    int64_t b = dp__eff_batch_rows(ds, opts);
    int threads = opts->threads > 0 ? opts->threads : (int) sysconf(_SC_NPROCESSORS_ONLN);
    /* Per worker: one compressed chunk (about rows x 8 bytes for doubles) and one page. */
    return (int64_t) DP__SLOTS * rg * n_cols * 8 + b * n_cols * 8 + (int64_t) threads * rg * 16;
}

dp_status dp_scan_open(const dp_dataset *ds, const int32_t *cols, int32_t n_cols,
                       const dp_scan_options *opts, dp_scan **out, dp_error *err) {
    *out = NULL;
    dp_status st = DP_OK;
    dp_scan *s = dp_calloc(1, sizeof *s);
    if (s == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    s->ds = ds;
    s->o = *opts;
    s->n_cols = n_cols;
    s->sample_file = -1;
    for (int i = 0; i < DP__SLOTS + 1; i++)
        s->frefs[i].file = -1;
    for (int i = 0; i < DP__SLOTS; i++)
        s->slots[i].task = -1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv_work, NULL);
    pthread_cond_init(&s->cv_done, NULL);
    if (s->o.mode == DP_SCAN_SAMPLE && s->o.sample_per_file <= 0)
        DP_FAIL(err, DP_INVALID_ARG, "sample scans need --sample-per-file > 0");

    s->cols = dp_mallocarray((size_t) (n_cols > 0 ? n_cols : 1), sizeof *s->cols);
    if (s->cols == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    memcpy(s->cols, cols, (size_t) n_cols * sizeof *cols);
    s->slot_ld = dp_dataset_max_rg_rows(ds) > 0 ? dp_dataset_max_rg_rows(ds) : 1;
    size_t slot_cells;
    if (!dp_mul_size((size_t) s->slot_ld, (size_t) (n_cols > 0 ? n_cols : 1), &slot_cells))
        DP_FAIL(err, DP_LIMIT, "row-group slot too large");
    for (int i = 0; i < DP__SLOTS; i++) {
        s->slots[i].data = dp_mallocarray(slot_cells, sizeof(double));
        if (s->slots[i].data == NULL)
            DP_FAIL(err, DP_NOMEM,
                    "cannot allocate a row-group buffer of %lld rows x %d columns (%.1f GiB): the "
                    "largest row group of the input is too big for this machine's memory",
                    (long long) s->slot_ld, n_cols, (double) slot_cells * 8 / (1 << 30));
        if (s->o.mode == DP_SCAN_SAMPLE) {
            s->slots[i].sample = dp_mallocarray((size_t) s->slot_ld, sizeof(int64_t));
            if (s->slots[i].sample == NULL)
                DP_FAIL(err, DP_NOMEM, "out of memory");
        }
    }
    bool gather =
        opts->mode == DP_SCAN_SAMPLE || (opts->keep_fraction > 0 && opts->keep_fraction < 1);
    if (gather) {
        DP_CHECK(dp_batch_init(&s->batch, dp__eff_batch_rows(ds, opts), n_cols, err));
    } else {
        /* Plain scans hand out windows into the row-group slot: only the counts are owned. */
        s->view.counts = dp_calloc((size_t) (n_cols > 0 ? n_cols : 1), sizeof *s->view.counts);
        if (s->view.counts == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory");
        s->view.n_cols = n_cols;
        s->view.ld = s->view.cap_rows = s->slot_ld;
        s->batch.cap_rows = dp__eff_batch_rows(ds, opts);
    }
    s->row_offset = opts->start_row_offset;
    s->next_rg = opts->start_rg > 0 ? opts->start_rg : 0;
    s->input_rows_total = dp_dataset_n_rows(ds);
    for (int32_t r = 0; r < dp_dataset_n_row_groups(ds); r++) {
        if (r < s->next_rg || (opts->end_rg > 0 && r >= opts->end_rg))
            s->input_rows_total -= dp_dataset_rg_at(ds, r)->rows;
    }
    if (s->o.progress_label != NULL)
        s->progress =
            dp_progress_create(s->o.progress_label, s->input_rows_total, dp_dataset_bytes(ds));
    int threads = opts->threads > 0 ? opts->threads : (int) sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    if (threads > 256)
        threads = 256;
    dp_log_verbose("scan: %d columns, %d decode threads, batches of %lld rows, planned memory "
                   "%.1f MiB",
                   n_cols, threads, (long long) s->batch.cap_rows,
                   (double) dp_scan_plan_bytes(ds, n_cols, opts) / (1 << 20));

    pthread_mutex_lock(&s->mu);
    for (int i = 0; i < DP__SLOTS && st == DP_OK; i++)
        st = dp__assign(s, &s->slots[i], err);
    pthread_mutex_unlock(&s->mu);
    if (st != DP_OK)
        goto cleanup;
    s->cur_task = 0;

    s->workers = dp_calloc((size_t) threads, sizeof *s->workers);
    if (s->workers == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    for (int i = 0; i < threads; i++) {
        if (pthread_create(&s->workers[i], NULL, dp__worker, s) != 0)
            DP_FAIL(err, DP_IO, "cannot start decode thread %d", i);
        s->n_workers++;
    }
    *out = s;
    return DP_OK;
cleanup:
    dp_scan_free(s);
    return st;
}

void dp_scan_free(dp_scan *s) {
    if (s == NULL)
        return;
    pthread_mutex_lock(&s->mu);
    s->stop = true;
    pthread_cond_broadcast(&s->cv_work);
    pthread_mutex_unlock(&s->mu);
    for (int i = 0; i < s->n_workers; i++)
        pthread_join(s->workers[i], NULL);
    dp_free(s->workers);
    for (int i = 0; i < DP__SLOTS; i++) {
        if (s->slots[i].task >= 0 && s->slots[i].fref != NULL)
            dp__fref_release(s, s->slots[i].fref);
        dp_free(s->slots[i].data);
        dp_free(s->slots[i].sample);
    }
    for (int i = 0; i < DP__SLOTS + 1; i++) {
        dp_pq_file_free(s->frefs[i].f);
        dp_free(s->frefs[i].colmap);
    }
    dp_progress_free(s->progress);
    dp_batch_reset(&s->batch);
    dp_free(s->view.counts);
    dp_free(s->sample_rows);
    dp_free(s->cols);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv_work);
    pthread_cond_destroy(&s->cv_done);
    dp_free(s);
}

/* ---- next ---------------------------------------------------------------------------------- */

/* Count one non-finite value by kind: the reader's NULL pattern, another NaN, +Inf or -Inf. */
static void dp__count_missing(double v, dp_batch_counts *c) {
    if (isnan(v)) {
        uint64_t bits;
        memcpy(&bits, &v, 8);
        if (bits == DP_PQ_NULL_BITS)
            c->n_null++;
        else
            c->n_nan++;
    } else if (v > 0) {
        c->n_posinf++;
    } else {
        c->n_neginf++;
    }
}

/* Copy source rows into batch column j, converting to the batch's NaN convention and counting
 * the kinds of missing values. src may equal dst (plain scans normalise the slot in place: then
 * only the rare non-finite values are written). */
static void dp__copy_col(const double *src, const int64_t *rows, int64_t n, double *dst,
                         dp_batch_counts *c) {
    memset(c, 0, sizeof *c);
    if (rows == NULL && src == dst) {
        for (int64_t i = 0; i < n; i++) {
            if (DP_UNLIKELY(!isfinite(dst[i]))) {
                dp__count_missing(dst[i], c);
                dst[i] = NAN;
            }
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        double v = rows != NULL ? src[rows[i]] : src[i];
        if (DP_UNLIKELY(!isfinite(v))) {
            dp__count_missing(v, c);
            v = NAN;
        }
        dst[i] = v;
    }
}

dp_status dp_scan_next(dp_scan *s, const dp_batch **batch, dp_error *err) {
    *batch = NULL;
    if (s->done)
        return DP_OK;
    dp_status st = DP_OK;
    int64_t kept_idx[4096];
again:
    pthread_mutex_lock(&s->mu);
    for (;;) {
        dp__slot *slot = &s->slots[s->cur_task % DP__SLOTS];
        if (slot->task != s->cur_task) {
            /* No such task: the scan is over. */
            s->done = true;
            pthread_mutex_unlock(&s->mu);
            dp_progress_update(s->progress, s->input_rows_done, s->bytes_read);
            dp_progress_finish(s->progress);
            return DP_OK;
        }
        while (slot->cols_done < s->n_cols && !s->stop)
            pthread_cond_wait(&s->cv_done, &s->mu);
        if (slot->st != DP_OK) {
            st = slot->st;
            if (err != NULL)
                *err = slot->err;
            s->done = true;
            break;
        }
        int64_t limit = s->o.mode == DP_SCAN_SAMPLE ? slot->n_sample : slot->rows;
        if (s->pos >= limit) {
            /* Leave this slot: account its rows, release its file, give it the next task. */
            s->input_rows_done += slot->rows;
            dp__fref_release(s, slot->fref);
            slot->fref = NULL;
            slot->task = -1;
            st = dp__assign(s, slot, err);
            if (st != DP_OK) {
                s->done = true;
                break;
            }
            s->cur_task++;
            s->pos = 0;
            continue;
        }
        pthread_mutex_unlock(&s->mu);

        /* Cut a batch from [pos, ...) of this slot. */
        const dp_dataset_rg *g = dp_dataset_rg_at(s->ds, slot->rg_index);
        dp_batch *b = &s->batch;
        int64_t cap = b->cap_rows;
        int64_t start = s->pos;
        int64_t n = 0;
        const int64_t *rows = NULL;
        if (s->o.mode == DP_SCAN_SAMPLE) {
            n = DP_MIN(cap, limit - start);
            rows = slot->sample + start;
            s->pos += n;
        } else if (s->o.keep_fraction > 0 && s->o.keep_fraction < 1) {
            /* Filtered: collect kept rows (at most cap and the index buffer). */
            int64_t room = DP_MIN(cap, (int64_t) DP_ARRAY_LEN(kept_idx));
            int64_t i = start;
            while (i < limit && n < room) {
                if (dp_scan_keeps_row(s->o.keep_fraction, s->o.keep_seed, g->first_row + i))
                    kept_idx[n++] = i;
                i++;
            }
            s->pos = i;
            rows = kept_idx;
        } else {
            n = DP_MIN(cap, limit - start);
            s->pos += n;
        }
        if (rows == NULL) {
            /* A window of the slot; missing values are normalised in place (each row range is
             * handed out once). */
            b = &s->view;
            b->values = slot->data + start;
            for (int32_t j = 0; j < s->n_cols; j++) {
                double *col = slot->data + (size_t) j * (size_t) s->slot_ld + start;
                dp__copy_col(col, NULL, n, col, &b->counts[j]);
            }
        } else {
            for (int32_t j = 0; j < s->n_cols; j++) {
                const double *src = slot->data + (size_t) j * (size_t) s->slot_ld;
                dp__copy_col(src, rows, n, dp_batch_col(b, j), &b->counts[j]);
            }
        }
        b->n_rows = n;
        b->row_offset = s->row_offset;
        b->file_index = g->file;
        s->row_offset += n;
        pthread_mutex_lock(&s->mu);
        s->at_boundary = s->pos >= limit;
        if (s->at_boundary)
            s->boundary_rg = slot->rg_index + 1;
        int64_t done_rows =
            s->input_rows_done +
            (s->o.mode == DP_SCAN_SAMPLE ? (limit ? slot->rows * s->pos / limit : 0) : s->pos);
        uint64_t bytes = s->bytes_read;
        pthread_mutex_unlock(&s->mu);
        if (s->o.progress_extra != NULL && s->progress != NULL) {
            char extra[128];
            s->o.progress_extra(s->o.progress_extra_ctx, extra, (int) sizeof extra);
            dp_progress_set_extra(s->progress, extra);
        }
        dp_progress_update(s->progress, done_rows, bytes);
        if (n == 0)
            goto again; /* the filter dropped every row of this stretch */
        *batch = b;
        return DP_OK;
    }
    pthread_mutex_unlock(&s->mu);
    return st;
}

dp_status dp_scan_row_offset_at(const dp_dataset *ds, const dp_scan_options *opts, int32_t rg,
                                int64_t *row_offset, dp_error *err) {
    *row_offset = 0;
    int32_t n_rg = dp_dataset_n_row_groups(ds);
    if (rg <= 0)
        return DP_OK;
    int64_t first = rg < n_rg ? dp_dataset_rg_at(ds, rg)->first_row : dp_dataset_n_rows(ds);
    if (opts->mode == DP_SCAN_SAMPLE) {
        if (opts->sample_per_file <= 0)
            return dp_error_set(err, DP_INVALID_ARG, "sample scans need --sample-per-file > 0");
        /* Whole files before rg's file deliver min(K, rows) each; rg's own file delivers its
         * sampled rows that lie before rg. */
        int32_t file = rg < n_rg ? dp_dataset_rg_at(ds, rg)->file : dp_dataset_n_files(ds);
        int64_t off = 0;
        for (int32_t f = 0; f < file; f++) {
            int64_t rows = dp_dataset_file_at(ds, f)->rows;
            off += rows < opts->sample_per_file ? rows : opts->sample_per_file;
        }
        if (file < dp_dataset_n_files(ds)) {
            const dp_dataset_file *df = dp_dataset_file_at(ds, file);
            int64_t k = df->rows < opts->sample_per_file ? df->rows : opts->sample_per_file;
            int64_t *rows = dp_mallocarray((size_t) (k > 0 ? k : 1), sizeof *rows);
            if (rows == NULL)
                return dp_error_set(err, DP_NOMEM, "out of memory for %lld sampled rows",
                                    (long long) k);
            dp_scan_sample_rows(opts->seed, df->base_name, df->rows, k, rows);
            for (int64_t i = 0; i < k && rows[i] < first - df->first_row; i++)
                off++;
            dp_free(rows);
        }
        *row_offset = off;
    } else if (opts->keep_fraction > 0 && opts->keep_fraction < 1) {
        int64_t off = 0;
        for (int64_t r = 0; r < first; r++)
            off += dp_scan_keeps_row(opts->keep_fraction, opts->keep_seed, r);
        *row_offset = off;
    } else {
        *row_offset = first;
    }
    return DP_OK;
}

bool dp_scan_at_rg_boundary(const dp_scan *s) {
    return s->at_boundary;
}

void dp_scan_position(const dp_scan *s, int32_t *next_rg, int64_t *next_row_offset) {
    *next_rg = s->boundary_rg;
    *next_row_offset = s->row_offset;
}

int64_t dp_scan_input_rows_done(const dp_scan *s) {
    return s->input_rows_done;
}
int64_t dp_scan_input_rows_total(const dp_scan *s) {
    return s->input_rows_total;
}
uint64_t dp_scan_bytes_read(const dp_scan *s) {
    return s->bytes_read;
}
