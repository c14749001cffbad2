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

#endif
