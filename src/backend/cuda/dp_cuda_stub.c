/* The CUDA backend's API in a build without CUDA: everything is UNSUPPORTED, so callers need no
 * #if (the pipeline refuses --gpu with this message). Compiled only when DP_HAVE_CUDA is 0. */
#include "backend/cuda/dp_cuda.h"

#define DP__NO_CUDA                                                                                \
    "this build has no CUDA backend (rebuild on a machine with the CUDA toolkit, or with "         \
    "-DDP_WITH_CUDA=ON); run without --gpu to use the CPU"

int dp_cuda_built(void) {
    return 0;
}

dp_status dp_cuda_device_count(int *count, char *why, size_t why_cap, dp_error *err) {
    *count = 0;
    if (why != NULL && why_cap > 0)
        why[0] = '\0';
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

dp_status dp_cuda_check_available(int gpu_id, dp_error *err) {
    (void) gpu_id;
    return dp_error_set(err, DP_UNSUPPORTED, "--gpu: %s", DP__NO_CUDA);
}

dp_status dp_cuda_open(const dp_cuda_options *o, dp_cuda_ctx **out, dp_error *err) {
    (void) o;
    *out = NULL;
    return dp_error_set(err, DP_UNSUPPORTED, "--gpu: %s", DP__NO_CUDA);
}

void dp_cuda_close(dp_cuda_ctx *ctx) {
    (void) ctx;
}

const char *dp_cuda_describe(const dp_cuda_ctx *ctx) {
    (void) ctx;
    return "no CUDA backend";
}

dp_cuda_precision dp_cuda_get_precision(const dp_cuda_ctx *ctx) {
    (void) ctx;
    return DP_CUDA_FP64;
}

int64_t dp_cuda_bytes_held(const dp_cuda_ctx *ctx) {
    (void) ctx;
    return 0;
}

void dp_cuda_progress_text(const dp_cuda_ctx *ctx, char *buf, int cap) {
    (void) ctx;
    if (cap > 0)
        buf[0] = '\0';
}

void dp_cuda_log_stats(const char *what, const dp_cuda_stats *s) {
    (void) what;
    (void) s;
}

dp_status dp_cuda_gram_create(dp_cuda_ctx *ctx, dp_gram *host, const dp_copula_col *tr,
                              int64_t batch_rows, dp_pool *pool, dp_cuda_gram **out,
                              dp_error *err) {
    (void) ctx, (void) host, (void) tr, (void) batch_rows, (void) pool;
    *out = NULL;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

void dp_cuda_gram_free(dp_cuda_gram *g) {
    (void) g;
}

dp_status dp_cuda_gram_update(dp_cuda_gram *g, const dp_batch *b, dp_error *err) {
    (void) g, (void) b;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

dp_status dp_cuda_gram_flush(dp_cuda_gram *g, dp_error *err) {
    (void) g;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

dp_status dp_cuda_gram_store(dp_cuda_gram *g, dp_gram *host, dp_error *err) {
    (void) g, (void) host;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

dp_status dp_cuda_gram_load(dp_cuda_gram *g, dp_gram *host, dp_error *err) {
    (void) g, (void) host;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

void dp_cuda_gram_get_stats(const dp_cuda_gram *g, dp_cuda_stats *out) {
    (void) g;
    *out = (dp_cuda_stats){0};
}

dp_status dp_cuda_featgram_create(dp_cuda_ctx *ctx, dp_featgram *host, const dp_copula_col *tz,
                                  const dp_copula_col *tu, int64_t batch_rows, dp_pool *pool,
                                  dp_cuda_featgram **out, dp_error *err) {
    (void) ctx, (void) host, (void) tz, (void) tu, (void) batch_rows, (void) pool;
    *out = NULL;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

void dp_cuda_featgram_free(dp_cuda_featgram *g) {
    (void) g;
}

dp_status dp_cuda_featgram_update(dp_cuda_featgram *g, const dp_batch *b, dp_error *err) {
    (void) g, (void) b;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

dp_status dp_cuda_featgram_flush(dp_cuda_featgram *g, dp_error *err) {
    (void) g;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

dp_status dp_cuda_featgram_store(dp_cuda_featgram *g, dp_featgram *host, dp_error *err) {
    (void) g, (void) host;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

dp_status dp_cuda_featgram_load(dp_cuda_featgram *g, dp_featgram *host, dp_error *err) {
    (void) g, (void) host;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

void dp_cuda_featgram_get_stats(const dp_cuda_featgram *g, dp_cuda_stats *out) {
    (void) g;
    *out = (dp_cuda_stats){0};
}

void dp_cuda_last_stats(const dp_cuda_ctx *ctx, int pass, dp_cuda_stats *out) {
    (void) ctx, (void) pass;
    *out = (dp_cuda_stats){0};
}

dp_status dp_cuda_bench_syrk(dp_cuda_ctx *ctx, int64_t n, int64_t k, dp_cuda_precision prec,
                             int reps, double *gflops, dp_error *err) {
    (void) ctx, (void) n, (void) k, (void) prec, (void) reps;
    *gflops = 0;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}

dp_status dp_cuda_bench_h2d(dp_cuda_ctx *ctx, int64_t bytes, int reps, double *gbps,
                            dp_error *err) {
    (void) ctx, (void) bytes, (void) reps;
    *gbps = 0;
    return dp_error_set(err, DP_UNSUPPORTED, "%s", DP__NO_CUDA);
}
