/* Whole-file reading from memory: open the bytes as a Parquet file and decode every flat column
 * of every row group, as values and (numeric columns) as doubles, then format a few values. Any
 * input must give a clean status; nothing may crash, hang or leak. */
#include "parquet/pq_reader.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    dp_pq_file *f = NULL;
    dp_error err;
    if (dp_pq_file_open_memory(data, size, "fuzz", &f, &err) != DP_OK)
        return 0;
    dp_pq_decoder *dec = NULL;
    dp_pq_decoder_options o = {.verify_crc = (size & 1) == 0};
    if (dp_pq_decoder_create(&o, &dec, &err) != DP_OK) {
        dp_pq_file_free(f);
        return 0;
    }
    dp_pq_values v;
    dp_pq_values_init(&v);
    dp_buf text;
    dp_buf_init(&text);
    double buf[4096];
    for (int32_t rg = 0; rg < dp_pq_file_n_row_groups(f) && rg < 64; rg++) {
        for (int32_t c = 0; c < dp_pq_file_n_columns(f) && c < 256; c++) {
            const dp_pq_column_desc *d = dp_pq_file_column(f, c);
            if (dp_pq_read_values(dec, f, rg, c, &v, &err) == DP_OK) {
                for (int64_t i = 0; i < v.n && i < 16; i++) {
                    text.size = 0;
                    if (dp_pq_value_format(&v, d, i, &text) != DP_OK)
                        break;
                    (void) dp_pq_value_to_double(&v, d, i);
                }
            }
            int64_t n_null;
            if (d->numeric && dp_pq_file_row_group_rows(f, rg) <= 4096 &&
                dp_pq_read_doubles(dec, f, rg, c, buf, &n_null, &err) != DP_OK)
                continue; /* errors are expected on fuzzed input */
        }
    }
    dp_buf_reset(&text);
    dp_pq_values_reset(&v);
    dp_pq_decoder_free(dec);
    dp_pq_file_free(f);
    return 0;
}
