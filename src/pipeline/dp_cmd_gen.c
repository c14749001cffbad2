/* `dpipe gen`: write the synthetic dataset of dp_gen.h as Parquet files plus truth.json. */
#include "dpipe/dp_commands.h"
#include "pipeline/dp_gen.h"
#include "util/dp_alloc.h"
#include "util/dp_log.h"
#include "util/dp_progress.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define DP__GEN_FILES_MAX 100000

/* Create dir if missing; refuse part files of another run that this one would not overwrite. */
static dp_status dp__gen_prepare_dir(const char *dir, int32_t files, dp_error *err) {
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (errno != ENOENT || mkdir(dir, 0777) != 0)
            return dp_error_set(err, DP_IO, "%s: cannot create the output directory: %s", dir,
                                strerror(errno));
        return DP_OK;
    }
    if (!S_ISDIR(sb.st_mode))
        return dp_error_set(err, DP_INVALID_ARG, "%s exists and is not a directory", dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return dp_error_set(err, DP_IO, "%s: cannot list: %s", dir, strerror(errno));
    dp_status st = DP_OK;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        int idx = -1, end = 0;
        if (sscanf(e->d_name, "part-%d.parquet%n", &idx, &end) == 1 && e->d_name[end] == '\0' &&
            idx >= files) {
            st = dp_error_set(err, DP_INVALID_ARG,
                              "%s already holds %s from a run with more files; remove it or "
                              "choose another directory",
                              dir, e->d_name);
            break;
        }
    }
    closedir(d);
    return st;
}

dp_status dp_cmd_gen(const dp_gen_options *o, dp_error *err) {
    dp_status st = DP_OK;
    dp_gen *g = NULL;
    dp_pq_writer *w = NULL;
    dp_progress *prog = NULL;
    dp_gen_file_info *info = NULL;
    char *path = NULL;
    char(*names)[32] = NULL;
    if (o->out_dir == NULL || o->out_dir[0] == '\0')
        return dp_error_set(err, DP_INVALID_ARG, "gen: no output directory (-o DIR)");
    if (o->rows < 0 || o->files < 1 || o->files > DP__GEN_FILES_MAX || o->row_group_rows < 0)
        return dp_error_set(err, DP_INVALID_ARG,
                            "gen: bad sizes: %lld rows, %d files (1..%d), row groups of %lld rows",
                            (long long) o->rows, o->files, DP__GEN_FILES_MAX,
                            (long long) o->row_group_rows);
    int codec = 0;
    DP_TRY(dp__output_codec(o->codec, &codec, err));
    dp_gen_config cfg = {o->cols, o->seed, o->missing};
    DP_CHECK(dp_gen_create(&cfg, &g, err));
    DP_CHECK(dp__gen_prepare_dir(o->out_dir, o->files, err));

    size_t cap = strlen(o->out_dir) + 64;
    path = dp_malloc(cap);
    info = dp_calloc((size_t) o->files, sizeof *info);
    if (path == NULL || info == NULL || (names = dp_calloc((size_t) o->files, 32)) == NULL)
        DP_FAIL(err, DP_NOMEM, "gen: out of memory");
    if (o->progress)
        prog = dp_progress_create("gen", o->rows, 0);
    double t0 = dp_now();
    uint64_t bytes = 0;
    dp_pq_writer_options wo = {.codec = codec, .row_group_rows = o->row_group_rows};
    for (int32_t f = 0; f < o->files; f++) {
        /* Rows split evenly, in order: the first N mod F files hold one row more. */
        int64_t q = o->rows / o->files, rem = o->rows % o->files;
        int64_t lo = q * f + DP_MIN(f, rem);
        int64_t hi = lo + q + (f < rem ? 1 : 0);
        snprintf(names[f], 32, "part-%05d.parquet", f);
        snprintf(path, cap, "%s/%s", o->out_dir, names[f]);
        info[f].name = names[f];
        info[f].rows = hi - lo;
        DP_CHECK(dp_pq_writer_create(path, dp_gen_columns(g), dp_gen_n_columns(g), &wo, &w, err));
        for (int64_t r = lo; r < hi;) {
            /* Stay inside one random block per call (blocks restart the streams). */
            int64_t n = DP_MIN(hi - r, DP_GEN_FILL_MAX - r % DP_GEN_FILL_MAX);
            const dp_pq_column_data *v = NULL;
            DP_CHECK(dp_gen_fill(g, r, n, &v, err));
            DP_CHECK(dp_pq_writer_append(w, v, n, err));
            r += n;
            dp_progress_update(prog, r, bytes + dp_pq_writer_bytes(w));
        }
        DP_CHECK(dp_pq_writer_close(w, err));
        bytes += dp_pq_writer_bytes(w);
        dp_pq_writer_free(w);
        w = NULL;
    }
    snprintf(path, cap, "%s/truth.json", o->out_dir);
    DP_CHECK(dp_gen_write_truth(g, o->rows, info, o->files, path, err));
    dp_progress_finish(prog);
    char size[32];
    dp_format_bytes(size, sizeof size, (double) bytes);
    double dt = dp_now() - t0;
    if (o->progress)
        dp_log_info("gen: %lld rows x %d columns (mol_id + %d descriptors) in %d file(s) under %s: "
                    "%s in %.1f s (%.0f rows/s)",
                    (long long) o->rows, dp_gen_n_columns(g), o->cols, o->files, o->out_dir, size,
                    dt, dt > 0 ? (double) o->rows / dt : 0.0);
cleanup:
    dp_pq_writer_free(w);
    dp_progress_free(prog);
    dp_gen_free(g);
    dp_free(names);
    dp_free(info);
    dp_free(path);
    return st;
}
