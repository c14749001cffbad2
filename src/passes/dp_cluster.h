/* dp_cluster.h: redundancy clustering of columns on a p x p similarity matrix (Pass 2 on |rho|,
 * Pass 4 on the combined nonlinear score), and the result structure every clustering method
 * (greedy, components, Leiden from passes/dp_leiden_*) produces.
 *
 * Graph: nodes are columns; i and j (i != j) are linked iff |sim_ij| >= threshold. NaN is never
 * an edge. Only the upper triangle (entries i < j, column-major sim[j*p + i]) is read, so an
 * asymmetric input cannot make the graph depend on the reading order.
 *
 * Modes:
 * - GREEDY (default): repeatedly take the remaining column with the most remaining neighbours
 *   (ties: fewer missing values, then lower index) as a representative, and put it and all its
 *   remaining neighbours into one cluster; repeat until no column remains (columns without
 *   neighbours become singletons). Guarantee: every member has |sim| >= threshold with its
 *   representative, and no two representatives are linked.
 * - COMPONENTS (the original's union-find): clusters are the connected components, so chains
 *   A-B, B-C put A and C together even when |sim_AC| is low (ORIGINAL.md W7). Representative: the
 *   member with the most neighbours, ties fewer missing, then lower index (the greedy rule applied
 *   once per component).
 * - dp_cluster_from_membership (Leiden, or any partition): clusters are given; representative =
 *   the member with the highest mean |sim| to the other members of its cluster (NaN counts as 0),
 *   ties fewer missing, then lower index.
 *
 * Result layout (every mode): clusters are ordered by representative index; the members of a
 * cluster are listed with the representative first and the others in ascending index; every
 * column belongs to exactly one cluster (singletons included).
 *
 * Ownership: dp_clusters is a caller-allocated value; dp_clusters_init / dp_clusters_reset
 * (reset frees the arrays, safe on a zeroed struct and twice). The functions fill `out` after
 * resetting it. Thread safety: pure functions on caller data.
 */
#ifndef DP_PASSES_CLUSTER_H
#define DP_PASSES_CLUSTER_H

#include "util/dp_base.h"

typedef enum dp_cluster_mode { DP_CLUSTER_GREEDY = 0, DP_CLUSTER_COMPONENTS = 1 } dp_cluster_mode;

typedef struct dp_clusters {
    int64_t n_cols;
    int64_t n_clusters;
    int64_t *membership; /* n_cols: cluster index of each column */
    int64_t *rep;        /* n_clusters: representative column of each cluster (ascending) */
    int64_t *start;      /* n_clusters + 1: cluster c's members are member[start[c]..start[c+1]) */
    int64_t *member;     /* n_cols: representative first, then the others ascending */
    double *sim_to_rep;  /* n_cols, aligned with member: sim between member and representative
                            as given (signed); 1 for the representative itself */
} dp_clusters;

void dp_clusters_init(dp_clusters *c);
void dp_clusters_reset(dp_clusters *c);

/* Threshold graph clustering (mode GREEDY or COMPONENTS) of sim[p*p] (column-major).
 * n_missing[p] (may be NULL = all 0) breaks ties. INVALID_ARG for p < 1, a NaN threshold or an
 * unknown mode; NOMEM. */
dp_status dp_cluster_threshold(const double *sim, int64_t p, double threshold,
                               const int64_t *n_missing, dp_cluster_mode mode, dp_clusters *out,
                               dp_error *err) DP_MUST_USE;

/* Clusters from a membership vector (membership[p]: any int64 labels; equal label = same
 * cluster), representatives by the highest mean similarity rule above. */
dp_status dp_cluster_from_membership(const double *sim, int64_t p, const int64_t *membership,
                                     const int64_t *n_missing, dp_clusters *out,
                                     dp_error *err) DP_MUST_USE;

#endif
