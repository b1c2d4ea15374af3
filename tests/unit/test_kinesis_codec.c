/* kinesis_codec: request bodies parsed back with json.h, canned response
 * bodies decoded, and malformed bodies each rejected as KCL_ERR_MALFORMED. */
#include "base64.h"
#include "json.h"
#include "kinesis_codec.h"
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#define S(lit) lit, sizeof(lit) - 1

static kcl_json doc;

static kcl_jv parse(const kcl_buf *b)
{
    kcl_error err = {0};
    if (kcl_json_parse(&doc, b->data, b->len, 0, &err) != 0) {
        fprintf(stderr, "request body does not parse: %s\n", kcl_buf_cstr(b));
        return -1;
    }
    return kcl_json_root(&doc);
}

static int has_str(kcl_jv obj, const char *key, const char *want)
{
    return kcl_json_str_eq(&doc, kcl_json_get(&doc, obj, key), want);
}

static void test_requests(void)
{
    kcl_buf b = KCL_BUF_INIT;
    kcl_error err = {0};

    kcl_kinesis_list_shards_req ls = {.stream_name = "s1"};
    CHECK(kcl_kinesis_build_list_shards(&b, &ls) == 0);
    kcl_jv r = parse(&b);
    CHECK(has_str(r, "StreamName", "s1"));
    CHECK_EQ_INT(kcl_json_count(&doc, r), 1);

    ls.filter = KCL_SHARD_FILTER_AT_TIMESTAMP;
    ls.filter_timestamp_ms = 1700000000123;
    ls.max_results = 50;
    CHECK(kcl_kinesis_build_list_shards(&b, &ls) == 0);
    r = parse(&b);
    kcl_jv f = kcl_json_get(&doc, r, "ShardFilter");
    CHECK(has_str(f, "Type", "AT_TIMESTAMP"));
    CHECK(strstr(b.data, "\"Timestamp\":1700000000.123") != NULL);
    double d = 0;
    CHECK(kcl_json_double(&doc, kcl_json_get(&doc, f, "Timestamp"), &d) == 0 && d > 1700000000.12 && d < 1700000000.13);
    int64_t i64 = 0;
    CHECK(kcl_json_int64(&doc, kcl_json_get(&doc, r, "MaxResults"), &i64) == 0 && i64 == 50);

    ls.filter = KCL_SHARD_FILTER_AFTER_SHARD_ID;
    ls.filter_shard_id = "shardId-000000000002";
    ls.max_results = 0;
    CHECK(kcl_kinesis_build_list_shards(&b, &ls) == 0);
    r = parse(&b);
    f = kcl_json_get(&doc, r, "ShardFilter");
    CHECK(has_str(f, "ShardId", "shardId-000000000002"));
    CHECK(kcl_json_get(&doc, f, "Timestamp") < 0);

    /* Following pages carry NextToken and never StreamName. */
    CHECK(kcl_kinesis_build_list_shards_next(&b, "tok\"en", 0) == 0);
    r = parse(&b);
    CHECK(has_str(r, "NextToken", "tok\"en"));
    CHECK(kcl_json_get(&doc, r, "StreamName") < 0);

    kcl_kinesis_iterator_req it = {.stream_name = "s1", .shard_id = "shardId-000000000000",
                                   .type = KCL_ITER_AT_TIMESTAMP, .timestamp_ms = 1700000000005};
    CHECK(kcl_kinesis_build_get_shard_iterator(&b, &it, &err) == 0);
    r = parse(&b);
    CHECK(has_str(r, "ShardIteratorType", "AT_TIMESTAMP"));
    CHECK(has_str(r, "ShardId", "shardId-000000000000"));
    CHECK(strstr(b.data, "\"Timestamp\":1700000000.005}") != NULL);
    CHECK(kcl_json_get(&doc, r, "StartingSequenceNumber") < 0);

    it.type = KCL_ITER_AFTER_SEQUENCE_NUMBER;
    it.sequence_number = "4959";
    CHECK(kcl_kinesis_build_get_shard_iterator(&b, &it, &err) == 0);
    r = parse(&b);
    CHECK(has_str(r, "ShardIteratorType", "AFTER_SEQUENCE_NUMBER"));
    CHECK(has_str(r, "StartingSequenceNumber", "4959"));
    CHECK(kcl_json_get(&doc, r, "Timestamp") < 0);

    it.sequence_number = NULL;   /* required for this type */
    CHECK(kcl_kinesis_build_get_shard_iterator(&b, &it, &err) == -1);
    CHECK_EQ_INT(err.kind, KCL_ERR_INVALID_ARGUMENT);

    it.type = KCL_ITER_LATEST;
    CHECK(kcl_kinesis_build_get_shard_iterator(&b, &it, &err) == 0);
    CHECK(has_str(parse(&b), "ShardIteratorType", "LATEST"));

    CHECK(kcl_kinesis_build_get_records(&b, "ITER", 250) == 0);
    r = parse(&b);
    CHECK(has_str(r, "ShardIterator", "ITER"));
    CHECK(kcl_json_int64(&doc, kcl_json_get(&doc, r, "Limit"), &i64) == 0 && i64 == 250);

    const uint8_t bin[] = {0, 1, 2, 0xff, 0, 'x'};
    kcl_kinesis_put_entry pe[2] = {
        {.data = bin, .data_len = sizeof bin, .partition_key = "pk-é", .explicit_hash_key = "42"},
        {.data = NULL, .data_len = 0, .partition_key = "p2"},
    };
    CHECK(kcl_kinesis_build_put_records(&b, "s1", pe, 2) == 0);
    r = parse(&b);
    CHECK(has_str(r, "StreamName", "s1"));
    kcl_jv recs = kcl_json_get(&doc, r, "Records");
    CHECK_EQ_INT(kcl_json_count(&doc, recs), 2);
    kcl_jv e0 = kcl_json_first(&doc, recs), e1 = kcl_json_next(&doc, e0);
    kcl_buf tmp = KCL_BUF_INIT;
    CHECK(kcl_json_str(&doc, kcl_json_get(&doc, e0, "Data"), &tmp) == 0);
    uint8_t dec[16];
    CHECK(kcl_base64_decode(tmp.data, tmp.len, dec) == (long)sizeof bin && memcmp(dec, bin, sizeof bin) == 0);
    CHECK(has_str(e0, "PartitionKey", "pk-é"));
    CHECK(has_str(e0, "ExplicitHashKey", "42"));
    CHECK(has_str(e1, "Data", ""));
    CHECK(kcl_json_get(&doc, e1, "ExplicitHashKey") < 0);
    kcl_buf_free(&tmp);

    CHECK(kcl_kinesis_build_create_stream(&b, "s1", 3) == 0);
    r = parse(&b);
    CHECK(kcl_json_int64(&doc, kcl_json_get(&doc, r, "ShardCount"), &i64) == 0 && i64 == 3);
    CHECK(kcl_kinesis_build_delete_stream(&b, "s1", 1) == 0);
    int bv = 0;
    CHECK(kcl_json_bool(&doc, kcl_json_get(&doc, parse(&b), "EnforceConsumerDeletion"), &bv) == 0 && bv == 1);
    CHECK(kcl_kinesis_build_split_shard(&b, "s1", "shardId-000000000000", "100") == 0);
    r = parse(&b);
    CHECK(has_str(r, "ShardToSplit", "shardId-000000000000") && has_str(r, "NewStartingHashKey", "100"));
    CHECK(kcl_kinesis_build_merge_shards(&b, "s1", "a", "b") == 0);
    r = parse(&b);
    CHECK(has_str(r, "ShardToMerge", "a") && has_str(r, "AdjacentShardToMerge", "b"));
    CHECK(kcl_kinesis_build_stream_name(&b, "s1") == 0);
    CHECK(has_str(parse(&b), "StreamName", "s1"));
    kcl_buf_free(&b);
}

static const char LIST_PAGE1[] =
    "{\"Shards\":[{\"ShardId\":\"shardId-000000000000\","
    "\"HashKeyRange\":{\"StartingHashKey\":\"0\",\"EndingHashKey\":\"170141183460469231731687303715884105727\"},"
    "\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"49590000000000000000000000000000000000000000000000000002\","
    "\"EndingSequenceNumber\":\"49590000000000000000000000000000000000000000000000000099\"}}],"
    "\"NextToken\":\"page-2\"}";
static const char LIST_PAGE2[] =
    "{\"Shards\":[{\"ShardId\":\"shardId-000000000001\",\"ParentShardId\":\"shardId-000000000000\","
    "\"AdjacentParentShardId\":null,"
    "\"HashKeyRange\":{\"StartingHashKey\":\"170141183460469231731687303715884105728\","
    "\"EndingHashKey\":\"340282366920938463463374607431768211455\"},"
    "\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"1\"}}]}";

static void test_list_shards(void)
{
    kcl_kinesis_shard_list l = {0};
    kcl_error err = {0};
    char *tok = NULL;
    CHECK(kcl_kinesis_decode_list_shards(S(LIST_PAGE1), &l, &tok, &err) == 0);
    CHECK_EQ_STR(tok, "page-2");
    free(tok);
    CHECK(kcl_kinesis_decode_list_shards(S(LIST_PAGE2), &l, &tok, &err) == 0);
    CHECK(tok == NULL);
    CHECK_EQ_INT(l.count, 2);
    CHECK_EQ_STR(l.shards[0].shard_id, "shardId-000000000000");
    CHECK_EQ_STR(l.shards[0].parent_shard_id, "");
    CHECK(l.shards[0].ending_sequence_number[0] != 0);
    CHECK_EQ_STR(l.shards[1].parent_shard_id, "shardId-000000000000");
    CHECK_EQ_STR(l.shards[1].adjacent_parent_shard_id, "");
    CHECK_EQ_STR(l.shards[1].ending_sequence_number, "");   /* open */
    CHECK_EQ_STR(l.shards[1].hash_range.ending, "340282366920938463463374607431768211455");
    static const uint8_t ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    CHECK(memcmp(l.shards[1].hash_range.end_key, ones, 16) == 0);
    CHECK(l.shards[1].hash_range.start_key[0] == 0x80);

    /* A bad page leaves the list as it was. */
    CHECK(kcl_kinesis_decode_list_shards(S("{\"Shards\":[{\"ShardId\":\"x\"}]}"), &l, &tok, &err) == -1);
    CHECK_EQ_INT(err.kind, KCL_ERR_MALFORMED);
    CHECK_EQ_INT(l.count, 2);
    CHECK(tok == NULL);
    kcl_kinesis_shard_list_clear(&l);
    CHECK(l.shards == NULL && l.count == 0);
}

static void test_summary_and_iterator(void)
{
    kcl_kinesis_stream_summary s;
    kcl_error err = {0};
    static const char SUM[] =
        "{\"StreamDescriptionSummary\":{\"StreamName\":\"s1\",\"StreamARN\":\"arn:aws:kinesis:us-east-1:0:stream/s1\","
        "\"StreamStatus\":\"ACTIVE\",\"RetentionPeriodHours\":24,\"StreamCreationTimestamp\":1700000000,"
        "\"EnhancedMonitoring\":[{\"ShardLevelMetrics\":[]}],\"EncryptionType\":\"NONE\","
        "\"OpenShardCount\":3,\"ConsumerCount\":2}}";
    CHECK(kcl_kinesis_decode_stream_summary(S(SUM), &s, &err) == 0);
    CHECK_EQ_STR(s.stream_name, "s1");
    CHECK_EQ_STR(s.stream_arn, "arn:aws:kinesis:us-east-1:0:stream/s1");
    CHECK_EQ_INT(s.status, KCL_STREAM_ACTIVE);
    CHECK_EQ_STR(kcl_kinesis_stream_status_name(s.status), "ACTIVE");
    CHECK_EQ_INT(s.open_shard_count, 3);
    CHECK_EQ_INT(s.retention_hours, 24);
    CHECK_EQ_INT(s.consumer_count, 2);
    CHECK_EQ_INT(s.creation_ms, 1700000000000LL);
    CHECK_EQ_INT(s.encrypted, 0);

    char *it = NULL;
    CHECK(kcl_kinesis_decode_get_shard_iterator(S("{\"ShardIterator\":\"AAAA\\/BBB=\"}"), &it, &err) == 0);
    CHECK_EQ_STR(it, "AAAA/BBB=");
    free(it);
}

static void test_get_records(void)
{
    /* "AAEC/wB4" = 00 01 02 ff 00 78; "" = empty; "aGk=" = "hi" (slash escaped) */
    static const char BODY[] =
        "{\"Records\":[{\"Data\":\"AAEC/wB4\",\"PartitionKey\":\"k1\",\"SequenceNumber\":\"100\","
        "\"ApproximateArrivalTimestamp\":1.700000000123E9,\"EncryptionType\":\"KMS\"},"
        "{\"SequenceNumber\":\"101\",\"Data\":\"\",\"PartitionKey\":\"k\\u00e9\",\"Extra\":{\"a\":[1]},"
        "\"ApproximateArrivalTimestamp\":1700000000.5},"
        "{\"Data\":\"AAEC\\/wB4\",\"PartitionKey\":\"k3\",\"SequenceNumber\":\"102\"}],"
        "\"NextShardIterator\":\"NEXT\",\"MillisBehindLatest\":1234}";
    kcl_kinesis_records *r = NULL;
    kcl_error err = {0};
    CHECK(kcl_kinesis_decode_get_records(S(BODY), &r, &err) == 0);
    if (!r) return;
    CHECK_EQ_INT(r->count, 3);
    static const uint8_t want[] = {0, 1, 2, 0xff, 0, 'x'};
    CHECK(r->records[0].data_len == 6 && memcmp(r->records[0].data, want, 6) == 0);
    CHECK_EQ_STR(r->records[0].partition_key, "k1");
    CHECK_EQ_STR(r->records[0].sequence_number, "100");
    CHECK_EQ_INT(r->records[0].arrival_ms, 1700000000123LL);
    CHECK_EQ_INT(r->records[0].encryption, KCL_ENCRYPTION_KMS);
    CHECK_EQ_INT(r->records[1].data_len, 0);
    CHECK_EQ_STR(r->records[1].partition_key, "k\xc3\xa9");
    CHECK_EQ_INT(r->records[1].partition_key_len, 3);
    CHECK_EQ_INT(r->records[1].arrival_ms, 1700000000500LL);
    CHECK(r->records[2].data_len == 6 && memcmp(r->records[2].data, want, 6) == 0);
    CHECK_EQ_INT(r->records[2].arrival_ms, 0);
    CHECK_EQ_STR(r->next_iterator, "NEXT");
    CHECK_EQ_INT(r->millis_behind_latest, 1234);
    CHECK_EQ_INT(r->child_count, 0);
    kcl_kinesis_records_free(r);

    /* Shard end: no iterator, children. */
    static const char END[] =
        "{\"Records\":[],\"NextShardIterator\":null,\"MillisBehindLatest\":0,\"ChildShards\":["
        "{\"ShardId\":\"shardId-000000000003\",\"ParentShards\":[\"shardId-000000000000\",\"shardId-000000000001\"],"
        "\"HashKeyRange\":{\"StartingHashKey\":\"0\",\"EndingHashKey\":\"99\"}},"
        "{\"ShardId\":\"shardId-000000000004\",\"ParentShards\":[\"shardId-000000000002\"],"
        "\"HashKeyRange\":{\"StartingHashKey\":\"100\",\"EndingHashKey\":\"200\"}}]}";
    CHECK(kcl_kinesis_decode_get_records(S(END), &r, &err) == 0);
    if (!r) return;
    CHECK_EQ_INT(r->count, 0);
    CHECK(r->next_iterator == NULL);
    CHECK_EQ_INT(r->millis_behind_latest, 0);
    CHECK_EQ_INT(r->child_count, 2);
    CHECK_EQ_STR(r->child_shards[0].shard_id, "shardId-000000000003");
    CHECK_EQ_INT(r->child_shards[0].parent_count, 2);
    CHECK_EQ_STR(r->child_shards[0].parent_shards[1], "shardId-000000000001");
    CHECK_EQ_STR(r->child_shards[1].hash_range.starting, "100");
    CHECK(r->child_shards[1].has_hash_range);
    CHECK_EQ_INT(r->child_shards[1].parent_count, 1);
    kcl_kinesis_records_free(r);

    /* Absent NextShardIterator and MillisBehindLatest. */
    CHECK(kcl_kinesis_decode_get_records(S("{\"Records\":[]}"), &r, &err) == 0);
    if (r) {
        CHECK(r->next_iterator == NULL);
        CHECK_EQ_INT(r->millis_behind_latest, -1);
        kcl_kinesis_records_free(r);
    }

    /* A big body: 10,000 records round-trip. */
    kcl_buf big = KCL_BUF_INIT;
    kcl_buf_append_str(&big, "{\"Records\":[");
    for (int i = 0; i < 10000; i++) {
        uint8_t raw[40];
        for (int j = 0; j < 40; j++) raw[j] = (uint8_t)(i * 7 + j);
        char b64[64];
        size_t n = kcl_base64_encode(raw, (size_t)(i % 40), b64);
        kcl_buf_printf(&big, "%s{\"Data\":\"%.*s\",\"PartitionKey\":\"pk%d\",\"SequenceNumber\":\"%d\","
                       "\"ApproximateArrivalTimestamp\":1700000000.%03d}",
                       i ? "," : "", (int)n, b64, i, 1000000 + i, i % 1000);
    }
    kcl_buf_append_str(&big, "],\"NextShardIterator\":\"N\",\"MillisBehindLatest\":5}");
    CHECK(kcl_kinesis_decode_get_records(big.data, big.len, &r, &err) == 0);
    if (r) {
        CHECK_EQ_INT(r->count, 10000);
        int ok = 1;
        for (int i = 0; i < (int)r->count && ok; i++) {
            char pk[16];
            snprintf(pk, sizeof pk, "pk%d", i);
            ok = r->records[i].data_len == (size_t)(i % 40) && strcmp(r->records[i].partition_key, pk) == 0 &&
                 r->records[i].arrival_ms == 1700000000000LL + i % 1000 &&
                 (r->records[i].data_len == 0 || r->records[i].data[r->records[i].data_len - 1] ==
                                                     (uint8_t)(i * 7 + (int)r->records[i].data_len - 1));
            if (!ok) fprintf(stderr, "record %d differs\n", i);
        }
        CHECK(ok);
        kcl_kinesis_records_free(r);
    }
    kcl_buf_free(&big);
}

static void test_put_records(void)
{
    static const char BODY[] =
        "{\"FailedRecordCount\":1,\"Records\":["
        "{\"SequenceNumber\":\"1\",\"ShardId\":\"shardId-000000000000\"},"
        "{\"ErrorCode\":\"ProvisionedThroughputExceededException\",\"ErrorMessage\":\"Rate exceeded\"},"
        "{\"SequenceNumber\":\"3\",\"ShardId\":\"shardId-000000000001\"}]}";
    kcl_kinesis_put_result *r = NULL;
    kcl_error err = {0};
    CHECK(kcl_kinesis_decode_put_records(S(BODY), &r, &err) == 0);
    if (!r) return;
    CHECK_EQ_INT(r->failed_count, 1);
    CHECK_EQ_INT(r->count, 3);
    CHECK_EQ_STR(r->entries[0].sequence_number, "1");
    CHECK_EQ_STR(r->entries[0].shard_id, "shardId-000000000000");
    CHECK(r->entries[0].error_code == NULL);
    CHECK(r->entries[1].sequence_number == NULL);
    CHECK_EQ_STR(r->entries[1].error_code, "ProvisionedThroughputExceededException");
    CHECK_EQ_STR(r->entries[1].error_message, "Rate exceeded");
    CHECK_EQ_STR(r->entries[2].shard_id, "shardId-000000000001");
    kcl_kinesis_put_result_free(r);
}

static void test_malformed(void)
{
    static const char *const GR[] = {
        "", "null", "[]", "{", "{\"Records\":{}}", "{\"Records\":[1]}", "{\"Records\":[{}]}",
        "{\"Records\":[{\"Data\":\"!!!!\",\"PartitionKey\":\"k\",\"SequenceNumber\":\"1\"}]}",
        "{\"Records\":[{\"Data\":\"AAA\",\"PartitionKey\":\"k\",\"SequenceNumber\":\"1\"}]}",
        "{\"Records\":[{\"Data\":5,\"PartitionKey\":\"k\",\"SequenceNumber\":\"1\"}]}",
        "{\"Records\":[{\"Data\":\"\",\"PartitionKey\":\"k\",\"SequenceNumber\":\"\"}]}",
        "{\"Records\":[{\"Data\":\"\",\"PartitionKey\":\"k\",\"SequenceNumber\":\"1\",\"ApproximateArrivalTimestamp\":\"x\"}]}",
        "{\"Records\":[{\"Data\":\"\",\"PartitionKey\":\"k\",\"SequenceNumber\":\"1\",\"ApproximateArrivalTimestamp\":-1}]}",
        "{\"Records\":[{\"Data\":\"\",\"PartitionKey\":\"k\",\"SequenceNumber\":\"1\",\"ApproximateArrivalTimestamp\":1e300}]}",
        "{\"Records\":[],\"NextShardIterator\":7}",
        "{\"Records\":[],\"NextShardIterator\":\"\"}",
        "{\"Records\":[],\"MillisBehindLatest\":-3}",
        "{\"Records\":[],\"MillisBehindLatest\":1.5}",
        "{\"Records\":[],\"ChildShards\":{}}",
        "{\"Records\":[],\"ChildShards\":[{\"ShardId\":\"a\",\"ParentShards\":[\"p\",\"q\",\"r\"]}]}",
        "{\"Records\":[],\"ChildShards\":[{\"ShardId\":\"a\",\"HashKeyRange\":{\"StartingHashKey\":\"-1\",\"EndingHashKey\":\"2\"}}]}",
        "{\"Records\":[],\"ChildShards\":[{\"ShardId\":\"a\",\"HashKeyRange\":{\"StartingHashKey\":\"0\",\"EndingHashKey\":\"340282366920938463463374607431768211456\"}}]}",
        "{\"Records\":[]} x",
    };
    for (size_t i = 0; i < sizeof GR / sizeof *GR; i++) {
        kcl_kinesis_records *r = (kcl_kinesis_records *)1;
        kcl_error err = {0};
        int rc = kcl_kinesis_decode_get_records(GR[i], strlen(GR[i]), &r, &err);
        CHECK_MSG(rc == -1 && r == NULL && err.kind == KCL_ERR_MALFORMED, "GetRecords body %zu: %s", i, GR[i]);
    }
    static const char *const LS[] = {
        "{}", "{\"Shards\":null}", "{\"Shards\":[{\"ShardId\":1}]}",
        "{\"Shards\":[{\"ShardId\":\"a\",\"HashKeyRange\":{\"StartingHashKey\":\"0\",\"EndingHashKey\":\"1\"}}]}",
        ("{\"Shards\":[{\"ShardId\":\"a\",\"HashKeyRange\":{\"StartingHashKey\":\"0\",\"EndingHashKey\":\"1\"},"
         "\"SequenceNumberRange\":{}}]}"),
        "{\"Shards\":[],\"NextToken\":\"\"}", "{\"Shards\":[],\"NextToken\":[]}",
    };
    for (size_t i = 0; i < sizeof LS / sizeof *LS; i++) {
        kcl_kinesis_shard_list l = {0};
        char *tok = (char *)1;
        kcl_error err = {0};
        int rc = kcl_kinesis_decode_list_shards(LS[i], strlen(LS[i]), &l, &tok, &err);
        CHECK_MSG(rc == -1 && tok == NULL && l.count == 0 && err.kind == KCL_ERR_MALFORMED, "ListShards body %zu", i);
        kcl_kinesis_shard_list_clear(&l);
    }
    static const char *const PR[] = {
        "{}", "{\"Records\":[{}]}", "{\"Records\":[{\"SequenceNumber\":\"1\"}]}",
        "{\"FailedRecordCount\":2,\"Records\":[{\"ErrorCode\":\"X\"}]}",
        "{\"FailedRecordCount\":\"0\",\"Records\":[]}",
        "{\"Records\":[{\"ErrorCode\":5}]}",
    };
    for (size_t i = 0; i < sizeof PR / sizeof *PR; i++) {
        kcl_kinesis_put_result *r = (kcl_kinesis_put_result *)1;
        kcl_error err = {0};
        int rc = kcl_kinesis_decode_put_records(PR[i], strlen(PR[i]), &r, &err);
        CHECK_MSG(rc == -1 && r == NULL && err.kind == KCL_ERR_MALFORMED, "PutRecords body %zu", i);
    }
    static const char *const DS[] = {
        "{}", "{\"StreamDescriptionSummary\":[]}",
        "{\"StreamDescriptionSummary\":{\"StreamName\":\"s\",\"StreamStatus\":\"ACTIVE\"}}",
        "{\"StreamDescriptionSummary\":{\"StreamName\":\"s\",\"StreamStatus\":\"ACTIVE\",\"OpenShardCount\":-1}}",
        "{\"StreamDescriptionSummary\":{\"StreamName\":\"s\",\"StreamStatus\":3,\"OpenShardCount\":1}}",
    };
    for (size_t i = 0; i < sizeof DS / sizeof *DS; i++) {
        kcl_kinesis_stream_summary s;
        kcl_error err = {0};
        CHECK_MSG(kcl_kinesis_decode_stream_summary(DS[i], strlen(DS[i]), &s, &err) == -1 &&
                  err.kind == KCL_ERR_MALFORMED, "summary body %zu", i);
    }
    static const char *const GI[] = {"{}", "{\"ShardIterator\":null}", "{\"ShardIterator\":\"\"}", "[1]"};
    for (size_t i = 0; i < sizeof GI / sizeof *GI; i++) {
        char *it = (char *)1;
        kcl_error err = {0};
        CHECK_MSG(kcl_kinesis_decode_get_shard_iterator(GI[i], strlen(GI[i]), &it, &err) == -1 &&
                  it == NULL && err.kind == KCL_ERR_MALFORMED, "iterator body %zu", i);
    }
}

int main(void)
{
    test_requests();
    test_list_shards();
    test_summary_and_iterator();
    test_get_records();
    test_put_records();
    test_malformed();
    kcl_json_free(&doc);
    return TEST_END();
}
