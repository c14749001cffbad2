/* Fuzz target: Parquet footer metadata. The input is used three ways:
 * 1. as FileMetaData bytes: decode, derive the schema, validate against a large fake file size
 *    (so chunk offsets can pass and the deeper checks run);
 * 2. as a whole file from memory: magic, footer length, decode, schema, validate;
 * 3. wrapped as a footer ("PAR1" + input + length + "PAR1"): the full read path on bytes the
 *    fuzzer controls entirely.
 * Every call must return a status; crashes, leaks, hangs and unbounded allocations are bugs. */
#include "io/dp_source.h"
#include "parquet/pq_meta.h"
#include "util/dp_alloc.h"

#include <stdlib.h>
#include <string.h>

static void read_source(const uint8_t *p, size_t n) {
    dp_error err;
    dp_source *src = NULL;
    if (dp_source_open_memory(p, n, "fuzz.parquet", &src, &err) != DP_OK)
        return;
    dp_buf footer;
    dp_buf_init(&footer);
    dp_pq_file_meta m;
    dp_pq_column_desc *cols = NULL;
    int32_t nc = 0;
    if (dp_pq_footer_read(src, &footer, &m, &cols, &nc, &err) == DP_OK) {
        dp_pq_columns_free(cols, nc);
        dp_pq_file_meta_reset(&m);
    }
    dp_buf_reset(&footer);
    dp_source_free(src);
}

/* encode(decoded) must decode again (or hit the size budget, which shrinks with the input when
 * unknown fields are dropped), and encoding is a function of the decoded values. */
static void check_reencode(const dp_pq_file_meta *m) {
    dp_error err;
    dp_buf a, b;
    dp_buf_init(&a);
    dp_buf_init(&b);
    if (dp_pq_file_meta_encode(m, &a, &err) != DP_OK)
        abort();
    dp_pq_file_meta m2;
    dp_status st = dp_pq_file_meta_decode(a.data, a.size, &m2, &err);
    if (st == DP_OK) {
        if (dp_pq_file_meta_encode(&m2, &b, &err) != DP_OK || b.size != a.size ||
            memcmp(a.data, b.data, a.size) != 0)
            abort();
        dp_pq_file_meta_reset(&m2);
    } else if (st != DP_LIMIT) {
        abort();
    }
    dp_buf_reset(&a);
    dp_buf_reset(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int64_t live0 = dp_alloc_live_bytes();
    dp_error err;
    dp_pq_file_meta m;
    if (dp_pq_file_meta_decode(data, size, &m, &err) == DP_OK) {
        check_reencode(&m);
        dp_pq_column_desc *cols = NULL;
        int32_t nc = 0;
        if (dp_pq_schema_build(&m, &cols, &nc, &err) == DP_OK) {
            dp_status st = dp_pq_meta_validate(&m, cols, nc, (uint64_t) 1 << 40, &err);
            if (st != DP_OK && err.status != st)
                abort(); /* the message must belong to the status returned */
            dp_pq_columns_free(cols, nc);
        }
        dp_pq_file_meta_reset(&m);
    }
    read_source(data, size);
    uint8_t *wrapped = dp_malloc(size + 12);
    if (wrapped != NULL) {
        memcpy(wrapped, "PAR1", 4);
        if (size > 0)
            memcpy(wrapped + 4, data, size);
        uint32_t n = (uint32_t) size;
        uint8_t len[4] = {(uint8_t) n, (uint8_t) (n >> 8), (uint8_t) (n >> 16),
                          (uint8_t) (n >> 24)};
        memcpy(wrapped + 4 + size, len, 4);
        memcpy(wrapped + 8 + size, "PAR1", 4);
        read_source(wrapped, size + 12);
        dp_free(wrapped);
    }
    if (dp_alloc_live_bytes() != live0)
        abort(); /* a leak through the dp_alloc seam */
    return 0;
}
