/* The KCL core against kinesis-local (kinesis-mock), for what kinesalite
 * cannot emulate; the lease table is in dynalite.
 *
 * 1. ListShards pages: a 5-shard stream listed with MaxResults 2 and 1, and
 *    a 250-shard stream listed with no MaxResults (kinesis-local then pages
 *    by 100), come back whole, in order, once each.
 * 2. Resharding while a worker runs: a 2-shard stream consumed from
 *    TRIM_HORIZON, one shard split under it, more records put (some routed
 *    to the children). Every record exactly once; per partition key, in put
 *    order (so the parent's records all come before any child's); the
 *    parent's end seen with ChildShards in GetRecords (the consumer logs how
 *    many) and the children's leases made from them: children with
 *    parentShardId = the parent, the parent checkpointed SHARD_END with
 *    childShardIds set; batches report MillisBehindLatest > 0 while behind.
 * 3. TLS: the same consumption over kinesis-local's HTTPS port (self-signed)
 *    with insecure_tls on the loopback endpoint; without insecure_tls the
 *    certificate is refused.
 *
 * All of it runs twice in one process. kinesis-local binds 0.0.0.0, so this
 * runs in a private network namespace.
 * harness: netns --with kinesis_local */
#include "hashkey.h"
#include "itlib.h"
#include "testlib.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

#define NKEYS  40

static struct ev_loop *loop;
static kcl_it_recording *const rec = &kcl_it_rec;      /* what the recording processor saw */

/* ---- the log: what the consumer says at a shard's end ------------------------- */

static char end_lines[8][512];
static int nend_lines;

static void on_log(kcl_log_level level, const char *line, void *ud)
{
    (void)level; (void)ud;
    if (strstr(line, "reached the end of the shard") && nend_lines < 8)
        snprintf(end_lines[nend_lines++], sizeof end_lines[0], "%s", line);
}

/* ---- setup helpers ---------------------------------------------------------------- */

static kcl_it_clients clients;      /* clients.kin: kinesis-local, plain HTTP/1.1 */
static kcl_kinesis *kin_tls;        /* kinesis-local, HTTPS, insecure_tls */
static kcl_it_op op;
static kcl_it_stop st;

static kcl_kinesis_stream_summary summary;
static void on_summary(const kcl_kinesis_stream_summary *s, const kcl_error *err, void *ud)
{
    (void)ud;
    op.err = *err;
    if (s) summary = *s;
    op.done = 1;
}

static kcl_kinesis_shard_list *listed;
static void on_shards(kcl_kinesis_shard_list *l, const kcl_error *err, void *ud)
{
    (void)ud;
    op.err = *err;
    listed = l;
    op.done = 1;
}

/* Start an operation (`started` is its handle) and run the loop until it is done. */
static int finish(const void *started, const kcl_error *err)
{
    if (!started) {
        op.err = *err;
        return -1;
    }
    if (kcl_test_run_until(loop, &op.done, 20000) != 0) {
        kcl_error_set(&op.err, KCL_ERR_FATAL, 0, NULL, "timed out");
        return -1;
    }
    return op.err.kind == KCL_ERR_NONE ? 0 : -1;
}

static int wait_active(kcl_kinesis *k, const char *name)
{
    for (int tries = 0; tries < 200; tries++) {
        kcl_error err;
        op.done = 0;
        if (finish(kcl_kinesis_describe_stream_summary(k, name, NULL, on_summary, NULL, &err), &err) == 0 &&
            summary.status == KCL_STREAM_ACTIVE)
            return 0;
        kcl_it_idle_ms(loop, 50);   /* poll the stream's status, bounded by the tries */
    }
    return -1;
}

static void create_stream(kcl_kinesis *k, const char *name, int shards)
{
    kcl_error err;
    op.done = 0;
    int rc = finish(kcl_kinesis_create_stream(k, name, shards, NULL, kcl_it_on_done, &op, &err), &err);
    CHECK_MSG(rc == 0, "CreateStream %s: %s", name, op.err.message);
    CHECK_MSG(wait_active(k, name) == 0, "stream %s never became ACTIVE", name);
}

/* Records "rec-<id>" for ids [from, from+count), partition key "pk-<id % NKEYS>",
 * in PutRecords calls of `per_call`. */
static void put_records(kcl_kinesis *k, const char *stream, int from, int count, int per_call)
{
    kcl_kinesis_put_entry e[500];
    char data[500][32], pk[500][32];
    for (int done = 0; done < count;) {
        int n = count - done > per_call ? per_call : count - done;
        kcl_it_fill_entries(e, data, pk, from + done, n, NKEYS);
        kcl_error err;
        op.done = 0;
        int rc = finish(kcl_kinesis_put_records(k, stream, e, (size_t)n, NULL, kcl_it_on_put, &op, &err), &err);
        CHECK_MSG(rc == 0, "PutRecords: %s", op.err.message);
        if (rc) return;
        done += n;
    }
}

static kcl_kinesis_shard_list *list_shards(kcl_kinesis *k, const char *stream, int max_results)
{
    kcl_kinesis_list_shards_req req = {.stream_name = stream, .max_results = max_results};
    kcl_error err;
    op.done = 0;
    listed = NULL;
    int rc = finish(kcl_kinesis_list_shards(k, &req, NULL, on_shards, NULL, &err), &err);
    CHECK_MSG(rc == 0, "ListShards %s (MaxResults %d): %s", stream, max_results, op.err.message);
    return rc == 0 ? listed : NULL;
}

/* Every id in [0, expected) exactly once; per partition key in id order. */
static void check_exactly_once_in_order(int expected, const char *what)
{
    char *hit = calloc((size_t)expected, 1);
    int dup = 0, bad = 0, missing = 0;
    for (int i = 0; i < rec->nseen; i++) {
        int id = rec->seen[i].id;
        if (id < 0 || id >= expected) { bad++; continue; }
        if (hit[id]) dup++;
        hit[id] = 1;
    }
    for (int i = 0; i < expected; i++) if (!hit[i]) missing++;
    free(hit);
    CHECK_MSG(dup == 0 && missing == 0 && bad == 0, "%s: dup %d missing %d bad %d of %d",
              what, dup, missing, bad, expected);
    int last[NKEYS], disorder = 0;
    for (int k = 0; k < NKEYS; k++) last[k] = -1;
    for (int i = 0; i < rec->nseen; i++) {
        int id = rec->seen[i].id;
        if (id < 0) continue;
        int key = id % NKEYS;
        if (id < last[key]) {
            if (disorder++ < 5)
                fprintf(stderr, "%s: rec-%06d (%s) delivered after rec-%06d of the same key\n",
                        what, id, rec->seen[i].shard, last[key]);
        } else {
            last[key] = id;
        }
    }
    CHECK_MSG(disorder == 0, "%s: %d records out of their partition key's order", what, disorder);
}

static kcl_it_leases L;

static int read_leases(kcl_lease_store *store)
{
    return kcl_it_read_leases(loop, store, &L, 10000);
}

static void base_config(kcl_config *cfg, const char *stream, const char *app, const char *endpoint)
{
    kcl_it_worker_config(cfg, stream, app, endpoint);
    cfg->shutdown_grace_ms = 5000;
}

static void stop_worker(kcl_worker *w)
{
    kcl_worker_shutdown(w);
    CHECK_EQ_INT(kcl_test_run_until(loop, &st.stopped, 15000), 0);
    CHECK(st.clean);
    kcl_worker_free(w);
    CHECK_EQ_INT(rec->instances, 0);
}

/* ---- 1. ListShards paging ----------------------------------------------------------- */

static void delete_stream(kcl_kinesis *k, const char *name)
{
    kcl_error err;
    op.done = 0;
    int rc = finish(kcl_kinesis_delete_stream(k, name, 0, NULL, kcl_it_on_done, &op, &err), &err);
    CHECK_MSG(rc == 0, "DeleteStream %s: %s", name, op.err.message);
}

/* `n` shards, listed whole and in order with pages of `max_results`. */
static void check_listing(const char *stream, int n, int max_results)
{
    kcl_kinesis_shard_list *l = list_shards(clients.kin, stream, max_results);
    if (!l) return;
    CHECK_MSG(l->count == (size_t)n, "MaxResults %d: %zu shards listed, expected %d", max_results, l->count, n);
    int wrong = 0;
    for (size_t i = 0; i < l->count; i++) {
        char want[32];
        snprintf(want, sizeof want, "shardId-%012zu", i);
        if (strcmp(l->shards[i].shard_id, want) != 0 || l->shards[i].parent_shard_id[0] ||
            l->shards[i].ending_sequence_number[0] || !l->shards[i].starting_sequence_number[0]) {
            if (wrong++ < 3) fprintf(stderr, "shard %zu of %s listed as %s (parent '%s', end '%s')\n", i,
                                     stream, l->shards[i].shard_id, l->shards[i].parent_shard_id,
                                     l->shards[i].ending_sequence_number);
        }
    }
    CHECK_MSG(wrong == 0, "MaxResults %d: %d shards of %s listed wrong", max_results, wrong, stream);
    kcl_kinesis_shard_list_free(l);
}

static void listshards_paging(void)
{
    char stream[64];
    snprintf(stream, sizeof stream, "%s", kcl_test_unique("klocal-pages"));
    create_stream(clients.kin, stream, 5);
    check_listing(stream, 5, 2);        /* 3 pages */
    check_listing(stream, 5, 1);        /* 5 pages */
    check_listing(stream, 5, 0);        /* one page of the server's default */
    delete_stream(clients.kin, stream);
    /* kinesis-local pages by 100 when no MaxResults is given, as the worker's
     * shard sync asks: 250 shards come in 3 pages. */
    snprintf(stream, sizeof stream, "%s", kcl_test_unique("klocal-pages"));
    create_stream(clients.kin, stream, 250);
    check_listing(stream, 250, 0);
    check_listing(stream, 250, 1000);   /* one page */
    delete_stream(clients.kin, stream);
}

/* ---- 2. a split under a running worker --------------------------------------------------- */

#define PARENT "shardId-000000000000"

static void split_under_worker(void)
{
    char stream[64], app[64];
    snprintf(stream, sizeof stream, "%s", kcl_test_unique("klocal-split"));
    snprintf(app, sizeof app, "%s", kcl_test_unique("klocal-split-app"));
    create_stream(clients.kin, stream, 2);
    /* 20 calls of 10 records: arrival times spread over the puts, so a
     * consumer reading 10 at a time is behind the tip for a while. */
    put_records(clients.kin, stream, 0, 200, 10);

    kcl_it_recording_reset();
    nend_lines = 0;
    kcl_config cfg;
    base_config(&cfg, stream, app, kcl_test_env("LUAKCL_TEST_KINESIS_LOCAL_ENDPOINT"));
    cfg.max_records = 10;
    kcl_error err;
    st.stopped = 0;
    kcl_worker *w = kcl_worker_new(loop, &cfg, &kcl_it_recording_factory, kcl_it_on_stopped, &st, &err);
    CHECK_MSG(w != NULL, "worker_new: %s", err.message);
    if (!w) return;
    CHECK_EQ_INT(kcl_worker_start(w, &err), 0);
    kcl_it_run_until_seen(loop, 200, 40);
    CHECK_EQ_INT(rec->nseen, 200);
    CHECK_EQ_INT(kcl_worker_shard_count(w), 2);
    CHECK_MSG(rec->batches_behind > 0, "no batch reported millis_behind_latest > 0 (%d batches, max %lld)",
              rec->batches, (long long)rec->max_behind);
    fprintf(stderr, "before the split: %d batches, %d behind, max millis_behind_latest %lld\n",
            rec->batches, rec->batches_behind, (long long)rec->max_behind);

    /* Split the parent at the middle of its range while the worker runs. */
    kcl_kinesis_shard_list *l = list_shards(clients.kin, stream, 0);
    const kcl_kinesis_shard *parent = NULL;
    for (size_t i = 0; l && i < l->count; i++)
        if (strcmp(l->shards[i].shard_id, PARENT) == 0) parent = &l->shards[i];
    CHECK_MSG(parent != NULL, "no %s in the stream", PARENT);
    const char *mid = "85070591730234615865843651857942052864";   /* 2^126 */
    uint8_t midkey[KCL_HASHKEY_LEN];
    CHECK_EQ_INT(kcl_hashkey_parse(mid, strlen(mid), midkey), 0);
    if (parent) CHECK(kcl_hashkey_in_range(midkey, parent->hash_range.start_key, parent->hash_range.end_key));
    kcl_kinesis_shard_list_free(l);
    op.done = 0;
    int rc = finish(kcl_kinesis_split_shard(clients.kin, stream, PARENT, mid, NULL, kcl_it_on_done, &op, &err), &err);
    CHECK_MSG(rc == 0, "SplitShard: %s", op.err.message);
    CHECK_MSG(wait_active(clients.kin, stream) == 0, "stream never ACTIVE after the split");

    /* The children, from the stream itself. */
    char child[2][KCL_KINESIS_SHARD_ID_MAX + 1] = {"", ""};
    int nchild = 0;
    l = list_shards(clients.kin, stream, 0);
    for (size_t i = 0; l && i < l->count; i++)
        if (strcmp(l->shards[i].parent_shard_id, PARENT) == 0 && nchild < 2)
            snprintf(child[nchild++], sizeof child[0], "%s", l->shards[i].shard_id);
    CHECK_EQ_INT(nchild, 2);
    kcl_kinesis_shard_list_free(l);

    put_records(clients.kin, stream, 200, 200, 50);
    kcl_it_run_until_seen(loop, 400, 40);
    CHECK_EQ_INT(rec->nseen, 400);

    /* Wait (bounded) until the parent's lease is finished and both children are leased. */
    kcl_lease_store_opts so = {.table = app};
    kcl_lease_store *store = kcl_lease_store_new(loop, clients.ddb, &so, &err);
    int settled = 0;
    for (int tries = 0; tries < 100 && !settled; tries++) {
        if (read_leases(store) == 0) {
            const kcl_lease *p = kcl_it_find_lease(&L, PARENT);
            const kcl_lease *c0 = kcl_it_find_lease(&L, child[0]), *c1 = kcl_it_find_lease(&L, child[1]);
            settled = p && c0 && c1 && strcmp(p->checkpoint, KCL_SENTINEL_SHARD_END) == 0 &&
                      p->nchildren == 2 && c0->owner[0] && c1->owner[0];
        }
        if (!settled) kcl_it_idle_ms(loop, 100);
    }
    CHECK_MSG(settled, "the parent's lease never reached SHARD_END with both children leased");

    /* Every record once, in put order per partition key: the parent's records of
     * a key all before the children's. */
    check_exactly_once_in_order(400, "split");
    int in_parent = 0, in_child[2] = {0, 0}, parent_after_split = 0;
    for (int i = 0; i < rec->nseen; i++) {
        if (strcmp(rec->seen[i].shard, PARENT) == 0) {
            in_parent++;
            if (rec->seen[i].id >= 200) parent_after_split++;
        }
        for (int c = 0; c < 2; c++) if (strcmp(rec->seen[i].shard, child[c]) == 0) in_child[c]++;
    }
    CHECK_MSG(in_child[0] > 0 && in_child[1] > 0, "records in the children: %s %d, %s %d",
              child[0], in_child[0], child[1], in_child[1]);
    CHECK_MSG(parent_after_split == 0, "%d records put after the split were read from the parent",
              parent_after_split);
    for (int i = 0; i < rec->nseen; i++) {
        int is_child = strcmp(rec->seen[i].shard, child[0]) == 0 || strcmp(rec->seen[i].shard, child[1]) == 0;
        if (!is_child) continue;
        for (int j = i + 1; j < rec->nseen; j++)
            if (strcmp(rec->seen[j].shard, PARENT) == 0 && strcmp(rec->seen[j].pk, rec->seen[i].pk) == 0) {
                CHECK_MSG(0, "%s: rec-%06d of the parent delivered after rec-%06d of child %s",
                          rec->seen[i].pk, rec->seen[j].id, rec->seen[i].id, rec->seen[i].shard);
                break;
            }
    }
    fprintf(stderr, "split: parent %d records, %s %d, %s %d\n", in_parent, child[0], in_child[0],
            child[1], in_child[1]);

    /* The consumer saw the parent's end with the children in GetRecords. */
    int saw_children = 0;
    for (int i = 0; i < nend_lines; i++)
        if (strstr(end_lines[i], "[" PARENT "]") && strstr(end_lines[i], "(2 child shards reported)"))
            saw_children = 1;
    CHECK_MSG(saw_children, "the consumer of %s did not report 2 ChildShards at its end (%d end lines%s%s)",
              PARENT, nend_lines, nend_lines ? ": " : "", nend_lines ? end_lines[0] : "");
    CHECK_EQ_INT(rec->shutdowns[KCL_SHUTDOWN_TERMINATE], 1);

    /* The lease table. */
    const kcl_lease *p = kcl_it_find_lease(&L, PARENT);
    CHECK(p != NULL);
    if (p) {
        CHECK_EQ_STR(p->checkpoint, KCL_SENTINEL_SHARD_END);
        CHECK_EQ_INT(p->nchildren, 2);
        int named = 0;
        for (int c = 0; c < p->nchildren && c < 2; c++)
            named += strcmp(p->children[c], child[0]) == 0 || strcmp(p->children[c], child[1]) == 0;
        CHECK_MSG(named == 2, "childShardIds of %s: %s %s, expected %s %s", PARENT,
                  p->nchildren > 0 ? p->children[0] : "-", p->nchildren > 1 ? p->children[1] : "-",
                  child[0], child[1]);
    }
    for (int c = 0; c < 2; c++) {
        const kcl_lease *cl = kcl_it_find_lease(&L, child[c]);
        CHECK_MSG(cl != NULL, "no lease for child %s", child[c]);
        if (!cl) continue;
        CHECK_EQ_INT(cl->nparents, 1);
        CHECK_EQ_STR(cl->parents[0], PARENT);
        CHECK_MSG(cl->starting_hash_key[0] && cl->ending_hash_key[0], "child %s lease has no hash range",
                  child[c]);
    }
    CHECK_EQ_INT(L.n, 4);       /* the 2 original shards + 2 children */
    kcl_it_free_leases(&L);

    /* The parent's consumer finished; shard 1 and the children run. */
    CHECK_EQ_INT(kcl_worker_shard_count(w), 3);
    stop_worker(w);
    CHECK_EQ_INT(rec->shutdowns[KCL_SHUTDOWN_REQUESTED], 3);
    kcl_lease_store_free(store);
}

/* ---- 3. TLS ------------------------------------------------------------------------------ */

static void over_tls(void)
{
    const char *ep = kcl_test_env("LUAKCL_TEST_KINESIS_LOCAL_TLS_ENDPOINT");
    char stream[64], app[64];
    snprintf(stream, sizeof stream, "%s", kcl_test_unique("klocal-tls"));
    snprintf(app, sizeof app, "%s", kcl_test_unique("klocal-tls-app"));

    /* Verification on: the self-signed certificate is refused. */
    kcl_error err;
    kcl_kinesis_opts vo = {.endpoint = ep, .region = "us-east-1", .retry = {.max_attempts = 1}};
    kcl_kinesis *verifying = kcl_kinesis_new(loop, clients.http, clients.creds, &vo, &err);
    CHECK(verifying != NULL);
    if (verifying) {
        op.done = 0;
        int rc = finish(kcl_kinesis_describe_stream_summary(verifying, "nothing", NULL, on_summary, NULL, &err),
                        &err);
        CHECK_MSG(rc != 0 && op.err.kind != KCL_ERR_NOT_FOUND,
                  "a self-signed certificate was accepted with verification on (%s)",
                  rc ? op.err.message : "success");
        /* a certificate failure is final: typed fatal, one attempt, not retried as a network fault */
        CHECK_MSG(op.err.kind == KCL_ERR_FATAL, "certificate failure typed %s: %s",
                  kcl_err_kind_name(op.err.kind), op.err.message);
        fprintf(stderr, "verification on, as expected: %s\n", op.err.message);
        kcl_kinesis_free(verifying);
    }

    create_stream(kin_tls, stream, 2);
    put_records(kin_tls, stream, 0, 100, 25);

    kcl_it_recording_reset();
    kcl_config cfg;
    base_config(&cfg, stream, app, ep);
    cfg.insecure_tls = 1;
    st.stopped = 0;
    kcl_worker *w = kcl_worker_new(loop, &cfg, &kcl_it_recording_factory, kcl_it_on_stopped, &st, &err);
    CHECK_MSG(w != NULL, "worker_new over TLS: %s", err.message);
    if (!w) return;
    CHECK_EQ_INT(kcl_worker_start(w, &err), 0);
    kcl_it_run_until_seen(loop, 100, 30);
    CHECK_EQ_INT(rec->nseen, 100);
    check_exactly_once_in_order(100, "tls");
    CHECK_EQ_INT(kcl_worker_shard_count(w), 2);
    stop_worker(w);
    CHECK_EQ_INT(rec->shutdowns[KCL_SHUTDOWN_REQUESTED], 2);

    /* Checkpointed at each shard's last record. */
    kcl_lease_store_opts so = {.table = app};
    kcl_lease_store *store = kcl_lease_store_new(loop, clients.ddb, &so, &err);
    CHECK_EQ_INT(read_leases(store), 0);
    CHECK_EQ_INT(L.n, 2);
    for (size_t i = 0; i < L.n; i++) {
        const char *last = kcl_it_last_seq(L.leases[i].key);
        CHECK_EQ_STR(L.leases[i].checkpoint, last ? last : "TRIM_HORIZON");
        CHECK_MSG(L.leases[i].owner[0] == 0, "lease %s still owned by %s", L.leases[i].key, L.leases[i].owner);
    }
    kcl_it_free_leases(&L);
    kcl_lease_store_free(store);
}

int main(void)
{
    loop = ev_default_loop(0);
    kcl_log_level lv = kcl_it_log_level(KCL_LOG_INFO);
    if (lv > KCL_LOG_INFO) lv = KCL_LOG_INFO;       /* the test reads INFO lines */
    kcl_log_set_level(lv);
    kcl_log_set_hook(on_log, NULL);
    kcl_it_clients_open(loop, "LUAKCL_TEST_KINESIS_LOCAL_ENDPOINT", &clients);
    kcl_error err;
    kcl_kinesis_opts kto = {.endpoint = kcl_test_env("LUAKCL_TEST_KINESIS_LOCAL_TLS_ENDPOINT"),
                            .region = "us-east-1", .insecure_tls = 1};
    kin_tls = kcl_kinesis_new(loop, clients.http, clients.creds, &kto, &err);
    CHECK(clients.kin && kin_tls && clients.ddb);
    /* Twice in one process: leaked state shows up in the second round. */
    for (int round = 1; round <= 2 && clients.kin && kin_tls && clients.ddb; round++) {
        listshards_paging();
        split_under_worker();
        over_tls();
    }
    kcl_log_set_hook(NULL, NULL);
    kcl_kinesis_free(kin_tls);
    kcl_it_clients_close(&clients);
    return TEST_END();
}
