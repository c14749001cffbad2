/* bench_dump_npy INPUT OUT.npy [--n-metadata N]: every numeric column of a dataset as one
 * rows x cols float64 .npy (C order, NaN for missing), so numpy/pandas peers in the benchmarks
 * work on exactly the data dpipe reads. Not a test. */
#include "batch/dp_scan.h"
#include "util/dp_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_dump_npy INPUT OUT.npy [N_METADATA]\n");
        return 2;
    }
    dp_error err;
    dp_dataset *ds = NULL;
    const char *in[] = {argv[1]};
    if (dp_dataset_open(in, 1, &ds, &err) != DP_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    dp_select_options so = {.n_metadata = argc > 3 ? atoi(argv[3]) : 0};
    dp_selection sel;
    if (dp_dataset_select(ds, &so, &sel, &err) != DP_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int64_t rows = dp_dataset_n_rows(ds), cols = sel.n;
    FILE *f = fopen(argv[2], "wb");
    if (f == NULL)
        return 1;
    char dict[200];
    int dl = snprintf(dict, sizeof dict,
                      "{'descr': '<f8', 'fortran_order': False, 'shape': (%lld, %lld), }",
                      (long long) rows, (long long) cols);
    size_t pad = (64 - (10 + (size_t) dl + 1) % 64) % 64;
    unsigned short hl = (unsigned short) (dl + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fwrite(&hl, 2, 1, f);
    fwrite(dict, 1, (size_t) dl, f);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    dp_scan_options o = {.batch_rows = 8192};
    dp_scan *s = NULL;
    if (dp_scan_open(ds, sel.cols, sel.n, &o, &s, &err) != DP_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double *row = malloc((size_t) cols * sizeof *row);
    for (;;) {
        const dp_batch *b;
        if (dp_scan_next(s, &b, &err) != DP_OK) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        if (b == NULL)
            break;
        for (int64_t i = 0; i < b->n_rows; i++) {
            for (int64_t j = 0; j < cols; j++)
                row[j] = dp_batch_col(b, j)[i];
            fwrite(row, sizeof *row, (size_t) cols, f);
        }
    }
    free(row);
    dp_scan_free(s);
    fclose(f);
    printf("%lld x %lld -> %s\n", (long long) rows, (long long) cols, argv[2]);
    dp_selection_reset(&sel);
    dp_dataset_free(ds);
    return 0;
}
