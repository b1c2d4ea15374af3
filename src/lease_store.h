/* lease_store — the lease table in DynamoDB: create it, read it, and the
 * conditional writes that make leases safe between workers.
 *
 * Every write that depends on ownership is conditional on leaseCounter being
 * the value the caller last saw (and, where the caller owns the lease, on
 * leaseOwner being the caller), and increments leaseCounter: on success the
 * caller's new counter is `counter + 1`. A failed condition comes back as
 * KCL_ERR_CONDITION_FAILED: someone else wrote the lease — for renew,
 * checkpoint and release that means the lease is lost, and nothing was
 * written. Updates name only the attributes they change, so attributes other
 * writers keep in the row (the Java KCL 3.x adds some) are never clobbered.
 *
 * Each operation calls back exactly once, later (never inside the call that
 * started it), unless cancelled. Callbacks get err NULL on success. */
#ifndef KCL_LEASE_STORE_H
#define KCL_LEASE_STORE_H

#include "dynamodb.h"
#include "lease.h"

struct ev_loop;
typedef struct kcl_lease_store kcl_lease_store;
typedef struct kcl_lease_op kcl_lease_op;

typedef struct kcl_lease_store_opts {
    const char *table;              /* required: the application name by default */
    int         provisioned;        /* 0 = on-demand (PAY_PER_REQUEST) */
    int64_t     rcu, wcu;           /* provisioned capacity (defaults 10/10) */
    double      create_timeout_ms;  /* wait for ACTIVE at most this long (0 = 60000) */
} kcl_lease_store_opts;

/* `ddb` is borrowed. NULL + err on bad options. */
kcl_lease_store *kcl_lease_store_new(struct ev_loop *loop, kcl_ddb *ddb,
                                     const kcl_lease_store_opts *opts, kcl_error *err);
/* Cancels every operation in flight (no callbacks) and frees the store. */
void kcl_lease_store_free(kcl_lease_store *s);
const char *kcl_lease_store_table(const kcl_lease_store *s);
/* Operations in flight (leak checks). */
int kcl_lease_store_pending(const kcl_lease_store *s);
/* Forget an operation: its callback will not run. */
void kcl_lease_op_cancel(kcl_lease_op *op);

typedef void (*kcl_lease_done_fn)(const kcl_error *err, void *ud);
/* `leases` are owned by the store and valid during the callback only. */
typedef void (*kcl_lease_list_fn)(const kcl_lease *leases, size_t n, const kcl_error *err, void *ud);
/* `lease` NULL when the row does not exist. */
typedef void (*kcl_lease_get_fn)(const kcl_lease *lease, const kcl_error *err, void *ud);

/* Create the table if it is missing (key leaseKey S, HASH only) and wait
 * until it is ACTIVE, polling DescribeTable, within create_timeout_ms. */
kcl_lease_op *kcl_lease_store_ensure_table(kcl_lease_store *s, kcl_lease_done_fn done, void *ud);
/* Every lease (a consistent Scan of all pages). A row that is not a valid
 * lease fails the whole list with KCL_ERR_MALFORMED naming it. */
kcl_lease_op *kcl_lease_store_list(kcl_lease_store *s, kcl_lease_list_fn done, void *ud);
/* One lease, read consistently. */
kcl_lease_op *kcl_lease_store_get(kcl_lease_store *s, const char *key, kcl_lease_get_fn done, void *ud);
/* Create a lease if no row has its key (KCL_ERR_CONDITION_FAILED if one does). */
kcl_lease_op *kcl_lease_store_create(kcl_lease_store *s, const kcl_lease *lease,
                                     kcl_lease_done_fn done, void *ud);
/* Renew: counter + 1, if counter and owner are as given. */
kcl_lease_op *kcl_lease_store_renew(kcl_lease_store *s, const char *key, int64_t counter,
                                    const char *owner, kcl_lease_done_fn done, void *ud);
/* Take: owner := new_owner, counter + 1, ownerSwitchesSinceCheckpoint + 1,
 * if the counter is as given (whoever owns it: expired or stolen). */
kcl_lease_op *kcl_lease_store_take(kcl_lease_store *s, const char *key, int64_t counter,
                                   const char *new_owner, kcl_lease_done_fn done, void *ud);
/* Release: remove leaseOwner, counter + 1, if counter and owner are as given. */
kcl_lease_op *kcl_lease_store_release(kcl_lease_store *s, const char *key, int64_t counter,
                                      const char *owner, kcl_lease_done_fn done, void *ud);
/* Checkpoint: checkpoint := seq, checkpointSubSequenceNumber := sub (0 when
 * sub < 0), ownerSwitchesSinceCheckpoint := 0, pending fields removed,
 * counter + 1, if counter and owner are as given. */
kcl_lease_op *kcl_lease_store_checkpoint(kcl_lease_store *s, const char *key, int64_t counter,
                                         const char *owner, const char *seq, int64_t sub,
                                         kcl_lease_done_fn done, void *ud);
/* Prepare (two-phase checkpoint): the pending fields, counter + 1. */
kcl_lease_op *kcl_lease_store_prepare(kcl_lease_store *s, const char *key, int64_t counter,
                                      const char *owner, const char *seq, int64_t sub,
                                      const void *state, size_t state_len,
                                      kcl_lease_done_fn done, void *ud);
/* Record the children of a finished shard: childShardIds := set, counter + 1. */
kcl_lease_op *kcl_lease_store_set_children(kcl_lease_store *s, const char *key, int64_t counter,
                                           const char *owner, const char *const *children, int n,
                                           kcl_lease_done_fn done, void *ud);
/* Delete a finished lease (condition: checkpoint = SHARD_END). */
kcl_lease_op *kcl_lease_store_delete_finished(kcl_lease_store *s, const char *key,
                                              kcl_lease_done_fn done, void *ud);

#endif
