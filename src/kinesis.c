/* kinesis — typed Kinesis operations over one kcl_aws_client.
 *
 * Each operation is a kcl_kinesis_op linked into its client (so freeing the
 * client cancels what is in flight). The aws call's callback decodes the
 * body, unlinks the op, runs the user's callback and only then frees the op,
 * so a callback may start new operations or cancel others freely.
 * ListShards reuses its op for every page. */
#include "kinesis.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PUT_ENTRIES 500

typedef enum { OP_SHARDS, OP_SUMMARY, OP_ITERATOR, OP_RECORDS, OP_PUT, OP_DONE } op_kind;

struct kcl_kinesis_op {
    kcl_kinesis *k;
    kcl_kinesis_op *prev, *next;
    op_kind kind;
    kcl_aws_call *call;
    kcl_aws_call_opts copts;
    int has_copts;
    void *ud;
    union {
        kcl_kinesis_shards_fn shards;
        kcl_kinesis_summary_fn summary;
        kcl_kinesis_iterator_fn iterator;
        kcl_kinesis_records_fn records;
        kcl_kinesis_put_fn put;
        kcl_kinesis_done_fn done;
    } cb;
    kcl_kinesis_shard_list *list;   /* OP_SHARDS: pages so far */
    int max_results;                /* OP_SHARDS */
    int pages;                      /* OP_SHARDS */
    int delivering;                 /* its callback runs: a cancel now is a no-op */
    size_t put_count;               /* OP_PUT: entries sent */
};

struct kcl_kinesis {
    kcl_aws_client *aws;
    kcl_kinesis_op *ops;
    int pending;
};

kcl_kinesis *kcl_kinesis_new(struct ev_loop *loop, kcl_http *http, struct kcl_creds_provider *creds,
                             const kcl_kinesis_opts *opts, kcl_error *err)
{
    if (!opts || !opts->endpoint || !opts->region) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, "InvalidArgument", "kinesis: endpoint and region are required");
        return NULL;
    }
    kcl_kinesis *k = calloc(1, sizeof *k);
    if (!k) {
        kcl_error_set(err, KCL_ERR_FATAL, 0, "OutOfMemory", "out of memory");
        return NULL;
    }
    kcl_aws_client_opts ao = {
        .service = "kinesis",
        .endpoint = opts->endpoint,
        .region = opts->region,
        .target_prefix = "Kinesis_20131202",
        .content_type = "application/x-amz-json-1.1",
        .insecure_tls = opts->insecure_tls,
        .timeout_ms = opts->timeout_ms,
        .retry = opts->retry,
    };
    k->aws = kcl_aws_client_new(loop, http, creds, &ao, err);
    if (!k->aws) {
        free(k);
        return NULL;
    }
    return k;
}

static void op_unlink(kcl_kinesis_op *op)
{
    kcl_kinesis *k = op->k;
    if (op->prev) op->prev->next = op->next;
    else k->ops = op->next;
    if (op->next) op->next->prev = op->prev;
    op->prev = op->next = NULL;
    k->pending--;
}

static void op_free(kcl_kinesis_op *op)
{
    kcl_kinesis_shard_list_free(op->list);
    free(op);
}

void kcl_kinesis_cancel(kcl_kinesis_op *op)
{
    if (!op || op->delivering) return;
    if (op->call) kcl_aws_call_cancel(op->call);
    op->call = NULL;
    op_unlink(op);
    op_free(op);
}

void kcl_kinesis_free(kcl_kinesis *k)
{
    if (!k) return;
    while (k->ops) kcl_kinesis_cancel(k->ops);
    kcl_aws_client_free(k->aws);
    free(k);
}

int kcl_kinesis_pending(const kcl_kinesis *k)
{
    return k ? k->pending : 0;
}

void kcl_kinesis_shard_list_free(kcl_kinesis_shard_list *l)
{
    if (!l) return;
    kcl_kinesis_shard_list_clear(l);
    free(l);
}

static void malformed_from(kcl_error *err, const kcl_aws_result *res)
{
    /* The codec filled kind/code/message; add the status it came with. */
    err->http_status = res->status;
}

/* Deliver the op's outcome: exactly one of the result pointers is used, by kind. */
static void deliver(kcl_kinesis_op *op, const kcl_error *err, void *result)
{
    op_unlink(op);
    op->delivering = 1;
    switch (op->kind) {
    case OP_SHARDS: {
        kcl_kinesis_shard_list *l = err->kind == KCL_ERR_NONE ? op->list : NULL;
        if (l) op->list = NULL;   /* handed over */
        op->cb.shards(l, err, op->ud);
        break;
    }
    case OP_SUMMARY: op->cb.summary(result, err, op->ud); break;
    case OP_ITERATOR: op->cb.iterator(result, err, op->ud); break;
    case OP_RECORDS: op->cb.records(result, err, op->ud); break;
    case OP_PUT: op->cb.put(result, err, op->ud); break;
    case OP_DONE: op->cb.done(err, op->ud); break;
    }
    op_free(op);
}

static int start_call(kcl_kinesis_op *op, const char *operation, const kcl_buf *body, kcl_error *err);

static void on_list_page(kcl_kinesis_op *op, const kcl_aws_result *res)
{
    kcl_error err = {0};
    char *token = NULL;
    if (kcl_kinesis_decode_list_shards(res->body, res->body_len, op->list, &token, &err) != 0) {
        malformed_from(&err, res);
        deliver(op, &err, NULL);
        return;
    }
    if (!token) {
        deliver(op, &err, NULL);
        return;
    }
    /* Next page: NextToken only. A server that keeps answering pages is
     * stopped by the codec's bound on the total shard count. */
    kcl_buf body = KCL_BUF_INIT;
    op->pages++;
    int rc = kcl_kinesis_build_list_shards_next(&body, token, op->max_results);
    free(token);
    if (rc != 0) kcl_error_set(&err, KCL_ERR_FATAL, 0, "OutOfMemory", "out of memory");
    else rc = start_call(op, "ListShards", &body, &err);
    kcl_buf_free(&body);
    if (rc != 0) deliver(op, &err, NULL);
}

static void on_aws_done(const kcl_aws_result *res, void *ud)
{
    kcl_kinesis_op *op = ud;
    op->call = NULL;
    if (res->err.kind != KCL_ERR_NONE) {
        deliver(op, &res->err, NULL);
        return;
    }
    kcl_error err = {0};
    switch (op->kind) {
    case OP_SHARDS:
        on_list_page(op, res);
        return;
    case OP_SUMMARY: {
        kcl_kinesis_stream_summary s;
        if (kcl_kinesis_decode_stream_summary(res->body, res->body_len, &s, &err) != 0) {
            malformed_from(&err, res);
            deliver(op, &err, NULL);
        } else {
            deliver(op, &err, &s);
        }
        return;
    }
    case OP_ITERATOR: {
        char *it = NULL;
        if (kcl_kinesis_decode_get_shard_iterator(res->body, res->body_len, &it, &err) != 0)
            malformed_from(&err, res);
        deliver(op, &err, it);
        free(it);
        return;
    }
    case OP_RECORDS: {
        kcl_kinesis_records *r = NULL;
        if (kcl_kinesis_decode_get_records(res->body, res->body_len, &r, &err) != 0)
            malformed_from(&err, res);
        deliver(op, &err, r);   /* handed over */
        return;
    }
    case OP_PUT: {
        kcl_kinesis_put_result *r = NULL;
        if (kcl_kinesis_decode_put_records(res->body, res->body_len, &r, &err) != 0) {
            malformed_from(&err, res);
        } else if (r->count != op->put_count) {
            kcl_error_set(&err, KCL_ERR_MALFORMED, res->status, "MalformedResponse",
                          "PutRecords answered %zu entries for %zu sent", r->count, op->put_count);
            kcl_kinesis_put_result_free(r);
            r = NULL;
        }
        deliver(op, &err, r);
        kcl_kinesis_put_result_free(r);
        return;
    }
    case OP_DONE:
        deliver(op, &err, NULL);
        return;
    }
}

static int start_call(kcl_kinesis_op *op, const char *operation, const kcl_buf *body, kcl_error *err)
{
    op->call = kcl_aws_call_start(op->k->aws, operation, kcl_buf_cstr(body), body->len,
                                  op->has_copts ? &op->copts : NULL, on_aws_done, op, err);
    return op->call ? 0 : -1;
}

static kcl_kinesis_op *op_new(kcl_kinesis *k, op_kind kind, const kcl_aws_call_opts *copts, void *ud,
                              kcl_error *err)
{
    kcl_kinesis_op *op = calloc(1, sizeof *op);
    if (!op) {
        kcl_error_set(err, KCL_ERR_FATAL, 0, "OutOfMemory", "out of memory");
        return NULL;
    }
    op->k = k;
    op->kind = kind;
    op->ud = ud;
    if (copts) {
        op->copts = *copts;
        op->has_copts = 1;
    }
    return op;
}

/* Link `op` and start `operation` with `body`; on failure free both op and
 * body and return NULL (err set). The body is always freed. */
static kcl_kinesis_op *launch(kcl_kinesis_op *op, const char *operation, kcl_buf *body, int built,
                              kcl_error *err)
{
    if (built != 0) {
        kcl_error_set(err, KCL_ERR_FATAL, 0, "OutOfMemory", "out of memory");
        kcl_buf_free(body);
        op_free(op);
        return NULL;
    }
    kcl_kinesis *k = op->k;
    op->next = k->ops;
    if (k->ops) k->ops->prev = op;
    k->ops = op;
    k->pending++;
    int rc = start_call(op, operation, body, err);
    kcl_buf_free(body);
    if (rc != 0) {
        op_unlink(op);
        op_free(op);
        return NULL;
    }
    return op;
}

static int bad_arg(kcl_error *err, const char *what)
{
    kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, "InvalidArgument", "kinesis: %s", what);
    return -1;
}

kcl_kinesis_op *kcl_kinesis_list_shards(kcl_kinesis *k, const kcl_kinesis_list_shards_req *req,
                                        const kcl_aws_call_opts *copts, kcl_kinesis_shards_fn cb,
                                        void *ud, kcl_error *err)
{
    if (!k || !req || !req->stream_name || !*req->stream_name || !cb) {
        bad_arg(err, "ListShards needs a stream name and a callback");
        return NULL;
    }
    kcl_kinesis_op *op = op_new(k, OP_SHARDS, copts, ud, err);
    if (!op) return NULL;
    op->cb.shards = cb;
    op->max_results = req->max_results;
    op->list = calloc(1, sizeof *op->list);
    kcl_buf body = KCL_BUF_INIT;
    int built = op->list ? kcl_kinesis_build_list_shards(&body, req) : -1;
    return launch(op, "ListShards", &body, built, err);
}

kcl_kinesis_op *kcl_kinesis_describe_stream_summary(kcl_kinesis *k, const char *stream_name,
                                                    const kcl_aws_call_opts *copts,
                                                    kcl_kinesis_summary_fn cb, void *ud, kcl_error *err)
{
    if (!k || !stream_name || !*stream_name || !cb) {
        bad_arg(err, "DescribeStreamSummary needs a stream name and a callback");
        return NULL;
    }
    kcl_kinesis_op *op = op_new(k, OP_SUMMARY, copts, ud, err);
    if (!op) return NULL;
    op->cb.summary = cb;
    kcl_buf body = KCL_BUF_INIT;
    return launch(op, "DescribeStreamSummary", &body, kcl_kinesis_build_stream_name(&body, stream_name), err);
}

kcl_kinesis_op *kcl_kinesis_get_shard_iterator(kcl_kinesis *k, const kcl_kinesis_iterator_req *req,
                                               const kcl_aws_call_opts *copts,
                                               kcl_kinesis_iterator_fn cb, void *ud, kcl_error *err)
{
    if (!k || !req || !cb) {
        bad_arg(err, "GetShardIterator needs a request and a callback");
        return NULL;
    }
    kcl_buf body = KCL_BUF_INIT;
    if (kcl_kinesis_build_get_shard_iterator(&body, req, err) != 0) {
        kcl_buf_free(&body);
        return NULL;
    }
    kcl_kinesis_op *op = op_new(k, OP_ITERATOR, copts, ud, err);
    if (!op) {
        kcl_buf_free(&body);
        return NULL;
    }
    op->cb.iterator = cb;
    return launch(op, "GetShardIterator", &body, 0, err);
}

kcl_kinesis_op *kcl_kinesis_get_records(kcl_kinesis *k, const char *shard_iterator, int limit,
                                        const kcl_aws_call_opts *copts, kcl_kinesis_records_fn cb,
                                        void *ud, kcl_error *err)
{
    if (!k || !shard_iterator || !*shard_iterator || !cb || limit < 0 || limit > KCL_KINESIS_MAX_RECORDS) {
        bad_arg(err, "GetRecords needs an iterator, a callback and a limit of 0..10000");
        return NULL;
    }
    kcl_kinesis_op *op = op_new(k, OP_RECORDS, copts, ud, err);
    if (!op) return NULL;
    op->cb.records = cb;
    kcl_buf body = KCL_BUF_INIT;
    return launch(op, "GetRecords", &body, kcl_kinesis_build_get_records(&body, shard_iterator, limit), err);
}

kcl_kinesis_op *kcl_kinesis_put_records(kcl_kinesis *k, const char *stream_name,
                                        const kcl_kinesis_put_entry *entries, size_t n,
                                        const kcl_aws_call_opts *copts, kcl_kinesis_put_fn cb,
                                        void *ud, kcl_error *err)
{
    if (!k || !stream_name || !*stream_name || !cb || !entries || n == 0 || n > MAX_PUT_ENTRIES) {
        bad_arg(err, "PutRecords needs a stream name, a callback and 1..500 entries");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!entries[i].partition_key || !*entries[i].partition_key || (entries[i].data_len && !entries[i].data)) {
            bad_arg(err, "PutRecords entry without a partition key or data");
            return NULL;
        }
    }
    kcl_kinesis_op *op = op_new(k, OP_PUT, copts, ud, err);
    if (!op) return NULL;
    op->cb.put = cb;
    op->put_count = n;
    kcl_buf body = KCL_BUF_INIT;
    return launch(op, "PutRecords", &body, kcl_kinesis_build_put_records(&body, stream_name, entries, n), err);
}

static kcl_kinesis_op *plain(kcl_kinesis *k, const char *operation, kcl_buf *body, int built,
                             const kcl_aws_call_opts *copts, kcl_kinesis_done_fn cb, void *ud,
                             kcl_error *err)
{
    kcl_kinesis_op *op = op_new(k, OP_DONE, copts, ud, err);
    if (!op) {
        kcl_buf_free(body);
        return NULL;
    }
    op->cb.done = cb;
    return launch(op, operation, body, built, err);
}

kcl_kinesis_op *kcl_kinesis_create_stream(kcl_kinesis *k, const char *stream_name, int shard_count,
                                          const kcl_aws_call_opts *copts, kcl_kinesis_done_fn cb,
                                          void *ud, kcl_error *err)
{
    if (!k || !stream_name || !*stream_name || shard_count < 1 || !cb) {
        bad_arg(err, "CreateStream needs a stream name, a shard count >= 1 and a callback");
        return NULL;
    }
    kcl_buf body = KCL_BUF_INIT;
    int built = kcl_kinesis_build_create_stream(&body, stream_name, shard_count);
    return plain(k, "CreateStream", &body, built, copts, cb, ud, err);
}

kcl_kinesis_op *kcl_kinesis_delete_stream(kcl_kinesis *k, const char *stream_name,
                                          int enforce_consumer_deletion, const kcl_aws_call_opts *copts,
                                          kcl_kinesis_done_fn cb, void *ud, kcl_error *err)
{
    if (!k || !stream_name || !*stream_name || !cb) {
        bad_arg(err, "DeleteStream needs a stream name and a callback");
        return NULL;
    }
    kcl_buf body = KCL_BUF_INIT;
    int built = kcl_kinesis_build_delete_stream(&body, stream_name, enforce_consumer_deletion);
    return plain(k, "DeleteStream", &body, built, copts, cb, ud, err);
}

kcl_kinesis_op *kcl_kinesis_split_shard(kcl_kinesis *k, const char *stream_name, const char *shard_id,
                                        const char *new_starting_hash_key, const kcl_aws_call_opts *copts,
                                        kcl_kinesis_done_fn cb, void *ud, kcl_error *err)
{
    if (!k || !stream_name || !shard_id || !new_starting_hash_key || !cb) {
        bad_arg(err, "SplitShard needs a stream, a shard, a hash key and a callback");
        return NULL;
    }
    kcl_buf body = KCL_BUF_INIT;
    int built = kcl_kinesis_build_split_shard(&body, stream_name, shard_id, new_starting_hash_key);
    return plain(k, "SplitShard", &body, built, copts, cb, ud, err);
}

kcl_kinesis_op *kcl_kinesis_merge_shards(kcl_kinesis *k, const char *stream_name, const char *shard_id,
                                         const char *adjacent_shard_id, const kcl_aws_call_opts *copts,
                                         kcl_kinesis_done_fn cb, void *ud, kcl_error *err)
{
    if (!k || !stream_name || !shard_id || !adjacent_shard_id || !cb) {
        bad_arg(err, "MergeShards needs a stream, two shards and a callback");
        return NULL;
    }
    kcl_buf body = KCL_BUF_INIT;
    int built = kcl_kinesis_build_merge_shards(&body, stream_name, shard_id, adjacent_shard_id);
    return plain(k, "MergeShards", &body, built, copts, cb, ud, err);
}
