/* lua_host — record processors written in Lua (LuaJIT), behind processor.h.
 *
 * One host = one lua_State per worker, loaded with one processor script. Each
 * shard gets one coroutine (lua_newthread, anchored with luaL_ref) and one
 * instance table `setmetatable({}, {__index = script})`, so `self` holds the
 * shard's state. Every callback (initialize / process_records / shutdown, and
 * on_reload after a hot reload) starts with lua_resume, so scripts may yield
 * anywhere, pcall included. Exactly one C function resumes coroutines and maps
 * the outcome: finished -> done(ctx, 0, NULL); yielded inside a luakcl wait
 * (checkpoint, sleep, put_records) -> the I/O completes on a later loop turn
 * and resumes; raised -> traceback in the log (shard id, script:line) and
 * done(ctx, -1, message).
 *
 * Limits, both optional:
 * - Time budget: Lua run time of one callback (monotonic wall time while Lua
 *   runs; time yielded for I/O does not count). Checked at every yield and by
 *   a count debug hook every `hook_instructions` VM instructions. LuaJIT only
 *   runs hooks in interpreted code: a JIT-compiled loop that never yields and
 *   never leaves the trace is not interrupted (it is caught at its next yield
 *   or when the callback returns). When exceeded, the callback fails like a
 *   raise; the log names the script and line where it was stopped. A script
 *   that catches that error with pcall still fails: the hook keeps raising
 *   until the callback ends.
 * - Memory cap: the VM runs on a counting allocator (lua_newstate; OpenResty's
 *   LuaJIT on x86_64 is GC64 and accepts it). While Lua code runs (callbacks,
 *   script loading) an allocation past the cap fails ("not enough memory"
 *   -> the callback fails, then a full GC runs). Allocations the host makes
 *   itself (building a batch's record tables) are counted but never refused,
 *   so the C side cannot hit a Lua panic. If lua_newstate ever returned NULL
 *   the host falls back to luaL_newstate and checks collectgarbage("count")
 *   at yield points and callback ends instead.
 *
 * Hot reload: the script file and the Lua modules it required from its own
 * directory are watched with ev_stat (debounced); kcl_lua_host_reload does
 * the same on demand (SIGHUP). The new code is compiled and run first; if it
 * fails (syntax error, top-level error, no process_records) the old code keeps
 * running and the log says why with file and line. Otherwise each shard
 * switches at its next callback: its instance keeps its state and gets the new
 * methods (metatable __index swapped), and the new on_reload(self), if any,
 * runs in the shard's coroutine before the callback. A running callback ends
 * on the old code. Batches are untouched, so nothing is lost, repeated or
 * reordered by a reload. libev compares stat data to the second: an in-place
 * rewrite of the same size within the same second as the previous one may go
 * unnoticed (saving by rename, as editors do, is always seen).
 */
#ifndef KCL_LUA_HOST_H
#define KCL_LUA_HOST_H

#include "error.h"
#include "processor.h"

#include <stddef.h>
#include <stdint.h>

struct ev_loop;
typedef struct kcl_lua_host kcl_lua_host;

/* ---- services the worker provides to scripts -------------------------------- */

/* One record to put. Valid only during the put_records call: the provider
 * copies what it needs before returning. */
typedef struct kcl_put_entry {
    const void *data;
    size_t      len;
    const char *partition_key;
    const char *explicit_hash_key;   /* NULL when none */
} kcl_put_entry;

/* The outcome of one record, in the order of the entries. */
typedef struct kcl_put_result {
    const char *sequence_number;     /* set on success */
    const char *shard_id;            /* set on success */
    const char *error_code;          /* set on failure (NULL on success) */
    const char *error_message;
} kcl_put_result;

typedef struct kcl_put_handle kcl_put_handle;
/* Called once, on a later loop turn than the put_records call: `err` non-NULL
 * when the whole call failed (results NULL then), else `n` per-record
 * results, valid only during the callback. */
typedef void (*kcl_put_done_fn)(void *ud, const kcl_error *err,
                                const kcl_put_result *results, size_t n);

typedef struct kcl_host_services {
    struct ev_loop *loop;            /* required */
    const char     *worker_id;       /* copied */
    /* Async PutRecords into `stream`. Returns a handle, or NULL with `err`
     * filled when refused at once (done is then never called). NULL function:
     * kcl.put_records returns nil, "put_records is not available". */
    kcl_put_handle *(*put_records)(void *svc_ud, const char *stream,
                                   const kcl_put_entry *entries, size_t n,
                                   kcl_put_done_fn done, void *done_ud, kcl_error *err);
    /* Forget a put: its done will not be called. */
    void (*put_cancel)(void *svc_ud, kcl_put_handle *h);
    void *svc_ud;
} kcl_host_services;

typedef struct kcl_lua_host_opts {
    const char *script_path;         /* required; copied */
    double      budget_ms;           /* per-callback Lua run time; 0 = unlimited */
    int         hook_instructions;   /* budget hook period; 0 = 10000 */
    size_t      mem_limit;           /* bytes of Lua memory; 0 = unlimited */
    int         no_reload;           /* 1 = do not watch files (--no-reload) */
    double      reload_debounce_ms;  /* 0 = 150 */
} kcl_lua_host_opts;

/* Create the VM and load the script. Returns NULL with `errbuf` filled ("path:
 * line: message" for syntax and top-level errors, the path for a script that
 * does not return a table or lacks process_records) — the caller exits before
 * taking any lease. `svc` is copied. */
kcl_lua_host *kcl_lua_host_new(const kcl_host_services *svc, const kcl_lua_host_opts *opts,
                               char *errbuf, size_t errlen);
/* Free the VM and the watchers. Every shard instance must have been destroyed
 * first (kcl_lua_host_shards() == 0); remaining ones are destroyed here. */
void kcl_lua_host_free(kcl_lua_host *h);

/* The processor factory for the core: vt = the Lua vtable, factory = h. */
kcl_processor_factory kcl_lua_host_factory(kcl_lua_host *h);
const kcl_processor_vtable *kcl_lua_host_vtable(void);

/* Load the script again now (SIGHUP). 0 on success (shards switch at their
 * next callback); -1 with `errbuf` filled when the new code is refused (the
 * old code keeps running; the log says why either way). */
int kcl_lua_host_reload(kcl_lua_host *h, char *errbuf, size_t errlen);

/* ---- introspection, for tests and status ------------------------------------ */
/* Bytes used by the VM after a full GC. */
size_t   kcl_lua_host_mem(kcl_lua_host *h);
/* Live registry refs (integer keys in the registry not on the free list). */
int      kcl_lua_host_registry_refs(kcl_lua_host *h);
/* Shard instances alive. */
int      kcl_lua_host_shards(const kcl_lua_host *h);
/* Script generation: 1 after load, +1 per successful reload. */
unsigned kcl_lua_host_generation(const kcl_lua_host *h);
/* Successful / refused reloads so far. */
unsigned kcl_lua_host_reloads(const kcl_lua_host *h);
unsigned kcl_lua_host_reload_failures(const kcl_lua_host *h);
/* Files watched for reload (script + local modules); 0 with no_reload. */
int      kcl_lua_host_watched(const kcl_lua_host *h);
/* The VM, for tests that inspect Lua state. */
struct lua_State *kcl_lua_host_state(kcl_lua_host *h);

#endif
