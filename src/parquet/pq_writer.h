/* pq_writer.h: a streaming writer of flat Parquet files.
 *
 * What it writes: a flat schema of DOUBLE, FLOAT, INT32, INT64, BOOLEAN and BYTE_ARRAY columns
 * (BYTE_ARRAY optionally annotated STRING / UTF8, whose values must be valid UTF-8), each
 * REQUIRED or OPTIONAL; data pages v1 (definition levels RLE, bit width 1) with PLAIN values, or
 * for BYTE_ARRAY columns that ask for it a dictionary page + RLE_DICTIONARY data pages; codecs
 * UNCOMPRESSED, SNAPPY, ZSTD (and GZIP / LZ4_RAW when built); page CRCs; several row groups;
 * per column chunk the statistics min_value / max_value (NaN ignored for floats, -0/+0 widened as
 * the spec says, strings omitted when longer than 64 bytes) and null_count; TYPE_ORDER column
 * orders; format version 2; created_by "dpipe <version>".
 *
 * Dictionary: built per column chunk over the row group's non-null values, in order of first
 * appearance. When it would exceed dict_max_bytes (PLAIN size of the entries) or hold more than
 * half as many entries as there are non-null values (it would not pay), the whole chunk is
 * written PLAIN instead.
 *
 * Streaming: dp_pq_writer_append buffers rows (copied) until `row_group_rows` are held, then
 * encodes and writes them as one row group; dp_pq_writer_flush ends the current row group early;
 * dp_pq_writer_write_row_group writes the given rows as one row group without copying them.
 * Memory: the buffered rows (at most one row group of the columns), one page being assembled
 * and compressed, and the serialised footer (about 100 bytes per column chunk).
 *
 * Atomicity: the file is written through dp_sink (temporary file in the target directory, fsync,
 * rename, fsync of the directory): only a complete file ever appears under `path`. A writer
 * freed without a successful dp_pq_writer_close leaves no file behind. Any error is sticky: the
 * writer refuses further calls with the same status. Messages name the path (and column).
 *
 * Ownership: create/free (free accepts NULL). Column specs and data are copied or consumed
 * during the call; nothing the caller passes is kept. Thread safety: one thread per writer.
 */
#ifndef DP_PARQUET_WRITER_H
#define DP_PARQUET_WRITER_H

#include "parquet/pq_types.h"
#include "util/dp_base.h"

typedef struct dp_pq_writer dp_pq_writer;

typedef struct dp_pq_write_column {
    const char *name;    /* unique, non-empty */
    dp_pq_physical type; /* BOOLEAN, INT32, INT64, FLOAT, DOUBLE or BYTE_ARRAY */
    bool string;         /* BYTE_ARRAY: STRING logical type (+ UTF8 converted type) */
    bool optional;       /* OPTIONAL (may hold NULL) instead of REQUIRED */
    bool dictionary;     /* BYTE_ARRAY: try dictionary encoding */
} dp_pq_write_column;

typedef struct dp_pq_writer_options {
    int codec;                  /* dp_pq_codec (default 0 = UNCOMPRESSED) */
    int level;                  /* codec level; 0 = the codec's default */
    int64_t row_group_rows;     /* 0 = automatic: about 64 MiB of values, 1,024 .. 1,048,576 rows */
    int64_t page_bytes;         /* target uncompressed page size; 0 = 1 MiB */
    int64_t dict_max_bytes;     /* dictionary size cap; 0 = 1 MiB */
    bool no_crc;                /* do not write page CRCs */
    const char *created_by;     /* NULL = "dpipe <version>" */
    const char *const *kv_keys; /* key-value metadata written in the footer (copied at close) */
    const char *const *kv_values;
    int n_kv;
} dp_pq_writer_options;

/* One column's values for n rows, column-major. Fixed-width types: `values` holds n values of
 * the column's type (double, float, int32_t, int64_t; BOOLEAN as uint8_t, nonzero = true).
 * BYTE_ARRAY: value i is bytes[offsets[i] .. offsets[i+1]) (n + 1 non-decreasing offsets).
 * `valid`: NULL = every row valid, else n bytes, 0 = NULL (only for OPTIONAL columns; a NULL
 * in a REQUIRED column is DP_INVALID_ARG). The value of a NULL row is ignored. */
typedef struct dp_pq_column_data {
    const void *values;
    const int64_t *offsets;
    const uint8_t *bytes;
    const uint8_t *valid;
} dp_pq_column_data;

/* Create the writer and its temporary file. `cols` describes n_cols >= 1 columns; opts may be
 * NULL. INVALID_ARG for bad specs (empty or duplicate names, unsupported type, dictionary on a
 * fixed-width column), UNSUPPORTED for a codec this build cannot compress with. */
dp_status dp_pq_writer_create(const char *path, const dp_pq_write_column *cols, int32_t n_cols,
                              const dp_pq_writer_options *opts, dp_pq_writer **out,
                              dp_error *err) DP_MUST_USE;
/* Append n rows (cols[0 .. n_cols)); full row groups are written as they fill. */
dp_status dp_pq_writer_append(dp_pq_writer *w, const dp_pq_column_data *cols, int64_t n,
                              dp_error *err) DP_MUST_USE;
/* Write the buffered rows (if any) as a row group now. */
dp_status dp_pq_writer_flush(dp_pq_writer *w, dp_error *err) DP_MUST_USE;
/* Flush, then write these n rows as one row group (any size >= 1; not copied). */
dp_status dp_pq_writer_write_row_group(dp_pq_writer *w, const dp_pq_column_data *cols, int64_t n,
                                       dp_error *err) DP_MUST_USE;
/* Flush, write the footer, commit the file (fsync, rename, fsync directory). The writer must
 * still be freed. A file with 0 rows (no row group) is valid. */
dp_status dp_pq_writer_close(dp_pq_writer *w, dp_error *err) DP_MUST_USE;
/* Free; removes the temporary file when not closed. */
void dp_pq_writer_free(dp_pq_writer *w);

/* Rows written so far (row groups on disk) and bytes written. */
int64_t dp_pq_writer_rows(const dp_pq_writer *w);
uint64_t dp_pq_writer_bytes(const dp_pq_writer *w);
/* The row-group size in effect (after the automatic choice). */
int64_t dp_pq_writer_row_group_rows(const dp_pq_writer *w);

/* Codec by name ("none"/"uncompressed", "snappy", "zstd", "gzip", "lz4_raw"); -1 if unknown. */
int dp_pq_codec_from_name(const char *name);

#endif
