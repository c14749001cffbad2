/* Heatmap images of the report: PNG encoding (decoded back with libpng), max-pooling against a
 * naive reference, and the colour map. */
#include "dp_test.h"
#include "dpipe/dp_features.h"
#include "pipeline/dp_png.h"
#include "util/dp_alloc.h"

#if DP_HAVE_PNG
#include <png.h>
#endif

/* A deterministic pseudo-random byte stream (xorshift), independent of the code under test. */
static uint64_t tp_next(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#if DP_HAVE_PNG
/* Decode with libpng's simplified API into RGB8. */
static void tp_decode(const dp_buf *png, int32_t *w, int32_t *h, uint8_t **rgb) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, png->data, png->size))
        DP_FAILF("libpng cannot read the PNG: %s", img.message);
    img.format = PNG_FORMAT_RGB;
    *rgb = malloc(PNG_IMAGE_SIZE(img));
    DP_ASSERT_TRUE(*rgb != NULL);
    if (!png_image_finish_read(&img, NULL, *rgb, 0, NULL))
        DP_FAILF("libpng cannot decode the PNG: %s", img.message);
    *w = (int32_t) img.width;
    *h = (int32_t) img.height;
}
#endif

DP_TEST(png_roundtrip_random_pixels) {
#if !DP_HAVE_PNG
    dp_buf b;
    dp_buf_init(&b);
    dp_error err = {0};
    DP_ASSERT_TRUE(!dp__png_available());
    DP_ASSERT_STATUS(dp__png_encode_rgb((const uint8_t *) "abc", 1, 1, &b, &err), DP_UNSUPPORTED);
    DP_ASSERT_EQ_INT(b.size, 0);
    DP_SKIP("built without libpng: encoder reports UNSUPPORTED as it should");
#else
    /* Odd sizes (rows not a multiple of 4 bytes) and incompressible content. */
    const int sizes[][2] = {{1, 1}, {37, 23}, {3, 200}, {257, 5}};
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        int32_t w = sizes[t][0], h = sizes[t][1];
        uint8_t *px = malloc((size_t) w * h * 3);
        uint64_t s = 0x9e3779b97f4a7c15ull + t;
        for (size_t i = 0; i < (size_t) w * h * 3; i++)
            px[i] = (uint8_t) (tp_next(&s) >> 56);
        dp_buf b;
        dp_buf_init(&b);
        DP_ASSERT_OK(dp_buf_append(&b, "prefix", 6), NULL);
        dp_error err = {0};
        DP_ASSERT_OK(dp__png_encode_rgb(px, w, h, &b, &err), &err);
        DP_ASSERT_MEMEQ(b.data, "prefix", 6); /* appended, not overwritten */
        DP_ASSERT_MEMEQ(b.data + 6, "\x89PNG\r\n\x1a\n", 8);
        dp_buf png = {b.data + 6, b.size - 6, b.size - 6};
        int32_t dw = 0, dh = 0;
        uint8_t *back = NULL;
        tp_decode(&png, &dw, &dh, &back);
        DP_ASSERT_EQ_INT(dw, w);
        DP_ASSERT_EQ_INT(dh, h);
        DP_ASSERT_MEMEQ(back, px, (size_t) w * h * 3);
        free(back);
        free(px);
        dp_buf_reset(&b);
    }
#endif
}

DP_TEST(png_rejects_bad_sizes_and_keeps_buffer) {
    dp_buf b;
    dp_buf_init(&b);
    DP_ASSERT_OK(dp_buf_append(&b, "xy", 2), NULL);
    uint8_t px[3] = {1, 2, 3};
    dp_error err = {0};
    dp_status want = dp__png_available() ? DP_INVALID_ARG : DP_UNSUPPORTED;
    DP_ASSERT_STATUS(dp__png_encode_rgb(px, 0, 1, &b, &err), want);
    DP_ASSERT_STATUS(dp__png_encode_rgb(px, 1, DP_PNG_MAX_SIDE + 1, &b, &err), want);
    DP_ASSERT_EQ_INT(b.size, 2);
    dp_buf_reset(&b);
}

DP_TEST(png_encoder_out_of_memory_is_reported) {
    if (!dp__png_available())
        DP_SKIP("built without libpng");
    enum { W = 64, H = 64 };
    static uint8_t px[W * H * 3];
    for (size_t i = 0; i < sizeof px; i++)
        px[i] = (uint8_t) (i * 31);
    /* Fail each allocation in turn: every failure is NOMEM, the buffer is restored, and once
     * enough allocations succeed the image encodes. */
    bool done = false;
    for (int64_t k = 1; k < 200 && !done; k++) {
        dp_buf b;
        dp_buf_init(&b);
        dp_error err = {0};
        dp_alloc_fail_after(k);
        dp_status st = dp__png_encode_rgb(px, W, H, &b, &err);
        dp_alloc_fail_after(0);
        if (st == DP_OK) {
            done = true;
            DP_ASSERT_TRUE(b.size > 8);
        } else {
            DP_ASSERT_STATUS(st, DP_NOMEM);
            DP_ASSERT_EQ_INT(b.size, 0);
        }
        dp_buf_reset(&b);
    }
    DP_ASSERT_TRUE(done);
}

/* Naive reference: for each block, scan the whole matrix for cells that fall in it. */
static double tp_block_max(const double *a, int64_t n, const int64_t *order, int64_t f, int64_t bi,
                           int64_t bj) {
    double best = NAN;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < n; j++) {
            if (i / f != bi || j / f != bj)
                continue;
            double v = a[order[i] * n + order[j]];
            v = v < 0 ? -v : v;
            if (v != v)
                continue;
            if (best != best || v > best)
                best = v;
        }
    return best;
}

DP_TEST(maxpool_matches_naive_reference) {
    const int64_t n = 53;
    double *a = malloc((size_t) (n * n) * sizeof *a);
    int64_t *order = malloc((size_t) n * sizeof *order);
    uint64_t s = 12345;
    for (int64_t i = 0; i < n * n; i++) {
        a[i] = ((double) (tp_next(&s) >> 11) / 9007199254740992.0) * 2 - 1;
        if (tp_next(&s) % 17 == 0)
            a[i] = NAN;
    }
    /* A block made wholly of NaN: rows/cols 0..4 in display order come from source 0..4. */
    for (int64_t i = 0; i < n; i++)
        order[i] = i;
    for (int64_t i = n - 1; i > 5; i--) { /* shuffle the tail only */
        int64_t j = 5 + (int64_t) (tp_next(&s) % (uint64_t) (i - 4));
        int64_t t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (int64_t i = 0; i < 5; i++)
        for (int64_t j = 0; j < 5; j++)
            a[i * n + j] = NAN;
    const int64_t factors[] = {1, 2, 5, 7, 52, 53, 60};
    for (size_t t = 0; t < sizeof factors / sizeof factors[0]; t++) {
        int64_t f = factors[t], m = (n + f - 1) / f;
        double *out = malloc((size_t) (m * m) * sizeof *out);
        dp_error err = {0};
        DP_ASSERT_OK(dp__maxpool_abs(a, n, order, f, out, &err), &err);
        for (int64_t bi = 0; bi < m; bi++)
            for (int64_t bj = 0; bj < m; bj++)
                DP_ASSERT_BITS_EQ(out[bi * m + bj], tp_block_max(a, n, order, f, bi, bj));
        if (f == 5)
            DP_ASSERT_TRUE(isnan(out[0])); /* the all-NaN block */
        free(out);
    }
    /* NULL order = identity. */
    int64_t *id = malloc((size_t) n * sizeof *id);
    for (int64_t i = 0; i < n; i++)
        id[i] = i;
    double *o1 = malloc((size_t) (11 * 11) * sizeof *o1);
    double *o2 = malloc((size_t) (11 * 11) * sizeof *o2);
    DP_ASSERT_OK(dp__maxpool_abs(a, n, NULL, 5, o1, NULL), NULL);
    DP_ASSERT_OK(dp__maxpool_abs(a, n, id, 5, o2, NULL), NULL);
    for (int k = 0; k < 121; k++)
        DP_ASSERT_BITS_EQ(o1[k], o2[k]);
    /* Bad arguments. */
    id[3] = n;
    DP_ASSERT_STATUS(dp__maxpool_abs(a, n, id, 5, o1, NULL), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp__maxpool_abs(a, n, NULL, 0, o1, NULL), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp__maxpool_abs(a, 0, NULL, 1, o1, NULL), DP_INVALID_ARG);
    free(o1);
    free(o2);
    free(id);
    free(a);
    free(order);
}

DP_TEST(pool_factor_fits_budget) {
    for (int64_t n = 1; n <= 3000; n += 7)
        for (int64_t budget = 1; budget <= 700; budget += 53) {
            int64_t f = dp__pool_factor(n, budget);
            DP_ASSERT_TRUE(f >= 1);
            DP_ASSERT_TRUE((n + f - 1) / f <= budget);
            /* Smallest such factor: one less would not fit. */
            if (f > 1)
                DP_ASSERT_TRUE((n + f - 2) / (f - 1) > budget);
        }
}

/* WCAG relative luminance of an sRGB colour: an independent definition of brightness. */
static double tp_luminance(const uint8_t c[3]) {
    double l[3];
    for (int k = 0; k < 3; k++) {
        double v = c[k] / 255.0;
        l[k] = v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
    }
    return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
}

DP_TEST(colormap_is_viridis_like_and_monotone) {
    uint8_t lut[256][3];
    dp__colormap_lut(lut);
    /* Ends: viridis's published end colours (dark purple #440154, yellow #fde725), to rounding
     * through OKLab and back (1 level). */
    const uint8_t lo[3] = {0x44, 0x01, 0x54}, hi[3] = {0xfd, 0xe7, 0x25};
    for (int k = 0; k < 3; k++) {
        DP_ASSERT_NEAR(lut[0][k], lo[k], 1);
        DP_ASSERT_NEAR(lut[255][k], hi[k], 1);
    }
    /* Luminance rises along the scale, so it reads in grey and for colour-blind readers. Adjacent
     * 8-bit entries may tie or wobble by rounding; allow 0.002 (a fraction of one 8-bit step). */
    for (int k = 1; k < 256; k++)
        if (tp_luminance(lut[k]) < tp_luminance(lut[k - 1]) - 0.002)
            DP_FAILF("luminance falls at %d: %.4f -> %.4f", k, tp_luminance(lut[k - 1]),
                     tp_luminance(lut[k]));
    DP_ASSERT_TRUE(tp_luminance(lut[255]) - tp_luminance(lut[0]) > 0.6);
    /* Quarter points are viridis samples too. */
    uint8_t mid[3];
    dp__colormap(0.5, mid);
    DP_ASSERT_NEAR(mid[0], 0x21, 1);
    DP_ASSERT_NEAR(mid[1], 0x91, 1);
    DP_ASSERT_NEAR(mid[2], 0x8c, 1);
    /* NaN grey; clamping outside [0, 1]. */
    uint8_t g[3], c[3];
    dp__colormap(NAN, g);
    DP_ASSERT_EQ_INT(g[0], DP_COLORMAP_NAN_R);
    dp__colormap(-3, c);
    DP_ASSERT_MEMEQ(c, lut[0], 3);
    dp__colormap(7, c);
    DP_ASSERT_MEMEQ(c, lut[255], 3);
    /* The heatmap pixels use the table. */
    double v[4] = {0, 1, NAN, 0.5};
    uint8_t rgb[12];
    dp__heatmap_rgb(v, 2, (const uint8_t(*)[3]) lut, rgb);
    DP_ASSERT_MEMEQ(rgb, lut[0], 3);
    DP_ASSERT_MEMEQ(rgb + 3, lut[255], 3);
    DP_ASSERT_EQ_INT(rgb[6], DP_COLORMAP_NAN_R);
    DP_ASSERT_MEMEQ(rgb + 9, lut[128], 3);
}
