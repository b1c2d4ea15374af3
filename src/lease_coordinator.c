#include "lease_coordinator.h"

#include "clock.h"
#include "log.h"

#include <ev.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { W_RENEW, W_CHECKPOINT, W_PREPARE, W_CHILDREN, W_RELEASE } write_kind;

typedef struct held held;

struct kcl_coord_write {
    kcl_coord *c;
    held *h;
    kcl_coord_write *next;
    write_kind kind;
    char seq[KCL_LEASE_SEQ_MAX + 1];
    int64_t sub;
    kcl_buf state;
    int nchildren;
    char children[2][KCL_LEASE_KEY_MAX + 1];
    kcl_coord_done_fn done;        /* NULL: internal, or cancelled while in flight */
    void *ud;
    int64_t sent_ms;               /* monotonic time the request was started */
};

struct held {
    kcl_lease lease;               /* counter = the value our next write expects */
    int64_t last_ok_ms;            /* monotonic start time of the last successful write: others
                                      saw the counter change no earlier than that */
    kcl_coord_write *queue;        /* head is in flight when `op` is set */
    kcl_lease_op *op;
    int renew_queued;
};

typedef struct seen {              /* what scans showed of a lease */
    char key[KCL_LEASE_KEY_MAX + 1];
    int64_t counter;
    int64_t changed_ms;            /* monotonic time the counter was first seen at this value */
    int64_t cooldown_until_ms;
    int present;
} seen;

struct kcl_coord {
    struct ev_loop *loop;
    kcl_lease_store *store;
    kcl_coord_events ev;
    char *worker_id;
    double failover_ms, renew_ms, take_ms;
    int max_leases, max_steal;
    held **held;
    int nheld, capheld;
    seen *seen;
    int nseen, capseen;
    ev_timer renew_timer, take_timer, pump_timer;
    kcl_lease_op *scan_op;
    struct take_ctx **takes;       /* takes in flight (each owns its context) */
    int ntakes, captakes;
    int taking;
    long scans, requests;
    uint64_t rng;
};

/* ---- small helpers ------------------------------------------------------------ */

static uint64_t rnd(kcl_coord *c)
{
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 7;
    c->rng ^= c->rng << 17;
    return c->rng;
}

static held *find_held(const kcl_coord *c, const char *key)
{
    for (int i = 0; i < c->nheld; i++)
        if (strcmp(c->held[i]->lease.key, key) == 0) return c->held[i];
    return NULL;
}

static seen *find_seen(kcl_coord *c, const char *key)
{
    for (int i = 0; i < c->nseen; i++)
        if (strcmp(c->seen[i].key, key) == 0) return &c->seen[i];
    return NULL;
}

static void write_free(kcl_coord_write *w)
{
    kcl_buf_free(&w->state);
    free(w);
}

/* Drop a held lease: cancel its writes (their callbacks get `err`, or none
 * when err is NULL) and remove it. Events are the caller's business. */
static void drop_held(kcl_coord *c, held *h, const kcl_error *err)
{
    if (h->op) { kcl_lease_op_cancel(h->op); h->op = NULL; }
    for (int i = 0; i < c->nheld; i++) {
        if (c->held[i] == h) {
            c->held[i] = c->held[--c->nheld];
            break;
        }
    }
    kcl_coord_write *q = h->queue;
    h->queue = NULL;
    while (q) {
        kcl_coord_write *next = q->next;
        if (q->done && err) q->done(err, q->ud);
        write_free(q);
        q = next;
    }
    kcl_lease_free(&h->lease);
    free(h);
}

static void lose(kcl_coord *c, held *h, const char *why)
{
    char key[KCL_LEASE_KEY_MAX + 1];
    memcpy(key, h->lease.key, sizeof key);
    KCL_WARN(key, "lease lost: %s", why);
    kcl_error err;
    kcl_error_set(&err, KCL_ERR_CONDITION_FAILED, 0, NULL, "lease on %s lost: %s", key, why);
    drop_held(c, h, &err);
    if (c->ev.lost) c->ev.lost(c->ev.ud, key);
}

/* ---- the per-lease write queue ------------------------------------------------ */

static void pump(kcl_coord *c, held *h);

static void on_write(const kcl_error *err, void *ud)
{
    kcl_coord_write *w = ud;
    kcl_coord *c = w->c;
    held *h = w->h;
    h->op = NULL;
    h->queue = w->next;
    if (w->kind == W_RENEW) h->renew_queued = 0;

    if (!err) {
        h->lease.counter++;
        if (w->sent_ms > h->last_ok_ms) h->last_ok_ms = w->sent_ms;
        switch (w->kind) {
        case W_CHECKPOINT:
            memcpy(h->lease.checkpoint, w->seq, sizeof w->seq);
            h->lease.checkpoint_sub = w->sub < 0 ? 0 : w->sub;
            h->lease.owner_switches = 0;
            h->lease.has_pending = 0;
            h->lease.pending[0] = '\0';
            kcl_buf_reset(&h->lease.pending_state);
            break;
        case W_PREPARE:
            memcpy(h->lease.pending, w->seq, sizeof w->seq);
            h->lease.pending_sub = w->sub < 0 ? 0 : w->sub;
            h->lease.has_pending = 1;
            kcl_buf_reset(&h->lease.pending_state);
            kcl_buf_append(&h->lease.pending_state, w->state.data, w->state.len);
            break;
        case W_CHILDREN:
            h->lease.nchildren = w->nchildren;
            memcpy(h->lease.children, w->children, sizeof w->children);
            break;
        default:
            break;
        }
    }
    kcl_coord_done_fn done = w->done;
    void *dud = w->ud;
    write_kind kind = w->kind;
    write_free(w);

    if (kind == W_RELEASE) {
        /* Released (or not: either way we stop holding it). */
        if (err) KCL_WARN(h->lease.key, "releasing the lease failed: %s", err->message);
        else KCL_INFO(h->lease.key, "lease released");
        kcl_error gone;
        kcl_error_set(&gone, KCL_ERR_CONDITION_FAILED, 0, NULL, "lease on %s released", h->lease.key);
        drop_held(c, h, &gone);
        if (done) done(err, dud);
        return;
    }
    if (err && err->kind == KCL_ERR_CONDITION_FAILED) {
        if (done) done(err, dud);
        held *still = NULL;
        for (int i = 0; i < c->nheld; i++) if (c->held[i] == h) still = h;
        if (still) lose(c, h, "a conditional write failed: another worker wrote the lease");
        return;
    }
    if (err && kind == W_RENEW)
        KCL_WARN(h->lease.key, "lease renewal failed (%s): %s", kcl_err_kind_name(err->kind), err->message);
    if (done) done(err, dud);
    /* `done` may have released or cancelled things: look the lease up again. */
    for (int i = 0; i < c->nheld; i++)
        if (c->held[i] == h) { pump(c, h); break; }
}

static void pump(kcl_coord *c, held *h)
{
    while (!h->op && h->queue) {
        kcl_coord_write *w = h->queue;
        const kcl_lease *l = &h->lease;
        kcl_lease_op *op = NULL;
        switch (w->kind) {
        case W_RENEW:
            op = kcl_lease_store_renew(c->store, l->key, l->counter, c->worker_id, on_write, w);
            break;
        case W_CHECKPOINT:
            op = kcl_lease_store_checkpoint(c->store, l->key, l->counter, c->worker_id, w->seq, w->sub,
                                            on_write, w);
            break;
        case W_PREPARE:
            op = kcl_lease_store_prepare(c->store, l->key, l->counter, c->worker_id, w->seq, w->sub,
                                         w->state.data, w->state.len, on_write, w);
            break;
        case W_CHILDREN: {
            const char *ch[2] = {w->children[0], w->children[1]};
            op = kcl_lease_store_set_children(c->store, l->key, l->counter, c->worker_id, ch,
                                              w->nchildren, on_write, w);
            break;
        }
        case W_RELEASE:
            op = kcl_lease_store_release(c->store, l->key, l->counter, c->worker_id, on_write, w);
            break;
        }
        c->requests++;
        if (op) { h->op = op; w->sent_ms = kcl_clock_mono_ms(); return; }
        /* Could not even start (out of memory): keep it queued and try again
         * shortly, rather than calling back inside the caller's call. */
        if (!ev_is_active(&c->pump_timer)) {
            ev_timer_set(&c->pump_timer, 0.2, 0.0);
            ev_timer_start(c->loop, &c->pump_timer);
        }
        return;
    }
}

static void on_pump_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop; (void)revents;
    kcl_coord *c = t->data;
    for (int i = 0; i < c->nheld; i++) pump(c, c->held[i]);
}

static kcl_coord_write *enqueue(kcl_coord *c, const char *key, write_kind kind,
                                kcl_coord_done_fn done, void *ud)
{
    held *h = find_held(c, key);
    if (!h) return NULL;
    kcl_coord_write *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->c = c;
    w->h = h;
    w->kind = kind;
    w->done = done;
    w->ud = ud;
    kcl_coord_write **tail = &h->queue;
    while (*tail) tail = &(*tail)->next;
    *tail = w;
    return w;
}

static kcl_coord_write *user_write(kcl_coord *c, const char *key, write_kind kind, const char *seq,
                                   int64_t sub, kcl_coord_done_fn done, void *ud)
{
    kcl_coord_write *w = enqueue(c, key, kind, done, ud);
    if (!w) return NULL;
    if (seq) snprintf(w->seq, sizeof w->seq, "%s", seq);
    w->sub = sub;
    return w;
}

kcl_coord_write *kcl_coord_checkpoint(kcl_coord *c, const char *key, const char *seq, int64_t sub,
                                      kcl_coord_done_fn done, void *ud)
{
    kcl_coord_write *w = user_write(c, key, W_CHECKPOINT, seq, sub, done, ud);
    if (w) pump(c, w->h);
    return w;
}

kcl_coord_write *kcl_coord_prepare(kcl_coord *c, const char *key, const char *seq, int64_t sub,
                                   const void *state, size_t state_len,
                                   kcl_coord_done_fn done, void *ud)
{
    kcl_coord_write *w = user_write(c, key, W_PREPARE, seq, sub, done, ud);
    if (!w) return NULL;
    if (state_len) kcl_buf_append(&w->state, state, state_len);
    pump(c, w->h);
    return w;
}

kcl_coord_write *kcl_coord_set_children(kcl_coord *c, const char *key, const char *const *children,
                                        int n, kcl_coord_done_fn done, void *ud)
{
    kcl_coord_write *w = user_write(c, key, W_CHILDREN, NULL, 0, done, ud);
    if (!w) return NULL;
    w->nchildren = n > 2 ? 2 : n;
    for (int i = 0; i < w->nchildren; i++)
        snprintf(w->children[i], sizeof w->children[i], "%s", children[i]);
    pump(c, w->h);
    return w;
}

kcl_coord_write *kcl_coord_release(kcl_coord *c, const char *key, kcl_coord_done_fn done, void *ud)
{
    kcl_coord_write *w = user_write(c, key, W_RELEASE, NULL, 0, done, ud);
    if (w) pump(c, w->h);
    return w;
}

void kcl_coord_write_cancel(kcl_coord_write *w)
{
    if (!w) return;
    held *h = w->h;
    if (h->queue == w && h->op) {
        w->done = NULL;            /* in flight: let it land, without a callback */
        return;
    }
    for (kcl_coord_write **p = &h->queue; *p; p = &(*p)->next) {
        if (*p == w) {
            *p = w->next;
            if (w->kind == W_RENEW) h->renew_queued = 0;
            write_free(w);
            return;
        }
    }
}

/* ---- renewal ------------------------------------------------------------------ */

static void on_renew_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop; (void)revents;
    kcl_coord *c = t->data;
    int64_t now = kcl_clock_mono_ms();
    for (int i = 0; i < c->nheld;) {
        held *h = c->held[i];
        if (now - h->last_ok_ms > (int64_t)c->failover_ms) {
            /* Others consider it expired by now and may have taken it. */
            lose(c, h, "no renewal succeeded within the failover time");
            continue;               /* the array changed under index i */
        }
        if (!h->renew_queued) {
            kcl_coord_write *w = enqueue(c, h->lease.key, W_RENEW, NULL, NULL);
            if (w) { h->renew_queued = 1; pump(c, h); }
        }
        i++;
    }
}

/* ---- taking ------------------------------------------------------------------- */

static void schedule_scan(kcl_coord *c, double ms)
{
    ev_timer_stop(c->loop, &c->take_timer);
    ev_timer_set(&c->take_timer, ms / 1000.0, 0.0);
    ev_timer_start(c->loop, &c->take_timer);
}

typedef struct take_ctx {
    kcl_coord *c;
    kcl_lease lease;              /* as scanned; counter is the expected one */
    kcl_lease_op *op;
    int64_t sent_ms;
} take_ctx;

static void remove_take(kcl_coord *c, take_ctx *t)
{
    for (int i = 0; i < c->ntakes; i++)
        if (c->takes[i] == t) { c->takes[i] = c->takes[--c->ntakes]; return; }
}

/* Cancel every take in flight (no callbacks) and free their contexts. */
static void cancel_takes(kcl_coord *c)
{
    while (c->ntakes > 0) {
        take_ctx *t = c->takes[--c->ntakes];
        kcl_lease_op_cancel(t->op);
        kcl_lease_free(&t->lease);
        free(t);
    }
}

/* Room for one more held lease; 0 when out of memory (the array is kept). */
static int held_room(kcl_coord *c)
{
    if (c->nheld < c->capheld) return 1;
    int cap = c->capheld ? c->capheld * 2 : 16;
    held **p = realloc(c->held, sizeof *p * (size_t)cap);
    if (!p) return 0;
    c->held = p;
    c->capheld = cap;
    return 1;
}

static void on_take(const kcl_error *err, void *ud)
{
    take_ctx *t = ud;
    kcl_coord *c = t->c;
    remove_take(c, t);
    if (err) {
        KCL_DEBUG(t->lease.key, "take failed (%s): %s", kcl_err_kind_name(err->kind), err->message);
    } else if (!find_held(c, t->lease.key)) {
        held *h = calloc(1, sizeof *h);
        if (h && kcl_lease_copy(&h->lease, &t->lease) == 0 && held_room(c)) {
            h->lease.counter++;
            snprintf(h->lease.owner, sizeof h->lease.owner, "%s", c->worker_id);
            h->lease.owner_switches++;
            h->last_ok_ms = t->sent_ms;
            c->held[c->nheld++] = h;
            KCL_INFO(h->lease.key, "lease taken (counter %lld, checkpoint %s)",
                     (long long)h->lease.counter, h->lease.checkpoint[0] ? h->lease.checkpoint : "none");
            if (c->ev.gained) c->ev.gained(c->ev.ud, &h->lease);
        } else {
            KCL_ERROR(t->lease.key, "out of memory holding a taken lease");
            if (h) { kcl_lease_free(&h->lease); free(h); }
        }
    }
    kcl_lease_free(&t->lease);
    free(t);
}

static void start_take(kcl_coord *c, const kcl_lease *l, const char *why)
{
    take_ctx *t = calloc(1, sizeof *t);
    if (!t) return;
    t->c = c;
    if (kcl_lease_copy(&t->lease, l) != 0) { free(t); return; }
    if (c->ntakes == c->captakes) {
        int cap = c->captakes ? c->captakes * 2 : 16;
        take_ctx **p = realloc(c->takes, sizeof *p * (size_t)cap);
        if (!p) { kcl_lease_free(&t->lease); free(t); return; }
        c->takes = p;
        c->captakes = cap;
    }
    t->sent_ms = kcl_clock_mono_ms();
    t->op = kcl_lease_store_take(c->store, l->key, l->counter, c->worker_id, on_take, t);
    c->requests++;
    if (!t->op) { kcl_lease_free(&t->lease); free(t); return; }
    c->takes[c->ntakes++] = t;
    KCL_DEBUG(l->key, "taking lease (%s, owner '%s', counter %lld)", why, l->owner, (long long)l->counter);
}

static int is_expired(const kcl_coord *c, const kcl_lease *l, const seen *s, int64_t now)
{
    if (!l->owner[0]) return 1;
    if (strcmp(l->owner, c->worker_id) == 0 && !find_held(c, l->key)) return 1;
    return now - s->changed_ms >= (int64_t)c->failover_ms;
}

static void shuffle(kcl_coord *c, const kcl_lease **v, int n)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rnd(c) % (uint64_t)(i + 1));
        const kcl_lease *tmp = v[i]; v[i] = v[j]; v[j] = tmp;
    }
}

static void plan_takes(kcl_coord *c, const kcl_lease *all, size_t n, int64_t now)
{
    if (c->ntakes > 0) return;           /* one round of takes at a time */
    const kcl_lease **avail = calloc(n ? n : 1, sizeof *avail);
    const char **owners = calloc(n + 1, sizeof *owners);
    int *counts = calloc(n + 1, sizeof *counts);
    if (!avail || !owners || !counts) goto out;
    int navail = 0, nowners = 0, total = 0;
    owners[nowners++] = c->worker_id;    /* this worker counts, even with no lease */
    for (size_t i = 0; i < n; i++) {
        const kcl_lease *l = &all[i];
        if (kcl_lease_is_finished(l)) continue;
        total++;
        seen *s = find_seen(c, l->key);
        if (find_held(c, l->key)) { counts[0]++; continue; }
        if (is_expired(c, l, s, now)) {
            if (s->cooldown_until_ms <= now) avail[navail++] = l;
            continue;
        }
        int k = 0;
        while (k < nowners && strcmp(owners[k], l->owner) != 0) k++;
        if (k == nowners) owners[nowners++] = l->owner;
        counts[k]++;
    }
    int target = (total + nowners - 1) / nowners;
    if (c->max_leases > 0 && target > c->max_leases) target = c->max_leases;
    int need = target - counts[0];
    if (need <= 0) goto out;
    if (navail > 0) {
        shuffle(c, avail, navail);
        for (int i = 0; i < navail && i < need; i++) start_take(c, avail[i], "expired or free");
        goto out;
    }
    /* Nothing free: steal from the most loaded worker, if it has more than its share. */
    int most = -1;
    for (int k = 1; k < nowners; k++)
        if (most < 0 || counts[k] > counts[most]) most = k;
    if (most < 0 || counts[most] < target + (need > 1 ? 0 : 1)) goto out;
    int steal = need < c->max_steal ? need : c->max_steal;
    int nv = 0;
    for (size_t i = 0; i < n; i++) {
        const kcl_lease *l = &all[i];
        if (!kcl_lease_is_finished(l) && strcmp(l->owner, owners[most]) == 0) avail[nv++] = l;
    }
    shuffle(c, avail, nv);
    for (int i = 0; i < nv && i < steal; i++) start_take(c, avail[i], "balancing: stolen from the most loaded worker");
out:
    free(avail);
    free(owners);
    free(counts);
}

static void on_scan(const kcl_lease *all, size_t n, const kcl_error *err, void *ud)
{
    kcl_coord *c = ud;
    c->scan_op = NULL;
    if (err) {
        KCL_WARN(NULL, "lease table scan failed (%s): %s", kcl_err_kind_name(err->kind), err->message);
        if (c->taking) schedule_scan(c, c->take_ms);
        return;
    }
    c->scans++;
    int64_t now = kcl_clock_mono_ms();
    /* Update what we know of every lease's counter. */
    for (int i = 0; i < c->nseen; i++) c->seen[i].present = 0;
    for (size_t i = 0; i < n; i++) {
        seen *s = find_seen(c, all[i].key);
        if (!s) {
            if (c->nseen == c->capseen) {
                int cap = c->capseen ? c->capseen * 2 : 64;
                seen *p = realloc(c->seen, sizeof *p * (size_t)cap);
                if (!p) continue;
                c->seen = p;
                c->capseen = cap;
            }
            s = &c->seen[c->nseen++];
            memset(s, 0, sizeof *s);
            snprintf(s->key, sizeof s->key, "%s", all[i].key);
            s->counter = all[i].counter;
            s->changed_ms = now;
        } else if (s->counter != all[i].counter) {
            s->counter = all[i].counter;
            s->changed_ms = now;
        }
        s->present = 1;
    }
    for (int i = 0; i < c->nseen;) {
        if (!c->seen[i].present) c->seen[i] = c->seen[--c->nseen];
        else i++;
    }
    /* A held lease that another worker took, or whose row is gone, is lost.
     * A row whose counter is below the one we hold was read before our last
     * successful write landed (a scan started before a take or a renewal
     * finished): it says nothing about who owns the lease now. Anyone else's
     * write after ours leaves a counter above ours. */
    for (int i = 0; i < c->nheld;) {
        held *h = c->held[i];
        const kcl_lease *row = NULL;
        for (size_t j = 0; j < n && !row; j++)
            if (strcmp(all[j].key, h->lease.key) == 0) row = &all[j];
        int releasing = h->queue && h->queue->kind == W_RELEASE;
        if (!releasing && (!row || (strcmp(row->owner, c->worker_id) != 0 &&
                                    row->counter >= h->lease.counter))) {
            lose(c, h, row ? "the lease table shows another owner" : "the lease row was deleted");
            continue;
        }
        i++;
    }
    if (c->taking) plan_takes(c, all, n, now);
    if (c->ev.scanned) c->ev.scanned(c->ev.ud, all, n);
    if (!c->taking) return;
    /* Next scan: the regular interval, or when the next lease would expire. */
    double next = c->take_ms;
    for (size_t i = 0; i < n; i++) {
        if (!all[i].owner[0] || find_held(c, all[i].key) || kcl_lease_is_finished(&all[i])) continue;
        seen *s = find_seen(c, all[i].key);
        if (!s) continue;
        double until = (double)(s->changed_ms + (int64_t)c->failover_ms - now) + 50.0;
        if (until > 0 && until < next) next = until;
    }
    schedule_scan(c, next);
}

static void on_take_timer(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop; (void)revents;
    kcl_coord *c = t->data;
    if (c->scan_op) return;
    c->scan_op = kcl_lease_store_list(c->store, on_scan, c);
    c->requests++;
    if (!c->scan_op) schedule_scan(c, c->take_ms);
}

/* ---- life cycle ---------------------------------------------------------------- */

kcl_coord *kcl_coord_new(struct ev_loop *loop, kcl_lease_store *store, const kcl_coord_opts *o,
                         const kcl_coord_events *events, kcl_error *err)
{
    if (!loop || !store || !o || !o->worker_id || !*o->worker_id) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL, "lease coordinator: loop, store and worker id required");
        return NULL;
    }
    kcl_coord *c = calloc(1, sizeof *c);
    if (!c || !(c->worker_id = strdup(o->worker_id))) {
        free(c);
        kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory");
        return NULL;
    }
    c->loop = loop;
    c->store = store;
    if (events) c->ev = *events;
    c->failover_ms = o->failover_ms > 0 ? o->failover_ms : 10000;
    c->renew_ms = o->renew_interval_ms > 0 ? o->renew_interval_ms : c->failover_ms / 3;
    c->take_ms = o->take_interval_ms > 0 ? o->take_interval_ms : c->failover_ms / 3;
    c->max_leases = o->max_leases;
    c->max_steal = o->max_leases_to_steal > 0 ? o->max_leases_to_steal : 1;
    c->rng = (uint64_t)kcl_clock_mono_ns() ^ ((uint64_t)(uintptr_t)c << 16) ^ 0x9E3779B97F4A7C15ull;
    if (!c->rng) c->rng = 1;
    ev_timer_init(&c->renew_timer, on_renew_timer, c->renew_ms / 1000.0, c->renew_ms / 1000.0);
    c->renew_timer.data = c;
    ev_timer_init(&c->take_timer, on_take_timer, 0.0, 0.0);
    c->take_timer.data = c;
    ev_timer_init(&c->pump_timer, on_pump_timer, 0.2, 0.0);
    c->pump_timer.data = c;
    return c;
}

void kcl_coord_start(kcl_coord *c)
{
    c->taking = 1;
    ev_timer_again(c->loop, &c->renew_timer);
    schedule_scan(c, 0.0);
}

void kcl_coord_stop_taking(kcl_coord *c)
{
    c->taking = 0;
    ev_timer_stop(c->loop, &c->take_timer);
    /* a take in flight may still land; cancel it so no new lease appears */
    cancel_takes(c);
}

void kcl_coord_cooldown(kcl_coord *c, const char *key, double ms)
{
    seen *s = find_seen(c, key);
    if (s) s->cooldown_until_ms = kcl_clock_mono_ms() + (int64_t)ms;
}

void kcl_coord_free(kcl_coord *c)
{
    if (!c) return;
    ev_timer_stop(c->loop, &c->renew_timer);
    ev_timer_stop(c->loop, &c->take_timer);
    ev_timer_stop(c->loop, &c->pump_timer);
    if (c->scan_op) kcl_lease_op_cancel(c->scan_op);
    cancel_takes(c);
    while (c->nheld > 0) drop_held(c, c->held[c->nheld - 1], NULL);
    free(c->held);
    free(c->seen);
    free(c->takes);
    free(c->worker_id);
    free(c);
}

const kcl_lease *kcl_coord_held(const kcl_coord *c, const char *key)
{
    held *h = find_held(c, key);
    return h ? &h->lease : NULL;
}

int kcl_coord_held_count(const kcl_coord *c) { return c->nheld; }
long kcl_coord_scans(const kcl_coord *c) { return c->scans; }
long kcl_coord_requests(const kcl_coord *c) { return c->requests; }

int kcl_coord_held_keys(const kcl_coord *c, const char **out, int max)
{
    for (int i = 0; i < c->nheld && i < max; i++) out[i] = c->held[i]->lease.key;
    return c->nheld;
}
