/* worker — one KCL worker: the lease table, the lease coordinator, shard
 * discovery and one shard consumer per held lease, all on one libev loop.
 *
 * Life: kcl_worker_new (checks the configuration, builds the AWS clients)
 * -> kcl_worker_start (ensures the lease table, syncs shards, starts taking
 * leases) -> ... -> kcl_worker_shutdown (graceful: stop taking and fetching,
 * let in-flight batches finish, shutdown(REQUESTED) every processor, release
 * every lease, then call `stopped`; bounded by shutdown_grace_ms) ->
 * kcl_worker_free. The worker never calls exit(); fatal errors reach the
 * `stopped` callback with a message. */
#ifndef KCL_WORKER_H
#define KCL_WORKER_H

#include "config.h"
#include "error.h"
#include "processor.h"

struct ev_loop;
struct kcl_kinesis;
typedef struct kcl_worker kcl_worker;

/* Called once when the worker has stopped: err NULL after a clean shutdown,
 * else why it stopped (fatal). */
typedef void (*kcl_worker_stopped_fn)(kcl_worker *w, const kcl_error *err, void *ud);

/* `cfg` is copied; `procs` is borrowed and must outlive the worker. */
kcl_worker *kcl_worker_new(struct ev_loop *loop, const kcl_config *cfg,
                           const kcl_processor_factory *procs,
                           kcl_worker_stopped_fn stopped, void *ud, kcl_error *err);
/* Begin work. Returns 0, or -1 with err when it cannot even begin. */
int kcl_worker_start(kcl_worker *w, kcl_error *err);
/* Graceful stop (idempotent); `stopped` is called when done. */
void kcl_worker_shutdown(kcl_worker *w);
/* Free (after `stopped`, or to abandon a worker: nothing calls back). */
void kcl_worker_free(kcl_worker *w);

/* The worker's Kinesis client (for the Lua host's put_records). */
struct kcl_kinesis *kcl_worker_kinesis(kcl_worker *w);
const char *kcl_worker_id(const kcl_worker *w);
/* Shards with a running consumer (stats, tests). */
int kcl_worker_shard_count(const kcl_worker *w);

#endif
