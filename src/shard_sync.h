/* shard_sync — shard discovery and lease creation, with the Java KCL's
 * semantics: which shards of a stream get a lease row, at which checkpoint,
 * waiting on which parents; which finished leases may be deleted; which
 * child leases to create when a shard ends.
 *
 * Two halves:
 * - Planning (kcl_shard_sync_plan, _parents_done, _cleanup_plan,
 *   _children_leases, _children_from_shards) is pure: plain inputs in, new
 *   leases or keys out, no I/O, no loop. The worker and the tests call it
 *   directly.
 * - The runner (kcl_shard_sync_new, _run, _create_children) does the I/O on
 *   the loop: ListShards (all pages), a consistent scan of the lease table,
 *   the plan, then one conditional create per planned lease, parents before
 *   children. A create that fails its condition (KCL_ERR_CONDITION_FAILED)
 *   means another worker created that lease first: that is success, not
 *   counted as created. Any other failure stops the run (children of a lease
 *   that could not be created are not created either, so nothing starts
 *   before its parent's data); the next run picks up where this one stopped.
 *
 * The rules (a shard's "parents" are its ParentShardId and
 * AdjacentParentShardId, restricted to those that have a lease row or are
 * created by the same plan):
 * - only shards without a lease row get one;
 * - never (re)create a lease for a shard one of whose children (a shard
 *   listing it as a parent, or a lease row naming it in parentShardId)
 *   already has a lease, nor for any ancestor of such a shard: it was
 *   finished and its lease cleaned up, or skipped; recreating it would
 *   deliver its data again;
 * - an open shard is always created; a closed shard is created when the
 *   initial position is TRIM_HORIZON or AT_TIMESTAMP, or when it has a parent
 *   (a descendant of data being consumed is never skipped);
 * - a lease with parents starts at TRIM_HORIZON and names them in
 *   parentShardId (it is processed once they are finished: _parents_done);
 *   a lease without parents starts at the initial position's sentinel.
 * So LATEST on a resharded stream leases only the open shards, at LATEST;
 * TRIM_HORIZON leases every shard, roots at TRIM_HORIZON and descendants at
 * TRIM_HORIZON waiting on their parents. */
#ifndef KCL_SHARD_SYNC_H
#define KCL_SHARD_SYNC_H

#include "config.h"
#include "kinesis.h"
#include "lease.h"
#include "lease_store.h"

#include <stddef.h>

/* ---- planning (pure) ---------------------------------------------------------- */

/* The initial position's checkpoint sentinel ("LATEST", "TRIM_HORIZON",
 * "AT_TIMESTAMP"). */
const char *kcl_shard_sync_sentinel(kcl_initial_position pos);

/* The leases to create for `shards` (a ListShards result, any order) given
 * the table's current rows `leases`, by the rules above. On success *out is
 * a malloc'd array of *nout new leases in creation order (every lease after
 * the parents it names), NULL when *nout is 0: the caller frees each with
 * kcl_lease_free and the array with free (kcl_shard_sync_leases_free does
 * both). Shards with an empty id, repeated ids and parent cycles (hostile
 * data) are tolerated: a repeated id counts once, a cycle's closing edge is
 * ignored. Returns 0, or -1 (err FATAL, out of memory; nothing to free). */
int kcl_shard_sync_plan(const kcl_kinesis_shard *shards, size_t nshards,
                        const kcl_lease *leases, size_t nleases, kcl_initial_position pos,
                        kcl_lease **out, size_t *nout, kcl_error *err);

/* Free an array returned by this module (each lease, then the array). */
void kcl_shard_sync_leases_free(kcl_lease *leases, size_t n);

/* 1 when every parent of `lease` (its parentShardId) either has no row in
 * `leases` or has checkpoint SHARD_END: the lease may be processed. 0 while
 * a parent still has data to deliver. */
int kcl_shard_sync_parents_done(const kcl_lease *lease, const kcl_lease *leases, size_t n);

/* Finished leases (SHARD_END) that may be deleted: the lease knows at least
 * one child (its childShardIds, or rows naming it in parentShardId) and
 * every such child has a row whose checkpoint is a sequence number or
 * SHARD_END (the children have started, the parent's data is no longer
 * needed). *keys is a malloc'd array of *nkeys malloc'd strings (NULL when
 * none): free with kcl_shard_sync_keys_free. Returns 0, or -1 on OOM. */
int kcl_shard_sync_cleanup_plan(const kcl_lease *leases, size_t n, char ***keys, size_t *nkeys);
void kcl_shard_sync_keys_free(char **keys, size_t n);

/* The child leases to create when `parent_key` ends, from a GetRecords
 * response's ChildShards: checkpoint TRIM_HORIZON, parentShardId = all of
 * the child's parents (a merge child has two; a child that lists none gets
 * parent_key), hash range when the response had it. Children without an id
 * are skipped. *out as for kcl_shard_sync_plan. Returns 0, or -1 on OOM. */
int kcl_shard_sync_children_leases(const char *parent_key, const kcl_kinesis_child_shard *children,
                                   size_t n, kcl_lease **out, size_t *nout);
/* The same from a ListShards result: the children of `parent_key` are the
 * shards whose ParentShardId or AdjacentParentShardId is parent_key (each
 * once), with both their parents and their hash range. */
int kcl_shard_sync_children_from_shards(const char *parent_key, const kcl_kinesis_shard *shards,
                                        size_t n, kcl_lease **out, size_t *nout);

/* ---- the runner (on the loop) -------------------------------------------------- */

struct ev_loop;
typedef struct kcl_shard_sync kcl_shard_sync;
typedef struct kcl_shard_sync_op kcl_shard_sync_op;

/* A runner for `stream` (copied). `kin` and `store` are borrowed and must
 * outlive it. NULL + err (INVALID_ARGUMENT, FATAL on OOM) on bad arguments. */
kcl_shard_sync *kcl_shard_sync_new(struct ev_loop *loop, kcl_kinesis *kin, kcl_lease_store *store,
                                   const char *stream, kcl_initial_position pos, kcl_error *err);
/* Cancel every operation in flight (no callbacks) and free the runner. */
void kcl_shard_sync_free(kcl_shard_sync *s);
/* Operations in flight (leak checks). */
int kcl_shard_sync_pending(const kcl_shard_sync *s);
/* Drop an operation before its callback starts: its callback never runs and
 * any request it has in flight is cancelled (a lease already created stays).
 * The handle is invalid once its callback has started. */
void kcl_shard_sync_cancel(kcl_shard_sync_op *op);

/* One sync: ListShards + lease scan, plan, create. `done` runs exactly once,
 * later (never inside this call), unless cancelled: err NULL on success, else
 * the first failure; `created` counts the leases this run wrote (also on
 * failure: those written before it). NULL only when out of memory. */
typedef void (*kcl_shard_sync_done_fn)(const kcl_error *err, int created, void *ud);
kcl_shard_sync_op *kcl_shard_sync_run(kcl_shard_sync *s, kcl_shard_sync_done_fn done, void *ud);

/* At the end of shard `parent_key`: create its children's leases (see
 * kcl_shard_sync_children_leases), from `children` (GetRecords' ChildShards,
 * copied at once) or, when n is 0, from a ListShards of the stream (kinesalite
 * never returns ChildShards). `done` runs exactly once, later, unless
 * cancelled: err NULL on success, with the ids of every child (created now or
 * already present; valid during the callback only) for the parent's
 * childShardIds. nchildren 0 with err NULL means none were found: a closed
 * shard always has children unless its stream is being deleted, so the caller
 * should retry later. NULL only when out of memory. */
typedef void (*kcl_shard_sync_children_fn)(const kcl_error *err, const char *const *child_ids,
                                           int nchildren, void *ud);
kcl_shard_sync_op *kcl_shard_sync_create_children(kcl_shard_sync *s, const char *parent_key,
                                                  const kcl_kinesis_child_shard *children, size_t n,
                                                  kcl_shard_sync_children_fn done, void *ud);

#endif
