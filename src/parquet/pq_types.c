#include "parquet/pq_types.h"

#include <stddef.h>

#define DP__NAME_TABLE(fn, ...)                                                                    \
    const char *fn(int v) {                                                                        \
        static const char *const names[] = {__VA_ARGS__};                                          \
        if (v < 0 || (size_t) v >= sizeof names / sizeof names[0])                                 \
            return NULL;                                                                           \
        return names[v];                                                                           \
    }

DP__NAME_TABLE(dp_pq_physical_name, "BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE",
               "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY")
DP__NAME_TABLE(dp_pq_converted_name, "UTF8", "MAP", "MAP_KEY_VALUE", "LIST", "ENUM", "DECIMAL",
               "DATE", "TIME_MILLIS", "TIME_MICROS", "TIMESTAMP_MILLIS", "TIMESTAMP_MICROS",
               "UINT_8", "UINT_16", "UINT_32", "UINT_64", "INT_8", "INT_16", "INT_32", "INT_64",
               "JSON", "BSON", "INTERVAL")
DP__NAME_TABLE(dp_pq_repetition_name, "REQUIRED", "OPTIONAL", "REPEATED")
DP__NAME_TABLE(dp_pq_encoding_name, "PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE",
               "BIT_PACKED", "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
               "RLE_DICTIONARY", "BYTE_STREAM_SPLIT")
DP__NAME_TABLE(dp_pq_codec_name, "UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD",
               "LZ4_RAW")
DP__NAME_TABLE(dp_pq_page_type_name, "DATA_PAGE", "INDEX_PAGE", "DICTIONARY_PAGE", "DATA_PAGE_V2")

const char *dp_pq_logical_name(int v) {
    switch (v) {
    case DP_PQ_LT_NONE:
        return "NONE";
    case DP_PQ_LT_STRING:
        return "STRING";
    case DP_PQ_LT_MAP:
        return "MAP";
    case DP_PQ_LT_LIST:
        return "LIST";
    case DP_PQ_LT_ENUM:
        return "ENUM";
    case DP_PQ_LT_DECIMAL:
        return "DECIMAL";
    case DP_PQ_LT_DATE:
        return "DATE";
    case DP_PQ_LT_TIME:
        return "TIME";
    case DP_PQ_LT_TIMESTAMP:
        return "TIMESTAMP";
    case DP_PQ_LT_INTEGER:
        return "INTEGER";
    case DP_PQ_LT_UNKNOWN:
        return "UNKNOWN";
    case DP_PQ_LT_JSON:
        return "JSON";
    case DP_PQ_LT_BSON:
        return "BSON";
    case DP_PQ_LT_UUID:
        return "UUID";
    case DP_PQ_LT_FLOAT16:
        return "FLOAT16";
    case DP_PQ_LT_VARIANT:
        return "VARIANT";
    case DP_PQ_LT_GEOMETRY:
        return "GEOMETRY";
    case DP_PQ_LT_GEOGRAPHY:
        return "GEOGRAPHY";
    default:
        return NULL;
    }
}
