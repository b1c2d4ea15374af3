/* shard_sync — see shard_sync.h. The planning half is pure; the runner
 * chains ListShards -> lease scan -> one conditional create at a time (in
 * plan order, so parents exist before the children naming them), and
 * completes through a zero-delay timer so it never calls back inside the
 * call that started it. */
#include "shard_sync.h"

#include "log.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- a sorted id index (bsearch) ----------------------------------------------- */

typedef struct {
    const char *id;
    size_t i;
} ent;

static int ent_cmp(const void *a, const void *b)
{
    const ent *x = a, *y = b;
    int c = strcmp(x->id, y->id);
    if (c) return c;
    return x->i < y->i ? -1 : x->i > y->i;   /* ties by position: the first one wins */
}

/* Position of the first entry with `id`, or -1. */
static long ent_find(const ent *v, size_t n, const char *id)
{
    if (!id || !id[0]) return -1;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid].id, id) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && strcmp(v[lo].id, id) == 0 ? (long)v[lo].i : -1;
}

static ent *lease_index(const kcl_lease *leases, size_t n, size_t *nidx)
{
    ent *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (leases[i].key[0]) v[k++] = (ent){leases[i].key, i};
    qsort(v, k, sizeof *v, ent_cmp);
    *nidx = k;
    return v;
}

const char *kcl_shard_sync_sentinel(kcl_initial_position pos)
{
    switch (pos) {
    case KCL_POS_TRIM_HORIZON: return KCL_SENTINEL_TRIM_HORIZON;
    case KCL_POS_AT_TIMESTAMP: return KCL_SENTINEL_AT_TIMESTAMP;
    default: return KCL_SENTINEL_LATEST;
    }
}

void kcl_shard_sync_leases_free(kcl_lease *leases, size_t n)
{
    for (size_t i = 0; leases && i < n; i++) kcl_lease_free(&leases[i]);
    free(leases);
}

void kcl_shard_sync_keys_free(char **keys, size_t n)
{
    for (size_t i = 0; keys && i < n; i++) free(keys[i]);
    free(keys);
}

static void new_lease(kcl_lease *l, const char *key, const char *checkpoint)
{
    memset(l, 0, sizeof *l);
    snprintf(l->key, sizeof l->key, "%s", key);
    snprintf(l->checkpoint, sizeof l->checkpoint, "%s", checkpoint);
}

static void add_parent(kcl_lease *l, const char *p)
{
    if (!p || !p[0] || l->nparents >= 2) return;
    for (int i = 0; i < l->nparents; i++) if (strcmp(l->parents[i], p) == 0) return;
    snprintf(l->parents[l->nparents++], sizeof l->parents[0], "%s", p);
}

static void set_hash(kcl_lease *l, const kcl_kinesis_hash_range *r)
{
    snprintf(l->starting_hash_key, sizeof l->starting_hash_key, "%s", r->starting);
    snprintf(l->ending_hash_key, sizeof l->ending_hash_key, "%s", r->ending);
}

/* ---- the plan ----------------------------------------------------------------------- */

enum { ST_NEW = 0, ST_ACTIVE, ST_DONE };              /* DFS state */
enum { D_NONE = 0, D_LEASED, D_CREATED, D_SKIPPED };  /* decision */

static const char *shard_parent(const kcl_kinesis_shard *s, int slot)
{
    return slot == 0 ? s->parent_shard_id : s->adjacent_parent_shard_id;
}

int kcl_shard_sync_plan(const kcl_kinesis_shard *shards, size_t nshards,
                        const kcl_lease *leases, size_t nleases, kcl_initial_position pos,
                        kcl_lease **out, size_t *nout, kcl_error *err)
{
    *out = NULL;
    *nout = 0;
    size_t m = nshards ? nshards : 1, nl = 0, ns = 0, norder = 0, nnew = 0, sp = 0;
    ent *lidx = lease_index(leases, nleases, &nl);
    ent *sidx = malloc(m * sizeof *sidx);
    unsigned char *skip = calloc(m, 1), *state = calloc(m, 1), *decision = calloc(m, 1);
    unsigned char *child_leased = calloc(m, 1), *cut = calloc(m, 1);
    size_t *order = malloc(m * sizeof *order), *stack = malloc(m * sizeof *stack);
    int *slot = calloc(m, sizeof *slot);
    kcl_lease *res = calloc(m, sizeof *res);
    int rc = -1;
    if (!lidx || !sidx || !skip || !state || !decision || !child_leased || !cut || !order ||
        !stack || !slot || !res) {
        kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "shard sync plan: out of memory");
        goto out;
    }

    /* Index the shards; an empty or repeated id is skipped. */
    for (size_t i = 0; i < nshards; i++) {
        if (shards[i].shard_id[0]) sidx[ns++] = (ent){shards[i].shard_id, i};
        else skip[i] = 1;
    }
    qsort(sidx, ns, sizeof *sidx, ent_cmp);
    for (size_t k = 1; k < ns; k++)
        if (strcmp(sidx[k].id, sidx[k - 1].id) == 0) skip[sidx[k].i] = 1;

    /* Shards with a leased child that is not in the list (or is): rows naming them. */
    for (size_t i = 0; i < nleases; i++)
        for (int p = 0; p < leases[i].nparents && p < 2; p++) {
            long j = ent_find(sidx, ns, leases[i].parents[p]);
            if (j >= 0) child_leased[j] = 1;
        }

    /* Parents first: an iterative depth-first walk up the parent edges; an
     * edge back into the walk's own path (a cycle) is cut. */
    for (size_t root = 0; root < nshards; root++) {
        if (skip[root] || state[root] != ST_NEW) continue;
        state[root] = ST_ACTIVE;
        stack[sp++] = root;
        while (sp) {
            size_t i = stack[sp - 1];
            if (slot[i] >= 2) {
                state[i] = ST_DONE;
                order[norder++] = i;
                sp--;
                continue;
            }
            int p = slot[i]++;
            long j = ent_find(sidx, ns, shard_parent(&shards[i], p));
            if (j < 0) continue;
            if (state[j] == ST_ACTIVE) cut[i] |= (unsigned char)(1u << p);
            else if (state[j] == ST_NEW) {
                state[j] = ST_ACTIVE;
                stack[sp++] = (size_t)j;
            }
        }
    }

    /* Children before parents: a shard with a leased descendant is marked
     * (its data was processed, or skipped, and its lease cleaned up). */
    for (size_t k = norder; k-- > 0;) {
        size_t i = order[k];
        if (!child_leased[i] && ent_find(lidx, nl, shards[i].shard_id) < 0) continue;
        for (int p = 0; p < 2; p++) {
            long j = (cut[i] & (1u << p)) ? -1 : ent_find(sidx, ns, shard_parent(&shards[i], p));
            if (j >= 0 && (size_t)j != i) child_leased[j] = 1;
        }
    }

    const char *root_cp = kcl_shard_sync_sentinel(pos);
    for (size_t k = 0; k < norder; k++) {
        size_t i = order[k];
        const kcl_kinesis_shard *s = &shards[i];
        if (ent_find(lidx, nl, s->shard_id) >= 0) { decision[i] = D_LEASED; continue; }
        if (child_leased[i]) {
            decision[i] = D_SKIPPED;
            KCL_DEBUG(s->shard_id, "shard sync: not leasing: a descendant already has a lease");
            continue;
        }
        kcl_lease *l = &res[nnew];
        new_lease(l, s->shard_id, KCL_SENTINEL_TRIM_HORIZON);
        for (int p = 0; p < 2; p++) {
            const char *pid = shard_parent(s, p);
            if (!pid[0] || strcmp(pid, s->shard_id) == 0) continue;
            long j = (cut[i] & (1u << p)) ? -1 : ent_find(sidx, ns, pid);
            if (ent_find(lidx, nl, pid) >= 0 || (j >= 0 && decision[j] == D_CREATED)) add_parent(l, pid);
        }
        int open = s->ending_sequence_number[0] == 0;
        if (!open && pos == KCL_POS_LATEST && l->nparents == 0) {
            decision[i] = D_SKIPPED;
            continue;
        }
        if (l->nparents == 0) snprintf(l->checkpoint, sizeof l->checkpoint, "%s", root_cp);
        set_hash(l, &s->hash_range);
        decision[i] = D_CREATED;
        nnew++;
    }
    if (nnew) {
        *out = res;
        *nout = nnew;
        res = NULL;
    }
    rc = 0;
out:
    free(res);
    free(lidx);
    free(sidx);
    free(skip);
    free(state);
    free(decision);
    free(child_leased);
    free(cut);
    free(order);
    free(stack);
    free(slot);
    return rc;
}

/* ---- parents, cleanup, children ------------------------------------------------------ */

int kcl_shard_sync_parents_done(const kcl_lease *lease, const kcl_lease *leases, size_t n)
{
    for (int p = 0; p < lease->nparents && p < 2; p++)
        for (size_t i = 0; i < n; i++)
            if (strcmp(leases[i].key, lease->parents[p]) == 0 && !kcl_lease_is_finished(&leases[i]))
                return 0;
    return 1;
}

/* A child that has started: a real checkpoint, or already finished. */
static int started(const kcl_lease *l)
{
    return kcl_seq_is_valid(l->checkpoint) || kcl_lease_is_finished(l);
}

int kcl_shard_sync_cleanup_plan(const kcl_lease *leases, size_t n, char ***keys, size_t *nkeys)
{
    *keys = NULL;
    *nkeys = 0;
    size_t nl = 0, nk = 0;
    ent *idx = lease_index(leases, n, &nl);
    int *kids = calloc(n ? n : 1, sizeof *kids);
    unsigned char *bad = calloc(n ? n : 1, 1);
    char **res = calloc(n ? n : 1, sizeof *res);
    int rc = -1;
    if (!idx || !kids || !bad || !res) goto out;
    /* Children the parent names: each must have a started row. */
    for (size_t i = 0; i < n; i++) {
        if (!kcl_lease_is_finished(&leases[i])) continue;
        for (int c = 0; c < leases[i].nchildren && c < 2; c++) {
            long r = ent_find(idx, nl, leases[i].children[c]);
            kids[i]++;
            if (r < 0 || !started(&leases[r])) bad[i] = 1;
        }
    }
    /* Rows naming a parent: each must have started. */
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < leases[i].nparents && p < 2; p++) {
            long r = ent_find(idx, nl, leases[i].parents[p]);
            if (r < 0 || (size_t)r == i) continue;
            kids[r]++;
            if (!started(&leases[i])) bad[r] = 1;
        }
    for (size_t i = 0; i < n; i++) {
        if (!kcl_lease_is_finished(&leases[i]) || kids[i] == 0 || bad[i]) continue;
        if (ent_find(idx, nl, leases[i].key) != (long)i) continue;   /* a repeated key once */
        if (!(res[nk] = strdup(leases[i].key))) goto out;
        nk++;
    }
    if (nk) {
        *keys = res;
        *nkeys = nk;
        res = NULL;
    }
    rc = 0;
out:
    kcl_shard_sync_keys_free(res, nk);
    free(idx);
    free(kids);
    free(bad);
    return rc;
}

int kcl_shard_sync_children_leases(const char *parent_key, const kcl_kinesis_child_shard *children,
                                   size_t n, kcl_lease **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    kcl_lease *res = calloc(n ? n : 1, sizeof *res);
    if (!res) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const kcl_kinesis_child_shard *c = &children[i];
        if (!c->shard_id || !c->shard_id[0]) continue;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++) dup = strcmp(res[j].key, c->shard_id) == 0;
        if (dup) continue;
        kcl_lease *l = &res[k++];
        new_lease(l, c->shard_id, KCL_SENTINEL_TRIM_HORIZON);
        for (int p = 0; p < c->parent_count && p < 2; p++) add_parent(l, c->parent_shards[p]);
        if (l->nparents == 0) add_parent(l, parent_key);
        if (c->has_hash_range) set_hash(l, &c->hash_range);
    }
    if (k) { *out = res; *nout = k; }
    else free(res);
    return 0;
}

int kcl_shard_sync_children_from_shards(const char *parent_key, const kcl_kinesis_shard *shards,
                                        size_t n, kcl_lease **out, size_t *nout)
{
    *out = NULL;
    *nout = 0;
    if (!parent_key || !parent_key[0]) return 0;
    size_t k = 0;
    kcl_lease *res = NULL;
    for (size_t i = 0; i < n; i++) {
        const kcl_kinesis_shard *s = &shards[i];
        if (!s->shard_id[0] || strcmp(s->shard_id, parent_key) == 0) continue;
        if (strcmp(s->parent_shard_id, parent_key) != 0 && strcmp(s->adjacent_parent_shard_id, parent_key) != 0)
            continue;
        int dup = 0;
        for (size_t j = 0; j < k && !dup; j++) dup = strcmp(res[j].key, s->shard_id) == 0;
        if (dup) continue;
        kcl_lease *grown = realloc(res, (k + 1) * sizeof *res);
        if (!grown) { free(res); return -1; }
        res = grown;
        kcl_lease *l = &res[k++];
        new_lease(l, s->shard_id, KCL_SENTINEL_TRIM_HORIZON);
        add_parent(l, s->parent_shard_id);
        add_parent(l, s->adjacent_parent_shard_id);
        set_hash(l, &s->hash_range);
    }
    *out = res;
    *nout = k;
    return 0;
}

/* ---- the runner ---------------------------------------------------------------------- */

typedef enum { OP_RUN, OP_CHILDREN } op_kind;

struct kcl_shard_sync {
    struct ev_loop *loop;
    kcl_kinesis *kin;
    kcl_lease_store *store;
    char *stream;
    kcl_initial_position pos;
    kcl_shard_sync_op *ops;
    int nops;
};

struct kcl_shard_sync_op {
    kcl_shard_sync *sync;
    kcl_shard_sync_op *prev, *next;
    op_kind kind;
    char parent_key[KCL_LEASE_KEY_MAX + 1];
    kcl_kinesis_op *kop;              /* ListShards in flight */
    kcl_lease_op *lop;                /* scan or create in flight */
    kcl_kinesis_shard_list *shards;   /* ListShards result, until the lease scan returns */
    kcl_lease *plan;
    size_t nplan, cur;                /* plan[cur] is being created */
    int created;
    ev_timer later;                   /* the deferred completion */
    int finishing, calling;
    kcl_error err;
    int failed;
    kcl_shard_sync_done_fn done_run;
    kcl_shard_sync_children_fn done_children;
    void *ud;
};

kcl_shard_sync *kcl_shard_sync_new(struct ev_loop *loop, kcl_kinesis *kin, kcl_lease_store *store,
                                   const char *stream, kcl_initial_position pos, kcl_error *err)
{
    if (!loop || !kin || !store || !stream || !stream[0]) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL,
                      "shard sync: loop, kinesis client, lease store and stream are required");
        return NULL;
    }
    if (pos != KCL_POS_LATEST && pos != KCL_POS_TRIM_HORIZON && pos != KCL_POS_AT_TIMESTAMP) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL, "shard sync: unknown initial position %d",
                      (int)pos);
        return NULL;
    }
    kcl_shard_sync *s = calloc(1, sizeof *s);
    if (s) s->stream = strdup(stream);
    if (!s || !s->stream) {
        free(s);
        kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "shard sync: out of memory");
        return NULL;
    }
    s->loop = loop;
    s->kin = kin;
    s->store = store;
    s->pos = pos;
    return s;
}

int kcl_shard_sync_pending(const kcl_shard_sync *s) { return s ? s->nops : 0; }

static void op_unlink(kcl_shard_sync_op *op)
{
    kcl_shard_sync *s = op->sync;
    if (op->prev) op->prev->next = op->next;
    else s->ops = op->next;
    if (op->next) op->next->prev = op->prev;
    op->prev = op->next = NULL;
    s->nops--;
}

/* Release what the op holds (not the op itself, not its list links). */
static void op_release(kcl_shard_sync_op *op)
{
    if (op->kop) kcl_kinesis_cancel(op->kop);
    if (op->lop) kcl_lease_op_cancel(op->lop);
    op->kop = NULL;
    op->lop = NULL;
    kcl_kinesis_shard_list_free(op->shards);
    op->shards = NULL;
    kcl_shard_sync_leases_free(op->plan, op->nplan);
    op->plan = NULL;
    op->nplan = op->cur = 0;
}

void kcl_shard_sync_cancel(kcl_shard_sync_op *op)
{
    if (!op || op->calling) return;   /* from its own callback: freed when that returns */
    ev_timer_stop(op->sync->loop, &op->later);
    op_unlink(op);
    op_release(op);
    free(op);
}

void kcl_shard_sync_free(kcl_shard_sync *s)
{
    if (!s) return;
    while (s->ops) kcl_shard_sync_cancel(s->ops);
    free(s->stream);
    free(s);
}

static void on_later(struct ev_loop *loop, ev_timer *w, int revents)
{
    (void)loop; (void)revents;
    kcl_shard_sync_op *op = w->data;
    op_unlink(op);   /* from here on the op does not touch the runner: the callback may free it */
    op->calling = 1;
    const kcl_error *err = op->failed ? &op->err : NULL;
    if (op->kind == OP_RUN) {
        op->done_run(err, op->created, op->ud);
    } else {
        const char *ids[64];
        const char **v = op->nplan <= 64 ? ids : malloc(op->nplan * sizeof *v);
        int n = 0;
        if (!err && v) for (size_t i = 0; i < op->nplan; i++) v[n++] = op->plan[i].key;
        if (!err && !v) {
            kcl_error oom;
            kcl_error_set(&oom, KCL_ERR_FATAL, 0, NULL, "shard sync: out of memory");
            op->done_children(&oom, NULL, 0, op->ud);
        } else {
            op->done_children(err, n ? (const char *const *)v : NULL, n, op->ud);
        }
        if (v != ids) free(v);
    }
    op_release(op);
    free(op);
}

/* Complete later (next loop turn): err NULL = success. */
static void finish(kcl_shard_sync_op *op, const kcl_error *err)
{
    if (op->finishing) return;
    op->finishing = 1;
    if (err && err->kind != KCL_ERR_NONE) {
        op->err = *err;
        op->failed = 1;
    }
    if (op->kop) kcl_kinesis_cancel(op->kop);
    if (op->lop) kcl_lease_op_cancel(op->lop);
    op->kop = NULL;
    op->lop = NULL;
    ev_timer_start(op->sync->loop, &op->later);
}

static void finish_oom(kcl_shard_sync_op *op, const char *what)
{
    kcl_error e;
    kcl_error_set(&e, KCL_ERR_FATAL, 0, NULL, "shard sync: %s", what);
    finish(op, &e);
}

static kcl_shard_sync_op *op_new(kcl_shard_sync *s, op_kind kind, void *ud)
{
    kcl_shard_sync_op *op = calloc(1, sizeof *op);
    if (!op) return NULL;
    op->sync = s;
    op->kind = kind;
    op->ud = ud;
    ev_timer_init(&op->later, on_later, 0.0, 0.0);
    op->later.data = op;
    op->next = s->ops;
    if (s->ops) s->ops->prev = op;
    s->ops = op;
    s->nops++;
    return op;
}

static void create_next(kcl_shard_sync_op *op);

static void on_created(const kcl_error *err, void *ud)
{
    kcl_shard_sync_op *op = ud;
    op->lop = NULL;
    const kcl_lease *l = &op->plan[op->cur];
    if (!err) {
        op->created++;
        KCL_INFO(l->key, "created lease at %s%s%s%s%s", l->checkpoint, l->nparents ? " after " : "",
                 l->nparents ? l->parents[0] : "", l->nparents > 1 ? " and " : "",
                 l->nparents > 1 ? l->parents[1] : "");
    } else if (err->kind == KCL_ERR_CONDITION_FAILED) {
        KCL_DEBUG(l->key, "lease already exists (created by another worker)");
    } else {
        KCL_WARN(l->key, "creating lease failed: %s: %s", kcl_err_kind_name(err->kind), err->message);
        finish(op, err);
        return;
    }
    op->cur++;
    create_next(op);
}

static void create_next(kcl_shard_sync_op *op)
{
    if (op->cur >= op->nplan) {
        finish(op, NULL);
        return;
    }
    op->lop = kcl_lease_store_create(op->sync->store, &op->plan[op->cur], on_created, op);
    if (!op->lop) finish_oom(op, "could not start a lease create");
}

static void on_leases(const kcl_lease *leases, size_t n, const kcl_error *err, void *ud)
{
    kcl_shard_sync_op *op = ud;
    op->lop = NULL;
    if (err) {
        finish(op, err);
        return;
    }
    kcl_error perr;
    int rc = kcl_shard_sync_plan(op->shards->shards, op->shards->count, leases, n, op->sync->pos,
                                 &op->plan, &op->nplan, &perr);
    KCL_DEBUG(NULL, "shard sync %s: %zu shards, %zu leases, %zu to create", op->sync->stream,
              op->shards->count, n, op->nplan);
    kcl_kinesis_shard_list_free(op->shards);
    op->shards = NULL;
    if (rc != 0) {
        finish(op, &perr);
        return;
    }
    create_next(op);
}

static void on_shards(kcl_kinesis_shard_list *list, const kcl_error *err, void *ud)
{
    kcl_shard_sync_op *op = ud;
    op->kop = NULL;
    if (err->kind != KCL_ERR_NONE) {
        kcl_kinesis_shard_list_free(list);
        finish(op, err);
        return;
    }
    if (op->kind == OP_CHILDREN) {
        int rc = kcl_shard_sync_children_from_shards(op->parent_key, list->shards, list->count,
                                                     &op->plan, &op->nplan);
        kcl_kinesis_shard_list_free(list);
        if (rc != 0) finish_oom(op, "out of memory");
        else create_next(op);
        return;
    }
    op->shards = list;
    op->lop = kcl_lease_store_list(op->sync->store, on_leases, op);
    if (!op->lop) finish_oom(op, "could not start the lease scan");
}

static void list_shards(kcl_shard_sync_op *op)
{
    kcl_kinesis_list_shards_req req = {.stream_name = op->sync->stream};
    kcl_error err;
    op->kop = kcl_kinesis_list_shards(op->sync->kin, &req, NULL, on_shards, op, &err);
    if (!op->kop) finish(op, &err);
}

kcl_shard_sync_op *kcl_shard_sync_run(kcl_shard_sync *s, kcl_shard_sync_done_fn done, void *ud)
{
    kcl_shard_sync_op *op = op_new(s, OP_RUN, ud);
    if (!op) return NULL;
    op->done_run = done;
    list_shards(op);
    return op;
}

kcl_shard_sync_op *kcl_shard_sync_create_children(kcl_shard_sync *s, const char *parent_key,
                                                  const kcl_kinesis_child_shard *children, size_t n,
                                                  kcl_shard_sync_children_fn done, void *ud)
{
    kcl_shard_sync_op *op = op_new(s, OP_CHILDREN, ud);
    if (!op) return NULL;
    op->done_children = done;
    snprintf(op->parent_key, sizeof op->parent_key, "%s", parent_key ? parent_key : "");
    if (!op->parent_key[0]) {
        kcl_error e;
        kcl_error_set(&e, KCL_ERR_INVALID_ARGUMENT, 0, NULL, "shard sync: no parent shard id");
        finish(op, &e);
    } else if (n == 0) {
        list_shards(op);
    } else if (kcl_shard_sync_children_leases(op->parent_key, children, n, &op->plan, &op->nplan) != 0) {
        finish_oom(op, "out of memory");
    } else {
        create_next(op);
    }
    return op;
}
