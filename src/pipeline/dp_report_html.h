/* dp_report_html.h: building blocks of the HTML report (dp_report.c): an append-only HTML buffer
 * with escaping, and small SVG chart primitives (scales, axes with ticks and labels).
 *
 * Escaping: dp__h_text escapes for HTML text and quoted attribute values (& < > " '); dp__h_js
 * writes a JSON string literal that is also safe inside a <script> element (<, >, & and the
 * JavaScript line separators as \u escapes), so names taken from data can never close an element
 * or start markup.
 *
 * Errors: appends never fail individually; the first allocation failure sets `failed` and later
 * appends do nothing, so a builder is checked once at the end (dp__h_status).
 * Ownership: the builder owns its dp_buf (dp__h_reset frees it). Thread safety: one thread per
 * builder. Internal to the pipeline layer.
 */
#ifndef DP_PIPELINE_REPORT_HTML_H
#define DP_PIPELINE_REPORT_HTML_H

#include "util/dp_buf.h"

#include <stdio.h>

typedef struct dp__html {
    dp_buf b;
    bool failed;
} dp__html;

void dp__h_init(dp__html *h);
void dp__h_reset(dp__html *h);
/* DP_OK, or DP_NOMEM (with a message) when an append failed. */
dp_status dp__h_status(const dp__html *h, dp_error *err) DP_MUST_USE;

void dp__h_raw(dp__html *h, const char *s);
void dp__h_rawn(dp__html *h, const void *s, size_t n);
void dp__h_printf(dp__html *h, const char *fmt, ...) DP_PRINTF(2, 3);
/* HTML-escaped text (also safe in a double- or single-quoted attribute value). */
void dp__h_text(dp__html *h, const char *s);
/* A number for people: NaN as an em dash, otherwise %.*g with `digits` significant digits. */
void dp__h_num(dp__html *h, double v, int digits);
/* A JSON string literal (with quotes) safe inside <script>. NULL writes null. */
void dp__h_js(dp__html *h, const char *s);
/* Base64 (RFC 4648, with padding) of n bytes. */
void dp__h_base64(dp__html *h, const uint8_t *data, size_t n);
/* A byte count as "12.3 MiB". */
void dp__h_bytes(dp__html *h, double bytes);

/* A chart axis: data range [lo, hi] (log10 when `log`, then lo > 0) mapped onto pixels [p0, p1]
 * (p1 < p0 for a vertical axis, which grows upwards). */
typedef struct dp__axis {
    double lo, hi;
    bool log;
    double p0, p1;
} dp__axis;

/* Pixel of v (clamped to the range). */
double dp__ax_px(const dp__axis *a, double v);

/* A chart frame: <svg> with a white plot area, both axes with ticks and tick labels, the axis
 * titles (HTML-escaped here) and an aria-label. Closed by dp__chart_end. */
typedef struct dp__chart {
    int w, h;
    dp__axis x, y;
} dp__chart;

/* Plot area margins: left 64, right 20, top 14, bottom 46 pixels. */
void dp__chart_begin(dp__html *h, dp__chart *c, int w, int ht, double xlo, double xhi, bool xlog,
                     double ylo, double yhi, bool ylog, const char *xtitle, const char *ytitle,
                     const char *aria);
void dp__chart_end(dp__html *h);
/* A vertical (x = v) or horizontal (y = v) reference line across the plot area, with a label
 * (white halo, readable over data); dash: "" for solid, e.g. "5 3" for dashed. The vertical
 * line's label sits at the top, or at the bottom when `low`; the horizontal line's label at the
 * right end, above the line, or below it when `low`. */
void dp__chart_vline(dp__html *h, const dp__chart *c, double v, const char *color, const char *dash,
                     const char *label, bool low);
void dp__chart_hline(dp__html *h, const dp__chart *c, double v, const char *color, const char *dash,
                     const char *label, bool low);

#endif
