#include "dp_cli_config.h"
#include "dpipe/dpipe.h"

#include <stdlib.h>
#include <string.h>

enum { ID_CONFIG = 10000, ID_QUIET, ID_VERBOSE, ID_HELP, ID_SETTING_BASE = 20000 };

int dp_cli_fail(const char *cmd, dp_status st, const dp_error *err) {
    /* Under MPI a failure all ranks agreed on is printed once, by rank 0. */
    if (dp_mpi_reports_errors())
        fprintf(stderr, "dpipe %s: %s%s\n", cmd, dp_mpi_error_prefix(),
                err->msg[0] ? err->msg : dp_status_text(st));
    switch (st) {
    case DP_INVALID_ARG:
        return 2;
    case DP_INTERRUPTED:
        return 130;
    default:
        return 1;
    }
}

static bool dp__accepts(const dp_cli_cmd *cmd, const dp_opt_info *o) {
    if (o->passes != 0)
        return (o->passes & cmd->pass_mask) != 0;
    /* Processing settings: only those that mean something for this command. */
    const char *p = cmd->processing != NULL ? cmd->processing : "";
    size_t n = strlen(o->name);
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t) (comma - p) : strlen(p);
        if (len == n && strncmp(p, o->name, n) == 0)
            return true;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return false;
}

static void dp__help(const dp_cli_cmd *cmd) {
    printf("usage: %s\n\n%s\n", cmd->usage, cmd->summary);
    if (cmd->n_extra > 0) {
        printf("\noptions:\n");
        dp_cli_print_options(stdout, cmd->extra, cmd->n_extra);
    }
    const char *group = "";
    for (int i = 0; i < dp_config_n_options(); i++) {
        const dp_opt_info *o = dp_config_option(i);
        if (!dp__accepts(cmd, o))
            continue;
        if (strcmp(group, o->group) != 0) {
            printf("\n%s:\n", o->group);
            group = o->group;
        }
        char left[96];
        if (o->type == DP_OPT_BOOL)
            snprintf(left, sizeof left, "--%s, --no-%s", o->name, o->name);
        else if (o->type == DP_OPT_CHOICE)
            snprintf(left, sizeof left, "--%s {%s}", o->name, o->choices);
        else
            snprintf(left, sizeof left, "--%s %s", o->name, o->metavar ? o->metavar : "X");
        printf("  %-34s %s", left, o->help);
        if (o->def != NULL)
            printf(" (default %s)", o->def);
        printf("\n");
    }
    printf("\ngeneral:\n"
           "  %-34s read settings from FILE (name = value lines); flags win\n"
           "  %-34s only errors on stderr\n"
           "  %-34s more detail on stderr\n"
           "  %-34s show this help\n",
           "--config FILE", "-q, --quiet", "-v, --verbose", "-h, --help");
}

int dp_cli_parse_config(const dp_cli_cmd *cmd, int argc, char **argv, dp_config *cfg,
                        dp_cli_parser *p) {
    /* Option table: command extras, settings (each under its own name and, for booleans, a
     * --no- form), and the general options. */
    int n_set = dp_config_n_options();
    int cap = cmd->n_extra + 2 * n_set + 8;
    dp_cli_opt *opts = calloc((size_t) cap, sizeof *opts);
    char **no_names = calloc((size_t) n_set, sizeof *no_names);
    const char **pend_name = calloc((size_t) argc + 1, sizeof *pend_name);
    const char **pend_val = calloc((size_t) argc + 1, sizeof *pend_val);
    int n_pend = 0, rc = 0, n = 0;
    const char *config_file = NULL;
    if (opts == NULL || no_names == NULL || pend_name == NULL || pend_val == NULL) {
        fprintf(stderr, "dpipe %s: out of memory\n", cmd->name);
        rc = 1;
        goto out;
    }
    for (int k = 0; k < cmd->n_extra; k++)
        opts[n++] = cmd->extra[k];
    for (int i = 0; i < n_set; i++) {
        const dp_opt_info *o = dp_config_option(i);
        if (!dp__accepts(cmd, o))
            continue;
        opts[n++] =
            (dp_cli_opt){ID_SETTING_BASE + 2 * i, o->name, 0,
                         o->type == DP_OPT_BOOL ? NULL : (o->metavar ? o->metavar : "X"), o->help};
        if (o->type == DP_OPT_BOOL) {
            size_t len = strlen(o->name) + 4;
            no_names[i] = malloc(len);
            if (no_names[i] == NULL) {
                rc = 1;
                goto out;
            }
            snprintf(no_names[i], len, "no-%s", o->name);
            opts[n++] = (dp_cli_opt){ID_SETTING_BASE + 2 * i + 1, no_names[i], 0, NULL, o->help};
        }
    }
    opts[n++] = (dp_cli_opt){ID_CONFIG, "config", 0, "FILE", "settings file"};
    opts[n++] = (dp_cli_opt){ID_QUIET, "quiet", 'q', NULL, "quiet"};
    opts[n++] = (dp_cli_opt){ID_VERBOSE, "verbose", 'v', NULL, "verbose"};
    opts[n++] = (dp_cli_opt){ID_HELP, "help", 'h', NULL, "help"};

    dp_cli_init(p, cmd->name, argc, argv, opts, n);
    int verbosity = 1;
    const char *arg;
    int id;
    while ((id = dp_cli_next(p, &arg)) != DP_CLI_DONE) {
        if (id == DP_CLI_ERROR) {
            rc = 2;
            goto out;
        }
        if (id == ID_HELP) {
            dp__help(cmd);
            rc = -1;
            goto out;
        }
        if (id == ID_CONFIG) {
            config_file = arg;
        } else if (id == ID_QUIET) {
            verbosity = 0;
        } else if (id == ID_VERBOSE) {
            verbosity = verbosity >= 2 ? 3 : 2;
        } else if (id >= ID_SETTING_BASE) {
            int i = (id - ID_SETTING_BASE) / 2;
            bool negated = (id - ID_SETTING_BASE) % 2 == 1;
            pend_name[n_pend] = dp_config_option(i)->name;
            pend_val[n_pend] =
                dp_config_option(i)->type == DP_OPT_BOOL ? (negated ? "false" : "true") : arg;
            n_pend++;
        } else if (cmd->on_extra != NULL) {
            rc = cmd->on_extra(cmd->ctx, id, arg);
            if (rc != 0)
                goto out;
        }
    }
    dp_error err = {0};
    if (config_file != NULL) {
        dp_status st = dp_config_load(cfg, config_file, &err);
        if (st != DP_OK) {
            rc = dp_cli_fail(cmd->name, st, &err);
            goto out;
        }
    }
    for (int k = 0; k < n_pend; k++) {
        dp_status st = dp_config_set(cfg, pend_name[k], pend_val[k], &err);
        if (st != DP_OK) {
            rc = dp_cli_fail(cmd->name, st, &err);
            goto out;
        }
    }
    dp_set_verbosity(verbosity);
    if (strcmp(dp_config_text(cfg, "log-format"), "json") == 0)
        dp_set_log_json(true);
out:
    if (no_names != NULL)
        for (int i = 0; i < n_set; i++)
            free(no_names[i]);
    free(no_names);
    free(pend_name);
    free(pend_val);
    /* opts must outlive the parser only while parsing. */
    free(opts);
    p->opts = NULL;
    p->n_opts = 0;
    return rc;
}
