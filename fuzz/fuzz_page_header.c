/* Fuzz target: Parquet page headers. The input is walked like a column chunk: decode a header,
 * skip its compressed payload, repeat until the bytes run out or a header fails. Every call must
 * return a status and leave the cursor inside the input. */
#include "parquet/pq_meta.h"
#include "util/dp_buf.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dp_cursor c;
    dp_cursor_init(&c, data, size);
    dp_error err;
    for (int pages = 0; pages < 100000 && dp_cursor_remaining(&c) > 0; pages++) {
        dp_pq_page_header h;
        const uint8_t *before = c.p;
        if (dp_pq_page_header_decode(&c, &h, &err) != DP_OK) {
            if (c.p != before)
                abort(); /* a failed decode must leave the cursor where it was */
            break;
        }
        if (c.p <= before || c.p > data + size)
            abort();
        if (h.compressed_size < 0)
            abort(); /* checked by the decoder */
        /* What decodes re-encodes to bytes that decode to the same header. */
        dp_buf b;
        dp_buf_init(&b);
        if (dp_pq_page_header_encode(&h, &b, &err) != DP_OK)
            abort();
        dp_cursor c2;
        dp_cursor_init(&c2, b.data, b.size);
        dp_pq_page_header h2;
        if (dp_pq_page_header_decode(&c2, &h2, &err) != DP_OK || dp_cursor_remaining(&c2) != 0 ||
            h2.type != h.type || h2.compressed_size != h.compressed_size ||
            h2.uncompressed_size != h.uncompressed_size || h2.has_crc != h.has_crc ||
            h2.crc != h.crc || h2.num_values != h.num_values || h2.encoding != h.encoding ||
            h2.has_data_v1 != h.has_data_v1 || h2.has_data_v2 != h.has_data_v2 ||
            h2.has_dict != h.has_dict || h2.dict_num_values != h.dict_num_values ||
            h2.num_nulls != h.num_nulls || h2.num_rows != h.num_rows ||
            h2.def_levels_byte_length != h.def_levels_byte_length ||
            h2.rep_levels_byte_length != h.rep_levels_byte_length ||
            h2.is_compressed != h.is_compressed)
            abort();
        dp_buf_reset(&b);
        if (!dp_cursor_skip(&c, (size_t) h.compressed_size))
            break;
    }
    return 0;
}
