/* kinesis — the typed, asynchronous Kinesis Data Streams client: each
 * operation builds its body (kinesis_codec.h), runs one signed, retried
 * kcl_aws_client call (service "kinesis", JSON 1.1, target prefix
 * "Kinesis_20131202") and hands a decoded, typed result to its callback.
 *
 * Callbacks:
 * - run exactly once per started operation, later on the loop (never inside
 *   the call that started it), unless the operation is cancelled or the
 *   client freed first (then never);
 * - get `err` always non-NULL: err->kind == KCL_ERR_NONE on success, with the
 *   result non-NULL; otherwise the result is NULL and err is typed by aws.h
 *   (THROTTLED, EXPIRED_ITERATOR, NOT_FOUND, ... after the retries the call
 *   options allow) or MALFORMED when a 2xx body could not be decoded.
 * Results are valid only during the callback, except where a type says it
 * is handed over (GetRecords batches and shard lists: the callee owns them).
 *
 * Operation handles are valid until their callback starts; kcl_kinesis_cancel
 * drops one (its callback never runs). A cancel of the operation whose
 * callback is running is a no-op (as kcl_ddb_cancel). */
#ifndef KCL_KINESIS_H
#define KCL_KINESIS_H

#include "aws.h"
#include "error.h"
#include "http.h"
#include "kinesis_codec.h"

struct ev_loop;
struct kcl_creds_provider;
typedef struct kcl_kinesis kcl_kinesis;
typedef struct kcl_kinesis_op kcl_kinesis_op;

typedef struct kcl_kinesis_opts {
    const char *endpoint;       /* "https://kinesis.us-east-1.amazonaws.com", "http://127.0.0.1:4567" */
    const char *region;         /* signing region */
    int         insecure_tls;   /* explicit local endpoints only */
    long        timeout_ms;     /* per attempt; 0 = aws.h default */
    kcl_retry_policy retry;     /* zeros = defaults */
} kcl_kinesis_opts;

/* A client. `http` and `creds` are borrowed and must outlive it; strings are
 * copied. NULL + err on bad options. */
kcl_kinesis *kcl_kinesis_new(struct ev_loop *loop, kcl_http *http, struct kcl_creds_provider *creds,
                             const kcl_kinesis_opts *opts, kcl_error *err);
/* Cancel every operation in flight (no callbacks) and free the client. Not
 * from inside one of the client's own callbacks. */
void kcl_kinesis_free(kcl_kinesis *k);
/* Operations in flight (leak checks in tests). */
int kcl_kinesis_pending(const kcl_kinesis *k);
/* Drop an operation before its callback runs; its callback never runs. */
void kcl_kinesis_cancel(kcl_kinesis_op *op);

/* Every operation below takes `copts` (NULL = client defaults: per-attempt
 * timeout, retry policy) and returns NULL + err when it cannot start (bad
 * arguments: INVALID_ARGUMENT; nothing is called back then). */

/* ListShards, all pages: the first request names the stream (and filter),
 * the next ones carry only NextToken. `shards` is handed over: free it with
 * kcl_kinesis_shard_list_free. */
typedef void (*kcl_kinesis_shards_fn)(kcl_kinesis_shard_list *shards, const kcl_error *err, void *ud);
kcl_kinesis_op *kcl_kinesis_list_shards(kcl_kinesis *k, const kcl_kinesis_list_shards_req *req,
                                        const kcl_aws_call_opts *copts, kcl_kinesis_shards_fn cb,
                                        void *ud, kcl_error *err);
/* Frees a list handed over by kcl_kinesis_list_shards (NULL is fine). */
void kcl_kinesis_shard_list_free(kcl_kinesis_shard_list *l);

typedef void (*kcl_kinesis_summary_fn)(const kcl_kinesis_stream_summary *s, const kcl_error *err, void *ud);
kcl_kinesis_op *kcl_kinesis_describe_stream_summary(kcl_kinesis *k, const char *stream_name,
                                                    const kcl_aws_call_opts *copts,
                                                    kcl_kinesis_summary_fn cb, void *ud, kcl_error *err);

/* `iterator` is valid during the callback only. */
typedef void (*kcl_kinesis_iterator_fn)(const char *iterator, const kcl_error *err, void *ud);
kcl_kinesis_op *kcl_kinesis_get_shard_iterator(kcl_kinesis *k, const kcl_kinesis_iterator_req *req,
                                               const kcl_aws_call_opts *copts,
                                               kcl_kinesis_iterator_fn cb, void *ud, kcl_error *err);

/* GetRecords with `limit` (0 = server default, else 1..10000). `recs` is
 * handed over: the callee frees it with kcl_kinesis_records_free, whenever
 * it likes (a shard consumer keeps batches beyond the callback). */
typedef void (*kcl_kinesis_records_fn)(kcl_kinesis_records *recs, const kcl_error *err, void *ud);
kcl_kinesis_op *kcl_kinesis_get_records(kcl_kinesis *k, const char *shard_iterator, int limit,
                                        const kcl_aws_call_opts *copts, kcl_kinesis_records_fn cb,
                                        void *ud, kcl_error *err);

/* PutRecords of n (1..500) entries; the entries are copied into the request
 * at once. Per-record failures are in `res` (failed_count, entries[i].
 * error_code) — the call itself succeeded. A response with a different
 * number of entries than sent is MALFORMED. */
typedef void (*kcl_kinesis_put_fn)(const kcl_kinesis_put_result *res, const kcl_error *err, void *ud);
kcl_kinesis_op *kcl_kinesis_put_records(kcl_kinesis *k, const char *stream_name,
                                        const kcl_kinesis_put_entry *entries, size_t n,
                                        const kcl_aws_call_opts *copts, kcl_kinesis_put_fn cb,
                                        void *ud, kcl_error *err);

/* Operations with an empty answer. */
typedef void (*kcl_kinesis_done_fn)(const kcl_error *err, void *ud);
kcl_kinesis_op *kcl_kinesis_create_stream(kcl_kinesis *k, const char *stream_name, int shard_count,
                                          const kcl_aws_call_opts *copts, kcl_kinesis_done_fn cb,
                                          void *ud, kcl_error *err);
kcl_kinesis_op *kcl_kinesis_delete_stream(kcl_kinesis *k, const char *stream_name,
                                          int enforce_consumer_deletion, const kcl_aws_call_opts *copts,
                                          kcl_kinesis_done_fn cb, void *ud, kcl_error *err);
kcl_kinesis_op *kcl_kinesis_split_shard(kcl_kinesis *k, const char *stream_name, const char *shard_id,
                                        const char *new_starting_hash_key, const kcl_aws_call_opts *copts,
                                        kcl_kinesis_done_fn cb, void *ud, kcl_error *err);
kcl_kinesis_op *kcl_kinesis_merge_shards(kcl_kinesis *k, const char *stream_name, const char *shard_id,
                                         const char *adjacent_shard_id, const kcl_aws_call_opts *copts,
                                         kcl_kinesis_done_fn cb, void *ud, kcl_error *err);

#endif
