/* libFuzzer target: every Kinesis response decoder (kinesis_codec.h) and the
 * AWS error-body parser on the same input. They must return 0 or -1 with
 * KCL_ERR_MALFORMED, never crash, leak or read out of bounds; what they
 * return on success is walked so the sanitizers see every byte. */
#include "aws.h"
#include "kinesis_codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static volatile size_t sink;

static void check_err(int rc, const kcl_error *err)
{
    if (rc != 0 && err->kind != KCL_ERR_MALFORMED && err->kind != KCL_ERR_FATAL) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The decoders get the body as the HTTP layer gives it: NUL-terminated. */
    char *body = malloc(size + 1);
    if (!body) return 0;
    memcpy(body, data, size);
    body[size] = 0;
    kcl_error err;

    kcl_kinesis_records *r = NULL;
    memset(&err, 0, sizeof err);
    int rc = kcl_kinesis_decode_get_records(body, size, &r, &err);
    check_err(rc, &err);
    if (rc == 0) {
        for (size_t i = 0; i < r->count; i++) {
            const kcl_kinesis_record *x = &r->records[i];
            sink += x->data_len + strlen(x->partition_key) + strlen(x->sequence_number);
            if (x->data_len) sink += x->data[x->data_len - 1];
        }
        for (size_t i = 0; i < r->child_count; i++) {
            sink += strlen(r->child_shards[i].shard_id);
            for (int j = 0; j < r->child_shards[i].parent_count; j++) sink += strlen(r->child_shards[i].parent_shards[j]);
        }
        if (r->next_iterator) sink += strlen(r->next_iterator);
        kcl_kinesis_records_free(r);
    }

    kcl_kinesis_shard_list l = {0};
    char *tok = NULL;
    memset(&err, 0, sizeof err);
    rc = kcl_kinesis_decode_list_shards(body, size, &l, &tok, &err);
    check_err(rc, &err);
    if (rc == 0) {
        for (size_t i = 0; i < l.count; i++) sink += strlen(l.shards[i].shard_id);
        if (tok) sink += strlen(tok);
    }
    free(tok);
    kcl_kinesis_shard_list_clear(&l);

    kcl_kinesis_put_result *p = NULL;
    memset(&err, 0, sizeof err);
    rc = kcl_kinesis_decode_put_records(body, size, &p, &err);
    check_err(rc, &err);
    if (rc == 0) {
        for (size_t i = 0; i < p->count; i++) {
            const kcl_kinesis_put_result_entry *e = &p->entries[i];
            if (e->error_code) sink += strlen(e->error_code);
            else sink += strlen(e->sequence_number) + strlen(e->shard_id);
        }
        kcl_kinesis_put_result_free(p);
    }

    kcl_kinesis_stream_summary s;
    memset(&err, 0, sizeof err);
    rc = kcl_kinesis_decode_stream_summary(body, size, &s, &err);
    check_err(rc, &err);
    if (rc == 0) sink += strlen(s.stream_name) + strlen(s.stream_arn);

    char *it = NULL;
    memset(&err, 0, sizeof err);
    rc = kcl_kinesis_decode_get_shard_iterator(body, size, &it, &err);
    check_err(rc, &err);
    if (rc == 0) sink += strlen(it);
    free(it);

    for (long status = 400; status <= 500; status += 100) {
        memset(&err, 0, sizeof err);
        kcl_aws_parse_error(status, body, size, &err);
        if (err.kind == KCL_ERR_NONE) abort();
        sink += strlen(err.code) + strlen(err.message);
    }

    free(body);
    return 0;
}
