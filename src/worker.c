#include "worker.h"

#include "aws_config.h"
#include "backoff.h"
#include "clock.h"
#include "credentials.h"
#include "dynamodb.h"
#include "http.h"
#include "kinesis.h"
#include "lease_coordinator.h"
#include "lease_store.h"
#include "log.h"
#include "shard_consumer.h"
#include "shard_sync.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { W_NEW, W_STARTING, W_RUNNING, W_STOPPING, W_STOPPED } wstate;

struct kcl_worker {
    struct ev_loop *loop;
    wstate st;
    char worker_id[KCL_LEASE_OWNER_MAX + 1];
    char stream[256];
    char table[256];
    char region[64];
    char kinesis_url[512], ddb_url[512];
    kcl_config cfg;                 /* numbers only; strings copied above */
    const kcl_processor_factory *procs;
    kcl_worker_stopped_fn stopped;
    void *ud;

    kcl_http *http;
    kcl_creds_provider *creds;
    kcl_kinesis *kinesis;
    kcl_ddb *ddb;
    kcl_lease_store *store;
    kcl_coord *coord;
    kcl_shard_sync *sync;

    kcl_consumer **consumers;
    int nconsumers, capconsumers;
    kcl_consumer **reap;            /* finished, freed on the next loop turn */
    int nreap, capreap;

    struct delete_op *deletes;      /* finished leases being deleted */
    kcl_lease *snapshot;            /* the last scan, for parent checks and cleanup */
    size_t nsnapshot;
    int64_t last_cleanup_ms;

    kcl_lease_op *start_op;
    kcl_kinesis_op *describe_op;
    kcl_shard_sync_op *sync_op;
    ev_timer sync_timer, grace_timer, retry_timer, reap_timer;
    int start_attempt;
    uint64_t rng;
    int stop_notified;
    int nreleasing;                 /* releases of leases without a consumer, in flight */
    struct orphan *orphans;
};

static void worker_stop(kcl_worker *w, const kcl_error *err);

/* ---- consumers ---------------------------------------------------------------- */

static kcl_consumer *find_consumer(kcl_worker *w, const char *key, int *index)
{
    for (int i = 0; i < w->nconsumers; i++) {
        if (strcmp(kcl_consumer_shard_id(w->consumers[i]), key) == 0) {
            if (index) *index = i;
            return w->consumers[i];
        }
    }
    return NULL;
}

static int parents_done(void *ud, const char *shard_id)
{
    kcl_worker *w = ud;
    for (size_t i = 0; i < w->nsnapshot; i++)
        if (strcmp(w->snapshot[i].key, shard_id) == 0)
            return kcl_shard_sync_parents_done(&w->snapshot[i], w->snapshot, w->nsnapshot);
    /* Not in the last scan (just created): the coordinator's copy knows its parents. */
    const kcl_lease *held = kcl_coord_held(w->coord, shard_id);
    return held ? kcl_shard_sync_parents_done(held, w->snapshot, w->nsnapshot) : 0;
}

static void *create_children(void *ud, const char *shard_id, const kcl_kinesis_child_shard *children,
                             size_t n, void (*done)(const kcl_error *, const char *const *, int, void *),
                             void *dud)
{
    kcl_worker *w = ud;
    return kcl_shard_sync_create_children(w->sync, shard_id, children, n, done, dud);
}

static void cancel_children(void *ud, void *handle)
{
    (void)ud;
    kcl_shard_sync_cancel(handle);
}

static void on_reap(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop; (void)revents;
    kcl_worker *w = t->data;
    for (int i = 0; i < w->nreap; i++) kcl_consumer_free(w->reap[i]);
    w->nreap = 0;
    if (w->st == W_STOPPING && w->nconsumers == 0 && w->nreleasing == 0) worker_stop(w, NULL);
}

/* ---- leases held without a consumer (stopping) --------------------------------- */

typedef struct orphan {
    kcl_worker *w;
    struct orphan *next;
    kcl_coord_write *write;
    int in_call, finished;         /* the coordinator may fail a write at once */
    char key[KCL_LEASE_KEY_MAX + 1];
} orphan;

static void orphan_unlink(kcl_worker *w, orphan *o)
{
    for (orphan **p = &w->orphans; *p; p = &(*p)->next)
        if (*p == o) { *p = o->next; break; }
    w->nreleasing--;
}

static void on_orphan_released(const kcl_error *err, void *ud)
{
    orphan *o = ud;
    kcl_worker *w = o->w;
    (void)err;                       /* the coordinator logged it; not held either way */
    if (o->in_call) { o->finished = 1; return; }
    orphan_unlink(w, o);
    free(o);
    if (w->st == W_STOPPING && w->nconsumers == 0 && w->nreleasing == 0) {
        ev_timer_stop(w->loop, &w->reap_timer);
        ev_timer_set(&w->reap_timer, 0.0, 0.0);
        ev_timer_start(w->loop, &w->reap_timer);
    }
}

/* Release every held lease that has no consumer and no release in flight
 * (none normally; one whose consumer finished just as the lease was taken
 * again), so that a stopped worker leaves no leaseOwner behind. */
static void release_orphans(kcl_worker *w)
{
    enum { MAXK = 256 };
    const char *keys[MAXK];
    int n = kcl_coord_held_keys(w->coord, keys, MAXK);
    if (n > MAXK) n = MAXK;
    orphan *todo = NULL;
    for (int i = 0; i < n; i++) {            /* collect first: releasing changes the held set */
        if (find_consumer(w, keys[i], NULL)) continue;
        int busy = 0;
        for (orphan *o = w->orphans; o && !busy; o = o->next) busy = strcmp(o->key, keys[i]) == 0;
        if (busy) continue;
        orphan *o = calloc(1, sizeof *o);
        if (!o) break;
        o->w = w;
        snprintf(o->key, sizeof o->key, "%s", keys[i]);
        o->next = todo;
        todo = o;
    }
    while (todo) {
        orphan *o = todo;
        todo = o->next;
        o->next = w->orphans;
        w->orphans = o;
        w->nreleasing++;
        KCL_INFO(o->key, "releasing a lease held without a consumer");
        o->in_call = 1;
        o->write = kcl_coord_release(w->coord, o->key, on_orphan_released, o);
        o->in_call = 0;
        if (!o->write || o->finished) { orphan_unlink(w, o); free(o); }
    }
}

static void on_gained(void *ud, const kcl_lease *lease);

static void consumer_finished(void *ud, kcl_consumer *c)
{
    kcl_worker *w = ud;
    int i;
    if (!find_consumer(w, kcl_consumer_shard_id(c), &i)) return;
    w->consumers[i] = w->consumers[--w->nconsumers];
    if (w->nreap == w->capreap) {
        int cap = w->capreap ? w->capreap * 2 : 16;
        kcl_consumer **p = realloc(w->reap, sizeof *p * (size_t)cap);
        if (!p) return;              /* leaked rather than freed on its own stack */
        w->reap = p;
        w->capreap = cap;
    }
    w->reap[w->nreap++] = c;
    ev_timer_stop(w->loop, &w->reap_timer);
    ev_timer_set(&w->reap_timer, 0.0, 0.0);
    ev_timer_start(w->loop, &w->reap_timer);
    /* The lease may have been taken again while this consumer was finishing
     * (lost, then free or expired again before its last batch was done): the
     * `gained` event was ignored then, so start its new consumer now. */
    const kcl_lease *held = kcl_coord_held(w->coord, kcl_consumer_shard_id(c));
    if (held && w->st == W_RUNNING) {
        KCL_INFO(held->key, "lease held again: starting a new consumer");
        on_gained(w, held);
    } else if (held && w->st == W_STOPPING) {
        release_orphans(w);
    }
}

static void on_gained(void *ud, const kcl_lease *lease)
{
    kcl_worker *w = ud;
    /* A consumer still finishing for this key (its lease was lost and has just
     * been taken again) makes consumer_finished start the new one. */
    if (w->st != W_RUNNING || find_consumer(w, lease->key, NULL)) return;
    kcl_consumer_env env = {
        .loop = w->loop, .kinesis = w->kinesis, .coord = w->coord, .procs = w->procs,
        .stream = w->stream, .max_records = w->cfg.max_records, .idle_time_ms = w->cfg.idle_time_ms,
        .call_empty = w->cfg.call_process_records_even_for_empty_list,
        .kpl_filter = w->cfg.kpl_hash_range_filter, .on_error = w->cfg.on_error,
        .at_timestamp_ms = w->cfg.initial_timestamp_ms,
        .parents_done = parents_done, .create_children = create_children,
        .cancel_children = cancel_children, .finished = consumer_finished, .ud = w,
    };
    kcl_consumer *c = kcl_consumer_new(&env, lease);
    if (!c) { KCL_ERROR(lease->key, "out of memory creating a consumer"); return; }
    if (w->nconsumers == w->capconsumers) {
        int cap = w->capconsumers ? w->capconsumers * 2 : 16;
        kcl_consumer **p = realloc(w->consumers, sizeof *p * (size_t)cap);
        if (!p) { kcl_consumer_free(c); return; }
        w->consumers = p;
        w->capconsumers = cap;
    }
    w->consumers[w->nconsumers++] = c;
}

static void on_lost(void *ud, const char *key)
{
    kcl_worker *w = ud;
    kcl_consumer *c = find_consumer(w, key, NULL);
    if (c) kcl_consumer_lease_lost(c);
}

/* ---- scans: the lease snapshot and cleanup of finished leases -------------------- */

/* A delete of a finished lease in flight: tracked so freeing the worker
 * cancels it and frees its key. */
typedef struct delete_op {
    kcl_worker *w;
    struct delete_op *next;
    kcl_lease_op *op;
    char key[KCL_LEASE_KEY_MAX + 1];
} delete_op;

static void unlink_delete(delete_op *d)
{
    for (delete_op **p = &d->w->deletes; *p; p = &(*p)->next)
        if (*p == d) { *p = d->next; break; }
}

static void on_deleted(const kcl_error *err, void *ud)
{
    delete_op *d = ud;
    if (err) KCL_DEBUG(d->key, "deleting the finished lease failed: %s", err->message);
    else KCL_INFO(d->key, "finished lease deleted (its children have started)");
    unlink_delete(d);
    free(d);
}

static void on_scanned(void *ud, const kcl_lease *all, size_t n)
{
    kcl_worker *w = ud;
    for (size_t i = 0; i < w->nsnapshot; i++) kcl_lease_free(&w->snapshot[i]);
    free(w->snapshot);
    w->snapshot = NULL;
    w->nsnapshot = 0;
    if (n) {
        w->snapshot = calloc(n, sizeof *w->snapshot);
        if (!w->snapshot) return;
        for (size_t i = 0; i < n; i++)
            if (kcl_lease_copy(&w->snapshot[w->nsnapshot], &all[i]) == 0) w->nsnapshot++;
    }
    int64_t now = kcl_clock_mono_ms();
    if (w->st != W_RUNNING || now - w->last_cleanup_ms < w->cfg.shard_sync_interval_ms) return;
    w->last_cleanup_ms = now;
    char **keys = NULL;
    size_t nkeys = 0;
    if (kcl_shard_sync_cleanup_plan(all, n, &keys, &nkeys) != 0) return;
    for (size_t i = 0; i < nkeys; i++) {
        delete_op *d = calloc(1, sizeof *d);
        if (!d) break;
        d->w = w;
        snprintf(d->key, sizeof d->key, "%s", keys[i]);
        d->op = kcl_lease_store_delete_finished(w->store, keys[i], on_deleted, d);
        if (!d->op) { free(d); continue; }
        d->next = w->deletes;
        w->deletes = d;
    }
    kcl_shard_sync_keys_free(keys, nkeys);
}

/* ---- periodic shard sync ---------------------------------------------------------- */

static void on_sync_done(const kcl_error *err, int created, void *ud)
{
    kcl_worker *w = ud;
    w->sync_op = NULL;
    if (err) KCL_WARN(NULL, "shard sync failed (%s): %s", kcl_err_kind_name(err->kind), err->message);
    else if (created) KCL_INFO(NULL, "shard sync created %d lease%s", created, created == 1 ? "" : "s");
    if (w->st == W_STARTING) {
        if (err && !kcl_err_kind_retryable(err->kind)) { worker_stop(w, err); return; }
        if (err) {
            double d = kcl_backoff_delay_ms(++w->start_attempt, 500, 30000, &w->rng);
            ev_timer_set(&w->retry_timer, d / 1000.0, 0.0);
            ev_timer_start(w->loop, &w->retry_timer);
            return;
        }
        w->st = W_RUNNING;
        w->start_attempt = 0;
        KCL_INFO(NULL, "worker %s running: stream %s, lease table %s", w->worker_id, w->stream, w->table);
        kcl_coord_start(w->coord);
    }
}

static void run_sync(kcl_worker *w)
{
    if (w->sync_op) return;
    w->sync_op = kcl_shard_sync_run(w->sync, on_sync_done, w);
}

static void on_sync_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop; (void)revents;
    kcl_worker *w = t->data;
    if (w->st == W_RUNNING) run_sync(w);
}

/* ---- start: stream exists -> lease table -> first shard sync -> coordinator -------- */

static void start_step(kcl_worker *w);

static void start_failed(kcl_worker *w, const kcl_error *err, const char *what)
{
    if (!kcl_err_kind_retryable(err->kind)) {
        kcl_error e;
        kcl_error_set(&e, err->kind, err->http_status, err->code, "%s: %s", what, err->message);
        worker_stop(w, &e);
        return;
    }
    double d = kcl_backoff_delay_ms(++w->start_attempt, 500, 30000, &w->rng);
    KCL_ERROR(NULL, "%s failed (%s): %s; retrying in %.0f ms", what, kcl_err_kind_name(err->kind),
              err->message, d);
    ev_timer_set(&w->retry_timer, d / 1000.0, 0.0);
    ev_timer_start(w->loop, &w->retry_timer);
}

static void on_table_ready(const kcl_error *err, void *ud)
{
    kcl_worker *w = ud;
    w->start_op = NULL;
    if (err) { start_failed(w, err, "preparing the lease table"); return; }
    run_sync(w);
}

static void on_stream(const kcl_kinesis_stream_summary *s, const kcl_error *err, void *ud)
{
    kcl_worker *w = ud;
    w->describe_op = NULL;
    if (err && err->kind != KCL_ERR_NONE) {
        if (err->kind == KCL_ERR_NOT_FOUND) {
            kcl_error e;
            kcl_error_set(&e, KCL_ERR_NOT_FOUND, 0, NULL, "stream '%s' does not exist at %s",
                          w->stream, w->kinesis_url);
            worker_stop(w, &e);
            return;
        }
        start_failed(w, err, "describing the stream");
        return;
    }
    KCL_INFO(NULL, "stream %s: %s, %d open shard%s", w->stream, kcl_kinesis_stream_status_name(s->status),
             s->open_shard_count, s->open_shard_count == 1 ? "" : "s");
    w->start_op = kcl_lease_store_ensure_table(w->store, on_table_ready, w);
    if (!w->start_op) {
        kcl_error e;
        kcl_error_set(&e, KCL_ERR_FATAL, 0, NULL, "cannot start preparing the lease table");
        worker_stop(w, &e);
    }
}

static void start_step(kcl_worker *w)
{
    kcl_error err;
    w->describe_op = kcl_kinesis_describe_stream_summary(w->kinesis, w->stream, NULL, on_stream, w, &err);
    if (!w->describe_op) worker_stop(w, &err);
}

static void on_retry(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop; (void)revents;
    kcl_worker *w = t->data;
    if (w->st != W_STARTING) return;
    if (w->describe_op || w->start_op || w->sync_op) return;
    start_step(w);
}

/* ---- construction ------------------------------------------------------------------ */


kcl_worker *kcl_worker_new(struct ev_loop *loop, const kcl_config *cfg, const kcl_processor_factory *procs,
                           kcl_worker_stopped_fn stopped, void *ud, kcl_error *err)
{
    if (!loop || !cfg || !procs || !procs->vt || !cfg->stream || !*cfg->stream || !cfg->app || !*cfg->app) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL, "worker: a stream, an application name and a processor are required");
        return NULL;
    }
    kcl_worker *w = calloc(1, sizeof *w);
    if (!w) { kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory"); return NULL; }
    w->loop = loop;
    w->procs = procs;
    w->stopped = stopped;
    w->ud = ud;
    w->cfg = *cfg;
    /* strings are not kept from cfg: copy what is needed */
    w->cfg.stream = w->cfg.app = w->cfg.table = w->cfg.worker_id = w->cfg.script = NULL;
    w->cfg.region = w->cfg.endpoint = w->cfg.dynamodb_endpoint = w->cfg.profile = NULL;
    w->cfg.log_level = w->cfg.log_format = w->cfg.config_file = NULL;
    if (w->cfg.shard_sync_interval_ms <= 0) w->cfg.shard_sync_interval_ms = 60000;
    if (w->cfg.failover_time_ms <= 0) w->cfg.failover_time_ms = 10000;
    if (w->cfg.shutdown_grace_ms <= 0) w->cfg.shutdown_grace_ms = 20000;
    snprintf(w->stream, sizeof w->stream, "%s", cfg->stream);
    snprintf(w->table, sizeof w->table, "%s", cfg->table && *cfg->table ? cfg->table : cfg->app);
    if (cfg->worker_id && *cfg->worker_id) {
        snprintf(w->worker_id, sizeof w->worker_id, "%s", cfg->worker_id);
    } else {
        char host[128] = "localhost";
        gethostname(host, sizeof host - 1);
        snprintf(w->worker_id, sizeof w->worker_id, "%s:%d:%08x", host, (int)getpid(),
                 (unsigned)(kcl_clock_mono_ns() ^ (int64_t)(uintptr_t)w));
    }
    w->rng = (uint64_t)kcl_clock_mono_ns() | 1;

    if (kcl_region_resolve(cfg->region, cfg->profile, w->region, sizeof w->region) != 0) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL,
                      "no AWS region: use --region, AWS_REGION, AWS_DEFAULT_REGION or a profile's region");
        goto fail;
    }
    if (kcl_endpoint_resolve("kinesis", cfg->endpoint, w->region, w->kinesis_url, sizeof w->kinesis_url) != 0 ||
        kcl_endpoint_resolve("dynamodb", cfg->dynamodb_endpoint, w->region, w->ddb_url, sizeof w->ddb_url) != 0) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL, "cannot work out the Kinesis or DynamoDB endpoint");
        goto fail;
    }
    int insecure = cfg->insecure_tls;
    if (insecure && (!kcl_url_host_is_local(w->kinesis_url, 0) || !kcl_url_host_is_local(w->ddb_url, 0))) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL,
                      "--insecure-tls is only allowed with explicit loopback endpoints");
        goto fail;
    }
    if (!(w->http = kcl_http_new(loop, err))) goto fail;
    kcl_creds_config cc;
    memset(&cc, 0, sizeof cc);
    cc.loop = loop;
    cc.http = w->http;
    cc.profile = cfg->profile;
    cc.region = w->region;
    if (!(w->creds = kcl_creds_provider_new(&cc, err))) goto fail;
    kcl_kinesis_opts ko = {.endpoint = w->kinesis_url, .region = w->region, .insecure_tls = insecure};
    if (!(w->kinesis = kcl_kinesis_new(loop, w->http, w->creds, &ko, err))) goto fail;
    kcl_ddb_opts dopt = {.endpoint = w->ddb_url, .region = w->region, .insecure_tls = insecure};
    if (!(w->ddb = kcl_ddb_new(loop, w->http, w->creds, &dopt, err))) goto fail;
    kcl_lease_store_opts so = {.table = w->table, .provisioned = cfg->provisioned_table,
                               .rcu = cfg->table_rcu, .wcu = cfg->table_wcu};
    if (!(w->store = kcl_lease_store_new(loop, w->ddb, &so, err))) goto fail;
    kcl_coord_opts co = {.worker_id = w->worker_id, .failover_ms = cfg->failover_time_ms,
                         .max_leases = cfg->max_leases, .max_leases_to_steal = cfg->max_leases_to_steal};
    kcl_coord_events ev = {on_gained, on_lost, on_scanned, w};
    if (!(w->coord = kcl_coord_new(loop, w->store, &co, &ev, err))) goto fail;
    if (!(w->sync = kcl_shard_sync_new(loop, w->kinesis, w->store, w->stream, cfg->initial_position, err)))
        goto fail;
    ev_timer_init(&w->sync_timer, on_sync_timer, w->cfg.shard_sync_interval_ms / 1000.0,
                  w->cfg.shard_sync_interval_ms / 1000.0);
    w->sync_timer.data = w;
    ev_timer_init(&w->retry_timer, on_retry, 1.0, 0.0);
    w->retry_timer.data = w;
    ev_timer_init(&w->reap_timer, on_reap, 0.0, 0.0);
    w->reap_timer.data = w;
    ev_timer_init(&w->grace_timer, NULL, 0.0, 0.0);
    w->grace_timer.data = w;
    return w;
fail:
    kcl_worker_free(w);
    return NULL;
}

int kcl_worker_start(kcl_worker *w, kcl_error *err)
{
    if (w->st != W_NEW) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL, "worker already started");
        return -1;
    }
    w->st = W_STARTING;
    KCL_INFO(NULL, "worker %s starting: stream %s at %s, lease table %s at %s (%s)", w->worker_id, w->stream,
             w->kinesis_url, w->table, w->ddb_url, w->region);
    ev_timer_start(w->loop, &w->sync_timer);
    start_step(w);
    return 0;
}

/* ---- stopping ----------------------------------------------------------------------- */

static void worker_stop(kcl_worker *w, const kcl_error *err)
{
    if (w->stop_notified) return;
    w->stop_notified = 1;
    w->st = W_STOPPED;
    ev_timer_stop(w->loop, &w->sync_timer);
    ev_timer_stop(w->loop, &w->grace_timer);
    ev_timer_stop(w->loop, &w->retry_timer);
    if (err) KCL_ERROR(NULL, "worker stopped: %s", err->message);
    else KCL_INFO(NULL, "worker stopped cleanly");
    if (w->stopped) w->stopped(w, err, w->ud);
}

static void on_grace(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop; (void)revents;
    kcl_worker *w = t->data;
    KCL_ERROR(NULL, "shutdown grace time (%d ms) exceeded with %d shard(s) still busy; stopping anyway "
              "(their leases will expire)", w->cfg.shutdown_grace_ms, w->nconsumers);
    while (w->nconsumers > 0) kcl_consumer_free(w->consumers[--w->nconsumers]);
    kcl_error e;
    kcl_error_set(&e, KCL_ERR_FATAL, 0, NULL, "shutdown grace time exceeded");
    worker_stop(w, &e);
}

void kcl_worker_shutdown(kcl_worker *w)
{
    if (w->st == W_STOPPING || w->st == W_STOPPED) return;
    wstate was = w->st;
    w->st = W_STOPPING;
    KCL_INFO(NULL, "worker shutting down: %d shard(s) to stop", w->nconsumers);
    ev_timer_stop(w->loop, &w->sync_timer);
    ev_timer_stop(w->loop, &w->retry_timer);
    if (w->sync_op) { kcl_shard_sync_cancel(w->sync_op); w->sync_op = NULL; }
    if (w->start_op) { kcl_lease_op_cancel(w->start_op); w->start_op = NULL; }
    if (w->describe_op) { kcl_kinesis_cancel(w->describe_op); w->describe_op = NULL; }
    if (was == W_RUNNING) kcl_coord_stop_taking(w->coord);
    for (int i = 0; i < w->nconsumers; i++) kcl_consumer_request_shutdown(w->consumers[i]);
    if (was == W_RUNNING) release_orphans(w);
    ev_set_cb(&w->grace_timer, on_grace);
    ev_timer_set(&w->grace_timer, w->cfg.shutdown_grace_ms / 1000.0, 0.0);
    ev_timer_start(w->loop, &w->grace_timer);
    /* Nothing to wait for: finish on the next turn (never inside this call). */
    ev_timer_stop(w->loop, &w->reap_timer);
    ev_timer_set(&w->reap_timer, 0.0, 0.0);
    ev_timer_start(w->loop, &w->reap_timer);
}

void kcl_worker_free(kcl_worker *w)
{
    if (!w) return;
    ev_timer_stop(w->loop, &w->sync_timer);
    ev_timer_stop(w->loop, &w->grace_timer);
    ev_timer_stop(w->loop, &w->retry_timer);
    ev_timer_stop(w->loop, &w->reap_timer);
    for (int i = 0; i < w->nconsumers; i++) kcl_consumer_free(w->consumers[i]);
    for (int i = 0; i < w->nreap; i++) kcl_consumer_free(w->reap[i]);
    while (w->orphans) {
        orphan *o = w->orphans;
        w->orphans = o->next;
        kcl_coord_write_cancel(o->write);
        free(o);
    }
    free(w->consumers);
    free(w->reap);
    if (w->sync_op) kcl_shard_sync_cancel(w->sync_op);
    if (w->start_op) kcl_lease_op_cancel(w->start_op);
    if (w->describe_op) kcl_kinesis_cancel(w->describe_op);
    while (w->deletes) {
        struct delete_op *d = w->deletes;
        w->deletes = d->next;
        kcl_lease_op_cancel(d->op);
        free(d);
    }
    kcl_shard_sync_free(w->sync);
    kcl_coord_free(w->coord);
    kcl_lease_store_free(w->store);
    kcl_ddb_free(w->ddb);
    kcl_kinesis_free(w->kinesis);
    kcl_creds_provider_free(w->creds);
    kcl_http_free(w->http);
    for (size_t i = 0; i < w->nsnapshot; i++) kcl_lease_free(&w->snapshot[i]);
    free(w->snapshot);
    free(w);
}

struct kcl_kinesis *kcl_worker_kinesis(kcl_worker *w) { return w->kinesis; }
const char *kcl_worker_id(const kcl_worker *w) { return w->worker_id; }
int kcl_worker_shard_count(const kcl_worker *w) { return w->nconsumers; }
