/* dp_gen.h: a synthetic descriptor table with planted structure, for tests, benchmarks and demos.
 *
 * Columns: `mol_id` (STRING, "MOL000000042") first, then P descriptor columns named like RDKit
 * descriptors (MolWt, Chi0v, PEOE_VSA3, ...; a numbered suffix once the list is used up). Their
 * roles are laid out in "modules" (each repeated about once per 100 columns, with independent
 * randomness; when P is small, modules that do not fit are left out) and then shuffled (seeded),
 * so that names and positions say nothing about roles:
 *   monotone group    1.5x+3, exp(x), x^3, sign(x)log1p|x| of one latent x ~ N(0,1)
 *   correlated group  x + 0.3 e_i (three members)
 *   duplicate         two bit-identical columns
 *   linear combo      a, b ~ N(0,1), c = a + 2b + 0.01 e      (for VIF)
 *   nonlinear         (x, x^2), (x, sin 3x) with x ~ N(0,1); circle (cos 2 pi t, sin 2 pi t)
 *   heavy tails       standard Cauchy; lognormal(0, 1.5)
 *   counts (INT64)    Poisson(0.7), Poisson(3): many ties
 *   near-constant     1 in about 1 % of rows, else 0; constant 1.0
 *   missing           N(0,1) with NULL / NaN / +-Inf in a fraction `missing` of rows
 *   noise             every other column: independent normal, uniform or chi-square(3) with
 *                     varied location and scale
 * The exact list, with every member and parameter, is written to truth.json.
 *
 * Determinism: every random value comes from a stream addressed by (seed, role, block of 4,096
 * rows), so the value of row r of a column depends only on (seed, P, missing, r): not on the
 * number of files, the row-group size, the order of calls or the number of threads.
 *
 * Ownership: create/free (free accepts NULL). dp_gen_fill returns views into the generator's
 * buffers, valid until the next fill or free. Thread safety: one thread per generator; several
 * generators may run at once.
 */
#ifndef DP_PIPELINE_GEN_H
#define DP_PIPELINE_GEN_H

#include "parquet/pq_writer.h"

/* Most rows one dp_gen_fill call produces. */
#define DP_GEN_FILL_MAX 4096

typedef struct dp_gen dp_gen;

typedef struct dp_gen_config {
    int32_t cols; /* descriptor columns P >= 1 */
    uint64_t seed;
    double missing; /* fraction of rows missing in the missing-value columns, [0, 1) */
} dp_gen_config;

dp_status dp_gen_create(const dp_gen_config *cfg, dp_gen **out, dp_error *err) DP_MUST_USE;
void dp_gen_free(dp_gen *g);

/* Writer specs of all 1 + P columns (mol_id first); borrowed from g. */
int32_t dp_gen_n_columns(const dp_gen *g);
const dp_pq_write_column *dp_gen_columns(const dp_gen *g);

/* Values of rows [row0, row0 + n), 0 < n <= DP_GEN_FILL_MAX: *views receives 1 + P column
 * views (borrowed, valid until the next call). */
dp_status dp_gen_fill(dp_gen *g, int64_t row0, int64_t n, const dp_pq_column_data **views,
                      dp_error *err) DP_MUST_USE;

/* Write truth.json (atomically, like every dpipe output) to `path`: the parameters, the files
 * (names and rows), every column with its type and role, and every planted relation with its
 * members and parameters. */
typedef struct dp_gen_file_info {
    const char *name;
    int64_t rows;
} dp_gen_file_info;

dp_status dp_gen_write_truth(const dp_gen *g, int64_t rows, const dp_gen_file_info *files,
                             int32_t n_files, const char *path, dp_error *err) DP_MUST_USE;

/* Codec for dpipe's outputs (sample, gen) by name; NULL = zstd when built, else snappy, else
 * none. Unknown names are INVALID_ARG, codecs this build lacks UNSUPPORTED. */
dp_status dp__output_codec(const char *name, int *codec, dp_error *err) DP_MUST_USE;

#endif
