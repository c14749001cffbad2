#include "pipeline/dp_scanjob.h"
#include "pipeline/dp_dist.h"
#include "pipeline/dp_outputs.h"
#include "util/dp_log.h"
#include "util/dp_progress.h"
#include "util/dp_serial.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define DP__CKPT_MAGIC   0x4b435044u /* "DPCK" */
#define DP__CKPT_VERSION 1u

static volatile sig_atomic_t dp__sig;
static struct sigaction dp__old_int, dp__old_term;
static bool dp__installed;

static void dp__on_signal(int signo) {
    (void) signo;
    dp__sig = 1;
}

void dp__interrupt_install(void) {
    if (dp__installed)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = dp__on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &dp__old_int);
    sigaction(SIGTERM, &sa, &dp__old_term);
    dp__installed = true;
    dp__sig = 0;
}

void dp__interrupt_restore(void) {
    if (!dp__installed)
        return;
    sigaction(SIGINT, &dp__old_int, NULL);
    sigaction(SIGTERM, &dp__old_term, NULL);
    dp__installed = false;
}

bool dp__interrupted(void) {
    return dp__sig != 0;
}

void dp__interrupt_raise(void) {
    dp__sig = 1;
}

/* Above this a checkpoint record is not kept between saves: holding a second copy of a large
 * accumulator (pass 4's can be gigabytes) for the whole scan would double its memory, while
 * rebuilding it once per --checkpoint-interval costs little next to the interval. */
#define DP__CKPT_KEEP_BYTES ((size_t) 64 << 20)

/* The record is built in one buffer: the state is serialised straight after the header (no
 * separate copy of it), and its length patched in afterwards. */
static dp_status dp__save_at(dp__scan_job *job, const dp__scan_part *part, int32_t next_rg,
                             int64_t next_off, dp_buf *rec, dp_error *err) {
    dp_status st = DP_OK;
    rec->size = 0;
    dp_serial_writer w;
    dp_sw_begin(&w, rec, DP__CKPT_MAGIC, DP__CKPT_VERSION);
    dp_sw_u64(&w, part->key);
    dp_sw_i64(&w, next_rg);
    dp_sw_i64(&w, next_off);
    size_t len_at = rec->size;
    dp_sw_u64(&w, 0); /* the state's length, patched below */
    size_t state_at = rec->size;
    if (!w.failed) {
        DP_CHECK(job->save(job->ctx, rec, err));
        uint64_t n = (uint64_t) (rec->size - state_at);
        for (int i = 0; i < 8; i++)
            rec->data[len_at + (size_t) i] = (uint8_t) (n >> (8 * i));
    }
    DP_CHECK(dp_sw_end(&w, err));
    DP_CHECK(dp__write_file(part->ckpt_path, rec->data, rec->size, NULL, err));
    job->checkpoints_written++;
    dp_log_debug("%s: checkpoint at row group %d (row %lld), %zu bytes", job->label, next_rg,
                 (long long) next_off, rec->size);
cleanup:
    if (rec->capacity > DP__CKPT_KEEP_BYTES)
        dp_buf_reset(rec);
    return st;
}

static dp_status dp__save(dp__scan_job *job, const dp__scan_part *part, const dp_scan *scan,
                          dp_buf *rec, dp_error *err) {
    int32_t next_rg;
    int64_t next_off;
    dp_scan_position(scan, &next_rg, &next_off);
    return dp__save_at(job, part, next_rg, next_off, rec, err);
}

/* Try to resume from the checkpoint; any problem means "start from the beginning". */
static dp_status dp__try_resume(dp__scan_job *job, const dp__scan_part *part, dp_error *err) {
    dp_buf b;
    dp_buf_init(&b);
    dp_error e;
    dp_status st = dp__read_file(part->ckpt_path, (size_t) 1 << 40, &b, &e);
    if (st == DP_NOT_FOUND) {
        dp_buf_reset(&b);
        return DP_OK;
    }
    int32_t hi = part->rg_end;
    if (st == DP_OK) {
        dp_serial_reader r;
        uint64_t key = 0, n = 0;
        int64_t rg = 0, off = 0;
        st = dp_sr_begin(&r, b.data, b.size, DP__CKPT_MAGIC, DP__CKPT_VERSION, "checkpoint", NULL,
                         &e);
        if (st == DP_OK) {
            if (!dp_sr_u64(&r, &key) || !dp_sr_i64(&r, &rg) || !dp_sr_i64(&r, &off) ||
                !dp_sr_u64(&r, &n) || n > dp_sr_remaining(&r)) {
                st = dp_error_set(&e, DP_CORRUPT, "checkpoint record is inconsistent");
            } else if (key != part->key) {
                st = dp_error_set(&e, DP_STATE,
                                  "it belongs to other inputs or settings (key %016llx, "
                                  "expected %016llx)",
                                  (unsigned long long) key, (unsigned long long) part->key);
            } else if (rg < part->rg_begin || rg > hi || off < part->off0) {
                st = dp_error_set(&e, DP_CORRUPT, "checkpoint position out of range");
            } else {
                const uint8_t *state = r.c.p;
                st = job->load(job->ctx, state, (size_t) n, &e);
                if (st == DP_OK) {
                    job->so.start_rg = (int32_t) rg;
                    job->so.start_row_offset = off;
                    job->resumed = true;
                    dp_log_info("%s: resuming from the checkpoint at row group %lld (row %lld)",
                                job->label, (long long) rg, (long long) off);
                }
            }
        }
    }
    if (st != DP_OK) {
        if (st == DP_NOMEM) {
            dp_buf_reset(&b);
            if (err != NULL)
                *err = e;
            return st;
        }
        dp_log_warn("%s: ignoring checkpoint %s: %s; the scan starts from the beginning",
                    job->label, part->ckpt_path, e.msg);
        unlink(part->ckpt_path);
    }
    dp_buf_reset(&b);
    return DP_OK;
}

dp_status dp__scan_job_part(dp__scan_job *job, const dp__scan_part *part, dp_error *err) {
    dp_status st = DP_OK;
    dp_scan *scan = NULL;
    dp_buf rec;
    dp_buf_init(&rec);
    job->resumed = false;
    job->rows_delivered = 0;
    job->checkpoints_written = 0;
    job->so.start_rg = part->rg_begin;
    job->so.start_row_offset = part->off0;
    job->so.end_rg = part->rg_end;
    job->end_rg = part->rg_begin;
    job->end_row_offset = part->off0;
    if (part->rg_begin >= part->rg_end)
        return DP_OK; /* an empty range: nothing to scan, the state stays empty */
    if (part->ckpt_path != NULL)
        DP_CHECK(dp__try_resume(job, part, err));
    job->so.progress_label = part->quiet ? NULL : job->label;
    DP_CHECK(dp_scan_open(job->ds, job->cols, job->n_cols, &job->so, &scan, err));
    double last = dp_now();
    bool stop_asked = false;
    for (;;) {
        const dp_batch *b;
        DP_CHECK(dp_scan_next(scan, &b, err));
        if (b == NULL)
            break;
        DP_CHECK(job->consume(job->ctx, b, err));
        job->rows_delivered += b->n_rows;
        if (part->tick != NULL && part->tick(part->tctx, scan))
            stop_asked = true;
        if (part->ckpt_path == NULL) {
            if (dp__interrupted() || stop_asked)
                DP_FAIL(err, DP_INTERRUPTED, "%s %s (checkpoints are off)", job->label,
                        stop_asked ? "stopped" : "interrupted");
            continue;
        }
        if (!dp_scan_at_rg_boundary(scan))
            continue;
        bool stop = dp__interrupted() || stop_asked;
        if (stop || dp_now() - last >= job->interval) {
            DP_CHECK(dp__save(job, part, scan, &rec, err));
            last = dp_now();
        }
        if (stop)
            DP_FAIL(err, DP_INTERRUPTED, "%s %s; state saved in %s (rerun to resume)", job->label,
                    stop_asked ? "stopped" : "interrupted", part->ckpt_path);
    }
    /* Complete: the position is the end of the range, after every row the scan delivered. */
    int32_t unused_rg;
    dp_scan_position(scan, &unused_rg, &job->end_row_offset);
    job->end_rg = part->rg_end;
cleanup:
    dp_scan_free(scan);
    dp_buf_reset(&rec);
    return st;
}

dp_status dp__scan_job_save_end(dp__scan_job *job, const dp__scan_part *part, dp_error *err) {
    if (part->ckpt_path == NULL || part->rg_begin >= part->rg_end)
        return DP_OK;
    dp_buf rec;
    dp_buf_init(&rec);
    dp_status st = dp__save_at(job, part, job->end_rg, job->end_row_offset, &rec, err);
    dp_buf_reset(&rec);
    return st;
}

void dp__scan_job_drop_checkpoints(const char *ckpt_path) {
    unlink(ckpt_path);
    char dir[4096];
    const char *slash = strrchr(ckpt_path, '/');
    const char *base = slash != NULL ? slash + 1 : ckpt_path;
    size_t dl = slash != NULL ? (size_t) (slash - ckpt_path) : 0;
    if (dl >= sizeof dir)
        return;
    if (slash != NULL) {
        memcpy(dir, ckpt_path, dl);
        dir[dl] = '\0';
    } else {
        snprintf(dir, sizeof dir, ".");
    }
    DIR *d = opendir(dl == 0 && slash != NULL ? "/" : dir);
    if (d == NULL)
        return;
    size_t bl = strlen(base);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, bl) == 0 && strncmp(e->d_name + bl, ".rank", 5) == 0) {
            char p[4096 + 256];
            snprintf(p, sizeof p, "%s/%s", dl == 0 && slash != NULL ? "" : dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
}

dp_status dp__scan_job_run(dp__scan_job *job, dp_error *err) {
    if (dp__dist_size() > 1)
        return dp__dist_job_run(job, err);
    dp__scan_part part = {
        .rg_end = dp_dataset_n_row_groups(job->ds), .ckpt_path = job->ckpt_path, .key = job->key};
    if (job->ckpt_path != NULL)
        dp__dist_drop_other_layouts(job->label, job->ckpt_path, 1);
    return dp__scan_job_part(job, &part, err);
}
