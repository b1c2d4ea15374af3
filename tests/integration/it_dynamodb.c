/* it_dynamodb — the typed DynamoDB client against real dynalite, every call
 * going through the fault proxy (which checks each request's SigV4 on its
 * own), plus injected faults: throttling, 5xx, garbage.
 * harness: --proxy */
#include "credentials.h"
#include "dynamodb.h"
#include "http.h"
#include "json.h"
#include "itlib.h"
#include "testlib.h"

#include <ev.h>
#include <stdlib.h>

#define WAIT_MS 15000

static struct ev_loop *loop;
static kcl_http *http;
static kcl_ddb *ddb;        /* through the proxy */
static kcl_ddb *direct;     /* straight to dynalite */
static const char *proxy_url;
static char table[128];

/* ---- one completion, whatever the operation --------------------------------------- */

typedef struct waiter {
    int done;
    kcl_error err;
    int attempts;
    int found;
    kcl_ddb_item item;
    kcl_ddb_table table;
    kcl_ddb_items items;
    int pages;
} waiter;

static void waiter_reset(waiter *w)
{
    kcl_ddb_item_free(&w->item);
    kcl_ddb_items_free(&w->items);
    memset(w, 0, sizeof *w);
}

static void on_table(kcl_ddb_table_result *r, void *ud)
{
    waiter *w = ud;
    w->err = r->err;
    w->attempts = r->attempts;
    w->table = r->table;
    w->done = 1;
}

static void on_item(kcl_ddb_item_result *r, void *ud)
{
    waiter *w = ud;
    w->err = r->err;
    w->attempts = r->attempts;
    w->found = r->found;
    kcl_ddb_item_move(&w->item, &r->item);   /* take ownership */
    w->done = 1;
}

static void on_scan(kcl_ddb_scan_result *r, void *ud)
{
    waiter *w = ud;
    w->err = r->err;
    w->pages = r->pages;
    w->items = r->items;                     /* take ownership */
    memset(&r->items, 0, sizeof r->items);
    w->done = 1;
}

/* Wait for an operation started with `op` (NULL = it could not start). */
static int wait_op(kcl_ddb_op *op, waiter *w, const kcl_error *start_err)
{
    if (!op) {
        fprintf(stderr, "operation did not start: %s\n", start_err->message);
        return -1;
    }
    return kcl_it_wait_done(loop, &w->done, WAIT_MS);
}

static kcl_err_kind describe(kcl_ddb *d, const char *name, waiter *w)
{
    kcl_error err;
    waiter_reset(w);
    if (wait_op(kcl_ddb_describe_table(d, name, NULL, on_table, w, &err), w, &err) != 0) return KCL_ERR_FATAL;
    return w->err.kind;
}

static kcl_err_kind get(kcl_ddb *d, const char *tbl, const char *key, waiter *w)
{
    kcl_ddb_item k = KCL_DDB_ITEM_INIT;
    kcl_ddb_item_add_s(&k, "leaseKey", key);
    kcl_ddb_get_req req = {.table = tbl, .key = &k, .consistent = 1};
    kcl_error err;
    waiter_reset(w);
    int rc = wait_op(kcl_ddb_get_item(d, &req, on_item, w, &err), w, &err);
    kcl_ddb_item_free(&k);
    return rc == 0 ? w->err.kind : KCL_ERR_FATAL;
}

static kcl_err_kind update(const kcl_ddb_update_req *req, waiter *w)
{
    kcl_error err;
    waiter_reset(w);
    if (wait_op(kcl_ddb_update_item(ddb, req, on_item, w, &err), w, &err) != 0) return KCL_ERR_FATAL;
    return w->err.kind;
}

/* ---- the proxy's control endpoints ---------------------------------------------------- */

typedef struct ctl {
    int done;
    long status;
    kcl_buf body;
} ctl;

static void on_ctl(kcl_http_resp *resp, void *ud)
{
    ctl *c = ud;
    c->status = resp->status;
    kcl_buf_append(&c->body, resp->body.data, resp->body.len);
    c->done = 1;
}

static long proxy_ctl(const char *method, const char *path, const char *json, kcl_buf *out)
{
    char url[512];
    snprintf(url, sizeof url, "%s%s", proxy_url, path);
    const char *headers[] = {"Content-Type: application/json", NULL};
    kcl_http_opts o;
    memset(&o, 0, sizeof o);
    o.method = method;
    o.url = url;
    o.headers = headers;
    o.body = json;
    o.body_len = json ? strlen(json) : 0;
    o.retry.max_attempts = 1;
    ctl c = {0, 0, KCL_BUF_INIT};
    kcl_error err;
    if (!kcl_http_send(http, &o, on_ctl, &c, &err) || kcl_test_run_until(loop, &c.done, WAIT_MS) != 0) {
        kcl_buf_free(&c.body);
        return -1;
    }
    if (out) kcl_buf_append(out, c.body.data, c.body.len);
    kcl_buf_free(&c.body);
    return c.status;
}

static void inject(const char *json)
{
    CHECK_EQ_INT(proxy_ctl("POST", "/__luakcl/faults", json, NULL), 200);
}

/* ---- the scenarios ---------------------------------------------------------------------- */

static void create_and_wait(void)
{
    waiter w = {0};
    kcl_error err;
    kcl_ddb_create_table_req req = {.table = table, .hash_key = "leaseKey", .hash_type = KCL_DDB_S,
                                    .billing = KCL_DDB_PAY_PER_REQUEST};
    wait_op(kcl_ddb_create_table(ddb, &req, on_table, &w, &err), &w, &err);
    CHECK_MSG(w.err.kind == KCL_ERR_NONE, "CreateTable: %s", w.err.message);
    CHECK_EQ_STR(w.table.name, table);
    CHECK_EQ_STR(w.table.hash_key, "leaseKey");

    int active = 0;
    for (int i = 0; i < 100 && !active; i++) {
        CHECK_EQ_INT(describe(ddb, table, &w), KCL_ERR_NONE);
        active = w.table.status == KCL_DDB_TABLE_ACTIVE;
        if (!active) kcl_it_pause_ms(loop, 20);
    }
    CHECK_MSG(active, "table never became ACTIVE (last %s)", w.table.status_name);
    CHECK_EQ_STR(w.table.status_name, "ACTIVE");
    CHECK_EQ_INT(w.table.billing, KCL_DDB_PAY_PER_REQUEST);
    CHECK_EQ_INT(w.table.hash_type, KCL_DDB_S);
    CHECK_EQ_STR(w.table.range_key, "");
    CHECK_EQ_INT(w.table.item_count, 0);
    CHECK(strstr(w.table.arn, table) != NULL);

    /* Again: ResourceInUseException. */
    waiter_reset(&w);
    wait_op(kcl_ddb_create_table(ddb, &req, on_table, &w, &err), &w, &err);
    CHECK_EQ_INT(w.err.kind, KCL_ERR_IN_USE);
    CHECK_EQ_INT(w.err.http_status, 400);
    waiter_reset(&w);
}

static void put_get_update_delete(void)
{
    waiter w = {0};
    kcl_error err;
    kcl_ddb_item it = KCL_DDB_ITEM_INIT;
    const char *parents[] = {"shardId-000000000000", "shardId-000000000001"};
    kcl_ddb_item_add_s(&it, "leaseKey", "shardId-000000000002");
    kcl_ddb_item_add_n_int64(&it, "leaseCounter", 1);
    kcl_ddb_item_add_s(&it, "leaseOwner", "worker-a");
    kcl_ddb_item_add_s(&it, "checkpoint", "TRIM_HORIZON");
    kcl_ddb_item_add_n_int64(&it, "checkpointSubSequenceNumber", 0);
    kcl_ddb_item_add_ss(&it, "parentShardId", parents, 2);
    kcl_ddb_item_add_b(&it, "blob", "\0\x01\xff\0z", 5);
    kcl_ddb_item_add_bool(&it, "active", 1);
    const char *m = "{\"inner\":{\"N\":\"5\"}}";
    kcl_ddb_item_add_m_json(&it, "foreign", m, strlen(m));

    kcl_ddb_put_req put = {.table = table, .item = &it, .condition = "attribute_not_exists(leaseKey)"};
    wait_op(kcl_ddb_put_item(ddb, &put, on_item, &w, &err), &w, &err);
    CHECK_MSG(w.err.kind == KCL_ERR_NONE, "PutItem: %s", w.err.message);
    CHECK_EQ_INT(w.found, 0);
    waiter_reset(&w);
    wait_op(kcl_ddb_put_item(ddb, &put, on_item, &w, &err), &w, &err);
    CHECK_EQ_INT(w.err.kind, KCL_ERR_CONDITION_FAILED);
    CHECK(strstr(w.err.code, "ConditionalCheckFailed") != NULL);

    /* GetItem (consistent): every attribute as written. */
    CHECK_EQ_INT(get(ddb, table, "shardId-000000000002", &w), KCL_ERR_NONE);
    CHECK_EQ_INT(w.found, 1);
    CHECK_EQ_INT(w.item.n, it.n);
    const void *b;
    size_t blen;
    CHECK(kcl_ddb_item_get_b(&w.item, "blob", &b, &blen) == 0 && blen == 5 && memcmp(b, "\0\x01\xff\0z", 5) == 0);
    const kcl_ddb_val *vals;
    size_t nv;
    CHECK(kcl_ddb_item_get_set(&w.item, "parentShardId", KCL_DDB_SS, &vals, &nv) == 0 && nv == 2);
    const char *js;
    size_t jl;
    CHECK(kcl_ddb_item_get_json(&w.item, "foreign", KCL_DDB_M, &js, &jl) == 0 && strcmp(js, m) == 0);

    /* The lease-counter update: a reserved word needs ExpressionAttributeNames. */
    kcl_ddb_item key = KCL_DDB_ITEM_INIT, vals1 = KCL_DDB_ITEM_INIT;
    kcl_ddb_item_add_s(&key, "leaseKey", "shardId-000000000002");
    kcl_ddb_item_add_n_int64(&vals1, ":expected", 1);
    kcl_ddb_item_add_n_int64(&vals1, ":one", 1);
    kcl_ddb_item_add_s(&vals1, ":owner", "worker-b");
    kcl_ddb_item_add_n_int64(&vals1, ":ts", 1700000000123);
    const char *names[] = {"#c", "leaseCounter", "#o", "leaseOwner", "#t", "timestamp", NULL};
    kcl_ddb_update_req up = {.table = table, .key = &key, .update = "SET #c = #c + :one, #o = :owner, #t = :ts",
                             .condition = "#c = :expected", .names = names, .values = &vals1,
                             .ret = KCL_DDB_RETURN_ALL_NEW};
    CHECK_EQ_INT(update(&up, &w), KCL_ERR_NONE);
    CHECK_EQ_INT(w.found, 1);
    int64_t c = 0;
    const char *s = NULL;
    CHECK(kcl_ddb_item_get_int64(&w.item, "leaseCounter", &c) == 0 && c == 2);
    CHECK(kcl_ddb_item_get_s(&w.item, "leaseOwner", &s) == 0 && strcmp(s, "worker-b") == 0);
    CHECK(kcl_ddb_item_get_int64(&w.item, "timestamp", &c) == 0 && c == 1700000000123);
    CHECK(kcl_ddb_item_get(&w.item, "blob") != NULL);   /* ALL_NEW: the untouched ones too */
    /* The same expected counter again: stale now. */
    CHECK_EQ_INT(update(&up, &w), KCL_ERR_CONDITION_FAILED);
    /* The reserved word without a placeholder: ValidationException. */
    kcl_ddb_update_req bad = up;
    bad.update = "SET timestamp = :ts";
    bad.condition = NULL;
    bad.names = NULL;
    kcl_ddb_item vts = KCL_DDB_ITEM_INIT;
    kcl_ddb_item_add_n_int64(&vts, ":ts", 1);
    bad.values = &vts;
    CHECK_EQ_INT(update(&bad, &w), KCL_ERR_INVALID_ARGUMENT);

    /* REMOVE an attribute; ADD to a string set; UPDATED_NEW returns just those. */
    kcl_ddb_item vals2 = KCL_DDB_ITEM_INIT;
    const char *more[] = {"shardId-000000000009"};
    kcl_ddb_item_add_ss(&vals2, ":more", more, 1);
    kcl_ddb_update_req rm = {.table = table, .key = &key, .update = "REMOVE checkpointSubSequenceNumber ADD parentShardId :more",
                             .values = &vals2, .ret = KCL_DDB_RETURN_ALL_NEW};
    CHECK_EQ_INT(update(&rm, &w), KCL_ERR_NONE);
    CHECK(kcl_ddb_item_get(&w.item, "checkpointSubSequenceNumber") == NULL);
    CHECK(kcl_ddb_item_get_set(&w.item, "parentShardId", KCL_DDB_SS, &vals, &nv) == 0 && nv == 3);
    CHECK(kcl_ddb_item_get(&w.item, "leaseOwner") != NULL);

    /* GetItem of a key that is not there: no error, not found. */
    CHECK_EQ_INT(get(ddb, table, "no-such-lease", &w), KCL_ERR_NONE);
    CHECK_EQ_INT(w.found, 0);
    CHECK_EQ_INT(w.item.n, 0);

    /* DeleteItem with a condition: wrong counter fails, right one returns ALL_OLD. */
    kcl_ddb_item vals3 = KCL_DDB_ITEM_INIT;
    kcl_ddb_item_add_n_int64(&vals3, ":expected", 7);
    kcl_ddb_delete_req del = {.table = table, .key = &key, .condition = "#c = :expected",
                              .names = (const char *const[]){"#c", "leaseCounter", NULL}, .values = &vals3,
                              .ret = KCL_DDB_RETURN_ALL_OLD};
    waiter_reset(&w);
    wait_op(kcl_ddb_delete_item(ddb, &del, on_item, &w, &err), &w, &err);
    CHECK_EQ_INT(w.err.kind, KCL_ERR_CONDITION_FAILED);
    kcl_ddb_item_add_n_int64(&vals3, ":expected", 2);
    waiter_reset(&w);
    wait_op(kcl_ddb_delete_item(ddb, &del, on_item, &w, &err), &w, &err);
    CHECK_MSG(w.err.kind == KCL_ERR_NONE, "DeleteItem: %s", w.err.message);
    CHECK_EQ_INT(w.found, 1);
    CHECK(kcl_ddb_item_get_s(&w.item, "leaseOwner", &s) == 0 && strcmp(s, "worker-b") == 0);
    CHECK_EQ_INT(get(direct, table, "shardId-000000000002", &w), KCL_ERR_NONE);
    CHECK_EQ_INT(w.found, 0);

    waiter_reset(&w);
    kcl_ddb_item_free(&vals1);
    kcl_ddb_item_free(&vals2);
    kcl_ddb_item_free(&vals3);
    kcl_ddb_item_free(&vts);
    kcl_ddb_item_free(&key);
    kcl_ddb_item_free(&it);
}

#define NSCAN 250

static void scan_all_pages(void)
{
    static waiter ws[50];
    kcl_error err;
    /* 250 items, 50 in flight at a time. */
    int ok = 0;
    for (int base = 0; base < NSCAN; base += 50) {
        int all = 0;
        for (int i = 0; i < 50; i++) {
            char k[32];
            snprintf(k, sizeof k, "scan-%03d", base + i);
            kcl_ddb_item it = KCL_DDB_ITEM_INIT;
            kcl_ddb_item_add_s(&it, "leaseKey", k);
            kcl_ddb_item_add_n_int64(&it, "n", base + i);
            kcl_ddb_put_req put = {.table = table, .item = &it};
            waiter_reset(&ws[i]);
            if (!kcl_ddb_put_item(ddb, &put, on_item, &ws[i], &err)) ws[i].done = 1;
            kcl_ddb_item_free(&it);
        }
        for (int i = 0; i < 50; i++) {
            if (kcl_test_run_until(loop, &ws[i].done, WAIT_MS) == 0 && ws[i].err.kind == KCL_ERR_NONE) ok++;
            all++;
        }
        CHECK_EQ_INT(all, 50);
    }
    CHECK_EQ_INT(ok, NSCAN);

    waiter w = {0};
    kcl_ddb_scan_req req = {.table = table, .limit = 50, .consistent = 1};
    wait_op(kcl_ddb_scan(ddb, &req, on_scan, &w, &err), &w, &err);
    CHECK_MSG(w.err.kind == KCL_ERR_NONE, "Scan: %s", w.err.message);
    CHECK_EQ_INT(w.items.n, NSCAN);
    CHECK_MSG(w.pages >= NSCAN / 50, "pages = %d", w.pages);
    char seen[NSCAN] = {0};
    int distinct = 0;
    for (size_t i = 0; i < w.items.n; i++) {
        int64_t n = -1;
        if (kcl_ddb_item_get_int64(&w.items.v[i], "n", &n) == 0 && n >= 0 && n < NSCAN && !seen[n]) {
            seen[n] = 1;
            distinct++;
        }
    }
    CHECK_EQ_INT(distinct, NSCAN);

    /* A filter with values and names: only n < 10 (still all pages). */
    kcl_ddb_item fv = KCL_DDB_ITEM_INIT;
    kcl_ddb_item_add_n_int64(&fv, ":max", 10);
    kcl_ddb_scan_req freq = {.table = table, .limit = 50, .filter = "#n < :max",
                             .names = (const char *const[]){"#n", "n", NULL}, .values = &fv};
    waiter_reset(&w);
    wait_op(kcl_ddb_scan(ddb, &freq, on_scan, &w, &err), &w, &err);
    CHECK_MSG(w.err.kind == KCL_ERR_NONE, "Scan with filter: %s", w.err.message);
    CHECK_EQ_INT(w.items.n, 10);
    CHECK(w.pages >= NSCAN / 50);
    kcl_ddb_item_free(&fv);
    waiter_reset(&w);
    for (int i = 0; i < 50; i++) waiter_reset(&ws[i]);
}

#define NRACE 20

static void race(void)
{
    static waiter ws[NRACE];
    kcl_ddb_item vals[NRACE];
    waiter w = {0};
    kcl_error err;
    kcl_ddb_item it = KCL_DDB_ITEM_INIT, key = KCL_DDB_ITEM_INIT;
    kcl_ddb_item_add_s(&it, "leaseKey", "race");
    kcl_ddb_item_add_n_int64(&it, "leaseCounter", 10);
    kcl_ddb_item_add_s(&it, "leaseOwner", "nobody");
    kcl_ddb_put_req put = {.table = table, .item = &it};
    wait_op(kcl_ddb_put_item(ddb, &put, on_item, &w, &err), &w, &err);
    CHECK_EQ_INT(w.err.kind, KCL_ERR_NONE);
    kcl_ddb_item_add_s(&key, "leaseKey", "race");
    const char *names[] = {"#c", "leaseCounter", "#o", "leaseOwner", NULL};
    int started = 0;
    for (int i = 0; i < NRACE; i++) {
        char owner[32];
        snprintf(owner, sizeof owner, "taker-%d", i);
        memset(&vals[i], 0, sizeof vals[i]);
        kcl_ddb_item_add_n_int64(&vals[i], ":expected", 10);
        kcl_ddb_item_add_n_int64(&vals[i], ":one", 1);
        kcl_ddb_item_add_s(&vals[i], ":me", owner);
        kcl_ddb_update_req up = {.table = table, .key = &key, .update = "SET #c = #c + :one, #o = :me",
                                 .condition = "#c = :expected", .names = names, .values = &vals[i]};
        memset(&ws[i], 0, sizeof ws[i]);
        if (kcl_ddb_update_item(ddb, &up, on_item, &ws[i], &err)) started++;
        else ws[i].done = 1;
    }
    CHECK_EQ_INT(started, NRACE);
    int won = 0, lost = 0, winner = -1;
    for (int i = 0; i < NRACE; i++) {
        CHECK_EQ_INT(kcl_test_run_until(loop, &ws[i].done, WAIT_MS), 0);
        if (ws[i].err.kind == KCL_ERR_NONE) { won++; winner = i; }
        else if (ws[i].err.kind == KCL_ERR_CONDITION_FAILED) lost++;
        else fprintf(stderr, "race update %d: %s\n", i, ws[i].err.message);
    }
    CHECK_EQ_INT(won, 1);
    CHECK_EQ_INT(lost, NRACE - 1);
    CHECK_EQ_INT(get(ddb, table, "race", &w), KCL_ERR_NONE);
    int64_t c = 0;
    const char *o = NULL;
    char want[32];
    snprintf(want, sizeof want, "taker-%d", winner);
    CHECK(kcl_ddb_item_get_int64(&w.item, "leaseCounter", &c) == 0 && c == 11);
    CHECK(kcl_ddb_item_get_s(&w.item, "leaseOwner", &o) == 0 && strcmp(o, want) == 0);
    for (int i = 0; i < NRACE; i++) {
        kcl_ddb_item_free(&vals[i]);
        waiter_reset(&ws[i]);
    }
    waiter_reset(&w);
    kcl_ddb_item_free(&it);
    kcl_ddb_item_free(&key);
}

static void missing_table(void)
{
    waiter w = {0};
    const char *none = "luakcl-no-such-table";
    CHECK_EQ_INT(get(ddb, none, "x", &w), KCL_ERR_NOT_FOUND);
    CHECK(strstr(w.err.code, "ResourceNotFound") != NULL);
    CHECK_EQ_INT(describe(direct, none, &w), KCL_ERR_NOT_FOUND);
    waiter_reset(&w);
}

static void faults(void)
{
    waiter w = {0};
    kcl_error err;
    CHECK_EQ_INT(get(ddb, table, "race", &w), KCL_ERR_NONE);   /* baseline */

    /* Throttled twice, then through: retried, three attempts in all. */
    inject("{\"match\":\"DynamoDB_20120810.GetItem\",\"action\":\"error\",\"status\":400,\"count\":2,"
           "\"type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\"}");
    CHECK_EQ_INT(get(ddb, table, "race", &w), KCL_ERR_NONE);
    CHECK_EQ_INT(w.attempts, 3);
    CHECK_EQ_INT(w.found, 1);
    /* Throttled on every attempt: KCL_ERR_THROTTLED after the retries. */
    inject("{\"match\":\"DynamoDB_20120810.GetItem\",\"action\":\"error\",\"status\":400,\"count\":3,"
           "\"type\":\"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException\"}");
    CHECK_EQ_INT(get(ddb, table, "race", &w), KCL_ERR_THROTTLED);
    CHECK_EQ_INT(w.attempts, 3);
    CHECK(strstr(w.err.code, "ProvisionedThroughputExceeded") != NULL);
    /* 500 on every attempt: KCL_ERR_RETRYABLE after the retries. */
    inject("{\"match\":\"DynamoDB_20120810.UpdateItem\",\"action\":\"status\",\"status\":500,\"count\":3}");
    kcl_ddb_item key = KCL_DDB_ITEM_INIT, v = KCL_DDB_ITEM_INIT;
    kcl_ddb_item_add_s(&key, "leaseKey", "race");
    kcl_ddb_item_add_s(&v, ":x", "y");
    kcl_ddb_update_req up = {.table = table, .key = &key, .update = "SET extra = :x", .values = &v};
    CHECK_EQ_INT(update(&up, &w), KCL_ERR_RETRYABLE);
    CHECK_EQ_INT(w.attempts, 3);
    CHECK_EQ_INT(w.err.http_status, 500);
    /* Garbage with a 200: typed as malformed, for each decoder. */
    inject("{\"match\":\"DynamoDB_20120810.GetItem\",\"action\":\"garbage\"}");
    CHECK_EQ_INT(get(ddb, table, "race", &w), KCL_ERR_MALFORMED);
    inject("{\"match\":\"DynamoDB_20120810.DescribeTable\",\"action\":\"garbage\"}");
    CHECK_EQ_INT(describe(ddb, table, &w), KCL_ERR_MALFORMED);
    inject("{\"match\":\"DynamoDB_20120810.Scan\",\"action\":\"garbage\"}");
    kcl_ddb_scan_req sreq = {.table = table};
    waiter_reset(&w);
    wait_op(kcl_ddb_scan(ddb, &sreq, on_scan, &w, &err), &w, &err);
    CHECK_EQ_INT(w.err.kind, KCL_ERR_MALFORMED);
    CHECK_EQ_INT(w.items.n, 0);
    inject("{\"match\":\"DynamoDB_20120810.UpdateItem\",\"action\":\"garbage\"}");
    up.ret = KCL_DDB_RETURN_ALL_NEW;
    CHECK_EQ_INT(update(&up, &w), KCL_ERR_MALFORMED);
    /* Afterwards all is well again. */
    CHECK_EQ_INT(get(ddb, table, "race", &w), KCL_ERR_NONE);
    CHECK_EQ_INT(w.attempts, 1);

    /* Every request the proxy forwarded carried a valid signature. */
    kcl_buf stats = KCL_BUF_INIT;
    CHECK_EQ_INT(proxy_ctl("GET", "/__luakcl/stats", NULL, &stats), 200);
    kcl_json doc = {0};
    int64_t verified = -1, failures = -1, injected = -1;
    CHECK_EQ_INT(kcl_json_parse(&doc, kcl_buf_cstr(&stats), stats.len, 0, &err), 0);
    kcl_jv root = kcl_json_root(&doc);
    kcl_json_int64(&doc, kcl_json_get(&doc, root, "verified"), &verified);
    kcl_json_int64(&doc, kcl_json_get(&doc, root, "signature_failures"), &failures);
    kcl_json_int64(&doc, kcl_json_get(&doc, root, "injected"), &injected);
    CHECK_MSG(verified > 0, "proxy stats: %s", kcl_buf_cstr(&stats));
    CHECK_EQ_INT(failures, 0);
    CHECK_EQ_INT(injected, 2 + 3 + 3 + 4);
    kcl_json_free(&doc);
    kcl_buf_free(&stats);
    kcl_ddb_item_free(&key);
    kcl_ddb_item_free(&v);
    waiter_reset(&w);
}

static void delete_table(void)
{
    waiter w = {0};
    kcl_error err;
    wait_op(kcl_ddb_delete_table(ddb, table, NULL, on_table, &w, &err), &w, &err);
    CHECK_MSG(w.err.kind == KCL_ERR_NONE, "DeleteTable: %s", w.err.message);
    CHECK_EQ_STR(w.table.name, table);
    kcl_err_kind k = KCL_ERR_NONE;
    for (int i = 0; i < 100 && k == KCL_ERR_NONE; i++) {
        k = describe(ddb, table, &w);
        if (k == KCL_ERR_NONE) kcl_it_pause_ms(loop, 20);
    }
    CHECK_EQ_INT(k, KCL_ERR_NOT_FOUND);
    waiter_reset(&w);
}

int main(void)
{
    const char *endpoint = kcl_test_env("LUAKCL_TEST_DYNAMODB_ENDPOINT");
    proxy_url = kcl_test_env("LUAKCL_TEST_DYNAMODB_PROXY");
    const char *region = kcl_test_env("AWS_REGION");
    snprintf(table, sizeof table, "%s", kcl_test_unique("luakcl-it-ddb"));

    kcl_error err;
    loop = ev_loop_new(EVFLAG_AUTO);
    http = kcl_http_new(loop, &err);
    CHECK_MSG(http != NULL, "kcl_http_new: %s", err.message);
    kcl_creds_provider *creds = kcl_it_env_creds(loop, http, &err);
    CHECK_MSG(creds != NULL, "credentials: %s", err.message);
    if (!http || !creds) return TEST_END();

    kcl_ddb_opts o = {.endpoint = proxy_url, .region = region,
                      .retry = {.max_attempts = 3, .base_ms = 5, .max_ms = 20}};
    ddb = kcl_ddb_new(loop, http, creds, &o, &err);
    CHECK_MSG(ddb != NULL, "kcl_ddb_new: %s", err.message);
    o.endpoint = endpoint;
    direct = kcl_ddb_new(loop, http, creds, &o, &err);
    CHECK(direct != NULL);
    CHECK(kcl_ddb_new(loop, http, creds, &(kcl_ddb_opts){.region = region}, &err) == NULL);
    CHECK_EQ_INT(err.kind, KCL_ERR_INVALID_ARGUMENT);
    if (!ddb || !direct) return TEST_END();
    CHECK_EQ_INT(proxy_ctl("POST", "/__luakcl/reset", "{}", NULL), 200);

    create_and_wait();
    put_get_update_delete();
    scan_all_pages();
    race();
    missing_table();
    faults();

    /* A cancelled operation never calls back and leaves nothing behind. */
    waiter w = {0};
    kcl_ddb_op *op = kcl_ddb_describe_table(ddb, table, NULL, on_table, &w, &err);
    CHECK(op != NULL);
    CHECK_EQ_INT(kcl_ddb_pending(ddb), 1);
    kcl_ddb_cancel(op);
    CHECK_EQ_INT(kcl_ddb_pending(ddb), 0);

    delete_table();
    CHECK_EQ_INT(w.done, 0);
    CHECK_EQ_INT(kcl_ddb_pending(ddb), 0);
    CHECK_EQ_INT(kcl_ddb_pending(direct), 0);

    kcl_ddb_free(ddb);
    kcl_ddb_free(direct);
    kcl_creds_provider_free(creds);
    kcl_http_free(http);
    ev_loop_destroy(loop);
    return TEST_END();
}
