/* itlib — helpers shared by the C integration tests; see itlib.h. */
#include "itlib.h"

#include "testlib.h"

#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- setup ------------------------------------------------------------------------ */

kcl_log_level kcl_it_log_level(kcl_log_level dflt)
{
    kcl_log_level lv = dflt;
    if (getenv("LUAKCL_TEST_LOG")) kcl_log_parse_level(getenv("LUAKCL_TEST_LOG"), &lv);
    return lv;
}

kcl_creds_provider *kcl_it_env_creds(struct ev_loop *loop, kcl_http *http, kcl_error *err)
{
    kcl_creds_config cc = {.loop = loop, .http = http, .disable_profile = 1, .disable_web_identity = 1,
                           .disable_ecs = 1, .disable_imds = 1};
    return kcl_creds_provider_new(&cc, err);
}

void kcl_it_clients_open(struct ev_loop *loop, const char *kinesis_env, kcl_it_clients *c)
{
    kcl_error err;
    memset(c, 0, sizeof *c);
    c->http = kcl_http_new(loop, &err);
    kcl_creds_config cc = {.loop = loop, .http = c->http};
    c->creds = kcl_creds_provider_new(&cc, &err);
    if (kinesis_env) {
        kcl_kinesis_opts ko = {.endpoint = kcl_test_env(kinesis_env), .region = "us-east-1"};
        c->kin = kcl_kinesis_new(loop, c->http, c->creds, &ko, &err);
    }
    kcl_ddb_opts dopt = {.endpoint = kcl_test_env("LUAKCL_TEST_DYNAMODB_ENDPOINT"), .region = "us-east-1"};
    c->ddb = kcl_ddb_new(loop, c->http, c->creds, &dopt, &err);
}

void kcl_it_clients_close(kcl_it_clients *c)
{
    kcl_ddb_free(c->ddb);
    if (c->kin) kcl_kinesis_free(c->kin);
    kcl_creds_provider_free(c->creds);
    kcl_http_free(c->http);
    memset(c, 0, sizeof *c);
}

/* ---- waiting on the loop ------------------------------------------------------------ */

void kcl_it_on_done(const kcl_error *err, void *ud)
{
    kcl_it_op *op = ud;
    if (err) op->err = *err; else kcl_error_clear(&op->err);
    op->done = 1;
}

void kcl_it_on_put(const kcl_kinesis_put_result *res, const kcl_error *err, void *ud)
{
    kcl_it_op *op = ud;
    op->err = *err;
    if (res && res->failed_count) kcl_error_set(&op->err, KCL_ERR_FATAL, 0, NULL, "%d failed", res->failed_count);
    op->done = 1;
}

int kcl_it_wait_done(struct ev_loop *loop, const int *done, double timeout_ms)
{
    int rc = kcl_test_run_until(loop, done, timeout_ms);
    CHECK_MSG(rc == 0, "operation timed out");
    return rc;
}

static void on_pause(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l; (void)revents;
    *(int *)t->data = 1;
}

void kcl_it_pause_ms(struct ev_loop *loop, double ms)
{
    int done = 0;
    ev_timer t;
    ev_timer_init(&t, on_pause, ms / 1000.0, 0.0);
    t.data = &done;
    ev_timer_start(loop, &t);
    kcl_test_run_until(loop, &done, ms + 1000);
    ev_timer_stop(loop, &t);
}

void kcl_it_idle_ms(struct ev_loop *loop, double ms)
{
    int never = 0;
    kcl_test_run_until(loop, &never, ms);
}

/* ---- the recording processor ------------------------------------------------------------ */

kcl_it_recording kcl_it_rec;

typedef struct inst {
    char shard[64];
    kcl_proc_done_fn done;
    void *ctx;
    kcl_checkpointer *cp;           /* with op: a checkpoint in flight */
    kcl_checkpoint_op *op;
} inst;

void kcl_it_recording_reset(void)
{
    kcl_it_rec.nseen = 0;
    memset(kcl_it_rec.shutdowns, 0, sizeof kcl_it_rec.shutdowns);
    kcl_it_rec.batches = kcl_it_rec.batches_behind = 0;
    kcl_it_rec.max_behind = -1;
}

static void *p_create(void *factory, const char *shard_id, kcl_error *err)
{
    (void)factory; (void)err;
    inst *i = calloc(1, sizeof *i);
    snprintf(i->shard, sizeof i->shard, "%s", shard_id);
    kcl_it_rec.instances++;
    return i;
}

static void p_initialize(void *pi, const kcl_init_input *in, kcl_proc_done_fn done, void *ctx)
{
    (void)pi; (void)in;
    done(ctx, 0, NULL);
}

static void on_cp(void *ud, const kcl_error *err)
{
    inst *i = ud;
    kcl_proc_done_fn done = i->done;
    i->done = NULL;
    i->op = NULL;
    if (err) fprintf(stderr, "[%s] checkpoint failed: %s\n", i->shard, err->message);
    done(i->ctx, err ? -1 : 0, err ? err->message : NULL);
}

static void record(const inst *i, const kcl_record *r)
{
    kcl_it_seen *s = &kcl_it_rec.seen[kcl_it_rec.nseen++];
    snprintf(s->shard, sizeof s->shard, "%s", i->shard);
    snprintf(s->seq, sizeof s->seq, "%s", r->sequence_number);
    snprintf(s->pk, sizeof s->pk, "%s", r->partition_key);
    size_t n = r->len < sizeof s->data - 1 ? r->len : sizeof s->data - 1;
    memcpy(s->data, r->data, n);
    s->data[n] = 0;
    s->id = strncmp(s->data, "rec-", 4) == 0 ? atoi(s->data + 4) : -1;
}

static void p_process(void *pi, const kcl_batch *b, kcl_checkpointer *cp, kcl_proc_done_fn done, void *ctx)
{
    inst *i = pi;
    kcl_it_rec.batches++;
    if (b->millis_behind_latest > 0) kcl_it_rec.batches_behind++;
    if (b->millis_behind_latest > kcl_it_rec.max_behind) kcl_it_rec.max_behind = b->millis_behind_latest;
    for (size_t k = 0; k < b->count && kcl_it_rec.nseen < KCL_IT_MAXREC; k++) record(i, &b->records[k]);
    i->done = done;
    i->ctx = ctx;
    i->cp = cp;
    kcl_error err;
    if (!(i->op = cp->ops->checkpoint(cp, NULL, -1, on_cp, i, &err))) {
        i->done = NULL;
        done(ctx, -1, err.message);
        return;
    }
    kcl_it_rec.cp_started++;
}

static void p_shutdown(void *pi, kcl_shutdown_reason r, kcl_checkpointer *cp, kcl_proc_done_fn done, void *ctx)
{
    inst *i = pi;
    kcl_it_rec.shutdowns[r]++;
    if (r == KCL_SHUTDOWN_TERMINATE) {
        i->done = done;
        i->ctx = ctx;
        i->cp = cp;
        kcl_error err;
        if ((i->op = cp->ops->checkpoint(cp, NULL, -1, on_cp, i, &err))) return;
        i->done = NULL;
        fprintf(stderr, "[%s] SHARD_END checkpoint refused: %s\n", i->shard, err.message);
    }
    done(ctx, 0, NULL);
}

/* As processor.h asks: pending work is cancelled, nothing calls back. */
static void p_destroy(void *pi)
{
    inst *i = pi;
    if (i->op) i->cp->ops->cancel(i->op);
    free(pi);
    kcl_it_rec.instances--;
}

static const kcl_processor_vtable vt = {p_create, p_initialize, p_process, p_shutdown, p_destroy};
const kcl_processor_factory kcl_it_recording_factory = {&vt, NULL};

void kcl_it_run_until_seen(struct ev_loop *loop, int n, int seconds)
{
    for (int spins = 0; spins < seconds * 10 && kcl_it_rec.nseen < n; spins++) kcl_it_idle_ms(loop, 100);
}

const char *kcl_it_last_seq(const char *shard)
{
    const char *last = NULL;
    for (int k = 0; k < kcl_it_rec.nseen; k++)
        if (strcmp(kcl_it_rec.seen[k].shard, shard) == 0) last = kcl_it_rec.seen[k].seq;
    return last;
}

/* ---- worker setup ------------------------------------------------------------------------- */

void kcl_it_fill_entries(kcl_kinesis_put_entry *e, char (*data)[32], char (*pk)[32], int from, int n,
                         int nkeys)
{
    for (int j = 0; j < n; j++) {
        snprintf(data[j], sizeof data[j], "rec-%06d", from + j);
        snprintf(pk[j], sizeof pk[j], "pk-%d", (from + j) % nkeys);
        e[j] = (kcl_kinesis_put_entry){data[j], strlen(data[j]), pk[j], NULL};
    }
}

void kcl_it_worker_config(kcl_config *cfg, const char *stream, const char *app, const char *endpoint)
{
    kcl_config_defaults(cfg);
    cfg->stream = (char *)stream;
    cfg->app = (char *)app;
    cfg->endpoint = (char *)endpoint;
    cfg->dynamodb_endpoint = (char *)kcl_test_env("LUAKCL_TEST_DYNAMODB_ENDPOINT");
    cfg->initial_position = KCL_POS_TRIM_HORIZON;
    cfg->idle_time_ms = 200;
    cfg->failover_time_ms = 3000;
}

void kcl_it_on_stopped(kcl_worker *w, const kcl_error *err, void *ud)
{
    kcl_it_stop *st = ud;
    (void)w;
    st->stopped = 1;
    st->clean = err == NULL;
    if (err) fprintf(stderr, "worker stopped: %s\n", err->message);
}

/* ---- hash keys ------------------------------------------------------------------------------ */

void kcl_it_hashkey_midpoint(const uint8_t a[16], const uint8_t b[16], char out[KCL_HASHKEY_DEC_MAX])
{
    uint8_t sum[17];
    unsigned carry = 0;
    for (int i = 15; i >= 0; i--) {
        unsigned v = (unsigned)a[i] + b[i] + carry;
        sum[i + 1] = (uint8_t)v;
        carry = v >> 8;
    }
    sum[0] = (uint8_t)carry;
    uint8_t half[16];
    for (int i = 0; i < 16; i++) half[i] = (uint8_t)((sum[i] << 7) | (sum[i + 1] >> 1));
    kcl_hashkey_format(half, out);
}

/* ---- the lease table ------------------------------------------------------------------------ */

static void on_list(const kcl_lease *all, size_t n, const kcl_error *err, void *ud)
{
    kcl_it_leases *l = ud;
    kcl_it_free_leases(l);
    if (err) l->err = *err; else kcl_error_clear(&l->err);
    for (size_t i = 0; !err && i < n && i < KCL_IT_MAXLEASES; i++) kcl_lease_copy(&l->leases[l->n++], &all[i]);
    l->done = 1;
}

int kcl_it_read_leases(struct ev_loop *loop, kcl_lease_store *store, kcl_it_leases *l, double timeout_ms)
{
    l->done = 0;
    kcl_lease_store_list(store, on_list, l);
    if (kcl_test_run_until(loop, &l->done, timeout_ms) != 0) return -1;
    return l->err.kind == KCL_ERR_NONE ? 0 : -1;
}

const kcl_lease *kcl_it_find_lease(const kcl_it_leases *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++) if (strcmp(l->leases[i].key, key) == 0) return &l->leases[i];
    return NULL;
}

void kcl_it_free_leases(kcl_it_leases *l)
{
    for (size_t i = 0; i < l->n; i++) kcl_lease_free(&l->leases[i]);
    l->n = 0;
}
