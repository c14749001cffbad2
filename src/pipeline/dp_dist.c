/* Scans distributed over MPI ranks: dealing, the end-of-scan exchange and the tree merge.
 *
 * Protocol of one distributed scan (every rank runs dp__dist_job_run):
 *  1. Each rank scans its range (dp__scan_job_part). Followers post PROGRESS (rows done) to rank
 *     0 at most every half second, and DONE (status) when their part ends; rank 0 polls for them
 *     after each of its batches and afterwards blocks until every DONE arrived, showing the
 *     summed progress. A DONE with a failure (or rank 0's own) makes rank 0 send STOP to every
 *     follower at once; otherwise it sends STOP marked "end" after the last DONE. Every follower
 *     receives exactly one STOP per scan (during its scan, which then stops like an interrupt,
 *     or after its DONE), so no message is left over for the next scan.
 *  2. All ranks exchange their statuses (one allgather): the lowest rank that failed by itself
 *     (not merely stopped) gives the job's error, on every rank alike. Ranks whose part had
 *     completed save a checkpoint at its end, so a rerun redoes only what failed.
 *  3. Binomial-tree merge in a fixed order: at step s (1, 2, 4, ...) rank r with r mod 2s = s
 *     sends its serialised state to rank r - s, which deserialises it and merges it after its
 *     own. Rank 0 ends with the whole scan; the summation order depends only on the rank count.
 * All messages travel on dpipe's own duplicate of MPI_COMM_WORLD. */
#include "pipeline/dp_dist.h"
#include "backend/mpi/dp_mpi.h"
#include "util/dp_alloc.h"
#include "util/dp_checksum.h"
#include "util/dp_limits.h"
#include "util/dp_log.h"
#include "util/dp_progress.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int dp__dist_rank(void) {
    return dp__mpi_rank();
}

int dp__dist_size(void) {
    return dp__mpi_size();
}

bool dp__dist_follower(void) {
    return dp__mpi_size() > 1 && dp__mpi_rank() > 0;
}

void dp__dist_mark_shared(void) {
    dp__mpi_mark_shared();
}

/* ---- agreement ----------------------------------------------------------------------------- */

typedef struct dp__vote {
    int32_t status;
    int32_t stopped; /* failed only because rank 0 asked it to stop */
    int32_t resumed;
    int32_t pad;
    uint64_t check;
    char host[64];
    char msg[DP_ERROR_MSG_MAX];
} dp__vote;

/* Exchange votes; pick the failure to report (lowest rank that failed by itself, else the lowest
 * stopped one), or a check mismatch. */
static dp_status dp__vote_exchange(const dp__vote *mine, dp__vote **all_out, const char *check_what,
                                   dp_error *err) {
    int size = dp__mpi_size();
    dp__vote *all = dp_calloc((size_t) size, sizeof *all);
    if (all == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory for %d status records", size);
    dp_error e;
    dp_status st = dp__mpi_allgather(mine, sizeof *mine, all, &e);
    if (st != DP_OK) {
        dp_free(all);
        if (err != NULL)
            *err = e;
        return st; /* not shared: the CLI aborts the job */
    }
    int pick = -1;
    for (int r = 0; r < size && pick < 0; r++)
        if (all[r].status != DP_OK && !all[r].stopped)
            pick = r;
    for (int r = 0; r < size && pick < 0; r++)
        if (all[r].status != DP_OK)
            pick = r;
    st = DP_OK;
    if (pick >= 0) {
        all[pick].msg[sizeof all[pick].msg - 1] = '\0';
        all[pick].host[sizeof all[pick].host - 1] = '\0';
        st = dp_error_set(err, (dp_status) all[pick].status, "rank %d (%s): %s", pick,
                          all[pick].host, all[pick].msg);
    } else if (check_what != NULL) {
        for (int r = 1; r < size; r++)
            if (all[r].check != all[0].check) {
                all[r].host[sizeof all[r].host - 1] = '\0';
                st = dp_error_set(err, DP_STATE,
                                  "rank %d (%s) sees other %s than rank 0 (%016llx, rank 0: "
                                  "%016llx): every rank must read the same files (put them on "
                                  "a shared filesystem)",
                                  r, all[r].host, check_what, (unsigned long long) all[r].check,
                                  (unsigned long long) all[0].check);
                break;
            }
    }
    if (st != DP_OK)
        dp__mpi_mark_shared();
    if (all_out != NULL)
        *all_out = all;
    else
        dp_free(all);
    return st;
}

static void dp__vote_fill(dp__vote *v, dp_status st, const dp_error *err, uint64_t check) {
    memset(v, 0, sizeof *v);
    v->status = (int32_t) st;
    v->check = check;
    snprintf(v->host, sizeof v->host, "%s", dp__mpi_host());
    if (st != DP_OK)
        snprintf(v->msg, sizeof v->msg, "%s",
                 err != NULL && err->msg[0] ? err->msg : dp_status_text(st));
}

dp_status dp__dist_agree(dp_status local, uint64_t check, const char *check_what, dp_error *err) {
    if (dp__mpi_size() <= 1)
        return local;
    dp__vote *v = dp_malloc(sizeof *v);
    if (v == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory"); /* not shared: aborts */
    dp__vote_fill(v, local, err, check);
    dp_status st = dp__vote_exchange(v, NULL, check_what, err);
    dp_free(v);
    return st;
}

dp_status dp__dist_bcast(void *p, size_t n, dp_error *err) {
    return dp__mpi_bcast(p, n, err);
}

dp_status dp__dist_bcast_buf(dp_buf *b, dp_error *err) {
    if (dp__mpi_size() <= 1)
        return DP_OK;
    uint64_t n = b->size;
    DP_TRY(dp__mpi_bcast(&n, sizeof n, err));
    if (dp__mpi_rank() > 0) {
        if (n > DP_LIMIT_ALLOC_MAX)
            return dp_error_set(err, DP_LIMIT, "rank 0 broadcasts %llu bytes",
                                (unsigned long long) n);
        b->size = 0;
        if (dp_buf_reserve(b, (size_t) n) != DP_OK)
            return dp_error_set(err, DP_NOMEM, "out of memory for %llu broadcast bytes",
                                (unsigned long long) n);
        b->size = (size_t) n;
    }
    return dp__mpi_bcast(b->data, (size_t) n, err);
}

/* ---- dealing ------------------------------------------------------------------------------- */

/* rows * ranks can pass 2^63; a GCC/Clang extension keeps the products exact. */
__extension__ typedef unsigned __int128 dp__u128;

void dp__dist_range(const dp_dataset *ds, int rank, int size, int32_t *begin, int32_t *end) {
    int32_t n_rg = dp_dataset_n_row_groups(ds);
    int64_t n = dp_dataset_n_rows(ds);
    *begin = *end = 0;
    if (size <= 1) {
        *end = n_rg;
        return;
    }
    /* owner(g) = floor(mid(g) * size / n), nondecreasing in g; 128-bit products. */
    int32_t b = n_rg, e = n_rg;
    bool seen = false;
    for (int32_t g = 0; g < n_rg; g++) {
        const dp_dataset_rg *r = dp_dataset_rg_at(ds, g);
        int owner = 0;
        if (n > 0) {
            dp__u128 mid2 = (dp__u128) (2 * r->first_row + r->rows);
            owner = (int) (mid2 * (dp__u128) size / (2 * (dp__u128) n));
            if (owner >= size)
                owner = size - 1;
        }
        if (owner == rank && !seen) {
            b = g;
            seen = true;
        }
        if (owner > rank) {
            e = g;
            break;
        }
    }
    if (!seen) {
        /* No row group: an empty range placed where this rank's rows would start. */
        b = e;
    }
    *begin = b;
    *end = e;
}

/* ---- checkpoints --------------------------------------------------------------------------- */

void dp__dist_drop_other_layouts(const char *label, const char *ckpt_path, int size) {
    char dir[4096];
    const char *slash = strrchr(ckpt_path, '/');
    const char *base = slash != NULL ? slash + 1 : ckpt_path;
    size_t dl = slash != NULL ? (size_t) (slash - ckpt_path) : 0;
    if (dl + 1 >= sizeof dir)
        return;
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (dl == 0)
        snprintf(dir, sizeof dir, "/");
    else {
        memcpy(dir, ckpt_path, dl);
        dir[dl] = '\0';
    }
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    size_t bl = strlen(base);
    int other = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, bl) != 0)
            continue;
        const char *rest = e->d_name + bl;
        int r = -1, n = -1, used = 0;
        bool stale;
        if (rest[0] == '\0')
            stale = size > 1; /* a single process's checkpoint */
        else if (sscanf(rest, ".rank%dof%d%n", &r, &n, &used) == 2 && rest[used] == '\0')
            stale = n != size;
        else
            continue;
        if (!stale)
            continue;
        if (other == 0)
            other = rest[0] == '\0' ? 1 : n;
        char p[4096 + 512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    if (other > 0)
        dp_log_warn("%s: ignoring the checkpoint%s of an earlier run with %d rank%s (this run has "
                    "%d): the scan starts over",
                    label, other > 1 ? "s" : "", other, other > 1 ? "s" : "", size);
}

/* ---- the distributed job ------------------------------------------------------------------- */

typedef struct dp__prog_msg {
    int64_t rows_done, rows_total;
    uint64_t bytes;
} dp__prog_msg;

typedef struct dp__done_msg {
    int32_t status;
    int32_t pad;
    dp__prog_msg prog;
} dp__done_msg;

typedef struct dp__stop_msg {
    int32_t failure; /* 1: another rank failed, stop now; 0: the scan is over everywhere */
} dp__stop_msg;

typedef struct dp__dist_ctx {
    dp__scan_job *job;
    int rank, size;
    /* rank 0 */
    dp__prog_msg *prog; /* per rank */
    bool *done, *stop_sent;
    int n_done;
    bool failure_known;
    dp_progress *progress;
    uint64_t bytes_total;
    /* followers */
    double last_post;
    bool stop_received;
    bool stop_is_failure;
    dp_status comm_st; /* first communication error inside tick */
    dp_error comm_err;
} dp__dist_ctx;

static void dp__show(dp__dist_ctx *c) {
    if (c->progress == NULL)
        return;
    int64_t rows = 0;
    uint64_t bytes = 0;
    for (int r = 0; r < c->size; r++) {
        rows += c->prog[r].rows_done;
        bytes += c->prog[r].bytes;
    }
    dp_progress_update(c->progress, rows, bytes);
}

/* Rank 0: tell every follower that has not heard from us to stop (failure) or that the scan is
 * over. Non-blocking sends, completed before the exchange. */
static dp_status dp__send_stops(dp__dist_ctx *c, bool failure, dp_error *err) {
    dp__stop_msg m = {.failure = failure ? 1 : 0};
    for (int r = 1; r < c->size; r++)
        if (!c->stop_sent[r]) {
            DP_TRY(dp__mpi_isend(&m, sizeof m, r, DP__MPI_TAG_STOP, err));
            c->stop_sent[r] = true;
        }
    return DP_OK;
}

/* Rank 0: take one waiting message (wait: block until one comes). */
static dp_status dp__root_take(dp__dist_ctx *c, bool wait, bool *got, dp_error *err) {
    bool found = false;
    int from = -1, tag = -1;
    size_t bytes = 0;
    *got = false;
    DP_TRY(dp__mpi_probe(-1, -1, wait, &found, &from, &tag, &bytes, err));
    if (!found)
        return DP_OK;
    if (from <= 0 || from >= c->size || bytes > 256 ||
        (tag != DP__MPI_TAG_PROGRESS && tag != DP__MPI_TAG_DONE))
        return dp_error_set(err, DP_STATE,
                            "rank 0: unexpected message (tag %d, %zu bytes) from rank %d during "
                            "%s",
                            tag, bytes, from, c->job->label);
    unsigned char buf[256];
    DP_TRY(dp__mpi_recv(buf, bytes, from, tag, err));
    *got = true;
    if (tag == DP__MPI_TAG_PROGRESS && bytes == sizeof(dp__prog_msg)) {
        dp__prog_msg m;
        memcpy(&m, buf, sizeof m);
        c->prog[from].rows_done = m.rows_done;
        c->prog[from].bytes = m.bytes;
    } else if (tag == DP__MPI_TAG_DONE && bytes == sizeof(dp__done_msg)) {
        dp__done_msg d;
        memcpy(&d, buf, sizeof d);
        if (d.status == DP_OK)
            c->prog[from].rows_done = d.prog.rows_done;
        if (c->done[from])
            return dp_error_set(err, DP_STATE, "rank 0: rank %d ended %s twice", from,
                                c->job->label);
        c->done[from] = true;
        c->n_done++;
        if (d.status != DP_OK && !c->failure_known) {
            c->failure_known = true;
            dp_log_verbose("%s: rank %d failed; stopping the other ranks", c->job->label, from);
            DP_TRY(dp__send_stops(c, true, err));
        }
    } else {
        return dp_error_set(err, DP_STATE, "rank 0: message of %zu bytes with tag %d from rank %d",
                            bytes, tag, from);
    }
    dp__show(c);
    return DP_OK;
}

/* Called after every batch of this rank's part: true = stop the part. */
static bool dp__tick(void *tctx, const dp_scan *scan) {
    dp__dist_ctx *c = tctx;
    if (c->comm_st != DP_OK)
        return true;
    dp__prog_msg m = {dp_scan_input_rows_done(scan), dp_scan_input_rows_total(scan),
                      dp_scan_bytes_read(scan)};
    if (c->rank == 0) {
        c->prog[0].rows_done = m.rows_done;
        c->prog[0].bytes = m.bytes;
        bool got = true;
        while (got && c->comm_st == DP_OK)
            c->comm_st = dp__root_take(c, false, &got, &c->comm_err);
        dp__show(c);
        return c->failure_known || c->comm_st != DP_OK;
    }
    double now = dp_now();
    if (now - c->last_post >= 0.5 && dp__mpi_post(&m, sizeof m, 0, DP__MPI_TAG_PROGRESS))
        c->last_post = now;
    if (!c->stop_received) {
        bool found = false;
        int from, tag;
        size_t bytes;
        c->comm_st =
            dp__mpi_probe(0, DP__MPI_TAG_STOP, false, &found, &from, &tag, &bytes, &c->comm_err);
        if (c->comm_st == DP_OK && found) {
            dp__stop_msg s = {0};
            c->comm_st = dp__mpi_recv(&s, sizeof s, 0, DP__MPI_TAG_STOP, &c->comm_err);
            c->stop_received = true;
            c->stop_is_failure = s.failure != 0;
        }
    }
    return (c->stop_received && c->stop_is_failure) || c->comm_st != DP_OK;
}

/* Tree merge: returns with rank 0 holding every rank's rows. */
static dp_status dp__tree_merge(dp__scan_job *job, int rank, int size, dp_error *err) {
    dp_status st = DP_OK;
    dp_buf b;
    dp_buf_init(&b);
    double t0 = dp_now(), t_merge = 0;
    uint64_t bytes_in = 0;
    int received = 0;
    if (job->merge == NULL || job->save == NULL)
        return dp_error_set(err, DP_STATE, "%s cannot be merged across ranks", job->label);
    for (int step = 1; step < size; step *= 2) {
        if (rank % (2 * step) == 0) {
            int src = rank + step;
            if (src >= size)
                continue;
            uint64_t n = 0;
            DP_CHECK(dp__mpi_recv(&n, sizeof n, src, DP__MPI_TAG_STATE, err));
            if (n > DP_LIMIT_ALLOC_MAX)
                DP_FAIL(err, DP_LIMIT, "rank %d: rank %d announces a state of %llu bytes", rank,
                        src, (unsigned long long) n);
            b.size = 0;
            if (dp_buf_reserve(&b, (size_t) n) != DP_OK)
                DP_FAIL(err, DP_NOMEM, "rank %d: out of memory for the %llu-byte state of rank %d",
                        rank, (unsigned long long) n, src);
            DP_CHECK(dp__mpi_recv(b.data, (size_t) n, src, DP__MPI_TAG_STATE, err));
            b.size = (size_t) n;
            double tm = dp_now();
            st = job->merge(job->ctx, b.data, b.size, err);
            if (st != DP_OK) {
                dp_error_prefix(err, "%s: merging the state of rank %d: ", job->label, src);
                goto cleanup;
            }
            t_merge += dp_now() - tm;
            bytes_in += n;
            received++;
        } else {
            int dst = rank - step;
            b.size = 0;
            DP_CHECK(job->save(job->ctx, &b, err));
            uint64_t n = b.size;
            DP_CHECK(dp__mpi_send(&n, sizeof n, dst, DP__MPI_TAG_STATE, err));
            DP_CHECK(dp__mpi_send(b.data, b.size, dst, DP__MPI_TAG_STATE, err));
            break;
        }
    }
    if (rank == 0)
        dp_log_verbose("%s: merged %d ranks' states on rank 0 in %.3f s (%d received, %.1f MiB, "
                       "%.3f s deserialising and merging)",
                       job->label, size, dp_now() - t0, received, (double) bytes_in / (1 << 20),
                       t_merge);
cleanup:
    dp_buf_reset(&b);
    return st;
}

dp_status dp__dist_job_run(dp__scan_job *job, dp_error *err) {
    dp_status st = DP_OK;
    int rank = dp__mpi_rank(), size = dp__mpi_size();
    dp__dist_ctx c = {0};
    dp__vote *mine = NULL, *all = NULL;
    char *path = NULL;
    c.job = job;
    c.rank = rank;
    c.size = size;
    dp__scan_part part = {0};
    dp__dist_range(job->ds, rank, size, &part.rg_begin, &part.rg_end);
    dp_status local;
    dp_error lerr;
    dp_error_init(&lerr);
    local = dp_scan_row_offset_at(job->ds, &job->so, part.rg_begin, &part.off0, &lerr);
    if (job->ckpt_path != NULL) {
        size_t n = strlen(job->ckpt_path) + 64;
        path = dp_malloc(n);
        if (path == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory");
        snprintf(path, n, "%s.rank%dof%d", job->ckpt_path, rank, size);
        part.ckpt_path = path;
        part.key = dp_hash64_combine(dp_hash64_combine(job->key, (uint64_t) size), (uint64_t) rank);
        if (rank == 0)
            dp__dist_drop_other_layouts(job->label, job->ckpt_path, size);
    }
    part.quiet = true;
    part.tick = dp__tick;
    part.tctx = &c;
    c.prog = dp_calloc((size_t) size, sizeof *c.prog);
    c.done = dp_calloc((size_t) size, sizeof *c.done);
    c.stop_sent = dp_calloc((size_t) size, sizeof *c.stop_sent);
    mine = dp_calloc(1, sizeof *mine);
    if (c.prog == NULL || c.done == NULL || c.stop_sent == NULL || mine == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for %d ranks", size);
    if (rank == 0) {
        int64_t total = 0;
        for (int r = 0; r < size; r++) {
            int32_t b, e;
            dp__dist_range(job->ds, r, size, &b, &e);
            int64_t rows = 0;
            for (int32_t g = b; g < e; g++)
                rows += dp_dataset_rg_at(job->ds, g)->rows;
            c.prog[r].rows_total = rows;
            total += rows;
        }
        c.bytes_total = dp_dataset_bytes(job->ds);
        if (job->label != NULL)
            c.progress = dp_progress_create(job->label, total, c.bytes_total);
        dp_log_verbose("%s: %d ranks, rank 0 scans row groups [%d, %d)", job->label, size,
                       part.rg_begin, part.rg_end);
    } else {
        dp_log_verbose("%s: scanning row groups [%d, %d)", job->label, part.rg_begin, part.rg_end);
    }

    /* 1. This rank's part. */
    if (local == DP_OK)
        local = dp__scan_job_part(job, &part, &lerr);
    if (c.comm_st != DP_OK) {
        st = c.comm_st;
        if (err != NULL)
            *err = c.comm_err;
        goto cleanup; /* the messaging itself failed: not shared, the job is aborted */
    }
    bool stopped = local == DP_INTERRUPTED && (rank == 0 ? c.failure_known : c.stop_is_failure);
    if (rank == 0) {
        c.prog[0].rows_done = c.prog[0].rows_total;
        if (local != DP_OK && !c.failure_known) {
            c.failure_known = true;
            DP_CHECK(dp__send_stops(&c, true, err));
        }
        while (c.n_done < size - 1) {
            bool got;
            DP_CHECK(dp__root_take(&c, true, &got, err));
        }
        DP_CHECK(dp__send_stops(&c, false, err));
        DP_CHECK(dp__mpi_isend_wait_all(err));
        dp__show(&c);
        dp_progress_finish(c.progress);
    } else {
        dp__done_msg d = {.status = (int32_t) local};
        for (int32_t g = part.rg_begin; g < part.rg_end && local == DP_OK; g++)
            d.prog.rows_done += dp_dataset_rg_at(job->ds, g)->rows;
        DP_CHECK(dp__mpi_post_wait(err));
        DP_CHECK(dp__mpi_isend(&d, sizeof d, 0, DP__MPI_TAG_DONE, err));
        if (!c.stop_received) {
            dp__stop_msg s = {0};
            DP_CHECK(dp__mpi_recv(&s, sizeof s, 0, DP__MPI_TAG_STOP, err));
            c.stop_received = true;
        }
        DP_CHECK(dp__mpi_isend_wait_all(err));
    }

    /* 2. Statuses. */
    dp__vote_fill(mine, local, &lerr, 0);
    mine->stopped = stopped;
    mine->resumed = job->resumed;
    st = dp__vote_exchange(mine, &all, NULL, err);
    if (st != DP_OK && all == NULL)
        goto cleanup;
    if (rank == 0 && all != NULL) {
        int resumed = 0;
        for (int r = 0; r < size; r++)
            resumed += all[r].resumed != 0;
        if (resumed > 0)
            dp_log_info("%s: %d of %d ranks resumed from their checkpoints", job->label, resumed,
                        size);
    }
    if (st != DP_OK) {
        /* Keep the finished parts: a rerun then redoes only what failed. */
        if (local == DP_OK && path != NULL) {
            dp_error e;
            if (dp__scan_job_save_end(job, &part, &e) != DP_OK)
                dp_log_warn("%s: could not save rank %d's finished part: %s", job->label, rank,
                            e.msg);
        }
        goto cleanup;
    }

    /* 3. Merge. */
    DP_CHECK(dp__tree_merge(job, rank, size, err));
cleanup:
    dp_progress_free(c.progress);
    dp_free(c.prog);
    dp_free(c.done);
    dp_free(c.stop_sent);
    dp_free(mine);
    dp_free(all);
    dp_free(path);
    return st;
}
