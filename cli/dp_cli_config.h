/* dp_cli_config.h: command-line parsing for the commands that take dpipe settings.
 *
 * The settings come from the library's table (dpipe/dp_config.h): a command accepts the
 * options whose `passes` intersect its mask (plus the processing options), as --name VALUE,
 * --name=VALUE, and for booleans --name / --no-name. `--config FILE` loads `name = value` lines
 * first; flags given on the command line win whatever their position. -q/--quiet, -v/--verbose
 * set the log level. Command-specific options are handled by a callback.
 */
#ifndef DP_CLI_CONFIG_H
#define DP_CLI_CONFIG_H

#include "dp_cli_args.h"
#include "dpipe/dp_config.h"

typedef struct dp_cli_cmd {
    const char *name;       /* "stats" */
    const char *usage;      /* "dpipe stats [options] INPUT..." */
    const char *summary;    /* paragraph for --help */
    unsigned pass_mask;     /* which settings the command accepts */
    const char *processing; /* processing settings it accepts: "batch-rows,threads,..." */
    const dp_cli_opt *extra;
    int n_extra;
    /* Called for each command-specific option; return 0 on success, 2 on a usage error (after
     * printing a message). */
    int (*on_extra)(void *ctx, int id, const char *arg);
    void *ctx;
} dp_cli_cmd;

/* Parse argv into cfg and positionals. Returns 0 on success, 2 on a usage error (message
 * printed), 1 on other errors, or -1 when --help was printed (the caller exits 0). */
int dp_cli_parse_config(const dp_cli_cmd *cmd, int argc, char **argv, dp_config *cfg,
                        dp_cli_parser *p);

/* Map a status to the exit code and print the error. */
int dp_cli_fail(const char *cmd, dp_status st, const dp_error *err);

#endif
