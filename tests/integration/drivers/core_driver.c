/* core_driver — one luakcl worker with a recording C processor, for the KCL
 * core's integration scenarios (the scripts in tests/integration/core/ drive it).
 *
 *   core_driver --out FILE --stream S --app A --worker-id W [options]
 *
 * Every event is a JSON line appended to FILE (flushed at once, so a SIGKILL
 * loses nothing that was written):
 *   {"ev":"init","w","shard","cp","t"}              initialize, with the checkpoint
 *   {"ev":"batch","w","shard","b","n","first","last","t"}   a delivery (b: batch id)
 *   {"ev":"rec","w","shard","b","seq","sub","pk","data","t"} each record of it
 *   {"ev":"batch_fail","w","shard","b","t"}         the processor failed it
 *   {"ev":"cp_ok"|"cp_fail","w","shard","seq","err","t"}
 *   {"ev":"shutdown","w","shard","reason","t"}
 *   {"ev":"held","w","n","t"}                        shards with a consumer (every 250 ms)
 *   {"ev":"stopped","w","clean","err","t"}
 * t is CLOCK_MONOTONIC in ms (comparable between processes of one machine).
 *
 * Options: --kinesis URL --dynamodb URL (else the harness's endpoints)
 *   --failover-ms N (3000) --idle-ms N (200) --max-records N (10000)
 *   --grace-ms N (10000) --sync-ms N (60000) --on-error retry|skip|stop
 *   --initial-position LATEST|TRIM_HORIZON (TRIM_HORIZON)
 *   --fail DATA:N   fail (status -1) the batch holding a record whose data is
 *                   DATA, N times in this process
 *   --slow-ms N     wait N ms in every process_records before checkpointing
 *   --no-checkpoint never checkpoint in process_records
 * SIGTERM/SIGINT: kcl_worker_shutdown (graceful); exit 0 after a clean stop. */
#include "clock.h"
#include "config.h"
#include "log.h"
#include "processor.h"
#include "worker.h"

#include <ev.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct ev_loop *loop;
static FILE *out;
static const char *wid;
static char fail_data[128];
static int fail_left;
static int slow_ms;
static int no_checkpoint;
static long next_batch;
static kcl_worker *worker;
static int exit_code = 1;

static void jstr(const char *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') fprintf(out, "\\%c", ch);
        else if (ch < 0x20 || ch > 0x7e) fprintf(out, "\\u%04x", ch);
        else fputc(ch, out);
    }
    fputc('"', out);
}

static void head(const char *ev, const char *shard)
{
    fprintf(out, "{\"ev\":\"%s\",\"w\":", ev);
    jstr(wid, strlen(wid));
    if (shard) { fputs(",\"shard\":", out); jstr(shard, strlen(shard)); }
}

static void tail(void)
{
    fprintf(out, ",\"t\":%lld}\n", (long long)kcl_clock_mono_ms());
    fflush(out);
}

/* ---- the recording processor --------------------------------------------------- */

typedef struct inst {
    char shard[128];
    long batch;
    kcl_checkpointer *cp;
    kcl_proc_done_fn done;
    void *ctx;
    ev_timer slow;
    kcl_checkpoint_op *op;
    int shutting;
} inst;

static void on_slow(struct ev_loop *l, ev_timer *t, int revents);

static void *p_create(void *factory, const char *shard_id, kcl_error *err)
{
    (void)factory;
    inst *i = calloc(1, sizeof *i);
    if (!i) { kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory"); return NULL; }
    snprintf(i->shard, sizeof i->shard, "%s", shard_id);
    ev_timer_init(&i->slow, on_slow, 0.0, 0.0);
    i->slow.data = i;
    return i;
}

static void p_initialize(void *pi, const kcl_init_input *in, kcl_proc_done_fn done, void *ctx)
{
    inst *i = pi;
    head("init", i->shard);
    fputs(",\"cp\":", out);
    jstr(in->sequence_number, strlen(in->sequence_number));
    fprintf(out, ",\"cpsub\":%lld", (long long)in->sub_sequence_number);
    tail();
    done(ctx, 0, NULL);
}

static void finish(inst *i, int status, const char *msg)
{
    kcl_proc_done_fn done = i->done;
    i->done = NULL;
    i->op = NULL;
    if (done) done(i->ctx, status, msg);
}

static void on_cp(void *ud, const kcl_error *err)
{
    inst *i = ud;
    i->op = NULL;
    head(err ? "cp_fail" : "cp_ok", i->shard);
    if (err) { fputs(",\"err\":", out); jstr(err->message, strlen(err->message)); }
    fprintf(out, ",\"b\":%ld,\"shut\":%d", i->batch, i->shutting);
    tail();
    finish(i, 0, NULL);
}

static void checkpoint_then_finish(inst *i)
{
    kcl_error err;
    i->op = i->cp->ops->checkpoint(i->cp, NULL, -1, on_cp, i, &err);
    if (!i->op) {
        head("cp_fail", i->shard);
        fputs(",\"err\":", out);
        jstr(err.message, strlen(err.message));
        fprintf(out, ",\"refused\":1,\"b\":%ld,\"shut\":%d", i->batch, i->shutting);
        tail();
        finish(i, 0, NULL);
    }
}

static void on_slow(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l; (void)revents;
    inst *i = t->data;
    if (no_checkpoint) finish(i, 0, NULL);
    else checkpoint_then_finish(i);
}

static void p_process(void *pi, const kcl_batch *b, kcl_checkpointer *cp, kcl_proc_done_fn done, void *ctx)
{
    inst *i = pi;
    i->batch = ++next_batch;
    int fail = 0;
    head("batch", i->shard);
    fprintf(out, ",\"b\":%ld,\"n\":%zu", i->batch, b->count);
    if (b->count) {
        fputs(",\"first\":", out);
        jstr(b->records[0].sequence_number, strlen(b->records[0].sequence_number));
        fputs(",\"last\":", out);
        jstr(b->records[b->count - 1].sequence_number, strlen(b->records[b->count - 1].sequence_number));
    }
    tail();
    for (size_t k = 0; k < b->count; k++) {
        const kcl_record *r = &b->records[k];
        head("rec", i->shard);
        fprintf(out, ",\"b\":%ld,\"seq\":\"%s\",\"sub\":%lld,\"pk\":", i->batch, r->sequence_number,
                (long long)r->sub_sequence_number);
        jstr(r->partition_key, strlen(r->partition_key));
        fputs(",\"data\":", out);
        jstr((const char *)r->data, r->len);
        tail();
        if (fail_left > 0 && r->len == strlen(fail_data) && memcmp(r->data, fail_data, r->len) == 0) fail = 1;
    }
    if (fail) {
        fail_left--;
        head("batch_fail", i->shard);
        fprintf(out, ",\"b\":%ld", i->batch);
        tail();
        done(ctx, -1, "injected failure (core_driver --fail)");
        return;
    }
    i->cp = cp;
    i->done = done;
    i->ctx = ctx;
    if (slow_ms > 0) {
        ev_timer_set(&i->slow, slow_ms / 1000.0, 0.0);
        ev_timer_start(loop, &i->slow);
        return;
    }
    if (no_checkpoint) finish(i, 0, NULL);
    else checkpoint_then_finish(i);
}

static void p_shutdown(void *pi, kcl_shutdown_reason r, kcl_checkpointer *cp, kcl_proc_done_fn done, void *ctx)
{
    inst *i = pi;
    head("shutdown", i->shard);
    fputs(",\"reason\":", out);
    jstr(kcl_shutdown_reason_name(r), strlen(kcl_shutdown_reason_name(r)));
    tail();
    i->cp = cp;
    i->done = done;
    i->ctx = ctx;
    i->shutting = 1;
    if (r == KCL_SHUTDOWN_TERMINATE) checkpoint_then_finish(i);     /* SHARD_END */
    else finish(i, 0, NULL);
}

static void p_destroy(void *pi)
{
    inst *i = pi;
    ev_timer_stop(loop, &i->slow);
    if (i->op) i->cp->ops->cancel(i->op);
    free(i);
}

static const kcl_processor_vtable vt = {p_create, p_initialize, p_process, p_shutdown, p_destroy};
static const kcl_processor_factory factory = {&vt, NULL};

/* ---- the worker ---------------------------------------------------------------- */

static void on_stopped(kcl_worker *w, const kcl_error *err, void *ud)
{
    (void)w; (void)ud;
    head("stopped", NULL);
    fprintf(out, ",\"clean\":%d", err == NULL);
    if (err) { fputs(",\"err\":", out); jstr(err->message, strlen(err->message)); }
    tail();
    exit_code = err ? 1 : 0;
    ev_break(loop, EVBREAK_ALL);
}

static void on_signal(struct ev_loop *l, ev_signal *s, int revents)
{
    (void)l; (void)revents;
    head("signal", NULL);
    fprintf(out, ",\"sig\":%d", s->signum);
    tail();
    kcl_worker_shutdown(worker);
}

static void on_tick(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l; (void)t; (void)revents;
    head("held", NULL);
    fprintf(out, ",\"n\":%d", kcl_worker_shard_count(worker));
    tail();
}

static int num(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v < 0 || v > 100000000) { fprintf(stderr, "core_driver: bad number '%s'\n", s); exit(2); }
    return (int)v;
}

int main(int argc, char **argv)
{
    kcl_config cfg;
    kcl_config_defaults(&cfg);
    const char *outpath = NULL;
    cfg.endpoint = getenv("LUAKCL_TEST_KINESIS_ENDPOINT");
    cfg.dynamodb_endpoint = getenv("LUAKCL_TEST_DYNAMODB_ENDPOINT");
    cfg.initial_position = KCL_POS_TRIM_HORIZON;
    cfg.failover_time_ms = 3000;
    cfg.idle_time_ms = 200;
    cfg.shutdown_grace_ms = 10000;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--no-checkpoint") == 0) { no_checkpoint = 1; continue; }
        if (!v) { fprintf(stderr, "core_driver: %s needs a value\n", a); return 2; }
        i++;
        if (strcmp(a, "--out") == 0) outpath = v;
        else if (strcmp(a, "--stream") == 0) cfg.stream = (char *)v;
        else if (strcmp(a, "--app") == 0) cfg.app = (char *)v;
        else if (strcmp(a, "--worker-id") == 0) cfg.worker_id = (char *)v;
        else if (strcmp(a, "--kinesis") == 0) cfg.endpoint = (char *)v;
        else if (strcmp(a, "--dynamodb") == 0) cfg.dynamodb_endpoint = (char *)v;
        else if (strcmp(a, "--failover-ms") == 0) cfg.failover_time_ms = num(v);
        else if (strcmp(a, "--idle-ms") == 0) cfg.idle_time_ms = num(v);
        else if (strcmp(a, "--max-records") == 0) cfg.max_records = num(v);
        else if (strcmp(a, "--grace-ms") == 0) cfg.shutdown_grace_ms = num(v);
        else if (strcmp(a, "--sync-ms") == 0) cfg.shard_sync_interval_ms = num(v);
        else if (strcmp(a, "--slow-ms") == 0) slow_ms = num(v);
        else if (strcmp(a, "--initial-position") == 0) {
            if (strcmp(v, "LATEST") == 0) cfg.initial_position = KCL_POS_LATEST;
            else if (strcmp(v, "TRIM_HORIZON") == 0) cfg.initial_position = KCL_POS_TRIM_HORIZON;
            else { fprintf(stderr, "core_driver: bad --initial-position %s\n", v); return 2; }
        }
        else if (strcmp(a, "--on-error") == 0) {
            if (strcmp(v, "retry") == 0) cfg.on_error = KCL_ON_ERROR_RETRY;
            else if (strcmp(v, "skip") == 0) cfg.on_error = KCL_ON_ERROR_SKIP;
            else if (strcmp(v, "stop") == 0) cfg.on_error = KCL_ON_ERROR_STOP;
            else { fprintf(stderr, "core_driver: bad --on-error %s\n", v); return 2; }
        } else if (strcmp(a, "--fail") == 0) {
            const char *colon = strrchr(v, ':');
            if (!colon || (size_t)(colon - v) >= sizeof fail_data) { fprintf(stderr, "core_driver: --fail DATA:N\n"); return 2; }
            memcpy(fail_data, v, (size_t)(colon - v));
            fail_data[colon - v] = '\0';
            fail_left = num(colon + 1);
        } else { fprintf(stderr, "core_driver: unknown option %s\n", a); return 2; }
    }
    if (!outpath || !cfg.stream || !cfg.app || !cfg.worker_id) {
        fprintf(stderr, "usage: core_driver --out FILE --stream S --app A --worker-id W [options]\n");
        return 2;
    }
    out = fopen(outpath, "a");
    if (!out) { perror(outpath); return 2; }
    wid = cfg.worker_id;
    kcl_log_level lv = KCL_LOG_INFO;
    if (getenv("LUAKCL_TEST_LOG")) kcl_log_parse_level(getenv("LUAKCL_TEST_LOG"), &lv);
    kcl_log_set_level(lv);
    signal(SIGPIPE, SIG_IGN);

    loop = ev_default_loop(0);
    kcl_error err;
    worker = kcl_worker_new(loop, &cfg, &factory, on_stopped, NULL, &err);
    if (!worker || kcl_worker_start(worker, &err) != 0) {
        fprintf(stderr, "core_driver: %s\n", err.message);
        return 1;
    }
    ev_signal sterm, sint;
    ev_signal_init(&sterm, on_signal, SIGTERM);
    ev_signal_init(&sint, on_signal, SIGINT);
    ev_signal_start(loop, &sterm);
    ev_signal_start(loop, &sint);
    ev_timer tick;
    ev_timer_init(&tick, on_tick, 0.25, 0.25);
    ev_timer_start(loop, &tick);
    head("started", NULL);
    tail();
    ev_run(loop, 0);
    ev_timer_stop(loop, &tick);
    ev_signal_stop(loop, &sterm);
    ev_signal_stop(loop, &sint);
    kcl_worker_free(worker);
    fclose(out);
    return exit_code;
}
