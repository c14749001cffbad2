/* `dpipe report DIR`: write DIR/report.html again from a run directory's files. */
#include "dp_cli_args.h"
#include "dp_cli_cmds.h"
#include "dpipe/dp_commands.h"
#include "dpipe/dp_status.h"

enum { OPT_HELP = 1, OPT_QUIET };

static const dp_cli_opt report_opts[] = {
    {OPT_QUIET, "quiet", 'q', NULL, "print nothing on success"},
    {OPT_HELP, "help", 'h', NULL, "show this help"},
};

int dp_cli_cmd_report(int argc, char **argv) {
    dp_cli_parser p;
    dp_cli_init(&p, "report", argc, argv, report_opts,
                (int) (sizeof report_opts / sizeof report_opts[0]));
    const char *arg;
    int id, rc = 0;
    bool quiet = false;
    while ((id = dp_cli_next(&p, &arg)) != DP_CLI_DONE) {
        switch (id) {
        case DP_CLI_ERROR:
            rc = 2;
            goto out;
        case OPT_HELP:
            printf("usage: dpipe report [options] DIR\n\n"
                   "Write DIR/report.html again from the files `dpipe run` left in the run\n"
                   "directory DIR: the funnel of descriptor counts, per-pass charts and heatmaps,\n"
                   "the searchable alternatives browser and the run facts, in one self-contained\n"
                   "page that needs no network. `dpipe run` writes the same report at its end.\n\n"
                   "options:\n");
            dp_cli_print_options(stdout, report_opts,
                                 (int) (sizeof report_opts / sizeof report_opts[0]));
            goto out;
        case OPT_QUIET:
            quiet = true;
            break;
        }
    }
    if (p.n_positional != 1) {
        fprintf(stderr, "dpipe report: %s (see dpipe report --help)\n",
                p.n_positional == 0 ? "no run directory" : "one run directory only");
        rc = 2;
        goto out;
    }
    dp_error err = {0};
    dp_status st = dp_cmd_report(p.positional[0], &err);
    if (st != DP_OK) {
        fprintf(stderr, "dpipe report: %s\n", err.msg[0] ? err.msg : dp_status_text(st));
        rc = st == DP_INVALID_ARG ? 2 : 1;
    } else if (!quiet) {
        fprintf(stderr, "wrote %s/report.html\n", p.positional[0]);
    }
out:
    dp_cli_free(&p);
    return rc;
}
