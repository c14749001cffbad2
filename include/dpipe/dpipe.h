/* dpipe.h: the umbrella header of the dpipe library — version, process-wide settings, and every
 * public area (status/error model, settings, subcommands).
 *
 * Thread safety: dp_set_verbosity / dp_set_log_json configure process-wide diagnostics; call them
 * once at start-up before other threads use the library.
 */
#ifndef DPIPE_DPIPE_H
#define DPIPE_DPIPE_H

#include "dpipe/dp_commands.h"
#include "dpipe/dp_config.h"
#include "dpipe/dp_features.h"
#include "dpipe/dp_status.h"

#include <stdbool.h>

/* "0.1.0" */
const char *dp_version(void);
/* 0 = errors only, 1 = normal, 2 = verbose, 3 = debug. */
void dp_set_verbosity(int level);
/* Diagnostics and progress as one JSON object per line. */
void dp_set_log_json(bool json);
/* A line describing the build: version, codecs, BLAS, optional parts. */
const char *dp_build_info(void);

/* ---- MPI ------------------------------------------------------------------------------------
 * A build with MPI (DP_HAVE_MPI) runs alone or as N ranks under mpirun / mpiexec / srun; `run`,
 * `stats` and `corr` then deal each scan's row groups to the ranks, merge the accumulators on
 * rank 0, and rank 0 alone decides and writes (docs/cluster.md). One rank, or no MPI launcher,
 * behaves exactly as a build without MPI. Without DP_HAVE_MPI these functions are no-ops (and
 * dp_mpi_init refuses to run as several ranks of an MPI launcher).
 * Thread safety: call dp_mpi_init / dp_mpi_finalize once, from the main thread.
 */
/* Start MPI when the process was started by an MPI launcher (else nothing happens). Ranks > 0
 * become quiet at the normal verbosity; with -v they prefix their messages with "[rank R] ".
 * Call after dp_set_verbosity. DP_IO when MPI cannot start. */
dp_status dp_mpi_init(dp_error *err);
/* End MPI and return exit_code. When this rank failed on its own (exit_code != 0 and the failure
 * was not agreed by all ranks) the whole job is aborted with that code instead, so that no other
 * rank waits for this one forever. */
int dp_mpi_finalize(int exit_code);
/* Rank and number of ranks (0 and 1 without MPI). */
int dp_mpi_rank(void);
int dp_mpi_size(void);
/* Rank among the ranks on this host (0 without MPI): the GPU choice of a rank is
 * dp_mpi_local_device(number of visible devices) = local rank modulo that number. */
int dp_mpi_local_rank(void);
int dp_mpi_local_device(int n_devices);
/* What to print before an error message of this process: "" alone, or when the failure was
 * agreed by all ranks (its message already names the rank that failed); "rank R (host): "
 * otherwise. */
const char *dp_mpi_error_prefix(void);
/* Should this process print its command's error? false on ranks > 0 when rank 0 prints the same
 * agreed failure. */
bool dp_mpi_reports_errors(void);

#endif
