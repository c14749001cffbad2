/* util layer: error model, allocation seam, cursor, buffers, checksums, RNG. */
#include "dp_test.h"
#include "util/dp_alloc.h"
#include "util/dp_buf.h"
#include "util/dp_checksum.h"
#include "util/dp_cursor.h"
#include "util/dp_json.h"
#include "util/dp_jsonw.h"
#include "util/dp_pool.h"
#include "util/dp_rng.h"

DP_TEST(status_names_and_messages) {
    DP_ASSERT_STREQ(dp_status_name(DP_CORRUPT), "CORRUPT");
    DP_ASSERT_STREQ(dp_status_name(DP_OK), "OK");
    DP_ASSERT_STREQ(dp_status_name((dp_status) 999), "UNKNOWN");
    dp_error err;
    dp_error_init(&err);
    DP_ASSERT_EQ_INT(dp_error_set(&err, DP_TRUNCATED, "page at offset %d", 42), DP_TRUNCATED);
    dp_error_prefix(&err, "%s: ", "a.parquet");
    DP_ASSERT_STREQ(err.msg, "a.parquet: page at offset 42");
    DP_ASSERT_EQ_INT(err.status, DP_TRUNCATED);
    /* NULL error pointers are accepted everywhere. */
    DP_ASSERT_EQ_INT(dp_error_set(NULL, DP_IO, "x"), DP_IO);
    dp_error_prefix(NULL, "y");
}

DP_TEST(alloc_accounting_and_fault_injection) {
    int64_t live0 = dp_alloc_live_bytes();
    void *a = dp_malloc(1000);
    DP_ASSERT_TRUE(a != NULL);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes() - live0, 1000);
    a = dp_realloc(a, 5000);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes() - live0, 5000);
    DP_ASSERT_CMP_INT(dp_alloc_peak_bytes() - live0, >=, 5000);
    dp_free(a);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
    /* Overflowing count*size and over-cap requests fail cleanly. */
    DP_ASSERT_TRUE(dp_mallocarray(SIZE_MAX / 2, 3) == NULL);
    DP_ASSERT_TRUE(dp_calloc(SIZE_MAX / 8, 16) == NULL);
    DP_ASSERT_TRUE(dp_malloc((size_t) 1 << 62) == NULL);
    /* The 2nd allocation from now fails, the others succeed. */
    dp_alloc_fail_after(2);
    void *x = dp_malloc(8), *y = dp_malloc(8), *z = dp_malloc(8);
    DP_ASSERT_TRUE(x != NULL);
    DP_ASSERT_TRUE(y == NULL);
    DP_ASSERT_TRUE(z != NULL);
    dp_free(x);
    dp_free(z);
    dp_free(NULL);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
    /* calloc: zeroed (also after reuse of a dirtied block), accounted, resizable, injectable. */
    unsigned char *d = dp_malloc(4096);
    DP_ASSERT_TRUE(d != NULL);
    memset(d, 0xab, 4096);
    dp_free(d);
    for (size_t n = 1; n <= ((size_t) 1 << 22); n *= 64) {
        unsigned char *c = dp_calloc(n, 3);
        DP_ASSERT_TRUE(c != NULL);
        DP_ASSERT_EQ_INT(dp_alloc_live_bytes() - live0, (int64_t) (3 * n));
        for (size_t i = 0; i < 3 * n; i++)
            if (c[i] != 0)
                DP_FAILF("dp_calloc(%zu, 3): byte %zu is %d", n, i, c[i]);
        c = dp_realloc(c, 6 * n);
        DP_ASSERT_TRUE(c != NULL);
        DP_ASSERT_EQ_INT(dp_alloc_live_bytes() - live0, (int64_t) (6 * n));
        dp_free(c);
    }
    dp_alloc_fail_after(1);
    DP_ASSERT_TRUE(dp_calloc(4, 4) == NULL);
    DP_ASSERT_EQ_INT(dp_alloc_live_bytes(), live0);
}

DP_TEST(cursor_bounds_and_varints) {
    const uint8_t data[] = {0x01, 0x02, 0x03, 0x04, 0x96, 0x01, 0xff};
    dp_cursor c;
    dp_cursor_init(&c, data, sizeof data);
    uint32_t v32;
    DP_ASSERT_TRUE(dp_cursor_u32le(&c, &v32));
    DP_ASSERT_EQ_U64(v32, 0x04030201u);
    uint64_t v;
    DP_ASSERT_TRUE(dp_cursor_uleb128(&c, &v));
    DP_ASSERT_EQ_U64(v, 150);
    /* 0xff continues past the end: truncated, cursor unchanged. */
    DP_ASSERT_TRUE(!dp_cursor_uleb128(&c, &v));
    DP_ASSERT_EQ_INT(dp_cursor_remaining(&c), 1);
    DP_ASSERT_TRUE(!dp_cursor_u32le(&c, &v32));
    DP_ASSERT_TRUE(!dp_cursor_skip(&c, 2));
    /* An 11-byte varint and a 10th byte with high bits are rejected. */
    const uint8_t longv[11] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    dp_cursor_init(&c, longv, sizeof longv);
    DP_ASSERT_TRUE(!dp_cursor_uleb128(&c, &v));
    const uint8_t maxv[10] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    dp_cursor_init(&c, maxv, sizeof maxv);
    DP_ASSERT_TRUE(dp_cursor_uleb128(&c, &v));
    DP_ASSERT_EQ_U64(v, UINT64_MAX);
    DP_ASSERT_EQ_INT(dp_zigzag_decode(3), -2);
    DP_ASSERT_EQ_INT(dp_zigzag_decode(dp_zigzag_encode(INT64_MIN)), INT64_MIN);
}

DP_TEST(buf_grows_and_formats) {
    dp_buf b;
    dp_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        DP_ASSERT_OK(dp_buf_printf(&b, "%d,", i), (dp_error *) NULL);
    DP_ASSERT_TRUE(b.size > 2000);
    DP_ASSERT_TRUE(strncmp((char *) b.data, "0,1,2,", 6) == 0);
    DP_ASSERT_EQ_INT(b.data[b.size], 0);
    dp_buf_reset(&b);
    dp_buf_reset(&b);
    DP_ASSERT_TRUE(b.data == NULL);
}

DP_TEST(crc32_known_values) {
    /* Standard check value of CRC-32/ISO-HDLC. */
    DP_ASSERT_EQ_U64(dp_crc32(0, "123456789", 9), 0xCBF43926u);
    DP_ASSERT_EQ_U64(dp_crc32(0, "", 0), 0);
    /* Chunked = whole. */
    char buf[1000];
    for (int i = 0; i < 1000; i++)
        buf[i] = (char) (i * 7);
    uint32_t whole = dp_crc32(0, buf, sizeof buf);
    uint32_t part = dp_crc32(dp_crc32(0, buf, 333), buf + 333, 667);
    DP_ASSERT_EQ_U64(whole, part);
}

DP_TEST(hash_and_rng_are_stable) {
    DP_ASSERT_TRUE(dp_hash64_str("abc", 1) != dp_hash64_str("abd", 1));
    DP_ASSERT_TRUE(dp_hash64_str("abc", 1) != dp_hash64_str("abc", 2));
    dp_rng a, b;
    dp_rng_seed_key(&a, 42, "MolWt", 0);
    dp_rng_seed_key(&b, 42, "MolWt", 0);
    for (int i = 0; i < 100; i++)
        DP_ASSERT_EQ_U64(dp_rng_next(&a), dp_rng_next(&b));
    /* Moments of the normal generator: mean 0, variance 1 within 5 standard errors. */
    dp_rng_seed(&a, 7);
    double s = 0, s2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double z = dp_rng_normal(&a);
        s += z;
        s2 += z * z;
    }
    DP_ASSERT_NEAR(s / n, 0.0, 5.0 / sqrt(n));
    DP_ASSERT_NEAR(s2 / n, 1.0, 5.0 * sqrt(2.0 / n));
    for (int i = 0; i < 1000; i++) {
        uint64_t k = dp_rng_below(&a, 7);
        DP_ASSERT_TRUE(k < 7);
    }
}

static void square_into(void *arg, int64_t i) {
    int64_t *out = arg;
    out[i] = i * i;
}

DP_TEST(pool_runs_every_index_once) {
    for (int threads = 1; threads <= 4; threads++) {
        dp_pool *p = NULL;
        dp_error err;
        DP_ASSERT_OK(dp_pool_create(threads, &p, &err), &err);
        DP_ASSERT_EQ_INT(dp_pool_threads(p), threads);
        for (int round = 0; round < 50; round++) {
            int64_t out[257];
            memset(out, -1, sizeof out);
            int64_t n = round % 2 ? 257 : 3;
            dp_pool_for(p, n, square_into, out);
            for (int64_t i = 0; i < n; i++)
                DP_ASSERT_EQ_INT(out[i], i * i);
        }
        dp_pool_free(p);
    }
    dp_pool_free(NULL);
}

DP_TEST(json_writer_round_trips_through_the_reader) {
    dp_buf b;
    dp_buf_init(&b);
    dp_jw w;
    dp_jw_init(&w, &b, true);
    dp_jw_object_begin(&w);
    dp_jw_kv_string(&w, "name", "tab\there \"quoted\" \x01 é");
    dp_jw_kv_number(&w, "x", 0.1);
    dp_jw_kv_number(&w, "nan", NAN);
    dp_jw_kv_int(&w, "big", INT64_MIN);
    dp_jw_key(&w, "list");
    dp_jw_array_begin(&w);
    dp_jw_number(&w, 1e-300);
    dp_jw_bool(&w, true);
    dp_jw_array_begin(&w);
    dp_jw_array_end(&w);
    dp_jw_array_end(&w);
    dp_jw_object_end(&w);
    dp_error err;
    DP_ASSERT_OK(dp_jw_finish(&w, &err), &err);
    dp_json *j = NULL;
    DP_ASSERT_OK(dp_json_parse((const char *) b.data, b.size, &j, &err), &err);
    DP_ASSERT_STREQ(dp_json_string(dp_json_get(j, "name")), "tab\there \"quoted\" \x01 é");
    DP_ASSERT_BITS_EQ(dp_json_number(dp_json_get(j, "x")), 0.1);
    DP_ASSERT_EQ_INT(dp_json_get(j, "nan")->type, DP_JSON_NULL);
    DP_ASSERT_STREQ(dp_json_get(j, "big")->text, "-9223372036854775808");
    DP_ASSERT_EQ_INT(dp_json_get(j, "list")->n, 3);
    DP_ASSERT_BITS_EQ(dp_json_number(dp_json_at(dp_json_get(j, "list"), 0)), 1e-300);
    dp_json_free(j);
    dp_buf_reset(&b);
}
