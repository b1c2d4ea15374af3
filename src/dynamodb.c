#include "dynamodb.h"

#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- pure: request bodies ------------------------------------------------------ */

static int invalid(kcl_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int invalid(kcl_error *err, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, "InvalidRequest", "DynamoDB request: %s", msg);
    return -1;
}

static const char *const return_names[] = {"NONE", "ALL_OLD", "ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"};

/* Start a body: remember where it began so a failure can take it back. */
typedef struct req_body {
    kcl_jw w;
    kcl_buf *out;
    size_t start;
} req_body;

static void body_begin(req_body *b, kcl_buf *out, const char *table)
{
    b->out = out;
    b->start = out->len;
    kcl_jw_init(&b->w, out);
    kcl_jw_obj_begin(&b->w);
    kcl_jw_kstr(&b->w, "TableName", table);
}

static int body_fail(req_body *b, kcl_error *err, const char *what)
{
    b->out->len = b->start;
    if (b->out->data) b->out->data[b->start] = '\0';
    return invalid(err, "%s", what);
}

static int body_end(req_body *b, kcl_error *err)
{
    kcl_jw_obj_end(&b->w);
    if (b->w.failed || b->w.depth != 0) return body_fail(b, err, "too deeply nested, or out of memory");
    return 0;
}

static int check_table(const char *table, kcl_error *err)
{
    if (!table || !*table) return invalid(err, "no table name");
    return 0;
}

static int check_names(const char *const *names, kcl_error *err)
{
    for (size_t i = 0; names && names[i]; i += 2) {
        if (!names[i + 1] || !*names[i] || !*names[i + 1])
            return invalid(err, "ExpressionAttributeNames must be non-empty pairs");
    }
    return 0;
}

static void write_expr(req_body *b, const char *key, const char *expr)
{
    if (expr && *expr) kcl_jw_kstr(&b->w, key, expr);
}

static void write_names_values(req_body *b, const char *const *names, const kcl_ddb_item *values)
{
    if (names && names[0]) {
        kcl_jw_key(&b->w, "ExpressionAttributeNames");
        kcl_jw_obj_begin(&b->w);
        for (size_t i = 0; names[i]; i += 2) kcl_jw_kstr(&b->w, names[i], names[i + 1]);
        kcl_jw_obj_end(&b->w);
    }
    if (values && values->n) {
        kcl_jw_key(&b->w, "ExpressionAttributeValues");
        kcl_ddb_item_write(&b->w, values);
    }
}

static int check_return(kcl_ddb_return ret, int update_ok, kcl_error *err)
{
    if ((unsigned)ret > KCL_DDB_RETURN_UPDATED_NEW || (!update_ok && ret > KCL_DDB_RETURN_ALL_OLD))
        return invalid(err, "ReturnValues %d not allowed here", (int)ret);
    return 0;
}

static void write_return(req_body *b, kcl_ddb_return ret)
{
    if (ret != KCL_DDB_RETURN_NONE) kcl_jw_kstr(&b->w, "ReturnValues", return_names[ret]);
}

static int key_type_ok(kcl_ddb_type t)
{
    return t == KCL_DDB_S || t == KCL_DDB_N || t == KCL_DDB_B;
}

int kcl_ddb_build_create_table(const kcl_ddb_create_table_req *req, kcl_buf *out, kcl_error *err)
{
    if (check_table(req->table, err) != 0) return -1;
    if (!req->hash_key || !*req->hash_key || !key_type_ok(req->hash_type))
        return invalid(err, "a hash key needs a name and type S, N or B");
    int range = req->range_key != NULL;
    if (range && (!*req->range_key || !key_type_ok(req->range_type)))
        return invalid(err, "a range key needs a name and type S, N or B");
    if (req->billing == KCL_DDB_PROVISIONED && (req->rcu < 1 || req->wcu < 1))
        return invalid(err, "provisioned capacity must be at least 1");
    if (req->billing != KCL_DDB_PROVISIONED && req->billing != KCL_DDB_PAY_PER_REQUEST)
        return invalid(err, "unknown billing mode");
    req_body b;
    body_begin(&b, out, req->table);
    kcl_jw_key(&b.w, "AttributeDefinitions");
    kcl_jw_arr_begin(&b.w);
    for (int i = 0; i <= range; i++) {
        kcl_jw_obj_begin(&b.w);
        kcl_jw_kstr(&b.w, "AttributeName", i ? req->range_key : req->hash_key);
        kcl_jw_kstr(&b.w, "AttributeType", kcl_ddb_type_name(i ? req->range_type : req->hash_type));
        kcl_jw_obj_end(&b.w);
    }
    kcl_jw_arr_end(&b.w);
    kcl_jw_key(&b.w, "KeySchema");
    kcl_jw_arr_begin(&b.w);
    for (int i = 0; i <= range; i++) {
        kcl_jw_obj_begin(&b.w);
        kcl_jw_kstr(&b.w, "AttributeName", i ? req->range_key : req->hash_key);
        kcl_jw_kstr(&b.w, "KeyType", i ? "RANGE" : "HASH");
        kcl_jw_obj_end(&b.w);
    }
    kcl_jw_arr_end(&b.w);
    if (req->billing == KCL_DDB_PROVISIONED) {
        kcl_jw_kstr(&b.w, "BillingMode", "PROVISIONED");
        kcl_jw_key(&b.w, "ProvisionedThroughput");
        kcl_jw_obj_begin(&b.w);
        kcl_jw_kint(&b.w, "ReadCapacityUnits", req->rcu);
        kcl_jw_kint(&b.w, "WriteCapacityUnits", req->wcu);
        kcl_jw_obj_end(&b.w);
    } else {
        kcl_jw_kstr(&b.w, "BillingMode", "PAY_PER_REQUEST");
    }
    return body_end(&b, err);
}

int kcl_ddb_build_table_name(const char *table, kcl_buf *out, kcl_error *err)
{
    if (check_table(table, err) != 0) return -1;
    req_body b;
    body_begin(&b, out, table);
    return body_end(&b, err);
}

static int check_key(const kcl_ddb_item *key, kcl_error *err)
{
    if (!key || key->n == 0) return invalid(err, "no key");
    return 0;
}

int kcl_ddb_build_get_item(const kcl_ddb_get_req *req, kcl_buf *out, kcl_error *err)
{
    if (check_table(req->table, err) || check_key(req->key, err) || check_names(req->names, err)) return -1;
    req_body b;
    body_begin(&b, out, req->table);
    kcl_jw_key(&b.w, "Key");
    kcl_ddb_item_write(&b.w, req->key);
    if (req->consistent) {
        kcl_jw_key(&b.w, "ConsistentRead");
        kcl_jw_bool(&b.w, 1);
    }
    write_expr(&b, "ProjectionExpression", req->projection);
    write_names_values(&b, req->names, NULL);
    return body_end(&b, err);
}

int kcl_ddb_build_put_item(const kcl_ddb_put_req *req, kcl_buf *out, kcl_error *err)
{
    if (check_table(req->table, err) || check_names(req->names, err) || check_return(req->ret, 0, err)) return -1;
    if (!req->item || req->item->n == 0) return invalid(err, "no item");
    req_body b;
    body_begin(&b, out, req->table);
    kcl_jw_key(&b.w, "Item");
    kcl_ddb_item_write(&b.w, req->item);
    write_expr(&b, "ConditionExpression", req->condition);
    write_names_values(&b, req->names, req->values);
    write_return(&b, req->ret);
    return body_end(&b, err);
}

int kcl_ddb_build_update_item(const kcl_ddb_update_req *req, kcl_buf *out, kcl_error *err)
{
    if (check_table(req->table, err) || check_key(req->key, err) || check_names(req->names, err) ||
        check_return(req->ret, 1, err))
        return -1;
    if (!req->update || !*req->update) return invalid(err, "no UpdateExpression");
    req_body b;
    body_begin(&b, out, req->table);
    kcl_jw_key(&b.w, "Key");
    kcl_ddb_item_write(&b.w, req->key);
    kcl_jw_kstr(&b.w, "UpdateExpression", req->update);
    write_expr(&b, "ConditionExpression", req->condition);
    write_names_values(&b, req->names, req->values);
    write_return(&b, req->ret);
    return body_end(&b, err);
}

int kcl_ddb_build_delete_item(const kcl_ddb_delete_req *req, kcl_buf *out, kcl_error *err)
{
    if (check_table(req->table, err) || check_key(req->key, err) || check_names(req->names, err) ||
        check_return(req->ret, 0, err))
        return -1;
    req_body b;
    body_begin(&b, out, req->table);
    kcl_jw_key(&b.w, "Key");
    kcl_ddb_item_write(&b.w, req->key);
    write_expr(&b, "ConditionExpression", req->condition);
    write_names_values(&b, req->names, req->values);
    write_return(&b, req->ret);
    return body_end(&b, err);
}

/* Turn a finished body "{...}" in out[start..] into one with an
 * ExclusiveStartKey member: the same text up to its closing brace, then
 * ,"ExclusiveStartKey":{...}}. Every body has TableName, so the comma is right. */
static int splice_start_key(kcl_buf *out, size_t start, const kcl_ddb_item *key, kcl_error *err)
{
    if (out->len <= start + 1 || out->data[out->len - 1] != '}') return invalid(err, "bad base body");
    kcl_buf k = KCL_BUF_INIT;
    kcl_jw w;
    kcl_jw_init(&w, &k);
    kcl_ddb_item_write(&w, key);
    out->len--;
    int rc = (w.failed || kcl_buf_append_str(out, ",\"ExclusiveStartKey\":") != 0 ||
              kcl_buf_append(out, k.data, k.len) != 0 || kcl_buf_append_char(out, '}') != 0) ? -1 : 0;
    kcl_buf_free(&k);
    if (rc != 0) {
        out->len = start;
        if (out->data) out->data[start] = '\0';
        return invalid(err, "out of memory");
    }
    return 0;
}

int kcl_ddb_build_scan(const kcl_ddb_scan_req *req, const kcl_ddb_item *start_key, kcl_buf *out,
                       kcl_error *err)
{
    if (check_table(req->table, err) || check_names(req->names, err)) return -1;
    if (req->limit < 0) return invalid(err, "negative Limit");
    req_body b;
    body_begin(&b, out, req->table);
    if (req->consistent) {
        kcl_jw_key(&b.w, "ConsistentRead");
        kcl_jw_bool(&b.w, 1);
    }
    if (req->limit > 0) kcl_jw_kint(&b.w, "Limit", req->limit);
    write_expr(&b, "FilterExpression", req->filter);
    write_expr(&b, "ProjectionExpression", req->projection);
    write_names_values(&b, req->names, req->values);
    if (body_end(&b, err) != 0) return -1;
    if (start_key && start_key->n) return splice_start_key(out, b.start, start_key, err);
    return 0;
}

/* ---- pure: DescribeTable ------------------------------------------------------- */

static const char *const status_names[] = {
    [KCL_DDB_TABLE_UNKNOWN] = "", [KCL_DDB_TABLE_CREATING] = "CREATING",
    [KCL_DDB_TABLE_UPDATING] = "UPDATING", [KCL_DDB_TABLE_DELETING] = "DELETING",
    [KCL_DDB_TABLE_ACTIVE] = "ACTIVE", [KCL_DDB_TABLE_ARCHIVING] = "ARCHIVING",
    [KCL_DDB_TABLE_ARCHIVED] = "ARCHIVED",
    [KCL_DDB_TABLE_INACCESSIBLE] = "INACCESSIBLE_ENCRYPTION_CREDENTIALS",
};

kcl_ddb_table_status kcl_ddb_table_status_parse(const char *s)
{
    for (int i = KCL_DDB_TABLE_CREATING; s && i <= KCL_DDB_TABLE_INACCESSIBLE; i++) {
        if (strcmp(s, status_names[i]) == 0) return (kcl_ddb_table_status)i;
    }
    return KCL_DDB_TABLE_UNKNOWN;
}

static int table_malformed(kcl_error *err, const char *what)
{
    kcl_error_set(err, KCL_ERR_MALFORMED, 0, "MalformedResponse", "DynamoDB table description: %s", what);
    return -1;
}

/* An optional integer member: absent keeps *out; present must be an integer. */
static int opt_int(const kcl_json *doc, kcl_jv obj, const char *key, int64_t *out)
{
    kcl_jv v = kcl_json_get(doc, obj, key);
    if (v < 0) return 0;
    return kcl_json_int64(doc, v, out);
}

/* The type AttributeDefinitions gives `name`, KCL_DDB_NONE if none. */
static kcl_ddb_type def_type(const kcl_json *doc, kcl_jv defs, const char *name)
{
    for (kcl_jv e = kcl_json_first(doc, defs); e >= 0; e = kcl_json_next(doc, e)) {
        if (!kcl_json_str_eq(doc, kcl_json_get(doc, e, "AttributeName"), name)) continue;
        char t[4];
        if (kcl_json_str_copy(doc, kcl_json_get(doc, e, "AttributeType"), t, sizeof t) != 0) return KCL_DDB_NONE;
        kcl_ddb_type ty = kcl_ddb_type_parse(t, strlen(t));
        return key_type_ok(ty) ? ty : KCL_DDB_NONE;
    }
    return KCL_DDB_NONE;
}

static int decode_table(const kcl_json *doc, kcl_jv t, kcl_ddb_table *out, kcl_error *err)
{
    memset(out, 0, sizeof *out);
    out->item_count = out->size_bytes = -1;
    out->billing = KCL_DDB_PROVISIONED;
    if (kcl_json_type_of(doc, t) != KCL_JSON_OBJECT) return table_malformed(err, "not an object");
    if (kcl_json_str_copy(doc, kcl_json_get(doc, t, "TableName"), out->name, sizeof out->name) != 0 ||
        !out->name[0])
        return table_malformed(err, "bad TableName");
    if (kcl_json_str_copy(doc, kcl_json_get(doc, t, "TableStatus"), out->status_name, sizeof out->status_name) != 0)
        return table_malformed(err, "bad TableStatus");
    out->status = kcl_ddb_table_status_parse(out->status_name);
    kcl_jv arn = kcl_json_get(doc, t, "TableArn");
    if (arn >= 0 && kcl_json_str_copy(doc, arn, out->arn, sizeof out->arn) != 0)
        return table_malformed(err, "bad TableArn");
    if (opt_int(doc, t, "ItemCount", &out->item_count) != 0 ||
        opt_int(doc, t, "TableSizeBytes", &out->size_bytes) != 0)
        return table_malformed(err, "bad ItemCount/TableSizeBytes");
    kcl_jv created = kcl_json_get(doc, t, "CreationDateTime");
    if (created >= 0) {
        double secs;
        if (kcl_json_double(doc, created, &secs) != 0 || secs < 0 || secs > 1e11)
            return table_malformed(err, "bad CreationDateTime");
        out->created_ms = (int64_t)(secs * 1000.0);
    }

    kcl_jv schema = kcl_json_get(doc, t, "KeySchema");
    kcl_jv defs = kcl_json_get(doc, t, "AttributeDefinitions");
    if (schema >= 0 && kcl_json_type_of(doc, schema) != KCL_JSON_ARRAY) return table_malformed(err, "bad KeySchema");
    if (defs >= 0 && kcl_json_type_of(doc, defs) != KCL_JSON_ARRAY)
        return table_malformed(err, "bad AttributeDefinitions");
    for (kcl_jv e = kcl_json_first(doc, schema); e >= 0; e = kcl_json_next(doc, e)) {
        char name[256], kt[8];
        if (kcl_json_str_copy(doc, kcl_json_get(doc, e, "AttributeName"), name, sizeof name) != 0 || !name[0] ||
            kcl_json_str_copy(doc, kcl_json_get(doc, e, "KeyType"), kt, sizeof kt) != 0)
            return table_malformed(err, "bad KeySchema element");
        if (strcmp(kt, "HASH") == 0) {
            memcpy(out->hash_key, name, sizeof name);
            out->hash_type = def_type(doc, defs, name);
        } else if (strcmp(kt, "RANGE") == 0) {
            memcpy(out->range_key, name, sizeof name);
            out->range_type = def_type(doc, defs, name);
        } else {
            return table_malformed(err, "bad KeyType");
        }
    }

    kcl_jv bill = kcl_json_get(doc, kcl_json_get(doc, t, "BillingModeSummary"), "BillingMode");
    if (bill >= 0) {
        if (kcl_json_str_eq(doc, bill, "PAY_PER_REQUEST")) out->billing = KCL_DDB_PAY_PER_REQUEST;
        else if (!kcl_json_str_eq(doc, bill, "PROVISIONED")) return table_malformed(err, "bad BillingMode");
    }
    kcl_jv pt = kcl_json_get(doc, t, "ProvisionedThroughput");
    if (pt >= 0 && (kcl_json_type_of(doc, pt) != KCL_JSON_OBJECT ||
                    opt_int(doc, pt, "ReadCapacityUnits", &out->rcu) != 0 ||
                    opt_int(doc, pt, "WriteCapacityUnits", &out->wcu) != 0))
        return table_malformed(err, "bad ProvisionedThroughput");
    return 0;
}

int kcl_ddb_decode_table(const char *body, size_t len, const char *member, kcl_ddb_table *out,
                         kcl_error *err)
{
    kcl_json doc = {0};
    int rc;
    if (!body || kcl_json_parse(&doc, body, len, 0, err) != 0) rc = table_malformed(err, "not JSON");
    else rc = decode_table(&doc, kcl_json_get(&doc, kcl_json_root(&doc), member), out, err);
    kcl_json_free(&doc);
    return rc;
}

/* ---- the asynchronous client --------------------------------------------------- */

struct kcl_ddb {
    kcl_aws_client *aws;
    kcl_ddb_op *ops;            /* in flight, doubly linked */
    int nops;
};

typedef enum { OP_TABLE, OP_ITEM, OP_SCAN } op_kind;
typedef union {
    kcl_ddb_table_fn table;
    kcl_ddb_item_fn item;
    kcl_ddb_scan_fn scan;
} op_cb;

struct kcl_ddb_op {
    kcl_ddb *d;
    kcl_ddb_op *prev, *next;
    kcl_aws_call *call;
    op_kind kind;
    const char *member;         /* the response member to decode (a literal) */
    op_cb cb;
    void *ud;
    int has_call_opts;
    kcl_aws_call_opts call_opts;
    int delivering;
    /* Scan: the first page's body (later pages splice in ExclusiveStartKey),
     * and what the pages so far gave. */
    kcl_buf scan_base;
    kcl_ddb_items items;
    int pages;
};

kcl_ddb *kcl_ddb_new(struct ev_loop *loop, kcl_http *http, struct kcl_creds_provider *creds,
                     const kcl_ddb_opts *opts, kcl_error *err)
{
    if (!loop || !http || !creds || !opts || !opts->endpoint || !*opts->endpoint || !opts->region ||
        !*opts->region) {
        invalid(err, "kcl_ddb_new needs a loop, http, credentials, endpoint and region");
        return NULL;
    }
    kcl_ddb *d = calloc(1, sizeof *d);
    if (!d) {
        kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory");
        return NULL;
    }
    kcl_aws_client_opts ao;
    memset(&ao, 0, sizeof ao);
    ao.service = "dynamodb";
    ao.endpoint = opts->endpoint;
    ao.region = opts->region;
    ao.target_prefix = "DynamoDB_20120810";
    ao.content_type = "application/x-amz-json-1.0";
    ao.insecure_tls = opts->insecure_tls;
    ao.timeout_ms = opts->timeout_ms;
    ao.retry = opts->retry;
    d->aws = kcl_aws_client_new(loop, http, creds, &ao, err);
    if (!d->aws) {
        free(d);
        return NULL;
    }
    return d;
}

static void op_unlink(kcl_ddb_op *op)
{
    kcl_ddb *d = op->d;
    if (op->prev) op->prev->next = op->next;
    else if (d->ops == op) d->ops = op->next;
    if (op->next) op->next->prev = op->prev;
    op->prev = op->next = NULL;
    d->nops--;
}

static void op_free(kcl_ddb_op *op)
{
    kcl_buf_free(&op->scan_base);
    kcl_ddb_items_free(&op->items);
    free(op);
}

void kcl_ddb_free(kcl_ddb *d)
{
    if (!d) return;
    while (d->ops) {
        kcl_ddb_op *op = d->ops;
        op_unlink(op);
        op_free(op);
    }
    kcl_aws_client_free(d->aws);   /* cancels the calls: no callbacks */
    free(d);
}

int kcl_ddb_pending(const kcl_ddb *d)
{
    return d ? d->nops : 0;
}

void kcl_ddb_cancel(kcl_ddb_op *op)
{
    if (!op || op->delivering) return;
    if (op->call) kcl_aws_call_cancel(op->call);
    op_unlink(op);
    op_free(op);
}

static void on_call_done(const kcl_aws_result *res, void *ud);

static int op_send(kcl_ddb_op *op, const char *operation, const kcl_buf *body, kcl_error *err)
{
    op->call = kcl_aws_call_start(op->d->aws, operation, kcl_buf_cstr(body), body->len,
                                  op->has_call_opts ? &op->call_opts : NULL, on_call_done, op, err);
    return op->call ? 0 : -1;
}

/* Start `operation` with `body` (consumed); NULL + err if it cannot start. */
static kcl_ddb_op *op_start(kcl_ddb *d, op_kind kind, const char *operation, const char *member,
                            kcl_buf *body, const kcl_aws_call_opts *call, op_cb cb, void *ud,
                            kcl_error *err)
{
    int has_cb = kind == OP_TABLE ? cb.table != NULL : kind == OP_ITEM ? cb.item != NULL : cb.scan != NULL;
    kcl_ddb_op *op = has_cb ? calloc(1, sizeof *op) : NULL;
    if (!op) {
        kcl_buf_free(body);
        if (!has_cb) invalid(err, "no callback");
        else kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory");
        return NULL;
    }
    op->d = d;
    op->kind = kind;
    op->member = member;
    op->ud = ud;
    op->cb = cb;
    if (call) {
        op->has_call_opts = 1;
        op->call_opts = *call;
    }
    op->next = d->ops;
    if (d->ops) d->ops->prev = op;
    d->ops = op;
    d->nops++;
    int rc = op_send(op, operation, body, err);
    if (kind == OP_SCAN && rc == 0) op->scan_base = *body;   /* kept for the next pages */
    else kcl_buf_free(body);
    if (rc != 0) {
        op_unlink(op);
        op_free(op);
        return NULL;
    }
    return op;
}

/* Call the user back once, then free the op. */
static void deliver_table(kcl_ddb_op *op, kcl_ddb_table_result *r)
{
    op_unlink(op);
    op->delivering = 1;
    op->cb.table(r, op->ud);
    op_free(op);
}

static void deliver_item(kcl_ddb_op *op, kcl_ddb_item_result *r)
{
    op_unlink(op);
    op->delivering = 1;
    op->cb.item(r, op->ud);
    kcl_ddb_item_free(&r->item);
    op_free(op);
}

static void deliver_scan(kcl_ddb_op *op, const kcl_error *err)
{
    kcl_ddb_scan_result r;
    memset(&r, 0, sizeof r);
    r.pages = op->pages;
    if (err && err->kind != KCL_ERR_NONE) r.err = *err;
    else {
        r.items = op->items;
        memset(&op->items, 0, sizeof op->items);
    }
    op_unlink(op);
    op->delivering = 1;
    op->cb.scan(&r, op->ud);
    kcl_ddb_items_free(&r.items);
    op_free(op);
}

static void scan_page_done(kcl_ddb_op *op, const kcl_aws_result *res)
{
    kcl_error err = res->err;
    kcl_ddb_item lek = KCL_DDB_ITEM_INIT;
    int decoded = err.kind == KCL_ERR_NONE &&
                  kcl_ddb_decode_scan_page(res->body, res->body_len, &op->items, &lek, &err) == 0;
    if (!decoded && res->err.kind == KCL_ERR_NONE) err.http_status = res->status;
    if (decoded) {
        op->pages++;
        if (lek.n) {
            kcl_buf next = KCL_BUF_INIT;
            int rc = kcl_buf_append(&next, op->scan_base.data, op->scan_base.len);
            if (rc != 0) kcl_error_set(&err, KCL_ERR_FATAL, 0, NULL, "out of memory");
            if (rc == 0) rc = splice_start_key(&next, 0, &lek, &err);
            if (rc == 0) rc = op_send(op, "Scan", &next, &err);
            kcl_buf_free(&next);
            kcl_ddb_item_free(&lek);
            if (rc == 0) return;   /* the next page is on its way */
        }
    }
    kcl_ddb_item_free(&lek);
    deliver_scan(op, &err);
}

static void on_call_done(const kcl_aws_result *res, void *ud)
{
    kcl_ddb_op *op = ud;
    op->call = NULL;
    if (op->kind == OP_TABLE) {
        kcl_ddb_table_result r;
        memset(&r, 0, sizeof r);
        r.err = res->err;
        r.attempts = res->attempts;
        if (r.err.kind == KCL_ERR_NONE) {
            if (kcl_ddb_decode_table(res->body, res->body_len, op->member, &r.table, &r.err) != 0)
                r.err.http_status = res->status;
        }
        deliver_table(op, &r);
    } else if (op->kind == OP_ITEM) {
        kcl_ddb_item_result r;
        memset(&r, 0, sizeof r);
        r.err = res->err;
        r.attempts = res->attempts;
        if (r.err.kind == KCL_ERR_NONE &&
            kcl_ddb_decode_item_body(res->body, res->body_len, op->member, &r.item, &r.found, &r.err) != 0)
            r.err.http_status = res->status;
        deliver_item(op, &r);
    } else {
        scan_page_done(op, res);
    }
}

/* ---- the operations -------------------------------------------------------------- */

kcl_ddb_op *kcl_ddb_create_table(kcl_ddb *d, const kcl_ddb_create_table_req *req,
                                 kcl_ddb_table_fn cb, void *ud, kcl_error *err)
{
    kcl_buf b = KCL_BUF_INIT;
    if (!d || !req) { invalid(err, "no client or request"); return NULL; }
    if (kcl_ddb_build_create_table(req, &b, err) != 0) return NULL;
    return op_start(d, OP_TABLE, "CreateTable", "TableDescription", &b, req->call,
                    (op_cb){.table = cb}, ud, err);
}

kcl_ddb_op *kcl_ddb_describe_table(kcl_ddb *d, const char *table, const kcl_aws_call_opts *call,
                                   kcl_ddb_table_fn cb, void *ud, kcl_error *err)
{
    kcl_buf b = KCL_BUF_INIT;
    if (!d) { invalid(err, "no client"); return NULL; }
    if (kcl_ddb_build_table_name(table, &b, err) != 0) return NULL;
    return op_start(d, OP_TABLE, "DescribeTable", "Table", &b, call,
                    (op_cb){.table = cb}, ud, err);
}

kcl_ddb_op *kcl_ddb_delete_table(kcl_ddb *d, const char *table, const kcl_aws_call_opts *call,
                                 kcl_ddb_table_fn cb, void *ud, kcl_error *err)
{
    kcl_buf b = KCL_BUF_INIT;
    if (!d) { invalid(err, "no client"); return NULL; }
    if (kcl_ddb_build_table_name(table, &b, err) != 0) return NULL;
    return op_start(d, OP_TABLE, "DeleteTable", "TableDescription", &b, call,
                    (op_cb){.table = cb}, ud, err);
}

kcl_ddb_op *kcl_ddb_get_item(kcl_ddb *d, const kcl_ddb_get_req *req, kcl_ddb_item_fn cb, void *ud,
                             kcl_error *err)
{
    kcl_buf b = KCL_BUF_INIT;
    if (!d || !req) { invalid(err, "no client or request"); return NULL; }
    if (kcl_ddb_build_get_item(req, &b, err) != 0) return NULL;
    return op_start(d, OP_ITEM, "GetItem", "Item", &b, req->call,
                    (op_cb){.item = cb}, ud, err);
}

kcl_ddb_op *kcl_ddb_put_item(kcl_ddb *d, const kcl_ddb_put_req *req, kcl_ddb_item_fn cb, void *ud,
                             kcl_error *err)
{
    kcl_buf b = KCL_BUF_INIT;
    if (!d || !req) { invalid(err, "no client or request"); return NULL; }
    if (kcl_ddb_build_put_item(req, &b, err) != 0) return NULL;
    return op_start(d, OP_ITEM, "PutItem", "Attributes", &b, req->call,
                    (op_cb){.item = cb}, ud, err);
}

kcl_ddb_op *kcl_ddb_update_item(kcl_ddb *d, const kcl_ddb_update_req *req, kcl_ddb_item_fn cb,
                                void *ud, kcl_error *err)
{
    kcl_buf b = KCL_BUF_INIT;
    if (!d || !req) { invalid(err, "no client or request"); return NULL; }
    if (kcl_ddb_build_update_item(req, &b, err) != 0) return NULL;
    return op_start(d, OP_ITEM, "UpdateItem", "Attributes", &b, req->call,
                    (op_cb){.item = cb}, ud, err);
}

kcl_ddb_op *kcl_ddb_delete_item(kcl_ddb *d, const kcl_ddb_delete_req *req, kcl_ddb_item_fn cb,
                                void *ud, kcl_error *err)
{
    kcl_buf b = KCL_BUF_INIT;
    if (!d || !req) { invalid(err, "no client or request"); return NULL; }
    if (kcl_ddb_build_delete_item(req, &b, err) != 0) return NULL;
    return op_start(d, OP_ITEM, "DeleteItem", "Attributes", &b, req->call,
                    (op_cb){.item = cb}, ud, err);
}

kcl_ddb_op *kcl_ddb_scan(kcl_ddb *d, const kcl_ddb_scan_req *req, kcl_ddb_scan_fn cb, void *ud,
                         kcl_error *err)
{
    kcl_buf b = KCL_BUF_INIT;
    if (!d || !req) { invalid(err, "no client or request"); return NULL; }
    if (kcl_ddb_build_scan(req, NULL, &b, err) != 0) return NULL;
    return op_start(d, OP_SCAN, "Scan", NULL, &b, req->call,
                    (op_cb){.scan = cb}, ud, err);
}
