/* Parquet conformance: every file of the shared corpus (tests/data/shared/{generated,
 * parquet-testing}) is read in full and each column's count, null count, sum, min, max and first
 * and last 5 values are compared with expected.json (computed by DuckDB; by hyparquet where DuckDB
 * cannot read a file). Files DuckDB rejects must give a clean error here, or the recorded values.
 * No file is skipped silently: the test counts the .parquet files on disk and requires that each
 * one was checked, and prints the list.
 *
 * Comparison rules follow expected.json's "conventions": integers and decimals exact (decimal sums
 * with big-integer arithmetic), float sums within count * 2^-52 * sum_abs_finite, floats exact
 * bits (FLOAT: the float nearest the printed double), strings byte-exact, binary as hex.
 */
#include "dp_test.h"
#include "parquet/pq_codec.h"
#include "parquet/pq_reader.h"
#include "util/dp_alloc.h"
#include "util/dp_json.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

__extension__ typedef __int128 i128;

/* ---- tiny signed big decimal arithmetic (base 1e9 limbs, fixed scale) ----------------------- */

typedef struct {
    int neg;
    uint32_t limb[16]; /* little-endian base 1e9: up to 144 digits */
} big;

static void big_from_text(big *b, const char *s, int scale) {
    memset(b, 0, sizeof *b);
    if (*s == '-') {
        b->neg = 1;
        s++;
    }
    char digits[200];
    size_t nd = 0;
    int frac = -1;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s == '.') {
            frac = 0;
            continue;
        }
        if (nd < sizeof digits - 1)
            digits[nd++] = *s;
        if (frac >= 0)
            frac++;
    }
    if (frac < 0)
        frac = 0;
    while (frac < scale && nd < sizeof digits - 1) {
        digits[nd++] = '0';
        frac++;
    }
    while (frac > scale && nd > 0) { /* more fraction digits than the scale: drop (must be 0) */
        nd--;
        frac--;
    }
    /* digits most significant first -> limbs */
    for (size_t k = 0; k < nd; k++) {
        uint64_t carry = (uint64_t) (digits[k] - '0');
        for (int l = 0; l < 16; l++) {
            uint64_t x = (uint64_t) b->limb[l] * 10 + carry;
            b->limb[l] = (uint32_t) (x % 1000000000u);
            carry = x / 1000000000u;
        }
    }
}

static int big_cmp_mag(const big *a, const big *b) {
    for (int l = 15; l >= 0; l--)
        if (a->limb[l] != b->limb[l])
            return a->limb[l] < b->limb[l] ? -1 : 1;
    return 0;
}

static int big_is_zero(const big *a) {
    for (int l = 0; l < 16; l++)
        if (a->limb[l])
            return 0;
    return 1;
}

static int big_cmp(const big *a, const big *b) {
    int an = a->neg && !big_is_zero(a), bn = b->neg && !big_is_zero(b);
    if (an != bn)
        return an ? -1 : 1;
    int m = big_cmp_mag(a, b);
    return an ? -m : m;
}

static void big_add(big *acc, const big *x) {
    if (acc->neg == x->neg || big_is_zero(acc)) {
        if (big_is_zero(acc))
            acc->neg = x->neg;
        uint64_t carry = 0;
        for (int l = 0; l < 16; l++) {
            uint64_t s = (uint64_t) acc->limb[l] + x->limb[l] + carry;
            acc->limb[l] = (uint32_t) (s % 1000000000u);
            carry = s / 1000000000u;
        }
        return;
    }
    const big *hi = acc, *lo = x;
    big r;
    if (big_cmp_mag(acc, x) < 0) {
        hi = x;
        lo = acc;
    }
    r.neg = hi->neg;
    int64_t borrow = 0;
    for (int l = 0; l < 16; l++) {
        int64_t d = (int64_t) hi->limb[l] - lo->limb[l] - borrow;
        borrow = d < 0;
        if (d < 0)
            d += 1000000000;
        r.limb[l] = (uint32_t) d;
    }
    *acc = r;
}

/* ---- per-column comparison ------------------------------------------------------------------ */

typedef struct {
    const char *file;
    int n_checked_cols;
} ctx;

static const char *kind_of(const dp_json *col) {
    return dp_json_string(dp_json_get(col, "kind"));
}

/* Expected float element: number text or "NaN"/"Infinity"/"-Infinity" strings. */
static double exp_float(const dp_json *e, int is_float32) {
    if (e->type == DP_JSON_STRING) {
        if (strcmp(e->text, "NaN") == 0)
            return NAN;
        if (strcmp(e->text, "Infinity") == 0)
            return INFINITY;
        if (strcmp(e->text, "-Infinity") == 0)
            return -INFINITY;
    }
    double v = strtod(e->text, NULL);
    return is_float32 ? (double) (float) v : v;
}

static void check_value(const ctx *cx, const char *col, const char *kind, const dp_json *e,
                        const dp_pq_values *v, const dp_pq_column_desc *c, int64_t row,
                        dp_buf *txt) {
    int valid = v->valid.data[row];
    if (e->type == DP_JSON_NULL) {
        if (valid)
            DP_FAILF("%s: column %s row %lld: expected NULL, got a value", cx->file, col,
                     (long long) row);
        return;
    }
    if (!valid)
        DP_FAILF("%s: column %s row %lld: expected a value, got NULL", cx->file, col,
                 (long long) row);
    if (strcmp(kind, "float") == 0) {
        double want = exp_float(e, c->type == DP_PQ_FLOAT);
        double got = dp_pq_value_to_double(v, c, row);
        if (!((isnan(want) && isnan(got)) || want == got))
            DP_FAILF("%s: column %s row %lld: %.17g != expected %.17g", cx->file, col,
                     (long long) row, got, want);
        if (want == 0 && signbit(want) != signbit(got))
            DP_FAILF("%s: column %s row %lld: sign of zero differs", cx->file, col,
                     (long long) row);
        return;
    }
    txt->size = 0;
    DP_ASSERT_OK(dp_pq_value_format(v, c, row, txt), (dp_error *) NULL);
    DP_ASSERT_OK(dp_buf_append_u8(txt, 0), (dp_error *) NULL);
    const char *got = (const char *) txt->data;
    if (strcmp(kind, "int") == 0 || strcmp(kind, "decimal") == 0) {
        if (strcmp(kind, "decimal") == 0) {
            big a, b;
            big_from_text(&a, got, c->scale);
            big_from_text(&b, e->text, c->scale);
            if (big_cmp(&a, &b) != 0)
                DP_FAILF("%s: column %s row %lld: %s != expected %s", cx->file, col,
                         (long long) row, got, e->text);
        } else if (strcmp(got, e->text) != 0) {
            DP_FAILF("%s: column %s row %lld: %s != expected %s", cx->file, col, (long long) row,
                     got, e->text);
        }
    } else if (strcmp(kind, "bool") == 0) {
        const char *want = e->boolean ? "true" : "false";
        if (strcmp(got, want) != 0)
            DP_FAILF("%s: column %s row %lld: %s != %s", cx->file, col, (long long) row, got, want);
    } else if (strcmp(kind, "string") == 0 || strcmp(kind, "binary") == 0) {
        /* Compare raw bytes: strings unescaped, binary as hex. */
        const uint8_t *p;
        size_t n;
        if (v->width > 0) {
            p = v->fixed.data + (size_t) row * (size_t) v->width;
            n = (size_t) v->width;
        } else {
            const int64_t *o = (const int64_t *) (const void *) v->offsets.data;
            p = v->heap.data + o[row];
            n = (size_t) (o[row + 1] - o[row]);
        }
        if (strcmp(kind, "string") == 0) {
            if (n != e->text_len || memcmp(p, e->text, n) != 0)
                DP_FAILF("%s: column %s row %lld: string differs (%zu vs %zu bytes)", cx->file, col,
                         (long long) row, n, e->text_len);
        } else {
            char hex[4096];
            size_t h = 0;
            for (size_t k = 0; k < n && h + 2 < sizeof hex; k++)
                h += (size_t) snprintf(hex + h, sizeof hex - h, "%02x", p[k]);
            if (strcmp(hex, e->text) != 0)
                DP_FAILF("%s: column %s row %lld: %s != expected %s", cx->file, col,
                         (long long) row, hex, e->text);
        }
    }
}

typedef struct {
    int64_t count, nulls, nan, pinf, ninf, trues;
    double fmin, fmax;
    long double fsum;
    int have_minmax;
    i128 isum;
    big dsum, dmin, dmax;
    dp_buf smin, smax;
} col_acc;

static void check_column(ctx *cx, dp_pq_decoder *dec, const dp_pq_file *f, const dp_json *ecol) {
    const char *name = dp_json_string(dp_json_get(ecol, "name"));
    const char *kind = kind_of(ecol);
    int32_t ci = dp_pq_file_find_column(f, name);
    if (dp_json_get(ecol, "parquet") == NULL || strcmp(kind, "other") == 0) {
        /* Nested or temporal column: nested leaves are refused cleanly; temporal ones are read
         * and only counted. */
        if (ci < 0 || dp_pq_file_column(f, ci)->nested) {
            for (int32_t k = 0; k < dp_pq_file_n_columns(f); k++) {
                const dp_pq_column_desc *c = dp_pq_file_column(f, k);
                if (strncmp(c->path, name, strlen(name)) != 0 || dp_pq_file_n_row_groups(f) == 0)
                    continue;
                dp_pq_values v;
                dp_pq_values_init(&v);
                dp_error err;
                dp_status st = dp_pq_read_values(dec, f, 0, k, &v, &err);
                dp_pq_values_reset(&v);
                if (c->nested)
                    DP_ASSERT_EQ_INT(st, DP_UNSUPPORTED);
            }
            cx->n_checked_cols++;
            return;
        }
    }
    if (ci < 0)
        DP_FAILF("%s: column %s not found", cx->file, name);
    const dp_pq_column_desc *c = dp_pq_file_column(f, ci);
    col_acc a;
    memset(&a, 0, sizeof a);
    int64_t rows_total = dp_pq_file_n_rows(f);
    const dp_json *first5 = dp_json_get(ecol, "first5");
    const dp_json *last5 = dp_json_get(ecol, "last5");
    int is_other = strcmp(kind, "other") == 0;
    dp_buf txt;
    dp_buf_init(&txt);
    dp_pq_values v;
    dp_pq_values_init(&v);
    int64_t row0 = 0;
    for (int32_t rg = 0; rg < dp_pq_file_n_row_groups(f); rg++) {
        dp_error err;
        dp_status st = dp_pq_read_values(dec, f, rg, ci, &v, &err);
        if (st != DP_OK)
            DP_FAILF("%s: column %s row group %d: %s: %s", cx->file, name, rg, dp_status_name(st),
                     err.msg);
        for (int64_t i = 0; i < v.n; i++) {
            int64_t row = row0 + i;
            if (!v.valid.data[i]) {
                a.nulls++;
            } else {
                a.count++;
                if (strcmp(kind, "float") == 0) {
                    double x = dp_pq_value_to_double(&v, c, i);
                    if (isnan(x)) {
                        a.nan++;
                    } else {
                        if (isinf(x))
                            x > 0 ? a.pinf++ : a.ninf++;
                        else
                            a.fsum += x;
                        if (!a.have_minmax || x < a.fmin)
                            a.fmin = x;
                        if (!a.have_minmax || x > a.fmax)
                            a.fmax = x;
                        a.have_minmax = 1;
                    }
                } else if (strcmp(kind, "int") == 0) {
                    txt.size = 0;
                    DP_ASSERT_OK(dp_pq_value_format(&v, c, i, &txt), (dp_error *) NULL);
                    DP_ASSERT_OK(dp_buf_append_u8(&txt, 0), (dp_error *) NULL);
                    const char *s = (const char *) txt.data;
                    i128 val = 0;
                    int neg = *s == '-';
                    for (const char *p = s + neg; *p; p++)
                        val = val * 10 + (*p - '0');
                    a.isum += neg ? -val : val;
                } else if (strcmp(kind, "decimal") == 0) {
                    txt.size = 0;
                    DP_ASSERT_OK(dp_pq_value_format(&v, c, i, &txt), (dp_error *) NULL);
                    DP_ASSERT_OK(dp_buf_append_u8(&txt, 0), (dp_error *) NULL);
                    big x;
                    big_from_text(&x, (const char *) txt.data, c->scale);
                    big_add(&a.dsum, &x);
                    if (!a.have_minmax || big_cmp(&x, &a.dmin) < 0)
                        a.dmin = x;
                    if (!a.have_minmax || big_cmp(&x, &a.dmax) > 0)
                        a.dmax = x;
                    a.have_minmax = 1;
                } else if (strcmp(kind, "bool") == 0) {
                    a.trues += v.fixed.data[i] != 0;
                }
            }
            if (!is_other && first5 != NULL && row < (int64_t) first5->n)
                check_value(cx, name, kind, dp_json_at(first5, (size_t) row), &v, c, i, &txt);
            int64_t from_end = rows_total - 1 - row;
            if (!is_other && last5 != NULL && from_end < (int64_t) last5->n)
                check_value(cx, name, kind, dp_json_at(last5, last5->n - 1 - (size_t) from_end), &v,
                            c, i, &txt);
        }
        row0 += v.n;
    }
    DP_ASSERT_EQ_INT(row0, rows_total);
    double want_count = dp_json_number(dp_json_get(ecol, "count"));
    double want_nulls = dp_json_number(dp_json_get(ecol, "null_count"));
    if ((double) a.count != want_count || (double) a.nulls != want_nulls)
        DP_FAILF("%s: column %s: count %lld / nulls %lld, expected %.0f / %.0f", cx->file, name,
                 (long long) a.count, (long long) a.nulls, want_count, want_nulls);
    const dp_json *jsum = dp_json_get(ecol, "sum");
    if (strcmp(kind, "float") == 0 && jsum != NULL) {
        double want = exp_float(jsum, 0);
        double sum = (a.pinf && a.ninf) || a.nan ? NAN
                     : a.pinf                    ? INFINITY
                     : a.ninf                    ? -INFINITY
                                                 : (double) a.fsum;
        if (a.count == 0)
            sum = 0;
        double tol =
            (double) a.count * 0x1p-52 * dp_json_number(dp_json_get(ecol, "sum_abs_finite"));
        if (!(isnan(want) && isnan(sum)) && !(want == sum) && !(fabs(want - sum) <= tol))
            DP_FAILF("%s: column %s: sum %.17g, expected %.17g (tol %.3g)", cx->file, name, sum,
                     want, tol);
        if (a.have_minmax) {
            const dp_json *jmin = dp_json_get(ecol, "min"), *jmax = dp_json_get(ecol, "max");
            double wmin = exp_float(jmin, c->type == DP_PQ_FLOAT);
            double wmax = exp_float(jmax, c->type == DP_PQ_FLOAT);
            if (wmin != a.fmin || wmax != a.fmax)
                DP_FAILF("%s: column %s: min/max %.17g/%.17g, expected %.17g/%.17g", cx->file, name,
                         a.fmin, a.fmax, wmin, wmax);
        }
    } else if (strcmp(kind, "int") == 0 && jsum != NULL) {
        i128 want = 0;
        const char *s = jsum->text;
        int neg = *s == '-';
        for (const char *p = s + neg; *p; p++)
            want = want * 10 + (*p - '0');
        if (neg)
            want = -want;
        if (want != a.isum)
            DP_FAILF("%s: column %s: integer sum differs from %s", cx->file, name, s);
    } else if (strcmp(kind, "decimal") == 0 && jsum != NULL && a.count > 0) {
        big want;
        big_from_text(&want, jsum->text, c->scale);
        if (big_cmp(&want, &a.dsum) != 0)
            DP_FAILF("%s: column %s: decimal sum differs from %s", cx->file, name, jsum->text);
        big wmin, wmax;
        big_from_text(&wmin, dp_json_get(ecol, "min")->text, c->scale);
        big_from_text(&wmax, dp_json_get(ecol, "max")->text, c->scale);
        if (big_cmp(&wmin, &a.dmin) != 0 || big_cmp(&wmax, &a.dmax) != 0)
            DP_FAILF("%s: column %s: decimal min/max differ", cx->file, name);
    } else if (strcmp(kind, "bool") == 0 && jsum != NULL) {
        DP_ASSERT_EQ_INT(a.trues, (int64_t) dp_json_number(jsum));
    }
    dp_buf_reset(&txt);
    dp_pq_values_reset(&v);
    cx->n_checked_cols++;
}

/* Read every flat column of every row group; return the first error. */
static dp_status read_all(dp_pq_decoder *dec, const dp_pq_file *f, dp_error *err) {
    dp_pq_values v;
    dp_pq_values_init(&v);
    dp_status st = DP_OK;
    for (int32_t rg = 0; rg < dp_pq_file_n_row_groups(f) && st == DP_OK; rg++)
        for (int32_t k = 0; k < dp_pq_file_n_columns(f) && st == DP_OK; k++)
            if (!dp_pq_file_column(f, k)->nested)
                st = dp_pq_read_values(dec, f, rg, k, &v, err);
    dp_pq_values_reset(&v);
    return st;
}

/* The first codec of the file that this build cannot decompress, or -1. */
static int missing_codec(const dp_pq_file *f) {
    const dp_pq_file_meta *m = dp_pq_file_metadata(f);
    for (int32_t r = 0; r < m->n_row_groups; r++)
        for (int32_t c = 0; c < m->row_groups[r].n_columns; c++) {
            int codec = m->row_groups[r].columns[c].meta.codec;
            if (!dp_pq_codec_available(codec))
                return codec;
        }
    return -1;
}

static int check_corpus(const char *corpus, const dp_json *files, int *n_files) {
    dp_pq_decoder *dec_crc = NULL, *dec_nocrc = NULL;
    dp_error err;
    DP_ASSERT_OK(dp_pq_decoder_create(NULL, &dec_crc, &err), &err);
    dp_pq_decoder_options nocrc = {.verify_crc = false};
    DP_ASSERT_OK(dp_pq_decoder_create(&nocrc, &dec_nocrc, &err), &err);
    int checked = 0;
    for (size_t k = 0; k < files->n; k++) {
        const char *rel = files->keys[k];
        const dp_json *fe = &files->items[k];
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", corpus, rel);
        ctx cx = {rel, 0};
        dp_pq_file *f = NULL;
        dp_status st = dp_pq_file_open(path, &f, &err);
        const dp_json *cols = dp_json_get(fe, "columns");
        const dp_json *same = dp_json_get(fe, "same_data_as");
        const dp_json *secondary = dp_json_get(fe, "secondary_reader");
        const dp_json *partial = dp_json_get(fe, "partial_columns");
        const char *how = "values";
        if (cols == NULL && same != NULL)
            cols = dp_json_get(dp_json_get(files, dp_json_string(same)), "columns");
        if (cols == NULL && secondary != NULL)
            cols = dp_json_get(secondary, "columns");
        dp_pq_decoder *dec = dec_crc;
        if (st == DP_OK && missing_codec(f) >= 0) {
            /* A build without this codec must refuse the file cleanly, naming the codec. */
            dp_status rs = read_all(dec_crc, f, &err);
            if (rs != DP_OK) { /* OK when only nested or empty chunks use the codec */
                DP_ASSERT_EQ_INT(rs, DP_UNSUPPORTED);
                DP_ASSERT_CONTAINS(err.msg, "this build lacks");
            }
            printf("checked %s/%s (codec %d not built: refused cleanly)\n", corpus, rel,
                   missing_codec(f));
            dp_pq_file_free(f);
            checked++;
            continue;
        }
        if (cols != NULL) {
            if (st != DP_OK)
                DP_FAILF("%s: open failed: %s: %s", rel, dp_status_name(st), err.msg);
            /* DuckDB does not check page CRCs; dpipe does. A file with a deliberately wrong CRC
             * must be refused by default and give DuckDB's values with --no-verify-crc. */
            st = read_all(dec_crc, f, &err);
            if (st == DP_CORRUPT && strstr(err.msg, "CRC") != NULL) {
                printf("  %s: CRC mismatch detected (%s); values checked without CRC checks\n", rel,
                       err.msg);
                dec = dec_nocrc;
                how = "values without CRC check";
            } else if (st != DP_OK && (st == DP_CORRUPT || st == DP_TRUNCATED) &&
                       (strncmp(rel, "bad_data/", 9) == 0 || strstr(rel, "malformed") != NULL)) {
                /* A known-malformed file that DuckDB tolerates: a clean error is the stricter,
                 * accepted outcome (testdata README). */
                printf("  %s -> %s (known malformed; DuckDB tolerates it): %s\n", rel,
                       dp_status_name(st), err.msg);
                printf("checked %s/%s (clean error on a malformed file)\n", corpus, rel);
                dp_pq_file_free(f);
                checked++;
                continue;
            } else if (st != DP_OK) {
                DP_FAILF("%s: %s: %s", rel, dp_status_name(st), err.msg);
            }
            for (size_t c = 0; c < cols->n; c++)
                check_column(&cx, dec, f, &cols->items[c]);
        } else {
            /* DuckDB rejected the file: we must fail cleanly, or match what DuckDB could read. */
            how = "clean error";
            if (st == DP_OK) {
                if (partial != NULL) {
                    for (size_t c = 0; c < partial->n; c++)
                        check_column(&cx, dec, f, &partial->items[c]);
                    how = "partial values";
                }
                st = read_all(dec_crc, f, &err);
                if (st == DP_OK && partial == NULL)
                    DP_FAILF("%s: DuckDB rejects this file (%s) but dpipe read it without error",
                             rel, dp_json_string(dp_json_get(fe, "expected_error")));
            }
            if (st != DP_OK && (st == DP_NOMEM || st == DP_INVALID_ARG))
                DP_FAILF("%s: unexpected status %s: %s", rel, dp_status_name(st), err.msg);
            if (st != DP_OK)
                fprintf(stderr, "  %s -> %s: %s\n", rel, dp_status_name(st), err.msg);
        }
        printf("checked %s/%s (%s, %d columns)\n", corpus, rel, how, cx.n_checked_cols);
        dp_pq_file_free(f);
        checked++;
    }
    dp_pq_decoder_free(dec_crc);
    dp_pq_decoder_free(dec_nocrc);
    *n_files = checked;
    return 0;
}

static int count_parquet_files(const char *dir) {
    int n = 0;
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char sub[2048];
        snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (stat(sub, &sb) == 0 && S_ISDIR(sb.st_mode))
            n += count_parquet_files(sub);
        else if (strstr(e->d_name, ".parquet") != NULL)
            n++;
    }
    closedir(d);
    return n;
}

static void run_corpus(const char *rel) {
    char dir[2048], exp[4096];
    snprintf(dir, sizeof dir, "%s", dp_test_path(rel));
    snprintf(exp, sizeof exp, "%s/expected.json", dir);
    dp_json *j = NULL;
    dp_error err;
    DP_ASSERT_OK(dp_json_parse_file(exp, 64 << 20, &j, &err), &err);
    const dp_json *files = dp_json_get(j, "files");
    DP_ASSERT_TRUE(files != NULL && files->type == DP_JSON_OBJECT);
    int n = 0;
    check_corpus(dir, files, &n);
    int on_disk = count_parquet_files(dir);
    printf("%s: %d files checked, %d Parquet files on disk\n", rel, n, on_disk);
    DP_ASSERT_EQ_INT(n, on_disk);
    dp_json_free(j);
}

DP_TEST(conformance_generated) {
    run_corpus("tests/data/shared/generated");
}

DP_TEST(conformance_parquet_testing) {
    run_corpus("tests/data/shared/parquet-testing");
}
