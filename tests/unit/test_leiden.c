/* Leiden clustering of the Pass-4 similarity graph (passes/dp_leiden.h): graph construction and
 * kNN sparsification against a naive reference, consensus rule, representatives, planted
 * communities, seeds, igraph errors as dpipe errors, and the build without igraph. */
#include "dp_test.h"
#include "dpipe/dp_features.h"
#include "passes/dp_leiden.h"
#include "util/dp_rng.h"

/* Planted: 4 groups of 10 columns, within-group similarity 0.6-0.9; 4 % of the between-group
 * pairs get 0.35-0.45 (above the 0.3 threshold, so threshold components chain every group into
 * one cluster), the rest 0-0.1. */
static double *ld_planted(int64_t p, uint64_t seed) {
    double *S = calloc((size_t) (p * p), sizeof(double));
    dp_rng r;
    dp_rng_seed(&r, seed);
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < j; i++) {
            double s;
            if (i / 10 == j / 10)
                s = 0.6 + 0.3 * dp_rng_uniform(&r);
            else if (dp_rng_uniform(&r) < 0.04)
                s = 0.35 + 0.1 * dp_rng_uniform(&r);
            else
                s = 0.1 * dp_rng_uniform(&r);
            S[i + j * p] = S[j + i * p] = s;
        }
    for (int64_t i = 0; i < p; i++)
        S[i + i * p] = 1.0;
    return S;
}

static int64_t ld_components(const double *S, int64_t p, double thr) {
    int64_t *lab = malloc(sizeof(int64_t) * (size_t) p), n = 0;
    for (int64_t i = 0; i < p; i++)
        lab[i] = i;
    for (int changed = 1; changed;) { /* naive label propagation to the minimum */
        changed = 0;
        for (int64_t i = 0; i < p; i++)
            for (int64_t j = 0; j < p; j++)
                if (i != j && S[i + j * p] >= thr && lab[j] < lab[i]) {
                    lab[i] = lab[j];
                    changed = 1;
                }
    }
    for (int64_t i = 0; i < p; i++)
        n += lab[i] == i;
    free(lab);
    return n;
}

DP_TEST(leiden_build_reports_igraph_availability) {
    double S[4] = {1, 0.9, 0.9, 1};
    int64_t memb[2], k = 0;
    dp_error err, *ep = &err;
    dp_leiden_options o;
    dp_leiden_options_default(&o);
    dp_status st = dp_leiden_cluster(S, 2, 2, &o, memb, &k, ep);
#if DP_HAVE_IGRAPH
    DP_ASSERT_OK(st, ep);
    DP_ASSERT_EQ_INT(k, 1);
    DP_ASSERT_EQ_INT(dp__leiden_finally_stack_size(), 0);
#else
    DP_ASSERT_EQ_INT(st, DP_UNSUPPORTED);
    DP_ASSERT_STREQ(err.msg, "this build lacks igraph (leiden clustering)");
    DP_ASSERT_EQ_INT(dp__leiden_finally_stack_size(), -1);
#endif
}

DP_TEST(leiden_planted_communities_recovered) {
#if !DP_HAVE_IGRAPH
    DP_SKIP("built without igraph");
#endif
    const int64_t p = 40;
    double *S = ld_planted(p, 5);
    /* the chaining that threshold components suffer from (ORIGINAL.md W7) */
    DP_ASSERT_EQ_INT(ld_components(S, p, 0.3), 1);
    dp_error err, *ep = &err;
    int64_t memb[40], k = 0;
    for (int obj = 0; obj < 2; obj++) {
        dp_leiden_options o;
        dp_leiden_options_default(&o);
        o.threshold = 0.3;
        o.objective = (dp_leiden_objective) obj;
        o.resolution = obj == 0 ? 0.5 : 1.0;
        o.n_consensus = 5;
        o.seed = 17;
        DP_ASSERT_OK(dp_leiden_cluster(S, p, p, &o, memb, &k, ep), ep);
        DP_ASSERT_EQ_INT(k, 4);
        for (int64_t i = 0; i < p; i++)
            DP_ASSERT_EQ_INT(memb[i], i / 10); /* canonical labels = the planted groups */
        DP_ASSERT_EQ_INT(dp__leiden_finally_stack_size(), 0);
        /* with kNN sparsification as well: top 8 of 9 group mates (CPM counts the dropped
         * edges as similarity 0, so a group's density must stay above the resolution) */
        o.topk = 8;
        DP_ASSERT_OK(dp_leiden_cluster(S, p, p, &o, memb, &k, ep), ep);
        DP_ASSERT_EQ_INT(k, 4);
        for (int64_t i = 0; i < p; i++)
            DP_ASSERT_EQ_INT(memb[i], i / 10);
    }
    /* CPM at resolution 1 on similarities <= 1 isolates every column (ORIGINAL.md W15). */
    dp_leiden_options o;
    dp_leiden_options_default(&o);
    o.threshold = 0.3;
    o.resolution = 1.0;
    DP_ASSERT_OK(dp_leiden_cluster(S, p, p, &o, memb, &k, ep), ep);
    DP_ASSERT_EQ_INT(k, p);
    free(S);
}

DP_TEST(leiden_same_seed_same_clusters) {
#if !DP_HAVE_IGRAPH
    DP_SKIP("built without igraph");
#endif
    /* A graph without clear structure, where runs do depend on the seed. */
    const int64_t p = 60;
    double *S = calloc((size_t) (p * p), sizeof(double));
    dp_rng r;
    dp_rng_seed(&r, 8);
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < j; i++)
            S[i + j * p] = S[j + i * p] = dp_rng_uniform(&r);
    dp_leiden_options o;
    dp_leiden_options_default(&o);
    o.threshold = 0.6;
    o.resolution = 0.7;
    o.n_consensus = 1;
    dp_error err, *ep = &err;
    int64_t a[60], b[60], k1, k2;
    int differs = 0;
    for (uint64_t seed = 1; seed <= 6; seed++) {
        o.seed = seed;
        DP_ASSERT_OK(dp_leiden_cluster(S, p, p, &o, a, &k1, ep), ep);
        DP_ASSERT_OK(dp_leiden_cluster(S, p, p, &o, b, &k2, ep), ep);
        DP_ASSERT_EQ_INT(k1, k2);
        DP_ASSERT_MEMEQ(a, b, sizeof a);
        if (seed > 1) {
            int64_t c[60], k3;
            o.seed = 1;
            DP_ASSERT_OK(dp_leiden_cluster(S, p, p, &o, c, &k3, ep), ep);
            differs += memcmp(a, c, sizeof a) != 0;
        }
    }
    /* the seed is actually used (not a test of quality, only that runs are seeded) */
    DP_ASSERT_TRUE(differs > 0);
    /* consensus over 7 runs is reproducible too */
    o.n_consensus = 7;
    o.seed = 3;
    DP_ASSERT_OK(dp_leiden_cluster(S, p, p, &o, a, &k1, ep), ep);
    DP_ASSERT_OK(dp_leiden_cluster(S, p, p, &o, b, &k2, ep), ep);
    DP_ASSERT_MEMEQ(a, b, sizeof a);
    free(S);
}

DP_TEST(leiden_igraph_error_becomes_dp_error) {
#if !DP_HAVE_IGRAPH
    DP_SKIP("built without igraph");
#endif
    dp_error err, *ep = &err;
    /* igraph's default handler would abort the process here */
    DP_ASSERT_STATUS(dp__leiden_provoke_igraph_error(ep), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "igraph");
    DP_ASSERT_CONTAINS(err.msg, "undirected");
    DP_ASSERT_EQ_INT(dp__leiden_finally_stack_size(), 0);
    /* an endpoint outside the graph is refused before igraph (which would add vertices) */
    int64_t edges[6] = {0, 1, 1, 2, 2, 7};
    double w[3] = {0.5, 0.5, 0.5};
    dp_leiden_graph gr = {3, 3, edges, w};
    dp_leiden_options o;
    dp_leiden_options_default(&o);
    int64_t memb[3], k;
    DP_ASSERT_STATUS(dp_leiden_run_graph(&gr, &o, memb, &k, ep), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "endpoint 7");
    /* the library still works afterwards, and errors of our own checks stay ours; the
     * triangle ties CPM quality between one community and singletons, on which igraph's
     * unbounded iteration (n_iterations < 0) cycles: ours is capped */
    edges[5] = 0;
    DP_ASSERT_OK(dp_leiden_run_graph(&gr, &o, memb, &k, ep), ep);
    DP_ASSERT_EQ_INT(dp__leiden_finally_stack_size(), 0);
    w[1] = NAN;
    DP_ASSERT_STATUS(dp_leiden_run_graph(&gr, &o, memb, &k, ep), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "weight");
    w[1] = 0.5;
    o.n_consensus = 0;
    DP_ASSERT_STATUS(dp_leiden_run_graph(&gr, &o, memb, &k, ep), DP_INVALID_ARG);
    DP_ASSERT_CONTAINS(err.msg, "--n-consensus");
    dp_leiden_options_default(&o);
    o.resolution = -1;
    DP_ASSERT_STATUS(dp_leiden_run_graph(&gr, &o, memb, &k, ep), DP_INVALID_ARG);
    DP_ASSERT_EQ_INT(dp__leiden_finally_stack_size(), 0);
}

DP_TEST(leiden_graph_threshold_and_knn_match_naive) {
    const int64_t p = 30;
    double *S = calloc((size_t) (p * p), sizeof(double));
    dp_rng r;
    dp_rng_seed(&r, 2);
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < j; i++) {
            /* quantised weights create ties in the kNN ranking */
            double s = floor(dp_rng_uniform(&r) * 20) / 20;
            if (dp_rng_uniform(&r) < 0.05)
                s = NAN;
            S[i + j * p] = S[j + i * p] = s;
        }
    dp_error err, *ep = &err;
    dp_leiden_graph gr;
    dp_leiden_graph_init(&gr);
    for (int topk = 0; topk <= 40; topk += (topk < 6 ? 1 : 17)) {
        DP_ASSERT_OK(dp_leiden_build_graph(S, p, p, 0.4, topk, &gr, ep), ep);
        /* naive: candidate edges; node i's rank of edge (i, j) = number of candidates of i that
         * beat it (greater weight, or equal weight and lower other index) */
        int64_t e = 0;
        for (int64_t i = 0; i < p; i++)
            for (int64_t j = i + 1; j < p; j++) {
                double s = S[i + j * p];
                if (!(s >= 0.4))
                    continue;
                bool keep = topk == 0 || topk >= p - 1;
                for (int side = 0; side < 2 && !keep; side++) {
                    int64_t a = side ? j : i, other = side ? i : j, rank = 0;
                    for (int64_t c = 0; c < p; c++) {
                        if (c == a || !(S[a + c * p] >= 0.4))
                            continue;
                        double sc = S[a + c * p];
                        rank += sc > s || (sc == s && c < other);
                    }
                    keep = rank < topk;
                }
                if (!keep)
                    continue;
                DP_ASSERT_TRUE(e < gr.n_edges);
                DP_ASSERT_EQ_INT(gr.edges[2 * e], i);
                DP_ASSERT_EQ_INT(gr.edges[2 * e + 1], j);
                DP_ASSERT_BITS_EQ(gr.weights[e], s);
                e++;
            }
        DP_ASSERT_EQ_INT(gr.n_edges, e);
    }
    dp_leiden_graph_reset(&gr);
    dp_leiden_graph_reset(&gr);
    DP_ASSERT_STATUS(dp_leiden_build_graph(S, p, p, NAN, 0, &gr, ep), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_leiden_build_graph(S, p, p, 0.5, -1, &gr, ep), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_leiden_build_graph(S, p - 1, p, 0.5, 0, &gr, ep), DP_INVALID_ARG);
    free(S);
}

DP_TEST(leiden_consensus_rule_and_canonical_labels) {
    dp_error err, *ep = &err;
    /* 3 runs over 5 nodes: (0,1) together in 2 runs, (1,2) in 2, (2,3) in 2, (3,4) in 1 */
    const int64_t runs[15] = {0, 0, 1, 1, 2, 5, 5, 5, 3, 3, 0, 1, 1, 1, 2};
    int64_t m[5], k;
    DP_ASSERT_OK(dp_leiden_consensus(runs, 3, 5, m, &k, ep), ep);
    DP_ASSERT_EQ_INT(k, 2);
    const int64_t expect[5] = {0, 0, 0, 0, 1};
    DP_ASSERT_MEMEQ(m, expect, sizeof m);
    /* one run: its own partition, relabelled canonically */
    DP_ASSERT_OK(dp_leiden_consensus(runs + 5, 1, 5, m, &k, ep), ep);
    const int64_t expect1[5] = {0, 0, 0, 1, 1};
    DP_ASSERT_EQ_INT(k, 2);
    DP_ASSERT_MEMEQ(m, expect1, sizeof m);
    /* even number of runs: a tie (2 of 4) is not a majority */
    const int64_t r4[8] = {0, 0, 0, 1, 0, 0, 0, 1};
    DP_ASSERT_OK(dp_leiden_consensus(r4, 4, 2, m, &k, ep), ep);
    DP_ASSERT_EQ_INT(k, 2);
    /* random partitions against a naive fixpoint */
    dp_rng r;
    dp_rng_seed(&r, 4);
    enum { N = 40, R = 5 };
    int64_t rr[R * N], got[N], naive[N];
    for (int x = 0; x < R * N; x++)
        rr[x] = (int64_t) dp_rng_below(&r, 4);
    DP_ASSERT_OK(dp_leiden_consensus(rr, R, N, got, &k, ep), ep);
    for (int i = 0; i < N; i++)
        naive[i] = i;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                int t = 0;
                for (int q = 0; q < R; q++)
                    t += rr[q * N + i] == rr[q * N + j];
                if (2 * t > R && naive[j] < naive[i]) {
                    naive[i] = naive[j];
                    changed = 1;
                }
            }
    }
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            DP_ASSERT_EQ_INT(got[i] == got[j], naive[i] == naive[j]);
    int64_t lab[6] = {7, 3, 7, 9, 3, 0};
    DP_ASSERT_EQ_INT(dp_leiden_canonical(lab, 6), 4);
    const int64_t elab[6] = {0, 1, 0, 2, 1, 3};
    DP_ASSERT_MEMEQ(lab, elab, sizeof lab);
}

DP_TEST(leiden_representatives_match_naive) {
    const int64_t p = 9;
    double S[81];
    dp_rng r;
    dp_rng_seed(&r, 6);
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i <= j; i++)
            S[i + j * p] = S[j + i * p] = i == j ? 1.0 : floor(dp_rng_uniform(&r) * 4) / 4;
    const int64_t memb[9] = {0, 1, 0, 2, 1, 0, 2, 1, 3};
    const int64_t miss[9] = {5, 0, 5, 1, 0, 2, 1, 7, 0};
    int64_t rep[4];
    dp_error err, *ep = &err;
    DP_ASSERT_OK(dp_leiden_representatives(S, p, p, memb, 4, miss, rep, ep), ep);
    for (int64_t c = 0; c < 4; c++) {
        int64_t best = -1;
        double bs = 0;
        for (int64_t i = 0; i < p; i++) {
            if (memb[i] != c)
                continue;
            double s = 0;
            int n = 0;
            for (int64_t j = 0; j < p; j++)
                if (j != i && memb[j] == c) {
                    s += S[i + j * p];
                    n++;
                }
            s = n ? s / n : -INFINITY;
            if (best < 0 || s > bs || (s == bs && miss[i] < miss[best])) {
                best = i;
                bs = s;
            }
        }
        DP_ASSERT_EQ_INT(rep[c], best);
    }
    DP_ASSERT_EQ_INT(rep[3], 8); /* singleton */
    /* exact ties: fewer missing wins, then the lower index */
    double T[9] = {1, 0.5, 0.5, 0.5, 1, 0.5, 0.5, 0.5, 1};
    const int64_t m3[3] = {0, 0, 0};
    const int64_t miss3[3] = {4, 2, 2};
    DP_ASSERT_OK(dp_leiden_representatives(T, 3, 3, m3, 1, miss3, rep, ep), ep);
    DP_ASSERT_EQ_INT(rep[0], 1);
    DP_ASSERT_OK(dp_leiden_representatives(T, 3, 3, m3, 1, NULL, rep, ep), ep);
    DP_ASSERT_EQ_INT(rep[0], 0);
    const int64_t bad[3] = {0, 1, 0};
    DP_ASSERT_STATUS(dp_leiden_representatives(T, 3, 3, bad, 1, NULL, rep, ep), DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_leiden_representatives(T, 3, 3, bad, 3, NULL, rep, ep), DP_INVALID_ARG);
}
