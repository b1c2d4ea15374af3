/* lua_api — the `luakcl` module scripts `require`, and the checkpointer
 * object handed to process_records and shutdown.
 *
 *   local kcl = require "luakcl"
 *   kcl.log.debug/info/warn/error(msg [, fields])   structured, tagged with the shard
 *   kcl.sleep(ms)                                   yields on an ev_timer
 *   kcl.now()                                       ms since the epoch (wall clock)
 *   kcl.shard_id(), kcl.worker_id()                 nil outside a callback / if unset
 *   kcl.put_records(stream, {{data=, partition_key=, explicit_hash_key=}, ...})
 *       -> results, failed_count | nil, message
 *       results[i] = {sequence_number=, shard_id=} or {error_code=, error_message=}
 *   checkpointer:checkpoint([seq [, subseq]])                      -> true | nil, msg, kind
 *   checkpointer:prepare_checkpoint([seq [, subseq [, state]]])    -> true | nil, msg, kind
 *
 * Waiting calls (sleep, put_records, checkpoint) are legal only in the
 * callback's own coroutine; elsewhere (script top level, a nested coroutine)
 * they raise. Misuse (wrong argument types, a checkpointer kept past its
 * callback) raises; expected failures (lease lost, throttled) return nil, msg.
 *
 * The yield protocol (the only way lua_api waits): a waiting function starts
 * its I/O, then `return kcl_lua_shard_wait(s, L, &w->base)`. When the I/O
 * completes (always on a later loop turn) it calls kcl_lua_shard_wake; the
 * host then calls w->push (on this or a later turn) to push the results and
 * resumes the coroutine through its single resume function. If the shard is
 * destroyed or its callback fails first, the host calls w->cancel instead,
 * and the completion must never arrive. Each waiter gets exactly one of
 * push / cancel, which frees it.
 */
#ifndef KCL_LUA_API_H
#define KCL_LUA_API_H

#include "lua_host.h"
#include "processor.h"

#include <lua.h>

typedef struct kcl_lua_shard kcl_lua_shard;

typedef struct kcl_lua_waiter kcl_lua_waiter;
struct kcl_lua_waiter {
    const char *what;                                   /* "sleep", "checkpoint", ... */
    void (*cancel)(kcl_lua_waiter *w);                  /* stop the I/O, free w */
    int  (*push)(kcl_lua_waiter *w, lua_State *co);     /* push results, free w; returns count */
};

/* ---- provided by lua_host.c ------------------------------------------------- */

kcl_lua_host *kcl_lua_host_from(lua_State *L);
const kcl_host_services *kcl_lua_host_services(const kcl_lua_host *h);
/* The shard whose callback is running now (NULL at top level / between callbacks). */
kcl_lua_shard *kcl_lua_host_running(const kcl_lua_host *h);
const char *kcl_lua_shard_id(const kcl_lua_shard *s);
/* 1 if L is the shard's callback coroutine (the only place waits are legal). */
int kcl_lua_shard_is_thread(const kcl_lua_shard *s, lua_State *L);
/* Record `w` as the shard's pending wait and yield. Use as `return ...`. */
int kcl_lua_shard_wait(kcl_lua_shard *s, lua_State *L, kcl_lua_waiter *w);
/* The I/O of the pending waiter `w` finished: resume the shard (now if no Lua
 * is running, else on the next loop turn). */
void kcl_lua_shard_wake(kcl_lua_shard *s, kcl_lua_waiter *w);

/* ---- provided by lua_api.c ---------------------------------------------------- */

/* Register package.preload["luakcl"] and the checkpointer metatable. */
void kcl_lua_api_open(lua_State *L);
/* Push a checkpointer object for this call of shard `s` (cp non-NULL). The
 * returned handle is invalidated with kcl_lua_api_checkpointer_close when the
 * call ends; afterwards any use raises. */
void *kcl_lua_api_push_checkpointer(lua_State *L, kcl_lua_shard *s, kcl_checkpointer *cp);
void kcl_lua_api_checkpointer_close(void *handle);

/* Push a callback's input table (without its checkpointer field):
 * {shard_id, sequence_number, sub_sequence_number};
 * {records = {{data, partition_key, sequence_number, sub_sequence_number,
 *   approximate_arrival_timestamp, explicit_hash_key}, ...}, millis_behind_latest}
 * (records built eagerly, data copied: the batch may go once this returns);
 * {reason = "TERMINATE" | "ZOMBIE" | "REQUESTED"}. */
void kcl_lua_api_push_init_input(lua_State *L, const kcl_init_input *in, const char *shard_id);
void kcl_lua_api_push_batch_input(lua_State *L, const kcl_batch *b);
void kcl_lua_api_push_shutdown_input(lua_State *L, kcl_shutdown_reason reason);

#endif
