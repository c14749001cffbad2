/* dp_outputs.h: writing dpipe's output files — .npy matrices, text lists, JSON documents — each
 * atomically (temporary name, fsync, rename, fsync of the directory: io/dp_sink.h), and the
 * CRC-32 of what was written so the manifest can record it.
 * Thread safety: independent calls may run concurrently on different paths.
 */
#ifndef DP_PIPELINE_OUTPUTS_H
#define DP_PIPELINE_OUTPUTS_H

#include "util/dp_buf.h"

/* A rows x cols float64 matrix stored row-major (C order) as NumPy .npy format 1.0
 * (little-endian '<f8'), loadable with numpy.load. */
dp_status dp__write_npy(const char *path, const double *m, int64_t rows, int64_t cols,
                        uint32_t *crc, dp_error *err) DP_MUST_USE;
/* Read back a .npy written by dp__write_npy (float64, C order, 2-D); *m is dp_malloc'ed. */
dp_status dp__read_npy(const char *path, double **m, int64_t *rows, int64_t *cols,
                       dp_error *err) DP_MUST_USE;
/* Whole file from bytes. */
dp_status dp__write_file(const char *path, const void *data, size_t n, uint32_t *crc,
                         dp_error *err) DP_MUST_USE;
/* One name per line, each followed by a newline. */
dp_status dp__write_lines(const char *path, const char *const *lines, int64_t n, uint32_t *crc,
                          dp_error *err) DP_MUST_USE;
/* Read a whole (small) file into out (at most max bytes). */
dp_status dp__read_file(const char *path, size_t max, dp_buf *out, dp_error *err) DP_MUST_USE;
/* "dir/name" into buf. */
const char *dp__path_join(char *buf, size_t cap, const char *dir, const char *name);

#endif
