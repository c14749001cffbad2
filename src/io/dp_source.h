/* dp_source.h: where bytes come from. A source is a file (read with pread, never read whole)
 * or a memory buffer (borrowed; fuzzers and tests), with ranged reads.
 *
 * Ownership: dp_source_open_file/open_memory create a source the caller frees with
 * dp_source_free (accepts NULL). A memory source borrows its buffer, which must outlive it.
 * Thread safety: dp_source_read may be called from several threads at once (pread has no shared
 * file position); open/free are not concurrent with reads.
 */
#ifndef DP_IO_SOURCE_H
#define DP_IO_SOURCE_H

#include "util/dp_base.h"

typedef struct dp_source dp_source;

dp_status dp_source_open_file(const char *path, dp_source **out, dp_error *err) DP_MUST_USE;
dp_status dp_source_open_memory(const void *data, size_t len, const char *name, dp_source **out,
                                dp_error *err) DP_MUST_USE;
void dp_source_free(dp_source *src);

/* Size in bytes (fixed at open). */
uint64_t dp_source_size(const dp_source *src);
/* Display name: the path, or the name given to open_memory. */
const char *dp_source_name(const dp_source *src);
/* Read exactly len bytes at offset into dst. A range past the end is DP_TRUNCATED; an OS error
 * is DP_IO (message has errno text, path, offset and length). */
dp_status dp_source_read(const dp_source *src, uint64_t offset, void *dst, size_t len,
                         dp_error *err) DP_MUST_USE;
/* Bytes read so far through this source (for throughput reporting). */
uint64_t dp_source_bytes_read(const dp_source *src);

#endif
