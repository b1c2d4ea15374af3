/* lease_coordinator — which shards this worker owns, kept true against the
 * lease table the way the Java KCL does it.
 *
 * - Renewal runs on its own timer (renew_interval, default failover/3): each
 *   held lease gets a conditional counter increment. It never waits behind a
 *   processor or a fetch; it waits only behind another write to the same
 *   lease (writes to one lease are serialized, so a checkpoint and a renewal
 *   never race on leaseCounter).
 * - Taking runs on a timer too: a consistent scan of the table; a lease whose
 *   leaseCounter has not changed for failover_ms on this worker's monotonic
 *   clock is expired (no wall clocks compared between machines); free and
 *   expired leases are taken up to the fair target ceil(leases / workers),
 *   bounded by max_leases; with none free, at most max_leases_to_steal are
 *   stolen from the most loaded worker, only if it has more than the target
 *   (so an even split stays put). A scan is also scheduled for the moment the
 *   next lease would expire, so a dead worker's leases are taken within
 *   failover + one scan interval.
 * - A lease is lost when a write conditioned on it fails, when a scan shows
 *   another owner, or when no renewal succeeded for failover_ms; the `lost`
 *   event fires once, and every queued write for it fails with
 *   KCL_ERR_CONDITION_FAILED — so nothing is written for a lost lease.
 * Finished leases (checkpoint SHARD_END) are neither counted nor taken. */
#ifndef KCL_LEASE_COORDINATOR_H
#define KCL_LEASE_COORDINATOR_H

#include "lease_store.h"

struct ev_loop;
typedef struct kcl_coord kcl_coord;
typedef struct kcl_coord_write kcl_coord_write;

typedef struct kcl_coord_opts {
    const char *worker_id;            /* required */
    double failover_ms;               /* 0 = 10000 */
    double renew_interval_ms;         /* 0 = failover / 3 */
    double take_interval_ms;          /* 0 = failover / 3 */
    int    max_leases;                /* 0 = no bound */
    int    max_leases_to_steal;       /* 0 = 1 */
} kcl_coord_opts;

typedef struct kcl_coord_events {
    /* This worker now holds `lease` (a copy valid during the call). */
    void (*gained)(void *ud, const kcl_lease *lease);
    /* This worker lost `key` (not called for a release it asked for). */
    void (*lost)(void *ud, const char *key);
    /* After every successful scan: every row of the table. */
    void (*scanned)(void *ud, const kcl_lease *all, size_t n);
    void *ud;
} kcl_coord_events;

/* The store is borrowed. Strings are copied. */
kcl_coord *kcl_coord_new(struct ev_loop *loop, kcl_lease_store *store, const kcl_coord_opts *opts,
                         const kcl_coord_events *events, kcl_error *err);
/* Start renewing and taking (the first scan runs on the next loop turn). */
void kcl_coord_start(kcl_coord *c);
/* Stop taking new leases (held ones keep being renewed): graceful shutdown. */
void kcl_coord_stop_taking(kcl_coord *c);
/* Do not take `key` for the next `ms` milliseconds (after a processor gave
 * up on it, so another worker gets the chance). */
void kcl_coord_cooldown(kcl_coord *c, const char *key, double ms);
/* Stop every timer and cancel every write (no callbacks); then free. */
void kcl_coord_free(kcl_coord *c);

/* The held lease for `key` (counter as last written), or NULL. */
const kcl_lease *kcl_coord_held(const kcl_coord *c, const char *key);
int kcl_coord_held_count(const kcl_coord *c);
/* Keys of held leases into `out` (up to max); returns how many are held. */
int kcl_coord_held_keys(const kcl_coord *c, const char **out, int max);
/* Total scans done, successful renewals (stats and tests). */
long kcl_coord_scans(const kcl_coord *c);
/* DynamoDB requests this coordinator made (scans + writes). */
long kcl_coord_requests(const kcl_coord *c);

/* Writes to a held lease, queued behind any write in flight for it. `done`
 * gets err NULL on success; KCL_ERR_CONDITION_FAILED means the lease is lost.
 * Called later, never inside the call. NULL (and no callback ever) when the
 * lease is not held or memory runs out. */
typedef void (*kcl_coord_done_fn)(const kcl_error *err, void *ud);
kcl_coord_write *kcl_coord_checkpoint(kcl_coord *c, const char *key, const char *seq, int64_t sub,
                                      kcl_coord_done_fn done, void *ud);
kcl_coord_write *kcl_coord_prepare(kcl_coord *c, const char *key, const char *seq, int64_t sub,
                                   const void *state, size_t state_len,
                                   kcl_coord_done_fn done, void *ud);
kcl_coord_write *kcl_coord_set_children(kcl_coord *c, const char *key, const char *const *children,
                                        int n, kcl_coord_done_fn done, void *ud);
/* Give the lease up (remove leaseOwner); it is no longer held afterwards,
 * whatever the outcome. */
kcl_coord_write *kcl_coord_release(kcl_coord *c, const char *key, kcl_coord_done_fn done, void *ud);
/* Forget a queued or in-flight write: its callback will not run. */
void kcl_coord_write_cancel(kcl_coord_write *w);

#endif
