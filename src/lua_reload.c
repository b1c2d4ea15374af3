#include "lua_reload.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

typedef struct watch {
    ev_stat         st;
    char           *path;       /* ev_stat keeps the pointer: owned here */
    kcl_lua_reload *r;
} watch;

struct kcl_lua_reload {
    struct ev_loop   *loop;
    double            debounce_ms;
    kcl_lua_reload_fn on_change;
    void             *ud;
    ev_timer          debounce;
    watch            *watches;
    int               n;
};

static void debounce_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    (void)loop; (void)revents;
    kcl_lua_reload *r = t->data;
    r->on_change(r->ud);
}

static void stat_cb(struct ev_loop *loop, ev_stat *w, int revents)
{
    (void)revents;
    kcl_lua_reload *r = ((watch *)w->data)->r;
    ev_timer_stop(loop, &r->debounce);          /* restart: wait for the changes to stop */
    ev_timer_set(&r->debounce, r->debounce_ms / 1000.0, 0.);
    ev_timer_start(loop, &r->debounce);
}

kcl_lua_reload *kcl_lua_reload_new(struct ev_loop *loop, double debounce_ms,
                                   kcl_lua_reload_fn on_change, void *ud)
{
    kcl_lua_reload *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->loop = loop;
    r->debounce_ms = debounce_ms > 0 ? debounce_ms : 150;
    r->on_change = on_change;
    r->ud = ud;
    ev_timer_init(&r->debounce, debounce_cb, 0., 0.);
    r->debounce.data = r;
    return r;
}

static void stop_all(kcl_lua_reload *r)
{
    for (int i = 0; i < r->n; i++) {
        ev_stat_stop(r->loop, &r->watches[i].st);
        free(r->watches[i].path);
    }
    free(r->watches);
    r->watches = NULL;
    r->n = 0;
}

int kcl_lua_reload_watch(kcl_lua_reload *r, const char *const *paths, int n)
{
    stop_all(r);
    if (n <= 0) return 0;
    r->watches = calloc((size_t)n, sizeof *r->watches);
    if (!r->watches) return -1;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        watch *w = &r->watches[r->n];
        w->path = strdup(paths[i]);
        if (!w->path) {
            rc = -1;
            continue;
        }
        w->r = r;
        ev_stat_init(&w->st, stat_cb, w->path, 0.);
        w->st.data = w;
        ev_stat_start(r->loop, &w->st);
        r->n++;
    }
    return rc;
}

int kcl_lua_reload_count(const kcl_lua_reload *r) { return r ? r->n : 0; }

void kcl_lua_reload_free(kcl_lua_reload *r)
{
    if (!r) return;
    stop_all(r);
    ev_timer_stop(r->loop, &r->debounce);
    free(r);
}
