/* lease — one row of the lease table, in the Java KCL's format, and the
 * sequence-number arithmetic checkpoints need. Pure: no I/O.
 *
 * The attribute names and DynamoDB types are exactly those the Java KCL
 * 2.x/3.x writes, so an application can move between the Java KCL (or its
 * MultiLangDaemon) and luakcl keeping its checkpoints:
 *
 *   leaseKey S (shard id)            leaseOwner S (absent = free)
 *   leaseCounter N                   ownerSwitchesSinceCheckpoint N
 *   checkpoint S (sequence number or TRIM_HORIZON/LATEST/AT_TIMESTAMP/SHARD_END)
 *   checkpointSubSequenceNumber N
 *   pendingCheckpoint S, pendingCheckpointSubSequenceNumber N, pendingCheckpointState B
 *   parentShardId SS (a set: a merge has two parents)   childShardIds SS
 *   startingHashKey S, endingHashKey S
 *
 * Other attributes (the Java KCL 3.x's checkpointOwner, throughputKBps, ...)
 * are never read into a kcl_lease and never written: every update names only
 * the attributes it changes. */
#ifndef KCL_LEASE_H
#define KCL_LEASE_H

#include "buf.h"
#include "ddb_item.h"
#include "error.h"

#include <stdint.h>

#define KCL_LEASE_KEY_MAX   256
#define KCL_LEASE_OWNER_MAX 256
#define KCL_LEASE_SEQ_MAX   128

/* Attribute names, as the Java KCL spells them. */
#define KCL_LEASE_A_KEY            "leaseKey"
#define KCL_LEASE_A_OWNER          "leaseOwner"
#define KCL_LEASE_A_COUNTER        "leaseCounter"
#define KCL_LEASE_A_CHECKPOINT     "checkpoint"
#define KCL_LEASE_A_CHECKPOINT_SUB "checkpointSubSequenceNumber"
#define KCL_LEASE_A_OWNER_SWITCHES "ownerSwitchesSinceCheckpoint"
#define KCL_LEASE_A_PENDING        "pendingCheckpoint"
#define KCL_LEASE_A_PENDING_SUB    "pendingCheckpointSubSequenceNumber"
#define KCL_LEASE_A_PENDING_STATE  "pendingCheckpointState"
#define KCL_LEASE_A_PARENTS        "parentShardId"
#define KCL_LEASE_A_CHILDREN       "childShardIds"
#define KCL_LEASE_A_START_HASH     "startingHashKey"
#define KCL_LEASE_A_END_HASH       "endingHashKey"

/* Checkpoint sentinels. */
#define KCL_SENTINEL_TRIM_HORIZON "TRIM_HORIZON"
#define KCL_SENTINEL_LATEST       "LATEST"
#define KCL_SENTINEL_AT_TIMESTAMP "AT_TIMESTAMP"
#define KCL_SENTINEL_SHARD_END    "SHARD_END"

typedef struct kcl_lease {
    char    key[KCL_LEASE_KEY_MAX + 1];
    char    owner[KCL_LEASE_OWNER_MAX + 1];      /* "" = free */
    int64_t counter;
    char    checkpoint[KCL_LEASE_SEQ_MAX + 1];   /* "" = none written yet */
    int64_t checkpoint_sub;
    int64_t owner_switches;
    int     has_pending;
    char    pending[KCL_LEASE_SEQ_MAX + 1];
    int64_t pending_sub;
    kcl_buf pending_state;                       /* owned; empty when none */
    int     nparents;
    char    parents[2][KCL_LEASE_KEY_MAX + 1];
    int     nchildren;
    char    children[2][KCL_LEASE_KEY_MAX + 1];
    char    starting_hash_key[48];               /* "" when absent */
    char    ending_hash_key[48];
} kcl_lease;

/* A zeroed lease is valid (free, counter 0, no checkpoint). */
void kcl_lease_free(kcl_lease *l);
/* Deep copy (dst is overwritten; free it first if it held a pending state). */
int kcl_lease_copy(kcl_lease *dst, const kcl_lease *src);

/* Read a lease from a table item. Fails (err KCL_ERR_MALFORMED, naming the
 * attribute) when leaseKey is missing or an attribute has another type than
 * the Java KCL's; unknown attributes are ignored. */
int kcl_lease_from_item(const kcl_ddb_item *item, kcl_lease *out, kcl_error *err);
/* The full item for a new lease (PutItem): key, counter, checkpoint,
 * checkpoint sub, owner switches, parents, hash range (owner only if set). */
int kcl_lease_to_item(const kcl_lease *l, kcl_ddb_item *out);

/* Whether the checkpoint is SHARD_END (the shard was processed to its end). */
int kcl_lease_is_finished(const kcl_lease *l);
/* Whether `s` is one of the four sentinels. */
int kcl_seq_is_sentinel(const char *s);
/* Whether `s` is a plain decimal sequence number (1..128 digits). */
int kcl_seq_is_valid(const char *s);
/* Compare two decimal sequence numbers numerically (-1, 0, 1). Both must be
 * valid (kcl_seq_is_valid). Leading zeros are ignored. */
int kcl_seq_cmp(const char *a, const char *b);
/* Compare extended sequence numbers (sequence, sub-sequence). A sub of -1
 * (not aggregated) counts as 0, as the Java KCL stores it. */
int kcl_extseq_cmp(const char *a, int64_t asub, const char *b, int64_t bsub);

#endif
