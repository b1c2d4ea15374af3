/* config_file — the config file: a Lua chunk returning a table of settings,
 * run in a sandbox (fresh state; only base, string, table and math, without
 * dofile/loadfile/load/loadstring/require/collectgarbage; JIT off so the
 * instruction-count hook always fires; a budget of instructions). Each key
 * is handed to kcl_config_set with its Lua type. */
#include "config.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <luajit.h>

#include <stdio.h>
#include <string.h>

#define BUDGET_STEP 1000
#define BUDGET_STEPS 1000   /* 1e6 instructions */

static void budget_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_getfield(L, LUA_REGISTRYINDEX, "luakcl.config.steps");
    int steps = (int)lua_tointeger(L, -1) + 1;
    lua_pop(L, 1);
    lua_pushinteger(L, steps);
    lua_setfield(L, LUA_REGISTRYINDEX, "luakcl.config.steps");
    if (steps > BUDGET_STEPS) luaL_error(L, "config file runs too long (more than %d instructions)", BUDGET_STEP * BUDGET_STEPS);
}

static void open_lib(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_pushcfunction(L, fn);
    lua_pushstring(L, name);
    lua_call(L, 1, 0);
}

static int sandbox_run(lua_State *L)
{
    const char *path = lua_tostring(L, 1);
    open_lib(L, "", luaopen_base);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    static const char *const drop[] = {"dofile", "loadfile", "load", "loadstring", "require",
                                       "collectgarbage", "module", "newproxy", "gcinfo", NULL};
    for (int i = 0; drop[i]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, drop[i]);
    }
    lua_getglobal(L, "string");
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    if (luaL_loadfile(L, path) != 0) return lua_error(L);
    lua_sethook(L, budget_hook, LUA_MASKCOUNT, BUDGET_STEP);
    lua_call(L, 0, 1);
    lua_sethook(L, NULL, 0, 0);
    return 1;
}

int kcl_config_load_file(kcl_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "cannot open config file %s", path);
        return -1;
    }
    fclose(f);
    lua_State *L = luaL_newstate();
    if (!L) { snprintf(err, errlen, "out of memory"); return -1; }
    luaJIT_setmode(L, 0, LUAJIT_MODE_ENGINE | LUAJIT_MODE_OFF);
    lua_pushcfunction(L, sandbox_run);
    lua_pushstring(L, path);
    int rc = 0;
    if (lua_pcall(L, 1, 1, 0) != 0) {
        const char *m = lua_tostring(L, -1);
        snprintf(err, errlen, "config file %s: %s", path, m ? m : "error");
        lua_close(L);
        return -1;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "config file %s: must return a table of settings, returned %s", path,
                 luaL_typename(L, -1));
        lua_close(L);
        return -1;
    }
    lua_pushnil(L);
    while (rc == 0 && lua_next(L, -2) != 0) {
        char origin[512];
        if (lua_type(L, -2) != LUA_TSTRING) {
            snprintf(err, errlen, "config file %s: keys must be strings (got a %s key)", path,
                     luaL_typename(L, -2));
            rc = -1;
            break;
        }
        const char *key = lua_tostring(L, -2);
        snprintf(origin, sizeof origin, "config key '%s' in %s", key, path);
        char text[64];
        const char *val = NULL;
        kcl_config_vtype vt;
        switch (lua_type(L, -1)) {
        case LUA_TSTRING: vt = KCL_CV_STRING; val = lua_tostring(L, -1); break;
        case LUA_TNUMBER: {
            vt = KCL_CV_NUMBER;
            double d = lua_tonumber(L, -1);
            if (d == (double)(long long)d) snprintf(text, sizeof text, "%lld", (long long)d);
            else snprintf(text, sizeof text, "%.17g", d);
            val = text;
            break;
        }
        case LUA_TBOOLEAN: vt = KCL_CV_BOOL; val = lua_toboolean(L, -1) ? "true" : "false"; break;
        default:
            snprintf(err, errlen, "%s: wrong type: got a %s, expected a string, number or boolean", origin,
                     luaL_typename(L, -1));
            rc = -1;
            continue;
        }
        if (strcmp(key, "config") == 0) {
            snprintf(err, errlen, "%s: a config file cannot name another config file", origin);
            rc = -1;
            continue;
        }
        if (kcl_config_set(c, key, val, vt, origin, err, errlen) != 0) rc = -1;
        lua_pop(L, 1);
    }
    lua_close(L);
    return rc;
}
