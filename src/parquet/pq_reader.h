/* pq_reader.h: reading Parquet files — an opened file (footer, schema) and a per-thread decoder
 * that turns one column chunk into values.
 *
 * Only the footer and the selected column chunks are read (pread through dp_source); a chunk is
 * read into the decoder's buffer, pages are decompressed and decoded one at a time.
 *
 * Ownership: dp_pq_file_open* create a file the caller frees with dp_pq_file_free (accepts NULL);
 * dp_pq_decoder_create a decoder freed with dp_pq_decoder_free. dp_pq_values is a caller value
 * (init/reset) whose buffers are reused across reads.
 * Thread safety: a dp_pq_file is immutable after open and may be shared by threads; each thread
 * uses its own dp_pq_decoder (it holds scratch buffers and codec contexts).
 */
#ifndef DP_PARQUET_READER_H
#define DP_PARQUET_READER_H

#include "parquet/pq_meta.h"

typedef struct dp_pq_file dp_pq_file;

dp_status dp_pq_file_open(const char *path, dp_pq_file **out, dp_error *err) DP_MUST_USE;
/* Borrows data (must outlive the file). */
dp_status dp_pq_file_open_memory(const void *data, size_t len, const char *name, dp_pq_file **out,
                                 dp_error *err) DP_MUST_USE;
void dp_pq_file_free(dp_pq_file *f);

const char *dp_pq_file_name(const dp_pq_file *f);
uint64_t dp_pq_file_size(const dp_pq_file *f);
const dp_pq_file_meta *dp_pq_file_metadata(const dp_pq_file *f);
/* Hash of the footer bytes (input fingerprints). */
uint64_t dp_pq_file_footer_hash(const dp_pq_file *f);
int32_t dp_pq_file_n_columns(const dp_pq_file *f);
const dp_pq_column_desc *dp_pq_file_column(const dp_pq_file *f, int32_t i);
/* Leaf column by dotted path; -1 when absent. */
int32_t dp_pq_file_find_column(const dp_pq_file *f, const char *path);
int64_t dp_pq_file_n_rows(const dp_pq_file *f);
int32_t dp_pq_file_n_row_groups(const dp_pq_file *f);
int64_t dp_pq_file_row_group_rows(const dp_pq_file *f, int32_t rg);

/* Values of one column chunk, dense by row: row i's value is at fixed.data + i * width (fixed
 * widths) or heap.data[offsets[i] .. offsets[i+1]) (BYTE_ARRAY); null rows have valid[i] = 0 and
 * a zeroed / empty value. */
typedef struct dp_pq_values {
    int64_t n;      /* rows */
    int64_t n_null; /* rows with valid == 0 */
    dp_pq_physical type;
    int32_t width;  /* bytes per value for fixed types (BOOLEAN: 1) */
    dp_buf valid;   /* n bytes */
    dp_buf fixed;   /* n * width bytes */
    dp_buf offsets; /* (n + 1) int64 for BYTE_ARRAY */
    dp_buf heap;    /* BYTE_ARRAY bytes */
} dp_pq_values;

void dp_pq_values_init(dp_pq_values *v);
void dp_pq_values_reset(dp_pq_values *v);

typedef struct dp_pq_decoder dp_pq_decoder;

typedef struct dp_pq_decoder_options {
    bool verify_crc; /* check page CRCs when present (default true) */
} dp_pq_decoder_options;

/* opts may be NULL (defaults). */
dp_status dp_pq_decoder_create(const dp_pq_decoder_options *opts, dp_pq_decoder **out,
                               dp_error *err) DP_MUST_USE;
void dp_pq_decoder_free(dp_pq_decoder *d);
/* Bytes of scratch the decoder holds now (for memory reports). */
size_t dp_pq_decoder_bytes(const dp_pq_decoder *d);

/* Decode column `col` of row group `rg` into out. Nested columns (max repetition level > 0 or
 * inside a group) are refused with DP_UNSUPPORTED naming the column. Errors name the file, row
 * group, column and byte offset of the page. */
dp_status dp_pq_read_values(dp_pq_decoder *d, const dp_pq_file *f, int32_t rg, int32_t col,
                            dp_pq_values *out, dp_error *err) DP_MUST_USE;

/* The NaN bit pattern read_doubles stores for NULL, so that consumers can tell a NULL from a NaN
 * value without a separate mask (a NaN value in the file with exactly this payload would be
 * counted as NULL — a harmless confusion of two kinds of missing). */
#define DP_PQ_NULL_BITS UINT64_C(0x7ff80000dead0001)

/* Decode a numeric column (desc->numeric) as doubles: dst[0 .. rows) with NULL stored as the NaN
 * DP_PQ_NULL_BITS (NaN and +-Inf values are kept as they are); *n_null receives the NULL count.
 * Decimals are scaled, unsigned integers read unsigned, booleans 0/1, FLOAT16 widened. Non-numeric
 * columns give DP_INVALID_ARG. */
dp_status dp_pq_read_doubles(dp_pq_decoder *d, const dp_pq_file *f, int32_t rg, int32_t col,
                             double *dst, int64_t *n_null, dp_error *err) DP_MUST_USE;

/* Value of row i as a double (numeric kinds; NaN for null). */
double dp_pq_value_to_double(const dp_pq_values *v, const dp_pq_column_desc *c, int64_t i);
/* Append row i as text to out, as `dpipe cat` prints it: NULL -> nothing; floats %.17g with
 * nan/inf/-inf; integers and decimals exact; booleans true/false; strings with \t \n \\ escaped;
 * binary as lowercase hex; temporal values in ISO form. */
dp_status dp_pq_value_format(const dp_pq_values *v, const dp_pq_column_desc *c, int64_t i,
                             dp_buf *out) DP_MUST_USE;

#endif
