/* libFuzzer target: RLE / bit-packed hybrid, deprecated BIT_PACKED levels and dictionary indices.
 *
 * Input: byte 0 = mode (bits 6..7: 0 hybrid, 1 legacy BIT_PACKED, 2 dictionary indices, 3 hybrid
 * with bit width 1 as for RLE booleans) and bit width (bits 0..5; 33..63 exercise the refusal);
 * bytes 1..2 = count (little-endian); the rest is the encoded stream, handed over in an
 * exact-size block so a read past it is a sanitizer error. The output block is exactly `count`
 * values. Beyond not crashing, a decoded hybrid stream must re-encode (library encoder) and
 * decode back to the same values, and every value must fit its bit width. */
#include "parquet/pq_encoding.h"
#include "util/dp_alloc.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(c)                                                                              \
    do {                                                                                           \
        if (!(c))                                                                                  \
            abort();                                                                               \
    } while (0)

static void check_widths(const uint32_t *v, int64_t n, int bw) {
    if (bw >= 32)
        return;
    for (int64_t i = 0; i < n; i++)
        FUZZ_CHECK((v[i] >> bw) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3)
        return 0;
    int mode = data[0] >> 6;
    int bw = mode == 3 ? 1 : data[0] & 63;
    int64_t count = (int64_t) data[1] | (int64_t) data[2] << 8;
    size_t n = size - 3;
    uint8_t *in = dp_malloc(n);
    uint32_t *out = dp_mallocarray((size_t) count, sizeof *out);
    uint32_t *again = NULL;
    dp_buf enc;
    dp_buf_init(&enc);
    if (in == NULL || out == NULL)
        goto done;
    if (n)
        memcpy(in, data + 3, n);
    dp_error err;
    size_t used = 0;
    dp_status st;
    switch (mode) {
    case 0:
    case 3:
        st = dp_pq_rle_decode(in, n, bw, out, count, &used, &err);
        if (st != DP_OK)
            break;
        FUZZ_CHECK(used <= n);
        check_widths(out, count, bw);
        FUZZ_CHECK(dp_pq_rle_encode(out, count, bw, &enc) == DP_OK);
        again = dp_mallocarray((size_t) count, sizeof *again);
        if (again == NULL)
            break;
        FUZZ_CHECK(dp_pq_rle_decode(enc.data, enc.size, bw, again, count, &used, &err) == DP_OK);
        FUZZ_CHECK(used == enc.size);
        FUZZ_CHECK(count == 0 || memcmp(again, out, (size_t) count * sizeof *out) == 0);
        break;
    case 1:
        st = dp_pq_bitpacked_legacy_decode(in, n, bw, out, count, &used, &err);
        if (st != DP_OK)
            break;
        FUZZ_CHECK(used == ((size_t) count * (size_t) bw + 7) / 8 && used <= n);
        check_widths(out, count, bw);
        break;
    default:
        st = dp_pq_dict_indices_decode(in, n, out, count, &err);
        if (st == DP_OK && n > 0)
            check_widths(out, count, in[0]);
        break;
    }
done:
    dp_buf_reset(&enc);
    dp_free(again);
    dp_free(out);
    dp_free(in);
    return 0;
}
