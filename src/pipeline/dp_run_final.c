/* JSON outputs of passes 2-4 and the final alternatives map. */
#include "pipeline/dp_run_final.h"
#include "pipeline/dp_outputs.h"
#include "transform/dp_nlfeatures.h"
#include "util/dp_alloc.h"
#include "util/dp_json.h"
#include "util/dp_jsonw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static dp_status dp__finish(dp_jw *w, dp_buf *b, const char *path, dp_error *err) {
    dp_status st = dp_jw_finish(w, err);
    if (st == DP_OK)
        st = dp__write_file(path, b->data, b->size, NULL, err);
    dp_buf_reset(b);
    return st;
}

/* "clusters" array (multi-member clusters) and "removed" map of a clustering. */
static void dp__clusters_body(dp_jw *w, const char *const *names, const dp_clusters *cl) {
    int64_t multi = 0;
    for (int64_t c = 0; c < cl->n_clusters; c++)
        multi += cl->start[c + 1] - cl->start[c] > 1;
    dp_jw_kv_int(w, "n_clusters", multi);
    dp_jw_key(w, "clusters");
    dp_jw_array_begin(w);
    for (int64_t c = 0; c < cl->n_clusters; c++) {
        if (cl->start[c + 1] - cl->start[c] < 2)
            continue;
        dp_jw_object_begin(w);
        dp_jw_kv_string(w, "representative", names[cl->rep[c]]);
        dp_jw_key(w, "members");
        dp_jw_array_begin(w);
        for (int64_t k = cl->start[c] + 1; k < cl->start[c + 1]; k++) {
            dp_jw_object_begin(w);
            dp_jw_kv_string(w, "name", names[cl->member[k]]);
            dp_jw_kv_number(w, "similarity", cl->sim_to_rep[k]);
            dp_jw_object_end(w);
        }
        dp_jw_array_end(w);
        dp_jw_object_end(w);
    }
    dp_jw_array_end(w);
    dp_jw_key(w, "removed");
    dp_jw_object_begin(w);
    for (int64_t c = 0; c < cl->n_clusters; c++)
        for (int64_t k = cl->start[c] + 1; k < cl->start[c + 1]; k++)
            dp_jw_kv_string(w, names[cl->member[k]], names[cl->rep[c]]);
    dp_jw_object_end(w);
}

dp_status dp__write_cluster_json(const dp_config *cfg, const char *path, const char *pass,
                                 const char *method, double threshold, const char *const *names,
                                 int64_t n, const dp_clusters *cl, dp_error *err) {
    dp_buf b;
    dp_buf_init(&b);
    dp_jw w;
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_string(&w, "pass", pass);
    dp_jw_kv_string(&w, "method", method);
    dp_jw_kv_number(&w, "threshold", threshold);
    dp_jw_kv_string(&w, "cluster", dp_config_text(cfg, "cluster"));
    dp_jw_kv_int(&w, "n_columns", n);
    if (n > 0) {
        dp__clusters_body(&w, names, cl);
    } else {
        dp_jw_kv_int(&w, "n_clusters", 0);
        dp_jw_key(&w, "clusters");
        dp_jw_array_begin(&w);
        dp_jw_array_end(&w);
        dp_jw_key(&w, "removed");
        dp_jw_object_begin(&w);
        dp_jw_object_end(&w);
    }
    dp_jw_object_end(&w);
    return dp__finish(&w, &b, path, err);
}

dp_status dp__write_cluster_survivors(const char *path, const char *const *names, int64_t n,
                                      const dp_clusters *cl, dp_error *err) {
    const char **v = dp_calloc((size_t) (n > 0 ? n : 1), sizeof *v);
    if (v == NULL)
        return dp_error_set(err, DP_NOMEM, "out of memory");
    int64_t m = 0;
    if (n > 0)
        for (int64_t c = 0; c < cl->n_clusters; c++)
            v[m++] = names[cl->rep[c]];
    dp_status st = dp__write_lines(path, v, m, NULL, err);
    dp_free(v);
    return st;
}

static const char *dp__vif_reason(uint8_t r) {
    switch (r) {
    case DP_VIF_UNDEFINED:
        return "undefined";
    case DP_VIF_COLLINEAR:
        return "collinear";
    case DP_VIF_INDEFINITE:
        return "indefinite";
    case DP_VIF_THRESHOLD:
        return "threshold";
    }
    return "?";
}

dp_status dp__write_vif_json(const char *path, double threshold, const char *const *names,
                             int64_t n, const dp_vif_result *vr, double min_eig, bool projected,
                             dp_error *err) {
    dp_buf b;
    dp_buf_init(&b);
    dp_jw w;
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_string(&w, "pass", "pass 3");
    dp_jw_kv_number(&w, "threshold", threshold);
    dp_jw_kv_int(&w, "n_columns", n);
    dp_jw_kv_number(&w, "min_eigenvalue", min_eig);
    dp_jw_kv_bool(&w, "projected_to_psd", projected);
    dp_jw_key(&w, "removed");
    dp_jw_array_begin(&w);
    for (int64_t k = 0; vr != NULL && k < vr->n_removed; k++) {
        dp_jw_object_begin(&w);
        dp_jw_kv_string(&w, "name", names[vr->order[k]]);
        dp_jw_kv_int(&w, "order", k + 1);
        dp_jw_kv_string(&w, "reason", dp__vif_reason(vr->reason[k]));
        /* VIF: a number, "inf" for collinear columns, null when undefined. */
        if (isinf(vr->vif_removed[k]))
            dp_jw_kv_string(&w, "vif", "inf");
        else
            dp_jw_kv_number(&w, "vif", vr->vif_removed[k]);
        dp_jw_key(&w, "heir");
        if (vr->heir[k] >= 0)
            dp_jw_string(&w, names[vr->heir[k]]);
        else
            dp_jw_null(&w);
        /* R^2 drop of the heir for threshold removals, |r| with it otherwise. */
        dp_jw_kv_string(&w, "heir_link",
                        vr->reason[k] == DP_VIF_THRESHOLD ? "r2_drop" : "abs_correlation");
        dp_jw_kv_number(&w, "heir_score", vr->heir_score[k]);
        dp_jw_object_end(&w);
    }
    dp_jw_array_end(&w);
    dp_jw_key(&w, "vif");
    dp_jw_object_begin(&w);
    for (int64_t k = 0; vr != NULL && k < n; k++)
        if (vr->kept[k])
            dp_jw_kv_number(&w, names[k], vr->vif[k]);
    dp_jw_object_end(&w);
    /* Largest VIF before every threshold removal (the last entry: after the last). */
    dp_jw_key(&w, "max_vif_by_step");
    dp_jw_array_begin(&w);
    for (int64_t s = 0; vr != NULL && s < vr->n_steps; s++) {
        double mx = -INFINITY;
        for (int64_t j = 0; j < vr->p; j++) {
            double v = vr->step_vif[s * vr->p + j];
            if (!isnan(v) && v > mx)
                mx = v;
        }
        dp_jw_number(&w, mx);
    }
    dp_jw_array_end(&w);
    dp_jw_kv_int(&w, "refactorisations", vr != NULL ? vr->n_refactor : 0);
    dp_jw_object_end(&w);
    return dp__finish(&w, &b, path, err);
}

static void dp__null(dp_jw *w, const char *key, const dp_nonlinear_null *z) {
    dp_jw_key(w, key);
    dp_jw_object_begin(w);
    dp_jw_kv_int(w, "samples", z->n_samples);
    dp_jw_kv_number(w, "mean", z->mean);
    dp_jw_kv_number(w, "sd", z->sd);
    dp_jw_kv_number(w, "q95", z->q95);
    dp_jw_kv_number(w, "max", z->max);
    dp_jw_object_end(w);
}

dp_status dp__write_nonlinear_json(const dp_config *cfg, const char *path, const char *const *names,
                                   int64_t n, const dp_nonlinear_result *res, int64_t rows_used,
                                   double threshold, const dp_clusters *cl, dp_error *err) {
    dp_buf b;
    dp_buf_init(&b);
    dp_jw w;
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_string(&w, "pass", "pass 4");
    dp_jw_kv_number(&w, "threshold", threshold);
    dp_jw_kv_string(&w, "hsic_estimator", dp_config_text(cfg, "hsic-estimator"));
    if (strcmp(dp_config_text(cfg, "hsic-estimator"), "sketch") == 0) {
        /* The sizes the estimate's error depends on (defaults as dp_featgram_config_set_hsic). */
        dp_jw_key(&w, "sketch");
        dp_jw_object_begin(&w);
        dp_jw_kv_int(&w, "D",
                     dp_config_is_set(cfg, "hsic-D") ? dp_config_int(cfg, "hsic-D")
                                                     : DP_SKETCH_D_DEFAULT);
        dp_jw_kv_int(&w, "m", dp_config_int(cfg, "m"));
        dp_jw_kv_int(&w, "r", dp_config_int(cfg, "r"));
        dp_jw_object_end(&w);
    }
    dp_jw_key(&w, "weights");
    dp_jw_object_begin(&w);
    double wh = dp_config_double(cfg, "w-hsic"), wr = dp_config_double(cfg, "w-rdc");
    dp_jw_kv_number(&w, "hsic", wh / (wh + wr));
    dp_jw_kv_number(&w, "rdc", wr / (wh + wr));
    dp_jw_object_end(&w);
    dp_jw_kv_int(&w, "rows_used", rows_used);
    dp_jw_kv_int(&w, "n_columns", n);
    if (res != NULL) {
        dp_jw_key(&w, "null_level");
        dp_jw_object_begin(&w);
        dp__null(&w, "hsic", &res->null_hsic);
        dp__null(&w, "rdc", &res->null_rdc);
        dp__null(&w, "combined", &res->null_sim);
        dp_jw_object_end(&w);
        dp_jw_kv_bool(&w, "threshold_below_3x_null", threshold < 3 * res->null_sim.mean);
    }
    if (n > 0) {
        dp__clusters_body(&w, names, cl);
    } else {
        dp_jw_kv_int(&w, "n_clusters", 0);
        dp_jw_key(&w, "clusters");
        dp_jw_array_begin(&w);
        dp_jw_array_end(&w);
        dp_jw_key(&w, "removed");
        dp_jw_object_begin(&w);
        dp_jw_object_end(&w);
    }
    dp_jw_object_end(&w);
    return dp__finish(&w, &b, path, err);
}

/* ---- final ------------------------------------------------------------------------------- */

/* A removal: who removed `name` in favour of what. */
typedef struct {
    const char *name;
    int pass;
    const char *link;   /* "representative", "heir", ... */
    const char *target; /* NULL: no heir */
    double similarity;
    const char *reason;
} dp__rm;

typedef struct {
    dp__rm *v;
    int64_t n, cap;
} dp__rms;

static dp_status dp__rm_add(dp__rms *r, dp__rm x, dp_error *err) {
    if (r->n == r->cap) {
        int64_t nc = r->cap ? r->cap * 2 : 64;
        dp__rm *nv = dp_reallocarray(r->v, (size_t) nc, sizeof *nv);
        if (nv == NULL)
            return dp_error_set(err, DP_NOMEM, "out of memory");
        r->v = nv;
        r->cap = nc;
    }
    r->v[r->n++] = x;
    return DP_OK;
}

static const dp__rm *dp__rm_find(const dp__rms *r, const char *name) {
    for (int64_t i = 0; i < r->n; i++)
        if (strcmp(r->v[i].name, name) == 0)
            return &r->v[i];
    return NULL;
}

static dp_status dp__load_json(const char *dir, const char *name, dp_json **j, dp_error *err) {
    char path[4096];
    return dp_json_parse_file(dp__path_join(path, sizeof path, dir, name), (size_t) 1 << 32, j,
                              err);
}

/* Pass 2 and 4 removal maps: removed -> representative, similarity from the clusters list. */
static dp_status dp__add_cluster_removals(dp__rms *rms, const dp_json *j, int pass, dp_error *err) {
    const dp_json *cl = dp_json_get(j, "clusters");
    for (size_t c = 0; cl != NULL && c < cl->n; c++) {
        const char *rep = dp_json_string(dp_json_get(&cl->items[c], "representative"));
        const dp_json *mem = dp_json_get(&cl->items[c], "members");
        for (size_t k = 0; mem != NULL && k < mem->n; k++) {
            dp__rm x = {dp_json_string(dp_json_get(&mem->items[k], "name")),
                        pass,
                        "representative",
                        rep,
                        dp_json_number(dp_json_get(&mem->items[k], "similarity")),
                        NULL};
            DP_TRY(dp__rm_add(rms, x, err));
        }
    }
    return DP_OK;
}

dp_status dp__write_final(const dp_config *cfg, const dp__final_inputs *fi, dp_error *err) {
    dp_status st = DP_OK;
    dp_json *j2 = NULL, *j3 = NULL, *j4 = NULL;
    dp_buf tsv, b;
    dp_buf_init(&tsv);
    dp_buf_init(&b);
    dp__rms rms = {0};
    char path[4096];
    (void) cfg;
    /* Pass 1 removals, from the statistics table (name, kept, reason ...). */
    DP_CHECK(dp__read_file(dp__path_join(path, sizeof path, fi->dir, "pass1_statistics.tsv"),
                           (size_t) 1 << 32, &tsv, err));
    DP_CHECK(dp_buf_append_u8(&tsv, 0));
    for (char *line = strchr((char *) tsv.data, '\n'); line != NULL && line[1];) {
        char *s = line + 1;
        char *nl = strchr(s, '\n');
        if (nl != NULL)
            *nl = '\0';
        char *t1 = strchr(s, '\t');
        char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        char *t3 = t2 ? strchr(t2 + 1, '\t') : NULL;
        if (t1 != NULL && t2 != NULL) {
            *t1 = '\0';
            *t2 = '\0';
            if (t3 != NULL)
                *t3 = '\0';
            if (strcmp(t1 + 1, "no") == 0) {
                dp__rm x = {s, 1, "filter", NULL, NAN, t2 + 1};
                DP_CHECK(dp__rm_add(&rms, x, err));
            }
        }
        line = nl;
    }
    DP_CHECK(dp__load_json(fi->dir, "pass2_clusters.json", &j2, err));
    DP_CHECK(dp__add_cluster_removals(&rms, j2, 2, err));
    DP_CHECK(dp__load_json(fi->dir, "pass3_vif.json", &j3, err));
    const dp_json *rem3 = dp_json_get(j3, "removed");
    for (size_t k = 0; rem3 != NULL && k < rem3->n; k++) {
        const dp_json *e = &rem3->items[k];
        dp__rm x = {dp_json_string(dp_json_get(e, "name")),
                    3,
                    "heir",
                    dp_json_string(dp_json_get(e, "heir")),
                    dp_json_number(dp_json_get(e, "heir_score")),
                    dp_json_string(dp_json_get(e, "reason"))};
        DP_CHECK(dp__rm_add(&rms, x, err));
    }
    DP_CHECK(dp__load_json(fi->dir, "pass4_nonlinear.json", &j4, err));
    DP_CHECK(dp__add_cluster_removals(&rms, j4, 4, err));

    /* clusters.json: every final descriptor with what it stands for (chains followed), and the
     * removed descriptors that stand for nothing (pass-1 removals, VIF removals without heir). */
    dp_jw w;
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_string(&w, "format", "dpipe-clusters/1");
    dp_jw_kv_int(&w, "removed_total", rms.n);
    /* Owner of each removal: follow links while the target was itself removed later. */
    const char **owner = dp_calloc((size_t) (rms.n > 0 ? rms.n : 1), sizeof *owner);
    if (owner == NULL)
        DP_FAIL(err, DP_NOMEM, "out of memory");
    for (int64_t i = 0; i < rms.n; i++) {
        const char *t = rms.v[i].target;
        int hops = 0;
        while (t != NULL && hops++ < 8) {
            const dp__rm *next = dp__rm_find(&rms, t);
            if (next == NULL)
                break;
            t = next->target;
        }
        owner[i] = t;
    }
    dp_jw_key(&w, "descriptors");
    dp_jw_object_begin(&w);
    dp_buf fb;
    dp_buf_init(&fb);
    st = dp__read_file(dp__path_join(path, sizeof path, fi->dir, "final_descriptors.txt"),
                       (size_t) 1 << 32, &fb, err);
    if (st == DP_OK)
        st = dp_buf_append_u8(&fb, 0);
    if (st != DP_OK) {
        dp_free(owner);
        dp_buf_reset(&fb);
        goto cleanup;
    }
    int64_t n_final = 0;
    for (char *s = (char *) fb.data; *s;) {
        char *nl = strchr(s, '\n');
        if (nl != NULL)
            *nl = '\0';
        n_final++;
        dp_jw_key(&w, s);
        dp_jw_object_begin(&w);
        int64_t count = 0;
        dp_jw_key(&w, "alternatives");
        dp_jw_array_begin(&w);
        for (int64_t i = 0; i < rms.n; i++) {
            if (owner[i] == NULL || strcmp(owner[i], s) != 0)
                continue;
            dp_jw_object_begin(&w);
            dp_jw_kv_string(&w, "name", rms.v[i].name);
            dp_jw_kv_int(&w, "pass", rms.v[i].pass);
            dp_jw_kv_string(&w, "link", rms.v[i].link);
            dp_jw_kv_string(&w, "via", rms.v[i].target);
            dp_jw_kv_number(&w, "similarity", rms.v[i].similarity);
            dp_jw_object_end(&w);
            count++;
        }
        dp_jw_array_end(&w);
        dp_jw_kv_int(&w, "n_alternatives", count);
        dp_jw_object_end(&w);
        if (nl == NULL)
            break;
        s = nl + 1;
    }
    dp_jw_object_end(&w);
    dp_jw_kv_int(&w, "n_final", n_final);
    dp_jw_key(&w, "unassigned");
    dp_jw_array_begin(&w);
    for (int64_t i = 0; i < rms.n; i++) {
        if (owner[i] != NULL)
            continue;
        dp_jw_object_begin(&w);
        dp_jw_kv_string(&w, "name", rms.v[i].name);
        dp_jw_kv_int(&w, "pass", rms.v[i].pass);
        dp_jw_kv_string(&w, "reason", rms.v[i].reason);
        dp_jw_object_end(&w);
    }
    dp_jw_array_end(&w);
    dp_jw_object_end(&w);
    dp_free(owner);
    dp_buf_reset(&fb);
    DP_CHECK(dp__finish(&w, &b, dp__path_join(path, sizeof path, fi->dir, "clusters.json"), err));

    /* columns.json: index <-> name of every matrix. */
    dp_buf_init(&b);
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_key(&w, "descriptors");
    dp_jw_array_begin(&w);
    for (int64_t k = 0; k < fi->n_descriptors; k++)
        dp_jw_string(&w, fi->descriptor_names[k]);
    dp_jw_array_end(&w);
    const char *lists[2][2] = {{fi->pass2_matrix, "pass1_columns.txt"},
                               {"pass4_*_matrix.npy", "pass3_columns.txt"}};
    for (int l = 0; l < 2; l++) {
        dp_buf lb;
        dp_buf_init(&lb);
        st = dp__read_file(dp__path_join(path, sizeof path, fi->dir, lists[l][1]), (size_t) 1 << 32,
                           &lb, err);
        if (st == DP_OK)
            st = dp_buf_append_u8(&lb, 0);
        if (st != DP_OK) {
            dp_buf_reset(&lb);
            goto cleanup;
        }
        dp_jw_key(&w, lists[l][0]);
        dp_jw_array_begin(&w);
        for (char *s = (char *) lb.data; *s;) {
            char *nl = strchr(s, '\n');
            if (nl != NULL)
                *nl = '\0';
            dp_jw_string(&w, s);
            if (nl == NULL)
                break;
            s = nl + 1;
        }
        dp_jw_array_end(&w);
        dp_buf_reset(&lb);
    }
    dp_jw_object_end(&w);
    DP_CHECK(dp__finish(&w, &b, dp__path_join(path, sizeof path, fi->dir, "columns.json"), err));

    /* summary.json: the counts the summary on stderr shows (timings are in manifest.json, so
     * that a resumed run writes the same bytes as an uninterrupted one). */
    dp_buf_init(&b);
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_int(&w, "initial", fi->counts[0]);
    const char *keys[] = {"", "after_pass1", "after_pass2", "after_pass3", "after_pass4"};
    for (int k = 1; k <= 4; k++)
        dp_jw_kv_int(&w, keys[k], fi->counts[k]);
    dp_jw_kv_int(&w, "final", fi->counts[4]);
    dp_jw_kv_number(&w, "reduction_percent",
                    fi->counts[0] > 0
                        ? 100.0 * (double) (fi->counts[0] - fi->counts[4]) / (double) fi->counts[0]
                        : 0);
    dp_jw_kv_bool(&w, "sampled", fi->sampled);
    dp_jw_key(&w, "passes");
    dp_jw_object_begin(&w);
    for (int k = 1; k <= 4; k++) {
        char name[8];
        snprintf(name, sizeof name, "pass%d", k);
        dp_jw_key(&w, name);
        dp_jw_object_begin(&w);
        dp_jw_kv_int(&w, "columns_out", fi->counts[k]);
        dp_jw_kv_int(&w, "removed", fi->counts[k - 1] - fi->counts[k]);
        dp_jw_object_end(&w);
    }
    dp_jw_object_end(&w);
    dp_jw_object_end(&w);
    DP_CHECK(dp__finish(&w, &b, dp__path_join(path, sizeof path, fi->dir, "summary.json"), err));
cleanup:
    if (st == DP_NOMEM && err != NULL && err->msg[0] == '\0')
        dp_error_set(err, DP_NOMEM, "out of memory");
    dp_free(rms.v);
    dp_json_free(j2);
    dp_json_free(j3);
    dp_json_free(j4);
    dp_buf_reset(&tsv);
    dp_buf_reset(&b);
    return st;
}
