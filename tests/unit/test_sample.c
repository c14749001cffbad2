/* dpipe sample: the rows written are exactly the chosen rows of each file (compared with the
 * inputs read back whole), a file's sample does not change when another file is added, schemas
 * are unified (missing columns NULL, integer/boolean/double/string outputs), only row groups
 * holding chosen rows are decoded (a corrupt unchosen row group does not matter), and failures
 * name the file and leave no output. */
#include "batch/dp_scan.h"
#include "dp_test.h"
#include "dpipe/dp_commands.h"
#include "parquet/pq_meta.h"
#include "parquet/pq_reader.h"
#include "parquet/pq_writer.h"

#include <sys/stat.h>
#include <unistd.h>

static const char *tpath(const char *name) {
    static char buf[6][1024];
    static int next;
    char *b = buf[next++ % 6];
    snprintf(b, 1024, "%s/%s", dp_test_tmp_dir(), name);
    return b;
}

/* Every column of a file as text cells (dpipe cat's formatting), row-major: rows x cols. */
typedef struct ftext {
    int64_t n;
    int32_t p;
    char **names;
    char **cell; /* NULL for NULL */
    int *type;   /* physical type per column */
} ftext;

static void ftext_free(ftext *t) {
    for (int64_t i = 0; i < t->n * t->p; i++)
        free(t->cell[i]);
    for (int32_t k = 0; k < t->p; k++)
        free(t->names[k]);
    free(t->cell);
    free(t->names);
    free(t->type);
}

static ftext read_text(const char *path) {
    ftext t = {0};
    dp_error err = {0};
    dp_pq_file *f = NULL;
    dp_pq_decoder *dec = NULL;
    DP_ASSERT_OK(dp_pq_file_open(path, &f, &err), &err);
    DP_ASSERT_OK(dp_pq_decoder_create(NULL, &dec, &err), &err);
    t.n = dp_pq_file_n_rows(f);
    t.p = dp_pq_file_n_columns(f);
    t.names = calloc((size_t) t.p, sizeof *t.names);
    t.type = calloc((size_t) t.p, sizeof *t.type);
    t.cell = calloc((size_t) (t.n * t.p + 1), sizeof *t.cell);
    for (int32_t k = 0; k < t.p; k++) {
        t.names[k] = strdup(dp_pq_file_column(f, k)->path);
        t.type[k] = dp_pq_file_column(f, k)->type;
    }
    dp_pq_values v;
    dp_pq_values_init(&v);
    dp_buf b;
    dp_buf_init(&b);
    int64_t row0 = 0;
    for (int32_t rg = 0; rg < dp_pq_file_n_row_groups(f); rg++) {
        int64_t rows = dp_pq_file_row_group_rows(f, rg);
        for (int32_t k = 0; k < t.p; k++) {
            DP_ASSERT_OK(dp_pq_read_values(dec, f, rg, k, &v, &err), &err);
            for (int64_t i = 0; i < rows; i++) {
                if (!v.valid.data[i])
                    continue;
                b.size = 0;
                DP_ASSERT_OK(dp_pq_value_format(&v, dp_pq_file_column(f, k), i, &b), NULL);
                t.cell[(row0 + i) * t.p + k] = strndup((const char *) b.data, b.size);
            }
        }
        row0 += rows;
    }
    dp_buf_reset(&b);
    dp_pq_values_reset(&v);
    dp_pq_decoder_free(dec);
    dp_pq_file_free(f);
    return t;
}

static const char *cell(const ftext *t, int64_t r, int32_t k) {
    return t->cell[r * t->p + k];
}

static void assert_cell(const char *got, const char *want, const char *what, long long r) {
    if ((got == NULL) != (want == NULL) || (got != NULL && strcmp(got, want) != 0))
        DP_FAILF("%s row %lld: \"%s\" vs \"%s\"", what, r, got ? got : "NULL",
                 want ? want : "NULL");
}

static void gen_dir(const char *dir, int64_t rows, int32_t files, int64_t rg) {
    dp_gen_options o = {.out_dir = dir,
                        .rows = rows,
                        .cols = 25,
                        .files = files,
                        .seed = 3,
                        .missing = 0.1,
                        .row_group_rows = rg};
    dp_error err = {0};
    DP_ASSERT_OK(dp_cmd_gen(&o, &err), &err);
}

static void run_sample(const char *const *in, int n_in, const char *out, int64_t k, uint64_t seed) {
    dp_sample_options o = {
        .output = out, .sample_per_file = k, .seed = seed, .row_group_rows = 256};
    dp_error err = {0};
    DP_ASSERT_OK(dp_cmd_sample(in, n_in, &o, &err), &err);
}

/* ---- the chosen rows, all columns ---------------------------------------------------------- */

DP_TEST(sample_writes_exactly_the_chosen_rows) {
    const char *dir = tpath("g");
    gen_dir(dir, 5000, 3, 700);
    const char *out = tpath("s.parquet");
    const char *in[1] = {dir};
    const int64_t K = 333;
    run_sample(in, 1, out, K, 11);
    ftext s = read_text(out);
    DP_ASSERT_EQ_INT(s.n, 3 * K);
    int64_t at = 0;
    for (int f = 0; f < 3; f++) {
        char base[64], path[1200];
        snprintf(base, sizeof base, "part-%05d.parquet", f);
        snprintf(path, sizeof path, "%s/%s", dir, base);
        ftext t = read_text(path);
        DP_ASSERT_EQ_INT(s.p, t.p);
        int64_t *rows = malloc((size_t) K * sizeof *rows);
        dp_scan_sample_rows(11, base, t.n, K, rows);
        /* The selection itself: K distinct rows in range, ascending. */
        for (int64_t i = 0; i < K; i++)
            DP_ASSERT_TRUE(rows[i] >= 0 && rows[i] < t.n && (i == 0 || rows[i] > rows[i - 1]));
        for (int64_t i = 0; i < K; i++)
            for (int32_t k = 0; k < t.p; k++) {
                DP_ASSERT_STREQ(s.names[k], t.names[k]);
                assert_cell(cell(&s, at + i, k), cell(&t, rows[i], k), t.names[k], (long long) i);
            }
        at += K;
        free(rows);
        ftext_free(&t);
    }
    /* Integral INT64 counts stay INT64, doubles DOUBLE, mol_id STRING. */
    for (int32_t k = 0; k < s.p; k++)
        DP_ASSERT_TRUE(s.type[k] == DP_PQ_INT64 || s.type[k] == DP_PQ_DOUBLE ||
                       (k == 0 && s.type[k] == DP_PQ_BYTE_ARRAY));
    ftext_free(&s);
    /* Same inputs and seed: identical bytes. */
    const char *out2 = tpath("s2.parquet");
    run_sample(in, 1, out2, K, 11);
    FILE *a = fopen(out, "rb"), *b = fopen(out2, "rb");
    int ca, cb;
    do {
        ca = fgetc(a);
        cb = fgetc(b);
        DP_ASSERT_EQ_INT(ca, cb);
    } while (ca != EOF);
    fclose(a);
    fclose(b);
}

DP_TEST(sample_other_files_unchanged_by_an_added_file) {
    const char *dir = tpath("g");
    gen_dir(dir, 3000, 2, 0);
    const char *extra = tpath("a_extra.parquet"); /* sorts before dir/... */
    char src[1200];
    snprintf(src, sizeof src, "%s/part-00001.parquet", dir);
    FILE *fi = fopen(src, "rb"), *fo = fopen(extra, "wb");
    int c;
    while ((c = fgetc(fi)) != EOF)
        fputc(c, fo);
    fclose(fi);
    fclose(fo);
    const int64_t K = 100;
    const char *in1[1] = {dir};
    const char *in2[2] = {dir, extra};
    run_sample(in1, 1, tpath("one.parquet"), K, 5);
    run_sample(in2, 2, tpath("two.parquet"), K, 5);
    ftext a = read_text(tpath("one.parquet")), b = read_text(tpath("two.parquet"));
    DP_ASSERT_EQ_INT(a.n, 2 * K);
    DP_ASSERT_EQ_INT(b.n, 3 * K);
    /* b = extra's rows, then the two parts exactly as in a. */
    for (int64_t i = 0; i < 2 * K; i++)
        for (int32_t k = 0; k < a.p; k++)
            assert_cell(cell(&b, K + i, k), cell(&a, i, k), a.names[k], (long long) i);
    /* The copy has another base name, hence another sample of the same rows. */
    int same = 0;
    for (int64_t i = 0; i < K; i++)
        same += strcmp(cell(&b, i, 0), cell(&a, K + i, 0)) == 0;
    DP_ASSERT_TRUE(same < K);
    ftext_free(&a);
    ftext_free(&b);
}

/* ---- schema unification -------------------------------------------------------------------- */

DP_TEST(sample_unifies_schemas) {
    /* f1: id, a INT32, b DOUBLE, flag BOOLEAN, s STRING
     * f2: id, a INT64, b INT32, c DOUBLE, flag BOOLEAN, s STRING (3 rows, one NULL s) */
    const char *f1 = tpath("f1.parquet"), *f2 = tpath("f2.parquet");
    dp_error err = {0};
    dp_pq_writer *w = NULL;
    const dp_pq_write_column c1[5] = {{"id", DP_PQ_BYTE_ARRAY, true, false, false},
                                      {"a", DP_PQ_INT32, false, false, false},
                                      {"b", DP_PQ_DOUBLE, false, true, false},
                                      {"flag", DP_PQ_BOOLEAN, false, false, false},
                                      {"s", DP_PQ_BYTE_ARRAY, true, true, false}};
    const char ids1[] = "r0r1";
    const int64_t io1[3] = {0, 2, 4};
    const int32_t a1[2] = {-7, 2147483647};
    const double b1[2] = {0.5, -1e300};
    const uint8_t fl1[2] = {1, 0};
    const char s1[] = "x\ty\xc3\xa9";
    const int64_t so1[3] = {0, 5, 5};
    dp_pq_column_data d1[5] = {{NULL, io1, (const uint8_t *) ids1, NULL},
                               {a1, NULL, NULL, NULL},
                               {b1, NULL, NULL, NULL},
                               {fl1, NULL, NULL, NULL},
                               {NULL, so1, (const uint8_t *) s1, NULL}};
    DP_ASSERT_OK(dp_pq_writer_create(f1, c1, 5, NULL, &w, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_append(w, d1, 2, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_close(w, &err), &err);
    dp_pq_writer_free(w);
    const dp_pq_write_column c2[6] = {
        {"id", DP_PQ_BYTE_ARRAY, true, false, false}, {"a", DP_PQ_INT64, false, false, false},
        {"b", DP_PQ_INT32, false, false, false},      {"c", DP_PQ_DOUBLE, false, false, false},
        {"flag", DP_PQ_BOOLEAN, false, false, false}, {"s", DP_PQ_BYTE_ARRAY, true, true, false}};
    const char ids2[] = "q0q1q2";
    const int64_t io2[4] = {0, 2, 4, 6};
    const int64_t a2[3] = {INT64_MIN, 0, 9007199254740993LL};
    const int32_t b2[3] = {1, 2, 3};
    const double cc2[3] = {NAN, INFINITY, -0.0};
    const uint8_t fl2[3] = {0, 0, 1};
    const char s2[] = "ab";
    const int64_t so2[4] = {0, 0, 2, 2};
    const uint8_t sv2[3] = {1, 1, 0};
    dp_pq_column_data d2[6] = {{NULL, io2, (const uint8_t *) ids2, NULL},
                               {a2, NULL, NULL, NULL},
                               {b2, NULL, NULL, NULL},
                               {cc2, NULL, NULL, NULL},
                               {fl2, NULL, NULL, NULL},
                               {NULL, so2, (const uint8_t *) s2, sv2}};
    DP_ASSERT_OK(dp_pq_writer_create(f2, c2, 6, NULL, &w, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_append(w, d2, 3, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_close(w, &err), &err);
    dp_pq_writer_free(w);

    const char *in[2] = {f2, f1}; /* sorted by the dataset: f1 first */
    const char *out = tpath("u.parquet");
    run_sample(in, 2, out, 10, 1); /* K >= rows: whole files */
    ftext t = read_text(out);
    DP_ASSERT_EQ_INT(t.n, 5);
    DP_ASSERT_EQ_INT(t.p, 6);
    static const char *const names[6] = {"id", "a", "b", "flag", "s", "c"};
    static const int types[6] = {DP_PQ_BYTE_ARRAY, DP_PQ_INT64,      DP_PQ_DOUBLE,
                                 DP_PQ_BOOLEAN,    DP_PQ_BYTE_ARRAY, DP_PQ_DOUBLE};
    for (int k = 0; k < 6; k++) {
        DP_ASSERT_STREQ(t.names[k], names[k]);
        DP_ASSERT_EQ_INT(t.type[k], types[k]);
    }
    static const char *const want[5][6] = {
        {"r0", "-7", "0.5", "true", "x\\ty\xc3\xa9", NULL},
        {"r1", "2147483647", "-1.0000000000000001e+300", "false", "", NULL},
        {"q0", "-9223372036854775808", "1", "false", "", "nan"},
        {"q1", "0", "2", "false", "ab", "inf"},
        {"q2", "9007199254740993", "3", "true", NULL, "-0"},
    };
    for (int64_t r = 0; r < 5; r++)
        for (int k = 0; k < 6; k++)
            assert_cell(cell(&t, r, k), want[r][k], names[k], (long long) r);
    ftext_free(&t);
}

/* ---- row groups decoded only when needed; errors ------------------------------------------- */

/* Flip one byte in the middle of the first data page of column `col`, row group `rg`. */
static void corrupt_chunk(const char *path, int32_t rg, int32_t col) {
    dp_error err = {0};
    dp_pq_file *f = NULL;
    DP_ASSERT_OK(dp_pq_file_open(path, &f, &err), &err);
    const dp_pq_column_meta *cm = &dp_pq_file_metadata(f)->row_groups[rg].columns[col].meta;
    int64_t at = cm->data_page_offset + cm->total_compressed_size / 2;
    dp_pq_file_free(f);
    FILE *fp = fopen(path, "r+b");
    DP_ASSERT_TRUE(fp != NULL);
    fseek(fp, (long) at, SEEK_SET);
    int c = fgetc(fp);
    fseek(fp, (long) at, SEEK_SET);
    fputc(c ^ 0x5a, fp);
    fclose(fp);
}

DP_TEST(sample_decodes_only_chosen_row_groups_and_names_bad_files) {
    const char *dir = tpath("g");
    gen_dir(dir, 4000, 1, 100); /* 40 row groups of 100 rows */
    char path[1200];
    snprintf(path, sizeof path, "%s/part-00000.parquet", dir);
    const int64_t K = 3;
    int64_t rows[3];
    dp_scan_sample_rows(9, "part-00000.parquet", 4000, K, rows);
    int32_t unchosen = -1;
    for (int32_t rg = 0; rg < 40 && unchosen < 0; rg++) {
        bool hit = false;
        for (int i = 0; i < K; i++)
            hit = hit || rows[i] / 100 == rg;
        if (!hit)
            unchosen = rg;
    }
    DP_ASSERT_TRUE(unchosen >= 0);
    corrupt_chunk(path, unchosen, 3);
    const char *in[1] = {dir};
    const char *out = tpath("ok.parquet");
    run_sample(in, 1, out, K, 9); /* the damaged row group is never read */
    ftext t = read_text(out);
    DP_ASSERT_EQ_INT(t.n, K);
    for (int i = 0; i < K; i++) {
        char want[32];
        snprintf(want, sizeof want, "MOL%09lld", (long long) rows[i]);
        DP_ASSERT_STREQ(cell(&t, i, 0), want);
    }
    ftext_free(&t);
    /* Damage a chosen row group: the command fails naming the file; no output appears. */
    corrupt_chunk(path, (int32_t) (rows[1] / 100), 3);
    const char *bad = tpath("bad.parquet");
    dp_sample_options o = {.output = bad, .sample_per_file = K, .seed = 9};
    dp_error err = {0};
    dp_status st = dp_cmd_sample(in, 1, &o, &err);
    DP_ASSERT_TRUE(st == DP_CORRUPT || st == DP_TRUNCATED);
    DP_ASSERT_CONTAINS(err.msg, path);
    struct stat sb;
    DP_ASSERT_TRUE(stat(bad, &sb) != 0);
}

DP_TEST(sample_refuses_bad_arguments) {
    const char *dir = tpath("g");
    gen_dir(dir, 100, 1, 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/part-00000.parquet", dir);
    const char *in[1] = {dir};
    dp_error err = {0};
    dp_sample_options o = {.output = path, .sample_per_file = 5};
    DP_ASSERT_STATUS(dp_cmd_sample(in, 1, &o, &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "also an input");
    o.output = tpath("x.parquet");
    o.sample_per_file = 0;
    DP_ASSERT_STATUS(dp_cmd_sample(in, 1, &o, &err), DP_INVALID_ARG);
    o.sample_per_file = 5;
    o.codec = "bogus";
    DP_ASSERT_STATUS(dp_cmd_sample(in, 1, &o, &err), DP_INVALID_ARG);
    o.codec = NULL;
    const char *missing[1] = {tpath("nope.parquet")};
    DP_ASSERT_TRUE(dp_cmd_sample(missing, 1, &o, &err) != DP_OK);
    DP_ASSERT_CONTAINS(err.msg, "nope.parquet");
}
