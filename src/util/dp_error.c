/* Status names from the X-macro list, and the dp_error helpers. */
#include "dpipe/dp_status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *dp_status_name(dp_status st) {
    switch (st) {
#define DP__STATUS_NAME(name, value, text)                                                         \
    case DP_##name:                                                                                \
        return #name;
        DP_STATUS_LIST(DP__STATUS_NAME)
#undef DP__STATUS_NAME
    }
    return "UNKNOWN";
}

const char *dp_status_text(dp_status st) {
    switch (st) {
#define DP__STATUS_TEXT(name, value, text)                                                         \
    case DP_##name:                                                                                \
        return text;
        DP_STATUS_LIST(DP__STATUS_TEXT)
#undef DP__STATUS_TEXT
    }
    return "unknown status";
}

void dp_error_init(dp_error *err) {
    if (err == NULL)
        return;
    err->status = DP_OK;
    err->msg[0] = '\0';
}

dp_status dp_error_set(dp_error *err, dp_status st, const char *fmt, ...) {
    if (err != NULL) {
        va_list ap;
        va_start(ap, fmt);
        err->status = st;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

void dp_error_prefix(dp_error *err, const char *fmt, ...) {
    if (err == NULL)
        return;
    char prefix[DP_ERROR_MSG_MAX];
    char old[DP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    /* Truncation is intended: the message keeps as much as fits. */
    size_t np = strlen(prefix);
    size_t no = strlen(old);
    if (np > sizeof err->msg - 1)
        np = sizeof err->msg - 1;
    if (no > sizeof err->msg - 1 - np)
        no = sizeof err->msg - 1 - np;
    memcpy(err->msg, prefix, np);
    memcpy(err->msg + np, old, no);
    err->msg[np + no] = '\0';
}
