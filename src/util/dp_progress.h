/* dp_progress.h: progress of long work on stderr, and process memory readings.
 *
 * On a terminal a single line is redrawn (rows done / total, rows/s, MB/s, ETA, RSS, and an
 * optional extra field such as device memory); otherwise a plain line is printed every
 * `interval` seconds (default 10) and at the end; with the JSON log format each report is a JSON
 * object. Quiet mode (log level QUIET) prints nothing.
 * Ownership: create/free (free accepts NULL). Thread safety: one thread updates a progress
 * object; dp_rss_bytes/dp_peak_rss_bytes are thread-safe.
 */
#ifndef DP_UTIL_PROGRESS_H
#define DP_UTIL_PROGRESS_H

#include <stdint.h>

typedef struct dp_progress dp_progress;

/* label: "pass 1 scan"; totals may be 0 when unknown. NULL on out-of-memory (progress is then
 * silently absent: every function accepts NULL). */
dp_progress *dp_progress_create(const char *label, int64_t total_rows, uint64_t total_bytes);
void dp_progress_update(dp_progress *p, int64_t rows_done, uint64_t bytes_done);
/* Extra text shown at the end of the line ("gpu 1.2 GiB"); copied. */
void dp_progress_set_extra(dp_progress *p, const char *text);
/* Final report (always printed at NORMAL level) and line termination. */
void dp_progress_finish(dp_progress *p);
void dp_progress_free(dp_progress *p);
/* Seconds since the progress object was created. */
double dp_progress_elapsed(const dp_progress *p);

/* Monotonic seconds. */
double dp_now(void);
/* Resident set size now / peak (VmHWM) in bytes, 0 when unavailable. */
int64_t dp_rss_bytes(void);
int64_t dp_peak_rss_bytes(void);
/* "1.23 GiB" style text into buf. */
void dp_format_bytes(char *buf, int cap, double bytes);

#endif
