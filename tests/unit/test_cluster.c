/* Redundancy clustering (src/passes/dp_cluster): greedy stars, connected components and
 * partitions given by a membership vector, against naive re-implementations written here. */
#include "dp_test.h"
#include "passes/dp_cluster.h"
#include "util/dp_alloc.h"
#include "util/dp_rng.h"

static double *sym_matrix(int64_t p) {
    double *S = dp_calloc((size_t) (p * p), sizeof(double));
    DP_ASSERT_TRUE(S != NULL);
    for (int64_t i = 0; i < p; i++)
        S[i * p + i] = 1.0;
    return S;
}

static void set_sim(double *S, int64_t p, int64_t i, int64_t j, double v) {
    S[j * p + i] = v;
    S[i * p + j] = v;
}

static bool edge(const double *S, int64_t p, int64_t i, int64_t j, double t) {
    double v = S[j * p + i];
    return i != j && !isnan(v) && fabs(v) >= t;
}

/* Random similarity: planted groups (|r| ~ 0.85-1 inside), noise, some NaN, random signs. */
static double *random_sim(int64_t p, dp_rng *rng) {
    double *S = sym_matrix(p);
    int64_t *grp = dp_mallocarray((size_t) p, sizeof(int64_t));
    for (int64_t i = 0; i < p; i++)
        grp[i] = (int64_t) dp_rng_below(rng, (uint64_t) (p / 4));
    for (int64_t j = 0; j < p; j++)
        for (int64_t i = 0; i < j; i++) {
            double v = grp[i] == grp[j] ? 0.85 + 0.15 * dp_rng_uniform(rng)
                                        : 0.9 * dp_rng_uniform(rng) * dp_rng_uniform(rng);
            if (dp_rng_uniform(rng) < 0.5)
                v = -v;
            if (dp_rng_uniform(rng) < 0.02)
                v = NAN;
            set_sim(S, p, i, j, v);
        }
    dp_free(grp);
    return S;
}

/* Structure every result must have: a partition, rep first then ascending members, clusters in
 * ascending representative order, sim_to_rep = the matrix entry. */
static void check_layout(const dp_clusters *c, const double *S, int64_t p) {
    DP_ASSERT_EQ_INT(c->n_cols, p);
    DP_ASSERT_EQ_INT(c->start[0], 0);
    DP_ASSERT_EQ_INT(c->start[c->n_clusters], p);
    int64_t *seen = dp_calloc((size_t) p, sizeof(int64_t));
    for (int64_t k = 0; k < c->n_clusters; k++) {
        if (k > 0)
            DP_ASSERT_CMP_INT(c->rep[k - 1], <, c->rep[k]);
        DP_ASSERT_CMP_INT(c->start[k], <, c->start[k + 1]);
        DP_ASSERT_EQ_INT(c->member[c->start[k]], c->rep[k]);
        DP_ASSERT_BITS_EQ(c->sim_to_rep[c->start[k]], 1.0);
        for (int64_t e = c->start[k]; e < c->start[k + 1]; e++) {
            int64_t col = c->member[e];
            seen[col]++;
            DP_ASSERT_EQ_INT(c->membership[col], k);
            if (e > c->start[k] + 1)
                DP_ASSERT_CMP_INT(c->member[e - 1], <, col);
            if (e > c->start[k])
                DP_ASSERT_BITS_EQ(c->sim_to_rep[e], S[col * p + c->rep[k]]);
        }
    }
    for (int64_t i = 0; i < p; i++)
        DP_ASSERT_EQ_INT(seen[i], 1);
    dp_free(seen);
}

/* Naive greedy, recomputing degrees from scratch each round: rep[] per column. */
static void naive_greedy(const double *S, int64_t p, double t, const int64_t *miss, int64_t *rep) {
    for (int64_t i = 0; i < p; i++)
        rep[i] = -1;
    for (;;) {
        int64_t best = -1, bestdeg = -1;
        for (int64_t i = 0; i < p; i++) {
            if (rep[i] >= 0)
                continue;
            int64_t d = 0;
            for (int64_t j = 0; j < p; j++)
                d += rep[j] < 0 && edge(S, p, i, j, t);
            if (best < 0 || d > bestdeg || (d == bestdeg && miss[i] < miss[best])) {
                best = i;
                bestdeg = d;
            }
        }
        if (best < 0)
            return;
        for (int64_t j = 0; j < p; j++)
            if (rep[j] < 0 && (j == best || edge(S, p, best, j, t)))
                rep[j] = best;
    }
}

DP_TEST(cluster_greedy_guarantee_and_naive_agreement_on_random_matrices) {
    dp_rng rng;
    dp_rng_seed(&rng, 2024);
    dp_error err_, *err = &err_;
    for (int rep = 0; rep < 12; rep++) {
        int64_t p = 20 + (int64_t) dp_rng_below(&rng, 140);
        double *S = random_sim(p, &rng);
        int64_t *miss = dp_mallocarray((size_t) p, sizeof(int64_t));
        for (int64_t i = 0; i < p; i++)
            miss[i] = (int64_t) dp_rng_below(&rng, 3); /* few values: many ties */
        double t = rep % 3 == 0 ? 0.5 : (rep % 3 == 1 ? 0.8 : 0.95);
        dp_clusters c;
        dp_clusters_init(&c);
        DP_ASSERT_OK(dp_cluster_threshold(S, p, t, miss, DP_CLUSTER_GREEDY, &c, err), err);
        check_layout(&c, S, p);
        /* the guarantee: every member is linked to its representative */
        for (int64_t k = 0; k < c.n_clusters; k++)
            for (int64_t e = c.start[k] + 1; e < c.start[k + 1]; e++)
                DP_ASSERT_TRUE(fabs(c.sim_to_rep[e]) >= t);
        /* representatives form an independent set */
        for (int64_t a = 0; a < c.n_clusters; a++)
            for (int64_t b = a + 1; b < c.n_clusters; b++)
                DP_ASSERT_TRUE(!edge(S, p, c.rep[a], c.rep[b], t));
        /* and the whole partition equals the naive greedy */
        int64_t *nrep = dp_mallocarray((size_t) p, sizeof(int64_t));
        naive_greedy(S, p, t, miss, nrep);
        for (int64_t i = 0; i < p; i++)
            DP_ASSERT_EQ_INT(c.rep[c.membership[i]], nrep[i]);
        dp_free(nrep);
        dp_clusters_reset(&c);
        dp_clusters_reset(&c); /* twice is safe */
        dp_free(miss);
        dp_free(S);
    }
}

/* Components = connected components of the threshold graph (naive flood fill here). */
DP_TEST(cluster_components_equal_naive_flood_fill) {
    dp_rng rng;
    dp_rng_seed(&rng, 7);
    dp_error err_, *err = &err_;
    for (int rep = 0; rep < 8; rep++) {
        int64_t p = 10 + (int64_t) dp_rng_below(&rng, 120);
        double *S = random_sim(p, &rng);
        double t = 0.9;
        int64_t *comp = dp_mallocarray((size_t) p, sizeof(int64_t));
        int64_t *stack = dp_mallocarray((size_t) p, sizeof(int64_t));
        for (int64_t i = 0; i < p; i++)
            comp[i] = -1;
        int64_t nc = 0;
        for (int64_t s = 0; s < p; s++) {
            if (comp[s] >= 0)
                continue;
            int64_t top = 0;
            stack[top++] = s;
            comp[s] = nc;
            while (top > 0) {
                int64_t x = stack[--top];
                for (int64_t y = 0; y < p; y++)
                    if (comp[y] < 0 && edge(S, p, x, y, t)) {
                        comp[y] = nc;
                        stack[top++] = y;
                    }
            }
            nc++;
        }
        dp_clusters c;
        dp_clusters_init(&c);
        DP_ASSERT_OK(dp_cluster_threshold(S, p, t, NULL, DP_CLUSTER_COMPONENTS, &c, err), err);
        check_layout(&c, S, p);
        DP_ASSERT_EQ_INT(c.n_clusters, nc);
        for (int64_t i = 0; i < p; i++)
            for (int64_t j = 0; j < p; j++)
                DP_ASSERT_EQ_INT(c.membership[i] == c.membership[j], comp[i] == comp[j]);
        /* representative: most neighbours in its component, then lower index */
        for (int64_t k = 0; k < c.n_clusters; k++) {
            int64_t r = c.rep[k], dr = 0;
            for (int64_t y = 0; y < p; y++)
                dr += edge(S, p, r, y, t);
            for (int64_t e = c.start[k]; e < c.start[k + 1]; e++) {
                int64_t x = c.member[e], dx = 0;
                for (int64_t y = 0; y < p; y++)
                    dx += edge(S, p, x, y, t);
                DP_ASSERT_TRUE(dx < dr || (dx == dr && x >= r));
            }
        }
        dp_clusters_reset(&c);
        dp_free(comp), dp_free(stack), dp_free(S);
    }
}

/* The original's chaining example (ORIGINAL.md §2.4): A-B 0.98, B-C 0.97, A-C 0.8 at t = 0.95.
 * Both modes give one cluster {A, B, C} represented by B (B is linked to both). A 4-chain
 * A-B-C-D shows the difference: components chains all four (D-B = 0.5 < t), greedy stops. */
DP_TEST(cluster_chaining_example_components_vs_greedy) {
    dp_error err_, *err = &err_;
    double *S = sym_matrix(3);
    set_sim(S, 3, 0, 1, 0.98);
    set_sim(S, 3, 1, 2, 0.97);
    set_sim(S, 3, 0, 2, 0.8);
    dp_clusters c;
    dp_clusters_init(&c);
    for (int mode = 0; mode < 2; mode++) {
        DP_ASSERT_OK(dp_cluster_threshold(S, 3, 0.95, NULL, (dp_cluster_mode) mode, &c, err), err);
        DP_ASSERT_EQ_INT(c.n_clusters, 1);
        DP_ASSERT_EQ_INT(c.rep[0], 1);
        DP_ASSERT_EQ_INT(c.member[1], 0);
        DP_ASSERT_EQ_INT(c.member[2], 2);
        DP_ASSERT_NEAR(c.sim_to_rep[1], 0.98, 0);
        DP_ASSERT_NEAR(c.sim_to_rep[2], 0.97, 0);
    }
    dp_free(S);
    S = sym_matrix(4);
    for (int64_t i = 0; i < 4; i++)
        for (int64_t j = i + 1; j < 4; j++)
            set_sim(S, 4, i, j, 0.5);
    set_sim(S, 4, 0, 1, 0.98);
    set_sim(S, 4, 1, 2, 0.97);
    set_sim(S, 4, 2, 3, -0.96); /* sign does not matter */
    DP_ASSERT_OK(dp_cluster_threshold(S, 4, 0.95, NULL, DP_CLUSTER_COMPONENTS, &c, err), err);
    DP_ASSERT_EQ_INT(c.n_clusters, 1);
    DP_ASSERT_EQ_INT(c.rep[0], 1); /* B and C both have 2 neighbours; B has the lower index */
    DP_ASSERT_NEAR(c.sim_to_rep[3], 0.5, 0); /* D is in B's cluster at 0.5: the chaining */
    DP_ASSERT_OK(dp_cluster_threshold(S, 4, 0.95, NULL, DP_CLUSTER_GREEDY, &c, err), err);
    DP_ASSERT_EQ_INT(c.n_clusters, 2);
    DP_ASSERT_EQ_INT(c.rep[0], 1);
    DP_ASSERT_EQ_INT(c.start[1], 3); /* {B, A, C} */
    DP_ASSERT_EQ_INT(c.rep[1], 3);   /* {D} alone */
    /* fewer missing values make C the representative: {C, B, D} and {A} */
    int64_t miss[4] = {0, 5, 2, 0};
    DP_ASSERT_OK(dp_cluster_threshold(S, 4, 0.95, miss, DP_CLUSTER_GREEDY, &c, err), err);
    DP_ASSERT_EQ_INT(c.n_clusters, 2);
    DP_ASSERT_EQ_INT(c.rep[0], 0);
    DP_ASSERT_EQ_INT(c.rep[1], 2);
    DP_ASSERT_EQ_INT(c.membership[1], 1);
    DP_ASSERT_EQ_INT(c.membership[3], 1);
    DP_ASSERT_NEAR(c.sim_to_rep[c.start[1] + 2], -0.96, 0);
    dp_clusters_reset(&c);
    dp_free(S);
}

/* Ties: equal degree -> fewer missing -> lower index; NaN is never an edge. */
DP_TEST(cluster_ties_are_deterministic_and_nan_is_no_edge) {
    dp_error err_, *err = &err_;
    double *S = sym_matrix(6);
    set_sim(S, 6, 0, 1, 0.99);
    set_sim(S, 6, 2, 3, 0.99);
    set_sim(S, 6, 4, 5, NAN);
    int64_t miss[6] = {5, 3, 3, 7, 0, 0};
    dp_clusters c;
    dp_clusters_init(&c);
    DP_ASSERT_OK(dp_cluster_threshold(S, 6, 0.9, miss, DP_CLUSTER_GREEDY, &c, err), err);
    DP_ASSERT_EQ_INT(c.n_clusters, 4);
    DP_ASSERT_EQ_INT(c.rep[0], 1); /* {0,1}: 1 has fewer missing */
    DP_ASSERT_EQ_INT(c.rep[1], 2); /* {2,3}: 2 has fewer missing */
    DP_ASSERT_EQ_INT(c.rep[2], 4); /* 4 and 5 are singletons: NaN is not an edge */
    DP_ASSERT_EQ_INT(c.rep[3], 5);
    /* equal missing counts: lower index */
    DP_ASSERT_OK(dp_cluster_threshold(S, 6, 0.9, NULL, DP_CLUSTER_COMPONENTS, &c, err), err);
    DP_ASSERT_EQ_INT(c.rep[0], 0);
    DP_ASSERT_EQ_INT(c.rep[1], 2);
    /* the same input twice gives the same output */
    dp_clusters d;
    dp_clusters_init(&d);
    DP_ASSERT_OK(dp_cluster_threshold(S, 6, 0.9, NULL, DP_CLUSTER_COMPONENTS, &d, err), err);
    DP_ASSERT_MEMEQ(c.membership, d.membership, 6 * sizeof(int64_t));
    DP_ASSERT_STATUS(dp_cluster_threshold(S, 6, NAN, NULL, DP_CLUSTER_GREEDY, &d, err),
                     DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_cluster_threshold(S, 0, 0.9, NULL, DP_CLUSTER_GREEDY, &d, err),
                     DP_INVALID_ARG);
    DP_ASSERT_STATUS(dp_cluster_threshold(S, 6, 0.9, NULL, (dp_cluster_mode) 7, &d, err),
                     DP_INVALID_ARG);
    DP_ASSERT_TRUE(d.membership == NULL);
    dp_clusters_reset(&c);
    dp_clusters_reset(&d);
    dp_free(S);
}

/* A partition from outside (Leiden): representative = highest mean |sim| to the other members,
 * NaN counted as 0, ties fewer missing then lower index. Labels may be any int64 values. */
DP_TEST(cluster_from_membership_picks_highest_mean_similarity) {
    dp_error err_, *err = &err_;
    const int64_t p = 7;
    double *S = sym_matrix(p);
    /* cluster X = {0, 2, 5}: means 0 -> (0.6+0.7)/2, 2 -> (0.6+0.9)/2, 5 -> (0.7+0.9)/2 */
    set_sim(S, p, 0, 2, 0.6);
    set_sim(S, p, 0, 5, -0.7);
    set_sim(S, p, 2, 5, 0.9);
    /* cluster Y = {1, 3, 4}: 1-3 NaN, 1-4 0.5, 3-4 0.5 -> means 0.25, 0.25, 0.5 */
    set_sim(S, p, 1, 3, NAN);
    set_sim(S, p, 1, 4, 0.5);
    set_sim(S, p, 3, 4, 0.5);
    int64_t memb[7] = {-9, 1000, -9, 1000, 1000, -9, 42};
    dp_clusters c;
    dp_clusters_init(&c);
    DP_ASSERT_OK(dp_cluster_from_membership(S, p, memb, NULL, &c, err), err);
    check_layout(&c, S, p);
    DP_ASSERT_EQ_INT(c.n_clusters, 3);
    DP_ASSERT_EQ_INT(c.rep[0], 4); /* Y */
    DP_ASSERT_EQ_INT(c.rep[1], 5); /* X: mean 0.8 */
    DP_ASSERT_EQ_INT(c.rep[2], 6); /* singleton */
    DP_ASSERT_NEAR(c.sim_to_rep[c.start[1] + 1], -0.7, 0);
    /* a tie in Y between 1 and 3 after making 4 weak: fewer missing wins, then lower index */
    set_sim(S, p, 1, 4, 0.2);
    set_sim(S, p, 3, 4, 0.2);
    set_sim(S, p, 1, 3, 0.9); /* means: 1 -> 0.55, 3 -> 0.55, 4 -> 0.2 */
    int64_t miss[7] = {0, 4, 0, 2, 0, 0, 0};
    DP_ASSERT_OK(dp_cluster_from_membership(S, p, memb, miss, &c, err), err);
    DP_ASSERT_EQ_INT(c.rep[0], 3);
    DP_ASSERT_OK(dp_cluster_from_membership(S, p, memb, NULL, &c, err), err);
    DP_ASSERT_EQ_INT(c.rep[0], 1);
    dp_clusters_reset(&c);
    dp_free(S);
}
