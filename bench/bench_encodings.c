/* Decode throughput of the Parquet value encodings on ~100 MB of decoded output per case, one
 * thread, in page-sized calls (128 Ki values per call, like a ~1 MB page), best of 5 runs.
 * Output: case, decoded MB, seconds, decoded MB/s, million values/s.
 *   bench_encodings [MB]   (default 100) */
#include "parquet/pq_encoding.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"
#include "util/dp_rng.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE ((size_t) 128 * 1024)

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

typedef struct page {
    dp_buf enc;
    size_t n;
} page;

typedef enum kind { K_PLAIN_F64, K_DICT_BW10, K_DELTA_I64, K_BSS_F64, K_LEVELS_BW1 } kind;

static const char *const names[] = {"PLAIN double", "RLE dict indices bw10",
                                    "DELTA_BINARY_PACKED int64", "BYTE_STREAM_SPLIT double",
                                    "RLE levels bw1 (mostly runs)"};
static const size_t out_width[] = {8, 4, 8, 8, 4};

static void die(const char *what) {
    fprintf(stderr, "bench_encodings: %s failed\n", what);
    exit(1);
}

static void encode_page(kind k, dp_rng *r, size_t n, dp_buf *b) {
    switch (k) {
    case K_PLAIN_F64:
    case K_BSS_F64: {
        double *v = dp_mallocarray(n, 8);
        for (size_t i = 0; i < n; i++)
            v[i] = dp_rng_normal(r) * 100.0;
        if (dp_buf_resize(b, n * 8) != DP_OK)
            die("resize");
        if (k == K_PLAIN_F64) {
            memcpy(b->data, v, n * 8);
        } else {
            const uint8_t *src = (const uint8_t *) v;
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < 8; j++)
                    b->data[j * n + i] = src[i * 8 + j];
        }
        dp_free(v);
        break;
    }
    case K_DICT_BW10:
    case K_LEVELS_BW1: {
        uint32_t *v = dp_mallocarray(n, 4);
        for (size_t i = 0; i < n; i++) {
            if (k == K_DICT_BW10)
                v[i] = (uint32_t) dp_rng_below(r, 1000);
            else /* optional column, ~1% nulls in short bursts */
                v[i] = (i > 0 && dp_rng_below(r, 50) != 0) ? v[i - 1] : (dp_rng_below(r, 2) != 0);
        }
        if (k == K_DICT_BW10 && dp_buf_append_u8(b, 10) != DP_OK)
            die("append");
        if (dp_pq_rle_encode(v, (int64_t) n, k == K_DICT_BW10 ? 10 : 1, b) != DP_OK)
            die("rle encode");
        dp_free(v);
        break;
    }
    case K_DELTA_I64: {
        int64_t *v = dp_mallocarray(n, 8);
        int64_t x = 0;
        for (size_t i = 0; i < n; i++) {
            x += (int64_t) dp_rng_below(r, 2001) - 1000;
            v[i] = x;
        }
        if (dp_pq_delta_binary_encode_i64(v, (int64_t) n, b) != DP_OK)
            die("delta encode");
        dp_free(v);
        break;
    }
    }
}

static void decode_page(kind k, const page *p, void *out) {
    dp_status st = DP_OK;
    size_t used;
    switch (k) {
    case K_PLAIN_F64:
        st =
            dp_pq_plain_fixed_decode(p->enc.data, p->enc.size, 8, (int64_t) p->n, out, &used, NULL);
        break;
    case K_DICT_BW10:
        st = dp_pq_dict_indices_decode(p->enc.data, p->enc.size, out, (int64_t) p->n, NULL);
        break;
    case K_LEVELS_BW1:
        st = dp_pq_rle_decode(p->enc.data, p->enc.size, 1, out, (int64_t) p->n, &used, NULL);
        break;
    case K_DELTA_I64:
        st = dp_pq_delta_binary_decode_i64(p->enc.data, p->enc.size, (int64_t) p->n, out, &used,
                                           NULL);
        break;
    case K_BSS_F64:
        st = dp_pq_bss_decode(p->enc.data, p->enc.size, 8, (int64_t) p->n, (int64_t) p->n, out,
                              NULL);
        break;
    }
    if (st != DP_OK)
        die("decode");
}

int main(int argc, char **argv) {
    double mb = argc > 1 ? atof(argv[1]) : 100.0;
    printf("%-30s %10s %9s %10s %10s %9s\n", "case", "MB", "seconds", "MB/s", "Mvalues/s",
           "enc MB");
    for (kind k = K_PLAIN_F64; k <= K_LEVELS_BW1; k++) {
        size_t total = (size_t) (mb * 1e6) / out_width[k];
        size_t npages = (total + PAGE - 1) / PAGE;
        page *pages = dp_calloc(npages, sizeof *pages);
        dp_rng r;
        dp_rng_seed(&r, 42 + (uint64_t) k);
        size_t enc_bytes = 0;
        for (size_t i = 0; i < npages; i++) {
            pages[i].n = i + 1 < npages ? PAGE : total - i * PAGE;
            dp_buf_init(&pages[i].enc);
            encode_page(k, &r, pages[i].n, &pages[i].enc);
            enc_bytes += pages[i].enc.size;
        }
        uint8_t *out = dp_mallocarray(total, out_width[k]);
        if (out == NULL)
            die("alloc");
        memset(out, 0, total * out_width[k]); /* fault the pages in before timing */
        double best = 1e30;
        for (int rep = 0; rep < 5; rep++) {
            double t0 = now();
            size_t at = 0;
            for (size_t i = 0; i < npages; i++) {
                decode_page(k, &pages[i], out + at * out_width[k]);
                at += pages[i].n;
            }
            double dt = now() - t0;
            if (dt < best)
                best = dt;
        }
        double bytes = (double) total * (double) out_width[k];
        printf("%-30s %10.1f %9.4f %10.0f %10.1f %9.1f\n", names[k], bytes / 1e6, best,
               bytes / 1e6 / best, (double) total / 1e6 / best, (double) enc_bytes / 1e6);
        for (size_t i = 0; i < npages; i++)
            dp_buf_reset(&pages[i].enc);
        dp_free(pages);
        dp_free(out);
    }
    return 0;
}
