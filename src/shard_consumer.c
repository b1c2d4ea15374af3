#include "shard_consumer.h"

#include "backoff.h"
#include "clock.h"
#include "log.h"
#include "record_batch.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

typedef enum { S_WAITING, S_INITIALIZING, S_PROCESSING, S_SHUTTING_DOWN, S_DONE } cstate;
typedef enum { STOP_NONE, STOP_ZOMBIE, STOP_REQUESTED, STOP_POLICY } stop_req;
typedef enum { BUSY_NONE, BUSY_INIT, BUSY_PROCESS, BUSY_SHUTDOWN } busy_kind;

static const char *const state_names[] = {
    "waiting-on-parents", "initializing", "processing", "shutting-down", "done"
};

#define MIN_FETCH_SPACING_MS 200   /* 5 GetRecords per second per shard */
#define STOP_COOLDOWN_MS 30000.0

#define MAX_CHILDREN 4

/* A child shard from the last GetRecords response, copied out of it. */
typedef struct child_copy {
    char id[KCL_LEASE_KEY_MAX + 1];
    char parents[2][KCL_LEASE_KEY_MAX + 1];
    int nparents;
    kcl_kinesis_hash_range hash_range;
    int has_hash_range;
} child_copy;

typedef struct cp_op cp_op;
struct cp_op {
    kcl_consumer *c;
    cp_op *prev, *next;
    kcl_coord_write *w;
    char seq[KCL_LEASE_SEQ_MAX + 1];
    int64_t sub;
    int prepare;
    kcl_checkpoint_done_fn done;
    void *ud;
};

struct kcl_consumer {
    kcl_consumer_env env;
    char shard[KCL_LEASE_KEY_MAX + 1];
    cstate st;
    stop_req stop;
    kcl_shutdown_reason reason;
    busy_kind busy;
    void *proc;
    int recreate;                   /* destroy proc and make a new one before initializing */

    /* checkpoint, delivery and fetch positions (extended sequence numbers) */
    char cp_seq[KCL_LEASE_SEQ_MAX + 1];
    int64_t cp_sub;
    char deliv_seq[KCL_LEASE_SEQ_MAX + 1];
    int64_t deliv_sub;
    int has_deliv;
    char fetch_seq[KCL_LEASE_SEQ_MAX + 1];
    int64_t fetch_sub;
    int has_fetch;
    char skip_seq[KCL_LEASE_SEQ_MAX + 1];
    int64_t skip_sub;
    int has_skip;
    uint8_t range_start[KCL_HASHKEY_LEN], range_end[KCL_HASHKEY_LEN];
    int has_range;

    /* fetching */
    char *iterator;
    int latest_pending;             /* a LATEST iterator was asked for */
    int64_t latest_at_ms;           /* wall time the first LATEST iterator came (0 = none) */
    kcl_kinesis_op *fetch_op;
    int64_t next_fetch_ms;          /* monotonic: not before */
    int64_t last_fetch_start_ms;
    int fetch_attempt;
    int shard_end;

    /* batches */
    kcl_record_batch current, pending;
    int has_current, has_pending, retry_current;
    int proc_attempt;
    int64_t retry_at_ms;

    /* shard end and shutdown */
    child_copy children[MAX_CHILDREN];
    size_t nchildren;
    int children_state;             /* 0 not started, 1 in flight, 2 done */
    void *children_handle;
    int64_t children_retry_ms;
    int shutdown_called, shutdown_attempt;
    int64_t shutdown_retry_ms;
    int releasing;
    kcl_coord_write *release_w;

    ev_timer step;
    kcl_checkpointer cp;
    cp_op *ops;
    uint64_t delivered;
    int finished;
    int warned_range;
    uint64_t rng;
};

/* ---- helpers ---------------------------------------------------------------- */

static void kick_in(kcl_consumer *c, double ms)
{
    if (c->st == S_DONE && c->finished) return;
    double after = ms > 0 ? ms / 1000.0 : 0.0;
    if (ev_is_active(&c->step)) {
        double left = ev_timer_remaining(c->env.loop, &c->step);
        if (left <= after) return;
        ev_timer_stop(c->env.loop, &c->step);
    }
    ev_timer_set(&c->step, after, 0.0);
    ev_timer_start(c->env.loop, &c->step);
}

static void kick(kcl_consumer *c) { kick_in(c, 0); }

static void copy_seq(char *dst, const char *src)
{
    snprintf(dst, KCL_LEASE_SEQ_MAX + 1, "%s", src ? src : "");
}

static double backoff(kcl_consumer *c, int attempt, double base, double max)
{
    double d = kcl_backoff_delay_ms(attempt, base, max, &c->rng);
    return d < base / 2 ? base / 2 : d;
}

const char *kcl_consumer_shard_id(const kcl_consumer *c) { return c->shard; }
const char *kcl_consumer_state_name(const kcl_consumer *c) { return state_names[c->st]; }
uint64_t kcl_consumer_delivered(const kcl_consumer *c) { return c->delivered; }

/* ---- checkpointer (processor.h) ------------------------------------------------ */

static void cp_unlink(cp_op *op)
{
    kcl_consumer *c = op->c;
    if (op->prev) op->prev->next = op->next;
    else c->ops = op->next;
    if (op->next) op->next->prev = op->prev;
}

static void on_cp_written(const kcl_error *err, void *ud)
{
    cp_op *op = ud;
    kcl_consumer *c = op->c;
    if (!err && !op->prepare) {
        copy_seq(c->cp_seq, op->seq);
        c->cp_sub = op->sub < 0 ? 0 : op->sub;
        KCL_DEBUG(c->shard, "checkpoint %s/%lld written", op->seq, (long long)c->cp_sub);
    } else if (err) {
        KCL_WARN(c->shard, "%s at %s failed (%s): %s", op->prepare ? "prepare_checkpoint" : "checkpoint",
                 op->seq, kcl_err_kind_name(err->kind), err->message);
    }
    cp_unlink(op);
    kcl_checkpoint_done_fn done = op->done;
    void *dud = op->ud;
    free(op);
    if (done) done(dud, err);
    kick(c);
}

/* Where a checkpoint may go: (seq, sub) or refusal with a reason. */
static int cp_target(kcl_consumer *c, const char *seq, int64_t sub, char *out, int64_t *out_sub,
                     kcl_error *err)
{
    if (c->stop == STOP_ZOMBIE || !kcl_coord_held(c->env.coord, c->shard)) {
        kcl_error_set(err, KCL_ERR_CONDITION_FAILED, 0, NULL,
                      "lease on %s lost: this worker may no longer checkpoint it", c->shard);
        return -1;
    }
    if (c->stop == STOP_POLICY) {
        kcl_error_set(err, KCL_ERR_CONDITION_FAILED, 0, NULL,
                      "processing of %s stopped after a failed batch (on_error=stop): no checkpoint", c->shard);
        return -1;
    }
    int terminating = c->st == S_SHUTTING_DOWN && c->reason == KCL_SHUTDOWN_TERMINATE;
    if (!seq) {
        if (terminating) { copy_seq(out, KCL_SENTINEL_SHARD_END); *out_sub = 0; return 0; }
        if (!c->has_deliv) {
            kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL, "no record of %s has been delivered yet", c->shard);
            return -1;
        }
        copy_seq(out, c->deliv_seq);
        *out_sub = c->deliv_sub;
        return 0;
    }
    if (strcmp(seq, KCL_SENTINEL_SHARD_END) == 0) {
        if (!terminating) {
            kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL,
                          "SHARD_END may only be checkpointed in shutdown with reason TERMINATE");
            return -1;
        }
        copy_seq(out, seq);
        *out_sub = 0;
        return 0;
    }
    if (!kcl_seq_is_valid(seq)) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL, "'%.64s' is not a sequence number", seq);
        return -1;
    }
    if (!c->has_deliv || kcl_extseq_cmp(seq, sub, c->deliv_seq, c->deliv_sub) > 0) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL,
                      "sequence number %.64s/%lld is beyond the last record delivered (%s)",
                      seq, (long long)(sub < 0 ? 0 : sub), c->has_deliv ? c->deliv_seq : "none");
        return -1;
    }
    if (kcl_seq_is_valid(c->cp_seq) && kcl_extseq_cmp(seq, sub, c->cp_seq, c->cp_sub) < 0) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL,
                      "sequence number %.64s/%lld is before the current checkpoint %s/%lld",
                      seq, (long long)(sub < 0 ? 0 : sub), c->cp_seq, (long long)c->cp_sub);
        return -1;
    }
    copy_seq(out, seq);
    *out_sub = sub;
    return 0;
}

static kcl_checkpoint_op *cp_start(kcl_checkpointer *cp, const char *seq, int64_t sub, int prepare,
                                   const void *state, size_t state_len,
                                   kcl_checkpoint_done_fn done, void *ud, kcl_error *err)
{
    kcl_consumer *c = cp->impl;
    cp_op *op = calloc(1, sizeof *op);
    if (!op) { kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory"); return NULL; }
    if (cp_target(c, seq, sub, op->seq, &op->sub, err) != 0) { free(op); return NULL; }
    op->c = c;
    op->prepare = prepare;
    op->done = done;
    op->ud = ud;
    op->next = c->ops;
    if (c->ops) c->ops->prev = op;
    c->ops = op;
    op->w = prepare ? kcl_coord_prepare(c->env.coord, c->shard, op->seq, op->sub, state, state_len,
                                        on_cp_written, op)
                    : kcl_coord_checkpoint(c->env.coord, c->shard, op->seq, op->sub, on_cp_written, op);
    if (!op->w) {
        cp_unlink(op);
        free(op);
        kcl_error_set(err, KCL_ERR_CONDITION_FAILED, 0, NULL, "lease on %s is not held", c->shard);
        return NULL;
    }
    return (kcl_checkpoint_op *)op;
}

static kcl_checkpoint_op *cp_checkpoint(kcl_checkpointer *cp, const char *seq, int64_t sub,
                                        kcl_checkpoint_done_fn done, void *ud, kcl_error *err)
{
    return cp_start(cp, seq, sub, 0, NULL, 0, done, ud, err);
}

static kcl_checkpoint_op *cp_prepare(kcl_checkpointer *cp, const char *seq, int64_t sub,
                                     const void *state, size_t state_len,
                                     kcl_checkpoint_done_fn done, void *ud, kcl_error *err)
{
    return cp_start(cp, seq, sub, 1, state, state_len, done, ud, err);
}

static void cp_cancel(kcl_checkpoint_op *handle)
{
    cp_op *op = (cp_op *)handle;
    if (!op) return;
    kcl_coord_write_cancel(op->w);
    cp_unlink(op);
    free(op);
}

static const kcl_checkpointer_ops checkpointer_ops = {cp_checkpoint, cp_prepare, cp_cancel};

/* ---- processor calls ------------------------------------------------------------ */

static void on_proc_done(void *ctx, int status, const char *message)
{
    kcl_consumer *c = ctx;
    busy_kind was = c->busy;
    c->busy = BUSY_NONE;
    if (was == BUSY_INIT) {
        if (status == 0) {
            c->st = S_PROCESSING;
            c->proc_attempt = 0;
        } else {
            KCL_ERROR(c->shard, "initialize failed: %s", message ? message : "(no message)");
            if (c->env.on_error == KCL_ON_ERROR_STOP) {
                c->stop = STOP_POLICY;
            } else {
                /* a fresh processor is initialized after a backoff (processor.h:
                 * an instance is initialized once); it is destroyed in advance(),
                 * not here, where its own callback may be on the stack */
                c->recreate = 1;
                c->st = S_WAITING;
                c->retry_at_ms = kcl_clock_mono_ms() + (int64_t)backoff(c, ++c->proc_attempt, 500, 30000);
            }
        }
    } else if (was == BUSY_PROCESS) {
        size_t n = c->current.count;
        if (status == 0) {
            c->delivered += n;
            c->proc_attempt = 0;
            kcl_record_batch_free(&c->current);
            c->has_current = 0;
        } else {
            const char *first = n ? c->current.records[0].sequence_number : "-";
            const char *last = n ? c->current.records[n - 1].sequence_number : "-";
            switch (c->env.on_error) {
            case KCL_ON_ERROR_RETRY: {
                double d = backoff(c, ++c->proc_attempt, 500, 30000);
                KCL_ERROR(c->shard, "process_records failed on %zu records (%s..%s), attempt %d; "
                          "redelivering the same batch in %.0f ms (on_error=retry): %s",
                          n, first, last, c->proc_attempt, d, message ? message : "(no message)");
                c->retry_current = 1;
                c->retry_at_ms = kcl_clock_mono_ms() + (int64_t)d;
                kick_in(c, d);
                break;
            }
            case KCL_ON_ERROR_SKIP:
                KCL_ERROR(c->shard, "process_records failed on %zu records (%s..%s); skipping them "
                          "(on_error=skip): %s", n, first, last, message ? message : "(no message)");
                kcl_record_batch_free(&c->current);
                c->has_current = 0;
                break;
            case KCL_ON_ERROR_STOP:
                KCL_ERROR(c->shard, "process_records failed on %zu records (%s..%s); stopping this "
                          "shard's processor and releasing its lease (on_error=stop): %s",
                          n, first, last, message ? message : "(no message)");
                kcl_record_batch_free(&c->current);
                c->has_current = 0;
                if (c->stop == STOP_NONE || c->stop == STOP_REQUESTED) c->stop = STOP_POLICY;
                break;
            }
        }
    } else if (was == BUSY_SHUTDOWN) {
        if (status != 0)
            KCL_ERROR(c->shard, "shutdown(%s) failed: %s", kcl_shutdown_reason_name(c->reason),
                      message ? message : "(no message)");
        if (c->reason == KCL_SHUTDOWN_TERMINATE) {
            const kcl_lease *l = kcl_coord_held(c->env.coord, c->shard);
            if (l && !kcl_lease_is_finished(l) && c->stop == STOP_NONE) {
                double d = backoff(c, ++c->shutdown_attempt, 1000, 30000);
                KCL_ERROR(c->shard, "the processor did not checkpoint at shard end (checkpoint() in "
                          "shutdown with reason TERMINATE); SHARD_END not written; shutdown will be "
                          "retried in %.0f ms", d);
                c->shutdown_called = 0;
                c->shutdown_retry_ms = kcl_clock_mono_ms() + (int64_t)d;
                kick_in(c, d);
                return;
            }
        }
        c->shutdown_called = 2;       /* finished */
    }
    kick(c);
}

static void deliver(kcl_consumer *c)
{
    kcl_batch b = {c->current.records, c->current.count, c->current.millis_behind_latest};
    if (b.count) {
        const kcl_record *last = &b.records[b.count - 1];
        copy_seq(c->deliv_seq, last->sequence_number);
        c->deliv_sub = last->sub_sequence_number;
        c->has_deliv = 1;
    }
    c->retry_current = 0;
    c->busy = BUSY_PROCESS;
    c->env.procs->vt->process_records(c->proc, &b, &c->cp, on_proc_done, c);
}

/* ---- fetching ------------------------------------------------------------------- */

static void schedule_fetch(kcl_consumer *c, double delay_ms)
{
    int64_t at = kcl_clock_mono_ms() + (int64_t)delay_ms;
    int64_t min = c->last_fetch_start_ms + MIN_FETCH_SPACING_MS;
    c->next_fetch_ms = at > min ? at : min;
}

static void fetch_failed(kcl_consumer *c, const kcl_error *err, const char *what)
{
    double d = backoff(c, ++c->fetch_attempt, 250, 30000);
    kcl_log_level lvl = err->kind == KCL_ERR_THROTTLED && c->fetch_attempt < 5 ? KCL_LOG_INFO : KCL_LOG_WARN;
    KCL_LOG(lvl, c->shard, "%s failed (%s): %s; retrying in %.0f ms", what, kcl_err_kind_name(err->kind),
            err->message, d);
    schedule_fetch(c, d);
}

static void keep_children(kcl_consumer *c, const kcl_kinesis_records *recs)
{
    c->nchildren = 0;
    for (size_t i = 0; i < recs->child_count && c->nchildren < MAX_CHILDREN; i++) {
        const kcl_kinesis_child_shard *src = &recs->child_shards[i];
        child_copy *d = &c->children[c->nchildren++];
        memset(d, 0, sizeof *d);
        snprintf(d->id, sizeof d->id, "%s", src->shard_id ? src->shard_id : "");
        for (int p = 0; p < src->parent_count && p < 2; p++)
            snprintf(d->parents[p], sizeof d->parents[p], "%s", src->parent_shards[p]);
        d->nparents = src->parent_count > 2 ? 2 : src->parent_count;
        d->hash_range = src->hash_range;
        d->has_hash_range = src->has_hash_range;
    }
}

static void on_records(kcl_kinesis_records *recs, const kcl_error *err, void *ud)
{
    kcl_consumer *c = ud;
    c->fetch_op = NULL;
    if (err && err->kind == KCL_ERR_NONE) err = NULL;   /* kinesis.h: never NULL */
    if (err || !recs) {
        kcl_error none;
        if (!err) { kcl_error_set(&none, KCL_ERR_MALFORMED, 0, NULL, "no records object"); err = &none; }
        if (err->kind == KCL_ERR_EXPIRED_ITERATOR) {
            KCL_INFO(c->shard, "shard iterator expired; getting a new one at %s",
                     c->has_fetch ? c->fetch_seq : "the checkpoint");
            free(c->iterator);
            c->iterator = NULL;
            schedule_fetch(c, 0);
        } else {
            if (err->kind == KCL_ERR_INVALID_ARGUMENT) {   /* a rejected iterator: get another */
                free(c->iterator);
                c->iterator = NULL;
            }
            fetch_failed(c, err, "GetRecords");
        }
        kick(c);
        return;
    }
    int end = recs->next_iterator == NULL;
    char *next = end ? NULL : strdup(recs->next_iterator);
    size_t raw_count = recs->count;
    int64_t behind = recs->millis_behind_latest;
    if (end) keep_children(c, recs);
    kcl_batch_opts o = {
        .skip_seq = c->has_skip ? c->skip_seq : NULL,
        .skip_sub = c->skip_sub,
        .range_start = c->has_range ? c->range_start : NULL,
        .range_end = c->has_range ? c->range_end : NULL,
        .filter_out_of_range = c->env.kpl_filter,
    };
    kcl_record_batch b;
    kcl_error berr;
    if ((!end && !next) || kcl_record_batch_build(&b, recs, &o, &berr) != 0) {
        if (!end && !next) { kcl_kinesis_records_free(recs); kcl_error_set(&berr, KCL_ERR_FATAL, 0, NULL, "out of memory"); }
        free(next);
        fetch_failed(c, &berr, "decoding GetRecords");
        kick(c);
        return;
    }
    c->fetch_attempt = 0;
    if (b.last_seq) {
        copy_seq(c->fetch_seq, b.last_seq);
        c->fetch_sub = b.last_sub;
        c->has_fetch = 1;
        if (c->has_skip && kcl_extseq_cmp(b.last_seq, b.last_sub, c->skip_seq, c->skip_sub) > 0)
            c->has_skip = 0;
    }
    if (b.out_of_range && !c->warned_range) {
        c->warned_range = 1;
        KCL_WARN(c->shard, "%zu KPL sub-records hash outside this shard's range (the producer aggregated "
                 "across shards); %s", b.out_of_range,
                 c->env.kpl_filter ? "dropped as kpl_hash_range_filter asks"
                                   : "delivered anyway (the Java KCL would drop them)");
    }
    free(c->iterator);
    c->iterator = next;
    if (end) {
        c->shard_end = 1;
        KCL_INFO(c->shard, "reached the end of the shard (%zu child shards reported)", c->nchildren);
    }
    if (b.count > 0 || c->env.call_empty) {
        c->pending = b;
        c->has_pending = 1;
    } else {
        kcl_record_batch_free(&b);
    }
    int more = raw_count > 0 && (behind > 0 || raw_count >= (size_t)c->env.max_records);
    schedule_fetch(c, more ? 0 : c->env.idle_time_ms);
    kick(c);
}

static void on_iterator(const char *iterator, const kcl_error *err, void *ud)
{
    kcl_consumer *c = ud;
    c->fetch_op = NULL;
    if (err && err->kind != KCL_ERR_NONE) {
        fetch_failed(c, err, "GetShardIterator");
    } else {
        free(c->iterator);
        c->iterator = strdup(iterator);
        if (c->latest_pending) c->latest_at_ms = kcl_clock_wall_ms();
        c->latest_pending = 0;
        schedule_fetch(c, 0);
        c->next_fetch_ms = kcl_clock_mono_ms();   /* an iterator is not a GetRecords */
    }
    kick(c);
}

static void start_fetch(kcl_consumer *c)
{
    kcl_error err;
    if (!c->iterator) {
        kcl_kinesis_iterator_req req = {.stream_name = c->env.stream, .shard_id = c->shard};
        const char *at = c->has_fetch ? c->fetch_seq : c->cp_seq;
        int64_t at_sub = c->has_fetch ? c->fetch_sub : c->cp_sub;
        if (c->has_fetch || kcl_seq_is_valid(c->cp_seq)) {
            req.type = KCL_ITER_AT_SEQUENCE_NUMBER;
            req.sequence_number = at;
            copy_seq(c->skip_seq, at);
            c->skip_sub = at_sub;
            c->has_skip = 1;
        } else if (strcmp(c->cp_seq, KCL_SENTINEL_LATEST) == 0 && c->latest_at_ms) {
            /* A LATEST iterator expired before any record came: a new LATEST
             * would skip what arrived meanwhile, so resume at the time the
             * first was taken (a second early, for clock skew: a record may
             * come twice, none is skipped). */
            req.type = KCL_ITER_AT_TIMESTAMP;
            req.timestamp_ms = c->latest_at_ms - 1000;
        } else if (strcmp(c->cp_seq, KCL_SENTINEL_LATEST) == 0) {
            req.type = KCL_ITER_LATEST;
            c->latest_pending = 1;
        } else if (strcmp(c->cp_seq, KCL_SENTINEL_AT_TIMESTAMP) == 0) {
            req.type = KCL_ITER_AT_TIMESTAMP;
            req.timestamp_ms = c->env.at_timestamp_ms;
        } else if (strcmp(c->cp_seq, KCL_SENTINEL_SHARD_END) == 0) {
            c->shard_end = 1;
            kick(c);
            return;
        } else {
            req.type = KCL_ITER_TRIM_HORIZON;
        }
        c->fetch_op = kcl_kinesis_get_shard_iterator(c->env.kinesis, &req, NULL, on_iterator, c, &err);
    } else {
        c->last_fetch_start_ms = kcl_clock_mono_ms();
        c->fetch_op = kcl_kinesis_get_records(c->env.kinesis, c->iterator, c->env.max_records, NULL,
                                              on_records, c, &err);
    }
    if (!c->fetch_op) fetch_failed(c, &err, "starting a fetch");
}

/* ---- shard end, release, the state machine ---------------------------------------- */

static void on_children_recorded(const kcl_error *err, void *ud)
{
    kcl_consumer *c = ud;
    if (err) KCL_WARN(c->shard, "recording childShardIds on the lease failed: %s", err->message);
}

static void on_children(const kcl_error *err, const char *const *ids, int nids, void *ud)
{
    kcl_consumer *c = ud;
    c->children_handle = NULL;
    if (err) {
        double d = backoff(c, ++c->fetch_attempt, 500, 30000);
        KCL_WARN(c->shard, "creating the child shards' leases failed (%s): %s; retrying in %.0f ms",
                 kcl_err_kind_name(err->kind), err->message, d);
        c->children_state = 0;
        c->children_retry_ms = kcl_clock_mono_ms() + (int64_t)d;
        kick_in(c, d);
        return;
    }
    c->fetch_attempt = 0;
    /* No children found yet (ListShards lagging behind the split) is not worth
     * holding the shard for: the finished lease stays until its children have
     * started, and the periodic shard sync creates them with this shard as
     * parent, so nothing is skipped. */
    c->children_state = 2;
    if (nids > 0) kcl_coord_set_children(c->env.coord, c->shard, ids, nids, on_children_recorded, c);
    kick(c);
}

static void on_released(const kcl_error *err, void *ud)
{
    kcl_consumer *c = ud;
    c->release_w = NULL;
    (void)err;                       /* the coordinator logged it; the lease is not held either way */
    c->st = S_DONE;
    kick(c);
}

static void release_then_done(kcl_consumer *c)
{
    if (c->releasing) return;
    c->releasing = 1;
    if (c->stop == STOP_POLICY) kcl_coord_cooldown(c->env.coord, c->shard, STOP_COOLDOWN_MS);
    if (c->stop != STOP_ZOMBIE && kcl_coord_held(c->env.coord, c->shard))
        c->release_w = kcl_coord_release(c->env.coord, c->shard, on_released, c);
    if (!c->release_w) c->st = S_DONE;
}

static void cancel_fetching(kcl_consumer *c)
{
    if (c->fetch_op) { kcl_kinesis_cancel(c->fetch_op); c->fetch_op = NULL; }
    if (c->has_pending) { kcl_record_batch_free(&c->pending); c->has_pending = 0; }
    if (c->has_current && c->busy != BUSY_PROCESS) {
        kcl_record_batch_free(&c->current);
        c->has_current = 0;
        c->retry_current = 0;
    }
    if (c->children_handle && c->env.cancel_children) {
        c->env.cancel_children(c->env.ud, c->children_handle);
        c->children_handle = NULL;
        c->children_state = 0;
    }
}

static void call_shutdown(kcl_consumer *c, kcl_shutdown_reason reason)
{
    c->st = S_SHUTTING_DOWN;
    c->reason = reason;
    c->shutdown_called = 1;
    c->busy = BUSY_SHUTDOWN;
    KCL_INFO(c->shard, "shutting the processor down (%s)", kcl_shutdown_reason_name(reason));
    c->env.procs->vt->shutdown(c->proc, reason, &c->cp, on_proc_done, c);
}

static void advance(kcl_consumer *c)
{
    int64_t now = kcl_clock_mono_ms();
    if (c->st == S_DONE) {
        if (!c->finished) {
            c->finished = 1;
            KCL_INFO(c->shard, "consumer done (%llu records delivered)", (unsigned long long)c->delivered);
            if (c->env.finished) c->env.finished(c->env.ud, c);
        }
        return;
    }
    if (c->busy != BUSY_NONE || c->releasing) return;     /* wait for the call or the release */

    if (c->stop != STOP_NONE) {
        cancel_fetching(c);
        if (!c->proc || c->shutdown_called == 2) { release_then_done(c); advance(c); return; }
        if (c->st == S_SHUTTING_DOWN && c->shutdown_called == 0 && c->reason == KCL_SHUTDOWN_TERMINATE) {
            /* a stop arrived while waiting to retry TERMINATE: give up on it */
            c->shutdown_called = 2;
            release_then_done(c);
            advance(c);
            return;
        }
        if (c->shutdown_called == 0)
            call_shutdown(c, c->stop == STOP_REQUESTED ? KCL_SHUTDOWN_REQUESTED : KCL_SHUTDOWN_ZOMBIE);
        return;
    }

    switch (c->st) {
    case S_WAITING: {
        if (now < c->retry_at_ms) { kick_in(c, (double)(c->retry_at_ms - now)); return; }
        if (c->env.parents_done && !c->env.parents_done(c->env.ud, c->shard)) {
            kick_in(c, 1000);        /* look again; the worker's scans keep the view fresh */
            return;
        }
        if (c->proc && c->recreate) {
            c->env.procs->vt->destroy(c->proc);
            c->proc = NULL;
        }
        c->recreate = 0;
        if (!c->proc) {
            kcl_error err;
            kcl_error_clear(&err);
            c->proc = c->env.procs->vt->create(c->env.procs->factory, c->shard, &err);
            if (!c->proc) {
                KCL_ERROR(c->shard, "cannot create a processor: %s", err.message);
                c->stop = STOP_POLICY;
                kick(c);
                return;
            }
        }
        c->st = S_INITIALIZING;
        c->busy = BUSY_INIT;
        kcl_init_input in = {c->shard, c->cp_seq, c->cp_sub};
        c->env.procs->vt->initialize(c->proc, &in, on_proc_done, c);
        return;
    }
    case S_INITIALIZING:
        return;                       /* on_proc_done moves on */
    case S_PROCESSING:
        /* 1. hand over the next batch */
        if (c->has_current && c->retry_current) {
            if (now < c->retry_at_ms) kick_in(c, (double)(c->retry_at_ms - now));
            else deliver(c);
        } else if (!c->has_current && c->has_pending) {
            c->current = c->pending;
            c->has_current = 1;
            c->has_pending = 0;
            memset(&c->pending, 0, sizeof c->pending);
            deliver(c);
        }
        /* 2. fetch ahead (one batch at most) */
        if (!c->fetch_op && !c->has_pending && !c->shard_end) {
            if (now >= c->next_fetch_ms) start_fetch(c);
            else kick_in(c, (double)(c->next_fetch_ms - now));
        }
        /* 3. the shard ended and everything was delivered */
        if (c->shard_end && !c->has_current && !c->has_pending && c->busy == BUSY_NONE && !c->fetch_op) {
            if (c->children_state == 0) {
                if (now < c->children_retry_ms) { kick_in(c, (double)(c->children_retry_ms - now)); return; }
                c->children_state = 1;
                kcl_kinesis_child_shard views[MAX_CHILDREN];
                for (size_t i = 0; i < c->nchildren; i++) {
                    child_copy *cc = &c->children[i];
                    memset(&views[i], 0, sizeof views[i]);
                    views[i].shard_id = cc->id;
                    views[i].parent_shards[0] = cc->parents[0];
                    views[i].parent_shards[1] = cc->parents[1];
                    views[i].parent_count = cc->nparents;
                    views[i].hash_range = cc->hash_range;
                    views[i].has_hash_range = cc->has_hash_range;
                }
                c->children_handle = c->env.create_children(c->env.ud, c->shard, views, c->nchildren,
                                                            on_children, c);
                if (!c->children_handle && c->children_state == 1) {
                    c->children_state = 0;
                    c->children_retry_ms = now + 1000;
                    kick_in(c, 1000);
                }
            } else if (c->children_state == 2) {
                call_shutdown(c, KCL_SHUTDOWN_TERMINATE);
            }
        }
        return;
    case S_SHUTTING_DOWN:
        if (c->shutdown_called == 2) { release_then_done(c); advance(c); return; }
        if (c->shutdown_called == 0 && c->reason == KCL_SHUTDOWN_TERMINATE) {
            if (now < c->shutdown_retry_ms) kick_in(c, (double)(c->shutdown_retry_ms - now));
            else call_shutdown(c, KCL_SHUTDOWN_TERMINATE);
        }
        return;
    case S_DONE:
        return;
    }
}

static void on_step(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop; (void)revents;
    advance(t->data);
}

/* ---- life cycle ------------------------------------------------------------------- */

kcl_consumer *kcl_consumer_new(const kcl_consumer_env *env, const kcl_lease *lease)
{
    kcl_consumer *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->env = *env;
    if (c->env.max_records <= 0 || c->env.max_records > 10000) c->env.max_records = 10000;
    if (c->env.idle_time_ms < MIN_FETCH_SPACING_MS) c->env.idle_time_ms = MIN_FETCH_SPACING_MS;
    snprintf(c->shard, sizeof c->shard, "%s", lease->key);
    copy_seq(c->cp_seq, lease->checkpoint);
    c->cp_sub = lease->checkpoint_sub;
    if (lease->starting_hash_key[0] && lease->ending_hash_key[0] &&
        kcl_hashkey_parse(lease->starting_hash_key, strlen(lease->starting_hash_key), c->range_start) == 0 &&
        kcl_hashkey_parse(lease->ending_hash_key, strlen(lease->ending_hash_key), c->range_end) == 0)
        c->has_range = 1;
    c->cp.ops = &checkpointer_ops;
    c->cp.impl = c;
    c->rng = (uint64_t)kcl_clock_mono_ns() ^ (uint64_t)(uintptr_t)c;
    if (!c->rng) c->rng = 1;
    ev_timer_init(&c->step, on_step, 0.0, 0.0);
    c->step.data = c;
    KCL_INFO(c->shard, "consumer starting at checkpoint %s%s", c->cp_seq[0] ? c->cp_seq : "(none)",
             lease->nparents ? " once its parents are finished" : "");
    kick(c);
    return c;
}

void kcl_consumer_lease_lost(kcl_consumer *c)
{
    if (c->st == S_DONE) return;
    c->stop = STOP_ZOMBIE;
    if (c->release_w) { kcl_coord_write_cancel(c->release_w); c->release_w = NULL; c->st = S_DONE; }
    kick(c);
}

void kcl_consumer_request_shutdown(kcl_consumer *c)
{
    if (c->st == S_DONE || c->stop != STOP_NONE) return;
    c->stop = STOP_REQUESTED;
    kick(c);
}

void kcl_consumer_free(kcl_consumer *c)
{
    if (!c) return;
    ev_timer_stop(c->env.loop, &c->step);
    /* The processor first: its destroy cancels its own pending work, which
     * may include checkpoint operations (cp_cancel on handles it holds), so
     * those must still be alive. What it left is cancelled after. */
    if (c->proc) c->env.procs->vt->destroy(c->proc);
    c->proc = NULL;
    while (c->ops) cp_cancel((kcl_checkpoint_op *)c->ops);
    if (c->fetch_op) kcl_kinesis_cancel(c->fetch_op);
    if (c->children_handle && c->env.cancel_children) c->env.cancel_children(c->env.ud, c->children_handle);
    if (c->release_w) kcl_coord_write_cancel(c->release_w);
    if (c->has_pending) kcl_record_batch_free(&c->pending);
    if (c->has_current) kcl_record_batch_free(&c->current);
    free(c->iterator);
    free(c);
}
