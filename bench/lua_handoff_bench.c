/* lua_handoff_bench — how fast can a batch of records reach a Lua script?
 *
 * Batches of N records (default 10,000 of 100 bytes, realistic partition keys
 * and 56-digit sequence numbers) are handed to a Lua consumer that touches
 * every record (#r.data, r.partition_key, r.sequence_number) the way a
 * processor would. Each strategy is timed over R batches (hand-off + consume,
 * GC included since it is part of the cost), best of 5 runs:
 *
 *   eager      lua_createtable with preallocated sizes + lua_setfield per field
 *   eager-keys the same, field names pre-interned (registry refs) + lua_rawset
 *   eager-stack the same, field names pushed once per batch on the stack
 *              (lua_pushvalue + lua_rawset: what lua_host.c does)
 *   lazy-ud    one userdata per record, fields made on access by __index
 *              (records are not tables: breaks the contract; for comparison)
 *   lazy-proxy one empty table per record with a shared metatable, fields made
 *              on first access by __index from a batch userdata and cached in
 *              the table (keeps #records/ipairs; pairs(r) shows only touched fields)
 *   ffi        a cdata pointer to the C records; Lua builds the tables itself
 *              with ffi.string (JIT-compiled)
 *
 * Build and run: bench/lua_handoff_bench.sh [records] [batches]
 * BENCH_ALLOC=counting runs the VM on a counting allocator over glibc's
 * realloc (what lua_host used before bench/PERF_NOTES.md; it now counts on
 * top of LuaJIT's own allocator, the default here);
 * BENCH_JIT=off runs the Lua side interpreted.
 */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct rec {                /* the shape of processor.h's kcl_record */
    const uint8_t *data;
    size_t         len;
    const char    *partition_key;
    const char    *sequence_number;
    int64_t        sub_sequence_number;
    int64_t        arrival_ms;
    const char    *explicit_hash_key;
} rec;

static rec   *recs;
static size_t nrecs;

/* lua_host's former allocator: counting bytes over glibc's realloc. */
static size_t counted;
static void *counting_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    if (!ptr) osize = 0;
    if (nsize == 0) {
        free(ptr);
        counted -= osize;
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p) counted = counted - osize + nsize;
    return p;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void make_records(size_t n)
{
    recs = calloc(n, sizeof *recs);
    for (size_t i = 0; i < n; i++) {
        uint8_t *d = malloc(100);
        for (int j = 0; j < 100; j++) d[j] = (uint8_t)('a' + (i + (size_t)j) % 26);
        char *pk = malloc(32), *seq = malloc(96);
        snprintf(pk, 32, "user-%zu", i % 1000);
        snprintf(seq, 96, "4959033827149025660855969253836157109592157598913%07zu", i);
        recs[i] = (rec){d, 100, pk, seq, -1, 1700000000000LL + (int64_t)i, NULL};
    }
    nrecs = n;
}

/* ---- eager ---------------------------------------------------------------------- */

static void push_eager(lua_State *L)
{
    lua_createtable(L, (int)nrecs, 0);
    for (size_t i = 0; i < nrecs; i++) {
        const rec *r = &recs[i];
        lua_createtable(L, 0, 6);
        lua_pushlstring(L, (const char *)r->data, r->len);
        lua_setfield(L, -2, "data");
        lua_pushstring(L, r->partition_key);
        lua_setfield(L, -2, "partition_key");
        lua_pushstring(L, r->sequence_number);
        lua_setfield(L, -2, "sequence_number");
        if (r->sub_sequence_number >= 0) {
            lua_pushnumber(L, (lua_Number)r->sub_sequence_number);
            lua_setfield(L, -2, "sub_sequence_number");
        }
        lua_pushnumber(L, (lua_Number)r->arrival_ms);
        lua_setfield(L, -2, "approximate_arrival_timestamp");
        if (r->explicit_hash_key) {
            lua_pushstring(L, r->explicit_hash_key);
            lua_setfield(L, -2, "explicit_hash_key");
        }
        lua_rawseti(L, -2, (int)i + 1);
    }
}

static int key_refs[6];
static const char *const key_names[6] = {"data", "partition_key", "sequence_number",
                                         "sub_sequence_number", "approximate_arrival_timestamp",
                                         "explicit_hash_key"};

static void push_eager_keys(lua_State *L)
{
    lua_createtable(L, (int)nrecs, 0);
    for (size_t i = 0; i < nrecs; i++) {
        const rec *r = &recs[i];
        lua_createtable(L, 0, 6);
        lua_rawgeti(L, LUA_REGISTRYINDEX, key_refs[0]);
        lua_pushlstring(L, (const char *)r->data, r->len);
        lua_rawset(L, -3);
        lua_rawgeti(L, LUA_REGISTRYINDEX, key_refs[1]);
        lua_pushstring(L, r->partition_key);
        lua_rawset(L, -3);
        lua_rawgeti(L, LUA_REGISTRYINDEX, key_refs[2]);
        lua_pushstring(L, r->sequence_number);
        lua_rawset(L, -3);
        lua_rawgeti(L, LUA_REGISTRYINDEX, key_refs[4]);
        lua_pushnumber(L, (lua_Number)r->arrival_ms);
        lua_rawset(L, -3);
        lua_rawseti(L, -2, (int)i + 1);
    }
}

/* Keys pushed once per batch on the stack, then lua_pushvalue + lua_rawset
 * (what lua_host.c does). */
static void push_eager_stack(lua_State *L)
{
    int base = lua_gettop(L);
    for (int k = 0; k < 6; k++) lua_pushstring(L, key_names[k]);
    lua_createtable(L, (int)nrecs, 0);
    for (size_t i = 0; i < nrecs; i++) {
        const rec *r = &recs[i];
        lua_createtable(L, 0, 6);
        lua_pushvalue(L, base + 1);
        lua_pushlstring(L, (const char *)r->data, r->len);
        lua_rawset(L, -3);
        lua_pushvalue(L, base + 2);
        lua_pushstring(L, r->partition_key);
        lua_rawset(L, -3);
        lua_pushvalue(L, base + 3);
        lua_pushstring(L, r->sequence_number);
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
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_replace(L, base + 1);
    lua_settop(L, base + 1);
}

/* ---- lazy userdata per record ------------------------------------------------------ */

static int rec_index(lua_State *L)
{
    const rec *r = *(const rec **)lua_touserdata(L, 1);
    const char *k = lua_tostring(L, 2);
    if (!k) return 0;
    if (strcmp(k, "data") == 0) lua_pushlstring(L, (const char *)r->data, r->len);
    else if (strcmp(k, "partition_key") == 0) lua_pushstring(L, r->partition_key);
    else if (strcmp(k, "sequence_number") == 0) lua_pushstring(L, r->sequence_number);
    else if (strcmp(k, "approximate_arrival_timestamp") == 0) lua_pushnumber(L, (lua_Number)r->arrival_ms);
    else lua_pushnil(L);
    return 1;
}

static void push_lazy_ud(lua_State *L)
{
    lua_createtable(L, (int)nrecs, 0);
    for (size_t i = 0; i < nrecs; i++) {
        const rec **p = lua_newuserdata(L, sizeof *p);
        *p = &recs[i];
        luaL_getmetatable(L, "bench.rec");
        lua_setmetatable(L, -2);
        lua_rawseti(L, -2, (int)i + 1);
    }
}

/* ---- lazy proxy tables --------------------------------------------------------------- */

/* __index(t, k): the record's index is the light userdata under key 0 of a
 * weak side table in the real host; here the proxy keeps it in its metatable
 * slot array: t is looked up in the batch table (upvalue 1) -> index. */
static int proxy_index(lua_State *L)
{
    lua_pushvalue(L, 1);
    lua_rawget(L, lua_upvalueindex(1));             /* proxy -> index */
    size_t i = (size_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (i < 1 || i > nrecs) return 0;
    const rec *r = &recs[i - 1];
    const char *k = lua_tostring(L, 2);
    if (!k) return 0;
    if (strcmp(k, "data") == 0) lua_pushlstring(L, (const char *)r->data, r->len);
    else if (strcmp(k, "partition_key") == 0) lua_pushstring(L, r->partition_key);
    else if (strcmp(k, "sequence_number") == 0) lua_pushstring(L, r->sequence_number);
    else if (strcmp(k, "approximate_arrival_timestamp") == 0) lua_pushnumber(L, (lua_Number)r->arrival_ms);
    else return 0;
    lua_pushvalue(L, 2);
    lua_pushvalue(L, -2);
    lua_rawset(L, 1);                               /* cache it in the record */
    return 1;
}

static void push_lazy_proxy(lua_State *L)
{
    lua_newtable(L);                                /* proxy -> index */
    int idx = lua_gettop(L);
    lua_createtable(L, 0, 1);                       /* shared metatable */
    lua_pushvalue(L, idx);
    lua_pushcclosure(L, proxy_index, 1);
    lua_setfield(L, -2, "__index");
    int mt = lua_gettop(L);
    lua_createtable(L, (int)nrecs, 0);
    for (size_t i = 0; i < nrecs; i++) {
        lua_createtable(L, 0, 4);
        lua_pushvalue(L, mt);
        lua_setmetatable(L, -2);
        lua_pushvalue(L, -1);
        lua_pushinteger(L, (lua_Integer)i + 1);
        lua_rawset(L, idx);
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_replace(L, idx);
    lua_settop(L, idx);
}

/* ---- ffi ---------------------------------------------------------------------------- */

static const char ffi_builder[] =
    "local ffi = require 'ffi'\n"
    "ffi.cdef[[typedef struct rec { const uint8_t *data; size_t len; const char *partition_key;\n"
    "  const char *sequence_number; int64_t sub_sequence_number; int64_t arrival_ms;\n"
    "  const char *explicit_hash_key; } rec;]]\n"
    "local cast, str, tonumber, new = ffi.cast, ffi.string, tonumber, table.new or require('table.new')\n"
    "local recp = ffi.typeof('const rec *')\n"
    "return function(ptr, n)\n"
    "  local p = cast(recp, ptr)\n"
    "  local out = new(n, 0)\n"
    "  for i = 0, n - 1 do\n"
    "    local r = p[i]\n"
    "    local t = {data = str(r.data, r.len), partition_key = str(r.partition_key),\n"
    "               sequence_number = str(r.sequence_number),\n"
    "               approximate_arrival_timestamp = tonumber(r.arrival_ms)}\n"
    "    if r.sub_sequence_number >= 0 then t.sub_sequence_number = tonumber(r.sub_sequence_number) end\n"
    "    if r.explicit_hash_key ~= nil then t.explicit_hash_key = str(r.explicit_hash_key) end\n"
    "    out[i + 1] = t\n"
    "  end\n"
    "  return out\n"
    "end\n";

static int ffi_ref;

static void push_ffi(lua_State *L)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, ffi_ref);
    lua_pushlightuserdata(L, recs);
    lua_pushnumber(L, (lua_Number)nrecs);
    lua_call(L, 2, 1);
}

/* ---- the consumer and the timing --------------------------------------------------- */

static const char consumer_src[] =
    "return function(records)\n"
    "  local bytes, keys = 0, 0\n"
    "  for _, r in ipairs(records) do\n"
    "    bytes = bytes + #r.data\n"
    "    if r.partition_key ~= nil then keys = keys + 1 end\n"
    "    if r.sequence_number == nil then error('no sequence number') end\n"
    "  end\n"
    "  assert(#records > 0 and keys == #records)\n"
    "  return bytes\n"
    "end\n";

static int consumer_ref;

typedef void (*push_fn)(lua_State *L);

static double run(lua_State *L, push_fn push, int batches)
{
    double best = 1e9;
    for (int round = 0; round < 5; round++) {
        lua_gc(L, LUA_GCCOLLECT, 0);
        double t0 = now_s();
        for (int b = 0; b < batches; b++) {
            lua_rawgeti(L, LUA_REGISTRYINDEX, consumer_ref);
            push(L);
            lua_call(L, 1, 1);
            if ((size_t)lua_tonumber(L, -1) != nrecs * 100) {
                fprintf(stderr, "consumer saw %g bytes\n", lua_tonumber(L, -1));
                exit(1);
            }
            lua_pop(L, 1);
        }
        double t = (now_s() - t0) / batches;
        if (t < best) best = t;
    }
    return best;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 10000;
    int batches = argc > 2 ? atoi(argv[2]) : 50;
    make_records(n);
    const char *alloc = getenv("BENCH_ALLOC");
    int counting = alloc && strcmp(alloc, "counting") == 0;
    lua_State *L = counting ? lua_newstate(counting_alloc, NULL) : luaL_newstate();
    if (!L) {
        fprintf(stderr, "lua_newstate refused the allocator\n");
        return 1;
    }
    luaL_openlibs(L);
    luaL_newmetatable(L, "bench.rec");
    lua_pushcfunction(L, rec_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    for (int i = 0; i < 6; i++) {
        lua_pushstring(L, key_names[i]);
        key_refs[i] = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    const char *jit = getenv("BENCH_JIT");
    if (jit && strcmp(jit, "off") == 0 && luaL_dostring(L, "jit.off()") != 0) goto lua_fail;
    if (luaL_loadstring(L, consumer_src) || lua_pcall(L, 0, 1, 0)) goto lua_fail;
    consumer_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (luaL_loadstring(L, ffi_builder) || lua_pcall(L, 0, 1, 0)) goto lua_fail;
    ffi_ref = luaL_ref(L, LUA_REGISTRYINDEX);

    static const struct { const char *name; push_fn fn; } strategies[] = {
        {"eager", push_eager},           {"eager-keys", push_eager_keys},
        {"eager-stack", push_eager_stack},
        {"lazy-ud", push_lazy_ud},       {"lazy-proxy", push_lazy_proxy},
        {"ffi", push_ffi},
    };
    printf("%zu records of 100 B per batch, %d batches, best of 5 runs, %s allocator\n", n, batches,
           counting ? "counting (lua_host's)" : "LuaJIT's own");
    printf("%-12s %12s %14s %12s\n", "strategy", "ms/batch", "ns/record", "records/s");
    for (size_t i = 0; i < sizeof strategies / sizeof strategies[0]; i++) {
        double t = run(L, strategies[i].fn, batches);
        printf("%-12s %12.3f %14.1f %12.0f\n", strategies[i].name, t * 1e3, t * 1e9 / (double)n,
               (double)n / t);
    }
    lua_close(L);
    for (size_t i = 0; i < n; i++) {
        free((void *)recs[i].data);
        free((void *)recs[i].partition_key);
        free((void *)recs[i].sequence_number);
    }
    free(recs);
    return 0;
lua_fail:
    fprintf(stderr, "lua: %s\n", lua_tostring(L, -1));
    return 1;
}
