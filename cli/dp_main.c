/* dpipe command line: parse options into the library's option structs, call one library
 * function, map its status to an exit code. No logic of its own.
 * Exit codes: 0 done, 1 data or runtime error, 2 usage error, 130 interrupted. */
#include "dp_cli_args.h"
#include "dp_cli_config.h"
#include "dp_cli_cmds.h"
#include "dpipe/dp_commands.h"
#include "dpipe/dpipe.h"
#include "dpipe/dp_features.h"
#include "dpipe/dp_status.h"

#include <stdlib.h>
#include <string.h>

static int dp__exit_code(dp_status st) {
    switch (st) {
    case DP_OK:
        return 0;
    case DP_INVALID_ARG:
        return 2;
    case DP_INTERRUPTED:
        return 130;
    default:
        return 1;
    }
}

static int dp__fail(const char *cmd, dp_status st, const dp_error *err) {
    fprintf(stderr, "dpipe %s: %s\n", cmd, err->msg[0] ? err->msg : dp_status_text(st));
    return dp__exit_code(st);
}

/* ---- inspect ------------------------------------------------------------------------------- */

enum { OPT_HELP = 1, OPT_JSON, OPT_COLUMNS, OPT_LIMIT, OPT_OFFSET, OPT_NO_CRC };

static const dp_cli_opt inspect_opts[] = {
    {OPT_JSON, "json", 0, NULL, "machine-readable JSON instead of text"},
    {OPT_HELP, "help", 'h', NULL, "show this help"},
};

static int cmd_inspect(int argc, char **argv) {
    dp_cli_parser p;
    dp_cli_init(&p, "inspect", argc, argv, inspect_opts,
                (int) (sizeof inspect_opts / sizeof inspect_opts[0]));
    dp_inspect_options o = {0};
    const char *arg;
    int id, rc = 0;
    while ((id = dp_cli_next(&p, &arg)) != DP_CLI_DONE) {
        if (id == DP_CLI_ERROR) {
            rc = 2;
            goto out;
        }
        if (id == OPT_HELP) {
            printf(
                "usage: dpipe inspect [--json] FILE...\n\n"
                "Show what a Parquet file's footer says: writer, rows, row groups, and per\n"
                "column the physical and logical type, repetition, encodings, codecs, sizes and\n"
                "statistics (min, max, null count). Only the footer is read.\n\noptions:\n");
            dp_cli_print_options(stdout, inspect_opts,
                                 (int) (sizeof inspect_opts / sizeof inspect_opts[0]));
            goto out;
        }
        if (id == OPT_JSON)
            o.json = true;
    }
    if (p.n_positional == 0) {
        fprintf(stderr, "dpipe inspect: no input file (see dpipe inspect --help)\n");
        rc = 2;
        goto out;
    }
    dp_error err = {0};
    dp_status st =
        dp_cmd_inspect((const char *const *) p.positional, p.n_positional, &o, stdout, &err);
    if (st != DP_OK)
        rc = dp__fail("inspect", st, &err);
out:
    dp_cli_free(&p);
    return rc;
}

/* ---- cat ----------------------------------------------------------------------------------- */

static const dp_cli_opt cat_opts[] = {
    {OPT_COLUMNS, "columns", 'c', "A,B,...", "only these columns, in this order"},
    {OPT_LIMIT, "limit", 'n', "N", "print at most N rows"},
    {OPT_OFFSET, "offset", 0, "N", "skip the first N rows"},
    {OPT_NO_CRC, "no-verify-crc", 0, NULL, "do not check page checksums"},
    {OPT_HELP, "help", 'h', NULL, "show this help"},
};

static int cmd_cat(int argc, char **argv) {
    dp_cli_parser p;
    dp_cli_init(&p, "cat", argc, argv, cat_opts, (int) (sizeof cat_opts / sizeof cat_opts[0]));
    dp_cat_options o = {.limit = -1};
    char *cols_copy = NULL;
    const char **cols = NULL;
    const char *arg;
    int id, rc = 0;
    while ((id = dp_cli_next(&p, &arg)) != DP_CLI_DONE) {
        switch (id) {
        case DP_CLI_ERROR:
            rc = 2;
            goto out;
        case OPT_HELP:
            printf(
                "usage: dpipe cat [options] FILE\n\n"
                "Print a Parquet file's values as TSV: a header line with the column names, then\n"
                "one line per row. NULL is an empty field; floats are printed round-trip (%%.17g)\n"
                "with nan/inf/-inf; integers and decimals exactly; booleans true/false; strings\n"
                "with tab, newline and backslash escaped (\\t \\n \\\\); binary as hex.\n\n"
                "options:\n");
            dp_cli_print_options(stdout, cat_opts, (int) (sizeof cat_opts / sizeof cat_opts[0]));
            goto out;
        case OPT_COLUMNS: {
            free(cols_copy);
            free(cols);
            cols_copy = strdup(arg);
            cols = calloc(strlen(arg) + 1, sizeof *cols);
            if (cols_copy == NULL || cols == NULL) {
                fprintf(stderr, "dpipe cat: out of memory\n");
                rc = 1;
                goto out;
            }
            o.n_columns = 0;
            for (char *save = NULL, *tok = strtok_r(cols_copy, ",", &save); tok != NULL;
                 tok = strtok_r(NULL, ",", &save))
                cols[o.n_columns++] = tok;
            o.columns = cols;
            break;
        }
        case OPT_LIMIT:
            if (!dp_cli_int64("cat", "limit", arg, 0, INT64_MAX, &o.limit)) {
                rc = 2;
                goto out;
            }
            break;
        case OPT_OFFSET:
            if (!dp_cli_int64("cat", "offset", arg, 0, INT64_MAX, &o.offset)) {
                rc = 2;
                goto out;
            }
            break;
        case OPT_NO_CRC:
            o.no_verify_crc = true;
            break;
        }
    }
    if (p.n_positional != 1) {
        fprintf(stderr,
                "dpipe cat: expected exactly one input file, got %d (see dpipe cat --help)\n",
                p.n_positional);
        rc = 2;
        goto out;
    }
    dp_error err = {0};
    dp_status st = dp_cmd_cat(p.positional[0], &o, stdout, &err);
    if (st != DP_OK)
        rc = dp__fail("cat", st, &err);
out:
    free(cols_copy);
    free(cols);
    dp_cli_free(&p);
    return rc;
}

/* ---- bench ------------------------------------------------------------------------------- */

enum { OPT_THREADS = 100, OPT_BATCH_ROWS };

static const dp_cli_opt bench_opts[] = {
    {OPT_COLUMNS, "columns", 'c', "PATTERNS", "only columns matching these glob patterns"},
    {OPT_THREADS, "threads", 't', "N", "decode threads (0 = all cores)"},
    {OPT_BATCH_ROWS, "batch-rows", 0, "N", "rows per batch (default 65536)"},
    {OPT_JSON, "json", 0, NULL, "one JSON object instead of text"},
    {OPT_HELP, "help", 'h', NULL, "show this help"},
};

static int cmd_bench(int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "scan") != 0) {
        fprintf(stderr, "usage: dpipe bench scan [options] INPUT...\n");
        return 2;
    }
    dp_cli_parser p;
    dp_cli_init(&p, "bench scan", argc - 1, argv + 1, bench_opts,
                (int) (sizeof bench_opts / sizeof bench_opts[0]));
    dp_bench_scan_options o = {0};
    char *cols_copy = NULL;
    const char **cols = NULL;
    const char *arg;
    int id, rc = 0;
    int64_t v;
    while ((id = dp_cli_next(&p, &arg)) != DP_CLI_DONE) {
        switch (id) {
        case DP_CLI_ERROR:
            rc = 2;
            goto out;
        case OPT_HELP:
            printf("usage: dpipe bench scan [options] INPUT...\n\n"
                   "Decode every numeric column of a dataset with the scan the passes use and\n"
                   "report rows/s, MB/s and peak memory.\n\noptions:\n");
            dp_cli_print_options(stdout, bench_opts,
                                 (int) (sizeof bench_opts / sizeof bench_opts[0]));
            goto out;
        case OPT_COLUMNS:
            free(cols_copy);
            free(cols);
            cols_copy = strdup(arg);
            cols = calloc(strlen(arg) + 1, sizeof *cols);
            if (cols_copy == NULL || cols == NULL) {
                rc = 1;
                goto out;
            }
            o.n_columns = 0;
            for (char *save = NULL, *tok = strtok_r(cols_copy, ",", &save); tok != NULL;
                 tok = strtok_r(NULL, ",", &save))
                cols[o.n_columns++] = tok;
            o.columns = cols;
            break;
        case OPT_THREADS:
            if (!dp_cli_int64("bench scan", "threads", arg, 0, 1024, &v)) {
                rc = 2;
                goto out;
            }
            o.threads = (int) v;
            break;
        case OPT_BATCH_ROWS:
            if (!dp_cli_int64("bench scan", "batch-rows", arg, 1, 16777216, &o.batch_rows)) {
                rc = 2;
                goto out;
            }
            break;
        case OPT_JSON:
            o.json = true;
            break;
        }
    }
    if (p.n_positional == 0) {
        fprintf(stderr, "dpipe bench scan: no input (see dpipe bench scan --help)\n");
        rc = 2;
        goto out;
    }
    dp_error err = {0};
    dp_status st =
        dp_cmd_bench_scan((const char *const *) p.positional, p.n_positional, &o, stdout, &err);
    if (st != DP_OK)
        rc = dp__fail("bench scan", st, &err);
out:
    free(cols_copy);
    free(cols);
    dp_cli_free(&p);
    return rc;
}

/* ---- commands with settings (stats, corr, run) ------------------------------------------- */

/* What such a command does once its settings are parsed; ctx is the dp_cli_cmd's ctx. */
typedef dp_status (*dp__config_main)(const char *const *inputs, int n_inputs, const dp_config *cfg,
                                     void *ctx, dp_error *err);

/* Their shared driver: settings from the command line (and --config), MPI around the command
 * (a no-op unless started by mpirun / srun), one exit code. */
static int dp__config_cmd_main(const dp_cli_cmd *cmd, int argc, char **argv, dp__config_main fn) {
    dp_config *cfg = NULL;
    dp_error err = {0};
    dp_status st = dp_config_create(&cfg, &err);
    if (st != DP_OK)
        return dp_cli_fail(cmd->name, st, &err);
    dp_cli_parser p;
    int rc = dp_cli_parse_config(cmd, argc, argv, cfg, &p);
    if (rc == -1) {
        rc = 0;
    } else if (rc == 0) {
        st = dp_mpi_init(&err);
        if (st == DP_OK)
            st = fn((const char *const *) p.positional, p.n_positional, cfg, cmd->ctx, &err);
        if (st != DP_OK)
            rc = dp_cli_fail(cmd->name, st, &err);
        rc = dp_mpi_finalize(rc);
    }
    dp_cli_free(&p);
    dp_config_free(cfg);
    return rc;
}

/* ---- stats ------------------------------------------------------------------------------- */

enum { OPT_OUTPUT = 200 };

typedef struct {
    dp_stats_options o;
} stats_ctx;

static int stats_extra(void *ctx, int id, const char *arg) {
    stats_ctx *c = ctx;
    if (id == OPT_OUTPUT)
        c->o.output = arg;
    else if (id == OPT_JSON)
        c->o.json = true;
    return 0;
}

static const dp_cli_opt stats_opts[] = {
    {OPT_OUTPUT, "output", 'o', "FILE", "write the table to FILE instead of stdout"},
    {OPT_JSON, "json", 0, NULL, "JSON array instead of TSV"},
};

static dp_status stats_main(const char *const *inputs, int n_inputs, const dp_config *cfg,
                            void *ctx, dp_error *err) {
    return dp_cmd_stats(inputs, n_inputs, cfg, &((stats_ctx *) ctx)->o, stdout, err);
}

static int cmd_stats(int argc, char **argv) {
    stats_ctx ctx = {{0}};
    dp_cli_cmd cmd = {
        "stats",
        "dpipe stats [options] INPUT...",
        "Pass 1 on its own: one scan of the data (of the per-file sample with\n"
        "--sample-per-file) and one row per descriptor column with its counts (NULL, NaN, +-Inf,\n"
        "valid), missing ratio, min, max, mean, std, clip and trimmed bounds, IQR, normalised\n"
        "variance, distinct values, marginal model, and whether pass 1 keeps it (and why not).\n"
        "INPUT: Parquet files, directories (every *.parquet below) or glob patterns.",
        DP_PASS_INPUT | DP_PASS0 | DP_PASS1,
        "batch-rows,threads,verify-crc,log-format",
        stats_opts,
        (int) (sizeof stats_opts / sizeof stats_opts[0]),
        stats_extra,
        &ctx};
    return dp__config_cmd_main(&cmd, argc, argv, stats_main);
}

/* ---- corr --------------------------------------------------------------------------------- */

enum { OPT_METHOD = 300, OPT_CLUSTERS, OPT_VIF, OPT_NULL };

static int corr_extra(void *ctx, int id, const char *arg) {
    dp_corr_options *o = ctx;
    switch (id) {
    case OPT_METHOD:
        if (strcmp(arg, "pearson") != 0 && strcmp(arg, "spearman") != 0 &&
            strcmp(arg, "gaussian") != 0 && strcmp(arg, "hsic") != 0 &&
            strcmp(arg, "hsic-sketch") != 0 && strcmp(arg, "rdc") != 0) {
            fprintf(stderr,
                    "dpipe corr: --method: '%s' is not one of pearson, spearman, gaussian, hsic, "
                    "hsic-sketch, rdc\n",
                    arg);
            return 2;
        }
        o->method = arg;
        break;
    case OPT_OUTPUT:
        o->output = arg;
        break;
    case OPT_CLUSTERS:
        o->clusters = true;
        break;
    case OPT_VIF:
        o->vif = true;
        break;
    case OPT_NULL:
        o->null_level = true;
        break;
    }
    return 0;
}

static const dp_cli_opt corr_opts[] = {
    {OPT_METHOD, "method", 'm', "M",
     "pearson, spearman (default), gaussian, hsic, hsic-sketch (HSIC from the CountSketch "
     "estimator) or rdc"},
    {OPT_OUTPUT, "output", 'o', "FILE.npy",
     "matrix file (default M_matrix.npy); names go to "
     "FILE.npy.columns.txt"},
    {OPT_CLUSTERS, "clusters", 0, NULL, "print the redundancy clusters (pass 2 or pass 4 rule)"},
    {OPT_VIF, "vif", 0, NULL, "print the iterative VIF elimination (pass 3 rule)"},
    {OPT_NULL, "null", 0, NULL, "print the estimated null level of hsic / rdc"},
};

static dp_status corr_main(const char *const *inputs, int n_inputs, const dp_config *cfg, void *ctx,
                           dp_error *err) {
    return dp_cmd_corr(inputs, n_inputs, cfg, ctx, stdout, err);
}

static int cmd_corr(int argc, char **argv) {
    dp_corr_options o = {0};
    dp_cli_cmd cmd = {
        "corr",
        "dpipe corr [options] INPUT... --method M [-o FILE.npy]",
        "One similarity matrix of the columns pass 1 keeps: Pearson, Spearman (mid-rank,\n"
        "pairwise-complete), Gaussian rank, HSIC (normalised; Mercer features, or\n"
        "CountSketch with hsic-sketch) or RDC. Runs pass 1 (one scan, for the marginal\n"
        "models) and one more scan. The matrix is written as .npy (float64, C order:\n"
        "numpy.load reads it) with the column names next to it.",
        DP_PASS_INPUT | DP_PASS0 | DP_PASS1 | DP_PASS2 | DP_PASS3 | DP_PASS4,
        "batch-rows,threads,max-memory-gb,verify-crc,log-format,gpu,gpu-id,max-gpu-memory-gb,"
        "precision",
        corr_opts,
        (int) (sizeof corr_opts / sizeof corr_opts[0]),
        corr_extra,
        &o};
    return dp__config_cmd_main(&cmd, argc, argv, corr_main);
}

/* ---- run ---------------------------------------------------------------------------------- */

static dp_status run_main(const char *const *inputs, int n_inputs, const dp_config *cfg, void *ctx,
                          dp_error *err) {
    (void) ctx;
    return dp_cmd_run(inputs, n_inputs, cfg, err);
}

static int cmd_run(int argc, char **argv) {
    dp_cli_cmd cmd = {
        "run",
        "dpipe run [options] INPUT... --output-dir DIR",
        "The whole pipeline: pass 0 (per-file sample, with --sample-per-file), pass 1 (column\n"
        "statistics and filters), pass 2 (rank correlation and redundancy clusters), pass 3\n"
        "(iterative VIF), pass 4 (HSIC/RDC nonlinear dependence and clusters), then the final\n"
        "descriptor list and the map of alternatives. Everything goes to DIR; rerunning the same\n"
        "command reuses finished passes and resumes an interrupted scan; a changed setting reruns\n"
        "the passes it affects. INPUT: Parquet files, directories or glob patterns.",
        DP_PASS_INPUT | DP_PASS0 | DP_PASS1 | DP_PASS2 | DP_PASS3 | DP_PASS4 | DP_PASS_FINAL,
        "output-dir,batch-rows,threads,max-memory-gb,gpu,gpu-id,max-gpu-memory-gb,precision,"
        "checkpoint,checkpoint-interval,force-recompute,verify-crc,log-format,"
        "file-independent-sampling",
        NULL,
        0,
        NULL,
        NULL};
    return dp__config_cmd_main(&cmd, argc, argv, run_main);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} dp__command;

static const dp__command commands[] = {
    {"inspect", cmd_inspect,
     "show the schema, row groups, encodings and statistics of Parquet files"},
    {"cat", cmd_cat, "print a Parquet file's values as TSV"},
    {"run", cmd_run,
     "the whole pipeline: passes 0-4 and the final descriptors, in a run directory"},
    {"corr", cmd_corr,
     "one similarity matrix: pearson, spearman, gaussian, hsic, hsic-sketch, rdc"},
    {"stats", cmd_stats, "pass 1: per-column statistics and filter decisions"},
    {"bench", cmd_bench, "measure decode throughput ('dpipe bench scan INPUT...')"},
    {"sample", dp_cli_cmd_sample, "draw K rows per file into one Parquet file (all columns)"},
    {"gen", dp_cli_cmd_gen, "write a synthetic descriptor dataset with planted structure"},
    {"report", dp_cli_cmd_report, "write report.html of a run directory again"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: dpipe <command> [options] [arguments]\n\ncommands:\n");
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        fprintf(f, "  %-10s %s\n", commands[k].name, commands[k].summary);
    fprintf(f, "\n'dpipe <command> --help' describes a command. 'dpipe --version' prints the "
               "version.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("%s\n", dp_build_info());
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(argv[1], commands[k].name) == 0)
            return commands[k].fn(argc - 2, argv + 2);
    fprintf(stderr, "dpipe: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
