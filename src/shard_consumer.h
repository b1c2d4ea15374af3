/* shard_consumer — one shard's life under a held lease, the polling way:
 *
 *   waiting-on-parents -> initializing -> processing -> shutting-down -> done
 *
 * - Waits until every parent shard is finished (the worker answers), then
 *   creates the processor and calls initialize with the checkpoint.
 * - Fetches with GetShardIterator (AT_SEQUENCE_NUMBER at the checkpoint,
 *   skipping user records up to the checkpointed sub-sequence, so KPL
 *   aggregates resume mid-record; or the sentinel's type) and GetRecords
 *   (max_records). Polls again at once while behind, else after idle_time
 *   (>= 200 ms), never more than 5 GetRecords/s. One batch of prefetch at most.
 * - Delivers batches in order, one at a time; a failed batch follows the
 *   error policy (retry: redeliver after backoff; skip: log and go on; stop:
 *   shut the processor down, release the lease, cool down).
 * - ExpiredIterator: a new iterator after the last fetched record (no gap, no
 *   duplicate). Throttling and faults: per-shard exponential backoff with
 *   jitter; other shards are unaffected.
 * - Shard end: child leases are created (ChildShards, or ListShards), the
 *   lease records childShardIds, shutdown(TERMINATE) runs; if the processor
 *   did not checkpoint SHARD_END, that is logged as an error and shutdown is
 *   retried after a backoff, as the Java KCL does.
 * - Lease lost: shutdown(ZOMBIE) after the batch in flight; the checkpointer
 *   refuses from the moment the loss is known.
 * - Requested stop: no more fetching, the batch in flight finishes,
 *   shutdown(REQUESTED) (may checkpoint), then the lease is released.
 *
 * It implements the processor-facing checkpointer of processor.h. */
#ifndef KCL_SHARD_CONSUMER_H
#define KCL_SHARD_CONSUMER_H

#include "config.h"
#include "kinesis.h"
#include "lease.h"
#include "lease_coordinator.h"
#include "processor.h"

struct ev_loop;
typedef struct kcl_consumer kcl_consumer;

/* What consumers share, provided by the worker (borrowed). */
typedef struct kcl_consumer_env {
    struct ev_loop *loop;
    kcl_kinesis *kinesis;
    kcl_coord *coord;
    const kcl_processor_factory *procs;
    const char *stream;
    int max_records;
    int idle_time_ms;
    int call_empty;                  /* call_process_records_even_for_empty_list */
    int kpl_filter;                  /* kpl_hash_range_filter */
    kcl_on_error on_error;
    int64_t at_timestamp_ms;         /* for the AT_TIMESTAMP sentinel */
    /* 1 when every parent of `shard_id` is finished or gone. */
    int (*parents_done)(void *ud, const char *shard_id);
    /* Create the child leases of a shard that ended (children from the
     * GetRecords response, n = 0 when it had none). Calls `done` later,
     * with the ids of the children. Returns a handle for cancel_children. */
    void *(*create_children)(void *ud, const char *shard_id, const kcl_kinesis_child_shard *children,
                             size_t n, void (*done)(const kcl_error *err, const char *const *ids,
                                                    int nids, void *dud), void *dud);
    void (*cancel_children)(void *ud, void *handle);
    /* The consumer reached `done`; the worker frees it (later, not inside). */
    void (*finished)(void *ud, kcl_consumer *c);
    void *ud;
} kcl_consumer_env;

/* A consumer for a lease this worker just took. NULL on out of memory. */
kcl_consumer *kcl_consumer_new(const kcl_consumer_env *env, const kcl_lease *lease);
/* The lease was lost: ZOMBIE shutdown after the batch in flight. */
void kcl_consumer_lease_lost(kcl_consumer *c);
/* Graceful stop: REQUESTED shutdown, then release. */
void kcl_consumer_request_shutdown(kcl_consumer *c);
/* Free now (pending work cancelled, the processor destroyed, no callbacks). */
void kcl_consumer_free(kcl_consumer *c);

const char *kcl_consumer_shard_id(const kcl_consumer *c);
const char *kcl_consumer_state_name(const kcl_consumer *c);
/* Records delivered to the processor so far (stats, tests). */
uint64_t kcl_consumer_delivered(const kcl_consumer *c);

#endif
