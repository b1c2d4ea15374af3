/* The KCL core end to end in one process, against real kinesalite and
 * dynalite: a worker with a C processor consumes a 2-shard stream from
 * TRIM_HORIZON, every record exactly once and in order per shard, checkpoints
 * every batch; a graceful shutdown releases every lease; a second worker
 * resumes from the checkpoints and sees nothing again but the new records.
 * The scenario runs twice in one process (leaked state shows up). */
#include "itlib.h"
#include "testlib.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

static struct ev_loop *loop;
static kcl_it_clients clients;
static kcl_it_op op;
static kcl_it_stop st;

static kcl_it_recording *const rec = &kcl_it_rec;      /* what the recording processor saw */

static void on_summary(const kcl_kinesis_stream_summary *s, const kcl_error *err, void *ud)
{
    int *active = ud;
    *active = err->kind == KCL_ERR_NONE && s->status == KCL_STREAM_ACTIVE;
    op.done = 1;
}

static void create_stream(const char *name, int shards)
{
    kcl_error err;
    op.done = 0;
    CHECK(kcl_kinesis_create_stream(clients.kin, name, shards, NULL, kcl_it_on_done, &op, &err) != NULL);
    CHECK_EQ_INT(kcl_test_run_until(loop, &op.done, 15000), 0);
    for (int tries = 0; tries < 200; tries++) {
        int active = 0;
        op.done = 0;
        kcl_kinesis_describe_stream_summary(clients.kin, name, NULL, on_summary, &active, &err);
        kcl_test_run_until(loop, &op.done, 15000);
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
        kcl_it_fill_entries(e, data, pk, from + done, n, 97);
        kcl_error err;
        op.done = 0;
        CHECK(kcl_kinesis_put_records(clients.kin, stream, e, (size_t)n, NULL, kcl_it_on_put, &op, &err) != NULL);
        CHECK_EQ_INT(kcl_test_run_until(loop, &op.done, 15000), 0);
        CHECK_MSG(op.err.kind == KCL_ERR_NONE, "put: %s", op.err.message);
        done += n;
    }
}

static int count_data(const char *prefix_stop)
{
    (void)prefix_stop;
    return rec->nseen;
}

static int check_order_and_uniqueness(int expected)
{
    /* every record exactly once */
    char *hit = calloc((size_t)expected, 1);
    int dup = 0, bad = 0;
    for (int i = 0; i < rec->nseen; i++) {
        int id = atoi(rec->seen[i].data + 4);
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
    for (int i = 0; i < rec->nseen; i++)
        for (int j = i + 1; j < rec->nseen && j < i + 50; j++)
            if (strcmp(rec->seen[i].shard, rec->seen[j].shard) == 0 &&
                kcl_seq_cmp(rec->seen[i].seq, rec->seen[j].seq) >= 0)
                disorder++;
    CHECK_MSG(disorder == 0, "%d records out of order", disorder);
    return dup + missing + bad + disorder;
}

static void scenario(int round)
{
    char stream[64], app[64];
    snprintf(stream, sizeof stream, "%s", kcl_test_unique("it-worker-stream"));
    snprintf(app, sizeof app, "%s", kcl_test_unique("it-worker-app"));
    create_stream(stream, 2);
    put_records(stream, 0, 300);

    kcl_it_recording_reset();
    kcl_config cfg;
    kcl_it_worker_config(&cfg, stream, app, kcl_test_env("LUAKCL_TEST_KINESIS_ENDPOINT"));
    cfg.shutdown_grace_ms = 5000;
    kcl_error err;
    st.stopped = 0;
    kcl_worker *w = kcl_worker_new(loop, &cfg, &kcl_it_recording_factory, kcl_it_on_stopped, &st, &err);
    CHECK_MSG(w != NULL, "worker_new: %s", err.message);
    if (!w) return;
    CHECK_EQ_INT(kcl_worker_start(w, &err), 0);
    kcl_it_run_until_seen(loop, 300, 30);       /* until every record arrived */
    CHECK_EQ_INT(count_data(NULL), 300);
    check_order_and_uniqueness(300);
    CHECK_EQ_INT(kcl_worker_shard_count(w), 2);

    kcl_worker_shutdown(w);
    CHECK_EQ_INT(kcl_test_run_until(loop, &st.stopped, 10000), 0);
    CHECK(st.clean);
    CHECK_EQ_INT(rec->shutdowns[KCL_SHUTDOWN_REQUESTED], 2);
    kcl_worker_free(w);
    CHECK_EQ_INT(rec->instances, 0);

    /* the lease table: released, checkpointed at each shard's last record */
    kcl_lease_store_opts so = {.table = app};
    kcl_lease_store *store = kcl_lease_store_new(loop, clients.ddb, &so, &err);
    kcl_it_leases L = {0};
    CHECK_EQ_INT(kcl_it_read_leases(loop, store, &L, 10000), 0);
    CHECK_EQ_INT(L.n, 2);
    for (size_t i = 0; i < L.n; i++) {
        CHECK_MSG(L.leases[i].owner[0] == 0, "lease %s still owned by %s", L.leases[i].key, L.leases[i].owner);
        const char *last = kcl_it_last_seq(L.leases[i].key);
        CHECK_EQ_STR(L.leases[i].checkpoint, last ? last : "TRIM_HORIZON");
    }
    kcl_it_free_leases(&L);

    /* a second worker resumes from the checkpoints: only new records arrive */
    put_records(stream, 300, 50);
    rec->nseen = 0;
    st.stopped = 0;
    w = kcl_worker_new(loop, &cfg, &kcl_it_recording_factory, kcl_it_on_stopped, &st, &err);
    CHECK(w && kcl_worker_start(w, &err) == 0);
    kcl_it_run_until_seen(loop, 50, 30);
    kcl_it_idle_ms(loop, 500);      /* nothing more may come */
    CHECK_EQ_INT(rec->nseen, 50);
    int old = 0;
    for (int k = 0; k < rec->nseen; k++) if (atoi(rec->seen[k].data + 4) < 300) old++;
    CHECK_MSG(old == 0, "%d already-checkpointed records delivered again (round %d)", old, round);
    kcl_worker_shutdown(w);
    CHECK_EQ_INT(kcl_test_run_until(loop, &st.stopped, 10000), 0);
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
    rec->nseen = 0;
    kcl_config cfg;
    kcl_it_worker_config(&cfg, stream, app, kcl_test_env("LUAKCL_TEST_KINESIS_ENDPOINT"));
    kcl_error err;
    st.stopped = 0;
    kcl_worker *w = kcl_worker_new(loop, &cfg, &kcl_it_recording_factory, kcl_it_on_stopped, &st, &err);
    CHECK_MSG(w != NULL, "worker_new: %s", err.message);
    if (!w) return;
    CHECK_EQ_INT(kcl_worker_start(w, &err), 0);
    rec->cp_started = 0;
    /* stops at the loop turn after the first checkpoint started: it is in flight */
    CHECK_EQ_INT(kcl_test_run_until(loop, &rec->cp_started, 20000), 0);
    CHECK(rec->nseen > 0);
    kcl_worker_free(w);
    CHECK_EQ_INT(rec->instances, 0);
    CHECK_EQ_INT(st.stopped, 0);
    kcl_it_idle_ms(loop, 300);     /* nothing may call back now */
}

int main(void)
{
    loop = ev_default_loop(0);
    kcl_log_set_level(kcl_it_log_level(KCL_LOG_INFO));
    kcl_it_clients_open(loop, "LUAKCL_TEST_KINESIS_ENDPOINT", &clients);
    for (int round = 1; round <= 2; round++) scenario(round);
    scenario_abandon();
    kcl_it_clients_close(&clients);
    return TEST_END();
}
