/* canned_server — A BENCHMARK FAKE. Not Kinesis, not DynamoDB, not for tests
 * of correctness: a small HTTP/1.1 server on one libev loop that answers the
 * calls a luakcl worker makes, fast enough to measure the client (kinesalite
 * serves ~25k records/s, dynalite ~3k writes/s; this serves millions).
 *
 * Kinesis (JSON 1.1, X-Amz-Target Kinesis_20131202.*): DescribeStreamSummary,
 * ListShards (N shards, one page, hash ranges splitting 0..2^128-1),
 * GetShardIterator (TRIM_HORIZON, LATEST, AT_/AFTER_SEQUENCE_NUMBER;
 * AT_TIMESTAMP = TRIM_HORIZON), GetRecords from a pre-built run of records
 * (canned_body.c: copied, then sequence numbers and timestamps patched).
 * DynamoDB (JSON 1.0, DynamoDB_20120810.*): DescribeTable, CreateTable,
 * Scan (one page), GetItem, PutItem, UpdateItem, DeleteItem, on one table
 * kept in memory. Update and condition expressions: the subset the lease
 * store writes (SET a = b [+ c], if_not_exists(a, b), REMOVE a;
 * conditions a = b, a <> b, attribute_[not_]exists(a), joined by AND),
 * honoured exactly, so racing workers see conditional-check failures.
 * Signatures are not checked.
 *
 * Two modes for records:
 *   unpaced (default): each shard holds --records records; GetRecords returns
 *     up to min(Limit, --per-call) of them with --millis-behind, then empty
 *     answers with MillisBehindLatest 0.
 *   paced (--pace-mbps X): each shard produces X MB/s of records from the
 *     start, for ever; GetRecords is limited per shard to --calls-per-sec calls
 *     in any second and to X MB/s of bytes (token bucket, 1 s burst), beyond
 *     which it answers ProvisionedThroughputExceededException, as Kinesis does.
 *
 * Control endpoints (plain HTTP, for bench/run and the smoke test):
 *   GET  /__stats   counters as JSON (see stats_json)
 *   GET  /__lags    per-shard lag in records: produced - checkpointed
 *   POST /__open    open the gate (with --gate, GetRecords answers empty
 *                   batches until then)
 *   POST /__quit    stop
 *
 * Usage: canned_server [--port N] [--shards N] [--records N] [--per-call N]
 *   [--record-size B] [--millis-behind MS] [--kpl N] [--pace-mbps X]
 *   [--calls-per-sec N] [--leases-exist] [--gate] [--stream NAME]
 * Prints "PORT <n>" on stdout once listening (--port 0 picks a free port).
 */
#define _GNU_SOURCE 1   /* memmem, strcasestr */
#include "canned_body.h"

#include "buf.h"
#include "ddb_item.h"
#include "json.h"

#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- settings and state -------------------------------------------------------- */

static struct {
    int port, shards, per_call, record_size, kpl, calls_per_sec, leases_exist, gate;
    long long records;
    long long millis_behind;
    double pace_mbps;
    const char *stream;
} opt = {0, 1, 10000, 100, 0, 5, 0, 0, 0, 1000, 0.0, "bench"};

typedef struct shard {
    uint64_t produced;           /* unpaced: records it holds */
    uint64_t ckpt_pos;           /* records checkpointed (position after the checkpoint) */
    uint64_t calls;              /* GetRecords answered */
    double   call_times[16];     /* paced: ring of recent call times */
    int      call_next;
    double   tokens, tokens_at;  /* paced: byte bucket */
} shard;

static shard *shards;
static canned_tmpl tmpl;
static double t0_mono;           /* start, CLOCK_MONOTONIC seconds */
static int64_t t0_epoch_ms;
static int gate_open = 1;
static struct ev_loop *loop;

static struct {
    uint64_t get_records, get_records_empty, records_served, user_records_served, payload_served,
        body_served, throttled, iterators, list_shards, describe_stream, other_kinesis;
    uint64_t ddb_total, ddb_describe, ddb_create, ddb_scan, ddb_get, ddb_put, ddb_update, ddb_delete,
        ddb_cond_failed, checkpoints;
    uint64_t requests;
    double all_owned_at;         /* CLOCK_MONOTONIC seconds when every lease first had an owner; 0 = not yet */
    double first_records_at, last_done_at;
} st;

/* The lease table. */
static int table_exists;
static char table_name[256] = "";
static kcl_ddb_item *items;
static size_t nitems, capitems;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- connections ------------------------------------------------------------------ */

typedef struct conn {
    ev_io rio, wio;
    int fd;
    kcl_buf in, out;
    size_t out_off;
    int closing;
} conn;

static void conn_free(conn *c)
{
    ev_io_stop(loop, &c->rio);
    ev_io_stop(loop, &c->wio);
    close(c->fd);
    kcl_buf_free(&c->in);
    kcl_buf_free(&c->out);
    free(c);
}

static void respond(conn *c, int status, const char *ctype, const char *body, size_t len)
{
    const char *reason = status == 200 ? "OK" : status == 400 ? "Bad Request" : status == 404 ? "Not Found" : "Error";
    kcl_buf_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nx-amzn-RequestId: canned\r\nContent-Length: %zu\r\n\r\n",
                   status, reason, ctype, len);
    kcl_buf_append(&c->out, body, len);
}

static void aws_error(conn *c, const char *ctype, const char *type, const char *msg)
{
    kcl_buf b = KCL_BUF_INIT;
    kcl_buf_printf(&b, "{\"__type\":\"%s\",\"message\":\"%s\"}", type, msg);
    respond(c, 400, ctype, b.data, b.len);
    kcl_buf_free(&b);
}

/* ---- Kinesis ----------------------------------------------------------------------- */

#define KIN_CT "application/x-amz-json-1.1"
#define DDB_CT "application/x-amz-json-1.0"

static int shard_index(const char *id)
{
    if (strncmp(id, "shardId-", 8) != 0) return -1;
    char *end;
    long v = strtol(id + 8, &end, 10);
    if (*end || v < 0 || v >= opt.shards) return -1;
    return (int)v;
}

static uint64_t produced(int s, double now)
{
    if (opt.pace_mbps <= 0) return shards[s].produced;
    double rate = opt.pace_mbps * 1e6 / (double)tmpl.payload;    /* Kinesis records per second */
    return (uint64_t)((now - t0_mono) * rate);
}

/* Arrival time of record `pos`, epoch ms, and the step between records in us. */
static double arrival_step_us(void)
{
    if (opt.pace_mbps <= 0) return 10.0;
    return 1e6 / (opt.pace_mbps * 1e6 / (double)tmpl.payload);
}

static int64_t arrival_ms(uint64_t pos) { return t0_epoch_ms + (int64_t)((double)pos * arrival_step_us() / 1000.0); }

static void k_describe(conn *c)
{
    st.describe_stream++;
    kcl_buf b = KCL_BUF_INIT;
    kcl_buf_printf(&b, "{\"StreamDescriptionSummary\":{\"StreamName\":\"%s\",\"StreamARN\":\"arn:aws:kinesis:us-east-1:000000000000:stream/%s\","
                       "\"StreamStatus\":\"ACTIVE\",\"RetentionPeriodHours\":24,\"StreamCreationTimestamp\":1700000000,"
                       "\"EnhancedMonitoring\":[{\"ShardLevelMetrics\":[]}],\"EncryptionType\":\"NONE\","
                       "\"OpenShardCount\":%d,\"ConsumerCount\":0}}", opt.stream, opt.stream, opt.shards);
    respond(c, 200, KIN_CT, b.data, b.len);
    kcl_buf_free(&b);
}

static void u128_dec(unsigned __int128 v, char *out)
{
    char tmp[48];
    int n = 0;
    do { tmp[n++] = (char)('0' + (int)(v % 10)); v /= 10; } while (v);
    for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
    out[n] = 0;
}

static void k_list_shards(conn *c)
{
    st.list_shards++;
    kcl_buf b = KCL_BUF_INIT;
    kcl_buf_append_str(&b, "{\"Shards\":[");
    unsigned __int128 max = ~(unsigned __int128)0, step = max / (unsigned)opt.shards;
    for (int i = 0; i < opt.shards; i++) {
        char lo[48], hi[48], seq[57];
        u128_dec(step * (unsigned)i, lo);
        u128_dec(i == opt.shards - 1 ? max : step * (unsigned)(i + 1) - 1, hi);
        canned_seq(seq, (unsigned)i, 0);
        kcl_buf_printf(&b, "%s{\"ShardId\":\"shardId-%012d\",\"HashKeyRange\":{\"StartingHashKey\":\"%s\",\"EndingHashKey\":\"%s\"},"
                           "\"SequenceNumberRange\":{\"StartingSequenceNumber\":\"%s\"}}", i ? "," : "", i, lo, hi, seq);
    }
    kcl_buf_append_str(&b, "]}");
    respond(c, 200, KIN_CT, b.data, b.len);
    kcl_buf_free(&b);
}

static void iterator_text(char *out, size_t n, int s, uint64_t pos)
{
    snprintf(out, n, "AAAAAAAAAAEcannedbenchiterator/%d/%llu/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", s,
             (unsigned long long)pos);
}

static void k_get_iterator(conn *c, const kcl_json *d)
{
    st.iterators++;
    kcl_jv root = kcl_json_root(d);
    char sid[160], type[40], seq[160];
    if (kcl_json_str_copy(d, kcl_json_get(d, root, "ShardId"), sid, sizeof sid) != 0 ||
        kcl_json_str_copy(d, kcl_json_get(d, root, "ShardIteratorType"), type, sizeof type) != 0) {
        aws_error(c, KIN_CT, "ValidationException", "ShardId and ShardIteratorType are required");
        return;
    }
    int s = shard_index(sid);
    if (s < 0) { aws_error(c, KIN_CT, "ResourceNotFoundException", "no such shard"); return; }
    uint64_t pos = 0;
    if (strcmp(type, "LATEST") == 0) {
        pos = produced(s, mono_now());
    } else if (strcmp(type, "AT_SEQUENCE_NUMBER") == 0 || strcmp(type, "AFTER_SEQUENCE_NUMBER") == 0) {
        unsigned ss;
        if (kcl_json_str_copy(d, kcl_json_get(d, root, "StartingSequenceNumber"), seq, sizeof seq) != 0 ||
            canned_seq_parse(seq, &ss, &pos) != 0 || (int)ss != s) {
            aws_error(c, KIN_CT, "InvalidArgumentException", "bad StartingSequenceNumber");
            return;
        }
        if (type[1] == 'F') pos++;
    }
    char it[200], body[300];
    iterator_text(it, sizeof it, s, pos);
    int n = snprintf(body, sizeof body, "{\"ShardIterator\":\"%s\"}", it);
    respond(c, 200, KIN_CT, body, (size_t)n);
}

static int throttled(shard *sh, double now, size_t *max_bytes)
{
    int n = opt.calls_per_sec < 16 ? opt.calls_per_sec : 16;
    double oldest = sh->call_times[sh->call_next % n];
    if (oldest > 0 && now - oldest < 0.98) return 1;     /* 2% slack for timer jitter */
    double cap = opt.pace_mbps * 1e6;
    sh->tokens += (now - sh->tokens_at) * cap;
    if (sh->tokens > cap) sh->tokens = cap;
    sh->tokens_at = now;
    if (sh->tokens <= 0) return 1;
    *max_bytes = (size_t)sh->tokens;
    return 0;
}

static void k_get_records(conn *c, const kcl_json *d)
{
    kcl_jv root = kcl_json_root(d);
    char it[256];
    if (kcl_json_str_copy(d, kcl_json_get(d, root, "ShardIterator"), it, sizeof it) != 0) {
        aws_error(c, KIN_CT, "ValidationException", "ShardIterator is required");
        return;
    }
    int s;
    unsigned long long pos;
    if (sscanf(it, "AAAAAAAAAAEcannedbenchiterator/%d/%llu/", &s, &pos) != 2 || s < 0 || s >= opt.shards) {
        aws_error(c, KIN_CT, "InvalidArgumentException", "bad shard iterator");
        return;
    }
    int64_t limit = 10000;
    kcl_jv lv = kcl_json_get(d, root, "Limit");
    if (lv >= 0) kcl_json_int64(d, lv, &limit);
    if (limit > opt.per_call) limit = opt.per_call;
    if (limit < 1) limit = 1;
    shard *sh = &shards[s];
    double now = mono_now();
    size_t max_bytes = (size_t)-1;
    if (opt.pace_mbps > 0 && throttled(sh, now, &max_bytes)) {
        st.throttled++;
        aws_error(c, KIN_CT, "ProvisionedThroughputExceededException", "Rate exceeded for shard");
        return;
    }
    uint64_t avail = gate_open ? produced(s, now) : pos;
    uint64_t n = avail > pos ? avail - pos : 0;
    if (n > (uint64_t)limit) n = (uint64_t)limit;
    if (opt.pace_mbps > 0) {
        uint64_t by_bytes = max_bytes / tmpl.payload + 1;
        if (n > by_bytes) n = by_bytes;
        sh->tokens -= (double)(n * tmpl.payload);
        int k = opt.calls_per_sec < 16 ? opt.calls_per_sec : 16;
        sh->call_times[sh->call_next % k] = now;
        sh->call_next = (sh->call_next + 1) % k;
    }
    int64_t behind = 0;
    if (pos + n < avail) {
        if (opt.pace_mbps > 0) {
            int64_t now_ms = t0_epoch_ms + (int64_t)((now - t0_mono) * 1000.0);
            behind = now_ms - arrival_ms(pos + n);
            if (behind < 1) behind = 1;
        } else {
            behind = opt.millis_behind;
        }
    }
    char next[200];
    iterator_text(next, sizeof next, s, pos + n);
    size_t before = c->out.len;
    /* headers first with a fixed-width length, patched after the body is built */
    kcl_buf_printf(&c->out, "HTTP/1.1 200 OK\r\nContent-Type: " KIN_CT "\r\nx-amzn-RequestId: canned\r\n"
                            "Content-Length: %012d\r\n\r\n", 0);
    size_t body_at = c->out.len;
    canned_body(&c->out, &tmpl, (unsigned)s, pos, (size_t)n, arrival_ms(pos), arrival_step_us(), next, behind);
    char lenbuf[16];
    snprintf(lenbuf, sizeof lenbuf, "%012zu", c->out.len - body_at);
    memcpy(c->out.data + body_at - 4 - 12, lenbuf, 12);
    (void)before;
    st.get_records++;
    sh->calls++;
    if (n == 0) st.get_records_empty++;
    else if (st.first_records_at == 0) st.first_records_at = now;
    st.records_served += n;
    st.user_records_served += n * tmpl.user_records;
    st.payload_served += n * tmpl.payload;
    st.body_served += c->out.len - body_at;
}

/* ---- DynamoDB: the table and the expression subset ---------------------------------- */

static kcl_ddb_item *find_item(const char *key, size_t *index)
{
    int s = shard_index(key);
    if (s >= 0 && (size_t)s < nitems) {
        const char *k;
        if (kcl_ddb_item_get_s(&items[s], "leaseKey", &k) == 0 && strcmp(k, key) == 0) {
            if (index) *index = (size_t)s;
            return &items[s];
        }
    }
    for (size_t i = 0; i < nitems; i++) {
        const char *k;
        if (kcl_ddb_item_get_s(&items[i], "leaseKey", &k) == 0 && strcmp(k, key) == 0) {
            if (index) *index = i;
            return &items[i];
        }
    }
    return NULL;
}

static int add_item(kcl_ddb_item *it)
{
    if (nitems == capitems) {
        size_t cap = capitems ? capitems * 2 : 64;
        kcl_ddb_item *p = realloc(items, cap * sizeof *p);
        if (!p) return -1;
        items = p;
        capitems = cap;
    }
    items[nitems] = (kcl_ddb_item)KCL_DDB_ITEM_INIT;
    kcl_ddb_item_move(&items[nitems++], it);
    return 0;
}

/* Keep shard lease rows at their shard's index where possible (fast lookup). */
static void place_items(void)
{
    for (size_t i = 0; i < nitems; i++) {
        const char *k;
        if (kcl_ddb_item_get_s(&items[i], "leaseKey", &k) != 0) continue;
        int s = shard_index(k);
        if (s >= 0 && (size_t)s < nitems && (size_t)s != i) {
            kcl_ddb_item tmp = items[s];
            items[s] = items[i];
            items[i] = tmp;
        }
    }
}

typedef struct expr_ctx {
    const kcl_json *d;
    kcl_jv names;                /* ExpressionAttributeNames */
    kcl_ddb_item values;         /* ExpressionAttributeValues */
    const char *p;               /* cursor */
    char err[160];
} expr_ctx;

typedef enum { T_END, T_NAME, T_VALUE, T_WORD, T_PUNCT } tok_kind;
typedef struct tok {
    tok_kind k;
    char text[128];
} tok;

static tok next_tok(expr_ctx *x)
{
    tok t = {T_END, ""};
    while (*x->p == ' ') x->p++;
    const char *s = x->p;
    if (!*s) return t;
    if (*s == '<' && s[1] == '>') { t.k = T_PUNCT; strcpy(t.text, "<>"); x->p += 2; return t; }
    if (strchr("=+-,()", *s)) { t.k = T_PUNCT; t.text[0] = *s; t.text[1] = 0; x->p++; return t; }
    size_t n = 1;
    while (s[n] && (s[n] == '_' || s[n] == '#' || s[n] == ':' || (s[n] >= '0' && s[n] <= '9') ||
                    (s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z')))
        n++;
    if (n >= sizeof t.text) n = sizeof t.text - 1;
    memcpy(t.text, s, n);
    t.text[n] = 0;
    x->p += n;
    t.k = *s == '#' ? T_NAME : *s == ':' ? T_VALUE : T_WORD;
    return t;
}

static tok peek_tok(expr_ctx *x)
{
    const char *save = x->p;
    tok t = next_tok(x);
    x->p = save;
    return t;
}

/* The attribute name a #placeholder (or a bare name) stands for. */
static int resolve_name(expr_ctx *x, const tok *t, char *out, size_t n)
{
    if (t->k == T_WORD) { snprintf(out, n, "%s", t->text); return 0; }
    if (t->k != T_NAME || kcl_json_str_copy(x->d, kcl_json_get(x->d, x->names, t->text), out, n) != 0) {
        snprintf(x->err, sizeof x->err, "unknown name %s", t->text);
        return -1;
    }
    return 0;
}

/* An operand's value: a copy into `out` (name set to "v"); absent -> out->type NONE. */
typedef struct val {
    kcl_ddb_attr a;              /* shallow: points into an item or into values */
    int present;
} val;

static int operand(expr_ctx *x, const kcl_ddb_item *it, val *out);

static int operand(expr_ctx *x, const kcl_ddb_item *it, val *out)
{
    memset(out, 0, sizeof *out);
    tok t = next_tok(x);
    if (t.k == T_VALUE) {
        const kcl_ddb_attr *a = kcl_ddb_item_get(&x->values, t.text);
        if (!a) { snprintf(x->err, sizeof x->err, "unknown value %s", t.text); return -1; }
        out->a = *a;
        out->present = 1;
    } else if (t.k == T_WORD && strcmp(t.text, "if_not_exists") == 0) {
        tok lp = next_tok(x), nm = next_tok(x), cm = next_tok(x);
        char name[256];
        if (strcmp(lp.text, "(") != 0 || strcmp(cm.text, ",") != 0 || resolve_name(x, &nm, name, sizeof name) != 0) {
            snprintf(x->err, sizeof x->err, "bad if_not_exists");
            return -1;
        }
        val dflt;
        if (operand(x, it, &dflt) != 0) return -1;
        if (strcmp(next_tok(x).text, ")") != 0) { snprintf(x->err, sizeof x->err, "bad if_not_exists"); return -1; }
        const kcl_ddb_attr *a = kcl_ddb_item_get(it, name);
        if (a) { out->a = *a; out->present = 1; }
        else *out = dflt;
    } else if (t.k == T_NAME || t.k == T_WORD) {
        char name[256];
        if (resolve_name(x, &t, name, sizeof name) != 0) return -1;
        const kcl_ddb_attr *a = kcl_ddb_item_get(it, name);
        if (a) { out->a = *a; out->present = 1; }
    } else {
        snprintf(x->err, sizeof x->err, "unexpected '%s'", t.text);
        return -1;
    }
    return 0;
}

static int attr_eq(const kcl_ddb_attr *a, const kcl_ddb_attr *b)
{
    if (a->type != b->type || a->n != b->n || a->boolean != b->boolean) return 0;
    if (a->type == KCL_DDB_N && a->n == 1) {
        char *e1, *e2;
        return strtod(a->v[0].data, &e1) == strtod(b->v[0].data, &e2);
    }
    for (size_t i = 0; i < a->n; i++)
        if (a->v[i].len != b->v[i].len || memcmp(a->v[i].data, b->v[i].data, a->v[i].len) != 0) return 0;
    return 1;
}

/* 1 true, 0 false, -1 bad expression. `it` may be an empty item (no row). */
static int condition(expr_ctx *x, const kcl_ddb_item *it, const char *expr)
{
    x->p = expr;
    int result = 1;
    for (;;) {
        tok t = peek_tok(x);
        int r;
        if (t.k == T_WORD && (strcmp(t.text, "attribute_not_exists") == 0 || strcmp(t.text, "attribute_exists") == 0)) {
            next_tok(x);
            tok lp = next_tok(x), nm = next_tok(x), rp = next_tok(x);
            char name[256];
            if (strcmp(lp.text, "(") || strcmp(rp.text, ")") || resolve_name(x, &nm, name, sizeof name)) return -1;
            int exists = kcl_ddb_item_get(it, name) != NULL;
            r = t.text[10] == 'n' ? !exists : exists;
        } else {
            val a, b;
            if (operand(x, it, &a) != 0) return -1;
            tok op = next_tok(x);
            if (operand(x, it, &b) != 0) return -1;
            int eq = a.present && b.present && attr_eq(&a.a, &b.a);
            if (strcmp(op.text, "=") == 0) r = eq;
            else if (strcmp(op.text, "<>") == 0) r = a.present && b.present && !eq;
            else { snprintf(x->err, sizeof x->err, "operator '%s' not supported", op.text); return -1; }
        }
        result = result && r;
        tok n = next_tok(x);
        if (n.k == T_END) return result;
        if (strcasecmp(n.text, "AND") != 0) { snprintf(x->err, sizeof x->err, "only AND is supported"); return -1; }
    }
}

static int set_attr(kcl_ddb_item *it, const char *name, const kcl_ddb_attr *src)
{
    kcl_ddb_attr a = *src;
    a.name = (char *)name;
    return kcl_ddb_item_add_attr(it, &a);
}

/* Apply an update expression to `it` (a copy; the caller swaps it in). */
static int update(expr_ctx *x, kcl_ddb_item *it, const char *expr)
{
    x->p = expr;
    tok t = next_tok(x);
    while (t.k != T_END) {
        if (strcasecmp(t.text, "SET") == 0) {
            for (;;) {
                tok nm = next_tok(x);
                char name[256];
                if (resolve_name(x, &nm, name, sizeof name) != 0 || strcmp(next_tok(x).text, "=") != 0) return -1;
                val a;
                if (operand(x, it, &a) != 0) return -1;
                tok op = peek_tok(x);
                if (op.k == T_PUNCT && (op.text[0] == '+' || op.text[0] == '-')) {
                    next_tok(x);
                    val b;
                    if (operand(x, it, &b) != 0) return -1;
                    if (!a.present || !b.present || a.a.type != KCL_DDB_N || b.a.type != KCL_DDB_N) {
                        snprintf(x->err, sizeof x->err, "arithmetic on a missing or non-number attribute");
                        return -1;
                    }
                    long long va = strtoll(a.a.v[0].data, NULL, 10), vb = strtoll(b.a.v[0].data, NULL, 10);
                    if (kcl_ddb_item_add_n_int64(it, name, op.text[0] == '+' ? va + vb : va - vb) != 0) return -1;
                } else {
                    if (!a.present) { snprintf(x->err, sizeof x->err, "SET from a missing attribute"); return -1; }
                    /* copy first: a may point into `it` */
                    kcl_ddb_item tmp = KCL_DDB_ITEM_INIT;
                    if (set_attr(&tmp, name, &a.a) != 0 || kcl_ddb_item_add_attr(it, &tmp.attrs[0]) != 0) {
                        kcl_ddb_item_free(&tmp);
                        return -1;
                    }
                    kcl_ddb_item_free(&tmp);
                }
                if (peek_tok(x).text[0] != ',') break;
                next_tok(x);
            }
        } else if (strcasecmp(t.text, "REMOVE") == 0) {
            for (;;) {
                tok nm = next_tok(x);
                char name[256];
                if (resolve_name(x, &nm, name, sizeof name) != 0) return -1;
                kcl_ddb_item_remove(it, name);
                if (peek_tok(x).text[0] != ',') break;
                next_tok(x);
            }
        } else {
            snprintf(x->err, sizeof x->err, "clause '%s' not supported", t.text);
            return -1;
        }
        t = next_tok(x);
    }
    return 0;
}

/* Counters that follow the table: owners, checkpoints. */
static void table_changed(const kcl_ddb_item *it, int checkpointed)
{
    double now = mono_now();
    if (checkpointed) {
        st.checkpoints++;
        const char *key, *cp;
        if (kcl_ddb_item_get_s(it, "leaseKey", &key) == 0 && kcl_ddb_item_get_s(it, "checkpoint", &cp) == 0) {
            int s = shard_index(key);
            unsigned ss;
            uint64_t pos;
            int64_t sub = 0;
            kcl_ddb_item_get_int64(it, "checkpointSubSequenceNumber", &sub);
            if (s >= 0 && canned_seq_parse(cp, &ss, &pos) == 0) {
                /* a KPL aggregate counts once its last user record is checkpointed */
                uint64_t done = pos + (tmpl.user_records <= 1 || sub >= (int64_t)tmpl.user_records - 1 ? 1 : 0);
                if (done > shards[s].ckpt_pos) shards[s].ckpt_pos = done;
                if (opt.pace_mbps <= 0 && shards[s].ckpt_pos >= shards[s].produced && shards[s].produced > 0)
                    st.last_done_at = now;
            }
        }
    }
    if (st.all_owned_at == 0 && nitems >= (size_t)opt.shards) {
        for (size_t i = 0; i < nitems; i++)
            if (!kcl_ddb_item_get(&items[i], "leaseOwner")) return;
        st.all_owned_at = now;
    }
}

static void ddb_write_table(kcl_buf *b, const char *member)
{
    kcl_buf_printf(b, "{\"%s\":{\"TableName\":\"%s\",\"TableStatus\":\"ACTIVE\",\"TableArn\":\"arn:aws:dynamodb:us-east-1:000000000000:table/%s\","
                      "\"KeySchema\":[{\"AttributeName\":\"leaseKey\",\"KeyType\":\"HASH\"}],"
                      "\"AttributeDefinitions\":[{\"AttributeName\":\"leaseKey\",\"AttributeType\":\"S\"}],"
                      "\"BillingModeSummary\":{\"BillingMode\":\"PAY_PER_REQUEST\"},\"ItemCount\":%zu,\"TableSizeBytes\":0,"
                      "\"CreationDateTime\":1700000000}}", member, table_name, table_name, nitems);
}

static void ddb(conn *c, const char *op, const kcl_json *d)
{
    st.ddb_total++;
    kcl_jv root = kcl_json_root(d);
    char tname[256] = "";
    kcl_json_str_copy(d, kcl_json_get(d, root, "TableName"), tname, sizeof tname);
    kcl_buf b = KCL_BUF_INIT;
    if (strcmp(op, "DescribeTable") == 0 || strcmp(op, "CreateTable") == 0) {
        int create = op[0] == 'C';
        if (create) st.ddb_create++; else st.ddb_describe++;
        if (create && table_exists) { aws_error(c, DDB_CT, "com.amazonaws.dynamodb.v20120810#ResourceInUseException", "Table already exists"); goto out; }
        if (!create && !table_exists) { aws_error(c, DDB_CT, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "Requested resource not found"); goto out; }
        if (create) { table_exists = 1; snprintf(table_name, sizeof table_name, "%s", tname); }
        ddb_write_table(&b, create ? "TableDescription" : "Table");
        respond(c, 200, DDB_CT, b.data, b.len);
        goto out;
    }
    if (!table_exists) { aws_error(c, DDB_CT, "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", "Requested resource not found"); goto out; }
    if (strcmp(op, "Scan") == 0) {
        st.ddb_scan++;
        kcl_jw w;
        kcl_jw_init(&w, &b);
        kcl_jw_obj_begin(&w);
        kcl_jw_key(&w, "Items");
        kcl_jw_arr_begin(&w);
        for (size_t i = 0; i < nitems; i++) kcl_ddb_item_write(&w, &items[i]);
        kcl_jw_arr_end(&w);
        kcl_jw_kint(&w, "Count", (int64_t)nitems);
        kcl_jw_kint(&w, "ScannedCount", (int64_t)nitems);
        kcl_jw_obj_end(&w);
        respond(c, 200, DDB_CT, b.data, b.len);
        goto out;
    }
    expr_ctx x;
    memset(&x, 0, sizeof x);
    x.d = d;
    x.names = kcl_json_get(d, root, "ExpressionAttributeNames");
    kcl_jv vals = kcl_json_get(d, root, "ExpressionAttributeValues");
    kcl_error e;
    if (vals >= 0 && kcl_ddb_item_decode(d, vals, &x.values, &e) != 0) {
        aws_error(c, DDB_CT, "com.amazonaws.dynamodb.v20120810#ValidationException", "bad ExpressionAttributeValues");
        goto out;
    }
    char cond[1024] = "", upd[1024] = "";
    kcl_json_str_copy(d, kcl_json_get(d, root, "ConditionExpression"), cond, sizeof cond);
    kcl_json_str_copy(d, kcl_json_get(d, root, "UpdateExpression"), upd, sizeof upd);
    kcl_ddb_item key = KCL_DDB_ITEM_INIT, newit = KCL_DDB_ITEM_INIT, empty = KCL_DDB_ITEM_INIT;
    const char *k = NULL;
    int is_put = strcmp(op, "PutItem") == 0;
    if (is_put) {
        st.ddb_put++;
        if (kcl_ddb_item_decode(d, kcl_json_get(d, root, "Item"), &newit, &e) != 0 ||
            kcl_ddb_item_get_s(&newit, "leaseKey", &k) != 0) {
            aws_error(c, DDB_CT, "com.amazonaws.dynamodb.v20120810#ValidationException", "bad Item");
            goto out2;
        }
    } else {
        if (kcl_ddb_item_decode(d, kcl_json_get(d, root, "Key"), &key, &e) != 0 ||
            kcl_ddb_item_get_s(&key, "leaseKey", &k) != 0) {
            aws_error(c, DDB_CT, "com.amazonaws.dynamodb.v20120810#ValidationException", "bad Key");
            goto out2;
        }
    }
    size_t idx = 0;
    kcl_ddb_item *row = find_item(k, &idx);
    if (strcmp(op, "GetItem") == 0) {
        st.ddb_get++;
        kcl_jw w;
        kcl_jw_init(&w, &b);
        kcl_jw_obj_begin(&w);
        if (row) { kcl_jw_key(&w, "Item"); kcl_ddb_item_write(&w, row); }
        kcl_jw_obj_end(&w);
        respond(c, 200, DDB_CT, b.data, b.len);
        goto out2;
    }
    if (strcmp(op, "UpdateItem") == 0) st.ddb_update++;
    else if (strcmp(op, "DeleteItem") == 0) st.ddb_delete++;
    if (cond[0]) {
        int r = condition(&x, row ? row : &empty, cond);
        if (r < 0) {
            fprintf(stderr, "canned_server: ConditionExpression '%s': %s\n", cond, x.err);
            aws_error(c, DDB_CT, "com.amazonaws.dynamodb.v20120810#ValidationException", "unsupported ConditionExpression");
            goto out2;
        }
        if (r == 0) {
            st.ddb_cond_failed++;
            aws_error(c, DDB_CT, "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException", "The conditional request failed");
            goto out2;
        }
    }
    if (is_put) {
        if (row) { kcl_ddb_item_free(row); kcl_ddb_item_move(row, &newit); }
        else { add_item(&newit); place_items(); }
        table_changed(find_item(k, NULL), 0);
    } else if (strcmp(op, "DeleteItem") == 0) {
        if (row) {
            kcl_ddb_item_free(row);
            items[idx] = items[--nitems];
            place_items();
        }
    } else {   /* UpdateItem */
        if (row) kcl_ddb_item_copy(&newit, row);
        else kcl_ddb_item_copy(&newit, &key);
        if (update(&x, &newit, upd) != 0) {
            fprintf(stderr, "canned_server: UpdateExpression '%s': %s\n", upd, x.err);
            aws_error(c, DDB_CT, "com.amazonaws.dynamodb.v20120810#ValidationException", "unsupported UpdateExpression");
            goto out2;
        }
        if (row) { kcl_ddb_item_free(row); kcl_ddb_item_move(row, &newit); }
        else { add_item(&newit); place_items(); }
        table_changed(find_item(k, NULL), strstr(upd, ":seq") && strncmp(upd, "SET #c = #c + :one, #cp", 23) == 0);
    }
    respond(c, 200, DDB_CT, "{}", 2);
out2:
    kcl_ddb_item_free(&key);
    kcl_ddb_item_free(&newit);
    kcl_ddb_item_free(&x.values);
out:
    kcl_buf_free(&b);
}

/* ---- control endpoints --------------------------------------------------------------- */

static void stats_json(kcl_buf *b)
{
    double now = mono_now();
    size_t owned = 0, polled = 0, done = 0;
    char owners[64][128];
    int nowners = 0;
    for (size_t i = 0; i < nitems; i++) {
        const char *o;
        if (kcl_ddb_item_get_s(&items[i], "leaseOwner", &o) != 0) continue;
        owned++;
        int k = 0;
        while (k < nowners && strcmp(owners[k], o) != 0) k++;
        if (k == nowners && nowners < 64) snprintf(owners[nowners++], sizeof owners[0], "%s", o);
    }
    uint64_t lag_max = 0, lag_sum = 0;
    for (int s = 0; s < opt.shards; s++) {
        if (shards[s].calls > 0) polled++;
        uint64_t p = produced(s, now), l = p > shards[s].ckpt_pos ? p - shards[s].ckpt_pos : 0;
        if (opt.pace_mbps <= 0 && p > 0 && shards[s].ckpt_pos >= p) done++;
        if (l > lag_max) lag_max = l;
        lag_sum += l;
    }
    kcl_buf_printf(b, "{\"now\":%.6f,\"shards\":%d,\"get_records\":%llu,\"get_records_empty\":%llu,\"records_served\":%llu,"
                      "\"user_records_served\":%llu,\"payload_bytes_served\":%llu,\"body_bytes_served\":%llu,\"throttled\":%llu,"
                      "\"get_shard_iterator\":%llu,\"list_shards\":%llu,\"describe_stream\":%llu,\"requests\":%llu,",
                   now, opt.shards, (unsigned long long)st.get_records, (unsigned long long)st.get_records_empty,
                   (unsigned long long)st.records_served, (unsigned long long)st.user_records_served,
                   (unsigned long long)st.payload_served, (unsigned long long)st.body_served,
                   (unsigned long long)st.throttled, (unsigned long long)st.iterators,
                   (unsigned long long)st.list_shards, (unsigned long long)st.describe_stream,
                   (unsigned long long)st.requests);
    kcl_buf_printf(b, "\"ddb\":{\"total\":%llu,\"DescribeTable\":%llu,\"CreateTable\":%llu,\"Scan\":%llu,\"GetItem\":%llu,"
                      "\"PutItem\":%llu,\"UpdateItem\":%llu,\"DeleteItem\":%llu,\"conditional_failed\":%llu},",
                   (unsigned long long)st.ddb_total, (unsigned long long)st.ddb_describe,
                   (unsigned long long)st.ddb_create, (unsigned long long)st.ddb_scan, (unsigned long long)st.ddb_get,
                   (unsigned long long)st.ddb_put, (unsigned long long)st.ddb_update,
                   (unsigned long long)st.ddb_delete, (unsigned long long)st.ddb_cond_failed);
    kcl_buf_printf(b, "\"checkpoints\":%llu,\"leases\":%zu,\"leases_owned\":%zu,\"owners\":%d,\"all_owned_at\":%.6f,"
                      "\"shards_polled\":%zu,\"shards_done\":%zu,\"first_records_at\":%.6f,\"last_done_at\":%.6f,"
                      "\"lag_max\":%llu,\"lag_sum\":%llu,\"gate_open\":%d}\n",
                   (unsigned long long)st.checkpoints, nitems, owned, nowners, st.all_owned_at, polled, done,
                   st.first_records_at, st.last_done_at, (unsigned long long)lag_max,
                   (unsigned long long)lag_sum, gate_open);
}

/* ---- request dispatch ------------------------------------------------------------------- */

static void dispatch(conn *c, const char *method, const char *path, const char *target, const char *body, size_t blen)
{
    st.requests++;
    if (strncmp(path, "/__", 3) == 0) {
        kcl_buf b = KCL_BUF_INIT;
        if (strcmp(path, "/__stats") == 0) {
            stats_json(&b);
        } else if (strcmp(path, "/__lags") == 0) {
            double now = mono_now();
            kcl_buf_append_str(&b, "[");
            for (int s = 0; s < opt.shards; s++) {
                uint64_t p = produced(s, now);
                kcl_buf_printf(&b, "%s%llu", s ? "," : "",
                               (unsigned long long)(p > shards[s].ckpt_pos ? p - shards[s].ckpt_pos : 0));
            }
            kcl_buf_append_str(&b, "]\n");
        } else if (strcmp(path, "/__open") == 0 && strcmp(method, "POST") == 0) {
            gate_open = 1;
            kcl_buf_append_str(&b, "{\"gate_open\":1}\n");
        } else if (strcmp(path, "/__quit") == 0 && strcmp(method, "POST") == 0) {
            kcl_buf_append_str(&b, "{\"quit\":1}\n");
            ev_break(loop, EVBREAK_ALL);
        } else {
            respond(c, 404, "text/plain", "not found\n", 10);
            kcl_buf_free(&b);
            return;
        }
        respond(c, 200, "application/json", b.data, b.len);
        kcl_buf_free(&b);
        return;
    }
    const char *dot = target ? strchr(target, '.') : NULL;
    if (!dot) { aws_error(c, KIN_CT, "UnknownOperationException", "no X-Amz-Target"); return; }
    const char *op = dot + 1;
    kcl_json d = {0};
    kcl_error e;
    if (kcl_json_parse(&d, body ? body : "{}", body ? blen : 2, 0, &e) != 0) {
        aws_error(c, KIN_CT, "SerializationException", "body is not JSON");
        kcl_json_free(&d);
        return;
    }
    if (strncmp(target, "Kinesis_20131202.", 17) == 0) {
        if (strcmp(op, "GetRecords") == 0) k_get_records(c, &d);
        else if (strcmp(op, "GetShardIterator") == 0) k_get_iterator(c, &d);
        else if (strcmp(op, "ListShards") == 0) k_list_shards(c);
        else if (strcmp(op, "DescribeStreamSummary") == 0) k_describe(c);
        else { st.other_kinesis++; aws_error(c, KIN_CT, "UnknownOperationException", "not in the canned server"); }
    } else if (strncmp(target, "DynamoDB_20120810.", 18) == 0) {
        ddb(c, op, &d);
    } else {
        aws_error(c, KIN_CT, "UnknownOperationException", "unknown target");
    }
    kcl_json_free(&d);
}

static int flush_out(conn *c);

/* Handle every complete request in c->in. */
static void parse_requests(conn *c)
{
    size_t off = 0;
    for (;;) {
        char *start = c->in.data + off;
        size_t avail = c->in.len - off;
        char *hend = avail >= 4 ? memmem(start, avail, "\r\n\r\n", 4) : NULL;
        if (!hend) break;
        *hend = 0;
        size_t clen = 0;
        char target[128] = "", method[16] = "", path[256] = "";
        int expect = 0;
        sscanf(start, "%15s %255s", method, path);
        for (char *line = strstr(start, "\r\n"); line; line = strstr(line, "\r\n")) {
            line += 2;
            if (strncasecmp(line, "Content-Length:", 15) == 0) clen = (size_t)strtoull(line + 15, NULL, 10);
            else if (strncasecmp(line, "X-Amz-Target:", 13) == 0) sscanf(line + 13, " %127[^\r]", target);
            else if (strncasecmp(line, "Expect:", 7) == 0 && strcasestr(line, "100-continue")) expect = 1;
            else if (strncasecmp(line, "Connection:", 11) == 0 && strcasestr(line, "close")) c->closing = 1;
        }
        size_t hlen = (size_t)(hend - start) + 4;
        if (avail < hlen + clen) {
            *hend = '\r';
            if (expect) kcl_buf_append_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
            break;
        }
        char saved = start[hlen + clen];
        start[hlen + clen] = 0;
        dispatch(c, method, path, target[0] ? target : NULL, clen ? start + hlen : NULL, clen);
        start = c->in.data + off;          /* dispatch does not touch c->in, but be safe */
        start[hlen + clen] = saved;
        off += hlen + clen;
    }
    if (off) {
        memmove(c->in.data, c->in.data + off, c->in.len - off);
        c->in.len -= off;
        c->in.data[c->in.len] = 0;
    }
    flush_out(c);
}

/* Write what is queued. Returns 0 when all is written, 1 while waiting for
 * the socket, -1 when the connection was closed (c is freed). */
static int flush_out(conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = write(c->fd, c->out.data + c->out_off, c->out.len - c->out_off);
        if (n > 0) { c->out_off += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            ev_io_stop(loop, &c->rio);           /* back-pressure: read again once written */
            ev_io_start(loop, &c->wio);
            return 1;
        }
        conn_free(c);
        return -1;
    }
    c->out.len = 0;
    c->out_off = 0;
    if (c->out.cap > (64u << 20)) kcl_buf_free(&c->out);
    ev_io_stop(loop, &c->wio);
    if (c->closing) { conn_free(c); return -1; }
    ev_io_start(loop, &c->rio);
    return 0;
}

static void on_write(struct ev_loop *l, ev_io *w, int revents)
{
    (void)l; (void)revents;
    conn *c = w->data;
    if (flush_out(c) == 0 && c->in.len) parse_requests(c);   /* requests that came meanwhile */
}

static void on_read(struct ev_loop *l, ev_io *w, int revents)
{
    (void)l; (void)revents;
    conn *c = w->data;
    if (kcl_buf_reserve(&c->in, 65536) != 0) { conn_free(c); return; }
    ssize_t n = read(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR && errno != EWOULDBLOCK)) { conn_free(c); return; }
    if (n < 0) return;
    c->in.len += (size_t)n;
    c->in.data[c->in.len] = 0;
    parse_requests(c);
}

static void on_accept(struct ev_loop *l, ev_io *w, int revents)
{
    (void)revents;
    for (;;) {
        int fd = accept(w->fd, NULL, NULL);
        if (fd < 0) return;
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn *c = calloc(1, sizeof *c);
        if (!c) { close(fd); continue; }
        c->fd = fd;
        ev_io_init(&c->rio, on_read, fd, EV_READ);
        ev_io_init(&c->wio, on_write, fd, EV_WRITE);
        c->rio.data = c->wio.data = c;
        ev_io_start(l, &c->rio);
    }
}

static void on_signal(struct ev_loop *l, ev_signal *s, int revents)
{
    (void)s; (void)revents;
    ev_break(l, EVBREAK_ALL);
}

/* ---- main -------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: canned_server [--port N] [--shards N] [--records N] [--per-call N] [--record-size B]\n"
                    "  [--millis-behind MS] [--kpl N] [--pace-mbps X] [--calls-per-sec N] [--leases-exist] [--gate]\n"
                    "  [--stream NAME]   (a benchmark fake: see the top of bench/canned_server.c)\n");
    exit(2);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NUM(flag, dst, conv) if (strcmp(a, flag) == 0) { if (!v) usage(); dst = conv(v); i++; continue; }
        NUM("--port", opt.port, atoi)
        NUM("--shards", opt.shards, atoi)
        NUM("--records", opt.records, atoll)
        NUM("--per-call", opt.per_call, atoi)
        NUM("--record-size", opt.record_size, atoi)
        NUM("--millis-behind", opt.millis_behind, atoll)
        NUM("--kpl", opt.kpl, atoi)
        NUM("--pace-mbps", opt.pace_mbps, atof)
        NUM("--calls-per-sec", opt.calls_per_sec, atoi)
#undef NUM
        if (strcmp(a, "--stream") == 0 && v) { opt.stream = v; i++; continue; }
        if (strcmp(a, "--leases-exist") == 0) { opt.leases_exist = 1; continue; }
        if (strcmp(a, "--gate") == 0) { opt.gate = 1; continue; }
        usage();
    }
    if (opt.shards < 1 || opt.shards > 100000 || opt.per_call < 1 || opt.per_call > 10000 || opt.record_size < 1 ||
        opt.calls_per_sec < 1 || opt.kpl < 0 || opt.records < 0)
        usage();
    signal(SIGPIPE, SIG_IGN);
    size_t max = (size_t)opt.per_call;
    if (canned_tmpl_init(&tmpl, max, (size_t)opt.record_size, opt.kpl) != 0) {
        fprintf(stderr, "canned_server: out of memory building the records\n");
        return 1;
    }
    shards = calloc((size_t)opt.shards, sizeof *shards);
    if (!shards) return 1;
    for (int s = 0; s < opt.shards; s++) shards[s].produced = (uint64_t)opt.records;
    gate_open = !opt.gate;
    t0_mono = mono_now();
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    t0_epoch_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    for (int s = 0; s < opt.shards; s++) shards[s].tokens_at = t0_mono;

    if (opt.leases_exist) {
        table_exists = 1;
        snprintf(table_name, sizeof table_name, "bench");
        for (int s = 0; s < opt.shards; s++) {
            kcl_ddb_item it = KCL_DDB_ITEM_INIT;
            char key[32];
            snprintf(key, sizeof key, "shardId-%012d", s);
            kcl_ddb_item_add_s(&it, "leaseKey", key);
            kcl_ddb_item_add_n_int64(&it, "leaseCounter", 0);
            kcl_ddb_item_add_s(&it, "checkpoint", "TRIM_HORIZON");
            kcl_ddb_item_add_n_int64(&it, "checkpointSubSequenceNumber", 0);
            kcl_ddb_item_add_n_int64(&it, "ownerSwitchesSinceCheckpoint", 0);
            add_item(&it);
        }
    }

    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)opt.port);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 512) != 0) {
        perror("canned_server: bind/listen");
        return 1;
    }
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    loop = ev_default_loop(0);
    ev_io lio;
    ev_io_init(&lio, on_accept, fd, EV_READ);
    ev_io_start(loop, &lio);
    ev_signal sint, sterm;
    ev_signal_init(&sint, on_signal, SIGINT);
    ev_signal_init(&sterm, on_signal, SIGTERM);
    ev_signal_start(loop, &sint);
    ev_signal_start(loop, &sterm);
    printf("PORT %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    ev_run(loop, 0);
    close(fd);
    for (size_t i = 0; i < nitems; i++) kcl_ddb_item_free(&items[i]);
    free(items);
    free(shards);
    canned_tmpl_free(&tmpl);
    return 0;
}
