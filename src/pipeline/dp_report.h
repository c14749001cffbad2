/* dp_report.h: report.html, a self-contained page that shows a run directory's results.
 *
 * Everything is read from the files `dpipe run` leaves in the directory (manifest.json,
 * summary.json, config.conf, the pass outputs, clusters.json, columns.json; formats in
 * docs/formats.md), so a report can be rendered again at any time (`dpipe report DIR`). The page
 * needs no network: charts are inline SVG, heatmaps PNG data URIs (inline SVG rectangles in a build
 * without libpng), styles and the small script inline, and a Content-Security-Policy forbids any
 * other source. Every name taken from the data is escaped (HTML text, or JSON inside <script>).
 *
 * A file that is missing or unreadable costs only its part of the page, which then says why (and
 * the problem is listed at the top); only a directory without manifest.json, running out of
 * memory or failing to write the report are errors.
 *
 * Thread safety: independent calls may run concurrently on different directories.
 * Internal to the pipeline layer (the public entry point is dp_cmd_report in dp_commands.h).
 */
#ifndef DP_PIPELINE_REPORT_H
#define DP_PIPELINE_REPORT_H

#include "util/dp_base.h"

/* Write DIR/report.html (atomically: temporary file, fsync, rename). NOT_FOUND when DIR has no
 * manifest.json; NOMEM; IO when the report cannot be written. */
dp_status dp__write_report(const char *dir, dp_error *err) DP_MUST_USE;

#endif
