/* dp_cli_args.h: a small long-option parser shared by the subcommands, and the help printer.
 * Options may be written --name value, --name=value or -x value; "--" ends options; the rest are
 * positional. Unknown options and missing values are usage errors (exit 2) with a message.
 */
#ifndef DP_CLI_ARGS_H
#define DP_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct dp_cli_opt {
    int id;              /* returned by dp_cli_next */
    const char *name;    /* long name without dashes */
    char short_name;     /* 0 if none */
    const char *metavar; /* NULL for flags */
    const char *help;
} dp_cli_opt;

typedef struct dp_cli_parser {
    int argc;
    char **argv;
    int i;
    const dp_cli_opt *opts;
    int n_opts;
    const char *cmd;
    bool only_positional;
    char **positional; /* collected positional arguments (argv pointers) */
    int n_positional;
} dp_cli_parser;

#define DP_CLI_POSITIONAL (-1)
#define DP_CLI_DONE       (-2)
#define DP_CLI_ERROR      (-3)

void dp_cli_init(dp_cli_parser *p, const char *cmd, int argc, char **argv, const dp_cli_opt *opts,
                 int n_opts);
/* Next option: its id and *arg (NULL for flags); DP_CLI_DONE at the end; DP_CLI_ERROR after
 * printing a usage message. Positional arguments are collected into p->positional. */
int dp_cli_next(dp_cli_parser *p, const char **arg);
void dp_cli_free(dp_cli_parser *p);
void dp_cli_print_options(FILE *f, const dp_cli_opt *opts, int n_opts);

/* Parse helpers: print "dpipe CMD: --name: ..." and return false on bad input. */
bool dp_cli_int64(const char *cmd, const char *name, const char *s, int64_t min, int64_t max,
                  int64_t *out);
bool dp_cli_double(const char *cmd, const char *name, const char *s, double min, double max,
                   double *out);

#endif
