/* libFuzzer target: the value encodings of pq_encoding.h.
 *
 * Input: byte 0 selects the decoder (mod 8): 0 PLAIN BOOLEAN, 1 PLAIN BYTE_ARRAY,
 * 2 DELTA_BINARY_PACKED INT32, 3 DELTA_BINARY_PACKED INT64, 4 DELTA_LENGTH_BYTE_ARRAY,
 * 5 DELTA_BYTE_ARRAY, 6 BYTE_STREAM_SPLIT, 7 PLAIN fixed width. Bytes 1..2 = count
 * (little-endian; 12 bits for the byte-array decoders, whose output can legitimately expand),
 * byte 3 = a parameter (width for BYTE_STREAM_SPLIT / PLAIN fixed). The rest is the encoded data
 * in an exact-size block; outputs are exact-size blocks. Checked beyond not crashing: `consumed`
 * stays inside the input, offsets are monotone and end at the heap size, INT64 delta values
 * re-encode and decode back to themselves, BYTE_STREAM_SPLIT equals a naive transpose. */
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

typedef dp_status (*ba_fn)(const uint8_t *, size_t, int64_t, int64_t *, dp_buf *, size_t *,
                           dp_error *);

static void run_byte_arrays(ba_fn fn, const uint8_t *in, size_t n, int64_t count) {
    int64_t *off = dp_mallocarray((size_t) count + 1, sizeof *off);
    dp_buf heap;
    dp_buf_init(&heap);
    if (off == NULL || dp_buf_append(&heap, "pre", 3) != DP_OK)
        goto done;
    dp_error err;
    size_t used = 0;
    dp_status st = fn(in, n, count, off, &heap, &used, &err);
    if (st != DP_OK) {
        FUZZ_CHECK(heap.size == 3);
        goto done;
    }
    FUZZ_CHECK(used <= n);
    FUZZ_CHECK(off[0] == 3);
    for (int64_t i = 0; i < count; i++)
        FUZZ_CHECK(off[i] <= off[i + 1]);
    FUZZ_CHECK((size_t) off[count] == heap.size);
    FUZZ_CHECK(memcmp(heap.data, "pre", 3) == 0);
done:
    dp_buf_reset(&heap);
    dp_free(off);
}

static void run_delta64(const uint8_t *in, size_t n, int64_t count) {
    int64_t *out = dp_mallocarray((size_t) count, sizeof *out);
    int64_t *again = dp_mallocarray((size_t) count, sizeof *again);
    dp_buf enc;
    dp_buf_init(&enc);
    dp_error err;
    size_t used = 0;
    if (out == NULL || again == NULL)
        goto done;
    if (dp_pq_delta_binary_decode_i64(in, n, count, out, &used, &err) != DP_OK)
        goto done;
    FUZZ_CHECK(used <= n);
    FUZZ_CHECK(dp_pq_delta_binary_encode_i64(out, count, &enc) == DP_OK);
    FUZZ_CHECK(dp_pq_delta_binary_decode_i64(enc.data, enc.size, count, again, &used, &err) ==
               DP_OK);
    FUZZ_CHECK(used == enc.size);
    FUZZ_CHECK(count == 0 || memcmp(out, again, (size_t) count * sizeof *out) == 0);
done:
    dp_buf_reset(&enc);
    dp_free(again);
    dp_free(out);
}

static void run_bss(const uint8_t *in, size_t n, uint16_t cnt, uint8_t param) {
    /* Widths 1..40; the stream length is taken from the data (optionally off by one value, to
     * reach the length checks), count from the header bytes. */
    size_t width = 1 + (size_t) (param % 40);
    int64_t n_total = (int64_t) (n / width) + ((param & 0x80) ? 1 : 0);
    int64_t count = n_total == 0 ? 0 : (int64_t) (cnt % (uint64_t) (n_total + 1));
    uint8_t *out = dp_mallocarray((size_t) count, width);
    if (out == NULL)
        return;
    dp_error err;
    if (dp_pq_bss_decode(in, n, width, n_total, count, out, &err) == DP_OK) {
        for (int64_t i = 0; i < count; i++)
            for (size_t k = 0; k < width; k++)
                FUZZ_CHECK(out[(size_t) i * width + k] == in[k * (size_t) n_total + (size_t) i]);
    }
    dp_free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 4)
        return 0;
    int sel = data[0] % 8;
    uint16_t cnt = (uint16_t) (data[1] | data[2] << 8);
    uint8_t param = data[3];
    size_t n = size - 4;
    uint8_t *in = dp_malloc(n);
    if (in == NULL)
        return 0;
    if (n)
        memcpy(in, data + 4, n);
    dp_error err;
    size_t used = 0;
    void *out = NULL;
    int64_t count = cnt;
    switch (sel) {
    case 0:
        out = dp_malloc(cnt);
        if (out && dp_pq_plain_bool_decode(in, n, count, out, &used, &err) == DP_OK) {
            FUZZ_CHECK(used == (size_t) (count + 7) / 8 && used <= n);
            for (int64_t i = 0; i < count; i++)
                FUZZ_CHECK(((uint8_t *) out)[i] <= 1);
        }
        break;
    case 1:
        run_byte_arrays(dp_pq_plain_byte_array_decode, in, n, count & 0xfff);
        break;
    case 2:
        out = dp_mallocarray(cnt, 4);
        if (out && dp_pq_delta_binary_decode_i32(in, n, count, out, &used, &err) == DP_OK)
            FUZZ_CHECK(used <= n);
        break;
    case 3:
        run_delta64(in, n, count);
        break;
    case 4:
        run_byte_arrays(dp_pq_delta_length_byte_array_decode, in, n, count & 0xfff);
        break;
    case 5:
        run_byte_arrays(dp_pq_delta_byte_array_decode, in, n, count & 0xfff);
        break;
    case 6:
        run_bss(in, n, cnt, param);
        break;
    default: {
        size_t width = 1 + param % 16;
        out = dp_mallocarray(cnt, width);
        if (out && dp_pq_plain_fixed_decode(in, n, width, count, out, &used, &err) == DP_OK)
            FUZZ_CHECK(used == width * cnt && memcmp(out, in, used) == 0);
        break;
    }
    }
    dp_free(out);
    dp_free(in);
    return 0;
}
