#include "util/dp_log.h"
#include "util/dp_base.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static dp_log_level dp__level = DP_LOG_NORMAL;
static bool dp__json = false;
static char dp__prefix[128];

void dp_log_set_prefix(const char *prefix) {
    snprintf(dp__prefix, sizeof dp__prefix, "%s", prefix != NULL ? prefix : "");
}

void dp_log_set_level(dp_log_level level) {
    dp__level = level;
}
dp_log_level dp_log_get_level(void) {
    return dp__level;
}
void dp_log_set_json(bool json) {
    dp__json = json;
}
bool dp_log_is_json(void) {
    return dp__json;
}

void dp_json_escape_to(void *file, const char *s) {
    FILE *f = file;
    for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
}

__attribute__((format(printf, 3, 0))) static void dp__vlog(const char *level, const char *prefix,
                                                           const char *fmt, va_list ap) {
    char msg[4096];
    size_t pl = strlen(dp__prefix);
    memcpy(msg, dp__prefix, pl + 1);
    vsnprintf(msg + pl, sizeof msg - pl, fmt, ap);
    if (dp__json) {
        char line[8192];
        FILE *mem = fmemopen(line, sizeof line, "w");
        if (mem != NULL) {
            fprintf(mem, "{\"level\":\"%s\",\"msg\":\"", level);
            dp_json_escape_to(mem, msg);
            fputs("\"}\n", mem);
            fclose(mem);
            line[sizeof line - 1] = '\0';
            fputs(line, stderr);
        }
    } else {
        fprintf(stderr, "%s%s\n", prefix, msg);
    }
}

#define DP__LOG_FN(name, min_level, level_name, prefix)                                            \
    void name(const char *fmt, ...) {                                                              \
        if (dp__level < (min_level))                                                               \
            return;                                                                                \
        va_list ap;                                                                                \
        va_start(ap, fmt);                                                                         \
        dp__vlog(level_name, prefix, fmt, ap);                                                     \
        va_end(ap);                                                                                \
    }

DP__LOG_FN(dp_log_error, DP_LOG_QUIET, "error", "dpipe: error: ")
DP__LOG_FN(dp_log_warn, DP_LOG_NORMAL, "warning", "dpipe: warning: ")
DP__LOG_FN(dp_log_info, DP_LOG_NORMAL, "info", "")
DP__LOG_FN(dp_log_verbose, DP_LOG_VERBOSE, "verbose", "")
DP__LOG_FN(dp_log_debug, DP_LOG_DEBUG, "debug", "debug: ")

void dp__assert_fail(const char *expr, const char *file, int line) {
    fprintf(stderr, "dpipe: internal assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
