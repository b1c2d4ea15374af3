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
#include "config.h"
#include "credentials.h"
#include "dynamodb.h"
#include "hashkey.h"
#include "kinesis.h"
#include "lease_store.h"
#include "log.h"
#include "testlib.h"
#include "worker.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

#define MAXREC 2000
#define NKEYS  40

static struct ev_loop *loop;

/* ---- a recording processor ---------------------------------------------------- */

typedef struct seen_rec {
    char shard[64];
    char seq[128];
    char pk[32];
    int  id;
} seen_rec;

static seen_rec seen[MAXREC];
static int nseen;
static int shutdowns[3];            /* by reason */
static int instances;
static int batches, batches_behind; /* batches delivered; those with millis_behind_latest > 0 */
static int64_t max_behind;

typedef struct inst {
    char shard[64];
    kcl_proc_done_fn done;
    void *ctx;
} inst;

static void reset_recording(void)
{
    nseen = 0;
    memset(shutdowns, 0, sizeof shutdowns);
    batches = batches_behind = 0;
    max_behind = -1;
}

static void *p_create(void *factory, const char *shard_id, kcl_error *err)
{
    (void)factory; (void)err;
    inst *i = calloc(1, sizeof *i);
    snprintf(i->shard, sizeof i->shard, "%s", shard_id);
    instances++;
    return i;
}

static void p_initialize(void *pi, const kcl_init_input *in, kcl_proc_done_fn done, void *ctx)
{
    (void)pi; (void)in;
    done(ctx, 0, NULL);
}

static void on_cp(void *ud, const kcl_error *err)
{
    inst *i = ud;
    kcl_proc_done_fn done = i->done;
    i->done = NULL;
    if (err) fprintf(stderr, "[%s] checkpoint failed: %s\n", i->shard, err->message);
    done(i->ctx, err ? -1 : 0, err ? err->message : NULL);
}

static void p_process(void *pi, const kcl_batch *b, kcl_checkpointer *cp, kcl_proc_done_fn done, void *ctx)
{
    inst *i = pi;
    batches++;
    if (b->millis_behind_latest > 0) batches_behind++;
    if (b->millis_behind_latest > max_behind) max_behind = b->millis_behind_latest;
    for (size_t k = 0; k < b->count && nseen < MAXREC; k++) {
        seen_rec *s = &seen[nseen++];
        snprintf(s->shard, sizeof s->shard, "%s", i->shard);
        snprintf(s->seq, sizeof s->seq, "%s", b->records[k].sequence_number);
        snprintf(s->pk, sizeof s->pk, "%s", b->records[k].partition_key);
        char data[32];
        size_t n = b->records[k].len < sizeof data - 1 ? b->records[k].len : sizeof data - 1;
        memcpy(data, b->records[k].data, n);
        data[n] = 0;
        s->id = strncmp(data, "rec-", 4) == 0 ? atoi(data + 4) : -1;
    }
    i->done = done;
    i->ctx = ctx;
    kcl_error err;
    if (!cp->ops->checkpoint(cp, NULL, -1, on_cp, i, &err)) {
        i->done = NULL;
        done(ctx, -1, err.message);
    }
}

static void p_shutdown(void *pi, kcl_shutdown_reason r, kcl_checkpointer *cp, kcl_proc_done_fn done, void *ctx)
{
    inst *i = pi;
    shutdowns[r]++;
    if (r == KCL_SHUTDOWN_TERMINATE) {
        i->done = done;
        i->ctx = ctx;
        kcl_error err;
        if (cp->ops->checkpoint(cp, NULL, -1, on_cp, i, &err)) return;
        i->done = NULL;
        fprintf(stderr, "[%s] SHARD_END checkpoint refused: %s\n", i->shard, err.message);
    }
    done(ctx, 0, NULL);
}

static void p_destroy(void *pi)
{
    free(pi);
    instances--;
}

static const kcl_processor_vtable vt = {p_create, p_initialize, p_process, p_shutdown, p_destroy};
static const kcl_processor_factory factory = {&vt, NULL};

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

static kcl_http *http;
static kcl_creds_provider *creds;
static kcl_kinesis *kin;            /* kinesis-local, plain HTTP/1.1 */
static kcl_kinesis *kin_tls;        /* kinesis-local, HTTPS, insecure_tls */
static kcl_ddb *ddb;
static int op_done;
static kcl_error op_err;

static void on_op(const kcl_error *err, void *ud)
{
    (void)ud;
    op_err = *err;
    op_done = 1;
}

static void on_put(const kcl_kinesis_put_result *res, const kcl_error *err, void *ud)
{
    (void)ud;
    op_err = *err;
    if (res && res->failed_count) kcl_error_set(&op_err, KCL_ERR_FATAL, 0, NULL, "%d failed", res->failed_count);
    op_done = 1;
}

static kcl_kinesis_stream_summary summary;
static void on_summary(const kcl_kinesis_stream_summary *s, const kcl_error *err, void *ud)
{
    (void)ud;
    op_err = *err;
    if (s) summary = *s;
    op_done = 1;
}

static kcl_kinesis_shard_list *listed;
static void on_shards(kcl_kinesis_shard_list *l, const kcl_error *err, void *ud)
{
    (void)ud;
    op_err = *err;
    listed = l;
    op_done = 1;
}

/* Start an operation (`started` is its handle) and run the loop until it is done. */
static int finish(const void *started, const kcl_error *err)
{
    if (!started) {
        op_err = *err;
        return -1;
    }
    if (kcl_test_run_until(loop, &op_done, 20000) != 0) {
        kcl_error_set(&op_err, KCL_ERR_FATAL, 0, NULL, "timed out");
        return -1;
    }
    return op_err.kind == KCL_ERR_NONE ? 0 : -1;
}

static int wait_active(kcl_kinesis *k, const char *name)
{
    for (int tries = 0; tries < 200; tries++) {
        kcl_error err;
        op_done = 0;
        if (finish(kcl_kinesis_describe_stream_summary(k, name, NULL, on_summary, NULL, &err), &err) == 0 &&
            summary.status == KCL_STREAM_ACTIVE)
            return 0;
        int never = 0;
        kcl_test_run_until(loop, &never, 50);   /* poll the stream's status, bounded by the tries */
    }
    return -1;
}

static void create_stream(kcl_kinesis *k, const char *name, int shards)
{
    kcl_error err;
    op_done = 0;
    int rc = finish(kcl_kinesis_create_stream(k, name, shards, NULL, on_op, NULL, &err), &err);
    CHECK_MSG(rc == 0, "CreateStream %s: %s", name, op_err.message);
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
        for (int j = 0; j < n; j++) {
            snprintf(data[j], sizeof data[j], "rec-%06d", from + done + j);
            snprintf(pk[j], sizeof pk[j], "pk-%d", (from + done + j) % NKEYS);
            e[j] = (kcl_kinesis_put_entry){data[j], strlen(data[j]), pk[j], NULL};
        }
        kcl_error err;
        op_done = 0;
        int rc = finish(kcl_kinesis_put_records(k, stream, e, (size_t)n, NULL, on_put, NULL, &err), &err);
        CHECK_MSG(rc == 0, "PutRecords: %s", op_err.message);
        if (rc) return;
        done += n;
    }
}

static kcl_kinesis_shard_list *list_shards(kcl_kinesis *k, const char *stream, int max_results)
{
    kcl_kinesis_list_shards_req req = {.stream_name = stream, .max_results = max_results};
    kcl_error err;
    op_done = 0;
    listed = NULL;
    int rc = finish(kcl_kinesis_list_shards(k, &req, NULL, on_shards, NULL, &err), &err);
    CHECK_MSG(rc == 0, "ListShards %s (MaxResults %d): %s", stream, max_results, op_err.message);
    return rc == 0 ? listed : NULL;
}

static int stopped, stopped_clean;
static void on_stopped(kcl_worker *w, const kcl_error *err, void *ud)
{
    (void)w; (void)ud;
    stopped = 1;
    stopped_clean = err == NULL;
    if (err) fprintf(stderr, "worker stopped: %s\n", err->message);
}

/* Run the loop until `n` records arrived, bounded. */
static void run_until_seen(int n, int seconds)
{
    for (int spins = 0; spins < seconds * 10 && nseen < n; spins++) {
        int never = 0;
        kcl_test_run_until(loop, &never, 100);
    }
}

/* Every id in [0, expected) exactly once; per partition key in id order. */
static void check_exactly_once_in_order(int expected, const char *what)
{
    char *hit = calloc((size_t)expected, 1);
    int dup = 0, bad = 0, missing = 0;
    for (int i = 0; i < nseen; i++) {
        int id = seen[i].id;
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
    for (int i = 0; i < nseen; i++) {
        int id = seen[i].id;
        if (id < 0) continue;
        int key = id % NKEYS;
        if (id < last[key]) {
            if (disorder++ < 5)
                fprintf(stderr, "%s: rec-%06d (%s) delivered after rec-%06d of the same key\n",
                        what, id, seen[i].shard, last[key]);
        } else {
            last[key] = id;
        }
    }
    CHECK_MSG(disorder == 0, "%s: %d records out of their partition key's order", what, disorder);
}

static struct { int done; kcl_lease leases[16]; size_t n; kcl_error err; } L;
static void on_list(const kcl_lease *all, size_t n, const kcl_error *err, void *ud)
{
    (void)ud;
    for (size_t i = 0; i < L.n; i++) kcl_lease_free(&L.leases[i]);
    L.n = 0;
    if (err) L.err = *err; else kcl_error_clear(&L.err);
    for (size_t i = 0; !err && i < n && i < 16; i++) kcl_lease_copy(&L.leases[L.n++], &all[i]);
    L.done = 1;
}

static int read_leases(kcl_lease_store *store)
{
    L.done = 0;
    kcl_lease_store_list(store, on_list, NULL);
    if (kcl_test_run_until(loop, &L.done, 10000) != 0) return -1;
    return L.err.kind == KCL_ERR_NONE ? 0 : -1;
}

static const kcl_lease *find_lease(const char *key)
{
    for (size_t i = 0; i < L.n; i++) if (strcmp(L.leases[i].key, key) == 0) return &L.leases[i];
    return NULL;
}

static void free_leases(void)
{
    for (size_t i = 0; i < L.n; i++) kcl_lease_free(&L.leases[i]);
    L.n = 0;
}

static void base_config(kcl_config *cfg, const char *stream, const char *app, const char *endpoint)
{
    kcl_config_defaults(cfg);
    cfg->stream = (char *)stream;
    cfg->app = (char *)app;
    cfg->endpoint = (char *)endpoint;
    cfg->dynamodb_endpoint = (char *)kcl_test_env("LUAKCL_TEST_DYNAMODB_ENDPOINT");
    cfg->initial_position = KCL_POS_TRIM_HORIZON;
    cfg->idle_time_ms = 200;
    cfg->failover_time_ms = 3000;
    cfg->shutdown_grace_ms = 5000;
}

static void stop_worker(kcl_worker *w)
{
    kcl_worker_shutdown(w);
    CHECK_EQ_INT(kcl_test_run_until(loop, &stopped, 15000), 0);
    CHECK(stopped_clean);
    kcl_worker_free(w);
    CHECK_EQ_INT(instances, 0);
}

/* ---- 1. ListShards paging ----------------------------------------------------------- */

static void delete_stream(kcl_kinesis *k, const char *name)
{
    kcl_error err;
    op_done = 0;
    int rc = finish(kcl_kinesis_delete_stream(k, name, 0, NULL, on_op, NULL, &err), &err);
    CHECK_MSG(rc == 0, "DeleteStream %s: %s", name, op_err.message);
}

/* `n` shards, listed whole and in order with pages of `max_results`. */
static void check_listing(const char *stream, int n, int max_results)
{
    kcl_kinesis_shard_list *l = list_shards(kin, stream, max_results);
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
    create_stream(kin, stream, 5);
    check_listing(stream, 5, 2);        /* 3 pages */
    check_listing(stream, 5, 1);        /* 5 pages */
    check_listing(stream, 5, 0);        /* one page of the server's default */
    delete_stream(kin, stream);
    /* kinesis-local pages by 100 when no MaxResults is given, as the worker's
     * shard sync asks: 250 shards come in 3 pages. */
    snprintf(stream, sizeof stream, "%s", kcl_test_unique("klocal-pages"));
    create_stream(kin, stream, 250);
    check_listing(stream, 250, 0);
    check_listing(stream, 250, 1000);   /* one page */
    delete_stream(kin, stream);
}

/* ---- 2. a split under a running worker --------------------------------------------------- */

#define PARENT "shardId-000000000000"

static void split_under_worker(void)
{
    char stream[64], app[64];
    snprintf(stream, sizeof stream, "%s", kcl_test_unique("klocal-split"));
    snprintf(app, sizeof app, "%s", kcl_test_unique("klocal-split-app"));
    create_stream(kin, stream, 2);
    /* 20 calls of 10 records: arrival times spread over the puts, so a
     * consumer reading 10 at a time is behind the tip for a while. */
    put_records(kin, stream, 0, 200, 10);

    reset_recording();
    nend_lines = 0;
    kcl_config cfg;
    base_config(&cfg, stream, app, kcl_test_env("LUAKCL_TEST_KINESIS_LOCAL_ENDPOINT"));
    cfg.max_records = 10;
    kcl_error err;
    stopped = 0;
    kcl_worker *w = kcl_worker_new(loop, &cfg, &factory, on_stopped, NULL, &err);
    CHECK_MSG(w != NULL, "worker_new: %s", err.message);
    if (!w) return;
    CHECK_EQ_INT(kcl_worker_start(w, &err), 0);
    run_until_seen(200, 40);
    CHECK_EQ_INT(nseen, 200);
    CHECK_EQ_INT(kcl_worker_shard_count(w), 2);
    CHECK_MSG(batches_behind > 0, "no batch reported millis_behind_latest > 0 (%d batches, max %lld)",
              batches, (long long)max_behind);
    fprintf(stderr, "before the split: %d batches, %d behind, max millis_behind_latest %lld\n",
            batches, batches_behind, (long long)max_behind);

    /* Split the parent at the middle of its range while the worker runs. */
    kcl_kinesis_shard_list *l = list_shards(kin, stream, 0);
    const kcl_kinesis_shard *parent = NULL;
    for (size_t i = 0; l && i < l->count; i++)
        if (strcmp(l->shards[i].shard_id, PARENT) == 0) parent = &l->shards[i];
    CHECK_MSG(parent != NULL, "no %s in the stream", PARENT);
    const char *mid = "85070591730234615865843651857942052864";   /* 2^126 */
    uint8_t midkey[KCL_HASHKEY_LEN];
    CHECK_EQ_INT(kcl_hashkey_parse(mid, strlen(mid), midkey), 0);
    if (parent) CHECK(kcl_hashkey_in_range(midkey, parent->hash_range.start_key, parent->hash_range.end_key));
    kcl_kinesis_shard_list_free(l);
    op_done = 0;
    int rc = finish(kcl_kinesis_split_shard(kin, stream, PARENT, mid, NULL, on_op, NULL, &err), &err);
    CHECK_MSG(rc == 0, "SplitShard: %s", op_err.message);
    CHECK_MSG(wait_active(kin, stream) == 0, "stream never ACTIVE after the split");

    /* The children, from the stream itself. */
    char child[2][KCL_KINESIS_SHARD_ID_MAX + 1] = {"", ""};
    int nchild = 0;
    l = list_shards(kin, stream, 0);
    for (size_t i = 0; l && i < l->count; i++)
        if (strcmp(l->shards[i].parent_shard_id, PARENT) == 0 && nchild < 2)
            snprintf(child[nchild++], sizeof child[0], "%s", l->shards[i].shard_id);
    CHECK_EQ_INT(nchild, 2);
    kcl_kinesis_shard_list_free(l);

    put_records(kin, stream, 200, 200, 50);
    run_until_seen(400, 40);
    CHECK_EQ_INT(nseen, 400);

    /* Wait (bounded) until the parent's lease is finished and both children are leased. */
    kcl_lease_store_opts so = {.table = app};
    kcl_lease_store *store = kcl_lease_store_new(loop, ddb, &so, &err);
    int settled = 0;
    for (int tries = 0; tries < 100 && !settled; tries++) {
        if (read_leases(store) == 0) {
            const kcl_lease *p = find_lease(PARENT);
            const kcl_lease *c0 = find_lease(child[0]), *c1 = find_lease(child[1]);
            settled = p && c0 && c1 && strcmp(p->checkpoint, KCL_SENTINEL_SHARD_END) == 0 &&
                      p->nchildren == 2 && c0->owner[0] && c1->owner[0];
        }
        if (!settled) { int never = 0; kcl_test_run_until(loop, &never, 100); }
    }
    CHECK_MSG(settled, "the parent's lease never reached SHARD_END with both children leased");

    /* Every record once, in put order per partition key: the parent's records of
     * a key all before the children's. */
    check_exactly_once_in_order(400, "split");
    int in_parent = 0, in_child[2] = {0, 0}, parent_after_split = 0;
    for (int i = 0; i < nseen; i++) {
        if (strcmp(seen[i].shard, PARENT) == 0) {
            in_parent++;
            if (seen[i].id >= 200) parent_after_split++;
        }
        for (int c = 0; c < 2; c++) if (strcmp(seen[i].shard, child[c]) == 0) in_child[c]++;
    }
    CHECK_MSG(in_child[0] > 0 && in_child[1] > 0, "records in the children: %s %d, %s %d",
              child[0], in_child[0], child[1], in_child[1]);
    CHECK_MSG(parent_after_split == 0, "%d records put after the split were read from the parent",
              parent_after_split);
    for (int i = 0; i < nseen; i++) {
        int is_child = strcmp(seen[i].shard, child[0]) == 0 || strcmp(seen[i].shard, child[1]) == 0;
        if (!is_child) continue;
        for (int j = i + 1; j < nseen; j++)
            if (strcmp(seen[j].shard, PARENT) == 0 && strcmp(seen[j].pk, seen[i].pk) == 0) {
                CHECK_MSG(0, "%s: rec-%06d of the parent delivered after rec-%06d of child %s",
                          seen[i].pk, seen[j].id, seen[i].id, seen[i].shard);
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
    CHECK_EQ_INT(shutdowns[KCL_SHUTDOWN_TERMINATE], 1);

    /* The lease table. */
    const kcl_lease *p = find_lease(PARENT);
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
        const kcl_lease *cl = find_lease(child[c]);
        CHECK_MSG(cl != NULL, "no lease for child %s", child[c]);
        if (!cl) continue;
        CHECK_EQ_INT(cl->nparents, 1);
        CHECK_EQ_STR(cl->parents[0], PARENT);
        CHECK_MSG(cl->starting_hash_key[0] && cl->ending_hash_key[0], "child %s lease has no hash range",
                  child[c]);
    }
    CHECK_EQ_INT(L.n, 4);       /* the 2 original shards + 2 children */
    free_leases();

    /* The parent's consumer finished; shard 1 and the children run. */
    CHECK_EQ_INT(kcl_worker_shard_count(w), 3);
    stop_worker(w);
    CHECK_EQ_INT(shutdowns[KCL_SHUTDOWN_REQUESTED], 3);
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
    kcl_kinesis *verifying = kcl_kinesis_new(loop, http, creds, &vo, &err);
    CHECK(verifying != NULL);
    if (verifying) {
        op_done = 0;
        int rc = finish(kcl_kinesis_describe_stream_summary(verifying, "nothing", NULL, on_summary, NULL, &err),
                        &err);
        CHECK_MSG(rc != 0 && op_err.kind != KCL_ERR_NOT_FOUND,
                  "a self-signed certificate was accepted with verification on (%s)",
                  rc ? op_err.message : "success");
        /* a certificate failure is final: typed fatal, one attempt, not retried as a network fault */
        CHECK_MSG(op_err.kind == KCL_ERR_FATAL, "certificate failure typed %s: %s",
                  kcl_err_kind_name(op_err.kind), op_err.message);
        fprintf(stderr, "verification on, as expected: %s\n", op_err.message);
        kcl_kinesis_free(verifying);
    }

    create_stream(kin_tls, stream, 2);
    put_records(kin_tls, stream, 0, 100, 25);

    reset_recording();
    kcl_config cfg;
    base_config(&cfg, stream, app, ep);
    cfg.insecure_tls = 1;
    stopped = 0;
    kcl_worker *w = kcl_worker_new(loop, &cfg, &factory, on_stopped, NULL, &err);
    CHECK_MSG(w != NULL, "worker_new over TLS: %s", err.message);
    if (!w) return;
    CHECK_EQ_INT(kcl_worker_start(w, &err), 0);
    run_until_seen(100, 30);
    CHECK_EQ_INT(nseen, 100);
    check_exactly_once_in_order(100, "tls");
    CHECK_EQ_INT(kcl_worker_shard_count(w), 2);
    stop_worker(w);
    CHECK_EQ_INT(shutdowns[KCL_SHUTDOWN_REQUESTED], 2);

    /* Checkpointed at each shard's last record. */
    kcl_lease_store_opts so = {.table = app};
    kcl_lease_store *store = kcl_lease_store_new(loop, ddb, &so, &err);
    CHECK_EQ_INT(read_leases(store), 0);
    CHECK_EQ_INT(L.n, 2);
    for (size_t i = 0; i < L.n; i++) {
        const char *last = NULL;
        for (int k = 0; k < nseen; k++) if (strcmp(seen[k].shard, L.leases[i].key) == 0) last = seen[k].seq;
        CHECK_EQ_STR(L.leases[i].checkpoint, last ? last : "TRIM_HORIZON");
        CHECK_MSG(L.leases[i].owner[0] == 0, "lease %s still owned by %s", L.leases[i].key, L.leases[i].owner);
    }
    free_leases();
    kcl_lease_store_free(store);
}

int main(void)
{
    loop = ev_default_loop(0);
    kcl_log_level lv = KCL_LOG_INFO;
    if (getenv("LUAKCL_TEST_LOG")) kcl_log_parse_level(getenv("LUAKCL_TEST_LOG"), &lv);
    if (lv > KCL_LOG_INFO) lv = KCL_LOG_INFO;       /* the test reads INFO lines */
    kcl_log_set_level(lv);
    kcl_log_set_hook(on_log, NULL);
    kcl_error err;
    http = kcl_http_new(loop, &err);
    kcl_creds_config cc = {.loop = loop, .http = http};
    creds = kcl_creds_provider_new(&cc, &err);
    kcl_kinesis_opts ko = {.endpoint = kcl_test_env("LUAKCL_TEST_KINESIS_LOCAL_ENDPOINT"), .region = "us-east-1"};
    kin = kcl_kinesis_new(loop, http, creds, &ko, &err);
    kcl_kinesis_opts kto = {.endpoint = kcl_test_env("LUAKCL_TEST_KINESIS_LOCAL_TLS_ENDPOINT"),
                            .region = "us-east-1", .insecure_tls = 1};
    kin_tls = kcl_kinesis_new(loop, http, creds, &kto, &err);
    kcl_ddb_opts dopt = {.endpoint = kcl_test_env("LUAKCL_TEST_DYNAMODB_ENDPOINT"), .region = "us-east-1"};
    ddb = kcl_ddb_new(loop, http, creds, &dopt, &err);
    CHECK(kin && kin_tls && ddb);
    /* Twice in one process: leaked state shows up in the second round. */
    for (int round = 1; round <= 2 && kin && kin_tls && ddb; round++) {
        listshards_paging();
        split_under_worker();
        over_tls();
    }
    kcl_log_set_hook(NULL, NULL);
    kcl_ddb_free(ddb);
    kcl_kinesis_free(kin_tls);
    kcl_kinesis_free(kin);
    kcl_creds_provider_free(creds);
    kcl_http_free(http);
    return TEST_END();
}
