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

/* `dpipe corr INPUT... --method M`: pass 1 (for the marginal models; the matrix covers the
 * columns pass 1 keeps) and one scan computing one similarity matrix: pearson, spearman,
 * gaussian (pass-2 methods) or hsic, hsic-sketch, rdc (pass-4 measures). Writes FILE (.npy,
 * float64, C order) and FILE.columns.txt; optionally prints the redundancy clustering, the VIF
 * elimination or the null level of the nonlinear measures on `out`. */
typedef struct dp_corr_options {
    const char *method; /* pearson|spearman|gaussian|hsic|hsic-sketch|rdc */
    const char *output; /* NULL: "<method>_matrix.npy" */
    bool clusters;
    bool vif;
    bool null_level;
} dp_corr_options;

dp_status dp_cmd_corr(const char *const *inputs, int n_inputs, const struct dp_config *cfg,
                      const dp_corr_options *opts, FILE *out, dp_error *err);

/* `dpipe run INPUT... --output-dir DIR`: the whole pipeline (pass 0 with --sample-per-file, passes
 * 1-4, final) in a run directory with a manifest, checkpoints and the outputs listed in
 * docs/formats.md. Finished passes are reused when nothing they depend on changed; interrupted
 * scans resume. DP_INTERRUPTED after SIGINT/SIGTERM (state saved). */
dp_status dp_cmd_run(const char *const *inputs, int n_inputs, const struct dp_config *cfg,
                     dp_error *err);

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
/* `dpipe sample INPUT... -o FILE`: the original's Pass 0 as a tool. K rows per file without
 * replacement (dp_scan_sample_rows: seeded by hash(seed, file base name), so adding or reordering
 * files never changes another file's sample; files with <= K rows are taken whole), written with
 * ALL columns of the unified schema to one Parquet file, files in sorted order, rows in file
 * order. A column missing from a file is NULL for that file's rows. Output types: a column that
 * is BOOLEAN in every file stays BOOLEAN; integral in every file (signed integers of any width,
 * unsigned up to 32 bits, booleans) becomes INT64; any other numeric column DOUBLE; strings
 * STRING; binary BYTE_ARRAY; temporal columns their ISO text (as `dpipe cat` prints it); all
 * OPTIONAL. Nested columns are skipped with a warning naming them. Only row groups holding sampled
 * rows are decoded, one column chunk at a time. Any failure stops the command with a message
 * naming the file (no file is ever dropped silently) and leaves no output file behind. */
typedef struct dp_sample_options {
    const char *output;      /* the Parquet file to write */
    int64_t sample_per_file; /* K >= 1 */
    uint64_t seed;           /* --random-seed (default 42 in the CLI) */
    const char *codec;       /* "zstd", "snappy", "none"; NULL = zstd (snappy, none when not
                                built) */
    int64_t row_group_rows;  /* 0 = the writer's automatic size */
    bool no_verify_crc;
    bool progress; /* progress on stderr */
} dp_sample_options;

dp_status dp_cmd_sample(const char *const *inputs, int n_inputs, const dp_sample_options *opts,
                        dp_error *err);

/* `dpipe gen -o DIR`: a synthetic descriptor dataset with planted structure (see
 * src/pipeline/dp_gen.h): DIR/part-00000.parquet ... (rows split evenly over the files, in order)
 * and DIR/truth.json naming every planted relation. Deterministic: the value of row r depends only
 * on (seed, cols, missing, r), not on the file count or row-group size. DIR is created when
 * missing; part files of another run with more files are refused (INVALID_ARG). */
typedef struct dp_gen_options {
    const char *out_dir;
    int64_t rows;           /* >= 0 */
    int32_t cols;           /* descriptor columns, >= 1 (plus mol_id) */
    int32_t files;          /* >= 1 (default 1) */
    uint64_t seed;          /* default 42 in the CLI */
    double missing;         /* fraction of rows missing in the missing-value columns, [0, 1) */
    int64_t row_group_rows; /* 0 = the writer's automatic size */
    const char *codec;      /* as for sample */
    bool progress;
} dp_gen_options;

dp_status dp_cmd_gen(const dp_gen_options *opts, dp_error *err);

/* `dpipe report DIR`: (re)write DIR/report.html from the files of a run directory — funnel,
 * per-pass charts and heatmaps, the alternatives browser and the run facts, in one self-contained
 * page that works offline. NOT_FOUND when DIR has no manifest.json; a missing or unreadable pass
 * output only leaves its part of the page empty (the page says why). */
dp_status dp_cmd_report(const char *dir, dp_error *err);

#endif
