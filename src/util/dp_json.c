#include "util/dp_json.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DP__JSON_DEPTH 128

typedef struct {
    const char *p, *end, *start;
    dp_error *err;
} dp__jp;

static dp_status dp__jerr(dp__jp *jp, const char *what) {
    return dp_error_set(jp->err, DP_CORRUPT, "JSON: %s at byte %zu", what,
                        (size_t) (jp->p - jp->start));
}

static void dp__ws(dp__jp *jp) {
    while (jp->p < jp->end && (*jp->p == ' ' || *jp->p == '\t' || *jp->p == '\n' || *jp->p == '\r'))
        jp->p++;
}

static void dp__json_clear(dp_json *j) {
    if (j->type == DP_JSON_ARRAY || j->type == DP_JSON_OBJECT) {
        for (size_t i = 0; i < j->n; i++) {
            dp__json_clear(&j->items[i]);
            if (j->keys != NULL)
                dp_free(j->keys[i]);
        }
        dp_free(j->items);
        dp_free(j->keys);
    }
    dp_free(j->text);
    memset(j, 0, sizeof *j);
}

static int dp__hex4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= c - '0';
        else if (c >= 'a' && c <= 'f')
            v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            v |= c - 'A' + 10;
        else
            return -1;
    }
    return v;
}

static dp_status dp__utf8(dp_buf *b, uint32_t cp) {
    uint8_t o[4];
    size_t n;
    if (cp < 0x80) {
        o[0] = (uint8_t) cp;
        n = 1;
    } else if (cp < 0x800) {
        o[0] = (uint8_t) (0xc0 | cp >> 6);
        o[1] = (uint8_t) (0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        o[0] = (uint8_t) (0xe0 | cp >> 12);
        o[1] = (uint8_t) (0x80 | ((cp >> 6) & 0x3f));
        o[2] = (uint8_t) (0x80 | (cp & 0x3f));
        n = 3;
    } else {
        o[0] = (uint8_t) (0xf0 | cp >> 18);
        o[1] = (uint8_t) (0x80 | ((cp >> 12) & 0x3f));
        o[2] = (uint8_t) (0x80 | ((cp >> 6) & 0x3f));
        o[3] = (uint8_t) (0x80 | (cp & 0x3f));
        n = 4;
    }
    return dp_buf_append(b, o, n);
}

static dp_status dp__string(dp__jp *jp, char **out, size_t *out_len) {
    dp_buf b;
    dp_buf_init(&b);
    dp_status st = DP_OK;
    jp->p++; /* opening quote */
    while (1) {
        if (jp->p >= jp->end) {
            st = dp__jerr(jp, "unterminated string");
            goto cleanup;
        }
        char c = *jp->p++;
        if (c == '"')
            break;
        if ((unsigned char) c < 0x20) {
            st = dp__jerr(jp, "control character in string");
            goto cleanup;
        }
        if (c != '\\') {
            DP_CHECK(dp_buf_append_u8(&b, (uint8_t) c));
            continue;
        }
        if (jp->p >= jp->end) {
            st = dp__jerr(jp, "unterminated escape");
            goto cleanup;
        }
        c = *jp->p++;
        switch (c) {
        case '"':
        case '\\':
        case '/':
            DP_CHECK(dp_buf_append_u8(&b, (uint8_t) c));
            break;
        case 'b':
            DP_CHECK(dp_buf_append_u8(&b, '\b'));
            break;
        case 'f':
            DP_CHECK(dp_buf_append_u8(&b, '\f'));
            break;
        case 'n':
            DP_CHECK(dp_buf_append_u8(&b, '\n'));
            break;
        case 'r':
            DP_CHECK(dp_buf_append_u8(&b, '\r'));
            break;
        case 't':
            DP_CHECK(dp_buf_append_u8(&b, '\t'));
            break;
        case 'u': {
            if (jp->end - jp->p < 4 || dp__hex4(jp->p) < 0) {
                st = dp__jerr(jp, "bad \\u escape");
                goto cleanup;
            }
            uint32_t cp = (uint32_t) dp__hex4(jp->p);
            jp->p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && jp->end - jp->p >= 6 && jp->p[0] == '\\' &&
                jp->p[1] == 'u' && dp__hex4(jp->p + 2) >= 0xdc00 && dp__hex4(jp->p + 2) < 0xe000) {
                uint32_t lo = (uint32_t) dp__hex4(jp->p + 2);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                jp->p += 6;
            }
            DP_CHECK(dp__utf8(&b, cp));
            break;
        }
        default:
            st = dp__jerr(jp, "bad escape");
            goto cleanup;
        }
    }
    DP_CHECK(dp_buf_append_u8(&b, 0));
    *out_len = b.size - 1;
    *out = (char *) b.data;
    return DP_OK;
cleanup:
    dp_buf_reset(&b);
    if (st == DP_NOMEM)
        dp_error_set(jp->err, DP_NOMEM, "JSON: out of memory");
    return st;
}

static dp_status dp__value(dp__jp *jp, dp_json *out, int depth);

static dp_status dp__container(dp__jp *jp, dp_json *out, int depth, bool object) {
    dp_status st = DP_OK;
    size_t cap = 0;
    out->type = object ? DP_JSON_OBJECT : DP_JSON_ARRAY;
    jp->p++;
    dp__ws(jp);
    if (jp->p < jp->end && *jp->p == (object ? '}' : ']')) {
        jp->p++;
        return DP_OK;
    }
    while (1) {
        if (out->n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            dp_json *ni = dp_reallocarray(out->items, nc, sizeof *ni);
            if (ni == NULL)
                return dp_error_set(jp->err, DP_NOMEM, "JSON: out of memory");
            out->items = ni;
            if (object) {
                char **nk = dp_reallocarray(out->keys, nc, sizeof *nk);
                if (nk == NULL)
                    return dp_error_set(jp->err, DP_NOMEM, "JSON: out of memory");
                out->keys = nk;
            }
            cap = nc;
        }
        dp_json *item = &out->items[out->n];
        memset(item, 0, sizeof *item);
        dp__ws(jp);
        if (object) {
            size_t kl;
            if (jp->p >= jp->end || *jp->p != '"')
                return dp__jerr(jp, "expected a key");
            char *key = NULL;
            DP_TRY(dp__string(jp, &key, &kl));
            out->keys[out->n] = key;
            out->n++;
            dp__ws(jp);
            if (jp->p >= jp->end || *jp->p != ':')
                return dp__jerr(jp, "expected ':'");
            jp->p++;
            st = dp__value(jp, item, depth + 1);
        } else {
            out->n++;
            st = dp__value(jp, item, depth + 1);
        }
        if (st != DP_OK)
            return st;
        dp__ws(jp);
        if (jp->p >= jp->end)
            return dp__jerr(jp, "unterminated container");
        if (*jp->p == ',') {
            jp->p++;
            continue;
        }
        if (*jp->p == (object ? '}' : ']')) {
            jp->p++;
            return DP_OK;
        }
        return dp__jerr(jp, "expected ',' or the end of the container");
    }
}

static dp_status dp__value(dp__jp *jp, dp_json *out, int depth) {
    if (depth > DP__JSON_DEPTH)
        return dp_error_set(jp->err, DP_LIMIT, "JSON: nesting deeper than %d", DP__JSON_DEPTH);
    dp__ws(jp);
    if (jp->p >= jp->end)
        return dp__jerr(jp, "unexpected end");
    char c = *jp->p;
    if (c == '{' || c == '[')
        return dp__container(jp, out, depth, c == '{');
    if (c == '"') {
        out->type = DP_JSON_STRING;
        return dp__string(jp, &out->text, &out->text_len);
    }
    size_t left = (size_t) (jp->end - jp->p);
    if (left >= 4 && memcmp(jp->p, "null", 4) == 0) {
        out->type = DP_JSON_NULL;
        jp->p += 4;
        return DP_OK;
    }
    if (left >= 4 && memcmp(jp->p, "true", 4) == 0) {
        out->type = DP_JSON_BOOL;
        out->boolean = true;
        jp->p += 4;
        return DP_OK;
    }
    if (left >= 5 && memcmp(jp->p, "false", 5) == 0) {
        out->type = DP_JSON_BOOL;
        jp->p += 5;
        return DP_OK;
    }
    /* Number: validate the JSON grammar, keep the text. NaN/Infinity are accepted as an
     * extension because Python's json module writes them. */
    const char *s = jp->p;
    if (left >= 3 && memcmp(s, "NaN", 3) == 0) {
        jp->p += 3;
    } else if (left >= 8 && memcmp(s, "Infinity", 8) == 0) {
        jp->p += 8;
    } else if (left >= 9 && memcmp(s, "-Infinity", 9) == 0) {
        jp->p += 9;
    } else {
        const char *p = s;
        if (p < jp->end && *p == '-')
            p++;
        if (p >= jp->end || !(*p >= '0' && *p <= '9'))
            return dp__jerr(jp, "unexpected character");
        while (p < jp->end && *p >= '0' && *p <= '9')
            p++;
        if (p < jp->end && *p == '.') {
            p++;
            if (p >= jp->end || !(*p >= '0' && *p <= '9'))
                return dp__jerr(jp, "bad number");
            while (p < jp->end && *p >= '0' && *p <= '9')
                p++;
        }
        if (p < jp->end && (*p == 'e' || *p == 'E')) {
            p++;
            if (p < jp->end && (*p == '+' || *p == '-'))
                p++;
            if (p >= jp->end || !(*p >= '0' && *p <= '9'))
                return dp__jerr(jp, "bad exponent");
            while (p < jp->end && *p >= '0' && *p <= '9')
                p++;
        }
        jp->p = p;
    }
    out->type = DP_JSON_NUMBER;
    out->text = dp_strndup(s, (size_t) (jp->p - s));
    if (out->text == NULL)
        return dp_error_set(jp->err, DP_NOMEM, "JSON: out of memory");
    out->text_len = (size_t) (jp->p - s);
    return DP_OK;
}

dp_status dp_json_parse(const char *text, size_t len, dp_json **out, dp_error *err) {
    *out = NULL;
    dp_json *root = dp_calloc(1, sizeof *root);
    if (root == NULL)
        return dp_error_set(err, DP_NOMEM, "JSON: out of memory");
    dp__jp jp = {text, text + len, text, err};
    dp_status st = dp__value(&jp, root, 0);
    if (st == DP_OK) {
        dp__ws(&jp);
        if (jp.p != jp.end)
            st = dp__jerr(&jp, "trailing characters");
    }
    if (st != DP_OK) {
        dp_json_free(root);
        return st;
    }
    *out = root;
    return DP_OK;
}

dp_status dp_json_parse_file(const char *path, size_t max_bytes, dp_json **out, dp_error *err) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return dp_error_set(err, errno == ENOENT ? DP_NOT_FOUND : DP_IO, "%s: cannot open: %s",
                            path, strerror(errno));
    dp_buf b;
    dp_buf_init(&b);
    dp_status st = DP_OK;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (b.size + n > max_bytes) {
            st = dp_error_set(err, DP_LIMIT, "%s: larger than %zu bytes", path, max_bytes);
            goto cleanup;
        }
        if (dp_buf_append(&b, chunk, n) != DP_OK) {
            st = dp_error_set(err, DP_NOMEM, "%s: out of memory", path);
            goto cleanup;
        }
    }
    if (ferror(f)) {
        st = dp_error_set(err, DP_IO, "%s: read error", path);
        goto cleanup;
    }
    st = dp_json_parse(b.size ? (const char *) b.data : "", b.size, out, err);
    if (st != DP_OK)
        dp_error_prefix(err, "%s: ", path);
cleanup:
    fclose(f);
    dp_buf_reset(&b);
    return st;
}

void dp_json_free(dp_json *j) {
    if (j == NULL)
        return;
    dp__json_clear(j);
    dp_free(j);
}

const dp_json *dp_json_get(const dp_json *obj, const char *key) {
    if (obj == NULL || obj->type != DP_JSON_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

const dp_json *dp_json_at(const dp_json *arr, size_t i) {
    if (arr == NULL || arr->type != DP_JSON_ARRAY || i >= arr->n)
        return NULL;
    return &arr->items[i];
}

double dp_json_number(const dp_json *j) {
    if (j == NULL || j->type != DP_JSON_NUMBER)
        return NAN;
    if (strcmp(j->text, "NaN") == 0)
        return NAN;
    return strtod(j->text, NULL);
}

const char *dp_json_string(const dp_json *j) {
    return j != NULL && j->type == DP_JSON_STRING ? j->text : NULL;
}
