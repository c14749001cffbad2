#include "pipeline/dp_outputs.h"
#include "io/dp_sink.h"
#include "util/dp_alloc.h"
#include "util/dp_checksum.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *dp__path_join(char *buf, size_t cap, const char *dir, const char *name) {
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

dp_status dp__write_file(const char *path, const void *data, size_t n, uint32_t *crc,
                         dp_error *err) {
    dp_sink *s = NULL;
    dp_status st = DP_OK;
    DP_CHECK(dp_sink_open(path, &s, err));
    DP_CHECK(dp_sink_write(s, data, n, err));
    DP_CHECK(dp_sink_commit(s, err));
    if (crc != NULL)
        *crc = dp_crc32(0, data, n);
cleanup:
    dp_sink_free(s);
    return st;
}

dp_status dp__write_lines(const char *path, const char *const *lines, int64_t n, uint32_t *crc,
                          dp_error *err) {
    dp_buf b;
    dp_buf_init(&b);
    dp_status st = DP_OK;
    for (int64_t i = 0; i < n && st == DP_OK; i++) {
        st = dp_buf_append(&b, lines[i], strlen(lines[i]));
        if (st == DP_OK)
            st = dp_buf_append_u8(&b, '\n');
    }
    if (st != DP_OK)
        st = dp_error_set(err, DP_NOMEM, "%s: out of memory", path);
    else
        st = dp__write_file(path, b.data != NULL ? b.data : (const uint8_t *) "", b.size, crc, err);
    dp_buf_reset(&b);
    return st;
}

dp_status dp__write_npy(const char *path, const double *m, int64_t rows, int64_t cols,
                        uint32_t *crc, dp_error *err) {
    char dict[160];
    int dl = snprintf(dict, sizeof dict,
                      "{'descr': '<f8', 'fortran_order': False, 'shape': (%lld, %lld), }",
                      (long long) rows, (long long) cols);
    /* Header: magic(6) + version(2) + length(2) + dict padded with spaces and a final \n so that
     * the data start is a multiple of 64 bytes. */
    size_t total = 10 + (size_t) dl + 1;
    size_t pad = (64 - total % 64) % 64;
    size_t hlen = (size_t) dl + pad + 1;
    uint8_t head[256];
    memcpy(head, "\x93NUMPY\x01\x00", 8);
    head[8] = (uint8_t) (hlen & 0xff);
    head[9] = (uint8_t) (hlen >> 8);
    memcpy(head + 10, dict, (size_t) dl);
    memset(head + 10 + dl, ' ', pad);
    head[10 + (size_t) dl + pad] = '\n';
    size_t hbytes = 10 + hlen;
    size_t cells;
    if (!dp_mul_size((size_t) rows, (size_t) cols, &cells))
        return dp_error_set(err, DP_LIMIT, "%s: matrix too large", path);
    dp_sink *s = NULL;
    dp_status st = DP_OK;
    DP_CHECK(dp_sink_open(path, &s, err));
    DP_CHECK(dp_sink_write(s, head, hbytes, err));
    DP_CHECK(dp_sink_write(s, m, cells * sizeof(double), err));
    DP_CHECK(dp_sink_commit(s, err));
    if (crc != NULL)
        *crc = dp_crc32(dp_crc32(0, head, hbytes), m, cells * sizeof(double));
cleanup:
    dp_sink_free(s);
    return st;
}

dp_status dp__read_file(const char *path, size_t max, dp_buf *out, dp_error *err) {
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return dp_error_set(err, errno == ENOENT ? DP_NOT_FOUND : DP_IO, "%s: cannot open: %s",
                            path, strerror(errno));
    out->size = 0;
    dp_status st = DP_OK;
    uint8_t chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (out->size + n > max) {
            st = dp_error_set(err, DP_LIMIT, "%s: larger than %zu bytes", path, max);
            break;
        }
        if (dp_buf_append(out, chunk, n) != DP_OK) {
            st = dp_error_set(err, DP_NOMEM, "%s: out of memory", path);
            break;
        }
    }
    if (st == DP_OK && ferror(f))
        st = dp_error_set(err, DP_IO, "%s: read error", path);
    fclose(f);
    return st;
}

dp_status dp__read_npy(const char *path, double **m, int64_t *rows, int64_t *cols, dp_error *err) {
    *m = NULL;
    dp_buf b;
    dp_buf_init(&b);
    dp_status st = DP_OK;
    DP_CHECK(dp__read_file(path, (size_t) 1 << 40, &b, err));
    if (b.size < 10 || memcmp(b.data, "\x93NUMPY\x01\x00", 8) != 0)
        DP_FAIL(err, DP_CORRUPT, "%s: not a NumPy 1.0 .npy file", path);
    size_t hlen = (size_t) b.data[8] | (size_t) b.data[9] << 8;
    if (10 + hlen > b.size)
        DP_FAIL(err, DP_TRUNCATED, "%s: header runs past the end", path);
    char dict[1024];
    size_t dn = hlen < sizeof dict - 1 ? hlen : sizeof dict - 1;
    memcpy(dict, b.data + 10, dn);
    dict[dn] = '\0';
    long long r = -1, c = -1;
    const char *shape = strstr(dict, "'shape': (");
    if (strstr(dict, "'<f8'") == NULL || strstr(dict, "'fortran_order': False") == NULL ||
        shape == NULL || sscanf(shape, "'shape': (%lld, %lld)", &r, &c) != 2 || r < 0 || c < 0)
        DP_FAIL(err, DP_UNSUPPORTED, "%s: expected a 2-D little-endian float64 C-order array",
                path);
    size_t cells;
    if (!dp_mul_size((size_t) r, (size_t) c, &cells) || cells * 8 != b.size - 10 - hlen)
        DP_FAIL(err, DP_CORRUPT, "%s: %zu data bytes for shape (%lld, %lld)", path,
                b.size - 10 - hlen, r, c);
    *m = dp_mallocarray(cells > 0 ? cells : 1, sizeof(double));
    if (*m == NULL)
        DP_FAIL(err, DP_NOMEM, "%s: out of memory", path);
    memcpy(*m, b.data + 10 + hlen, cells * 8);
    *rows = r;
    *cols = c;
cleanup:
    dp_buf_reset(&b);
    return st;
}
