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
 *
 * Under MPI with more than one rank (pipeline/dp_dist.h) the job scans only this rank's range of
 * row groups, checkpoints to its own file (ckpt_path + ".rank<r>of<n>", key mixed with the rank
 * and the rank count), and the ranks' states are merged on rank 0 with `save` and `merge`;
 * afterwards only rank 0 holds the whole result (dp__dist_follower() tells the others to skip
 * what follows the scan). With one rank nothing of this happens: same files, same bits.
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
    /* Add the state `save` wrote on another rank (whose rows come after this one's). */
    dp_status (*merge)(void *ctx, const uint8_t *data, size_t len, dp_error *err);
    void *ctx;
    const char *ckpt_path; /* NULL: no checkpoints */
    uint64_t key;
    double interval; /* seconds between checkpoints; 0 = at every row-group boundary */
    /* Filled in: */
    bool resumed;
    int64_t rows_delivered;
    int64_t checkpoints_written;
    int32_t end_rg; /* position after the last row group scanned (for save_end) */
    int64_t end_row_offset;
} dp__scan_job;

/* Run the job: alone, or this rank's share and the merge when MPI runs several ranks. */
dp_status dp__scan_job_run(dp__scan_job *job, dp_error *err) DP_MUST_USE;

/* The part of a job one process runs (used by dp_dist.c). The scan covers row groups
 * [rg_begin, rg_end) (empty when rg_end <= rg_begin) starting at row_offset `off0`; `tick`, when
 * set, is called after every batch and returns true to make the job stop like an interrupt (state
 * saved at the next row-group boundary, DP_INTERRUPTED). save_at_end: write a checkpoint when the
 * scan completes (a rank that finished while another failed keeps its work). */
typedef struct dp__scan_part {
    int32_t rg_begin, rg_end;
    int64_t off0;
    const char *ckpt_path;
    uint64_t key;
    bool (*tick)(void *tctx, const dp_scan *scan);
    void *tctx;
    bool quiet; /* no progress display of its own */
} dp__scan_part;
dp_status dp__scan_job_part(dp__scan_job *job, const dp__scan_part *part,
                            dp_error *err) DP_MUST_USE;
/* Write a checkpoint of the job's current state at the end of part's range. */
dp_status dp__scan_job_save_end(dp__scan_job *job, const dp__scan_part *part,
                                dp_error *err) DP_MUST_USE;
/* Remove the checkpoint files of a scan: ckpt_path and every ckpt_path.rank* (all layouts). */
void dp__scan_job_drop_checkpoints(const char *ckpt_path);

/* Process-wide interrupt flag, set by the SIGINT/SIGTERM handler dp__interrupt_install puts in
 * place (dp_run does); jobs check it between batches. */
void dp__interrupt_install(void);
void dp__interrupt_restore(void);
bool dp__interrupted(void);
/* For tests: pretend a signal arrived. */
void dp__interrupt_raise(void);

#endif
