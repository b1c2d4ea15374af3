/* The lease coordinator against a real dynalite: takes in flight when taking
 * stops (graceful shutdown) or when the coordinator is freed are cancelled
 * without a callback and without leaking their context (ASan's leak check
 * catches a leak); a stopped coordinator gains nothing. Runs twice. */
#include "credentials.h"
#include "dynamodb.h"
#include "lease_coordinator.h"
#include "lease_store.h"
#include "log.h"
#include "itlib.h"
#include "testlib.h"

#include <ev.h>
#include <stdlib.h>
#include <string.h>

static struct ev_loop *loop;
static kcl_ddb *ddb;
static kcl_it_op op;

static kcl_coord *coord;
static int scanned, gained, stop_in_scan, free_in_scan;

static void ev_gained(void *ud, const kcl_lease *l) { (void)ud; (void)l; gained++; }
static void ev_lost(void *ud, const char *key) { (void)ud; (void)key; }
static void ev_scanned(void *ud, const kcl_lease *all, size_t n)
{
    (void)ud; (void)all; (void)n;
    scanned++;
    /* the takes of this scan were started just before this event: in flight */
    if (stop_in_scan) kcl_coord_stop_taking(coord);
}

static void scenario(int round)
{
    char table[64];
    snprintf(table, sizeof table, "%s", kcl_test_unique("it-coord"));
    kcl_error err;
    kcl_lease_store_opts so = {.table = table};
    kcl_lease_store *store = kcl_lease_store_new(loop, ddb, &so, &err);
    CHECK(store != NULL);
    op.done = 0;
    CHECK(kcl_lease_store_ensure_table(store, kcl_it_on_done, &op) != NULL);
    CHECK_EQ_INT(kcl_test_run_until(loop, &op.done, 30000), 0);
    CHECK_MSG(op.err.kind == KCL_ERR_NONE, "ensure_table: %s", op.err.message);
    for (int i = 0; i < 3; i++) {
        kcl_lease l;
        memset(&l, 0, sizeof l);
        snprintf(l.key, sizeof l.key, "shardId-%012d", i);
        snprintf(l.checkpoint, sizeof l.checkpoint, "TRIM_HORIZON");
        op.done = 0;
        CHECK(kcl_lease_store_create(store, &l, kcl_it_on_done, &op) != NULL);
        CHECK_EQ_INT(kcl_test_run_until(loop, &op.done, 10000), 0);
        CHECK_MSG(op.err.kind == KCL_ERR_NONE, "create: %s", op.err.message);
    }

    kcl_coord_events ev = {ev_gained, ev_lost, ev_scanned, NULL};
    kcl_coord_opts co = {.worker_id = "w1", .failover_ms = 3000};

    /* 1. stop taking while the first scan's takes are in flight */
    scanned = gained = 0;
    stop_in_scan = 1;
    coord = kcl_coord_new(loop, store, &co, &ev, &err);
    CHECK(coord != NULL);
    kcl_coord_start(coord);
    CHECK_EQ_INT(kcl_test_run_until(loop, &scanned, 10000), 0);
    int never = 0;
    kcl_test_run_until(loop, &never, 300);
    CHECK_EQ_INT(gained, 0);
    CHECK_EQ_INT(kcl_coord_held_count(coord), 0);
    kcl_coord_free(coord);

    /* 2. free the coordinator while the first scan's takes are in flight */
    scanned = gained = 0;
    stop_in_scan = 0;
    coord = kcl_coord_new(loop, store, &co, &ev, &err);
    kcl_coord_start(coord);
    CHECK_EQ_INT(kcl_test_run_until(loop, &scanned, 10000), 0);
    kcl_coord_free(coord);
    coord = NULL;
    CHECK_EQ_INT(kcl_lease_store_pending(store), 0);
    kcl_test_run_until(loop, &never, 300);
    CHECK_EQ_INT(gained, 0);
    (void)free_in_scan;
    (void)round;
    kcl_lease_store_free(store);
}

int main(void)
{
    loop = ev_default_loop(0);
    kcl_log_set_level(kcl_it_log_level(KCL_LOG_WARN));
    kcl_it_clients clients;
    kcl_it_clients_open(loop, NULL, &clients);
    ddb = clients.ddb;
    for (int round = 1; round <= 2; round++) scenario(round);
    kcl_it_clients_close(&clients);
    return TEST_END();
}
