/* dp_config.h: every setting of a dpipe run, in one table.
 *
 * A dp_config holds text values keyed by option name ("variance-threshold"). dp_config_set
 * validates a value against the option's type and bounds, so the command line, --config files and
 * any future binding check settings identically. Each option records which passes its value
 * affects; the run manifest hashes exactly those values per pass, so changing a setting reruns
 * the passes that depend on it and no others.
 *
 * Option names use dashes; underscores are accepted as well (`spearman_threshold = 0.9` in a
 * config file). Boolean options accept true/false/yes/no/1/0 and, on the command line, `--name`
 * and `--no-name`.
 *
 * Ownership: create/free (free accepts NULL); strings returned by getters are owned by the config
 * and stay valid until the option is set again or the config is freed.
 * Thread safety: a config is not thread-safe while being modified; reads may be concurrent.
 */
#ifndef DPIPE_DP_CONFIG_H
#define DPIPE_DP_CONFIG_H

#include "dpipe/dp_status.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef enum dp_opt_type {
    DP_OPT_BOOL,
    DP_OPT_INT,
    DP_OPT_DOUBLE,
    DP_OPT_STRING,
    DP_OPT_CHOICE, /* one of the '|'-separated `choices` */
    DP_OPT_LIST    /* comma-separated list of strings */
} dp_opt_type;

/* Passes whose results depend on an option (bit mask). */
enum {
    DP_PASS0 = 1 << 0,
    DP_PASS1 = 1 << 1,
    DP_PASS2 = 1 << 2,
    DP_PASS3 = 1 << 3,
    DP_PASS4 = 1 << 4,
    DP_PASS_FINAL = 1 << 5,
    DP_PASS_INPUT = 1 << 6 /* which columns/rows are read at all */
};

typedef struct dp_opt_info {
    const char *name;
    dp_opt_type type;
    const char *def; /* default as text; NULL = unset */
    double min, max; /* numeric bounds (inclusive) */
    const char *choices;
    const char *metavar;
    unsigned passes;
    const char *group; /* heading in --help */
    const char *help;
    const char *note; /* how the original's option maps here (NULL when it is the same) */
} dp_opt_info;

typedef struct dp_config dp_config;

int dp_config_n_options(void);
const dp_opt_info *dp_config_option(int i);
/* By name, dashes or underscores; NULL when unknown. */
const dp_opt_info *dp_config_find(const char *name);

dp_status dp_config_create(dp_config **out, dp_error *err);
void dp_config_free(dp_config *c);
/* Set from text. value may be NULL for booleans (= true). DP_INVALID_ARG with a message naming
 * the option, the value and the allowed range on a bad value or an unknown option. */
dp_status dp_config_set(dp_config *c, const char *name, const char *value, dp_error *err);
/* Read `key = value` lines (# comments, blank lines; values may be quoted). Errors name the file
 * and line. Later dp_config_set calls override file values when the caller applies the command
 * line after the file. */
dp_status dp_config_load(dp_config *c, const char *path, dp_error *err);
bool dp_config_is_set(const dp_config *c, const char *name);

/* Effective values (the set value, else the default). Asking for an unknown name is a programming
 * error (asserted). */
const char *dp_config_text(const dp_config *c, const char *name); /* NULL when unset, no default */
double dp_config_double(const dp_config *c, const char *name);
int64_t dp_config_int(const dp_config *c, const char *name);
bool dp_config_bool(const dp_config *c, const char *name);
/* LIST options: number of items; *items points to an array owned by the config. */
int dp_config_list(const dp_config *c, const char *name, const char *const **items);

/* Write every option with its effective value as `name = value` lines (a valid --config file),
 * marking defaults with a comment. */
dp_status dp_config_write(const dp_config *c, FILE *f, dp_error *err);
/* Hash of the effective values of the options that affect any pass in `pass_mask`. */
uint64_t dp_config_hash(const dp_config *c, unsigned pass_mask);
/* Describe the options of `pass_mask` whose effective values differ between a and b into buf
 * ("spearman-threshold changed 0.95 -> 0.9"); returns the number of differences. */
int dp_config_diff(const dp_config *a, const dp_config *b, unsigned pass_mask, char *buf,
                   size_t cap);

#endif
