/* Fuzz target for the page codecs (src/parquet/pq_codec*.c).
 *
 * Input: byte 0 selects the codec id (0..8: the eight Parquet ids and one unknown), bytes 1..4
 * the page's uncompressed size (little-endian, reduced below 4 MiB + 1 so the fuzzer cannot ask
 * for huge buffers), the rest is the compressed page. The output buffer has exactly that size,
 * so ASan catches any write past it. When a page decodes and the codec can compress, the output
 * must survive a compress/decompress round trip bit for bit.
 * One codec context serves every input, as a reader thread's does across pages, so state left
 * behind by an error is exercised too.
 */
#include "parquet/pq_codec.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_CODEC_MAX_OUT ((uint32_t) 4 << 20)

static dp_pq_codec_ctx *fuzz_codec_ctx;

static void fuzz_codec_die(const char *what, int codec, const dp_error *err) {
    fprintf(stderr, "fuzz_codec: codec %d: %s: %s\n", codec, what, err ? err->msg : "");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 5)
        return 0;
    dp_error err;
    dp_error_init(&err);
    if (fuzz_codec_ctx == NULL && dp_pq_codec_ctx_create(&fuzz_codec_ctx, &err) != DP_OK)
        fuzz_codec_die("context", -1, &err);
    int codec = data[0] % 9;
    uint32_t dst_len = ((uint32_t) data[1] | (uint32_t) data[2] << 8 | (uint32_t) data[3] << 16 |
                        (uint32_t) data[4] << 24) %
                       (FUZZ_CODEC_MAX_OUT + 1);
    const uint8_t *src = data + 5;
    size_t src_len = size - 5;
    uint8_t *dst = dp_malloc(dst_len);
    if (dst == NULL)
        fuzz_codec_die("out of memory", codec, NULL);
    dp_status st = dp_pq_decompress(fuzz_codec_ctx, codec, src, src_len, dst, dst_len, &err);
    switch (st) {
    case DP_OK:
        break;
    case DP_CORRUPT:
    case DP_TRUNCATED:
    case DP_UNSUPPORTED:
    case DP_LIMIT:
        if (err.msg[0] == '\0')
            fuzz_codec_die("error without a message", codec, &err);
        break;
    default:
        fuzz_codec_die(dp_status_name(st), codec, &err);
    }
    if (st == DP_OK && dp_pq_codec_can_compress(codec)) {
        dp_buf comp;
        dp_buf_init(&comp);
        uint8_t *back = dp_malloc(dst_len);
        if (back == NULL)
            fuzz_codec_die("out of memory", codec, NULL);
        /* The fastest setting keeps the round trip cheap next to the decoding under test. */
        if (dp_pq_compress(fuzz_codec_ctx, codec, codec == 2 || codec == 4 ? 1 : 0, dst, dst_len,
                           &comp, &err) != DP_OK)
            fuzz_codec_die("compress", codec, &err);
        if (dp_pq_decompress(fuzz_codec_ctx, codec, comp.data, comp.size, back, dst_len, &err) !=
            DP_OK)
            fuzz_codec_die("decompress of own output", codec, &err);
        if (dst_len > 0 && memcmp(back, dst, dst_len) != 0)
            fuzz_codec_die("round trip differs", codec, NULL);
        dp_free(back);
        dp_buf_reset(&comp);
    }
    dp_free(dst);
    return 0;
}
