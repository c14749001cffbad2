/* dp_leiden.h: graph clustering of columns with Leiden (igraph), plus the graph construction,
 * consensus and representative choice around it.
 *
 * Graph: nodes = columns; an undirected edge (i, j) with weight S_ij for every pair with
 * S_ij >= threshold (NaN never makes an edge). Optional kNN sparsification (topk > 0): an edge is
 * kept when it is among the topk strongest edges of either endpoint (ties: the lower column
 * index first); with topk >= p - 1 nothing is removed (the original crashed when p <= topk,
 * ORIGINAL.md W15). Edges below the threshold are never added as zero-weight edges.
 *
 * Leiden (Traag, Waltman & van Eck 2019) through igraph_community_leiden, igraph 0.10 C API
 * (METHODS.md §8.4): quality Q = 1/(2m) sum_ij (A_ij - gamma n_i n_j) delta(c_i, c_j).
 *   CPM (default): node weights 1, gamma = resolution = the minimum average within-cluster
 *     similarity a community must reach (with similarities in [0, 1]; gamma = 1 forces
 *     singletons, W15).
 *   Modularity: node weights = strengths (weighted degrees), gamma = resolution / (2W), W = total
 *     edge weight, so that Q is Newman's weighted modularity at resolution `resolution`.
 * beta = 0.01 (igraph's recommended randomness); n_iterations < 0 iterates until an iteration
 * changes nothing, at most 100 times (igraph's own unbounded mode can cycle on ties).
 * Consensus: n_consensus runs, run r seeded with hash(seed, r) through igraph_rng_seed. Columns
 * i and j are "together" when they share a community in a strict majority of the runs
 * (co-membership > n_consensus / 2); the clusters are the connected components of that relation.
 * With one run this is that run's partition. Membership labels are canonical: clusters are
 * numbered in the order of their lowest column index, so equal partitions give equal vectors.
 *
 * Errors: igraph's default error handler aborts the process. dp_leiden_cluster installs a
 * handler that copies igraph's message into the dp_error, releases igraph's temporaries with
 * IGRAPH_FINALLY_FREE() and returns, restoring the previous handler on exit; igraph's warnings
 * go to dp_log at verbose level. A build without igraph returns DP_UNSUPPORTED ("this build lacks
 * igraph (leiden clustering)"); the graph helpers below work in every build.
 *
 * Thread safety: igraph's error handler and random generator are process-global (Debian's igraph
 * is built without thread-local storage), so dp_leiden_cluster must not run concurrently with
 * itself or other igraph users. The other functions are reentrant. Ownership: outputs are
 * caller-provided arrays, or a dp_leiden_graph value freed with dp_leiden_graph_reset.
 */
#ifndef DP_PASSES_LEIDEN_H
#define DP_PASSES_LEIDEN_H

#include "util/dp_base.h"

typedef enum dp_leiden_objective {
    DP_LEIDEN_CPM = 0,
    DP_LEIDEN_MODULARITY = 1
} dp_leiden_objective;

typedef struct dp_leiden_options {
    dp_leiden_objective objective; /* CPM */
    double resolution;             /* CPM: min average within-cluster similarity (0.5) */
    double beta;                   /* refinement randomness (0.01) */
    int32_t n_iterations;          /* < 0: until stable, at most 100 (-1) */
    int32_t n_consensus;           /* seeded runs (10) */
    uint64_t seed;                 /* 0 */
    double threshold;              /* edge when S_ij >= threshold (0.5) */
    int32_t topk;                  /* kNN sparsification; 0 = off (0) */
} dp_leiden_options;

void dp_leiden_options_default(dp_leiden_options *o);

/* Undirected weighted edge list: edges[2e], edges[2e + 1] with from < to, sorted by (from, to). */
typedef struct dp_leiden_graph {
    int64_t n_nodes;
    int64_t n_edges;
    int64_t *edges;
    double *weights;
} dp_leiden_graph;

void dp_leiden_graph_init(dp_leiden_graph *gr);
void dp_leiden_graph_reset(dp_leiden_graph *gr);

/* Build the graph from the p x p similarity S (column-major, ld >= p; only i < j is read, as
 * S[i + j*ld]). INVALID_ARG on a bad threshold/topk. */
dp_status dp_leiden_build_graph(const double *S, int64_t ld, int64_t p, double threshold,
                                int32_t topk, dp_leiden_graph *out, dp_error *err) DP_MUST_USE;

/* Cluster the columns: membership[0..p) receives canonical labels 0..n_clusters-1. */
dp_status dp_leiden_cluster(const double *S, int64_t ld, int64_t p, const dp_leiden_options *opt,
                            int64_t *membership, int64_t *n_clusters, dp_error *err) DP_MUST_USE;

/* Lower level: Leiden on a given graph. Endpoints must lie in [0, n_nodes) and weights be finite
 * and >= 0 (INVALID_ARG otherwise; igraph itself would silently add vertices). */
dp_status dp_leiden_run_graph(const dp_leiden_graph *gr, const dp_leiden_options *opt,
                              int64_t *membership, int64_t *n_clusters, dp_error *err) DP_MUST_USE;

/* Relabel membership[0..n) (labels >= 0) in order of first appearance; returns the number of
 * clusters. */
int64_t dp_leiden_canonical(int64_t *membership, int64_t n);

/* Consensus of n_runs partitions (runs[r * n + i]): components of strict-majority
 * co-membership, canonical labels. work: n int64 values. */
dp_status dp_leiden_consensus(const int64_t *runs, int64_t n_runs, int64_t n, int64_t *membership,
                              int64_t *n_clusters, dp_error *err) DP_MUST_USE;

/* Representative of each cluster: the member with the highest mean S to the other members
 * (NaN similarities are skipped; a member with no finite similarity counts as -inf), ties broken
 * by fewer missing values (n_missing may be NULL), then by the lower column index. rep[c] for
 * c < n_clusters; a singleton represents itself. The lead may replace this by the shared
 * dp_cluster helper when the two are merged. */
dp_status dp_leiden_representatives(const double *S, int64_t ld, int64_t p,
                                    const int64_t *membership, int64_t n_clusters,
                                    const int64_t *n_missing, int64_t *rep,
                                    dp_error *err) DP_MUST_USE;

/* Test hooks: IGRAPH_FINALLY_STACK_SIZE() (-1 without igraph), and a call that makes igraph
 * report an error (Leiden on a directed graph) through dpipe's handler. */
int dp__leiden_finally_stack_size(void);
dp_status dp__leiden_provoke_igraph_error(dp_error *err) DP_MUST_USE;

#endif
