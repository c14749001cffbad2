/* `dpipe run`: the whole pipeline in a run directory, with a manifest that decides what can be
 * reused.
 *
 * Every pass reads its inputs from the files the previous pass wrote (column lists by name,
 * pass1_models.bin, the pass-2 matrix), whether that pass ran now or in an earlier run, so a
 * resumed run sees exactly what a fresh one would (the original's W3). A pass is reused only when
 * its key — dpipe's version, the input fingerprint, the settings that affect it and the checksums
 * of the files it reads — equals the one recorded in manifest.json and its output files still have
 * the recorded sizes and checksums; otherwise it and every later pass are recomputed, and the log
 * says why. The manifest is rewritten (atomically) after every pass.
 */
#include "dpipe/dp_commands.h"
#include "dpipe/dp_config.h"
#include "dpipe/dp_features.h"
#include "pipeline/dp_dist.h"
#include "pipeline/dp_outputs.h"
#include "pipeline/dp_passes_run.h"
#include "pipeline/dp_report.h"
#include "pipeline/dp_run_final.h"
#include "pipeline/dp_scanjob.h"
#include "passes/dp_psd.h"
#include "passes/dp_vif.h"
#include "util/dp_alloc.h"
#include "util/dp_checksum.h"
#include "util/dp_json.h"
#include "util/dp_jsonw.h"
#include "util/dp_log.h"
#include "util/dp_progress.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DP__MAX_OUT 12

typedef struct dp__outfile {
    char name[64];
    uint64_t bytes;
    uint32_t crc;
} dp__outfile;

typedef enum { DP__P0, DP__P1, DP__P2, DP__P3, DP__P4, DP__FINAL, DP__NPASS } dp__pass_id;

static const char *const dp__pass_names[DP__NPASS] = {"pass0", "pass1", "pass2",
                                                      "pass3", "pass4", "final"};
static const unsigned dp__pass_masks[DP__NPASS] = {DP_PASS0 | DP_PASS_INPUT,
                                                   DP_PASS1 | DP_PASS_INPUT,
                                                   DP_PASS2,
                                                   DP_PASS3,
                                                   DP_PASS4,
                                                   DP_PASS_FINAL};

typedef struct dp__pass {
    bool active; /* pass 0 only with --sample-per-file */
    bool reused;
    uint64_t key;
    dp__outfile out[DP__MAX_OUT];
    int n_out;
    double seconds;
    int64_t peak_rss;
    int64_t rows_read;
    int scans;
    int64_t cols_in, cols_out;
    char detail[256];
} dp__pass;

typedef struct dp__run {
    const dp_config *cfg;
    const char *dir;
    dp__env env;
    dp__inputs in;
    dp_dataset *ds_sample; /* pass 0's output, read by the later passes */
    const dp_dataset *ds;  /* what passes 1+ read */
    dp_json *old;
    dp__pass P[DP__NPASS];
    uint64_t input_key;
    bool lock_held;
    double t_start;
} dp__run;

/* ---- files ------------------------------------------------------------------------------- */

static const char *dp__p(const dp__run *r, const char *name, char *buf, size_t cap) {
    return dp__path_join(buf, cap, r->dir, name);
}

static dp_status dp__record(dp__run *r, dp__pass *p, const char *name, dp_error *err) {
    if (p->n_out >= DP__MAX_OUT)
        return dp_error_set(err, DP_STATE, "too many outputs for one pass");
    char path[4096];
    dp_buf b;
    dp_buf_init(&b);
    dp_status st = dp__read_file(dp__p(r, name, path, sizeof path), (size_t) 1 << 40, &b, err);
    if (st == DP_OK) {
        dp__outfile *o = &p->out[p->n_out++];
        snprintf(o->name, sizeof o->name, "%s", name);
        o->bytes = b.size;
        o->crc = dp_crc32(0, b.data, b.size);
    }
    dp_buf_reset(&b);
    return st;
}

/* Read a list written by dp__write_lines into a NULL-terminated array of names (one allocation
 * for the pointers, one for the text). */
typedef struct dp__names {
    char **v;
    int64_t n;
    char *text;
} dp__names;

static void dp__names_reset(dp__names *nm) {
    dp_free(nm->v);
    dp_free(nm->text);
    memset(nm, 0, sizeof *nm);
}

static dp_status dp__names_read(const dp__run *r, const char *file, dp__names *nm, dp_error *err) {
    memset(nm, 0, sizeof *nm);
    char path[4096];
    dp_buf b;
    dp_buf_init(&b);
    DP_TRY(dp__read_file(dp__p(r, file, path, sizeof path), (size_t) 1 << 32, &b, err));
    dp_status st = dp_buf_append_u8(&b, 0);
    if (st != DP_OK) {
        dp_buf_reset(&b);
        return dp_error_set(err, DP_NOMEM, "out of memory");
    }
    int64_t lines = 0;
    for (size_t i = 0; i + 1 < b.size; i++)
        lines += b.data[i] == '\n';
    nm->v = dp_calloc((size_t) lines + 1, sizeof *nm->v);
    if (nm->v == NULL) {
        dp_buf_reset(&b);
        return dp_error_set(err, DP_NOMEM, "out of memory");
    }
    nm->text = (char *) b.data; /* ownership moves to nm */
    char *s = nm->text;
    while (*s) {
        char *nl = strchr(s, '\n');
        if (nl == NULL)
            break;
        *nl = '\0';
        nm->v[nm->n++] = s;
        s = nl + 1;
    }
    return DP_OK;
}

/* ---- manifest ---------------------------------------------------------------------------- */

static const dp_json *dp__old_pass(const dp__run *r, dp__pass_id id) {
    return dp_json_get(dp_json_get(r->old, "passes"), dp__pass_names[id]);
}

static uint64_t dp__hex64(const char *s) {
    return s != NULL ? strtoull(s, NULL, 16) : 0;
}

/* Can pass id be reused? When not, why (into why). */
static bool dp__reusable(dp__run *r, dp__pass_id id, char *why, size_t cap) {
    const dp_config *cfg = r->cfg;
    if (!dp_config_bool(cfg, "checkpoint")) {
        snprintf(why, cap, "--no-checkpoint");
        return false;
    }
    if (dp_config_bool(cfg, "force-recompute")) {
        snprintf(why, cap, "--force-recompute");
        return false;
    }
    const dp_json *op = dp__old_pass(r, id);
    if (op == NULL) {
        snprintf(why, cap, "no earlier result");
        return false;
    }
    if (dp__hex64(dp_json_string(dp_json_get(op, "key"))) != r->P[id].key) {
        /* Name what changed: settings first, then inputs, then earlier passes. */
        const dp_json *set = dp_json_get(op, "settings");
        size_t used = 0;
        int n = 0;
        why[0] = '\0';
        for (int i = 0; i < dp_config_n_options() && set != NULL; i++) {
            const dp_opt_info *o = dp_config_option(i);
            if (!(o->passes & dp__pass_masks[id]))
                continue;
            const char *was = dp_json_string(dp_json_get(set, o->name));
            const char *now = dp_config_text(cfg, o->name);
            if ((was == NULL) != (now == NULL) || (was != NULL && strcmp(was, now) != 0)) {
                int w =
                    snprintf(why + used, used < cap ? cap - used : 0, "%s%s changed %s -> %s",
                             n ? ", " : "", o->name, was ? was : "(unset)", now ? now : "(unset)");
                if (w > 0 && used + (size_t) w < cap)
                    used += (size_t) w;
                n++;
            }
        }
        if (n == 0) {
            const char *ver = dp_json_string(dp_json_get(r->old, "dpipe_version"));
            if (ver == NULL || strcmp(ver, DP_VERSION_STRING) != 0)
                snprintf(why, cap, "dpipe version changed %s -> %s", ver ? ver : "?",
                         DP_VERSION_STRING);
            else if (dp__hex64(dp_json_string(dp_json_get(dp_json_get(r->old, "input"), "key"))) !=
                     r->input_key)
                snprintf(why, cap, "the input files or the column selection changed");
            else
                snprintf(why, cap, "an earlier pass was recomputed");
        }
        return false;
    }
    const dp_json *outs = dp_json_get(op, "outputs");
    if (outs == NULL || outs->type != DP_JSON_OBJECT) {
        snprintf(why, cap, "the manifest lists no outputs");
        return false;
    }
    dp__pass *p = &r->P[id];
    p->n_out = 0;
    for (size_t k = 0; k < outs->n; k++) {
        dp_error e;
        if (dp__record(r, p, outs->keys[k], &e) != DP_OK) {
            snprintf(why, cap, "%s is missing or unreadable", outs->keys[k]);
            return false;
        }
        dp__outfile *o = &p->out[p->n_out - 1];
        if ((double) o->bytes != dp_json_number(dp_json_get(&outs->items[k], "bytes")) ||
            o->crc != (uint32_t) dp__hex64(dp_json_string(dp_json_get(&outs->items[k], "crc32")))) {
            snprintf(why, cap, "%s was modified since it was written", outs->keys[k]);
            return false;
        }
    }
    p->seconds = dp_json_number(dp_json_get(op, "seconds"));
    p->peak_rss = (int64_t) dp_json_number(dp_json_get(op, "peak_rss_bytes"));
    p->rows_read = (int64_t) dp_json_number(dp_json_get(op, "rows_read"));
    p->scans = 0;
    p->cols_in = (int64_t) dp_json_number(dp_json_get(op, "columns_in"));
    p->cols_out = (int64_t) dp_json_number(dp_json_get(op, "columns_out"));
    return true;
}

static void dp__hex(char *buf, size_t cap, uint64_t v) {
    snprintf(buf, cap, "%016llx", (unsigned long long) v);
}

static dp_status dp__write_manifest(dp__run *r, dp_error *err) {
    dp_buf b;
    dp_buf_init(&b);
    dp_jw w;
    dp_jw_init(&w, &b, true);
    char hex[32];
    dp_jw_object_begin(&w);
    dp_jw_kv_string(&w, "format", "dpipe-run/1");
    dp_jw_kv_string(&w, "dpipe_version", DP_VERSION_STRING);
    dp_jw_key(&w, "input");
    dp_jw_object_begin(&w);
    dp__hex(hex, sizeof hex, r->input_key);
    dp_jw_kv_string(&w, "key", hex);
    dp__hex(hex, sizeof hex, dp_dataset_fingerprint(r->in.ds));
    dp_jw_kv_string(&w, "fingerprint", hex);
    dp_jw_kv_int(&w, "rows", dp_dataset_n_rows(r->in.ds));
    dp_jw_kv_int(&w, "descriptors", r->in.sel.n);
    dp_jw_key(&w, "files");
    dp_jw_array_begin(&w);
    for (int32_t i = 0; i < dp_dataset_n_files(r->in.ds); i++) {
        const dp_dataset_file *f = dp_dataset_file_at(r->in.ds, i);
        dp_jw_object_begin(&w);
        dp_jw_kv_string(&w, "path", f->path);
        dp_jw_kv_int(&w, "size", (int64_t) f->size);
        dp__hex(hex, sizeof hex, f->footer_hash);
        dp_jw_kv_string(&w, "footer_hash", hex);
        dp_jw_kv_int(&w, "rows", f->rows);
        dp_jw_object_end(&w);
    }
    dp_jw_array_end(&w);
    dp_jw_object_end(&w);
    dp_jw_key(&w, "passes");
    dp_jw_object_begin(&w);
    for (int id = 0; id < DP__NPASS; id++) {
        dp__pass *p = &r->P[id];
        if (p->n_out == 0)
            continue;
        dp_jw_key(&w, dp__pass_names[id]);
        dp_jw_object_begin(&w);
        dp__hex(hex, sizeof hex, p->key);
        dp_jw_kv_string(&w, "key", hex);
        dp_jw_key(&w, "settings");
        dp_jw_object_begin(&w);
        for (int i = 0; i < dp_config_n_options(); i++) {
            const dp_opt_info *o = dp_config_option(i);
            if (o->passes & dp__pass_masks[id])
                dp_jw_kv_string(&w, o->name, dp_config_text(r->cfg, o->name));
        }
        dp_jw_object_end(&w);
        dp_jw_key(&w, "outputs");
        dp_jw_object_begin(&w);
        for (int k = 0; k < p->n_out; k++) {
            dp_jw_key(&w, p->out[k].name);
            dp_jw_object_begin(&w);
            dp_jw_kv_int(&w, "bytes", (int64_t) p->out[k].bytes);
            snprintf(hex, sizeof hex, "%08x", p->out[k].crc);
            dp_jw_kv_string(&w, "crc32", hex);
            dp_jw_object_end(&w);
        }
        dp_jw_object_end(&w);
        dp_jw_kv_number(&w, "seconds", p->seconds);
        dp_jw_kv_int(&w, "peak_rss_bytes", p->peak_rss);
        dp_jw_kv_int(&w, "rows_read", p->rows_read);
        dp_jw_kv_int(&w, "scans", p->scans);
        dp_jw_kv_int(&w, "columns_in", p->cols_in);
        dp_jw_kv_int(&w, "columns_out", p->cols_out);
        dp_jw_kv_bool(&w, "reused", p->reused);
        dp_jw_object_end(&w);
    }
    dp_jw_object_end(&w);
    dp_jw_object_end(&w);
    dp_status st = dp_jw_finish(&w, err);
    char path[4096];
    if (st == DP_OK)
        st =
            dp__write_file(dp__p(r, "manifest.json", path, sizeof path), b.data, b.size, NULL, err);
    dp_buf_reset(&b);
    return st;
}

/* Key of a pass: version, its settings, the input and the checksums of what it reads. */
static uint64_t dp__key(dp__run *r, dp__pass_id id, const dp__pass_id *reads, int n_reads) {
    uint64_t h = dp_hash64_str(DP_VERSION_STRING, 0x4b4559);
    h = dp_hash64_combine(h, (uint64_t) id);
    h = dp_hash64_combine(h, dp_config_hash(r->cfg, dp__pass_masks[id]));
    h = dp_hash64_combine(h, r->input_key);
    for (int k = 0; k < n_reads; k++) {
        const dp__pass *q = &r->P[reads[k]];
        for (int j = 0; j < q->n_out; j++)
            h = dp_hash64_combine(h, dp_hash64_str(q->out[j].name, q->out[j].crc));
    }
    return h;
}

/* ---- lock -------------------------------------------------------------------------------- */

/* Is process pid running? A zombie is not: the ranks of an MPI job that mpirun ended stay
 * zombies until something reaps them, and their locks must not block the rerun. */
static bool dp__pid_alive(long pid) {
    if (kill((pid_t) pid, 0) != 0 && errno != EPERM)
        return false;
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return true;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')'); /* "pid (comm) S ..." */
    return !(paren != NULL && paren[1] == ' ' && paren[2] == 'Z');
}

static dp_status dp__lock(dp__run *r, dp_error *err) {
    char path[4096];
    dp__p(r, "dpipe.lock", path, sizeof path);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long) getpid());
            if (write(fd, pid, (size_t) n) != n) {
                close(fd);
                unlink(path);
                return dp_error_set(err, DP_IO, "%s: cannot write the lock", path);
            }
            close(fd);
            r->lock_held = true;
            return DP_OK;
        }
        if (errno != EEXIST)
            return dp_error_set(err, DP_IO, "%s: cannot create the lock: %s", path,
                                strerror(errno));
        FILE *f = fopen(path, "r");
        long other = 0;
        if (f != NULL) {
            if (fscanf(f, "%ld", &other) != 1)
                other = 0;
            fclose(f);
        }
        if (other > 0 && other != (long) getpid() && dp__pid_alive(other))
            return dp_error_set(err, DP_STATE,
                                "%s is in use by another dpipe run (pid %ld); wait for it or "
                                "remove %s if that process is gone",
                                r->dir, other, path);
        dp_log_warn("removing a stale lock of process %ld in %s", other, r->dir);
        unlink(path);
    }
    return dp_error_set(err, DP_STATE, "%s: cannot take the lock", path);
}

static void dp__unlock(dp__run *r) {
    if (!r->lock_held)
        return;
    char path[4096];
    unlink(dp__p(r, "dpipe.lock", path, sizeof path));
    r->lock_held = false;
}

/* ---- passes ------------------------------------------------------------------------------ */

static void dp__begin(dp__run *r, dp__pass_id id, double *t0) {
    (void) r;
    (void) id;
    *t0 = dp_now();
    dp_alloc_reset_peak();
}

static void dp__end(dp__run *r, dp__pass_id id, double t0) {
    r->P[id].seconds = dp_now() - t0;
    r->P[id].peak_rss = dp_peak_rss_bytes();
}

static const char *dp__ckpt_path(const dp__run *r, dp__pass_id id, char *buf, size_t cap) {
    char name[32];
    snprintf(name, sizeof name, "%s.checkpoint", dp__pass_names[id]);
    return dp__p(r, name, buf, cap);
}

static dp__ckpt dp__ck(const dp__run *r, dp__pass_id id, char *buf, size_t cap) {
    dp__ckpt ck = {0};
    if (dp_config_bool(r->cfg, "checkpoint")) {
        ck.path = dp__ckpt_path(r, id, buf, cap);
        ck.key = r->P[id].key;
        ck.interval = dp_config_double(r->cfg, "checkpoint-interval");
    }
    return ck;
}

static void dp__drop_ckpt(const dp__run *r, dp__pass_id id) {
    char path[4096];
    dp__scan_job_drop_checkpoints(dp__ckpt_path(r, id, path, sizeof path)); /* and every rank's */
}

static dp_status dp__pass0(dp__run *r, dp_error *err) {
    dp__pass *p = &r->P[DP__P0];
    double t0;
    dp__begin(r, DP__P0, &t0);
    int32_t nf = dp_dataset_n_files(r->in.ds);
    const char **paths = dp_calloc((size_t) nf, sizeof *paths);
    if (paths == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    for (int32_t i = 0; i < nf; i++)
        paths[i] = dp_dataset_file_at(r->in.ds, i)->path;
    char out[4096];
    dp_sample_options so = {.output = dp__p(r, "sampled_data.parquet", out, sizeof out),
                            .sample_per_file = dp_config_int(r->cfg, "sample-per-file"),
                            .seed = (uint64_t) dp_config_int(r->cfg, "random-seed"),
                            .no_verify_crc = !dp_config_bool(r->cfg, "verify-crc"),
                            .progress = dp_log_get_level() >= DP_LOG_NORMAL};
    dp_status st = dp_cmd_sample(paths, nf, &so, err);
    dp_free(paths);
    DP_TRY(st);
    p->n_out = 0;
    DP_TRY(dp__record(r, p, "sampled_data.parquet", err));
    p->rows_read = dp_dataset_n_rows(r->in.ds);
    p->scans = 1;
    dp__end(r, DP__P0, t0);
    return DP_OK;
}

static dp_status dp__pass1(dp__run *r, dp_error *err) {
    dp__pass *p = &r->P[DP__P1];
    dp_status st = DP_OK;
    double t0;
    dp__begin(r, DP__P1, &t0);
    int32_t n = r->in.sel.n;
    const char **names = NULL;
    int32_t *cols = NULL;
    dp_pass1_column *out = NULL;
    dp_colstats_result res;
    dp_colstats_result_init(&res);
    dp__models models = {0}, kept_models = {0};
    dp_buf tsv;
    dp_buf_init(&tsv);
    names = dp_calloc((size_t) n, sizeof *names);
    out = dp_calloc((size_t) n, sizeof *out);
    if (names == NULL || out == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    for (int32_t k = 0; k < n; k++)
        names[k] = dp__col_name(&r->in, k);
    DP_CHECK(dp__cols_by_name(r->ds, names, n, &cols, err));
    char ckbuf[4096];
    dp__ckpt ck = dp__ck(r, DP__P1, ckbuf, sizeof ckbuf);
    DP_CHECK(dp__p1_run(&r->env, r->ds, cols, n, names, &ck, &res, out, &models, err));
    if (dp__dist_follower())
        goto cleanup; /* rank 0 writes the pass's files */
    /* Outputs: the table, the kept names, and the kept columns' models. */
    DP_CHECK(dp_pass1_tsv_header(&tsv, err));
    int64_t kept = 0, by_reason[5] = {0};
    for (int32_t k = 0; k < n; k++) {
        DP_CHECK(dp_pass1_tsv_row(&tsv, names[k], &out[k], err));
        by_reason[out[k].reason]++;
        kept += out[k].kept;
    }
    char path[4096];
    DP_CHECK(dp__write_file(dp__p(r, "pass1_statistics.tsv", path, sizeof path), tsv.data, tsv.size,
                            NULL, err));
    const char **kn = dp_calloc((size_t) (kept > 0 ? kept : 1), sizeof *kn);
    if (kn == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    DP_CHECK(dp__models_alloc(&kept_models, kept, err));
    int64_t q = 0;
    for (int32_t k = 0; k < n; k++)
        if (out[k].kept) {
            kn[q] = names[k];
            kept_models.m[q] = models.m[k]; /* moved */
            memset(&models.m[k], 0, sizeof models.m[k]);
            dp_marginal_fit_init(&models.m[k].fit);
            q++;
        }
    st = dp__write_lines(dp__p(r, "pass1_columns.txt", path, sizeof path), kn, kept, NULL, err);
    dp_free(kn);
    DP_CHECK(st);
    DP_CHECK(
        dp__models_write(dp__p(r, "pass1_models.bin", path, sizeof path), &kept_models, NULL, err));
    p->n_out = 0;
    DP_CHECK(dp__record(r, p, "pass1_statistics.tsv", err));
    DP_CHECK(dp__record(r, p, "pass1_columns.txt", err));
    DP_CHECK(dp__record(r, p, "pass1_models.bin", err));
    p->rows_read = dp_dataset_n_rows(r->ds);
    p->scans = 1;
    p->cols_in = n;
    p->cols_out = kept;
    snprintf(p->detail, sizeof p->detail,
             "constant %lld, missing %lld, effective-n %lld, low variance %lld",
             (long long) by_reason[DP_PASS1_CONSTANT], (long long) by_reason[DP_PASS1_MISSING],
             (long long) by_reason[DP_PASS1_EFFECTIVE_N], (long long) by_reason[DP_PASS1_VARIANCE]);
    dp__drop_ckpt(r, DP__P1);
    dp__end(r, DP__P1, t0);
cleanup:
    dp_buf_reset(&tsv);
    dp__models_reset(&models);
    dp__models_reset(&kept_models);
    dp_colstats_result_reset(&res);
    dp_free(out);
    dp_free(cols);
    dp_free(names);
    return st;
}

static const char *dp__p2_matrix_name(const dp_config *cfg) {
    const char *m = dp_config_text(cfg, "method");
    return strcmp(m, "gaussian") == 0  ? "pass2_gaussian_matrix.npy"
           : strcmp(m, "pearson") == 0 ? "pass2_pearson_matrix.npy"
                                       : "pass2_spearman_matrix.npy";
}

static dp_status dp__pass2(dp__run *r, dp_error *err) {
    dp__pass *p = &r->P[DP__P2];
    dp_status st = DP_OK;
    double t0;
    dp__begin(r, DP__P2, &t0);
    dp__names nm = {0};
    dp__models models = {0};
    double *R = NULL;
    int64_t *missing = NULL;
    dp_clusters cl;
    dp_clusters_init(&cl);
    char path[4096];
    DP_CHECK(dp__names_read(r, "pass1_columns.txt", &nm, err));
    DP_CHECK(dp__models_read(dp__p(r, "pass1_models.bin", path, sizeof path), &models, err));
    int64_t n = nm.n;
    R = dp_mallocarray((size_t) (n > 0 ? n * n : 1), sizeof *R);
    missing = dp_calloc((size_t) (n > 0 ? n : 1), sizeof *missing);
    if (R == NULL || missing == NULL)
        DP_FAIL(err, DP_NOMEM, "cannot allocate the %lld x %lld pass-2 matrix", (long long) n,
                (long long) n);
    dp_copula_method method;
    DP_CHECK(dp_copula_method_parse(dp_config_text(r->cfg, "method"), &method, err));
    if (n >= 2) {
        char ckbuf[4096];
        dp__ckpt ck = dp__ck(r, DP__P2, ckbuf, sizeof ckbuf);
        DP_CHECK(dp__p2_matrix(&r->env, r->ds, (const char *const *) nm.v, n, &models, method, &ck,
                               R, err));
        if (dp__dist_follower())
            goto cleanup;
        p->rows_read = dp_dataset_n_rows(r->ds);
        p->scans = 1;
    } else if (n == 1) {
        R[0] = 1;
    }
    for (int64_t k = 0; k < n; k++) {
        const dp__model *m = dp__models_find(&models, nm.v[k]);
        missing[k] = m != NULL ? m->n_missing : 0;
    }
    double thr = dp_config_double(r->cfg, "spearman-threshold");
    if (n > 0)
        DP_CHECK(dp__cluster(r->cfg, R, n, thr, missing, &cl, err));
    DP_CHECK(
        dp__write_npy(dp__p(r, dp__p2_matrix_name(r->cfg), path, sizeof path), R, n, n, NULL, err));
    DP_CHECK(dp__write_cluster_json(r->cfg, dp__p(r, "pass2_clusters.json", path, sizeof path),
                                    "pass 2", dp_config_text(r->cfg, "method"), thr,
                                    (const char *const *) nm.v, n, &cl, err));
    DP_CHECK(dp__write_cluster_survivors(dp__p(r, "pass2_columns.txt", path, sizeof path),
                                         (const char *const *) nm.v, n, &cl, err));
    p->n_out = 0;
    DP_CHECK(dp__record(r, p, dp__p2_matrix_name(r->cfg), err));
    DP_CHECK(dp__record(r, p, "pass2_clusters.json", err));
    DP_CHECK(dp__record(r, p, "pass2_columns.txt", err));
    p->cols_in = n;
    p->cols_out = n > 0 ? cl.n_clusters : 0;
    dp__drop_ckpt(r, DP__P2);
    dp__end(r, DP__P2, t0);
cleanup:
    dp_clusters_reset(&cl);
    dp_free(R);
    dp_free(missing);
    dp__models_reset(&models);
    dp__names_reset(&nm);
    return st;
}

static dp_status dp__pass3(dp__run *r, dp_error *err) {
    dp__pass *p = &r->P[DP__P3];
    dp_status st = DP_OK;
    double t0;
    dp__begin(r, DP__P3, &t0);
    dp__names all = {0}, kept = {0};
    double *R = NULL, *sub = NULL;
    int64_t *idx = NULL;
    dp_vif_result vr;
    dp_vif_result_init(&vr);
    char path[4096];
    int64_t rows = 0, cols = 0;
    DP_CHECK(dp__names_read(r, "pass1_columns.txt", &all, err));
    DP_CHECK(dp__names_read(r, "pass2_columns.txt", &kept, err));
    DP_CHECK(dp__read_npy(dp__p(r, dp__p2_matrix_name(r->cfg), path, sizeof path), &R, &rows, &cols,
                          err));
    if (rows != all.n || cols != all.n)
        DP_FAIL(err, DP_CORRUPT, "%s is %lld x %lld but pass 1 kept %lld columns", path,
                (long long) rows, (long long) cols, (long long) all.n);
    int64_t n = kept.n;
    idx = dp_mallocarray((size_t) (n > 0 ? n : 1), sizeof *idx);
    sub = dp_mallocarray((size_t) (n > 0 ? n * n : 1), sizeof *sub);
    if (idx == NULL || sub == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    for (int64_t k = 0, j = 0; k < n; k++) {
        while (j < all.n && strcmp(all.v[j], kept.v[k]) != 0)
            j++;
        if (j == all.n)
            DP_FAIL(err, DP_CORRUPT, "pass2_columns.txt names '%s', which pass 1 did not keep",
                    kept.v[k]);
        idx[k] = j;
    }
    for (int64_t a = 0; a < n; a++)
        for (int64_t b = 0; b < n; b++)
            sub[a * n + b] = R[idx[a] * all.n + idx[b]];
    /* A pairwise-complete matrix may be slightly indefinite: VIF needs a PSD matrix. */
    double min_eig = NAN;
    bool projected = false;
    bool finite = true;
    for (int64_t i = 0; i < n * n && finite; i++)
        finite = isfinite(sub[i]);
    if (n > 1 && finite) {
        DP_CHECK(dp_corr_make_psd(sub, n, 1e-6, &min_eig, &projected, err));
        if (projected)
            dp_log_warn("pass 3: the pass-2 correlation matrix is not positive semidefinite "
                        "(smallest eigenvalue %.3g, from pairwise-complete correlations); VIF uses "
                        "it with eigenvalues clipped at 1e-6 and unit diagonal",
                        min_eig);
    }
    dp_vif_options vo = {.threshold = dp_config_double(r->cfg, "vif-threshold"),
                         .record_steps = true};
    if (n > 0)
        DP_CHECK(dp_vif_eliminate(sub, n, &vo, &vr, err));
    DP_CHECK(dp__write_vif_json(dp__p(r, "pass3_vif.json", path, sizeof path), vo.threshold,
                                (const char *const *) kept.v, n, n > 0 ? &vr : NULL, min_eig,
                                projected, err));
    const char **surv = dp_calloc((size_t) (n > 0 ? n : 1), sizeof *surv);
    if (surv == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    int64_t ns = 0;
    for (int64_t k = 0; k < n; k++)
        if (vr.kept != NULL && vr.kept[k])
            surv[ns++] = kept.v[k];
    st = dp__write_lines(dp__p(r, "pass3_columns.txt", path, sizeof path), surv, ns, NULL, err);
    dp_free(surv);
    DP_CHECK(st);
    p->n_out = 0;
    DP_CHECK(dp__record(r, p, "pass3_vif.json", err));
    DP_CHECK(dp__record(r, p, "pass3_columns.txt", err));
    p->cols_in = n;
    p->cols_out = ns;
    if (n > 0)
        snprintf(p->detail, sizeof p->detail,
                 "collinear %lld, undefined %lld, indefinite %lld, refactorisations %lld",
                 (long long) vr.n_collinear, (long long) vr.n_undefined,
                 (long long) vr.n_indefinite, (long long) vr.n_refactor);
    dp__end(r, DP__P3, t0);
cleanup:
    dp_vif_result_reset(&vr);
    dp_free(R);
    dp_free(sub);
    dp_free(idx);
    dp__names_reset(&all);
    dp__names_reset(&kept);
    return st;
}

static dp_status dp__pass4(dp__run *r, dp_error *err) {
    dp__pass *p = &r->P[DP__P4];
    dp_status st = DP_OK;
    double t0;
    dp__begin(r, DP__P4, &t0);
    dp__names nm = {0};
    dp__models models = {0};
    dp_nonlinear_result res;
    dp_nonlinear_result_init(&res);
    dp_clusters cl;
    dp_clusters_init(&cl);
    int64_t *missing = NULL;
    double *eye = NULL;
    char path[4096];
    DP_CHECK(dp__names_read(r, "pass3_columns.txt", &nm, err));
    DP_CHECK(dp__models_read(dp__p(r, "pass1_models.bin", path, sizeof path), &models, err));
    int64_t n = nm.n;
    missing = dp_calloc((size_t) (n > 0 ? n : 1), sizeof *missing);
    if (missing == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    for (int64_t k = 0; k < n; k++) {
        const dp__model *m = dp__models_find(&models, nm.v[k]);
        missing[k] = m != NULL ? m->n_missing : 0;
    }
    double thr = dp_config_double(r->cfg, "nonlinear-threshold");
    int64_t rows_used = 0;
    const double *hsic = NULL, *rdc = NULL, *S = NULL;
    if (n >= 2) {
        char ckbuf[4096];
        dp__ckpt ck = dp__ck(r, DP__P4, ckbuf, sizeof ckbuf);
        DP_CHECK(dp__p4_measures(&r->env, r->ds, (const char *const *) nm.v, n, &models,
                                 dp__hsic_estimator(r->cfg), dp_config_double(r->cfg, "w-hsic"),
                                 dp_config_double(r->cfg, "w-rdc"), &ck, &res, &rows_used, err));
        if (dp__dist_follower())
            goto cleanup;
        hsic = res.hsic;
        rdc = res.rdc;
        S = res.sim;
        p->rows_read = dp_dataset_n_rows(r->ds);
        p->scans = 1;
        char msg[512];
        if (dp_nonlinear_null_warning(&res, thr, msg, sizeof msg))
            dp_log_warn("%s", msg);
    } else {
        eye = dp_calloc((size_t) (n > 0 ? n * n : 1), sizeof *eye);
        if (eye == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory");
        for (int64_t k = 0; k < n; k++)
            eye[k * n + k] = 1;
        hsic = rdc = S = eye;
    }
    if (n > 0)
        DP_CHECK(dp__cluster(r->cfg, S, n, thr, missing, &cl, err));
    p->n_out = 0;
    if (dp_config_double(r->cfg, "w-hsic") > 0 && hsic != NULL) {
        DP_CHECK(dp__write_npy(dp__p(r, "pass4_hsic_matrix.npy", path, sizeof path), hsic, n, n,
                               NULL, err));
        DP_CHECK(dp__record(r, p, "pass4_hsic_matrix.npy", err));
    }
    if (dp_config_double(r->cfg, "w-rdc") > 0 && rdc != NULL) {
        DP_CHECK(dp__write_npy(dp__p(r, "pass4_rdc_matrix.npy", path, sizeof path), rdc, n, n, NULL,
                               err));
        DP_CHECK(dp__record(r, p, "pass4_rdc_matrix.npy", err));
    }
    DP_CHECK(dp__write_nonlinear_json(r->cfg, dp__p(r, "pass4_nonlinear.json", path, sizeof path),
                                      (const char *const *) nm.v, n, n >= 2 ? &res : NULL,
                                      rows_used, thr, &cl, err));
    DP_CHECK(dp__write_cluster_survivors(dp__p(r, "final_descriptors.txt", path, sizeof path),
                                         (const char *const *) nm.v, n, &cl, err));
    DP_CHECK(dp__record(r, p, "pass4_nonlinear.json", err));
    DP_CHECK(dp__record(r, p, "final_descriptors.txt", err));
    p->cols_in = n;
    p->cols_out = n > 0 ? cl.n_clusters : 0;
    dp__drop_ckpt(r, DP__P4);
    dp__end(r, DP__P4, t0);
cleanup:
    dp_free(eye);
    dp_free(missing);
    dp_clusters_reset(&cl);
    dp_nonlinear_result_reset(&res);
    dp__models_reset(&models);
    dp__names_reset(&nm);
    return st;
}

static dp_status dp__final(dp__run *r, dp_error *err) {
    dp__pass *p = &r->P[DP__FINAL];
    double t0;
    dp__begin(r, DP__FINAL, &t0);
    dp__final_inputs fi = {0};
    fi.dir = r->dir;
    fi.pass2_matrix = dp__p2_matrix_name(r->cfg);
    fi.n_descriptors = r->in.sel.n;
    fi.descriptor_names =
        dp_calloc((size_t) (r->in.sel.n > 0 ? r->in.sel.n : 1), sizeof *fi.descriptor_names);
    if (fi.descriptor_names == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    for (int32_t k = 0; k < r->in.sel.n; k++)
        fi.descriptor_names[k] = dp__col_name(&r->in, k);
    for (int id = 0; id < DP__FINAL; id++) {
        fi.counts[id] = id == DP__P0 ? r->in.sel.n : r->P[id].cols_out;
        fi.seconds[id] = r->P[id].seconds;
        fi.reused[id] = r->P[id].reused;
    }
    fi.sampled = r->P[DP__P0].active;
    dp_status st = dp__write_final(r->cfg, &fi, err);
    dp_free(fi.descriptor_names);
    DP_TRY(st);
    p->n_out = 0;
    DP_TRY(dp__record(r, p, "clusters.json", err));
    DP_TRY(dp__record(r, p, "columns.json", err));
    dp__end(r, DP__FINAL, t0);
    return DP_OK;
}

/* ---- the run ----------------------------------------------------------------------------- */

typedef dp_status (*dp__pass_fn)(dp__run *, dp_error *);

/* Under MPI, rank 0 decides reuse and finishes every pass; the other ranks take part in the
 * scans of passes 1, 2 and 4 only, then continue from the record rank 0 broadcasts (the next
 * passes' keys depend on it) and read the files it wrote. */
static dp_status dp__do_pass(dp__run *r, dp__pass_id id, dp__pass_fn fn, const dp__pass_id *reads,
                             int n_reads, dp_error *err) {
    dp__pass *p = &r->P[id];
    p->key = dp__key(r, id, reads, n_reads);
    char why[1024] = "";
    bool follower = dp__dist_follower();
    uint8_t reuse = !follower && dp__reusable(r, id, why, sizeof why);
    DP_TRY(dp__dist_bcast(&reuse, sizeof reuse, err));
    if (reuse) {
        p->reused = true;
        if (!follower) {
            dp_log_info("%s: reusing earlier results (settings and inputs unchanged)",
                        dp__pass_names[id]);
            DP_TRY(dp__write_manifest(r, err));
        }
    } else {
        p->reused = false;
        p->n_out = 0;
        if (!follower) {
            if (strcmp(why, "no earlier result") != 0)
                dp_log_info("%s: recomputing: %s", dp__pass_names[id], why);
            DP_TRY(fn(r, err));
            DP_TRY(dp__write_manifest(r, err));
        } else if (id == DP__P1 || id == DP__P2 || id == DP__P4) {
            DP_TRY(fn(r, err)); /* this rank's share of the scan */
        }
    }
    return dp__dist_bcast(p, sizeof *p, err);
}

static void dp__summary(dp__run *r) {
    int64_t initial = r->in.sel.n;
    dp_log_info("summary:");
    dp_log_info("  %-26s %8lld", "initial descriptors", (long long) initial);
    int64_t prev = initial;
    const char *labels[] = {"", "after pass 1 (filters)", "after pass 2 (correlation)",
                            "after pass 3 (VIF)", "after pass 4 (nonlinear)"};
    for (int id = DP__P1; id <= DP__P4; id++) {
        int64_t now = r->P[id].cols_out;
        dp_log_info("  %-26s %8lld  (-%lld)%s%s%s%s", labels[id], (long long) now,
                    (long long) (prev - now), r->P[id].reused ? "  [reused]" : "",
                    r->P[id].detail[0] ? "  " : "", r->P[id].detail, "");
        prev = now;
    }
    double red = initial > 0 ? 100.0 * (double) (initial - prev) / (double) initial : 0;
    dp_log_info("  %-26s %8lld  (%.1f %% fewer), %.1f s", "final descriptors", (long long) prev,
                red, dp_now() - r->t_start);
}

dp_status dp_cmd_run(const char *const *inputs, int n_inputs, const struct dp_config *cfg,
                     dp_error *err) {
    dp_status st = DP_OK;
    dp__run run;
    dp__run *r = &run;
    memset(r, 0, sizeof *r);
    r->cfg = cfg;
    r->t_start = dp_now();
    r->dir = dp_config_text(cfg, "output-dir");
    if (r->dir == NULL)
        return dp_error_set(err, DP_INVALID_ARG, "--output-dir DIR is required");
    /* --gpu: without CUDA built, UNSUPPORTED ("this build has no CUDA backend"); with CUDA but
     * no device, UNSUPPORTED naming cudaGetDeviceCount's result; before anything is written. */
    if (dp_config_bool(cfg, "gpu"))
        DP_TRY(dp_cuda_check_available((int) dp_config_int(cfg, "gpu-id"), err));
    if (mkdir(r->dir, 0777) != 0 && errno != EEXIST)
        st = dp_error_set(err, DP_IO, "%s: cannot create the run directory: %s", r->dir,
                          strerror(errno));
    if (st == DP_OK)
        st = dp__check_settings(cfg, 0xffffffffu, err);
    if (st == DP_OK && !dp__dist_follower())
        st = dp__lock(r, err);
    if (st == DP_OK) {
        dp__interrupt_install();
        st = dp__inputs_open(cfg, inputs, n_inputs, &r->in, err);
    }
    if (st == DP_OK)
        st = dp__env_open(&r->env, cfg, err);
    /* The input key: the files (names, sizes, footers) and which columns are descriptors. */
    if (st == DP_OK) {
        r->input_key = dp_dataset_fingerprint(r->in.ds);
        for (int32_t k = 0; k < r->in.sel.n; k++)
            r->input_key =
                dp_hash64_combine(r->input_key, dp_hash64_str(dp__col_name(&r->in, k), 7));
    }
    /* MPI: every rank must have started and see the same inputs before any scan. */
    DP_CHECK(dp__dist_agree(st, r->input_key, "input files or columns", err));
    char path[4096];
    if (!dp__dist_follower()) {
        dp_error e;
        dp_status ls = dp_json_parse_file(dp__p(r, "manifest.json", path, sizeof path),
                                          (size_t) 1 << 30, &r->old, &e);
        if (ls != DP_OK && ls != DP_NOT_FOUND)
            dp_log_warn("ignoring the existing manifest: %s", e.msg);
        const char *fmt = dp_json_string(dp_json_get(r->old, "format"));
        if (r->old != NULL && (fmt == NULL || strcmp(fmt, "dpipe-run/1") != 0)) {
            dp_log_warn("%s was not written by this dpipe; recomputing everything", path);
            dp_json_free(r->old);
            r->old = NULL;
        }
    }
    /* The effective configuration, for the record. */
    if (!dp__dist_follower()) {
        FILE *f = fopen(dp__p(r, "config.conf", path, sizeof path), "w");
        if (f == NULL)
            DP_FAIL(err, DP_IO, "%s: cannot write: %s", path, strerror(errno));
        st = dp_config_write(cfg, f, err);
        if (fclose(f) != 0 && st == DP_OK)
            st = dp_error_set(err, DP_IO, "%s: write error", path);
        DP_CHECK(st);
    }
    r->ds = r->in.ds;
    if (dp_config_int(cfg, "sample-per-file") > 0) {
        r->P[DP__P0].active = true;
        DP_CHECK(dp__do_pass(r, DP__P0, dp__pass0, NULL, 0, err));
        const char *in1[] = {dp__p(r, "sampled_data.parquet", path, sizeof path)};
        DP_CHECK(dp_dataset_open(in1, 1, &r->ds_sample, err));
        r->ds = r->ds_sample;
        r->env.input_is_sample = true;
    }
    const dp__pass_id r1[] = {DP__P0};
    const dp__pass_id r2[] = {DP__P1};
    const dp__pass_id r3[] = {DP__P1, DP__P2};
    const dp__pass_id r4[] = {DP__P1, DP__P3};
    const dp__pass_id rf[] = {DP__P1, DP__P2, DP__P3, DP__P4};
    DP_CHECK(dp__do_pass(r, DP__P1, dp__pass1, r1, r->P[DP__P0].active ? 1 : 0, err));
    DP_CHECK(dp__do_pass(r, DP__P2, dp__pass2, r2, 1, err));
    DP_CHECK(dp__do_pass(r, DP__P3, dp__pass3, r3, 2, err));
    DP_CHECK(dp__do_pass(r, DP__P4, dp__pass4, r4, 2, err));
    DP_CHECK(dp__do_pass(r, DP__FINAL, dp__final, rf, 4, err));
    if (!dp__dist_follower()) {
        dp__summary(r);
        /* The report is redrawn every run from the files (not part of the manifest); failing
         * to draw it does not fail the run. */
        dp_error re;
        if (dp__write_report(r->dir, &re) != DP_OK)
            dp_log_warn("could not write report.html: %s", re.msg);
    }
cleanup:
    if (st != DP_OK && r->in.ds != NULL && !dp__dist_follower()) {
        dp_error e;
        if (dp__write_manifest(r, &e) != DP_OK)
            dp_log_warn("could not update the manifest: %s", e.msg);
    }
    dp__interrupt_restore();
    dp_json_free(r->old);
    dp_dataset_free(r->ds_sample);
    dp__env_close(&r->env);
    dp__inputs_reset(&r->in);
    dp__unlock(r);
    return st;
}
