/* report.html of a run directory (dp_report.h).
 *
 * Layout: header and problems, funnel, pass 1 histograms, pass 2 heatmap and |rho| histogram,
 * pass 3 VIF steps and removals, pass 4 heatmaps, scatter and null levels, the alternatives
 * browser, run facts, then one inline script (table filter, expanders, heatmap tooltips and a
 * self-test run when the URL ends in #selftest, used by tests/cli/report_browser.sh).
 */
#include "pipeline/dp_report.h"
#include "dpipe/dp_commands.h"
#include "dpipe/dp_features.h"
#include "pipeline/dp_outputs.h"
#include "pipeline/dp_png.h"
#include "pipeline/dp_report_html.h"
#include "util/dp_alloc.h"
#include "util/dp_json.h"
#include "util/dp_log.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Largest JSON / text file the report reads (run files of a 5,000-column run are a few MB). */
#define DP__TEXT_MAX ((size_t) 1 << 30)
/* Heatmap side in pixels: above it the matrix is max-pooled. 600 fits a laptop screen beside
 * nothing; the pass-4 pair sits side by side at 460 each. */
#define DP__HM_P2 600
#define DP__HM_P4 460
/* Without libpng: SVG rectangles, at most this many per side (keeps each under ~1 MB). */
#define DP__HM_SVG 120
/* Scatter: every pair drawn when there are at most this many; else a density of all pairs and
 * the most notable pairs (at most DP__SCATTER_MARKED) drawn on top. */
#define DP__SCATTER_ALL    6000
#define DP__SCATTER_MARKED 3000
#define DP__MAX_NOTES      16

/* UTF-8 of the Greek rho, for |rho| in labels. */
#define DP__RHO "\xcf\x81"

static const char *const dp__c_kept = "#3b6ea8";    /* blue */
static const char *const dp__c_removed = "#e08214"; /* orange: apart from blue in every CVD */
static const char *const dp__c_thr = "#a4161a";     /* threshold lines */
static const char *const dp__c_null = "#555555";    /* null levels */

typedef struct dp__lines {
    char **v;
    int64_t n;
    char *text;
} dp__lines;

typedef struct dp__kv {
    const char *group, *key, *value;
    bool def, unset;
} dp__kv;

typedef struct dp__p1row {
    char *name;
    bool kept;
    const char *reason;
    double missing, normvar;
} dp__p1row;

/* Names sorted for lookup (name -> index in the list they came from). */
typedef struct dp__index {
    const char **name;
    int64_t *idx;
    int64_t n;
} dp__index;

typedef struct dp__rep {
    const char *dir;
    dp__html h;
    char notes[DP__MAX_NOTES][320];
    int n_notes;
    dp_json *manifest, *summary, *clusters, *p2, *p3, *p4, *columns;
    dp_buf cfg_text;
    dp__kv *cfg;
    int n_cfg;
    dp_buf p1_text;
    dp__p1row *p1;
    int64_t n_p1;
    dp__lines p1cols, p3cols;
    /* Pass-2 matrix and its names (for the pass-4 scatter). */
    double *r2;
    int64_t n2;
    const char **names2;
    dp__index idx2;
    uint8_t lut[256][3];
    bool png;
} dp__rep;

/* ---- small helpers --------------------------------------------------------------------------- */

static void dp__note(dp__rep *r, const char *fmt, ...) DP_PRINTF(2, 3);
static void dp__note(dp__rep *r, const char *fmt, ...) {
    if (r->n_notes >= DP__MAX_NOTES)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->notes[r->n_notes++], sizeof r->notes[0], fmt, ap);
    va_end(ap);
}

/* A failure that costs only part of the page: noted; NOMEM stays fatal. */
static dp_status dp__soft(dp__rep *r, dp_status st, const dp_error *e, const char *what) {
    if (st == DP_OK)
        return DP_OK;
    if (st == DP_NOMEM)
        return DP_NOMEM;
    dp__note(r, "%s: %s", what, e->msg[0] ? e->msg : dp_status_text(st));
    return DP_OK;
}

static const char *dp__path(const dp__rep *r, const char *name, char *buf, size_t cap) {
    return dp__path_join(buf, cap, r->dir, name);
}

static dp_status dp__load_json(dp__rep *r, const char *name, dp_json **out) {
    char path[4096];
    dp_error e = {0};
    *out = NULL;
    dp_status st = dp_json_parse_file(dp__path(r, name, path, sizeof path), DP__TEXT_MAX, out, &e);
    if (st != DP_OK) {
        dp_json_free(*out);
        *out = NULL;
    }
    return dp__soft(r, st, &e, name);
}

/* Whole text file, NUL-terminated (the NUL not counted). */
static dp_status dp__load_text(dp__rep *r, const char *name, dp_buf *b, bool *ok) {
    char path[4096];
    dp_error e = {0};
    *ok = false;
    b->size = 0;
    dp_status st = dp__read_file(dp__path(r, name, path, sizeof path), DP__TEXT_MAX, b, &e);
    if (st == DP_OK && dp_buf_append_u8(b, 0) != DP_OK)
        st = dp_error_set(&e, DP_NOMEM, "out of memory");
    if (st == DP_OK) {
        b->size--;
        *ok = true;
    }
    return dp__soft(r, st, &e, name);
}

static void dp__lines_reset(dp__lines *l) {
    dp_free(l->v);
    dp_free(l->text);
    memset(l, 0, sizeof *l);
}

/* One name per line (dp__write_lines); a missing file gives an empty list and a note. */
static dp_status dp__load_lines(dp__rep *r, const char *name, dp__lines *l, bool *ok) {
    memset(l, 0, sizeof *l);
    dp_buf b;
    dp_buf_init(&b);
    DP_TRY(dp__load_text(r, name, &b, ok));
    if (!*ok) {
        dp_buf_reset(&b);
        return DP_OK;
    }
    int64_t n = 0;
    for (size_t i = 0; i < b.size; i++)
        n += b.data[i] == '\n';
    l->v = dp_calloc((size_t) n + 1, sizeof *l->v);
    if (l->v == NULL) {
        dp_buf_reset(&b);
        return DP_NOMEM;
    }
    l->text = (char *) b.data;
    for (char *s = l->text; *s;) {
        char *nl = strchr(s, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        l->v[l->n++] = s;
        s = nl + 1;
    }
    return DP_OK;
}

static int dp__index_cmp(const void *a, const void *b, void *ctx) {
    const dp__index *x = ctx;
    int64_t i = *(const int64_t *) a, j = *(const int64_t *) b;
    int c = strcmp(x->name[i], x->name[j]);
    return c != 0 ? c : (i > j) - (i < j);
}

static void dp__index_reset(dp__index *x) {
    dp_free(x->idx);
    memset(x, 0, sizeof *x);
}

/* Sorted positions of names[0..n) for dp__index_find (names are borrowed). */
static dp_status dp__index_build(dp__index *x, const char **names, int64_t n) {
    memset(x, 0, sizeof *x);
    x->idx = dp_mallocarray((size_t) (n > 0 ? n : 1), sizeof *x->idx);
    if (x->idx == NULL)
        return DP_NOMEM;
    for (int64_t i = 0; i < n; i++)
        x->idx[i] = i;
    x->name = names;
    x->n = n;
    qsort_r(x->idx, (size_t) n, sizeof *x->idx, dp__index_cmp, x);
    return DP_OK;
}

/* Index of name in the list, -1 when absent (the first of duplicates). */
static int64_t dp__index_find(const dp__index *x, const char *name) {
    int64_t lo = 0, hi = x->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (strcmp(x->name[x->idx[mid]], name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < x->n && strcmp(x->name[x->idx[lo]], name) == 0 ? x->idx[lo] : -1;
}

static const char *dp__str(const dp_json *j) {
    const char *s = dp_json_string(j);
    return s != NULL ? s : "";
}

static double dp__jnum(const dp_json *j) {
    return j != NULL && j->type == DP_JSON_NUMBER ? dp_json_number(j) : NAN;
}

static double dp__jnum_at(const dp_json *o, const char *k) {
    return dp__jnum(dp_json_get(o, k));
}

static const char *dp__cfg(const dp__rep *r, const char *key) {
    for (int i = 0; i < r->n_cfg; i++)
        if (!r->cfg[i].unset && strcmp(r->cfg[i].key, key) == 0)
            return r->cfg[i].value;
    /* Fall back on the manifest's per-pass settings. */
    const dp_json *passes = dp_json_get(r->manifest, "passes");
    for (size_t k = 0; passes != NULL && passes->type == DP_JSON_OBJECT && k < passes->n; k++) {
        const char *v =
            dp_json_string(dp_json_get(dp_json_get(&passes->items[k], "settings"), key));
        if (v != NULL)
            return v;
    }
    return NULL;
}

static double dp__cfg_num(const dp__rep *r, const char *key) {
    const char *v = dp__cfg(r, key);
    if (v == NULL)
        return NAN;
    char *end;
    double d = strtod(v, &end);
    return end != v ? d : NAN;
}

/* ---- loading --------------------------------------------------------------------------------- */

/* config.conf as dp_config_write writes it: "# Group" headings, "key = value[  # default]",
 * "# key = (unset)". */
static dp_status dp__load_config(dp__rep *r) {
    bool ok;
    DP_TRY(dp__load_text(r, "config.conf", &r->cfg_text, &ok));
    if (!ok)
        return DP_OK;
    int64_t lines = 1;
    for (size_t i = 0; i < r->cfg_text.size; i++)
        lines += r->cfg_text.data[i] == '\n';
    r->cfg = dp_calloc((size_t) lines, sizeof *r->cfg);
    if (r->cfg == NULL)
        return DP_NOMEM;
    const char *group = "";
    for (char *s = (char *) r->cfg_text.data; s != NULL && *s;) {
        char *nl = strchr(s, '\n');
        if (nl != NULL)
            *nl = '\0';
        char *eq = strstr(s, " = ");
        if (s[0] == '#' && eq == NULL) {
            group = s[1] == ' ' ? s + 2 : s + 1;
        } else if (eq != NULL) {
            dp__kv *kv = &r->cfg[r->n_cfg++];
            *eq = '\0';
            kv->group = group;
            kv->key = s[0] == '#' ? s + 2 : s;
            kv->value = eq + 3;
            kv->unset = s[0] == '#';
            char *d = strstr(eq + 3, "  # default");
            if (d != NULL && d[11] == '\0') {
                *d = '\0';
                kv->def = true;
            }
        }
        s = nl != NULL ? nl + 1 : NULL;
    }
    return DP_OK;
}

static char *dp__tsv_unescape(char *s) {
    char *o = s;
    for (char *p = s; *p; p++) {
        if (*p == '\\' && p[1]) {
            p++;
            *o++ = *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p;
        } else {
            *o++ = *p;
        }
    }
    *o = '\0';
    return s;
}

static double dp__strtod(const char *s) {
    if (s == NULL)
        return NAN;
    char *end;
    double d = strtod(s, &end);
    return end != s ? d : NAN;
}

/* pass1_statistics.tsv: the columns the report needs, found by header name. */
static dp_status dp__load_p1(dp__rep *r) {
    bool ok;
    DP_TRY(dp__load_text(r, "pass1_statistics.tsv", &r->p1_text, &ok));
    if (!ok)
        return DP_OK;
    char *text = (char *) r->p1_text.data;
    int64_t lines = 0;
    for (size_t i = 0; i < r->p1_text.size; i++)
        lines += text[i] == '\n';
    r->p1 = dp_calloc((size_t) (lines > 0 ? lines : 1), sizeof *r->p1);
    if (r->p1 == NULL)
        return DP_NOMEM;
    enum { F_NAME, F_KEPT, F_REASON, F_MISSING, F_NORMVAR, F_N };
    static const char *const want[F_N] = {"name", "kept", "reason", "missing_ratio",
                                          "norm_variance"};
    int col[F_N] = {-1, -1, -1, -1, -1};
    char *s = text;
    bool header = true;
    while (s != NULL && *s) {
        char *nl = strchr(s, '\n');
        if (nl != NULL)
            *nl = '\0';
        char *field[64];
        int nf = 0;
        for (char *f = s; f != NULL && nf < 64;) {
            char *tab = strchr(f, '\t');
            if (tab != NULL)
                *tab = '\0';
            field[nf++] = f;
            f = tab != NULL ? tab + 1 : NULL;
        }
        if (header) {
            for (int k = 0; k < F_N; k++)
                for (int i = 0; i < nf; i++)
                    if (strcmp(field[i], want[k]) == 0)
                        col[k] = i;
            header = false;
            if (col[F_NAME] < 0 || col[F_KEPT] < 0) {
                dp__note(r, "pass1_statistics.tsv: no 'name' and 'kept' columns in the header");
                r->n_p1 = 0;
                return DP_OK;
            }
        } else if (nf > col[F_NAME] && nf > col[F_KEPT]) {
            dp__p1row *p = &r->p1[r->n_p1++];
            p->name = dp__tsv_unescape(field[col[F_NAME]]);
            p->kept = strcmp(field[col[F_KEPT]], "yes") == 0;
            p->reason = col[F_REASON] >= 0 && col[F_REASON] < nf ? field[col[F_REASON]] : "";
            p->missing = col[F_MISSING] >= 0 && col[F_MISSING] < nf
                             ? dp__strtod(field[col[F_MISSING]])
                             : NAN;
            p->normvar = col[F_NORMVAR] >= 0 && col[F_NORMVAR] < nf
                             ? dp__strtod(field[col[F_NORMVAR]])
                             : NAN;
        }
        s = nl != NULL ? nl + 1 : NULL;
    }
    return DP_OK;
}

/* ---- counts ---------------------------------------------------------------------------------- */

/* Descriptor counts: [0] input, [k] after pass k; -1 when unknown. */
static void dp__counts(const dp__rep *r, int64_t c[5]) {
    static const char *const keys[5] = {"initial", "after_pass1", "after_pass2", "after_pass3",
                                        "after_pass4"};
    for (int k = 0; k < 5; k++) {
        double v = dp__jnum_at(r->summary, keys[k]);
        if (isnan(v)) {
            char pk[8];
            snprintf(pk, sizeof pk, "pass%d", k);
            v = k == 0 ? dp__jnum_at(dp_json_get(r->manifest, "input"), "descriptors")
                       : dp__jnum_at(dp_json_get(dp_json_get(r->manifest, "passes"), pk),
                                     "columns_out");
        }
        c[k] = isnan(v) ? -1 : (int64_t) v;
    }
}

/* ---- page parts ------------------------------------------------------------------------------ */

static const char dp__css[] =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "color:#1d1d1f;background:#fafafa;margin:0}"
    "main{max-width:1240px;margin:0 auto;padding:0 20px 40px}"
    "header{background:#23304a;color:#fff;padding:14px 20px}"
    "header h1{margin:0;font-size:21px}header p{margin:4px 0 0;color:#d7dcea}"
    "nav{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:6px 20px;"
    "z-index:5}nav a{margin-right:14px;color:#23304a;text-decoration:none;font-weight:600}"
    "section{background:#fff;border:1px solid #e2e2e2;border-radius:6px;margin:18px 0;"
    "padding:4px 18px 14px}h2{font-size:18px;margin:12px 0 6px}h3{font-size:15px;margin:14px 0 "
    "4px}p.cap,figcaption{color:#444;font-size:13px;max-width:1100px}"
    ".row{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}"
    "figure{margin:6px 0}svg.chart{max-width:100%;height:auto;font-size:11px}"
    "svg.chart .plot{fill:#fff;stroke:none}svg.chart .axis line{stroke:#333}"
    "svg.chart text{fill:#222}svg.chart .title{font-size:12px;font-weight:600}"
    "svg.chart text.ref{font-size:11px;paint-order:stroke;stroke:#fff;stroke-width:3px;"
    "stroke-linejoin:round}"
    ".hmwrap{position:relative;display:inline-block;line-height:0}"
    ".hmwrap img,.hmwrap svg.hmsvg{image-rendering:pixelated;display:block;max-width:100%;"
    "height:auto}.hmwrap svg.hmbox{position:absolute;left:0;top:0;width:100%;height:100%;"
    "pointer-events:none}"
    ".tip{position:fixed;display:none;background:#111;color:#fff;padding:4px 7px;border-radius:4px;"
    "font-size:12px;pointer-events:none;z-index:10;max-width:420px;line-height:1.3}"
    "table{border-collapse:collapse;font-size:13px}th,td{padding:3px 8px;text-align:left;"
    "border-bottom:1px solid #eee;vertical-align:top}th{background:#f2f3f6}"
    "td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}"
    ".scroll{max-height:420px;overflow:auto;border:1px solid #eee;display:inline-block}"
    ".scroll.tall{max-height:640px}"
    ".notes{background:#fff4e0;border:1px solid #f0c080;padding:8px 14px;border-radius:6px;"
    "margin-top:14px}"
    ".sw{display:inline-block;width:12px;height:12px;vertical-align:-1px;margin:0 4px 0 10px;"
    "border:1px solid #555}"
    "#alt-search{font-size:15px;padding:5px 8px;width:340px;max-width:90%}"
    "#alt-table button.tog{border:0;background:none;cursor:pointer;font-size:14px;width:22px}"
    "#alt-table tr.alt-detail>td{background:#f8f9fb}#alt-table table.sub th{background:#eceef3}"
    "tr.match td{background:#fff2a8}.muted{color:#777}"
    "@media print{nav{display:none}}";

static void dp__swatch(dp__html *h, const char *color, const char *label) {
    dp__h_printf(h, "<span class=\"sw\" style=\"background:%s\"></span>", color);
    dp__h_text(h, label);
}

static void dp__header(dp__rep *r) {
    dp__html *h = &r->h;
    const char *ver = dp_json_string(dp_json_get(r->manifest, "dpipe_version"));
    int64_t c[5];
    dp__counts(r, c);
    dp__h_raw(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                 "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                 "img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'\">"
                 "<title>dpipe report: ");
    dp__h_text(h, r->dir);
    dp__h_raw(h, "</title>\n<style>");
    dp__h_raw(h, dp__css);
    dp__h_raw(h, "</style>\n<script>window.__dpErrors=[];window.addEventListener('error',"
                 "function(e){window.__dpErrors.push(String(e.message||e.type))});</script>\n"
                 "</head><body>\n<header><h1>dpipe run report</h1><p>");
    dp__h_text(h, r->dir);
    dp__h_raw(h, " &middot; dpipe ");
    dp__h_text(h, ver != NULL ? ver : "?");
    double rows = dp__jnum_at(dp_json_get(r->manifest, "input"), "rows");
    if (!isnan(rows))
        dp__h_printf(h, " &middot; %.0f rows", rows);
    if (c[0] >= 0 && c[4] >= 0)
        dp__h_printf(h, " &middot; %lld descriptors &rarr; %lld final (%.1f %% fewer)",
                     (long long) c[0], (long long) c[4],
                     c[0] > 0 ? 100.0 * (double) (c[0] - c[4]) / (double) c[0] : 0.0);
    dp__h_raw(h,
              "</p></header>\n<nav><a href=\"#funnel\">Funnel</a><a href=\"#pass1\">Pass 1</a>"
              "<a href=\"#pass2\">Pass 2</a><a href=\"#pass3\">Pass 3</a><a href=\"#pass4\">Pass "
              "4</a><a href=\"#alternatives\">Alternatives</a><a href=\"#facts\">Run "
              "facts</a></nav>\n<main>\n");
}

static void dp__notes(dp__rep *r) {
    if (r->n_notes == 0)
        return;
    dp__html *h = &r->h;
    dp__h_raw(h, "<div class=\"notes\" id=\"notes\"><b>Parts of this report are missing:</b><ul>");
    for (int i = 0; i < r->n_notes; i++) {
        dp__h_raw(h, "<li>");
        dp__h_text(h, r->notes[i]);
        dp__h_raw(h, "</li>");
    }
    dp__h_raw(h, "</ul></div>\n");
}

/* ---- funnel ---------------------------------------------------------------------------------- */

typedef struct dp__reason {
    char label[64];
    int64_t n;
} dp__reason;

static void dp__reason_add(dp__reason *v, int *n, int cap, const char *label, int64_t k) {
    for (int i = 0; i < *n; i++)
        if (strcmp(v[i].label, label) == 0) {
            v[i].n += k;
            return;
        }
    if (*n < cap) {
        snprintf(v[*n].label, sizeof v[0].label, "%s", label);
        v[(*n)++].n = k;
    }
}

static const char *dp__p1_reason_label(const char *reason) {
    size_t n = strcspn(reason, ":");
    if (strncmp(reason, "constant", n) == 0 && n == 8)
        return "constant";
    if (strncmp(reason, "missing", n) == 0 && n == 7)
        return "too many missing";
    if (strncmp(reason, "effective-n", n) == 0 && n == 11)
        return "too few valid values";
    if (strncmp(reason, "variance", n) == 0 && n == 8)
        return "low variance";
    return "other";
}

static void dp__funnel(dp__rep *r) {
    dp__html *h = &r->h;
    int64_t c[5];
    dp__counts(r, c);
    dp__h_raw(h, "<section id=\"funnel\"><h2>Funnel: descriptors after each pass</h2>\n");
    if (c[0] < 0) {
        dp__h_raw(h, "<p class=\"muted\">No counts (summary.json and manifest.json lack "
                     "them).</p></section>\n");
        return;
    }
    dp__reason why[5][8];
    int nwhy[5] = {0};
    for (int64_t i = 0; i < r->n_p1; i++)
        if (!r->p1[i].kept)
            dp__reason_add(why[1], &nwhy[1], 8, dp__p1_reason_label(r->p1[i].reason), 1);
    char lab[64];
    double t2 = dp__jnum_at(r->p2, "threshold"), t4 = dp__jnum_at(r->p4, "threshold");
    if (isnan(t2))
        t2 = dp__cfg_num(r, "spearman-threshold");
    if (isnan(t4))
        t4 = dp__cfg_num(r, "nonlinear-threshold");
    snprintf(lab, sizeof lab, "redundant, |" DP__RHO "| \xe2\x89\xa5 %.4g", t2);
    if (c[1] >= 0 && c[2] >= 0 && c[1] > c[2])
        dp__reason_add(why[2], &nwhy[2], 8, lab, c[1] - c[2]);
    const dp_json *rem = dp_json_get(r->p3, "removed");
    double vthr = dp__jnum_at(r->p3, "threshold");
    if (isnan(vthr))
        vthr = dp__cfg_num(r, "vif-threshold");
    for (size_t k = 0; rem != NULL && rem->type == DP_JSON_ARRAY && k < rem->n; k++) {
        const char *rs = dp_json_string(dp_json_get(&rem->items[k], "reason"));
        if (rs != NULL && strcmp(rs, "threshold") == 0) {
            snprintf(lab, sizeof lab, "VIF \xe2\x89\xa5 %.4g", vthr);
            dp__reason_add(why[3], &nwhy[3], 8, lab, 1);
        } else {
            dp__reason_add(why[3], &nwhy[3], 8, rs != NULL ? rs : "other", 1);
        }
    }
    snprintf(lab, sizeof lab, "nonlinear cluster, S \xe2\x89\xa5 %.4g", t4);
    if (c[3] >= 0 && c[4] >= 0 && c[3] > c[4])
        dp__reason_add(why[4], &nwhy[4], 8, lab, c[3] - c[4]);

    static const char *const stage[5] = {"input descriptors", "after pass 1 (filters)",
                                         "after pass 2 (rank correlation)", "after pass 3 (VIF)",
                                         "after pass 4 (nonlinear)"};
    const int W = 1000, rowh = 44, x0 = 230, bw = 420, tx = 665;
    dp__h_printf(h,
                 "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
                 "role=\"img\" aria-label=\"descriptor counts after each pass\">\n",
                 W, 5 * rowh + 10, W, 5 * rowh + 10);
    double scale = c[0] > 0 ? (double) bw / (double) c[0] : 0;
    for (int k = 0; k < 5; k++) {
        double y = 6 + k * rowh;
        dp__h_printf(h, "<text x=\"%d\" y=\"%.0f\" text-anchor=\"end\" class=\"title\">", x0 - 8,
                     y + 21);
        dp__h_text(h, stage[k]);
        dp__h_raw(h, "</text>");
        if (c[k] < 0) {
            dp__h_printf(h, "<text x=\"%d\" y=\"%.0f\">not run</text>\n", x0, y + 21);
            continue;
        }
        double wk = (double) c[k] * scale;
        dp__h_printf(h,
                     "<rect x=\"%d\" y=\"%.0f\" width=\"%.1f\" height=\"26\" fill=\"%s\">"
                     "<title>%lld descriptors</title></rect>",
                     x0, y + 4, wk, dp__c_kept, (long long) c[k]);
        int64_t prev = k > 0 ? c[k - 1] : -1;
        if (prev > c[k]) {
            dp__h_printf(h,
                         "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"26\" fill=\"%s\" "
                         "fill-opacity=\"0.75\"><title>%lld removed</title></rect>",
                         x0 + wk, y + 4, (double) (prev - c[k]) * scale, dp__c_removed,
                         (long long) (prev - c[k]));
        }
        dp__h_printf(h, "<text x=\"%d\" y=\"%.0f\"><tspan font-weight=\"600\">%lld</tspan>", tx,
                     y + 15, (long long) c[k]);
        if (prev > c[k]) {
            dp__h_printf(h, "<tspan fill=\"%s\"> \xe2\x88\x92%lld</tspan>", "#a35200",
                         (long long) (prev - c[k]));
            dp__h_printf(h, "</text><text x=\"%d\" y=\"%.0f\" class=\"muted\">", tx, y + 31);
            for (int i = 0; i < nwhy[k]; i++) {
                dp__h_raw(h, i ? ", " : "");
                dp__h_text(h, why[k][i].label);
                dp__h_printf(h, ": %lld", (long long) why[k][i].n);
            }
        }
        dp__h_raw(h, "</text>\n");
    }
    dp__h_raw(h, "</svg>\n<p class=\"cap\">Bar length: descriptors left after the pass");
    dp__swatch(h, dp__c_kept, "kept");
    dp__swatch(h, dp__c_removed, "removed by this pass");
    dp__h_raw(h, ". Pass 2 keeps one representative per cluster of rank correlation at or above "
                 "the threshold, pass 3 removes the descriptor with the largest variance "
                 "inflation factor until all are below the threshold, pass 4 keeps one "
                 "representative per cluster of combined HSIC/RDC similarity S.</p></section>\n");
}

/* ---- histograms ------------------------------------------------------------------------------ */

/* Stacked histogram (kept below, removed on top) of nb bins with edges e[0..nb]. */
static void dp__histogram(dp__html *h, const double *edges, int nb, const int64_t *kept,
                          const int64_t *removed, bool xlog, const char *xtitle, double thr,
                          const char *thr_label, const char *aria) {
    int64_t mx = 1;
    for (int b = 0; b < nb; b++)
        mx = DP_MAX(mx, kept[b] + removed[b]);
    dp__chart c;
    dp__chart_begin(h, &c, 480, 290, edges[0], edges[nb], xlog, 0, (double) mx * 1.12, false,
                    xtitle, "descriptors", aria);
    for (int b = 0; b < nb; b++) {
        double x0 = dp__ax_px(&c.x, edges[b]) + 0.5, x1 = dp__ax_px(&c.x, edges[b + 1]) - 0.5;
        double y0 = dp__ax_px(&c.y, 0), yk = dp__ax_px(&c.y, (double) kept[b]),
               yt = dp__ax_px(&c.y, (double) (kept[b] + removed[b]));
        if (kept[b] > 0)
            dp__h_printf(h,
                         "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                         x0, yk, x1 - x0, y0 - yk, dp__c_kept);
        if (removed[b] > 0)
            dp__h_printf(h,
                         "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                         x0, yt, x1 - x0, yk - yt, dp__c_removed);
        if (kept[b] + removed[b] > 0) {
            dp__h_printf(h,
                         "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"9\">"
                         "%lld</text>",
                         (x0 + x1) / 2, yt - 2, (long long) (kept[b] + removed[b]));
        }
    }
    dp__chart_vline(h, &c, thr, dp__c_thr, "5 3", thr_label, false);
    dp__chart_end(h);
}

static void dp__pass1(dp__rep *r) {
    dp__html *h = &r->h;
    dp__h_raw(h, "<section id=\"pass1\"><h2>Pass 1: column statistics and filters</h2>\n");
    if (r->n_p1 == 0) {
        dp__h_raw(h, "<p class=\"muted\">No pass-1 statistics (pass1_statistics.tsv).</p>"
                     "</section>\n");
        return;
    }
    double mthr = dp__cfg_num(r, "max-missing-ratio"), vthr = dp__cfg_num(r, "variance-threshold");
    enum { NB = 20 };
    double e[NB + 1];
    int64_t k1[NB] = {0}, r1[NB] = {0};
    for (int b = 0; b <= NB; b++)
        e[b] = (double) b / NB;
    int64_t nan_missing = 0;
    for (int64_t i = 0; i < r->n_p1; i++) {
        double v = r->p1[i].missing;
        if (!(v >= 0 && v <= 1)) {
            nan_missing++;
            continue;
        }
        int b = (int) (v * NB);
        b = b >= NB ? NB - 1 : b;
        (r->p1[i].kept ? k1 : r1)[b]++;
    }
    dp__h_raw(h, "<div class=\"row\"><figure style=\"max-width:500px\">");
    char lab[96];
    snprintf(lab, sizeof lab, "max-missing-ratio %.4g", mthr);
    dp__histogram(h, e, NB, k1, r1, false, "missing ratio (NULL, NaN, \xc2\xb1Inf) per descriptor",
                  mthr, lab, "histogram of the missing ratio of each descriptor");
    dp__h_printf(h, "<figcaption>Missing ratio of each of the %lld descriptors, 20 bins.",
                 (long long) r->n_p1);
    if (nan_missing > 0)
        dp__h_printf(h, " %lld without a value are not shown.", (long long) nan_missing);
    dp__h_raw(h, "</figcaption></figure>\n");

    /* Normalised variance on a log axis, 4 bins per decade; zeros are counted apart. */
    double lo = INFINITY, hi = -INFINITY;
    int64_t zero_k = 0, zero_r = 0, undef = 0;
    for (int64_t i = 0; i < r->n_p1; i++) {
        double v = r->p1[i].normvar;
        if (v > 0 && isfinite(v)) {
            lo = fmin(lo, v);
            hi = fmax(hi, v);
        } else if (v == 0) {
            if (r->p1[i].kept)
                zero_k++;
            else
                zero_r++;
        } else {
            undef++;
        }
    }
    if (isfinite(vthr) && vthr > 0) {
        lo = fmin(lo, vthr);
        hi = fmax(hi, vthr);
    }
    dp__h_raw(h, "<figure style=\"max-width:500px\">");
    int64_t clamped_lo = 0, clamped_hi = 0;
    double d0 = 0, d1 = 0;
    if (isfinite(lo) && isfinite(hi)) {
        /* At most 10 decades, around the threshold when there is one: a near-constant column
         * judged on a tiny trimmed range can reach 1e50, which would hide everything else. */
        d0 = floor(log10(lo));
        d1 = ceil(log10(hi));
        if (isfinite(vthr) && vthr > 0) {
            double dt = floor(log10(vthr));
            d0 = fmax(d0, dt - 5);
            d1 = fmin(d1, dt + 5);
        } else if (d1 - d0 > 10) {
            d0 = d1 - 10;
        }
        if (d1 <= d0)
            d1 = d0 + 1;
        enum { PER = 4 };
        int nb = (int) (d1 - d0) * PER;
        double ev[10 * PER + 1];
        int64_t kv[10 * PER] = {0}, rv[10 * PER] = {0};
        for (int b = 0; b <= nb; b++)
            ev[b] = pow(10, d0 + (double) b / PER);
        for (int64_t i = 0; i < r->n_p1; i++) {
            double v = r->p1[i].normvar;
            if (!(v > 0 && isfinite(v)))
                continue;
            int b = (int) floor((log10(v) - d0) * PER);
            clamped_lo += b < 0;
            clamped_hi += b >= nb;
            b = b < 0 ? 0 : b >= nb ? nb - 1 : b;
            (r->p1[i].kept ? kv : rv)[b]++;
        }
        snprintf(lab, sizeof lab, "variance-threshold %.4g", vthr);
        dp__histogram(h, ev, nb, kv, rv, true, "normalised variance (log scale)", vthr, lab,
                      "histogram of the normalised variance of each descriptor");
    } else {
        dp__h_raw(h, "<p class=\"muted\">No descriptor has a positive normalised variance.</p>");
    }
    dp__h_printf(h, "<figcaption>Normalised variance (variance / squared range, as set by "
                    "range-mode = ");
    dp__h_text(h, dp__cfg(r, "range-mode") != NULL ? dp__cfg(r, "range-mode") : "?");
    dp__h_printf(h,
                 "), 4 bins per decade. Not shown: %lld with variance 0 (%lld kept), %lld "
                 "undefined.",
                 (long long) (zero_k + zero_r), (long long) zero_k, (long long) undef);
    if (clamped_lo > 0)
        dp__h_printf(h, " %lld below 1e%d are counted in the first bin.", (long long) clamped_lo,
                     (int) d0);
    if (clamped_hi > 0)
        dp__h_printf(h, " %lld above 1e%d are counted in the last bin.", (long long) clamped_hi,
                     (int) d1);
    dp__h_raw(h, "</figcaption></figure></div>\n");
    dp__h_raw(h, "<p class=\"cap\">");
    dp__swatch(h, dp__c_kept, "kept");
    dp__swatch(h, dp__c_removed, "removed by pass 1");
    dp__h_raw(h, " (a descriptor is removed when constant, too often missing, with too few valid "
                 "values or with too low a normalised variance). The numbers above the bars "
                 "count descriptors.</p></section>\n");
}

/* ---- heatmaps -------------------------------------------------------------------------------- */

/* Display order of a clustered matrix: clusters stay together (representative first), and
 * clusters and single descriptors follow a nearest-neighbour chain on |a| between their
 * representatives, so related blocks sit near each other. blo/bhi receive the display range of
 * every multi-member cluster (nb of them). */
typedef struct dp__order {
    int64_t *order;
    int64_t *blo, *bhi;
    int64_t nb;
} dp__order;

static void dp__order_reset(dp__order *o) {
    dp_free(o->order);
    dp_free(o->blo);
    dp_free(o->bhi);
    memset(o, 0, sizeof *o);
}

static dp_status dp__order_build(const dp_json *cl_json, const char **names, int64_t n,
                                 const double *a, dp__order *o) {
    dp_status st = DP_OK;
    memset(o, 0, sizeof *o);
    dp__index idx = {0};
    int64_t *unit_of = NULL, *ustart = NULL, *ulen = NULL, *members = NULL, *urep = NULL;
    uint8_t *placed = NULL;
    size_t nn = (size_t) (n > 0 ? n : 1);
    o->order = dp_mallocarray(nn, sizeof *o->order);
    o->blo = dp_mallocarray(nn, sizeof *o->blo);
    o->bhi = dp_mallocarray(nn, sizeof *o->bhi);
    unit_of = dp_mallocarray(nn, sizeof *unit_of);
    ustart = dp_mallocarray(nn, sizeof *ustart);
    ulen = dp_mallocarray(nn, sizeof *ulen);
    urep = dp_mallocarray(nn, sizeof *urep);
    members = dp_mallocarray(nn, sizeof *members);
    placed = dp_calloc(nn, 1);
    if (o->order == NULL || o->blo == NULL || o->bhi == NULL || unit_of == NULL || ustart == NULL ||
        ulen == NULL || urep == NULL || members == NULL || placed == NULL)
        DP_CHECK(DP_NOMEM);
    DP_CHECK(dp__index_build(&idx, names, n));
    for (int64_t i = 0; i < n; i++)
        unit_of[i] = -1;
    /* Units: the clusters of the JSON (members found by name), then the rest one by one. */
    int64_t nu = 0, nm = 0;
    const dp_json *cl = dp_json_get(cl_json, "clusters");
    for (size_t c = 0; cl != NULL && cl->type == DP_JSON_ARRAY && c < cl->n; c++) {
        int64_t rep = dp__index_find(&idx, dp__str(dp_json_get(&cl->items[c], "representative")));
        if (rep < 0 || unit_of[rep] >= 0)
            continue;
        ustart[nu] = nm;
        members[nm++] = rep;
        unit_of[rep] = nu;
        const dp_json *mem = dp_json_get(&cl->items[c], "members");
        for (size_t k = 0; mem != NULL && mem->type == DP_JSON_ARRAY && k < mem->n; k++) {
            int64_t j = dp__index_find(&idx, dp__str(dp_json_get(&mem->items[k], "name")));
            if (j >= 0 && unit_of[j] < 0) {
                members[nm++] = j;
                unit_of[j] = nu;
            }
        }
        ulen[nu] = nm - ustart[nu];
        urep[nu] = rep;
        nu++;
    }
    for (int64_t i = 0; i < n; i++)
        if (unit_of[i] < 0) {
            ustart[nu] = nm;
            members[nm++] = i;
            unit_of[i] = nu;
            ulen[nu] = 1;
            urep[nu] = i;
            nu++;
        }
    /* Nearest-neighbour chain over the units: O(units^2). */
    int64_t pos = 0, cur = 0;
    for (int64_t step = 0; step < nu; step++) {
        if (step > 0) {
            double best = -2;
            int64_t bu = -1;
            const double *row = a + urep[cur] * n;
            for (int64_t u = 0; u < nu; u++) {
                if (placed[u])
                    continue;
                double v = fabs(row[urep[u]]);
                if (isnan(v))
                    v = -1;
                if (v > best) {
                    best = v;
                    bu = u;
                }
            }
            cur = bu;
        }
        placed[cur] = 1;
        if (ulen[cur] > 1) {
            o->blo[o->nb] = pos;
            o->bhi[o->nb] = pos + ulen[cur];
            o->nb++;
        }
        for (int64_t k = 0; k < ulen[cur]; k++)
            o->order[pos++] = members[ustart[cur] + k];
    }
cleanup:
    if (st != DP_OK)
        dp__order_reset(o);
    dp__index_reset(&idx);
    dp_free(unit_of);
    dp_free(ustart);
    dp_free(ulen);
    dp_free(urep);
    dp_free(members);
    dp_free(placed);
    return st;
}

static void dp__names_json(dp__html *h, const char *id, const char **names, const int64_t *order,
                           int64_t n) {
    dp__h_printf(h, "<script type=\"application/json\" id=\"%s\">[", id);
    for (int64_t i = 0; i < n; i++) {
        if (i)
            dp__h_raw(h, ",");
        dp__h_js(h, names[order[i]]);
    }
    dp__h_raw(h, "]</script>\n");
}

static void dp__legend(dp__rep *r, const char *label) {
    dp__html *h = &r->h;
    const int w = 300, x0 = 10, bw = 260;
    dp__h_printf(h,
                 "<svg class=\"chart\" viewBox=\"0 0 %d 58\" width=\"%d\" height=\"58\" "
                 "role=\"img\" aria-label=\"colour scale\">",
                 w + 80, w + 80);
    for (int k = 0; k < 64; k++) {
        const uint8_t *c = r->lut[(k * 255) / 63];
        dp__h_printf(h,
                     "<rect x=\"%.2f\" y=\"6\" width=\"%.2f\" height=\"16\" "
                     "fill=\"#%02x%02x%02x\"/>",
                     x0 + k * bw / 64.0, bw / 64.0 + 0.3, c[0], c[1], c[2]);
    }
    for (int k = 0; k <= 4; k++) {
        double x = x0 + k * bw / 4.0;
        dp__h_printf(h,
                     "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"22\" y2=\"27\" stroke=\"#333\"/>"
                     "<text x=\"%.1f\" y=\"38\" text-anchor=\"middle\">%.2g</text>",
                     x, x, x, k / 4.0);
    }
    dp__h_printf(h,
                 "<rect x=\"%d\" y=\"6\" width=\"16\" height=\"16\" fill=\"#%02x%02x%02x\" "
                 "stroke=\"#555\"/><text x=\"%d\" y=\"38\">no data</text>",
                 x0 + bw + 20, DP_COLORMAP_NAN_R, DP_COLORMAP_NAN_G, DP_COLORMAP_NAN_B,
                 x0 + bw + 10);
    dp__h_printf(h, "<text x=\"%d\" y=\"53\" class=\"title\">", x0);
    dp__h_text(h, label);
    dp__h_raw(h, "</text></svg>\n");
}

/* One heatmap figure: the image (PNG, or SVG rectangles without libpng), cluster boxes on top,
 * and a caption that states the downsampling. */
static dp_status dp__heatmap(dp__rep *r, const char *title, const double *a, int64_t n,
                             const dp__order *o, const char *names_id, int target, dp_error *err) {
    dp__html *h = &r->h;
    dp_status st = DP_OK;
    double *pooled = NULL;
    uint8_t *rgb = NULL;
    dp_buf png;
    dp_buf_init(&png);
    int64_t budget = r->png ? target : DP__HM_SVG;
    int64_t f = dp__pool_factor(n, budget);
    int64_t m = (n + f - 1) / f;
    size_t cells = (size_t) m * (size_t) m;
    pooled = dp_mallocarray(cells, sizeof *pooled);
    rgb = dp_mallocarray(cells, 3);
    if (pooled == NULL || rgb == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for a %lld x %lld heatmap", (long long) m,
                (long long) m);
    DP_CHECK(dp__maxpool_abs(a, n, o->order, f, pooled, err));
    dp__heatmap_rgb(pooled, m, (const uint8_t(*)[3]) r->lut, rgb);
    /* Shown at an integer multiple of its pixels (crisp), about `target` wide. */
    int64_t mult = m < target ? target / m : 1;
    int64_t disp = m * (mult > 0 ? mult : 1);
    dp__h_printf(h,
                 "<figure class=\"hm\" style=\"max-width:%lldpx\"><div class=\"hmwrap\" "
                 "data-names=\"",
                 (long long) (disp > 300 ? disp : 300));
    dp__h_text(h, names_id);
    dp__h_printf(h, "\" data-f=\"%lld\">", (long long) f);
    if (r->png) {
        DP_CHECK(dp__png_encode_rgb(rgb, (int32_t) m, (int32_t) m, &png, err));
        dp__h_printf(h, "<img class=\"hm\" width=\"%lld\" height=\"%lld\" alt=\"", (long long) disp,
                     (long long) disp);
        dp__h_text(h, title);
        dp__h_raw(h, "\" src=\"data:image/png;base64,");
        dp__h_base64(h, png.data, png.size);
        dp__h_raw(h, "\">");
    } else {
        /* Runs of equal colour (quantised to 64 levels) merged into one rectangle. */
        dp__h_printf(h,
                     "<svg class=\"hmsvg\" viewBox=\"0 0 %lld %lld\" width=\"%lld\" "
                     "height=\"%lld\" shape-rendering=\"crispEdges\" role=\"img\" "
                     "aria-label=\"",
                     (long long) m, (long long) m, (long long) disp, (long long) disp);
        dp__h_text(h, title);
        dp__h_raw(h, "\">");
        for (int64_t y = 0; y < m; y++) {
            for (int64_t x = 0; x < m;) {
                double v = pooled[y * m + x];
                int q = isnan(v) ? -1 : (int) lround(fmin(fmax(v, 0), 1) * 63);
                int64_t x1 = x + 1;
                while (x1 < m) {
                    double w = pooled[y * m + x1];
                    int q1 = isnan(w) ? -1 : (int) lround(fmin(fmax(w, 0), 1) * 63);
                    if (q1 != q)
                        break;
                    x1++;
                }
                uint8_t c[3];
                dp__colormap(q < 0 ? NAN : q / 63.0, c);
                dp__h_printf(h,
                             "<rect x=\"%lld\" y=\"%lld\" width=\"%lld\" height=\"1\" "
                             "fill=\"#%02x%02x%02x\"/>",
                             (long long) x, (long long) y, (long long) (x1 - x), c[0], c[1], c[2]);
                x = x1;
            }
        }
        dp__h_raw(h, "</svg>");
    }
    if (o->nb > 0) {
        dp__h_printf(h,
                     "<svg class=\"hmbox\" viewBox=\"0 0 %lld %lld\" "
                     "preserveAspectRatio=\"none\" aria-hidden=\"true\">",
                     (long long) n, (long long) n);
        for (int pass = 0; pass < 2; pass++) {
            dp__h_printf(h,
                         "<g fill=\"none\" stroke=\"%s\" stroke-width=\"%s\" "
                         "vector-effect=\"non-scaling-stroke\">",
                         pass == 0 ? "#000" : "#fff", pass == 0 ? "2.5" : "1");
            for (int64_t b = 0; b < o->nb; b++)
                dp__h_printf(h,
                             "<rect x=\"%lld\" y=\"%lld\" width=\"%lld\" height=\"%lld\" "
                             "vector-effect=\"non-scaling-stroke\"/>",
                             (long long) o->blo[b], (long long) o->blo[b],
                             (long long) (o->bhi[b] - o->blo[b]),
                             (long long) (o->bhi[b] - o->blo[b]));
            dp__h_raw(h, "</g>");
        }
        dp__h_raw(h, "</svg>");
    }
    dp__h_raw(h, "</div><figcaption><b>");
    dp__h_text(h, title);
    dp__h_printf(h, "</b>: %lld &times; %lld descriptors, ", (long long) n, (long long) n);
    if (f == 1)
        dp__h_printf(h, "one pixel per pair%s.",
                     r->png ? "" : " (SVG: this dpipe was built without libpng)");
    else
        dp__h_printf(h,
                     "downsampled by max-pooling with factor %lld: each of the %lld &times; "
                     "%lld pixels shows the largest |value| of a %lld &times; %lld block of "
                     "pairs%s.",
                     (long long) f, (long long) m, (long long) m, (long long) f, (long long) f,
                     r->png ? ""
                            : " (SVG with a small pixel budget: this dpipe was built "
                              "without libpng)");
    if (o->nb > 0)
        dp__h_printf(h, " Boxes: %lld cluster%s with more than one member.", (long long) o->nb,
                     o->nb == 1 ? "" : "s");
    dp__h_raw(h, " Hover for names.</figcaption></figure>\n");
cleanup:
    dp_free(pooled);
    dp_free(rgb);
    dp_buf_reset(&png);
    return st;
}

/* ---- pass 2 ---------------------------------------------------------------------------------- */

/* The pass-2 matrix file named by the method (validated: it becomes a path). */
static const char *dp__p2_matrix(const dp__rep *r) {
    const char *m = dp_json_string(dp_json_get(r->p2, "method"));
    if (m == NULL)
        m = dp__cfg(r, "method");
    if (m != NULL && strcmp(m, "gaussian") == 0)
        return "pass2_gaussian_matrix.npy";
    if (m != NULL && strcmp(m, "pearson") == 0)
        return "pass2_pearson_matrix.npy";
    return "pass2_spearman_matrix.npy";
}

/* Names of a matrix: columns.json's list under `key`, else the lines of `file`. The pointers
 * borrow the JSON tree or *l. */
static dp_status dp__matrix_names(dp__rep *r, const char *key, const char *file, dp__lines *l,
                                  const char ***names, int64_t *n) {
    *names = NULL;
    *n = 0;
    const dp_json *arr = dp_json_get(r->columns, key);
    if (arr != NULL && arr->type == DP_JSON_ARRAY) {
        *names = dp_calloc(arr->n > 0 ? arr->n : 1, sizeof **names);
        if (*names == NULL)
            return DP_NOMEM;
        for (size_t k = 0; k < arr->n; k++) {
            const char *s = dp_json_string(&arr->items[k]);
            (*names)[k] = s != NULL ? s : "";
        }
        *n = (int64_t) arr->n;
        return DP_OK;
    }
    if (l->v == NULL) {
        bool ok;
        DP_TRY(dp__load_lines(r, file, l, &ok));
    }
    *names = dp_calloc((size_t) (l->n > 0 ? l->n : 1), sizeof **names);
    if (*names == NULL)
        return DP_NOMEM;
    for (int64_t k = 0; k < l->n; k++)
        (*names)[k] = l->v[k];
    *n = l->n;
    return DP_OK;
}

static dp_status dp__pass2(dp__rep *r, dp_error *err) {
    dp__html *h = &r->h;
    dp_status st = DP_OK;
    dp__order o = {0};
    const char *file = dp__p2_matrix(r);
    const char *method = dp_json_string(dp_json_get(r->p2, "method"));
    double thr = dp__jnum_at(r->p2, "threshold");
    if (isnan(thr))
        thr = dp__cfg_num(r, "spearman-threshold");
    dp__h_raw(h, "<section id=\"pass2\"><h2>Pass 2: rank correlation and redundancy "
                 "clusters</h2>\n");
    DP_CHECK(dp__matrix_names(r, file, "pass1_columns.txt", &r->p1cols, &r->names2, &r->n2));
    char path[4096];
    int64_t rows = 0, cols = 0;
    dp_error e = {0};
    dp_status ls = dp__read_npy(dp__path(r, file, path, sizeof path), &r->r2, &rows, &cols, &e);
    DP_CHECK(dp__soft(r, ls, &e, file));
    if (ls == DP_OK && (rows != r->n2 || cols != r->n2)) {
        dp__note(r, "%s is %lld x %lld but names %lld columns", file, (long long) rows,
                 (long long) cols, (long long) r->n2);
        dp_free(r->r2);
        r->r2 = NULL;
    }
    if (r->r2 == NULL || r->n2 == 0) {
        dp_free(r->r2);
        r->r2 = NULL;
        r->n2 = 0;
        dp__h_raw(h, "<p class=\"muted\">No pass-2 matrix.</p></section>\n");
        goto cleanup;
    }
    DP_CHECK(dp__index_build(&r->idx2, r->names2, r->n2));
    int64_t n = r->n2;
    DP_CHECK(dp__order_build(r->p2, r->names2, n, r->r2, &o));
    char title[160];
    snprintf(title, sizeof title, "|" DP__RHO "| of pass 2 (%s) for the pass-1 survivors",
             method != NULL ? method : "spearman");
    dp__names_json(h, "names-p2", r->names2, o.order, n);
    dp__h_raw(h, "<div class=\"row\"><div>");
    DP_CHECK(dp__heatmap(r, title, r->r2, n, &o, "names-p2", DP__HM_P2, err));
    dp__legend(r, "|" DP__RHO "| (0 = unrelated, 1 = identical ranks)");
    dp__h_raw(h, "</div><figure style=\"max-width:540px\">");
    /* Off-diagonal |r|: 50 bins on [0, 1], log count axis. */
    enum { NB = 50 };
    int64_t cnt[NB] = {0}, above = 0, nan_pairs = 0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++) {
            double v = fabs(r->r2[i * n + j]);
            if (isnan(v)) {
                nan_pairs++;
                continue;
            }
            int b = (int) (v * NB);
            cnt[b >= NB ? NB - 1 : b]++;
            above += v >= thr;
        }
    int64_t mx = 1;
    for (int b = 0; b < NB; b++)
        mx = DP_MAX(mx, cnt[b]);
    dp__chart c;
    dp__chart_begin(h, &c, 520, 300, 0, 1, false, 0.7, (double) mx * 2, true,
                    "|" DP__RHO "| of a pair of pass-1 survivors", "pairs (log scale)",
                    "histogram of the off-diagonal absolute rank correlations");
    for (int b = 0; b < NB; b++) {
        if (cnt[b] == 0)
            continue;
        double x0 = dp__ax_px(&c.x, (double) b / NB) + 0.4,
               x1 = dp__ax_px(&c.x, (double) (b + 1) / NB) - 0.4;
        double y0 = dp__ax_px(&c.y, 0.7), y1 = dp__ax_px(&c.y, (double) cnt[b]);
        dp__h_printf(h,
                     "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                     "<title>%.2f-%.2f: %lld pairs</title></rect>",
                     x0, y1, x1 - x0, y0 - y1, (double) b / NB >= thr ? dp__c_removed : dp__c_kept,
                     (double) b / NB, (double) (b + 1) / NB, (long long) cnt[b]);
    }
    char lab[64];
    snprintf(lab, sizeof lab, "threshold %.4g", thr);
    dp__chart_vline(h, &c, thr, dp__c_thr, "5 3", lab, false);
    dp__chart_end(h);
    dp__h_printf(h,
                 "<figcaption>|" DP__RHO
                 "| of all %lld pairs of the %lld pass-1 survivors; %lld pairs "
                 "at or above the threshold",
                 (long long) (n * (n - 1) / 2), (long long) n, (long long) above);
    if (nan_pairs > 0)
        dp__h_printf(h, "; %lld pairs without a value (no rows where both are present)",
                     (long long) nan_pairs);
    dp__h_printf(h, ". %lld clusters with more than one member",
                 (long long) dp__jnum_at(r->p2, "n_clusters"));
    dp__h_text(h, dp_json_string(dp_json_get(r->p2, "cluster")) != NULL ? " (clustering: " : "");
    dp__h_text(h, dp_json_string(dp_json_get(r->p2, "cluster")));
    dp__h_text(h, dp_json_string(dp_json_get(r->p2, "cluster")) != NULL ? ")" : "");
    dp__h_raw(h, ".</figcaption></figure></div>\n<p class=\"cap\">The heatmap orders "
                 "descriptors by cluster (representative first) and chains clusters and single "
                 "descriptors by their strongest |" DP__RHO
                 "|, so related groups sit near each other. "
                 "Each box is one pass-2 cluster: all but its representative were removed.</p>"
                 "</section>\n");
cleanup:
    dp__order_reset(&o);
    return st;
}

/* ---- pass 3 ---------------------------------------------------------------------------------- */

static void dp__pass3(dp__rep *r) {
    dp__html *h = &r->h;
    dp__h_raw(h, "<section id=\"pass3\"><h2>Pass 3: variance inflation factors</h2>\n");
    if (r->p3 == NULL) {
        dp__h_raw(h, "<p class=\"muted\">No pass-3 results (pass3_vif.json).</p></section>\n");
        return;
    }
    double thr = dp__jnum_at(r->p3, "threshold");
    const dp_json *steps = dp_json_get(r->p3, "max_vif_by_step");
    const dp_json *rem = dp_json_get(r->p3, "removed");
    size_t ns = steps != NULL && steps->type == DP_JSON_ARRAY ? steps->n : 0;
    size_t nr = rem != NULL && rem->type == DP_JSON_ARRAY ? rem->n : 0;
    /* Names of the threshold removals in order: step k removed the k-th of them. */
    const char **tname = dp_calloc(ns > 0 ? ns : 1, sizeof *tname);
    size_t nt = 0;
    for (size_t k = 0; tname != NULL && k < nr && nt < ns; k++) {
        const char *rs = dp_json_string(dp_json_get(&rem->items[k], "reason"));
        if (rs != NULL && strcmp(rs, "threshold") == 0)
            tname[nt++] = dp_json_string(dp_json_get(&rem->items[k], "name"));
    }
    if (ns > 0) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t k = 0; k < ns; k++) {
            double v = dp__jnum(&steps->items[k]);
            if (v > 0 && isfinite(v)) {
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
        }
        if (thr > 0) {
            lo = fmin(lo, thr);
            hi = fmax(hi, thr);
        }
        if (!isfinite(lo)) {
            lo = 1;
            hi = 10;
        }
        lo = fmax(lo / 1.5, 0.5);
        hi = hi * 1.5;
        dp__chart c;
        dp__h_raw(h, "<figure style=\"max-width:780px\">");
        dp__chart_begin(h, &c, 760, 300, 0, (double) (ns > 1 ? ns - 1 : 1), false, lo, hi, true,
                        "removal step (0 = before the first removal)", "largest VIF (log scale)",
                        "largest VIF at each removal step");
        dp__h_raw(h, "<polyline fill=\"none\" stroke=\"#3b6ea8\" stroke-width=\"1.5\" points=\"");
        for (size_t k = 0; k < ns; k++) {
            double v = dp__jnum(&steps->items[k]);
            if (!(v > 0))
                continue;
            dp__h_printf(h, "%.1f,%.1f ", dp__ax_px(&c.x, (double) k),
                         dp__ax_px(&c.y, isfinite(v) ? v : hi));
        }
        dp__h_raw(h, "\"/>");
        /* Markers (with the removed name on hover) while they stay apart. */
        for (size_t k = 0; k < ns && ns <= 150; k++) {
            double v = dp__jnum(&steps->items[k]);
            bool inf = steps->items[k].type != DP_JSON_NUMBER;
            if (!(v > 0) && !inf)
                continue;
            dp__h_printf(h,
                         "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>step %zu: "
                         "largest VIF ",
                         dp__ax_px(&c.x, (double) k), dp__ax_px(&c.y, inf ? hi : v),
                         v >= thr || inf ? dp__c_removed : dp__c_kept, k);
            dp__h_num(h, inf ? INFINITY : v, 5);
            if (k < nt && tname[k] != NULL) {
                dp__h_raw(h, " (removed: ");
                dp__h_text(h, tname[k]);
                dp__h_raw(h, ")");
            }
            dp__h_raw(h, "</title></circle>");
        }
        char lab[64];
        snprintf(lab, sizeof lab, "vif-threshold %.4g", thr);
        dp__chart_hline(h, &c, thr, dp__c_thr, "5 3", lab, false);
        dp__chart_end(h);
        dp__h_printf(h,
                     "<figcaption>Largest VIF among the remaining descriptors before each "
                     "removal (the last point: after the last removal). %zu steps.",
                     ns);
        if (dp_json_get(r->p3, "projected_to_psd") != NULL &&
            dp_json_get(r->p3, "projected_to_psd")->boolean)
            dp__h_printf(h,
                         " The pass-2 matrix was not positive semidefinite (smallest "
                         "eigenvalue %.3g); VIF used its projection.",
                         dp__jnum_at(r->p3, "min_eigenvalue"));
        dp__h_raw(h, "</figcaption></figure>\n");
    } else {
        dp__h_raw(h, "<p class=\"muted\">No VIF removal steps were recorded.</p>");
    }
    dp_free(tname);
    dp__h_printf(h, "<h3>Removed descriptors and their heirs (%zu)</h3>\n", nr);
    if (nr > 0) {
        dp__h_raw(h, "<div class=\"scroll\"><table><thead><tr><th class=\"n\">#</th><th>removed"
                     "</th><th>reason</th><th class=\"n\">VIF</th><th>heir</th><th>heir link</th>"
                     "<th class=\"n\">score</th></tr></thead><tbody>\n");
        for (size_t k = 0; k < nr; k++) {
            const dp_json *e = &rem->items[k];
            const dp_json *vif = dp_json_get(e, "vif");
            const char *link = dp_json_string(dp_json_get(e, "heir_link"));
            dp__h_printf(h, "<tr><td class=\"n\">%zu</td><td>", k + 1);
            dp__h_text(h, dp_json_string(dp_json_get(e, "name")));
            dp__h_raw(h, "</td><td>");
            dp__h_text(h, dp_json_string(dp_json_get(e, "reason")));
            dp__h_raw(h, "</td><td class=\"n\">");
            if (dp_json_string(vif) != NULL)
                dp__h_text(h, strcmp(dp_json_string(vif), "inf") == 0 ? "\xe2\x88\x9e"
                                                                      : dp_json_string(vif));
            else
                dp__h_num(h, dp__jnum(vif), 5);
            dp__h_raw(h, "</td><td>");
            const char *heir = dp_json_string(dp_json_get(e, "heir"));
            if (heir != NULL)
                dp__h_text(h, heir);
            else
                dp__h_raw(h, "<span class=\"muted\">none</span>");
            dp__h_raw(h, "</td><td>");
            dp__h_text(h, link == NULL                           ? ""
                          : strcmp(link, "r2_drop") == 0         ? "R\xc2\xb2 drop"
                          : strcmp(link, "abs_correlation") == 0 ? "|r|"
                                                                 : link);
            dp__h_raw(h, "</td><td class=\"n\">");
            dp__h_num(h, dp__jnum_at(e, "heir_score"), 4);
            dp__h_raw(h, "</td></tr>\n");
        }
        dp__h_raw(h, "</tbody></table></div>\n");
    }
    dp__h_raw(h, "<p class=\"cap\">The heir of a descriptor removed for its VIF is the remaining "
                 "descriptor whose R\xc2\xb2 (explained by the others) dropped most when it was "
                 "removed: the one that carried the same information.</p></section>\n");
}

/* ---- pass 4 ---------------------------------------------------------------------------------- */

typedef struct dp__pair {
    bool linked;
    double score;
    int64_t i, j;
} dp__pair;

/* Linked pairs first, then by score (the gap), then by position: a total order. */
static int dp__pair_cmp(const void *a, const void *b) {
    const dp__pair *x = a, *y = b;
    if (x->linked != y->linked)
        return x->linked ? -1 : 1;
    if (x->score != y->score)
        return x->score > y->score ? -1 : 1;
    if (x->i != y->i)
        return x->i < y->i ? -1 : 1;
    return (x->j > y->j) - (x->j < y->j);
}

typedef struct dp__scat {
    const char **names;
    int64_t n;
    const double *H, *R, *Y; /* Y: the plotted measure (R, else H) */
    const char *yname;
    double wh, wr, thr;
    const int64_t *to2; /* index in the pass-2 matrix, -1 when absent */
    double null_mean, null_q95;
    double p2thr;
} dp__scat;

static void dp__point(dp__html *h, const dp__chart *c, const dp__scat *s, int64_t i, int64_t j,
                      double x, double y, bool linked) {
    dp__h_printf(h,
                 "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\" fill-opacity=\"%s\" "
                 "stroke=\"%s\" stroke-width=\"0.6\"><title>",
                 dp__ax_px(&c->x, x), dp__ax_px(&c->y, y), linked ? "3.2" : "2.4",
                 linked ? dp__c_removed : dp__c_kept, linked ? "0.95" : "0.55",
                 linked ? "#000" : "none");
    dp__h_text(h, s->names[i]);
    dp__h_raw(h, " \xc3\x97 ");
    dp__h_text(h, s->names[j]);
    dp__h_printf(h, ": |" DP__RHO "| %.3f, %s %.3f", x, s->yname, y);
    dp__h_raw(h, "</title></circle>");
}

static dp_status dp__scatter(dp__rep *r, const dp__scat *s, dp_error *err) {
    dp__html *h = &r->h;
    dp_status st = DP_OK;
    dp__pair *cand = NULL;
    int64_t *dens = NULL;
    int64_t n = s->n, pairs = n * (n - 1) / 2, missing = 0, linked_n = 0;
    dp__chart c;
    dp__h_raw(h, "<figure style=\"max-width:660px\">");
    char ytitle[64];
    snprintf(ytitle, sizeof ytitle, "%s of the pair", s->yname);
    dp__chart_begin(h, &c, 640, 460, 0, 1, false, 0, 1, false,
                    "|" DP__RHO "| of the pair in pass 2 (rank correlation)", ytitle,
                    "scatter of rank correlation against nonlinear dependence for all pairs");
    dp__h_printf(h,
                 "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\" "
                 "stroke-dasharray=\"2 3\"/>",
                 dp__ax_px(&c.x, 0), dp__ax_px(&c.y, 0), dp__ax_px(&c.x, 1), dp__ax_px(&c.y, 1));
    bool all = pairs <= DP__SCATTER_ALL;
    enum { G = 80 };
    if (!all) {
        dens = dp_calloc(G * G, sizeof *dens);
        cand = dp_mallocarray((size_t) DP__SCATTER_MARKED * 4, sizeof *cand);
        if (dens == NULL || cand == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory for the scatter of %lld pairs",
                    (long long) pairs);
    }
    int64_t nc = 0, cap = (int64_t) DP__SCATTER_MARKED * 4;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++) {
            double x =
                s->to2[i] >= 0 && s->to2[j] >= 0 ? fabs(r->r2[s->to2[i] * r->n2 + s->to2[j]]) : NAN;
            double y = s->Y[i * n + j];
            if (isnan(x) || isnan(y)) {
                missing++;
                continue;
            }
            double sim = (s->H != NULL ? s->wh * s->H[i * n + j] : 0) +
                         (s->R != NULL ? s->wr * s->R[i * n + j] : 0);
            bool linked = sim >= s->thr;
            linked_n += linked;
            if (all) {
                dp__point(h, &c, s, i, j, x, y, linked);
                continue;
            }
            int gx = (int) (fmin(fmax(x, 0), 1) * G), gy = (int) (fmin(fmax(y, 0), 1) * G);
            dens[(gy >= G ? G - 1 : gy) * G + (gx >= G ? G - 1 : gx)]++;
            /* Notable: linked in pass 4, or far more nonlinear than rank dependence. */
            double gap = y - x;
            if (linked || (gap >= 0.25 && y >= s->null_q95)) {
                cand[nc++] = (dp__pair){linked, gap, i, j};
                if (nc == cap) {
                    /* Keep the best DP__SCATTER_MARKED; the order is total, so deterministic. */
                    qsort(cand, (size_t) nc, sizeof *cand, dp__pair_cmp);
                    nc = DP__SCATTER_MARKED;
                }
            }
        }
    if (!all) {
        int64_t dmax = 1;
        for (int k = 0; k < G * G; k++)
            dmax = DP_MAX(dmax, dens[k]);
        double cw = (c.x.p1 - c.x.p0) / G, ch = (c.y.p0 - c.y.p1) / G;
        dp__h_raw(h, "<g fill=\"#23304a\">");
        for (int gy = 0; gy < G; gy++)
            for (int gx = 0; gx < G; gx++) {
                int64_t d = dens[gy * G + gx];
                if (d == 0)
                    continue;
                dp__h_printf(h,
                             "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.2f\" height=\"%.2f\" "
                             "fill-opacity=\"%.2f\"/>",
                             c.x.p0 + gx * cw, c.y.p0 - (gy + 1) * ch, cw + 0.2, ch + 0.2,
                             0.08 + 0.8 * log1p((double) d) / log1p((double) dmax));
            }
        dp__h_raw(h, "</g>");
        qsort(cand, (size_t) nc, sizeof *cand, dp__pair_cmp);
        if (nc > DP__SCATTER_MARKED)
            nc = DP__SCATTER_MARKED;
        for (int64_t k = nc - 1; k >= 0; k--) {
            int64_t i = cand[k].i, j = cand[k].j;
            dp__point(h, &c, s, i, j, fabs(r->r2[s->to2[i] * r->n2 + s->to2[j]]), s->Y[i * n + j],
                      cand[k].linked);
        }
    }
    char lab[96];
    /* One label for both null lines: they are close together. */
    dp__chart_hline(h, &c, s->null_mean, dp__c_null, "2 3", "", false);
    snprintf(lab, sizeof lab, "null: mean %.3g (dotted), 95 %% %.3g (dashed)", s->null_mean,
             s->null_q95);
    dp__chart_hline(h, &c, s->null_q95, dp__c_null, "6 3", lab, false);
    snprintf(lab, sizeof lab, "threshold %.3g (on S)", s->thr);
    dp__chart_hline(h, &c, s->thr, dp__c_thr, "", lab, true);
    snprintf(lab, sizeof lab, "pass-2 threshold %.3g", s->p2thr);
    dp__chart_vline(h, &c, s->p2thr, dp__c_thr, "5 3", lab, true);
    dp__chart_end(h);
    dp__h_printf(h,
                 "<figcaption>All %lld pairs of the %lld pass-3 survivors: rank correlation "
                 "from pass 2 against ",
                 (long long) pairs, (long long) n);
    dp__h_text(h, s->yname);
    dp__h_raw(h, " from pass 4.");
    dp__swatch(h, dp__c_removed, "pair linked in pass 4");
    dp__h_printf(h,
                 " (S = %.3g&middot;HSIC + %.3g&middot;RDC at or above the threshold; %lld "
                 "pairs)",
                 s->wh, s->wr, (long long) linked_n);
    dp__swatch(h, dp__c_kept, all ? "other pair" : "unlinked pair far above the diagonal");
    if (!all) {
        dp__swatch(h, "#23304a", "density of all pairs (darker: more, log scale)");
        dp__h_printf(h,
                     ". With more than %d pairs the points drawn are the notable ones: pairs "
                     "linked in pass 4 and pairs whose ",
                     DP__SCATTER_ALL);
        dp__h_text(h, s->yname);
        dp__h_printf(h,
                     " exceeds both the null 95 %% level and |" DP__RHO
                     "| + 0.25 (nonlinear-only), at "
                     "most %d",
                     DP__SCATTER_MARKED);
    }
    dp__h_raw(h, ". Points far above the dotted diagonal depend nonlinearly more than their ranks "
                 "correlate. The null levels are the measure's values for independent columns, "
                 "estimated in the same scan.");
    if (missing > 0)
        dp__h_printf(h, " %lld pairs without a value are not shown.", (long long) missing);
    dp__h_raw(h, "</figcaption></figure>\n");
cleanup:
    dp_free(cand);
    dp_free(dens);
    return st;
}

static dp_status dp__load_square(dp__rep *r, const char *file, int64_t n, double **m) {
    char path[4096];
    int64_t rows = 0, cols = 0;
    dp_error e = {0};
    *m = NULL;
    dp_status ls = dp__read_npy(dp__path(r, file, path, sizeof path), m, &rows, &cols, &e);
    if (ls == DP_NOT_FOUND) {
        dp_free(*m);
        *m = NULL;
        return DP_OK; /* the measure had weight 0: not written */
    }
    DP_TRY(dp__soft(r, ls, &e, file));
    if (ls == DP_OK && (rows != n || cols != n)) {
        dp__note(r, "%s is %lld x %lld but pass 3 kept %lld columns", file, (long long) rows,
                 (long long) cols, (long long) n);
        dp_free(*m);
        *m = NULL;
    }
    return DP_OK;
}

static void dp__null_row(dp__html *h, const char *name, const dp_json *z) {
    dp__h_raw(h, "<tr><td>");
    dp__h_text(h, name);
    dp__h_raw(h, "</td>");
    static const char *const k[] = {"mean", "sd", "q95", "max"};
    for (int i = 0; i < 4; i++) {
        dp__h_raw(h, "<td class=\"n\">");
        dp__h_num(h, dp__jnum_at(z, k[i]), 3);
        dp__h_raw(h, "</td>");
    }
    dp__h_printf(h, "<td class=\"n\">%.0f</td></tr>", dp__jnum_at(z, "samples"));
}

static dp_status dp__pass4(dp__rep *r, dp_error *err) {
    dp__html *h = &r->h;
    dp_status st = DP_OK;
    const char **names = NULL;
    int64_t n = 0;
    double *H = NULL, *R = NULL, *S = NULL;
    int64_t *to2 = NULL;
    dp__order o = {0};
    dp__h_raw(h, "<section id=\"pass4\"><h2>Pass 4: nonlinear dependence (HSIC, RDC)</h2>\n");
    DP_CHECK(
        dp__matrix_names(r, "pass4_*_matrix.npy", "pass3_columns.txt", &r->p3cols, &names, &n));
    DP_CHECK(dp__load_square(r, "pass4_hsic_matrix.npy", n, &H));
    DP_CHECK(dp__load_square(r, "pass4_rdc_matrix.npy", n, &R));
    if (n < 2 || (H == NULL && R == NULL)) {
        dp__h_printf(h,
                     "<p class=\"muted\">No pass-4 matrices (%lld descriptors reached pass "
                     "4).</p></section>\n",
                     (long long) n);
        goto cleanup;
    }
    const dp_json *wj = dp_json_get(r->p4, "weights");
    double wh = dp__jnum_at(wj, "hsic"), wr = dp__jnum_at(wj, "rdc");
    if (isnan(wh) || isnan(wr)) {
        wh = H != NULL ? (R != NULL ? 0.5 : 1) : 0;
        wr = 1 - wh;
    }
    double thr = dp__jnum_at(r->p4, "threshold");
    if (isnan(thr))
        thr = dp__cfg_num(r, "nonlinear-threshold");
    /* The combined similarity orders both heatmaps (pass 4 clustered on it). */
    size_t cells = (size_t) n * (size_t) n;
    S = dp_mallocarray(cells, sizeof *S);
    to2 = dp_mallocarray((size_t) n, sizeof *to2);
    if (S == NULL || to2 == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for pass 4 (%lld columns)", (long long) n);
    for (size_t k = 0; k < cells; k++)
        S[k] = (H != NULL ? wh * H[k] : 0) + (R != NULL ? wr * R[k] : 0);
    DP_CHECK(dp__order_build(r->p4, names, n, S, &o));
    dp__names_json(h, "names-p4", names, o.order, n);
    dp__h_raw(h, "<div class=\"row\">");
    if (H != NULL)
        DP_CHECK(dp__heatmap(r, "HSIC (normalised, CKA) of the pass-3 survivors", H, n, &o,
                             "names-p4", DP__HM_P4, err));
    if (R != NULL)
        DP_CHECK(
            dp__heatmap(r, "RDC of the pass-3 survivors", R, n, &o, "names-p4", DP__HM_P4, err));
    dp__h_raw(h, "</div>");
    dp__legend(r, "dependence (0 = none, 1 = deterministic)");
    dp__h_raw(h, "<p class=\"cap\">Both heatmaps share one order: pass-4 clusters together "
                 "(boxes), chained by the combined similarity S.</p>\n");

    const dp_json *nl = dp_json_get(r->p4, "null_level");
    const char *yname = R != NULL ? "RDC" : "HSIC";
    const dp_json *ny = dp_json_get(nl, R != NULL ? "rdc" : "hsic");
    for (int64_t i = 0; i < n; i++)
        to2[i] = r->n2 > 0 ? dp__index_find(&r->idx2, names[i]) : -1;
    double p2thr = dp__jnum_at(r->p2, "threshold");
    dp__scat sc = {names, n,  H,   R,   R != NULL ? R : H,       yname,
                   wh,    wr, thr, to2, dp__jnum_at(ny, "mean"), dp__jnum_at(ny, "q95"),
                   p2thr};
    dp__h_raw(h, "<div class=\"row\">");
    if (r->n2 > 0)
        DP_CHECK(dp__scatter(r, &sc, err));
    else
        dp__h_raw(h, "<p class=\"muted\">No pass-2 matrix: no scatter of |" DP__RHO "| against the "
                     "nonlinear measures.</p>");
    dp__h_raw(h, "<div><h3>Null levels</h3><table><thead><tr><th>measure</th><th class=\"n\">"
                 "mean</th><th class=\"n\">sd</th><th class=\"n\">95 %</th><th class=\"n\">max"
                 "</th><th class=\"n\">samples</th></tr></thead><tbody>");
    if (nl != NULL) {
        dp__null_row(h, "HSIC", dp_json_get(nl, "hsic"));
        dp__null_row(h, "RDC", dp_json_get(nl, "rdc"));
        dp__null_row(h, "S (combined)", dp_json_get(nl, "combined"));
    }
    dp__h_raw(h, "</tbody></table>");
    dp__h_printf(h,
                 "<p class=\"cap\">Threshold on S: %.4g; weights HSIC %.3g, RDC %.3g; rows "
                 "used %.0f; estimator ",
                 thr, wh, wr, dp__jnum_at(r->p4, "rows_used"));
    dp__h_text(h, dp_json_string(dp_json_get(r->p4, "hsic_estimator")));
    dp__h_raw(h, ".");
    const dp_json *warn = dp_json_get(r->p4, "threshold_below_3x_null");
    if (warn != NULL && warn->type == DP_JSON_BOOL && warn->boolean)
        dp__h_raw(h, " <b>The threshold is below three times the null mean of S: pass 4 may "
                     "link independent descriptors.</b>");
    dp__h_printf(h, " %.0f clusters with more than one member.</p></div></div></section>\n",
                 dp__jnum_at(r->p4, "n_clusters"));
cleanup:
    dp__order_reset(&o);
    dp_free(names);
    dp_free(H);
    dp_free(R);
    dp_free(S);
    dp_free(to2);
    return st;
}

/* ---- alternatives browser -------------------------------------------------------------------- */

static const char *dp__link_label(const char *link, int pass) {
    if (link == NULL)
        return "";
    if (strcmp(link, "representative") == 0)
        return pass == 4 ? "pass-4 cluster (S)" : "pass-2 cluster (|" DP__RHO "|)";
    if (strcmp(link, "heir") == 0)
        return "VIF heir";
    return link;
}

static void dp__alternatives(dp__rep *r) {
    dp__html *h = &r->h;
    dp__h_raw(h, "<section id=\"alternatives\"><h2>Alternatives browser</h2>\n");
    const dp_json *d = dp_json_get(r->clusters, "descriptors");
    if (d == NULL || d->type != DP_JSON_OBJECT) {
        dp__h_raw(h, "<p class=\"muted\">No alternatives map (clusters.json).</p></section>\n");
        return;
    }
    dp__h_printf(h,
                 "<p class=\"cap\">Each of the %zu final descriptors stands for the "
                 "descriptors removed in its favour (followed through later passes): a "
                 "pass-2 cluster member (similarity |" DP__RHO
                 "|), a VIF heir (similarity: the heir's "
                 "R\xc2\xb2 drop) or a pass-4 cluster member (similarity S). "
                 "<i>via</i> names the descriptor it was linked to directly. Type to filter "
                 "by any name; rows matched through an alternative open (a link to "
                 "report.html#filter=NAME opens the page filtered).</p>\n",
                 d->n);
    dp__h_raw(h,
              "<p><input type=\"search\" id=\"alt-search\" placeholder=\"filter by descriptor "
              "name\xe2\x80\xa6\" aria-label=\"filter by descriptor name\" autocomplete=\"off\"> "
              "<button type=\"button\" id=\"alt-open\">expand all</button> <button "
              "type=\"button\" id=\"alt-close\">collapse all</button> <span id=\"alt-count\" "
              "class=\"muted\"></span></p>\n");
    dp__h_raw(h, "<div class=\"scroll tall\"><table id=\"alt-table\"><thead><tr><th></th>"
                 "<th>final descriptor</th><th class=\"n\">alternatives</th><th>stands for"
                 "</th></tr></thead><tbody>\n");
    for (size_t k = 0; k < d->n; k++) {
        const dp_json *alts = dp_json_get(&d->items[k], "alternatives");
        size_t na = alts != NULL && alts->type == DP_JSON_ARRAY ? alts->n : 0;
        dp__h_raw(h, "<tr class=\"alt-row\" data-names=\"");
        dp__h_text(h, d->keys[k]);
        for (size_t a = 0; a < na; a++) {
            dp__h_raw(h, "&#10;");
            dp__h_text(h, dp_json_string(dp_json_get(&alts->items[a], "name")));
        }
        dp__h_raw(h, "\"><td>");
        if (na > 0)
            dp__h_raw(h, "<button type=\"button\" class=\"tog\" aria-expanded=\"false\" "
                         "aria-label=\"show alternatives\">\xe2\x96\xb8</button>");
        dp__h_raw(h, "</td><td class=\"nm\">");
        dp__h_text(h, d->keys[k]);
        dp__h_printf(h, "</td><td class=\"n\">%zu</td><td class=\"muted\">", na);
        for (size_t a = 0; a < na && a < 3; a++) {
            dp__h_raw(h, a ? ", " : "");
            dp__h_text(h, dp_json_string(dp_json_get(&alts->items[a], "name")));
        }
        dp__h_raw(h, na > 3 ? ", \xe2\x80\xa6</td></tr>\n" : "</td></tr>\n");
        if (na == 0)
            continue;
        dp__h_raw(h, "<tr class=\"alt-detail\" hidden><td></td><td colspan=\"3\"><table "
                     "class=\"sub\"><thead><tr><th>descriptor</th><th class=\"n\">pass</th>"
                     "<th>link</th><th>via</th><th class=\"n\">similarity</th></tr></thead>"
                     "<tbody>");
        for (size_t a = 0; a < na; a++) {
            const dp_json *e = &alts->items[a];
            int pass = (int) dp__jnum_at(e, "pass");
            dp__h_raw(h, "<tr data-n=\"");
            dp__h_text(h, dp_json_string(dp_json_get(e, "name")));
            dp__h_raw(h, "\"><td>");
            dp__h_text(h, dp_json_string(dp_json_get(e, "name")));
            dp__h_printf(h, "</td><td class=\"n\">%d</td><td>", pass);
            dp__h_text(h, dp__link_label(dp_json_string(dp_json_get(e, "link")), pass));
            dp__h_raw(h, "</td><td>");
            dp__h_text(h, dp_json_string(dp_json_get(e, "via")));
            dp__h_raw(h, "</td><td class=\"n\">");
            dp__h_num(h, dp__jnum_at(e, "similarity"), 4);
            dp__h_raw(h, "</td></tr>");
        }
        dp__h_raw(h, "</tbody></table></td></tr>\n");
    }
    dp__h_raw(h, "</tbody></table></div>\n");
    const dp_json *un = dp_json_get(r->clusters, "unassigned");
    size_t nu = un != NULL && un->type == DP_JSON_ARRAY ? un->n : 0;
    dp__h_printf(h,
                 "<h3>Removed without a stand-in (%zu)</h3><p class=\"cap\">Pass-1 removals "
                 "and VIF removals without an heir: no final descriptor carries their "
                 "information.</p>\n",
                 nu);
    if (nu > 0) {
        dp__h_raw(h, "<div class=\"scroll\"><table id=\"unassigned-table\"><thead><tr>"
                     "<th>descriptor</th><th class=\"n\">pass</th><th>reason</th></tr></thead>"
                     "<tbody>\n");
        for (size_t k = 0; k < nu; k++) {
            const dp_json *e = &un->items[k];
            dp__h_raw(h, "<tr class=\"u-row\" data-names=\"");
            dp__h_text(h, dp_json_string(dp_json_get(e, "name")));
            dp__h_raw(h, "\"><td>");
            dp__h_text(h, dp_json_string(dp_json_get(e, "name")));
            dp__h_printf(h, "</td><td class=\"n\">%.0f</td><td>", dp__jnum_at(e, "pass"));
            dp__h_text(h, dp_json_string(dp_json_get(e, "reason")));
            dp__h_raw(h, "</td></tr>\n");
        }
        dp__h_raw(h, "</tbody></table></div>\n");
    }
    dp__h_raw(h, "</section>\n");
}

/* ---- run facts ------------------------------------------------------------------------------- */

static void dp__facts(dp__rep *r) {
    dp__html *h = &r->h;
    const dp_json *in = dp_json_get(r->manifest, "input");
    dp__h_raw(h, "<section id=\"facts\"><h2>Run facts</h2>\n<div class=\"row\"><div>"
                 "<h3>Input</h3><table><tbody>");
    dp__h_raw(h, "<tr><th>dpipe version</th><td>");
    dp__h_text(h, dp_json_string(dp_json_get(r->manifest, "dpipe_version")));
    dp__h_printf(h,
                 "</td></tr><tr><th>rows</th><td class=\"n\">%.0f</td></tr>"
                 "<tr><th>descriptors</th><td class=\"n\">%.0f</td></tr>"
                 "<tr><th>input fingerprint</th><td>",
                 dp__jnum_at(in, "rows"), dp__jnum_at(in, "descriptors"));
    dp__h_text(h, dp_json_string(dp_json_get(in, "fingerprint")));
    dp__h_raw(h, "</td></tr></tbody></table>\n");
    const dp_json *files = dp_json_get(in, "files");
    size_t nf = files != NULL && files->type == DP_JSON_ARRAY ? files->n : 0;
    dp__h_printf(h,
                 "<h3>Files (%zu)</h3><div class=\"scroll\"><table><thead><tr><th>path</th>"
                 "<th class=\"n\">size</th><th class=\"n\">rows</th></tr></thead><tbody>",
                 nf);
    for (size_t k = 0; k < nf; k++) {
        const dp_json *f = &files->items[k];
        dp__h_raw(h, "<tr><td>");
        dp__h_text(h, dp_json_string(dp_json_get(f, "path")));
        dp__h_raw(h, "</td><td class=\"n\">");
        dp__h_bytes(h, dp__jnum_at(f, "size"));
        dp__h_printf(h, "</td><td class=\"n\">%.0f</td></tr>", dp__jnum_at(f, "rows"));
    }
    dp__h_raw(h, "</tbody></table></div>\n");
    /* Timings per pass. */
    dp__h_raw(h, "<h3>Passes</h3><table><thead><tr><th>pass</th><th class=\"n\">seconds</th>"
                 "<th class=\"n\">peak memory</th><th class=\"n\">rows read</th><th class=\"n\">"
                 "scans</th><th class=\"n\">columns in</th><th class=\"n\">columns out</th>"
                 "<th>reused</th></tr></thead><tbody>");
    const dp_json *passes = dp_json_get(r->manifest, "passes");
    double total = 0;
    for (size_t k = 0; passes != NULL && passes->type == DP_JSON_OBJECT && k < passes->n; k++) {
        const dp_json *p = &passes->items[k];
        const dp_json *reused = dp_json_get(p, "reused");
        double sec = dp__jnum_at(p, "seconds");
        if (sec >= 0)
            total += sec;
        dp__h_raw(h, "<tr><td>");
        dp__h_text(h, passes->keys[k]);
        dp__h_raw(h, "</td><td class=\"n\">");
        dp__h_num(h, sec, 3);
        dp__h_raw(h, "</td><td class=\"n\">");
        dp__h_bytes(h, dp__jnum_at(p, "peak_rss_bytes"));
        /* The final step has no columns of its own (the manifest records 0). */
        bool fin = strcmp(passes->keys[k], "final") == 0;
        dp__h_printf(h, "</td><td class=\"n\">%.0f</td><td class=\"n\">%.0f</td><td class=\"n\">",
                     dp__jnum_at(p, "rows_read"), dp__jnum_at(p, "scans"));
        dp__h_num(h, fin ? NAN : dp__jnum_at(p, "columns_in"), 10);
        dp__h_raw(h, "</td><td class=\"n\">");
        dp__h_num(h, fin ? NAN : dp__jnum_at(p, "columns_out"), 10);
        dp__h_printf(h, "</td><td>%s</td></tr>",
                     reused != NULL && reused->boolean ? "yes (earlier run)" : "no");
    }
    dp__h_printf(h,
                 "</tbody></table><p class=\"cap\">Total %.3g s of pass time. Peak memory: "
                 "the process's peak resident set size at the end of the pass.</p></div>\n",
                 total);
    /* Settings, grouped as in config.conf. */
    dp__h_raw(h, "<div><h3>Settings (config.conf)</h3>");
    if (r->n_cfg == 0) {
        dp__h_raw(h, "<p class=\"muted\">No config.conf.</p>");
    } else {
        dp__h_raw(h, "<div class=\"scroll\"><table><tbody>");
        const char *group = NULL;
        for (int i = 0; i < r->n_cfg; i++) {
            const dp__kv *kv = &r->cfg[i];
            if (group == NULL || strcmp(group, kv->group) != 0) {
                group = kv->group;
                dp__h_raw(h, "<tr><th colspan=\"2\">");
                dp__h_text(h, group);
                dp__h_raw(h, "</th></tr>");
            }
            dp__h_raw(h, "<tr><td>");
            dp__h_text(h, kv->key);
            dp__h_raw(h, "</td><td>");
            if (kv->unset) {
                dp__h_raw(h, "<span class=\"muted\">unset</span>");
            } else {
                if (!kv->def)
                    dp__h_raw(h, "<b>");
                dp__h_text(h, kv->value);
                dp__h_raw(h, kv->def ? " <span class=\"muted\">(default)</span>" : "</b>");
            }
            dp__h_raw(h, "</td></tr>");
        }
        dp__h_raw(h, "</tbody></table></div>");
    }
    dp__h_raw(h, "</div></div></section>\n");
}

/* ---- script ---------------------------------------------------------------------------------- */

/* Filter and expanders of the alternatives table, heatmap tooltips, and the self-test that
 * tests/cli/report_browser.sh triggers with #selftest (it writes #selftest-result). */
static const char *const dp__js[] = {
    "(function(){'use strict';\n",
    "function q(s,r){return (r||document).querySelector(s);}\n",
    "function qa(s,r){return Array.prototype.slice.call((r||document).querySelectorAll(s));}\n",
    "var box=q('#alt-search'),rows=qa('#alt-table tr.alt-row'),urows=qa('#unassigned-table "
    "tr.u-row');\n",
    "function detail(r){var d=r.nextElementSibling;return d&&d.classList.contains('alt-detail')?"
    "d:null;}\n",
    "function setOpen(r,open){var d=detail(r),b=q('button.tog',r);if(!d||!b)return;d.hidden="
    "!open;b.setAttribute('aria-expanded',open?'true':'false');b.textContent=open?'\\u25be':"
    "'\\u25b8';}\n",
    "rows.forEach(function(r){r._n=(r.getAttribute('data-names')||'').toLowerCase().split('\\n');"
    "var b=q('button.tog',r);if(b)b.addEventListener('click',function(){r._auto=false;setOpen(r,"
    "b.getAttribute('aria-expanded')!=='true');});});\n",
    "urows.forEach(function(r){r._n=[(r.getAttribute('data-names')||'').toLowerCase()];});\n",
    "function count(){var c=q('#alt-count');if(!c)return;var s=rows.filter(function(r){return "
    "!r.hidden;}).length;c.textContent=s+' of '+rows.length+' final descriptors shown';}\n",
    "function filter(){if(!box)return;var t=box.value.trim().toLowerCase();\n",
    " rows.forEach(function(r){var hit=!t||r._n.some(function(n){return n.indexOf(t)>=0;});\n",
    "  r.hidden=!hit;var d=detail(r);var alt=hit&&t&&r._n[0].indexOf(t)<0;\n",
    "  if(!hit){if(d)d.hidden=true;}else if(alt){r._auto=true;setOpen(r,true);}else if(r._auto)"
    "{r._auto=false;setOpen(r,false);}else if(d){d.hidden=q('button.tog',r).getAttribute("
    "'aria-expanded')!=='true';}\n",
    "  if(d)qa('tr[data-n]',d).forEach(function(s){s.classList.toggle('match',!!t&&(s."
    "getAttribute('data-n')||'').toLowerCase().indexOf(t)>=0);});});\n",
    " urows.forEach(function(r){r.hidden=!!t&&r._n[0].indexOf(t)<0;});count();}\n",
    "if(box)box.addEventListener('input',filter);\n",
    "var bo=q('#alt-open'),bc=q('#alt-close');\n",
    "if(bo)bo.addEventListener('click',function(){rows.forEach(function(r){if(!r.hidden)"
    "setOpen(r,true);});});\n",
    "if(bc)bc.addEventListener('click',function(){rows.forEach(function(r){r._auto=false;"
    "setOpen(r,false);});});\n",
    "count();\n",
    "var tip=document.createElement('div');tip.className='tip';document.body.appendChild(tip);"
    "var cache={};\n",
    "function names(id){if(!cache[id]){var e=document.getElementById(id);try{cache[id]=e?JSON."
    "parse(e.textContent):[];}catch(x){cache[id]=[];}}return cache[id];}\n",
    "qa('.hmwrap').forEach(function(w){var nm=names(w.getAttribute('data-names')),f=+w."
    "getAttribute('data-f')||1;\n",
    " w.addEventListener('mousemove',function(ev){var b=w.getBoundingClientRect(),n=nm.length;"
    "if(!n||!b.width)return;var i=Math.min(n-1,Math.floor((ev.clientY-b.top)/b.height*n)),j=Math"
    ".min(n-1,Math.floor((ev.clientX-b.left)/b.width*n));\n",
    "  tip.textContent=nm[i]+' \\u00d7 '+nm[j]+(f>1?' (block of '+f+'\\u00d7'+f+')':'');tip."
    "style.display='block';tip.style.left=(ev.clientX+14)+'px';tip.style.top=(ev.clientY+14)+"
    "'px';});\n",
    " w.addEventListener('mouseleave',function(){tip.style.display='none';});});\n",
    "function selftest(){var out=[],ok=true;function fail(m){ok=false;out.push('FAIL: '+m);}\n",
    " var imgs=qa('img.hm');imgs.forEach(function(im,i){if(!im.complete||!im.naturalWidth)"
    "fail('heatmap image '+i+' did not decode');});\n",
    " if(!box)fail('no search box');if(!rows.length)fail('no final descriptors in the table');\n",
    " var target=null;rows.some(function(r){if(r._n.length>1){target=r;return true;}return "
    "false;});\n",
    " var t=target?target._n[1]:(rows.length?rows[0]._n[0]:'');\n",
    " if(box){box.value=t;box.dispatchEvent(new Event('input'));\n",
    "  var vis=rows.filter(function(r){return !r.hidden;}).length,exp=rows.filter(function(r)"
    "{return r._n.some(function(n){return n.indexOf(t)>=0;});}).length;\n",
    "  if(vis!==exp)fail('filter '+JSON.stringify(t)+' shows '+vis+' rows, expected '+exp);\n",
    "  if(vis<1)fail('filter '+JSON.stringify(t)+' shows nothing');\n",
    "  if(target&&target.hidden)fail('the row of '+JSON.stringify(t)+' is hidden');\n",
    "  if(target&&target._n[0].indexOf(t)<0&&detail(target).hidden)fail('the row matched "
    "through an alternative did not open');\n",
    "  box.value='\\u0001no such descriptor\\u0001';box.dispatchEvent(new Event('input'));\n",
    "  vis=rows.filter(function(r){return !r.hidden;}).length;if(vis!==0)fail('a filter that "
    "matches nothing shows '+vis+' rows');\n",
    "  box.value='';box.dispatchEvent(new Event('input'));vis=rows.filter(function(r){return "
    "!r.hidden;}).length;if(vis!==rows.length)fail('clearing the filter shows '+vis+' of '+rows."
    "length);}\n",
    " var errs=window.__dpErrors||[];if(errs.length)fail('script errors: '+errs.join('; '));\n",
    " var el=document.createElement('pre');el.id='selftest-result';el.textContent=(ok?"
    "'SELFTEST PASS':'SELFTEST FAIL')+' rows='+rows.length+' images='+imgs.length+' query='+JSON"
    ".stringify(t)+(out.length?'\\n'+out.join('\\n'):'');document.body.appendChild(el);}\n",
    "if(box&&location.hash.indexOf('#filter=')===0){try{box.value=decodeURIComponent(location."
    "hash.slice(8));}catch(x){}filter();}\n",
    "if(location.hash==='#selftest'){if(document.readyState==='complete')selftest();else window"
    ".addEventListener('load',selftest);}\n",
    "})();\n"};

/* ---- entry points ---------------------------------------------------------------------------- */

static void dp__rep_reset(dp__rep *r) {
    dp__h_reset(&r->h);
    dp_json_free(r->manifest);
    dp_json_free(r->summary);
    dp_json_free(r->clusters);
    dp_json_free(r->p2);
    dp_json_free(r->p3);
    dp_json_free(r->p4);
    dp_json_free(r->columns);
    dp_buf_reset(&r->cfg_text);
    dp_free(r->cfg);
    dp_buf_reset(&r->p1_text);
    dp_free(r->p1);
    dp__lines_reset(&r->p1cols);
    dp__lines_reset(&r->p3cols);
    dp_free(r->r2);
    dp_free(r->names2);
    dp__index_reset(&r->idx2);
}

dp_status dp__write_report(const char *dir, dp_error *err) {
    dp_status st = DP_OK;
    dp__rep rep;
    dp__rep *r = &rep;
    memset(r, 0, sizeof *r);
    r->dir = dir;
    dp__h_init(&r->h);
    dp_buf_init(&r->cfg_text);
    dp_buf_init(&r->p1_text);
    dp__colormap_lut(r->lut);
    r->png = dp__png_available();
    char path[4096];
    DP_CHECK(dp_json_parse_file(dp__path(r, "manifest.json", path, sizeof path), DP__TEXT_MAX,
                                &r->manifest, err));
    DP_CHECK(dp__load_json(r, "summary.json", &r->summary));
    DP_CHECK(dp__load_json(r, "clusters.json", &r->clusters));
    DP_CHECK(dp__load_json(r, "columns.json", &r->columns));
    DP_CHECK(dp__load_json(r, "pass2_clusters.json", &r->p2));
    DP_CHECK(dp__load_json(r, "pass3_vif.json", &r->p3));
    DP_CHECK(dp__load_json(r, "pass4_nonlinear.json", &r->p4));
    DP_CHECK(dp__load_config(r));
    DP_CHECK(dp__load_p1(r));

    /* The sections that read matrices are rendered into their own builder first, so that their
     * problems can be listed above them. */
    dp__html top = r->h;
    dp__h_init(&r->h);
    dp__funnel(r);
    dp__pass1(r);
    DP_CHECK(dp__pass2(r, err));
    dp__pass3(r);
    DP_CHECK(dp__pass4(r, err));
    dp__alternatives(r);
    dp__facts(r);
    dp__html body = r->h;
    r->h = top;
    dp__header(r);
    dp__notes(r);
    dp__h_rawn(&r->h, body.b.data, body.b.size);
    if (body.failed)
        r->h.failed = true;
    dp__h_reset(&body);
    dp__h_raw(&r->h, "</main>\n<script>");
    for (size_t k = 0; k < DP_ARRAY_LEN(dp__js); k++)
        dp__h_raw(&r->h, dp__js[k]);
    dp__h_raw(&r->h, "</script>\n</body></html>\n");
    DP_CHECK(dp__h_status(&r->h, err));
    DP_CHECK(dp__write_file(dp__path(r, "report.html", path, sizeof path), r->h.b.data, r->h.b.size,
                            NULL, err));
cleanup:
    if (st == DP_NOMEM && err != NULL && err->msg[0] == '\0')
        dp_error_set(err, DP_NOMEM, "%s: out of memory writing the report", dir);
    if (st == DP_NOT_FOUND)
        dp_error_set(err, DP_NOT_FOUND, "%s: not a dpipe run directory (no manifest.json)", dir);
    dp__rep_reset(r);
    return st;
}

dp_status dp_cmd_report(const char *dir, dp_error *err) {
    if (dir == NULL)
        return dp_error_set(err, DP_INVALID_ARG, "report: no run directory given");
    return dp__write_report(dir, err);
}
