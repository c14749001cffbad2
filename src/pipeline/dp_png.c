/* Heatmap images: colour map, max-pooling, PNG encoding (dp_png.h). */
#include "pipeline/dp_png.h"
#include "dpipe/dp_features.h"
#include "util/dp_alloc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#if DP_HAVE_PNG
#include <png.h>
#endif

/* ---- colour map ------------------------------------------------------------------------------ */

/* Five samples of matplotlib's viridis at t = 0, 1/4, 1/2, 3/4, 1 (sRGB); the rest is
 * interpolation in OKLab, whose lightness axis is perceptually uniform. */
static const uint8_t dp__anchor[5][3] = {{0x44, 0x01, 0x54},
                                         {0x3b, 0x52, 0x8b},
                                         {0x21, 0x91, 0x8c},
                                         {0x5e, 0xc9, 0x62},
                                         {0xfd, 0xe7, 0x25}};

static double dp__srgb_to_linear(double c) {
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

static double dp__linear_to_srgb(double c) {
    if (c <= 0)
        return 0;
    if (c >= 1)
        return 1;
    return c <= 0.0031308 ? 12.92 * c : 1.055 * pow(c, 1 / 2.4) - 0.055;
}

/* OKLab (Ottosson 2020) from linear sRGB and back; the matrices are the colour space's
 * definition. */
static void dp__to_oklab(const uint8_t rgb[3], double lab[3]) {
    double r = dp__srgb_to_linear(rgb[0] / 255.0), g = dp__srgb_to_linear(rgb[1] / 255.0),
           b = dp__srgb_to_linear(rgb[2] / 255.0);
    double l = cbrt(0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b);
    double m = cbrt(0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b);
    double s = cbrt(0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b);
    lab[0] = 0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s;
    lab[1] = 1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s;
    lab[2] = 0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s;
}

static void dp__from_oklab(const double lab[3], uint8_t rgb[3]) {
    double l = lab[0] + 0.3963377774 * lab[1] + 0.2158037573 * lab[2];
    double m = lab[0] - 0.1055613458 * lab[1] - 0.0638541728 * lab[2];
    double s = lab[0] - 0.0894841775 * lab[1] - 1.2914855480 * lab[2];
    l = l * l * l;
    m = m * m * m;
    s = s * s * s;
    double lin[3] = {4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
                     -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
                     -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s};
    for (int k = 0; k < 3; k++)
        rgb[k] = (uint8_t) lround(dp__linear_to_srgb(lin[k]) * 255.0);
}

void dp__colormap(double t, uint8_t rgb[3]) {
    if (isnan(t)) {
        rgb[0] = DP_COLORMAP_NAN_R;
        rgb[1] = DP_COLORMAP_NAN_G;
        rgb[2] = DP_COLORMAP_NAN_B;
        return;
    }
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double x = t * 4;
    int k = (int) x;
    if (k >= 4)
        k = 3;
    double f = x - k;
    double a[3], b[3], mix[3];
    dp__to_oklab(dp__anchor[k], a);
    dp__to_oklab(dp__anchor[k + 1], b);
    for (int c = 0; c < 3; c++)
        mix[c] = a[c] + f * (b[c] - a[c]);
    dp__from_oklab(mix, rgb);
}

void dp__colormap_lut(uint8_t lut[256][3]) {
    for (int k = 0; k < 256; k++)
        dp__colormap(k / 255.0, lut[k]);
}

void dp__heatmap_rgb(const double *v, int64_t m, const uint8_t lut[256][3], uint8_t *rgb) {
    for (int64_t i = 0; i < m * m; i++) {
        double t = v[i];
        uint8_t *px = rgb + 3 * i;
        if (isnan(t)) {
            px[0] = DP_COLORMAP_NAN_R;
            px[1] = DP_COLORMAP_NAN_G;
            px[2] = DP_COLORMAP_NAN_B;
            continue;
        }
        t = t < 0 ? 0 : t > 1 ? 1 : t;
        const uint8_t *c = lut[(int) lround(t * 255.0)];
        px[0] = c[0];
        px[1] = c[1];
        px[2] = c[2];
    }
}

/* ---- max-pooling ----------------------------------------------------------------------------- */

int64_t dp__pool_factor(int64_t n, int64_t budget) {
    if (budget < 1)
        budget = 1;
    if (n <= budget)
        return 1;
    return (n + budget - 1) / budget;
}

dp_status dp__maxpool_abs(const double *a, int64_t n, const int64_t *order, int64_t factor,
                          double *out, dp_error *err) {
    if (n < 1 || factor < 1)
        return dp_error_set(err, DP_INVALID_ARG, "max-pooling: n = %lld, factor = %lld",
                            (long long) n, (long long) factor);
    if (order != NULL)
        for (int64_t i = 0; i < n; i++)
            if (order[i] < 0 || order[i] >= n)
                return dp_error_set(err, DP_INVALID_ARG,
                                    "max-pooling: order[%lld] = %lld outside 0..%lld",
                                    (long long) i, (long long) order[i], (long long) n - 1);
    int64_t m = (n + factor - 1) / factor;
    for (int64_t k = 0; k < m * m; k++)
        out[k] = NAN;
    /* One pass over the source in display order; each cell updates its block. */
    for (int64_t i = 0; i < n; i++) {
        const double *row = a + (order != NULL ? order[i] : i) * n;
        double *orow = out + (i / factor) * m;
        for (int64_t j = 0; j < n; j++) {
            double v = fabs(row[order != NULL ? order[j] : j]);
            if (isnan(v))
                continue;
            double *o = orow + j / factor;
            if (isnan(*o) || v > *o)
                *o = v;
        }
    }
    return DP_OK;
}

/* ---- PNG ------------------------------------------------------------------------------------- */

#if DP_HAVE_PNG

typedef struct dp__png_ctx {
    dp_buf *out;
    bool nomem;
    char msg[160];
} dp__png_ctx;

static void dp__png_write(png_structp p, png_bytep data, size_t n) {
    dp__png_ctx *c = png_get_io_ptr(p);
    if (dp_buf_append(c->out, data, n) != DP_OK) {
        c->nomem = true;
        png_error(p, "out of memory");
    }
}

static void dp__png_flush(png_structp p) {
    (void) p;
}

static void dp__png_error(png_structp p, png_const_charp msg) {
    dp__png_ctx *c = png_get_error_ptr(p);
    snprintf(c->msg, sizeof c->msg, "%s", msg != NULL ? msg : "?");
    png_longjmp(p, 1);
}

static void dp__png_warning(png_structp p, png_const_charp msg) {
    (void) p;
    (void) msg;
}

/* libpng's (and its zlib's) allocations; a failure is remembered so that the error libpng raises
 * next (whatever its wording) is reported as NOMEM. */
static png_voidp dp__png_malloc(png_structp p, png_alloc_size_t n) {
    void *q = dp_malloc(n > 0 ? n : 1);
    if (q == NULL && p != NULL) {
        dp__png_ctx *c = png_get_mem_ptr(p);
        if (c != NULL)
            c->nomem = true;
    }
    return q;
}

static void dp__png_free(png_structp p, png_voidp ptr) {
    (void) p;
    dp_free(ptr);
}

bool dp__png_available(void) {
    return true;
}

dp_status dp__png_encode_rgb(const uint8_t *rgb, int32_t w, int32_t h, dp_buf *out, dp_error *err) {
    if (w < 1 || h < 1 || w > DP_PNG_MAX_SIDE || h > DP_PNG_MAX_SIDE)
        return dp_error_set(err, DP_INVALID_ARG, "PNG: image of %d x %d pixels (sides 1..%d)",
                            (int) w, (int) h, DP_PNG_MAX_SIDE);
    const size_t start = out->size;
    dp__png_ctx ctx = {.out = out};
    png_structp p = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, &ctx, dp__png_error,
                                              dp__png_warning, &ctx, dp__png_malloc, dp__png_free);
    if (p == NULL)
        return dp_error_set(err, DP_NOMEM, "PNG: cannot create the encoder");
    png_infop info = png_create_info_struct(p);
    if (info == NULL) {
        png_destroy_write_struct(&p, NULL);
        return dp_error_set(err, DP_NOMEM, "PNG: cannot create the encoder");
    }
    /* Nothing set between here and png_longjmp is read afterwards except ctx (not a register
     * variable: its address is taken), p, info and start, which are not modified. */
    if (setjmp(png_jmpbuf(p))) {
        png_destroy_write_struct(&p, &info);
        out->size = start;
        return dp_error_set(err, ctx.nomem ? DP_NOMEM : DP_STATE,
                            "PNG: encoding %d x %d pixels failed: %s", (int) w, (int) h, ctx.msg);
    }
    png_set_write_fn(p, &ctx, dp__png_write, dp__png_flush);
    png_set_IHDR(p, info, (png_uint_32) w, (png_uint_32) h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    /* Heatmaps are small; the best zlib level keeps the HTML report small at little cost. */
    png_set_compression_level(p, 9);
    png_write_info(p, info);
    for (int32_t y = 0; y < h; y++)
        png_write_row(p, (png_const_bytep) (rgb + (size_t) y * (size_t) w * 3));
    png_write_end(p, NULL);
    png_destroy_write_struct(&p, &info);
    return DP_OK;
}

#else

bool dp__png_available(void) {
    return false;
}

dp_status dp__png_encode_rgb(const uint8_t *rgb, int32_t w, int32_t h, dp_buf *out, dp_error *err) {
    (void) rgb;
    (void) out;
    return dp_error_set(err, DP_UNSUPPORTED,
                        "PNG: this build has no libpng (rebuild with libpng-dev); cannot encode "
                        "%d x %d pixels",
                        (int) w, (int) h);
}

#endif
