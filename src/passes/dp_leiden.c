/* Graph construction, consensus and representatives for Leiden clustering (every build), and the
 * "not built" stub of the igraph part (dp_leiden_igraph.c holds the real one). */
#include "passes/dp_leiden.h"
#include "dpipe/dp_features.h"
#include "util/dp_alloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void dp_leiden_options_default(dp_leiden_options *o) {
    memset(o, 0, sizeof *o);
    o->objective = DP_LEIDEN_CPM;
    o->resolution = 0.5;
    o->beta = 0.01;
    o->n_iterations = -1;
    o->n_consensus = 10;
    o->seed = 0;
    o->threshold = 0.5;
    o->topk = 0;
}

void dp_leiden_graph_init(dp_leiden_graph *gr) {
    memset(gr, 0, sizeof *gr);
}

void dp_leiden_graph_reset(dp_leiden_graph *gr) {
    dp_free(gr->edges);
    dp_free(gr->weights);
    memset(gr, 0, sizeof *gr);
}

typedef struct dp__nbr {
    int64_t other;
    int64_t edge;
    double w;
} dp__nbr;

static int dp__cmp_nbr(const void *a, const void *b) {
    const dp__nbr *x = a, *y = b;
    if (x->w != y->w)
        return x->w > y->w ? -1 : 1;
    return (x->other > y->other) - (x->other < y->other);
}

dp_status dp_leiden_build_graph(const double *S, int64_t ld, int64_t p, double threshold,
                                int32_t topk, dp_leiden_graph *out, dp_error *err) {
    dp_status st = DP_OK;
    int64_t *edges = NULL, *deg = NULL, *off = NULL;
    double *wts = NULL;
    dp__nbr *nb = NULL;
    uint8_t *keep = NULL;
    dp_leiden_graph_reset(out);
    if (p < 0 || (p > 0 && (S == NULL || ld < p)))
        DP_FAIL(err, DP_INVALID_ARG, "similarity graph: p = %lld, ld = %lld", (long long) p,
                (long long) ld);
    if (!isfinite(threshold))
        DP_FAIL(err, DP_INVALID_ARG, "similarity graph: threshold %g must be finite", threshold);
    if (topk < 0)
        DP_FAIL(err, DP_INVALID_ARG, "similarity graph: --topk %d must be >= 0", (int) topk);
    int64_t n_edges = 0;
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < j; i++)
            n_edges += S[i + j * ld] >= threshold;
    edges = dp_mallocarray((size_t) (2 * n_edges + 1), sizeof(int64_t));
    wts = dp_mallocarray((size_t) (n_edges + 1), sizeof(double));
    if (edges == NULL || wts == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for %lld similarity edges", (long long) n_edges);
    /* (from, to) order: rows i ascending, then j */
    int64_t e = 0;
    for (int64_t i = 0; i < p; i++)
        for (int64_t j = i + 1; j < p; j++) {
            double s = S[i + j * ld];
            if (s >= threshold) {
                edges[2 * e] = i;
                edges[2 * e + 1] = j;
                wts[e] = s;
                e++;
            }
        }
    if (topk > 0 && topk < p - 1 && n_edges > 0) {
        deg = dp_calloc((size_t) p + 1, sizeof(int64_t));
        off = dp_calloc((size_t) p + 1, sizeof(int64_t));
        nb = dp_mallocarray((size_t) (2 * n_edges), sizeof(dp__nbr));
        keep = dp_calloc((size_t) n_edges, 1);
        if (deg == NULL || off == NULL || nb == NULL || keep == NULL)
            DP_FAIL(err, DP_NOMEM, "out of memory for the kNN graph (%lld edges)",
                    (long long) n_edges);
        for (int64_t x = 0; x < n_edges; x++) {
            deg[edges[2 * x]]++;
            deg[edges[2 * x + 1]]++;
        }
        for (int64_t i = 0; i < p; i++)
            off[i + 1] = off[i] + deg[i];
        memset(deg, 0, (size_t) (p + 1) * sizeof(int64_t));
        for (int64_t x = 0; x < n_edges; x++) {
            int64_t a = edges[2 * x], b = edges[2 * x + 1];
            nb[off[a] + deg[a]++] = (dp__nbr){b, x, wts[x]};
            nb[off[b] + deg[b]++] = (dp__nbr){a, x, wts[x]};
        }
        for (int64_t i = 0; i < p; i++) {
            qsort(nb + off[i], (size_t) deg[i], sizeof(dp__nbr), dp__cmp_nbr);
            for (int64_t t = 0; t < deg[i] && t < topk; t++)
                keep[nb[off[i] + t].edge] = 1;
        }
        int64_t kept = 0;
        for (int64_t x = 0; x < n_edges; x++)
            if (keep[x]) {
                edges[2 * kept] = edges[2 * x];
                edges[2 * kept + 1] = edges[2 * x + 1];
                wts[kept] = wts[x];
                kept++;
            }
        n_edges = kept;
    }
    out->n_nodes = p;
    out->n_edges = n_edges;
    out->edges = edges;
    out->weights = wts;
    edges = NULL;
    wts = NULL;
cleanup:
    dp_free(edges);
    dp_free(wts);
    dp_free(deg);
    dp_free(off);
    dp_free(nb);
    dp_free(keep);
    return st;
}

int64_t dp_leiden_canonical(int64_t *membership, int64_t n) {
    /* In place without memory: a relabelled entry holds -1 - new_label until the final flip.
     * O(n * clusters), at most 2.5e7 steps for 5000 columns. Input labels must be >= 0 (they
     * come from igraph or from union-find roots). */
    int64_t next = 0;
    for (int64_t i = 0; i < n; i++) {
        const int64_t l = membership[i];
        if (l < 0 && l >= -next)
            continue; /* already relabelled */
        const int64_t nl = -1 - next++;
        for (int64_t a = i; a < n; a++)
            if (membership[a] == l)
                membership[a] = nl;
    }
    for (int64_t i = 0; i < n; i++)
        membership[i] = -1 - membership[i];
    return next;
}

static int64_t dp__uf_find(int64_t *parent, int64_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

dp_status dp_leiden_consensus(const int64_t *runs, int64_t n_runs, int64_t n, int64_t *membership,
                              int64_t *n_clusters, dp_error *err) {
    if (n_runs < 1 || n < 0)
        return dp_error_set(err, DP_INVALID_ARG, "consensus of %lld runs over %lld nodes",
                            (long long) n_runs, (long long) n);
    int64_t *parent = dp_mallocarray((size_t) (n > 0 ? n : 1), sizeof(int64_t));
    if (parent == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory for the consensus of %lld nodes",
                            (long long) n);
    for (int64_t i = 0; i < n; i++)
        parent[i] = i;
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = i + 1; j < n; j++) {
            int64_t together = 0;
            for (int64_t r = 0; r < n_runs; r++)
                together += runs[r * n + i] == runs[r * n + j];
            if (2 * together > n_runs) {
                int64_t a = dp__uf_find(parent, i), b = dp__uf_find(parent, j);
                if (a != b)
                    parent[a > b ? a : b] = a < b ? a : b;
            }
        }
    for (int64_t i = 0; i < n; i++)
        membership[i] = dp__uf_find(parent, i);
    dp_free(parent);
    *n_clusters = dp_leiden_canonical(membership, n);
    return DP_OK;
}

dp_status dp_leiden_representatives(const double *S, int64_t ld, int64_t p,
                                    const int64_t *membership, int64_t n_clusters,
                                    const int64_t *n_missing, int64_t *rep, dp_error *err) {
    dp_status st = DP_OK;
    int64_t *order = NULL, *start = NULL;
    double *best = NULL;
    if (p < 0 || n_clusters < 0 || (p > 0 && (S == NULL || ld < p)))
        DP_FAIL(err, DP_INVALID_ARG, "representatives: p = %lld, %lld clusters", (long long) p,
                (long long) n_clusters);
    for (int64_t i = 0; i < p; i++)
        if (membership[i] < 0 || membership[i] >= n_clusters)
            DP_FAIL(err, DP_INVALID_ARG, "representatives: column %lld has cluster %lld of %lld",
                    (long long) i, (long long) membership[i], (long long) n_clusters);
    /* members of each cluster, in column order (counting sort) */
    order = dp_mallocarray((size_t) (p > 0 ? p : 1), sizeof(int64_t));
    start = dp_calloc((size_t) n_clusters + 1, sizeof(int64_t));
    best = dp_mallocarray((size_t) (n_clusters > 0 ? n_clusters : 1), sizeof(double));
    if (order == NULL || start == NULL || best == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory choosing representatives");
    for (int64_t i = 0; i < p; i++)
        start[membership[i] + 1]++;
    for (int64_t c = 0; c < n_clusters; c++)
        start[c + 1] += start[c];
    for (int64_t i = 0; i < p; i++)
        order[start[membership[i]]++] = i;
    for (int64_t c = n_clusters; c > 0; c--)
        start[c] = start[c - 1];
    start[0] = 0;
    for (int64_t c = 0; c < n_clusters; c++) {
        rep[c] = -1;
        best[c] = -INFINITY;
        for (int64_t a = start[c]; a < start[c + 1]; a++) {
            const int64_t i = order[a];
            double sum = 0;
            int64_t cnt = 0;
            for (int64_t b = start[c]; b < start[c + 1]; b++) {
                const int64_t j = order[b];
                if (j == i)
                    continue;
                double s = i < j ? S[i + j * ld] : S[j + i * ld];
                if (isnan(s))
                    continue;
                sum += s;
                cnt++;
            }
            double score = cnt > 0 ? sum / (double) cnt : -INFINITY;
            bool better;
            if (rep[c] < 0)
                better = true;
            else if (score != best[c])
                better = score > best[c];
            else if (n_missing != NULL && n_missing[i] != n_missing[rep[c]])
                better = n_missing[i] < n_missing[rep[c]];
            else
                better = false; /* members come in column order: the earlier one stays */
            if (better) {
                rep[c] = i;
                best[c] = score;
            }
        }
        if (rep[c] < 0)
            DP_FAIL(err, DP_INVALID_ARG, "representatives: cluster %lld is empty", (long long) c);
    }
cleanup:
    dp_free(order);
    dp_free(start);
    dp_free(best);
    return st;
}

dp_status dp_leiden_cluster(const double *S, int64_t ld, int64_t p, const dp_leiden_options *opt,
                            int64_t *membership, int64_t *n_clusters, dp_error *err) {
#if !DP_HAVE_IGRAPH
    (void) S;
    (void) ld;
    (void) p;
    (void) opt;
    (void) membership;
    (void) n_clusters;
    return dp_error_set(err, DP_UNSUPPORTED, "this build lacks igraph (leiden clustering)");
#else
    dp_leiden_options defaults;
    if (opt == NULL) {
        dp_leiden_options_default(&defaults);
        opt = &defaults;
    }
    dp_leiden_graph gr;
    dp_leiden_graph_init(&gr);
    dp_status st = dp_leiden_build_graph(S, ld, p, opt->threshold, opt->topk, &gr, err);
    if (st == DP_OK)
        st = dp_leiden_run_graph(&gr, opt, membership, n_clusters, err);
    dp_leiden_graph_reset(&gr);
    return st;
#endif
}

#if !DP_HAVE_IGRAPH
dp_status dp_leiden_run_graph(const dp_leiden_graph *gr, const dp_leiden_options *opt,
                              int64_t *membership, int64_t *n_clusters, dp_error *err) {
    (void) gr;
    (void) opt;
    (void) membership;
    (void) n_clusters;
    return dp_error_set(err, DP_UNSUPPORTED, "this build lacks igraph (leiden clustering)");
}

int dp__leiden_finally_stack_size(void) {
    return -1;
}

dp_status dp__leiden_provoke_igraph_error(dp_error *err) {
    return dp_error_set(err, DP_UNSUPPORTED, "this build lacks igraph (leiden clustering)");
}
#endif
