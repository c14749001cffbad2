/* dpipe gen: determinism (values independent of files, row-group size and fill boundaries), the
 * planted relations checked against truth.json with naive statistics, small column counts, and
 * the refusal of stale part files. */
#include "dp_test.h"
#include "dpipe/dp_commands.h"
#include "parquet/pq_codec.h"
#include "parquet/pq_reader.h"
#include "parquet/pq_types.h"
#include "pipeline/dp_gen.h"
#include "util/dp_json.h"

#include <sys/stat.h>

/* ---- helpers ------------------------------------------------------------------------------- */

/* A whole dataset read back: per column, all rows of all files as doubles (ints converted
 * exactly while |x| < 2^53), validity, and the mol_id strings. */
typedef struct gdata {
    int64_t n;
    int32_t p; /* columns including mol_id */
    char **names;
    double **x;
    uint8_t **valid;
    char **ids;
} gdata;

static void gdata_free(gdata *d) {
    for (int32_t k = 0; k < d->p; k++) {
        free(d->names[k]);
        free(d->x[k]);
        free(d->valid[k]);
    }
    for (int64_t i = 0; i < d->n; i++)
        free(d->ids[i]);
    free(d->names);
    free(d->x);
    free(d->valid);
    free(d->ids);
}

static gdata read_dir(const char *dir, int32_t files) {
    gdata d = {0};
    dp_error err = {0};
    dp_pq_decoder *dec = NULL;
    DP_ASSERT_OK(dp_pq_decoder_create(NULL, &dec, &err), &err);
    dp_pq_values v;
    dp_pq_values_init(&v);
    int64_t cap = 0;
    for (int32_t f = 0; f < files; f++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/part-%05d.parquet", dir, f);
        dp_pq_file *pf = NULL;
        DP_ASSERT_OK(dp_pq_file_open(path, &pf, &err), &err);
        if (f == 0) {
            d.p = dp_pq_file_n_columns(pf);
            d.names = calloc((size_t) d.p, sizeof *d.names);
            d.x = calloc((size_t) d.p, sizeof *d.x);
            d.valid = calloc((size_t) d.p, sizeof *d.valid);
            for (int32_t k = 0; k < d.p; k++)
                d.names[k] = strdup(dp_pq_file_column(pf, k)->path);
        }
        DP_ASSERT_EQ_INT(dp_pq_file_n_columns(pf), d.p);
        int64_t need = d.n + dp_pq_file_n_rows(pf);
        if (need > cap) {
            cap = need * 2 + 16;
            for (int32_t k = 0; k < d.p; k++) {
                d.x[k] = realloc(d.x[k], (size_t) cap * sizeof(double));
                d.valid[k] = realloc(d.valid[k], (size_t) cap);
            }
            d.ids = realloc(d.ids, (size_t) cap * sizeof(char *));
        }
        int64_t row0 = d.n;
        for (int32_t rg = 0; rg < dp_pq_file_n_row_groups(pf); rg++) {
            int64_t rows = dp_pq_file_row_group_rows(pf, rg);
            for (int32_t k = 0; k < d.p; k++) {
                DP_ASSERT_OK(dp_pq_read_values(dec, pf, rg, k, &v, &err), &err);
                const dp_pq_column_desc *c = dp_pq_file_column(pf, k);
                for (int64_t i = 0; i < rows; i++) {
                    d.valid[k][row0 + i] = v.valid.data[i];
                    if (k == 0) {
                        const int64_t *o = (const int64_t *) v.offsets.data;
                        d.ids[row0 + i] =
                            strndup((const char *) v.heap.data + o[i], (size_t) (o[i + 1] - o[i]));
                        d.x[k][row0 + i] = 0;
                    } else {
                        d.x[k][row0 + i] = dp_pq_value_to_double(&v, c, i);
                    }
                }
            }
            row0 += rows;
        }
        d.n = row0;
        dp_pq_file_free(pf);
    }
    dp_pq_values_reset(&v);
    dp_pq_decoder_free(dec);
    return d;
}

static int32_t col_of(const gdata *d, const char *name) {
    for (int32_t k = 0; k < d->p; k++)
        if (strcmp(d->names[k], name) == 0)
            return k;
    DP_FAILF("no column %s", name);
}

static const char *sub_dir(const char *name) {
    static char buf[4][1024];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, 1024, "%s/%s", dp_test_tmp_dir(), name);
    return b;
}

/* The codec when this build can write it, else none (minimal builds). */
static const char *codec_or_none(const char *name, int id) {
    return dp_pq_codec_can_compress(id) ? name : "none";
}

static void run_gen(const char *dir, int64_t rows, int32_t cols, int32_t files, int64_t rg,
                    double missing, const char *codec) {
    dp_gen_options o = {.out_dir = dir,
                        .rows = rows,
                        .cols = cols,
                        .files = files,
                        .seed = 7,
                        .missing = missing,
                        .row_group_rows = rg,
                        .codec = codec};
    dp_error err = {0};
    DP_ASSERT_OK(dp_cmd_gen(&o, &err), &err);
}

/* ---- determinism --------------------------------------------------------------------------- */

DP_TEST(gen_independent_of_files_and_row_groups) {
    const char *a = sub_dir("a"), *b = sub_dir("b");
    run_gen(a, 9000, 60, 1, 0, 0.05, "none");
    run_gen(b, 9000, 60, 4, 777, 0.05, codec_or_none("zstd", DP_PQ_CODEC_ZSTD));
    gdata da = read_dir(a, 1), db = read_dir(b, 4);
    DP_ASSERT_EQ_INT(da.n, 9000);
    DP_ASSERT_EQ_INT(db.n, 9000);
    DP_ASSERT_EQ_INT(da.p, 61);
    DP_ASSERT_EQ_INT(db.p, 61);
    for (int32_t k = 0; k < da.p; k++) {
        DP_ASSERT_STREQ(da.names[k], db.names[k]);
        DP_ASSERT_MEMEQ(da.valid[k], db.valid[k], (size_t) da.n);
        DP_ASSERT_MEMEQ(da.x[k], db.x[k], (size_t) da.n * 8);
    }
    for (int64_t i = 0; i < da.n; i++) {
        DP_ASSERT_STREQ(da.ids[i], db.ids[i]);
        char want[32];
        snprintf(want, sizeof want, "MOL%09lld", (long long) i);
        DP_ASSERT_STREQ(da.ids[i], want);
    }
    gdata_free(&da);
    gdata_free(&db);
}

DP_TEST(gen_fill_independent_of_boundaries) {
    /* Rows 4000..4199 straddle a random block: one fill vs. pieces of 7 rows. */
    dp_gen_config cfg = {80, 99, 0.1};
    dp_gen *g = NULL;
    dp_error err = {0};
    DP_ASSERT_OK(dp_gen_create(&cfg, &g, &err), &err);
    int32_t p = dp_gen_n_columns(g);
    const dp_pq_write_column *cols = dp_gen_columns(g);
    double *whole = calloc((size_t) p * 200, sizeof(double));
    const dp_pq_column_data *v = NULL;
    DP_ASSERT_OK(dp_gen_fill(g, 4000, 96, &v, &err), &err);
    for (int32_t k = 1; k < p; k++)
        memcpy(whole + (size_t) k * 200, v[k].values, 96 * 8);
    DP_ASSERT_OK(dp_gen_fill(g, 4096, 104, &v, &err), &err);
    for (int32_t k = 1; k < p; k++)
        memcpy(whole + (size_t) k * 200 + 96, v[k].values, 104 * 8);
    for (int64_t r = 4000; r < 4200; r += 7) {
        int64_t n = DP_MIN(7, 4200 - r);
        DP_ASSERT_OK(dp_gen_fill(g, r, n, &v, &err), &err);
        for (int32_t k = 1; k < p; k++)
            DP_ASSERT_MEMEQ(v[k].values, whole + (size_t) k * 200 + (r - 4000), (size_t) n * 8);
        const int64_t *o = v[0].offsets;
        char want[32];
        snprintf(want, sizeof want, "MOL%09lld", (long long) r);
        DP_ASSERT_EQ_INT(o[1] - o[0], (int64_t) strlen(want));
        DP_ASSERT_MEMEQ(v[0].bytes + o[0], want, strlen(want));
    }
    DP_ASSERT_STATUS(dp_gen_fill(g, 0, 0, &v, &err), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_gen_fill(g, 0, DP_GEN_FILL_MAX + 1, &v, &err), DP_INVALID_ARG);
    (void) cols;
    free(whole);
    dp_gen_free(g);
}

/* ---- planted relations --------------------------------------------------------------------- */

static double mean_of(const double *x, int64_t n) {
    long double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += x[i];
    return (double) (s / n);
}

static double pearson(const double *x, const double *y, int64_t n) {
    double mx = mean_of(x, n), my = mean_of(y, n);
    long double sxy = 0, sxx = 0, syy = 0;
    for (int64_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return (double) (sxy / sqrtl(sxx * syy));
}

static const double *sort_key;
static int cmp_idx(const void *a, const void *b) {
    double x = sort_key[*(const int64_t *) a], y = sort_key[*(const int64_t *) b];
    return x < y ? -1 : x > y ? 1 : 0;
}

static int64_t count_if(const double *x, int64_t n, int (*pred)(double)) {
    int64_t c = 0;
    for (int64_t i = 0; i < n; i++)
        c += pred(x[i]);
    return c;
}
static int is_nan(double x) {
    return isnan(x);
}
static int is_pinf(double x) {
    return x == INFINITY;
}
static int is_ninf(double x) {
    return x == -INFINITY;
}
static int is_nonzero(double x) {
    return x != 0;
}
static int is_big(double x) {
    return fabs(x) > 10;
}

DP_TEST(gen_planted_relations_hold) {
    const char *dir = sub_dir("rel");
    const int64_t n = 12000;
    const double miss = 0.05;
    run_gen(dir, n, 130, 2, 0, miss, NULL);
    char tpath[1200];
    snprintf(tpath, sizeof tpath, "%s/truth.json", dir);
    dp_json *t = NULL;
    dp_error err = {0};
    DP_ASSERT_OK(dp_json_parse_file(tpath, 1 << 24, &t, &err), &err);
    gdata d = read_dir(dir, 2);
    DP_ASSERT_EQ_INT(d.n, n);
    DP_ASSERT_EQ_INT(dp_json_number(dp_json_get(t, "rows")), n);
    DP_ASSERT_EQ_INT(dp_json_number(dp_json_get(t, "cols")), 130);
    const dp_json *cols = dp_json_get(t, "columns");
    DP_ASSERT_EQ_INT(cols->n, 130);
    for (size_t k = 0; k < cols->n; k++)
        DP_ASSERT_STREQ(dp_json_string(dp_json_get(dp_json_at(cols, k), "name")), d.names[k + 1]);
    const dp_json *rels = dp_json_get(t, "relations");
    int *covered = calloc(131, sizeof(int));
    int seen_types = 0;
    int64_t *idx = malloc((size_t) n * sizeof *idx);
    for (size_t r = 0; r < rels->n; r++) {
        const dp_json *rel = dp_json_at(rels, r);
        const char *type = dp_json_string(dp_json_get(rel, "type"));
        const dp_json *mem = dp_json_get(rel, "members");
        int32_t m[8] = {0};
        for (size_t q = 0; q < mem->n; q++) {
            int32_t k = col_of(&d, dp_json_string(dp_json_at(mem, q)));
            covered[k]++;
            if (q < 8)
                m[q] = k;
        }
        double *x0 = d.x[m[0]], *x1 = mem->n > 1 ? d.x[m[1]] : NULL;
        if (strcmp(type, "duplicate") == 0) {
            DP_ASSERT_MEMEQ(x0, x1, (size_t) n * 8);
            seen_types |= 1;
        } else if (strcmp(type, "monotone") == 0) {
            /* Ranks agree: sorted by member 0, every other member is non-decreasing. */
            for (int64_t i = 0; i < n; i++)
                idx[i] = i;
            sort_key = x0;
            qsort(idx, (size_t) n, sizeof *idx, cmp_idx);
            for (size_t q = 1; q < mem->n; q++)
                for (int64_t i = 1; i < n; i++)
                    DP_ASSERT_TRUE(d.x[m[q]][idx[i - 1]] <= d.x[m[q]][idx[i]]);
            seen_types |= 2;
        } else if (strcmp(type, "linear_combination") == 0) {
            /* c - a - 2b ~ N(0, 0.01^2): sd within 10 % (the standard error of a standard
             * deviation from 12,000 draws is 0.65 %), no residual beyond 6 sd. */
            double *c = d.x[m[2]];
            long double ss = 0;
            for (int64_t i = 0; i < n; i++) {
                double e = c[i] - x0[i] - 2 * x1[i];
                DP_ASSERT_TRUE(fabs(e) < 0.06);
                ss += (long double) e * e;
            }
            DP_ASSERT_NEAR(sqrt((double) (ss / n)), 0.01, 0.001);
            seen_types |= 4;
        } else if (strcmp(type, "nonlinear") == 0) {
            const char *fn = dp_json_string(dp_json_get(rel, "function"));
            for (int64_t i = 0; i < n; i++) {
                if (strcmp(fn, "square") == 0)
                    DP_ASSERT_BITS_EQ(x1[i], x0[i] * x0[i]);
                else if (strcmp(fn, "sin3x") == 0)
                    DP_ASSERT_BITS_EQ(x1[i], sin(3 * x0[i]));
                else
                    DP_ASSERT_NEAR(x0[i] * x0[i] + x1[i] * x1[i], 1.0, 1e-15);
            }
            /* Linear correlation is near zero (|r| < 0.1: the population values are 0, 0 and
             * 0.047; the standard error at n = 12,000 is 0.009). */
            DP_ASSERT_TRUE(fabs(pearson(x0, x1, n)) < 0.1);
            seen_types |= 8;
        } else if (strcmp(type, "correlated") == 0) {
            /* Population r = 1/1.09 = 0.917; standard error (1 - r^2)/sqrt(n) = 0.0015. */
            for (size_t q = 1; q < mem->n; q++)
                DP_ASSERT_NEAR(pearson(x0, d.x[m[q]], n), 1 / 1.09, 0.01);
            seen_types |= 16;
        } else if (strcmp(type, "counts") == 0) {
            double lambda = dp_json_number(dp_json_get(rel, "lambda"));
            for (int64_t i = 0; i < n; i++)
                DP_ASSERT_TRUE(x0[i] >= 0 && x0[i] == floor(x0[i]) && x0[i] < 40);
            /* Mean within 6 standard errors sqrt(lambda / n). */
            DP_ASSERT_NEAR(mean_of(x0, n), lambda, 6 * sqrt(lambda / (double) n));
            seen_types |= 32;
        } else if (strcmp(type, "near_constant") == 0) {
            /* 1 % nonzero: 120 of 12,000 expected, sd 11; well under the 2 % definition. */
            double frac = (double) count_if(x0, n, is_nonzero) / (double) n;
            DP_ASSERT_TRUE(frac > 0.006 && frac < 0.014);
            seen_types |= 64;
        } else if (strcmp(type, "constant") == 0) {
            for (int64_t i = 0; i < n; i++)
                DP_ASSERT_TRUE(x0[i] == 1.0);
            seen_types |= 128;
        } else if (strcmp(type, "missing") == 0) {
            const char *kind = dp_json_string(dp_json_get(rel, "kind"));
            int64_t c;
            if (strcmp(kind, "null") == 0) {
                c = 0;
                for (int64_t i = 0; i < n; i++)
                    c += !d.valid[m[0]][i];
            } else if (strcmp(kind, "nan") == 0) {
                c = count_if(x0, n, is_nan);
            } else {
                int64_t pi = count_if(x0, n, is_pinf), ni = count_if(x0, n, is_ninf);
                DP_ASSERT_TRUE(pi > 0 && ni > 0);
                c = pi + ni;
            }
            /* 5 % of 12,000 = 600, sd 24: within 0.05 +- 0.01. */
            DP_ASSERT_NEAR((double) c / (double) n, miss, 0.01);
            seen_types |= 256;
        } else if (strcmp(type, "heavy_tail") == 0) {
            const char *dist = dp_json_string(dp_json_get(rel, "distribution"));
            if (strcmp(dist, "cauchy") == 0) {
                /* P(|X| > 10) = 2 atan(0.1) / pi = 0.0635 for the standard Cauchy. */
                DP_ASSERT_NEAR((double) count_if(x0, n, is_big) / (double) n, 0.0635, 0.015);
            } else {
                long double sl = 0;
                for (int64_t i = 0; i < n; i++) {
                    DP_ASSERT_TRUE(x0[i] > 0);
                    sl += logl(x0[i]);
                }
                DP_ASSERT_NEAR((double) (sl / n), 0.0, 0.1); /* mean of 1.5 z: sd 0.014 */
            }
            seen_types |= 512;
        } else if (strcmp(type, "noise") == 0) {
            for (size_t q = 0; q < mem->n && q < 8; q++)
                for (int64_t i = 0; i < n; i++)
                    DP_ASSERT_TRUE(isfinite(d.x[m[q]][i]));
            seen_types |= 1024;
        }
    }
    DP_ASSERT_EQ_INT(seen_types, 2047);
    /* Every descriptor column belongs to exactly one relation. */
    for (int32_t k = 1; k <= 130; k++)
        DP_ASSERT_EQ_INT(covered[k], 1);
    free(idx);
    free(covered);
    gdata_free(&d);
    dp_json_free(t);
}

DP_TEST(gen_small_column_counts) {
    /* P = 1, 5, 27: what fits is planted, the rest is noise; truth.json stays consistent. */
    static const int32_t ps[3] = {1, 5, 27};
    for (int i = 0; i < 3; i++) {
        char name[32];
        snprintf(name, sizeof name, "p%d", ps[i]);
        const char *dir = sub_dir(name);
        run_gen(dir, 50, ps[i], 1, 0, 0.0, codec_or_none("snappy", DP_PQ_CODEC_SNAPPY));
        gdata d = read_dir(dir, 1);
        DP_ASSERT_EQ_INT(d.p, ps[i] + 1);
        DP_ASSERT_EQ_INT(d.n, 50);
        char tpath[1200];
        snprintf(tpath, sizeof tpath, "%s/truth.json", dir);
        dp_json *t = NULL;
        dp_error err = {0};
        DP_ASSERT_OK(dp_json_parse_file(tpath, 1 << 24, &t, &err), &err);
        const dp_json *rels = dp_json_get(t, "relations");
        int32_t total = 0;
        for (size_t r = 0; r < rels->n; r++) {
            const dp_json *mem = dp_json_get(dp_json_at(rels, r), "members");
            total += (int32_t) mem->n;
            for (size_t q = 0; q < mem->n; q++)
                (void) col_of(&d, dp_json_string(dp_json_at(mem, q)));
        }
        DP_ASSERT_EQ_INT(total, ps[i]);
        if (ps[i] == 27) /* every module fits exactly: no noise relation */
            DP_ASSERT_TRUE(
                strcmp(dp_json_string(dp_json_get(dp_json_at(rels, rels->n - 1), "type")),
                       "noise") != 0);
        dp_json_free(t);
        gdata_free(&d);
    }
}

DP_TEST(gen_refuses_stale_parts_and_bad_options) {
    const char *dir = sub_dir("stale");
    run_gen(dir, 100, 10, 3, 0, 0.05, NULL);
    dp_gen_options o = {.out_dir = dir, .rows = 100, .cols = 10, .files = 2, .seed = 7};
    dp_error err = {0};
    DP_ASSERT_STATUS(dp_cmd_gen(&o, &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "part-00002.parquet");
    o.files = 3;
    DP_ASSERT_OK(dp_cmd_gen(&o, &err), &err); /* same count: overwritten */
    o.codec = "lzo";
    DP_ASSERT_STATUS(dp_cmd_gen(&o, &err), DP_INVALID_ARG);
    o.codec = NULL;
    o.missing = 1.0;
    DP_ASSERT_STATUS(dp_cmd_gen(&o, &err), DP_INVALID_ARG);
    o.missing = 0;
    o.cols = 0;
    DP_ASSERT_STATUS(dp_cmd_gen(&o, &err), DP_INVALID_ARG);
    /* A file where the directory should be. */
    char fpath[1200];
    snprintf(fpath, sizeof fpath, "%s/part-00000.parquet", dir);
    o.cols = 10;
    o.out_dir = fpath;
    DP_ASSERT_STATUS(dp_cmd_gen(&o, &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "not a directory");
}
