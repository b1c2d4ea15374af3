/* json_bench — which C JSON library should luakcl read GetRecords with?
 *
 * Builds a GetRecords-shaped body of N records (payload P bytes, base64 in
 * "Data") and times, per library: parse + read every record's
 * SequenceNumber, ApproximateArrivalTimestamp (double), PartitionKey and
 * Data, base64-decode the Data (with the same decoder for everyone), read
 * NextShardIterator and MillisBehindLatest, free. Every library must produce
 * the same checksum, or the run fails. Also times base64 decoding alone:
 * ours against OpenSSL's EVP_DecodeBlock.
 *
 * Not part of the test suite: bench/json_bench.sh builds and runs it. */
#include "base64.h"
#include "json.h"

/* jansson and json-c export the same symbol names (json_object_get, ...), so
 * one executable cannot link both: built with -DBENCH_JSONC this file is the
 * json-c binary (json.c + json-c only), otherwise everything else. */
#ifdef BENCH_JSONC
#include <json-c/json.h>
#else
#include <cjson/cJSON.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <yajl/yajl_parse.h>
#include <yajl/yajl_tree.h>
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    uint64_t records, data_bytes, data_sum, key_bytes, seq_bytes, ts_sum, behind;
    size_t iter_len;
} sums;

static uint8_t *decoded;   /* scratch for base64 output */

static void take_record(sums *s, const char *seq, size_t seqlen, double ts, const char *pk, size_t pklen,
                        const char *data, size_t datalen)
{
    long n = kcl_base64_decode(data, datalen, decoded);
    if (n < 0) { fprintf(stderr, "bad base64\n"); exit(1); }
    s->records++;
    s->data_bytes += (uint64_t)n;
    s->data_sum += n > 0 ? decoded[0] + decoded[n - 1] : 0;
    s->seq_bytes += seqlen + (uint8_t)seq[seqlen - 1];
    s->key_bytes += pklen + (uint8_t)pk[pklen - 1];
    s->ts_sum += (uint64_t)(ts * 1000.0);
}

/* ---- ours: jsmn via json.c -------------------------------------------- */
static kcl_json doc;
static kcl_buf sbuf;

static const char *str_of(kcl_jv v, size_t *len)
{
    int esc;
    const char *p = kcl_json_raw(&doc, v, len, &esc);
    if (p && esc) {   /* not taken with this body, but that is the real path */
        if (kcl_json_str(&doc, v, &sbuf) != 0) return NULL;
        *len = sbuf.len;
        return sbuf.data;
    }
    return p;
}

static int run_ours(const char *body, size_t len, sums *s)
{
    kcl_error err;
    if (kcl_json_parse(&doc, body, len, 0, &err) != 0) return -1;
    kcl_jv root = kcl_json_root(&doc);
    kcl_jv recs = kcl_json_get(&doc, root, "Records");
    for (kcl_jv r = kcl_json_first(&doc, recs); r >= 0; r = kcl_json_next(&doc, r)) {
        size_t sl, pl, dl;
        const char *seq = str_of(kcl_json_get(&doc, r, "SequenceNumber"), &sl);
        const char *pk = str_of(kcl_json_get(&doc, r, "PartitionKey"), &pl);
        double ts = 0;
        kcl_json_double(&doc, kcl_json_get(&doc, r, "ApproximateArrivalTimestamp"), &ts);
        int esc;
        const char *data = kcl_json_raw(&doc, kcl_json_get(&doc, r, "Data"), &dl, &esc);
        if (!seq || !pk || !data || esc) return -1;
        take_record(s, seq, sl, ts, pk, pl, data, dl);
    }
    size_t il;
    if (!kcl_json_raw(&doc, kcl_json_get(&doc, root, "NextShardIterator"), &il, NULL)) return -1;
    s->iter_len = il;
    int64_t b;
    if (kcl_json_int64(&doc, kcl_json_get(&doc, root, "MillisBehindLatest"), &b) != 0) return -1;
    s->behind = (uint64_t)b;
    return 0;
}

#ifndef BENCH_JSONC
/* ---- yajl tree ---------------------------------------------------------- */
static yajl_val yobj(yajl_val o, const char *key)
{
    if (!YAJL_IS_OBJECT(o)) return NULL;
    for (size_t i = 0; i < o->u.object.len; i++)
        if (strcmp(o->u.object.keys[i], key) == 0) return o->u.object.values[i];
    return NULL;
}

static int run_yajl_tree(const char *body, size_t len, sums *s)
{
    char errbuf[128];
    (void)len;   /* yajl_tree_parse wants a NUL-terminated string */
    yajl_val root = yajl_tree_parse(body, errbuf, sizeof errbuf);
    if (!root) return -1;
    yajl_val recs = yobj(root, "Records");
    if (!YAJL_IS_ARRAY(recs)) { yajl_tree_free(root); return -1; }
    for (size_t i = 0; i < recs->u.array.len; i++) {
        yajl_val r = recs->u.array.values[i];
        const char *seq = YAJL_GET_STRING(yobj(r, "SequenceNumber"));
        const char *pk = YAJL_GET_STRING(yobj(r, "PartitionKey"));
        const char *data = YAJL_GET_STRING(yobj(r, "Data"));
        yajl_val t = yobj(r, "ApproximateArrivalTimestamp");
        if (!seq || !pk || !data || !YAJL_IS_NUMBER(t)) { yajl_tree_free(root); return -1; }
        take_record(s, seq, strlen(seq), YAJL_GET_DOUBLE(t), pk, strlen(pk), data, strlen(data));
    }
    const char *it = YAJL_GET_STRING(yobj(root, "NextShardIterator"));
    yajl_val b = yobj(root, "MillisBehindLatest");
    if (!it || !YAJL_IS_INTEGER(b)) { yajl_tree_free(root); return -1; }
    s->iter_len = strlen(it);
    s->behind = (uint64_t)YAJL_GET_INTEGER(b);
    yajl_tree_free(root);
    return 0;
}

/* ---- yajl callbacks (SAX) ---------------------------------------------- */
enum { K_NONE, K_SEQ, K_TS, K_PK, K_DATA, K_ITER, K_BEHIND };
typedef struct {
    sums *s;
    int depth, key;
    char seq[128], pk[300];
    size_t seql, pkl, datal;
    const char *data;
    char *datacopy;
    double ts;
} sax;

static int y_map_key(void *ctx, const unsigned char *k, size_t n)
{
    sax *x = ctx;
#define IS(lit) (n == sizeof(lit) - 1 && memcmp(k, lit, n) == 0)
    x->key = IS("SequenceNumber") ? K_SEQ : IS("ApproximateArrivalTimestamp") ? K_TS
           : IS("PartitionKey") ? K_PK : IS("Data") ? K_DATA : IS("NextShardIterator") ? K_ITER
           : IS("MillisBehindLatest") ? K_BEHIND : K_NONE;
#undef IS
    return 1;
}

static int y_string(void *ctx, const unsigned char *v, size_t n)
{
    sax *x = ctx;
    switch (x->key) {
    case K_SEQ: if (n >= sizeof x->seq) return 0; memcpy(x->seq, v, n); x->seql = n; break;
    case K_PK: if (n >= sizeof x->pk) return 0; memcpy(x->pk, v, n); x->pkl = n; break;
    case K_DATA: {
        /* The pointer is only valid during the callback: decode-later would
         * need a copy, so keep one (realistic: fields may come in any order). */
        x->datacopy = realloc(x->datacopy, n + 1);
        memcpy(x->datacopy, v, n);
        x->data = x->datacopy;
        x->datal = n;
        break;
    }
    case K_ITER: x->s->iter_len = n; break;
    default: break;
    }
    x->key = K_NONE;
    return 1;
}

static int y_double(void *ctx, double d)
{
    sax *x = ctx;
    if (x->key == K_TS) x->ts = d;
    x->key = K_NONE;
    return 1;
}

static int y_integer(void *ctx, long long v)
{
    sax *x = ctx;
    if (x->key == K_TS) x->ts = (double)v;
    if (x->key == K_BEHIND) x->s->behind = (uint64_t)v;
    x->key = K_NONE;
    return 1;
}

static int y_start_map(void *ctx) { sax *x = ctx; x->depth++; x->seql = x->pkl = x->datal = 0; x->data = NULL; return 1; }
static int y_end_map(void *ctx)
{
    sax *x = ctx;
    if (x->depth-- == 2) {   /* a record inside Records */
        if (!x->seql || !x->pkl || !x->data) return 0;
        take_record(x->s, x->seq, x->seql, x->ts, x->pk, x->pkl, x->data, x->datal);
    }
    return 1;
}

static const yajl_callbacks ycb = {
    .yajl_integer = y_integer, .yajl_double = y_double, .yajl_string = y_string,
    .yajl_start_map = y_start_map, .yajl_map_key = y_map_key, .yajl_end_map = y_end_map,
};

static int run_yajl_sax(const char *body, size_t len, sums *s)
{
    sax x = {.s = s};
    yajl_handle h = yajl_alloc(&ycb, NULL, &x);
    int ok = yajl_parse(h, (const unsigned char *)body, len) == yajl_status_ok &&
             yajl_complete_parse(h) == yajl_status_ok;
    yajl_free(h);
    free(x.datacopy);
    return ok ? 0 : -1;
}

/* ---- jansson ------------------------------------------------------------ */
static int run_jansson(const char *body, size_t len, sums *s)
{
    json_error_t e;
    json_t *root = json_loadb(body, len, 0, &e);
    if (!root) return -1;
    json_t *recs = json_object_get(root, "Records");
    size_t i;
    json_t *r;
    json_array_foreach(recs, i, r) {
        json_t *seq = json_object_get(r, "SequenceNumber"), *pk = json_object_get(r, "PartitionKey");
        json_t *data = json_object_get(r, "Data"), *ts = json_object_get(r, "ApproximateArrivalTimestamp");
        if (!json_is_string(seq) || !json_is_string(pk) || !json_is_string(data) || !json_is_number(ts)) {
            json_decref(root);
            return -1;
        }
        take_record(s, json_string_value(seq), json_string_length(seq), json_number_value(ts),
                    json_string_value(pk), json_string_length(pk), json_string_value(data), json_string_length(data));
    }
    json_t *it = json_object_get(root, "NextShardIterator"), *b = json_object_get(root, "MillisBehindLatest");
    if (!json_is_string(it) || !json_is_integer(b)) { json_decref(root); return -1; }
    s->iter_len = json_string_length(it);
    s->behind = (uint64_t)json_integer_value(b);
    json_decref(root);
    return 0;
}

#endif
#ifdef BENCH_JSONC
/* ---- json-c ------------------------------------------------------------- */
static int run_jsonc(const char *body, size_t len, sums *s)
{
    json_tokener *tok = json_tokener_new();
    struct json_object *root = json_tokener_parse_ex(tok, body, (int)len);
    json_tokener_free(tok);
    if (!root) return -1;
    struct json_object *recs, *v;
    if (!json_object_object_get_ex(root, "Records", &recs)) { json_object_put(root); return -1; }
    size_t n = json_object_array_length(recs);
    for (size_t i = 0; i < n; i++) {
        struct json_object *r = json_object_array_get_idx(recs, i), *seq, *pk, *data, *ts;
        if (!json_object_object_get_ex(r, "SequenceNumber", &seq) || !json_object_object_get_ex(r, "PartitionKey", &pk) ||
            !json_object_object_get_ex(r, "Data", &data) ||
            !json_object_object_get_ex(r, "ApproximateArrivalTimestamp", &ts)) {
            json_object_put(root);
            return -1;
        }
        take_record(s, json_object_get_string(seq), (size_t)json_object_get_string_len(seq), json_object_get_double(ts),
                    json_object_get_string(pk), (size_t)json_object_get_string_len(pk),
                    json_object_get_string(data), (size_t)json_object_get_string_len(data));
    }
    if (!json_object_object_get_ex(root, "NextShardIterator", &v)) { json_object_put(root); return -1; }
    s->iter_len = (size_t)json_object_get_string_len(v);
    if (!json_object_object_get_ex(root, "MillisBehindLatest", &v)) { json_object_put(root); return -1; }
    s->behind = (uint64_t)json_object_get_int64(v);
    json_object_put(root);
    return 0;
}

#else
/* ---- cJSON -------------------------------------------------------------- */
static int run_cjson(const char *body, size_t len, sums *s)
{
    cJSON *root = cJSON_ParseWithLength(body, len);
    if (!root) return -1;
    cJSON *recs = cJSON_GetObjectItemCaseSensitive(root, "Records"), *r;
    cJSON_ArrayForEach(r, recs) {
        cJSON *seq = cJSON_GetObjectItemCaseSensitive(r, "SequenceNumber");
        cJSON *pk = cJSON_GetObjectItemCaseSensitive(r, "PartitionKey");
        cJSON *data = cJSON_GetObjectItemCaseSensitive(r, "Data");
        cJSON *ts = cJSON_GetObjectItemCaseSensitive(r, "ApproximateArrivalTimestamp");
        if (!cJSON_IsString(seq) || !cJSON_IsString(pk) || !cJSON_IsString(data) || !cJSON_IsNumber(ts)) {
            cJSON_Delete(root);
            return -1;
        }
        take_record(s, seq->valuestring, strlen(seq->valuestring), ts->valuedouble, pk->valuestring,
                    strlen(pk->valuestring), data->valuestring, strlen(data->valuestring));
    }
    cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "NextShardIterator");
    cJSON *b = cJSON_GetObjectItemCaseSensitive(root, "MillisBehindLatest");
    if (!cJSON_IsString(it) || !cJSON_IsNumber(b)) { cJSON_Delete(root); return -1; }
    s->iter_len = strlen(it->valuestring);
    s->behind = (uint64_t)b->valuedouble;
    cJSON_Delete(root);
    return 0;
}

#endif

/* ---- harness ------------------------------------------------------------ */
/* CPU time of this thread, not wall time: on a shared machine, time spent
 * descheduled by other processes' load is not counted. */
static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static char *make_body(int nrec, size_t payload, size_t *len)
{
    kcl_buf b = KCL_BUF_INIT;
    uint8_t *raw = malloc(payload);
    char *enc = malloc(kcl_base64_encoded_len(payload) + 1);
    uint32_t seed = 12345;
    kcl_buf_append_str(&b, "{\"Records\":[");
    for (int i = 0; i < nrec; i++) {
        for (size_t k = 0; k < payload; k++) { seed = seed * 1103515245u + 12345u; raw[k] = (uint8_t)(seed >> 16); }
        enc[kcl_base64_encode(raw, payload, enc)] = 0;
        kcl_buf_printf(&b, "%s{\"SequenceNumber\":\"4959033827149025660855969253836157109592157598913658%04d\","
                           "\"ApproximateArrivalTimestamp\":%.3f,\"Data\":\"%s\",\"PartitionKey\":\"pk-%d\"}",
                       i ? "," : "", i % 10000, 1.7e9 + i * 0.001, enc, i % 1000);
    }
    kcl_buf_append_str(&b, "],\"NextShardIterator\":\"AAAAAAAAAAGK9EEG0sJqVeCAyQ+e/1Kv8sl3+v4PtLdhxGsSmXvAnI2Mqj6D5lEnUgw0T"
                           "kzqVT6tB8ht4F9ftH5Zxsf1Q4aOc4GVl9WA4dVQdtLJQXQDCJqKMPSqxZ4bGh3VqvkZQ2rJ+5kkLZhfbjCiUIVsMs5g=\","
                           "\"MillisBehindLatest\":0}");
    free(raw);
    free(enc);
    *len = b.len;
    return kcl_buf_steal(&b);
}

typedef int (*runner)(const char *, size_t, sums *);
static const struct { const char *name; runner fn; } LIBS[] = {
    {"luakcl json.c (jsmn 1.1.0)", run_ours},
#ifdef BENCH_JSONC
    {"json-c 0.16", run_jsonc},
#else
    {"yajl 2.1.0 tree", run_yajl_tree},
    {"yajl 2.1.0 callbacks", run_yajl_sax},
    {"jansson 2.14", run_jansson},
    {"cJSON 1.7.15", run_cjson},
#endif
};
#define NLIBS (sizeof LIBS / sizeof LIBS[0])

static int RUNS = 11;

/* Sorts t; the minimum is then t[0]. */
static double median_of(double *t, int n)
{
    qsort(t, (size_t)n, sizeof *t, cmp_d);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static void bench_json(int nrec, size_t payload)
{
    size_t len;
    char *body = make_body(nrec, payload, &len);
    /* Runs are interleaved (run 1 of every library, then run 2, ...) so
     * that load from other processes spreads over all libraries alike. */
    double t[NLIBS][64], med[NLIBS], best[NLIBS];
    sums ref = {0};
    for (int run = -1; run < RUNS; run++) {   /* run -1 warms up */
        for (size_t l = 0; l < NLIBS; l++) {
            sums s = {0};
            double t0 = now_ns();
            int rc = LIBS[l].fn(body, len, &s);
            double t1 = now_ns();
            if (rc != 0) { fprintf(stderr, "%s: parse failed\n", LIBS[l].name); exit(1); }
            if (l == 0 && run == -1) ref = s;
            if (memcmp(&s, &ref, sizeof s) != 0 || s.records != (uint64_t)nrec) {
                fprintf(stderr, "%s: checksum differs from json.c's\n", LIBS[l].name);
                exit(1);
            }
            if (run >= 0) t[l][run] = t1 - t0;
        }
    }
    for (size_t l = 0; l < NLIBS; l++) {
        med[l] = median_of(t[l], RUNS);
        best[l] = t[l][0];
    }
    for (size_t l = 0; l < NLIBS; l++)
        printf("JSON\t%zu\t%d\t%zu\t%s\t%.0f\t%.0f\n", payload, nrec, len, LIBS[l].name, med[l], best[l]);
    free(body);
}

#ifndef BENCH_JSONC
/* Base64 alone: the Data strings of a body, decoded with each decoder. */
static long evp_decode(const char *in, size_t n, uint8_t *out)
{
    /* EVP_DecodeBlock counts padding as output bytes and tolerates
     * surrounding whitespace: strict callers must check the length and
     * subtract the padding themselves. */
    if (n % 4) return -1;
    int r = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
    if (r < 0) return -1;
    if (n && in[n - 1] == '=') r--;
    if (n > 1 && in[n - 2] == '=') r--;
    return r;
}

static void bench_base64(int nrec, size_t payload)
{
    size_t enclen = kcl_base64_encoded_len(payload);
    char *enc = malloc((size_t)nrec * enclen);
    uint8_t *raw = malloc(payload);
    uint32_t seed = 99;
    for (int i = 0; i < nrec; i++) {
        for (size_t k = 0; k < payload; k++) { seed = seed * 1103515245u + 12345u; raw[k] = (uint8_t)(seed >> 16); }
        kcl_base64_encode(raw, payload, enc + (size_t)i * enclen);
    }
    struct { const char *name; long (*fn)(const char *, size_t, uint8_t *); } D[] = {
        {"kcl_base64_decode", kcl_base64_decode}, {"OpenSSL EVP_DecodeBlock", evp_decode},
    };
    double t[2][64], med[2], best[2];
    for (int run = -1; run < RUNS; run++) {
        for (int d = 0; d < 2; d++) {
            double t0 = now_ns();
            uint64_t total = 0;
            for (int i = 0; i < nrec; i++) {
                long n = D[d].fn(enc + (size_t)i * enclen, enclen, decoded);
                if (n != (long)payload) { fprintf(stderr, "%s: wrong length\n", D[d].name); exit(1); }
                total += decoded[0] + decoded[n - 1];
            }
            double t1 = now_ns();
            if (run >= 0) t[d][run] = t1 - t0;
            if (total == 1) putchar(' ');   /* keep the work */
        }
    }
    for (int d = 0; d < 2; d++) {
        med[d] = median_of(t[d], RUNS);
        best[d] = t[d][0];
    }
    for (int d = 0; d < 2; d++)
        printf("B64\t%zu\t%d\t%zu\t%s\t%.0f\t%.0f\n", payload, nrec, (size_t)nrec * enclen, D[d].name, med[d], best[d]);
    free(enc);
    free(raw);
}
#endif

int main(int argc, char **argv)
{
    int nrec = 10000;
    if (argc > 1) RUNS = atoi(argv[1]);
    if (RUNS < 7 || RUNS > 64) RUNS = 11;
    decoded = malloc(4096);
    /* Output: one tab-separated line per measurement (median ns); the script
     * turns them into tables. A checksum mismatch exits non-zero. */
    printf("RUNS\t%d\n", RUNS);
    bench_json(nrec, 100);
    bench_json(nrec, 1024);
#ifndef BENCH_JSONC
    bench_base64(nrec, 100);
    bench_base64(nrec, 1024);
#endif
    kcl_json_free(&doc);
    kcl_buf_free(&sbuf);
    free(decoded);
    return 0;
}
