/* itlib — helpers shared by the C integration tests (tests/integration/
 * it_*.c), compiled into the kcltest library next to testlib. Everything here
 * runs the caller's event loop; nothing here checks anything but
 * kcl_it_wait_done (which counts a timeout as a failed check). Named itlib,
 * not it_*, so tests/tests.cmake does not take it for a test of its own.
 *
 * Setup
 *   kcl_it_log_level(dflt)        -> dflt, or the level LUAKCL_TEST_LOG names
 *   kcl_it_env_creds(loop, http)  -> a credentials provider reading only the
 *                                    environment (no profile, web identity, ECS, IMDS)
 *   kcl_it_clients_open/close     -> http, credentials, a Kinesis client on the
 *                                    endpoint an environment variable names, a
 *                                    DynamoDB client on LUAKCL_TEST_DYNAMODB_ENDPOINT
 *
 * Waiting on the loop
 *   kcl_it_op + kcl_it_on_done / kcl_it_on_put -> one operation's completion
 *   kcl_it_wait_done(loop, &done, ms)          -> run until done; a timeout is a failed check
 *   kcl_it_pause_ms(loop, ms)                  -> let the loop run for ms (a timer event)
 *   kcl_it_idle_ms(loop, ms)                   -> run the loop for ms, bounded by run_until
 *
 * Workers
 *   kcl_it_recording_factory, kcl_it_rec -> a C processor that records every
 *                                    record (shard, sequence number, partition key,
 *                                    data, the id of "rec-<id>" data), checkpoints
 *                                    every batch and at SHARD_END, counts shutdowns
 *                                    by reason and live instances; destroy cancels a
 *                                    checkpoint in flight
 *   kcl_it_run_until_seen(loop, n, s)    -> run until n records were recorded, at most s seconds
 *   kcl_it_last_seq(shard)               -> the last recorded sequence number of a shard
 *   kcl_it_fill_entries                  -> PutRecords entries "rec-<id>" / "pk-<id % nkeys>"
 *   kcl_it_worker_config                 -> the config the worker tests start from
 *   kcl_it_on_stopped + kcl_it_stop      -> a worker's stopped callback
 *   kcl_it_read_leases / find / free     -> every row of a lease table
 *
 * Hash keys
 *   kcl_it_hashkey_midpoint(a, b, out)   -> (a + b) / 2 of two 128-bit big-endian keys, in decimal
 */
#ifndef KCL_ITLIB_H
#define KCL_ITLIB_H

#include "config.h"
#include "credentials.h"
#include "dynamodb.h"
#include "hashkey.h"
#include "kinesis.h"
#include "lease_store.h"
#include "log.h"
#include "worker.h"

#include <stdint.h>

struct ev_loop;

/* ---- setup ------------------------------------------------------------------------ */

kcl_log_level kcl_it_log_level(kcl_log_level dflt);

kcl_creds_provider *kcl_it_env_creds(struct ev_loop *loop, kcl_http *http, kcl_error *err);

typedef struct kcl_it_clients {
    kcl_http *http;
    kcl_creds_provider *creds;
    kcl_kinesis *kin;       /* NULL when no Kinesis endpoint was asked for */
    kcl_ddb *ddb;
} kcl_it_clients;

/* Region us-east-1, default credentials chain. kinesis_env: the environment
 * variable naming the Kinesis endpoint, or NULL for no Kinesis client. */
void kcl_it_clients_open(struct ev_loop *loop, const char *kinesis_env, kcl_it_clients *c);
void kcl_it_clients_close(kcl_it_clients *c);

/* ---- waiting on the loop ------------------------------------------------------------ */

typedef struct kcl_it_op {
    int done;
    kcl_error err;          /* cleared on success */
} kcl_it_op;

/* kcl_kinesis_done_fn / kcl_lease_done_fn; ud is the kcl_it_op. */
void kcl_it_on_done(const kcl_error *err, void *ud);
/* kcl_kinesis_put_fn; ud is the kcl_it_op; failed records make it an error. */
void kcl_it_on_put(const kcl_kinesis_put_result *res, const kcl_error *err, void *ud);

/* Run the loop until *done or timeout_ms; a timeout fails a check
 * ("operation timed out"). Returns 0 when done, -1 on timeout. */
int kcl_it_wait_done(struct ev_loop *loop, const int *done, double timeout_ms);

/* Let the loop run for ms, woken by a timer (between polls of a status). */
void kcl_it_pause_ms(struct ev_loop *loop, double ms);

/* Run the loop for ms: kcl_test_run_until on a flag nothing sets. */
void kcl_it_idle_ms(struct ev_loop *loop, double ms);

/* ---- workers ------------------------------------------------------------------------- */

#define KCL_IT_MAXREC 4000

typedef struct kcl_it_seen {
    char shard[64];
    char seq[128];
    char pk[32];
    char data[64];
    int  id;                /* <id> of data "rec-<id>", else -1 */
} kcl_it_seen;

typedef struct kcl_it_recording {
    kcl_it_seen seen[KCL_IT_MAXREC];
    int nseen;
    int shutdowns[3];       /* by reason */
    int instances;          /* processors alive */
    int batches;            /* batches delivered */
    int batches_behind;     /* those with millis_behind_latest > 0 */
    int64_t max_behind;
    int cp_started;         /* checkpoints started */
} kcl_it_recording;

extern kcl_it_recording kcl_it_rec;
extern const kcl_processor_factory kcl_it_recording_factory;

/* Forget what was recorded (not the instances alive, nor cp_started). */
void kcl_it_recording_reset(void);

/* Run the loop (in 100 ms steps) until n records were recorded, at most `seconds`. */
void kcl_it_run_until_seen(struct ev_loop *loop, int n, int seconds);

/* The sequence number of the last record recorded from `shard`, or NULL. */
const char *kcl_it_last_seq(const char *shard);

/* Entries e[0..n) for ids [from, from+n): data "rec-%06d", partition key
 * "pk-<id % nkeys>", written into data[] and pk[]. */
void kcl_it_fill_entries(kcl_kinesis_put_entry *e, char (*data)[32], char (*pk)[32], int from, int n,
                         int nkeys);

/* Defaults, then stream, app, Kinesis endpoint, DynamoDB endpoint from
 * LUAKCL_TEST_DYNAMODB_ENDPOINT, TRIM_HORIZON, idle_time_ms 200,
 * failover_time_ms 3000. The strings are borrowed. */
void kcl_it_worker_config(kcl_config *cfg, const char *stream, const char *app, const char *endpoint);

typedef struct kcl_it_stop {
    int stopped;
    int clean;              /* stopped without an error */
} kcl_it_stop;

/* kcl_worker_stopped_fn; ud is the kcl_it_stop. */
void kcl_it_on_stopped(kcl_worker *w, const kcl_error *err, void *ud);

#define KCL_IT_MAXLEASES 16

typedef struct kcl_it_leases {
    int done;
    kcl_lease leases[KCL_IT_MAXLEASES];
    size_t n;
    kcl_error err;
} kcl_it_leases;

/* Every row of the table (up to KCL_IT_MAXLEASES) into *l, replacing what it
 * held; 0, or -1 on an error or after timeout_ms. */
int kcl_it_read_leases(struct ev_loop *loop, kcl_lease_store *store, kcl_it_leases *l, double timeout_ms);
const kcl_lease *kcl_it_find_lease(const kcl_it_leases *l, const char *key);
void kcl_it_free_leases(kcl_it_leases *l);

/* ---- hash keys ------------------------------------------------------------------------ */

/* (a + b) / 2 of two 128-bit big-endian keys, as a decimal string. */
void kcl_it_hashkey_midpoint(const uint8_t a[16], const uint8_t b[16], char out[KCL_HASHKEY_DEC_MAX]);

#endif
