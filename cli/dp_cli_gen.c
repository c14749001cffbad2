/* `dpipe sample` and `dpipe gen`: options -> dp_sample_options / dp_gen_options -> library call
 * -> exit code. */
#include "dp_cli_args.h"
#include "dp_cli_cmds.h"
#include "dpipe/dp_commands.h"
#include "dpipe/dp_status.h"

#include <stdlib.h>
#include <string.h>

#define DP__N(a) ((int) (sizeof(a) / sizeof((a)[0])))

static int dp__gen_exit(const char *cmd, dp_status st, const dp_error *err) {
    if (st == DP_OK)
        return 0;
    fprintf(stderr, "dpipe %s: %s\n", cmd, err->msg[0] ? err->msg : dp_status_text(st));
    return st == DP_INVALID_ARG ? 2 : st == DP_INTERRUPTED ? 130 : 1;
}

enum {
    OPT_HELP = 1,
    OPT_OUTPUT,
    OPT_K,
    OPT_SEED,
    OPT_CODEC,
    OPT_RG,
    OPT_NO_CRC,
    OPT_QUIET,
    OPT_GLOB,
    OPT_ROWS,
    OPT_COLS,
    OPT_FILES,
    OPT_MISSING
};

/* ---- sample -------------------------------------------------------------------------------- */

static const dp_cli_opt sample_opts[] = {
    {OPT_OUTPUT, "output", 'o', "FILE", "Parquet file to write (required)"},
    {OPT_K, "sample-per-file", 'k', "K",
     "rows drawn from each file (required; files with <= K "
     "rows are taken whole)"},
    {OPT_SEED, "random-seed", 0, "S", "seed of the draws (default 42)"},
    {OPT_SEED, "seed", 0, "S", "same as --random-seed"},
    {OPT_CODEC, "codec", 0, "NAME", "zstd (default), snappy or none"},
    {OPT_RG, "row-group-rows", 0, "N", "rows per output row group (default: about 64 MiB)"},
    {OPT_GLOB, "parquet-glob", 0, "PATTERN", "an input (alias of a positional INPUT)"},
    {OPT_NO_CRC, "no-verify-crc", 0, NULL, "do not check page checksums of the inputs"},
    {OPT_QUIET, "quiet", 'q', NULL, "no progress or summary on stderr"},
    {OPT_HELP, "help", 'h', NULL, "show this help"},
};

int dp_cli_cmd_sample(int argc, char **argv) {
    dp_cli_parser p;
    dp_cli_init(&p, "sample", argc, argv, sample_opts, DP__N(sample_opts));
    dp_sample_options o = {.seed = 42, .progress = true};
    const char **inputs = calloc((size_t) argc + 1, sizeof *inputs);
    int n_inputs = 0, n_globs = 0;
    const char *arg;
    int id, rc = 0;
    if (inputs == NULL) {
        fprintf(stderr, "dpipe sample: out of memory\n");
        rc = 1;
        goto out;
    }
    while ((id = dp_cli_next(&p, &arg)) != DP_CLI_DONE) {
        int64_t v = 0;
        switch (id) {
        case DP_CLI_ERROR:
            rc = 2;
            goto out;
        case OPT_HELP:
            printf("usage: dpipe sample [options] -o FILE --sample-per-file K INPUT...\n\n"
                   "Draw K rows from every input file (without replacement; a file with K rows\n"
                   "or fewer is taken whole) and write them, with every column, to one Parquet\n"
                   "file. Each file's draw depends only on the seed and the file's base name, so\n"
                   "adding, removing or reordering files never changes another file's rows.\n"
                   "INPUT: Parquet files, directories (every *.parquet below) or glob patterns.\n"
                   "Columns are unified by name; a column missing from a file is NULL for its\n"
                   "rows. Integer columns stay INT64 when every file has them integral, booleans\n"
                   "stay BOOLEAN, other numbers become DOUBLE, strings stay strings.\n\n"
                   "options:\n");
            dp_cli_print_options(stdout, sample_opts, DP__N(sample_opts));
            goto out;
        case OPT_OUTPUT:
            o.output = arg;
            break;
        case OPT_K:
            if (!dp_cli_int64("sample", "sample-per-file", arg, 1, INT64_MAX, &o.sample_per_file)) {
                rc = 2;
                goto out;
            }
            break;
        case OPT_SEED:
            if (!dp_cli_int64("sample", "random-seed", arg, 0, INT64_MAX, &v)) {
                rc = 2;
                goto out;
            }
            o.seed = (uint64_t) v;
            break;
        case OPT_CODEC:
            o.codec = arg;
            break;
        case OPT_RG:
            if (!dp_cli_int64("sample", "row-group-rows", arg, 1, INT32_MAX, &o.row_group_rows)) {
                rc = 2;
                goto out;
            }
            break;
        case OPT_GLOB:
            inputs[n_inputs++] = arg;
            n_globs++;
            break;
        case OPT_NO_CRC:
            o.no_verify_crc = true;
            break;
        case OPT_QUIET:
            o.progress = false;
            break;
        }
    }
    (void) n_globs;
    for (int i = 0; i < p.n_positional; i++)
        inputs[n_inputs++] = p.positional[i];
    if (o.output == NULL || o.sample_per_file == 0 || n_inputs == 0) {
        fprintf(stderr, "dpipe sample: %s (see dpipe sample --help)\n",
                o.output == NULL ? "no output file (-o FILE)"
                : n_inputs == 0  ? "no input"
                                 : "--sample-per-file K is required");
        rc = 2;
        goto out;
    }
    dp_error err = {0};
    rc = dp__gen_exit("sample", dp_cmd_sample(inputs, n_inputs, &o, &err), &err);
out:
    free(inputs);
    dp_cli_free(&p);
    return rc;
}

/* ---- gen ----------------------------------------------------------------------------------- */

static const dp_cli_opt gen_opts[] = {
    {OPT_OUTPUT, "output", 'o', "DIR", "directory to write (created when missing; required)"},
    {OPT_ROWS, "rows", 'n', "N", "rows in all (required)"},
    {OPT_COLS, "cols", 'p', "P", "descriptor columns, besides mol_id (required)"},
    {OPT_FILES, "files", 0, "F", "number of files (default 1)"},
    {OPT_SEED, "seed", 0, "S", "seed (default 42)"},
    {OPT_SEED, "random-seed", 0, "S", "same as --seed"},
    {OPT_MISSING, "missing", 0, "FRAC",
     "fraction of rows missing in the missing-value columns "
     "(default 0.05)"},
    {OPT_RG, "row-group-rows", 0, "N", "rows per row group (default: about 64 MiB)"},
    {OPT_CODEC, "codec", 0, "NAME", "zstd (default), snappy or none"},
    {OPT_QUIET, "quiet", 'q', NULL, "no progress or summary on stderr"},
    {OPT_HELP, "help", 'h', NULL, "show this help"},
};

int dp_cli_cmd_gen(int argc, char **argv) {
    dp_cli_parser p;
    dp_cli_init(&p, "gen", argc, argv, gen_opts, DP__N(gen_opts));
    dp_gen_options o = {.rows = -1, .files = 1, .seed = 42, .missing = 0.05, .progress = true};
    const char *arg;
    int id, rc = 0;
    int64_t v;
    while ((id = dp_cli_next(&p, &arg)) != DP_CLI_DONE) {
        switch (id) {
        case DP_CLI_ERROR:
            rc = 2;
            goto out;
        case OPT_HELP:
            printf("usage: dpipe gen -o DIR --rows N --cols P [options]\n\n"
                   "Write a synthetic descriptor dataset with planted structure to\n"
                   "DIR/part-00000.parquet ... and DIR/truth.json: a mol_id column, then P\n"
                   "descriptor columns with RDKit-like names holding monotone groups of a latent,\n"
                   "noisy correlated groups, exact duplicates, a linear combination (c = a + 2b),\n"
                   "nonlinear partners (x^2, sin 3x, a circle), heavy tails (Cauchy, lognormal),\n"
                   "Poisson counts (INT64), near-constant and constant columns, columns with\n"
                   "NULL / NaN / Inf, and independent noise. truth.json names every relation and\n"
                   "its members. The value of row r depends only on the seed, P, --missing and r\n"
                   "(not on --files or --row-group-rows).\n\noptions:\n");
            dp_cli_print_options(stdout, gen_opts, DP__N(gen_opts));
            goto out;
        case OPT_OUTPUT:
            o.out_dir = arg;
            break;
        case OPT_ROWS:
            if (!dp_cli_int64("gen", "rows", arg, 0, INT64_MAX / 2, &o.rows)) {
                rc = 2;
                goto out;
            }
            break;
        case OPT_COLS:
            if (!dp_cli_int64("gen", "cols", arg, 1, 1000000, &v)) {
                rc = 2;
                goto out;
            }
            o.cols = (int32_t) v;
            break;
        case OPT_FILES:
            if (!dp_cli_int64("gen", "files", arg, 1, 100000, &v)) {
                rc = 2;
                goto out;
            }
            o.files = (int32_t) v;
            break;
        case OPT_SEED:
            if (!dp_cli_int64("gen", "seed", arg, 0, INT64_MAX, &v)) {
                rc = 2;
                goto out;
            }
            o.seed = (uint64_t) v;
            break;
        case OPT_MISSING:
            if (!dp_cli_double("gen", "missing", arg, 0, 0.999, &o.missing)) {
                rc = 2;
                goto out;
            }
            break;
        case OPT_RG:
            if (!dp_cli_int64("gen", "row-group-rows", arg, 1, INT32_MAX, &o.row_group_rows)) {
                rc = 2;
                goto out;
            }
            break;
        case OPT_CODEC:
            o.codec = arg;
            break;
        case OPT_QUIET:
            o.progress = false;
            break;
        }
    }
    if (p.n_positional > 0 || o.out_dir == NULL || o.rows < 0 || o.cols < 1) {
        fprintf(stderr, "dpipe gen: %s (see dpipe gen --help)\n",
                p.n_positional > 0  ? "unexpected argument"
                : o.out_dir == NULL ? "no output directory (-o DIR)"
                : o.rows < 0        ? "--rows N is required"
                                    : "--cols P is required");
        rc = 2;
        goto out;
    }
    dp_error err = {0};
    rc = dp__gen_exit("gen", dp_cmd_gen(&o, &err), &err);
out:
    dp_cli_free(&p);
    return rc;
}
