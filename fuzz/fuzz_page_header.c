/* Fuzz target: Parquet page headers. The input is walked like a column chunk: decode a header,
 * skip its compressed payload, repeat until the bytes run out or a header fails. Every call must
 * return a status and leave the cursor inside the input. */
#include "parquet/pq_meta.h"

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
        if (!dp_cursor_skip(&c, (size_t) h.compressed_size))
            break;
    }
    return 0;
}
