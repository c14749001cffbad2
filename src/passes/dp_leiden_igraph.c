/* Leiden through igraph 0.10 (compiled only with DP_HAVE_IGRAPH). The only file of dpipe that
 * includes igraph.h. igraph's default error handler aborts; every entry point here installs
 * dp__ig_error_handler (copy the message, IGRAPH_FINALLY_FREE(), return) and restores the
 * previous handler before returning. */
#include "passes/dp_leiden.h"
#include "util/dp_alloc.h"
#include "util/dp_checksum.h"
#include "util/dp_log.h"

#include <igraph.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Cap on Leiden iterations when asked to iterate until stable (n_iterations < 0). */
#define DP__LEIDEN_MAX_ITER 100

/* Process-global, as igraph's own handler state is (see dp_leiden.h on thread safety). */
static char dp__ig_msg[512];
static bool dp__ig_has_msg;
static igraph_error_t dp__ig_errno;

static void dp__ig_error_handler(const char *reason, const char *file, int line,
                                 igraph_error_t igraph_errno) {
    /* igraph 0.10 calls the handler again at every IGRAPH_CHECK level on the way out, with an
     * empty reason: keep the first, informative one. The reason buffer may die in
     * IGRAPH_FINALLY_FREE, so copy before freeing. */
    if (!dp__ig_has_msg) {
        snprintf(dp__ig_msg, sizeof dp__ig_msg, "%s (%s, igraph %s:%d)",
                 reason != NULL && reason[0] ? reason : "error", igraph_strerror(igraph_errno),
                 file != NULL ? file : "?", line);
        dp__ig_errno = igraph_errno;
        dp__ig_has_msg = true;
    }
    IGRAPH_FINALLY_FREE();
}

static void dp__ig_warning_handler(const char *reason, const char *file, int line) {
    dp_log_verbose("igraph warning: %s (%s:%d)", reason, file, line);
}

static dp_status dp__ig_status(igraph_error_t e, const char *what, dp_error *err) {
    dp_status st;
    switch (e) {
    case IGRAPH_ENOMEM:
        st = DP_NOMEM;
        break;
    case IGRAPH_EINVAL:
    case IGRAPH_EINVVID:
        st = DP_INVALID_ARG;
        break;
    default:
        st = DP_BACKEND;
        break;
    }
    return dp_error_set(err, st, "igraph %s failed: %s", what,
                        dp__ig_has_msg ? dp__ig_msg : igraph_strerror(e));
}

int dp__leiden_finally_stack_size(void) {
    return IGRAPH_FINALLY_STACK_SIZE();
}

dp_status dp__leiden_provoke_igraph_error(dp_error *err) {
    /* Leiden on a directed graph: igraph reports "only implemented for undirected graphs"
     * through the error handler; everything must come back as a dp_status. */
    dp_status st = DP_OK;
    igraph_t graph;
    igraph_vector_int_t edges, memb;
    bool have_graph = false, have_edges = false, have_memb = false;
    igraph_error_t e;
    igraph_error_handler_t *old_handler = igraph_set_error_handler(dp__ig_error_handler);
    dp__ig_has_msg = false;
    dp__ig_msg[0] = '\0';
    if ((e = igraph_vector_int_init(&edges, 2)) != IGRAPH_SUCCESS) {
        st = dp__ig_status(e, "vector", err);
        goto cleanup;
    }
    have_edges = true;
    VECTOR(edges)[0] = 0;
    VECTOR(edges)[1] = 1;
    if ((e = igraph_create(&graph, &edges, 2, IGRAPH_DIRECTED)) != IGRAPH_SUCCESS) {
        st = dp__ig_status(e, "graph construction", err);
        goto cleanup;
    }
    have_graph = true;
    if ((e = igraph_vector_int_init(&memb, 2)) != IGRAPH_SUCCESS) {
        st = dp__ig_status(e, "vector", err);
        goto cleanup;
    }
    have_memb = true;
    e = igraph_community_leiden(&graph, NULL, NULL, 1.0, 0.01, false, 1, &memb, NULL, NULL);
    st = e == IGRAPH_SUCCESS ? DP_OK : dp__ig_status(e, "community_leiden", err);
cleanup:
    if (have_memb)
        igraph_vector_int_destroy(&memb);
    if (have_graph)
        igraph_destroy(&graph);
    if (have_edges)
        igraph_vector_int_destroy(&edges);
    igraph_set_error_handler(old_handler);
    return st;
}

static dp_status dp__check_options(const dp_leiden_options *o, dp_error *err) {
    if (o->objective != DP_LEIDEN_CPM && o->objective != DP_LEIDEN_MODULARITY)
        return dp_error_set(err, DP_INVALID_ARG, "--leiden-objective: unknown value %d",
                            (int) o->objective);
    if (!(o->resolution >= 0) || !isfinite(o->resolution))
        return dp_error_set(err, DP_INVALID_ARG, "--leiden-resolution %g must be finite and >= 0",
                            o->resolution);
    if (!(o->beta > 0) || !isfinite(o->beta))
        return dp_error_set(err, DP_INVALID_ARG, "Leiden beta %g must be finite and > 0", o->beta);
    if (o->n_consensus < 1 || o->n_consensus > 10000)
        return dp_error_set(err, DP_INVALID_ARG, "--n-consensus %d must be in [1, 10000]",
                            (int) o->n_consensus);
    return DP_OK;
}

dp_status dp_leiden_run_graph(const dp_leiden_graph *gr, const dp_leiden_options *opt,
                              int64_t *membership, int64_t *n_clusters, dp_error *err) {
    dp_status st = DP_OK;
    dp_leiden_options defaults;
    igraph_t graph;
    igraph_vector_int_t edges, memb;
    igraph_vector_t weights, node_w;
    bool have_graph = false, have_edges = false, have_memb = false, have_w = false, have_nw = false;
    int64_t *runs = NULL, *prev = NULL;
    igraph_error_t e;
    igraph_error_handler_t *old_handler = igraph_set_error_handler(dp__ig_error_handler);
    igraph_warning_handler_t *old_warning = igraph_set_warning_handler(dp__ig_warning_handler);
    dp__ig_has_msg = false;
    dp__ig_msg[0] = '\0';
    if (opt == NULL) {
        dp_leiden_options_default(&defaults);
        opt = &defaults;
    }
    DP_CHECK(dp__check_options(opt, err));
    const int64_t n = gr->n_nodes, E = gr->n_edges;
    if (n < 0 || E < 0 || (E > 0 && (gr->edges == NULL || gr->weights == NULL)))
        DP_FAIL(err, DP_INVALID_ARG, "Leiden: graph with %lld nodes and %lld edges", (long long) n,
                (long long) E);
    if (n > ((int64_t) 1 << 40) || E > ((int64_t) 1 << 40))
        DP_FAIL(err, DP_LIMIT, "Leiden: %lld nodes / %lld edges exceed igraph's range",
                (long long) n, (long long) E);
    /* igraph_create silently adds vertices for endpoints >= n: refuse them here. */
    for (int64_t x = 0; x < 2 * E; x++)
        if (gr->edges[x] < 0 || gr->edges[x] >= n)
            DP_FAIL(err, DP_INVALID_ARG, "Leiden: edge %lld has endpoint %lld outside [0, %lld)",
                    (long long) (x / 2), (long long) gr->edges[x], (long long) n);
    double total_w = 0;
    for (int64_t x = 0; x < E; x++) {
        if (!isfinite(gr->weights[x]) || gr->weights[x] < 0)
            DP_FAIL(err, DP_INVALID_ARG, "Leiden: edge %lld has weight %g (must be finite, >= 0)",
                    (long long) x, gr->weights[x]);
        total_w += gr->weights[x];
    }
    if (n == 0) {
        *n_clusters = 0;
        goto cleanup;
    }
    if ((e = igraph_vector_int_init(&edges, 2 * E)) != IGRAPH_SUCCESS) {
        st = dp__ig_status(e, "vector", err);
        goto cleanup;
    }
    have_edges = true;
    for (int64_t x = 0; x < 2 * E; x++)
        VECTOR(edges)[x] = (igraph_integer_t) gr->edges[x];
    if ((e = igraph_create(&graph, &edges, (igraph_integer_t) n, IGRAPH_UNDIRECTED)) !=
        IGRAPH_SUCCESS) {
        st = dp__ig_status(e, "graph construction", err);
        goto cleanup;
    }
    have_graph = true;
    if (E == 0 || total_w <= 0) {
        /* No (weighted) edge: every column is its own cluster; modularity's 1/(2W) is undefined
         * and CPM's optimum is the singletons anyway. */
        for (int64_t i = 0; i < n; i++)
            membership[i] = i;
        *n_clusters = n;
        goto cleanup;
    }
    if ((e = igraph_vector_init(&weights, E)) != IGRAPH_SUCCESS) {
        st = dp__ig_status(e, "vector", err);
        goto cleanup;
    }
    have_w = true;
    for (int64_t x = 0; x < E; x++)
        VECTOR(weights)[x] = gr->weights[x];
    double gamma = opt->resolution;
    if (opt->objective == DP_LEIDEN_MODULARITY) {
        if ((e = igraph_vector_init(&node_w, n)) != IGRAPH_SUCCESS) {
            st = dp__ig_status(e, "vector", err);
            goto cleanup;
        }
        have_nw = true;
        if ((e = igraph_strength(&graph, &node_w, igraph_vss_all(), IGRAPH_ALL, IGRAPH_LOOPS,
                                 &weights)) != IGRAPH_SUCCESS) {
            st = dp__ig_status(e, "strength", err);
            goto cleanup;
        }
        gamma = opt->resolution / (2.0 * total_w);
    }
    if ((e = igraph_vector_int_init(&memb, n)) != IGRAPH_SUCCESS) {
        st = dp__ig_status(e, "vector", err);
        goto cleanup;
    }
    have_memb = true;
    runs = dp_mallocarray((size_t) opt->n_consensus * (size_t) n, sizeof(int64_t));
    prev = dp_mallocarray((size_t) n, sizeof(int64_t));
    if (runs == NULL || prev == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory for %d Leiden runs over %lld columns",
                (int) opt->n_consensus, (long long) n);
    for (int32_t r = 0; r < opt->n_consensus; r++) {
        igraph_uint_t seed = (igraph_uint_t) dp_hash64_combine(opt->seed, (uint64_t) r);
        if ((e = igraph_rng_seed(igraph_rng_default(), seed)) != IGRAPH_SUCCESS) {
            st = dp__ig_status(e, "rng seed", err);
            goto cleanup;
        }
        igraph_integer_t nb = 0;
        igraph_real_t quality = 0;
        int32_t iters = 0;
        if (opt->n_iterations >= 0) {
            e = igraph_community_leiden(&graph, &weights, have_nw ? &node_w : NULL, gamma,
                                        opt->beta, false, (igraph_integer_t) opt->n_iterations,
                                        &memb, &nb, &quality);
            if (e != IGRAPH_SUCCESS) {
                st = dp__ig_status(e, "community_leiden", err);
                goto cleanup;
            }
            iters = opt->n_iterations;
        } else {
            /* "Until an iteration changes nothing", but bounded: igraph's own n_iterations < 0
             * loops forever when zero-gain moves alternate (a triangle whose CPM quality ties
             * between one community and singletons does). */
            for (iters = 0; iters < DP__LEIDEN_MAX_ITER; iters++) {
                for (int64_t i = 0; i < n; i++)
                    prev[i] = iters == 0 ? -1 : (int64_t) VECTOR(memb)[i];
                e = igraph_community_leiden(&graph, &weights, have_nw ? &node_w : NULL, gamma,
                                            opt->beta, iters > 0, 1, &memb, &nb, &quality);
                if (e != IGRAPH_SUCCESS) {
                    st = dp__ig_status(e, "community_leiden", err);
                    goto cleanup;
                }
                bool same = iters > 0;
                for (int64_t i = 0; same && i < n; i++)
                    same = prev[i] == (int64_t) VECTOR(memb)[i];
                if (same)
                    break;
            }
        }
        dp_log_debug("leiden run %d: %lld clusters, quality %.6g, %d iterations", (int) r,
                     (long long) nb, (double) quality, (int) iters);
        for (int64_t i = 0; i < n; i++)
            runs[(int64_t) r * n + i] = (int64_t) VECTOR(memb)[i];
        dp_log_debug("leiden run %d: %lld clusters, quality %.6g", (int) r, (long long) nb,
                     (double) quality);
    }
    DP_CHECK(dp_leiden_consensus(runs, opt->n_consensus, n, membership, n_clusters, err));
cleanup:
    if (have_memb)
        igraph_vector_int_destroy(&memb);
    if (have_nw)
        igraph_vector_destroy(&node_w);
    if (have_w)
        igraph_vector_destroy(&weights);
    if (have_graph)
        igraph_destroy(&graph);
    if (have_edges)
        igraph_vector_int_destroy(&edges);
    dp_free(runs);
    dp_free(prev);
    igraph_set_warning_handler(old_warning);
    igraph_set_error_handler(old_handler);
    return st;
}
