/* pq_internal.h: declarations shared between the reader's source files (not for other layers). */
#ifndef DP_PARQUET_INTERNAL_H
#define DP_PARQUET_INTERNAL_H

#include "parquet/pq_reader.h"

const dp_source *dp__pq_file_source(const dp_pq_file *f);

/* Bytes per value of a fixed-width physical type (FLBA: type_length); 0 for BYTE_ARRAY. */
int32_t dp__pq_value_width(dp_pq_physical type, int32_t type_length);

#endif
