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

dp_status dp_cmd_inspect(const char *const *paths, int n_paths, const dp_inspect_options *opts,
                         FILE *out, dp_error *err);

/* `dpipe cat FILE`: values as TSV. First line: the column names. NULL = empty field; floats
 * %.17g with nan/inf/-inf; integers and decimals exact; booleans true/false; strings with
 * \t \n \\ escaped; binary as hex. */
typedef struct dp_cat_options {
    const char *const *columns; /* NULL = all columns */
    int n_columns;
    int64_t offset; /* first row printed (0-based) */
    int64_t limit;  /* rows printed; < 0 = all */
    bool no_verify_crc;
} dp_cat_options;

dp_status dp_cmd_cat(const char *path, const dp_cat_options *opts, FILE *out, dp_error *err);

/* `dpipe stats INPUT...`: pass 1 (one scan; the per-file sample with --sample-per-file) and one
 * row per descriptor column: name, kept, reason, counts, missing ratio, min, max, mean, std,
 * clip and trimmed bounds, IQR, normalised variance, distinct count, marginal model kind.
 * Settings come from cfg (pass 1 and input options). */
struct dp_config;
typedef struct dp_stats_options {
    const char *output; /* NULL = out */
    bool json;
} dp_stats_options;

dp_status dp_cmd_stats(const char *const *inputs, int n_inputs, const struct dp_config *cfg,
                       const dp_stats_options *opts, FILE *out, dp_error *err);

/* `dpipe bench scan INPUT...`: decode every numeric column (or those selected) with a full scan
 * and report throughput: rows, seconds, rows/s, compressed MB/s, decoded MB/s, peak RSS, and a
 * checksum of the values (so the work cannot be optimised away and two runs can be compared). */
typedef struct dp_bench_scan_options {
    const char *const *columns; /* glob patterns; NULL = every numeric column */
    int n_columns;
    int threads;
    int64_t batch_rows;
    bool json;
} dp_bench_scan_options;

dp_status dp_cmd_bench_scan(const char *const *inputs, int n_inputs,
                            const dp_bench_scan_options *opts, FILE *out, dp_error *err);

#endif
