/* HTML buffer, escaping and SVG chart primitives of the report (dp_report_html.h). */
#include "pipeline/dp_report_html.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

void dp__h_init(dp__html *h) {
    dp_buf_init(&h->b);
    h->failed = false;
}

void dp__h_reset(dp__html *h) {
    dp_buf_reset(&h->b);
    h->failed = false;
}

dp_status dp__h_status(const dp__html *h, dp_error *err) {
    if (h->failed)
        return dp_error_set(err, DP_NOMEM, "out of memory building the report (%zu bytes so far)",
                            h->b.size);
    return DP_OK;
}

void dp__h_rawn(dp__html *h, const void *s, size_t n) {
    if (h->failed || n == 0)
        return;
    if (dp_buf_append(&h->b, s, n) != DP_OK)
        h->failed = true;
}

void dp__h_raw(dp__html *h, const char *s) {
    dp__h_rawn(h, s, strlen(s));
}

void dp__h_printf(dp__html *h, const char *fmt, ...) {
    if (h->failed)
        return;
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        h->failed = true;
    } else if ((size_t) n < sizeof small) {
        dp__h_rawn(h, small, (size_t) n);
    } else {
        size_t need;
        if (!dp_add_size(h->b.size, (size_t) n + 1, &need) ||
            dp_buf_reserve(&h->b, need) != DP_OK) {
            h->failed = true;
        } else {
            vsnprintf((char *) h->b.data + h->b.size, (size_t) n + 1, fmt, ap2);
            h->b.size += (size_t) n;
        }
    }
    va_end(ap2);
}

void dp__h_text(dp__html *h, const char *s) {
    if (s == NULL)
        return;
    const char *run = s;
    for (const char *p = s;; p++) {
        const char *e = NULL;
        switch (*p) {
        case '&':
            e = "&amp;";
            break;
        case '<':
            e = "&lt;";
            break;
        case '>':
            e = "&gt;";
            break;
        case '"':
            e = "&quot;";
            break;
        case '\'':
            e = "&#39;";
            break;
        case '\0':
            dp__h_rawn(h, run, (size_t) (p - run));
            return;
        default:
            break;
        }
        if (e != NULL) {
            dp__h_rawn(h, run, (size_t) (p - run));
            dp__h_raw(h, e);
            run = p + 1;
        }
    }
}

void dp__h_num(dp__html *h, double v, int digits) {
    if (isnan(v))
        dp__h_raw(h, "\xe2\x80\x94"); /* em dash */
    else if (isinf(v))
        dp__h_raw(h, v > 0 ? "\xe2\x88\x9e" : "\xe2\x88\x92\xe2\x88\x9e"); /* infinity */
    else
        dp__h_printf(h, "%.*g", digits, v);
}

void dp__h_js(dp__html *h, const char *s) {
    if (s == NULL) {
        dp__h_raw(h, "null");
        return;
    }
    dp__h_raw(h, "\"");
    const unsigned char *run = (const unsigned char *) s;
    const unsigned char *p = run;
    for (; *p; p++) {
        char e[8];
        bool esc = true;
        if (*p == '"' || *p == '\\') {
            e[0] = '\\';
            e[1] = (char) *p;
            e[2] = 0;
        } else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&') {
            snprintf(e, sizeof e, "\\u%04x", *p);
        } else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
            /* U+2028 / U+2029 end a line in older JavaScript string literals. */
            snprintf(e, sizeof e, "\\u%04x", p[2] == 0xa8 ? 0x2028 : 0x2029);
            dp__h_rawn(h, run, (size_t) (p - run));
            dp__h_raw(h, e);
            p += 2;
            run = p + 1;
            continue;
        } else {
            esc = false;
        }
        if (esc) {
            dp__h_rawn(h, run, (size_t) (p - run));
            dp__h_raw(h, e);
            run = p + 1;
        }
    }
    dp__h_rawn(h, run, (size_t) (p - run));
    dp__h_raw(h, "\"");
}

void dp__h_base64(dp__html *h, const uint8_t *d, size_t n) {
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char chunk[4096];
    size_t used = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t) d[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t) d[i + 1] << 8;
        if (i + 2 < n)
            v |= d[i + 2];
        chunk[used++] = al[(v >> 18) & 63];
        chunk[used++] = al[(v >> 12) & 63];
        chunk[used++] = i + 1 < n ? al[(v >> 6) & 63] : '=';
        chunk[used++] = i + 2 < n ? al[v & 63] : '=';
        if (used + 4 > sizeof chunk) {
            dp__h_rawn(h, chunk, used);
            used = 0;
        }
    }
    dp__h_rawn(h, chunk, used);
}

void dp__h_bytes(dp__html *h, double b) {
    if (!(b >= 0)) {
        dp__h_num(h, NAN, 3);
        return;
    }
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int k = 0;
    while (b >= 1024 && k < 4) {
        b /= 1024;
        k++;
    }
    dp__h_printf(h, k == 0 ? "%.0f %s" : "%.1f %s", b, unit[k]);
}

/* ---- charts ---------------------------------------------------------------------------------- */

enum { DP__ML = 64, DP__MR = 20, DP__MT = 14, DP__MB = 46 };

double dp__ax_px(const dp__axis *a, double v) {
    double lo = a->lo, hi = a->hi;
    if (a->log) {
        v = v > 0 ? log10(v) : log10(lo);
        lo = log10(lo);
        hi = log10(hi);
    }
    double t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    return a->p0 + t * (a->p1 - a->p0);
}

/* Tick values of an axis into t (at most cap); returns the count. */
static int dp__ticks(const dp__axis *a, double *t, int cap) {
    int n = 0;
    if (a->log) {
        int k0 = (int) ceil(log10(a->lo) - 1e-9), k1 = (int) floor(log10(a->hi) + 1e-9);
        if (k1 >= k0) {
            int step = 1 + (k1 - k0) / (cap - 1);
            for (int k = k0; k <= k1 && n < cap; k += step)
                t[n++] = pow(10, k);
            return n;
        }
        /* Less than a decade: linear ticks in value space. */
    }
    double r = a->hi - a->lo;
    if (!(r > 0) || !isfinite(r)) {
        t[n++] = a->lo;
        return n;
    }
    double raw = r / 5, mag = pow(10, floor(log10(raw))), norm = raw / mag;
    double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
    for (double v = ceil(a->lo / step - 1e-9) * step; v <= a->hi + step * 1e-9 && n < cap;
         v += step)
        t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
    return n;
}

static void dp__tick_label(dp__html *h, double v, bool log) {
    if (log && (v >= 1e5 || v < 1e-3)) {
        dp__h_printf(h, "1e%d", (int) lround(log10(v)));
        return;
    }
    if (fabs(v) >= 1000 && fabs(v) < 1e9 && v == floor(v)) {
        dp__h_printf(h, "%.0f", v);
        return;
    }
    dp__h_printf(h, "%.4g", v);
}

void dp__chart_begin(dp__html *h, dp__chart *c, int w, int ht, double xlo, double xhi, bool xlog,
                     double ylo, double yhi, bool ylog, const char *xtitle, const char *ytitle,
                     const char *aria) {
    c->w = w;
    c->h = ht;
    c->x = (dp__axis){xlo, xhi, xlog, DP__ML, w - DP__MR};
    c->y = (dp__axis){ylo, yhi, ylog, ht - DP__MB, DP__MT};
    dp__h_printf(
        h,
        "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" "
        "aria-label=\"",
        w, ht, w, ht);
    dp__h_text(h, aria);
    dp__h_printf(h, "\"><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" class=\"plot\"/>\n",
                 DP__ML, DP__MT, w - DP__ML - DP__MR, ht - DP__MT - DP__MB);
    double t[16];
    int n = dp__ticks(&c->x, t, 12);
    dp__h_raw(h, "<g class=\"axis\">");
    for (int k = 0; k < n; k++) {
        double px = dp__ax_px(&c->x, t[k]);
        dp__h_printf(h,
                     "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\"/><text x=\"%.1f\" y=\"%d\" "
                     "text-anchor=\"middle\">",
                     px, px, ht - DP__MB, ht - DP__MB + 5, px, ht - DP__MB + 18);
        dp__tick_label(h, t[k], c->x.log);
        dp__h_raw(h, "</text>");
    }
    n = dp__ticks(&c->y, t, 9);
    for (int k = 0; k < n; k++) {
        double py = dp__ax_px(&c->y, t[k]);
        dp__h_printf(h,
                     "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\"/><text x=\"%d\" y=\"%.1f\" "
                     "text-anchor=\"end\">",
                     DP__ML - 5, DP__ML, py, py, DP__ML - 8, py + 4);
        dp__tick_label(h, t[k], c->y.log);
        dp__h_raw(h, "</text>");
    }
    dp__h_printf(h, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", DP__ML, w - DP__MR,
                 ht - DP__MB, ht - DP__MB);
    dp__h_printf(h, "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\"/>", DP__ML, DP__ML, DP__MT,
                 ht - DP__MB);
    dp__h_printf(h, "<text class=\"title\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">",
                 (DP__ML + w - DP__MR) / 2.0, ht - 8);
    dp__h_text(h, xtitle);
    dp__h_printf(h,
                 "</text><text class=\"title\" transform=\"translate(14 %.1f) rotate(-90)\" "
                 "text-anchor=\"middle\">",
                 (DP__MT + ht - DP__MB) / 2.0);
    dp__h_text(h, ytitle);
    dp__h_raw(h, "</text></g>\n");
}

void dp__chart_end(dp__html *h) {
    dp__h_raw(h, "</svg>\n");
}

static void dp__refline(dp__html *h, double x1, double y1, double x2, double y2, double lx,
                        double ly, const char *anchor, const char *color, const char *dash,
                        const char *label) {
    dp__h_printf(h,
                 "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                 "stroke-width=\"1.5\"",
                 x1, y1, x2, y2, color);
    if (dash != NULL && dash[0])
        dp__h_printf(h, " stroke-dasharray=\"%s\"", dash);
    dp__h_raw(h, "/>");
    if (label != NULL && label[0]) {
        dp__h_printf(h,
                     "<text class=\"ref\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" "
                     "style=\"fill:%s\">",
                     lx, ly, anchor, color);
        dp__h_text(h, label);
        dp__h_raw(h, "</text>");
    }
    dp__h_raw(h, "\n");
}

void dp__chart_vline(dp__html *h, const dp__chart *c, double v, const char *color, const char *dash,
                     const char *label, bool low) {
    if (!isfinite(v))
        return;
    double px = dp__ax_px(&c->x, v);
    bool right = px > (c->x.p0 + c->x.p1) / 2;
    dp__refline(h, px, c->y.p0, px, c->y.p1, right ? px - 4 : px + 4,
                low ? c->y.p0 - 6 : c->y.p1 + 12, right ? "end" : "start", color, dash, label);
}

void dp__chart_hline(dp__html *h, const dp__chart *c, double v, const char *color, const char *dash,
                     const char *label, bool low) {
    if (!isfinite(v))
        return;
    double py = dp__ax_px(&c->y, v);
    dp__refline(h, c->x.p0, py, c->x.p1, py, c->x.p1 - 4, low ? py + 13 : py - 4, "end", color,
                dash, label);
}
