/* Atomic file output: temporary file, fsync, rename, fsync of the directory (the pattern of
 * redis rdbSave: a crash at any point leaves either the old file or the complete new one). */
#include "io/dp_sink.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DP__SINK_BUF ((size_t) 1 << 20)

struct dp_sink {
    int fd;
    char *path;
    char *tmp_path;
    char *dir; /* directory of path, for the fsync after rename */
    uint8_t *buf;
    size_t used;
    uint64_t offset;
    dp_status status; /* sticky */
    dp_error error;   /* message of the sticky failure */
    bool created;     /* tmp_path exists and is ours */
    bool committed;
};

static _Atomic uint64_t dp__sink_counter;

static dp_status dp__sink_fail(dp_sink *s, dp_error *err, const char *what, int e) {
    dp_status st = DP_IO;
    s->status = st;
    dp_error_set(&s->error, st, "%s: %s: %s", s->path, what, strerror(e));
    if (err != NULL)
        *err = s->error;
    return st;
}

dp_status dp_sink_open(const char *path, dp_sink **out, dp_error *err) {
    dp_status st = DP_OK;
    *out = NULL;
    dp_sink *s = dp_calloc(1, sizeof *s);
    if (s == NULL)
        return dp_error_set(err, DP_NOMEM, "%s: out of memory", path);
    s->fd = -1;
    s->path = dp_strdup(path);
    s->buf = dp_malloc(DP__SINK_BUF);
    const char *slash = strrchr(path, '/');
    s->dir = slash == NULL ? dp_strdup(".")
                           : dp_strndup(path, slash == path ? 1 : (size_t) (slash - path));
    size_t cap = strlen(path) + 64;
    s->tmp_path = dp_malloc(cap);
    if (s->path == NULL || s->buf == NULL || s->dir == NULL || s->tmp_path == NULL)
        DP_FAIL(err, DP_NOMEM, "%s: out of memory", path);
    s->tmp_path[0] = '\0';
    const char *base = slash == NULL ? path : slash + 1;
    if (*base == '\0')
        DP_FAIL(err, DP_INVALID_ARG, "%s: output path names a directory, not a file", path);
    for (int attempt = 0; attempt < 100 && s->fd < 0; attempt++) {
        uint64_t n = atomic_fetch_add(&dp__sink_counter, 1);
        snprintf(s->tmp_path, cap, "%.*s.%s.tmp-%ld-%llu", (int) (base - path), path, base,
                 (long) getpid(), (unsigned long long) n);
        s->fd = open(s->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (s->fd < 0 && errno != EEXIST)
            break;
    }
    s->created = s->fd >= 0;
    if (s->fd < 0) {
        int e = errno;
        DP_FAIL(err, e == ENOENT ? DP_NOT_FOUND : DP_IO,
                "%s: cannot create a temporary file in directory '%s': %s", path, s->dir,
                strerror(e));
    }
    *out = s;
    return DP_OK;
cleanup:
    dp_sink_free(s);
    return st;
}

static dp_status dp__sink_flush(dp_sink *s, dp_error *err) {
    size_t done = 0;
    while (done < s->used) {
        ssize_t k = write(s->fd, s->buf + done, s->used - done);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            return dp__sink_fail(s, err, "write error", errno);
        }
        done += (size_t) k;
    }
    s->used = 0;
    return DP_OK;
}

dp_status dp_sink_write(dp_sink *s, const void *data, size_t n, dp_error *err) {
    if (s->status != DP_OK) {
        if (err != NULL)
            *err = s->error;
        return s->status;
    }
    if (s->committed)
        return dp_error_set(err, DP_STATE, "%s: write after commit", s->path);
    const uint8_t *p = data;
    s->offset += n;
    while (n > 0) {
        if (s->used == DP__SINK_BUF)
            DP_TRY(dp__sink_flush(s, err));
        size_t take = DP_MIN(n, DP__SINK_BUF - s->used);
        memcpy(s->buf + s->used, p, take);
        s->used += take;
        p += take;
        n -= take;
    }
    return DP_OK;
}

uint64_t dp_sink_offset(const dp_sink *s) {
    return s->offset;
}

const char *dp_sink_path(const dp_sink *s) {
    return s->path;
}

dp_status dp_sink_commit(dp_sink *s, dp_error *err) {
    dp_status st = DP_OK;
    if (s->status != DP_OK) {
        if (err != NULL)
            *err = s->error;
        st = s->status;
        goto cleanup;
    }
    if (s->committed)
        return dp_error_set(err, DP_STATE, "%s: committed twice", s->path);
    DP_CHECK(dp__sink_flush(s, err));
    if (fsync(s->fd) != 0) {
        st = dp__sink_fail(s, err, "fsync failed", errno);
        goto cleanup;
    }
    int fd = s->fd;
    s->fd = -1;
    if (close(fd) != 0) {
        st = dp__sink_fail(s, err, "close failed", errno);
        goto cleanup;
    }
    if (rename(s->tmp_path, s->path) != 0) {
        st = dp__sink_fail(s, err, "cannot rename the temporary file", errno);
        goto cleanup;
    }
    s->committed = true;
    s->created = false;
    /* The rename is durable only once the directory entry is on disk. */
    int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) != 0) {
        int e = errno;
        if (dfd >= 0)
            close(dfd);
        /* EINVAL: the file system cannot sync directories (some network file systems). */
        if (e != EINVAL)
            return dp_error_set(err, DP_IO, "%s: written, but fsync of directory '%s' failed: %s",
                                s->path, s->dir, strerror(e));
        return DP_OK;
    }
    close(dfd);
    return DP_OK;
cleanup:
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    if (s->created)
        unlink(s->tmp_path);
    s->created = false;
    return st;
}

void dp_sink_free(dp_sink *s) {
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    if (s->created)
        unlink(s->tmp_path);
    dp_free(s->path);
    dp_free(s->tmp_path);
    dp_free(s->dir);
    dp_free(s->buf);
    dp_free(s);
}
