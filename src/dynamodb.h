/* dynamodb — the typed DynamoDB client the lease store uses: tables
 * (CreateTable, DescribeTable, DeleteTable) and items (GetItem, PutItem,
 * UpdateItem, DeleteItem with condition expressions, Scan over all pages),
 * on top of kcl_aws_client (service "dynamodb", JSON 1.0,
 * "DynamoDB_20120810"). Items are ddb_item.h's kcl_ddb_item.
 *
 * Every operation is asynchronous: it returns a handle (or NULL with `err`
 * filled, and then nothing is called back), and its callback runs exactly
 * once, later — never inside the starting call — unless the operation is
 * cancelled. Errors are typed by aws.c from the response (callers branch on
 * res->err.kind, never on strings):
 *   ConditionalCheckFailedException                   -> KCL_ERR_CONDITION_FAILED
 *   ResourceNotFoundException                         -> KCL_ERR_NOT_FOUND
 *   ResourceInUseException                            -> KCL_ERR_IN_USE
 *   ProvisionedThroughputExceeded / Throttling /
 *   RequestLimitExceeded (retried first)              -> KCL_ERR_THROTTLED
 *   ValidationException                               -> KCL_ERR_INVALID_ARGUMENT
 *   5xx still failing after the retries               -> KCL_ERR_RETRYABLE
 *   a 2xx body that cannot be decoded                 -> KCL_ERR_MALFORMED
 *
 * Results are handed to the callback by pointer and are valid only during
 * the callback; it may move items out (kcl_ddb_item_move / take the items
 * list and zero it) — whatever remains is freed when it returns.
 *
 * The request builders and response decoders below the async API are pure
 * (no I/O) and exported for the unit tests and the fuzzer. */
#ifndef KCL_DYNAMODB_H
#define KCL_DYNAMODB_H

#include "aws.h"
#include "ddb_item.h"
#include "error.h"

#include <stdint.h>

struct ev_loop;
struct kcl_creds_provider;
typedef struct kcl_ddb kcl_ddb;
typedef struct kcl_ddb_op kcl_ddb_op;

typedef struct kcl_ddb_opts {
    const char *endpoint;       /* required, e.g. from kcl_endpoint_resolve("dynamodb", ...) */
    const char *region;         /* required */
    int         insecure_tls;   /* explicit local endpoints only */
    long        timeout_ms;     /* per attempt; 0 = aws.h default */
    kcl_retry_policy retry;     /* zeros = defaults */
} kcl_ddb_opts;

/* A client. `http` and `creds` are borrowed and must outlive it; strings are
 * copied. NULL + err on bad options. */
kcl_ddb *kcl_ddb_new(struct ev_loop *loop, kcl_http *http, struct kcl_creds_provider *creds,
                     const kcl_ddb_opts *opts, kcl_error *err);
/* Cancel every operation in flight (no callbacks) and free the client. Not
 * from inside one of its own callbacks. */
void kcl_ddb_free(kcl_ddb *d);
/* Operations in flight (leak checks in tests). */
int kcl_ddb_pending(const kcl_ddb *d);
/* Stop an operation; its callback will not run. Does nothing when called
 * from the operation's own callback (it has finished by then). */
void kcl_ddb_cancel(kcl_ddb_op *op);

/* ---- tables ------------------------------------------------------------------ */

typedef enum {
    KCL_DDB_TABLE_UNKNOWN = 0,   /* a status this code does not know */
    KCL_DDB_TABLE_CREATING,
    KCL_DDB_TABLE_UPDATING,
    KCL_DDB_TABLE_DELETING,
    KCL_DDB_TABLE_ACTIVE,
    KCL_DDB_TABLE_ARCHIVING,
    KCL_DDB_TABLE_ARCHIVED,
    KCL_DDB_TABLE_INACCESSIBLE   /* INACCESSIBLE_ENCRYPTION_CREDENTIALS */
} kcl_ddb_table_status;

typedef enum { KCL_DDB_PAY_PER_REQUEST = 0, KCL_DDB_PROVISIONED } kcl_ddb_billing;

typedef struct kcl_ddb_table {
    char name[256];
    char arn[512];
    char status_name[48];        /* as sent, e.g. "ACTIVE" */
    kcl_ddb_table_status status;
    int64_t item_count;          /* -1 when not sent */
    int64_t size_bytes;          /* -1 when not sent */
    char hash_key[256];
    kcl_ddb_type hash_type;      /* S, N or B; NONE if the definition is missing */
    char range_key[256];         /* "" when the table has none */
    kcl_ddb_type range_type;
    kcl_ddb_billing billing;     /* PROVISIONED when the summary is absent (AWS's rule) */
    int64_t rcu, wcu;            /* ProvisionedThroughput (0 for on-demand) */
    int64_t created_ms;          /* CreationDateTime, 0 when not sent */
} kcl_ddb_table;

typedef struct kcl_ddb_create_table_req {
    const char  *table;
    const char  *hash_key;
    kcl_ddb_type hash_type;      /* S, N or B */
    const char  *range_key;      /* NULL: no range key */
    kcl_ddb_type range_type;
    kcl_ddb_billing billing;
    int64_t      rcu, wcu;       /* PROVISIONED only, each >= 1 */
    const kcl_aws_call_opts *call;   /* NULL = client defaults */
} kcl_ddb_create_table_req;

typedef struct kcl_ddb_table_result {
    kcl_error     err;
    int           attempts;
    kcl_ddb_table table;         /* filled on success */
} kcl_ddb_table_result;
typedef void (*kcl_ddb_table_fn)(kcl_ddb_table_result *res, void *ud);

/* CreateTable (result: the TableDescription, usually CREATING). */
kcl_ddb_op *kcl_ddb_create_table(kcl_ddb *d, const kcl_ddb_create_table_req *req,
                                 kcl_ddb_table_fn cb, void *ud, kcl_error *err);
kcl_ddb_op *kcl_ddb_describe_table(kcl_ddb *d, const char *table, const kcl_aws_call_opts *call,
                                   kcl_ddb_table_fn cb, void *ud, kcl_error *err);
kcl_ddb_op *kcl_ddb_delete_table(kcl_ddb *d, const char *table, const kcl_aws_call_opts *call,
                                 kcl_ddb_table_fn cb, void *ud, kcl_error *err);

/* ---- items ------------------------------------------------------------------- */

typedef enum {
    KCL_DDB_RETURN_NONE = 0,
    KCL_DDB_RETURN_ALL_OLD,
    KCL_DDB_RETURN_ALL_NEW,      /* UpdateItem only */
    KCL_DDB_RETURN_UPDATED_OLD,  /* UpdateItem only */
    KCL_DDB_RETURN_UPDATED_NEW   /* UpdateItem only */
} kcl_ddb_return;

/* Expression parameters shared by the requests below:
 *   names:  ExpressionAttributeNames as a NULL-terminated list of pairs,
 *           {"#c", "leaseCounter", "#o", "leaseOwner", NULL}; NULL = none.
 *   values: ExpressionAttributeValues as an item whose attribute names are
 *           the placeholders (":expected" -> N "7"); NULL or empty = none. */

typedef struct kcl_ddb_get_req {
    const char *table;
    const kcl_ddb_item *key;
    int consistent;              /* ConsistentRead */
    const char *projection;      /* ProjectionExpression or NULL */
    const char *const *names;
    const kcl_aws_call_opts *call;
} kcl_ddb_get_req;

typedef struct kcl_ddb_put_req {
    const char *table;
    const kcl_ddb_item *item;
    const char *condition;       /* ConditionExpression or NULL */
    const char *const *names;
    const kcl_ddb_item *values;
    kcl_ddb_return ret;          /* NONE or ALL_OLD */
    const kcl_aws_call_opts *call;
} kcl_ddb_put_req;

typedef struct kcl_ddb_update_req {
    const char *table;
    const kcl_ddb_item *key;
    const char *update;          /* UpdateExpression, required ("SET #c = #c + :one REMOVE x") */
    const char *condition;
    const char *const *names;
    const kcl_ddb_item *values;
    kcl_ddb_return ret;
    const kcl_aws_call_opts *call;
} kcl_ddb_update_req;

typedef struct kcl_ddb_delete_req {
    const char *table;
    const kcl_ddb_item *key;
    const char *condition;
    const char *const *names;
    const kcl_ddb_item *values;
    kcl_ddb_return ret;          /* NONE or ALL_OLD */
    const kcl_aws_call_opts *call;
} kcl_ddb_delete_req;

typedef struct kcl_ddb_item_result {
    kcl_error    err;
    int          attempts;
    /* GetItem: whether the item exists. Writes: whether Attributes came back
     * (ReturnValues other than NONE, and for ALL_OLD only if an item was there). */
    int          found;
    kcl_ddb_item item;
} kcl_ddb_item_result;
typedef void (*kcl_ddb_item_fn)(kcl_ddb_item_result *res, void *ud);

kcl_ddb_op *kcl_ddb_get_item(kcl_ddb *d, const kcl_ddb_get_req *req, kcl_ddb_item_fn cb, void *ud,
                             kcl_error *err);
kcl_ddb_op *kcl_ddb_put_item(kcl_ddb *d, const kcl_ddb_put_req *req, kcl_ddb_item_fn cb, void *ud,
                             kcl_error *err);
kcl_ddb_op *kcl_ddb_update_item(kcl_ddb *d, const kcl_ddb_update_req *req, kcl_ddb_item_fn cb,
                                void *ud, kcl_error *err);
kcl_ddb_op *kcl_ddb_delete_item(kcl_ddb *d, const kcl_ddb_delete_req *req, kcl_ddb_item_fn cb,
                                void *ud, kcl_error *err);

/* ---- scan -------------------------------------------------------------------- */

typedef struct kcl_ddb_scan_req {
    const char *table;
    int consistent;              /* ConsistentRead */
    int limit;                   /* Limit per page; 0 = the server's (1 MB pages) */
    const char *filter;          /* FilterExpression or NULL */
    const char *projection;      /* ProjectionExpression or NULL */
    const char *const *names;
    const kcl_ddb_item *values;
    const kcl_aws_call_opts *call;   /* applies to each page */
} kcl_ddb_scan_req;

typedef struct kcl_ddb_scan_result {
    kcl_error     err;
    int           pages;         /* pages fetched */
    kcl_ddb_items items;         /* every page's items, in order; empty on error */
} kcl_ddb_scan_result;
typedef void (*kcl_ddb_scan_fn)(kcl_ddb_scan_result *res, void *ud);

/* Scan every page (following LastEvaluatedKey) and call back once with all
 * items, or with the first page's error. */
kcl_ddb_op *kcl_ddb_scan(kcl_ddb *d, const kcl_ddb_scan_req *req, kcl_ddb_scan_fn cb, void *ud,
                         kcl_error *err);

/* ---- pure: request bodies and response decoding ------------------------------- */

/* Each builder appends the operation's JSON body to `out`. Returns 0, or -1
 * with KCL_ERR_INVALID_ARGUMENT for a missing table/key/expression, a bad
 * key type, provisioned capacity < 1, or an unusable ReturnValues. */
int kcl_ddb_build_create_table(const kcl_ddb_create_table_req *req, kcl_buf *out, kcl_error *err);
int kcl_ddb_build_table_name(const char *table, kcl_buf *out, kcl_error *err);
int kcl_ddb_build_get_item(const kcl_ddb_get_req *req, kcl_buf *out, kcl_error *err);
int kcl_ddb_build_put_item(const kcl_ddb_put_req *req, kcl_buf *out, kcl_error *err);
int kcl_ddb_build_update_item(const kcl_ddb_update_req *req, kcl_buf *out, kcl_error *err);
int kcl_ddb_build_delete_item(const kcl_ddb_delete_req *req, kcl_buf *out, kcl_error *err);
/* A Scan page; `start_key` (ExclusiveStartKey) NULL or empty for the first. */
int kcl_ddb_build_scan(const kcl_ddb_scan_req *req, const kcl_ddb_item *start_key, kcl_buf *out,
                       kcl_error *err);

/* Decode a DescribeTable ("Table") or Create/DeleteTable ("TableDescription")
 * body into `out`. 0, or -1 with KCL_ERR_MALFORMED. */
int kcl_ddb_decode_table(const char *body, size_t len, const char *member, kcl_ddb_table *out,
                         kcl_error *err);
kcl_ddb_table_status kcl_ddb_table_status_parse(const char *s);

#endif
