/* Kernels of the CUDA backend; see dp_cuda_kernels.h. The per-value math is dp_cuda_math.h (the
 * code the host unit tests check against the CPU). Reductions use a fixed tree over a fixed
 * block size, so every sum has the same order on every run (no atomics). */
#include "backend/cuda/dp_cuda_kernels.h"

#define DP_K_THREADS 256
/* Largest grid.x (2^31 - 1). */
#define DP_K_GRID_MAX 2147483647ll

namespace {

/* Sum of v over the block's DP_K_THREADS threads, in a fixed tree; valid in thread 0. */
template <typename T> __device__ T dp_block_sum(T v, T *sh) {
    const int tid = threadIdx.x;
    sh[tid] = v;
    __syncthreads();
    for (int w = DP_K_THREADS / 2; w > 0; w >>= 1) {
        if (tid < w)
            sh[tid] += sh[tid + w];
        __syncthreads();
    }
    return sh[0];
}

__global__ void k_gram_transform(const double *x, int64_t ldx, int64_t rows, int64_t p, int64_t nrb,
                                 const dp_cm_col *cols, const double *values, const double *u0,
                                 const double *slope, const double *kv, const double *K,
                                 const double *mv, double *Z, int64_t ldz) {
    const int64_t blk = blockIdx.x;
    const int64_t j = blk / nrb;
    const int64_t t = (blk % nrb) * DP_K_THREADS + threadIdx.x;
    if (j >= p || t >= rows)
        return;
    const dp_cm_col c = cols[j];
    const double v = dp_cm_transform(&c, values, u0, slope, kv, x[j * ldx + t]);
    Z[j * ldz + t] = dp_cm_isfinite(v) ? v - K[j] : (mv != NULL ? mv[j] : NAN);
}

__global__ void k_gram_colprep(double *Z, int64_t ldz, int64_t rows, const int32_t *loc, double *W,
                               int64_t ldw, double *Z2, double *zs, double *zq) {
    __shared__ double sh[DP_K_THREADS];
    const int64_t j = blockIdx.x;
    const int32_t lj = loc != NULL ? loc[j] : -1;
    double *col = Z + j * ldz;
    double s = 0, q = 0;
    for (int64_t t = threadIdx.x; t < rows; t += DP_K_THREADS) {
        double v = col[t];
        const bool miss = v != v;
        if (lj >= 0)
            W[t + (int64_t) lj * ldw] = miss ? 1.0 : 0.0;
        if (miss) {
            v = 0.0;
            col[t] = 0.0;
        }
        if (Z2 != NULL)
            Z2[t + j * ldz] = v * v;
        s += v;
        q += v * v;
    }
    s = dp_block_sum(s, sh);
    __syncthreads();
    q = dp_block_sum(q, sh);
    if (threadIdx.x == 0) {
        zs[j] += s;
        zq[j] += q;
    }
}

__global__ void k_scatter_cols(const double *tmp, int64_t ldt, int64_t n, int64_t m,
                               const int32_t *cols, double *dst, int64_t ldd) {
    const int64_t e = (int64_t) blockIdx.x * DP_K_THREADS + threadIdx.x;
    if (e >= n * m)
        return;
    const int64_t i = e % n, c = e / n;
    dst[i + (int64_t) cols[c] * ldd] += tmp[i + c * ldt];
}

__global__ void k_scatter_upper(const double *tmp, int64_t ldt, int64_t m, const int32_t *cols,
                                double *dst, int64_t ldd) {
    const int64_t e = (int64_t) blockIdx.x * DP_K_THREADS + threadIdx.x;
    if (e >= m * m)
        return;
    const int64_t a = e % m, b = e / m;
    if (a <= b)
        dst[cols[a] + (int64_t) cols[b] * ldd] += tmp[a + b * ldt];
}

__global__ void k_to_float(const double *src, int64_t lds, int64_t rows, int64_t cols, float *dst,
                           int64_t ldd) {
    const int64_t e = (int64_t) blockIdx.x * DP_K_THREADS + threadIdx.x;
    if (e >= rows * cols)
        return;
    const int64_t t = e % rows, j = e / rows;
    dst[t + j * ldd] = (float) src[t + j * lds];
}

__global__ void k_fold_upper(const float *acc32, int64_t ld32, int64_t n, double *acc64,
                             int64_t ld64) {
    const int64_t e = (int64_t) blockIdx.x * DP_K_THREADS + threadIdx.x;
    if (e >= n * n)
        return;
    const int64_t i = e % n, j = e / n;
    if (i <= j)
        acc64[i + j * ld64] += (double) acc32[i + j * ld32];
}

__global__ void k_fg_features(const double *x, int64_t ldx, int64_t rows, int64_t p, int64_t nrb,
                              const dp_cm_col *cz, const dp_cm_col *cu, const double *values,
                              const double *u0, const double *slope, const double *kvz,
                              const double *kvu, dp_cm_mercer mf, const double *rw,
                              const double *rb, const double *rpilot, int32_t k, double *Gh,
                              double *Gr, int64_t ldg, uint8_t *mh, uint8_t *mr) {
    const int64_t blk = blockIdx.x;
    const int64_t j = blk / nrb;
    const int64_t t = (blk % nrb) * DP_K_THREADS + threadIdx.x;
    if (j >= p || t >= rows)
        return;
    const double xv = x[j * ldx + t];
    if (mf.m > 0) {
        const dp_cm_col c = cz[j];
        const double z = dp_cm_transform(&c, values, u0, slope, kvz, xv);
        mh[t + j * ldg] = dp_cm_isnan(z) ? 1 : 0;
        dp_cm_mercer_row(&mf, z, mf.pilot, Gh + t + j * (int64_t) mf.m * ldg, ldg);
    }
    if (k > 0) {
        const dp_cm_col c = cu[j];
        const double u = dp_cm_transform(&c, values, u0, slope, kvu, xv);
        mr[t + j * ldg] = dp_cm_isnan(u) ? 1 : 0;
        const int64_t base = j * (int64_t) k;
        for (int32_t a = 0; a < k; a++)
            Gr[t + (base + a) * ldg] =
                dp_cm_rdc_value(rw[base + a], rb[base + a], rpilot[base + a], rpilot[base + a], u);
    }
}

__global__ void k_colsum(const double *G, int64_t ldg, int64_t rows, double *sums) {
    __shared__ double sh[DP_K_THREADS];
    const int64_t a = blockIdx.x;
    const double *col = G + a * ldg;
    double s = 0;
    for (int64_t t = threadIdx.x; t < rows; t += DP_K_THREADS)
        s += col[t];
    s = dp_block_sum(s, sh);
    if (threadIdx.x == 0)
        sums[a] += s;
}

__global__ void k_fg_mask(const uint8_t *mis, int64_t ldm, int64_t rows, const int32_t *J,
                          int64_t nJ, double *Mi, int64_t ldmi) {
    const int64_t e = (int64_t) blockIdx.x * DP_K_THREADS + threadIdx.x;
    if (e >= rows * nJ)
        return;
    const int64_t t = e % rows, c = e / rows;
    Mi[t + c * ldmi] = mis[t + (int64_t) J[c] * ldm] ? 1.0 : 0.0;
}

__global__ void k_diag_blocks(double *S, int64_t N, int64_t f, int64_t p, double *Sd, int to_S) {
    const int64_t e = (int64_t) blockIdx.x * DP_K_THREADS + threadIdx.x;
    if (e >= p * f * f)
        return;
    const int64_t i = e / (f * f), a = e % f, b = (e / f) % f;
    if (a > b)
        return;
    double *s = S + (i * f + a) + (i * f + b) * N, *d = Sd + i * f * f;
    if (to_S) {
        *s = d[a + b * f];
    } else {
        d[a + b * f] = *s;
        d[b + a * f] = *s;
    }
}

/* Entries per thread held in registers; a block covers DP_K_THREADS * DP_SH_EPT entries of the
 * f x f output per pass over the rows (f <= 45 in one pass). */
#define DP_SH_EPT 8

__global__ void k_shadow(const double *G, int64_t ldg, int64_t r, int32_t f, int32_t tr,
                         const int32_t *col, const int32_t *partner, int64_t n_sh,
                         const uint8_t *mis, int64_t ldm, double *shS, int64_t *obs) {
    extern __shared__ double smem[];
    __shared__ int64_t shc[DP_K_THREADS];
    double *si = smem, *sj = smem + (int64_t) f * tr;
    const int64_t q = blockIdx.x;
    const int64_t i = col[q % n_sh], j = partner[q];
    const int64_t L = r / 3;
    const double *Gi = G + i * f * ldg, *Gj = G + j * f * ldg;
    double *X = shS + q * (int64_t) f * f;
    const int64_t ff = (int64_t) f * f;
    for (int64_t e0 = 0; e0 < ff; e0 += (int64_t) DP_K_THREADS * DP_SH_EPT) {
        double acc[DP_SH_EPT];
        for (int c = 0; c < DP_SH_EPT; c++) {
            const int64_t e = e0 + threadIdx.x + (int64_t) c * DP_K_THREADS;
            acc[c] = e < ff ? X[e] : 0.0;
        }
        for (int64_t t0 = 0; t0 < r; t0 += tr) {
            const int64_t tn = r - t0 < tr ? r - t0 : tr;
            __syncthreads();
            for (int64_t e = threadIdx.x; e < (int64_t) f * tn; e += DP_K_THREADS) {
                const int64_t a = e / tn, tt = e % tn;
                int64_t tj = t0 + tt + L;
                if (tj >= r)
                    tj -= r;
                si[a * tr + tt] = Gi[(t0 + tt) + a * ldg];
                sj[a * tr + tt] = Gj[tj + a * ldg];
            }
            __syncthreads();
            for (int c = 0; c < DP_SH_EPT; c++) {
                const int64_t e = e0 + threadIdx.x + (int64_t) c * DP_K_THREADS;
                if (e >= ff)
                    break;
                const int64_t a = e % f, b = e / f;
                const double *pa = si + a * tr, *pb = sj + b * tr;
                double v = acc[c];
                for (int64_t tt = 0; tt < tn; tt++)
                    v += pa[tt] * pb[tt];
                acc[c] = v;
            }
        }
        for (int c = 0; c < DP_SH_EPT; c++) {
            const int64_t e = e0 + threadIdx.x + (int64_t) c * DP_K_THREADS;
            if (e < ff)
                X[e] = acc[c];
        }
    }
    int64_t cnt = 0;
    const uint8_t *mi = mis + i * ldm, *mj = mis + j * ldm;
    for (int64_t t = threadIdx.x; t < r; t += DP_K_THREADS) {
        int64_t tj = t + L;
        if (tj >= r)
            tj -= r;
        cnt += (!mi[t] && !mj[tj]) ? 1 : 0;
    }
    __syncthreads();
    cnt = dp_block_sum(cnt, shc);
    if (threadIdx.x == 0)
        obs[q] += cnt;
}

/* Blocks for n elements, or 0 when the grid would be too large. */
int64_t dp_blocks(int64_t n) {
    const int64_t b = (n + DP_K_THREADS - 1) / DP_K_THREADS;
    return b <= DP_K_GRID_MAX ? b : 0;
}

} // namespace

extern "C" {

cudaError_t dp__k_gram_transform(cudaStream_t s, const double *x, int64_t ldx, int64_t rows,
                                 int64_t p, const dp_cm_col *cols, const double *values,
                                 const double *u0, const double *slope, const double *kv,
                                 const double *K, const double *mv, double *Z, int64_t ldz) {
    if (rows <= 0 || p <= 0)
        return cudaSuccess;
    const int64_t nrb = (rows + DP_K_THREADS - 1) / DP_K_THREADS;
    if (nrb > DP_K_GRID_MAX / p)
        return cudaErrorInvalidConfiguration;
    k_gram_transform<<<(unsigned) (nrb * p), DP_K_THREADS, 0, s>>>(
        x, ldx, rows, p, nrb, cols, values, u0, slope, kv, K, mv, Z, ldz);
    return cudaGetLastError();
}

cudaError_t dp__k_gram_colprep(cudaStream_t s, double *Z, int64_t ldz, int64_t rows, int64_t p,
                               const int32_t *loc, double *W, int64_t ldw, double *Z2, double *zs,
                               double *zq) {
    if (p <= 0)
        return cudaSuccess;
    if (p > DP_K_GRID_MAX)
        return cudaErrorInvalidConfiguration;
    k_gram_colprep<<<(unsigned) p, DP_K_THREADS, 0, s>>>(Z, ldz, rows, loc, W, ldw, Z2, zs, zq);
    return cudaGetLastError();
}

cudaError_t dp__k_scatter_cols(cudaStream_t s, const double *tmp, int64_t ldt, int64_t n, int64_t m,
                               const int32_t *cols, double *dst, int64_t ldd) {
    if (n <= 0 || m <= 0)
        return cudaSuccess;
    const int64_t nb = n <= INT64_MAX / m ? dp_blocks(n * m) : 0;
    if (nb == 0)
        return cudaErrorInvalidConfiguration;
    k_scatter_cols<<<(unsigned) nb, DP_K_THREADS, 0, s>>>(tmp, ldt, n, m, cols, dst, ldd);
    return cudaGetLastError();
}

cudaError_t dp__k_scatter_upper(cudaStream_t s, const double *tmp, int64_t ldt, int64_t m,
                                const int32_t *cols, double *dst, int64_t ldd) {
    if (m <= 0)
        return cudaSuccess;
    const int64_t nb = m <= INT64_MAX / m ? dp_blocks(m * m) : 0;
    if (nb == 0)
        return cudaErrorInvalidConfiguration;
    k_scatter_upper<<<(unsigned) nb, DP_K_THREADS, 0, s>>>(tmp, ldt, m, cols, dst, ldd);
    return cudaGetLastError();
}

cudaError_t dp__k_to_float(cudaStream_t s, const double *src, int64_t lds, int64_t rows,
                           int64_t cols, float *dst, int64_t ldd) {
    if (rows <= 0 || cols <= 0)
        return cudaSuccess;
    const int64_t nb = rows <= INT64_MAX / cols ? dp_blocks(rows * cols) : 0;
    if (nb == 0)
        return cudaErrorInvalidConfiguration;
    k_to_float<<<(unsigned) nb, DP_K_THREADS, 0, s>>>(src, lds, rows, cols, dst, ldd);
    return cudaGetLastError();
}

cudaError_t dp__k_fold_upper(cudaStream_t s, const float *acc32, int64_t ld32, int64_t n,
                             double *acc64, int64_t ld64) {
    if (n <= 0)
        return cudaSuccess;
    const int64_t nb = n <= INT64_MAX / n ? dp_blocks(n * n) : 0;
    if (nb == 0)
        return cudaErrorInvalidConfiguration;
    k_fold_upper<<<(unsigned) nb, DP_K_THREADS, 0, s>>>(acc32, ld32, n, acc64, ld64);
    return cudaGetLastError();
}

cudaError_t dp__k_fg_features(cudaStream_t s, const double *x, int64_t ldx, int64_t rows, int64_t p,
                              const dp_cm_col *cz, const dp_cm_col *cu, const double *values,
                              const double *u0, const double *slope, const double *kvz,
                              const double *kvu, dp_cm_mercer mf, const double *rw,
                              const double *rb, const double *rpilot, int32_t k, double *Gh,
                              double *Gr, int64_t ldg, uint8_t *mh, uint8_t *mr) {
    if (rows <= 0 || p <= 0)
        return cudaSuccess;
    const int64_t nrb = (rows + DP_K_THREADS - 1) / DP_K_THREADS;
    if (nrb > DP_K_GRID_MAX / p)
        return cudaErrorInvalidConfiguration;
    k_fg_features<<<(unsigned) (nrb * p), DP_K_THREADS, 0, s>>>(x, ldx, rows, p, nrb, cz, cu,
                                                                values, u0, slope, kvz, kvu, mf, rw,
                                                                rb, rpilot, k, Gh, Gr, ldg, mh, mr);
    return cudaGetLastError();
}

cudaError_t dp__k_diag_blocks(cudaStream_t s, double *S, int64_t N, int32_t f, int64_t p,
                              double *Sd, int to_S) {
    if (p <= 0 || f <= 0)
        return cudaSuccess;
    const int64_t ff = (int64_t) f * f;
    const int64_t nb = p <= INT64_MAX / ff ? dp_blocks(p * ff) : 0;
    if (nb == 0)
        return cudaErrorInvalidConfiguration;
    k_diag_blocks<<<(unsigned) nb, DP_K_THREADS, 0, s>>>(S, N, f, p, Sd, to_S);
    return cudaGetLastError();
}

cudaError_t dp__k_colsum(cudaStream_t s, const double *G, int64_t ldg, int64_t rows, int64_t n,
                         double *sums) {
    if (n <= 0)
        return cudaSuccess;
    if (n > DP_K_GRID_MAX)
        return cudaErrorInvalidConfiguration;
    k_colsum<<<(unsigned) n, DP_K_THREADS, 0, s>>>(G, ldg, rows, sums);
    return cudaGetLastError();
}

cudaError_t dp__k_fg_mask(cudaStream_t s, const uint8_t *mis, int64_t ldm, int64_t rows,
                          const int32_t *J, int64_t nJ, double *Mi, int64_t ldmi) {
    if (rows <= 0 || nJ <= 0)
        return cudaSuccess;
    const int64_t nb = rows <= INT64_MAX / nJ ? dp_blocks(rows * nJ) : 0;
    if (nb == 0)
        return cudaErrorInvalidConfiguration;
    k_fg_mask<<<(unsigned) nb, DP_K_THREADS, 0, s>>>(mis, ldm, rows, J, nJ, Mi, ldmi);
    return cudaGetLastError();
}

cudaError_t dp__k_shadow(cudaStream_t s, const double *G, int64_t ldg, int64_t r, int32_t f,
                         int64_t nq, const int32_t *col, const int32_t *partner, int64_t n_sh,
                         const uint8_t *mis, int64_t ldm, double *shS, int64_t *obs) {
    if (nq <= 0 || r < 3 || f <= 0)
        return cudaSuccess;
    if (nq > DP_K_GRID_MAX || n_sh <= 0)
        return cudaErrorInvalidConfiguration;
    /* rows per shared-memory tile: both tiles in 32 KiB */
    int32_t tr = 2048 / f;
    tr = tr < 1 ? 1 : (tr > 128 ? 128 : tr);
    const size_t bytes = 2 * (size_t) f * (size_t) tr * sizeof(double);
    k_shadow<<<(unsigned) nq, DP_K_THREADS, bytes, s>>>(G, ldg, r, f, tr, col, partner, n_sh, mis,
                                                        ldm, shS, obs);
    return cudaGetLastError();
}

} // extern "C"
