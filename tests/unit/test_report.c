/* report.html: structure, escaping of names from the data, every final descriptor present, heatmap
 * pixels, degraded parts, and the size bound of a 1,500-column run.
 *
 * tests/cli/report_browser.sh runs report_escapes_names and report_size_1500_columns with
 * TMPDIR and DP_TEST_KEEP_TMP set, then opens their reports in a headless browser. */
#include "dp_test.h"
#include "dpipe/dp_commands.h"
#include "dpipe/dp_config.h"
#include "dpipe/dp_features.h"
#include "parquet/pq_writer.h"
#include "pipeline/dp_outputs.h"
#include "pipeline/dp_png.h"
#include "pipeline/dp_report.h"
#include "util/dp_alloc.h"
#include "util/dp_jsonw.h"
#include "util/dp_log.h"

#include <sys/stat.h>
#include <unistd.h>

#if DP_HAVE_PNG
#include <png.h>
#endif

static uint64_t tr_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static double tr_unif(uint64_t *s) {
    return (double) (tr_next(s) >> 11) / 9007199254740992.0;
}

static double tr_normal(uint64_t *s) {
    double u = tr_unif(s), v = tr_unif(s);
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

static char *tr_read(const char *path, size_t *n) {
    dp_buf b;
    dp_buf_init(&b);
    dp_error err = {0};
    DP_ASSERT_OK(dp__read_file(path, (size_t) 1 << 30, &b, &err), &err);
    DP_ASSERT_OK(dp_buf_append_u8(&b, 0), NULL);
    if (n != NULL)
        *n = b.size - 1;
    return (char *) b.data; /* freed with dp_free */
}

static size_t tr_count(const char *h, const char *needle) {
    size_t n = 0;
    for (const char *p = strstr(h, needle); p != NULL; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Elements that never have a closing tag in HTML. */
static bool tr_void(const char *name, size_t n) {
    static const char *const v[] = {"meta", "link", "br", "img", "input", "hr", "col", "wbr"};
    for (size_t k = 0; k < sizeof v / sizeof v[0]; k++)
        if (strlen(v[k]) == n && strncmp(v[k], name, n) == 0)
            return true;
    return false;
}

/* Every element opened is closed, in order; script and style bodies are skipped whole. */
static void tr_check_structure(const char *h) {
    DP_ASSERT_TRUE(strncmp(h, "<!DOCTYPE html>\n<html", 21) == 0);
    size_t len = strlen(h);
    DP_ASSERT_TRUE(len > 8 && strcmp(h + len - 8, "</html>\n") == 0);
    char stack[256][24];
    int depth = 0;
    for (const char *p = strchr(h, '<'); p != NULL; p = strchr(p, '<')) {
        if (strncmp(p, "<!", 2) == 0) {
            p = strchr(p, '>');
            DP_ASSERT_TRUE(p != NULL);
            continue;
        }
        bool close = p[1] == '/';
        const char *name = p + (close ? 2 : 1);
        size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
        if (n == 0 || n >= 24)
            DP_FAILF("bad tag at byte %zu: %.40s", (size_t) (p - h), p);
        const char *gt = strchr(p, '>');
        DP_ASSERT_TRUE(gt != NULL);
        if (close) {
            if (depth == 0 || strlen(stack[depth - 1]) != n || strncmp(stack[depth - 1], name, n))
                DP_FAILF("</%.*s> at byte %zu closes <%s>", (int) n, name, (size_t) (p - h),
                         depth ? stack[depth - 1] : "(nothing)");
            depth--;
            p = gt + 1;
            continue;
        }
        bool self = gt[-1] == '/';
        if (!self && !tr_void(name, n)) {
            DP_ASSERT_TRUE(depth < 256);
            memcpy(stack[depth], name, n);
            stack[depth++][n] = '\0';
        }
        p = gt + 1;
        if ((n == 6 && strncmp(name, "script", 6) == 0) ||
            (n == 5 && strncmp(name, "style", 5) == 0)) {
            char end[16];
            snprintf(end, sizeof end, "</%.*s>", (int) n, name);
            const char *e = strstr(p, end);
            DP_ASSERT_TRUE(e != NULL);
            p = e;
        }
    }
    if (depth != 0)
        DP_FAILF("%d elements left open, innermost <%s>", depth, stack[depth - 1]);
}

/* The report works offline: no URL other than data: URIs. */
static void tr_check_offline(const char *h) {
    DP_ASSERT_TRUE(strstr(h, "http://") == NULL);
    DP_ASSERT_TRUE(strstr(h, "https://") == NULL);
    DP_ASSERT_TRUE(strstr(h, "//cdn") == NULL);
    for (const char *p = strstr(h, " src=\""); p != NULL; p = strstr(p + 1, " src=\""))
        DP_ASSERT_TRUE(strncmp(p + 6, "data:", 5) == 0);
    DP_ASSERT_TRUE(strstr(h, "href=\"http") == NULL);
}

/* ---- a small real run with hostile column names -----------------------------------------------
 */

#define TR_NAME_X   "<b>&\"x"
#define TR_NAME_DUP "dup</script><i>'"
enum { TR_ROWS = 400, TR_COLS = 8 };

static void tr_small_run(const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/in.parquet", dir);
    static const char *const names[TR_COLS] = {TR_NAME_X, TR_NAME_DUP, "square", "noise_a",
                                               "noise_b", "sum_ab",    "flat",   "noise_c"};
    dp_pq_write_column cols[TR_COLS];
    static double v[TR_COLS][TR_ROWS];
    uint64_t s = 77;
    for (int i = 0; i < TR_ROWS; i++) {
        double x = tr_normal(&s), a = tr_normal(&s), b = tr_normal(&s);
        v[0][i] = x;
        v[1][i] = x;                            /* duplicate: removed in pass 2 */
        v[2][i] = x * x + 0.05 * tr_normal(&s); /* nonlinear partner */
        v[3][i] = a;
        v[4][i] = b;
        v[5][i] = a + b + 0.01 * tr_normal(&s); /* collinear: removed in pass 3 */
        v[6][i] = 1;                            /* constant: removed in pass 1 */
        v[7][i] = tr_normal(&s);
    }
    dp_pq_column_data data[TR_COLS];
    for (int k = 0; k < TR_COLS; k++) {
        cols[k] = (dp_pq_write_column){.name = names[k], .type = DP_PQ_DOUBLE};
        data[k] = (dp_pq_column_data){.values = v[k]};
    }
    dp_error err = {0};
    dp_pq_writer *w = NULL;
    DP_ASSERT_OK(dp_pq_writer_create(path, cols, TR_COLS, NULL, &w, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_append(w, data, TR_ROWS, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_close(w, &err), &err);
    dp_pq_writer_free(w);

    dp_config *cfg = NULL;
    DP_ASSERT_OK(dp_config_create(&cfg, &err), &err);
    char out[4096];
    snprintf(out, sizeof out, "%s/run", dir);
    DP_ASSERT_OK(dp_config_set(cfg, "output-dir", out, &err), &err);
    DP_ASSERT_OK(dp_config_set(cfg, "threads", "1", &err), &err);
    dp_log_set_level(DP_LOG_QUIET);
    const char *in[] = {path};
    DP_ASSERT_OK(dp_cmd_run(in, 1, cfg, &err), &err);
    dp_config_free(cfg);
    DP_ASSERT_OK(dp_cmd_report(out, &err), &err);
}

#if DP_HAVE_PNG
/* Decode the i-th PNG data URI of the page. */
static uint8_t *tr_png_at(const char *h, int i, int32_t *w, int32_t *ht) {
    const char *tag = "src=\"data:image/png;base64,";
    const char *p = h;
    for (int k = 0; k <= i; k++) {
        p = strstr(p, tag);
        DP_ASSERT_TRUE(p != NULL);
        p += strlen(tag);
    }
    size_t n = strcspn(p, "\"");
    uint8_t *bin = malloc(n);
    size_t m = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t k = 0; k < n && p[k] != '='; k++) {
        const char *al = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *c = strchr(al, p[k]);
        DP_ASSERT_TRUE(c != NULL);
        acc = acc << 6 | (uint32_t) (c - al);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            bin[m++] = (uint8_t) (acc >> bits);
        }
    }
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, bin, m))
        DP_FAILF("PNG %d of the report does not decode: %s", i, img.message);
    img.format = PNG_FORMAT_RGB;
    uint8_t *rgb = malloc(PNG_IMAGE_SIZE(img));
    DP_ASSERT_TRUE(png_image_finish_read(&img, NULL, rgb, 0, NULL));
    *w = (int32_t) img.width;
    *ht = (int32_t) img.height;
    free(bin);
    return rgb;
}
#endif

DP_TEST(report_escapes_names) {
    const char *dir = dp_test_tmp_dir();
    tr_small_run(dir);
    char path[4096];
    snprintf(path, sizeof path, "%s/run/report.html", dir);
    char *h = tr_read(path, NULL);
    tr_check_structure(h);
    tr_check_offline(h);
    /* The hostile names never appear raw, only escaped: as HTML text and as JSON in <script>. */
    DP_ASSERT_TRUE(strstr(h, TR_NAME_X) == NULL);
    DP_ASSERT_TRUE(strstr(h, TR_NAME_DUP) == NULL);
    DP_ASSERT_TRUE(strstr(h, "<i>'") == NULL);
    DP_ASSERT_CONTAINS(h, "&lt;b&gt;&amp;&quot;x");
    DP_ASSERT_CONTAINS(h, "\"\\u003cb\\u003e\\u0026\\\"x\"");
    DP_ASSERT_CONTAINS(h, "dup&lt;/script&gt;&lt;i&gt;&#39;");
    DP_ASSERT_EQ_INT(tr_count(h, "<script"), tr_count(h, "</script>"));
    /* The duplicate stands behind the first column: an alternative row of it. */
    DP_ASSERT_CONTAINS(h, "<tr data-n=\"dup&lt;/script&gt;&lt;i&gt;&#39;\"><td>dup&lt;/script&gt;"
                          "&lt;i&gt;&#39;</td><td class=\"n\">2</td>");
    /* Every final descriptor has its row in the alternatives browser. */
    snprintf(path, sizeof path, "%s/run/final_descriptors.txt", dir);
    char *fin = tr_read(path, NULL);
    int n_final = 0;
    for (char *s = fin; *s;) {
        char *nl = strchr(s, '\n');
        DP_ASSERT_TRUE(nl != NULL);
        *nl = '\0';
        dp_buf want;
        dp_buf_init(&want);
        DP_ASSERT_OK(dp_buf_printf(&want, "<td class=\"nm\">"), NULL);
        for (const char *c = s; *c; c++) {
            const char *e = *c == '<'    ? "&lt;"
                            : *c == '>'  ? "&gt;"
                            : *c == '&'  ? "&amp;"
                            : *c == '"'  ? "&quot;"
                            : *c == '\'' ? "&#39;"
                                         : NULL;
            if (e != NULL)
                DP_ASSERT_OK(dp_buf_printf(&want, "%s", e), NULL);
            else
                DP_ASSERT_OK(dp_buf_printf(&want, "%c", *c), NULL);
        }
        DP_ASSERT_OK(dp_buf_printf(&want, "</td>"), NULL);
        DP_ASSERT_CONTAINS(h, (const char *) want.data);
        dp_buf_reset(&want);
        n_final++;
        s = nl + 1;
    }
    DP_ASSERT_TRUE(n_final >= 3);
    DP_ASSERT_EQ_INT(tr_count(h, "<tr class=\"alt-row\""), n_final);
    /* Three heatmaps (pass 2, HSIC, RDC), the funnel and the removed constant. */
    DP_ASSERT_EQ_INT(tr_count(h, "<figure class=\"hm\""), 3);
    DP_ASSERT_CONTAINS(h, "constant: 1");
#if DP_HAVE_PNG
    /* Pass-2 heatmap: 7 pass-1 survivors, one pixel each; the diagonal is |rho| = 1, the top
     * of the colour scale, whatever the display order. */
    int32_t w = 0, ht = 0;
    uint8_t *rgb = tr_png_at(h, 0, &w, &ht);
    DP_ASSERT_EQ_INT(w, TR_COLS - 1);
    DP_ASSERT_EQ_INT(ht, TR_COLS - 1);
    uint8_t top[3];
    dp__colormap(1.0, top);
    for (int32_t i = 0; i < w; i++)
        DP_ASSERT_MEMEQ(rgb + 3 * ((size_t) i * w + i), top, 3);
    free(rgb);
    DP_ASSERT_EQ_INT(tr_count(h, "src=\"data:image/png;base64,"), 3);
#else
    DP_ASSERT_EQ_INT(tr_count(h, "<svg class=\"hmsvg\""), 3);
    DP_ASSERT_CONTAINS(h, "built without libpng");
#endif
    dp_free(fin);
    dp_free(h);
}

/* ---- degraded inputs ----------------------------------------------------------------------------
 */

DP_TEST(report_missing_parts_are_noted) {
    const char *dir = dp_test_tmp_dir();
    tr_small_run(dir);
    char run[3072], path[4096];
    snprintf(run, sizeof run, "%s/run", dir);
    /* Remove pass 3's JSON and the RDC matrix; corrupt the HSIC matrix. */
    snprintf(path, sizeof path, "%s/pass3_vif.json", run);
    DP_ASSERT_EQ_INT(unlink(path), 0);
    snprintf(path, sizeof path, "%s/pass4_rdc_matrix.npy", run);
    DP_ASSERT_EQ_INT(unlink(path), 0);
    snprintf(path, sizeof path, "%s/pass4_hsic_matrix.npy", run);
    dp_error err = {0};
    DP_ASSERT_OK(dp__write_file(path, "\x93NUMPY\x01\x00\x10\x00garbage", 18, NULL, &err), &err);
    DP_ASSERT_OK(dp_cmd_report(run, &err), &err);
    snprintf(path, sizeof path, "%s/report.html", run);
    char *h = tr_read(path, NULL);
    tr_check_structure(h);
    DP_ASSERT_CONTAINS(h, "Parts of this report are missing");
    DP_ASSERT_CONTAINS(h, "pass3_vif.json:");
    DP_ASSERT_CONTAINS(h, "pass4_hsic_matrix.npy:");
    DP_ASSERT_CONTAINS(h, "No pass-3 results");
    DP_ASSERT_CONTAINS(h, "No pass-4 matrices");
    DP_ASSERT_EQ_INT(tr_count(h, "<figure class=\"hm\""), 1);
    dp_free(h);
    /* A directory that is not a run directory is an error, and nothing is written. */
    snprintf(path, sizeof path, "%s/empty", dir);
    DP_ASSERT_EQ_INT(mkdir(path, 0755), 0);
    DP_ASSERT_STATUS(dp_cmd_report(path, &err), DP_NOT_FOUND);
    DP_ASSERT_CONTAINS(err.msg, "manifest.json");
    snprintf(path, sizeof path, "%s/empty/report.html", dir);
    DP_ASSERT_TRUE(access(path, F_OK) != 0);
}

DP_TEST(report_out_of_memory_is_clean) {
    /* Every allocation failing in turn: NOMEM or success, never a crash or leak (ASan). */
    const char *dir = dp_test_tmp_dir();
    tr_small_run(dir);
    char run[3072];
    snprintf(run, sizeof run, "%s/run", dir);
    int64_t before = dp_alloc_live_bytes();
    bool done = false;
    for (int64_t k = 1; k < 100000 && !done; k += 1 + k / 8) {
        dp_error err = {0};
        dp_alloc_fail_after(k);
        dp_status st = dp_cmd_report(run, &err);
        dp_alloc_fail_after(0);
        if (st == DP_OK)
            done = true;
        else
            DP_ASSERT_STATUS(st, DP_NOMEM);
        DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), before);
    }
    DP_ASSERT_TRUE(done);
}

/* ---- 1,500 columns: a synthetic run directory
 * ---------------------------------------------------- */

static void tr_write_json(const char *dir, const char *name, dp_buf *b) {
    char path[4096];
    dp_error err = {0};
    DP_ASSERT_OK(
        dp__write_file(dp__path_join(path, sizeof path, dir, name), b->data, b->size, NULL, &err),
        &err);
    dp_buf_reset(b);
}

static void tr_write_list(const char *dir, const char *name, char **names, int64_t n) {
    char path[4096];
    dp_error err = {0};
    DP_ASSERT_OK(dp__write_lines(dp__path_join(path, sizeof path, dir, name),
                                 (const char *const *) names, n, NULL, &err),
                 &err);
}

/* Random symmetric matrix with unit diagonal: noise does not compress, the worst case for the
 * size of the PNG heatmaps. */
static void tr_write_matrix(const char *dir, const char *name, int64_t n, uint64_t seed,
                            bool signed_) {
    double *m = malloc((size_t) (n * n) * sizeof *m);
    uint64_t s = seed;
    for (int64_t i = 0; i < n; i++) {
        m[i * n + i] = 1;
        for (int64_t j = i + 1; j < n; j++)
            m[i * n + j] = m[j * n + i] = signed_ ? tr_unif(&s) * 2 - 1 : tr_unif(&s);
    }
    char path[4096];
    dp_error err = {0};
    DP_ASSERT_OK(dp__write_npy(dp__path_join(path, sizeof path, dir, name), m, n, n, NULL, &err),
                 &err);
    free(m);
}

static void tr_names_array(dp_jw *w, const char *key, char **names, int64_t n) {
    dp_jw_key(w, key);
    dp_jw_array_begin(w);
    for (int64_t i = 0; i < n; i++)
        dp_jw_string(w, names[i]);
    dp_jw_array_end(w);
}

/* A run directory as `dpipe run` would leave it for p0 input columns: pass 1 keeps p1, pass 2
 * p2 (clusters of 2), pass 3 p3, pass 4 pf (clusters of 2). Names are long (40 bytes). */
static void tr_synthetic_run(const char *dir, int64_t p0, int64_t p1, int64_t p2, int64_t p3,
                             int64_t pf) {
    char **nm = malloc((size_t) p0 * sizeof *nm);
    for (int64_t i = 0; i < p0; i++) {
        nm[i] = malloc(64);
        snprintf(nm[i], 64, "descriptor_with_a_long_name_%06lld_abcdef", (long long) i);
    }
    dp_buf b;
    dp_jw w;
    /* manifest.json */
    dp_buf_init(&b);
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_string(&w, "format", "dpipe-run/1");
    dp_jw_kv_string(&w, "dpipe_version", DP_VERSION_STRING);
    dp_jw_key(&w, "input");
    dp_jw_object_begin(&w);
    dp_jw_kv_int(&w, "rows", 1000000);
    dp_jw_kv_int(&w, "descriptors", p0);
    dp_jw_kv_string(&w, "fingerprint", "0123456789abcdef");
    dp_jw_key(&w, "files");
    dp_jw_array_begin(&w);
    for (int f = 0; f < 100; f++) {
        char fp[64];
        snprintf(fp, sizeof fp, "/data/part-%05d.parquet", f);
        dp_jw_object_begin(&w);
        dp_jw_kv_string(&w, "path", fp);
        dp_jw_kv_int(&w, "size", 123456789);
        dp_jw_kv_int(&w, "rows", 10000);
        dp_jw_object_end(&w);
    }
    dp_jw_array_end(&w);
    dp_jw_object_end(&w);
    dp_jw_key(&w, "passes");
    dp_jw_object_begin(&w);
    const int64_t outs[5] = {p1, p2, p3, pf, pf};
    const char *pn[5] = {"pass1", "pass2", "pass3", "pass4", "final"};
    for (int k = 0; k < 5; k++) {
        dp_jw_key(&w, pn[k]);
        dp_jw_object_begin(&w);
        dp_jw_kv_number(&w, "seconds", 1.5 * (k + 1));
        dp_jw_kv_int(&w, "peak_rss_bytes", (int64_t) 1 << (28 + k));
        dp_jw_kv_int(&w, "rows_read", k == 0 || k == 1 || k == 3 ? 1000000 : 0);
        dp_jw_kv_int(&w, "scans", k == 0 || k == 1 || k == 3);
        dp_jw_kv_int(&w, "columns_in", k == 0 ? p0 : outs[k - 1]);
        dp_jw_kv_int(&w, "columns_out", outs[k]);
        dp_jw_kv_bool(&w, "reused", false);
        dp_jw_object_end(&w);
    }
    dp_jw_object_end(&w);
    dp_jw_object_end(&w);
    DP_ASSERT_OK(dp_jw_finish(&w, NULL), NULL);
    tr_write_json(dir, "manifest.json", &b);
    /* summary.json */
    dp_buf_init(&b);
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_int(&w, "initial", p0);
    dp_jw_kv_int(&w, "after_pass1", p1);
    dp_jw_kv_int(&w, "after_pass2", p2);
    dp_jw_kv_int(&w, "after_pass3", p3);
    dp_jw_kv_int(&w, "after_pass4", pf);
    dp_jw_kv_int(&w, "final", pf);
    dp_jw_object_end(&w);
    DP_ASSERT_OK(dp_jw_finish(&w, NULL), NULL);
    tr_write_json(dir, "summary.json", &b);
    /* config.conf */
    const char *conf = "# Pass 1\nvariance-threshold = 0.002  # default\nmax-missing-ratio = 0.5"
                       "  # default\nrange-mode = trimmed  # default\n\n# Pass 2\n"
                       "spearman-threshold = 0.95  # default\nmethod = spearman  # default\n"
                       "# columns = (unset)\n";
    char path[4096];
    dp_error err = {0};
    DP_ASSERT_OK(dp__write_file(dp__path_join(path, sizeof path, dir, "config.conf"), conf,
                                strlen(conf), NULL, &err),
                 &err);
    /* pass1_statistics.tsv: the first p1 kept. */
    dp_buf_init(&b);
    DP_ASSERT_OK(dp_buf_printf(&b, "name\tkept\treason\trows\tmissing_ratio\tnorm_variance\n"),
                 NULL);
    uint64_t s = 99;
    for (int64_t i = 0; i < p0; i++) {
        bool kept = i < p1;
        DP_ASSERT_OK(dp_buf_printf(&b, "%s\t%s\t%s\t1000000\t%.6g\t%.6g\n", nm[i],
                                   kept ? "yes" : "no",
                                   kept ? "-" : "variance: normalised variance below 0.002",
                                   tr_unif(&s) * 0.3, kept ? 0.002 + tr_unif(&s) : 1e-5),
                     NULL);
    }
    tr_write_json(dir, "pass1_statistics.tsv", &b);
    tr_write_list(dir, "pass1_columns.txt", nm, p1);
    tr_write_matrix(dir, "pass2_spearman_matrix.npy", p1, 1, true);
    /* pass2_clusters.json: pairs (k, p2 + k) for k < p1 - p2. */
    dp_buf_init(&b);
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_string(&w, "method", "spearman");
    dp_jw_kv_number(&w, "threshold", 0.95);
    dp_jw_kv_string(&w, "cluster", "greedy");
    dp_jw_kv_int(&w, "n_clusters", p1 - p2);
    dp_jw_key(&w, "clusters");
    dp_jw_array_begin(&w);
    for (int64_t k = 0; k < p1 - p2; k++) {
        dp_jw_object_begin(&w);
        dp_jw_kv_string(&w, "representative", nm[k]);
        dp_jw_key(&w, "members");
        dp_jw_array_begin(&w);
        dp_jw_object_begin(&w);
        dp_jw_kv_string(&w, "name", nm[p2 + k]);
        dp_jw_kv_number(&w, "similarity", 0.97);
        dp_jw_object_end(&w);
        dp_jw_array_end(&w);
        dp_jw_object_end(&w);
    }
    dp_jw_array_end(&w);
    dp_jw_object_end(&w);
    DP_ASSERT_OK(dp_jw_finish(&w, NULL), NULL);
    tr_write_json(dir, "pass2_clusters.json", &b);
    tr_write_list(dir, "pass2_columns.txt", nm, p2);
    /* pass3_vif.json: the last p2 - p3 of pass 2's survivors removed, heirs the first ones. */
    dp_buf_init(&b);
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_number(&w, "threshold", 10);
    dp_jw_key(&w, "removed");
    dp_jw_array_begin(&w);
    for (int64_t k = 0; k < p2 - p3; k++) {
        dp_jw_object_begin(&w);
        dp_jw_kv_string(&w, "name", nm[p3 + k]);
        dp_jw_kv_string(&w, "reason", "threshold");
        dp_jw_kv_number(&w, "vif", 1000.0 / (double) (k + 1) + 10);
        dp_jw_kv_string(&w, "heir", nm[k]);
        dp_jw_kv_string(&w, "heir_link", "r2_drop");
        dp_jw_kv_number(&w, "heir_score", 0.3);
        dp_jw_object_end(&w);
    }
    dp_jw_array_end(&w);
    dp_jw_key(&w, "max_vif_by_step");
    dp_jw_array_begin(&w);
    for (int64_t k = 0; k <= p2 - p3; k++)
        dp_jw_number(&w, 1000.0 / (double) (k + 1) + 9.5);
    dp_jw_array_end(&w);
    dp_jw_object_end(&w);
    DP_ASSERT_OK(dp_jw_finish(&w, NULL), NULL);
    tr_write_json(dir, "pass3_vif.json", &b);
    tr_write_list(dir, "pass3_columns.txt", nm, p3);
    tr_write_matrix(dir, "pass4_hsic_matrix.npy", p3, 2, false);
    tr_write_matrix(dir, "pass4_rdc_matrix.npy", p3, 3, false);
    /* pass4_nonlinear.json: pairs (k, pf + k). */
    dp_buf_init(&b);
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_number(&w, "threshold", 0.7);
    dp_jw_key(&w, "weights");
    dp_jw_object_begin(&w);
    dp_jw_kv_number(&w, "hsic", 0.5);
    dp_jw_kv_number(&w, "rdc", 0.5);
    dp_jw_object_end(&w);
    dp_jw_key(&w, "null_level");
    dp_jw_object_begin(&w);
    const char *nk[3] = {"hsic", "rdc", "combined"};
    for (int k = 0; k < 3; k++) {
        dp_jw_key(&w, nk[k]);
        dp_jw_object_begin(&w);
        dp_jw_kv_int(&w, "samples", 128);
        dp_jw_kv_number(&w, "mean", 0.02);
        dp_jw_kv_number(&w, "sd", 0.01);
        dp_jw_kv_number(&w, "q95", 0.04);
        dp_jw_kv_number(&w, "max", 0.06);
        dp_jw_object_end(&w);
    }
    dp_jw_object_end(&w);
    dp_jw_kv_int(&w, "n_clusters", p3 - pf);
    dp_jw_key(&w, "clusters");
    dp_jw_array_begin(&w);
    for (int64_t k = 0; k < p3 - pf; k++) {
        dp_jw_object_begin(&w);
        dp_jw_kv_string(&w, "representative", nm[k]);
        dp_jw_key(&w, "members");
        dp_jw_array_begin(&w);
        dp_jw_object_begin(&w);
        dp_jw_kv_string(&w, "name", nm[pf + k]);
        dp_jw_kv_number(&w, "similarity", 0.8);
        dp_jw_object_end(&w);
        dp_jw_array_end(&w);
        dp_jw_object_end(&w);
    }
    dp_jw_array_end(&w);
    dp_jw_object_end(&w);
    DP_ASSERT_OK(dp_jw_finish(&w, NULL), NULL);
    tr_write_json(dir, "pass4_nonlinear.json", &b);
    tr_write_list(dir, "final_descriptors.txt", nm, pf);
    /* clusters.json: each final descriptor with the alternatives of all three passes. */
    dp_buf_init(&b);
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_string(&w, "format", "dpipe-clusters/1");
    dp_jw_key(&w, "descriptors");
    dp_jw_object_begin(&w);
    for (int64_t k = 0; k < pf; k++) {
        dp_jw_key(&w, nm[k]);
        dp_jw_object_begin(&w);
        dp_jw_key(&w, "alternatives");
        dp_jw_array_begin(&w);
        int64_t alt[3] = {k < p1 - p2 ? p2 + k : -1, k < p2 - p3 ? p3 + k : -1,
                          k < p3 - pf ? pf + k : -1};
        int64_t na = 0;
        for (int a = 0; a < 3; a++) {
            if (alt[a] < 0)
                continue;
            dp_jw_object_begin(&w);
            dp_jw_kv_string(&w, "name", nm[alt[a]]);
            dp_jw_kv_int(&w, "pass", a + 2);
            dp_jw_kv_string(&w, "link", a == 1 ? "heir" : "representative");
            dp_jw_kv_string(&w, "via", nm[k]);
            dp_jw_kv_number(&w, "similarity", 0.9);
            dp_jw_object_end(&w);
            na++;
        }
        dp_jw_array_end(&w);
        dp_jw_kv_int(&w, "n_alternatives", na);
        dp_jw_object_end(&w);
    }
    dp_jw_object_end(&w);
    dp_jw_key(&w, "unassigned");
    dp_jw_array_begin(&w);
    for (int64_t i = p1; i < p0; i++) {
        dp_jw_object_begin(&w);
        dp_jw_kv_string(&w, "name", nm[i]);
        dp_jw_kv_int(&w, "pass", 1);
        dp_jw_kv_string(&w, "reason", "variance: normalised variance below 0.002");
        dp_jw_object_end(&w);
    }
    dp_jw_array_end(&w);
    dp_jw_object_end(&w);
    DP_ASSERT_OK(dp_jw_finish(&w, NULL), NULL);
    tr_write_json(dir, "clusters.json", &b);
    /* columns.json */
    dp_buf_init(&b);
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    tr_names_array(&w, "descriptors", nm, p0);
    tr_names_array(&w, "pass2_spearman_matrix.npy", nm, p1);
    tr_names_array(&w, "pass4_*_matrix.npy", nm, p3);
    dp_jw_object_end(&w);
    DP_ASSERT_OK(dp_jw_finish(&w, NULL), NULL);
    tr_write_json(dir, "columns.json", &b);
    for (int64_t i = 0; i < p0; i++)
        free(nm[i]);
    free(nm);
}

DP_TEST(report_size_1500_columns) {
    const char *dir = dp_test_tmp_dir();
    char run[3072];
    snprintf(run, sizeof run, "%s/run1500", dir);
    DP_ASSERT_EQ_INT(mkdir(run, 0755), 0);
    /* 1,500 input columns, 1,450 after pass 1, 1,000 reach pass 4: every matrix is noise, the
     * worst case for PNG compression; the scatter has 499,500 pairs. */
    tr_synthetic_run(run, 1500, 1450, 1200, 1000, 900);
    dp_error err = {0};
    DP_ASSERT_OK(dp_cmd_report(run, &err), &err);
    char path[4096];
    snprintf(path, sizeof path, "%s/report.html", run);
    size_t n = 0;
    char *h = tr_read(path, &n);
    printf("report of 1,500 columns: %zu bytes (libpng %s)\n", n,
           dp__png_available() ? "yes" : "no");
    DP_ASSERT_CMP_INT(n, <, 10 * 1000 * 1000);
    tr_check_structure(h);
    tr_check_offline(h);
    DP_ASSERT_EQ_INT(tr_count(h, "<figure class=\"hm\""), 3);
    DP_ASSERT_EQ_INT(tr_count(h, "<tr class=\"alt-row\""), 900);
    DP_ASSERT_EQ_INT(tr_count(h, "<tr class=\"u-row\""), 50);
    /* The downsampling factor is stated: 1,450 > 600 pixels -> factor 3; 1,000 > 460 -> 3. */
    if (dp__png_available()) {
        DP_ASSERT_CONTAINS(h, "max-pooling with factor 3: each of the 484 &times; 484 pixels");
        DP_ASSERT_CONTAINS(h, "max-pooling with factor 3: each of the 334 &times; 334 pixels");
#if DP_HAVE_PNG
        int32_t w = 0, ht = 0;
        uint8_t *rgb = tr_png_at(h, 1, &w, &ht);
        DP_ASSERT_EQ_INT(w, 334);
        DP_ASSERT_EQ_INT(ht, 334);
        free(rgb);
#endif
    } else {
        DP_ASSERT_CONTAINS(h, "max-pooling with factor 13");
    }
    /* The scatter switched to the density view with the notable pairs on top. */
    DP_ASSERT_CONTAINS(h, "density of all pairs");
    DP_ASSERT_CMP_INT(tr_count(h, "<circle"), <=, 3000 + 1000);
    dp_free(h);
}
