/* dp_scan.h: streaming a dataset's selected columns as bounded batches of doubles.
 *
 * A scan decodes row groups on a pool of worker threads (one column chunk per task) into a small
 * ring of row-group slots, and the caller's thread cuts them into dp_batch'es in global row
 * order. Batches never span row groups (so every row-group end is a consistent point for
 * checkpoints) and hold at most `batch_rows` rows; their contents do not depend on the number of
 * threads. Missing values are NaN with per-column counts by kind (NULL, NaN, +Inf, -Inf).
 *
 * Modes: unified (every row group of every file, in order), per-file (the same order; a batch
 * never spans files, and batch->file_index says which file), sample (K rows per file without
 * replacement, chosen by a generator seeded with hash(seed, file base name), so adding or
 * reordering files never changes another file's sample; only row groups holding sampled rows are
 * decoded; files with <= K rows are taken whole). A row filter (keep_fraction < 1) keeps row r iff
 * a hash of (filter seed, global row index) falls below the fraction: a deterministic subsample
 * independent of batching (used for the nonlinear pass).
 *
 * batch->row_offset is the index of the batch's first row among the rows THIS scan delivers (for
 * a full unified scan: the global row index); accumulators align their internal blocks on it.
 *
 * Ranges: start_rg / end_rg restrict a scan to the row-group tasks [start_rg, end_rg) (MPI ranks
 * each scan one contiguous range; checkpoints resume inside one). A ranged scan numbers its rows
 * as the full scan would when start_row_offset = dp_scan_row_offset_at(start_rg), so
 * accumulators fed by consecutive ranges see the same row_offsets as one fed by the full scan.
 *
 * Memory: allocated once at open: 2 row-group slots of (largest row group rows x columns)
 * doubles, one batch of (batch_rows x columns), and per worker one chunk + page buffer. It does
 * not grow with rows or files. dp_scan_plan_bytes() reports it before anything is allocated.
 *
 * Ownership: open/free (free accepts NULL, stops and joins the workers). The batch returned by
 * next() belongs to the scan and is valid until the following next() or free().
 * Thread safety: one thread calls next(); workers are internal.
 */
#ifndef DP_BATCH_SCAN_H
#define DP_BATCH_SCAN_H

#include "batch/dp_batch.h"
#include "batch/dp_dataset.h"

typedef enum dp_scan_mode {
    DP_SCAN_UNIFIED = 0,
    DP_SCAN_PER_FILE = 1,
    DP_SCAN_SAMPLE = 2
} dp_scan_mode;

typedef struct dp_scan_options {
    dp_scan_mode mode;
    int64_t batch_rows;      /* default 65,536 */
    int threads;             /* decode threads; 0 = all cores */
    int64_t sample_per_file; /* SAMPLE mode: K */
    uint64_t seed;           /* SAMPLE mode seed */
    double keep_fraction;    /* row filter: 0 or 1 = keep all */
    uint64_t keep_seed;
    bool no_verify_crc;
    const char *progress_label; /* NULL = no progress display */
    int32_t start_rg;           /* resume: first row-group task (from dp_scan_position) */
    int64_t start_row_offset;   /* resume: row_offset of the first delivered row */
    int32_t end_rg;             /* range: first row group NOT scanned; 0 = to the end */
    /* Optional: extra text for the progress line (device memory), asked for at every batch. */
    void (*progress_extra)(void *ctx, char *buf, int cap);
    void *progress_extra_ctx;
} dp_scan_options;

typedef struct dp_scan dp_scan;

/* Bytes a scan with these options would allocate (slots, batch, decoder estimate). */
int64_t dp_scan_plan_bytes(const dp_dataset *ds, int32_t n_cols, const dp_scan_options *opts);

dp_status dp_scan_open(const dp_dataset *ds, const int32_t *cols, int32_t n_cols,
                       const dp_scan_options *opts, dp_scan **out, dp_error *err) DP_MUST_USE;
/* Next batch; *batch = NULL at the end. Errors name the file, row group and column. */
dp_status dp_scan_next(dp_scan *s, const dp_batch **batch, dp_error *err) DP_MUST_USE;
void dp_scan_free(dp_scan *s);

/* The row_offset a full scan with these options (mode, sample, row filter) gives the first row it
 * delivers from row group rg or later: the global first row of rg in unified and per-file mode,
 * the number of rows the filter keeps (or the sample holds) before rg otherwise. The filter
 * needs one hash per row before rg; SAMPLE mode draws the sample of rg's file. NOMEM. */
dp_status dp_scan_row_offset_at(const dp_dataset *ds, const dp_scan_options *opts, int32_t rg,
                                int64_t *row_offset, dp_error *err) DP_MUST_USE;

/* Position for a checkpoint taken after the last batch returned: the next row-group task and the
 * next row_offset. Valid only when dp_scan_at_rg_boundary() is true. */
bool dp_scan_at_rg_boundary(const dp_scan *s);
void dp_scan_position(const dp_scan *s, int32_t *next_rg, int64_t *next_row_offset);

/* Input rows consumed so far (all rows of finished row groups and the part of the current one),
 * and the total input rows the scan will go through (for progress). */
int64_t dp_scan_input_rows_done(const dp_scan *s);
int64_t dp_scan_input_rows_total(const dp_scan *s);
/* Compressed bytes read so far. */
uint64_t dp_scan_bytes_read(const dp_scan *s);

/* The K sampled row indices (sorted, relative to the file) for a file of `rows` rows: the
 * definition used by SAMPLE scans and `dpipe sample`. out must hold min(K, rows) entries. */
void dp_scan_sample_rows(uint64_t seed, const char *base_name, int64_t rows, int64_t k,
                         int64_t *out);
/* Does the row filter keep global row r? */
bool dp_scan_keeps_row(double keep_fraction, uint64_t keep_seed, int64_t r);

#endif
