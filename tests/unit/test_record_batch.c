/* record_batch: plain (not aggregated) records, the resume skip filter, and
 * the bookkeeping a resume relies on (last_seq / last_sub). */
#include "buf.h"
#include "kinesis_codec.h"
#include "record_batch.h"
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A GetRecords body of `n` plain records, sequence numbers 1000.., data "r<i>" */
static kcl_kinesis_records *plain(int n)
{
    kcl_buf b = KCL_BUF_INIT;
    kcl_buf_append(&b, "{\"Records\":[", 12);
    for (int i = 0; i < n; i++) {
        char one[160], data[16], b64[32];
        int dl = snprintf(data, sizeof data, "r%d", i);
        /* tiny base64 of data */
        static const char *T = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        int o = 0;
        for (int k = 0; k < dl; k += 3) {
            unsigned v = (unsigned)(unsigned char)data[k] << 16;
            if (k + 1 < dl) v |= (unsigned)(unsigned char)data[k + 1] << 8;
            if (k + 2 < dl) v |= (unsigned char)data[k + 2];
            b64[o++] = T[(v >> 18) & 63];
            b64[o++] = T[(v >> 12) & 63];
            b64[o++] = k + 1 < dl ? T[(v >> 6) & 63] : '=';
            b64[o++] = k + 2 < dl ? T[v & 63] : '=';
        }
        b64[o] = 0;
        int len = snprintf(one, sizeof one, "%s{\"Data\":\"%s\",\"PartitionKey\":\"pk%d\",\"SequenceNumber\":\"%d\"}",
                           i ? "," : "", b64, i, 1000 + i);
        kcl_buf_append(&b, one, (size_t)len);
    }
    const char *tail = "],\"NextShardIterator\":\"NEXT\",\"MillisBehindLatest\":7}";
    kcl_buf_append(&b, tail, strlen(tail));
    kcl_kinesis_records *r = NULL;
    kcl_error err;
    CHECK(kcl_kinesis_decode_get_records((const char *)b.data, b.len, &r, &err) == 0);
    kcl_buf_free(&b);
    return r;
}

static void test_plain_all(void)
{
    kcl_kinesis_records *raw = plain(200);
    if (!raw) return;
    kcl_record_batch b;
    kcl_error err;
    CHECK_EQ_INT(kcl_record_batch_build(&b, raw, NULL, &err), 0);
    CHECK_EQ_INT(b.count, 200);
    CHECK_EQ_INT(b.aggregated, 0);
    CHECK_EQ_INT(b.millis_behind_latest, 7);
    int ok = 1;
    for (size_t i = 0; i < b.count; i++) {
        char want[32], pk[32];
        snprintf(want, sizeof want, "%zu", 1000 + i);
        snprintf(pk, sizeof pk, "pk%zu", i);
        ok &= strcmp(b.records[i].sequence_number, want) == 0 && strcmp(b.records[i].partition_key, pk) == 0 &&
              b.records[i].sub_sequence_number == -1 && b.records[i].explicit_hash_key == NULL;
    }
    CHECK_MSG(ok, "records not in order or not as sent");
    CHECK_EQ_STR(b.last_seq, "1199");
    CHECK_EQ_INT(b.last_sub, -1);
    kcl_record_batch_free(&b);
}

static void test_plain_skip(void)
{
    kcl_kinesis_records *raw = plain(100);
    if (!raw) return;
    kcl_batch_opts o = {.skip_seq = "1049", .skip_sub = 0};
    kcl_record_batch b;
    kcl_error err;
    CHECK_EQ_INT(kcl_record_batch_build(&b, raw, &o, &err), 0);
    CHECK_EQ_INT(b.count, 50);
    if (b.count) CHECK_EQ_STR(b.records[0].sequence_number, "1050");
    CHECK_EQ_STR(b.last_seq, "1099");
    kcl_record_batch_free(&b);

    /* everything skipped: nothing delivered, but the position still advances */
    raw = plain(3);
    if (!raw) return;
    kcl_batch_opts all = {.skip_seq = "5000", .skip_sub = -1};
    CHECK_EQ_INT(kcl_record_batch_build(&b, raw, &all, &err), 0);
    CHECK_EQ_INT(b.count, 0);
    CHECK_EQ_STR(b.last_seq, "1002");
    kcl_record_batch_free(&b);
}

static void test_empty(void)
{
    kcl_kinesis_records *raw = plain(0);
    if (!raw) return;
    kcl_record_batch b;
    kcl_error err;
    CHECK_EQ_INT(kcl_record_batch_build(&b, raw, NULL, &err), 0);
    CHECK_EQ_INT(b.count, 0);
    CHECK(b.last_seq == NULL);
    kcl_record_batch_free(&b);
}

int main(void)
{
    for (int round = 0; round < 2; round++) {
        test_plain_all();
        test_plain_skip();
        test_empty();
    }
    return TEST_END();
}
