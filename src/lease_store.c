#include "lease_store.h"

#include "log.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

struct kcl_lease_store {
    struct ev_loop *loop;
    kcl_ddb *ddb;
    char *table;
    int provisioned;
    int64_t rcu, wcu;
    double create_timeout_ms;
    kcl_lease_op *ops;              /* in flight, doubly linked */
    int nops;
};

typedef enum { OP_DONE, OP_LIST, OP_GET, OP_ENSURE } op_kind;

struct kcl_lease_op {
    kcl_lease_store *store;
    kcl_lease_op *prev, *next;
    op_kind kind;
    kcl_ddb_op *ddb_op;
    ev_timer poll;                  /* ensure_table: DescribeTable polling */
    double deadline;                /* ensure_table: ev_now() limit */
    union {
        kcl_lease_done_fn done;
        kcl_lease_list_fn list;
        kcl_lease_get_fn get;
    } cb;
    void *ud;
};

kcl_lease_store *kcl_lease_store_new(struct ev_loop *loop, kcl_ddb *ddb,
                                     const kcl_lease_store_opts *o, kcl_error *err)
{
    if (!loop || !ddb || !o || !o->table || !*o->table || strlen(o->table) > 255) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL,
                      "lease store: a loop, a DynamoDB client and a table name of 1..255 characters are required");
        return NULL;
    }
    kcl_lease_store *s = calloc(1, sizeof *s);
    if (!s || !(s->table = strdup(o->table))) {
        free(s);
        kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory");
        return NULL;
    }
    s->loop = loop;
    s->ddb = ddb;
    s->provisioned = o->provisioned;
    s->rcu = o->rcu > 0 ? o->rcu : 10;
    s->wcu = o->wcu > 0 ? o->wcu : 10;
    s->create_timeout_ms = o->create_timeout_ms > 0 ? o->create_timeout_ms : 60000;
    return s;
}

const char *kcl_lease_store_table(const kcl_lease_store *s) { return s->table; }
int kcl_lease_store_pending(const kcl_lease_store *s) { return s ? s->nops : 0; }

static kcl_lease_op *op_new(kcl_lease_store *s, op_kind kind, void *ud)
{
    kcl_lease_op *op = calloc(1, sizeof *op);
    if (!op) return NULL;
    op->store = s;
    op->kind = kind;
    op->ud = ud;
    op->next = s->ops;
    if (s->ops) s->ops->prev = op;
    s->ops = op;
    s->nops++;
    return op;
}

static void op_free(kcl_lease_op *op)
{
    kcl_lease_store *s = op->store;
    ev_timer_stop(s->loop, &op->poll);
    if (op->prev) op->prev->next = op->next;
    else s->ops = op->next;
    if (op->next) op->next->prev = op->prev;
    s->nops--;
    free(op);
}

void kcl_lease_op_cancel(kcl_lease_op *op)
{
    if (!op) return;
    if (op->ddb_op) kcl_ddb_cancel(op->ddb_op);
    op_free(op);
}

void kcl_lease_store_free(kcl_lease_store *s)
{
    if (!s) return;
    while (s->ops) kcl_lease_op_cancel(s->ops);
    free(s->table);
    free(s);
}

/* Finish a plain-result operation: free it, then call back. */
static void finish_done(kcl_lease_op *op, const kcl_error *err)
{
    kcl_lease_done_fn cb = op->cb.done;
    void *ud = op->ud;
    op->ddb_op = NULL;
    op_free(op);
    cb(err && err->kind != KCL_ERR_NONE ? err : NULL, ud);
}

static void on_item_done(kcl_ddb_item_result *res, void *ud)
{
    finish_done(ud, &res->err);
}

/* Start a write; on immediate failure, free the op and return NULL. */
static kcl_lease_op *start_update(kcl_lease_store *s, const kcl_ddb_item *key, const char *update,
                                  const char *condition, const char *const *names,
                                  const kcl_ddb_item *values, kcl_lease_done_fn done, void *ud)
{
    kcl_lease_op *op = op_new(s, OP_DONE, ud);
    if (!op) return NULL;
    op->cb.done = done;
    kcl_ddb_update_req req;
    memset(&req, 0, sizeof req);
    req.table = s->table;
    req.key = key;
    req.update = update;
    req.condition = condition;
    req.names = names;
    req.values = values;
    kcl_error err;
    op->ddb_op = kcl_ddb_update_item(s->ddb, &req, on_item_done, op, &err);
    if (!op->ddb_op) {
        KCL_ERROR(NULL, "lease table %s: cannot start update: %s", s->table, err.message);
        op_free(op);
        return NULL;
    }
    return op;
}

/* The names every conditional write uses. */
static const char *const common_names[] = {
    "#c", KCL_LEASE_A_COUNTER, "#o", KCL_LEASE_A_OWNER,
    "#cp", KCL_LEASE_A_CHECKPOINT, "#cs", KCL_LEASE_A_CHECKPOINT_SUB,
    "#sw", KCL_LEASE_A_OWNER_SWITCHES, "#p", KCL_LEASE_A_PENDING,
    "#ps", KCL_LEASE_A_PENDING_SUB, "#pst", KCL_LEASE_A_PENDING_STATE,
    "#ch", KCL_LEASE_A_CHILDREN, NULL
};

/* Conditional write on (counter, owner?) with the given update; builds the
 * key and the :expected, :one, :owner values, plus `extra` values. */
static kcl_lease_op *owner_write(kcl_lease_store *s, const char *lease_key, int64_t counter,
                                 const char *owner, const char *update, kcl_ddb_item *extra,
                                 kcl_lease_done_fn done, void *ud)
{
    kcl_ddb_item key = {0}, values = {0};
    int rc = kcl_ddb_item_add_s(&key, KCL_LEASE_A_KEY, lease_key);
    rc |= kcl_ddb_item_add_n_int64(&values, ":expected", counter);
    rc |= kcl_ddb_item_add_n_int64(&values, ":one", 1);
    if (owner) rc |= kcl_ddb_item_add_s(&values, ":owner", owner);
    for (size_t i = 0; extra && i < extra->n && rc == 0; i++)
        rc |= kcl_ddb_item_add_attr(&values, &extra->attrs[i]);
    /* Only the names the expressions use may be sent. */
    const char *names[sizeof common_names / sizeof common_names[0]];
    size_t nn = 0;
    for (size_t i = 0; common_names[i]; i += 2) {
        const char *ph = common_names[i];
        size_t len = strlen(ph);
        int used = 0;
        for (const char *p = update; (p = strstr(p, ph)) != NULL; p += len)
            if (!((p[len] >= 'a' && p[len] <= 'z') || (p[len] >= 'A' && p[len] <= 'Z'))) { used = 1; break; }
        if (strcmp(ph, "#c") == 0 || (owner && strcmp(ph, "#o") == 0)) used = 1;
        if (used) { names[nn++] = common_names[i]; names[nn++] = common_names[i + 1]; }
    }
    names[nn] = NULL;
    kcl_lease_op *op = NULL;
    if (rc == 0) {
        const char *cond = owner ? "#c = :expected AND #o = :owner" : "#c = :expected";
        op = start_update(s, &key, update, cond, names, &values, done, ud);
    }
    kcl_ddb_item_free(&key);
    kcl_ddb_item_free(&values);
    return op;
}

kcl_lease_op *kcl_lease_store_renew(kcl_lease_store *s, const char *key, int64_t counter,
                                    const char *owner, kcl_lease_done_fn done, void *ud)
{
    return owner_write(s, key, counter, owner, "SET #c = #c + :one", NULL, done, ud);
}

kcl_lease_op *kcl_lease_store_take(kcl_lease_store *s, const char *key, int64_t counter,
                                   const char *new_owner, kcl_lease_done_fn done, void *ud)
{
    kcl_ddb_item extra = {0};
    kcl_lease_op *op = NULL;
    if (kcl_ddb_item_add_s(&extra, ":newowner", new_owner) == 0 &&
        kcl_ddb_item_add_n_int64(&extra, ":zero", 0) == 0)
        op = owner_write(s, key, counter, NULL,
                         "SET #c = #c + :one, #o = :newowner, "
                         "#sw = if_not_exists(#sw, :zero) + :one", &extra, done, ud);
    kcl_ddb_item_free(&extra);
    return op;
}

kcl_lease_op *kcl_lease_store_release(kcl_lease_store *s, const char *key, int64_t counter,
                                      const char *owner, kcl_lease_done_fn done, void *ud)
{
    return owner_write(s, key, counter, owner, "SET #c = #c + :one REMOVE #o", NULL, done, ud);
}

kcl_lease_op *kcl_lease_store_checkpoint(kcl_lease_store *s, const char *key, int64_t counter,
                                         const char *owner, const char *seq, int64_t sub,
                                         kcl_lease_done_fn done, void *ud)
{
    kcl_ddb_item extra = {0};
    kcl_lease_op *op = NULL;
    if (kcl_ddb_item_add_s(&extra, ":seq", seq) == 0 &&
        kcl_ddb_item_add_n_int64(&extra, ":sub", sub < 0 ? 0 : sub) == 0 &&
        kcl_ddb_item_add_n_int64(&extra, ":zero", 0) == 0)
        op = owner_write(s, key, counter, owner,
                         "SET #c = #c + :one, #cp = :seq, #cs = :sub, #sw = :zero "
                         "REMOVE #p, #ps, #pst", &extra, done, ud);
    kcl_ddb_item_free(&extra);
    return op;
}

kcl_lease_op *kcl_lease_store_prepare(kcl_lease_store *s, const char *key, int64_t counter,
                                      const char *owner, const char *seq, int64_t sub,
                                      const void *state, size_t state_len,
                                      kcl_lease_done_fn done, void *ud)
{
    kcl_ddb_item extra = {0};
    kcl_lease_op *op = NULL;
    int rc = kcl_ddb_item_add_s(&extra, ":seq", seq);
    rc |= kcl_ddb_item_add_n_int64(&extra, ":sub", sub < 0 ? 0 : sub);
    if (state && state_len) rc |= kcl_ddb_item_add_b(&extra, ":state", state, state_len);
    if (rc == 0)
        op = owner_write(s, key, counter, owner,
                         state && state_len ? "SET #c = #c + :one, #p = :seq, #ps = :sub, #pst = :state"
                                            : "SET #c = #c + :one, #p = :seq, #ps = :sub REMOVE #pst",
                         &extra, done, ud);
    kcl_ddb_item_free(&extra);
    return op;
}

kcl_lease_op *kcl_lease_store_set_children(kcl_lease_store *s, const char *key, int64_t counter,
                                           const char *owner, const char *const *children, int n,
                                           kcl_lease_done_fn done, void *ud)
{
    kcl_ddb_item extra = {0};
    kcl_lease_op *op = NULL;
    if (n > 0 && kcl_ddb_item_add_ss(&extra, ":children", children, (size_t)n) == 0)
        op = owner_write(s, key, counter, owner, "SET #c = #c + :one, #ch = :children",
                         &extra, done, ud);
    kcl_ddb_item_free(&extra);
    return op;
}

kcl_lease_op *kcl_lease_store_delete_finished(kcl_lease_store *s, const char *key,
                                              kcl_lease_done_fn done, void *ud)
{
    kcl_lease_op *op = op_new(s, OP_DONE, ud);
    if (!op) return NULL;
    op->cb.done = done;
    kcl_ddb_item k = {0}, values = {0};
    static const char *const names[] = {"#cp", KCL_LEASE_A_CHECKPOINT, NULL};
    kcl_ddb_delete_req req;
    memset(&req, 0, sizeof req);
    req.table = s->table;
    req.key = &k;
    req.condition = "#cp = :end";
    req.names = names;
    req.values = &values;
    kcl_error err;
    if (kcl_ddb_item_add_s(&k, KCL_LEASE_A_KEY, key) == 0 &&
        kcl_ddb_item_add_s(&values, ":end", KCL_SENTINEL_SHARD_END) == 0)
        op->ddb_op = kcl_ddb_delete_item(s->ddb, &req, on_item_done, op, &err);
    kcl_ddb_item_free(&k);
    kcl_ddb_item_free(&values);
    if (!op->ddb_op) { op_free(op); return NULL; }
    return op;
}

kcl_lease_op *kcl_lease_store_create(kcl_lease_store *s, const kcl_lease *lease,
                                     kcl_lease_done_fn done, void *ud)
{
    kcl_lease_op *op = op_new(s, OP_DONE, ud);
    if (!op) return NULL;
    op->cb.done = done;
    kcl_ddb_item item = {0};
    static const char *const names[] = {"#k", KCL_LEASE_A_KEY, NULL};
    kcl_ddb_put_req req;
    memset(&req, 0, sizeof req);
    req.table = s->table;
    req.item = &item;
    req.condition = "attribute_not_exists(#k)";
    req.names = names;
    kcl_error err;
    if (kcl_lease_to_item(lease, &item) == 0)
        op->ddb_op = kcl_ddb_put_item(s->ddb, &req, on_item_done, op, &err);
    kcl_ddb_item_free(&item);
    if (!op->ddb_op) { op_free(op); return NULL; }
    return op;
}

/* ---- reads ------------------------------------------------------------------ */

static void on_get(kcl_ddb_item_result *res, void *ud)
{
    kcl_lease_op *op = ud;
    kcl_lease_get_fn cb = op->cb.get;
    void *cud = op->ud;
    op->ddb_op = NULL;
    op_free(op);
    if (res->err.kind != KCL_ERR_NONE) { cb(NULL, &res->err, cud); return; }
    if (!res->found) { cb(NULL, NULL, cud); return; }
    kcl_lease l;
    kcl_error err;
    if (kcl_lease_from_item(&res->item, &l, &err) != 0) { cb(NULL, &err, cud); return; }
    cb(&l, NULL, cud);
    kcl_lease_free(&l);
}

kcl_lease_op *kcl_lease_store_get(kcl_lease_store *s, const char *key, kcl_lease_get_fn done, void *ud)
{
    kcl_lease_op *op = op_new(s, OP_GET, ud);
    if (!op) return NULL;
    op->cb.get = done;
    kcl_ddb_item k = {0};
    kcl_ddb_get_req req;
    memset(&req, 0, sizeof req);
    req.table = s->table;
    req.key = &k;
    req.consistent = 1;
    kcl_error err;
    if (kcl_ddb_item_add_s(&k, KCL_LEASE_A_KEY, key) == 0)
        op->ddb_op = kcl_ddb_get_item(s->ddb, &req, on_get, op, &err);
    kcl_ddb_item_free(&k);
    if (!op->ddb_op) { op_free(op); return NULL; }
    return op;
}

static void on_scan(kcl_ddb_scan_result *res, void *ud)
{
    kcl_lease_op *op = ud;
    kcl_lease_list_fn cb = op->cb.list;
    void *cud = op->ud;
    op->ddb_op = NULL;
    op_free(op);
    if (res->err.kind != KCL_ERR_NONE) { cb(NULL, 0, &res->err, cud); return; }
    size_t n = res->items.n;
    kcl_lease *leases = calloc(n ? n : 1, sizeof *leases);
    kcl_error err;
    if (!leases) {
        kcl_error_set(&err, KCL_ERR_FATAL, 0, NULL, "out of memory");
        cb(NULL, 0, &err, cud);
        return;
    }
    size_t got = 0;
    for (; got < n; got++) {
        if (kcl_lease_from_item(&res->items.v[got], &leases[got], &err) != 0) break;
    }
    if (got < n) cb(NULL, 0, &err, cud);
    else cb(leases, n, NULL, cud);
    for (size_t i = 0; i < got; i++) kcl_lease_free(&leases[i]);
    free(leases);
}

kcl_lease_op *kcl_lease_store_list(kcl_lease_store *s, kcl_lease_list_fn done, void *ud)
{
    kcl_lease_op *op = op_new(s, OP_LIST, ud);
    if (!op) return NULL;
    op->cb.list = done;
    kcl_ddb_scan_req req;
    memset(&req, 0, sizeof req);
    req.table = s->table;
    req.consistent = 1;
    kcl_error err;
    op->ddb_op = kcl_ddb_scan(s->ddb, &req, on_scan, op, &err);
    if (!op->ddb_op) { op_free(op); return NULL; }
    return op;
}

/* ---- ensure_table: describe -> create if missing -> poll until ACTIVE ------- */

static void ensure_describe(kcl_lease_op *op);

static void on_ensure_describe(kcl_ddb_table_result *res, void *ud)
{
    kcl_lease_op *op = ud;
    kcl_lease_store *s = op->store;
    op->ddb_op = NULL;
    if (res->err.kind == KCL_ERR_NOT_FOUND && op->kind == OP_ENSURE) {
        KCL_INFO(NULL, "creating lease table %s (%s)", s->table,
                 s->provisioned ? "provisioned" : "on-demand");
        op->kind = OP_DONE;      /* from now on: waiting for ACTIVE */
        kcl_ddb_create_table_req req;
        memset(&req, 0, sizeof req);
        req.table = s->table;
        req.hash_key = KCL_LEASE_A_KEY;
        req.hash_type = KCL_DDB_S;
        req.billing = s->provisioned ? KCL_DDB_PROVISIONED : KCL_DDB_PAY_PER_REQUEST;
        req.rcu = s->rcu;
        req.wcu = s->wcu;
        kcl_error err;
        op->ddb_op = kcl_ddb_create_table(s->ddb, &req, on_ensure_describe, op, &err);
        if (!op->ddb_op) finish_done(op, &err);
        return;
    }
    /* Another worker creating the same table at once is fine. */
    if (res->err.kind != KCL_ERR_NONE && res->err.kind != KCL_ERR_IN_USE) {
        finish_done(op, &res->err);
        return;
    }
    if (res->err.kind == KCL_ERR_NONE && res->table.status == KCL_DDB_TABLE_ACTIVE) {
        if (strcmp(res->table.hash_key, KCL_LEASE_A_KEY) != 0 && res->table.hash_key[0]) {
            kcl_error err;
            kcl_error_set(&err, KCL_ERR_INVALID_ARGUMENT, 0, NULL,
                          "table %s exists but its key is '%s', not leaseKey: not a lease table",
                          s->table, res->table.hash_key);
            finish_done(op, &err);
            return;
        }
        finish_done(op, NULL);
        return;
    }
    if (ev_now(s->loop) > op->deadline) {
        kcl_error err;
        kcl_error_set(&err, KCL_ERR_RETRYABLE, 0, NULL, "lease table %s not ACTIVE within %.0f ms",
                      s->table, s->create_timeout_ms);
        finish_done(op, &err);
        return;
    }
    ev_timer_set(&op->poll, 0.1, 0.0);
    ev_timer_start(s->loop, &op->poll);
}

static void on_poll(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop; (void)revents;
    ensure_describe(w->data);
}

static void ensure_describe(kcl_lease_op *op)
{
    kcl_error err;
    op->ddb_op = kcl_ddb_describe_table(op->store->ddb, op->store->table, NULL,
                                        on_ensure_describe, op, &err);
    if (!op->ddb_op) finish_done(op, &err);
}

kcl_lease_op *kcl_lease_store_ensure_table(kcl_lease_store *s, kcl_lease_done_fn done, void *ud)
{
    kcl_lease_op *op = op_new(s, OP_ENSURE, ud);
    if (!op) return NULL;
    op->cb.done = done;
    ev_timer_init(&op->poll, on_poll, 0.1, 0.0);
    op->poll.data = op;
    op->deadline = ev_now(s->loop) + s->create_timeout_ms / 1000.0;
    kcl_error err;
    op->ddb_op = kcl_ddb_describe_table(s->ddb, s->table, NULL, on_ensure_describe, op, &err);
    if (!op->ddb_op) { op_free(op); return NULL; }
    return op;
}
