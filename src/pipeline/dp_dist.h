/* dp_dist.h: the scans of `run`, `stats` and `corr` distributed over MPI ranks.
 *
 * Model. Every rank runs the same command. Each scan deals the row groups to the ranks in
 * contiguous ranges balanced by rows (dp__dist_range; the same for a given dataset and rank
 * count), every rank accumulates its range with its own decode threads, and the accumulators are
 * merged on rank 0 along a binomial tree in a fixed order (rank r += rank r + 2^s). Rank 0 alone
 * finishes the pass (finalize, decisions, output files, manifest); the other ranks ("followers")
 * return from the pass right after the merge (dp__dist_follower()) and learn its outcome the way
 * a resumed run does: from the files rank 0 wrote (`run`) or from a broadcast (`corr`).
 *
 * Failures. During a scan, followers report progress and their end (status) to rank 0 with small
 * non-blocking messages; when one fails, rank 0 tells the others to stop (each saves its
 * checkpoint at the next row-group boundary). At the end every rank takes part in one exchange
 * of statuses (dp__dist_agree semantics), so a failure in any rank's scan ends every rank with
 * the same message, naming the rank, its host and the file. Failures elsewhere abort the job
 * (dp_mpi_finalize). A rank killed outright makes the MPI launcher end the job.
 *
 * Numbers. For a fixed rank count the result is byte-identical run to run; across rank counts it
 * differs only by the order of floating-point sums (and, for columns whose pass-1 model is a KLL
 * sketch, by the sketch's merge order: docs/cluster.md).
 *
 * With one rank (or no MPI) every function here is the identity or a no-op.
 * Thread safety: call from the main thread only.
 */
#ifndef DP_PIPELINE_DIST_H
#define DP_PIPELINE_DIST_H

#include "batch/dp_dataset.h"
#include "pipeline/dp_scanjob.h"
#include "util/dp_buf.h"

int dp__dist_rank(void);
int dp__dist_size(void);
/* A rank > 0 of a job with several ranks: it takes part in scans but does not finish passes. */
bool dp__dist_follower(void);

/* Collective: every rank gives its status (and err's message when it failed) and a value that
 * must be equal on every rank (check; e.g. the input fingerprint). Returns, on every rank, the
 * failure of the lowest failing rank with its message prefixed by "rank R (host): " (or DP_STATE
 * naming the first rank whose check differs from rank 0's), or DP_OK. Such a failure is marked
 * shared (every rank ends normally). With one rank: returns local unchanged. */
dp_status dp__dist_agree(dp_status local, uint64_t check, const char *check_what,
                         dp_error *err) DP_MUST_USE;
/* The failure about to be returned happens identically on every rank (it follows from data all
 * ranks share), so every rank may end normally. */
void dp__dist_mark_shared(void);
/* Collective: rank 0's n bytes at p to every rank. */
dp_status dp__dist_bcast(void *p, size_t n, dp_error *err) DP_MUST_USE;
/* Collective: rank 0's buffer contents replace every other rank's (sizes travel too). */
dp_status dp__dist_bcast_buf(dp_buf *b, dp_error *err) DP_MUST_USE;

/* Row groups [*begin, *end) of rank `rank` out of `size`: row group g goes to the rank whose
 * share of the rows [r N / size, (r + 1) N / size) holds g's middle row, so ranges are
 * contiguous, in rank order, balanced to within one row group, and empty for the last ranks
 * when there are fewer row groups than ranks. */
void dp__dist_range(const dp_dataset *ds, int rank, int size, int32_t *begin, int32_t *end);

/* The distributed form of dp__scan_job_run (called by it when there are several ranks). */
dp_status dp__dist_job_run(dp__scan_job *job, dp_error *err) DP_MUST_USE;

/* Remove checkpoints of `ckpt_path` written for another number of ranks than `size` (logging
 * that their work is redone). Run by rank 0 (or the single process) before a scan. */
void dp__dist_drop_other_layouts(const char *label, const char *ckpt_path, int size);

#endif
