/* dp_log.h: levelled diagnostics on stderr.
 *
 * Data goes to stdout and files; everything a person reads while dpipe works goes through here.
 * Levels: QUIET (errors only), NORMAL (default), VERBOSE (-v), DEBUG (-vv). With the JSON format
 * each message is one JSON object per line ({"level":..,"msg":..}) for machines.
 * Thread safety: messages are written with one fprintf each; the level is a global set once at
 * start-up.
 */
#ifndef DP_UTIL_LOG_H
#define DP_UTIL_LOG_H

#include "dpipe/dp_status.h"
#include <stdbool.h>

typedef enum dp_log_level {
    DP_LOG_QUIET = 0,
    DP_LOG_NORMAL = 1,
    DP_LOG_VERBOSE = 2,
    DP_LOG_DEBUG = 3
} dp_log_level;

void dp_log_set_level(dp_log_level level);
dp_log_level dp_log_get_level(void);
void dp_log_set_json(bool json);
/* Text put before every message (an MPI rank puts "[rank 3] "); copied, at most 127 bytes. */
void dp_log_set_prefix(const char *prefix);
bool dp_log_is_json(void);

void dp_log_error(const char *fmt, ...) DP_PRINTF(1, 2);   /* always shown */
void dp_log_warn(const char *fmt, ...) DP_PRINTF(1, 2);    /* NORMAL and up */
void dp_log_info(const char *fmt, ...) DP_PRINTF(1, 2);    /* NORMAL and up */
void dp_log_verbose(const char *fmt, ...) DP_PRINTF(1, 2); /* VERBOSE and up */
void dp_log_debug(const char *fmt, ...) DP_PRINTF(1, 2);   /* DEBUG */

/* Write s as a JSON string literal body (escapes quotes, backslashes, control bytes) to f. */
void dp_json_escape_to(void *file, const char *s);

#endif
