#include "lua_host.h"

#include "clock.h"
#include "log.h"
#include "lua_api.h"
#include "lua_reload.h"

#include <ev.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PHASE_IDLE = 0, PHASE_RELOAD, PHASE_MAIN };

struct kcl_lua_shard {
    kcl_lua_host  *host;
    kcl_lua_shard *prev, *next;
    char          *shard_id;
    lua_State     *co;          /* the shard's coroutine (anchored by co_ref) */
    int            co_ref, inst_ref;
    unsigned       gen;         /* script generation of the instance's methods */
    /* the call in progress */
    kcl_proc_done_fn done;
    void          *ctx;
    const char    *method;
    int            phase;
    int            input_ref;   /* the main call's input while on_reload runs */
    void          *cp_handle;   /* this call's checkpointer object */
    int64_t        used_ns;     /* Lua run time of this call */
    kcl_lua_waiter *waiter;     /* pending wait */
    ev_timer       defer;       /* resumes a woken shard on a later loop turn */
    int            depth;       /* host frames of this shard on the C stack */
    int            dead;        /* destroyed while on the stack: freed at depth 0 */
};

struct kcl_lua_host {
    lua_State *L;
    kcl_host_services svc;
    char      *worker_id, *path, *dir;
    double     budget_ms;
    int        hook_n, no_reload, counting_alloc;
    size_t     mem_limit, mem_used;
    lua_Alloc  base_alloc;      /* LuaJIT's own allocator, under host_alloc */
    void      *base_ud;
    int        enforce;         /* refuse allocations past mem_limit (Lua is running) */
    int        helper_ref, tramp_ref, script_ref, locals_ref;
    unsigned   gen, reloads, reload_failures;
    kcl_lua_shard *shards;
    int        nshards;
    kcl_lua_shard *running;     /* whose callback is running now */
    int        in_lua;          /* Lua code runs under the budget */
    int64_t    run_start_ns, run_base_ns;
    kcl_lua_reload *watch;      /* NULL with no_reload */
};

static char host_key;   /* registry[&host_key] = the host (light userdata) */

/* Run once per VM: search paths, and the helpers the host calls from C. */
static const char helper_src[] =
    "local dir = ...\n"
    "local loaded = package.loaded\n"
    "local here = dir .. '/?.lua;' .. dir .. '/?/init.lua'\n"
    "package.path = here .. ';' .. package.path\n"
    "local multiarch = '/usr/lib/x86_64-linux-gnu/lua/5.1/?.so'\n"
    "if not package.cpath:find(multiarch, 1, true) then\n"
    "  package.cpath = package.cpath .. ';' .. multiarch\n"
    "end\n"
    "local baseline = {}\n"
    "for k in pairs(loaded) do baseline[k] = true end\n"
    "local H = {}\n"
    "function H.locals()\n"          /* {name, file, ...} of modules loaded from dir */
    "  local out = {}\n"
    "  for k in pairs(loaded) do\n"
    "    if type(k) == 'string' and not baseline[k] then\n"
    "      local f = package.searchpath(k, here)\n"
    "      if f then out[#out + 1] = k; out[#out + 1] = f end\n"
    "    end\n"
    "  end\n"
    "  return out\n"
    "end\n"
    "function H.unload(list)\n"
    "  local saved = {}\n"
    "  for i = 1, #list, 2 do saved[list[i]] = loaded[list[i]]; loaded[list[i]] = nil end\n"
    "  return saved\n"
    "end\n"
    "function H.restore(saved) for k, v in pairs(saved) do loaded[k] = v end end\n"
    "local xpcall, traceback, tostring = xpcall, debug.traceback, tostring\n"
    "local function handler(e) return traceback(tostring(e), 2) end\n"
    "H.handler = handler\n"
    "function H.run(fn, self, input) return xpcall(fn, handler, self, input) end\n"
    "return H\n";

/* ---- small helpers ------------------------------------------------------------ */

static void copy_err(char *buf, size_t len, const char *msg)
{
    if (buf && len) snprintf(buf, len, "%s", msg ? msg : "unknown error");
}

/* The first line of a (traceback) message, copied into out. */
static void first_line(const char *msg, char *out, size_t outlen)
{
    size_t n = strcspn(msg, "\n");
    if (n >= outlen) n = outlen - 1;
    memcpy(out, msg, n);
    out[n] = 0;
}

/* "file:line" of the innermost Lua frame of L (level 0 up). */
static void lua_where(lua_State *L, char *out, size_t outlen)
{
    lua_Debug ar;
    for (int level = 0; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            snprintf(out, outlen, "%s:%d", ar.short_src, ar.currentline);
            return;
        }
    }
    snprintf(out, outlen, "?");
}

/* Counts and caps Lua's memory on top of LuaJIT's own allocator (its
 * dlmalloc-style arena, which keeps the VM's many small objects out of
 * glibc's heap: with realloc underneath, a batch's garbage filled glibc's
 * fastbins and every large malloc of the next response paid for
 * malloc_consolidate; see bench/PERF_NOTES.md). */
static void *host_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    kcl_lua_host *h = ud;
    if (!ptr) osize = 0;
    if (nsize == 0) {
        h->base_alloc(h->base_ud, ptr, osize, 0);
        h->mem_used -= osize;
        return NULL;
    }
    if (nsize > osize && h->enforce && h->mem_limit && h->mem_used + (nsize - osize) > h->mem_limit)
        return NULL;
    void *p = h->base_alloc(h->base_ud, ptr, osize, nsize);
    if (!p) return NULL;
    h->mem_used = h->mem_used - osize + nsize;
    return p;
}

static int host_panic(lua_State *L)
{
    KCL_ERROR(NULL, "lua: unprotected error: %s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "?");
    abort();
}

static int64_t run_ns(const kcl_lua_host *h)
{
    return h->run_base_ns + (kcl_clock_mono_ns() - h->run_start_ns);
}

static int over_budget(const kcl_lua_host *h, int64_t used_ns)
{
    return h->budget_ms > 0 && (double)used_ns / 1e6 > h->budget_ms;
}

/* Memory cap check for a VM without the counting allocator (fallback). */
static int over_mem(kcl_lua_host *h)
{
    if (h->counting_alloc || !h->mem_limit) return 0;
    size_t used = (size_t)lua_gc(h->L, LUA_GCCOUNT, 0) * 1024u;
    return used > h->mem_limit;
}

/* Count hook: stop Lua that ran past its budget (interpreted code only). */
static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    kcl_lua_host *h = kcl_lua_host_from(L);
    if (!h || !h->in_lua || !over_budget(h, run_ns(h))) return;
    char where[256];
    lua_where(L, where, sizeof where);
    lua_pushfstring(L, "time budget of %d ms exceeded at %s", (int)h->budget_ms, where);
    lua_error(L);
}

/* ---- public introspection + lua_api services ---------------------------------- */

kcl_lua_host *kcl_lua_host_from(lua_State *L)
{
    lua_pushlightuserdata(L, &host_key);
    lua_rawget(L, LUA_REGISTRYINDEX);
    kcl_lua_host *h = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return h;
}

const kcl_host_services *kcl_lua_host_services(const kcl_lua_host *h) { return &h->svc; }
kcl_lua_shard *kcl_lua_host_running(const kcl_lua_host *h) { return h->running; }
const char *kcl_lua_shard_id(const kcl_lua_shard *s) { return s->shard_id; }
int kcl_lua_shard_is_thread(const kcl_lua_shard *s, lua_State *L) { return s->co == L; }
int kcl_lua_host_shards(const kcl_lua_host *h) { return h->nshards; }
unsigned kcl_lua_host_generation(const kcl_lua_host *h) { return h->gen; }
unsigned kcl_lua_host_reloads(const kcl_lua_host *h) { return h->reloads; }
unsigned kcl_lua_host_reload_failures(const kcl_lua_host *h) { return h->reload_failures; }
int kcl_lua_host_watched(const kcl_lua_host *h) { return kcl_lua_reload_count(h->watch); }
struct lua_State *kcl_lua_host_state(kcl_lua_host *h) { return h->L; }

size_t kcl_lua_host_mem(kcl_lua_host *h)
{
    lua_gc(h->L, LUA_GCCOLLECT, 0);
    lua_gc(h->L, LUA_GCCOLLECT, 0);
    return (size_t)lua_gc(h->L, LUA_GCCOUNT, 0) * 1024u + (size_t)lua_gc(h->L, LUA_GCCOUNTB, 0);
}

int kcl_lua_host_registry_refs(kcl_lua_host *h)
{
    lua_State *L = h->L;
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, LUA_REGISTRYINDEX)) {
        /* freed refs hold the next free slot's number */
        if (lua_type(L, -2) == LUA_TNUMBER && lua_tonumber(L, -2) >= 1 && lua_type(L, -1) != LUA_TNUMBER)
            n++;
        lua_pop(L, 1);
    }
    return n;
}

/* ---- the call machinery ------------------------------------------------------- */

static void shard_free(kcl_lua_shard *s)
{
    free(s->shard_id);
    free(s);
}

/* Leave a host frame of `s`; frees it if it was destroyed meanwhile. */
static void shard_leave(kcl_lua_shard *s)
{
    if (--s->depth == 0 && s->dead) shard_free(s);
}

static void cancel_wait(kcl_lua_shard *s)
{
    if (s->waiter) {
        kcl_lua_waiter *w = s->waiter;
        s->waiter = NULL;
        w->cancel(w);
    }
    ev_timer_stop(s->host->svc.loop, &s->defer);
}

/* End the call: invalidate its checkpointer, then done (which may destroy s;
 * the caller holds a depth so s stays allocated). */
static void finish_call(kcl_lua_shard *s, int status, const char *msg)
{
    if (s->cp_handle) {
        kcl_lua_api_checkpointer_close(s->cp_handle);
        s->cp_handle = NULL;
    }
    if (s->input_ref != LUA_NOREF) {
        luaL_unref(s->host->L, LUA_REGISTRYINDEX, s->input_ref);
        s->input_ref = LUA_NOREF;
    }
    s->phase = PHASE_IDLE;
    kcl_proc_done_fn done = s->done;
    s->done = NULL;
    if (done) done(s->ctx, status, msg);
}

static void start_main(kcl_lua_shard *s);

/* The callback failed: log `detail` (a traceback or message), drop the
 * coroutine (it is dead or stuck in a yield) for a fresh one, report -1. */
static void fail_call(kcl_lua_shard *s, const char *detail)
{
    kcl_lua_host *h = s->host;
    const char *what = s->phase == PHASE_RELOAD ? "on_reload" : s->method;
    char msg[512];
    first_line(detail, msg, sizeof msg);
    const char *fields[] = {"script", h->path, "callback", what, NULL};
    kcl_log_write(KCL_LOG_ERROR, s->shard_id, fields, "lua %s failed: %s", what, detail);
    cancel_wait(s);
    luaL_unref(h->L, LUA_REGISTRYINDEX, s->co_ref);
    s->co = lua_newthread(h->L);
    s->co_ref = luaL_ref(h->L, LUA_REGISTRYINDEX);
    if (strstr(msg, "not enough memory") || h->mem_limit) lua_gc(h->L, LUA_GCCOLLECT, 0);
    if (s->phase == PHASE_RELOAD && s->input_ref != LUA_NOREF) {
        /* on_reload is not the batch: its failure must not make the core
         * retry, skip or stop a batch the script never saw. The new code
         * gets the pending call as usual. */
        KCL_WARN(s->shard_id, "on_reload failed; the pending %s goes to the new code anyway", s->method);
        lua_rawgeti(h->L, LUA_REGISTRYINDEX, s->input_ref);
        luaL_unref(h->L, LUA_REGISTRYINDEX, s->input_ref);
        s->input_ref = LUA_NOREF;
        start_main(s);
        return;
    }
    finish_call(s, -1, msg);
}


/* The single place that resumes a shard's coroutine, and maps the outcome:
 * finished -> next phase or done(0); yielded in a luakcl wait -> wait;
 * anything else -> fail_call. */
static void shard_resume(kcl_lua_shard *s, int nargs)
{
    kcl_lua_host *h = s->host;
    lua_State *co = s->co;
    h->running = s;
    h->in_lua = 1;
    h->enforce = 1;
    h->run_base_ns = s->used_ns;
    h->run_start_ns = kcl_clock_mono_ns();
    int st = lua_resume(co, nargs);
    s->used_ns += kcl_clock_mono_ns() - h->run_start_ns;
    h->running = NULL;
    h->in_lua = 0;
    h->enforce = 0;

    char detail[4096];
    if (st == 0) {
        if (!lua_toboolean(co, 1)) {        /* the trampoline's xpcall caught an error */
            const char *tb = lua_tostring(co, 2);
            if (!tb) tb = "(error object is not a string)";
            int off = 0;
            if (h->mem_limit && strstr(tb, "not enough memory"))
                off = snprintf(detail, sizeof detail, "memory cap of %zu bytes exceeded: ", h->mem_limit);
            snprintf(detail + off, sizeof detail - (size_t)off, "%s", tb);
            lua_settop(co, 0);
            fail_call(s, detail);
            return;
        }
        lua_settop(co, 0);
        if (over_budget(h, s->used_ns)) {
            snprintf(detail, sizeof detail, "time budget of %d ms exceeded in %s (%s): ran %.1f ms",
                     (int)h->budget_ms, s->method, h->path, (double)s->used_ns / 1e6);
            fail_call(s, detail);
        } else if (over_mem(h)) {
            snprintf(detail, sizeof detail, "memory cap of %zu bytes exceeded in %s (%s)",
                     h->mem_limit, s->method, h->path);
            fail_call(s, detail);
        } else if (s->phase == PHASE_RELOAD) {
            lua_rawgeti(h->L, LUA_REGISTRYINDEX, s->input_ref);
            luaL_unref(h->L, LUA_REGISTRYINDEX, s->input_ref);
            s->input_ref = LUA_NOREF;
            start_main(s);
        } else {
            finish_call(s, 0, NULL);
        }
        return;
    }
    char where[256];
    lua_where(co, where, sizeof where);
    if (st == LUA_YIELD) {
        if (!s->waiter) {
            lua_settop(co, 0);
            snprintf(detail, sizeof detail, "%s: coroutine.yield() from a callback's own coroutine "
                     "(only luakcl calls may yield it)", where);
            fail_call(s, detail);
        } else if (over_budget(h, s->used_ns)) {
            snprintf(detail, sizeof detail, "time budget of %d ms exceeded in %s: ran %.1f ms "
                     "before yielding at %s", (int)h->budget_ms, s->method,
                     (double)s->used_ns / 1e6, where);
            fail_call(s, detail);
        } else if (over_mem(h)) {
            snprintf(detail, sizeof detail, "memory cap of %zu bytes exceeded at %s", h->mem_limit, where);
            fail_call(s, detail);
        }
        return;     /* waiting: the waiter's completion resumes us */
    }
    /* An error the trampoline could not catch (error in the handler, OOM). */
    const char *msg = lua_tostring(co, -1);
    snprintf(detail, sizeof detail, "%s%s (at %s)",
             st == LUA_ERRMEM && h->mem_limit ? "memory cap exceeded: " : "",
             msg ? msg : "unknown error", where);
    fail_call(s, detail);
}

/* Start the main callback; its input table is on top of h->L (popped). */
static void start_main(kcl_lua_shard *s)
{
    kcl_lua_host *h = s->host;
    lua_State *L = h->L;
    s->phase = PHASE_MAIN;
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->inst_ref);        /* input inst */
    lua_getfield(L, -1, s->method);                         /* input inst fn */
    if (!lua_isfunction(L, -1)) {
        int missing = lua_isnil(L, -1);
        const char *type = luaL_typename(L, -1);
        lua_pop(L, 3);
        if (missing && strcmp(s->method, "process_records") != 0) {
            finish_call(s, 0, NULL);        /* initialize/shutdown are optional */
        } else {
            char detail[300];
            snprintf(detail, sizeof detail, "%s: %s is %s, not a function", h->path, s->method, type);
            fail_call(s, detail);
        }
        return;
    }
    lua_insert(L, -3);                                      /* fn input inst */
    lua_insert(L, -2);                                      /* fn inst input */
    lua_rawgeti(s->co, LUA_REGISTRYINDEX, h->tramp_ref);
    lua_xmove(L, s->co, 3);                                 /* co: run fn inst input */
    shard_resume(s, 3);
}

/* Begin a callback: the input table is on top of h->L (popped). Switches the
 * instance to new code first when a reload happened since its last call. */
static void call_begin(kcl_lua_shard *s, const char *method, kcl_proc_done_fn done, void *ctx)
{
    kcl_lua_host *h = s->host;
    lua_State *L = h->L;
    s->depth++;
    s->done = done;
    s->ctx = ctx;
    s->method = method;
    s->used_ns = 0;
    if (s->gen != h->gen) {
        s->gen = h->gen;
        lua_rawgeti(L, LUA_REGISTRYINDEX, s->inst_ref);     /* input inst */
        lua_getmetatable(L, -1);                            /* input inst mt */
        lua_rawgeti(L, LUA_REGISTRYINDEX, h->script_ref);   /* input inst mt script */
        lua_getfield(L, -1, "on_reload");                   /* input inst mt script fn */
        lua_insert(L, -3);                                  /* input inst fn mt script */
        lua_setfield(L, -2, "__index");                     /* input inst fn mt */
        lua_pop(L, 1);                                      /* input inst fn */
        if (lua_isfunction(L, -1)) {
            s->phase = PHASE_RELOAD;
            lua_insert(L, -2);                              /* input fn inst */
            lua_pushnil(L);                                 /* input fn inst nil */
            lua_rawgeti(s->co, LUA_REGISTRYINDEX, h->tramp_ref);
            lua_xmove(L, s->co, 3);
            s->input_ref = luaL_ref(L, LUA_REGISTRYINDEX);  /* pops input */
            KCL_INFO(s->shard_id, "lua: running on_reload (generation %u)", h->gen);
            shard_resume(s, 3);
            shard_leave(s);
            return;
        }
        lua_pop(L, 2);                                      /* input */
    }
    start_main(s);
    shard_leave(s);
}

/* ---- waits (the host half of the yield protocol in lua_api.h) ---------------- */

int kcl_lua_shard_wait(kcl_lua_shard *s, lua_State *L, kcl_lua_waiter *w)
{
    s->waiter = w;
    return lua_yield(L, 0);
}

static void resume_waiter(kcl_lua_shard *s)
{
    kcl_lua_waiter *w = s->waiter;
    if (!w) return;
    s->depth++;
    s->waiter = NULL;
    int n = w->push(w, s->co);
    shard_resume(s, n);
    shard_leave(s);
}

static void defer_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop; (void)revents;
    resume_waiter(t->data);
}

void kcl_lua_shard_wake(kcl_lua_shard *s, kcl_lua_waiter *w)
{
    if (s->waiter != w) return;
    if (s->host->running || s->depth > 0) {     /* never resume from inside Lua or the starting call */
        ev_timer_set(&s->defer, 0., 0.);
        ev_timer_start(s->host->svc.loop, &s->defer);
        return;
    }
    resume_waiter(s);
}

/* ---- the processor vtable ---------------------------------------------------- */

static void *vt_create(void *factory, const char *shard_id, kcl_error *err)
{
    kcl_lua_host *h = factory;
    lua_State *L = h->L;
    kcl_lua_shard *s = calloc(1, sizeof *s);
    if (!s || !(s->shard_id = strdup(shard_id ? shard_id : ""))) {
        free(s);
        if (err) kcl_error_set(err, KCL_ERR_FATAL, 0, NULL, "out of memory");
        return NULL;
    }
    s->host = h;
    s->input_ref = LUA_NOREF;
    s->co = lua_newthread(L);
    s->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);                                    /* the instance: self */
    lua_createtable(L, 0, 1);
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->script_ref);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    s->inst_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    s->gen = h->gen;
    ev_timer_init(&s->defer, defer_cb, 0., 0.);
    s->defer.data = s;
    s->next = h->shards;
    if (h->shards) h->shards->prev = s;
    h->shards = s;
    h->nshards++;
    return s;
}

static void vt_initialize(void *inst, const kcl_init_input *in, kcl_proc_done_fn done, void *ctx)
{
    kcl_lua_shard *s = inst;
    kcl_lua_api_push_init_input(s->host->L, in, s->shard_id);
    call_begin(s, "initialize", done, ctx);
}

static void vt_process_records(void *inst, const kcl_batch *batch, kcl_checkpointer *cp,
                               kcl_proc_done_fn done, void *ctx)
{
    kcl_lua_shard *s = inst;
    lua_State *L = s->host->L;
    kcl_lua_api_push_batch_input(L, batch);
    if (cp) {
        s->cp_handle = kcl_lua_api_push_checkpointer(L, s, cp);
        lua_setfield(L, -2, "checkpointer");
    }
    call_begin(s, "process_records", done, ctx);
}

static void vt_shutdown(void *inst, kcl_shutdown_reason reason, kcl_checkpointer *cp,
                        kcl_proc_done_fn done, void *ctx)
{
    kcl_lua_shard *s = inst;
    lua_State *L = s->host->L;
    kcl_lua_api_push_shutdown_input(L, reason);
    if (cp) {
        s->cp_handle = kcl_lua_api_push_checkpointer(L, s, cp);
        lua_setfield(L, -2, "checkpointer");
    }
    call_begin(s, "shutdown", done, ctx);
}

static void vt_destroy(void *inst)
{
    kcl_lua_shard *s = inst;
    kcl_lua_host *h = s->host;
    cancel_wait(s);
    s->done = NULL;                 /* never call back after destroy */
    if (s->cp_handle) {
        kcl_lua_api_checkpointer_close(s->cp_handle);
        s->cp_handle = NULL;
    }
    if (s->input_ref != LUA_NOREF) luaL_unref(h->L, LUA_REGISTRYINDEX, s->input_ref);
    luaL_unref(h->L, LUA_REGISTRYINDEX, s->co_ref);
    luaL_unref(h->L, LUA_REGISTRYINDEX, s->inst_ref);
    s->input_ref = s->co_ref = s->inst_ref = LUA_NOREF;
    s->co = NULL;
    if (s->prev) s->prev->next = s->next;
    else h->shards = s->next;
    if (s->next) s->next->prev = s->prev;
    h->nshards--;
    if (s->depth > 0) s->dead = 1;
    else shard_free(s);
}

static const kcl_processor_vtable lua_vtable = {
    vt_create, vt_initialize, vt_process_records, vt_shutdown, vt_destroy,
};

const kcl_processor_vtable *kcl_lua_host_vtable(void) { return &lua_vtable; }

kcl_processor_factory kcl_lua_host_factory(kcl_lua_host *h)
{
    kcl_processor_factory f = {&lua_vtable, h};
    return f;
}

/* ---- loading and reloading -------------------------------------------------- */

/* Call helper H[name] with the `nargs` values on top of h->L; leaves one result. */
static void helper_call(kcl_lua_host *h, const char *name, int nargs)
{
    lua_State *L = h->L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->helper_ref);
    lua_getfield(L, -1, name);
    lua_remove(L, -2);
    lua_insert(L, -(nargs + 1));
    if (lua_pcall(L, nargs, 1, 0) != 0) {
        KCL_ERROR(NULL, "lua host helper %s failed: %s", name, lua_tostring(L, -1));
        lua_pop(L, 1);
        lua_pushnil(L);
    }
}

/* Compile and run the script, check what it returned. On success pushes the
 * script table and returns 0; else -1 with "file:line: why" in err. */
static int load_script(kcl_lua_host *h, char *err, size_t errlen)
{
    lua_State *L = h->L;
    int top = lua_gettop(L);
    char msg[1024];
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->helper_ref);
    lua_getfield(L, -1, "handler");
    lua_remove(L, -2);                                  /* handler at top+1 */
    h->enforce = 1;
    int st = luaL_loadfile(L, h->path);
    if (st != 0) {
        h->enforce = 0;
        snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1) ? lua_tostring(L, -1) : "cannot load script");
        goto fail;
    }
    h->in_lua = 1;
    h->run_base_ns = 0;
    h->run_start_ns = kcl_clock_mono_ns();
    st = lua_pcall(L, 0, 1, top + 1);
    h->in_lua = 0;
    h->enforce = 0;
    if (st != 0) {
        const char *tb = lua_tostring(L, -1) ? lua_tostring(L, -1) : "(error object is not a string)";
        KCL_ERROR(NULL, "lua: %s failed at top level: %s", h->path, tb);
        first_line(tb, msg, sizeof msg);
        goto fail;
    }
    if (!lua_istable(L, -1)) {
        snprintf(msg, sizeof msg, "%s: the script must return a table of methods (it returned %s)",
                 h->path, luaL_typename(L, -1));
        goto fail;
    }
    static const char *const methods[] = {"process_records", "initialize", "shutdown", "on_reload"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        lua_getfield(L, -1, methods[i]);
        int ok = lua_isfunction(L, -1) || (i > 0 && lua_isnil(L, -1));
        if (!ok) {
            snprintf(msg, sizeof msg, "%s: %s must be a function (the script's table has %s)",
                     h->path, methods[i], luaL_typename(L, -1));
            goto fail;
        }
        lua_pop(L, 1);
    }
    lua_remove(L, top + 1);
    return 0;
fail:
    lua_settop(L, top);
    copy_err(err, errlen, msg);
    return -1;
}

static void on_files_changed(void *ud)
{
    char err[512];
    kcl_lua_host_reload(ud, err, sizeof err);   /* logs either way */
}

/* Refresh the list of local modules and watch them with the script. */
static void refresh_locals(kcl_lua_host *h)
{
    lua_State *L = h->L;
    helper_call(h, "locals", 0);
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    lua_rawseti(L, LUA_REGISTRYINDEX, h->locals_ref);   /* reuse the slot */
    if (!h->watch) return;
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->locals_ref);
    int nmod = (int)lua_objlen(L, -1) / 2;
    const char **paths = calloc((size_t)nmod + 1, sizeof *paths);
    if (paths) {
        paths[0] = h->path;
        for (int i = 1; i <= nmod; i++) {
            lua_rawgeti(L, -1, 2 * i);          /* pinned by the locals table */
            paths[i] = lua_tostring(L, -1) ? lua_tostring(L, -1) : h->path;
            lua_pop(L, 1);
        }
        if (kcl_lua_reload_watch(h->watch, paths, nmod + 1) != 0)
            KCL_WARN(NULL, "lua: out of memory watching %s for reload", h->path);
        free(paths);
    }
    lua_pop(L, 1);
}

int kcl_lua_host_reload(kcl_lua_host *h, char *errbuf, size_t errlen)
{
    lua_State *L = h->L;
    char err[1024];
    lua_rawgeti(L, LUA_REGISTRYINDEX, h->locals_ref);
    helper_call(h, "unload", 1);                        /* saved */
    if (load_script(h, err, sizeof err) != 0) {
        helper_call(h, "restore", 1);
        lua_pop(L, 1);
        h->reload_failures++;
        const char *fields[] = {"script", h->path, NULL};
        kcl_log_write(KCL_LOG_ERROR, NULL, fields, "lua: reload refused, the old code keeps running: %s", err);
        copy_err(errbuf, errlen, err);
        return -1;
    }
    lua_remove(L, -2);                                  /* drop saved */
    lua_rawseti(L, LUA_REGISTRYINDEX, h->script_ref);   /* reuse the slot */
    h->gen++;
    h->reloads++;
    refresh_locals(h);
    const char *fields[] = {"script", h->path, NULL};
    kcl_log_write(KCL_LOG_INFO, NULL, fields,
                  "lua: reloaded (generation %u); shards switch at their next callback", h->gen);
    return 0;
}

/* ---- the host ------------------------------------------------------------------ */

kcl_lua_host *kcl_lua_host_new(const kcl_host_services *svc, const kcl_lua_host_opts *opts,
                               char *errbuf, size_t errlen)
{
    if (!svc || !svc->loop || !opts || !opts->script_path) {
        copy_err(errbuf, errlen, "lua host: a loop and a script path are required");
        return NULL;
    }
    kcl_lua_host *h = calloc(1, sizeof *h);
    if (!h) {
        copy_err(errbuf, errlen, "out of memory");
        return NULL;
    }
    h->svc = *svc;
    h->worker_id = svc->worker_id ? strdup(svc->worker_id) : NULL;
    h->svc.worker_id = h->worker_id;
    char *real = realpath(opts->script_path, NULL);
    h->path = real ? real : strdup(opts->script_path);
    h->dir = h->path ? strdup(h->path) : NULL;
    if (!h->path || !h->dir) {
        copy_err(errbuf, errlen, "out of memory");
        kcl_lua_host_free(h);
        return NULL;
    }
    char *slash = strrchr(h->dir, '/');
    if (slash == h->dir) slash[1] = 0;
    else if (slash) *slash = 0;
    else strcpy(h->dir, ".");
    h->budget_ms = opts->budget_ms;
    h->hook_n = opts->hook_instructions > 0 ? opts->hook_instructions : 10000;
    h->mem_limit = opts->mem_limit;
    h->no_reload = opts->no_reload;
    h->helper_ref = h->tramp_ref = h->script_ref = h->locals_ref = LUA_NOREF;
    if (!h->no_reload && !(h->watch = kcl_lua_reload_new(svc->loop, opts->reload_debounce_ms,
                                                         on_files_changed, h))) {
        copy_err(errbuf, errlen, "out of memory");
        kcl_lua_host_free(h);
        return NULL;
    }

    /* LuaJIT's allocator with the counting one wrapped around it (the
     * original is put back before lua_close, which destroys its arena). */
    h->L = luaL_newstate();
    if (h->L) {
        h->base_alloc = lua_getallocf(h->L, &h->base_ud);
        h->mem_used = (size_t)lua_gc(h->L, LUA_GCCOUNT, 0) * 1024u + (size_t)lua_gc(h->L, LUA_GCCOUNTB, 0);
        lua_setallocf(h->L, host_alloc, h);
        h->counting_alloc = lua_getallocf(h->L, NULL) == host_alloc;
    }
    if (!h->L) {
        copy_err(errbuf, errlen, "cannot create a Lua state");
        kcl_lua_host_free(h);
        return NULL;
    }
    lua_State *L = h->L;
    lua_atpanic(L, host_panic);
    luaL_openlibs(L);
    lua_pushlightuserdata(L, &host_key);
    lua_pushlightuserdata(L, h);
    lua_rawset(L, LUA_REGISTRYINDEX);
    kcl_lua_api_open(L);
    if (luaL_loadbuffer(L, helper_src, sizeof helper_src - 1, "=luakcl.host") != 0 ||
        (lua_pushstring(L, h->dir), lua_pcall(L, 1, 1, 0)) != 0) {
        copy_err(errbuf, errlen, lua_tostring(L, -1));
        kcl_lua_host_free(h);
        return NULL;
    }
    lua_getfield(L, -1, "run");
    h->tramp_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    h->helper_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_newtable(L);
    h->locals_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (h->budget_ms > 0) lua_sethook(L, budget_hook, LUA_MASKCOUNT, h->hook_n);

    char err[1024];
    if (load_script(h, err, sizeof err) != 0) {
        copy_err(errbuf, errlen, err);
        kcl_lua_host_free(h);
        return NULL;
    }
    h->script_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    h->gen = 1;
    refresh_locals(h);
    return h;
}

void kcl_lua_host_free(kcl_lua_host *h)
{
    if (!h) return;
    while (h->shards) vt_destroy(h->shards);
    kcl_lua_reload_free(h->watch);
    if (h->L) {
        if (h->counting_alloc) lua_setallocf(h->L, h->base_alloc, h->base_ud);
        lua_close(h->L);
    }
    free(h->worker_id);
    free(h->path);
    free(h->dir);
    free(h);
}
