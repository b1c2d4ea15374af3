#include "testlib.h"

#include <ev.h>
#include <stdlib.h>
#include <unistd.h>

int kcl_test_passed = 0, kcl_test_failed = 0;

int kcl_test_end(const char *name)
{
    if (kcl_test_passed + kcl_test_failed == 0) {
        fprintf(stderr, "%s: no checks ran\n", name);
        kcl_test_failed = 1;
    }
    printf("%s: %d passed, %d failed\n", name, kcl_test_passed, kcl_test_failed);
    return kcl_test_failed ? 1 : 0;
}

const char *kcl_test_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "test needs %s (run it through tests/harness/with-servers.js)\n", name);
        exit(1);
    }
    return v;
}

const char *kcl_test_unique(const char *prefix)
{
    static char buf[128];
    static int counter = 0;
    snprintf(buf, sizeof buf, "%s-%d-%d", prefix, (int)getpid(), ++counter);
    return buf;
}

struct until_ctx {
    const int *done;
    int timed_out;
};

static void until_check(struct ev_loop *loop, ev_prepare *w, int revents)
{
    struct until_ctx *c = w->data;
    if (*c->done) ev_break(loop, EVBREAK_ONE);
}

static void until_timeout(struct ev_loop *loop, ev_timer *w, int revents)
{
    struct until_ctx *c = w->data;
    c->timed_out = 1;
    ev_break(loop, EVBREAK_ONE);
}

int kcl_test_run_until(struct ev_loop *loop, const int *done, double timeout_ms)
{
    struct until_ctx c = {done, 0};
    ev_prepare prep;
    ev_timer tmo;
    ev_prepare_init(&prep, until_check);
    prep.data = &c;
    ev_timer_init(&tmo, until_timeout, timeout_ms / 1000.0, 0.0);
    tmo.data = &c;
    ev_prepare_start(loop, &prep);
    ev_timer_start(loop, &tmo);
    /* prepare watchers do not keep the loop alive alone: unref it. */
    ev_unref(loop);
    while (!*done && !c.timed_out) {
        ev_run(loop, EVRUN_ONCE);
    }
    ev_ref(loop);
    ev_prepare_stop(loop, &prep);
    ev_timer_stop(loop, &tmo);
    return *done ? 0 : -1;
}
