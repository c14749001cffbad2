/* Datasets and scans: schema unification, column selection, the three scan modes, batch
 * boundaries, thread-count invariance, and memory that does not grow with the input. */
#include "batch/dp_scan.h"
#include "dp_test.h"
#include "parquet/pq_codec.h"
#include "util/dp_alloc.h"

#include <sys/stat.h>
#include <unistd.h>

#define GEN "tests/data/shared/generated/"

/* The corpus files used here are ZSTD and SNAPPY compressed. */
static void require_codecs(void) {
    if (!dp_pq_codec_available(DP_PQ_CODEC_ZSTD) || !dp_pq_codec_available(DP_PQ_CODEC_SNAPPY))
        DP_SKIP("this build lacks zstd or snappy, which the test files use");
}

static dp_dataset *open_ds(const char *const *inputs, int n) {
    dp_dataset *ds = NULL;
    dp_error err;
    DP_ASSERT_OK(dp_dataset_open(inputs, n, &ds, &err), &err);
    return ds;
}

DP_TEST(dataset_unifies_schemas_by_name) {
    require_codecs();
    /* schema_b lacks z, has y as BIGINT (INTEGER in a), adds extra, orders columns differently. */
    const char *in[] = {dp_test_path(GEN "duckdb_schema_b.parquet"),
                        dp_test_path(GEN "duckdb_schema_a.parquet")};
    dp_dataset *ds = open_ds(in, 2);
    DP_ASSERT_EQ_INT(dp_dataset_n_files(ds), 2);
    /* Sorted: schema_a first. */
    DP_ASSERT_CONTAINS(dp_dataset_file_at(ds, 0)->path, "schema_a");
    DP_ASSERT_EQ_INT(dp_dataset_n_rows(ds), 300 + 450);
    DP_ASSERT_EQ_INT(dp_dataset_n_columns(ds), 6); /* mol_id x y z w extra */
    int32_t z = dp_dataset_find_column(ds, "z");
    int32_t extra = dp_dataset_find_column(ds, "extra");
    DP_ASSERT_TRUE(z >= 0 && extra >= 0);
    DP_ASSERT_TRUE(dp_dataset_file_has_column(ds, 0, z));
    DP_ASSERT_TRUE(!dp_dataset_file_has_column(ds, 1, z));
    DP_ASSERT_TRUE(!dp_dataset_file_has_column(ds, 0, extra));
    DP_ASSERT_EQ_INT(dp_dataset_file_at(ds, 1)->n_missing_cols, 1);
    DP_ASSERT_TRUE(dp_dataset_column_at(ds, dp_dataset_find_column(ds, "y"))->numeric);
    DP_ASSERT_TRUE(!dp_dataset_column_at(ds, dp_dataset_find_column(ds, "mol_id"))->numeric);

    /* Selection: mol_id is not numeric; --exclude and --columns patterns. */
    dp_selection sel;
    dp_error err;
    DP_ASSERT_OK(dp_dataset_select(ds, NULL, &sel, &err), &err);
    DP_ASSERT_EQ_INT(sel.n, 5);
    DP_ASSERT_EQ_INT(sel.n_skipped, 1);
    DP_ASSERT_STREQ(sel.skipped[0].why, "not numeric");
    dp_selection_reset(&sel);
    const char *ex[] = {"e*"};
    dp_select_options o = {.n_metadata = 1, .exclude = ex, .n_exclude = 1};
    DP_ASSERT_OK(dp_dataset_select(ds, &o, &sel, &err), &err);
    DP_ASSERT_EQ_INT(sel.n, 4);
    DP_ASSERT_STREQ(sel.skipped[0].why, "metadata");
    dp_selection_reset(&sel);

    /* Scan z and extra: missing in one file each, read as NULL for that file's rows. */
    int32_t cols[2] = {z, extra};
    dp_scan_options so = {.batch_rows = 100, .threads = 2};
    dp_scan *s = NULL;
    DP_ASSERT_OK(dp_scan_open(ds, cols, 2, &so, &s, &err), &err);
    const dp_batch *b;
    int64_t rows = 0, null_z = 0, null_extra = 0;
    while (1) {
        DP_ASSERT_OK(dp_scan_next(s, &b, &err), &err);
        if (b == NULL)
            break;
        DP_ASSERT_EQ_INT(b->row_offset, rows);
        DP_ASSERT_CMP_INT(b->n_rows, <=, 100);
        rows += b->n_rows;
        null_z += b->counts[0].n_null;
        null_extra += b->counts[1].n_null;
    }
    DP_ASSERT_EQ_INT(rows, 750);
    DP_ASSERT_CMP_INT(null_z, >=, 450);     /* all of schema_b's rows, plus z's own NULLs */
    DP_ASSERT_CMP_INT(null_extra, >=, 300); /* all of schema_a's rows */
    dp_scan_free(s);
    dp_dataset_free(ds);
}

DP_TEST(dataset_rejects_conflicting_types_and_empty_input) {
    dp_dataset *ds = NULL;
    dp_error err;
    DP_ASSERT_STATUS(dp_dataset_open(NULL, 0, &ds, &err), DP_INVALID_ARG);
    const char *none[] = {"/nonexistent/dir/*.parquet"};
    DP_ASSERT_STATUS(dp_dataset_open(none, 1, &ds, &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "no file matches");
    /* smiles is text in mixed files; d_val is DOUBLE. A file where a column has the other kind:
     * schema_a's mol_id is text — pair it with a file whose mol_id is numeric? None in the corpus,
     * so use wide (mol_id text) + mixed (mol_id text): compatible, must open. */
    const char *ok[] = {dp_test_path(GEN "duckdb_mixed_zstd.parquet"),
                        dp_test_path(GEN "arrowrs_mixed_snappy_v2.parquet")};
    DP_ASSERT_OK(dp_dataset_open(ok, 2, &ds, &err), &err);
    dp_dataset_free(ds);
    /* Directory input: every *.parquet below, sorted; duplicates removed. */
    const char *dir[] = {dp_test_path("tests/data/shared/generated"),
                         dp_test_path(GEN "duckdb_mixed_zstd.parquet")};
    DP_ASSERT_OK(dp_dataset_open(dir, 2, &ds, &err), &err);
    DP_ASSERT_EQ_INT(dp_dataset_n_files(ds), 31);
    dp_dataset_free(ds);
}

/* Scan all numeric columns; return a hash of every batch's bits and boundaries. */
static uint64_t scan_digest(dp_dataset *ds, const dp_scan_options *so, int64_t *rows_out,
                            int64_t *batches_out) {
    dp_selection sel;
    dp_error err;
    DP_ASSERT_OK(dp_dataset_select(ds, NULL, &sel, &err), &err);
    dp_scan *s = NULL;
    DP_ASSERT_OK(dp_scan_open(ds, sel.cols, sel.n, so, &s, &err), &err);
    uint64_t h = 1469598103934665603ull;
    int64_t rows = 0, batches = 0;
    const dp_batch *b;
    while (1) {
        DP_ASSERT_OK(dp_scan_next(s, &b, &err), &err);
        if (b == NULL)
            break;
        batches++;
        h = (h ^ (uint64_t) b->n_rows) * 1099511628211ull;
        h = (h ^ (uint64_t) b->row_offset) * 1099511628211ull;
        for (int64_t j = 0; j < b->n_cols; j++) {
            const double *x = dp_batch_col(b, j);
            for (int64_t i = 0; i < b->n_rows; i++) {
                uint64_t bits;
                memcpy(&bits, &x[i], 8);
                h = (h ^ bits) * 1099511628211ull;
            }
            h = (h ^ (uint64_t) dp_batch_n_missing(b, j)) * 1099511628211ull;
        }
        rows += b->n_rows;
    }
    dp_scan_free(s);
    dp_selection_reset(&sel);
    *rows_out = rows;
    *batches_out = batches;
    return h;
}

DP_TEST(scan_is_thread_invariant_and_cuts_batches_at_row_groups) {
    require_codecs();
    /* 130,000 rows in two row groups. */
    const char *in[] = {dp_test_path(GEN "duckdb_long_130k_zstd_v2enc.parquet")};
    dp_dataset *ds = open_ds(in, 1);
    DP_ASSERT_EQ_INT(dp_dataset_n_row_groups(ds), 2);
    int64_t rg0 = dp_dataset_rg_at(ds, 0)->rows;
    int64_t r1, r4, b1, b4;
    dp_scan_options o1 = {.batch_rows = 10000, .threads = 1};
    dp_scan_options o4 = {.batch_rows = 10000, .threads = 4};
    uint64_t h1 = scan_digest(ds, &o1, &r1, &b1);
    uint64_t h4 = scan_digest(ds, &o4, &r4, &b4);
    DP_ASSERT_EQ_U64(h1, h4);
    DP_ASSERT_EQ_INT(r1, 130000);
    /* Batches never span a row group: ceil(rg0/10000) + ceil(rg1/10000). */
    int64_t rg1 = 130000 - rg0;
    DP_ASSERT_EQ_INT(b1, (rg0 + 9999) / 10000 + (rg1 + 9999) / 10000);
    dp_dataset_free(ds);
}

DP_TEST(scan_values_match_the_reader) {
    require_codecs();
    /* Every value of a batch equals what the reader decodes for that row (NaN for missing),
     * and the kinds of missing values are counted: d_special has NaN, +Inf and -Inf. */
    const char *in[] = {dp_test_path(GEN "duckdb_mixed_zstd_rg2048.parquet")};
    dp_dataset *ds = open_ds(in, 1);
    int32_t col = dp_dataset_find_column(ds, "d_special");
    dp_scan_options so = {.batch_rows = 500, .threads = 3};
    dp_scan *s = NULL;
    dp_error err;
    DP_ASSERT_OK(dp_scan_open(ds, &col, 1, &so, &s, &err), &err);
    dp_pq_file *f = NULL;
    DP_ASSERT_OK(dp_pq_file_open(in[0], &f, &err), &err);
    dp_pq_decoder *dec = NULL;
    DP_ASSERT_OK(dp_pq_decoder_create(NULL, &dec, &err), &err);
    int32_t fc = dp_pq_file_find_column(f, "d_special");
    dp_pq_values v;
    dp_pq_values_init(&v);
    int64_t n_null = 0, n_nan = 0, n_pinf = 0, n_ninf = 0, row = 0;
    const dp_batch *b;
    int32_t cur_rg = -1;
    int64_t rg_start = 0;
    while (1) {
        DP_ASSERT_OK(dp_scan_next(s, &b, &err), &err);
        if (b == NULL)
            break;
        for (int64_t i = 0; i < b->n_rows; i++, row++) {
            while (cur_rg < 0 || row >= rg_start + v.n) {
                if (cur_rg >= 0)
                    rg_start += v.n;
                cur_rg++;
                DP_ASSERT_OK(dp_pq_read_values(dec, f, cur_rg, fc, &v, &err), &err);
            }
            double want = dp_pq_value_to_double(&v, dp_pq_file_column(f, fc), row - rg_start);
            double got = dp_batch_col(b, 0)[i];
            if (isfinite(want))
                DP_ASSERT_BITS_EQ(got, want);
            else
                DP_ASSERT_TRUE(isnan(got));
        }
        n_null += b->counts[0].n_null;
        n_nan += b->counts[0].n_nan;
        n_pinf += b->counts[0].n_posinf;
        n_ninf += b->counts[0].n_neginf;
    }
    /* expected.json: d_special has 232 NULLs, 32 NaN, 16 +Inf (and -Inf). */
    DP_ASSERT_EQ_INT(n_null, 232);
    DP_ASSERT_EQ_INT(n_nan, 32);
    DP_ASSERT_EQ_INT(n_pinf, 16);
    DP_ASSERT_CMP_INT(n_ninf, >, 0);
    dp_pq_values_reset(&v);
    dp_pq_decoder_free(dec);
    dp_pq_file_free(f);
    dp_scan_free(s);
    dp_dataset_free(ds);
}

static void copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    DP_ASSERT_TRUE(a != NULL && b != NULL);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        DP_ASSERT_EQ_INT(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

DP_TEST(scan_sample_mode_is_per_file_deterministic) {
    require_codecs();
    const char *src = dp_test_path(GEN "duckdb_mixed_zstd_rg2048.parquet");
    const char *tmp = dp_test_tmp_dir();
    char a[4096], bpath[4096], c[4096];
    snprintf(a, sizeof a, "%s/a.parquet", tmp);
    snprintf(bpath, sizeof bpath, "%s/b.parquet", tmp);
    snprintf(c, sizeof c, "%s/c.parquet", tmp);
    copy_file(src, a);
    copy_file(src, c);
    /* The same file under two names gets two different samples; adding b.parquet between them
     * changes neither. */
    int64_t k = 100;
    int64_t sa[100], sc[100];
    dp_scan_sample_rows(7, "a.parquet", 3000, k, sa);
    dp_scan_sample_rows(7, "c.parquet", 3000, k, sc);
    DP_ASSERT_TRUE(memcmp(sa, sc, sizeof sa) != 0);
    for (int i = 1; i < k; i++)
        DP_ASSERT_CMP_INT(sa[i], >, sa[i - 1]);
    const char *two[] = {a, c};
    dp_dataset *ds = open_ds(two, 2);
    int32_t col = dp_dataset_find_column(ds, "i64_seq"); /* row identity: distinct values */
    dp_scan_options so = {
        .mode = DP_SCAN_SAMPLE, .sample_per_file = k, .seed = 7, .threads = 2, .batch_rows = 64};
    dp_error err;
    dp_scan *s = NULL;
    DP_ASSERT_OK(dp_scan_open(ds, &col, 1, &so, &s, &err), &err);
    double got2[200];
    int64_t n2 = 0;
    const dp_batch *b;
    while (1) {
        DP_ASSERT_OK(dp_scan_next(s, &b, &err), &err);
        if (b == NULL)
            break;
        for (int64_t i = 0; i < b->n_rows; i++)
            got2[n2++] = dp_batch_col(b, 0)[i];
    }
    dp_scan_free(s);
    dp_dataset_free(ds);
    DP_ASSERT_EQ_INT(n2, 200);
    /* i64_seq = 1e12 + 3 * row: the sampled rows are exactly dp_scan_sample_rows'. */
    for (int i = 0; i < 100; i++) {
        DP_ASSERT_NEAR(got2[i], 1e12 + 3.0 * (double) sa[i], 0);
        DP_ASSERT_NEAR(got2[100 + i], 1e12 + 3.0 * (double) sc[i], 0);
    }
    copy_file(src, bpath);
    const char *three[] = {a, bpath, c};
    ds = open_ds(three, 3);
    DP_ASSERT_OK(dp_scan_open(ds, &col, 1, &so, &s, &err), &err);
    double got3[300];
    int64_t n3 = 0;
    while (1) {
        DP_ASSERT_OK(dp_scan_next(s, &b, &err), &err);
        if (b == NULL)
            break;
        for (int64_t i = 0; i < b->n_rows; i++)
            got3[n3++] = dp_batch_col(b, 0)[i];
    }
    dp_scan_free(s);
    dp_dataset_free(ds);
    DP_ASSERT_EQ_INT(n3, 300);
    DP_ASSERT_MEMEQ(got3, got2, 100 * sizeof(double));             /* a unchanged */
    DP_ASSERT_MEMEQ(got3 + 200, got2 + 100, 100 * sizeof(double)); /* c unchanged */
    /* A file with fewer rows than K is taken whole. */
    int64_t all[10];
    dp_scan_sample_rows(7, "x", 10, 50, all);
    for (int i = 0; i < 10; i++)
        DP_ASSERT_EQ_INT(all[i], i);
}

DP_TEST(scan_memory_does_not_grow_with_rows_or_files) {
    require_codecs();
    /* The same 3000-row file copied 2x and 16x (8x the rows): the peak of dp_malloc'ed bytes
     * during the scan is identical (buffers are sized by row group and column count and
     * allocated once; at most two files are open at a time). */
    const char *src = dp_test_path(GEN "duckdb_mixed_zstd_rg2048.parquet");
    const char *tmp = dp_test_tmp_dir();
    char paths[16][4096];
    const char *in[16];
    for (int i = 0; i < 16; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/part-%02d.parquet", tmp, i);
        copy_file(src, paths[i]);
        in[i] = paths[i];
    }
    int64_t peak[2];
    int nfiles[2] = {2, 16};
    for (int t = 0; t < 2; t++) {
        dp_dataset *ds = open_ds(in, nfiles[t]);
        dp_alloc_reset_peak();
        int64_t base = dp_alloc_live_bytes();
        int64_t rows, batches;
        /* One decode thread: each worker's buffers grow to the largest chunk it has decoded, and
         * with several workers which one meets the largest chunk depends on scheduling. */
        dp_scan_options so = {.batch_rows = 1000, .threads = 1};
        scan_digest(ds, &so, &rows, &batches);
        DP_ASSERT_EQ_INT(rows, 3000 * nfiles[t]);
        peak[t] = dp_alloc_peak_bytes() - base;
        dp_dataset_free(ds);
    }
    printf("scan peak allocation: %lld bytes (2 files), %lld bytes (16 files)\n",
           (long long) peak[0], (long long) peak[1]);
    DP_ASSERT_EQ_INT(peak[0], peak[1]);
}
