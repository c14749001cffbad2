/* Parquet footers of every test file, checked against the MANIFEST.tsv files that an independent
 * reader (make_fixtures.mjs, JavaScript) wrote; page header decoding; and robustness: footers
 * truncated at many points, bit flips, allocation failures -> clean errors without leaks. */
#include "dp_test.h"
#include "parquet/pq_meta.h"
#include "parquet/thrift_compact.h"
#include "util/dp_alloc.h"
#include "util/dp_rng.h"

#include <dirent.h>
#include <stdarg.h>
#include <sys/stat.h>

/* ---- Small helpers (test-side memory uses malloc: dp_alloc accounting stays the library's) */

static uint8_t *read_whole(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(n > 0 ? (size_t) n + 1 : 1);
    if (b != NULL && n > 0 && fread(b, 1, (size_t) n, f) != (size_t) n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    if (b != NULL)
        b[n > 0 ? n : 0] = 0;
    *len = n > 0 ? (size_t) n : 0;
    return b;
}

static bool data_present(void) {
    struct stat sb;
    return stat(dp_test_path("tests/data/shared/generated/MANIFEST.tsv"), &sb) == 0;
}

#define REQUIRE_DATA()                                                                             \
    do {                                                                                           \
        if (!data_present())                                                                       \
            DP_SKIP("tests/data/shared is missing (link or copy of the shared test data)");        \
    } while (0)

/* A growable string. */
typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_add(sbuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        b->cap = (b->n + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (b->s == NULL)
            abort();
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_str(sbuf *b, const char *s) {
    sb_add(b, s, strlen(s));
}

static void sb_fmt(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(sbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    sb_add(b, tmp, (size_t) n);
}

static const char *sb_cstr(sbuf *b) {
    if (b->s == NULL)
        sb_add(b, "", 0);
    return b->s;
}

/* ---- MANIFEST.tsv ---------------------------------------------------------------------- */

typedef struct manifest {
    char *text;
    char **cells; /* n_rows x n_cols */
    int n_rows, n_cols;
    int c_file, c_created, c_rows, c_rgs, c_columns, c_nested, c_encodings, c_codecs;
} manifest;

static int header_index(char **hdr, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (strcmp(hdr[i], name) == 0)
            return i;
    DP_FAILF("MANIFEST.tsv has no column %s", name);
}

static void manifest_load(manifest *m, const char *path) {
    size_t len;
    memset(m, 0, sizeof *m);
    m->text = (char *) read_whole(path, &len);
    DP_ASSERT_TRUE(m->text != NULL);
    int lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += m->text[i] == '\n';
    char **all = calloc((size_t) (lines + 1) * 32, sizeof *all);
    int row = 0, ncols = -1;
    char *p = m->text;
    while (*p != 0) {
        char *eol = strchr(p, '\n');
        if (eol != NULL)
            *eol = 0;
        int c = 0;
        for (char *cell = p;; c++) {
            char *tab = strchr(cell, '\t');
            if (tab != NULL)
                *tab = 0;
            DP_ASSERT_CMP_INT(c, <, 32);
            all[row * 32 + c] = cell;
            if (tab == NULL)
                break;
            cell = tab + 1;
        }
        if (ncols < 0)
            ncols = c + 1;
        DP_ASSERT_EQ_INT(c + 1, ncols);
        row++;
        if (eol == NULL)
            break;
        p = eol + 1;
    }
    m->n_cols = ncols;
    m->n_rows = row - 1;
    m->cells = all;
    m->c_file = header_index(all, ncols, "file");
    m->c_created = header_index(all, ncols, "writer_created_by");
    m->c_rows = header_index(all, ncols, "rows");
    m->c_rgs = header_index(all, ncols, "row_groups");
    m->c_columns = header_index(all, ncols, "columns");
    m->c_nested = header_index(all, ncols, "nested");
    m->c_encodings = header_index(all, ncols, "chunk_encodings");
    m->c_codecs = header_index(all, ncols, "codecs");
}

static const char *cell(const manifest *m, int row, int col) {
    return m->cells[(row + 1) * 32 + col];
}

static void manifest_free(manifest *m) {
    free(m->cells);
    free(m->text);
}

/* ---- Labels in the manifest's format (make_fixtures.mjs summarizeColumns) --------------- */

static void logical_label(const dp_pq_logical *lt, sbuf *b) {
    static const char *const units[] = {"MILLIS", "MICROS", "NANOS"};
    const char *unit = lt->time_unit >= 0 && lt->time_unit <= 2 ? units[lt->time_unit] : "?";
    switch (lt->kind) {
    case DP_PQ_LT_NONE:
        return;
    case DP_PQ_LT_DECIMAL:
        sb_fmt(b, "DECIMAL(%d,%d)", (int) lt->decimal_precision, (int) lt->decimal_scale);
        return;
    case DP_PQ_LT_TIME:
        sb_fmt(b, "TIME(%s)", unit);
        return;
    case DP_PQ_LT_TIMESTAMP:
        sb_fmt(b, "TIMESTAMP(%s%s)", unit, lt->time_utc ? ",UTC" : "");
        return;
    case DP_PQ_LT_INTEGER:
        sb_fmt(b, "INT(%d,%s)", (int) lt->int_bit_width, lt->int_signed ? "signed" : "unsigned");
        return;
    case DP_PQ_LT_OTHER:
        if (lt->other_id != 0)
            sb_fmt(b, "LOGICAL#%d", (int) lt->other_id);
        return;
    default:
        sb_str(b, dp_pq_logical_name(lt->kind));
    }
}

static void leaf_label(const dp_pq_column_desc *c, const dp_pq_schema_element *e, sbuf *b) {
    sb_fmt(b, "%s:%s", c->path, dp_pq_physical_name(c->type));
    sbuf lt = {0};
    logical_label(&c->logical, &lt);
    if (lt.n > 0)
        sb_fmt(b, "/%s", lt.s);
    else if (c->converted_type != DP_PQ_CT_NONE) {
        const char *cn = dp_pq_converted_name(c->converted_type);
        if (cn != NULL)
            sb_fmt(b, "/%s", cn);
        else
            sb_fmt(b, "/CONV#%d", (int) c->converted_type);
    }
    /* The manifest marks a missing repetition like REPEATED ('*'). */
    if (!e->has_repetition || c->repetition == DP_PQ_REPEATED)
        sb_str(b, "*");
    else if (c->repetition == DP_PQ_OPTIONAL)
        sb_str(b, "?");
    free(lt.s);
}

static void columns_label(const dp_pq_file_meta *m, const dp_pq_column_desc *cols, int32_t n,
                          sbuf *b) {
    if (n <= 40) {
        for (int32_t i = 0; i < n; i++) {
            if (i > 0)
                sb_str(b, ", ");
            leaf_label(&cols[i], &m->schema[cols[i].schema_index], b);
        }
        return;
    }
    /* "N columns: k x TYPE[/logical][?], ...; first: <6 labels>, ..." with keys in order of
     * first appearance. */
    char *keys[64];
    int counts[64], n_keys = 0;
    for (int32_t i = 0; i < n; i++) {
        sbuf k = {0};
        sb_str(&k, dp_pq_physical_name(cols[i].type));
        sbuf lt = {0};
        logical_label(&cols[i].logical, &lt);
        if (lt.n > 0)
            sb_fmt(&k, "/%s", lt.s);
        free(lt.s);
        if (cols[i].repetition == DP_PQ_OPTIONAL && m->schema[cols[i].schema_index].has_repetition)
            sb_str(&k, "?");
        int j = 0;
        while (j < n_keys && strcmp(keys[j], k.s) != 0)
            j++;
        if (j == n_keys) {
            DP_ASSERT_CMP_INT(n_keys, <, 64);
            keys[n_keys] = k.s;
            counts[n_keys++] = 0;
        } else {
            free(k.s);
        }
        counts[j]++;
    }
    sb_fmt(b, "%d columns: ", (int) n);
    for (int j = 0; j < n_keys; j++) {
        sb_fmt(b, "%s%d x %s", j > 0 ? ", " : "", counts[j], keys[j]);
        free(keys[j]);
    }
    sb_str(b, "; first: ");
    for (int32_t i = 0; i < 6; i++) {
        leaf_label(&cols[i], &m->schema[cols[i].schema_index], b);
        sb_str(b, ", ");
    }
    sb_str(b, "...");
}

/* Names in order of first appearance, space-separated (the manifest's sets). */
static void add_unique(sbuf *b, const char *name) {
    const char *s = sb_cstr(b);
    size_t n = strlen(name);
    for (const char *p = s; *p != 0;) {
        const char *sp = strchr(p, ' ');
        size_t len = sp != NULL ? (size_t) (sp - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return;
        if (sp == NULL)
            break;
        p = sp + 1;
    }
    if (b->n > 0)
        sb_str(b, " ");
    sb_str(b, name);
}

static void tsv_clean(sbuf *b, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n;) {
        if (p[i] == '\t' || p[i] == '\r' || p[i] == '\n') {
            while (i < n && (p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
                i++;
            sb_str(b, " ");
        } else {
            sb_add(b, (const char *) p + i, 1);
            i++;
        }
    }
}

/* ---- The corpus check ------------------------------------------------------------------- */

typedef struct expect_fail {
    const char *file;
    dp_status st;
    const char *msg_part;
} expect_fail;

/* Files whose footer this reader refuses, and why (see the MANIFEST notes of each). */
static const expect_fail k_footer_errors[] = {
    {"bad_data/PARQUET-1481.parquet", DP_CORRUPT, "physical type -7"},
    {"bad_data/ARROW-GH-41317.parquet", DP_CORRUPT, "path_in_schema"},
    {"bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet", DP_CORRUPT, "lies outside"},
    {"data/uniform_encryption.parquet.encrypted", DP_ENCRYPTED,
     "encrypted files are not supported"},
    {"data/encrypt_columns_plaintext_footer.parquet.encrypted", DP_ENCRYPTED,
     "encrypted files are not supported"},
};

static const expect_fail *expected_failure(const char *rel) {
    for (size_t i = 0; i < DP_ARRAY_LEN(k_footer_errors); i++)
        if (strcmp(k_footer_errors[i].file, rel) == 0)
            return &k_footer_errors[i];
    return NULL;
}

static bool has_suffix(const char *s, const char *suf) {
    size_t n = strlen(s), k = strlen(suf);
    return n >= k && strcmp(s + n - k, suf) == 0;
}

/* Count *.parquet and *.parquet.encrypted below dir (recursively). */
static int count_parquet(const char *dir) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(sub, &sb) != 0)
            continue;
        if (S_ISDIR(sb.st_mode))
            n += count_parquet(sub);
        else if (has_suffix(e->d_name, ".parquet") || has_suffix(e->d_name, ".parquet.encrypted"))
            n++;
    }
    closedir(d);
    return n;
}

/* Compare one file with its manifest row; returns 1 when checked. */
static void check_file(const manifest *mf, int row, const char *dir) {
    const char *rel = cell(mf, row, mf->c_file);
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    const expect_fail *xf = expected_failure(rel);
    int64_t live0 = dp_alloc_live_bytes();

    /* 1. The footer pieces, decoded directly (also for files the full read refuses). */
    size_t len;
    uint8_t *file = read_whole(path, &len);
    if (file == NULL)
        DP_FAILF("%s: cannot read", path);
    bool encrypted_footer = len >= 4 && memcmp(file + len - 4, "PARE", 4) == 0;
    if (encrypted_footer) {
        DP_ASSERT_STREQ(cell(mf, row, mf->c_created), "(encrypted footer)");
    } else {
        DP_ASSERT_TRUE(len >= 12 && memcmp(file + len - 4, "PAR1", 4) == 0);
        uint32_t flen = dp_load_u32le(file + len - 8);
        DP_ASSERT_CMP_INT(flen + 12, <=, len);
        dp_pq_file_meta m;
        dp_error err_, *err = &err_;
        dp_error_init(err);
        dp_status st = dp_pq_file_meta_decode(file + len - 8 - flen, flen, &m, err);
        if (st != DP_OK)
            DP_FAILF("%s: decode: %s %s", rel, dp_status_name(st), err->msg);
        sbuf s = {0};
        if (m.has_created_by)
            tsv_clean(&s, m.created_by.data, m.created_by.len);
        else
            sb_str(&s, "(none)");
        if (strcmp(sb_cstr(&s), cell(mf, row, mf->c_created)) != 0)
            DP_FAILF("%s: created_by \"%s\", manifest \"%s\"", rel, s.s,
                     cell(mf, row, mf->c_created));
        free(s.s);
        DP_ASSERT_EQ_INT(m.num_rows, strtoll(cell(mf, row, mf->c_rows), NULL, 10));
        DP_ASSERT_EQ_INT(m.n_row_groups, strtoll(cell(mf, row, mf->c_rgs), NULL, 10));
        sbuf enc = {0}, codecs = {0};
        for (int32_t g = 0; g < m.n_row_groups; g++)
            for (int32_t j = 0; j < m.row_groups[g].n_columns; j++) {
                const dp_pq_column_meta *cm = &m.row_groups[g].columns[j].meta;
                for (int32_t k = 0; k < cm->n_encodings; k++) {
                    const char *en = dp_pq_encoding_name(cm->encodings[k]);
                    char tmp[32];
                    snprintf(tmp, sizeof tmp, "ENC#%d", (int) cm->encodings[k]);
                    add_unique(&enc, en != NULL ? en : tmp);
                }
                add_unique(&codecs, dp_pq_codec_name(cm->codec));
            }
        if (strcmp(sb_cstr(&enc), cell(mf, row, mf->c_encodings)) != 0)
            DP_FAILF("%s: encodings \"%s\", manifest \"%s\"", rel, enc.s,
                     cell(mf, row, mf->c_encodings));
        if (strcmp(sb_cstr(&codecs), cell(mf, row, mf->c_codecs)) != 0)
            DP_FAILF("%s: codecs \"%s\", manifest \"%s\"", rel, codecs.s,
                     cell(mf, row, mf->c_codecs));
        free(enc.s);
        free(codecs.s);

        dp_pq_column_desc *cols = NULL;
        int32_t nc = 0;
        st = dp_pq_schema_build(&m, &cols, &nc, err);
        if (st == DP_OK) {
            sbuf lab = {0};
            columns_label(&m, cols, nc, &lab);
            if (strcmp(sb_cstr(&lab), cell(mf, row, mf->c_columns)) != 0)
                DP_FAILF("%s: columns\n  ours:     %s\n  manifest: %s", rel, lab.s,
                         cell(mf, row, mf->c_columns));
            free(lab.s);
            bool any_nested = false;
            for (int32_t i = 0; i < nc; i++) {
                bool expect_nested =
                    strchr(cols[i].path, '.') != NULL || cols[i].repetition == DP_PQ_REPEATED;
                /* Nested leaves are listed by their dotted path and refused by flat readers;
                 * flat leaves' paths are their names. */
                DP_ASSERT_EQ_INT(cols[i].nested, expect_nested);
                if (!cols[i].nested)
                    DP_ASSERT_STREQ(cols[i].path, cols[i].name);
                else
                    DP_ASSERT_EQ_INT(cols[i].kind, DP_PQ_KIND_OTHER);
                any_nested |= cols[i].nested;
            }
            DP_ASSERT_STREQ(any_nested ? "yes" : "no", cell(mf, row, mf->c_nested));
        } else {
            /* Only a file the full read must refuse may fail here. */
            if (xf == NULL || xf->st != st)
                DP_FAILF("%s: schema: %s %s", rel, dp_status_name(st), err->msg);
            DP_ASSERT_CONTAINS(err->msg, xf->msg_part);
        }
        dp_pq_columns_free(cols, nc);
        dp_pq_file_meta_reset(&m);
    }
    free(file);

    /* 2. The full footer read from the file. */
    dp_source *src = NULL;
    dp_error err_, *err = &err_;
    dp_error_init(err);
    DP_ASSERT_OK(dp_source_open_file(path, &src, err), err);
    dp_buf footer;
    dp_buf_init(&footer);
    dp_pq_file_meta m;
    dp_pq_column_desc *cols = NULL;
    int32_t nc = 0;
    dp_status st = dp_pq_footer_read(src, &footer, &m, &cols, &nc, err);
    if (xf != NULL) {
        if (st != xf->st)
            DP_FAILF("%s: expected %s, got %s (%s)", rel, dp_status_name(xf->st),
                     dp_status_name(st), err->msg);
        DP_ASSERT_CONTAINS(err->msg, xf->msg_part);
        DP_ASSERT_TRUE(strncmp(err->msg, path, strlen(path)) == 0); /* names the file first */
        DP_ASSERT_TRUE(cols == NULL && footer.data == NULL);
    } else {
        if (st != DP_OK)
            DP_FAILF("%s: %s %s", rel, dp_status_name(st), err->msg);
        DP_ASSERT_EQ_INT(m.n_row_groups, strtoll(cell(mf, row, mf->c_rgs), NULL, 10));
        for (int32_t g = 0; g < m.n_row_groups; g++)
            for (int32_t j = 0; j < nc; j++)
                DP_ASSERT_EQ_INT(m.row_groups[g].columns[j].meta.type, cols[j].type);
    }
    dp_pq_columns_free(cols, nc);
    dp_pq_file_meta_reset(&m);
    dp_buf_reset(&footer);
    dp_source_free(src);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
}

static void check_corpus(const char *rel_dir) {
    char dir[2048], mpath[4096];
    snprintf(dir, sizeof dir, "%s", dp_test_path(rel_dir));
    snprintf(mpath, sizeof mpath, "%s/MANIFEST.tsv", dir);
    manifest mf;
    manifest_load(&mf, mpath);
    int checked = 0;
    for (int r = 0; r < mf.n_rows; r++) {
        check_file(&mf, r, dir);
        checked++;
    }
    int on_disk = count_parquet(dir);
    printf("%s: %d files checked against MANIFEST.tsv, %d Parquet files on disk\n", rel_dir,
           checked, on_disk);
    DP_ASSERT_EQ_INT(checked, on_disk);
    manifest_free(&mf);
}

DP_TEST(meta_footers_of_generated_files_match_manifest) {
    REQUIRE_DATA();
    check_corpus("tests/data/shared/generated");
}

DP_TEST(meta_footers_of_parquet_testing_files_match_manifest) {
    REQUIRE_DATA();
    check_corpus("tests/data/shared/parquet-testing");
}

/* ---- Specific facts -------------------------------------------------------------------- */

typedef struct loaded {
    dp_source *src;
    dp_buf footer;
    dp_pq_file_meta m;
    dp_pq_column_desc *cols;
    int32_t nc;
} loaded;

static void load(loaded *l, const char *rel) {
    dp_error err_, *err = &err_;
    dp_error_init(err);
    memset(l, 0, sizeof *l);
    DP_ASSERT_OK(dp_source_open_file(dp_test_path(rel), &l->src, err), err);
    dp_buf_init(&l->footer);
    dp_status st = dp_pq_footer_read(l->src, &l->footer, &l->m, &l->cols, &l->nc, err);
    if (st != DP_OK)
        DP_FAILF("%s: %s %s", rel, dp_status_name(st), err->msg);
}

static void unload(loaded *l) {
    dp_pq_columns_free(l->cols, l->nc);
    dp_pq_file_meta_reset(&l->m);
    dp_buf_reset(&l->footer);
    dp_source_free(l->src);
}

static const dp_pq_column_desc *col_named(const loaded *l, const char *path) {
    for (int32_t i = 0; i < l->nc; i++)
        if (strcmp(l->cols[i].path, path) == 0)
            return &l->cols[i];
    DP_FAILF("no column %s", path);
}

DP_TEST(meta_schema_kinds_levels_and_decimals) {
    REQUIRE_DATA();
    loaded l;
    /* parquet-rs writes LogicalType; REQUIRED and OPTIONAL columns. */
    load(&l, "tests/data/shared/generated/arrowrs_mixed_snappy_v2.parquet");
    const dp_pq_column_desc *c = col_named(&l, "dec_38_10");
    DP_ASSERT_EQ_INT(c->kind, DP_PQ_KIND_DECIMAL);
    DP_ASSERT_EQ_INT(c->precision, 38);
    DP_ASSERT_EQ_INT(c->scale, 10);
    DP_ASSERT_EQ_INT(c->type_length, 16);
    DP_ASSERT_EQ_INT(c->max_def, 1);
    DP_ASSERT_EQ_INT(c->max_rep, 0);
    DP_ASSERT_TRUE(c->numeric && !c->nested);
    c = col_named(&l, "d_val");
    DP_ASSERT_EQ_INT(c->repetition, DP_PQ_REQUIRED);
    DP_ASSERT_EQ_INT(c->max_def, 0);
    DP_ASSERT_EQ_INT(c->kind, DP_PQ_KIND_FLOAT);
    c = col_named(&l, "i8");
    DP_ASSERT_EQ_INT(c->kind, DP_PQ_KIND_INT);
    DP_ASSERT_EQ_INT(c->logical.int_bit_width, 8);
    c = col_named(&l, "mol_id");
    DP_ASSERT_EQ_INT(c->kind, DP_PQ_KIND_STRING);
    DP_ASSERT_TRUE(!c->numeric);
    c = col_named(&l, "flag");
    DP_ASSERT_EQ_INT(c->kind, DP_PQ_KIND_BOOL);
    DP_ASSERT_TRUE(c->numeric);
    unload(&l);
    /* DuckDB writes converted types only for integers: INT_8 -> INT; DECIMAL legacy fields. */
    load(&l, "tests/data/shared/generated/duckdb_mixed_zstd.parquet");
    c = col_named(&l, "i8");
    DP_ASSERT_EQ_INT(c->converted_type, DP_PQ_CT_INT_8);
    DP_ASSERT_EQ_INT(c->kind, DP_PQ_KIND_INT);
    c = col_named(&l, "dec_18_6");
    DP_ASSERT_EQ_INT(c->kind, DP_PQ_KIND_DECIMAL);
    DP_ASSERT_EQ_INT(c->precision, 18);
    DP_ASSERT_EQ_INT(c->scale, 6);
    unload(&l);
    /* Legacy DECIMAL (converted type + scale/precision, no LogicalType) on FLBA. */
    load(&l, "tests/data/shared/parquet-testing/data/fixed_length_decimal_legacy.parquet");
    c = col_named(&l, "value");
    DP_ASSERT_EQ_INT(c->logical.kind, DP_PQ_LT_NONE);
    DP_ASSERT_EQ_INT(c->kind, DP_PQ_KIND_DECIMAL);
    DP_ASSERT_EQ_INT(c->precision, 13); /* DuckDB: DECIMAL(13,2) */
    DP_ASSERT_EQ_INT(c->scale, 2);
    unload(&l);
    /* UINT_64 converted type; FLOAT16; INT96; unknown logical type -> physical; NullType. */
    load(&l, "tests/data/shared/parquet-testing/data/concatenated_gzip_members.parquet");
    DP_ASSERT_EQ_INT(col_named(&l, "long_col")->kind, DP_PQ_KIND_UINT);
    unload(&l);
    load(&l, "tests/data/shared/parquet-testing/data/float16_nonzeros_and_nans.parquet");
    DP_ASSERT_EQ_INT(col_named(&l, "x")->kind, DP_PQ_KIND_FLOAT16);
    unload(&l);
    load(&l, "tests/data/shared/parquet-testing/data/int96_from_spark.parquet");
    DP_ASSERT_EQ_INT(col_named(&l, "a")->kind, DP_PQ_KIND_TEMPORAL);
    DP_ASSERT_TRUE(!col_named(&l, "a")->numeric);
    unload(&l);
    load(&l, "tests/data/shared/parquet-testing/data/unknown-logical-type.parquet");
    c = col_named(&l, "column with unknown type");
    DP_ASSERT_EQ_INT(c->logical.kind, DP_PQ_LT_OTHER);
    DP_ASSERT_EQ_INT(c->logical.other_id, 2555);
    DP_ASSERT_EQ_INT(c->kind, DP_PQ_KIND_BINARY);
    DP_ASSERT_EQ_INT(col_named(&l, "column with known type")->kind, DP_PQ_KIND_STRING);
    unload(&l);
    /* Nested: a LIST leaf (3-level) and a MAP. */
    load(&l, "tests/data/shared/parquet-testing/data/datapage_v2.snappy.parquet");
    c = col_named(&l, "e.list.element");
    DP_ASSERT_TRUE(c->nested);
    DP_ASSERT_EQ_INT(c->max_rep, 1);
    DP_ASSERT_EQ_INT(c->max_def, 2); /* e OPTIONAL, list REPEATED, element REQUIRED */
    DP_ASSERT_STREQ(c->name, "element");
    DP_ASSERT_TRUE(!col_named(&l, "b")->nested);
    unload(&l);
    load(&l, "tests/data/shared/parquet-testing/data/large_string_map.brotli.parquet");
    c = col_named(&l, "arr.key_value.value");
    DP_ASSERT_TRUE(c->nested);
    DP_ASSERT_EQ_INT(c->max_rep, 1);
    unload(&l);
    /* Statistics and encoding_stats decoded. */
    load(&l, "tests/data/shared/parquet-testing/data/data_index_bloom_encoding_stats.parquet");
    const dp_pq_column_meta *cm = &l.m.row_groups[0].columns[0].meta;
    DP_ASSERT_TRUE(cm->n_encoding_stats > 0);
    DP_ASSERT_TRUE(cm->statistics.present);
    unload(&l);
    /* dictionary_page_offset = 0 is "absent": the chunk starts at the data page. */
    load(&l, "tests/data/shared/parquet-testing/data/dict-page-offset-zero.parquet");
    cm = &l.m.row_groups[0].columns[0].meta;
    int64_t start, clen;
    dp_pq_chunk_range(cm, &start, &clen);
    DP_ASSERT_EQ_INT(start, cm->data_page_offset);
    unload(&l);
}

/* ---- Hand-built footers: schema trees, validation, budgets ----------------------------- */

typedef struct leaf_spec {
    const char *name;
    int type; /* -1: group */
    int rep;
    int children;
} leaf_spec;

/* FileMetaData with the given schema, one row group of `rows` rows whose chunks are named after
 * the leaves (path = dotted names) and lie at offset 4 + 10 * j, 10 bytes each. */
static void write_meta(dp_buf *out, const leaf_spec *s, int n, int64_t rows, int chunk_count,
                       const char *const *chunk_paths) {
    dp_thrift_writer w;
    dp_thrift_writer_init(&w, out);
    dp_thrift_write_struct_begin(&w);
    dp_thrift_write_field_i32(&w, 1, 2);
    dp_thrift_write_field_list_begin(&w, 2, DP_THRIFT_STRUCT, n);
    for (int i = 0; i < n; i++) {
        dp_thrift_write_struct_begin(&w);
        if (s[i].type >= 0)
            dp_thrift_write_field_i32(&w, 1, s[i].type);
        if (s[i].rep >= 0)
            dp_thrift_write_field_i32(&w, 3, s[i].rep);
        dp_thrift_write_field_string(&w, 4, s[i].name);
        if (s[i].children != 0)
            dp_thrift_write_field_i32(&w, 5, s[i].children);
        dp_thrift_write_struct_end(&w);
    }
    dp_thrift_write_field_i64(&w, 3, rows);
    dp_thrift_write_field_list_begin(&w, 4, DP_THRIFT_STRUCT, 1);
    dp_thrift_write_struct_begin(&w);
    dp_thrift_write_field_list_begin(&w, 1, DP_THRIFT_STRUCT, chunk_count);
    for (int j = 0; j < chunk_count; j++) {
        dp_thrift_write_struct_begin(&w);
        dp_thrift_write_field_i64(&w, 2, 0);
        dp_thrift_write_field_struct_begin(&w, 3);
        dp_thrift_write_field_i32(&w, 1, DP_PQ_DOUBLE);
        dp_thrift_write_field_list_begin(&w, 2, DP_THRIFT_I32, 1);
        dp_thrift_write_i32(&w, DP_PQ_ENC_PLAIN);
        /* path_in_schema: split the dotted path */
        const char *p = chunk_paths[j];
        int parts = 1;
        for (const char *q = p; *q; q++)
            parts += *q == '.';
        dp_thrift_write_field_list_begin(&w, 3, DP_THRIFT_BINARY, parts);
        for (const char *q = p;;) {
            const char *dot = strchr(q, '.');
            size_t len = dot ? (size_t) (dot - q) : strlen(q);
            dp_thrift_write_binary(&w, q, len);
            if (!dot)
                break;
            q = dot + 1;
        }
        dp_thrift_write_field_i32(&w, 4, DP_PQ_CODEC_UNCOMPRESSED);
        dp_thrift_write_field_i64(&w, 5, rows);
        dp_thrift_write_field_i64(&w, 6, 10);
        dp_thrift_write_field_i64(&w, 7, 10);
        dp_thrift_write_field_i64(&w, 9, 4 + 10 * j);
        dp_thrift_write_struct_end(&w);
        dp_thrift_write_struct_end(&w);
    }
    dp_thrift_write_field_i64(&w, 2, 10 * chunk_count);
    dp_thrift_write_field_i64(&w, 3, rows);
    dp_thrift_write_struct_end(&w);
    dp_thrift_write_field_string(&w, 6, "dpipe test");
    dp_thrift_write_struct_end(&w);
    DP_ASSERT_OK(dp_thrift_writer_finish(&w, NULL), (dp_error *) NULL);
}

static dp_status meta_status(const leaf_spec *s, int n, int64_t rows, int chunks,
                             const char *const *paths, uint64_t file_size, dp_error *err,
                             dp_pq_column_desc **cols_out, int32_t *nc_out) {
    dp_buf b;
    dp_buf_init(&b);
    write_meta(&b, s, n, rows, chunks, paths);
    dp_pq_file_meta m;
    dp_pq_column_desc *cols = NULL;
    int32_t nc = 0;
    dp_status st = dp_pq_file_meta_decode(b.data, b.size, &m, err);
    if (st == DP_OK)
        st = dp_pq_schema_build(&m, &cols, &nc, err);
    if (st == DP_OK)
        st = dp_pq_meta_validate(&m, cols, nc, file_size, err);
    if (st == DP_OK && cols_out != NULL) {
        *cols_out = cols;
        *nc_out = nc;
        cols = NULL;
        nc = 0;
    }
    dp_pq_columns_free(cols, nc);
    dp_pq_file_meta_reset(&m);
    dp_buf_reset(&b);
    return st;
}

DP_TEST(meta_schema_tree_shapes) {
    dp_error err_, *err = &err_;
    dp_error_init(err);
    /* root { a (double, optional); g (group, optional) { b (double, required);
     * r (group, repeated) { c (double, optional) } } } */
    const leaf_spec ok[] = {{"root", -1, -1, 2}, {"a", DP_PQ_DOUBLE, 1, 0},
                            {"g", -1, 1, 2},     {"b", DP_PQ_DOUBLE, 0, 0},
                            {"r", -1, 2, 1},     {"c", DP_PQ_DOUBLE, 1, 0}};
    const char *paths[] = {"a", "g.b", "g.r.c"};
    dp_pq_column_desc *cols = NULL;
    int32_t nc = 0;
    DP_ASSERT_OK(meta_status(ok, 6, 5, 3, paths, 1000, err, &cols, &nc), err);
    DP_ASSERT_EQ_INT(nc, 3);
    DP_ASSERT_STREQ(cols[0].path, "a");
    DP_ASSERT_EQ_INT(cols[0].max_def, 1);
    DP_ASSERT_TRUE(!cols[0].nested);
    DP_ASSERT_STREQ(cols[1].path, "g.b");
    DP_ASSERT_EQ_INT(cols[1].max_def, 1);
    DP_ASSERT_EQ_INT(cols[1].max_rep, 0);
    DP_ASSERT_TRUE(cols[1].nested);
    DP_ASSERT_STREQ(cols[2].path, "g.r.c");
    DP_ASSERT_STREQ(cols[2].name, "c");
    DP_ASSERT_EQ_INT(cols[2].max_def, 3);
    DP_ASSERT_EQ_INT(cols[2].max_rep, 1);
    DP_ASSERT_EQ_INT(cols[2].schema_index, 5);
    dp_pq_columns_free(cols, nc);

    /* Root claims 3 children, 2 follow. */
    const leaf_spec few[] = {
        {"root", -1, -1, 3}, {"a", DP_PQ_DOUBLE, 1, 0}, {"b", DP_PQ_DOUBLE, 1, 0}};
    const char *p2[] = {"a", "b"};
    DP_ASSERT_STATUS(meta_status(few, 3, 1, 2, p2, 1000, err, NULL, NULL), DP_CORRUPT);
    /* A group claims more children than remain. */
    const leaf_spec grp[] = {{"root", -1, -1, 2}, {"g", -1, 1, 5}, {"a", DP_PQ_DOUBLE, 1, 0}};
    DP_ASSERT_STATUS(meta_status(grp, 3, 1, 1, p2, 1000, err, NULL, NULL), DP_CORRUPT);
    /* Elements left over after the tree ends. */
    const leaf_spec many[] = {
        {"root", -1, -1, 1}, {"a", DP_PQ_DOUBLE, 1, 0}, {"b", DP_PQ_DOUBLE, 1, 0}};
    DP_ASSERT_STATUS(meta_status(many, 3, 1, 1, p2, 1000, err, NULL, NULL), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "tree ends");
    /* Negative children. */
    const leaf_spec neg[] = {{"root", -1, -1, 2}, {"g", -1, 1, -1}, {"a", DP_PQ_DOUBLE, 1, 0}};
    DP_ASSERT_STATUS(meta_status(neg, 3, 1, 1, p2, 1000, err, NULL, NULL), DP_CORRUPT);
    /* Bad repetition value and bad physical type. */
    const leaf_spec badrep[] = {{"root", -1, -1, 1}, {"a", DP_PQ_DOUBLE, 7, 0}};
    DP_ASSERT_STATUS(meta_status(badrep, 2, 1, 1, p2, 1000, err, NULL, NULL), DP_CORRUPT);
    const leaf_spec badtype[] = {{"root", -1, -1, 1}, {"a", 9, 1, 0}};
    DP_ASSERT_STATUS(meta_status(badtype, 2, 1, 1, p2, 1000, err, NULL, NULL), DP_CORRUPT);
    /* Chunk count differs from the leaves. */
    const leaf_spec two[] = {
        {"root", -1, -1, 2}, {"a", DP_PQ_DOUBLE, 1, 0}, {"b", DP_PQ_DOUBLE, 1, 0}};
    DP_ASSERT_STATUS(meta_status(two, 3, 1, 1, p2, 1000, err, NULL, NULL), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "row group 0 has 1 column chunks but the schema has 2");
    /* Chunk path names another column. */
    const char *swapped[] = {"b", "a"};
    DP_ASSERT_STATUS(meta_status(two, 3, 1, 2, swapped, 1000, err, NULL, NULL), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "path_in_schema");
    /* Chunks past the end of a (too small) file: 2 chunks end at byte 24, file of 30 bytes has
     * its data area [4, 22). */
    DP_ASSERT_STATUS(meta_status(two, 3, 1, 2, p2, 30, err, NULL, NULL), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "column b");
    DP_ASSERT_OK(meta_status(two, 3, 1, 2, p2, 32, err, NULL, NULL), err);
    /* Negative rows. */
    DP_ASSERT_STATUS(meta_status(two, 3, -1, 2, p2, 1000, err, NULL, NULL), DP_CORRUPT);
}

DP_TEST(meta_budget_and_required_fields) {
    dp_error err_, *err = &err_;
    dp_error_init(err);
    /* 2^20 empty row groups (one byte each on the wire, ~100 bytes decoded): refused by the
     * metadata budget before allocating ~100 MB, and in any case by the required fields. */
    size_t n = (size_t) 1 << 20;
    uint8_t *msg = malloc(n + 64);
    size_t k = 0;
    msg[k++] = 0x15; /* 1: version */
    msg[k++] = 0x02;
    msg[k++] = 0x19; /* 2: schema, one element */
    msg[k++] = 0x1c;
    msg[k++] = 0x48; /* 4: name */
    msg[k++] = 0x01;
    msg[k++] = 'r';
    msg[k++] = 0x00;
    msg[k++] = 0x16; /* 3: num_rows 0 */
    msg[k++] = 0x00;
    msg[k++] = 0x19; /* 4: row_groups, 2^20 structs (long size form) */
    msg[k++] = 0xfc;
    msg[k++] = 0x80;
    msg[k++] = 0x80;
    msg[k++] = 0x40;
    memset(msg + k, 0, n);
    k += n;
    msg[k++] = 0x00;
    int64_t live0 = dp_alloc_live_bytes();
    dp_alloc_reset_peak();
    dp_pq_file_meta m;
    dp_status st = dp_pq_file_meta_decode(msg, k, &m, err);
    DP_ASSERT_TRUE(st == DP_LIMIT || st == DP_CORRUPT);
    DP_ASSERT_CMP_INT(dp_alloc_peak_bytes() - live0, <, 64 << 20);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
    free(msg);

    /* A FileMetaData without num_rows. */
    const uint8_t no_rows[] = {0x15, 0x02, 0x19, 0x1c, 0x48, 0x01, 'r', 0x00, 0x29, 0x0c, 0x00};
    DP_ASSERT_STATUS(dp_pq_file_meta_decode(no_rows, sizeof no_rows, &m, err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "num_rows");
    /* The same list field twice (would leak the first). */
    const uint8_t dup[] = {0x15, 0x02, 0x19, 0x1c, 0x48, 0x01, 'r',  0x00, 0x09, 0x04,
                           0x1c, 0x48, 0x01, 's',  0x00, 0x16, 0x00, 0x19, 0x0c, 0x00};
    DP_ASSERT_STATUS(dp_pq_file_meta_decode(dup, sizeof dup, &m, err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "twice");
    /* schema as a list of i32: CORRUPT naming it. */
    const uint8_t wrong[] = {0x15, 0x02, 0x19, 0x15, 0x02, 0x16, 0x00, 0x19, 0x0c, 0x00};
    DP_ASSERT_STATUS(dp_pq_file_meta_decode(wrong, sizeof wrong, &m, err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "schema");
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
}

/* ---- Page headers ----------------------------------------------------------------------- */

static void write_page(dp_buf *b, int type, int32_t comp, int32_t dict_nv, int32_t v2_def) {
    dp_thrift_writer w;
    dp_thrift_writer_init(&w, b);
    dp_thrift_write_struct_begin(&w);
    dp_thrift_write_field_i32(&w, 1, type);
    dp_thrift_write_field_i32(&w, 2, 100);
    dp_thrift_write_field_i32(&w, 3, comp);
    dp_thrift_write_field_i32(&w, 4, (int32_t) 0xdeadbeef);
    if (type == DP_PQ_PAGE_DATA) {
        dp_thrift_write_field_struct_begin(&w, 5);
        dp_thrift_write_field_i32(&w, 1, 10);
        dp_thrift_write_field_i32(&w, 2, DP_PQ_ENC_PLAIN);
        dp_thrift_write_field_i32(&w, 3, DP_PQ_ENC_RLE);
        dp_thrift_write_field_i32(&w, 4, DP_PQ_ENC_RLE);
        dp_thrift_write_field_struct_begin(&w, 5); /* statistics: skipped */
        dp_thrift_write_field_binary(&w, 1, "\x01\x02", 2);
        dp_thrift_write_struct_end(&w);
        dp_thrift_write_struct_end(&w);
    } else if (type == DP_PQ_PAGE_DICTIONARY) {
        dp_thrift_write_field_struct_begin(&w, 7);
        dp_thrift_write_field_i32(&w, 1, dict_nv);
        dp_thrift_write_field_i32(&w, 2, DP_PQ_ENC_PLAIN);
        dp_thrift_write_field_bool(&w, 3, true);
        dp_thrift_write_struct_end(&w);
    } else if (type == DP_PQ_PAGE_DATA_V2) {
        dp_thrift_write_field_struct_begin(&w, 8);
        dp_thrift_write_field_i32(&w, 1, 10);
        dp_thrift_write_field_i32(&w, 2, 3);
        dp_thrift_write_field_i32(&w, 3, 10);
        dp_thrift_write_field_i32(&w, 4, DP_PQ_ENC_RLE_DICTIONARY);
        dp_thrift_write_field_i32(&w, 5, v2_def);
        dp_thrift_write_field_i32(&w, 6, 0);
        dp_thrift_write_field_bool(&w, 7, false);
        dp_thrift_write_struct_end(&w);
    }
    dp_thrift_write_field_i32(&w, 99, 5); /* an unknown field */
    dp_thrift_write_struct_end(&w);
    DP_ASSERT_OK(dp_thrift_writer_finish(&w, NULL), (dp_error *) NULL);
}

DP_TEST(meta_page_headers) {
    dp_error err_, *err = &err_;
    dp_error_init(err);
    dp_buf b;
    dp_buf_init(&b);
    dp_pq_page_header h;
    dp_cursor c;

    write_page(&b, DP_PQ_PAGE_DATA, 50, 0, 0);
    size_t hlen = b.size;
    DP_ASSERT_OK(dp_buf_append(&b, "payload", 7), (dp_error *) NULL);
    dp_cursor_init(&c, b.data, b.size);
    DP_ASSERT_OK(dp_pq_page_header_decode(&c, &h, err), err);
    DP_ASSERT_EQ_U64(dp_cursor_offset(&c), hlen);
    DP_ASSERT_EQ_INT(h.type, DP_PQ_PAGE_DATA);
    DP_ASSERT_EQ_INT(h.uncompressed_size, 100);
    DP_ASSERT_EQ_INT(h.compressed_size, 50);
    DP_ASSERT_TRUE(h.has_crc);
    DP_ASSERT_EQ_U64(h.crc, 0xdeadbeefu);
    DP_ASSERT_TRUE(h.has_data_v1 && !h.has_data_v2 && !h.has_dict);
    DP_ASSERT_EQ_INT(h.num_values, 10);
    DP_ASSERT_EQ_INT(h.def_encoding, DP_PQ_ENC_RLE);
    DP_ASSERT_TRUE(h.is_compressed);
    /* Every proper prefix: TRUNCATED (the page reader's "need more bytes"), cursor unchanged. */
    for (size_t n = 0; n < hlen; n++) {
        dp_cursor_init(&c, b.data, n);
        dp_status st = dp_pq_page_header_decode(&c, &h, err);
        if (st != DP_TRUNCATED)
            DP_FAILF("prefix %zu: %s", n, dp_status_name(st));
        DP_ASSERT_EQ_U64(dp_cursor_offset(&c), 0);
    }

    b.size = 0;
    write_page(&b, DP_PQ_PAGE_DATA_V2, 50, 0, 4);
    dp_cursor_init(&c, b.data, b.size);
    DP_ASSERT_OK(dp_pq_page_header_decode(&c, &h, err), err);
    DP_ASSERT_TRUE(h.has_data_v2);
    DP_ASSERT_EQ_INT(h.num_nulls, 3);
    DP_ASSERT_EQ_INT(h.num_rows, 10);
    DP_ASSERT_EQ_INT(h.encoding, DP_PQ_ENC_RLE_DICTIONARY);
    DP_ASSERT_EQ_INT(h.def_levels_byte_length, 4);
    DP_ASSERT_TRUE(!h.is_compressed);
    /* Levels longer than the page. */
    b.size = 0;
    write_page(&b, DP_PQ_PAGE_DATA_V2, 50, 0, 60);
    dp_cursor_init(&c, b.data, b.size);
    DP_ASSERT_STATUS(dp_pq_page_header_decode(&c, &h, err), DP_CORRUPT);

    b.size = 0;
    write_page(&b, DP_PQ_PAGE_DICTIONARY, 50, 7, 0);
    dp_cursor_init(&c, b.data, b.size);
    DP_ASSERT_OK(dp_pq_page_header_decode(&c, &h, err), err);
    DP_ASSERT_TRUE(h.has_dict && h.dict_is_sorted);
    DP_ASSERT_EQ_INT(h.dict_num_values, 7);
    /* Negative dictionary size (as in ARROW-RS-GH-6229-DICTHEADER). */
    b.size = 0;
    write_page(&b, DP_PQ_PAGE_DICTIONARY, 50, -7, 0);
    dp_cursor_init(&c, b.data, b.size);
    DP_ASSERT_STATUS(dp_pq_page_header_decode(&c, &h, err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "-7");
    /* Negative and huge page sizes. */
    b.size = 0;
    write_page(&b, DP_PQ_PAGE_DATA, -1, 0, 0);
    dp_cursor_init(&c, b.data, b.size);
    DP_ASSERT_STATUS(dp_pq_page_header_decode(&c, &h, err), DP_CORRUPT);
    b.size = 0;
    write_page(&b, DP_PQ_PAGE_DATA, INT32_MAX, 0, 0);
    dp_cursor_init(&c, b.data, b.size);
    DP_ASSERT_STATUS(dp_pq_page_header_decode(&c, &h, err), DP_LIMIT);
    /* A data page without its DataPageHeader. */
    b.size = 0;
    write_page(&b, DP_PQ_PAGE_INDEX, 10, 0, 0);
    dp_cursor_init(&c, b.data, b.size);
    DP_ASSERT_OK(dp_pq_page_header_decode(&c, &h, err), err); /* index pages: skipped by readers */
    b.data[1] = (uint8_t) (DP_PQ_PAGE_DATA << 1);             /* turn it into a data page */
    dp_cursor_init(&c, b.data, b.size);
    DP_ASSERT_STATUS(dp_pq_page_header_decode(&c, &h, err), DP_CORRUPT);
    dp_buf_reset(&b);
}

DP_TEST(meta_page_headers_of_real_files) {
    REQUIRE_DATA();
    /* Walk every page header of every chunk of a few files and check the values add up to each
     * chunk's num_values and the pages tile the chunk exactly. */
    const char *files[] = {
        "tests/data/shared/generated/arrowrs_mixed_snappy_v2.parquet",
        "tests/data/shared/generated/duckdb_mixed_zstd.parquet",
        "tests/data/shared/parquet-testing/data/datapage_v1-snappy-compressed-checksum.parquet",
        "tests/data/shared/generated/arrowrs_mixed_gzip_v1_nodict_rg1000_tinypages.parquet"};
    int64_t pages_total = 0, crc_pages = 0;
    for (size_t f = 0; f < DP_ARRAY_LEN(files); f++) {
        size_t len;
        uint8_t *file = read_whole(dp_test_path(files[f]), &len);
        DP_ASSERT_TRUE(file != NULL);
        loaded l;
        load(&l, files[f]);
        for (int32_t g = 0; g < l.m.n_row_groups; g++)
            for (int32_t j = 0; j < l.nc; j++) {
                const dp_pq_column_meta *cm = &l.m.row_groups[g].columns[j].meta;
                int64_t start, clen;
                dp_pq_chunk_range(cm, &start, &clen);
                dp_cursor c;
                dp_cursor_init(&c, file + start, (size_t) clen);
                int64_t values = 0;
                while (dp_cursor_remaining(&c) > 0) {
                    dp_pq_page_header h;
                    dp_error err_, *err = &err_;
                    DP_ASSERT_OK(dp_pq_page_header_decode(&c, &h, err), err);
                    DP_ASSERT_TRUE(dp_cursor_skip(&c, (size_t) h.compressed_size));
                    if (h.has_data_v1 || h.has_data_v2)
                        values += h.num_values;
                    pages_total++;
                    crc_pages += h.has_crc;
                }
                DP_ASSERT_EQ_INT(values, cm->num_values);
            }
        unload(&l);
        free(file);
    }
    /* MANIFEST: tinypages has 786 pages; the checksum file has CRCs. */
    DP_ASSERT_CMP_INT(pages_total, >=, 786);
    DP_ASSERT_CMP_INT(crc_pages, >, 0);
}

/* ---- Robustness ------------------------------------------------------------------------- */

static dp_status read_mem(const uint8_t *p, size_t n, dp_error *err) {
    dp_source *src = NULL;
    dp_status st = dp_source_open_memory(p, n, "mem.parquet", &src, err);
    if (st != DP_OK)
        return st;
    dp_buf footer;
    dp_buf_init(&footer);
    dp_pq_file_meta m;
    dp_pq_column_desc *cols = NULL;
    int32_t nc = 0;
    st = dp_pq_footer_read(src, &footer, &m, &cols, &nc, err);
    dp_pq_columns_free(cols, nc);
    dp_pq_file_meta_reset(&m);
    dp_buf_reset(&footer);
    dp_source_free(src);
    return st;
}

static const char *const k_small_files[] = {
    "tests/data/shared/generated/duckdb_mixed_zstd.parquet",
    "tests/data/shared/generated/arrowrs_mixed_zstd_v1_rg777_bss.parquet",
    "tests/data/shared/parquet-testing/data/datapage_v2.snappy.parquet",
    "tests/data/shared/parquet-testing/data/large_string_map.brotli.parquet",
    "tests/data/shared/parquet-testing/data/alltypes_tiny_pages.parquet",
    "tests/data/shared/parquet-testing/data/unknown-logical-type.parquet",
    "tests/data/shared/parquet-testing/data/floating_orders_nan_count.parquet",
};

DP_TEST(meta_truncated_files_fail_cleanly) {
    REQUIRE_DATA();
    int64_t live0 = dp_alloc_live_bytes();
    int checked = 0;
    for (size_t f = 0; f < DP_ARRAY_LEN(k_small_files); f++) {
        size_t len;
        uint8_t *file = read_whole(dp_test_path(k_small_files[f]), &len);
        DP_ASSERT_TRUE(file != NULL);
        uint32_t flen = dp_load_u32le(file + len - 8);
        /* The whole file cut at every point of its last 600 bytes (trailer and the end of the
         * footer) and at ~300 points spread over the rest: a clean error, never OK, never a
         * crash. The cut copy lives in an exact-size heap block so ASan sees any read past it.
         * (Every cut point of the FileMetaData itself is covered by the decoder loop below.) */
        size_t dense = len > 600 ? len - 600 : 0;
        for (size_t n = 0; n < len; n += n >= dense ? 1 : 1 + dense / 300) {
            uint8_t *cut = malloc(n > 0 ? n : 1);
            memcpy(cut, file, n);
            dp_error err_, *err = &err_;
            dp_error_init(err);
            dp_status st = read_mem(cut, n, err);
            if (st == DP_OK || st == DP_NOMEM || st == DP_IO)
                DP_FAILF("%s cut at %zu: %s %s", k_small_files[f], n, dp_status_name(st), err->msg);
            /* A file that keeps its head but lost its tail says so. */
            if (n >= 4 && n < len && memcmp(cut + n - 4, "PAR1", 4) != 0)
                DP_ASSERT_EQ_INT(st, DP_TRUNCATED);
            DP_ASSERT_TRUE(strncmp(err->msg, "mem.parquet: ", 13) == 0);
            free(cut);
            checked++;
        }
        /* The FileMetaData bytes cut at every point: TRUNCATED from the decoder. */
        for (uint32_t n = 0; n < flen; n++) {
            uint8_t *cut = malloc(n > 0 ? n : 1);
            memcpy(cut, file + len - 8 - flen, n);
            dp_pq_file_meta m;
            dp_error err_, *err = &err_;
            dp_status st = dp_pq_file_meta_decode(cut, n, &m, err);
            if (st != DP_TRUNCATED)
                DP_FAILF("%s footer cut at %u: %s %s", k_small_files[f], n, dp_status_name(st),
                         err->msg);
            free(cut);
        }
        /* The footer length pointing short of the FileMetaData: CORRUPT (not TRUNCATED: the
         * file's own length is authoritative). */
        uint8_t *copy = malloc(len);
        memcpy(copy, file, len);
        for (uint32_t n = 1; n < flen; n += 1 + flen / 50) {
            copy[len - 8] = (uint8_t) n;
            copy[len - 7] = (uint8_t) (n >> 8);
            copy[len - 6] = (uint8_t) (n >> 16);
            copy[len - 5] = (uint8_t) (n >> 24);
            dp_error err_, *err = &err_;
            dp_status st = read_mem(copy, len, err);
            DP_ASSERT_TRUE(st != DP_OK && st != DP_TRUNCATED);
        }
        free(copy);
        free(file);
    }
    printf("%d truncated files checked\n", checked);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
}

DP_TEST(meta_bit_flips_and_alloc_failures_fail_cleanly) {
    REQUIRE_DATA();
    int64_t live0 = dp_alloc_live_bytes();
    dp_rng rng;
    dp_rng_seed(&rng, 20240611);
    int counts[16] = {0};
    for (size_t f = 0; f < DP_ARRAY_LEN(k_small_files); f++) {
        size_t len;
        uint8_t *file = read_whole(dp_test_path(k_small_files[f]), &len);
        DP_ASSERT_TRUE(file != NULL);
        uint32_t flen = dp_load_u32le(file + len - 8);
        size_t foot = len - 8 - flen;
        uint8_t *copy = malloc(len);
        memcpy(copy, file, len);
        /* One bit flipped at every byte of the footer and trailer. */
        for (size_t i = foot; i < len; i++) {
            copy[i] ^= (uint8_t) (1u << (i % 8));
            dp_error err_, *err = &err_;
            dp_status st = read_mem(copy, len, err);
            counts[st < 16 ? st : 15]++;
            copy[i] = file[i];
        }
        /* Random bytes overwritten (1 to 8 at a time) in the footer. */
        for (int it = 0; it < 400; it++) {
            int k = 1 + (int) dp_rng_below(&rng, 8);
            for (int j = 0; j < k; j++)
                copy[foot + dp_rng_below(&rng, flen)] = (uint8_t) dp_rng_next(&rng);
            dp_error err_, *err = &err_;
            dp_status st = read_mem(copy, len, err);
            counts[st < 16 ? st : 15]++;
            memcpy(copy, file, len);
        }
        /* Allocation failure at every allocation of a successful read. */
        dp_error err_, *err = &err_;
        int64_t before = dp_alloc_count();
        DP_ASSERT_OK(read_mem(file, len, err), err);
        int64_t allocs = dp_alloc_count() - before;
        for (int64_t k = 1; k <= allocs; k++) {
            dp_alloc_fail_after(k);
            dp_status st = read_mem(file, len, err);
            dp_alloc_fail_after(0);
            /* dp_buf retries a failed doubling with the exact size, so some single failures are
             * absorbed; anything else must be NOMEM. */
            if (st != DP_OK && st != DP_NOMEM)
                DP_FAILF("%s: allocation %lld failing gave %s (%s)", k_small_files[f],
                         (long long) k, dp_status_name(st), err->msg);
        }
        free(copy);
        free(file);
    }
    for (int s = 0; s < 16; s++)
        if (counts[s] > 0)
            printf("  %-12s %d\n", dp_status_name((dp_status) s), counts[s]);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
}

/* ---- Encoder round trips ---------------------------------------------------------------- */

static bool view_eq(dp_view a, dp_view b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.data, b.data, a.len) == 0);
}

#define SAME(field)                                                                                \
    do {                                                                                           \
        if ((a)->field != (b)->field)                                                              \
            DP_FAILF("%s: %s differs after encode/decode: %lld vs %lld", what, #field,             \
                     (long long) (a)->field, (long long) (b)->field);                              \
    } while (0)
#define SAME_VIEW(field)                                                                           \
    do {                                                                                           \
        if (!view_eq((a)->field, (b)->field))                                                      \
            DP_FAILF("%s: %s differs after encode/decode", what, #field);                          \
    } while (0)

static void same_stats(const char *what, const dp_pq_statistics *a, const dp_pq_statistics *b) {
    SAME(present);
    SAME(has_min);
    SAME(has_max);
    SAME(has_min_value);
    SAME(has_max_value);
    SAME(has_null_count);
    SAME(has_distinct_count);
    SAME(has_nan_count);
    SAME(null_count);
    SAME(distinct_count);
    SAME(nan_count);
    SAME_VIEW(min);
    SAME_VIEW(max);
    SAME_VIEW(min_value);
    SAME_VIEW(max_value);
}

static void same_logical(const char *what, const dp_pq_logical *a, const dp_pq_logical *b) {
    SAME(kind);
    SAME(decimal_scale);
    SAME(decimal_precision);
    SAME(int_bit_width);
    SAME(int_signed);
    SAME(time_utc);
    SAME(time_unit);
    SAME(other_id);
}

static void same_column_meta(const char *what, const dp_pq_column_meta *a,
                             const dp_pq_column_meta *b) {
    SAME(type);
    SAME(codec);
    SAME(num_values);
    SAME(total_uncompressed_size);
    SAME(total_compressed_size);
    SAME(data_page_offset);
    SAME(has_index_page_offset);
    SAME(index_page_offset);
    SAME(has_dictionary_page_offset);
    SAME(dictionary_page_offset);
    SAME(n_encodings);
    for (int32_t k = 0; k < a->n_encodings; k++)
        SAME(encodings[k]);
    SAME(n_path);
    for (int32_t k = 0; k < a->n_path; k++)
        SAME_VIEW(path[k]);
    SAME(n_encoding_stats);
    for (int32_t k = 0; k < a->n_encoding_stats; k++) {
        SAME(encoding_stats[k].page_type);
        SAME(encoding_stats[k].encoding);
        SAME(encoding_stats[k].count);
    }
    same_stats(what, &a->statistics, &b->statistics);
}

static void same_meta(const char *what, const dp_pq_file_meta *a, const dp_pq_file_meta *b) {
    SAME(version);
    SAME(num_rows);
    SAME(n_schema);
    SAME(n_row_groups);
    SAME(n_kv);
    SAME(has_created_by);
    SAME_VIEW(created_by);
    SAME(n_column_orders);
    for (int32_t i = 0; i < a->n_column_orders; i++)
        SAME(column_orders[i]);
    for (int32_t i = 0; i < a->n_kv; i++) {
        SAME_VIEW(kv[i].key);
        SAME(kv[i].has_value);
        SAME_VIEW(kv[i].value);
    }
    for (int32_t i = 0; i < a->n_schema; i++) {
        SAME_VIEW(schema[i].name);
        SAME(schema[i].has_type);
        SAME(schema[i].type);
        SAME(schema[i].type_length);
        SAME(schema[i].has_repetition);
        SAME(schema[i].repetition);
        SAME(schema[i].num_children);
        SAME(schema[i].converted_type);
        SAME(schema[i].has_scale);
        SAME(schema[i].scale);
        SAME(schema[i].has_precision);
        SAME(schema[i].precision);
        SAME(schema[i].has_field_id);
        SAME(schema[i].field_id);
        same_logical(what, &a->schema[i].logical, &b->schema[i].logical);
    }
    for (int32_t g = 0; g < a->n_row_groups; g++) {
        SAME(row_groups[g].n_columns);
        SAME(row_groups[g].total_byte_size);
        SAME(row_groups[g].num_rows);
        SAME(row_groups[g].has_file_offset);
        SAME(row_groups[g].file_offset);
        SAME(row_groups[g].has_total_compressed_size);
        SAME(row_groups[g].total_compressed_size);
        SAME(row_groups[g].has_ordinal);
        SAME(row_groups[g].ordinal);
        for (int32_t j = 0; j < a->row_groups[g].n_columns; j++) {
            SAME(row_groups[g].columns[j].has_file_path);
            SAME_VIEW(row_groups[g].columns[j].file_path);
            SAME(row_groups[g].columns[j].file_offset);
            SAME(row_groups[g].columns[j].has_meta_data);
            same_column_meta(what, &a->row_groups[g].columns[j].meta,
                             &b->row_groups[g].columns[j].meta);
        }
    }
}

DP_TEST(meta_encode_decode_round_trip_of_every_footer) {
    REQUIRE_DATA();
    const char *dirs[] = {"tests/data/shared/generated", "tests/data/shared/parquet-testing/data",
                          "tests/data/shared/parquet-testing/bad_data"};
    int64_t live0 = dp_alloc_live_bytes();
    int n_files = 0;
    for (size_t d = 0; d < DP_ARRAY_LEN(dirs); d++) {
        char dir[2048];
        snprintf(dir, sizeof dir, "%s", dp_test_path(dirs[d]));
        DIR *dh = opendir(dir);
        DP_ASSERT_TRUE(dh != NULL);
        struct dirent *e;
        while ((e = readdir(dh)) != NULL) {
            if (!has_suffix(e->d_name, ".parquet") && !has_suffix(e->d_name, ".parquet.encrypted"))
                continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            size_t len;
            uint8_t *file = read_whole(path, &len);
            DP_ASSERT_TRUE(file != NULL);
            if (len < 12 || memcmp(file + len - 4, "PAR1", 4) != 0) {
                free(file); /* encrypted footer: nothing to decode */
                continue;
            }
            uint32_t flen = dp_load_u32le(file + len - 8);
            dp_error err_, *err = &err_;
            dp_pq_file_meta a, b;
            DP_ASSERT_OK(dp_pq_file_meta_decode(file + len - 8 - flen, flen, &a, err), err);
            dp_buf enc;
            dp_buf_init(&enc);
            DP_ASSERT_OK(dp_pq_file_meta_encode(&a, &enc, err), err);
            DP_ASSERT_OK(dp_pq_file_meta_decode(enc.data, enc.size, &b, err), err);
            same_meta(e->d_name, &a, &b);
            /* Encoding is a function of the decoded values: a second pass is byte-identical. */
            dp_buf enc2;
            dp_buf_init(&enc2);
            DP_ASSERT_OK(dp_pq_file_meta_encode(&b, &enc2, err), err);
            DP_ASSERT_EQ_U64(enc2.size, enc.size);
            DP_ASSERT_MEMEQ(enc2.data, enc.data, enc.size);
            dp_pq_file_meta_reset(&a);
            dp_pq_file_meta_reset(&b);
            dp_buf_reset(&enc);
            dp_buf_reset(&enc2);
            free(file);
            n_files++;
        }
        closedir(dh);
    }
    printf("%d footers re-encoded and decoded to the same metadata\n", n_files);
    DP_ASSERT_CMP_INT(n_files, >=, 80);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
}

DP_TEST(meta_page_header_encode_round_trip) {
    dp_pq_page_header hs[3];
    memset(hs, 0, sizeof hs);
    hs[0] = (dp_pq_page_header){.type = DP_PQ_PAGE_DATA,
                                .uncompressed_size = 1000,
                                .compressed_size = 400,
                                .has_crc = true,
                                .crc = 0x80000001u,
                                .has_data_v1 = true,
                                .num_values = 77,
                                .encoding = 8,
                                .def_encoding = 3,
                                .rep_encoding = 3,
                                .is_compressed = true};
    hs[1] = (dp_pq_page_header){.type = DP_PQ_PAGE_DICTIONARY,
                                .uncompressed_size = 80,
                                .compressed_size = 80,
                                .has_dict = true,
                                .dict_num_values = 10,
                                .dict_encoding = 0,
                                .dict_is_sorted = true,
                                .is_compressed = true};
    hs[2] = (dp_pq_page_header){.type = DP_PQ_PAGE_DATA_V2,
                                .uncompressed_size = 5000,
                                .compressed_size = 3000,
                                .has_data_v2 = true,
                                .num_values = 300,
                                .num_nulls = 20,
                                .num_rows = 300,
                                .encoding = 5,
                                .def_levels_byte_length = 40,
                                .rep_levels_byte_length = 0,
                                .is_compressed = false};
    dp_buf buf;
    dp_buf_init(&buf);
    dp_error err_, *err = &err_;
    for (int i = 0; i < 3; i++)
        DP_ASSERT_OK(dp_pq_page_header_encode(&hs[i], &buf, err), err);
    dp_cursor c;
    dp_cursor_init(&c, buf.data, buf.size);
    for (int i = 0; i < 3; i++) {
        dp_pq_page_header h;
        DP_ASSERT_OK(dp_pq_page_header_decode(&c, &h, err), err);
        const dp_pq_page_header *a = &hs[i], *b = &h;
        const char *what = "page header";
        {
            SAME(type);
            SAME(uncompressed_size);
            SAME(compressed_size);
            SAME(has_crc);
            SAME(crc);
            SAME(has_data_v1);
            SAME(has_data_v2);
            SAME(has_dict);
            SAME(num_values);
            SAME(encoding);
            SAME(def_encoding);
            SAME(rep_encoding);
            SAME(num_nulls);
            SAME(num_rows);
            SAME(def_levels_byte_length);
            SAME(rep_levels_byte_length);
            SAME(is_compressed);
            SAME(dict_num_values);
            SAME(dict_encoding);
            SAME(dict_is_sorted);
        }
    }
    DP_ASSERT_EQ_U64(dp_cursor_remaining(&c), 0);
    dp_buf_reset(&buf);
}
