/* dp_commands.h: the subcommands of the dpipe tool as library calls.
 *
 * The CLI parses options into these structs and calls one function; all behaviour lives here so
 * that it is testable without the binary. Output goes to the FILE* given (stdout for the CLI);
 * diagnostics go through dpipe's log (stderr).
 * Thread safety: each call is independent; they may run concurrently on different arguments.
 */
#ifndef DPIPE_DP_COMMANDS_H
#define DPIPE_DP_COMMANDS_H

#include "dpipe/dp_status.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* `dpipe inspect FILE...`: footer facts of each file. */
typedef struct dp_inspect_options {
    bool json; /* one JSON document (an array of files) instead of text */
} dp_inspect_options;

/* Files are reported in order (text: one block per file; JSON: an array of file objects with
 * per-column and per-row-group entries, statistics bounds as strings holding their exact text).
 * The first file that cannot be read stops the command: its status is returned and err names
 * the file; what was printed before stays complete (the JSON array is closed). */
dp_status dp_cmd_inspect(const char *const *paths, int n_paths, const dp_inspect_options *opts,
                         FILE *out, dp_error *err);

#endif
