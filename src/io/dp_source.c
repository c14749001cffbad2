#include "io/dp_source.h"
#include "util/dp_alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct dp_source {
    int fd; /* -1 for memory */
    const uint8_t *mem;
    uint64_t size;
    char *name;
    _Atomic uint64_t bytes_read;
};

dp_status dp_source_open_file(const char *path, dp_source **out, dp_error *err) {
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return dp_error_set(err, errno == ENOENT ? DP_NOT_FOUND : DP_IO, "%s: cannot open: %s",
                            path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return dp_error_set(err, DP_IO, "%s: cannot stat: %s", path, strerror(e));
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return dp_error_set(err, DP_IO, "%s: not a regular file", path);
    }
    dp_source *s = dp_calloc(1, sizeof *s);
    char *name = dp_strdup(path);
    if (s == NULL || name == NULL) {
        dp_free(s);
        dp_free(name);
        close(fd);
        return dp_error_set(err, DP_NOMEM, "%s: out of memory opening file", path);
    }
    s->fd = fd;
    s->size = (uint64_t) sb.st_size;
    s->name = name;
    *out = s;
    return DP_OK;
}

dp_status dp_source_open_memory(const void *data, size_t len, const char *name, dp_source **out,
                                dp_error *err) {
    *out = NULL;
    dp_source *s = dp_calloc(1, sizeof *s);
    char *n = dp_strdup(name != NULL ? name : "<memory>");
    if (s == NULL || n == NULL) {
        dp_free(s);
        dp_free(n);
        return dp_error_set(err, DP_NOMEM, "out of memory");
    }
    s->fd = -1;
    s->mem = data;
    s->size = len;
    s->name = n;
    *out = s;
    return DP_OK;
}

void dp_source_free(dp_source *src) {
    if (src == NULL)
        return;
    if (src->fd >= 0)
        close(src->fd);
    dp_free(src->name);
    dp_free(src);
}

uint64_t dp_source_size(const dp_source *src) {
    return src->size;
}

const char *dp_source_name(const dp_source *src) {
    return src->name;
}

uint64_t dp_source_bytes_read(const dp_source *src) {
    return atomic_load(&((dp_source *) src)->bytes_read);
}

dp_status dp_source_read(const dp_source *src, uint64_t offset, void *dst, size_t len,
                         dp_error *err) {
    if (offset > src->size || len > src->size - offset)
        return dp_error_set(err, DP_TRUNCATED,
                            "%s: read of %zu bytes at offset %llu runs past the end of the file "
                            "(%llu bytes)",
                            src->name, len, (unsigned long long) offset,
                            (unsigned long long) src->size);
    if (src->fd < 0) {
        if (len > 0)
            memcpy(dst, src->mem + offset, len);
    } else {
        uint8_t *p = dst;
        size_t done = 0;
        while (done < len) {
            ssize_t n = pread(src->fd, p + done, len - done, (off_t) (offset + done));
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return dp_error_set(err, DP_IO, "%s: read of %zu bytes at offset %llu failed: %s",
                                    src->name, len, (unsigned long long) offset, strerror(errno));
            }
            if (n == 0)
                return dp_error_set(err, DP_TRUNCATED,
                                    "%s: file shrank while reading (%zu bytes at offset %llu)",
                                    src->name, len, (unsigned long long) offset);
            done += (size_t) n;
        }
    }
    atomic_fetch_add(&((dp_source *) src)->bytes_read, (uint64_t) len);
    return DP_OK;
}
