/* pq_types.h: Parquet enumerations with the numeric values of parquet.thrift, and their names.
 * Values outside the known ranges can appear in files; code must treat them as UNSUPPORTED (or
 * CORRUPT where the spec forbids them), never index arrays with them unchecked.
 */
#ifndef DP_PARQUET_TYPES_H
#define DP_PARQUET_TYPES_H

#include <stdint.h>

typedef enum dp_pq_physical {
    DP_PQ_BOOLEAN = 0,
    DP_PQ_INT32 = 1,
    DP_PQ_INT64 = 2,
    DP_PQ_INT96 = 3,
    DP_PQ_FLOAT = 4,
    DP_PQ_DOUBLE = 5,
    DP_PQ_BYTE_ARRAY = 6,
    DP_PQ_FIXED_LEN_BYTE_ARRAY = 7
} dp_pq_physical;

typedef enum dp_pq_converted {
    DP_PQ_CT_NONE = -1,
    DP_PQ_CT_UTF8 = 0,
    DP_PQ_CT_MAP = 1,
    DP_PQ_CT_MAP_KEY_VALUE = 2,
    DP_PQ_CT_LIST = 3,
    DP_PQ_CT_ENUM = 4,
    DP_PQ_CT_DECIMAL = 5,
    DP_PQ_CT_DATE = 6,
    DP_PQ_CT_TIME_MILLIS = 7,
    DP_PQ_CT_TIME_MICROS = 8,
    DP_PQ_CT_TIMESTAMP_MILLIS = 9,
    DP_PQ_CT_TIMESTAMP_MICROS = 10,
    DP_PQ_CT_UINT_8 = 11,
    DP_PQ_CT_UINT_16 = 12,
    DP_PQ_CT_UINT_32 = 13,
    DP_PQ_CT_UINT_64 = 14,
    DP_PQ_CT_INT_8 = 15,
    DP_PQ_CT_INT_16 = 16,
    DP_PQ_CT_INT_32 = 17,
    DP_PQ_CT_INT_64 = 18,
    DP_PQ_CT_JSON = 19,
    DP_PQ_CT_BSON = 20,
    DP_PQ_CT_INTERVAL = 21
} dp_pq_converted;

/* LogicalType union member = its Thrift field id. */
typedef enum dp_pq_logical_kind {
    DP_PQ_LT_NONE = 0,
    DP_PQ_LT_STRING = 1,
    DP_PQ_LT_MAP = 2,
    DP_PQ_LT_LIST = 3,
    DP_PQ_LT_ENUM = 4,
    DP_PQ_LT_DECIMAL = 5,
    DP_PQ_LT_DATE = 6,
    DP_PQ_LT_TIME = 7,
    DP_PQ_LT_TIMESTAMP = 8,
    DP_PQ_LT_INTEGER = 10,
    DP_PQ_LT_UNKNOWN = 11, /* "NullType": always null */
    DP_PQ_LT_JSON = 12,
    DP_PQ_LT_BSON = 13,
    DP_PQ_LT_UUID = 14,
    DP_PQ_LT_FLOAT16 = 15,
    DP_PQ_LT_VARIANT = 16,
    DP_PQ_LT_GEOMETRY = 17,
    DP_PQ_LT_GEOGRAPHY = 18,
    DP_PQ_LT_OTHER = 1000 /* a union member this reader does not know */
} dp_pq_logical_kind;

typedef enum dp_pq_repetition {
    DP_PQ_REQUIRED = 0,
    DP_PQ_OPTIONAL = 1,
    DP_PQ_REPEATED = 2
} dp_pq_repetition;

typedef enum dp_pq_encoding {
    DP_PQ_ENC_PLAIN = 0,
    DP_PQ_ENC_PLAIN_DICTIONARY = 2,
    DP_PQ_ENC_RLE = 3,
    DP_PQ_ENC_BIT_PACKED = 4,
    DP_PQ_ENC_DELTA_BINARY_PACKED = 5,
    DP_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6,
    DP_PQ_ENC_DELTA_BYTE_ARRAY = 7,
    DP_PQ_ENC_RLE_DICTIONARY = 8,
    DP_PQ_ENC_BYTE_STREAM_SPLIT = 9
} dp_pq_encoding;

typedef enum dp_pq_codec {
    DP_PQ_CODEC_UNCOMPRESSED = 0,
    DP_PQ_CODEC_SNAPPY = 1,
    DP_PQ_CODEC_GZIP = 2,
    DP_PQ_CODEC_LZO = 3,
    DP_PQ_CODEC_BROTLI = 4,
    DP_PQ_CODEC_LZ4 = 5, /* deprecated: Hadoop framing, or raw LZ4 from some writers */
    DP_PQ_CODEC_ZSTD = 6,
    DP_PQ_CODEC_LZ4_RAW = 7
} dp_pq_codec;

typedef enum dp_pq_page_type {
    DP_PQ_PAGE_DATA = 0,
    DP_PQ_PAGE_INDEX = 1,
    DP_PQ_PAGE_DICTIONARY = 2,
    DP_PQ_PAGE_DATA_V2 = 3
} dp_pq_page_type;

/* Names for messages and `dpipe inspect`; "UNKNOWN(17)"-style text is produced by the callers for
 * values these return NULL for. */
const char *dp_pq_physical_name(int v);
const char *dp_pq_converted_name(int v);
const char *dp_pq_logical_name(int v);
const char *dp_pq_repetition_name(int v);
const char *dp_pq_encoding_name(int v);
const char *dp_pq_codec_name(int v);
const char *dp_pq_page_type_name(int v);

#endif
