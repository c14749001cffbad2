/* Reading a Parquet footer: peek (magic bytes, footer length), verify (against the file size and
 * DP_LIMIT_FOOTER_MAX), decode (FileMetaData), derive the leaf columns and validate them.
 *
 * File layout: "PAR1" | column chunks ... | FileMetaData | u32 footer length | "PAR1". Files
 * with an encrypted footer end in "PARE"; files with a plaintext footer and encrypted columns
 * carry FileMetaData.encryption_algorithm. Both are refused with DP_ENCRYPTED.
 *
 * Status rules: a file that ends before its magic/footer could be complete is TRUNCATED (it
 * begins with "PAR1" but the tail is missing or shorter than 12 bytes); bytes that cannot be a
 * Parquet file or footer are CORRUPT (including a FileMetaData that runs past the footer length
 * the file itself states); sizes above dp_limits.h are LIMIT. Every message starts with the
 * file's name.
 */
#include "parquet/pq_meta.h"
#include "util/dp_alloc.h"
#include "util/dp_limits.h"

#include <string.h>

static dp_status footer_read(const dp_source *src, dp_buf *footer, dp_pq_file_meta *meta,
                             dp_pq_column_desc **cols, int32_t *n_cols, dp_error *err) {
    dp_status st = DP_OK;
    uint64_t size = dp_source_size(src);
    uint8_t head[4] = {0}, tail[8] = {0};
    size_t n_head = size < 4 ? (size_t) size : 4;
    if (n_head > 0)
        DP_CHECK(dp_source_read(src, 0, head, n_head, err));
    bool head_ok = n_head == 4 && memcmp(head, "PAR1", 4) == 0;
    bool head_prefix = memcmp(head, "PAR1", n_head) == 0 || memcmp(head, "PARE", n_head) == 0;
    if (size < 12) {
        if (head_prefix)
            DP_FAIL(err, DP_TRUNCATED,
                    "file of %llu bytes is too short for a Parquet file (at least 12 bytes); "
                    "truncated?",
                    (unsigned long long) size);
        DP_FAIL(err, DP_CORRUPT, "not a Parquet file (no \"PAR1\" magic at the start)");
    }
    DP_CHECK(dp_source_read(src, size - 8, tail, 8, err));
    if (memcmp(tail + 4, "PARE", 4) == 0 || memcmp(head, "PARE", 4) == 0)
        DP_FAIL(err, DP_ENCRYPTED,
                "encrypted files are not supported (encrypted footer, \"PARE\" magic)");
    if (memcmp(tail + 4, "PAR1", 4) != 0) {
        if (head_ok)
            DP_FAIL(err, DP_TRUNCATED,
                    "no \"PAR1\" magic at the end of the file (%llu bytes): the file is "
                    "truncated or still being written",
                    (unsigned long long) size);
        DP_FAIL(err, DP_CORRUPT, "not a Parquet file (no \"PAR1\" magic)");
    }
    if (!head_ok)
        DP_FAIL(err, DP_CORRUPT, "no \"PAR1\" magic at the start of the file");
    uint64_t flen = (uint64_t) tail[0] | (uint64_t) tail[1] << 8 | (uint64_t) tail[2] << 16 |
                    (uint64_t) tail[3] << 24;
    if (flen == 0)
        DP_FAIL(err, DP_CORRUPT, "footer length is 0");
    if (flen > size - 12)
        DP_FAIL(err, DP_CORRUPT,
                "footer length %llu does not fit in a file of %llu bytes (at most %llu)",
                (unsigned long long) flen, (unsigned long long) size,
                (unsigned long long) (size - 12));
    if (flen > DP_LIMIT_FOOTER_MAX)
        DP_FAIL(err, DP_LIMIT, "footer of %llu bytes exceeds the limit of %llu bytes",
                (unsigned long long) flen, (unsigned long long) DP_LIMIT_FOOTER_MAX);
    uint64_t foff = size - 8 - flen;
    if (dp_buf_resize(footer, (size_t) flen) != DP_OK)
        DP_FAIL(err, DP_NOMEM, "cannot allocate the %llu-byte footer", (unsigned long long) flen);
    DP_CHECK(dp_source_read(src, foff, footer->data, (size_t) flen, err));
    st = dp_pq_file_meta_decode(footer->data, (size_t) flen, meta, err);
    if (st == DP_TRUNCATED) {
        /* The footer length is the file's own statement: metadata running past it is corrupt,
         * not a short read. */
        st = DP_CORRUPT;
        if (err != NULL)
            err->status = DP_CORRUPT;
    }
    if (st != DP_OK) {
        dp_error_prefix(err, "footer at offset %llu (%llu bytes): ", (unsigned long long) foff,
                        (unsigned long long) flen);
        goto cleanup;
    }
    if (meta->has_encryption_algorithm)
        DP_FAIL(err, DP_ENCRYPTED,
                "encrypted files are not supported (plaintext footer, encrypted columns)");
    DP_CHECK(dp_pq_schema_build(meta, cols, n_cols, err));
    /* Column data ends where the footer begins: validating against a file that ends at the
     * footer (plus the 8 trailing bytes validate allows for) keeps chunks out of it. */
    DP_CHECK(dp_pq_meta_validate(meta, *cols, *n_cols, foff + 8, err));
cleanup:
    return st;
}

dp_status dp_pq_footer_read(const dp_source *src, dp_buf *footer, dp_pq_file_meta *meta,
                            dp_pq_column_desc **cols, int32_t *n_cols, dp_error *err) {
    memset(meta, 0, sizeof *meta);
    *cols = NULL;
    *n_cols = 0;
    dp_status st = footer_read(src, footer, meta, cols, n_cols, err);
    if (st != DP_OK) {
        dp_pq_columns_free(*cols, *n_cols);
        *cols = NULL;
        *n_cols = 0;
        dp_pq_file_meta_reset(meta);
        dp_buf_reset(footer);
        dp_error_prefix(err, "%s: ", dp_source_name(src));
    }
    return st;
}
