/* Distribution over MPI ranks, the parts that need no MPI: dealing row groups to ranks, ranged
 * scans (consecutive ranges deliver exactly the full scan's rows, values and row offsets, in
 * every scan mode), the checkpoint file layouts, and the one-rank identities. Runs with several
 * ranks are tested by tests/cli/mpi_*.sh under mpirun. */
#include "batch/dp_scan.h"
#include "dp_test.h"
#include "dpipe/dp_commands.h"
#include "dpipe/dpipe.h"
#include "parquet/pq_codec.h"
#include "pipeline/dp_dist.h"
#include "util/dp_alloc.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* A generated dataset: 3 files of 1,700 rows with row groups of 300 rows (the last of each
 * file shorter), 6 descriptors, written without compression so every build can read it. */
static dp_dataset *gen_ds(const char *name, int64_t rows, int32_t files, int64_t rg) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", dp_test_tmp_dir(), name);
    dp_gen_options o = {.out_dir = dir,
                        .rows = rows,
                        .cols = 6,
                        .files = files,
                        .seed = 11,
                        .missing = 0.05,
                        .row_group_rows = rg,
                        .codec = "none"};
    dp_error err = {0};
    DP_ASSERT_OK(dp_cmd_gen(&o, &err), &err);
    const char *in[] = {dir};
    dp_dataset *ds = NULL;
    DP_ASSERT_OK(dp_dataset_open(in, 1, &ds, &err), &err);
    return ds;
}

DP_TEST(dist_range_contiguous_and_balanced) {
    dp_dataset *ds = gen_ds("g", 5100, 3, 300);
    int32_t n_rg = dp_dataset_n_row_groups(ds);
    int64_t n = dp_dataset_n_rows(ds), max_rg = dp_dataset_max_rg_rows(ds);
    DP_ASSERT_EQ_INT(n_rg, 18);
    for (int size = 1; size <= 24; size++) {
        int32_t expect_begin = 0;
        int empty = 0;
        for (int r = 0; r < size; r++) {
            int32_t b, e;
            dp__dist_range(ds, r, size, &b, &e);
            /* Contiguous, in rank order, together every row group exactly once. */
            DP_ASSERT_EQ_INT(b, expect_begin);
            DP_ASSERT_CMP_INT(e, >=, b);
            expect_begin = e;
            int64_t rows = 0;
            for (int32_t g = b; g < e; g++)
                rows += dp_dataset_rg_at(ds, g)->rows;
            empty += rows == 0;
            /* Balanced: within one row group of the even share. */
            double share = (double) n / size;
            DP_ASSERT_CMP_INT((int64_t) (rows > share ? rows - share : share - rows), <=, max_rg);
            /* Same answer every time (deterministic). */
            int32_t b2, e2;
            dp__dist_range(ds, r, size, &b2, &e2);
            DP_ASSERT_EQ_INT(b2, b);
            DP_ASSERT_EQ_INT(e2, e);
        }
        DP_ASSERT_EQ_INT(expect_begin, n_rg);
        /* More ranks than row groups: the surplus ranks get nothing; a share larger than any
         * row group is never empty. */
        DP_ASSERT_CMP_INT(empty, >=, size > n_rg ? size - n_rg : 0);
        if ((double) n / size > (double) max_rg)
            DP_ASSERT_EQ_INT(empty, 0);
    }
    dp_dataset_free(ds);
}

typedef struct {
    int64_t n;
    int64_t *offset; /* row_offset of each delivered row */
    uint64_t *bits;  /* value of column 0 and column 3 of each row */
} rows_seen;

static void scan_into(dp_dataset *ds, const dp_scan_options *so0, int32_t b, int32_t e, int64_t off,
                      rows_seen *rs) {
    dp_selection sel;
    dp_error err;
    dp_select_options o = {.n_metadata = 1};
    DP_ASSERT_OK(dp_dataset_select(ds, &o, &sel, &err), &err);
    dp_scan_options so = *so0;
    so.start_rg = b;
    so.end_rg = e;
    so.start_row_offset = off;
    dp_scan *s = NULL;
    DP_ASSERT_OK(dp_scan_open(ds, sel.cols, sel.n, &so, &s, &err), &err);
    const dp_batch *bt;
    for (;;) {
        DP_ASSERT_OK(dp_scan_next(s, &bt, &err), &err);
        if (bt == NULL)
            break;
        for (int64_t i = 0; i < bt->n_rows; i++) {
            rs->offset[rs->n] = bt->row_offset + i;
            memcpy(&rs->bits[2 * rs->n], &dp_batch_col(bt, 0)[i], 8);
            memcpy(&rs->bits[2 * rs->n + 1], &dp_batch_col(bt, 3)[i], 8);
            rs->n++;
        }
    }
    dp_scan_free(s);
    dp_selection_reset(&sel);
}

static void check_ranges(dp_dataset *ds, const dp_scan_options *so, const char *what) {
    int64_t n = dp_dataset_n_rows(ds);
    rows_seen full = {0, dp_calloc((size_t) n, 8), dp_calloc((size_t) n * 2, 8)};
    rows_seen part = {0, dp_calloc((size_t) n, 8), dp_calloc((size_t) n * 2, 8)};
    DP_ASSERT_TRUE(full.offset && full.bits && part.offset && part.bits);
    scan_into(ds, so, 0, 0, 0, &full);
    DP_ASSERT_CMP_INT(full.n, >, 0);
    for (int size = 2; size <= 5; size++) {
        part.n = 0;
        for (int r = 0; r < size; r++) {
            int32_t b, e;
            dp__dist_range(ds, r, size, &b, &e);
            int64_t off = -1;
            dp_error err;
            DP_ASSERT_OK(dp_scan_row_offset_at(ds, so, b, &off, &err), &err);
            /* The full scan's offset of the first row at or after row group b. */
            DP_ASSERT_EQ_INT(off, part.n < full.n ? full.offset[part.n] : full.n);
            if (e > b)
                scan_into(ds, so, b, e, off, &part);
        }
        if (part.n != full.n)
            DP_FAILF("%s, %d ranges: %lld rows, full scan %lld", what, size, (long long) part.n,
                     (long long) full.n);
        DP_ASSERT_MEMEQ(part.offset, full.offset, (size_t) full.n * 8);
        DP_ASSERT_MEMEQ(part.bits, full.bits, (size_t) full.n * 16);
    }
    dp_free(full.offset);
    dp_free(full.bits);
    dp_free(part.offset);
    dp_free(part.bits);
}

DP_TEST(dist_range_rank_zero_may_be_empty) {
    /* One row group: its middle row lies in rank 1's share of 2 or 3, so rank 0 scans nothing
     * (an empty range at 0, not "to the end"). */
    dp_dataset *ds = gen_ds("one", 500, 1, 1000);
    DP_ASSERT_EQ_INT(dp_dataset_n_row_groups(ds), 1);
    for (int size = 2; size <= 3; size++) {
        int32_t b, e;
        dp__dist_range(ds, 0, size, &b, &e);
        DP_ASSERT_EQ_INT(b, 0);
        DP_ASSERT_EQ_INT(e, 0);
        dp__dist_range(ds, 1, size, &b, &e);
        DP_ASSERT_EQ_INT(b, 0);
        DP_ASSERT_EQ_INT(e, 1);
    }
    dp_dataset_free(ds);
}

DP_TEST(scan_ranges_concatenate_to_the_full_scan) {
    dp_dataset *ds = gen_ds("g", 5100, 3, 300);
    dp_scan_options so = {.batch_rows = 128, .threads = 2};
    check_ranges(ds, &so, "unified");
    so.mode = DP_SCAN_PER_FILE;
    check_ranges(ds, &so, "per-file");
    /* Row filter (pass 4's --nonlinear-rows): row offsets count the rows kept before. */
    so.mode = DP_SCAN_UNIFIED;
    so.keep_fraction = 0.3;
    so.keep_seed = 99;
    check_ranges(ds, &so, "filtered");
    /* Per-file sample: offsets count the sampled rows before, within the file too. */
    so.keep_fraction = 0;
    so.mode = DP_SCAN_SAMPLE;
    so.sample_per_file = 700;
    so.seed = 5;
    check_ranges(ds, &so, "sample");
    dp_dataset_free(ds);
}

static bool exists(const char *dir, const char *name) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void touch(const char *dir, const char *name) {
    char p[2048];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    DP_ASSERT_TRUE(f != NULL);
    fputs("x", f);
    fclose(f);
}

DP_TEST(checkpoint_layouts_of_other_rank_counts_are_dropped) {
    const char *dir = dp_test_tmp_dir();
    char base[1024];
    snprintf(base, sizeof base, "%s/pass2.checkpoint", dir);
    const char *names[] = {"pass2.checkpoint",          "pass2.checkpoint.rank0of3",
                           "pass2.checkpoint.rank2of3", "pass2.checkpoint.rank1of2",
                           "pass2.checkpoint.rankxyz",  "pass1.checkpoint.rank0of3"};
    for (size_t i = 0; i < DP_ARRAY_LEN(names); i++)
        touch(dir, names[i]);
    /* A 2-rank run keeps its own files and unrelated ones. */
    dp__dist_drop_other_layouts("pass 2 scan", base, 2);
    DP_ASSERT_TRUE(!exists(dir, "pass2.checkpoint"));
    DP_ASSERT_TRUE(!exists(dir, "pass2.checkpoint.rank0of3"));
    DP_ASSERT_TRUE(!exists(dir, "pass2.checkpoint.rank2of3"));
    DP_ASSERT_TRUE(exists(dir, "pass2.checkpoint.rank1of2"));
    DP_ASSERT_TRUE(exists(dir, "pass2.checkpoint.rankxyz"));
    DP_ASSERT_TRUE(exists(dir, "pass1.checkpoint.rank0of3"));
    /* A single process keeps its plain file and drops every rank file. */
    touch(dir, "pass2.checkpoint");
    dp__dist_drop_other_layouts("pass 2 scan", base, 1);
    DP_ASSERT_TRUE(exists(dir, "pass2.checkpoint"));
    DP_ASSERT_TRUE(!exists(dir, "pass2.checkpoint.rank1of2"));
    /* A finished pass removes every layout of its own scan only. */
    touch(dir, "pass2.checkpoint.rank1of2");
    dp__scan_job_drop_checkpoints(base);
    DP_ASSERT_TRUE(!exists(dir, "pass2.checkpoint"));
    DP_ASSERT_TRUE(!exists(dir, "pass2.checkpoint.rank1of2"));
    DP_ASSERT_TRUE(!exists(dir, "pass2.checkpoint.rankxyz"));
    DP_ASSERT_TRUE(exists(dir, "pass1.checkpoint.rank0of3"));
}

DP_TEST(dist_one_rank_is_the_identity) {
    /* The test runner is not started by mpirun: one rank, nothing exchanged. */
    dp_error err;
    DP_ASSERT_OK(dp_mpi_init(&err), &err);
    DP_ASSERT_EQ_INT(dp_mpi_size(), 1);
    DP_ASSERT_EQ_INT(dp_mpi_rank(), 0);
    DP_ASSERT_EQ_INT(dp_mpi_local_device(4), 0);
    DP_ASSERT_TRUE(!dp__dist_follower());
    DP_ASSERT_STREQ(dp_mpi_error_prefix(), "");
    DP_ASSERT_TRUE(dp_mpi_reports_errors());
    dp_error_set(&err, DP_CORRUPT, "f.parquet: bad page");
    DP_ASSERT_STATUS(dp__dist_agree(DP_CORRUPT, 7, "inputs", &err), DP_CORRUPT);
    DP_ASSERT_STREQ(err.msg, "f.parquet: bad page");
    DP_ASSERT_STATUS(dp__dist_agree(DP_OK, 7, "inputs", &err), DP_OK);
    dp_buf b;
    dp_buf_init(&b);
    DP_ASSERT_OK(dp_buf_append(&b, "abc", 3), NULL);
    DP_ASSERT_OK(dp__dist_bcast_buf(&b, &err), &err);
    DP_ASSERT_EQ_INT(b.size, 3);
    dp_buf_reset(&b);
    DP_ASSERT_EQ_INT(dp_mpi_finalize(3), 3);
}
