/* dp_sink.h: where bytes go. A sink writes a file that appears under its final name only when
 * complete: bytes go to a temporary file in the target directory (".NAME.tmp-PID-N", created
 * exclusively), and dp_sink_commit flushes, fsyncs it, renames it over the final name and fsyncs
 * the directory. A sink freed without a successful commit removes its temporary file, so an
 * interrupted or failed writer never leaves a partial file under the final name.
 *
 * Writes are buffered (1 MiB); the first failure is sticky: later writes do nothing and return
 * the same status, so a writer may check once at the end (messages name the path and errno).
 *
 * Ownership: dp_sink_open creates a sink the caller frees with dp_sink_free (accepts NULL; after
 * a commit it only releases memory). Thread safety: one thread at a time.
 */
#ifndef DP_IO_SINK_H
#define DP_IO_SINK_H

#include "util/dp_base.h"

typedef struct dp_sink dp_sink;

/* Create the temporary file next to `path` (its directory must exist and be writable). */
dp_status dp_sink_open(const char *path, dp_sink **out, dp_error *err) DP_MUST_USE;
/* Append n bytes. */
dp_status dp_sink_write(dp_sink *s, const void *data, size_t n, dp_error *err) DP_MUST_USE;
/* Bytes written so far (the offset the next byte will have in the final file). */
uint64_t dp_sink_offset(const dp_sink *s);
/* The final path. */
const char *dp_sink_path(const dp_sink *s);
/* Flush, fsync, close, rename to the final path, fsync the directory. After a failure the
 * temporary file is removed and the final path is untouched (an existing file there stays). */
dp_status dp_sink_commit(dp_sink *s, dp_error *err) DP_MUST_USE;
/* Free; removes the temporary file unless committed. */
void dp_sink_free(dp_sink *s);

#endif
