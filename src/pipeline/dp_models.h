/* dp_models.h: the pass-1 results later passes need, per column and looked up by NAME: the
 * fitted marginal model (for the copula transforms), the mean (pilot centre of Pearson), the
 * clip bounds and the number of missing values (clustering tie-breaks). Stored in the run
 * directory as pass1_models.bin (a dp_serial record: magic, version, CRC) so a resumed run reads
 * exactly what a fresh one computed (the original's W3).
 * Ownership: dp__models is a caller value (reset frees). Thread safety: read-only after load.
 */
#ifndef DP_PIPELINE_MODELS_H
#define DP_PIPELINE_MODELS_H

#include "transform/dp_marginal.h"
#include "util/dp_buf.h"

typedef struct dp__model {
    char *name;
    dp_marginal_fit fit;
    double mean;
    double clip_lo, clip_hi;
    int64_t n_missing;
    int64_t rows;
} dp__model;

typedef struct dp__models {
    int64_t n;
    dp__model *m;
} dp__models;

void dp__models_reset(dp__models *ms);
/* Allocate n empty entries. */
dp_status dp__models_alloc(dp__models *ms, int64_t n, dp_error *err) DP_MUST_USE;
dp_status dp__models_write(const char *path, const dp__models *ms, uint32_t *crc,
                           dp_error *err) DP_MUST_USE;
dp_status dp__models_read(const char *path, dp__models *ms, dp_error *err) DP_MUST_USE;
/* The same record in memory (MPI ranks receive the models this way): appended to b / parsed from
 * data[0..len) (`path` names the source in messages). */
dp_status dp__models_serialize(const dp__models *ms, dp_buf *b, dp_error *err) DP_MUST_USE;
dp_status dp__models_parse(const uint8_t *data, size_t len, const char *path, dp__models *ms,
                           dp_error *err) DP_MUST_USE;
/* Entry by column name, NULL when absent. */
const dp__model *dp__models_find(const dp__models *ms, const char *name);

#endif
