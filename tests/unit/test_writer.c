/* The Parquet writer: files it writes are read back with dpipe's reader and compared value by
 * value (bit patterns for floats) with the arrays that were written; footer statistics are
 * compared with a naive min/max/null count over the same arrays; where DuckDB is installed (the
 * npm package @duckdb/node-api, found through DP_DUCKDB_NODE_MODULES or a few fixed places), the
 * same files are read by DuckDB and compared too. pyarrow is not available on the build machines,
 * so no pyarrow cross-check is made here. */
#include "dp_test.h"
#include "parquet/pq_codec.h"
#include "parquet/pq_meta.h"
#include "parquet/pq_reader.h"
#include "parquet/pq_writer.h"
#include "util/dp_alloc.h"
#include "util/dp_json.h"
#include "util/dp_rng.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- A test table: columns of every type, with chosen special values ---------------------- */

enum {
    T_D_REQ,
    T_D_OPT,
    T_F_OPT,
    T_I32_REQ,
    T_I64_OPT,
    T_B_OPT,
    T_S_REQ,
    T_S_DICT,
    T_BIN_OPT,
    T_N
};

static const dp_pq_write_column table_cols[T_N] = {
    {"d_req", DP_PQ_DOUBLE, false, false, false},
    {"d_opt", DP_PQ_DOUBLE, false, true, false},
    {"f_opt", DP_PQ_FLOAT, false, true, false},
    {"i32_req", DP_PQ_INT32, false, false, false},
    {"i64_opt", DP_PQ_INT64, false, true, false},
    {"b_opt", DP_PQ_BOOLEAN, false, true, false},
    {"s_req", DP_PQ_BYTE_ARRAY, true, false, false},
    {"s_dict", DP_PQ_BYTE_ARRAY, true, true, true},
    {"bin_opt", DP_PQ_BYTE_ARRAY, false, true, false},
};

typedef struct table {
    int64_t n;
    double *d_req, *d_opt;
    float *f_opt;
    int32_t *i32;
    int64_t *i64;
    uint8_t *b;
    uint8_t *valid[T_N]; /* NULL for REQUIRED columns */
    int64_t *ofs[T_N];   /* byte-array columns */
    uint8_t *bytes[T_N];
} table;

static const char *const words[] = {"",
                                    "alpha",
                                    "tab\there",
                                    "line\nbreak",
                                    "back\\slash",
                                    "caf\xc3\xa9",
                                    "\xe6\x97\xa5\xe6\x9c\xac", /* 日本 */
                                    "\xf0\x9f\x99\x82",         /* an emoji: 4-byte UTF-8 */
                                    "quote\"s",
                                    "z"};

static void *xcalloc(size_t n, size_t s) {
    void *p = calloc(n > 0 ? n : 1, s);
    if (p == NULL)
        abort();
    return p;
}

static void add_bytes(int64_t *ofs, uint8_t **bytes, size_t *cap, int64_t i, const void *s,
                      size_t len) {
    size_t at = (size_t) ofs[i];
    if (at + len > *cap) {
        *cap = (at + len) * 2 + 64;
        *bytes = realloc(*bytes, *cap);
        if (*bytes == NULL)
            abort();
    }
    if (len > 0)
        memcpy(*bytes + at, s, len);
    ofs[i + 1] = (int64_t) (at + len);
}

static table make_table(int64_t n, uint64_t seed) {
    table t = {0};
    t.n = n;
    t.d_req = xcalloc((size_t) n, sizeof(double));
    t.d_opt = xcalloc((size_t) n, sizeof(double));
    t.f_opt = xcalloc((size_t) n, sizeof(float));
    t.i32 = xcalloc((size_t) n, sizeof(int32_t));
    t.i64 = xcalloc((size_t) n, sizeof(int64_t));
    t.b = xcalloc((size_t) n, 1);
    for (int k = 0; k < T_N; k++)
        if (table_cols[k].optional)
            t.valid[k] = xcalloc((size_t) n, 1);
    size_t cap[T_N] = {0};
    for (int k = T_S_REQ; k <= T_BIN_OPT; k++) {
        t.ofs[k] = xcalloc((size_t) n + 1, sizeof(int64_t));
        cap[k] = 64;
        t.bytes[k] = xcalloc(cap[k], 1);
    }
    static const double dspecial[] = {0.0,
                                      -0.0,
                                      1.0,
                                      -1.5,
                                      1e-310,
                                      -1e308,
                                      1.7976931348623157e308,
                                      INFINITY,
                                      -INFINITY,
                                      3.141592653589793};
    dp_rng r;
    dp_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) {
        t.d_req[i] = i < 10 ? dspecial[i] : dp_rng_normal(&r) * 1e3;
        t.d_opt[i] = i % 17 == 3 ? NAN : dp_rng_uniform(&r) - 0.5;
        t.f_opt[i] = i % 23 == 5 ? NAN : (float) dp_rng_normal(&r);
        if (i == 1)
            t.f_opt[i] = -0.0f;
        t.i32[i] = i == 0   ? INT32_MIN
                   : i == 1 ? INT32_MAX
                            : (int32_t) dp_rng_below(&r, 2000) - 1000;
        t.i64[i] = i == 2 ? INT64_MIN : i == 4 ? INT64_MAX : (int64_t) dp_rng_next(&r) >> 20;
        t.b[i] = (uint8_t) dp_rng_below(&r, 2);
        for (int k = 0; k < T_N; k++)
            if (t.valid[k] != NULL)
                t.valid[k][i] = (uint8_t) (dp_rng_below(&r, 5) != 0);
        char buf[200];
        /* s_req: words, numbered ids and sometimes a value longer than the 64-byte statistics
         * cap */
        int len;
        if (i % 7 == 0)
            len = snprintf(buf, sizeof buf, "%s", words[(i / 7) % 10]);
        else if (i % 101 == 50)
            len = snprintf(buf, sizeof buf, "~%0120lld", (long long) i);
        else
            len = snprintf(buf, sizeof buf, "MOL%07lld", (long long) i);
        add_bytes(t.ofs[T_S_REQ], &t.bytes[T_S_REQ], &cap[T_S_REQ], i, buf, (size_t) len);
        const char *wd = words[dp_rng_below(&r, 10)];
        add_bytes(t.ofs[T_S_DICT], &t.bytes[T_S_DICT], &cap[T_S_DICT], i, wd, strlen(wd));
        uint8_t bin[5];
        size_t bl = dp_rng_below(&r, 6);
        for (size_t q = 0; q < bl; q++)
            bin[q] = (uint8_t) dp_rng_next(&r);
        add_bytes(t.ofs[T_BIN_OPT], &t.bytes[T_BIN_OPT], &cap[T_BIN_OPT], i, bin, bl);
    }
    /* Rows 0..2 of the optional columns valid so the special values are written. */
    for (int k = 0; k < T_N; k++)
        if (t.valid[k] != NULL && n > 2)
            t.valid[k][0] = t.valid[k][1] = t.valid[k][2] = 1;
    return t;
}

static void free_table(table *t) {
    free(t->d_req);
    free(t->d_opt);
    free(t->f_opt);
    free(t->i32);
    free(t->i64);
    free(t->b);
    for (int k = 0; k < T_N; k++) {
        free(t->valid[k]);
        free(t->ofs[k]);
        free(t->bytes[k]);
    }
}

/* Views of rows [r0, r0 + m) (offsets are absolute, so the bytes pointer stays the same). */
static void table_views(const table *t, int64_t r0, dp_pq_column_data *v) {
    memset(v, 0, sizeof(dp_pq_column_data) * T_N);
    v[T_D_REQ].values = t->d_req + r0;
    v[T_D_OPT].values = t->d_opt + r0;
    v[T_F_OPT].values = t->f_opt + r0;
    v[T_I32_REQ].values = t->i32 + r0;
    v[T_I64_OPT].values = t->i64 + r0;
    v[T_B_OPT].values = t->b + r0;
    for (int k = 0; k < T_N; k++) {
        v[k].valid = t->valid[k] != NULL ? t->valid[k] + r0 : NULL;
        if (t->ofs[k] != NULL) {
            v[k].offsets = t->ofs[k] + r0;
            v[k].bytes = t->bytes[k];
        }
    }
}

static const char *tmp_file(const char *name) {
    static char buf[4][512];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, 512, "%s/%s", dp_test_tmp_dir(), name);
    return b;
}

/* Write t with the given options; append in pieces of `piece` rows (0 = one call). */
static void write_table(const char *path, const table *t, const dp_pq_writer_options *o,
                        int64_t piece) {
    dp_error err = {0};
    dp_pq_writer *w = NULL;
    DP_ASSERT_OK(dp_pq_writer_create(path, table_cols, T_N, o, &w, &err), &err);
    dp_pq_column_data v[T_N];
    if (piece <= 0)
        piece = t->n > 0 ? t->n : 1;
    for (int64_t r0 = 0; r0 < t->n; r0 += piece) {
        int64_t m = DP_MIN(piece, t->n - r0);
        table_views(t, r0, v);
        DP_ASSERT_OK(dp_pq_writer_append(w, v, m, &err), &err);
    }
    DP_ASSERT_OK(dp_pq_writer_close(w, &err), &err);
    DP_ASSERT_EQ_INT(dp_pq_writer_rows(w), t->n);
    dp_pq_writer_free(w);
}

/* Compare column k of row group rg (first row `row0`) with the table. */
static void check_values(const table *t, int k, const dp_pq_values *v, int64_t row0) {
    for (int64_t i = 0; i < v->n; i++) {
        int64_t r = row0 + i;
        int exp_valid = t->valid[k] == NULL || t->valid[k][r];
        const uint8_t *vv = v->valid.data;
        if (vv[i] != exp_valid)
            DP_FAILF("column %s row %lld: valid %d, expected %d", table_cols[k].name, (long long) r,
                     vv[i], exp_valid);
        if (!exp_valid)
            continue;
        const uint8_t *fx = v->fixed.data;
        switch (k) {
        case T_D_REQ:
            DP_ASSERT_MEMEQ(fx + i * 8, &t->d_req[r], 8);
            break;
        case T_D_OPT:
            DP_ASSERT_MEMEQ(fx + i * 8, &t->d_opt[r], 8);
            break;
        case T_F_OPT:
            DP_ASSERT_MEMEQ(fx + i * 4, &t->f_opt[r], 4);
            break;
        case T_I32_REQ:
            DP_ASSERT_MEMEQ(fx + i * 4, &t->i32[r], 4);
            break;
        case T_I64_OPT:
            DP_ASSERT_MEMEQ(fx + i * 8, &t->i64[r], 8);
            break;
        case T_B_OPT:
            DP_ASSERT_EQ_INT(fx[i] != 0, t->b[r] != 0);
            break;
        default: {
            const int64_t *o = (const int64_t *) v->offsets.data;
            int64_t len = o[i + 1] - o[i];
            int64_t elen = t->ofs[k][r + 1] - t->ofs[k][r];
            if (len != elen)
                DP_FAILF("column %s row %lld: length %lld, expected %lld", table_cols[k].name,
                         (long long) r, (long long) len, (long long) elen);
            DP_ASSERT_MEMEQ(v->heap.data + o[i], t->bytes[k] + t->ofs[k][r], (size_t) len);
        }
        }
    }
}

/* Read the whole file back and compare; returns the number of row groups. */
static int32_t read_back(const char *path, const table *t) {
    dp_error err = {0};
    dp_pq_file *f = NULL;
    dp_pq_decoder *dec = NULL;
    DP_ASSERT_OK(dp_pq_file_open(path, &f, &err), &err);
    DP_ASSERT_OK(dp_pq_decoder_create(NULL, &dec, &err), &err);
    DP_ASSERT_EQ_INT(dp_pq_file_n_rows(f), t->n);
    DP_ASSERT_EQ_INT(dp_pq_file_n_columns(f), T_N);
    for (int k = 0; k < T_N; k++) {
        const dp_pq_column_desc *c = dp_pq_file_column(f, k);
        DP_ASSERT_STREQ(c->path, table_cols[k].name);
        DP_ASSERT_EQ_INT(c->type, table_cols[k].type);
        DP_ASSERT_EQ_INT(c->repetition, table_cols[k].optional ? DP_PQ_OPTIONAL : DP_PQ_REQUIRED);
        if (table_cols[k].type == DP_PQ_BYTE_ARRAY)
            DP_ASSERT_EQ_INT(c->kind, table_cols[k].string ? DP_PQ_KIND_STRING : DP_PQ_KIND_BINARY);
    }
    const dp_pq_file_meta *m = dp_pq_file_metadata(f);
    DP_ASSERT_TRUE(m->has_created_by);
    DP_ASSERT_TRUE(m->created_by.len > 6 && memcmp(m->created_by.data, "dpipe ", 6) == 0);
    dp_pq_values v;
    dp_pq_values_init(&v);
    int64_t row0 = 0;
    for (int32_t rg = 0; rg < dp_pq_file_n_row_groups(f); rg++) {
        for (int k = 0; k < T_N; k++) {
            DP_ASSERT_OK(dp_pq_read_values(dec, f, rg, k, &v, &err), &err);
            check_values(t, k, &v, row0);
        }
        row0 += dp_pq_file_row_group_rows(f, rg);
    }
    DP_ASSERT_EQ_INT(row0, t->n);
    int32_t n_rg = dp_pq_file_n_row_groups(f);
    dp_pq_values_reset(&v);
    dp_pq_decoder_free(dec);
    dp_pq_file_free(f);
    return n_rg;
}

/* ---- round trips --------------------------------------------------------------------------- */

static void roundtrip_codec(int codec, const char *name) {
    if (!dp_pq_codec_can_compress(codec))
        DP_SKIP("this build cannot compress with %s", name);
    table t = make_table(2500, 42);
    dp_pq_writer_options o = {.codec = codec, .row_group_rows = 1000, .page_bytes = 4096};
    const char *path = tmp_file("t.parquet");
    /* Appends of 333 rows: row groups are cut inside appends. */
    write_table(path, &t, &o, 333);
    DP_ASSERT_EQ_INT(read_back(path, &t), 3);
    free_table(&t);
}

DP_TEST(writer_roundtrip_uncompressed) {
    roundtrip_codec(DP_PQ_CODEC_UNCOMPRESSED, "none");
}

DP_TEST(writer_roundtrip_snappy) {
    roundtrip_codec(DP_PQ_CODEC_SNAPPY, "snappy");
}

DP_TEST(writer_roundtrip_zstd) {
    roundtrip_codec(DP_PQ_CODEC_ZSTD, "zstd");
}

DP_TEST(writer_roundtrip_gzip_lz4raw) {
    int done = 0;
    for (int c = DP_PQ_CODEC_GZIP; c <= DP_PQ_CODEC_LZ4_RAW;
         c += DP_PQ_CODEC_LZ4_RAW - DP_PQ_CODEC_GZIP) {
        if (!dp_pq_codec_can_compress(c))
            continue;
        table t = make_table(700, 7);
        dp_pq_writer_options o = {.codec = c, .row_group_rows = 500};
        const char *path = tmp_file("g.parquet");
        write_table(path, &t, &o, 0);
        DP_ASSERT_EQ_INT(read_back(path, &t), 2);
        free_table(&t);
        done++;
    }
    if (done == 0)
        DP_SKIP("this build has neither gzip nor lz4");
}

DP_TEST(writer_auto_row_groups_and_one_append) {
    table t = make_table(5000, 3);
    const char *path = tmp_file("a.parquet");
    dp_pq_writer_options o = {.codec =
                                  DP_PQ_CODEC_ZSTD * dp_pq_codec_can_compress(DP_PQ_CODEC_ZSTD)};
    write_table(path, &t, &o, 0);
    /* The automatic size is at least 1,024 rows per group: 5,000 rows need at most 5 groups. */
    int32_t n_rg = read_back(path, &t);
    DP_ASSERT_TRUE(n_rg >= 1 && n_rg <= 5);
    free_table(&t);
}

DP_TEST(writer_explicit_row_groups) {
    table t = make_table(1000, 5);
    const char *path = tmp_file("e.parquet");
    dp_error err = {0};
    dp_pq_writer *w = NULL;
    dp_pq_writer_options o = {.row_group_rows = 10000};
    DP_ASSERT_OK(dp_pq_writer_create(path, table_cols, T_N, &o, &w, &err), &err);
    dp_pq_column_data v[T_N];
    /* 100 appended (buffered), then 1 .. 400 written directly, then 499 buffered + flush. */
    table_views(&t, 0, v);
    DP_ASSERT_OK(dp_pq_writer_append(w, v, 100, &err), &err);
    table_views(&t, 100, v);
    DP_ASSERT_OK(dp_pq_writer_write_row_group(w, v, 1, &err), &err);
    table_views(&t, 101, v);
    DP_ASSERT_OK(dp_pq_writer_write_row_group(w, v, 400, &err), &err);
    table_views(&t, 501, v);
    DP_ASSERT_OK(dp_pq_writer_append(w, v, 499, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_flush(w, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_flush(w, &err), &err); /* nothing buffered: no empty group */
    DP_ASSERT_OK(dp_pq_writer_close(w, &err), &err);
    dp_pq_writer_free(w);
    DP_ASSERT_EQ_INT(read_back(path, &t), 4);
    dp_pq_file *f = NULL;
    DP_ASSERT_OK(dp_pq_file_open(path, &f, &err), &err);
    static const int64_t want[4] = {100, 1, 400, 499};
    for (int32_t rg = 0; rg < 4; rg++)
        DP_ASSERT_EQ_INT(dp_pq_file_row_group_rows(f, rg), want[rg]);
    dp_pq_file_free(f);
    free_table(&t);
}

DP_TEST(writer_empty_file) {
    const char *path = tmp_file("empty.parquet");
    dp_error err = {0};
    dp_pq_writer *w = NULL;
    /* Also: created_by and key-value metadata as given. */
    const char *keys[2] = {"origin", "empty"};
    const char *vals[2] = {"test_writer", NULL};
    dp_pq_writer_options o = {
        .created_by = "someone else 1.0", .kv_keys = keys, .kv_values = vals, .n_kv = 2};
    DP_ASSERT_OK(dp_pq_writer_create(path, table_cols, T_N, &o, &w, &err), &err);
    dp_pq_column_data v[T_N];
    memset(v, 0, sizeof v);
    DP_ASSERT_OK(dp_pq_writer_append(w, v, 0, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_close(w, &err), &err);
    dp_pq_writer_free(w);
    dp_pq_file *f = NULL;
    DP_ASSERT_OK(dp_pq_file_open(path, &f, &err), &err);
    DP_ASSERT_EQ_INT(dp_pq_file_n_rows(f), 0);
    DP_ASSERT_EQ_INT(dp_pq_file_n_row_groups(f), 0);
    DP_ASSERT_EQ_INT(dp_pq_file_n_columns(f), T_N);
    DP_ASSERT_STREQ(dp_pq_file_column(f, T_S_DICT)->path, "s_dict");
    const dp_pq_file_meta *m = dp_pq_file_metadata(f);
    DP_ASSERT_TRUE(m->has_created_by && m->created_by.len == 16 &&
                   memcmp(m->created_by.data, "someone else 1.0", 16) == 0);
    DP_ASSERT_EQ_INT(m->n_kv, 2);
    DP_ASSERT_TRUE(m->kv[0].key.len == 6 && memcmp(m->kv[0].key.data, "origin", 6) == 0);
    DP_ASSERT_TRUE(m->kv[0].has_value && m->kv[0].value.len == 11);
    DP_ASSERT_TRUE(!m->kv[1].has_value);
    dp_pq_file_free(f);
}

/* ---- encodings, pages and statistics ------------------------------------------------------- */

static bool has_encoding(const dp_pq_column_meta *cm, int enc) {
    for (int32_t e = 0; e < cm->n_encodings; e++)
        if (cm->encodings[e] == enc)
            return true;
    return false;
}

DP_TEST(writer_dictionary_and_fallback) {
    /* s_dict holds 10 distinct words: dictionary encoded. s_req is nearly unique: PLAIN. A
     * second file with a 16-byte dictionary cap falls back to PLAIN for s_dict too. */
    table t = make_table(3000, 11);
    dp_error err = {0};
    for (int pass = 0; pass < 2; pass++) {
        const char *path = tmp_file(pass == 0 ? "dict.parquet" : "nodict.parquet");
        dp_pq_writer_options o = {
            .row_group_rows = 1000, .dict_max_bytes = pass == 0 ? 0 : 16, .page_bytes = 512};
        write_table(path, &t, &o, 0);
        DP_ASSERT_EQ_INT(read_back(path, &t), 3);
        dp_pq_file *f = NULL;
        DP_ASSERT_OK(dp_pq_file_open(path, &f, &err), &err);
        const dp_pq_file_meta *m = dp_pq_file_metadata(f);
        for (int32_t rg = 0; rg < m->n_row_groups; rg++) {
            const dp_pq_column_meta *sd = &m->row_groups[rg].columns[T_S_DICT].meta;
            const dp_pq_column_meta *sr = &m->row_groups[rg].columns[T_S_REQ].meta;
            DP_ASSERT_EQ_INT(has_encoding(sd, DP_PQ_ENC_RLE_DICTIONARY), pass == 0);
            DP_ASSERT_EQ_INT(sd->has_dictionary_page_offset, pass == 0);
            DP_ASSERT_TRUE(!has_encoding(sr, DP_PQ_ENC_RLE_DICTIONARY));
            DP_ASSERT_TRUE(!sr->has_dictionary_page_offset);
        }
        dp_pq_file_free(f);
    }
    free_table(&t);
}

DP_TEST(writer_pages_are_bounded) {
    /* Walk the page headers of every chunk: with page_bytes = 1000 each data page holds at most
     * 1000 bytes of values plus one value and the level bytes (levels of <= 1000 rows take at
     * most 4 + 1000/8 + a few run headers). */
    table t = make_table(2000, 13);
    const char *path = tmp_file("pages.parquet");
    dp_pq_writer_options o = {.row_group_rows = 2000, .page_bytes = 1000};
    write_table(path, &t, &o, 0);
    size_t len = 0;
    FILE *fp = fopen(path, "rb");
    DP_ASSERT_TRUE(fp != NULL);
    fseek(fp, 0, SEEK_END);
    len = (size_t) ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *data = malloc(len);
    DP_ASSERT_TRUE(data != NULL && fread(data, 1, len, fp) == len);
    fclose(fp);
    dp_error err = {0};
    dp_pq_file *f = NULL;
    DP_ASSERT_OK(dp_pq_file_open(path, &f, &err), &err);
    const dp_pq_file_meta *m = dp_pq_file_metadata(f);
    for (int k = 0; k < T_N; k++) {
        const dp_pq_column_meta *cm = &m->row_groups[0].columns[k].meta;
        int64_t start, clen;
        dp_pq_chunk_range(cm, &start, &clen);
        dp_cursor cur;
        dp_cursor_init(&cur, data + start, (size_t) clen);
        int64_t values = 0, pages = 0;
        while (dp_cursor_remaining(&cur) > 0) {
            dp_pq_page_header h;
            DP_ASSERT_OK(dp_pq_page_header_decode(&cur, &h, &err), &err);
            const uint8_t *skip;
            DP_ASSERT_TRUE(dp_cursor_bytes(&cur, (size_t) h.compressed_size, &skip));
            if (h.type != DP_PQ_PAGE_DATA)
                continue;
            pages++;
            values += h.num_values;
            DP_ASSERT_CMP_INT(h.uncompressed_size, <=, 1000 + 200 + 4 + 1000 / 8 + 64);
        }
        DP_ASSERT_EQ_INT(values, 2000);
        /* Booleans (bits) and dictionary indices (4 bits) of 2,000 rows fit in one page. */
        if (k != T_B_OPT && k != T_S_DICT)
            DP_ASSERT_CMP_INT(pages, >=, 2);
    }
    dp_pq_file_free(f);
    free(data);
    free_table(&t);
}

/* Naive statistics of column k over rows [r0, r1): min/max as PLAIN bytes. */
typedef struct nstat {
    bool has;
    uint8_t min[200], max[200];
    size_t min_len, max_len;
    int64_t nulls;
} nstat;

static int bcmp_lex(const uint8_t *a, size_t la, const uint8_t *b, size_t lb) {
    for (size_t i = 0; i < la && i < lb; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return la < lb ? -1 : la > lb ? 1 : 0;
}

static nstat naive_stats(const table *t, int k, int64_t r0, int64_t r1) {
    nstat s = {0};
    double dlo = 0, dhi = 0;
    long double ilo = 0, ihi = 0;
    for (int64_t r = r0; r < r1; r++) {
        if (t->valid[k] != NULL && !t->valid[k][r]) {
            s.nulls++;
            continue;
        }
        if (k == T_D_REQ || k == T_D_OPT || k == T_F_OPT) {
            double x = k == T_D_REQ ? t->d_req[r] : k == T_D_OPT ? t->d_opt[r] : t->f_opt[r];
            if (x != x)
                continue;
            if (!s.has || x < dlo)
                dlo = x;
            if (!s.has || x > dhi)
                dhi = x;
            s.has = true;
        } else if (k == T_I32_REQ || k == T_I64_OPT || k == T_B_OPT) {
            long double x = k == T_I32_REQ ? t->i32[r] : k == T_I64_OPT ? t->i64[r] : t->b[r] != 0;
            if (!s.has || x < ilo)
                ilo = x;
            if (!s.has || x > ihi)
                ihi = x;
            s.has = true;
        } else {
            const uint8_t *v = t->bytes[k] + t->ofs[k][r];
            size_t l = (size_t) (t->ofs[k][r + 1] - t->ofs[k][r]);
            if (!s.has || bcmp_lex(v, l, s.min, s.min_len) < 0) {
                memcpy(s.min, v, l);
                s.min_len = l;
            }
            if (!s.has || bcmp_lex(v, l, s.max, s.max_len) > 0) {
                memcpy(s.max, v, l);
                s.max_len = l;
            }
            s.has = true;
        }
    }
    if (!s.has)
        return s;
    if (k == T_D_REQ || k == T_D_OPT) {
        if (dlo == 0)
            dlo = -0.0; /* the spec's rule for zeros */
        if (dhi == 0)
            dhi = 0.0;
        memcpy(s.min, &dlo, 8);
        memcpy(s.max, &dhi, 8);
        s.min_len = s.max_len = 8;
    } else if (k == T_F_OPT) {
        float lo = (float) dlo, hi = (float) dhi;
        if (lo == 0)
            lo = -0.0f;
        if (hi == 0)
            hi = 0.0f;
        memcpy(s.min, &lo, 4);
        memcpy(s.max, &hi, 4);
        s.min_len = s.max_len = 4;
    } else if (k == T_I32_REQ) {
        int32_t lo = (int32_t) ilo, hi = (int32_t) ihi;
        memcpy(s.min, &lo, 4);
        memcpy(s.max, &hi, 4);
        s.min_len = s.max_len = 4;
    } else if (k == T_I64_OPT) {
        int64_t lo = (int64_t) ilo, hi = (int64_t) ihi;
        memcpy(s.min, &lo, 8);
        memcpy(s.max, &hi, 8);
        s.min_len = s.max_len = 8;
    } else if (k == T_B_OPT) {
        s.min[0] = (uint8_t) ilo;
        s.max[0] = (uint8_t) ihi;
        s.min_len = s.max_len = 1;
    }
    return s;
}

DP_TEST(writer_footer_statistics) {
    table t = make_table(3000, 17);
    /* Row group 1 (rows 1000..1999) of d_opt: all NaN or NULL -> no min/max. */
    for (int64_t r = 1000; r < 2000; r++)
        t.d_opt[r] = NAN;
    const char *path = tmp_file("stats.parquet");
    dp_pq_writer_options o = {.row_group_rows = 1000};
    write_table(path, &t, &o, 0);
    dp_error err = {0};
    dp_pq_file *f = NULL;
    DP_ASSERT_OK(dp_pq_file_open(path, &f, &err), &err);
    const dp_pq_file_meta *m = dp_pq_file_metadata(f);
    DP_ASSERT_EQ_INT(m->n_row_groups, 3);
    DP_ASSERT_EQ_INT(m->n_column_orders, T_N);
    for (int32_t rg = 0; rg < 3; rg++)
        for (int k = 0; k < T_N; k++) {
            const dp_pq_statistics *s = &m->row_groups[rg].columns[k].meta.statistics;
            nstat e = naive_stats(&t, k, rg * 1000, rg * 1000 + 1000);
            DP_ASSERT_TRUE(s->present && s->has_null_count);
            DP_ASSERT_EQ_INT(s->null_count, e.nulls);
            bool long_min = e.has && e.min_len > 64, long_max = e.has && e.max_len > 64;
            if (!e.has || long_min) {
                DP_ASSERT_TRUE(!s->has_min_value);
            } else {
                DP_ASSERT_TRUE(s->has_min_value);
                DP_ASSERT_EQ_INT(s->min_value.len, e.min_len);
                DP_ASSERT_MEMEQ(s->min_value.data, e.min, e.min_len);
            }
            if (!e.has || long_max) {
                DP_ASSERT_TRUE(!s->has_max_value);
            } else {
                DP_ASSERT_TRUE(s->has_max_value);
                DP_ASSERT_EQ_INT(s->max_value.len, e.max_len);
                DP_ASSERT_MEMEQ(s->max_value.data, e.max, e.max_len);
            }
        }
    /* The special values of row group 0 made it into the statistics. */
    const dp_pq_statistics *s0 = &m->row_groups[0].columns[T_D_REQ].meta.statistics;
    double mn, mx;
    memcpy(&mn, s0->min_value.data, 8);
    memcpy(&mx, s0->max_value.data, 8);
    DP_ASSERT_TRUE(mn == -INFINITY && mx == INFINITY);
    const dp_pq_statistics *s1 = &m->row_groups[1].columns[T_D_OPT].meta.statistics;
    DP_ASSERT_TRUE(!s1->has_min_value && !s1->has_max_value);
    dp_pq_file_free(f);
    free_table(&t);
}

DP_TEST(writer_zero_statistics) {
    /* All values zeros of both signs: min is -0.0 and max +0.0 whatever the order. */
    const dp_pq_write_column c = {"z", DP_PQ_DOUBLE, false, false, false};
    const double zs[4] = {0.0, -0.0, 0.0, -0.0};
    const char *path = tmp_file("z.parquet");
    dp_error err = {0};
    dp_pq_writer *w = NULL;
    DP_ASSERT_OK(dp_pq_writer_create(path, &c, 1, NULL, &w, &err), &err);
    dp_pq_column_data v = {.values = zs};
    DP_ASSERT_OK(dp_pq_writer_append(w, &v, 4, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_close(w, &err), &err);
    dp_pq_writer_free(w);
    dp_pq_file *f = NULL;
    DP_ASSERT_OK(dp_pq_file_open(path, &f, &err), &err);
    const dp_pq_statistics *s = &dp_pq_file_metadata(f)->row_groups[0].columns[0].meta.statistics;
    double mn, mx;
    memcpy(&mn, s->min_value.data, 8);
    memcpy(&mx, s->max_value.data, 8);
    DP_ASSERT_BITS_EQ(mn, -0.0);
    DP_ASSERT_BITS_EQ(mx, 0.0);
    dp_pq_file_free(f);
}

/* ---- atomicity and errors ------------------------------------------------------------------ */

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d != NULL && (e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    if (d != NULL)
        closedir(d);
    return n;
}

DP_TEST(writer_atomic_replace_and_abort) {
    const char *dir = dp_test_tmp_dir();
    const char *path = tmp_file("out.parquet");
    table t = make_table(100, 19);
    dp_error err = {0};
    dp_pq_writer *w = NULL;
    /* Nothing appears under the final name before close. */
    DP_ASSERT_OK(dp_pq_writer_create(path, table_cols, T_N, NULL, &w, &err), &err);
    dp_pq_column_data v[T_N];
    table_views(&t, 0, v);
    DP_ASSERT_OK(dp_pq_writer_append(w, v, 100, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_flush(w, &err), &err);
    struct stat sb;
    DP_ASSERT_TRUE(stat(path, &sb) != 0);
    DP_ASSERT_EQ_INT(count_entries(dir), 1); /* the temporary file */
    DP_ASSERT_OK(dp_pq_writer_close(w, &err), &err);
    dp_pq_writer_free(w);
    DP_ASSERT_EQ_INT(count_entries(dir), 1);
    DP_ASSERT_TRUE(stat(path, &sb) == 0);
    off_t size = sb.st_size;
    /* A writer freed without close leaves the existing file untouched and no temporary. */
    DP_ASSERT_OK(dp_pq_writer_create(path, table_cols, T_N, NULL, &w, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_append(w, v, 50, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_flush(w, &err), &err);
    dp_pq_writer_free(w);
    DP_ASSERT_EQ_INT(count_entries(dir), 1);
    DP_ASSERT_TRUE(stat(path, &sb) == 0 && sb.st_size == size);
    DP_ASSERT_EQ_INT(read_back(path, &t), 1);
    free_table(&t);
}

DP_TEST(writer_rejects_bad_input) {
    const char *path = tmp_file("bad.parquet");
    dp_error err = {0};
    dp_pq_writer *w = NULL;
    const dp_pq_write_column dup[2] = {{"a", DP_PQ_DOUBLE, false, false, false},
                                       {"a", DP_PQ_INT64, false, false, false}};
    DP_ASSERT_STATUS(dp_pq_writer_create(path, dup, 2, NULL, &w, &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "'a'");
    DP_ASSERT_CONTAINS(err.msg, path);
    const dp_pq_write_column bad_type = {"x", DP_PQ_INT96, false, false, false};
    DP_ASSERT_STATUS(dp_pq_writer_create(path, &bad_type, 1, NULL, &w, &err), DP_INVALID_ARG);
    const dp_pq_write_column dict_num = {"x", DP_PQ_DOUBLE, false, false, true};
    DP_ASSERT_STATUS(dp_pq_writer_create(path, &dict_num, 1, NULL, &w, &err), DP_INVALID_ARG);
    dp_pq_writer_options lzo = {.codec = DP_PQ_CODEC_LZO};
    DP_ASSERT_STATUS(dp_pq_writer_create(path, &dup[0], 1, &lzo, &w, &err), DP_UNSUPPORTED);
    DP_ASSERT_STATUS(dp_pq_writer_create("/nonexistent-dir/x.parquet", &dup[0], 1, NULL, &w, &err),
                     DP_NOT_FOUND);
    DP_ASSERT_CONTAINS(err.msg, "/nonexistent-dir/x.parquet");
    DP_ASSERT_TRUE(w == NULL);

    /* NULL in a REQUIRED column: refused, sticky, and no file is left. */
    DP_ASSERT_OK(dp_pq_writer_create(path, &dup[0], 1, NULL, &w, &err), &err);
    const double xs[3] = {1, 2, 3};
    const uint8_t valid[3] = {1, 0, 1};
    dp_pq_column_data v = {.values = xs, .valid = valid};
    DP_ASSERT_STATUS(dp_pq_writer_append(w, &v, 3, &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "row 1");
    v.valid = NULL;
    DP_ASSERT_STATUS(dp_pq_writer_append(w, &v, 3, &err), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_pq_writer_close(w, &err), DP_INVALID_ARG);
    dp_pq_writer_free(w);
    DP_ASSERT_EQ_INT(count_entries(dp_test_tmp_dir()), 0);

    /* Invalid UTF-8 in a STRING column (an overlong '/'), decreasing offsets. */
    const dp_pq_write_column sc = {"s", DP_PQ_BYTE_ARRAY, true, false, false};
    DP_ASSERT_OK(dp_pq_writer_create(path, &sc, 1, NULL, &w, &err), &err);
    const uint8_t bytes[] = {'o', 'k', 0xc0, 0xaf};
    const int64_t ofs[3] = {0, 2, 4};
    dp_pq_column_data sv = {.offsets = ofs, .bytes = bytes};
    DP_ASSERT_STATUS(dp_pq_writer_append(w, &sv, 2, &err), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "UTF-8");
    DP_ASSERT_CONTAINS(err.msg, "row 1");
    dp_pq_writer_free(w);
    DP_ASSERT_OK(dp_pq_writer_create(path, &sc, 1, NULL, &w, &err), &err);
    const int64_t dec[3] = {0, 2, 1};
    sv.offsets = dec;
    DP_ASSERT_STATUS(dp_pq_writer_append(w, &sv, 2, &err), DP_INVALID_ARG);
    dp_pq_writer_free(w);
    /* The same bytes are fine in a BYTE_ARRAY column without the STRING annotation. */
    const dp_pq_write_column bc = {"b", DP_PQ_BYTE_ARRAY, false, false, false};
    DP_ASSERT_OK(dp_pq_writer_create(path, &bc, 1, NULL, &w, &err), &err);
    sv.offsets = ofs;
    DP_ASSERT_OK(dp_pq_writer_append(w, &sv, 2, &err), &err);
    DP_ASSERT_OK(dp_pq_writer_close(w, &err), &err);
    dp_pq_writer_free(w);
}

DP_TEST(writer_alloc_failures_are_clean) {
    /* Every allocation of a small write fails in turn: a clean status each time, never a file
     * under the final name unless close succeeded (leaks are caught by ASan). */
    table t = make_table(300, 23);
    const char *path = tmp_file("oom.parquet");
    dp_pq_column_data v[T_N];
    table_views(&t, 0, v);
    int ok_runs = 0, failed_runs = 0;
    for (int64_t n = 1; n < 400 && ok_runs < 3; n++) {
        dp_error err = {0};
        dp_pq_writer *w = NULL;
        unlink(path);
        dp_pq_writer_options o = {.row_group_rows = 128,
                                  .codec = DP_PQ_CODEC_SNAPPY *
                                           dp_pq_codec_can_compress(DP_PQ_CODEC_SNAPPY)};
        dp_alloc_fail_after(n);
        dp_status st = dp_pq_writer_create(path, table_cols, T_N, &o, &w, &err);
        if (st == DP_OK)
            st = dp_pq_writer_append(w, v, 300, &err);
        if (st == DP_OK)
            st = dp_pq_writer_close(w, &err);
        dp_alloc_fail_after(0);
        dp_pq_writer_free(w);
        struct stat sb;
        if (st == DP_OK) {
            ok_runs++;
            DP_ASSERT_EQ_INT(read_back(path, &t), 3);
        } else {
            failed_runs++;
            DP_ASSERT_TRUE(stat(path, &sb) != 0);
            DP_ASSERT_EQ_INT(count_entries(dp_test_tmp_dir()), 0);
            DP_ASSERT_TRUE(err.msg[0] != '\0');
        }
    }
    DP_ASSERT_TRUE(ok_runs > 0);
    DP_ASSERT_CMP_INT(failed_runs, >=, 20); /* buffers, codec context, sink, footer... */
    free_table(&t);
}

/* ---- DuckDB cross-check -------------------------------------------------------------------- */

/* Directory holding @duckdb/node-api (malloc'ed; the caller frees), or NULL. */
static char *cat3(const char *a, const char *b, const char *c) {
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *r = malloc(n);
    if (r == NULL)
        abort();
    strcpy(r, a);
    strcat(r, b);
    strcat(r, c);
    return r;
}

static char *duckdb_modules(void) {
    const char *env = getenv("DP_DUCKDB_NODE_MODULES");
    char *cands[4];
    int n = 0;
    if (env != NULL && env[0] != '\0')
        cands[n++] = cat3(env, "", "");
    cands[n++] = cat3(dp_test_source_dir(), "/node_modules", "");
    cands[n++] = cat3(dp_test_source_dir(), "/bench/node_modules", "");
    cands[n++] = cat3("/work/scratch-examples/node_modules", "", "");
    char *found = NULL;
    for (int i = 0; i < n; i++) {
        char *p = cat3(cands[i], "/@duckdb/node-api/package.json", "");
        struct stat sb;
        if (found == NULL && stat(p, &sb) == 0)
            found = cat3(cands[i], "", "");
        free(p);
        free(cands[i]);
    }
    return found;
}

static const char duck_script[] =
    "const { DuckDBInstance } = require(process.argv[2] + '/@duckdb/node-api');\n"
    "const cell = (v) => {\n"
    "  if (v === null || v === undefined) return null;\n"
    "  if (typeof v === 'number') {\n"
    "    if (Number.isNaN(v)) return 'nan';\n"
    "    if (v === Infinity) return 'inf';\n"
    "    if (v === -Infinity) return '-inf';\n"
    "    if (Object.is(v, -0)) return '-0';\n"
    "    return String(v);\n"
    "  }\n"
    "  if (typeof v === 'bigint') return v.toString();\n"
    "  if (typeof v === 'boolean') return v ? 'true' : 'false';\n"
    "  if (typeof v === 'string') return v;\n"
    "  if (v && v.bytes instanceof Uint8Array) return 'hex:' + "
    "Buffer.from(v.bytes).toString('hex');\n"
    "  return 'other:' + String(v);\n"
    "};\n"
    "(async () => {\n"
    "  const con = await (await DuckDBInstance.create(':memory:')).connect();\n"
    "  const f = process.argv[3].replace(/'/g, \"''\");\n"
    "  const q = async (s) => (await con.runAndReadAll(s)).getRows().map(r => r.map(cell));\n"
    "  const out = {};\n"
    "  out.types = await q(`SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM "
    "read_parquet('${f}'))`);\n"
    "  out.rows = await q(`SELECT * EXCLUDE (file_row_number) FROM read_parquet('${f}', "
    "file_row_number=true) ORDER BY file_row_number`);\n"
    "  out.stats = await q(`SELECT row_group_id, path_in_schema, stats_min_value, "
    "stats_max_value, stats_null_count FROM parquet_metadata('${f}') ORDER BY row_group_id, "
    "column_id`);\n"
    "  process.stdout.write(JSON.stringify(out));\n"
    "})().catch(e => { console.error(String(e)); process.exit(3); });\n";

/* Run the script on path; returns the parsed JSON (caller frees) or fails the test. */
static dp_json *duckdb_read(const char *mods, const char *path) {
    const char *script = tmp_file("duck.js");
    FILE *sf = fopen(script, "w");
    DP_ASSERT_TRUE(sf != NULL);
    fputs(duck_script, sf);
    fclose(sf);
    char *c1 = cat3("node '", script, "' '");
    char *c2 = cat3(c1, mods, "' '");
    char *cmd = cat3(c2, path, "'");
    FILE *p = popen(cmd, "r");
    free(c1);
    free(c2);
    free(cmd);
    DP_ASSERT_TRUE(p != NULL);
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while (buf != NULL && (k = fread(buf + n, 1, cap - n, p)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    int rc = pclose(p);
    if (rc != 0)
        DP_FAILF("DuckDB (node) failed on %s with status %d", path, rc);
    dp_json *j = NULL;
    dp_error err = {0};
    DP_ASSERT_OK(dp_json_parse(buf, n, &j, &err), &err);
    free(buf);
    return j;
}

/* Compare one DuckDB cell (text as the script renders it) with row r of column k. */
static void duck_cell(const table *t, int k, int64_t r, const dp_json *cell) {
    bool valid = t->valid[k] == NULL || t->valid[k][r];
    if (!valid) {
        if (cell->type != DP_JSON_NULL)
            DP_FAILF("DuckDB: %s row %lld should be NULL", table_cols[k].name, (long long) r);
        return;
    }
    if (cell->type != DP_JSON_STRING)
        DP_FAILF("DuckDB: %s row %lld is NULL or not a string", table_cols[k].name, (long long) r);
    const char *s = cell->text;
    char want[256];
    switch (k) {
    case T_D_REQ:
    case T_D_OPT:
    case T_F_OPT: {
        double e = k == T_D_REQ ? t->d_req[r] : k == T_D_OPT ? t->d_opt[r] : (double) t->f_opt[r];
        double got = strcmp(s, "nan") == 0 ? NAN : strtod(s, NULL);
        if (isnan(e) || isnan(got)) {
            if (!(isnan(e) && isnan(got)))
                DP_FAILF("DuckDB: %s row %lld: %s vs %.17g", table_cols[k].name, (long long) r, s,
                         e);
        } else if (memcmp(&e, &got, 8) != 0) {
            DP_FAILF("DuckDB: %s row %lld: %s vs %.17g", table_cols[k].name, (long long) r, s, e);
        }
        return;
    }
    case T_I32_REQ:
        snprintf(want, sizeof want, "%d", t->i32[r]);
        break;
    case T_I64_OPT:
        snprintf(want, sizeof want, "%lld", (long long) t->i64[r]);
        break;
    case T_B_OPT:
        snprintf(want, sizeof want, "%s", t->b[r] ? "true" : "false");
        break;
    case T_BIN_OPT: {
        int q = snprintf(want, sizeof want, "hex:");
        for (int64_t i = t->ofs[k][r]; i < t->ofs[k][r + 1]; i++)
            q += snprintf(want + q, sizeof want - (size_t) q, "%02x", t->bytes[k][i]);
        break;
    }
    default: {
        size_t l = (size_t) (t->ofs[k][r + 1] - t->ofs[k][r]);
        if (cell->text_len != l || memcmp(s, t->bytes[k] + t->ofs[k][r], l) != 0)
            DP_FAILF("DuckDB: %s row %lld: \"%s\" differs", table_cols[k].name, (long long) r, s);
        return;
    }
    }
    if (strcmp(s, want) != 0)
        DP_FAILF("DuckDB: %s row %lld: \"%s\", expected \"%s\"", table_cols[k].name, (long long) r,
                 s, want);
}

DP_TEST(writer_duckdb_reads_back) {
    char *mods = duckdb_modules();
    if (mods == NULL)
        DP_SKIP("DuckDB (npm @duckdb/node-api) not found; set DP_DUCKDB_NODE_MODULES");
    if (system("node --version > /dev/null 2>&1") != 0)
        DP_SKIP("node is not installed");
    static const char *const types[T_N] = {"DOUBLE",  "DOUBLE",  "FLOAT",   "INTEGER", "BIGINT",
                                           "BOOLEAN", "VARCHAR", "VARCHAR", "BLOB"};
    table t = make_table(1500, 29);
    static const int codecs[3] = {DP_PQ_CODEC_ZSTD, DP_PQ_CODEC_SNAPPY, DP_PQ_CODEC_UNCOMPRESSED};
    for (int ci = 0; ci < 3; ci++) {
        if (!dp_pq_codec_can_compress(codecs[ci]))
            continue;
        const char *path = tmp_file("duck.parquet");
        dp_pq_writer_options o = {.codec = codecs[ci], .row_group_rows = 600, .page_bytes = 2048};
        write_table(path, &t, &o, 250);
        dp_json *j = duckdb_read(mods, path);
        const dp_json *ty = dp_json_get(j, "types");
        DP_ASSERT_EQ_INT(ty->n, T_N);
        for (int k = 0; k < T_N; k++) {
            DP_ASSERT_STREQ(dp_json_string(dp_json_at(dp_json_at(ty, (size_t) k), 0)),
                            table_cols[k].name);
            DP_ASSERT_STREQ(dp_json_string(dp_json_at(dp_json_at(ty, (size_t) k), 1)), types[k]);
        }
        const dp_json *rows = dp_json_get(j, "rows");
        DP_ASSERT_EQ_INT(rows->n, t.n);
        for (int64_t r = 0; r < t.n; r++)
            for (int k = 0; k < T_N; k++)
                duck_cell(&t, k, r, dp_json_at(dp_json_at(rows, (size_t) r), (size_t) k));
        /* DuckDB's reading of the footer statistics: null counts exactly; min/max of the
         * integer columns as decimal text (independent of how DuckDB prints floats). */
        const dp_json *stats = dp_json_get(j, "stats");
        DP_ASSERT_EQ_INT(stats->n, 3 * T_N);
        for (size_t q = 0; q < stats->n; q++) {
            const dp_json *s = dp_json_at(stats, q);
            int rg = atoi(dp_json_string(dp_json_at(s, 0)));
            int k = (int) (q % T_N);
            DP_ASSERT_STREQ(dp_json_string(dp_json_at(s, 1)), table_cols[k].name);
            nstat e = naive_stats(&t, k, rg * 600, DP_MIN(t.n, rg * 600 + 600));
            DP_ASSERT_EQ_INT(atoll(dp_json_string(dp_json_at(s, 4))), e.nulls);
            if (k == T_I32_REQ || k == T_I64_OPT) {
                char lo[32], hi[32];
                if (k == T_I32_REQ) {
                    int32_t a, b;
                    memcpy(&a, e.min, 4);
                    memcpy(&b, e.max, 4);
                    snprintf(lo, sizeof lo, "%d", a);
                    snprintf(hi, sizeof hi, "%d", b);
                } else {
                    int64_t a, b;
                    memcpy(&a, e.min, 8);
                    memcpy(&b, e.max, 8);
                    snprintf(lo, sizeof lo, "%lld", (long long) a);
                    snprintf(hi, sizeof hi, "%lld", (long long) b);
                }
                DP_ASSERT_STREQ(dp_json_string(dp_json_at(s, 2)), lo);
                DP_ASSERT_STREQ(dp_json_string(dp_json_at(s, 3)), hi);
            }
            if (k == T_D_REQ || k == T_D_OPT) {
                double lo, hi;
                memcpy(&lo, e.min, 8);
                memcpy(&hi, e.max, 8);
                const char *a = dp_json_string(dp_json_at(s, 2));
                const char *b = dp_json_string(dp_json_at(s, 3));
                /* DuckDB drops statistics with an infinite bound (it shows NULL for both);
                 * otherwise it prints doubles in shortest round-trip form. */
                if (isinf(lo) || isinf(hi)) {
                    DP_ASSERT_TRUE(a == NULL || strtod(a, NULL) == lo);
                } else {
                    DP_ASSERT_TRUE(a != NULL && b != NULL);
                    DP_ASSERT_NEAR(strtod(a, NULL), lo, 0);
                    DP_ASSERT_NEAR(strtod(b, NULL), hi, 0);
                }
            }
            if (k == T_S_REQ || k == T_S_DICT) {
                DP_ASSERT_TRUE(e.min_len <= 64 && e.max_len <= 64); /* true for these rows */
                const dp_json *a = dp_json_at(s, 2), *b = dp_json_at(s, 3);
                DP_ASSERT_TRUE(a->type == DP_JSON_STRING && b->type == DP_JSON_STRING);
                DP_ASSERT_TRUE(a->text_len == e.min_len && b->text_len == e.max_len);
                DP_ASSERT_MEMEQ(a->text, e.min, e.min_len);
                DP_ASSERT_MEMEQ(b->text, e.max, e.max_len);
            }
        }
        dp_json_free(j);
    }
    free(mods);
    free_table(&t);
}
