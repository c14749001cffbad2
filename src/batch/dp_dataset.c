/* Datasets: input expansion, schema unification, the global row-group list. */
#include "batch/dp_dataset.h"
#include "util/dp_alloc.h"
#include "util/dp_checksum.h"
#include "util/dp_limits.h"
#include "util/dp_log.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct dp_dataset {
    dp_dataset_file *files;
    int32_t n_files;
    dp_dataset_rg *rgs;
    int32_t n_rgs;
    dp_dataset_column *cols;
    int32_t n_cols, cap_cols;
    uint64_t *present; /* n_files x words bitset: column present in file */
    int32_t words;
    int64_t n_rows;
    int64_t max_rg_rows;
    uint64_t bytes;
    uint64_t fingerprint;
    /* name -> column index, open addressing */
    int32_t *hash;
    uint32_t hash_cap;
};

/* ---- path list ----------------------------------------------------------------------------- */

typedef struct {
    char **v;
    int32_t n, cap;
} dp__paths;

static dp_status dp__paths_add(dp__paths *p, const char *path, dp_error *err) {
    if (p->n == p->cap) {
        int32_t nc = p->cap ? p->cap * 2 : 16;
        if (nc > DP_LIMIT_FILES_MAX)
            return dp_error_set(err, DP_LIMIT, "more than %d input files", DP_LIMIT_FILES_MAX);
        char **nv = dp_reallocarray(p->v, (size_t) nc, sizeof *nv);
        if (nv == NULL)
            return dp_error_set(err, DP_NOMEM, "out of memory listing input files");
        p->v = nv;
        p->cap = nc;
    }
    p->v[p->n] = dp_strdup(path);
    if (p->v[p->n] == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory listing input files");
    p->n++;
    return DP_OK;
}

static void dp__paths_free(dp__paths *p) {
    for (int32_t i = 0; i < p->n; i++)
        dp_free(p->v[i]);
    dp_free(p->v);
    memset(p, 0, sizeof *p);
}

static bool dp__ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static dp_status dp__walk(const char *dir, dp__paths *out, int depth, dp_error *err) {
    if (depth > 64)
        return dp_error_set(err, DP_LIMIT, "%s: directories nested deeper than 64", dir);
    struct dirent **list = NULL;
    int n = scandir(dir, &list, NULL, alphasort);
    if (n < 0)
        return dp_error_set(err, DP_IO, "%s: cannot list directory: %s", dir, strerror(errno));
    dp_status st = DP_OK;
    for (int i = 0; i < n; i++) {
        const char *name = list[i]->d_name;
        if (st == DP_OK && name[0] != '.') {
            size_t len = strlen(dir) + strlen(name) + 2;
            char *sub = dp_malloc(len);
            if (sub == NULL) {
                st = dp_error_set(err, DP_NOMEM, "out of memory");
            } else {
                snprintf(sub, len, "%s/%s", dir, name);
                struct stat sb;
                if (stat(sub, &sb) == 0) {
                    if (S_ISDIR(sb.st_mode))
                        st = dp__walk(sub, out, depth + 1, err);
                    else if (S_ISREG(sb.st_mode) && dp__ends_with(name, ".parquet"))
                        st = dp__paths_add(out, sub, err);
                }
                dp_free(sub);
            }
        }
        free(list[i]); /* allocated by scandir (libc) */
    }
    free(list);
    return st;
}

static dp_status dp__expand(const char *in, dp__paths *out, dp_error *err) {
    struct stat sb;
    if (strpbrk(in, "*?[") != NULL && stat(in, &sb) != 0) {
        glob_t g;
        int rc = glob(in, 0, NULL, &g);
        if (rc == GLOB_NOMATCH)
            return dp_error_set(err, DP_INVALID_ARG, "no file matches '%s'", in);
        if (rc != 0)
            return dp_error_set(err, DP_IO, "cannot expand '%s'", in);
        dp_status st = DP_OK;
        for (size_t i = 0; i < g.gl_pathc && st == DP_OK; i++) {
            if (stat(g.gl_pathv[i], &sb) == 0 && S_ISDIR(sb.st_mode))
                st = dp__walk(g.gl_pathv[i], out, 0, err);
            else
                st = dp__paths_add(out, g.gl_pathv[i], err);
        }
        globfree(&g);
        return st;
    }
    if (stat(in, &sb) != 0)
        return dp_error_set(err, errno == ENOENT ? DP_NOT_FOUND : DP_IO, "%s: %s", in,
                            strerror(errno));
    if (S_ISDIR(sb.st_mode)) {
        int32_t before = out->n;
        DP_TRY(dp__walk(in, out, 0, err));
        if (out->n == before)
            return dp_error_set(err, DP_INVALID_ARG, "%s: directory holds no *.parquet file", in);
        return DP_OK;
    }
    return dp__paths_add(out, in, err);
}

static int dp__cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *) a, *(char *const *) b);
}

/* qsort has no context argument; opening datasets is not concurrent within one process step, and
 * ties are broken by index so the order is total. */
static _Thread_local char **dp__sort_real;

static int dp__cmp_real(const void *a, const void *b) {
    int32_t i = *(const int32_t *) a, j = *(const int32_t *) b;
    const char *x = dp__sort_real[i] ? dp__sort_real[i] : "";
    const char *y = dp__sort_real[j] ? dp__sort_real[j] : "";
    int c = strcmp(x, y);
    return c != 0 ? c : (i > j) - (i < j);
}

/* ---- columns ------------------------------------------------------------------------------- */

static uint32_t dp__name_hash(const char *s) {
    return (uint32_t) dp_hash64_str(s, 0x5eed);
}

static dp_status dp__rehash(dp_dataset *ds, uint32_t cap, dp_error *err) {
    int32_t *h = dp_mallocarray(cap, sizeof *h);
    if (h == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory for the column index");
    for (uint32_t i = 0; i < cap; i++)
        h[i] = -1;
    for (int32_t c = 0; c < ds->n_cols; c++) {
        uint32_t k = dp__name_hash(ds->cols[c].name) & (cap - 1);
        while (h[k] >= 0)
            k = (k + 1) & (cap - 1);
        h[k] = c;
    }
    dp_free(ds->hash);
    ds->hash = h;
    ds->hash_cap = cap;
    return DP_OK;
}

int32_t dp_dataset_find_column(const dp_dataset *ds, const char *name) {
    if (ds->hash_cap == 0)
        return -1;
    uint32_t k = dp__name_hash(name) & (ds->hash_cap - 1);
    while (ds->hash[k] >= 0) {
        if (strcmp(ds->cols[ds->hash[k]].name, name) == 0)
            return ds->hash[k];
        k = (k + 1) & (ds->hash_cap - 1);
    }
    return -1;
}

static bool dp__kind_is_text(dp_pq_value_kind k) {
    return k == DP_PQ_KIND_STRING || k == DP_PQ_KIND_BINARY;
}

static dp_status dp__add_column(dp_dataset *ds, const dp_pq_column_desc *c, int32_t file,
                                int32_t *out, dp_error *err) {
    int32_t idx = dp_dataset_find_column(ds, c->path);
    if (idx >= 0) {
        dp_dataset_column *u = &ds->cols[idx];
        if (c->kind != DP_PQ_KIND_NULL) {
            if (u->kind == DP_PQ_KIND_NULL) {
                u->kind = c->kind;
                u->numeric = c->numeric;
            } else if (u->numeric != c->numeric ||
                       dp__kind_is_text(u->kind) != dp__kind_is_text(c->kind)) {
                return dp_error_set(err, DP_INVALID_ARG,
                                    "column '%s' is %s in %s but %s in %s: columns must have "
                                    "compatible types in every file",
                                    c->path, u->numeric ? "numeric" : "not numeric",
                                    ds->files[u->first_file].path,
                                    c->numeric ? "numeric" : "not numeric", ds->files[file].path);
            }
        }
        u->nested = u->nested || c->nested;
        u->n_files++;
        *out = idx;
        return DP_OK;
    }
    if (ds->n_cols == ds->cap_cols) {
        int32_t nc = ds->cap_cols ? ds->cap_cols * 2 : 64;
        dp_dataset_column *ncols = dp_reallocarray(ds->cols, (size_t) nc, sizeof *ncols);
        if (ncols == NULL)
            return dp_error_set(err, DP_NOMEM, "out of memory for the schema");
        ds->cols = ncols;
        ds->cap_cols = nc;
    }
    dp_dataset_column *u = &ds->cols[ds->n_cols];
    memset(u, 0, sizeof *u);
    u->name = dp_strdup(c->path);
    if (u->name == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory for the schema");
    u->kind = c->kind;
    u->numeric = c->numeric || c->kind == DP_PQ_KIND_NULL;
    u->nested = c->nested;
    u->first_file = file;
    u->n_files = 1;
    *out = ds->n_cols++;
    if ((uint32_t) ds->n_cols * 2 > ds->hash_cap)
        DP_TRY(dp__rehash(ds, ds->hash_cap ? ds->hash_cap * 2 : 256, err));
    else {
        uint32_t k = dp__name_hash(u->name) & (ds->hash_cap - 1);
        while (ds->hash[k] >= 0)
            k = (k + 1) & (ds->hash_cap - 1);
        ds->hash[k] = *out;
    }
    return DP_OK;
}

/* ---- open ---------------------------------------------------------------------------------- */

dp_status dp_dataset_open(const char *const *inputs, int n_inputs, dp_dataset **out,
                          dp_error *err) {
    *out = NULL;
    dp_status st = DP_OK;
    dp__paths paths = {0};
    int32_t **file_cols = NULL; /* per file: unified indices of its columns */
    int32_t *file_ncols = NULL;
    dp_pq_file *f = NULL;
    dp_dataset *ds = dp_calloc(1, sizeof *ds);
    if (ds == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    if (n_inputs <= 0)
        DP_FAIL(err, DP_INVALID_ARG, "no input: give Parquet files, directories or glob patterns");
    for (int i = 0; i < n_inputs; i++)
        DP_CHECK(dp__expand(inputs[i], &paths, err));
    qsort(paths.v, (size_t) paths.n, sizeof *paths.v, dp__cmp_str);
    /* De-duplicate by canonical path: sort indices by realpath, drop later duplicates. */
    {
        char **real = dp_calloc((size_t) (paths.n > 0 ? paths.n : 1), sizeof *real);
        int32_t *ord = dp_calloc((size_t) (paths.n > 0 ? paths.n : 1), sizeof *ord);
        bool *drop = dp_calloc((size_t) (paths.n > 0 ? paths.n : 1), sizeof *drop);
        if (real == NULL || ord == NULL || drop == NULL) {
            dp_free(real);
            dp_free(ord);
            dp_free(drop);
            DP_FAIL(err, DP_NOMEM, "out of memory");
        }
        for (int32_t i = 0; i < paths.n; i++) {
            char *r = realpath(paths.v[i], NULL);
            real[i] = dp_strdup(r != NULL ? r : paths.v[i]);
            free(r); /* from libc */
            ord[i] = i;
        }
        dp__sort_real = real;
        qsort(ord, (size_t) paths.n, sizeof *ord, dp__cmp_real);
        for (int32_t k = 1; k < paths.n; k++)
            if (real[ord[k]] != NULL && real[ord[k - 1]] != NULL &&
                strcmp(real[ord[k]], real[ord[k - 1]]) == 0)
                drop[ord[k]] = true;
        int32_t kept = 0;
        for (int32_t i = 0; i < paths.n; i++) {
            if (drop[i])
                dp_free(paths.v[i]);
            else
                paths.v[kept++] = paths.v[i];
            dp_free(real[i]);
        }
        dp_free(real);
        dp_free(ord);
        dp_free(drop);
        paths.n = kept;
    }
    if (paths.n == 0)
        DP_FAIL(err, DP_INVALID_ARG, "no input files");

    ds->files = dp_calloc((size_t) paths.n, sizeof *ds->files);
    file_cols = dp_calloc((size_t) paths.n, sizeof *file_cols);
    file_ncols = dp_calloc((size_t) paths.n, sizeof *file_ncols);
    if (ds->files == NULL || file_cols == NULL || file_ncols == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    ds->n_files = paths.n;
    int64_t total_rgs = 0, rg_cap = 0;
    uint64_t fp = 0x9e3779b97f4a7c15ull;
    for (int32_t i = 0; i < paths.n; i++) {
        dp_dataset_file *df = &ds->files[i];
        df->path = paths.v[i];
        paths.v[i] = NULL;
        const char *slash = strrchr(df->path, '/');
        df->base_name = dp_strdup(slash ? slash + 1 : df->path);
        if (df->base_name == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory");
        DP_CHECK(dp_pq_file_open(df->path, &f, err));
        df->size = dp_pq_file_size(f);
        df->footer_hash = dp_pq_file_footer_hash(f);
        df->rows = dp_pq_file_n_rows(f);
        df->n_row_groups = dp_pq_file_n_row_groups(f);
        df->first_row = ds->n_rows;
        if (!dp_add_i64(ds->n_rows, df->rows, &ds->n_rows))
            DP_FAIL(err, DP_LIMIT, "total row count overflows");
        total_rgs += df->n_row_groups;
        if (total_rgs > INT32_MAX)
            DP_FAIL(err, DP_LIMIT, "more than %d row groups in the dataset", INT32_MAX);
        if (total_rgs > rg_cap) {
            int64_t nc = rg_cap ? rg_cap : 64;
            while (nc < total_rgs)
                nc *= 2;
            dp_dataset_rg *nr = dp_reallocarray(ds->rgs, (size_t) nc, sizeof *nr);
            if (nr == NULL)
                DP_FAIL(err, DP_NOMEM, "out of memory for the row-group list");
            ds->rgs = nr;
            rg_cap = nc;
        }
        df->first_rg = ds->n_rgs;
        int64_t row = df->first_row;
        for (int32_t r = 0; r < df->n_row_groups; r++) {
            dp_dataset_rg *g = &ds->rgs[ds->n_rgs++];
            g->file = i;
            g->rg = r;
            g->first_row = row;
            g->rows = dp_pq_file_row_group_rows(f, r);
            row += g->rows;
            if (g->rows > ds->max_rg_rows)
                ds->max_rg_rows = g->rows;
        }
        int32_t nc = dp_pq_file_n_columns(f);
        file_cols[i] = dp_mallocarray((size_t) (nc > 0 ? nc : 1), sizeof(int32_t));
        if (file_cols[i] == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory");
        file_ncols[i] = nc;
        for (int32_t c = 0; c < nc; c++)
            DP_CHECK(dp__add_column(ds, dp_pq_file_column(f, c), i, &file_cols[i][c], err));
        const dp_pq_file_meta *m = dp_pq_file_metadata(f);
        for (int32_t r = 0; r < m->n_row_groups; r++)
            for (int32_t c = 0; c < m->row_groups[r].n_columns; c++)
                ds->bytes += (uint64_t) m->row_groups[r].columns[c].meta.total_compressed_size;
        fp = dp_hash64_combine(fp, dp_hash64_str(df->base_name, df->size));
        fp = dp_hash64_combine(fp, df->footer_hash);
        dp_pq_file_free(f);
        f = NULL;
    }
    ds->fingerprint = fp;

    /* Presence bitsets and the once-per-file report of missing columns. */
    ds->words = (ds->n_cols + 63) / 64;
    ds->present = dp_calloc((size_t) ds->n_files * (size_t) (ds->words > 0 ? ds->words : 1),
                            sizeof(uint64_t));
    if (ds->present == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    for (int32_t i = 0; i < ds->n_files; i++) {
        uint64_t *bits = ds->present + (size_t) i * (size_t) ds->words;
        for (int32_t c = 0; c < file_ncols[i]; c++) {
            int32_t u = file_cols[i][c];
            bits[u / 64] |= (uint64_t) 1 << (u % 64);
        }
        int32_t missing = 0;
        const char *first_missing = NULL;
        for (int32_t u = 0; u < ds->n_cols; u++)
            if (!(bits[u / 64] >> (u % 64) & 1)) {
                if (first_missing == NULL)
                    first_missing = ds->cols[u].name;
                missing++;
            }
        ds->files[i].n_missing_cols = missing;
        if (missing > 0)
            dp_log_warn("%s lacks %d column%s of the dataset (first: '%s'); they read as missing "
                        "for its %lld rows",
                        ds->files[i].path, missing, missing == 1 ? "" : "s", first_missing,
                        (long long) ds->files[i].rows);
    }
    *out = ds;
    ds = NULL;
cleanup:
    if (file_cols != NULL)
        for (int32_t i = 0; i < paths.n; i++)
            dp_free(file_cols[i]);
    dp_free(file_cols);
    dp_free(file_ncols);
    dp_pq_file_free(f);
    dp__paths_free(&paths);
    dp_dataset_free(ds);
    return st;
}

void dp_dataset_free(dp_dataset *ds) {
    if (ds == NULL)
        return;
    for (int32_t i = 0; i < ds->n_files; i++) {
        dp_free(ds->files[i].path);
        dp_free(ds->files[i].base_name);
    }
    for (int32_t c = 0; c < ds->n_cols; c++)
        dp_free(ds->cols[c].name);
    dp_free(ds->files);
    dp_free(ds->rgs);
    dp_free(ds->cols);
    dp_free(ds->present);
    dp_free(ds->hash);
    dp_free(ds);
}

int32_t dp_dataset_n_files(const dp_dataset *ds) {
    return ds->n_files;
}
const dp_dataset_file *dp_dataset_file_at(const dp_dataset *ds, int32_t i) {
    return &ds->files[i];
}
int32_t dp_dataset_n_row_groups(const dp_dataset *ds) {
    return ds->n_rgs;
}
const dp_dataset_rg *dp_dataset_rg_at(const dp_dataset *ds, int32_t i) {
    return &ds->rgs[i];
}
int64_t dp_dataset_n_rows(const dp_dataset *ds) {
    return ds->n_rows;
}
int64_t dp_dataset_max_rg_rows(const dp_dataset *ds) {
    return ds->max_rg_rows;
}
int32_t dp_dataset_n_columns(const dp_dataset *ds) {
    return ds->n_cols;
}
const dp_dataset_column *dp_dataset_column_at(const dp_dataset *ds, int32_t i) {
    return &ds->cols[i];
}
bool dp_dataset_file_has_column(const dp_dataset *ds, int32_t file, int32_t col) {
    const uint64_t *bits = ds->present + (size_t) file * (size_t) ds->words;
    return (bits[col / 64] >> (col % 64)) & 1;
}
uint64_t dp_dataset_fingerprint(const dp_dataset *ds) {
    return ds->fingerprint;
}
uint64_t dp_dataset_bytes(const dp_dataset *ds) {
    return ds->bytes;
}

/* ---- selection ----------------------------------------------------------------------------- */

static bool dp__matches_any(const char *name, const char *const *pats, int n) {
    for (int i = 0; i < n; i++)
        if (fnmatch(pats[i], name, 0) == 0)
            return true;
    return false;
}

dp_status dp_dataset_select(const dp_dataset *ds, const dp_select_options *opts, dp_selection *out,
                            dp_error *err) {
    memset(out, 0, sizeof *out);
    int32_t n = ds->n_cols;
    out->cols = dp_calloc((size_t) (n > 0 ? n : 1), sizeof *out->cols);
    out->skipped = dp_calloc((size_t) (n > 0 ? n : 1), sizeof *out->skipped);
    if (out->cols == NULL || out->skipped == NULL) {
        dp_selection_reset(out);
        return dp_error_set(err, DP_NOMEM, "out of memory");
    }
    if (opts != NULL && opts->n_names > 0) {
        for (int k = 0; k < opts->n_names; k++)
            if (dp_dataset_find_column(ds, opts->names[k]) < 0) {
                dp_selection_reset(out);
                return dp_error_set(err, DP_INVALID_ARG,
                                    "descriptor column '%s' is not in the dataset", opts->names[k]);
            }
    }
    int nmeta = opts != NULL && opts->n_names == 0 ? opts->n_metadata : 0;
    if (nmeta < 0 || nmeta > n) {
        dp_selection_reset(out);
        return dp_error_set(err, DP_INVALID_ARG,
                            "--n-metadata %d is outside [0, %d] (the number of columns)", nmeta, n);
    }
    for (int32_t c = 0; c < n; c++) {
        const dp_dataset_column *u = &ds->cols[c];
        const char *why = NULL;
        bool named = false;
        if (opts != NULL)
            for (int k = 0; k < opts->n_names && !named; k++)
                named = strcmp(opts->names[k], u->name) == 0;
        if (c < nmeta)
            why = "metadata";
        else if (opts != NULL && opts->n_names > 0 && !named)
            why = "not listed";
        else if (opts != NULL && opts->n_include > 0 &&
                 !dp__matches_any(u->name, opts->include, opts->n_include))
            why = "not selected";
        else if (opts != NULL && opts->n_exclude > 0 &&
                 dp__matches_any(u->name, opts->exclude, opts->n_exclude))
            why = "excluded";
        else if (u->nested)
            why = "nested";
        else if (!u->numeric)
            why = u->kind == DP_PQ_KIND_TEMPORAL ? "temporal" : "not numeric";
        if (why != NULL) {
            out->skipped[out->n_skipped].col = c;
            out->skipped[out->n_skipped].why = why;
            out->n_skipped++;
        } else {
            out->cols[out->n++] = c;
        }
    }
    return DP_OK;
}

void dp_selection_reset(dp_selection *s) {
    dp_free(s->cols);
    dp_free(s->skipped);
    memset(s, 0, sizeof *s);
}
