/* lua_host + lua_api driven through the processor vtable, with a fake
 * checkpointer and a fake put_records (both complete on a later loop turn). */
#include "lua_host.h"
#include "log.h"
#include "processor.h"
#include "buf.h"
#include "testlib.h"

#include <ev.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct ev_loop *loop;
static char tmpdir[64];
static kcl_buf logbuf;

static void log_hook(kcl_log_level level, const char *line, void *ud)
{
    (void)level; (void)ud;
    kcl_buf_append_str(&logbuf, line);
    kcl_buf_append_char(&logbuf, '\n');
}

static const char *write_script(const char *name, const char *src)
{
    static char path[256];
    char tmp[300];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    fputs(src, f);
    fclose(f);
    rename(tmp, path);          /* like an editor's save: a new inode */
    return path;
}

/* ---- a fake checkpointer: ops finish on the next loop turn ---------------------- */

typedef struct fake_cp {
    kcl_checkpointer base;
    kcl_err_kind fail_kind;     /* the write fails with this (NONE = succeeds) */
    kcl_err_kind refuse_kind;   /* refused at once with this */
    int calls, live;
    char last_seq[64];
    long long last_sub;
    char last_state[64];
    int last_prepare;
} fake_cp;

typedef struct fake_op {
    ev_timer t;
    fake_cp *f;
    kcl_checkpoint_done_fn done;
    void *ud;
} fake_op;

static void fake_op_fire(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l; (void)revents;
    fake_op *op = t->data;
    fake_cp *f = op->f;
    f->live--;
    kcl_checkpoint_done_fn done = op->done;
    void *ud = op->ud;
    free(op);
    if (f->fail_kind != KCL_ERR_NONE) {
        kcl_error e;
        kcl_error_set(&e, f->fail_kind, 400, "X", "lease lost to another worker");
        done(ud, &e);
    } else {
        done(ud, NULL);
    }
}

static kcl_checkpoint_op *fake_start(kcl_checkpointer *cp, const char *seq, long long sub, int prepare,
                                     const void *state, size_t state_len,
                                     kcl_checkpoint_done_fn done, void *ud, kcl_error *err)
{
    fake_cp *f = (fake_cp *)cp;
    f->calls++;
    snprintf(f->last_seq, sizeof f->last_seq, "%s", seq ? seq : "(last)");
    f->last_sub = sub;
    f->last_prepare = prepare;
    snprintf(f->last_state, sizeof f->last_state, "%.*s", (int)state_len, state ? (const char *)state : "");
    if (f->refuse_kind != KCL_ERR_NONE) {
        kcl_error_set(err, f->refuse_kind, 0, NULL, "sequence number out of range");
        return NULL;
    }
    fake_op *op = calloc(1, sizeof *op);
    op->f = f;
    op->done = done;
    op->ud = ud;
    ev_timer_init(&op->t, fake_op_fire, 0.001, 0.);
    op->t.data = op;
    ev_timer_start(loop, &op->t);
    f->live++;
    return (kcl_checkpoint_op *)op;
}

static kcl_checkpoint_op *fake_checkpoint(kcl_checkpointer *cp, const char *seq, int64_t sub,
                                          kcl_checkpoint_done_fn done, void *ud, kcl_error *err)
{
    return fake_start(cp, seq, sub, 0, NULL, 0, done, ud, err);
}

static kcl_checkpoint_op *fake_prepare(kcl_checkpointer *cp, const char *seq, int64_t sub,
                                       const void *state, size_t len,
                                       kcl_checkpoint_done_fn done, void *ud, kcl_error *err)
{
    return fake_start(cp, seq, sub, 1, state, len, done, ud, err);
}

static void fake_cancel(kcl_checkpoint_op *o)
{
    fake_op *op = (fake_op *)o;
    ev_timer_stop(loop, &op->t);
    op->f->live--;
    free(op);
}

static const kcl_checkpointer_ops fake_ops = {fake_checkpoint, fake_prepare, fake_cancel};

static void fake_cp_init(fake_cp *f)
{
    memset(f, 0, sizeof *f);
    f->base.ops = &fake_ops;
}

/* ---- a fake put_records --------------------------------------------------------- */

typedef struct fake_put {
    ev_timer t;
    int fail_all;
    size_t n;
    int bad[16];
    kcl_put_done_fn done;
    void *ud;
} fake_put;

static int puts_live, puts_total;
static char put_seen[256];

static void fake_put_fire(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)l; (void)revents;
    fake_put *p = t->data;
    puts_live--;
    kcl_put_result res[16];
    memset(res, 0, sizeof res);
    for (size_t i = 0; i < p->n; i++) {
        if (p->bad[i]) {
            res[i].error_code = "ProvisionedThroughputExceededException";
            res[i].error_message = "slow down";
        } else {
            res[i].sequence_number = "4959000000000000000001";
            res[i].shard_id = "shardId-000000000007";
        }
    }
    kcl_error e;
    kcl_error_set(&e, KCL_ERR_NOT_FOUND, 400, "ResourceNotFoundException", "no such stream");
    kcl_put_done_fn done = p->done;
    void *ud = p->ud;
    int fail = p->fail_all;
    size_t n = p->n;
    free(p);
    done(ud, fail ? &e : NULL, fail ? NULL : res, n);
}

static kcl_put_handle *fake_put_records(void *svc_ud, const char *stream, const kcl_put_entry *e, size_t n,
                                        kcl_put_done_fn done, void *ud, kcl_error *err)
{
    (void)svc_ud;
    if (n > 16) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, NULL, "too many records");
        return NULL;
    }
    fake_put *p = calloc(1, sizeof *p);
    p->fail_all = strcmp(stream, "missing") == 0;
    p->n = n;
    p->done = done;
    p->ud = ud;
    put_seen[0] = 0;
    for (size_t i = 0; i < n; i++) {
        p->bad[i] = strcmp(e[i].partition_key, "bad") == 0;
        size_t used = strlen(put_seen);
        snprintf(put_seen + used, sizeof put_seen - used, "%s%.*s/%s/%s", i ? "," : "", (int)e[i].len,
                 (const char *)e[i].data, e[i].partition_key, e[i].explicit_hash_key ? e[i].explicit_hash_key : "-");
    }
    ev_timer_init(&p->t, fake_put_fire, 0.001, 0.);
    p->t.data = p;
    ev_timer_start(loop, &p->t);
    puts_live++;
    puts_total++;
    return (kcl_put_handle *)p;
}

static void fake_put_cancel(void *svc_ud, kcl_put_handle *h)
{
    (void)svc_ud;
    fake_put *p = (fake_put *)h;
    ev_timer_stop(loop, &p->t);
    puts_live--;
    free(p);
}

/* ---- driving the vtable ------------------------------------------------------------- */

typedef struct call {
    int done, status, calls;
    char msg[1024];
} call;

static void on_done(void *ctx, int status, const char *message)
{
    call *c = ctx;
    c->done = 1;
    c->calls++;
    c->status = status;
    snprintf(c->msg, sizeof c->msg, "%s", message ? message : "");
}

static const kcl_processor_vtable *vt;

static kcl_lua_host *host_new(const char *path, kcl_lua_host_opts *o, char *err, size_t errlen)
{
    kcl_host_services svc = {loop, "worker-1", fake_put_records, fake_put_cancel, NULL};
    kcl_lua_host_opts def = {0};
    if (!o) {
        def.no_reload = 1;
        o = &def;
    }
    o->script_path = path;
    return kcl_lua_host_new(&svc, o, err, errlen);
}

static kcl_lua_host *host_src(const char *name, const char *src, kcl_lua_host_opts *o)
{
    char err[1024];
    kcl_lua_host *h = host_new(write_script(name, src), o, err, sizeof err);
    CHECK_MSG(h != NULL, "%s: %s", name, err);
    return h;
}

static void *shard_new(kcl_lua_host *h, const char *id)
{
    kcl_error err;
    void *inst = vt->create(h, id, &err);
    CHECK(inst != NULL);
    return inst;
}

static int wait_call(call *c)
{
    return kcl_test_run_until(loop, &c->done, 5000);
}

static void do_init(void *inst, const char *shard, call *c)
{
    kcl_init_input in = {shard, "TRIM_HORIZON", -1};
    memset(c, 0, sizeof *c);
    vt->initialize(inst, &in, on_done, c);
}

static kcl_record recs[64];
static char seqs[64][32];

/* A batch of n records "data<i>" with sequence numbers first..first+n-1, each
 * given partition key `pk`. */
static kcl_batch batch_of(int first, int n, const char *pk)
{
    static char datas[64][32];
    for (int i = 0; i < n; i++) {
        snprintf(seqs[i], sizeof seqs[i], "%d", first + i);
        snprintf(datas[i], sizeof datas[i], "data%d", first + i);
        recs[i] = (kcl_record){(const uint8_t *)datas[i], strlen(datas[i]), pk, seqs[i], -1,
                               1700000000000LL + first + i, NULL};
    }
    return (kcl_batch){recs, (size_t)n, 0};
}

static void do_batch(void *inst, kcl_batch b, fake_cp *cp, call *c)
{
    memset(c, 0, sizeof *c);
    vt->process_records(inst, &b, cp ? &cp->base : NULL, on_done, c);
}

/* Evaluate a Lua expression in the host's VM; tostring of the result. */
static const char *eval(kcl_lua_host *h, const char *expr)
{
    static char out[2048];
    lua_State *L = kcl_lua_host_state(h);
    char code[1024];
    snprintf(code, sizeof code, "return tostring(%s)", expr);
    if (luaL_loadstring(L, code) || lua_pcall(L, 0, 1, 0)) snprintf(out, sizeof out, "ERR %s", lua_tostring(L, -1));
    else snprintf(out, sizeof out, "%s", lua_tostring(L, -1));
    lua_pop(L, 1);
    return out;
}

static int log_has(const char *needle) { return strstr(kcl_buf_cstr(&logbuf), needle) != NULL; }

/* The loop has no active watcher left (it would return at once). */
static int guard_fired;
static void guard_cb(struct ev_loop *l, ev_timer *t, int revents)
{
    (void)t; (void)revents;
    guard_fired = 1;
    ev_break(l, EVBREAK_ALL);
}
static int loop_idle(void)
{
    ev_timer guard;
    ev_timer_init(&guard, guard_cb, 2.0, 0.);
    ev_timer_start(loop, &guard);
    ev_unref(loop);
    guard_fired = 0;
    ev_run(loop, 0);
    ev_ref(loop);
    ev_timer_stop(loop, &guard);
    return !guard_fired;
}

/* Run the loop until cond(h) or 5 s. */
typedef int (*cond_fn)(kcl_lua_host *h);
static int wait_for(kcl_lua_host *h, cond_fn cond)
{
    int done = 0;
    for (int i = 0; i < 500 && !done; i++) {
        done = cond(h);
        if (!done) {
            int never = 0;
            kcl_test_run_until(loop, &never, 10);
        }
    }
    return done ? 0 : -1;
}

/* ---- tests ------------------------------------------------------------------------ */

static void expect_load_error(const char *name, const char *src, const char *needle1, const char *needle2)
{
    char err[1024] = "";
    kcl_lua_host *h = host_new(write_script(name, src), NULL, err, sizeof err);
    CHECK_MSG(h == NULL, "%s loaded but should not", name);
    CHECK_MSG(strstr(err, needle1) != NULL, "%s: \"%s\" not in \"%s\"", name, needle1, err);
    if (needle2) CHECK_MSG(strstr(err, needle2) != NULL, "%s: \"%s\" not in \"%s\"", name, needle2, err);
    kcl_lua_host_free(h);
}

static void test_load_errors(void)
{
    expect_load_error("syntax.lua", "local P = {}\nfunction P:process_records(input)\n  local x = = 1\nend\nreturn P\n",
                      "syntax.lua:3:", "near");
    expect_load_error("toplevel.lua", "local P = {}\nlocal t = nil\nlocal y = t.field\nreturn P\n",
                      "toplevel.lua:3:", "attempt to index");
    expect_load_error("notable.lua", "return 42\n", "notable.lua", "must return a table");
    expect_load_error("noproc.lua", "return { initialize = function() end }\n", "noproc.lua", "process_records");
    expect_load_error("badinit.lua", "return { process_records = function() end, initialize = 3 }\n",
                      "badinit.lua", "initialize must be a function");
    expect_load_error("topsleep.lua", "local kcl = require 'luakcl'\nkcl.sleep(10)\nreturn { process_records = function() end }\n",
                      "topsleep.lua:2:", "only be called inside a callback");
    expect_load_error("empty.lua", "", "empty.lua", "it returned nil");
    char err[256] = "";
    kcl_lua_host *h = host_new("/nonexistent/dir/script.lua", NULL, err, sizeof err);
    CHECK(h == NULL);
    CHECK_MSG(strstr(err, "script.lua") != NULL, "%s", err);
}

static const char *basic_src =
    "local kcl = require 'luakcl'\n"
    "local cjson = require 'cjson'\n"
    "local P = {}\n"
    "seen = {}\n"
    "function P:initialize(input)\n"
    "  self.id = input.shard_id\n"
    "  seen.init = input.shard_id .. '@' .. tostring(input.sequence_number) .. '/' .. tostring(input.sub_sequence_number)\n"
    "  seen.in_shard = kcl.shard_id()\n"
    "  seen.worker = kcl.worker_id()\n"
    "  seen.json = cjson.encode({a = 1})\n"
    "end\n"
    "function P:process_records(input)\n"
    "  local parts = {}\n"
    "  for i, r in ipairs(input.records) do\n"
    "    parts[#parts + 1] = table.concat({#r.data, r.partition_key, r.sequence_number, tostring(r.sub_sequence_number),\n"
    "       string.format('%d', r.approximate_arrival_timestamp), tostring(r.explicit_hash_key)}, ':')\n"
    "  end\n"
    "  seen.records = #input.records .. '|' .. table.concat(parts, ',')\n"
    "  seen.data2 = input.records[2] and input.records[2].data\n"
    "  seen.millis = input.millis_behind_latest\n"
    "  seen.self = self.id\n"
    "  kcl.log.info('batch done', {n = #input.records, shard = kcl.shard_id()})\n"
    "  local mode = input.records[1] and input.records[1].partition_key\n"
    "  if mode == 'raise' then\n"
    "    local t = nil\n"
    "    return t.boom\n"
    "  elseif mode == 'yield' then\n"
    "    coroutine.yield()\n"
    "  elseif mode == 'pcall' then\n"
    "    local ok, v = pcall(function() kcl.sleep(5); return 'slept' end)\n"
    "    local ok2, v2 = pcall(function() return input.checkpointer:checkpoint() end)\n"
    "    seen.pcall = tostring(ok) .. ':' .. tostring(v) .. ':' .. tostring(ok2) .. ':' .. tostring(v2)\n"
    "  end\n"
    "end\n"
    "function P:shutdown(input)\n"
    "  seen.reason = input.reason\n"
    "  if input.reason == 'TERMINATE' then seen.cp = tostring(input.checkpointer:checkpoint()) end\n"
    "end\n"
    "return P\n";

static void test_basic_and_outcomes(void)
{
    kcl_lua_host *h = host_src("basic.lua", basic_src, NULL);
    if (!h) return;
    void *inst = shard_new(h, "shardId-000000000001");
    call c;
    kcl_init_input in = {"shardId-000000000001", "49590338271490256608559692538361571095921575989136588898", 7};
    memset(&c, 0, sizeof c);
    vt->initialize(inst, &in, on_done, &c);
    /* outcome "finished": done called inside the call */
    CHECK_EQ_INT(c.done, 1);
    CHECK_EQ_INT(c.status, 0);
    CHECK_EQ_STR(eval(h, "seen.init"), "shardId-000000000001@49590338271490256608559692538361571095921575989136588898/7");
    CHECK_EQ_STR(eval(h, "seen.in_shard"), "shardId-000000000001");
    CHECK_EQ_STR(eval(h, "seen.worker"), "worker-1");
    CHECK_EQ_STR(eval(h, "seen.json"), "{\"a\":1}");

    /* records: binary data, optional fields */
    static const uint8_t bin[] = {'a', 0, 'b', 0xff};
    kcl_record r[2] = {
        {(const uint8_t *)"hello", 5, "pk1", "100", -1, 1700000000123LL, NULL},
        {bin, sizeof bin, "pk2", "101", 3, 1700000000456LL, "12345678901234567890"},
    };
    kcl_batch b = {r, 2, 1234};
    fake_cp cp;
    fake_cp_init(&cp);
    memset(&c, 0, sizeof c);
    kcl_buf_reset(&logbuf);
    vt->process_records(inst, &b, &cp.base, on_done, &c);
    CHECK_EQ_INT(c.status, 0);
    CHECK_EQ_STR(eval(h, "seen.records"),
                 "2|5:pk1:100:nil:1700000000123:nil,4:pk2:101:3:1700000000456:12345678901234567890");
    CHECK_EQ_STR(eval(h, "seen.data2 == '\\97\\0\\98\\255'"), "true");
    CHECK_EQ_STR(eval(h, "seen.millis"), "1234");
    CHECK_EQ_STR(eval(h, "seen.self"), "shardId-000000000001");
    CHECK(log_has("[shardId-000000000001] batch done"));
    CHECK(log_has("n=2"));

    /* outcome "raise": traceback with shard and script:line in the log, done(-1) */
    kcl_buf_reset(&logbuf);
    do_batch(inst, batch_of(200, 1, "raise"), &cp, &c);
    CHECK_EQ_INT(c.status, -1);
    CHECK_MSG(strstr(c.msg, "basic.lua:26:") != NULL, "%s", c.msg);
    CHECK(log_has("[shardId-000000000001]"));
    CHECK(log_has("stack traceback"));
    CHECK(log_has("basic.lua:26: attempt to index"));
    CHECK(log_has("in function 'process_records'") || log_has("process_records"));

    /* a bare coroutine.yield() is a failure, not a hang */
    do_batch(inst, batch_of(201, 1, "yield"), &cp, &c);
    CHECK_EQ_INT(c.status, -1);
    CHECK_MSG(strstr(c.msg, "coroutine.yield") != NULL, "%s", c.msg);

    /* outcome "yielded": yields inside pcall (sleep and checkpoint), done later */
    do_batch(inst, batch_of(202, 1, "pcall"), &cp, &c);
    CHECK_EQ_INT(c.done, 0);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_INT(c.status, 0);
    CHECK_EQ_STR(eval(h, "seen.pcall"), "true:slept:true:true");
    CHECK_EQ_STR(cp.last_seq, "(last)");

    /* shutdown TERMINATE checkpoints */
    memset(&c, 0, sizeof c);
    vt->shutdown(inst, KCL_SHUTDOWN_TERMINATE, &cp.base, on_done, &c);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_INT(c.status, 0);
    CHECK_EQ_STR(eval(h, "seen.reason"), "TERMINATE");
    CHECK_EQ_STR(eval(h, "seen.cp"), "true");
    CHECK_EQ_INT(c.calls, 1);
    vt->destroy(inst);
    CHECK_EQ_INT(cp.live, 0);
    CHECK(loop_idle());
    kcl_lua_host_free(h);
}

static const char *cp_src =
    "local P = {}\n"
    "out = {}\n"
    "function P:process_records(input)\n"
    "  local mode = input.records[1].partition_key\n"
    "  local cp = input.checkpointer\n"
    "  if mode == 'plain' then out[#out+1] = table.concat({tostring(cp:checkpoint())}, ',')\n"
    "  elseif mode == 'seq' then out[#out+1] = table.concat({tostring(cp:checkpoint(input.records[1].sequence_number, 4))}, ',')\n"
    "  elseif mode == 'prepare' then out[#out+1] = tostring(cp:prepare_checkpoint('77', nil, 'state!'))\n"
    "  elseif mode == 'fail' then local a, b, c = cp:checkpoint(); out[#out+1] = tostring(a) .. '|' .. b .. '|' .. c\n"
    "  elseif mode == 'badseq' then cp:checkpoint(12345)\n"
    "  elseif mode == 'badsub' then cp:checkpoint('1', 'x')\n"
    "  elseif mode == 'keep' then kept = cp\n"
    "  elseif mode == 'stale' then kept:checkpoint()\n"
    "  elseif mode == 'nested' then\n"
    "    local co = coroutine.create(function() return cp:checkpoint() end)\n"
    "    local ok, err = coroutine.resume(co)\n"
    "    error(err, 0)\n"
    "  end\n"
    "end\n"
    "return P\n";

static void test_checkpointer(void)
{
    kcl_lua_host *h = host_src("cp.lua", cp_src, NULL);
    if (!h) return;
    void *inst = shard_new(h, "shardId-000000000002");
    fake_cp cp;
    fake_cp_init(&cp);
    call c;
    do_batch(inst, batch_of(10, 2, "plain"), &cp, &c);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_INT(c.status, 0);
    CHECK_EQ_STR(eval(h, "out[1]"), "true");
    CHECK_EQ_STR(cp.last_seq, "(last)");
    CHECK_EQ_INT(cp.last_sub, -1);

    do_batch(inst, batch_of(12, 1, "seq"), &cp, &c);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_STR(eval(h, "out[2]"), "true");
    CHECK_EQ_STR(cp.last_seq, "12");
    CHECK_EQ_INT(cp.last_sub, 4);

    do_batch(inst, batch_of(13, 1, "prepare"), &cp, &c);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_STR(eval(h, "out[3]"), "true");
    CHECK_EQ_INT(cp.last_prepare, 1);
    CHECK_EQ_STR(cp.last_seq, "77");
    CHECK_EQ_STR(cp.last_state, "state!");

    /* the write fails: nil, message, kind (not a raise) */
    cp.fail_kind = KCL_ERR_CONDITION_FAILED;
    do_batch(inst, batch_of(14, 1, "fail"), &cp, &c);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_INT(c.status, 0);
    CHECK_EQ_STR(eval(h, "out[4]"), "nil|checkpoint failed (condition_failed): lease lost to another worker|condition_failed");
    /* refused at once: same shape, no yield */
    cp.fail_kind = KCL_ERR_NONE;
    cp.refuse_kind = KCL_ERR_INVALID_ARGUMENT;
    do_batch(inst, batch_of(15, 1, "fail"), &cp, &c);
    CHECK_EQ_INT(c.done, 1);
    CHECK_EQ_STR(eval(h, "out[5]"), "nil|checkpoint failed (invalid_argument): sequence number out of range|invalid_argument");
    cp.refuse_kind = KCL_ERR_NONE;

    /* misuse raises */
    do_batch(inst, batch_of(16, 1, "badseq"), &cp, &c);
    CHECK_EQ_INT(c.status, -1);
    CHECK_MSG(strstr(c.msg, "sequence_number must be a string") != NULL, "%s", c.msg);
    do_batch(inst, batch_of(17, 1, "badsub"), &cp, &c);
    CHECK_EQ_INT(c.status, -1);
    CHECK_MSG(strstr(c.msg, "sub_sequence_number must be an integer") != NULL, "%s", c.msg);
    do_batch(inst, batch_of(18, 1, "keep"), &cp, &c);
    CHECK_EQ_INT(c.status, 0);
    do_batch(inst, batch_of(19, 1, "stale"), &cp, &c);
    CHECK_EQ_INT(c.status, -1);
    CHECK_MSG(strstr(c.msg, "already returned") != NULL, "%s", c.msg);
    do_batch(inst, batch_of(20, 1, "nested"), &cp, &c);
    CHECK_EQ_INT(c.status, -1);
    CHECK_MSG(strstr(c.msg, "own coroutine") != NULL, "%s", c.msg);

    /* destroy while a checkpoint is in flight: cancelled, never called back */
    cp.calls = 0;
    do_batch(inst, batch_of(21, 1, "plain"), &cp, &c);
    CHECK_EQ_INT(cp.live, 1);
    vt->destroy(inst);
    CHECK_EQ_INT(cp.live, 0);
    CHECK(loop_idle());
    CHECK_EQ_INT(c.done, 0);
    kcl_lua_host_free(h);
}

static const char *sleep_src =
    "local kcl = require 'luakcl'\n"
    "local P = {}\n"
    "trace = {}\n"
    "function P:initialize(input) self.id = input.shard_id end\n"
    "function P:process_records(input)\n"
    "  trace[#trace + 1] = self.id .. ':start'\n"
    "  local t0 = kcl.now()\n"
    "  kcl.sleep(tonumber(input.records[1].partition_key))\n"
    "  trace[#trace + 1] = self.id .. ':end'\n"
    "  slept = kcl.now() - t0\n"
    "end\n"
    "return P\n";

/* The core may destroy an instance from inside its done callback. */
typedef struct destroy_ctx {
    void *inst;
    int done, status;
} destroy_ctx;

static void destroy_on_done(void *ctx, int status, const char *message)
{
    (void)message;
    destroy_ctx *d = ctx;
    d->done = 1;
    d->status = status;
    vt->destroy(d->inst);
}

static void test_destroy_in_done(void)
{
    kcl_lua_host *h = host_src("sleep2.lua", sleep_src, NULL);
    if (!h) return;
    const char *modes[] = {"5", "raise-now"};
    for (int i = 0; i < 2; i++) {
        destroy_ctx d = {shard_new(h, "D"), 0, 0};
        call c;
        do_init(d.inst, "D", &c);
        kcl_batch b = batch_of(1, 1, modes[i]);
        if (i == 1) recs[0].partition_key = NULL;   /* tonumber("") -> nil -> kcl.sleep raises at once */
        vt->process_records(d.inst, &b, NULL, destroy_on_done, &d);
        CHECK_EQ_INT(kcl_test_run_until(loop, &d.done, 5000), 0);
        CHECK_EQ_INT(d.status, i == 0 ? 0 : -1);
    }
    CHECK_EQ_INT(kcl_lua_host_shards(h), 0);
    CHECK(loop_idle());
    kcl_lua_host_free(h);
}

static void test_sleep_interleave(void)
{
    kcl_lua_host *h = host_src("sleep.lua", sleep_src, NULL);
    if (!h) return;
    void *a = shard_new(h, "A"), *b = shard_new(h, "B");
    call ca, cb;
    do_init(a, "A", &ca);
    do_init(b, "B", &cb);
    do_batch(a, batch_of(1, 1, "40"), NULL, &ca);
    kcl_batch bb = batch_of(1, 1, "20");
    memset(&cb, 0, sizeof cb);
    vt->process_records(b, &bb, NULL, on_done, &cb);
    CHECK_EQ_INT(ca.done + cb.done, 0);
    CHECK_EQ_INT(wait_call(&cb), 0);
    CHECK_EQ_INT(ca.done, 0);          /* B finished while A still sleeps */
    CHECK_EQ_INT(wait_call(&ca), 0);
    CHECK_EQ_STR(eval(h, "table.concat(trace, ',')"), "A:start,B:start,B:end,A:end");
    CHECK_MSG(atof(eval(h, "slept")) >= 35, "slept %s ms", eval(h, "slept"));

    /* destroy while sleeping: the timer is cancelled, no callback */
    do_batch(a, batch_of(2, 1, "100000"), NULL, &ca);
    vt->destroy(a);
    CHECK(loop_idle());
    CHECK_EQ_INT(ca.done, 0);
    vt->destroy(b);
    kcl_lua_host_free(h);
}

static const char *put_src =
    "local kcl = require 'luakcl'\n"
    "local P = {}\n"
    "function P:process_records(input)\n"
    "  local mode = input.records[1].partition_key\n"
    "  if mode == 'put' then\n"
    "    local res, failed = kcl.put_records('out', {{data = 'x', partition_key = 'k1'},\n"
    "        {data = 'y', partition_key = 'bad', explicit_hash_key = '42'}})\n"
    "    put_out = #res .. ':' .. failed .. ':' .. res[1].sequence_number .. ':' .. res[1].shard_id .. ':' ..\n"
    "        res[2].error_code .. ':' .. res[2].error_message\n"
    "  elseif mode == 'missing' then\n"
    "    local res, err = kcl.put_records('missing', {{data = 'x', partition_key = 'k'}})\n"
    "    put_out = tostring(res) .. ':' .. err\n"
    "  elseif mode == 'misuse' then\n"
    "    kcl.put_records('out', {{data = 5, partition_key = 'k'}})\n"
    "  elseif mode == 'hang' then\n"
    "    kcl.put_records('out', {{data = 'x', partition_key = 'k'}})\n"
    "  end\n"
    "end\n"
    "return P\n";

static void test_put_records(void)
{
    kcl_lua_host *h = host_src("put.lua", put_src, NULL);
    if (!h) return;
    void *inst = shard_new(h, "S");
    call c;
    do_batch(inst, batch_of(1, 1, "put"), NULL, &c);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_INT(c.status, 0);
    CHECK_EQ_STR(put_seen, "x/k1/-,y/bad/42");
    CHECK_EQ_STR(eval(h, "put_out"),
                 "2:1:4959000000000000000001:shardId-000000000007:ProvisionedThroughputExceededException:slow down");
    do_batch(inst, batch_of(2, 1, "missing"), NULL, &c);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_STR(eval(h, "put_out"), "nil:put_records failed (not_found): no such stream");
    do_batch(inst, batch_of(3, 1, "misuse"), NULL, &c);
    CHECK_EQ_INT(c.status, -1);
    CHECK_MSG(strstr(c.msg, "records[1].data must be a string") != NULL, "%s", c.msg);
    do_batch(inst, batch_of(4, 1, "hang"), NULL, &c);
    CHECK_EQ_INT(puts_live, 1);
    vt->destroy(inst);
    CHECK_EQ_INT(puts_live, 0);
    CHECK(loop_idle());
    kcl_lua_host_free(h);
}

static const char *budget_src =
    "local kcl = require 'luakcl'\n"
    "local P = {}\n"
    "function P:process_records(input)\n"
    "  local mode = input.records[1].partition_key\n"
    "  if mode == 'spin' then\n"
    "    jit.off(true, true)\n"
    "    local x = 0\n"
    "    while true do x = x + 1 end\n"
    "  elseif mode == 'catch' then\n"
    "    jit.off(true, true)\n"
    "    for i = 1, 5 do pcall(function() while true do end end) end\n"
    "    caught = true\n"
    "  elseif mode == 'busy-then-sleep' then\n"
    "    local t0 = os.clock()\n"
    "    while os.clock() - t0 < 0.12 do end\n"
    "    kcl.sleep(1)\n"
    "  elseif mode == 'sleepy' then\n"
    "    for i = 1, 4 do kcl.sleep(30) end\n"
    "    ok_sleepy = true\n"
    "  end\n"
    "end\n"
    "return P\n";

static void test_budget(void)
{
    kcl_lua_host_opts o = {0};
    o.no_reload = 1;
    o.budget_ms = 50;
    o.hook_instructions = 1000;
    kcl_lua_host *h = host_src("budget.lua", budget_src, &o);
    if (!h) return;
    void *inst = shard_new(h, "shardId-budget");
    call c;
    kcl_buf_reset(&logbuf);
    do_batch(inst, batch_of(1, 1, "spin"), NULL, &c);
    CHECK_EQ_INT(c.status, -1);
    CHECK_MSG(strstr(c.msg, "time budget of 50 ms exceeded at") != NULL && strstr(c.msg, "budget.lua:8") != NULL,
              "%s", c.msg);
    CHECK(log_has("[shardId-budget]"));
    /* catching the budget error with pcall does not save the callback */
    do_batch(inst, batch_of(2, 1, "catch"), NULL, &c);
    CHECK_EQ_INT(c.status, -1);
    CHECK_MSG(strstr(c.msg, "time budget") != NULL, "%s", c.msg);
    CHECK_EQ_STR(eval(h, "caught"), "true");       /* it ran to its end, and still failed */
    /* checked at yield points too (os.clock loops call C: the hook may or may not see them) */
    do_batch(inst, batch_of(3, 1, "busy-then-sleep"), NULL, &c);
    CHECK_EQ_INT(c.status, -1);
    CHECK_MSG(strstr(c.msg, "time budget") != NULL && strstr(c.msg, "budget.lua:") != NULL, "%s", c.msg);
    /* time spent yielded does not count: 120 ms asleep passes a 50 ms budget */
    do_batch(inst, batch_of(4, 1, "sleepy"), NULL, &c);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_INT(c.status, 0);
    CHECK_EQ_STR(eval(h, "ok_sleepy"), "true");
    vt->destroy(inst);
    CHECK(loop_idle());
    kcl_lua_host_free(h);
}

static const char *mem_src =
    "local P = {}\n"
    "function P:process_records(input)\n"
    "  if input.records[1].partition_key == 'hog' then\n"
    "    local t = {}\n"
    "    for i = 1, 1e7 do t[i] = string.rep('x', 100) .. i end\n"
    "  end\n"
    "  small = (small or 0) + 1\n"
    "end\n"
    "return P\n";

static void test_memory_cap(void)
{
    kcl_lua_host_opts o = {0};
    o.no_reload = 1;
    o.mem_limit = 16u << 20;
    kcl_lua_host *h = host_src("mem.lua", mem_src, &o);
    if (!h) return;
    void *inst = shard_new(h, "shardId-mem");
    call c;
    do_batch(inst, batch_of(1, 1, "hog"), NULL, &c);
    CHECK_EQ_INT(c.status, -1);
    CHECK_MSG(strstr(c.msg, "memory cap of 16777216 bytes exceeded") != NULL, "%s", c.msg);
    CHECK(kcl_lua_host_mem(h) < (4u << 20));
    do_batch(inst, batch_of(2, 1, "ok"), NULL, &c);
    CHECK_EQ_INT(c.status, 0);
    CHECK_EQ_STR(eval(h, "small"), "1");
    vt->destroy(inst);
    kcl_lua_host_free(h);
}

/* ---- hot reload ----------------------------------------------------------------- */

static const char *v1_src =
    "local kcl = require 'luakcl'\n"
    "local helper = require 'helper'\n"
    "local P = {}\n"
    "function P:initialize(input) self.n = 0; self.log = {} end\n"
    "function P:process_records(input)\n"
    "  for _, r in ipairs(input.records) do\n"
    "    self.n = self.n + 1\n"
    "    self.log[#self.log + 1] = 'v1:' .. r.sequence_number\n"
    "  end\n"
    "  if input.records[1].partition_key == 'slow' then kcl.sleep(30); self.log[#self.log + 1] = 'v1:after-sleep' end\n"
    "  last = table.concat(self.log, ',') .. '|' .. self.n .. '|' .. helper.tag .. '|' .. tostring(self.reloaded)\n"
    "end\n"
    "return P\n";

static const char *v2_src =
    "local kcl = require 'luakcl'\n"
    "local helper = require 'helper'\n"
    "local P = {}\n"
    "function P:on_reload() self.reloaded = (self.reloaded or 0) + 1; kcl.sleep(1) end\n"
    "function P:process_records(input)\n"
    "  for _, r in ipairs(input.records) do\n"
    "    self.n = self.n + 1\n"
    "    self.log[#self.log + 1] = 'v2:' .. r.sequence_number\n"
    "  end\n"
    "  if input.records[1].partition_key == 'slow' then kcl.sleep(30); self.log[#self.log + 1] = 'v2:after-sleep' end\n"
    "  last = table.concat(self.log, ',') .. '|' .. self.n .. '|' .. helper.tag .. '|' .. tostring(self.reloaded)\n"
    "end\n"
    "return P\n";

static int gen2(kcl_lua_host *h) { return kcl_lua_host_generation(h) == 2; }
static int gen3(kcl_lua_host *h) { return kcl_lua_host_generation(h) == 3; }
static int failed1(kcl_lua_host *h) { return kcl_lua_host_reload_failures(h) == 1; }

static void test_reload(void)
{
    write_script("helper.lua", "return { tag = 'h1' }\n");
    kcl_lua_host_opts o = {0};
    o.reload_debounce_ms = 50;
    kcl_lua_host *h = host_src("reload.lua", v1_src, &o);
    if (!h) return;
    CHECK_EQ_INT(kcl_lua_host_watched(h), 2);     /* the script and helper.lua */
    void *inst = shard_new(h, "shardId-reload");
    call c;
    do_init(inst, "shardId-reload", &c);
    do_batch(inst, batch_of(1, 2, "k"), NULL, &c);
    CHECK_EQ_STR(eval(h, "last"), "v1:1,v1:2|2|h1|nil");

    /* the file is rewritten: new methods at the next batch, state kept, on_reload once */
    write_script("reload.lua", v2_src);
    CHECK_EQ_INT(wait_for(h, gen2), 0);
    do_batch(inst, batch_of(3, 2, "k"), NULL, &c);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_INT(c.status, 0);
    CHECK_EQ_STR(eval(h, "last"), "v1:1,v1:2,v2:3,v2:4|4|h1|1");
    do_batch(inst, batch_of(5, 1, "k"), NULL, &c);
    CHECK_EQ_STR(eval(h, "last"), "v1:1,v1:2,v2:3,v2:4,v2:5|5|h1|1");

    /* a broken rewrite keeps the old code, and the log says where */
    kcl_buf_reset(&logbuf);
    write_script("reload.lua", "local P = {}\nfunction P:process_records(input)\n  oops(\nend\nreturn P\n");
    CHECK_EQ_INT(wait_for(h, failed1), 0);
    CHECK(log_has("reload refused"));
    CHECK(log_has("reload.lua:4:"));
    do_batch(inst, batch_of(6, 1, "k"), NULL, &c);
    CHECK_EQ_STR(eval(h, "last"), "v1:1,v1:2,v2:3,v2:4,v2:5,v2:6|6|h1|1");
    char err[512];
    CHECK_EQ_INT(kcl_lua_host_reload(h, err, sizeof err), -1);
    CHECK_MSG(strstr(err, "reload.lua:4:") != NULL, "%s", err);

    /* a reload during a running callback: it finishes on the old code */
    write_script("reload.lua", v1_src);
    kcl_lua_host_reload(h, err, sizeof err);       /* back to v1 as generation 3 */
    CHECK_EQ_INT(wait_for(h, gen3), 0);
    do_batch(inst, batch_of(7, 1, "slow"), NULL, &c);  /* v1 code, sleeping */
    write_script("reload.lua", v2_src);
    CHECK_EQ_INT(kcl_lua_host_reload(h, err, sizeof err), 0);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_STR(eval(h, "last"), "v1:1,v1:2,v2:3,v2:4,v2:5,v2:6,v1:7,v1:after-sleep|7|h1|1");
    do_batch(inst, batch_of(8, 1, "k"), NULL, &c);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_EQ_STR(eval(h, "last"), "v1:1,v1:2,v2:3,v2:4,v2:5,v2:6,v1:7,v1:after-sleep,v2:8|8|h1|2");

    /* a module from the script's directory is watched and reloaded too */
    unsigned g = kcl_lua_host_generation(h);
    write_script("helper.lua", "return { tag = 'h2' }\n");
    for (int i = 0; i < 500 && kcl_lua_host_generation(h) == g; i++) {
        int never = 0;
        kcl_test_run_until(loop, &never, 10);
    }
    CHECK_EQ_INT(kcl_lua_host_generation(h), g + 1);
    do_batch(inst, batch_of(9, 1, "k"), NULL, &c);
    CHECK_EQ_INT(wait_call(&c), 0);
    CHECK_MSG(strstr(eval(h, "last"), "|9|h2|3") != NULL, "%s", eval(h, "last"));
    vt->destroy(inst);
    kcl_lua_host_free(h);
    CHECK(loop_idle());
}

/* ---- nothing leaks: 200 shards and 20 reloads ----------------------------------- */

static const char *leak_src =
    "local kcl = require 'luakcl'\n"
    "local P = {}\n"
    "function P:initialize(input) self.id = input.shard_id; self.buf = {} end\n"
    "function P:process_records(input)\n"
    "  for _, r in ipairs(input.records) do self.buf[#self.buf + 1] = r.data end\n"
    "  kcl.sleep(0)\n"
    "  assert(input.checkpointer:checkpoint())\n"
    "  kcl.log.debug('batch', {n = #input.records})\n"
    "end\n"
    "function P:shutdown(input) if input.reason == 'TERMINATE' then input.checkpointer:checkpoint() end end\n"
    "return P\n";

static void run_shards(kcl_lua_host *h, int nshards, int reloads)
{
    enum { WAVE = 20 };
    fake_cp cp;
    fake_cp_init(&cp);
    char err[512];
    int r = 0;
    for (int base = 0; base < nshards; base += WAVE) {
        void *inst[WAVE];
        call c[WAVE];
        char id[WAVE][32];
        int n = nshards - base < WAVE ? nshards - base : WAVE;
        for (int i = 0; i < n; i++) {
            snprintf(id[i], sizeof id[i], "shardId-%06d", base + i);
            inst[i] = shard_new(h, id[i]);
            do_init(inst[i], id[i], &c[i]);
        }
        for (int i = 0; i < n; i++) {
            kcl_batch b = batch_of(base * 10, 10, "pk");
            memset(&c[i], 0, sizeof c[i]);
            vt->process_records(inst[i], &b, &cp.base, on_done, &c[i]);
        }
        if (r < reloads) {                        /* reload while callbacks are in flight */
            CHECK_EQ_INT(kcl_lua_host_reload(h, err, sizeof err), 0);
            r++;
        }
        for (int i = 0; i < n; i++) {
            CHECK_EQ_INT(wait_call(&c[i]), 0);
            CHECK_EQ_INT(c[i].status, 0);
        }
        for (int i = 0; i < n; i++) {
            memset(&c[i], 0, sizeof c[i]);
            vt->shutdown(inst[i], i % 2 ? KCL_SHUTDOWN_TERMINATE : KCL_SHUTDOWN_ZOMBIE, &cp.base, on_done, &c[i]);
            if (i == 3) {                         /* one destroyed mid-checkpoint */
                vt->destroy(inst[i]);
                inst[i] = NULL;
            }
        }
        for (int i = 0; i < n; i++) {
            if (!inst[i]) continue;
            CHECK_EQ_INT(wait_call(&c[i]), 0);
            vt->destroy(inst[i]);
        }
    }
    while (r < reloads) {
        CHECK_EQ_INT(kcl_lua_host_reload(h, err, sizeof err), 0);
        r++;
    }
    CHECK_EQ_INT(cp.live, 0);
}

static void test_no_leaks(void)
{
    kcl_lua_host_opts o = {0};
    o.reload_debounce_ms = 50;
    kcl_lua_host *h = host_src("leak.lua", leak_src, &o);
    if (!h) return;
    /* JIT traces come and go with hotness and timing (a few KB either way
     * between identical runs): count without them, so the figure is the
     * memory the scripts and the host hold. */
    eval(h, "jit.off() or jit.flush()");
    run_shards(h, 20, 1);                         /* warm up: interned names, table sizes */
    size_t mem0 = kcl_lua_host_mem(h);
    int refs0 = kcl_lua_host_registry_refs(h);
    run_shards(h, 200, 20);
    size_t mem1 = kcl_lua_host_mem(h);
    int refs1 = kcl_lua_host_registry_refs(h);
    run_shards(h, 200, 20);
    size_t mem2 = kcl_lua_host_mem(h);
    CHECK_EQ_INT(kcl_lua_host_shards(h), 0);
    CHECK_EQ_INT(refs1, refs0);
    CHECK_EQ_INT(kcl_lua_host_registry_refs(h), refs0);
    /* Back to the baseline to the byte, and a second identical run does not
     * move it either. */
    CHECK_MSG(mem1 == mem0, "Lua memory %zu before, %zu after", mem0, mem1);
    CHECK_MSG(mem2 == mem1, "Lua memory %zu after one run, %zu after two", mem1, mem2);
    printf("leak check: %d registry refs before and after; Lua memory %zu -> %zu -> %zu bytes; generation %u\n",
           refs0, mem0, mem1, mem2, kcl_lua_host_generation(h));
    kcl_lua_host_free(h);
}

int main(void)
{
    strcpy(tmpdir, "/tmp/luakcl-test-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    FILE *devnull = fopen("/dev/null", "w");
    kcl_log_set_file(getenv("LUAKCL_TEST_LOG") ? NULL : devnull);
    kcl_log_set_hook(log_hook, NULL);
    kcl_log_set_level(KCL_LOG_INFO);
    loop = ev_loop_new(EVFLAG_AUTO);
    vt = kcl_lua_host_vtable();

    for (int round = 0; round < 2; round++) {     /* twice in one process: no leaked state */
        test_load_errors();
        test_basic_and_outcomes();
        test_checkpointer();
        test_sleep_interleave();
        test_destroy_in_done();
        test_put_records();
        test_budget();
        test_memory_cap();
        test_reload();
        test_no_leaks();
    }

    ev_loop_destroy(loop);
    kcl_log_set_hook(NULL, NULL);
    kcl_log_set_file(NULL);
    fclose(devnull);
    kcl_buf_free(&logbuf);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_END();
}
