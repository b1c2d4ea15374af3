/* cli_status — `luakcl status` (see cli_status.h). */
#include "cli_status.h"
#include "json.h"
#include "lease_store.h"

#include <stdlib.h>
#include <string.h>

typedef struct row {
    kcl_lease lease;
    const char *state;       /* "open" | "finished" | "waiting_on_parents" */
    int64_t lag_ms;          /* -1 unknown, -2 not asked / not applicable */
} row;

typedef struct status_wait {
    int done;
    kcl_error err;
    row *rows;
    size_t n;
    char *iterator;
    int64_t lag;
} status_wait;

static void on_list(const kcl_lease *leases, size_t n, const kcl_error *err, void *ud)
{
    status_wait *w = ud;
    w->done = 1;
    if (err && err->kind != KCL_ERR_NONE) { w->err = *err; return; }
    w->rows = calloc(n ? n : 1, sizeof *w->rows);
    if (!w->rows) { kcl_error_set(&w->err, KCL_ERR_FATAL, 0, NULL, "out of memory"); return; }
    for (size_t i = 0; i < n; i++) {
        if (kcl_lease_copy(&w->rows[i].lease, &leases[i]) != 0) {
            kcl_error_set(&w->err, KCL_ERR_FATAL, 0, NULL, "out of memory");
            w->n = i;
            return;
        }
        w->n = i + 1;
    }
}

static void on_iterator(const char *it, const kcl_error *err, void *ud)
{
    status_wait *w = ud;
    w->done = 1;
    w->err = *err;
    if (it) w->iterator = strdup(it);
}

static void on_records(kcl_kinesis_records *recs, const kcl_error *err, void *ud)
{
    status_wait *w = ud;
    w->done = 1;
    w->err = *err;
    if (recs) {
        w->lag = recs->millis_behind_latest;
        kcl_kinesis_records_free(recs);
    }
}

static int cmp_rows(const void *a, const void *b)
{
    return strcmp(((const row *)a)->lease.key, ((const row *)b)->lease.key);
}

static const row *find(const row *rows, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rows[i].lease.key, key) == 0) return &rows[i];
    return NULL;
}

/* The lag of one shard, or -1 (a warning on stderr says why). */
static int64_t peek_lag(kcl_cli *cli, const kcl_lease *l)
{
    kcl_kinesis_iterator_req req = {.stream_name = cli->cfg->stream, .shard_id = l->key,
                                    .type = KCL_ITER_LATEST};
    if (kcl_seq_is_valid(l->checkpoint)) {
        req.type = KCL_ITER_AFTER_SEQUENCE_NUMBER;
        req.sequence_number = l->checkpoint;
    } else if (strcmp(l->checkpoint, KCL_SENTINEL_TRIM_HORIZON) == 0) {
        req.type = KCL_ITER_TRIM_HORIZON;
    }
    status_wait w = {0};
    kcl_error e;
    if (!kcl_kinesis_get_shard_iterator(cli->kin, &req, NULL, on_iterator, &w, &e)) {
        fprintf(stderr, "luakcl status: %s: GetShardIterator: %s\n", l->key, e.message);
        return -1;
    }
    kcl_cli_wait(cli, &w.done);
    if (w.err.kind != KCL_ERR_NONE || !w.iterator) {
        fprintf(stderr, "luakcl status: %s: GetShardIterator: %s\n", l->key, w.err.message);
        free(w.iterator);
        return -1;
    }
    char *it = w.iterator;
    memset(&w, 0, sizeof w);
    w.lag = -1;
    kcl_kinesis_op *op = kcl_kinesis_get_records(cli->kin, it, 1, NULL, on_records, &w, &e);
    free(it);
    if (!op) {
        fprintf(stderr, "luakcl status: %s: GetRecords: %s\n", l->key, e.message);
        return -1;
    }
    kcl_cli_wait(cli, &w.done);
    if (w.err.kind != KCL_ERR_NONE) {
        fprintf(stderr, "luakcl status: %s: GetRecords: %s\n", l->key, w.err.message);
        return -1;
    }
    return w.lag;
}

static void parents_text(const kcl_lease *l, char *out, size_t outlen)
{
    out[0] = 0;
    for (int i = 0; i < l->nparents; i++)
        snprintf(out + strlen(out), outlen - strlen(out), "%s%s", i ? "," : "", l->parents[i]);
    if (!out[0]) snprintf(out, outlen, "-");
}

static void print_json(FILE *out, const row *rows, size_t n, int with_lag)
{
    kcl_buf b = {0};
    kcl_jw w;
    kcl_jw_init(&w, &b);
    kcl_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const kcl_lease *l = &rows[i].lease;
        kcl_jw_obj_begin(&w);
        kcl_jw_kstr(&w, "shard", l->key);
        kcl_jw_kstr(&w, "owner", l->owner[0] ? l->owner : NULL);
        kcl_jw_kstr(&w, "checkpoint", l->checkpoint[0] ? l->checkpoint : NULL);
        kcl_jw_kint(&w, "checkpoint_sub_sequence_number", l->checkpoint_sub);
        kcl_jw_kint(&w, "lease_counter", l->counter);
        kcl_jw_kint(&w, "owner_switches_since_checkpoint", l->owner_switches);
        kcl_jw_key(&w, "parents");
        kcl_jw_arr_begin(&w);
        for (int p = 0; p < l->nparents; p++) kcl_jw_str(&w, l->parents[p]);
        kcl_jw_arr_end(&w);
        kcl_jw_kstr(&w, "state", rows[i].state);
        if (with_lag) {
            kcl_jw_key(&w, "millis_behind_latest");
            if (rows[i].lag_ms >= 0) kcl_jw_int(&w, rows[i].lag_ms);
            else kcl_jw_null(&w);
        }
        kcl_jw_obj_end(&w);
    }
    kcl_jw_arr_end(&w);
    fprintf(out, "%s\n", w.failed ? "[]" : kcl_buf_cstr(&b));
    kcl_buf_free(&b);
}

static void print_table(FILE *out, const row *rows, size_t n, int with_lag)
{
    int ws = 5, wo = 5, wc = 10, wp = 7;
    char buf[600];
    for (size_t i = 0; i < n; i++) {
        const kcl_lease *l = &rows[i].lease;
        if ((int)strlen(l->key) > ws) ws = (int)strlen(l->key);
        if ((int)strlen(l->owner) > wo) wo = (int)strlen(l->owner);
        if ((int)strlen(l->checkpoint) > wc) wc = (int)strlen(l->checkpoint);
        parents_text(l, buf, sizeof buf);
        if ((int)strlen(buf) > wp) wp = (int)strlen(buf);
    }
    fprintf(out, "%-*s  %-*s  %-*s  %7s  %-*s  %-*s%s\n", ws, "SHARD", wo, "OWNER", wc, "CHECKPOINT",
            "COUNTER", wp, "PARENTS", with_lag ? 20 : 0, "STATE", with_lag ? "  LAG_MS" : "");
    for (size_t i = 0; i < n; i++) {
        const kcl_lease *l = &rows[i].lease;
        parents_text(l, buf, sizeof buf);
        const char *st = rows[i].state;
        const char *stt = strcmp(st, "finished") == 0 ? "finished (SHARD_END)"
                          : strcmp(st, "open") == 0   ? "open"
                                                      : "waiting on parents";
        char lag[32] = "";
        if (with_lag) {
            if (rows[i].lag_ms >= 0) snprintf(lag, sizeof lag, "  %lld", (long long)rows[i].lag_ms);
            else snprintf(lag, sizeof lag, "  %s", rows[i].lag_ms == -1 ? "?" : "-");
        }
        fprintf(out, "%-*s  %-*s  %-*s  %7lld  %-*s  %-*s%s\n", ws, l->key, wo, l->owner[0] ? l->owner : "-",
                wc, l->checkpoint[0] ? l->checkpoint : "-", (long long)l->counter, wp, buf, with_lag ? 20 : 0, stt,
                lag);
    }
    if (n == 0) fprintf(out, "(no leases)\n");
}

int kcl_cli_status(kcl_cli *cli, FILE *out, char *err, size_t errlen)
{
    const kcl_config *cfg = cli->cfg;
    kcl_error e;
    kcl_lease_store_opts so = {.table = cfg->table ? cfg->table : cfg->app};
    kcl_lease_store *store = kcl_lease_store_new(cli->loop, cli->ddb, &so, &e);
    if (!store) {
        snprintf(err, errlen, "lease store: %s", e.message);
        return -1;
    }
    status_wait w = {0};
    if (!kcl_lease_store_list(store, on_list, &w)) {
        snprintf(err, errlen, "cannot scan the lease table %s", so.table);
        kcl_lease_store_free(store);
        return -1;
    }
    kcl_cli_wait(cli, &w.done);
    kcl_lease_store_free(store);
    int rc = 0;
    if (w.err.kind != KCL_ERR_NONE) {
        if (w.err.kind == KCL_ERR_NOT_FOUND)
            snprintf(err, errlen, "lease table %s not found (has application '%s' ever run?)", so.table,
                     cfg->app ? cfg->app : so.table);
        else
            snprintf(err, errlen, "scanning lease table %s: %s", so.table, w.err.message);
        rc = -1;
    }
    if (rc == 0) {
        qsort(w.rows, w.n, sizeof *w.rows, cmp_rows);
        for (size_t i = 0; i < w.n; i++) {
            row *r = &w.rows[i];
            r->lag_ms = -2;
            if (kcl_lease_is_finished(&r->lease)) {
                r->state = "finished";
                continue;
            }
            r->state = "open";
            for (int p = 0; p < r->lease.nparents; p++) {
                const row *pr = find(w.rows, w.n, r->lease.parents[p]);
                if (pr && !kcl_lease_is_finished(&pr->lease)) r->state = "waiting_on_parents";
            }
            if (cfg->stream) r->lag_ms = peek_lag(cli, &r->lease);
        }
        if (cfg->json) print_json(out, w.rows, w.n, cfg->stream != NULL);
        else print_table(out, w.rows, w.n, cfg->stream != NULL);
    }
    for (size_t i = 0; i < w.n; i++) kcl_lease_free(&w.rows[i].lease);
    free(w.rows);
    return rc;
}
