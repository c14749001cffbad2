#include "dp_cli_args.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void dp_cli_init(dp_cli_parser *p, const char *cmd, int argc, char **argv, const dp_cli_opt *opts,
                 int n_opts) {
    memset(p, 0, sizeof *p);
    p->argc = argc;
    p->argv = argv;
    p->i = 0;
    p->opts = opts;
    p->n_opts = n_opts;
    p->cmd = cmd;
    p->positional = calloc((size_t) argc + 1, sizeof(char *));
}

void dp_cli_free(dp_cli_parser *p) {
    free(p->positional);
    p->positional = NULL;
}

int dp_cli_next(dp_cli_parser *p, const char **arg) {
    *arg = NULL;
    while (p->i < p->argc) {
        char *a = p->argv[p->i++];
        if (p->only_positional || a[0] != '-' || a[1] == '\0') {
            p->positional[p->n_positional++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            p->only_positional = true;
            continue;
        }
        const dp_cli_opt *o = NULL;
        const char *inline_val = NULL;
        if (a[1] == '-') {
            const char *name = a + 2;
            const char *eq = strchr(name, '=');
            size_t len = eq ? (size_t) (eq - name) : strlen(name);
            /* The first match wins: command options shadow settings of the same name. */
            for (int k = 0; k < p->n_opts && o == NULL; k++)
                if (strlen(p->opts[k].name) == len && strncmp(p->opts[k].name, name, len) == 0)
                    o = &p->opts[k];
            if (eq != NULL)
                inline_val = eq + 1;
        } else if (a[2] == '\0') {
            for (int k = 0; k < p->n_opts && o == NULL; k++)
                if (p->opts[k].short_name == a[1])
                    o = &p->opts[k];
        }
        if (o == NULL) {
            fprintf(stderr, "dpipe %s: unknown option '%s' (see dpipe %s --help)\n", p->cmd, a,
                    p->cmd);
            return DP_CLI_ERROR;
        }
        if (o->metavar == NULL) {
            if (inline_val != NULL) {
                fprintf(stderr, "dpipe %s: option --%s takes no value\n", p->cmd, o->name);
                return DP_CLI_ERROR;
            }
            return o->id;
        }
        if (inline_val != NULL) {
            *arg = inline_val;
        } else {
            if (p->i >= p->argc) {
                fprintf(stderr, "dpipe %s: option --%s needs a value (%s)\n", p->cmd, o->name,
                        o->metavar);
                return DP_CLI_ERROR;
            }
            *arg = p->argv[p->i++];
        }
        return o->id;
    }
    return DP_CLI_DONE;
}

void dp_cli_print_options(FILE *f, const dp_cli_opt *opts, int n_opts) {
    for (int k = 0; k < n_opts; k++) {
        char left[96];
        if (opts[k].short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", opts[k].short_name, opts[k].name,
                     opts[k].metavar ? " " : "", opts[k].metavar ? opts[k].metavar : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", opts[k].name, opts[k].metavar ? " " : "",
                     opts[k].metavar ? opts[k].metavar : "");
        fprintf(f, "  %-30s %s\n", left, opts[k].help);
    }
}

bool dp_cli_int64(const char *cmd, const char *name, const char *s, int64_t min, int64_t max,
                  int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "dpipe %s: --%s: '%s' is not an integer in [%lld, %lld]\n", cmd, name, s,
                (long long) min, (long long) max);
        return false;
    }
    *out = v;
    return true;
}

bool dp_cli_double(const char *cmd, const char *name, const char *s, double min, double max,
                   double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max)) {
        fprintf(stderr, "dpipe %s: --%s: '%s' is not a number in [%g, %g]\n", cmd, name, s, min,
                max);
        return false;
    }
    *out = v;
    return true;
}
