/* dp_cuda_kernels.h: launchers of the CUDA backend's kernels (dp_cuda_kernels.cu), callable from
 * C. Each launches on the given stream and returns cudaGetLastError() (a launch error; errors of
 * the kernel's execution surface at the next synchronisation). Matrices are column-major with
 * explicit leading dimensions in elements; every size is int64_t and the caller keeps grid
 * sizes in range (the launchers check and return cudaErrorInvalidConfiguration otherwise).
 * Ownership: pointers are device memory owned by the caller. Thread safety: as the stream.
 */
#ifndef DP_BACKEND_CUDA_KERNELS_H
#define DP_BACKEND_CUDA_KERNELS_H

#include "backend/cuda/dp_cuda_math.h"

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Z[t + j ldz] = transform_j(x[t + j ldx]) - K[j] for t < rows, j < p; a non-finite result is
 * NaN (pairwise) or mv[j] (impute: the missing value's centred value; mv == NULL: pairwise). */
cudaError_t dp__k_gram_transform(cudaStream_t s, const double *x, int64_t ldx, int64_t rows,
                                 int64_t p, const dp_cm_col *cols, const double *values,
                                 const double *u0, const double *slope, const double *kv,
                                 const double *K, const double *mv, double *Z, int64_t ldz);

/* Per column j of Z (rows x p): for loc[j] >= 0 (loc may be NULL) W[t + loc[j] ldw] = 1 where
 * Z is NaN else 0; NaN -> 0 in Z; Z2 = Z^2 when Z2 != NULL (ld ldz); zs[j] += sum, zq[j] += sum
 * of squares (fixed reduction tree). */
cudaError_t dp__k_gram_colprep(cudaStream_t s, double *Z, int64_t ldz, int64_t rows, int64_t p,
                               const int32_t *loc, double *W, int64_t ldw, double *Z2, double *zs,
                               double *zq);

/* dst[i + cols[c] ldd] += tmp[i + c ldt] for i < n, c < m. */
cudaError_t dp__k_scatter_cols(cudaStream_t s, const double *tmp, int64_t ldt, int64_t n, int64_t m,
                               const int32_t *cols, double *dst, int64_t ldd);
/* dst[cols[a] + cols[b] ldd] += tmp[a + b ldt] for a <= b < m (cols ascending). */
cudaError_t dp__k_scatter_upper(cudaStream_t s, const double *tmp, int64_t ldt, int64_t m,
                                const int32_t *cols, double *dst, int64_t ldd);

/* dst[t + j ldd] = (float) src[t + j lds]. */
cudaError_t dp__k_to_float(cudaStream_t s, const double *src, int64_t lds, int64_t rows,
                           int64_t cols, float *dst, int64_t ldd);
/* acc64[i + j ld64] += acc32[i + j ld32] for i <= j < n. */
cudaError_t dp__k_fold_upper(cudaStream_t s, const float *acc32, int64_t ld32, int64_t n,
                             double *acc64, int64_t ld64);

/* The p diagonal f x f blocks of S (N = p f, ld N) and Sd (block i at Sd + i f^2, ld f):
 * to_S: S[upper of block i] = Sd[upper of block i]; else Sd[block i] = S's block, both halves
 * from S's upper triangle. */
cudaError_t dp__k_diag_blocks(cudaStream_t s, double *S, int64_t N, int32_t f, int64_t p,
                              double *Sd, int to_S);

/* Pass-4 features of rows x p raw values (x, ld ldx): for each column j the normal score z and
 * the uniform copula u, then Gh[t + (j m + a) ldg] = psi_a(z) - pilot_a (m = mf.m; skipped when
 * 0) and Gr[t + (j k + a) ldg] = sin(w u + b) - pilot (k; skipped when 0); missing flags
 * mh[t + j ldg], mr[t + j ldg] (1 = missing). */
cudaError_t dp__k_fg_features(cudaStream_t s, const double *x, int64_t ldx, int64_t rows, int64_t p,
                              const dp_cm_col *cz, const dp_cm_col *cu, const double *values,
                              const double *u0, const double *slope, const double *kvz,
                              const double *kvu, dp_cm_mercer mf, const double *rw,
                              const double *rb, const double *rpilot, int32_t k, double *Gh,
                              double *Gr, int64_t ldg, uint8_t *mh, uint8_t *mr);

/* s[a] += sum of G[t + a ldg] over t < rows, for a < n (fixed reduction tree). */
cudaError_t dp__k_colsum(cudaStream_t s, const double *G, int64_t ldg, int64_t rows, int64_t n,
                         double *sums);
/* Mi[t + c ldmi] = mis[t + J[c] ldm] ? 1 : 0 for t < rows, c < nJ. */
cudaError_t dp__k_fg_mask(cudaStream_t s, const uint8_t *mis, int64_t ldm, int64_t rows,
                          const int32_t *J, int64_t nJ, double *Mi, int64_t ldmi);
/* Shadow pairs of one block of r >= 3 rows (dp_featgram.h): for q < nq, i = col[q % n_sh],
 * j = partner[q], L = r / 3: shS[q f^2 + a + b f] += sum_t G_i[t, a] G_j[(t + L) mod r, b] and
 * obs[q] += rows where neither is missing; G_i = G + i f ldg, flags mis (ld ldm). */
cudaError_t dp__k_shadow(cudaStream_t s, const double *G, int64_t ldg, int64_t r, int32_t f,
                         int64_t nq, const int32_t *col, const int32_t *partner, int64_t n_sh,
                         const uint8_t *mis, int64_t ldm, double *shS, int64_t *obs);

#ifdef __cplusplus
}
#endif

#endif
