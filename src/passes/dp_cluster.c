/* Redundancy clustering: greedy stars, connected components, partitions; rules in dp_cluster.h. */
#include "passes/dp_cluster.h"
#include "util/dp_alloc.h"

#include <math.h>
#include <string.h>

void dp_clusters_init(dp_clusters *c) {
    memset(c, 0, sizeof *c);
}

void dp_clusters_reset(dp_clusters *c) {
    dp_free(c->membership);
    dp_free(c->rep);
    dp_free(c->start);
    dp_free(c->member);
    dp_free(c->sim_to_rep);
    memset(c, 0, sizeof *c);
}

/* Entry (i, j) read from the upper triangle. */
static double sim_at(const double *sim, int64_t p, int64_t i, int64_t j) {
    return i < j ? sim[j * p + i] : sim[i * p + j];
}

static int64_t nmiss_at(const int64_t *n_missing, int64_t i) {
    return n_missing != NULL ? n_missing[i] : 0;
}

/* Is column a preferred over b as representative: more score, then fewer missing, then lower
 * index. Scores are compared exactly (they are counts or means summed in a fixed order). */
static bool prefer(double sa, double sb, const int64_t *n_missing, int64_t a, int64_t b) {
    if (sa != sb)
        return sa > sb;
    int64_t ma = nmiss_at(n_missing, a), mb = nmiss_at(n_missing, b);
    if (ma != mb)
        return ma < mb;
    return a < b;
}

/* Build `out` from a label per column (0..k-1) and the representative of each label. */
static dp_status build_result(const double *sim, int64_t p, const int64_t *label, int64_t k,
                              const int64_t *rep_of, dp_clusters *out, dp_error *err) {
    dp_status st = DP_OK;
    int64_t *new_of = dp_mallocarray((size_t) k, sizeof(int64_t));
    int64_t *fill = dp_calloc((size_t) k + 1, sizeof(int64_t));
    int64_t *is_rep = dp_mallocarray((size_t) p, sizeof(int64_t));
    out->n_cols = p;
    out->n_clusters = k;
    out->membership = dp_mallocarray((size_t) p, sizeof(int64_t));
    out->rep = dp_mallocarray((size_t) k, sizeof(int64_t));
    out->start = dp_calloc((size_t) k + 1, sizeof(int64_t));
    out->member = dp_mallocarray((size_t) p, sizeof(int64_t));
    out->sim_to_rep = dp_mallocarray((size_t) p, sizeof(double));
    if (new_of == NULL || fill == NULL || is_rep == NULL || out->membership == NULL ||
        out->rep == NULL || out->start == NULL || out->member == NULL || out->sim_to_rep == NULL)
        DP_FAIL(err, DP_NOMEM, "clustering: out of memory for %lld columns", (long long) p);
    for (int64_t c = 0; c < p; c++)
        is_rep[c] = -1;
    for (int64_t l = 0; l < k; l++)
        is_rep[rep_of[l]] = l;
    int64_t next = 0;
    for (int64_t c = 0; c < p; c++) /* clusters in ascending representative order */
        if (is_rep[c] >= 0) {
            new_of[is_rep[c]] = next;
            out->rep[next++] = c;
        }
    DP_ASSERT(next == k);
    for (int64_t c = 0; c < p; c++) {
        out->membership[c] = new_of[label[c]];
        out->start[out->membership[c] + 1]++;
    }
    for (int64_t l = 0; l < k; l++)
        out->start[l + 1] += out->start[l];
    for (int64_t l = 0; l < k; l++) { /* representative first */
        int64_t r = out->rep[l];
        out->member[out->start[l]] = r;
        out->sim_to_rep[out->start[l]] = 1.0;
        fill[l] = 1;
    }
    for (int64_t c = 0; c < p; c++) {
        int64_t l = out->membership[c];
        int64_t r = out->rep[l];
        if (c == r)
            continue;
        int64_t pos = out->start[l] + fill[l]++;
        out->member[pos] = c;
        out->sim_to_rep[pos] = sim_at(sim, p, r, c);
    }
cleanup:
    if (st != DP_OK)
        dp_clusters_reset(out);
    dp_free(new_of);
    dp_free(fill);
    dp_free(is_rep);
    return st;
}

/* Symmetric adjacency as a bit matrix (p*p bits): 8x less memory than sim, cache-friendly. */
typedef struct adj_bits {
    uint64_t *w;
    int64_t words; /* per row */
} adj_bits;

static bool adj_has(const adj_bits *a, int64_t i, int64_t j) {
    return (a->w[i * a->words + (j >> 6)] >> (j & 63)) & 1u;
}

static dp_status adj_build(const double *sim, int64_t p, double t, adj_bits *a, int64_t *deg,
                           dp_error *err) {
    a->words = (p + 63) / 64;
    size_t nw;
    if (!dp_mul_size((size_t) p, (size_t) a->words, &nw))
        return dp_error_set(err, DP_LIMIT, "clustering: p=%lld too large", (long long) p);
    a->w = dp_calloc(nw, sizeof(uint64_t));
    if (a->w == NULL)
        return dp_error_set(err, DP_NOMEM,
                            "clustering: out of memory for the adjacency of %lld "
                            "columns",
                            (long long) p);
    memset(deg, 0, (size_t) p * sizeof(int64_t));
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < j; i++) {
            double s = sim[j * p + i];
            if (!isnan(s) && fabs(s) >= t) { /* NaN compares false anyway; explicit for readers */
                a->w[i * a->words + (j >> 6)] |= (uint64_t) 1 << (j & 63);
                a->w[j * a->words + (i >> 6)] |= (uint64_t) 1 << (i & 63);
                deg[i]++;
                deg[j]++;
            }
        }
    return DP_OK;
}

static int64_t uf_find(int64_t *parent, int64_t x) {
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

dp_status dp_cluster_threshold(const double *sim, int64_t p, double threshold,
                               const int64_t *n_missing, dp_cluster_mode mode, dp_clusters *out,
                               dp_error *err) {
    dp_status st = DP_OK;
    adj_bits a = {NULL, 0};
    int64_t *deg = NULL, *label = NULL, *rep_of = NULL, *parent = NULL;
    dp_clusters_reset(out);
    if (p < 1 || sim == NULL)
        DP_FAIL(err, DP_INVALID_ARG, "clustering: p=%lld (need >= 1 and a matrix)", (long long) p);
    if (isnan(threshold))
        DP_FAIL(err, DP_INVALID_ARG, "clustering: threshold is NaN");
    if (mode != DP_CLUSTER_GREEDY && mode != DP_CLUSTER_COMPONENTS)
        DP_FAIL(err, DP_INVALID_ARG, "clustering: unknown mode %d", (int) mode);
    deg = dp_mallocarray((size_t) p, sizeof(int64_t));
    label = dp_mallocarray((size_t) p, sizeof(int64_t));
    rep_of = dp_mallocarray((size_t) p, sizeof(int64_t));
    if (deg == NULL || label == NULL || rep_of == NULL)
        DP_FAIL(err, DP_NOMEM, "clustering: out of memory for %lld columns", (long long) p);
    DP_CHECK(adj_build(sim, p, threshold, &a, deg, err));
    int64_t k = 0;
    if (mode == DP_CLUSTER_GREEDY) {
        /* deg[] becomes the count of remaining neighbours; label -1 = remaining */
        for (int64_t c = 0; c < p; c++)
            label[c] = -1;
        for (int64_t left = p; left > 0;) {
            int64_t best = -1;
            for (int64_t c = 0; c < p; c++)
                if (label[c] < 0 &&
                    (best < 0 || prefer((double) deg[c], (double) deg[best], n_missing, c, best)))
                    best = c;
            rep_of[k] = best;
            label[best] = k;
            left--;
            for (int64_t c = 0; c < p; c++)
                if (label[c] < 0 && adj_has(&a, best, c)) {
                    label[c] = k;
                    left--;
                }
            /* the removed columns no longer count as neighbours of the remaining ones */
            for (int64_t c = 0; c < p; c++) {
                if (label[c] != k)
                    continue;
                for (int64_t x = 0; x < p; x++)
                    if (label[x] < 0 && adj_has(&a, c, x))
                        deg[x]--;
            }
            k++;
        }
    } else {
        parent = dp_mallocarray((size_t) p, sizeof(int64_t));
        if (parent == NULL)
            DP_FAIL(err, DP_NOMEM, "clustering: out of memory");
        for (int64_t c = 0; c < p; c++)
            parent[c] = c;
        for (int64_t i = 0; i < p; i++)
            for (int64_t j = i + 1; j < p; j++)
                if (adj_has(&a, i, j)) {
                    int64_t ri = uf_find(parent, i), rj = uf_find(parent, j);
                    if (ri != rj)
                        parent[DP_MAX(ri, rj)] = DP_MIN(ri, rj);
                }
        /* label components in order of their lowest column; pick representatives */
        for (int64_t c = 0; c < p; c++)
            label[c] = -1;
        for (int64_t c = 0; c < p; c++) {
            int64_t r = uf_find(parent, c);
            if (label[r] < 0) {
                label[r] = k;
                rep_of[k] = r;
                k++;
            }
            int64_t l = label[r];
            label[c] = l;
            int64_t cur = rep_of[l];
            if (prefer((double) deg[c], (double) deg[cur], n_missing, c, cur))
                rep_of[l] = c;
        }
    }
    DP_CHECK(build_result(sim, p, label, k, rep_of, out, err));
cleanup:
    dp_free(a.w);
    dp_free(deg);
    dp_free(label);
    dp_free(rep_of);
    dp_free(parent);
    return st;
}

dp_status dp_cluster_from_membership(const double *sim, int64_t p, const int64_t *membership,
                                     const int64_t *n_missing, dp_clusters *out, dp_error *err) {
    dp_status st = DP_OK;
    int64_t *order = NULL, *label = NULL, *rep_of = NULL;
    double *score = NULL;
    dp_clusters_reset(out);
    if (p < 1 || sim == NULL || membership == NULL)
        DP_FAIL(err, DP_INVALID_ARG, "clustering: p=%lld (need >= 1, a matrix and a membership)",
                (long long) p);
    order = dp_mallocarray((size_t) p, sizeof(int64_t));
    label = dp_mallocarray((size_t) p, sizeof(int64_t));
    rep_of = dp_mallocarray((size_t) p, sizeof(int64_t));
    score = dp_mallocarray((size_t) p, sizeof(double));
    if (order == NULL || label == NULL || rep_of == NULL || score == NULL)
        DP_FAIL(err, DP_NOMEM, "clustering: out of memory for %lld columns", (long long) p);
    /* Dense labels in order of first appearance: an O(p^2) scan is cheap next to the p^2 score
     * sums below and needs no hashing of arbitrary label values. */
    int64_t k = 0;
    for (int64_t c = 0; c < p; c++) {
        label[c] = -1;
        for (int64_t d = 0; d < c; d++)
            if (membership[d] == membership[c]) {
                label[c] = label[d];
                break;
            }
        if (label[c] < 0)
            label[c] = k++;
    }
    /* mean |sim| of each column to the other members of its cluster, summed in index order */
    int64_t *size = order; /* reuse: cluster sizes */
    memset(size, 0, (size_t) k * sizeof(int64_t));
    for (int64_t c = 0; c < p; c++)
        size[label[c]]++;
    for (int64_t c = 0; c < p; c++) {
        double s = 0;
        for (int64_t d = 0; d < p; d++)
            if (d != c && label[d] == label[c]) {
                double v = sim_at(sim, p, c, d);
                s += isnan(v) ? 0.0 : fabs(v);
            }
        score[c] = size[label[c]] > 1 ? s / (double) (size[label[c]] - 1) : 0.0;
    }
    for (int64_t l = 0; l < k; l++)
        rep_of[l] = -1;
    for (int64_t c = 0; c < p; c++) {
        int64_t l = label[c];
        if (rep_of[l] < 0 || prefer(score[c], score[rep_of[l]], n_missing, c, rep_of[l]))
            rep_of[l] = c;
    }
    DP_CHECK(build_result(sim, p, label, k, rep_of, out, err));
cleanup:
    dp_free(order);
    dp_free(label);
    dp_free(rep_of);
    dp_free(score);
    return st;
}
