/* dp_json.h: a small JSON reader (DOM) for dpipe's own files (manifests, configs, reports) and
 * for test references. Numbers keep their exact text (so 64-bit integers and long decimals are
 * not rounded); strings are unescaped to UTF-8. Nesting depth is limited to 128; the input size
 * is the caller's to bound.
 * Ownership: dp_json_parse returns a tree freed with dp_json_free (accepts NULL). Lookups return
 * borrowed pointers into the tree. Thread safety: a parsed tree is immutable.
 */
#ifndef DP_UTIL_JSON_H
#define DP_UTIL_JSON_H

#include "util/dp_base.h"

typedef enum dp_json_type {
    DP_JSON_NULL,
    DP_JSON_BOOL,
    DP_JSON_NUMBER,
    DP_JSON_STRING,
    DP_JSON_ARRAY,
    DP_JSON_OBJECT
} dp_json_type;

typedef struct dp_json dp_json;
struct dp_json {
    dp_json_type type;
    bool boolean;
    char *text;      /* STRING: unescaped value; NUMBER: the literal text */
    size_t text_len; /* bytes in text (strings may contain NUL) */
    dp_json *items;  /* ARRAY elements / OBJECT values */
    char **keys;     /* OBJECT keys (NUL-terminated) */
    size_t n;        /* element / member count */
};

dp_status dp_json_parse(const char *text, size_t len, dp_json **out, dp_error *err) DP_MUST_USE;
/* Read and parse a whole file (at most max_bytes). */
dp_status dp_json_parse_file(const char *path, size_t max_bytes, dp_json **out,
                             dp_error *err) DP_MUST_USE;
void dp_json_free(dp_json *j);

/* Member of an object by key; NULL when absent or not an object. */
const dp_json *dp_json_get(const dp_json *obj, const char *key);
/* Element i of an array; NULL when out of range or not an array. */
const dp_json *dp_json_at(const dp_json *arr, size_t i);
/* Number as double (strtod of the text); NaN when not a number. */
double dp_json_number(const dp_json *j);
/* String value or NULL when not a string. */
const char *dp_json_string(const dp_json *j);

#endif
