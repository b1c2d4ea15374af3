/* lua_reload — the file watching half of hot reload: a set of files watched
 * with libev ev_stat watchers (inotify on Linux, stat polling elsewhere), and
 * one debounced notification once the changes stop for `debounce_ms`, so an
 * editor's burst of writes (or a script and its modules saved together)
 * makes one reload. Knows nothing about Lua: lua_host decides what a change
 * means (compile, check, switch at batch boundaries).
 *
 * libev compares stat data to the second: an in-place rewrite of the same
 * size within the same second as the previous one may go unnoticed; a save by
 * rename (what editors and deploy tools do) is always seen.
 */
#ifndef KCL_LUA_RELOAD_H
#define KCL_LUA_RELOAD_H

struct ev_loop;
typedef struct kcl_lua_reload kcl_lua_reload;

/* Called on the loop once, debounce_ms after the last change seen. */
typedef void (*kcl_lua_reload_fn)(void *ud);

/* A watcher set on `loop` (nothing watched yet). NULL on out of memory. */
kcl_lua_reload *kcl_lua_reload_new(struct ev_loop *loop, double debounce_ms,
                                   kcl_lua_reload_fn on_change, void *ud);
/* Watch exactly these `n` files from now on (copied); the previous set is
 * dropped. Returns 0, or -1 on out of memory (then fewer files are watched). */
int kcl_lua_reload_watch(kcl_lua_reload *r, const char *const *paths, int n);
/* Files watched now. */
int kcl_lua_reload_count(const kcl_lua_reload *r);
/* Stop every watcher and the pending notification, free. Not to be called
 * from inside on_change. */
void kcl_lua_reload_free(kcl_lua_reload *r);

#endif
