/* Thrift compact protocol: hand-built byte sequences (computed with an independent encoder
 * written for this test from the protocol specification), skipping, limits, truncation at every
 * byte, and encoder -> decoder round trips. */
#include "dp_test.h"
#include "parquet/thrift_compact.h"
#include "util/dp_alloc.h"

/* struct {
 *   1: bool true; 2: bool false; 3: i8 -5; 4: i16 -300; 5: i32 123456; 6: i64 -2^40;
 *   7: double 3.25; 8: binary "hello"; 9: list<i32> [1, -1, 300]; 10: set<binary> {"a", "bc"};
 *   11: map<binary, i32> {"x": 10, "y": -20}; 12: struct { 1: i32 7 };
 *   200: i32 42 (long-form id); 201: list<bool> of 20 (long-form size, i % 3 == 0);
 *   150: i64 -1 (id below the previous one: long form) } */
static const uint8_t k_all[] = {
    0x11, 0x12, 0x13, 0xfb, 0x14, 0xd7, 0x04, 0x15, 0x80, 0x89, 0x0f, 0x16, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x3f, 0x17, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x40, 0x18, 0x05, 0x68, 0x65, 0x6c,
    0x6c, 0x6f, 0x19, 0x35, 0x02, 0x01, 0xd8, 0x04, 0x1a, 0x28, 0x01, 0x61, 0x02, 0x62, 0x63, 0x1b,
    0x02, 0x85, 0x01, 0x78, 0x14, 0x01, 0x79, 0x27, 0x1c, 0x15, 0x0e, 0x00, 0x05, 0x90, 0x03, 0x54,
    0x19, 0xf1, 0x14, 0x01, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x02, 0x02, 0x01,
    0x02, 0x02, 0x01, 0x02, 0x02, 0x01, 0x02, 0x06, 0xac, 0x02, 0x01, 0x00};

typedef struct all_values {
    bool b1, b2;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    double dbl;
    dp_view bin;
    int64_t list[3];
    int32_t n_list;
    dp_view set[2];
    dp_view map_k[2];
    int64_t map_v[2];
    int32_t inner;
    int32_t f200;
    bool bools[20];
    int32_t n_bools;
    int64_t f150;
    int n_fields;
} all_values;

static dp_status decode_all(const uint8_t *p, size_t n, all_values *v, dp_error *err) {
    dp_thrift_reader r;
    dp_thrift_reader_init(&r, p, n);
    memset(v, 0, sizeof *v);
    DP_TRY(dp_thrift_struct_begin(&r, err));
    for (;;) {
        dp_thrift_field f;
        DP_TRY(dp_thrift_field_next(&r, &f, err));
        if (f.type == DP_THRIFT_STOP)
            break;
        v->n_fields++;
        uint8_t et, kt, vt;
        int32_t size;
        switch (f.id) {
        case 1:
            DP_TRY(dp_thrift_read_bool(&r, &f, &v->b1, err));
            break;
        case 2:
            DP_TRY(dp_thrift_read_bool(&r, &f, &v->b2, err));
            break;
        case 3:
            DP_TRY(dp_thrift_read_i8(&r, &f, &v->i8, err));
            break;
        case 4:
            DP_TRY(dp_thrift_read_i16(&r, &f, &v->i16, err));
            break;
        case 5:
            DP_TRY(dp_thrift_read_i32(&r, &f, &v->i32, err));
            break;
        case 6:
            DP_TRY(dp_thrift_read_i64(&r, &f, &v->i64, err));
            break;
        case 7:
            DP_TRY(dp_thrift_read_double(&r, &f, &v->dbl, err));
            break;
        case 8:
            DP_TRY(dp_thrift_read_binary(&r, &f, &v->bin, err));
            break;
        case 9:
            DP_TRY(dp_thrift_list_begin(&r, &f, &et, &size, err));
            if (size > 3)
                return DP_CORRUPT;
            v->n_list = size;
            for (int32_t i = 0; i < size; i++)
                DP_TRY(dp_thrift_elem_int(&r, et, INT32_MIN, INT32_MAX, &v->list[i], err));
            dp_thrift_list_end(&r);
            break;
        case 10:
            DP_TRY(dp_thrift_list_begin(&r, &f, &et, &size, err));
            if (size > 2 || et != DP_THRIFT_BINARY)
                return DP_CORRUPT;
            for (int32_t i = 0; i < size; i++)
                DP_TRY(dp_thrift_elem_binary(&r, &v->set[i], err));
            dp_thrift_list_end(&r);
            break;
        case 11:
            DP_TRY(dp_thrift_map_begin(&r, &f, &kt, &vt, &size, err));
            if (size > 2 || kt != DP_THRIFT_BINARY)
                return DP_CORRUPT;
            for (int32_t i = 0; i < size; i++) {
                DP_TRY(dp_thrift_elem_binary(&r, &v->map_k[i], err));
                DP_TRY(dp_thrift_elem_int(&r, vt, INT32_MIN, INT32_MAX, &v->map_v[i], err));
            }
            dp_thrift_map_end(&r);
            break;
        case 12:
            DP_TRY(dp_thrift_struct_begin(&r, err));
            for (;;) {
                dp_thrift_field g;
                DP_TRY(dp_thrift_field_next(&r, &g, err));
                if (g.type == DP_THRIFT_STOP)
                    break;
                if (g.id == 1)
                    DP_TRY(dp_thrift_read_i32(&r, &g, &v->inner, err));
                else
                    DP_TRY(dp_thrift_skip_field(&r, &g, err));
            }
            dp_thrift_struct_end(&r);
            break;
        case 200:
            DP_TRY(dp_thrift_read_i32(&r, &f, &v->f200, err));
            break;
        case 201:
            DP_TRY(dp_thrift_list_begin(&r, &f, &et, &size, err));
            if (size > 20 || (et != DP_THRIFT_TRUE && et != DP_THRIFT_FALSE))
                return DP_CORRUPT;
            v->n_bools = size;
            for (int32_t i = 0; i < size; i++)
                DP_TRY(dp_thrift_elem_bool(&r, &v->bools[i], err));
            dp_thrift_list_end(&r);
            break;
        case 150:
            DP_TRY(dp_thrift_read_i64(&r, &f, &v->f150, err));
            break;
        default:
            DP_TRY(dp_thrift_skip_field(&r, &f, err));
        }
    }
    dp_thrift_struct_end(&r);
    if (r.depth != 0)
        return DP_STATE;
    if (dp_thrift_offset(&r) != n)
        return DP_CORRUPT; /* the message must be consumed exactly */
    return DP_OK;
}

static bool view_is(dp_view v, const char *s) {
    return v.len == strlen(s) && memcmp(v.data, s, v.len) == 0;
}

static void check_all(const all_values *v) {
    DP_ASSERT_EQ_INT(v->n_fields, 15);
    DP_ASSERT_TRUE(v->b1);
    DP_ASSERT_TRUE(!v->b2);
    DP_ASSERT_EQ_INT(v->i8, -5);
    DP_ASSERT_EQ_INT(v->i16, -300);
    DP_ASSERT_EQ_INT(v->i32, 123456);
    DP_ASSERT_EQ_INT(v->i64, -((int64_t) 1 << 40));
    DP_ASSERT_BITS_EQ(v->dbl, 3.25);
    DP_ASSERT_TRUE(view_is(v->bin, "hello"));
    DP_ASSERT_EQ_INT(v->n_list, 3);
    DP_ASSERT_EQ_INT(v->list[0], 1);
    DP_ASSERT_EQ_INT(v->list[1], -1);
    DP_ASSERT_EQ_INT(v->list[2], 300);
    DP_ASSERT_TRUE(view_is(v->set[0], "a"));
    DP_ASSERT_TRUE(view_is(v->set[1], "bc"));
    DP_ASSERT_TRUE(view_is(v->map_k[0], "x"));
    DP_ASSERT_TRUE(view_is(v->map_k[1], "y"));
    DP_ASSERT_EQ_INT(v->map_v[0], 10);
    DP_ASSERT_EQ_INT(v->map_v[1], -20);
    DP_ASSERT_EQ_INT(v->inner, 7);
    DP_ASSERT_EQ_INT(v->f200, 42);
    DP_ASSERT_EQ_INT(v->n_bools, 20);
    for (int i = 0; i < 20; i++)
        DP_ASSERT_EQ_INT(v->bools[i], i % 3 == 0);
    DP_ASSERT_EQ_INT(v->f150, -1);
}

DP_TEST(thrift_decodes_every_type) {
    all_values v;
    dp_error err_, *err = &err_;
    dp_error_init(err);
    DP_ASSERT_OK(decode_all(k_all, sizeof k_all, &v, err), err);
    check_all(&v);
}

DP_TEST(thrift_skips_unknown_fields_of_every_type) {
    /* A reader that knows only field 201 must skip the other 14 (bools in the header, the
     * nested struct, list, set, map, long-form ids) and land exactly on 201 and the end. */
    dp_thrift_reader r;
    dp_error err_, *err = &err_;
    dp_error_init(err);
    dp_thrift_reader_init(&r, k_all, sizeof k_all);
    DP_ASSERT_OK(dp_thrift_struct_begin(&r, err), err);
    int skipped = 0, found = 0;
    for (;;) {
        dp_thrift_field f;
        DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
        if (f.type == DP_THRIFT_STOP)
            break;
        if (f.id == 201) {
            uint8_t et;
            int32_t size;
            DP_ASSERT_OK(dp_thrift_list_begin(&r, &f, &et, &size, err), err);
            DP_ASSERT_EQ_INT(size, 20);
            for (int i = 0; i < size; i++) {
                bool b;
                DP_ASSERT_OK(dp_thrift_elem_bool(&r, &b, err), err);
                DP_ASSERT_EQ_INT(b, i % 3 == 0);
            }
            dp_thrift_list_end(&r);
            found++;
        } else {
            DP_ASSERT_OK(dp_thrift_skip_field(&r, &f, err), err);
            skipped++;
        }
    }
    dp_thrift_struct_end(&r);
    DP_ASSERT_EQ_INT(found, 1);
    DP_ASSERT_EQ_INT(skipped, 14);
    DP_ASSERT_EQ_U64(dp_thrift_offset(&r), sizeof k_all);
    DP_ASSERT_EQ_INT(r.depth, 0);
    /* Skipping the whole message as one struct value also ends exactly at its end. */
    dp_thrift_reader_init(&r, k_all, sizeof k_all);
    DP_ASSERT_OK(dp_thrift_skip(&r, DP_THRIFT_STRUCT, err), err);
    DP_ASSERT_EQ_U64(dp_thrift_offset(&r), sizeof k_all);
}

DP_TEST(thrift_skips_nested_unknown_containers) {
    /* field 1: list<list<struct{1: map<i32, list<double>>}>> with one element each, field 2:
     * i32 9. Hand-built: 0x19 list hdr 0x19 (1 x list); inner 0x1c (1 x struct); struct field
     * 0x1b map: size 1, types (i32 << 4 | list) = 0x59; key zigzag(3) = 0x06; value list 0x17
     * (1 x double) + 8 bytes; stop 0x00; then 0x15 0x12 (field 2, i32 9); stop. */
    const uint8_t msg[] = {0x19, 0x19, 0x1c, 0x1b, 0x01, 0x59, 0x06, 0x17, 0,    0,
                           0,    0,    0,    0,    0xf0, 0x3f, 0x00, 0x15, 0x12, 0x00};
    dp_thrift_reader r;
    dp_error err_, *err = &err_;
    dp_error_init(err);
    dp_thrift_reader_init(&r, msg, sizeof msg);
    DP_ASSERT_OK(dp_thrift_struct_begin(&r, err), err);
    dp_thrift_field f;
    DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
    DP_ASSERT_EQ_INT(f.id, 1);
    DP_ASSERT_EQ_INT(f.type, DP_THRIFT_LIST);
    DP_ASSERT_OK(dp_thrift_skip_field(&r, &f, err), err);
    DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
    DP_ASSERT_EQ_INT(f.id, 2);
    int32_t v = 0;
    DP_ASSERT_OK(dp_thrift_read_i32(&r, &f, &v, err), err);
    DP_ASSERT_EQ_INT(v, 9);
    DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
    DP_ASSERT_EQ_INT(f.type, DP_THRIFT_STOP);
    dp_thrift_struct_end(&r);
    DP_ASSERT_EQ_U64(dp_thrift_offset(&r), sizeof msg);
    DP_ASSERT_EQ_INT(r.depth, 0);
}

DP_TEST(thrift_truncation_at_every_offset) {
    /* Every proper prefix of a valid message fails cleanly (never reads past the end: ASan
     * checks that in the sanitizer build because the prefix is copied to an exact-size heap
     * block). */
    for (size_t n = 0; n < sizeof k_all; n++) {
        uint8_t *p = dp_malloc(n);
        DP_ASSERT_TRUE(p != NULL);
        memcpy(p, k_all, n);
        all_values v;
        dp_error err_, *err = &err_;
        dp_error_init(err);
        dp_status st = decode_all(p, n, &v, err);
        if (st != DP_TRUNCATED && st != DP_CORRUPT)
            DP_FAILF("prefix of %zu bytes: status %s (%s)", n, dp_status_name(st), err->msg);
        dp_thrift_reader r;
        dp_thrift_reader_init(&r, p, n);
        st = dp_thrift_skip(&r, DP_THRIFT_STRUCT, err);
        if (st != DP_TRUNCATED)
            DP_FAILF("skip of a %zu-byte prefix: status %s", n, dp_status_name(st));
        dp_free(p);
    }
}

DP_TEST(thrift_depth_limit) {
    /* 40 nested structs (field 1 of type struct, over and over): skipping must stop at the
     * depth limit rather than recurse without bound. */
    uint8_t msg[100];
    size_t n = 0;
    for (int i = 0; i < 40; i++)
        msg[n++] = 0x1c;
    for (int i = 0; i < 41; i++)
        msg[n++] = 0x00;
    dp_thrift_reader r;
    dp_error err_, *err = &err_;
    dp_error_init(err);
    dp_thrift_reader_init(&r, msg, n);
    dp_status st = dp_thrift_skip(&r, DP_THRIFT_STRUCT, err);
    DP_ASSERT_TRUE(st == DP_LIMIT || st == DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "nesting deeper");
    /* Nested lists count too: list<list<list<...>>> 40 deep. */
    n = 0;
    msg[n++] = 0x19;
    for (int i = 0; i < 40; i++)
        msg[n++] = 0x19; /* one element, itself a list */
    msg[n++] = 0x05;     /* innermost: empty list of i32 */
    msg[n++] = 0x00;
    dp_thrift_reader_init(&r, msg, n);
    DP_ASSERT_OK(dp_thrift_struct_begin(&r, err), err);
    dp_thrift_field f;
    DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
    st = dp_thrift_skip_field(&r, &f, err);
    DP_ASSERT_TRUE(st == DP_LIMIT || st == DP_CORRUPT);
    /* Exactly at the limit is fine: DP_LIMIT_THRIFT_DEPTH structs. */
    n = 0;
    for (int i = 0; i < DP_LIMIT_THRIFT_DEPTH - 1; i++)
        msg[n++] = 0x1c;
    for (int i = 0; i < DP_LIMIT_THRIFT_DEPTH; i++)
        msg[n++] = 0x00;
    dp_thrift_reader_init(&r, msg, n);
    DP_ASSERT_OK(dp_thrift_skip(&r, DP_THRIFT_STRUCT, err), err);
    DP_ASSERT_EQ_U64(dp_thrift_offset(&r), n);
}

static dp_status first_field_i32(const uint8_t *p, size_t n, int32_t *out, dp_error *err) {
    dp_thrift_reader r;
    dp_thrift_reader_init(&r, p, n);
    DP_TRY(dp_thrift_struct_begin(&r, err));
    dp_thrift_field f;
    DP_TRY(dp_thrift_field_next(&r, &f, err));
    return dp_thrift_read_i32(&r, &f, out, err);
}

static dp_status skip_struct_bytes(const uint8_t *p, size_t n, dp_error *err) {
    dp_thrift_reader r;
    dp_thrift_reader_init(&r, p, n);
    return dp_thrift_skip(&r, DP_THRIFT_STRUCT, err);
}

DP_TEST(thrift_rejects_bad_values) {
    dp_error err_, *err = &err_;
    dp_error_init(err);
    int32_t v;
    /* i32 field holding zigzag(2^31) = 2^32: out of range. */
    const uint8_t big[] = {0x15, 0x80, 0x80, 0x80, 0x80, 0x10, 0x00};
    DP_ASSERT_STATUS(first_field_i32(big, sizeof big, &v, err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "out of range");
    /* INT32_MIN (zigzag 2^32 - 1) is in range. */
    const uint8_t min32[] = {0x15, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00};
    DP_ASSERT_OK(first_field_i32(min32, sizeof min32, &v, err), err);
    DP_ASSERT_EQ_INT(v, INT32_MIN);
    /* An i64 wire value read into an i32 is accepted when it fits. */
    const uint8_t i64small[] = {0x16, 0x54, 0x00};
    DP_ASSERT_OK(first_field_i32(i64small, sizeof i64small, &v, err), err);
    DP_ASSERT_EQ_INT(v, 42);
    /* A binary field read as i32: CORRUPT naming the field. */
    const uint8_t wrong[] = {0x18, 0x01, 0x61, 0x00};
    DP_ASSERT_STATUS(first_field_i32(wrong, sizeof wrong, &v, err), DP_CORRUPT);
    DP_ASSERT_CONTAINS(err->msg, "field 1");
    /* Invalid type nibbles 14 and 15. */
    const uint8_t t14[] = {0x1e, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(t14, sizeof t14, err), DP_CORRUPT);
    const uint8_t t15[] = {0x1f, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(t15, sizeof t15, err), DP_CORRUPT);
    /* A varint of 11 bytes. */
    const uint8_t longv[] = {0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                             0xff, 0xff, 0xff, 0xff, 0x01, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(longv, sizeof longv, err), DP_CORRUPT);
    /* A 10-byte varint with bits above 64. */
    const uint8_t over[] = {0x16, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(over, sizeof over, err), DP_CORRUPT);
    /* Binary longer than what is left: TRUNCATED with both numbers. */
    const uint8_t blong[] = {0x18, 0x10, 0x61, 0x62, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(blong, sizeof blong, err), DP_TRUNCATED);
    DP_ASSERT_CONTAINS(err->msg, "16 bytes");
    /* Binary above DP_LIMIT_THRIFT_BINARY_MAX (2^30 bytes claimed): LIMIT. */
    const uint8_t bhuge[] = {0x18, 0x80, 0x80, 0x80, 0x80, 0x04, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(bhuge, sizeof bhuge, err), DP_LIMIT);
    /* List of 1000 elements with 3 bytes left: TRUNCATED before anything is allocated. */
    const uint8_t llong[] = {0x19, 0xf5, 0xe8, 0x07, 0x02, 0x04, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(llong, sizeof llong, err), DP_TRUNCATED);
    /* List above DP_LIMIT_THRIFT_LIST_MAX (2^28 elements): LIMIT. */
    const uint8_t lhuge[] = {0x19, 0xf5, 0x80, 0x80, 0x80, 0x80, 0x01, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(lhuge, sizeof lhuge, err), DP_LIMIT);
    /* Map of 2 entries needs at least 4 bytes. */
    const uint8_t mshort[] = {0x1b, 0x02, 0x55, 0x02, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(mshort, sizeof mshort, err), DP_TRUNCATED);
    /* A bool list element that is neither 0, 1 nor 2. */
    const uint8_t bbad[] = {0x19, 0x11, 0x07, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(bbad, sizeof bbad, err), DP_CORRUPT);
    /* An old-style false (0) is accepted. */
    const uint8_t bzero[] = {0x19, 0x21, 0x00, 0x01, 0x00};
    DP_ASSERT_OK(skip_struct_bytes(bzero, sizeof bzero, err), err);
    /* A list whose element type is STOP. */
    const uint8_t lstop[] = {0x19, 0x10, 0x00, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(lstop, sizeof lstop, err), DP_CORRUPT);
    /* Field id 32767 (long form) followed by a delta: the id overflows i16. */
    const uint8_t idover[] = {0x05, 0xfe, 0xff, 0x03, 0x00, 0x15, 0x00, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(idover, sizeof idover, err), DP_CORRUPT);
    /* A long-form id above i16. */
    const uint8_t idbig[] = {0x05, 0x80, 0x80, 0x04, 0x00, 0x00};
    DP_ASSERT_STATUS(skip_struct_bytes(idbig, sizeof idbig, err), DP_CORRUPT);
    /* Messages carry the byte offset (of the id varint here). */
    DP_ASSERT_CONTAINS(err->msg, "byte offset 1");
}

static void write_all(dp_thrift_writer *w) {
    dp_thrift_write_struct_begin(w);
    dp_thrift_write_field_bool(w, 1, true);
    dp_thrift_write_field_bool(w, 2, false);
    dp_thrift_write_field_i8(w, 3, -5);
    dp_thrift_write_field_i16(w, 4, -300);
    dp_thrift_write_field_i32(w, 5, 123456);
    dp_thrift_write_field_i64(w, 6, -((int64_t) 1 << 40));
    dp_thrift_write_field_double(w, 7, 3.25);
    dp_thrift_write_field_string(w, 8, "hello");
    dp_thrift_write_field_list_begin(w, 9, DP_THRIFT_I32, 3);
    dp_thrift_write_i32(w, 1);
    dp_thrift_write_i32(w, -1);
    dp_thrift_write_i32(w, 300);
    dp_thrift_write_field_header(w, 10, DP_THRIFT_SET);
    dp_thrift_write_list_header(w, DP_THRIFT_BINARY, 2);
    dp_thrift_write_binary(w, "a", 1);
    dp_thrift_write_binary(w, "bc", 2);
    dp_thrift_write_field_header(w, 11, DP_THRIFT_MAP);
    dp_thrift_write_map_header(w, DP_THRIFT_BINARY, DP_THRIFT_I32, 2);
    dp_thrift_write_binary(w, "x", 1);
    dp_thrift_write_i32(w, 10);
    dp_thrift_write_binary(w, "y", 1);
    dp_thrift_write_i32(w, -20);
    dp_thrift_write_field_struct_begin(w, 12);
    dp_thrift_write_field_i32(w, 1, 7);
    dp_thrift_write_struct_end(w);
    dp_thrift_write_field_i32(w, 200, 42);
    dp_thrift_write_field_list_begin(w, 201, DP_THRIFT_BOOL, 20);
    for (int i = 0; i < 20; i++)
        dp_thrift_write_bool(w, i % 3 == 0);
    dp_thrift_write_field_i64(w, 150, -1);
    dp_thrift_write_struct_end(w);
}

DP_TEST(thrift_encoder_matches_reference_bytes) {
    dp_buf b;
    dp_buf_init(&b);
    dp_thrift_writer w;
    dp_thrift_writer_init(&w, &b);
    write_all(&w);
    dp_error err_, *err = &err_;
    dp_error_init(err);
    DP_ASSERT_OK(dp_thrift_writer_finish(&w, err), err);
    DP_ASSERT_EQ_U64(b.size, sizeof k_all);
    DP_ASSERT_MEMEQ(b.data, k_all, sizeof k_all);
    all_values v;
    DP_ASSERT_OK(decode_all(b.data, b.size, &v, err), err);
    check_all(&v);
    dp_buf_reset(&b);
}

DP_TEST(thrift_encoder_round_trip_extremes) {
    /* Integers at their limits, ids needing the long form in both directions, a list long
     * enough for the long size form, an empty binary and NaN/-0.0 doubles. */
    static const int64_t vals[] = {0, 1, -1, INT64_MAX, INT64_MIN, INT32_MAX, INT32_MIN, 1 << 20};
    dp_buf b;
    dp_buf_init(&b);
    dp_thrift_writer w;
    dp_thrift_writer_init(&w, &b);
    dp_thrift_write_struct_begin(&w);
    dp_thrift_write_field_i64(&w, 16, INT64_MIN);
    dp_thrift_write_field_i32(&w, 17, INT32_MAX);
    dp_thrift_write_field_i16(&w, -3, INT16_MIN);
    dp_thrift_write_field_binary(&w, 32767, "", 0);
    dp_thrift_write_field_double(&w, 1, -0.0);
    dp_thrift_write_field_list_begin(&w, 2, DP_THRIFT_I64, 8 * 4);
    for (int k = 0; k < 4; k++)
        for (size_t i = 0; i < DP_ARRAY_LEN(vals); i++)
            dp_thrift_write_i64(&w, vals[i]);
    dp_thrift_write_struct_end(&w);
    dp_error err_, *err = &err_;
    dp_error_init(err);
    DP_ASSERT_OK(dp_thrift_writer_finish(&w, err), err);

    dp_thrift_reader r;
    dp_thrift_reader_init(&r, b.data, b.size);
    DP_ASSERT_OK(dp_thrift_struct_begin(&r, err), err);
    dp_thrift_field f;
    int64_t i64;
    int32_t i32;
    int16_t i16;
    dp_view bin;
    double d;
    DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
    DP_ASSERT_EQ_INT(f.id, 16);
    DP_ASSERT_OK(dp_thrift_read_i64(&r, &f, &i64, err), err);
    DP_ASSERT_TRUE(i64 == INT64_MIN);
    DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
    DP_ASSERT_EQ_INT(f.id, 17);
    DP_ASSERT_OK(dp_thrift_read_i32(&r, &f, &i32, err), err);
    DP_ASSERT_EQ_INT(i32, INT32_MAX);
    DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
    DP_ASSERT_EQ_INT(f.id, -3);
    DP_ASSERT_OK(dp_thrift_read_i16(&r, &f, &i16, err), err);
    DP_ASSERT_EQ_INT(i16, INT16_MIN);
    DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
    DP_ASSERT_EQ_INT(f.id, 32767);
    DP_ASSERT_OK(dp_thrift_read_binary(&r, &f, &bin, err), err);
    DP_ASSERT_EQ_U64(bin.len, 0);
    DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
    DP_ASSERT_EQ_INT(f.id, 1);
    DP_ASSERT_OK(dp_thrift_read_double(&r, &f, &d, err), err);
    DP_ASSERT_BITS_EQ(d, -0.0);
    DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
    DP_ASSERT_EQ_INT(f.id, 2);
    uint8_t et;
    int32_t size;
    DP_ASSERT_OK(dp_thrift_list_begin(&r, &f, &et, &size, err), err);
    DP_ASSERT_EQ_INT(et, DP_THRIFT_I64);
    DP_ASSERT_EQ_INT(size, 32);
    for (int32_t i = 0; i < size; i++) {
        DP_ASSERT_OK(dp_thrift_elem_int(&r, et, INT64_MIN, INT64_MAX, &i64, err), err);
        DP_ASSERT_TRUE(i64 == vals[i % 8]);
    }
    dp_thrift_list_end(&r);
    DP_ASSERT_OK(dp_thrift_field_next(&r, &f, err), err);
    DP_ASSERT_EQ_INT(f.type, DP_THRIFT_STOP);
    dp_thrift_struct_end(&r);
    DP_ASSERT_EQ_U64(dp_thrift_offset(&r), b.size);
    dp_buf_reset(&b);
}

DP_TEST(thrift_encoder_reports_misuse) {
    dp_buf b;
    dp_buf_init(&b);
    dp_thrift_writer w;
    dp_error err_, *err = &err_;
    dp_error_init(err);
    /* Unbalanced: begin without end. */
    dp_thrift_writer_init(&w, &b);
    dp_thrift_write_struct_begin(&w);
    dp_thrift_write_field_i32(&w, 1, 1);
    DP_ASSERT_STATUS(dp_thrift_writer_finish(&w, err), DP_STATE);
    /* A field outside any struct. */
    dp_thrift_writer_init(&w, &b);
    dp_thrift_write_field_i32(&w, 1, 1);
    DP_ASSERT_STATUS(dp_thrift_writer_finish(&w, err), DP_STATE);
    /* Too deep. */
    dp_thrift_writer_init(&w, &b);
    for (int i = 0; i < DP_LIMIT_THRIFT_DEPTH + 3; i++) {
        if (i == 0)
            dp_thrift_write_struct_begin(&w);
        else
            dp_thrift_write_field_struct_begin(&w, 1);
    }
    for (int i = 0; i < DP_LIMIT_THRIFT_DEPTH + 3; i++)
        dp_thrift_write_struct_end(&w);
    DP_ASSERT_STATUS(dp_thrift_writer_finish(&w, err), DP_LIMIT);
    dp_buf_reset(&b);
}
