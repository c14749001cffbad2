/* The settings table and its values. */
#include "dpipe/dp_config.h"
#include "util/dp_alloc.h"
#include "util/dp_base.h"
#include "util/dp_checksum.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const dp_opt_info dp__options[] = {
#define X(name, type, def, min, max, choices, metavar, passes, group, help, note)                  \
    {name, type, def, min, max, choices, metavar, passes, group, help, note},
#include "pipeline/dp_options.def"
#undef X
};

#define DP__N_OPTIONS ((int) DP_ARRAY_LEN(dp__options))

typedef struct dp__value {
    char *text;   /* NULL = not set */
    char **items; /* LIST: split items */
    int n_items;
    char *items_buf;
} dp__value;

struct dp_config {
    dp__value v[DP__N_OPTIONS];
    dp__value defaults[DP__N_OPTIONS]; /* split default lists */
};

int dp_config_n_options(void) {
    return DP__N_OPTIONS;
}

const dp_opt_info *dp_config_option(int i) {
    return i >= 0 && i < DP__N_OPTIONS ? &dp__options[i] : NULL;
}

static bool dp__name_eq(const char *table, const char *name) {
    for (; *table && *name; table++, name++) {
        char a = *table, b = *name == '_' ? '-' : *name;
        if (a != b)
            return false;
    }
    return *table == '\0' && *name == '\0';
}

static int dp__index(const char *name) {
    for (int i = 0; i < DP__N_OPTIONS; i++)
        if (dp__name_eq(dp__options[i].name, name))
            return i;
    return -1;
}

const dp_opt_info *dp_config_find(const char *name) {
    int i = dp__index(name);
    return i >= 0 ? &dp__options[i] : NULL;
}

static void dp__value_clear(dp__value *v) {
    dp_free(v->text);
    dp_free(v->items);
    dp_free(v->items_buf);
    memset(v, 0, sizeof *v);
}

static dp_status dp__split_list(dp__value *v, const char *text, dp_error *err) {
    size_t n = strlen(text);
    v->items_buf = dp_strndup(text, n);
    v->items = dp_calloc(n / 2 + 2, sizeof *v->items);
    if (v->items_buf == NULL || v->items == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    v->n_items = 0;
    char *save = NULL;
    for (char *tok = strtok_r(v->items_buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char) *tok))
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char) end[-1]))
            *--end = '\0';
        if (*tok)
            v->items[v->n_items++] = tok;
    }
    return DP_OK;
}

dp_status dp_config_create(dp_config **out, dp_error *err) {
    *out = NULL;
    dp_config *c = dp_calloc(1, sizeof *c);
    if (c == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    for (int i = 0; i < DP__N_OPTIONS; i++)
        if (dp__options[i].type == DP_OPT_LIST && dp__options[i].def != NULL) {
            dp_status st = dp__split_list(&c->defaults[i], dp__options[i].def, err);
            if (st != DP_OK) {
                dp_config_free(c);
                return st;
            }
        }
    *out = c;
    return DP_OK;
}

void dp_config_free(dp_config *c) {
    if (c == NULL)
        return;
    for (int i = 0; i < DP__N_OPTIONS; i++) {
        dp__value_clear(&c->v[i]);
        dp__value_clear(&c->defaults[i]);
    }
    dp_free(c);
}

static int dp__parse_bool(const char *s) {
    if (s == NULL)
        return 1;
    const char *t[] = {"true", "yes", "1", "on"};
    const char *f[] = {"false", "no", "0", "off"};
    for (size_t k = 0; k < 4; k++) {
        if (strcasecmp(s, t[k]) == 0)
            return 1;
        if (strcasecmp(s, f[k]) == 0)
            return 0;
    }
    return -1;
}

/* Shortest text that reads back as the same double ("0.9", not "0.90000000000000002"), so a value
 * set explicitly hashes like the same default. */
static void dp__shortest(double d, char *buf, size_t cap) {
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            return;
    }
}

static bool dp__choice_ok(const char *choices, const char *s) {
    size_t n = strlen(s);
    const char *p = choices;
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t) (bar - p) : strlen(p);
        if (len == n && strncmp(p, s, n) == 0)
            return true;
        if (bar == NULL)
            break;
        p = bar + 1;
    }
    return false;
}

dp_status dp_config_set(dp_config *c, const char *name, const char *value, dp_error *err) {
    int i = dp__index(name);
    if (i < 0)
        return dp_error_set(err, DP_INVALID_ARG, "unknown option '%s'", name);
    const dp_opt_info *o = &dp__options[i];
    char canon[64];
    const char *text = value;
    switch (o->type) {
    case DP_OPT_BOOL: {
        int b = dp__parse_bool(value);
        if (b < 0)
            return dp_error_set(err, DP_INVALID_ARG, "--%s: '%s' is not a boolean (true/false)",
                                o->name, value);
        text = b ? "true" : "false";
        break;
    }
    case DP_OPT_INT: {
        if (value == NULL)
            return dp_error_set(err, DP_INVALID_ARG, "--%s needs a value", o->name);
        char *end;
        errno = 0;
        double d = strtod(value, &end); /* accepts 1e6 */
        if (errno != 0 || end == value || *end != '\0' || d != floor(d) || d < o->min || d > o->max)
            return dp_error_set(err, DP_INVALID_ARG, "--%s: '%s' is not an integer in [%.0f, %.0f]",
                                o->name, value, o->min, o->max);
        snprintf(canon, sizeof canon, "%.0f", d);
        text = canon;
        break;
    }
    case DP_OPT_DOUBLE: {
        if (value == NULL)
            return dp_error_set(err, DP_INVALID_ARG, "--%s needs a value", o->name);
        char *end;
        errno = 0;
        double d = strtod(value, &end);
        if (errno != 0 || end == value || *end != '\0' || !(d >= o->min && d <= o->max))
            return dp_error_set(err, DP_INVALID_ARG, "--%s: '%s' is not a number in [%g, %g]",
                                o->name, value, o->min, o->max);
        dp__shortest(d, canon, sizeof canon);
        text = canon;
        break;
    }
    case DP_OPT_CHOICE:
        if (value == NULL || !dp__choice_ok(o->choices, value))
            return dp_error_set(err, DP_INVALID_ARG, "--%s: '%s' is not one of %s", o->name,
                                value ? value : "", o->choices);
        break;
    case DP_OPT_STRING:
    case DP_OPT_LIST:
        if (value == NULL)
            return dp_error_set(err, DP_INVALID_ARG, "--%s needs a value", o->name);
        break;
    }
    if (strcmp(o->name, "file-independent-sampling") == 0 && strcmp(text, "false") == 0)
        return dp_error_set(err, DP_INVALID_ARG,
                            "--file-independent-sampling false is not supported: dpipe's "
                            "per-file samples always depend only on the seed and the file name");
    dp__value nv = {0};
    nv.text = dp_strdup(text);
    if (nv.text == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    if (o->type == DP_OPT_LIST) {
        /* A repeated list option appends (--columns a --columns b). */
        if (c->v[i].text != NULL) {
            size_t n = strlen(c->v[i].text) + strlen(text) + 2;
            char *joined = dp_malloc(n);
            if (joined == NULL) {
                dp__value_clear(&nv);
                return dp_error_set(err, DP_NOMEM, "out of memory");
            }
            snprintf(joined, n, "%s,%s", c->v[i].text, text);
            dp_free(nv.text);
            nv.text = joined;
        }
        dp_status st = dp__split_list(&nv, nv.text, err);
        if (st != DP_OK) {
            dp__value_clear(&nv);
            return st;
        }
    }
    dp__value_clear(&c->v[i]);
    c->v[i] = nv;
    return DP_OK;
}

dp_status dp_config_load(dp_config *c, const char *path, dp_error *err) {
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return dp_error_set(err, errno == ENOENT ? DP_NOT_FOUND : DP_IO,
                            "%s: cannot open config file: %s", path, strerror(errno));
    char line[8192];
    int lineno = 0;
    dp_status st = DP_OK;
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char) *p))
            p++;
        if (*p == '#' || *p == '\0')
            continue;
        char *eq = strchr(p, '=');
        if (eq == NULL) {
            st = dp_error_set(err, DP_INVALID_ARG, "%s:%d: expected 'name = value'", path, lineno);
            break;
        }
        *eq = '\0';
        char *key = p, *val = eq + 1;
        char *e = key + strlen(key);
        while (e > key && isspace((unsigned char) e[-1]))
            *--e = '\0';
        while (isspace((unsigned char) *val))
            val++;
        e = val + strlen(val);
        while (e > val && isspace((unsigned char) e[-1]))
            *--e = '\0';
        if (e - val >= 2 && (val[0] == '"' || val[0] == '\'') && e[-1] == val[0]) {
            val++;
            e[-1] = '\0';
        }
        while (*key == '-')
            key++;
        st = dp_config_set(c, key, val, err);
        if (st != DP_OK) {
            dp_error_prefix(err, "%s:%d: ", path, lineno);
            break;
        }
    }
    fclose(f);
    return st;
}

bool dp_config_is_set(const dp_config *c, const char *name) {
    int i = dp__index(name);
    return i >= 0 && c->v[i].text != NULL;
}

static int dp__must(const char *name) {
    int i = dp__index(name);
    DP_ASSERT(i >= 0);
    return i;
}

const char *dp_config_text(const dp_config *c, const char *name) {
    int i = dp__must(name);
    if (i < 0)
        return NULL;
    return c->v[i].text != NULL ? c->v[i].text : dp__options[i].def;
}

double dp_config_double(const dp_config *c, const char *name) {
    const char *t = dp_config_text(c, name);
    return t != NULL ? strtod(t, NULL) : NAN;
}

int64_t dp_config_int(const dp_config *c, const char *name) {
    const char *t = dp_config_text(c, name);
    return t != NULL ? (int64_t) strtod(t, NULL) : 0;
}

bool dp_config_bool(const dp_config *c, const char *name) {
    const char *t = dp_config_text(c, name);
    return t != NULL && strcmp(t, "true") == 0;
}

int dp_config_list(const dp_config *c, const char *name, const char *const **items) {
    int i = dp__must(name);
    if (i < 0) {
        *items = NULL;
        return 0;
    }
    const dp__value *v = c->v[i].text != NULL ? &c->v[i] : &c->defaults[i];
    *items = (const char *const *) v->items;
    return v->n_items;
}

dp_status dp_config_write(const dp_config *c, FILE *f, dp_error *err) {
    const char *group = "";
    for (int i = 0; i < DP__N_OPTIONS; i++) {
        const dp_opt_info *o = &dp__options[i];
        if (strcmp(group, o->group) != 0) {
            fprintf(f, "%s# %s\n", i ? "\n" : "", o->group);
            group = o->group;
        }
        const char *t = dp_config_text(c, o->name);
        if (t == NULL)
            fprintf(f, "# %s = (unset)\n", o->name);
        else if (c->v[i].text == NULL)
            fprintf(f, "%s = %s  # default\n", o->name, t);
        else
            fprintf(f, "%s = %s\n", o->name, t);
    }
    if (ferror(f))
        return dp_error_set(err, DP_IO, "write error while writing the configuration");
    return DP_OK;
}

uint64_t dp_config_hash(const dp_config *c, unsigned pass_mask) {
    uint64_t h = 0x243f6a8885a308d3ull;
    for (int i = 0; i < DP__N_OPTIONS; i++) {
        if (!(dp__options[i].passes & pass_mask))
            continue;
        const char *t = dp_config_text(c, dp__options[i].name);
        h = dp_hash64_combine(h, dp_hash64_str(dp__options[i].name, 1));
        h = dp_hash64_combine(h, t != NULL ? dp_hash64_str(t, 2) : 0);
    }
    return h;
}

int dp_config_diff(const dp_config *a, const dp_config *b, unsigned pass_mask, char *buf,
                   size_t cap) {
    int n = 0;
    size_t used = 0;
    if (cap > 0)
        buf[0] = '\0';
    for (int i = 0; i < DP__N_OPTIONS; i++) {
        if (!(dp__options[i].passes & pass_mask))
            continue;
        const char *x = dp_config_text(a, dp__options[i].name);
        const char *y = dp_config_text(b, dp__options[i].name);
        if ((x == NULL) != (y == NULL) || (x != NULL && strcmp(x, y) != 0)) {
            if (used < cap) {
                int w = snprintf(buf + used, cap - used, "%s%s changed %s -> %s", n ? ", " : "",
                                 dp__options[i].name, x ? x : "(unset)", y ? y : "(unset)");
                if (w > 0)
                    used += (size_t) w;
            }
            n++;
        }
    }
    return n;
}
