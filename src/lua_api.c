#include "lua_api.h"

#include "clock.h"
#include "log.h"

#include <ev.h>
#include <limits.h>
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef LUAKCL_VERSION
#define LUAKCL_VERSION "0"
#endif

#define CP_META "luakcl.checkpointer"
#define MAX_LOG_FIELDS 32

/* The shard whose coroutine may wait here, or raise with a clear message. */
static kcl_lua_shard *wait_shard(lua_State *L, const char *what)
{
    kcl_lua_host *h = kcl_lua_host_from(L);
    kcl_lua_shard *s = h ? kcl_lua_host_running(h) : NULL;
    if (!s)
        luaL_error(L, "%s can only be called inside a callback (initialize, process_records, "
                      "shutdown, on_reload), not at the top level of a script", what);
    else if (!kcl_lua_shard_is_thread(s, L))
        luaL_error(L, "%s must be called from the callback's own coroutine, not from a "
                      "coroutine the script created", what);
    return s;
}

/* ---- kcl.log ------------------------------------------------------------------- */

/* Push tostring(value at idx); returns the C string (pinned by the stack). */
static const char *push_tostring(lua_State *L, int idx)
{
    if (idx < 0) idx = lua_gettop(L) + idx + 1;
    lua_getglobal(L, "tostring");
    lua_pushvalue(L, idx);
    lua_call(L, 1, 1);
    const char *s = lua_tostring(L, -1);
    return s ? s : "?";
}

static int log_at(lua_State *L, kcl_log_level level)
{
    if (!kcl_log_enabled(level)) return 0;
    int top = lua_gettop(L);
    if (!lua_isnoneornil(L, 2) && lua_type(L, 2) != LUA_TTABLE)
        return luaL_argerror(L, 2, "fields must be a table");
    const char *msg = push_tostring(L, 1);
    const char *fields[2 * MAX_LOG_FIELDS + 1];
    int nf = 0;
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_checkstack(L, 2 * MAX_LOG_FIELDS + 8);
        lua_pushnil(L);
        while (nf < 2 * MAX_LOG_FIELDS && lua_next(L, 2)) {  /* ... key value */
            fields[nf++] = push_tostring(L, -2);            /* ... key value ks */
            fields[nf++] = push_tostring(L, -2);            /* ... key value ks vs */
            lua_insert(L, -4);                              /* ... vs key value ks */
            lua_insert(L, -4);                              /* ... vs ks key value */
            lua_pop(L, 1);                                  /* ... vs ks key */
        }
    }
    fields[nf] = NULL;
    kcl_lua_host *h = kcl_lua_host_from(L);
    kcl_lua_shard *s = h ? kcl_lua_host_running(h) : NULL;
    kcl_log_write(level, s ? kcl_lua_shard_id(s) : NULL, nf ? fields : NULL, "%s", msg);
    lua_settop(L, top);
    return 0;
}

static int l_debug(lua_State *L) { return log_at(L, KCL_LOG_DEBUG); }
static int l_info(lua_State *L)  { return log_at(L, KCL_LOG_INFO); }
static int l_warn(lua_State *L)  { return log_at(L, KCL_LOG_WARN); }
static int l_error(lua_State *L) { return log_at(L, KCL_LOG_ERROR); }

/* ---- kcl.now, shard_id, worker_id ------------------------------------------------ */

static int l_now(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)kcl_clock_wall_ms());
    return 1;
}

static int l_shard_id(lua_State *L)
{
    kcl_lua_host *h = kcl_lua_host_from(L);
    kcl_lua_shard *s = h ? kcl_lua_host_running(h) : NULL;
    if (s) lua_pushstring(L, kcl_lua_shard_id(s));
    else lua_pushnil(L);
    return 1;
}

static int l_worker_id(lua_State *L)
{
    kcl_lua_host *h = kcl_lua_host_from(L);
    const char *id = h ? kcl_lua_host_services(h)->worker_id : NULL;
    if (id) lua_pushstring(L, id);
    else lua_pushnil(L);
    return 1;
}

/* ---- kcl.sleep ----------------------------------------------------------------- */

typedef struct sleep_waiter {
    kcl_lua_waiter base;
    ev_timer       timer;
    struct ev_loop *loop;
    kcl_lua_shard *s;
} sleep_waiter;

static void sleep_fired(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop; (void)revents;
    sleep_waiter *w = t->data;
    kcl_lua_shard_wake(w->s, &w->base);
}

static int sleep_push(kcl_lua_waiter *base, lua_State *co)
{
    (void)co;
    free(base);
    return 0;
}

static void sleep_cancel(kcl_lua_waiter *base)
{
    sleep_waiter *w = (sleep_waiter *)base;
    ev_timer_stop(w->loop, &w->timer);
    free(w);
}

static int l_sleep(lua_State *L)
{
    double ms = luaL_checknumber(L, 1);
    if (!(ms >= 0) || isinf(ms)) return luaL_argerror(L, 1, "milliseconds must be a finite number >= 0");
    kcl_lua_shard *s = wait_shard(L, "kcl.sleep");
    kcl_lua_host *h = kcl_lua_host_from(L);
    sleep_waiter *w = calloc(1, sizeof *w);
    if (!w) return luaL_error(L, "kcl.sleep: out of memory");
    w->base.what = "sleep";
    w->base.push = sleep_push;
    w->base.cancel = sleep_cancel;
    w->loop = kcl_lua_host_services(h)->loop;
    w->s = s;
    ev_now_update(w->loop);                     /* measure from now, not from the loop's last wakeup */
    ev_timer_init(&w->timer, sleep_fired, ms / 1000.0, 0.);
    w->timer.data = w;
    ev_timer_start(w->loop, &w->timer);
    return kcl_lua_shard_wait(s, L, &w->base);
}

/* ---- the checkpointer ----------------------------------------------------------- */

typedef struct cp_obj {
    kcl_lua_shard    *s;        /* NULL once its callback returned */
    kcl_checkpointer *cp;
    lua_State        *L;        /* the main state (for the registry) */
    int               ref;      /* anchors the object while its call runs */
} cp_obj;

typedef struct cp_waiter {
    kcl_lua_waiter     base;
    kcl_lua_shard     *s;
    kcl_checkpointer  *cp;
    kcl_checkpoint_op *op;
    int                failed;
    kcl_err_kind       kind;
    char               message[416];
} cp_waiter;

static void cp_done(void *ud, const kcl_error *err)
{
    cp_waiter *w = ud;
    w->op = NULL;
    if (err && err->kind != KCL_ERR_NONE) {
        w->failed = 1;
        w->kind = err->kind;
        snprintf(w->message, sizeof w->message, "%s", err->message);
    }
    kcl_lua_shard_wake(w->s, &w->base);
}

static int cp_push(kcl_lua_waiter *base, lua_State *co)
{
    cp_waiter *w = (cp_waiter *)base;
    int n = 1;
    if (!w->failed) {
        lua_pushboolean(co, 1);
    } else {
        lua_pushnil(co);
        lua_pushfstring(co, "checkpoint failed (%s): %s", kcl_err_kind_name(w->kind), w->message);
        lua_pushstring(co, kcl_err_kind_name(w->kind));
        n = 3;
    }
    free(w);
    return n;
}

static void cp_cancel(kcl_lua_waiter *base)
{
    cp_waiter *w = (cp_waiter *)base;
    if (w->op) w->cp->ops->cancel(w->op);
    free(w);
}

static int do_checkpoint(lua_State *L, int prepare)
{
    const char *fn = prepare ? "checkpointer:prepare_checkpoint" : "checkpointer:checkpoint";
    cp_obj *o = luaL_testudata(L, 1, CP_META);
    if (!o) return luaL_error(L, "%s: call it with ':' on the checkpointer passed to the callback", fn);
    if (!o->s)
        return luaL_error(L, "%s: this checkpointer belongs to a callback that has already returned; "
                             "use input.checkpointer of the current callback", fn);
    const char *seq = NULL, *state = NULL;
    size_t state_len = 0;
    int64_t sub = -1;
    if (!lua_isnoneornil(L, 2)) {
        if (lua_type(L, 2) != LUA_TSTRING)
            return luaL_error(L, "%s: sequence_number must be a string (got %s)", fn, luaL_typename(L, 2));
        seq = lua_tostring(L, 2);
    }
    if (!lua_isnoneornil(L, 3)) {
        double d = lua_type(L, 3) == LUA_TNUMBER ? lua_tonumber(L, 3) : -1;
        if (!(d >= 0) || d != floor(d) || d > 9007199254740992.0)
            return luaL_error(L, "%s: sub_sequence_number must be an integer >= 0 (got %s)", fn,
                              luaL_typename(L, 3));
        sub = (int64_t)d;
    }
    if (prepare && !lua_isnoneornil(L, 4)) {
        if (lua_type(L, 4) != LUA_TSTRING)
            return luaL_error(L, "%s: state must be a string (got %s)", fn, luaL_typename(L, 4));
        state = lua_tolstring(L, 4, &state_len);
    }
    if (!kcl_lua_shard_is_thread(o->s, L))
        return luaL_error(L, "%s must be called from the callback's own coroutine, not from a "
                             "coroutine the script created", fn);
    cp_waiter *w = calloc(1, sizeof *w);
    if (!w) return luaL_error(L, "%s: out of memory", fn);
    w->base.what = "checkpoint";
    w->base.push = cp_push;
    w->base.cancel = cp_cancel;
    w->s = o->s;
    w->cp = o->cp;
    kcl_error err;
    memset(&err, 0, sizeof err);
    w->op = prepare ? o->cp->ops->prepare(o->cp, seq, sub, state, state_len, cp_done, w, &err)
                    : o->cp->ops->checkpoint(o->cp, seq, sub, cp_done, w, &err);
    if (!w->op) {                                   /* refused at once */
        free(w);
        lua_pushnil(L);
        lua_pushfstring(L, "checkpoint failed (%s): %s", kcl_err_kind_name(err.kind), err.message);
        lua_pushstring(L, kcl_err_kind_name(err.kind));
        return 3;
    }
    return kcl_lua_shard_wait(o->s, L, &w->base);
}

static int cp_checkpoint(lua_State *L) { return do_checkpoint(L, 0); }
static int cp_prepare(lua_State *L) { return do_checkpoint(L, 1); }

static int cp_tostring(lua_State *L)
{
    cp_obj *o = luaL_checkudata(L, 1, CP_META);
    if (o->s) lua_pushfstring(L, "checkpointer(%s)", kcl_lua_shard_id(o->s));
    else lua_pushstring(L, "checkpointer(closed)");
    return 1;
}

void *kcl_lua_api_push_checkpointer(lua_State *L, kcl_lua_shard *s, kcl_checkpointer *cp)
{
    cp_obj *o = lua_newuserdata(L, sizeof *o);
    o->s = s;
    o->cp = cp;
    o->L = L;
    luaL_getmetatable(L, CP_META);
    lua_setmetatable(L, -2);
    lua_pushvalue(L, -1);
    o->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return o;
}

void kcl_lua_api_checkpointer_close(void *handle)
{
    cp_obj *o = handle;
    o->s = NULL;
    o->cp = NULL;
    luaL_unref(o->L, LUA_REGISTRYINDEX, o->ref);   /* o may be collected from now on */
}

/* ---- kcl.put_records ------------------------------------------------------------- */

typedef struct put_item {
    char *sequence_number, *shard_id, *error_code, *error_message;
} put_item;

typedef struct put_waiter {
    kcl_lua_waiter  base;
    kcl_lua_shard  *s;
    const kcl_host_services *svc;
    kcl_put_handle *handle;
    char           *failure;    /* whole-call failure */
    put_item       *items;
    size_t          n;
} put_waiter;

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

static void put_free(put_waiter *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->items[i].sequence_number);
        free(w->items[i].shard_id);
        free(w->items[i].error_code);
        free(w->items[i].error_message);
    }
    free(w->items);
    free(w->failure);
    free(w);
}

static void put_done(void *ud, const kcl_error *err, const kcl_put_result *results, size_t n)
{
    put_waiter *w = ud;
    w->handle = NULL;
    if (err && err->kind != KCL_ERR_NONE) {
        size_t len = strlen(err->message) + 64;
        w->failure = malloc(len);
        if (w->failure)
            snprintf(w->failure, len, "put_records failed (%s): %s", kcl_err_kind_name(err->kind), err->message);
    } else if (n) {
        w->items = calloc(n, sizeof *w->items);
        if (w->items) {
            w->n = n;
            for (size_t i = 0; i < n; i++) {
                w->items[i].sequence_number = dup_or_null(results[i].sequence_number);
                w->items[i].shard_id = dup_or_null(results[i].shard_id);
                w->items[i].error_code = dup_or_null(results[i].error_code);
                w->items[i].error_message = dup_or_null(results[i].error_message);
            }
        } else {
            w->failure = strdup("put_records: out of memory");
        }
    }
    kcl_lua_shard_wake(w->s, &w->base);
}

static void set_field(lua_State *L, const char *key, const char *value)
{
    if (!value) return;
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static int put_push(kcl_lua_waiter *base, lua_State *co)
{
    put_waiter *w = (put_waiter *)base;
    int n = 2;
    if (w->failure) {
        lua_pushnil(co);
        lua_pushstring(co, w->failure);
    } else {
        int failed = 0;
        lua_createtable(co, (int)w->n, 0);
        for (size_t i = 0; i < w->n; i++) {
            lua_createtable(co, 0, 2);
            set_field(co, "sequence_number", w->items[i].sequence_number);
            set_field(co, "shard_id", w->items[i].shard_id);
            set_field(co, "error_code", w->items[i].error_code);
            set_field(co, "error_message", w->items[i].error_message);
            if (w->items[i].error_code) failed++;
            lua_rawseti(co, -2, (int)i + 1);
        }
        lua_pushinteger(co, failed);
    }
    put_free(w);
    return n;
}

static void put_cancel(kcl_lua_waiter *base)
{
    put_waiter *w = (put_waiter *)base;
    if (w->handle && w->svc->put_cancel) w->svc->put_cancel(w->svc->svc_ud, w->handle);
    put_free(w);
}

static const char *record_string(lua_State *L, int i, const char *key, int required, size_t *len)
{
    lua_getfield(L, -1, key);
    int t = lua_type(L, -1);
    const char *v = NULL;
    if (t == LUA_TSTRING) v = lua_tolstring(L, -1, len);   /* pinned by the record table */
    else if (t != LUA_TNIL || required)
        luaL_error(L, "kcl.put_records: records[%d].%s must be a string (got %s)", i, key, lua_typename(L, t));
    lua_pop(L, 1);
    return v;
}

static int l_put_records(lua_State *L)
{
    const char *stream = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    kcl_lua_shard *s = wait_shard(L, "kcl.put_records");
    const kcl_host_services *svc = kcl_lua_host_services(kcl_lua_host_from(L));
    size_t n = lua_objlen(L, 2);
    /* a userdata, so a raise below frees it with the GC */
    kcl_put_entry *entries = lua_newuserdata(L, (n ? n : 1) * sizeof *entries);
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 2, (int)i + 1);
        if (!lua_istable(L, -1))
            return luaL_error(L, "kcl.put_records: records[%d] must be a table (got %s)", (int)i + 1,
                              luaL_typename(L, -1));
        size_t len = 0;
        entries[i].data = record_string(L, (int)i + 1, "data", 1, &len);
        entries[i].len = len;
        entries[i].partition_key = record_string(L, (int)i + 1, "partition_key", 1, NULL);
        entries[i].explicit_hash_key = record_string(L, (int)i + 1, "explicit_hash_key", 0, NULL);
        lua_pop(L, 1);
    }
    if (!svc->put_records) {
        lua_pushnil(L);
        lua_pushstring(L, "put_records is not available");
        return 2;
    }
    if (n == 0) {
        lua_newtable(L);
        lua_pushinteger(L, 0);
        return 2;
    }
    put_waiter *w = calloc(1, sizeof *w);
    if (!w) return luaL_error(L, "kcl.put_records: out of memory");
    w->base.what = "put_records";
    w->base.push = put_push;
    w->base.cancel = put_cancel;
    w->s = s;
    w->svc = svc;
    kcl_error err;
    memset(&err, 0, sizeof err);
    w->handle = svc->put_records(svc->svc_ud, stream, entries, n, put_done, w, &err);
    if (!w->handle) {
        put_free(w);
        lua_pushnil(L);
        lua_pushfstring(L, "put_records failed (%s): %s", kcl_err_kind_name(err.kind), err.message);
        return 2;
    }
    return kcl_lua_shard_wait(s, L, &w->base);
}

/* ---- callback inputs ----------------------------------------------------------- */

static const char *reason_name(kcl_shutdown_reason r)
{
    switch (r) {
    case KCL_SHUTDOWN_TERMINATE: return "TERMINATE";
    case KCL_SHUTDOWN_ZOMBIE:    return "ZOMBIE";
    case KCL_SHUTDOWN_REQUESTED: return "REQUESTED";
    }
    return "UNKNOWN";
}

void kcl_lua_api_push_init_input(lua_State *L, const kcl_init_input *in, const char *shard_id)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, in->shard_id ? in->shard_id : shard_id);
    lua_setfield(L, -2, "shard_id");
    if (in->sequence_number) {
        lua_pushstring(L, in->sequence_number);
        lua_setfield(L, -2, "sequence_number");
    }
    if (in->sub_sequence_number >= 0) {
        lua_pushnumber(L, (lua_Number)in->sub_sequence_number);
        lua_setfield(L, -2, "sub_sequence_number");
    }
}

/* input.records, built eagerly: one plain table per record. The field names
 * are pushed once per batch and set with lua_pushvalue + lua_rawset (no
 * string interning per field). bench/LUA_HANDOFF.md has the measurements
 * against lazy userdata / proxy tables and LuaJIT FFI. */
static const char *const record_keys[] = {"data", "partition_key", "sequence_number",
                                          "sub_sequence_number", "approximate_arrival_timestamp",
                                          "explicit_hash_key"};

static void push_records(lua_State *L, const kcl_batch *b)
{
    int base = lua_gettop(L);
    lua_checkstack(L, 10);
    for (int k = 0; k < 6; k++) lua_pushstring(L, record_keys[k]);
    lua_createtable(L, b->count > INT_MAX ? INT_MAX : (int)b->count, 0);
    for (size_t i = 0; i < b->count; i++) {
        const kcl_record *r = &b->records[i];
        /* The hash part sized for exactly the fields set (LuaJIT rounds up
         * to a power of two: 4 for a plain record instead of 8). */
        lua_createtable(L, 0, 4 + (r->sub_sequence_number >= 0) + (r->explicit_hash_key != NULL));
        lua_pushvalue(L, base + 1);
        lua_pushlstring(L, (const char *)r->data, r->len);
        lua_rawset(L, -3);
        lua_pushvalue(L, base + 2);
        lua_pushstring(L, r->partition_key ? r->partition_key : "");
        lua_rawset(L, -3);
        lua_pushvalue(L, base + 3);
        lua_pushstring(L, r->sequence_number ? r->sequence_number : "");
        lua_rawset(L, -3);
        if (r->sub_sequence_number >= 0) {
            lua_pushvalue(L, base + 4);
            lua_pushnumber(L, (lua_Number)r->sub_sequence_number);
            lua_rawset(L, -3);
        }
        lua_pushvalue(L, base + 5);
        lua_pushnumber(L, (lua_Number)r->arrival_ms);
        lua_rawset(L, -3);
        if (r->explicit_hash_key) {
            lua_pushvalue(L, base + 6);
            lua_pushstring(L, r->explicit_hash_key);
            lua_rawset(L, -3);
        }
        lua_rawseti(L, -2, (int)(i + 1));
    }
    lua_replace(L, base + 1);                   /* the records table replaces the keys */
    lua_settop(L, base + 1);
}

void kcl_lua_api_push_batch_input(lua_State *L, const kcl_batch *b)
{
    lua_createtable(L, 0, 3);
    push_records(L, b);
    lua_setfield(L, -2, "records");
    lua_pushnumber(L, (lua_Number)b->millis_behind_latest);
    lua_setfield(L, -2, "millis_behind_latest");
}

void kcl_lua_api_push_shutdown_input(lua_State *L, kcl_shutdown_reason reason)
{
    lua_createtable(L, 0, 2);
    lua_pushstring(L, reason_name(reason));
    lua_setfield(L, -2, "reason");
}

/* ---- the module --------------------------------------------------------------- */

static int open_luakcl(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"sleep", l_sleep},       {"now", l_now},           {"shard_id", l_shard_id},
        {"worker_id", l_worker_id}, {"put_records", l_put_records}, {NULL, NULL},
    };
    static const luaL_Reg logfns[] = {
        {"debug", l_debug}, {"info", l_info}, {"warn", l_warn}, {"error", l_error}, {NULL, NULL},
    };
    lua_newtable(L);
    luaL_setfuncs(L, fns, 0);
    lua_newtable(L);
    luaL_setfuncs(L, logfns, 0);
    lua_setfield(L, -2, "log");
    lua_pushstring(L, LUAKCL_VERSION);
    lua_setfield(L, -2, "version");
    return 1;
}

void kcl_lua_api_open(lua_State *L)
{
    static const luaL_Reg cp_methods[] = {
        {"checkpoint", cp_checkpoint}, {"prepare_checkpoint", cp_prepare}, {NULL, NULL},
    };
    luaL_newmetatable(L, CP_META);
    lua_newtable(L);
    luaL_setfuncs(L, cp_methods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, cp_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushliteral(L, "luakcl.checkpointer");
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);

    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_pushcfunction(L, open_luakcl);
    lua_setfield(L, -2, "luakcl");
    lua_pop(L, 2);
}
