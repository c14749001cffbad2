/* dp_scanjob.h: a scan that feeds accumulators and can be interrupted and resumed.
 *
 * The job runs one scan over the given columns and hands every batch to `consume`. Every
 * `interval` seconds (and when SIGINT/SIGTERM was received) it waits for the next row-group
 * boundary and writes a checkpoint: the accumulators' state (`save`), the scan position and the
 * job's `key` (a hash of everything the result depends on), as one record with a CRC, to a
 * temporary file that is fsynced and renamed over `ckpt_path`. On start, a checkpoint whose key
 * matches is loaded (`load`) and the scan resumes at its position, so an interrupted or killed
 * job finishes with the same bits as an uninterrupted one; a checkpoint that does not match or
 * fails its checks is reported and ignored. After an interrupt the job returns DP_INTERRUPTED
 * with the state saved.
 * Thread safety: one job at a time per process (the interrupt flag is process-wide).
 */
#ifndef DP_PIPELINE_SCANJOB_H
#define DP_PIPELINE_SCANJOB_H

#include "batch/dp_scan.h"

typedef struct dp__scan_job {
    const char *label; /* "pass 1 scan" (progress, messages) */
    const dp_dataset *ds;
    const int32_t *cols;
    int32_t n_cols;
    dp_scan_options so; /* start position and progress label are set by the job */
    dp_status (*consume)(void *ctx, const dp_batch *b, dp_error *err);
    dp_status (*save)(void *ctx, dp_buf *out, dp_error *err);
    dp_status (*load)(void *ctx, const uint8_t *data, size_t len, dp_error *err);
    void *ctx;
    const char *ckpt_path; /* NULL: no checkpoints */
    uint64_t key;
    double interval; /* seconds between checkpoints; 0 = at every row-group boundary */
    /* Filled in: */
    bool resumed;
    int64_t rows_delivered;
    int64_t checkpoints_written;
} dp__scan_job;

dp_status dp__scan_job_run(dp__scan_job *job, dp_error *err) DP_MUST_USE;

/* Process-wide interrupt flag, set by the SIGINT/SIGTERM handler dp__interrupt_install puts in
 * place (dp_run does); jobs check it between batches. */
void dp__interrupt_install(void);
void dp__interrupt_restore(void);
bool dp__interrupted(void);
/* For tests: pretend a signal arrived. */
void dp__interrupt_raise(void);

#endif
