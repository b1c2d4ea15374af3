/* The typed Kinesis client against real kinesalite, every request going
 * through the fault proxy (which checks each SigV4 signature independently):
 * create a 3-shard stream, put 1,000 records (binary data with NULs, some
 * explicit hash keys), read every one back through every iterator type,
 * split and merge, read a closed shard to its end, delete; then typed errors,
 * injected faults, and the proxy's signature statistics.
 *
 * kinesalite does not paginate ListShards and never returns ChildShards, so
 * paging and child shards are covered by the codec's unit test only.
 *
 * harness: --proxy */
#include "clock.h"
#include "credentials.h"
#include "json.h"
#include "kinesis.h"
#include "itlib.h"
#include "testlib.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

#define NREC 1000
#define NSHARD_MAX 8
#define WAIT_MS 15000

static struct ev_loop *loop;
static kcl_http *http;
static kcl_kinesis *kin;
static const char *proxy;
static char stream[128];

/* ---- synchronous wrappers (run the loop until the callback) -------------- */

static struct {
    int done;
    kcl_error err;
    kcl_kinesis_stream_summary sum;
    kcl_kinesis_shard_list *shards;
    char iter[1024];
    kcl_kinesis_records *recs;
    int put_failed;
} R;

static void reset_r(void)
{
    memset(&R, 0, sizeof R);
}

static int wait_r(void)
{
    return kcl_it_wait_done(loop, &R.done, WAIT_MS);
}

static void on_done(const kcl_error *err, void *ud)
{
    R.err = *err;
    R.done = 1;
}

static void on_summary(const kcl_kinesis_stream_summary *s, const kcl_error *err, void *ud)
{
    R.err = *err;
    if (s) R.sum = *s;
    R.done = 1;
}

static void on_shards(kcl_kinesis_shard_list *l, const kcl_error *err, void *ud)
{
    R.err = *err;
    R.shards = l;
    R.done = 1;
}

static void on_iter(const char *it, const kcl_error *err, void *ud)
{
    R.err = *err;
    if (it) snprintf(R.iter, sizeof R.iter, "%s", it);
    R.done = 1;
}

static void on_records(kcl_kinesis_records *recs, const kcl_error *err, void *ud)
{
    R.err = *err;
    R.recs = recs;
    R.done = 1;
}

static kcl_err_kind describe(const char *name)
{
    reset_r();
    kcl_error err;
    if (!kcl_kinesis_describe_stream_summary(kin, name, NULL, on_summary, NULL, &err)) return KCL_ERR_FATAL;
    wait_r();
    return R.err.kind;
}

static kcl_kinesis_shard_list *list_shards(const char *name, kcl_err_kind *kind)
{
    reset_r();
    kcl_error err;
    kcl_kinesis_list_shards_req req = {.stream_name = name};
    if (!kcl_kinesis_list_shards(kin, &req, NULL, on_shards, NULL, &err)) return NULL;
    wait_r();
    if (kind) *kind = R.err.kind;
    return R.shards;
}

static int get_iterator(const kcl_kinesis_iterator_req *req, char *out, size_t outlen)
{
    reset_r();
    kcl_error err;
    if (!kcl_kinesis_get_shard_iterator(kin, req, NULL, on_iter, NULL, &err)) return -1;
    if (wait_r() != 0 || R.err.kind != KCL_ERR_NONE) {
        fprintf(stderr, "GetShardIterator %s: %s %s\n", kcl_kinesis_iterator_type_name(req->type),
                R.err.code, R.err.message);
        return -1;
    }
    snprintf(out, outlen, "%s", R.iter);
    return 0;
}

/* GetRecords; returns the batch (caller frees) or NULL with R.err set. */
static kcl_kinesis_records *get_records(const char *it, int limit, const kcl_aws_call_opts *copts)
{
    reset_r();
    kcl_error err;
    if (!kcl_kinesis_get_records(kin, it, limit, copts, on_records, NULL, &err)) {
        R.err = err;
        return NULL;
    }
    if (wait_r() != 0) R.err.kind = KCL_ERR_CANCELLED;
    return R.recs;
}

static int wait_active(const char *name, int want_open)
{
    for (int i = 0; i < 200; i++) {
        if (describe(name) != KCL_ERR_NONE) return -1;
        if (R.sum.status == KCL_STREAM_ACTIVE) {
            CHECK_EQ_INT(R.sum.open_shard_count, want_open);
            return 0;
        }
        kcl_it_pause_ms(loop, 20);
    }
    return -1;
}

/* ---- the fault proxy's control endpoints --------------------------------- */

static struct {
    int done;
    long status;
    kcl_buf body;
} C;

static void on_control(kcl_http_resp *resp, void *ud)
{
    C.status = resp->status;
    kcl_buf_reset(&C.body);
    kcl_buf_append(&C.body, resp->body.data ? resp->body.data : "", resp->body.len);
    C.done = 1;
}

static int control(const char *method, const char *path, const char *json)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", proxy, path);
    const char *hdrs[] = {"Content-Type: application/json", NULL};
    kcl_http_opts o = {.method = method, .url = url, .headers = hdrs, .body = json,
                       .body_len = json ? strlen(json) : 0, .retry = {.max_attempts = 1}};
    kcl_error err;
    C.done = 0;
    if (!kcl_http_send(http, &o, on_control, NULL, &err)) return -1;
    if (kcl_test_run_until(loop, &C.done, WAIT_MS) != 0 || C.status != 200) {
        fprintf(stderr, "control %s %s: status %ld %s\n", method, path, C.status, kcl_buf_cstr(&C.body));
        return -1;
    }
    return 0;
}

static int64_t stat_of(const char *key)
{
    if (control("GET", "/__luakcl/stats", NULL) != 0) return -1;
    kcl_json d = {0};
    kcl_error err;
    int64_t v = -1;
    if (kcl_json_parse(&d, C.body.data, C.body.len, 0, &err) == 0)
        kcl_json_int64(&d, kcl_json_get(&d, kcl_json_root(&d), key), &v);
    kcl_json_free(&d);
    return v;
}

static int inject(const char *action, const char *extra, int count)
{
    char rule[512];
    snprintf(rule, sizeof rule, "{\"match\":\"Kinesis_20131202.GetRecords\",\"action\":\"%s\",\"count\":%d%s%s}",
             action, count, extra ? "," : "", extra ? extra : "");
    return control("POST", "/__luakcl/faults", rule);
}

/* ---- the records put ------------------------------------------------------ */

static struct rec {
    uint8_t data[320];
    size_t len;
    char pk[32];
    char ehk[KCL_HASHKEY_DEC_MAX];   /* "" = none */
    int shard;                        /* index into the shard list, predicted */
    char seq[KCL_KINESIS_SEQ_MAX + 1];
    char shard_id[KCL_KINESIS_SHARD_ID_MAX + 1];
} recs[NREC];

static kcl_kinesis_shard_list *shards0;

static void on_put(const kcl_kinesis_put_result *res, const kcl_error *err, void *ud)
{
    size_t base = *(size_t *)ud;
    R.err = *err;
    if (res) {
        R.put_failed = res->failed_count;
        for (size_t i = 0; i < res->count; i++) {
            if (!res->entries[i].sequence_number) continue;
            snprintf(recs[base + i].seq, sizeof recs[base + i].seq, "%s", res->entries[i].sequence_number);
            snprintf(recs[base + i].shard_id, sizeof recs[base + i].shard_id, "%s", res->entries[i].shard_id);
        }
    }
    R.done = 1;
}

static void make_records(void)
{
    for (int i = 0; i < NREC; i++) {
        struct rec *r = &recs[i];
        r->len = 1 + (size_t)(i * 37) % 300;
        for (size_t j = 0; j < r->len; j++) r->data[j] = j % 5 == 0 ? 0 : (uint8_t)(i * 131 + j * 7);
        snprintf(r->pk, sizeof r->pk, "pk-%d", i);
        uint8_t key[KCL_HASHKEY_LEN];
        if (i % 4 == 0) {
            const kcl_kinesis_shard *s = &shards0->shards[(i / 4) % shards0->count];
            snprintf(r->ehk, sizeof r->ehk, "%s", s->hash_range.starting);
            memcpy(key, s->hash_range.start_key, sizeof key);
        } else {
            r->ehk[0] = 0;
            kcl_hashkey_of_partition_key(r->pk, strlen(r->pk), key);
        }
        r->shard = -1;
        for (size_t s = 0; s < shards0->count; s++)
            if (kcl_hashkey_in_range(key, shards0->shards[s].hash_range.start_key, shards0->shards[s].hash_range.end_key))
                r->shard = (int)s;
    }
}

static void put_all(void)
{
    for (size_t base = 0; base < NREC; base += 500) {
        kcl_kinesis_put_entry e[500];
        for (size_t i = 0; i < 500; i++) {
            struct rec *r = &recs[base + i];
            e[i] = (kcl_kinesis_put_entry){r->data, r->len, r->pk, r->ehk[0] ? r->ehk : NULL};
        }
        reset_r();
        kcl_error err;
        CHECK(kcl_kinesis_put_records(kin, stream, e, 500, NULL, on_put, &base, &err) != NULL);
        wait_r();
        CHECK_MSG(R.err.kind == KCL_ERR_NONE, "PutRecords: %s %s", R.err.code, R.err.message);
        CHECK_EQ_INT(R.put_failed, 0);
    }
    int placed = 1;
    for (int i = 0; i < NREC; i++)
        if (recs[i].shard < 0 || strcmp(recs[i].shard_id, shards0->shards[recs[i].shard].shard_id) != 0) placed = 0;
    CHECK_MSG(placed, "every record landed on the shard its hash key names");
}

static int same_record(const kcl_kinesis_record *got, const struct rec *want)
{
    return got->data_len == want->len && memcmp(got->data, want->data, want->len) == 0 &&
           strcmp(got->partition_key, want->pk) == 0 && strcmp(got->sequence_number, want->seq) == 0;
}

/* Read shard `s` from TRIM_HORIZON in batches of 97 and compare with what
 * was put, in order. */
static void read_back(int s, int64_t t0)
{
    int want[NREC], nwant = 0;
    for (int i = 0; i < NREC; i++) if (recs[i].shard == s) want[nwant++] = i;
    char it[1024];
    kcl_kinesis_iterator_req req = {.stream_name = stream, .shard_id = shards0->shards[s].shard_id,
                                    .type = KCL_ITER_TRIM_HORIZON};
    CHECK(get_iterator(&req, it, sizeof it) == 0);
    int got = 0, ok = 1, empty_after = 0;
    for (int round = 0; round < 100 && it[0]; round++) {
        kcl_kinesis_records *b = get_records(it, 97, NULL);
        if (!b) { CHECK_MSG(0, "GetRecords: %s %s", R.err.code, R.err.message); break; }
        for (size_t i = 0; i < b->count; i++) {
            if (got >= nwant || !same_record(&b->records[i], &recs[want[got]])) ok = 0;
            if (b->records[i].arrival_ms < t0 - 60000 || b->records[i].arrival_ms > t0 + 600000) ok = 0;
            got++;
        }
        CHECK(b->next_iterator != NULL);   /* an open shard always has one */
        snprintf(it, sizeof it, "%s", b->next_iterator ? b->next_iterator : "");
        int empty = b->count == 0;
        CHECK_EQ_INT(b->millis_behind_latest, 0);
        kcl_kinesis_records_free(b);
        if (empty && got >= nwant) { empty_after = 1; break; }
    }
    CHECK_MSG(ok && got == nwant && empty_after, "shard %d: read %d of %d records, in order and exact: %d", s, got, nwant, ok);
}

/* The first record GetRecords returns from an iterator (or NULL + fills nothing). */
static int first_seq(const kcl_kinesis_iterator_req *req, char *seq, size_t seqlen)
{
    char it[1024];
    seq[0] = 0;
    if (get_iterator(req, it, sizeof it) != 0) return -1;
    kcl_kinesis_records *b = get_records(it, 5, NULL);
    if (!b) return -1;
    if (b->count) snprintf(seq, seqlen, "%s", b->records[0].sequence_number);
    kcl_kinesis_records_free(b);
    return 0;
}

static void iterator_types(void)
{
    int want[NREC], n = 0;
    for (int i = 0; i < NREC; i++) if (recs[i].shard == 0) want[n++] = i;
    CHECK(n > 20);
    if (n <= 20) return;
    char seq[KCL_KINESIS_SEQ_MAX + 1];
    kcl_kinesis_iterator_req req = {.stream_name = stream, .shard_id = shards0->shards[0].shard_id};

    req.type = KCL_ITER_AT_SEQUENCE_NUMBER;
    req.sequence_number = recs[want[10]].seq;
    CHECK(first_seq(&req, seq, sizeof seq) == 0);
    CHECK_EQ_STR(seq, recs[want[10]].seq);

    req.type = KCL_ITER_AFTER_SEQUENCE_NUMBER;
    CHECK(first_seq(&req, seq, sizeof seq) == 0);
    CHECK_EQ_STR(seq, recs[want[11]].seq);

    /* AT_TIMESTAMP of the last record's arrival: the first record at or after it. */
    req.type = KCL_ITER_AT_TIMESTAMP;
    req.sequence_number = NULL;
    char it[1024];
    CHECK(get_iterator(&(kcl_kinesis_iterator_req){.stream_name = stream, .shard_id = req.shard_id,
                                                   .type = KCL_ITER_AT_SEQUENCE_NUMBER,
                                                   .sequence_number = recs[want[n - 1]].seq}, it, sizeof it) == 0);
    kcl_kinesis_records *b = get_records(it, 1, NULL);
    CHECK(b && b->count == 1);
    int64_t t = b && b->count ? b->records[0].arrival_ms : 0;
    kcl_kinesis_records_free(b);
    /* Arrival times of all records of shard 0, to find the expected first. */
    CHECK(get_iterator(&(kcl_kinesis_iterator_req){.stream_name = stream, .shard_id = req.shard_id,
                                                   .type = KCL_ITER_TRIM_HORIZON}, it, sizeof it) == 0);
    b = get_records(it, 10000, NULL);
    CHECK(b && (int)b->count == n);
    char expect[KCL_KINESIS_SEQ_MAX + 1] = "";
    for (size_t i = 0; b && i < b->count; i++)
        if (b->records[i].arrival_ms >= t) { snprintf(expect, sizeof expect, "%s", b->records[i].sequence_number); break; }
    kcl_kinesis_records_free(b);
    req.timestamp_ms = t;
    CHECK(first_seq(&req, seq, sizeof seq) == 0);
    CHECK_EQ_STR(seq, expect);

    /* LATEST: nothing, until a new record arrives on that shard. */
    req.type = KCL_ITER_LATEST;
    CHECK(get_iterator(&req, it, sizeof it) == 0);
    b = get_records(it, 100, NULL);
    CHECK(b && b->count == 0);
    kcl_kinesis_records_free(b);
    static const uint8_t late[] = {'l', 0, 'a', 0, 't', 'e'};
    kcl_kinesis_put_entry e = {late, sizeof late, "late", shards0->shards[0].hash_range.starting};
    size_t base = 0;
    struct rec saved = recs[0];
    reset_r();
    kcl_error err;
    CHECK(kcl_kinesis_put_records(kin, stream, &e, 1, NULL, on_put, &base, &err) != NULL);
    wait_r();
    CHECK(R.err.kind == KCL_ERR_NONE && R.put_failed == 0);
    char late_seq[KCL_KINESIS_SEQ_MAX + 1];
    snprintf(late_seq, sizeof late_seq, "%s", recs[0].seq);
    recs[0] = saved;
    b = get_records(it, 100, NULL);
    CHECK(b && b->count == 1);
    if (b && b->count == 1) {
        CHECK(b->records[0].data_len == sizeof late && memcmp(b->records[0].data, late, sizeof late) == 0);
        CHECK_EQ_STR(b->records[0].sequence_number, late_seq);
        CHECK_EQ_STR(b->records[0].partition_key, "late");
    }
    kcl_kinesis_records_free(b);
}

static const kcl_kinesis_shard *find(const kcl_kinesis_shard_list *l, const char *id)
{
    for (size_t i = 0; l && i < l->count; i++) if (strcmp(l->shards[i].shard_id, id) == 0) return &l->shards[i];
    return NULL;
}

static void reshard(void)
{
    const kcl_kinesis_shard *s0 = &shards0->shards[0];
    char mid[KCL_HASHKEY_DEC_MAX];
    kcl_it_hashkey_midpoint(s0->hash_range.start_key, s0->hash_range.end_key, mid);
    kcl_error err;
    reset_r();
    CHECK(kcl_kinesis_split_shard(kin, stream, s0->shard_id, mid, NULL, on_done, NULL, &err) != NULL);
    wait_r();
    CHECK_MSG(R.err.kind == KCL_ERR_NONE, "SplitShard: %s %s", R.err.code, R.err.message);
    CHECK(wait_active(stream, 4) == 0);

    kcl_kinesis_shard_list *l = list_shards(stream, NULL);
    CHECK(l && l->count == shards0->count + 2);
    if (!l || l->count != shards0->count + 2) { kcl_kinesis_shard_list_free(l); return; }
    const kcl_kinesis_shard *p = find(l, s0->shard_id);
    CHECK(p && p->ending_sequence_number[0] != 0);   /* the parent is closed */
    const kcl_kinesis_shard *c1 = &l->shards[l->count - 2], *c2 = &l->shards[l->count - 1];
    CHECK_EQ_STR(c1->parent_shard_id, s0->shard_id);
    CHECK_EQ_STR(c2->parent_shard_id, s0->shard_id);
    CHECK_EQ_STR(c1->hash_range.starting, s0->hash_range.starting);
    CHECK_EQ_STR(c2->hash_range.starting, mid);
    CHECK_EQ_STR(c2->hash_range.ending, s0->hash_range.ending);
    CHECK(c1->ending_sequence_number[0] == 0 && c2->ending_sequence_number[0] == 0);
    char c1id[KCL_KINESIS_SHARD_ID_MAX + 1], c2id[KCL_KINESIS_SHARD_ID_MAX + 1];
    snprintf(c1id, sizeof c1id, "%s", c1->shard_id);
    snprintf(c2id, sizeof c2id, "%s", c2->shard_id);
    kcl_kinesis_shard_list_free(l);

    /* The closed parent, read past its last record: no NextShardIterator. */
    char it[1024];
    kcl_kinesis_iterator_req req = {.stream_name = stream, .shard_id = s0->shard_id, .type = KCL_ITER_TRIM_HORIZON};
    CHECK(get_iterator(&req, it, sizeof it) == 0);
    int ended = 0;
    for (int round = 0; round < 20 && !ended; round++) {
        kcl_kinesis_records *b = get_records(it, 10000, NULL);
        if (!b) break;
        ended = b->next_iterator == NULL;
        if (!ended) snprintf(it, sizeof it, "%s", b->next_iterator);
        CHECK(b->child_count == 0);   /* kinesalite never sends ChildShards */
        kcl_kinesis_records_free(b);
    }
    CHECK_MSG(ended, "reading a closed shard ends with no NextShardIterator");

    reset_r();
    CHECK(kcl_kinesis_merge_shards(kin, stream, c1id, c2id, NULL, on_done, NULL, &err) != NULL);
    wait_r();
    CHECK_MSG(R.err.kind == KCL_ERR_NONE, "MergeShards: %s %s", R.err.code, R.err.message);
    CHECK(wait_active(stream, 3) == 0);
    l = list_shards(stream, NULL);
    CHECK(l && l->count == shards0->count + 3);
    if (l && l->count == shards0->count + 3) {
        const kcl_kinesis_shard *m = &l->shards[l->count - 1];
        CHECK_EQ_STR(m->parent_shard_id, c1id);
        CHECK_EQ_STR(m->adjacent_parent_shard_id, c2id);
        CHECK_EQ_STR(m->hash_range.starting, s0->hash_range.starting);
        CHECK_EQ_STR(m->hash_range.ending, s0->hash_range.ending);
        CHECK(find(l, c1id) && find(l, c1id)->ending_sequence_number[0] != 0);
    }
    kcl_kinesis_shard_list_free(l);
}

static int64_t verified_before, failures_before;

static void errors_and_faults(void)
{
    /* Typed errors from the server. */
    kcl_kinesis_records *b = get_records("bogus-iterator-AAAA", 10, NULL);
    CHECK(b == NULL);
    CHECK_MSG(R.err.kind == KCL_ERR_INVALID_ARGUMENT, "bogus iterator: %s (%s)", kcl_err_kind_name(R.err.kind), R.err.code);
    CHECK_EQ_INT(describe("no-such-stream-luakcl"), KCL_ERR_NOT_FOUND);
    kcl_err_kind kind = KCL_ERR_NONE;
    CHECK(list_shards("no-such-stream-luakcl", &kind) == NULL);
    CHECK_EQ_INT(kind, KCL_ERR_NOT_FOUND);

    char it[1024];
    kcl_kinesis_iterator_req req = {.stream_name = stream, .shard_id = shards0->shards[1].shard_id,
                                    .type = KCL_ITER_TRIM_HORIZON};
    CHECK(get_iterator(&req, it, sizeof it) == 0);
    kcl_aws_call_opts fast = {.retry = {.max_attempts = 3, .base_ms = 5, .max_ms = 20}};
    int64_t inj = stat_of("injected");

    /* One throttle: retried, and the call succeeds. */
    CHECK(inject("error", "\"status\":400,\"type\":\"ProvisionedThroughputExceededException\"", 1) == 0);
    b = get_records(it, 5, &fast);
    CHECK_MSG(b && b->count == 5, "GetRecords after one throttle: %s", R.err.code);
    kcl_kinesis_records_free(b);
    CHECK_EQ_INT(stat_of("injected"), inj + 1);

    /* Throttled on every attempt: THROTTLED. */
    CHECK(inject("error", "\"status\":400,\"type\":\"ProvisionedThroughputExceededException\"", 3) == 0);
    b = get_records(it, 5, &fast);
    CHECK(b == NULL);
    CHECK_EQ_STR(kcl_err_kind_name(R.err.kind), "throttled");
    CHECK_EQ_INT(stat_of("injected"), inj + 4);

    /* An expired iterator is not retried: were it retried, the second attempt
     * would reach the server and succeed. */
    CHECK(inject("error", "\"status\":400,\"type\":\"ExpiredIteratorException\"", 1) == 0);
    b = get_records(it, 5, &fast);
    CHECK(b == NULL);
    CHECK_EQ_STR(kcl_err_kind_name(R.err.kind), "expired_iterator");
    CHECK_EQ_INT(stat_of("injected"), inj + 5);
    kcl_kinesis_records_free(b);
    inj = stat_of("injected");

    /* 500 once: retried; 500 on every attempt: RETRYABLE. */
    CHECK(inject("status", "\"status\":500", 1) == 0);
    b = get_records(it, 5, &fast);
    CHECK(b != NULL);
    kcl_kinesis_records_free(b);
    CHECK(inject("status", "\"status\":500", 3) == 0);
    b = get_records(it, 5, &fast);
    CHECK(b == NULL);
    CHECK_EQ_STR(kcl_err_kind_name(R.err.kind), "retryable");
    CHECK_EQ_INT(R.err.http_status, 500);

    /* A 200 whose body is not JSON: MALFORMED. */
    CHECK(inject("garbage", NULL, 1) == 0);
    b = get_records(it, 5, &fast);
    CHECK(b == NULL);
    CHECK_EQ_STR(kcl_err_kind_name(R.err.kind), "malformed");

    CHECK_EQ_INT(stat_of("injected"), inj + 1 + 3 + 1);
    CHECK_EQ_INT(stat_of("rules"), 0);

    /* Connections reset on every attempt: NETWORK. libcurl may itself retry a
     * request whose reused connection died, so the rule outnumbers the
     * attempts and the leftovers are cleared (with the counters: keep them). */
    CHECK(inject("reset", NULL, 20) == 0);
    b = get_records(it, 5, &fast);
    CHECK(b == NULL);
    CHECK_EQ_STR(kcl_err_kind_name(R.err.kind), "network");
    verified_before += stat_of("verified");
    failures_before += stat_of("signature_failures");
    CHECK(control("POST", "/__luakcl/reset", NULL) == 0);

    /* And the client still works. */
    b = get_records(it, 5, &fast);
    CHECK(b && b->count == 5);
    kcl_kinesis_records_free(b);
}

int main(void)
{
    proxy = kcl_test_env("LUAKCL_TEST_KINESIS_PROXY");
    kcl_test_env("LUAKCL_TEST_KINESIS_ENDPOINT");
    loop = ev_loop_new(EVFLAG_AUTO);
    kcl_error err = {0};
    http = kcl_http_new(loop, &err);
    CHECK_MSG(http != NULL, "kcl_http_new: %s", err.message);
    kcl_creds_provider *creds = kcl_it_env_creds(loop, http, &err);
    CHECK_MSG(creds != NULL, "kcl_creds_provider_new: %s", err.message);
    kcl_kinesis_opts ko = {.endpoint = proxy, .region = kcl_test_env("AWS_REGION"),
                           .retry = {.max_attempts = 4, .base_ms = 10, .max_ms = 100}};
    kin = kcl_kinesis_new(loop, http, creds, &ko, &err);
    CHECK_MSG(kin != NULL, "kcl_kinesis_new: %s", err.message);
    if (!http || !creds || !kin) return TEST_END();
    CHECK(control("POST", "/__luakcl/reset", NULL) == 0);

    snprintf(stream, sizeof stream, "%s", kcl_test_unique("it-kinesis"));
    int64_t t0 = kcl_clock_wall_ms();
    reset_r();
    CHECK(kcl_kinesis_create_stream(kin, stream, 3, NULL, on_done, NULL, &err) != NULL);
    wait_r();
    CHECK_MSG(R.err.kind == KCL_ERR_NONE, "CreateStream: %s %s", R.err.code, R.err.message);
    CHECK(wait_active(stream, 3) == 0);
    CHECK_EQ_STR(R.sum.stream_name, stream);
    CHECK(strstr(R.sum.stream_arn, stream) != NULL);
    CHECK_EQ_INT(R.sum.retention_hours, 24);

    shards0 = list_shards(stream, NULL);
    CHECK(shards0 && shards0->count == 3);
    if (shards0 && shards0->count == 3) {
        int ok = 1;
        for (size_t i = 0; i < 3; i++) {
            const kcl_kinesis_shard *s = &shards0->shards[i];
            if (s->parent_shard_id[0] || s->ending_sequence_number[0] || !s->starting_sequence_number[0]) ok = 0;
        }
        CHECK_MSG(ok, "three open shards without parents");
        CHECK_EQ_STR(shards0->shards[0].hash_range.starting, "0");
        CHECK_EQ_STR(shards0->shards[2].hash_range.ending, "340282366920938463463374607431768211455");

        make_records();
        put_all();
        for (int s = 0; s < 3; s++) read_back(s, t0);
        iterator_types();
        errors_and_faults();
        reshard();
    }

    reset_r();
    CHECK(kcl_kinesis_delete_stream(kin, stream, 1, NULL, on_done, NULL, &err) != NULL);
    wait_r();
    CHECK_MSG(R.err.kind == KCL_ERR_NONE, "DeleteStream: %s %s", R.err.code, R.err.message);
    kcl_err_kind gone = KCL_ERR_NONE;
    for (int i = 0; i < 100 && (gone = describe(stream)) == KCL_ERR_NONE; i++) kcl_it_pause_ms(loop, 20);
    CHECK_EQ_INT(gone, KCL_ERR_NOT_FOUND);

    /* Every request the proxy forwarded had a signature @smithy/signature-v4 accepts. */
    int64_t verified = verified_before + stat_of("verified");
    int64_t failures = failures_before + stat_of("signature_failures");
    CHECK_MSG(verified > 0, "proxy verified %lld signatures (is tests/harness/sigv4_check.js there?)", (long long)verified);
    CHECK_EQ_INT(failures, 0);

    kcl_kinesis_shard_list_free(shards0);
    CHECK_EQ_INT(kcl_kinesis_pending(kin), 0);
    kcl_kinesis_free(kin);
    kcl_creds_provider_free(creds);
    kcl_buf_free(&C.body);
    kcl_http_free(http);
    ev_loop_destroy(loop);
    return TEST_END();
}
