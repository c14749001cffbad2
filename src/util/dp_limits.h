/* dp_limits.h: every cap dpipe applies to untrusted input, in one place.
 *
 * Each limit can be overridden at compile time (-DDP_LIMIT_X=...). Values read from a file are
 * checked against these caps and against the file size BEFORE any allocation; exceeding one
 * returns DP_LIMIT (a file that is valid but larger than we accept) or DP_CORRUPT (a value that
 * cannot be right, e.g. a length past the end of the file).
 */
#ifndef DP_UTIL_LIMITS_H
#define DP_UTIL_LIMITS_H

#include <stdint.h>

/* Largest single allocation dp_malloc grants (guards against lengths read from a file). */
#ifndef DP_LIMIT_ALLOC_MAX
#define DP_LIMIT_ALLOC_MAX ((uint64_t) 64 << 30)
#endif

/* Parquet footer (FileMetaData) size. A 5,000-column file with 1,000 row groups has a footer of
 * a few hundred MB at most; larger is refused. */
#ifndef DP_LIMIT_FOOTER_MAX
#define DP_LIMIT_FOOTER_MAX ((uint64_t) 512 << 20)
#endif

/* Thrift compact protocol: struct/list nesting depth. FileMetaData nests about 6 deep. */
#ifndef DP_LIMIT_THRIFT_DEPTH
#define DP_LIMIT_THRIFT_DEPTH 32
#endif

/* Elements in one Thrift list (columns x row groups live in separate lists). */
#ifndef DP_LIMIT_THRIFT_LIST_MAX
#define DP_LIMIT_THRIFT_LIST_MAX ((int64_t) 1 << 26)
#endif

/* Length of one Thrift binary/string field (statistics, key-value metadata). */
#ifndef DP_LIMIT_THRIFT_BINARY_MAX
#define DP_LIMIT_THRIFT_BINARY_MAX ((int64_t) 64 << 20)
#endif

/* Schema elements (leaf columns plus groups). */
#ifndef DP_LIMIT_SCHEMA_MAX
#define DP_LIMIT_SCHEMA_MAX 200000
#endif

/* Row groups per file. */
#ifndef DP_LIMIT_ROW_GROUPS_MAX
#define DP_LIMIT_ROW_GROUPS_MAX 1000000
#endif

/* Rows in one row group (values in one column chunk). */
#ifndef DP_LIMIT_ROWS_PER_GROUP_MAX
#define DP_LIMIT_ROWS_PER_GROUP_MAX ((int64_t) 1 << 31)
#endif

/* Compressed size of one column chunk read into memory. */
#ifndef DP_LIMIT_CHUNK_MAX
#define DP_LIMIT_CHUNK_MAX ((int64_t) 2 << 30)
#endif

/* One page: compressed and uncompressed sizes. */
#ifndef DP_LIMIT_PAGE_MAX
#define DP_LIMIT_PAGE_MAX ((int64_t) 1 << 30)
#endif

/* Page header size (Thrift); real headers are tens of bytes plus statistics. */
#ifndef DP_LIMIT_PAGE_HEADER_MAX
#define DP_LIMIT_PAGE_HEADER_MAX ((int64_t) 16 << 20)
#endif

/* Pages in one column chunk. */
#ifndef DP_LIMIT_PAGES_PER_CHUNK_MAX
#define DP_LIMIT_PAGES_PER_CHUNK_MAX ((int64_t) 1 << 24)
#endif

/* Dictionary entries. */
#ifndef DP_LIMIT_DICT_MAX
#define DP_LIMIT_DICT_MAX ((int64_t) 1 << 27)
#endif

/* One BYTE_ARRAY value. */
#ifndef DP_LIMIT_STRING_MAX
#define DP_LIMIT_STRING_MAX ((int64_t) 256 << 20)
#endif

/* FIXED_LEN_BYTE_ARRAY width. */
#ifndef DP_LIMIT_FLBA_MAX
#define DP_LIMIT_FLBA_MAX 65536
#endif

/* Rows in one batch. */
#ifndef DP_LIMIT_BATCH_ROWS_MAX
#define DP_LIMIT_BATCH_ROWS_MAX ((int64_t) 1 << 24)
#endif

/* Files in one dataset. */
#ifndef DP_LIMIT_FILES_MAX
#define DP_LIMIT_FILES_MAX 10000000
#endif

/* Ceilings the overrides may not exceed (sizes must stay representable). */
#if DP_LIMIT_THRIFT_DEPTH > 256
#error "DP_LIMIT_THRIFT_DEPTH above 256 risks stack exhaustion"
#endif

#endif
