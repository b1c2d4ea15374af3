/* it_shard_sync — shard discovery and lease creation against real kinesalite
 * and dynalite: a 3-shard stream synced at TRIM_HORIZON, a split and a second
 * sync (children waiting on their parent), an idempotent third sync, LATEST on
 * a fresh table of the resharded stream, two workers syncing one table at
 * once, create_children (via ListShards, kinesalite has no ChildShards; and
 * from given ChildShards), a missing stream, cancel and free with work in
 * flight. Each case has its own table; the stream is this process's own. */
#include "credentials.h"
#include "dynamodb.h"
#include "http.h"
#include "kinesis.h"
#include "lease_store.h"
#include "shard_sync.h"
#include "itlib.h"
#include "testlib.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

#define WAIT_MS 15000

static struct ev_loop *loop;
static kcl_kinesis *kin;
static kcl_ddb *ddb;
static char stream[128];

/* ---- synchronous helpers ---------------------------------------------------------- */

typedef struct {
    int done;
    kcl_error err;
    int failed;
    int created;
    int nchildren;
    char children[4][KCL_LEASE_KEY_MAX + 1];
    kcl_lease *leases;
    size_t nleases;
    kcl_kinesis_shard_list *shards;
    kcl_kinesis_stream_summary sum;
} waiter;

static void w_reset(waiter *w)
{
    kcl_shard_sync_leases_free(w->leases, w->nleases);
    kcl_kinesis_shard_list_free(w->shards);
    memset(w, 0, sizeof *w);
}

static void w_err(waiter *w, const kcl_error *err)
{
    if (err && err->kind != KCL_ERR_NONE) {
        w->err = *err;
        w->failed = 1;
    }
    w->done = 1;
}

static int wait_w(waiter *w)
{
    return kcl_it_wait_done(loop, &w->done, WAIT_MS);
}

static void on_kdone(const kcl_error *err, void *ud) { w_err(ud, err); }
static void on_ldone(const kcl_error *err, void *ud) { w_err(ud, err); }

static void on_summary(const kcl_kinesis_stream_summary *s, const kcl_error *err, void *ud)
{
    waiter *w = ud;
    if (s) w->sum = *s;
    w_err(w, err);
}

static void on_shards(kcl_kinesis_shard_list *l, const kcl_error *err, void *ud)
{
    waiter *w = ud;
    w->shards = l;
    w_err(w, err);
}

static void on_list(const kcl_lease *leases, size_t n, const kcl_error *err, void *ud)
{
    waiter *w = ud;
    if (!err && n) {
        w->leases = calloc(n, sizeof *w->leases);
        for (size_t i = 0; w->leases && i < n; i++) kcl_lease_copy(&w->leases[i], &leases[i]);
        w->nleases = w->leases ? n : 0;
    }
    w_err(w, err);
}

static void on_sync(const kcl_error *err, int created, void *ud)
{
    waiter *w = ud;
    w->created = created;
    w_err(w, err);
}

static void on_children(const kcl_error *err, const char *const *ids, int n, void *ud)
{
    waiter *w = ud;
    w->nchildren = n;
    for (int i = 0; i < n && i < 4; i++) snprintf(w->children[i], sizeof w->children[i], "%s", ids[i]);
    w_err(w, err);
}

static int wait_active(int want_open)
{
    waiter w = {0};
    for (int i = 0; i < 250; i++) {
        kcl_error err;
        w_reset(&w);
        if (!kcl_kinesis_describe_stream_summary(kin, stream, NULL, on_summary, &w, &err)) return -1;
        if (wait_w(&w) != 0) return -1;
        if (!w.failed && w.sum.status == KCL_STREAM_ACTIVE && w.sum.open_shard_count == want_open) return 0;
        kcl_it_pause_ms(loop, 20);
    }
    return -1;
}

static kcl_kinesis_shard_list *list_shards(void)
{
    waiter w = {0};
    kcl_error err;
    kcl_kinesis_list_shards_req req = {.stream_name = stream};
    if (!kcl_kinesis_list_shards(kin, &req, NULL, on_shards, &w, &err)) return NULL;
    wait_w(&w);
    kcl_kinesis_shard_list *l = w.shards;
    w.shards = NULL;
    return l;
}

static kcl_lease_store *new_table(const char *prefix)
{
    kcl_error err;
    kcl_lease_store_opts o = {.table = kcl_test_unique(prefix)};
    kcl_lease_store *s = kcl_lease_store_new(loop, ddb, &o, &err);
    CHECK_MSG(s != NULL, "kcl_lease_store_new: %s", err.message);
    if (!s) return NULL;
    waiter w = {0};
    CHECK(kcl_lease_store_ensure_table(s, on_ldone, &w) != NULL);
    wait_w(&w);
    CHECK_MSG(!w.failed, "ensure_table: %s", w.err.message);
    return s;
}

/* Every row of the table into w->leases. */
static void list_leases(kcl_lease_store *s, waiter *w)
{
    w_reset(w);
    CHECK(kcl_lease_store_list(s, on_list, w) != NULL);
    wait_w(w);
    CHECK_MSG(!w->failed, "lease list: %s", w->err.message);
}

static const kcl_lease *row(const waiter *w, const char *key)
{
    for (size_t i = 0; i < w->nleases; i++) if (strcmp(w->leases[i].key, key) == 0) return &w->leases[i];
    return NULL;
}

static const kcl_kinesis_shard *shard(const kcl_kinesis_shard_list *l, const char *id)
{
    for (size_t i = 0; l && i < l->count; i++) if (strcmp(l->shards[i].shard_id, id) == 0) return &l->shards[i];
    return NULL;
}

/* One sync to completion; returns the number created (-1 on failure). */
static int sync_once(kcl_shard_sync *ss)
{
    waiter w = {0};
    CHECK(kcl_shard_sync_run(ss, on_sync, &w) != NULL);
    CHECK_MSG(w.done == 0, "sync called back inside the starting call");
    wait_w(&w);
    CHECK_MSG(!w.failed, "sync: %s %s", w.err.code, w.err.message);
    return w.failed ? -1 : w.created;
}

/* ---- the cases ----------------------------------------------------------------------- */

static char parent_id[KCL_KINESIS_SHARD_ID_MAX + 1];
static char child_ids[2][KCL_KINESIS_SHARD_ID_MAX + 1];

static void trim_horizon_then_split(void)
{
    kcl_lease_store *store = new_table("it-ss-th");
    if (!store) return;
    kcl_error err;
    kcl_shard_sync *ss = kcl_shard_sync_new(loop, kin, store, stream, KCL_POS_TRIM_HORIZON, &err);
    CHECK_MSG(ss != NULL, "kcl_shard_sync_new: %s", err.message);
    if (!ss) { kcl_lease_store_free(store); return; }

    /* 3 open shards: 3 leases at TRIM_HORIZON with their hash ranges. */
    CHECK_EQ_INT(sync_once(ss), 3);
    kcl_kinesis_shard_list *l0 = list_shards();
    CHECK(l0 && l0->count == 3);
    waiter w = {0};
    list_leases(store, &w);
    CHECK_EQ_INT(w.nleases, 3);
    for (size_t i = 0; l0 && i < l0->count; i++) {
        const kcl_lease *r = row(&w, l0->shards[i].shard_id);
        CHECK_MSG(r != NULL, "no lease for %s", l0->shards[i].shard_id);
        if (!r) continue;
        CHECK_EQ_STR(r->checkpoint, "TRIM_HORIZON");
        CHECK_EQ_INT(r->nparents, 0);
        CHECK_EQ_INT(r->counter, 0);
        CHECK_EQ_STR(r->owner, "");
        CHECK_EQ_STR(r->starting_hash_key, l0->shards[i].hash_range.starting);
        CHECK_EQ_STR(r->ending_hash_key, l0->shards[i].hash_range.ending);
    }
    if (!l0 || l0->count != 3) { kcl_kinesis_shard_list_free(l0); w_reset(&w); goto out; }

    /* Split the first shard; wait until ListShards shows its children. */
    const kcl_kinesis_shard *s0 = &l0->shards[0];
    snprintf(parent_id, sizeof parent_id, "%s", s0->shard_id);
    char mid[KCL_HASHKEY_DEC_MAX];
    kcl_it_hashkey_midpoint(s0->hash_range.start_key, s0->hash_range.end_key, mid);
    waiter k = {0};
    CHECK(kcl_kinesis_split_shard(kin, stream, s0->shard_id, mid, NULL, on_kdone, &k, &err) != NULL);
    wait_w(&k);
    CHECK_MSG(!k.failed, "SplitShard: %s %s", k.err.code, k.err.message);
    CHECK(wait_active(4) == 0);
    kcl_kinesis_shard_list *l1 = list_shards();
    CHECK(l1 && l1->count == 5);
    int nkids = 0;
    for (size_t i = 0; l1 && i < l1->count; i++)
        if (strcmp(l1->shards[i].parent_shard_id, parent_id) == 0 && nkids < 2)
            snprintf(child_ids[nkids++], sizeof child_ids[0], "%s", l1->shards[i].shard_id);
    CHECK_EQ_INT(nkids, 2);

    /* The second sync: the two children, at TRIM_HORIZON, waiting on the parent. */
    CHECK_EQ_INT(sync_once(ss), 2);
    list_leases(store, &w);
    CHECK_EQ_INT(w.nleases, 5);
    for (int c = 0; c < nkids; c++) {
        const kcl_lease *r = row(&w, child_ids[c]);
        const kcl_kinesis_shard *sh = shard(l1, child_ids[c]);
        CHECK_MSG(r != NULL, "no lease for child %s", child_ids[c]);
        if (!r || !sh) continue;
        CHECK_EQ_STR(r->checkpoint, "TRIM_HORIZON");
        CHECK_EQ_INT(r->nparents, 1);
        CHECK_EQ_STR(r->parents[0], parent_id);
        CHECK_EQ_STR(r->starting_hash_key, sh->hash_range.starting);
        CHECK_EQ_STR(r->ending_hash_key, sh->hash_range.ending);
        /* The parent is not finished: the child must wait. */
        CHECK_EQ_INT(kcl_shard_sync_parents_done(r, w.leases, w.nleases), 0);
    }
    const kcl_lease *p = row(&w, parent_id);
    CHECK(p && strcmp(p->checkpoint, "TRIM_HORIZON") == 0);

    /* Again: nothing new. */
    CHECK_EQ_INT(sync_once(ss), 0);
    list_leases(store, &w);
    CHECK_EQ_INT(w.nleases, 5);
    w_reset(&w);
    kcl_kinesis_shard_list_free(l0);
    kcl_kinesis_shard_list_free(l1);
out:
    CHECK_EQ_INT(kcl_shard_sync_pending(ss), 0);
    kcl_shard_sync_free(ss);
    CHECK_EQ_INT(kcl_lease_store_pending(store), 0);
    kcl_lease_store_free(store);
}

static void latest_on_resharded(void)
{
    kcl_lease_store *store = new_table("it-ss-latest");
    if (!store) return;
    kcl_error err;
    kcl_shard_sync *ss = kcl_shard_sync_new(loop, kin, store, stream, KCL_POS_LATEST, &err);
    CHECK(ss != NULL);
    if (!ss) { kcl_lease_store_free(store); return; }
    CHECK_EQ_INT(sync_once(ss), 4);
    waiter w = {0};
    list_leases(store, &w);
    CHECK_EQ_INT(w.nleases, 4);
    CHECK(row(&w, parent_id) == NULL);   /* the closed parent is skipped */
    for (size_t i = 0; i < w.nleases; i++) {
        CHECK_EQ_STR(w.leases[i].checkpoint, "LATEST");
        CHECK_EQ_INT(w.leases[i].nparents, 0);
    }
    w_reset(&w);
    CHECK_EQ_INT(sync_once(ss), 0);

    /* create_children via ListShards on this table: the children exist
     * already (a failed condition is fine) and are both reported. */
    CHECK(kcl_shard_sync_create_children(ss, parent_id, NULL, 0, on_children, &w) != NULL);
    CHECK_EQ_INT(w.done, 0);
    wait_w(&w);
    CHECK_MSG(!w.failed, "create_children: %s", w.err.message);
    CHECK_EQ_INT(w.nchildren, 2);
    list_leases(store, &w);
    CHECK_EQ_INT(w.nleases, 4);
    w_reset(&w);
    kcl_shard_sync_free(ss);
    kcl_lease_store_free(store);
}

static void create_children(void)
{
    kcl_lease_store *store = new_table("it-ss-children");
    if (!store) return;
    kcl_error err;
    kcl_shard_sync *ss = kcl_shard_sync_new(loop, kin, store, stream, KCL_POS_LATEST, &err);
    CHECK(ss != NULL);
    if (!ss) { kcl_lease_store_free(store); return; }

    /* At the parent's end, found via ListShards. */
    waiter w = {0};
    CHECK(kcl_shard_sync_create_children(ss, parent_id, NULL, 0, on_children, &w) != NULL);
    wait_w(&w);
    CHECK_MSG(!w.failed, "create_children: %s", w.err.message);
    CHECK_EQ_INT(w.nchildren, 2);
    int seen = 0;
    for (int i = 0; i < w.nchildren && i < 2; i++)
        for (int c = 0; c < 2; c++) seen += strcmp(w.children[i], child_ids[c]) == 0;
    CHECK_EQ_INT(seen, 2);
    list_leases(store, &w);
    CHECK_EQ_INT(w.nleases, 2);
    for (size_t i = 0; i < w.nleases; i++) {
        CHECK_EQ_STR(w.leases[i].checkpoint, "TRIM_HORIZON");
        CHECK_EQ_INT(w.leases[i].nparents, 1);
        CHECK_EQ_STR(w.leases[i].parents[0], parent_id);
        CHECK(w.leases[i].starting_hash_key[0] != 0);
        /* No parent row in this table: nothing to wait for. */
        CHECK_EQ_INT(kcl_shard_sync_parents_done(&w.leases[i], w.leases, w.nleases), 1);
    }

    /* From given ChildShards (what GetRecords returns at a shard's end): one
     * new, one already there. */
    kcl_kinesis_child_shard cs[2];
    memset(cs, 0, sizeof cs);
    cs[0].shard_id = child_ids[0];
    cs[0].parent_shards[0] = parent_id;
    cs[0].parent_count = 1;
    cs[1].shard_id = "shardId-000000009999";
    cs[1].parent_shards[0] = parent_id;
    cs[1].parent_count = 1;
    w_reset(&w);
    CHECK(kcl_shard_sync_create_children(ss, parent_id, cs, 2, on_children, &w) != NULL);
    CHECK_EQ_INT(w.done, 0);
    wait_w(&w);
    CHECK(!w.failed);
    CHECK_EQ_INT(w.nchildren, 2);
    list_leases(store, &w);
    CHECK_EQ_INT(w.nleases, 3);

    /* An open shard has no children: none, no error. */
    kcl_kinesis_shard_list *l = list_shards();
    const char *open_id = NULL;
    for (size_t i = 0; l && i < l->count; i++)
        if (!l->shards[i].ending_sequence_number[0]) open_id = l->shards[i].shard_id;
    CHECK(open_id != NULL);
    w_reset(&w);
    if (open_id) {
        CHECK(kcl_shard_sync_create_children(ss, open_id, NULL, 0, on_children, &w) != NULL);
        wait_w(&w);
        CHECK(!w.failed);
        CHECK_EQ_INT(w.nchildren, 0);
    }
    kcl_kinesis_shard_list_free(l);
    w_reset(&w);
    kcl_shard_sync_free(ss);
    kcl_lease_store_free(store);
}

/* Two workers syncing one empty table at once: every lease is written
 * exactly once between them, and neither fails. */
static void racing_workers(void)
{
    kcl_lease_store *store = new_table("it-ss-race");
    if (!store) return;
    kcl_error err;
    kcl_shard_sync *a = kcl_shard_sync_new(loop, kin, store, stream, KCL_POS_TRIM_HORIZON, &err);
    kcl_shard_sync *b = kcl_shard_sync_new(loop, kin, store, stream, KCL_POS_TRIM_HORIZON, &err);
    CHECK(a && b);
    if (a && b) {
        waiter wa = {0}, wb = {0};
        CHECK(kcl_shard_sync_run(a, on_sync, &wa) != NULL);
        CHECK(kcl_shard_sync_run(b, on_sync, &wb) != NULL);
        wait_w(&wa);
        wait_w(&wb);
        CHECK_MSG(!wa.failed && !wb.failed, "racing syncs: %s / %s", wa.err.message, wb.err.message);
        CHECK_EQ_INT(wa.created + wb.created, 5);
        waiter w = {0};
        list_leases(store, &w);
        CHECK_EQ_INT(w.nleases, 5);
        w_reset(&w);
    }
    kcl_shard_sync_free(a);
    kcl_shard_sync_free(b);
    kcl_lease_store_free(store);
}

static void errors_and_cancel(void)
{
    kcl_lease_store *store = new_table("it-ss-cancel");
    if (!store) return;
    kcl_error err;
    CHECK(kcl_shard_sync_new(loop, kin, store, "", KCL_POS_LATEST, &err) == NULL);
    CHECK_EQ_INT(err.kind, KCL_ERR_INVALID_ARGUMENT);

    /* A stream that does not exist: NOT_FOUND, later. */
    kcl_shard_sync *missing = kcl_shard_sync_new(loop, kin, store, kcl_test_unique("it-ss-missing"),
                                                 KCL_POS_LATEST, &err);
    CHECK(missing != NULL);
    if (missing) {
        waiter w = {0};
        CHECK(kcl_shard_sync_run(missing, on_sync, &w) != NULL);
        CHECK_EQ_INT(w.done, 0);
        wait_w(&w);
        CHECK(w.failed);
        CHECK_EQ_INT(w.err.kind, KCL_ERR_NOT_FOUND);
        CHECK_EQ_INT(w.created, 0);
        kcl_shard_sync_free(missing);
    }

    kcl_shard_sync *ss = kcl_shard_sync_new(loop, kin, store, stream, KCL_POS_TRIM_HORIZON, &err);
    CHECK(ss != NULL);
    if (!ss) { kcl_lease_store_free(store); return; }
    /* Cancelled at once: never calls back, nothing left in flight. */
    waiter wc = {0}, wf = {0};
    kcl_shard_sync_op *op = kcl_shard_sync_run(ss, on_sync, &wc);
    CHECK(op != NULL);
    CHECK_EQ_INT(kcl_shard_sync_pending(ss), 1);
    kcl_shard_sync_cancel(op);
    CHECK_EQ_INT(kcl_shard_sync_pending(ss), 0);
    CHECK_EQ_INT(kcl_kinesis_pending(kin), 0);
    op = kcl_shard_sync_create_children(ss, parent_id, NULL, 0, on_children, &wc);
    kcl_shard_sync_cancel(op);
    CHECK_EQ_INT(kcl_kinesis_pending(kin), 0);

    /* A full sync afterwards (which also gives a cancelled one time to misfire). */
    CHECK_EQ_INT(sync_once(ss), 5);
    CHECK_EQ_INT(wc.done, 0);

    /* Cancelled while its creates are in flight (fresh table). */
    kcl_lease_store *store2 = new_table("it-ss-cancel2");
    kcl_shard_sync *ss2 = store2 ? kcl_shard_sync_new(loop, kin, store2, stream, KCL_POS_TRIM_HORIZON, &err) : NULL;
    if (ss2) {
        waiter wl = {0};
        op = kcl_shard_sync_run(ss2, on_sync, &wc);
        /* Wait until the lease store has a write in flight, then cancel. */
        for (int i = 0; i < 2000 && kcl_lease_store_pending(store2) == 0; i++) ev_run(loop, EVRUN_ONCE);
        CHECK(kcl_lease_store_pending(store2) > 0);
        kcl_shard_sync_cancel(op);
        CHECK_EQ_INT(kcl_lease_store_pending(store2), 0);
        CHECK_EQ_INT(kcl_kinesis_pending(kin), 0);
        /* Free with an operation in flight: no callback either. */
        kcl_shard_sync_run(ss2, on_sync, &wf);
        kcl_shard_sync_free(ss2);
        CHECK_EQ_INT(kcl_kinesis_pending(kin), 0);
        CHECK_EQ_INT(kcl_lease_store_pending(store2), 0);
        /* Whatever was written, a later sync completes the table. */
        ss2 = kcl_shard_sync_new(loop, kin, store2, stream, KCL_POS_TRIM_HORIZON, &err);
        int n = sync_once(ss2);
        CHECK(n >= 0 && n <= 5);
        list_leases(store2, &wl);
        CHECK_EQ_INT(wl.nleases, 5);
        w_reset(&wl);
        kcl_shard_sync_free(ss2);
    }
    CHECK_EQ_INT(wc.done, 0);
    CHECK_EQ_INT(wf.done, 0);
    kcl_lease_store_free(store2);
    kcl_shard_sync_free(ss);
    kcl_lease_store_free(store);
}

int main(void)
{
    const char *kep = kcl_test_env("LUAKCL_TEST_KINESIS_ENDPOINT");
    const char *dep = kcl_test_env("LUAKCL_TEST_DYNAMODB_ENDPOINT");
    const char *region = kcl_test_env("AWS_REGION");
    loop = ev_loop_new(EVFLAG_AUTO);
    kcl_error err = {0};
    kcl_http *http = kcl_http_new(loop, &err);
    CHECK_MSG(http != NULL, "kcl_http_new: %s", err.message);
    kcl_creds_provider *creds = http ? kcl_it_env_creds(loop, http, &err) : NULL;
    CHECK_MSG(creds != NULL, "kcl_creds_provider_new: %s", err.message);
    if (!http || !creds) return TEST_END();
    kcl_kinesis_opts ko = {.endpoint = kep, .region = region,
                           .retry = {.max_attempts = 4, .base_ms = 10, .max_ms = 100}};
    kin = kcl_kinesis_new(loop, http, creds, &ko, &err);
    CHECK_MSG(kin != NULL, "kcl_kinesis_new: %s", err.message);
    kcl_ddb_opts dopts = {.endpoint = dep, .region = region,
                          .retry = {.max_attempts = 4, .base_ms = 10, .max_ms = 100}};
    ddb = kcl_ddb_new(loop, http, creds, &dopts, &err);
    CHECK_MSG(ddb != NULL, "kcl_ddb_new: %s", err.message);
    if (!kin || !ddb) return TEST_END();

    snprintf(stream, sizeof stream, "%s", kcl_test_unique("it-shard-sync"));
    waiter w = {0};
    CHECK(kcl_kinesis_create_stream(kin, stream, 3, NULL, on_kdone, &w, &err) != NULL);
    wait_w(&w);
    CHECK_MSG(!w.failed, "CreateStream: %s %s", w.err.code, w.err.message);
    CHECK(wait_active(3) == 0);

    trim_horizon_then_split();
    if (parent_id[0] && child_ids[1][0]) {
        latest_on_resharded();
        create_children();
        racing_workers();
        errors_and_cancel();
    }

    w_reset(&w);
    CHECK(kcl_kinesis_delete_stream(kin, stream, 0, NULL, on_kdone, &w, &err) != NULL);
    wait_w(&w);
    CHECK_EQ_INT(kcl_kinesis_pending(kin), 0);
    CHECK_EQ_INT(kcl_ddb_pending(ddb), 0);
    kcl_ddb_free(ddb);
    kcl_kinesis_free(kin);
    kcl_creds_provider_free(creds);
    kcl_http_free(http);
    ev_loop_destroy(loop);
    return TEST_END();
}
