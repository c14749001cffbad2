/* `dpipe inspect` (dp_cmd_inspect): text and JSON output of footer facts, checked against the
 * shared test data's MANIFEST/expected.json (computed by DuckDB from the data, so footer
 * statistics must agree with them), with a small strict JSON parser written for this test (and
 * Python's json module as a second opinion when /usr/bin/python3 is present). */
#include "dp_test.h"
#include "dpipe/dp_commands.h"
#include "util/dp_alloc.h"
#include "util/dp_base.h"

#include <sys/stat.h>
#include <unistd.h>

static bool data_present(void) {
    struct stat sb;
    return stat(dp_test_path("tests/data/shared/generated/MANIFEST.tsv"), &sb) == 0;
}

#define REQUIRE_DATA()                                                                             \
    do {                                                                                           \
        if (!data_present())                                                                       \
            DP_SKIP("tests/data/shared is missing (link or copy of the shared test data)");        \
    } while (0)

/* Run dp_cmd_inspect into a memory stream; returns malloc'ed output (caller frees). */
static char *run_inspect(const char *const *rel, int n, bool json, dp_status *st_out,
                         dp_error *err) {
    const char *paths[16];
    static char bufs[16][4096];
    DP_ASSERT_CMP_INT(n, <=, 16);
    for (int i = 0; i < n; i++) {
        snprintf(bufs[i], sizeof bufs[i], "%s", dp_test_path(rel[i]));
        paths[i] = bufs[i];
    }
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    DP_ASSERT_TRUE(f != NULL);
    dp_inspect_options opts = {.json = json};
    int64_t live0 = dp_alloc_live_bytes();
    dp_status st = dp_cmd_inspect(paths, n, &opts, f, err);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0); /* nothing leaked, success or not */
    fclose(f);
    if (st_out != NULL)
        *st_out = st;
    else if (st != DP_OK)
        DP_FAILF("dp_cmd_inspect: %s %s", dp_status_name(st), err->msg);
    return text;
}

/* ---- A strict JSON parser into a small tree (numbers kept as their text) --------------- */

enum { J_NULL, J_FALSE, J_TRUE, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
    int type;
    char *s; /* J_STR: decoded UTF-8; J_NUM: the number's text */
    int n;   /* J_ARR/J_OBJ: element count */
    struct jv *items;
    char **keys;
} jv;

typedef struct jp {
    const char *p, *end;
    int depth;
    const char *error;
} jp;

static void ws(jp *j) {
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
        j->p++;
}

static bool fail(jp *j, const char *why) {
    if (j->error == NULL)
        j->error = why;
    return false;
}

static int hexv(char c) {
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

static void put_utf8(char **o, uint32_t cp) {
    if (cp < 0x80) {
        *(*o)++ = (char) cp;
    } else if (cp < 0x800) {
        *(*o)++ = (char) (0xc0 | cp >> 6);
        *(*o)++ = (char) (0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *(*o)++ = (char) (0xe0 | cp >> 12);
        *(*o)++ = (char) (0x80 | ((cp >> 6) & 0x3f));
        *(*o)++ = (char) (0x80 | (cp & 0x3f));
    } else {
        *(*o)++ = (char) (0xf0 | cp >> 18);
        *(*o)++ = (char) (0x80 | ((cp >> 12) & 0x3f));
        *(*o)++ = (char) (0x80 | ((cp >> 6) & 0x3f));
        *(*o)++ = (char) (0x80 | (cp & 0x3f));
    }
}

static bool parse_hex4(jp *j, uint32_t *cp) {
    if (j->end - j->p < 4)
        return fail(j, "short \\u escape");
    *cp = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexv(j->p[i]);
        if (h < 0)
            return fail(j, "bad \\u escape");
        *cp = *cp << 4 | (uint32_t) h;
    }
    j->p += 4;
    return true;
}

static bool parse_string(jp *j, char **out) {
    j->p++; /* opening quote */
    /* The decoded string is never longer than its encoded form up to the closing quote. */
    const char *q = j->p;
    while (q < j->end && *q != '"')
        q += (*q == '\\' && q + 1 < j->end) ? 2 : 1;
    char *buf = malloc((size_t) (q - j->p) + 4), *o = buf;
    while (j->p < j->end && *j->p != '"') {
        unsigned char c = (unsigned char) *j->p;
        if (c < 0x20) {
            free(buf);
            return fail(j, "raw control character in string");
        }
        if (c == '\\') {
            j->p++;
            if (j->p >= j->end) {
                free(buf);
                return fail(j, "escape at end");
            }
            char e = *j->p++;
            uint32_t cp;
            switch (e) {
            case '"':
            case '\\':
            case '/':
                *o++ = e;
                break;
            case 'b':
                *o++ = '\b';
                break;
            case 'f':
                *o++ = '\f';
                break;
            case 'n':
                *o++ = '\n';
                break;
            case 'r':
                *o++ = '\r';
                break;
            case 't':
                *o++ = '\t';
                break;
            case 'u':
                if (!parse_hex4(j, &cp)) {
                    free(buf);
                    return false;
                }
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    uint32_t lo;
                    if (j->end - j->p < 2 || j->p[0] != '\\' || j->p[1] != 'u') {
                        free(buf);
                        return fail(j, "lone high surrogate");
                    }
                    j->p += 2;
                    if (!parse_hex4(j, &lo) || lo < 0xdc00 || lo > 0xdfff) {
                        free(buf);
                        return fail(j, "bad low surrogate");
                    }
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                    free(buf);
                    return fail(j, "lone low surrogate");
                }
                put_utf8(&o, cp);
                break;
            default:
                free(buf);
                return fail(j, "bad escape");
            }
            continue;
        }
        /* Raw UTF-8: check the sequence. */
        int len = c < 0x80                   ? 1
                  : (c >= 0xc2 && c <= 0xdf) ? 2
                  : (c >= 0xe0 && c <= 0xef) ? 3
                  : (c >= 0xf0 && c <= 0xf4) ? 4
                                             : 0;
        if (len == 0 || j->end - j->p < len) {
            free(buf);
            return fail(j, "invalid UTF-8");
        }
        for (int i = 1; i < len; i++)
            if (((unsigned char) j->p[i] & 0xc0) != 0x80) {
                free(buf);
                return fail(j, "invalid UTF-8");
            }
        memcpy(o, j->p, (size_t) len);
        o += len;
        j->p += len;
    }
    if (j->p >= j->end) {
        free(buf);
        return fail(j, "unterminated string");
    }
    j->p++;
    *o = 0;
    *out = buf;
    return true;
}

static bool parse_number(jp *j, char **out) {
    const char *s = j->p;
    if (j->p < j->end && *j->p == '-')
        j->p++;
    if (j->p >= j->end)
        return fail(j, "bad number");
    if (*j->p == '0') {
        j->p++;
    } else if (*j->p >= '1' && *j->p <= '9') {
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    } else {
        return fail(j, "bad number");
    }
    if (j->p < j->end && *j->p == '.') {
        j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return fail(j, "bad fraction");
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
        j->p++;
        if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
            j->p++;
        if (j->p >= j->end || *j->p < '0' || *j->p > '9')
            return fail(j, "bad exponent");
        while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
            j->p++;
    }
    *out = strndup(s, (size_t) (j->p - s));
    return true;
}

static bool parse_value(jp *j, jv *v);

static bool parse_container(jp *j, jv *v, bool obj) {
    if (++j->depth > 64)
        return fail(j, "too deep");
    j->p++;
    v->type = obj ? J_OBJ : J_ARR;
    int cap = 0;
    ws(j);
    if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
        j->p++;
        j->depth--;
        return true;
    }
    for (;;) {
        if (v->n == cap) {
            cap = cap ? cap * 2 : 8;
            v->items = realloc(v->items, (size_t) cap * sizeof *v->items);
            v->keys = realloc(v->keys, (size_t) cap * sizeof *v->keys);
        }
        memset(&v->items[v->n], 0, sizeof *v->items);
        v->keys[v->n] = NULL;
        v->n++; /* counted at once, so jv_free releases a half-parsed member */
        ws(j);
        if (obj) {
            if (j->p >= j->end || *j->p != '"')
                return fail(j, "expected a key");
            if (!parse_string(j, &v->keys[v->n - 1]))
                return false;
            ws(j);
            if (j->p >= j->end || *j->p != ':')
                return fail(j, "expected ':'");
            j->p++;
        }
        if (!parse_value(j, &v->items[v->n - 1]))
            return false;
        ws(j);
        if (j->p < j->end && *j->p == ',') {
            j->p++;
            continue;
        }
        if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
            j->p++;
            j->depth--;
            return true;
        }
        return fail(j, "expected ',' or a closing bracket");
    }
}

static bool parse_value(jp *j, jv *v) {
    ws(j);
    if (j->p >= j->end)
        return fail(j, "unexpected end");
    char c = *j->p;
    if (c == '{' || c == '[')
        return parse_container(j, v, c == '{');
    if (c == '"') {
        v->type = J_STR;
        return parse_string(j, &v->s);
    }
    static const struct {
        const char *w;
        int t;
    } lits[] = {{"null", J_NULL}, {"true", J_TRUE}, {"false", J_FALSE}};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(lits[i].w);
        if ((size_t) (j->end - j->p) >= n && memcmp(j->p, lits[i].w, n) == 0) {
            j->p += n;
            v->type = lits[i].t;
            return true;
        }
    }
    v->type = J_NUM;
    return parse_number(j, &v->s);
}

static void jv_free(jv *v) {
    for (int i = 0; i < v->n; i++) {
        jv_free(&v->items[i]);
        free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->s);
}

/* Parse a whole document; on a syntax error fail the test with the position. */
static void json_parse(const char *text, size_t len, jv *root) {
    jp j = {text, text + len, 0, NULL};
    memset(root, 0, sizeof *root);
    bool ok = parse_value(&j, root);
    ws(&j);
    if (ok && j.p != j.end)
        ok = fail(&j, "trailing characters");
    if (!ok)
        DP_FAILF("invalid JSON at byte %ld: %s (near \"%.40s\")", (long) (j.p - text), j.error,
                 j.p);
}

static const jv *jget(const jv *o, const char *key) {
    if (o->type != J_OBJ)
        return NULL;
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->keys[i], key) == 0)
            return &o->items[i];
    return NULL;
}

static const jv *jreq(const jv *o, const char *key) {
    const jv *v = jget(o, key);
    if (v == NULL)
        DP_FAILF("JSON object has no key \"%s\"", key);
    return v;
}

DP_TEST(inspect_json_checker_rejects_bad_json) {
    /* The checker itself must catch what matters: a test that could not fail proves nothing. */
    const char *bad[] = {"[1,]",  "{\"a\" 1}", "[\"\x01\"]", "[01]",
                         "[1.]",  "[\"\\x\"]", "[\"\xc3\"]", "[\"\\ud800\"]",
                         "[1] 2", "{\"a\":1",  "[nul]"};
    for (size_t i = 0; i < DP_ARRAY_LEN(bad); i++) {
        jp j = {bad[i], bad[i] + strlen(bad[i]), 0, NULL};
        jv v;
        memset(&v, 0, sizeof v);
        bool ok = parse_value(&j, &v);
        ws(&j);
        DP_ASSERT_TRUE(!ok || j.p != j.end);
        jv_free(&v);
    }
    const char *good = "{\"a\": [1, -0.5e+3, \"\\u00e9\\ud83d\\ude00\", true, null], \"b\": {}}";
    jv v;
    json_parse(good, strlen(good), &v);
    DP_ASSERT_STREQ(jreq(&v, "a")->items[2].s, "\xc3\xa9\xf0\x9f\x98\x80");
    jv_free(&v);
}

/* ---- expected.json lookups --------------------------------------------------------------- */

typedef struct expected {
    char *text;
    jv root;
} expected;

static void expected_load(expected *e, const char *rel) {
    FILE *f = fopen(dp_test_path(rel), "rb");
    DP_ASSERT_TRUE(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    e->text = malloc((size_t) n + 1);
    DP_ASSERT_EQ_INT(fread(e->text, 1, (size_t) n, f), n);
    fclose(f);
    json_parse(e->text, (size_t) n, &e->root);
}

static void expected_free(expected *e) {
    jv_free(&e->root);
    free(e->text);
}

static const jv *expected_column(const expected *e, const char *file, const char *col) {
    const jv *cols = jreq(jreq(jreq(&e->root, "files"), file), "columns");
    for (int i = 0; i < cols->n; i++)
        if (strcmp(jreq(&cols->items[i], "name")->s, col) == 0)
            return &cols->items[i];
    DP_FAILF("expected.json: %s has no column %s", file, col);
}

/* Compare one bound of ours (a JSON string with the exact text) with DuckDB's. */
static void check_bound(const char *file, const char *col, const char *which, const jv *ours,
                        const jv *exp, const char *kind) {
    if (strcmp(kind, "float") == 0) {
        /* Same double (FLOAT widened exactly; both texts round-trip); -0.0 == 0.0 by the
         * conventions of expected.json. */
        double a = strtod(ours->s, NULL), b = strtod(exp->s, NULL);
        if (!(a == b))
            DP_FAILF("%s %s %s: ours %s, DuckDB %s", file, col, which, ours->s, exp->s);
    } else if (strcmp(kind, "bool") == 0) {
        DP_ASSERT_STREQ(ours->s, exp->type == J_TRUE ? "true" : "false");
    } else {
        /* int and decimal: exact digits; string: exact bytes; binary: lowercase hex. */
        if (strcmp(ours->s, exp->s) != 0)
            DP_FAILF("%s %s %s: ours \"%s\", DuckDB \"%s\"", file, col, which, ours->s, exp->s);
    }
}

/* For every flat column of the files: our footer min/max/null_count equal DuckDB's values
 * computed from the data (when the footer has them). Returns the number of bounds compared. */
static int check_stats_against_expected(const char *dir, const char *const *files, int n,
                                        int *nulls_compared) {
    char rel[16][512];
    const char *relp[16];
    for (int i = 0; i < n; i++) {
        snprintf(rel[i], sizeof rel[i], "%s/%s", dir, files[i]);
        relp[i] = rel[i];
    }
    dp_error err_, *err = &err_;
    char *out = run_inspect(relp, n, true, NULL, err);
    jv root;
    json_parse(out, strlen(out), &root);
    DP_ASSERT_EQ_INT(root.type, J_ARR);
    DP_ASSERT_EQ_INT(root.n, n);
    char ej[512];
    snprintf(ej, sizeof ej, "%s/expected.json", dir);
    expected e;
    expected_load(&e, ej);
    int compared = 0;
    for (int i = 0; i < n; i++) {
        const jv *fo = &root.items[i];
        const jv *cols = jreq(fo, "columns");
        for (int c = 0; c < cols->n; c++) {
            const jv *co = &cols->items[c];
            if (jreq(co, "nested")->type == J_TRUE)
                continue;
            const char *name = jreq(co, "path")->s;
            const jv *ex = expected_column(&e, files[i], name);
            const char *kind = jreq(ex, "kind")->s;
            const jv *nc = jreq(co, "null_count");
            if (nc->type == J_NUM) {
                DP_ASSERT_STREQ(nc->s, jreq(ex, "null_count")->s);
                (*nulls_compared)++;
            }
            const jv *mn = jreq(co, "min"), *mx = jreq(co, "max");
            DP_ASSERT_EQ_INT(mn->type, mx->type); /* both or neither */
            if (mn->type != J_STR)
                continue;
            if (strcmp(kind, "other") == 0)
                continue; /* temporal: DuckDB prints dates, we print the stored integer */
            check_bound(files[i], name, "min", mn, jreq(ex, "min"), kind);
            check_bound(files[i], name, "max", mx, jreq(ex, "max"), kind);
            compared += 2;
        }
    }
    expected_free(&e);
    jv_free(&root);
    free(out);
    return compared;
}

DP_TEST(inspect_statistics_match_duckdb_values) {
    REQUIRE_DATA();
    /* One row group and several (min/max combined across row groups), both writers, v1/v2. */
    const char *gen[] = {
        "duckdb_mixed_zstd.parquet",       "duckdb_mixed_zstd_rg2048.parquet",
        "arrowrs_mixed_snappy_v2.parquet", "arrowrs_mixed_gzip_v1_nodict_rg1000_tinypages.parquet",
        "duckdb_schema_b.parquet",         "arrowrs_wide_1500x100_snappy_v2.parquet"};
    int nulls = 0;
    int compared = check_stats_against_expected("tests/data/shared/generated", gen, 6, &nulls);
    const char *pt[] = {"data/binary.parquet",
                        "data/int32_decimal.parquet",
                        "data/int64_decimal.parquet",
                        "data/byte_array_decimal.parquet",
                        "data/float16_nonzeros_and_nans.parquet",
                        "data/floating_orders_nan_count.parquet",
                        "data/alltypes_tiny_pages.parquet",
                        "data/delta_encoding_optional_column.parquet",
                        "data/sort_columns.parquet"};
    compared += check_stats_against_expected("tests/data/shared/parquet-testing", pt, 9, &nulls);
    printf("%d min/max bounds and %d null counts equal DuckDB's\n", compared, nulls);
    /* Counted on this corpus; a drop means statistics stopped being decoded. */
    DP_ASSERT_CMP_INT(compared, >=, 3000);
    DP_ASSERT_CMP_INT(nulls, >=, 1500);
}

/* ---- Text output ------------------------------------------------------------------------- */

/* The first `key` after the first `anchor` in `text`. */
static const char *find_after(const char *text, const char *anchor, const char *key) {
    const char *a = strstr(text, anchor);
    if (a == NULL)
        DP_FAILF("output lacks \"%s\"", anchor);
    const char *k = strstr(a, key);
    if (k == NULL)
        DP_FAILF("output lacks \"%s\" after \"%s\"", key, anchor);
    return k;
}

static void line_of(const char *p, char *buf, size_t n) {
    size_t i = 0;
    while (p[i] != 0 && p[i] != '\n' && i + 1 < n) {
        buf[i] = p[i];
        i++;
    }
    buf[i] = 0;
}

DP_TEST(inspect_text_output_facts) {
    REQUIRE_DATA();
    const char *files[] = {"tests/data/shared/generated/duckdb_mixed_zstd_rg2048.parquet",
                           "tests/data/shared/generated/arrowrs_mixed_zstd_v1_rg777_bss.parquet"};
    dp_error err_, *err = &err_;
    char *out = run_inspect(files, 2, false, NULL, err);
    char line[1024];
    DP_ASSERT_CONTAINS(out,
                       "duckdb_mixed_zstd_rg2048.parquet\n  created_by:  DuckDB version v1.5.6");
    DP_ASSERT_CONTAINS(out, "  rows:        3000\n  row groups:  2\n  columns:     24\n");
    line_of(find_after(out, "column 19: dec_38_10", "type:"), line, sizeof line);
    DP_ASSERT_STREQ(line, "type:        FIXED_LEN_BYTE_ARRAY(16), logical DECIMAL(38,10), "
                          "converted DECIMAL(38,10)");
    line_of(find_after(out, "column 19: dec_38_10", "codecs:"), line, sizeof line);
    DP_ASSERT_STREQ(line, "codecs:      ZSTD");
    line_of(find_after(out, "column 19: dec_38_10", "statistics:"), line, sizeof line);
    DP_ASSERT_STREQ(line, "statistics:  min -9999999999999999999999999999.9999999999, max "
                          "9999999999999999999999999999.9999999999, null_count 147");
    line_of(find_after(out, "column 9: i8", "type:"), line, sizeof line);
    DP_ASSERT_STREQ(line, "type:        INT32, converted INT_8");
    line_of(find_after(out, "column 1: smiles", "statistics:"), line, sizeof line);
    DP_ASSERT_STREQ(line, "statistics:  min \"\", max \"\xc3\xa9\", null_count 123");
    /* Per row group (DuckDB rounds row groups to 2048 rows). */
    DP_ASSERT_CONTAINS(out, "  row group 0: 2048 rows, ");
    DP_ASSERT_CONTAINS(out, "  row group 1: 952 rows, ");
    /* The parquet-rs file: LogicalType INTEGER, REQUIRED columns, 4 row groups, no statistics. */
    const char *second = strstr(out, "arrowrs_mixed_zstd_v1_rg777_bss.parquet\n");
    DP_ASSERT_TRUE(second != NULL);
    DP_ASSERT_CONTAINS(second, "  row groups:  4\n");
    DP_ASSERT_CONTAINS(second, "  metadata:    ARROW:schema\n");
    line_of(find_after(second, "column 9: i8", "type:"), line, sizeof line);
    DP_ASSERT_STREQ(line, "type:        INT32, logical INTEGER(8,signed), converted INT_8");
    line_of(find_after(second, "column 2: d_val", "repetition:"), line, sizeof line);
    DP_ASSERT_STREQ(line, "repetition:  REQUIRED, nested: no (max definition level 0, "
                          "repetition level 0)");
    line_of(find_after(second, "column 2: d_val", "statistics:"), line, sizeof line);
    DP_ASSERT_STREQ(line, "statistics:  min n/a, max n/a, null_count n/a");
    line_of(find_after(second, "column 4: d_special", "encodings:"), line, sizeof line);
    DP_ASSERT_CONTAINS(line, "BYTE_STREAM_SPLIT");
    DP_ASSERT_CONTAINS(second, "  row group 3: 669 rows, "); /* 3000 - 3 * 777 */
    free(out);
}

DP_TEST(inspect_nested_and_odd_types) {
    REQUIRE_DATA();
    const char *files[] = {"tests/data/shared/parquet-testing/data/datapage_v2.snappy.parquet",
                           "tests/data/shared/parquet-testing/data/int96_from_spark.parquet",
                           "tests/data/shared/parquet-testing/data/unknown-logical-type.parquet",
                           "tests/data/shared/parquet-testing/data/binary.parquet"};
    dp_error err_, *err = &err_;
    char *out = run_inspect(files, 4, false, NULL, err);
    char line[1024];
    line_of(find_after(out, "column 4: e.list.element", "repetition:"), line, sizeof line);
    DP_ASSERT_STREQ(line, "repetition:  REQUIRED, nested: yes (max definition level 2, "
                          "repetition level 1)");
    line_of(find_after(out, "column 1: b", "repetition:"), line, sizeof line);
    DP_ASSERT_CONTAINS(line, "nested: no");
    line_of(find_after(out, "int96_from_spark", "statistics:"), line, sizeof line);
    DP_ASSERT_CONTAINS(line, "min n/a, max n/a"); /* INT96 has no defined order */
    line_of(find_after(out, "column 1: column with unknown type", "type:"), line, sizeof line);
    DP_ASSERT_STREQ(line, "type:        BYTE_ARRAY, logical OTHER(2555)");
    line_of(find_after(out, "binary.parquet", "statistics:"), line, sizeof line);
    DP_ASSERT_STREQ(line, "statistics:  min 00, max 0b, null_count 0");
    free(out);
}

/* ---- JSON output ------------------------------------------------------------------------ */

static bool python_json_ok(const char *text) {
    if (access("/usr/bin/python3", X_OK) != 0)
        return true; /* the C parser above is the check */
    char path[4096];
    snprintf(path, sizeof path, "%s/out.json", dp_test_tmp_dir());
    FILE *f = fopen(path, "wb");
    DP_ASSERT_TRUE(f != NULL);
    fputs(text, f);
    fclose(f);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1], "
             "encoding=\"utf-8\")); assert isinstance(d, list)' '%s'",
             path);
    return system(cmd) == 0;
}

DP_TEST(inspect_json_is_one_valid_document) {
    REQUIRE_DATA();
    /* Many files at once, including strings with multi-byte UTF-8, binary, nested columns,
     * column names with spaces, zero-row files and a 1501-column file. */
    const char *files[] = {
        "tests/data/shared/generated/duckdb_mixed_zstd.parquet",
        "tests/data/shared/generated/arrowrs_empty_zero_rows.parquet",
        "tests/data/shared/generated/duckdb_empty_zero_rows.parquet",
        "tests/data/shared/generated/duckdb_wide_1500x2000_zstd.parquet",
        "tests/data/shared/parquet-testing/data/datapage_v2.snappy.parquet",
        "tests/data/shared/parquet-testing/data/large_string_map.brotli.parquet",
        "tests/data/shared/parquet-testing/data/unknown-logical-type.parquet",
        "tests/data/shared/parquet-testing/data/nan_in_stats.parquet",
        "tests/data/shared/parquet-testing/data/column_chunk_key_value_metadata.parquet",
        "tests/data/shared/parquet-testing/data/byte_stream_split_extended.gzip.parquet",
        "tests/data/shared/parquet-testing/bad_data/ARROW-GH-41321.parquet",
    };
    int n = (int) DP_ARRAY_LEN(files);
    dp_error err_, *err = &err_;
    char *out = run_inspect(files, n, true, NULL, err);
    jv root;
    json_parse(out, strlen(out), &root);
    DP_ASSERT_EQ_INT(root.type, J_ARR);
    DP_ASSERT_EQ_INT(root.n, n);
    DP_ASSERT_TRUE(python_json_ok(out));
    const jv *f0 = &root.items[0];
    DP_ASSERT_STREQ(jreq(f0, "num_rows")->s, "3000");
    DP_ASSERT_STREQ(jreq(f0, "num_row_groups")->s, "1");
    DP_ASSERT_STREQ(jreq(f0, "created_by")->s, "DuckDB version v1.5.6 (build 069cc9f9b5)");
    const jv *c19 = &jreq(f0, "columns")->items[19];
    DP_ASSERT_STREQ(jreq(c19, "path")->s, "dec_38_10");
    DP_ASSERT_STREQ(jreq(c19, "physical_type")->s, "FIXED_LEN_BYTE_ARRAY");
    DP_ASSERT_STREQ(jreq(c19, "type_length")->s, "16");
    DP_ASSERT_STREQ(jreq(c19, "logical_type")->s, "DECIMAL(38,10)");
    DP_ASSERT_STREQ(jreq(c19, "repetition")->s, "OPTIONAL");
    DP_ASSERT_STREQ(jreq(c19, "codecs")->items[0].s, "ZSTD");
    DP_ASSERT_STREQ(jreq(c19, "min")->s, "-9999999999999999999999999999.9999999999");
    const jv *f3 = &root.items[3];
    DP_ASSERT_EQ_INT(jreq(f3, "columns")->n, 1501);
    DP_ASSERT_STREQ(jreq(f3, "num_columns")->s, "1501");
    const jv *zero = &root.items[1];
    DP_ASSERT_STREQ(jreq(zero, "num_rows")->s, "0");
    DP_ASSERT_EQ_INT(jreq(zero, "row_groups")->n, 0);
    DP_ASSERT_EQ_INT(jreq(&jreq(zero, "columns")->items[0], "min")->type, J_NULL);
    const jv *nested = &jreq(&root.items[4], "columns")->items[4];
    DP_ASSERT_STREQ(jreq(nested, "path")->s, "e.list.element");
    DP_ASSERT_EQ_INT(jreq(nested, "nested")->type, J_TRUE);
    DP_ASSERT_STREQ(jreq(nested, "max_repetition_level")->s, "1");
    /* Key-value metadata keys (parquet-rs writes the Arrow schema). */
    DP_ASSERT_STREQ(jreq(&root.items[1], "key_value_keys")->items[0].s, "ARROW:schema");
    jv_free(&root);
    free(out);
}

DP_TEST(inspect_stops_at_the_first_bad_file) {
    REQUIRE_DATA();
    const char *files[] = {"tests/data/shared/parquet-testing/data/binary.parquet",
                           "tests/data/shared/parquet-testing/bad_data/PARQUET-1481.parquet",
                           "tests/data/shared/parquet-testing/data/int32_decimal.parquet"};
    dp_error err_, *err = &err_;
    dp_status st;
    /* JSON: the files before the bad one form a complete document. */
    char *out = run_inspect(files, 3, true, &st, err);
    DP_ASSERT_EQ_INT(st, DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "PARQUET-1481.parquet: ");
    jv root;
    json_parse(out, strlen(out), &root);
    DP_ASSERT_EQ_INT(root.n, 1);
    DP_ASSERT_TRUE(strstr(out, "int32_decimal") == NULL);
    jv_free(&root);
    free(out);
    /* Text: the first file only. */
    out = run_inspect(files, 3, false, &st, err);
    DP_ASSERT_EQ_INT(st, DP_CORRUPT);
    DP_ASSERT_CONTAINS(out, "binary.parquet\n");
    DP_ASSERT_TRUE(strstr(out, "PARQUET-1481") == NULL);
    free(out);
    /* A missing file and an encrypted one: their own statuses, the file named. */
    const char *missing[] = {"tests/data/shared/no_such_file.parquet"};
    out = run_inspect(missing, 1, true, &st, err);
    DP_ASSERT_TRUE(st != DP_OK);
    DP_ASSERT_CONTAINS(err->msg, "no_such_file.parquet");
    json_parse(out, strlen(out), &root);
    DP_ASSERT_EQ_INT(root.n, 0);
    jv_free(&root);
    free(out);
    const char *enc[] = {
        "tests/data/shared/parquet-testing/data/uniform_encryption.parquet.encrypted"};
    out = run_inspect(enc, 1, false, &st, err);
    DP_ASSERT_EQ_INT(st, DP_ENCRYPTED);
    DP_ASSERT_CONTAINS(err->msg, "encrypted files are not supported");
    free(out);
    /* No files: an empty array. */
    out = run_inspect(NULL, 0, true, NULL, err);
    json_parse(out, strlen(out), &root);
    DP_ASSERT_EQ_INT(root.type, J_ARR);
    DP_ASSERT_EQ_INT(root.n, 0);
    jv_free(&root);
    free(out);
}
