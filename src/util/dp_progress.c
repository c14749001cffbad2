#include "util/dp_progress.h"
#include "util/dp_alloc.h"
#include "util/dp_log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct dp_progress {
    char label[96];
    char extra[96];
    int64_t total_rows;
    uint64_t total_bytes;
    int64_t rows;
    uint64_t bytes;
    double start, last;
    bool tty;
    bool drawn;
    double interval;
};

double dp_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

int64_t dp_rss_bytes(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return 0;
    long pages_total = 0, pages_res = 0;
    int n = fscanf(f, "%ld %ld", &pages_total, &pages_res);
    fclose(f);
    if (n != 2)
        return 0;
    return (int64_t) pages_res * (int64_t) sysconf(_SC_PAGESIZE);
}

int64_t dp_peak_rss_bytes(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL)
        return 0;
    char line[256];
    int64_t kb = 0;
    while (fgets(line, sizeof line, f) != NULL) {
        long long v;
        if (sscanf(line, "VmHWM: %lld kB", &v) == 1) {
            kb = v;
            break;
        }
    }
    fclose(f);
    return kb * 1024;
}

void dp_format_bytes(char *buf, int cap, double bytes) {
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(buf, (size_t) cap, u == 0 ? "%.0f %s" : "%.2f %s", bytes, unit[u]);
}

dp_progress *dp_progress_create(const char *label, int64_t total_rows, uint64_t total_bytes) {
    dp_progress *p = dp_calloc(1, sizeof *p);
    if (p == NULL)
        return NULL;
    snprintf(p->label, sizeof p->label, "%s", label);
    p->total_rows = total_rows;
    p->total_bytes = total_bytes;
    p->start = p->last = dp_now();
    p->tty = isatty(STDERR_FILENO) && !dp_log_is_json();
    p->interval = p->tty ? 0.25 : 10.0;
    return p;
}

void dp_progress_set_extra(dp_progress *p, const char *text) {
    if (p != NULL)
        snprintf(p->extra, sizeof p->extra, "%s", text);
}

double dp_progress_elapsed(const dp_progress *p) {
    return p != NULL ? dp_now() - p->start : 0;
}

static void dp__report(dp_progress *p, bool final) {
    double el = dp_now() - p->start;
    double rps = el > 0 ? (double) p->rows / el : 0;
    double mbps = el > 0 ? (double) p->bytes / el / 1e6 : 0;
    char rss[32];
    dp_format_bytes(rss, sizeof rss, (double) dp_rss_bytes());
    char eta[32] = "";
    if (!final && p->total_rows > 0 && rps > 0 && p->rows < p->total_rows)
        snprintf(eta, sizeof eta, " eta %.0fs", (double) (p->total_rows - p->rows) / rps);
    double pct = p->total_rows > 0 ? 100.0 * (double) p->rows / (double) p->total_rows : 0;
    if (dp_log_is_json()) {
        fprintf(stderr,
                "{\"level\":\"progress\",\"task\":\"%s\",\"rows\":%lld,\"total_rows\":%lld,"
                "\"rows_per_s\":%.0f,\"mb_per_s\":%.1f,\"rss_bytes\":%lld,\"elapsed_s\":%.2f,"
                "\"done\":%s}\n",
                p->label, (long long) p->rows, (long long) p->total_rows, rps, mbps,
                (long long) dp_rss_bytes(), el, final ? "true" : "false");
        return;
    }
    fprintf(stderr, "%s%s: %lld/%lld rows (%.1f%%) %.0f rows/s %.1f MB/s rss %s%s%s%s%s",
            p->tty ? "\r\033[K" : "", p->label, (long long) p->rows, (long long) p->total_rows, pct,
            rps, mbps, rss, p->extra[0] ? " " : "", p->extra, eta, p->tty && !final ? "" : "\n");
    fflush(stderr);
    p->drawn = p->tty && !final;
}

void dp_progress_update(dp_progress *p, int64_t rows_done, uint64_t bytes_done) {
    if (p == NULL)
        return;
    p->rows = rows_done;
    p->bytes = bytes_done;
    if (dp_log_get_level() < DP_LOG_NORMAL)
        return;
    double now = dp_now();
    if (now - p->last < p->interval)
        return;
    p->last = now;
    dp__report(p, false);
}

void dp_progress_finish(dp_progress *p) {
    if (p == NULL || dp_log_get_level() < DP_LOG_NORMAL)
        return;
    dp__report(p, true);
}

void dp_progress_free(dp_progress *p) {
    dp_free(p);
}
