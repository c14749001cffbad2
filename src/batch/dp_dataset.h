/* dp_dataset.h: a set of Parquet files read as one table.
 *
 * Inputs are files, directories (every *.parquet below, recursively) and glob patterns; the
 * resulting paths are sorted and de-duplicated. Opening a dataset reads every footer once (files
 * are closed again: scans reopen them), builds the unified schema by column name (numeric types
 * widen to double; a column that is numeric in one file and text in another is an error naming
 * both files), and a global list of row groups in scan order. Total rows come from footers only.
 *
 * Ownership: dp_dataset_open creates, dp_dataset_free (accepts NULL) frees. Returned pointers
 * borrow from the dataset. dp_selection is a caller value (init by dp_dataset_select, reset by
 * dp_selection_reset). Thread safety: an opened dataset is immutable and may be shared.
 */
#ifndef DP_BATCH_DATASET_H
#define DP_BATCH_DATASET_H

#include "parquet/pq_reader.h"

typedef struct dp_dataset dp_dataset;

typedef struct dp_dataset_file {
    char *path;
    char *base_name; /* file name without directories (sampling seeds use it) */
    uint64_t size;
    uint64_t footer_hash;
    int64_t rows;
    int64_t first_row; /* global index of its first row */
    int32_t n_row_groups;
    int32_t first_rg;       /* index of its first row group in the global list */
    int32_t n_missing_cols; /* unified columns absent from this file */
} dp_dataset_file;

typedef struct dp_dataset_rg {
    int32_t file;
    int32_t rg; /* index within the file */
    int64_t first_row;
    int64_t rows;
} dp_dataset_rg;

typedef struct dp_dataset_column {
    char *name;            /* dotted path */
    dp_pq_value_kind kind; /* of the first file that has it (NULL-only files do not count) */
    bool numeric;          /* readable as a descriptor (double) */
    bool nested;
    int32_t first_file; /* first file holding it */
    int32_t n_files;    /* files holding it */
} dp_dataset_column;

/* Expand inputs and read the footers. No input, or nothing matching, is DP_INVALID_ARG. */
dp_status dp_dataset_open(const char *const *inputs, int n_inputs, dp_dataset **out,
                          dp_error *err) DP_MUST_USE;
void dp_dataset_free(dp_dataset *ds);

int32_t dp_dataset_n_files(const dp_dataset *ds);
const dp_dataset_file *dp_dataset_file_at(const dp_dataset *ds, int32_t i);
int32_t dp_dataset_n_row_groups(const dp_dataset *ds);
const dp_dataset_rg *dp_dataset_rg_at(const dp_dataset *ds, int32_t i);
int64_t dp_dataset_n_rows(const dp_dataset *ds);
int64_t dp_dataset_max_rg_rows(const dp_dataset *ds);
int32_t dp_dataset_n_columns(const dp_dataset *ds);
const dp_dataset_column *dp_dataset_column_at(const dp_dataset *ds, int32_t i);
/* Unified column index by name, -1 when absent. */
int32_t dp_dataset_find_column(const dp_dataset *ds, const char *name);
/* Is unified column `col` present in file `file`? */
bool dp_dataset_file_has_column(const dp_dataset *ds, int32_t file, int32_t col);
/* Hash of (path base names, sizes, footer hashes, order): the input fingerprint. */
uint64_t dp_dataset_fingerprint(const dp_dataset *ds);
/* Sum of compressed column-chunk bytes of the given columns (for MB/s estimates). */
uint64_t dp_dataset_bytes(const dp_dataset *ds);

/* Column selection: which unified columns are descriptors. */
typedef struct dp_select_options {
    int n_metadata;             /* first N columns by position are metadata */
    const char *const *include; /* glob patterns (fnmatch); NULL/0 = all */
    int n_include;
    const char *const *exclude; /* glob patterns */
    int n_exclude;
    /* Exact descriptor names (bypasses n_metadata); an unknown name is DP_INVALID_ARG. */
    const char *const *names;
    int n_names;
} dp_select_options;

typedef struct dp_skipped_column {
    int32_t col;
    const char *why; /* static text: "metadata", "not numeric", "nested", "excluded", ... */
} dp_skipped_column;

typedef struct dp_selection {
    int32_t n;     /* descriptor columns */
    int32_t *cols; /* unified indices, in dataset order */
    int32_t n_skipped;
    dp_skipped_column *skipped;
} dp_selection;

dp_status dp_dataset_select(const dp_dataset *ds, const dp_select_options *opts, dp_selection *out,
                            dp_error *err) DP_MUST_USE;
void dp_selection_reset(dp_selection *s);

#endif
