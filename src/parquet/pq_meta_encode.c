/* Encoding FileMetaData and PageHeader into the Thrift compact protocol: the inverse of
 * dp_pq_file_meta_decode / dp_pq_page_header_decode for every field those decode (see
 * pq_meta.h), so the Parquet writer fills the same structs the reader produces. Field ids are
 * those of parquet.thrift; fields are written in ascending id order (short-form headers).
 * Encryption fields are never written: dpipe does not write encrypted files.
 */
#include "parquet/pq_meta.h"
#include "parquet/thrift_compact.h"

static void put_view(dp_thrift_writer *w, int16_t id, dp_view v) {
    dp_thrift_write_field_binary(w, id, v.data != NULL ? v.data : (const uint8_t *) "", v.len);
}

static void put_statistics(dp_thrift_writer *w, int16_t id, const dp_pq_statistics *s) {
    dp_thrift_write_field_struct_begin(w, id);
    if (s->has_max)
        put_view(w, 1, s->max);
    if (s->has_min)
        put_view(w, 2, s->min);
    if (s->has_null_count)
        dp_thrift_write_field_i64(w, 3, s->null_count);
    if (s->has_distinct_count)
        dp_thrift_write_field_i64(w, 4, s->distinct_count);
    if (s->has_max_value)
        put_view(w, 5, s->max_value);
    if (s->has_min_value)
        put_view(w, 6, s->min_value);
    if (s->has_nan_count)
        dp_thrift_write_field_i64(w, 9, s->nan_count);
    dp_thrift_write_struct_end(w);
}

/* An empty struct as the member `member` of a union field `id`. */
static void put_union_empty(dp_thrift_writer *w, int16_t id, int16_t member) {
    dp_thrift_write_field_struct_begin(w, id);
    if (member != 0) {
        dp_thrift_write_field_struct_begin(w, member);
        dp_thrift_write_struct_end(w);
    }
    dp_thrift_write_struct_end(w);
}

static void put_time(dp_thrift_writer *w, const dp_pq_logical *lt) {
    dp_thrift_write_field_bool(w, 1, lt->time_utc);
    /* TimeUnit union: 1 MILLIS, 2 MICROS, 3 NANOS; an unknown unit is written as no member. */
    put_union_empty(w, 2,
                    (int16_t) (lt->time_unit >= 0 && lt->time_unit <= 2 ? lt->time_unit + 1 : 0));
}

static void put_logical(dp_thrift_writer *w, int16_t id, const dp_pq_logical *lt) {
    dp_thrift_write_field_struct_begin(w, id);
    switch (lt->kind) {
    case DP_PQ_LT_DECIMAL:
        dp_thrift_write_field_struct_begin(w, DP_PQ_LT_DECIMAL);
        dp_thrift_write_field_i32(w, 1, lt->decimal_scale);
        dp_thrift_write_field_i32(w, 2, lt->decimal_precision);
        dp_thrift_write_struct_end(w);
        break;
    case DP_PQ_LT_INTEGER:
        dp_thrift_write_field_struct_begin(w, DP_PQ_LT_INTEGER);
        dp_thrift_write_field_i8(w, 1, (int8_t) lt->int_bit_width);
        dp_thrift_write_field_bool(w, 2, lt->int_signed);
        dp_thrift_write_struct_end(w);
        break;
    case DP_PQ_LT_TIME:
    case DP_PQ_LT_TIMESTAMP:
        dp_thrift_write_field_struct_begin(w, (int16_t) lt->kind);
        put_time(w, lt);
        dp_thrift_write_struct_end(w);
        break;
    case DP_PQ_LT_OTHER:
        if (lt->other_id != 0) {
            dp_thrift_write_field_struct_begin(w, (int16_t) lt->other_id);
            dp_thrift_write_struct_end(w);
        }
        break;
    default: /* members that are empty structs */
        dp_thrift_write_field_struct_begin(w, (int16_t) lt->kind);
        dp_thrift_write_struct_end(w);
    }
    dp_thrift_write_struct_end(w);
}

static void put_schema_element(dp_thrift_writer *w, const dp_pq_schema_element *e) {
    dp_thrift_write_struct_begin(w);
    if (e->has_type)
        dp_thrift_write_field_i32(w, 1, (int32_t) e->type);
    if (e->type_length != 0)
        dp_thrift_write_field_i32(w, 2, e->type_length);
    if (e->has_repetition)
        dp_thrift_write_field_i32(w, 3, (int32_t) e->repetition);
    put_view(w, 4, e->name);
    if (e->num_children != 0 || !e->has_type)
        dp_thrift_write_field_i32(w, 5, e->num_children);
    if (e->converted_type != DP_PQ_CT_NONE)
        dp_thrift_write_field_i32(w, 6, e->converted_type);
    if (e->has_scale)
        dp_thrift_write_field_i32(w, 7, e->scale);
    if (e->has_precision)
        dp_thrift_write_field_i32(w, 8, e->precision);
    if (e->has_field_id)
        dp_thrift_write_field_i32(w, 9, e->field_id);
    if (e->logical.kind != DP_PQ_LT_NONE)
        put_logical(w, 10, &e->logical);
    dp_thrift_write_struct_end(w);
}

static void put_column_meta(dp_thrift_writer *w, int16_t id, const dp_pq_column_meta *cm) {
    dp_thrift_write_field_struct_begin(w, id);
    dp_thrift_write_field_i32(w, 1, (int32_t) cm->type);
    dp_thrift_write_field_list_begin(w, 2, DP_THRIFT_I32, cm->n_encodings);
    for (int32_t i = 0; i < cm->n_encodings; i++)
        dp_thrift_write_i32(w, cm->encodings[i]);
    dp_thrift_write_field_list_begin(w, 3, DP_THRIFT_BINARY, cm->n_path);
    for (int32_t i = 0; i < cm->n_path; i++)
        dp_thrift_write_binary(
            w, cm->path[i].data != NULL ? cm->path[i].data : (const uint8_t *) "", cm->path[i].len);
    dp_thrift_write_field_i32(w, 4, cm->codec);
    dp_thrift_write_field_i64(w, 5, cm->num_values);
    dp_thrift_write_field_i64(w, 6, cm->total_uncompressed_size);
    dp_thrift_write_field_i64(w, 7, cm->total_compressed_size);
    dp_thrift_write_field_i64(w, 9, cm->data_page_offset);
    if (cm->has_index_page_offset)
        dp_thrift_write_field_i64(w, 10, cm->index_page_offset);
    if (cm->has_dictionary_page_offset)
        dp_thrift_write_field_i64(w, 11, cm->dictionary_page_offset);
    if (cm->statistics.present)
        put_statistics(w, 12, &cm->statistics);
    if (cm->n_encoding_stats > 0) {
        dp_thrift_write_field_list_begin(w, 13, DP_THRIFT_STRUCT, cm->n_encoding_stats);
        for (int32_t i = 0; i < cm->n_encoding_stats; i++) {
            const dp_pq_page_encoding_stats *s = &cm->encoding_stats[i];
            dp_thrift_write_struct_begin(w);
            dp_thrift_write_field_i32(w, 1, s->page_type);
            dp_thrift_write_field_i32(w, 2, s->encoding);
            dp_thrift_write_field_i32(w, 3, s->count);
            dp_thrift_write_struct_end(w);
        }
    }
    dp_thrift_write_struct_end(w);
}

static void put_row_group(dp_thrift_writer *w, const dp_pq_row_group *rg) {
    dp_thrift_write_struct_begin(w);
    dp_thrift_write_field_list_begin(w, 1, DP_THRIFT_STRUCT, rg->n_columns);
    for (int32_t j = 0; j < rg->n_columns; j++) {
        const dp_pq_column_chunk *cc = &rg->columns[j];
        dp_thrift_write_struct_begin(w);
        if (cc->has_file_path)
            put_view(w, 1, cc->file_path);
        dp_thrift_write_field_i64(w, 2, cc->file_offset);
        if (cc->has_meta_data)
            put_column_meta(w, 3, &cc->meta);
        dp_thrift_write_struct_end(w);
    }
    dp_thrift_write_field_i64(w, 2, rg->total_byte_size);
    dp_thrift_write_field_i64(w, 3, rg->num_rows);
    if (rg->has_file_offset)
        dp_thrift_write_field_i64(w, 5, rg->file_offset);
    if (rg->has_total_compressed_size)
        dp_thrift_write_field_i64(w, 6, rg->total_compressed_size);
    if (rg->has_ordinal)
        dp_thrift_write_field_i16(w, 7, (int16_t) rg->ordinal);
    dp_thrift_write_struct_end(w);
}

dp_status dp_pq_file_meta_encode(const dp_pq_file_meta *m, dp_buf *out, dp_error *err) {
    if (m->n_schema < 0 || m->n_row_groups < 0 || m->n_kv < 0 || m->n_column_orders < 0)
        return dp_error_set(err, DP_INVALID_ARG, "FileMetaData encode: negative counts");
    dp_thrift_writer w;
    dp_thrift_writer_init(&w, out);
    dp_thrift_write_struct_begin(&w);
    dp_thrift_write_field_i32(&w, 1, m->version);
    dp_thrift_write_field_list_begin(&w, 2, DP_THRIFT_STRUCT, m->n_schema);
    for (int32_t i = 0; i < m->n_schema; i++)
        put_schema_element(&w, &m->schema[i]);
    dp_thrift_write_field_i64(&w, 3, m->num_rows);
    dp_thrift_write_field_list_begin(&w, 4, DP_THRIFT_STRUCT, m->n_row_groups);
    for (int32_t g = 0; g < m->n_row_groups; g++)
        put_row_group(&w, &m->row_groups[g]);
    if (m->n_kv > 0) {
        dp_thrift_write_field_list_begin(&w, 5, DP_THRIFT_STRUCT, m->n_kv);
        for (int32_t i = 0; i < m->n_kv; i++) {
            dp_thrift_write_struct_begin(&w);
            put_view(&w, 1, m->kv[i].key);
            if (m->kv[i].has_value)
                put_view(&w, 2, m->kv[i].value);
            dp_thrift_write_struct_end(&w);
        }
    }
    if (m->has_created_by)
        put_view(&w, 6, m->created_by);
    if (m->n_column_orders > 0) {
        dp_thrift_write_field_list_begin(&w, 7, DP_THRIFT_STRUCT, m->n_column_orders);
        for (int32_t i = 0; i < m->n_column_orders; i++) {
            dp_thrift_write_struct_begin(&w);
            if (m->column_orders[i] != 0) {
                dp_thrift_write_field_struct_begin(&w, (int16_t) m->column_orders[i]);
                dp_thrift_write_struct_end(&w);
            }
            dp_thrift_write_struct_end(&w);
        }
    }
    dp_thrift_write_struct_end(&w);
    return dp_thrift_writer_finish(&w, err);
}

dp_status dp_pq_page_header_encode(const dp_pq_page_header *h, dp_buf *out, dp_error *err) {
    dp_thrift_writer w;
    dp_thrift_writer_init(&w, out);
    dp_thrift_write_struct_begin(&w);
    dp_thrift_write_field_i32(&w, 1, h->type);
    dp_thrift_write_field_i32(&w, 2, h->uncompressed_size);
    dp_thrift_write_field_i32(&w, 3, h->compressed_size);
    if (h->has_crc)
        dp_thrift_write_field_i32(&w, 4, (int32_t) h->crc);
    if (h->has_data_v1) {
        dp_thrift_write_field_struct_begin(&w, 5);
        dp_thrift_write_field_i32(&w, 1, h->num_values);
        dp_thrift_write_field_i32(&w, 2, h->encoding);
        dp_thrift_write_field_i32(&w, 3, h->def_encoding);
        dp_thrift_write_field_i32(&w, 4, h->rep_encoding);
        dp_thrift_write_struct_end(&w);
    }
    if (h->has_dict) {
        dp_thrift_write_field_struct_begin(&w, 7);
        dp_thrift_write_field_i32(&w, 1, h->dict_num_values);
        dp_thrift_write_field_i32(&w, 2, h->dict_encoding);
        if (h->dict_is_sorted)
            dp_thrift_write_field_bool(&w, 3, true);
        dp_thrift_write_struct_end(&w);
    }
    if (h->has_data_v2) {
        dp_thrift_write_field_struct_begin(&w, 8);
        dp_thrift_write_field_i32(&w, 1, h->num_values);
        dp_thrift_write_field_i32(&w, 2, h->num_nulls);
        dp_thrift_write_field_i32(&w, 3, h->num_rows);
        dp_thrift_write_field_i32(&w, 4, h->encoding);
        dp_thrift_write_field_i32(&w, 5, h->def_levels_byte_length);
        dp_thrift_write_field_i32(&w, 6, h->rep_levels_byte_length);
        if (!h->is_compressed)
            dp_thrift_write_field_bool(&w, 7, false);
        dp_thrift_write_struct_end(&w);
    }
    dp_thrift_write_struct_end(&w);
    return dp_thrift_writer_finish(&w, err);
}
