/* What kinesalite cannot show, against a hand-made fake (extras/
 * kinesis_pages.js): ListShards collects every page, the follow-up requests
 * carry NextToken without StreamName (the fake rejects both together, as
 * the real API does), and GetRecords at a closed shard's end hands over
 * ChildShards with no NextShardIterator.
 *
 * harness: --with kinesis_pages */
#include "credentials.h"
#include "json.h"
#include "kinesis.h"
#include "testlib.h"

#include <ev.h>
#include <string.h>

static struct ev_loop *loop;
static kcl_http *http;

static struct {
    int done;
    kcl_error err;
    kcl_kinesis_shard_list *shards;
    kcl_kinesis_records *recs;
} R;

static void on_shards(kcl_kinesis_shard_list *l, const kcl_error *err, void *ud)
{
    R.err = *err;
    R.shards = l;
    R.done = 1;
}

static void on_records(kcl_kinesis_records *recs, const kcl_error *err, void *ud)
{
    R.err = *err;
    R.recs = recs;
    R.done = 1;
}

static void on_never(kcl_kinesis_shard_list *l, const kcl_error *err, void *ud)
{
    (*(int *)ud)++;
    kcl_kinesis_shard_list_free(l);
}

static kcl_kinesis_shard_list *list(kcl_kinesis *k, const char *name)
{
    memset(&R, 0, sizeof R);
    kcl_error err;
    kcl_kinesis_list_shards_req req = {.stream_name = name};
    CHECK(kcl_kinesis_list_shards(k, &req, NULL, on_shards, NULL, &err) != NULL);
    CHECK(kcl_test_run_until(loop, &R.done, 10000) == 0);
    return R.shards;
}

static struct {
    int done;
    kcl_buf body;
} C;

static void on_stats(kcl_http_resp *resp, void *ud)
{
    kcl_buf_reset(&C.body);
    kcl_buf_append(&C.body, resp->body.data ? resp->body.data : "", resp->body.len);
    C.done = 1;
}

static int64_t fake_stat(const char *base, const char *key)
{
    char url[256];
    snprintf(url, sizeof url, "%s/__pages/stats", base);
    kcl_http_opts o = {.method = "GET", .url = url, .retry = {.max_attempts = 1}};
    kcl_error err;
    C.done = 0;
    if (!kcl_http_send(http, &o, on_stats, NULL, &err) || kcl_test_run_until(loop, &C.done, 10000) != 0) return -1;
    kcl_json d = {0};
    int64_t v = -1;
    if (kcl_json_parse(&d, C.body.data, C.body.len, 0, &err) == 0)
        kcl_json_int64(&d, kcl_json_get(&d, kcl_json_root(&d), key), &v);
    kcl_json_free(&d);
    return v;
}

int main(void)
{
    const char *ep = kcl_test_env("LUAKCL_TEST_KINESIS_PAGES");
    loop = ev_loop_new(EVFLAG_AUTO);
    kcl_error err = {0};
    http = kcl_http_new(loop, &err);
    kcl_creds_config cc = {.loop = loop, .http = http, .disable_profile = 1, .disable_web_identity = 1,
                           .disable_ecs = 1, .disable_imds = 1};
    kcl_creds_provider *creds = http ? kcl_creds_provider_new(&cc, &err) : NULL;
    kcl_kinesis_opts ko = {.endpoint = ep, .region = kcl_test_env("AWS_REGION"),
                           .retry = {.max_attempts = 2, .base_ms = 5, .max_ms = 20}};
    kcl_kinesis *k = creds ? kcl_kinesis_new(loop, http, creds, &ko, &err) : NULL;
    CHECK_MSG(k != NULL, "client: %s", err.message);
    if (!k) return TEST_END();

    /* 7 shards, 2 per page: 4 requests, every shard once, in order. */
    kcl_kinesis_shard_list *l = list(k, "paged-7");
    CHECK_MSG(R.err.kind == KCL_ERR_NONE, "ListShards: %s %s", R.err.code, R.err.message);
    CHECK(l && l->count == 7);
    for (size_t i = 0; l && i < l->count; i++) {
        char id[32];
        snprintf(id, sizeof id, "shardId-%012zu", i);
        CHECK_EQ_STR(l->shards[i].shard_id, id);
        CHECK_EQ_INT(l->shards[i].ending_sequence_number[0] != 0, i % 2 == 1);
    }
    if (l && l->count == 7) {
        CHECK_EQ_STR(l->shards[3].parent_shard_id, "shardId-000000000002");
        CHECK_EQ_STR(l->shards[6].hash_range.ending, "340282366920938463463374607431768211455");
    }
    kcl_kinesis_shard_list_free(l);
    CHECK_EQ_INT(fake_stat(ep, "list_calls"), 4);
    CHECK_EQ_INT(fake_stat(ep, "bad_requests"), 0);

    /* One page exactly; and an unknown stream is NOT_FOUND. */
    l = list(k, "paged-2");
    CHECK(l && l->count == 2);
    kcl_kinesis_shard_list_free(l);
    CHECK(list(k, "missing") == NULL);
    CHECK_EQ_INT(R.err.kind, KCL_ERR_NOT_FOUND);

    /* Shard end: ChildShards, no NextShardIterator. */
    memset(&R, 0, sizeof R);
    CHECK(kcl_kinesis_get_records(k, "END", 100, NULL, on_records, NULL, &err) != NULL);
    CHECK(kcl_test_run_until(loop, &R.done, 10000) == 0);
    kcl_kinesis_records *b = R.recs;
    CHECK(b != NULL);
    if (b) {
        CHECK_EQ_INT(b->count, 0);
        CHECK(b->next_iterator == NULL);
        CHECK_EQ_INT(b->child_count, 2);
        CHECK_EQ_STR(b->child_shards[1].shard_id, "shardId-000000000002");
        CHECK_EQ_STR(b->child_shards[1].parent_shards[0], "shardId-000000000000");
        CHECK_EQ_STR(b->child_shards[1].hash_range.starting, "170141183460469231731687303715884105728");
        kcl_kinesis_records_free(b);
    }
    memset(&R, 0, sizeof R);
    CHECK(kcl_kinesis_get_records(k, "OLD", 100, NULL, on_records, NULL, &err) != NULL);
    CHECK(kcl_test_run_until(loop, &R.done, 10000) == 0);
    CHECK(R.recs == NULL && R.err.kind == KCL_ERR_EXPIRED_ITERATOR);

    /* A cancelled operation, and one dropped by freeing the client, never call back. */
    int calls = 0;
    kcl_kinesis_list_shards_req req = {.stream_name = "paged-9"};
    kcl_kinesis_op *op = kcl_kinesis_list_shards(k, &req, NULL, on_never, &calls, &err);
    CHECK(op != NULL);
    kcl_kinesis_cancel(op);
    /* a later operation completing means the loop ran past the cancelled one's answer */
    l = list(k, "paged-9");
    CHECK(l && l->count == 9);
    kcl_kinesis_shard_list_free(l);
    CHECK(kcl_kinesis_list_shards(k, &req, NULL, on_never, &calls, &err) != NULL);
    CHECK_EQ_INT(kcl_kinesis_pending(k), 1);
    kcl_kinesis_free(k);
    CHECK_EQ_INT(calls, 0);

    kcl_creds_provider_free(creds);
    kcl_buf_free(&C.body);
    kcl_http_free(http);
    ev_loop_destroy(loop);
    return TEST_END();
}
