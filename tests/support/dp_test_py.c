/* Oracle bridge for the tests; see dp_test_py.h. */
#include "dp_test_py.h"
#include "dp_test.h"
#include "transform/dp_normal.h"

bool dp_test_py_have_numpy(void) {
    return system("/usr/bin/python3 -c 'import numpy, scipy' >/dev/null 2>&1") == 0;
}

void dp_test_py_write(const char *name, const double *x, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dp_test_tmp_dir(), name);
    FILE *f = fopen(path, "wb");
    DP_ASSERT_TRUE(f != NULL);
    DP_ASSERT_EQ_INT(fwrite(x, sizeof(double), n, f), n);
    fclose(f);
}

void dp_test_py_read(const char *name, double *x, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dp_test_tmp_dir(), name);
    FILE *f = fopen(path, "rb");
    DP_ASSERT_TRUE(f != NULL);
    DP_ASSERT_EQ_INT(fread(x, sizeof(double), n, f), n);
    fclose(f);
}

void dp_test_py_run(const char *body) {
    char path[4096], cmd[8300];
    snprintf(path, sizeof path, "%s/script.py", dp_test_tmp_dir());
    FILE *f = fopen(path, "w");
    DP_ASSERT_TRUE(f != NULL);
    fprintf(f, "import sys\nimport numpy as np\nsys.path.insert(0, '%s')\nimport oracle as O\n",
            dp_test_path("tests/oracle"));
    fprintf(f, "TMP = '%s'\n", dp_test_tmp_dir());
    fprintf(f,
            "def rd(n, shape):\n    return np.fromfile(TMP + '/' + n, dtype='<f8').reshape(shape)"
            "\ndef wr(n, a):\n    np.ascontiguousarray(a, dtype='<f8').tofile(TMP + '/' + n)\n");
    fputs(body, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s", path);
    DP_ASSERT_EQ_INT(system(cmd), 0);
}

typedef struct dp__tp_idx {
    double v;
    int64_t i;
} dp__tp_idx;

static int dp__tp_cmp(const void *a, const void *b) {
    const dp__tp_idx *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

void dp_test_copula(const double *x, int64_t n, double *z, double *u) {
    dp__tp_idx *s = malloc(sizeof(dp__tp_idx) * (size_t) (n > 0 ? n : 1));
    DP_ASSERT_TRUE(s != NULL);
    int64_t m = 0;
    for (int64_t t = 0; t < n; t++) {
        if (isfinite(x[t]))
            s[m++] = (dp__tp_idx){x[t], t};
        if (z != NULL)
            z[t] = NAN;
        if (u != NULL)
            u[t] = NAN;
    }
    qsort(s, (size_t) m, sizeof *s, dp__tp_cmp);
    for (int64_t a = 0; a < m;) {
        int64_t b = a;
        while (b + 1 < m && s[b + 1].v == s[a].v)
            b++;
        double R = 0.5 * (double) (a + b) + 1.0;
        for (int64_t c = a; c <= b; c++) {
            if (z != NULL)
                z[s[c].i] = dp_norm_ppf(R / ((double) m + 1.0));
            if (u != NULL)
                u[s[c].i] = R / (double) m;
        }
        a = b + 1;
    }
    free(s);
}
