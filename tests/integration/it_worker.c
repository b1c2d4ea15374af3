/* The KCL core end to end in one process, against real kinesalite and
 * dynalite: a worker with a C processor consumes a 2-shard stream from
 * TRIM_HORIZON, every record exactly once and in order per shard, checkpoints
 * every batch; a graceful shutdown releases every lease; a second worker
 * resumes from the checkpoints and sees nothing again but the new records.
 * The scenario runs twice in one process (leaked state shows up). */
#include "config.h"
#include "credentials.h"
#include "dynamodb.h"
#include "kinesis.h"
#include "lease_store.h"
#include "log.h"
#include "testlib.h"
#include "worker.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

#define MAXREC 4000

static struct ev_loop *loop;

/* ---- a recording processor ---------------------------------------------------- */

typedef struct seen_rec {
    char shard[64];
    char seq[128];
    char data[64];
} seen_rec;

static seen_rec seen[MAXREC];
static int nseen;
static int shutdowns[3];            /* by reason */
static int instances;

typedef struct inst {
    char shard[64];
    kcl_proc_done_fn done;
    void *ctx;
    kcl_checkpointer *cp;           /* with op: a checkpoint in flight */
    kcl_checkpoint_op *op;
} inst;

static int cp_started;              /* checkpoints started (the abandon scenario waits on it) */

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
    i->op = NULL;
    done(i->ctx, err ? -1 : 0, err ? err->message : NULL);
}

static void p_process(void *pi, const kcl_batch *b, kcl_checkpointer *cp, kcl_proc_done_fn done, void *ctx)
{
    inst *i = pi;
    for (size_t k = 0; k < b->count && nseen < MAXREC; k++) {
        seen_rec *s = &seen[nseen++];
        snprintf(s->shard, sizeof s->shard, "%s", i->shard);
        snprintf(s->seq, sizeof s->seq, "%s", b->records[k].sequence_number);
        size_t n = b->records[k].len < sizeof s->data - 1 ? b->records[k].len : sizeof s->data - 1;
        memcpy(s->data, b->records[k].data, n);
        s->data[n] = 0;
    }
    i->done = done;
    i->ctx = ctx;
    i->cp = cp;
    kcl_error err;
    if (!(i->op = cp->ops->checkpoint(cp, NULL, -1, on_cp, i, &err))) {
        i->done = NULL;
        done(ctx, -1, err.message);
        return;
    }
    cp_started++;
}

static void p_shutdown(void *pi, kcl_shutdown_reason r, kcl_checkpointer *cp, kcl_proc_done_fn done, void *ctx)
{
    inst *i = pi;
    shutdowns[r]++;
    if (r == KCL_SHUTDOWN_TERMINATE) {
        i->done = done;
        i->ctx = ctx;
        i->cp = cp;
        kcl_error err;
        if ((i->op = cp->ops->checkpoint(cp, NULL, -1, on_cp, i, &err))) return;
        i->done = NULL;
    }
    done(ctx, 0, NULL);
}

/* As processor.h asks: pending work is cancelled, nothing calls back. */
static void p_destroy(void *pi)
{
    inst *i = pi;
    if (i->op) i->cp->ops->cancel(i->op);
    free(pi);
    instances--;
}

static const kcl_processor_vtable vt = {p_create, p_initialize, p_process, p_shutdown, p_destroy};
static const kcl_processor_factory factory = {&vt, NULL};

/* ---- setup helpers ---------------------------------------------------------------- */

static kcl_http *http;
static kcl_creds_provider *creds;
static kcl_kinesis *kin;
static kcl_ddb *ddb;
static int op_done;
static kcl_error op_err;

static void on_op(const kcl_error *err, void *ud)
{
    (void)ud;
    if (err) op_err = *err; else kcl_error_clear(&op_err);
    op_done = 1;
}

static void on_put(const kcl_kinesis_put_result *res, const kcl_error *err, void *ud)
{
    (void)ud;
    op_err = *err;
    if (res && res->failed_count) kcl_error_set(&op_err, KCL_ERR_FATAL, 0, NULL, "%d failed", res->failed_count);
    op_done = 1;
}

static void on_summary(const kcl_kinesis_stream_summary *s, const kcl_error *err, void *ud)
{
    int *active = ud;
    *active = err->kind == KCL_ERR_NONE && s->status == KCL_STREAM_ACTIVE;
    op_done = 1;
}

static int wait_op(void)
{
    op_done = 0;
    return kcl_test_run_until(loop, &op_done, 15000);
}

static void create_stream(const char *name, int shards)
{
    kcl_error err;
    op_done = 0;
    CHECK(kcl_kinesis_create_stream(kin, name, shards, NULL, (kcl_kinesis_done_fn)on_op, NULL, &err) != NULL);
    CHECK_EQ_INT(kcl_test_run_until(loop, &op_done, 15000), 0);
    for (int tries = 0; tries < 200; tries++) {
        int active = 0;
        op_done = 0;
        kcl_kinesis_describe_stream_summary(kin, name, NULL, on_summary, &active, &err);
        kcl_test_run_until(loop, &op_done, 15000);
        if (active) return;
    }
    CHECK_MSG(0, "stream %s never became ACTIVE", name);
}

static void put_records(const char *stream, int from, int count)
{
    kcl_kinesis_put_entry e[500];
    char data[500][32], pk[500][32];
    for (int done = 0; done < count;) {
        int n = count - done > 500 ? 500 : count - done;
        for (int k = 0; k < n; k++) {
            snprintf(data[k], sizeof data[k], "rec-%06d", from + done + k);
            snprintf(pk[k], sizeof pk[k], "pk-%d", (from + done + k) % 97);
            e[k] = (kcl_kinesis_put_entry){data[k], strlen(data[k]), pk[k], NULL};
        }
        kcl_error err;
        op_done = 0;
        CHECK(kcl_kinesis_put_records(kin, stream, e, (size_t)n, NULL, on_put, NULL, &err) != NULL);
        CHECK_EQ_INT(kcl_test_run_until(loop, &op_done, 15000), 0);
        CHECK_MSG(op_err.kind == KCL_ERR_NONE, "put: %s", op_err.message);
        done += n;
    }
}

static int stopped, stopped_clean;
static void on_stopped(kcl_worker *w, const kcl_error *err, void *ud)
{
    (void)w; (void)ud;
    stopped = 1;
    stopped_clean = err == NULL;
    if (err) fprintf(stderr, "worker stopped: %s\n", err->message);
}

static int count_data(const char *prefix_stop)
{
    (void)prefix_stop;
    return nseen;
}

static int check_order_and_uniqueness(int expected)
{
    /* every record exactly once */
    char *hit = calloc((size_t)expected, 1);
    int dup = 0, bad = 0;
    for (int i = 0; i < nseen; i++) {
        int id = atoi(seen[i].data + 4);
        if (id < 0 || id >= expected) { bad++; continue; }
        if (hit[id]) dup++;
        hit[id] = 1;
    }
    int missing = 0;
    for (int i = 0; i < expected; i++) if (!hit[i]) missing++;
    free(hit);
    CHECK_MSG(dup == 0 && missing == 0 && bad == 0, "dup %d missing %d bad %d of %d", dup, missing, bad, expected);
    /* in sequence order per shard */
    int disorder = 0;
    for (int i = 0; i < nseen; i++)
        for (int j = i + 1; j < nseen && j < i + 50; j++)
            if (strcmp(seen[i].shard, seen[j].shard) == 0 && kcl_seq_cmp(seen[i].seq, seen[j].seq) >= 0) disorder++;
    CHECK_MSG(disorder == 0, "%d records out of order", disorder);
    return dup + missing + bad + disorder;
}

static struct { int done; kcl_lease leases[16]; size_t n; } L;
static void on_list(const kcl_lease *all, size_t n, const kcl_error *err, void *ud)
{
    (void)ud;
    L.n = 0;
    for (size_t i = 0; !err && i < n && i < 16; i++) kcl_lease_copy(&L.leases[L.n++], &all[i]);
    L.done = 1;
}

static void scenario(int round)
{
    char stream[64], app[64];
    snprintf(stream, sizeof stream, "%s", kcl_test_unique("it-worker-stream"));
    snprintf(app, sizeof app, "%s", kcl_test_unique("it-worker-app"));
    create_stream(stream, 2);
    put_records(stream, 0, 300);

    nseen = 0;
    memset(shutdowns, 0, sizeof shutdowns);
    kcl_config cfg;
    kcl_config_defaults(&cfg);
    cfg.stream = stream;
    cfg.app = app;
    cfg.endpoint = (char *)kcl_test_env("LUAKCL_TEST_KINESIS_ENDPOINT");
    cfg.dynamodb_endpoint = (char *)kcl_test_env("LUAKCL_TEST_DYNAMODB_ENDPOINT");
    cfg.initial_position = KCL_POS_TRIM_HORIZON;
    cfg.idle_time_ms = 200;
    cfg.failover_time_ms = 3000;
    cfg.shutdown_grace_ms = 5000;
    kcl_error err;
    stopped = 0;
    kcl_worker *w = kcl_worker_new(loop, &cfg, &factory, on_stopped, NULL, &err);
    CHECK_MSG(w != NULL, "worker_new: %s", err.message);
    if (!w) return;
    CHECK_EQ_INT(kcl_worker_start(w, &err), 0);
    /* run until every record arrived */
    for (int spins = 0; spins < 300 && nseen < 300; spins++) {
        int never = 0;
        kcl_test_run_until(loop, &never, 100);
    }
    CHECK_EQ_INT(count_data(NULL), 300);
    check_order_and_uniqueness(300);
    CHECK_EQ_INT(kcl_worker_shard_count(w), 2);

    kcl_worker_shutdown(w);
    CHECK_EQ_INT(kcl_test_run_until(loop, &stopped, 10000), 0);
    CHECK(stopped_clean);
    CHECK_EQ_INT(shutdowns[KCL_SHUTDOWN_REQUESTED], 2);
    kcl_worker_free(w);
    CHECK_EQ_INT(instances, 0);

    /* the lease table: released, checkpointed at each shard's last record */
    kcl_lease_store_opts so = {.table = app};
    kcl_lease_store *store = kcl_lease_store_new(loop, ddb, &so, &err);
    L.done = 0;
    kcl_lease_store_list(store, on_list, NULL);
    CHECK_EQ_INT(kcl_test_run_until(loop, &L.done, 10000), 0);
    CHECK_EQ_INT(L.n, 2);
    for (size_t i = 0; i < L.n; i++) {
        CHECK_MSG(L.leases[i].owner[0] == 0, "lease %s still owned by %s", L.leases[i].key, L.leases[i].owner);
        const char *last = NULL;
        for (int k = 0; k < nseen; k++) if (strcmp(seen[k].shard, L.leases[i].key) == 0) last = seen[k].seq;
        CHECK_EQ_STR(L.leases[i].checkpoint, last ? last : "TRIM_HORIZON");
        kcl_lease_free(&L.leases[i]);
    }

    /* a second worker resumes from the checkpoints: only new records arrive */
    put_records(stream, 300, 50);
    nseen = 0;
    stopped = 0;
    w = kcl_worker_new(loop, &cfg, &factory, on_stopped, NULL, &err);
    CHECK(w && kcl_worker_start(w, &err) == 0);
    for (int spins = 0; spins < 300 && nseen < 50; spins++) {
        int never = 0;
        kcl_test_run_until(loop, &never, 100);
    }
    int never = 0;
    kcl_test_run_until(loop, &never, 500);      /* nothing more may come */
    CHECK_EQ_INT(nseen, 50);
    int old = 0;
    for (int k = 0; k < nseen; k++) if (atoi(seen[k].data + 4) < 300) old++;
    CHECK_MSG(old == 0, "%d already-checkpointed records delivered again (round %d)", old, round);
    kcl_worker_shutdown(w);
    CHECK_EQ_INT(kcl_test_run_until(loop, &stopped, 10000), 0);
    kcl_worker_free(w);
    kcl_lease_store_free(store);
}

/* A worker abandoned (kcl_worker_free without a shutdown) while a processor
 * waits on a checkpoint: the processor's destroy cancels its checkpoint
 * operation, which must still be valid then (no use after free, no callback,
 * nothing leaked). */
static void scenario_abandon(void)
{
    char stream[64], app[64];
    snprintf(stream, sizeof stream, "%s", kcl_test_unique("it-worker-abandon"));
    snprintf(app, sizeof app, "%s", kcl_test_unique("it-worker-abandon-app"));
    create_stream(stream, 1);
    put_records(stream, 0, 20);
    nseen = 0;
    kcl_config cfg;
    kcl_config_defaults(&cfg);
    cfg.stream = stream;
    cfg.app = app;
    cfg.endpoint = (char *)kcl_test_env("LUAKCL_TEST_KINESIS_ENDPOINT");
    cfg.dynamodb_endpoint = (char *)kcl_test_env("LUAKCL_TEST_DYNAMODB_ENDPOINT");
    cfg.initial_position = KCL_POS_TRIM_HORIZON;
    cfg.idle_time_ms = 200;
    cfg.failover_time_ms = 3000;
    kcl_error err;
    stopped = 0;
    kcl_worker *w = kcl_worker_new(loop, &cfg, &factory, on_stopped, NULL, &err);
    CHECK_MSG(w != NULL, "worker_new: %s", err.message);
    if (!w) return;
    CHECK_EQ_INT(kcl_worker_start(w, &err), 0);
    cp_started = 0;
    /* stops at the loop turn after the first checkpoint started: it is in flight */
    CHECK_EQ_INT(kcl_test_run_until(loop, &cp_started, 20000), 0);
    CHECK(nseen > 0);
    kcl_worker_free(w);
    CHECK_EQ_INT(instances, 0);
    CHECK_EQ_INT(stopped, 0);
    int never = 0;
    kcl_test_run_until(loop, &never, 300);     /* nothing may call back now */
}

int main(void)
{
    loop = ev_default_loop(0);
    kcl_log_level lv = KCL_LOG_INFO;
    if (getenv("LUAKCL_TEST_LOG")) kcl_log_parse_level(getenv("LUAKCL_TEST_LOG"), &lv);
    kcl_log_set_level(lv);
    kcl_error err;
    http = kcl_http_new(loop, &err);
    kcl_creds_config cc = {.loop = loop, .http = http};
    creds = kcl_creds_provider_new(&cc, &err);
    kcl_kinesis_opts ko = {.endpoint = kcl_test_env("LUAKCL_TEST_KINESIS_ENDPOINT"), .region = "us-east-1"};
    kin = kcl_kinesis_new(loop, http, creds, &ko, &err);
    kcl_ddb_opts dopt = {.endpoint = kcl_test_env("LUAKCL_TEST_DYNAMODB_ENDPOINT"), .region = "us-east-1"};
    ddb = kcl_ddb_new(loop, http, creds, &dopt, &err);
    for (int round = 1; round <= 2; round++) scenario(round);
    scenario_abandon();
    kcl_ddb_free(ddb);
    kcl_kinesis_free(kin);
    kcl_creds_provider_free(creds);
    kcl_http_free(http);
    (void)wait_op;
    return TEST_END();
}
