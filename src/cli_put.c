/* cli_put — `luakcl put` (see cli_put.h). */
#include "cli_put.h"
#include "agg.h"
#include "backoff.h"
#include "clock.h"
#include "hashkey.h"

#include <ev.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BATCH_RECORDS 500
#define BATCH_BYTES (5u * 1024u * 1024u)
#define RECORD_LIMIT (1024u * 1024u)
#define REPORT_MAX 5

typedef struct entry {
    char  *data;
    size_t len;
    char  *pk;
    size_t users;        /* user records inside (1, or an aggregate's count) */
    int    shard;        /* expected shard index (aggregates), -1 */
    int    attempts;
} entry;

typedef struct put_state {
    kcl_cli *cli;
    kcl_cli_put_stats *st;
    FILE *progress;
    int64_t start_ms, last_progress_ms;
    uint64_t rng;
    entry *q;             /* records waiting to be sent */
    size_t nq, capq, qbytes;
    int reported;
    /* aggregation */
    kcl_kinesis_shard_list shards;   /* open shards only */
    kcl_agg **aggs;                  /* one per shard */
    size_t naggs;
    int map_stale;
    char *err;
    size_t errlen;
} put_state;

static void entry_free(entry *e)
{
    free(e->data);
    free(e->pk);
}

static void report(put_state *ps, const char *pk, const char *code, const char *msg)
{
    if (ps->reported++ < REPORT_MAX)
        fprintf(stderr, "luakcl put: record (partition key '%s') failed: %s%s%s\n", pk, code ? code : "",
                msg ? ": " : "", msg ? msg : "");
}

static void show_progress(put_state *ps, int force)
{
    if (!ps->progress) return;
    int64_t now = kcl_clock_mono_ms();
    if (!force && now - ps->last_progress_ms < 250) return;
    ps->last_progress_ms = now;
    double s = (double)(now - ps->start_ms) / 1000.0;
    fprintf(ps->progress, "\rput: %zu records written, %.0f records/s, %zu failed   ", ps->st->written,
            s > 0 ? (double)ps->st->written / s : 0.0, ps->st->failed);
    fflush(ps->progress);
}

/* ---- one PutRecords call, with retries of the failed records ------------------ */

typedef struct call_wait {
    int done;
    put_state *ps;
    entry *batch;
    size_t n;
    entry *retry;          /* entries to send again */
    size_t nretry;
    kcl_error last;
} call_wait;

static void on_put(const kcl_kinesis_put_result *res, const kcl_error *err, void *ud)
{
    call_wait *w = ud;
    put_state *ps = w->ps;
    w->done = 1;
    for (size_t i = 0; i < w->n; i++) {
        entry *e = &w->batch[i];
        const char *code = NULL, *msg = NULL;
        if (err->kind != KCL_ERR_NONE) {
            code = err->code[0] ? err->code : kcl_err_kind_name(err->kind);
            msg = err->message;
        } else if (res->entries[i].error_code) {
            code = res->entries[i].error_code;
            msg = res->entries[i].error_message;
        }
        if (!code) {
            ps->st->written += e->users;
            ps->st->kinesis_records++;
            if (e->shard >= 0 && (size_t)e->shard < ps->shards.count && res->entries[i].shard_id &&
                strcmp(res->entries[i].shard_id, ps->shards.shards[e->shard].shard_id) != 0)
                ps->map_stale = 1;
            entry_free(e);
            continue;
        }
        e->attempts++;
        int retryable = err->kind == KCL_ERR_NONE || kcl_err_kind_retryable(err->kind);
        if (e->attempts >= KCL_CLI_PUT_ATTEMPTS || !retryable) {
            ps->st->failed += e->users;
            report(ps, e->pk, code, msg);
            entry_free(e);
            continue;
        }
        w->retry[w->nretry++] = *e;
    }
    if (err->kind != KCL_ERR_NONE) w->last = *err;
}

/* Send n entries (<= 500, <= 5 MiB), retrying failures. Takes the entries. */
static int send_batch(put_state *ps, entry *batch, size_t n)
{
    kcl_kinesis_put_entry *pe = calloc(n, sizeof *pe);
    entry *retry = calloc(n, sizeof *retry);
    if (!pe || !retry) {
        free(pe);
        free(retry);
        snprintf(ps->err, ps->errlen, "out of memory");
        return -1;
    }
    int round = 0;
    while (n > 0) {
        for (size_t i = 0; i < n; i++)
            pe[i] = (kcl_kinesis_put_entry){.data = batch[i].data, .data_len = batch[i].len,
                                            .partition_key = batch[i].pk};
        call_wait w = {.ps = ps, .batch = batch, .n = n, .retry = retry};
        kcl_error e;
        if (!kcl_kinesis_put_records(ps->cli->kin, ps->cli->cfg->stream, pe, n, NULL, on_put, &w, &e)) {
            snprintf(ps->err, ps->errlen, "PutRecords: %s", e.message);
            for (size_t i = 0; i < n; i++) entry_free(&batch[i]);
            free(pe);
            free(retry);
            return -1;
        }
        kcl_cli_wait(ps->cli, &w.done);
        if (w.last.kind == KCL_ERR_NOT_FOUND || w.last.kind == KCL_ERR_ACCESS_DENIED) {
            snprintf(ps->err, ps->errlen, "PutRecords into %s: %s%s%s", ps->cli->cfg->stream, w.last.code,
                     w.last.code[0] ? ": " : "", w.last.message);
            for (size_t i = 0; i < w.nretry; i++) entry_free(&w.retry[i]);
            free(pe);
            free(retry);
            return -1;
        }
        /* the retry list becomes the batch */
        memcpy(batch, retry, w.nretry * sizeof *batch);
        n = w.nretry;
        if (n > 0) {
            ps->st->retries += n;
            kcl_cli_sleep(ps->cli, kcl_backoff_delay_ms(++round, 100, 5000, &ps->rng));
        }
        show_progress(ps, 0);
    }
    free(pe);
    free(retry);
    return 0;
}

/* Send everything queued, in batches. */
static int flush_queue(put_state *ps)
{
    size_t i = 0;
    int rc = 0;
    while (i < ps->nq) {
        size_t n = 0, bytes = 0;
        while (i + n < ps->nq && n < BATCH_RECORDS) {
            size_t b = ps->q[i + n].len + strlen(ps->q[i + n].pk);
            if (n > 0 && bytes + b > BATCH_BYTES) break;
            bytes += b;
            n++;
        }
        if (rc == 0) rc = send_batch(ps, &ps->q[i], n);
        else
            for (size_t k = 0; k < n; k++) entry_free(&ps->q[i + k]);
        i += n;
    }
    ps->nq = 0;
    ps->qbytes = 0;
    return rc;
}

static int enqueue(put_state *ps, char *data, size_t len, char *pk, size_t users, int shard)
{
    if (ps->nq == ps->capq) {
        size_t cap = ps->capq ? ps->capq * 2 : 64;
        entry *q = realloc(ps->q, cap * sizeof *q);
        if (!q) {
            free(data);
            free(pk);
            snprintf(ps->err, ps->errlen, "out of memory");
            return -1;
        }
        ps->q = q;
        ps->capq = cap;
    }
    ps->q[ps->nq++] = (entry){.data = data, .len = len, .pk = pk, .users = users, .shard = shard};
    ps->qbytes += len + strlen(pk);
    if (ps->nq >= BATCH_RECORDS || ps->qbytes >= BATCH_BYTES) return flush_queue(ps);
    return 0;
}

/* ---- aggregation ---------------------------------------------------------------- */

static void shards_cb(kcl_kinesis_shard_list *l, const kcl_error *err, void *ud)
{
    void **w = ud;
    *(kcl_error *)w[1] = *err;
    w[0] = l ? (void *)l : (void *)1;
}

static int flush_agg(put_state *ps, size_t idx)
{
    kcl_agg *a = ps->aggs[idx];
    if (kcl_agg_count(a) == 0) return 0;
    kcl_buf out = {0};
    kcl_error e;
    size_t pklen;
    const char *pk = kcl_agg_partition_key(a, &pklen);
    char *pkcopy = strndup(pk, pklen);
    size_t users = kcl_agg_count(a);
    if (!pkcopy || kcl_agg_finish(a, &out, &e) != 0) {
        free(pkcopy);
        kcl_buf_free(&out);
        snprintf(ps->err, ps->errlen, "aggregate: out of memory");
        return -1;
    }
    kcl_agg_reset(a);
    size_t len = out.len;
    return enqueue(ps, kcl_buf_steal(&out), len, pkcopy, users, (int)idx);
}

static int load_shard_map(put_state *ps)
{
    /* flush what the old map grouped first */
    for (size_t i = 0; i < ps->naggs; i++)
        if (flush_agg(ps, i) != 0) return -1;
    if (flush_queue(ps) != 0) return -1;
    kcl_kinesis_list_shards_req req = {.stream_name = ps->cli->cfg->stream};
    kcl_error e, cberr;
    void *w[2] = {NULL, &cberr};
    if (!kcl_kinesis_list_shards(ps->cli->kin, &req, NULL, shards_cb, w, &e)) {
        snprintf(ps->err, ps->errlen, "ListShards: %s", e.message);
        return -1;
    }
    while (!w[0]) ev_run(ps->cli->loop, EVRUN_ONCE);
    if (cberr.kind != KCL_ERR_NONE) {
        snprintf(ps->err, ps->errlen, "ListShards %s: %s%s%s", ps->cli->cfg->stream, cberr.code,
                 cberr.code[0] ? ": " : "", cberr.message);
        return -1;
    }
    kcl_kinesis_shard_list *l = w[0];
    kcl_kinesis_shard_list_clear(&ps->shards);
    for (size_t i = 0; i < ps->naggs; i++) kcl_agg_free(ps->aggs[i]);
    free(ps->aggs);
    ps->aggs = NULL;
    ps->naggs = 0;
    /* keep the open shards */
    size_t k = 0;
    for (size_t i = 0; i < l->count; i++)
        if (!l->shards[i].ending_sequence_number[0]) l->shards[k++] = l->shards[i];
    l->count = k;
    ps->shards = *l;
    free(l);   /* the struct only: its array now belongs to ps->shards */
    ps->aggs = calloc(k ? k : 1, sizeof *ps->aggs);
    if (!ps->aggs) { snprintf(ps->err, ps->errlen, "out of memory"); return -1; }
    for (size_t i = 0; i < k; i++)
        if (!(ps->aggs[i] = kcl_agg_new(0))) { snprintf(ps->err, ps->errlen, "out of memory"); return -1; }
    ps->naggs = k;
    ps->map_stale = 0;
    return 0;
}

static int route(put_state *ps, const char *pk, size_t pklen)
{
    uint8_t key[KCL_HASHKEY_LEN];
    if (kcl_hashkey_of_partition_key(pk, pklen, key) != 0) return -1;
    for (size_t i = 0; i < ps->shards.count; i++)
        if (kcl_hashkey_in_range(key, ps->shards.shards[i].hash_range.start_key,
                                 ps->shards.shards[i].hash_range.end_key))
            return (int)i;
    return -1;
}

static int add_aggregated(put_state *ps, const char *data, size_t len, const char *pk)
{
    size_t pklen = strlen(pk);
    if (ps->map_stale && load_shard_map(ps) != 0) return -1;
    int idx = route(ps, pk, pklen);
    if (idx < 0) {
        if (load_shard_map(ps) != 0) return -1;
        if ((idx = route(ps, pk, pklen)) < 0) {
            snprintf(ps->err, ps->errlen, "no open shard of %s holds the hash key of partition key '%s'",
                     ps->cli->cfg->stream, pk);
            return -1;
        }
    }
    kcl_agg *a = ps->aggs[idx];
    if (!kcl_agg_fits(a, pk, pklen, NULL, 0, len) && flush_agg(ps, (size_t)idx) != 0) return -1;
    kcl_error e;
    if (kcl_agg_add(a, pk, pklen, NULL, 0, data, len, &e) != 0) {
        ps->st->failed++;
        report(ps, pk, "TooLarge", e.message);
    }
    return 0;
}

/* ---- the command --------------------------------------------------------------- */

int kcl_cli_put(kcl_cli *cli, FILE *in, FILE *progress, kcl_cli_put_stats *st, char *err, size_t errlen)
{
    const kcl_config *cfg = cli->cfg;
    put_state ps = {.cli = cli, .st = st, .progress = progress, .err = err, .errlen = errlen};
    memset(st, 0, sizeof *st);
    ps.start_ms = ps.last_progress_ms = kcl_clock_mono_ms();
    ps.rng = (uint64_t)kcl_clock_wall_ms() * 6364136223846793005ULL ^ (uint64_t)getpid();
    FILE *ur = fopen("/dev/urandom", "rb");
    if (ur) {
        if (fread(&ps.rng, sizeof ps.rng, 1, ur) != 1) ps.rng ^= 0x9e3779b97f4a7c15ULL;
        fclose(ur);
    }
    int rc = 0;
    if (cfg->aggregate) rc = load_shard_map(&ps);
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int delim = cfg->null_separated ? '\0' : '\n';
    while (rc == 0 && (got = getdelim(&line, &cap, delim, in)) >= 0) {
        size_t len = (size_t)got;
        if (len > 0 && line[len - 1] == (char)delim) len--;
        else if (len == 0) break;
        st->read++;
        char pkbuf[40];
        const char *pk = cfg->partition_key;
        if (!pk) {
            snprintf(pkbuf, sizeof pkbuf, "%016llx", (unsigned long long)kcl_backoff_rng_next(&ps.rng));
            pk = pkbuf;
        }
        if (len + strlen(pk) > RECORD_LIMIT) {
            st->failed++;
            report(&ps, pk, "TooLarge", "record data + partition key exceed 1 MiB");
            continue;
        }
        if (cfg->aggregate) {
            rc = add_aggregated(&ps, line, len, pk);
            continue;
        }
        char *data = malloc(len ? len : 1), *pkd = strdup(pk);
        if (!data || !pkd) {
            free(data);
            free(pkd);
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        memcpy(data, line, len);
        rc = enqueue(&ps, data, len, pkd, 1, -1);
    }
    free(line);
    if (rc == 0 && ferror(in)) {
        snprintf(err, errlen, "reading the input failed");
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < ps.naggs; i++) rc = flush_agg(&ps, i);
    if (rc == 0) rc = flush_queue(&ps);
    else {
        for (size_t i = 0; i < ps.nq; i++) entry_free(&ps.q[i]);
    }
    free(ps.q);
    for (size_t i = 0; i < ps.naggs; i++) kcl_agg_free(ps.aggs[i]);
    free(ps.aggs);
    kcl_kinesis_shard_list_clear(&ps.shards);
    show_progress(&ps, 1);
    if (progress) fputc('\n', progress);
    st->seconds = (double)(kcl_clock_mono_ms() - ps.start_ms) / 1000.0;
    if (rc == 0 && st->failed > 0) {
        snprintf(err, errlen, "%zu of %zu records failed", st->failed, st->read);
        rc = -1;
    }
    return rc;
}
