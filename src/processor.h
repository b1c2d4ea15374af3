/* processor — the contract between the KCL core and record processors.
 *
 * The core (shard_consumer) decides *when* to call; a processor decides
 * *how*. The core knows processors only through this vtable, so it is tested
 * with C processors and hosts Lua ones through lua_host.
 *
 * Rules the core keeps for each shard:
 * - create, then initialize, then process_records any number of times, then
 *   shutdown once, then destroy. No two calls of one instance overlap: the
 *   next call comes only after the previous one called its `done`.
 * - Records of a batch are in sequence order; a batch is delivered once to a
 *   healthy processor; the core owns the batch until `done` is called (the
 *   processor must not keep pointers into it afterwards).
 * Rules a processor keeps:
 * - Every call completes exactly once through `done`, now or later (a call may
 *   wait on I/O: a checkpoint, a sleep). `done` may be called from inside the
 *   call itself; the core copes.
 * - After `destroy` it never calls back again (it cancels its pending work).
 */
#ifndef KCL_PROCESSOR_H
#define KCL_PROCESSOR_H

#include "error.h"

#include <stddef.h>
#include <stdint.h>

typedef enum {
    KCL_SHUTDOWN_TERMINATE = 0,  /* the shard ended: checkpoint to finish it */
    KCL_SHUTDOWN_ZOMBIE,         /* the lease was lost, or on_error=stop gave up on a
                                    failed batch: checkpoints are refused */
    KCL_SHUTDOWN_REQUESTED       /* graceful stop: may checkpoint */
} kcl_shutdown_reason;

const char *kcl_shutdown_reason_name(kcl_shutdown_reason r);   /* "TERMINATE", ... */

/* One user record (a KPL aggregate arrives already split into its user records). */
typedef struct kcl_record {
    const uint8_t *data;
    size_t         len;
    const char    *partition_key;       /* NUL-terminated */
    const char    *sequence_number;     /* NUL-terminated decimal */
    int64_t        sub_sequence_number; /* -1 when the record was not aggregated */
    int64_t        arrival_ms;          /* ApproximateArrivalTimestamp, ms since epoch */
    const char    *explicit_hash_key;   /* NULL when none */
} kcl_record;

typedef struct kcl_batch {
    const kcl_record *records;
    size_t            count;
    int64_t           millis_behind_latest;
} kcl_batch;

typedef struct kcl_init_input {
    const char *shard_id;
    const char *sequence_number;        /* where the shard resumes: a sequence number or a sentinel */
    int64_t     sub_sequence_number;
} kcl_init_input;

/* ---- checkpointer: provided by the core, called by processors --------------- */

typedef struct kcl_checkpointer kcl_checkpointer;
typedef struct kcl_checkpoint_op kcl_checkpoint_op;
/* Called once when the write finished: err NULL on success, else why
 * (KCL_ERR_CONDITION_FAILED = lease lost, KCL_ERR_INVALID_ARGUMENT = bad
 * sequence, KCL_ERR_THROTTLED after retries, ...). Never called inside the
 * call that started the write. */
typedef void (*kcl_checkpoint_done_fn)(void *ud, const kcl_error *err);

typedef struct kcl_checkpointer_ops {
    /* Checkpoint at `seq`/`subseq` (seq NULL = the last record delivered;
     * subseq -1 = none). Returns a handle, or NULL with `err` filled when the
     * request is refused at once (invalid sequence, lease already lost). */
    kcl_checkpoint_op *(*checkpoint)(kcl_checkpointer *cp, const char *seq, int64_t subseq,
                                     kcl_checkpoint_done_fn done, void *ud, kcl_error *err);
    /* Write the pending checkpoint (two-phase), with optional opaque state. */
    kcl_checkpoint_op *(*prepare)(kcl_checkpointer *cp, const char *seq, int64_t subseq,
                                  const void *state, size_t state_len,
                                  kcl_checkpoint_done_fn done, void *ud, kcl_error *err);
    /* Forget an operation: its `done` will not be called. */
    void (*cancel)(kcl_checkpoint_op *op);
} kcl_checkpointer_ops;

struct kcl_checkpointer {
    const kcl_checkpointer_ops *ops;
    void *impl;
};

/* ---- processors: implemented by lua_host (and by C tests) ------------------- */

/* `status` 0 = success; -1 = the call failed (`message` says why, for the
 * log; the core's error policy decides what happens next). */
typedef void (*kcl_proc_done_fn)(void *ctx, int status, const char *message);

typedef struct kcl_processor_vtable {
    /* A new instance for a shard. NULL + err on failure. */
    void *(*create)(void *factory, const char *shard_id, kcl_error *err);
    void (*initialize)(void *inst, const kcl_init_input *in,
                       kcl_proc_done_fn done, void *ctx);
    void (*process_records)(void *inst, const kcl_batch *batch, kcl_checkpointer *cp,
                            kcl_proc_done_fn done, void *ctx);
    void (*shutdown)(void *inst, kcl_shutdown_reason reason, kcl_checkpointer *cp,
                     kcl_proc_done_fn done, void *ctx);
    /* Free the instance; pending work is cancelled, nothing calls back. */
    void (*destroy)(void *inst);
} kcl_processor_vtable;

typedef struct kcl_processor_factory {
    const kcl_processor_vtable *vt;
    void *factory;          /* passed to create */
} kcl_processor_factory;

#endif
