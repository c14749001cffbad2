/* dp_png.h: the pieces of a heatmap image for the HTML report — a colour map, max-pooling
 * downsampling of a square matrix, and an in-memory PNG encoder.
 *
 * Colour map: viridis-like (after matplotlib's "viridis"): five anchor colours interpolated in the
 * OKLab colour space, so lightness rises monotonically from dark purple (0) to yellow (1) and the
 * scale stays readable in grey and for the common colour-vision deficiencies. Missing values (NaN)
 * are a neutral grey that the scale never produces.
 *
 * PNG: 8-bit RGB, written with Debian's libpng (DP_HAVE_PNG) through write callbacks into a
 * dp_buf, libpng's own allocations going through dp_malloc. Without libpng dp__png_encode_rgb
 * returns DP_UNSUPPORTED and dp__png_available() is false; the report then draws its heatmaps as
 * SVG rectangles instead (dp_report.c).
 *
 * Ownership: callers own every buffer. Thread safety: all functions are reentrant (no globals).
 */
#ifndef DP_PIPELINE_PNG_H
#define DP_PIPELINE_PNG_H

#include "util/dp_buf.h"

/* Largest image side the encoder accepts (a report heatmap is a few hundred pixels). */
#define DP_PNG_MAX_SIDE 16384

/* The grey used for NaN cells. */
#define DP_COLORMAP_NAN_R 0xc8
#define DP_COLORMAP_NAN_G 0xc8
#define DP_COLORMAP_NAN_B 0xc8

/* True when this build can write PNG. */
bool dp__png_available(void);

/* Encode w x h pixels of 8-bit RGB (row-major, 3 bytes per pixel, no padding) as a PNG file,
 * appended to out (out's earlier contents are kept; on failure out is restored to its old size).
 * INVALID_ARG for sides outside [1, DP_PNG_MAX_SIDE], UNSUPPORTED without libpng, NOMEM. */
dp_status dp__png_encode_rgb(const uint8_t *rgb, int32_t w, int32_t h, dp_buf *out,
                             dp_error *err) DP_MUST_USE;

/* Colour of t in [0, 1] (clamped); NaN gives the NaN grey. */
void dp__colormap(double t, uint8_t rgb[3]);
/* The map sampled at 256 levels (lut[k] = colour of k / 255), for fast per-pixel lookups. */
void dp__colormap_lut(uint8_t lut[256][3]);

/* Smallest factor f >= 1 with ceil(n / f) <= budget (budget >= 1). */
int64_t dp__pool_factor(int64_t n, int64_t budget);

/* Max-pooling of |a| for the report's heatmaps. a is n x n row-major; order (NULL = identity) is a
 * permutation of 0..n-1 giving the display order: display cell (i, j) is a[order[i] * n +
 * order[j]]. out (m x m, m = ceil(n / factor)) receives for each block of factor x factor display
 * cells (the last row and column of blocks may be smaller) the largest |value| in it, NaN values
 * ignored; a block with no finite value is NaN. INVALID_ARG for n < 1, factor < 1 or a bad
 * order entry. */
dp_status dp__maxpool_abs(const double *a, int64_t n, const int64_t *order, int64_t factor,
                          double *out, dp_error *err) DP_MUST_USE;

/* m x m values in [0, 1] (clamped; NaN grey) -> m x m RGB pixels through lut. */
void dp__heatmap_rgb(const double *v, int64_t m, const uint8_t lut[256][3], uint8_t *rgb);

#endif
