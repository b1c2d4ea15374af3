/* test_deagg — KPL de-aggregation (deagg), hash-key math (hashkey) and the
 * aggregator (agg).
 *
 * Golden vectors in tests/unit/kpl_vectors/ come from an independent
 * implementation (aws-kinesis-agg, via tests/harness/make_kpl_vectors.js):
 * every vector must decode to exactly the records given to that encoder, and
 * our aggregator, fed the same records, must produce the same bytes.
 * Hand-built protobufs cover what that encoder never writes (tags, unknown
 * fields, tables after records) and malformed input. MD5 reference values
 * were computed with Python's hashlib. The suite runs twice in one process to
 * catch leaked state. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#define JSMN_STATIC
#include <jsmn.h>

#include "agg.h"
#include "buf.h"
#include "deagg.h"
#include "hashkey.h"

/* ---- small helpers ------------------------------------------------------ */

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) { free(p); p = NULL; }
    fclose(f);
    if (p) { p[n] = 0; *len = (size_t)n; }
    return p;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard base64 with padding; returns malloc'd bytes (never NULL on success). */
static uint8_t *b64dec(const char *s, size_t n, size_t *out_len)
{
    uint8_t *o = malloc(n / 4 * 3 + 1);
    size_t k = 0;
    unsigned acc = 0, bits = 0;
    for (size_t i = 0; i < n && s[i] != '='; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) { free(o); return NULL; }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) { bits -= 8; o[k++] = (uint8_t)(acc >> bits); }
    }
    *out_len = k;
    return o;
}

/* Index after the subtree rooted at token i (jsmn: an object's children are
 * its keys, and each key's one child is its value). */
static int tok_skip(const jsmntok_t *t, int i)
{
    int n = t[i].size, j = i + 1;
    while (n-- > 0) j = tok_skip(t, j);
    return j;
}

static int tok_is(const char *js, const jsmntok_t *t, const char *s)
{
    return t->type == JSMN_STRING && (size_t)(t->end - t->start) == strlen(s) &&
           memcmp(js + t->start, s, strlen(s)) == 0;
}

typedef struct {
    char *pk, *ehk;      /* NUL-terminated copies; ehk NULL when none */
    uint8_t *data;
    size_t len;
} expect_rec;

static char *tok_dup(const char *js, const jsmntok_t *t)
{
    size_t n = (size_t)(t->end - t->start);
    char *s = malloc(n + 1);
    memcpy(s, js + t->start, n);
    s[n] = 0;
    return s;
}

/* Parse NAME.json into an array of expected records; returns the count or -1. */
static int load_expected(const char *path, expect_rec **out)
{
    size_t len;
    char *js = (char *)read_file(path, &len);
    if (!js) return -1;
    jsmn_parser p;
    jsmn_init(&p);
    int ntok = jsmn_parse(&p, js, len, NULL, 0);
    jsmntok_t *t = calloc(ntok > 0 ? (size_t)ntok : 1, sizeof *t);
    jsmn_init(&p);
    int rc = -1;
    *out = NULL;
    if (ntok <= 0 || jsmn_parse(&p, js, len, t, (unsigned)ntok) != ntok || t[0].type != JSMN_OBJECT) goto done;
    for (int i = 1, k = 0; k < t[0].size; k++) {
        int v = i + 1;
        if (tok_is(js, &t[i], "records") && t[v].type == JSMN_ARRAY) {
            int n = t[v].size;
            expect_rec *e = calloc(n ? (size_t)n : 1, sizeof *e);
            int j = v + 1;
            for (int r = 0; r < n; r++) {
                int m = t[j].size, f = j + 1;
                for (int q = 0; q < m; q++, f += 2) {
                    const jsmntok_t *kv = &t[f + 1];
                    /* The generator avoids characters JSON escapes in keys. */
                    if (memchr(js + kv->start, '\\', (size_t)(kv->end - kv->start))) goto done;
                    if (tok_is(js, &t[f], "partition_key")) e[r].pk = tok_dup(js, kv);
                    else if (tok_is(js, &t[f], "explicit_hash_key") && kv->type == JSMN_STRING) e[r].ehk = tok_dup(js, kv);
                    else if (tok_is(js, &t[f], "data")) e[r].data = b64dec(js + kv->start, (size_t)(kv->end - kv->start), &e[r].len);
                }
                j = tok_skip(t, j);
            }
            *out = e;
            rc = n;
        }
        i = tok_skip(t, v);
    }
done:
    free(t);
    free(js);
    return rc;
}

static void free_expected(expect_rec *e, int n)
{
    for (int i = 0; i < n; i++) { free(e[i].pk); free(e[i].ehk); free(e[i].data); }
    free(e);
}

/* Protobuf builder for hand-made aggregates. */
static void pb_varint(kcl_buf *b, uint64_t v)
{
    while (v >= 0x80) { kcl_buf_append_char(b, (char)(v | 0x80)); v >>= 7; }
    kcl_buf_append_char(b, (char)v);
}
static void pb_len(kcl_buf *b, unsigned field, const void *p, size_t n)
{
    pb_varint(b, field << 3 | 2);
    pb_varint(b, n);
    kcl_buf_append(b, p, n);
}
static void pb_uint(kcl_buf *b, unsigned field, uint64_t v)
{
    pb_varint(b, field << 3);
    pb_varint(b, v);
}

/* magic | pb | MD5(pb) into out (reset first). */
static void wrap(const kcl_buf *pb, kcl_buf *out)
{
    uint8_t d[16];
    kcl_buf_reset(out);
    kcl_buf_append(out, KCL_DEAGG_MAGIC, KCL_DEAGG_MAGIC_LEN);
    kcl_buf_append(out, pb->data, pb->len);
    kcl_hashkey_md5(pb->data, pb->len, d);
    kcl_buf_append(out, d, 16);
}

static int parse_buf(const kcl_buf *b) { return kcl_deagg_parse((const uint8_t *)b->data, b->len, NULL, NULL); }

static void key_from_dec(const char *dec, uint8_t out[16])
{
    int rc = kcl_hashkey_parse(dec, strlen(dec), out);
    CHECK_MSG(rc == 0, "parse %s", dec);
}

/* ---- golden vectors ------------------------------------------------------ */

static const char *const VECTORS[] = {
    "one", "three_keys", "repeated_pk_500", "explicit_hash_keys", "binary_data", "empty_data", "large_900k",
};

typedef struct {
    uint64_t next;
    int bad;
} seq_ctx;

static int seq_cb(const kcl_user_record *r, void *ud)
{
    seq_ctx *c = ud;
    if (r->sub_sequence_number != c->next) c->bad++;
    c->next++;
    return 0;
}

static void test_vector(const char *dir, const char *name)
{
    char path[1024];
    size_t len;
    snprintf(path, sizeof path, "%s/%s.bin", dir, name);
    uint8_t *bin = read_file(path, &len);
    CHECK_MSG(bin != NULL, "read %s", path);
    expect_rec *exp;
    snprintf(path, sizeof path, "%s/%s.json", dir, name);
    int nexp = load_expected(path, &exp);
    CHECK_MSG(nexp > 0, "load %s", path);
    if (!bin || nexp <= 0) { free(bin); return; }

    CHECK(kcl_deagg_is_aggregated(bin, len));
    kcl_user_record *recs;
    int n = kcl_deagg_decode(bin, len, &recs);
    CHECK_MSG(n == nexp, "%s: decoded %d records, expected %d", name, n, nexp);
    for (int i = 0; i < n && i < nexp; i++) {
        const kcl_user_record *r = &recs[i];
        CHECK_MSG(r->sub_sequence_number == (uint64_t)i, "%s[%d] subseq", name, i);
        CHECK_MSG(r->pk_len == strlen(exp[i].pk) && memcmp(r->partition_key, exp[i].pk, r->pk_len) == 0,
                  "%s[%d] partition key %.*s != %s", name, i, (int)r->pk_len, r->partition_key, exp[i].pk);
        if (exp[i].ehk)
            CHECK_MSG(r->explicit_hash_key && r->ehk_len == strlen(exp[i].ehk) &&
                      memcmp(r->explicit_hash_key, exp[i].ehk, r->ehk_len) == 0, "%s[%d] ehk", name, i);
        else
            CHECK_MSG(r->explicit_hash_key == NULL && r->ehk_len == 0, "%s[%d] has an ehk it should not", name, i);
        CHECK_MSG(r->len == exp[i].len && (r->len == 0 || memcmp(r->data, exp[i].data, r->len) == 0),
                  "%s[%d] data (%zu vs %zu bytes)", name, i, r->len, exp[i].len);
        /* Zero-copy: everything points into the input. */
        CHECK(r->data >= bin && r->data + r->len <= bin + len);
        CHECK((const uint8_t *)r->partition_key >= bin && (const uint8_t *)r->partition_key + r->pk_len <= bin + len);
        /* The hash key is the ehk when present, else MD5(pk). */
        uint8_t hk[16], want[16];
        CHECK(kcl_deagg_hash_key(r, hk) == 0);
        if (exp[i].ehk) kcl_hashkey_parse(exp[i].ehk, strlen(exp[i].ehk), want);
        else kcl_hashkey_of_partition_key(exp[i].pk, strlen(exp[i].pk), want);
        CHECK(memcmp(hk, want, 16) == 0);
        CHECK_EQ_INT(kcl_deagg_in_range(r, hk, hk), 1);
    }
    free(recs);

    seq_ctx sc = {0, 0};
    CHECK_EQ_INT(kcl_deagg_parse(bin, len, seq_cb, &sc), nexp);
    CHECK_EQ_INT(sc.bad, 0);
    CHECK_EQ_INT(sc.next, nexp);

    /* Any bit flipped in the protobuf or the checksum: not an aggregate. */
    size_t flips[] = {4, len / 2, len - 17, len - 1};
    for (size_t k = 0; k < sizeof flips / sizeof flips[0]; k++) {
        bin[flips[k]] ^= 0x10;
        CHECK_MSG(kcl_deagg_parse(bin, len, NULL, NULL) == -1, "%s: flip at %zu accepted", name, flips[k]);
        bin[flips[k]] ^= 0x10;
    }
    /* Every truncation of a small vector: -1 (the checksum no longer matches).
     * Re-checksummed truncations must be rejected or yield fewer records. */
    if (len < 2000) {
        kcl_buf pb = KCL_BUF_INIT, w = KCL_BUF_INIT;
        for (size_t cut = 0; cut < len; cut++) {
            CHECK_MSG(kcl_deagg_parse(bin, cut, NULL, NULL) == -1, "%s: truncated at %zu accepted", name, cut);
            if (cut >= 4 && cut <= len - 16) {
                kcl_buf_reset(&pb);
                kcl_buf_append(&pb, bin + 4, cut - 4);
                wrap(&pb, &w);
                int m = parse_buf(&w);
                CHECK_MSG(m == -1 || (m >= 0 && m <= nexp), "%s: re-checksummed cut %zu gave %d", name, cut, m);
                if (cut == len - 16) CHECK_EQ_INT(m, nexp);
            }
        }
        kcl_buf_free(&pb);
        kcl_buf_free(&w);
    }

    /* Our aggregator, fed the same records, writes the same bytes. */
    kcl_agg *a = kcl_agg_new(0);
    kcl_error err;
    for (int i = 0; i < nexp; i++) {
        int rc = kcl_agg_add(a, exp[i].pk, strlen(exp[i].pk), exp[i].ehk, exp[i].ehk ? strlen(exp[i].ehk) : 0,
                             exp[i].data, exp[i].len, &err);
        CHECK_MSG(rc == 0, "%s: agg add %d: %s", name, i, err.message);
    }
    CHECK_EQ_INT(kcl_agg_count(a), nexp);
    CHECK_EQ_INT(kcl_agg_size(a), len);
    kcl_buf out = KCL_BUF_INIT;
    CHECK(kcl_agg_finish(a, &out, &err) == 0);
    CHECK_MSG(out.len == len && memcmp(out.data, bin, len) == 0, "%s: our aggregate differs from aws-kinesis-agg's", name);
    size_t pkl;
    const char *pk = kcl_agg_partition_key(a, &pkl);
    CHECK(pk && pkl == strlen(exp[0].pk) && memcmp(pk, exp[0].pk, pkl) == 0);
    kcl_buf_free(&out);
    kcl_agg_free(a);

    free_expected(exp, nexp);
    free(bin);
}

/* ---- hand-built and malformed aggregates ------------------------------- */

static int count_cb(const kcl_user_record *r, void *ud)
{
    (void)r;
    (*(int *)ud)++;
    return 0;
}

static int stop_cb(const kcl_user_record *r, void *ud)
{
    (void)r;
    return ++(*(int *)ud) == 2;
}

static void test_hand_built(void)
{
    kcl_buf pb = KCL_BUF_INIT, rec = KCL_BUF_INIT, tag = KCL_BUF_INIT, w = KCL_BUF_INIT;

    /* Not aggregates. */
    CHECK_EQ_INT(kcl_deagg_is_aggregated((const uint8_t *)"hello", 5), 0);
    CHECK_EQ_INT(kcl_deagg_is_aggregated((const uint8_t *)KCL_DEAGG_MAGIC, 4), 0);
    CHECK_EQ_INT(kcl_deagg_is_aggregated(NULL, 0), 0);
    CHECK_EQ_INT(kcl_deagg_parse((const uint8_t *)"{\"json\":true, \"padding\":\"xxxxxx\"}", 33, NULL, NULL), -1);
    uint8_t nineteen[19] = {0xF3, 0x89, 0x9A, 0xC2};
    CHECK_EQ_INT(kcl_deagg_is_aggregated(nineteen, 19), 0);
    CHECK_EQ_INT(kcl_deagg_parse(nineteen, 19, NULL, NULL), -1);

    /* An empty protobuf: a valid aggregate of 0 records. */
    wrap(&pb, &w);
    CHECK_EQ_INT(w.len, 20);
    CHECK_EQ_INT(kcl_deagg_is_aggregated((const uint8_t *)w.data, w.len), 1);
    CHECK_EQ_INT(parse_buf(&w), 0);
    kcl_user_record *arr = (kcl_user_record *)&w;
    CHECK_EQ_INT(kcl_deagg_decode((const uint8_t *)w.data, w.len, &arr), 0);
    CHECK(arr == NULL);

    /* Records before tables, tags, unknown fields of every wire type. */
    kcl_buf_reset(&rec);
    pb_uint(&rec, 9, 77);                              /* unknown varint */
    pb_len(&rec, 3, "first", 5);
    pb_uint(&rec, 1, 1);
    pb_len(&tag, 1, "k", 1);
    pb_len(&tag, 2, "v", 1);
    pb_len(&rec, 4, tag.data, tag.len);
    kcl_buf_append(&rec, "\x2d\x01\x02\x03\x04", 5);  /* field 5, fixed32 */
    kcl_buf_append(&rec, "\x31\x01\x02\x03\x04\x05\x06\x07\x08", 9);  /* field 6, fixed64 */
    pb_len(&pb, 3, rec.data, rec.len);
    kcl_buf_reset(&rec);
    pb_uint(&rec, 1, 0);
    pb_uint(&rec, 2, 0);
    pb_uint(&rec, 1, 0);                               /* repeated scalar: last wins */
    pb_len(&rec, 3, "", 0);
    pb_len(&pb, 3, rec.data, rec.len);
    pb_len(&pb, 1, "pk0", 3);
    pb_len(&pb, 15, "unknown", 7);
    pb_len(&pb, 1, "pk1", 3);
    pb_len(&pb, 2, "42", 2);
    pb_uint(&pb, 1, 5);                                /* field 1 with the wrong wire type: skipped */
    wrap(&pb, &w);
    kcl_user_record *r = NULL;
    CHECK_EQ_INT(kcl_deagg_decode((const uint8_t *)w.data, w.len, &r), 2);
    if (r) {
        CHECK(r[0].len == 5 && memcmp(r[0].data, "first", 5) == 0);
        CHECK(r[0].pk_len == 3 && memcmp(r[0].partition_key, "pk1", 3) == 0);
        CHECK(r[0].explicit_hash_key == NULL);
        CHECK(r[1].len == 0 && r[1].pk_len == 3 && memcmp(r[1].partition_key, "pk0", 3) == 0);
        CHECK(r[1].ehk_len == 2 && memcmp(r[1].explicit_hash_key, "42", 2) == 0);
        CHECK_EQ_INT(r[1].sub_sequence_number, 1);
        uint8_t lo[16] = {0}, hi[16] = {0}, k42[16];
        key_from_dec("42", k42);
        key_from_dec("41", lo);
        key_from_dec("42", hi);
        CHECK_EQ_INT(kcl_deagg_in_range(&r[1], lo, hi), 1);
        CHECK_EQ_INT(kcl_deagg_in_range(&r[1], k42, k42), 1);
        key_from_dec("43", lo);
        key_from_dec("100", hi);
        CHECK_EQ_INT(kcl_deagg_in_range(&r[1], lo, hi), 0);
        key_from_dec("0", lo);
        key_from_dec("41", hi);
        CHECK_EQ_INT(kcl_deagg_in_range(&r[1], lo, hi), 0);
    }
    free(r);

    /* The callback can stop the walk. */
    int calls = 0;
    CHECK_EQ_INT(kcl_deagg_parse((const uint8_t *)w.data, w.len, stop_cb, &calls), -2);
    CHECK_EQ_INT(calls, 2);

    /* Malformed variants: each must give -1 and call nothing back. Each case
     * is "table entries + one good record + the bad record". */
    struct { const char *name; const char *bytes; size_t n; } bad[] = {
        {"pk index out of range",  "\x08\x02\x1a\x00", 4},
        {"ehk index out of range", "\x08\x00\x10\x01\x1a\x00", 6},
        {"missing data",           "\x08\x00", 2},
        {"missing pk index",       "\x1a\x01x", 3},
        {"data past end",          "\x08\x00\x1a\x05x", 5},
        {"tag without key",        "\x08\x00\x1a\x00\x22\x03\x12\x01v", 9},
        {"group wire type",        "\x08\x00\x1a\x00\x0b", 5},
        {"wire type 7",            "\x08\x00\x1a\x00\x0f", 5},
        {"field number 0",         "\x08\x00\x1a\x00\x02\x00", 6},
        {"varint 11 bytes",        "\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00\x1a\x00", 14},
        {"varint > 2^64-1",        "\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02\x1a\x00", 13},
        {"huge pk index",          "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x1a\x00", 13},
        {"truncated fixed64",      "\x08\x00\x1a\x00\x31\x01\x02", 7},
        {"truncated fixed32",      "\x08\x00\x1a\x00\x2d\x01", 6},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kcl_buf_reset(&pb);
        pb_len(&pb, 1, "pk0", 3);
        pb_len(&pb, 3, "\x08\x00\x1a\x01g", 5);
        pb_len(&pb, 3, bad[i].bytes, bad[i].n);
        wrap(&pb, &w);
        calls = 0;
        CHECK_MSG(kcl_deagg_parse((const uint8_t *)w.data, w.len, count_cb, &calls) == -1, "%s accepted", bad[i].name);
        CHECK_MSG(calls == 0, "%s: %d records called back before the error", bad[i].name, calls);
        r = (kcl_user_record *)&w;
        CHECK(kcl_deagg_decode((const uint8_t *)w.data, w.len, &r) == -1 && r == NULL);
    }
    /* Top-level damage: a table entry whose length runs past the end, a huge length. */
    kcl_buf_reset(&pb);
    kcl_buf_append(&pb, "\x0a\x05pk", 4);
    wrap(&pb, &w);
    CHECK_EQ_INT(parse_buf(&w), -1);
    kcl_buf_reset(&pb);
    kcl_buf_append(&pb, "\x1a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10);
    wrap(&pb, &w);
    CHECK_EQ_INT(parse_buf(&w), -1);
    /* A record with an ehk into an empty ehk table. */
    kcl_buf_reset(&pb);
    pb_len(&pb, 1, "pk0", 3);
    pb_len(&pb, 3, "\x08\x00\x10\x00\x1a\x00", 6);
    wrap(&pb, &w);
    CHECK_EQ_INT(parse_buf(&w), -1);
    /* A record whose ehk is not a decimal: decodes, but its hash key is invalid. */
    kcl_buf_reset(&pb);
    pb_len(&pb, 1, "pk0", 3);
    pb_len(&pb, 2, "12x", 3);
    pb_len(&pb, 3, "\x08\x00\x10\x00\x1a\x00", 6);
    wrap(&pb, &w);
    CHECK_EQ_INT(kcl_deagg_decode((const uint8_t *)w.data, w.len, &r), 1);
    uint8_t zero[16] = {0}, ones[16];
    memset(ones, 0xff, 16);
    if (r) CHECK_EQ_INT(kcl_deagg_in_range(&r[0], zero, ones), -1);
    free(r);
    /* Many distinct keys: the table index goes to the heap. */
    kcl_buf_reset(&pb);
    for (int i = 0; i < 300; i++) {
        char k[16];
        int kn = snprintf(k, sizeof k, "k%d", i);
        pb_len(&pb, 1, k, (size_t)kn);
    }
    for (int i = 0; i < 300; i++) {
        kcl_buf_reset(&rec);
        pb_uint(&rec, 1, (uint64_t)(299 - i));
        pb_len(&rec, 3, "d", 1);
        pb_len(&pb, 3, rec.data, rec.len);
    }
    wrap(&pb, &w);
    CHECK_EQ_INT(kcl_deagg_decode((const uint8_t *)w.data, w.len, &r), 300);
    if (r) CHECK(r[0].pk_len == 4 && memcmp(r[0].partition_key, "k299", 4) == 0 &&
                 r[299].pk_len == 2 && memcmp(r[299].partition_key, "k0", 2) == 0);
    free(r);

    kcl_buf_free(&pb);
    kcl_buf_free(&rec);
    kcl_buf_free(&tag);
    kcl_buf_free(&w);
}

/* ---- hash keys ----------------------------------------------------------- */

static void check_md5_dec(const char *pk, size_t n, const char *dec)
{
    uint8_t k[16], want[16];
    char s[KCL_HASHKEY_DEC_MAX];
    CHECK(kcl_hashkey_of_partition_key(pk, n, k) == 0);
    key_from_dec(dec, want);
    CHECK(kcl_hashkey_cmp(k, want) == 0);
    kcl_hashkey_format(k, s);
    CHECK_EQ_STR(s, dec);
}

static void test_hashkey(void)
{
    uint8_t k[16], a[16], b[16];
    char s[KCL_HASHKEY_DEC_MAX];
    const char *max = "340282366920938463463374607431768211455";

    CHECK_EQ_INT(kcl_hashkey_parse(max, strlen(max), k), 0);
    for (int i = 0; i < 16; i++) CHECK(k[i] == 0xff);
    CHECK_EQ_INT(kcl_hashkey_format(k, s), 39);
    CHECK_EQ_STR(s, max);
    CHECK_EQ_INT(kcl_hashkey_parse("340282366920938463463374607431768211456", 39, k), -1);
    CHECK_EQ_INT(kcl_hashkey_parse("999999999999999999999999999999999999999", 39, k), -1);
    CHECK_EQ_INT(kcl_hashkey_parse("1000000000000000000000000000000000000000", 40, k), -1);
    CHECK_EQ_INT(kcl_hashkey_parse("", 0, k), -1);
    CHECK_EQ_INT(kcl_hashkey_parse(NULL, 0, k), -1);
    CHECK_EQ_INT(kcl_hashkey_parse("12a", 3, k), -1);
    CHECK_EQ_INT(kcl_hashkey_parse("-1", 2, k), -1);
    CHECK_EQ_INT(kcl_hashkey_parse(" 1", 2, k), -1);
    CHECK_EQ_INT(kcl_hashkey_parse("0000000000000000000000000000000000000000000000001", 49, k), 0);
    kcl_hashkey_format(k, s);
    CHECK_EQ_STR(s, "1");
    CHECK_EQ_INT(kcl_hashkey_parse("12345", 3, k), 0);   /* length, not NUL, ends it */
    kcl_hashkey_format(k, s);
    CHECK_EQ_STR(s, "123");
    CHECK_EQ_INT(kcl_hashkey_parse("0", 1, k), 0);
    kcl_hashkey_format(k, s);
    CHECK_EQ_STR(s, "0");
    key_from_dec("170141183460469231731687303715884105728", k);   /* 2^127 */
    CHECK(k[0] == 0x80);
    for (int i = 1; i < 16; i++) CHECK(k[i] == 0);
    key_from_dec("18446744073709551616", k);                      /* 2^64 */
    CHECK(k[7] == 1 && k[8] == 0 && k[15] == 0);

    /* MD5 of partition keys as big-endian integers (hashlib reference values). */
    check_md5_dec("", 0, "281949768489412648962353822266799178366");
    check_md5_dec("a", 1, "16955237001963240173058271559858726497");
    check_md5_dec("partition-key-1", 15, "33365116028791453877729010807000998774");
    check_md5_dec("b\xc3\xa9ta-\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87", 14, "42495661696839151970557380087646602976");

    /* Compare and ranges at the boundaries. */
    key_from_dec("170141183460469231731687303715884105727", a);   /* 2^127-1 */
    key_from_dec("170141183460469231731687303715884105728", b);   /* 2^127 */
    CHECK(kcl_hashkey_cmp(a, b) < 0);
    CHECK(kcl_hashkey_cmp(b, a) > 0);
    CHECK(kcl_hashkey_cmp(a, a) == 0);
    uint8_t zero[16] = {0}, ones[16];
    memset(ones, 0xff, 16);
    CHECK_EQ_INT(kcl_hashkey_in_range(a, zero, a), 1);     /* end is inclusive */
    CHECK_EQ_INT(kcl_hashkey_in_range(b, zero, a), 0);     /* end + 1 */
    CHECK_EQ_INT(kcl_hashkey_in_range(b, b, ones), 1);     /* start is inclusive */
    CHECK_EQ_INT(kcl_hashkey_in_range(a, b, ones), 0);     /* start - 1 */
    CHECK_EQ_INT(kcl_hashkey_in_range(zero, zero, ones), 1);
    CHECK_EQ_INT(kcl_hashkey_in_range(ones, zero, ones), 1);
    CHECK_EQ_INT(kcl_hashkey_in_range(zero, ones, ones), 0);

    /* A partition-key record routes by MD5(pk): "a" is in [0, 2^127-1]. */
    kcl_user_record r = {.partition_key = "a", .pk_len = 1};
    CHECK_EQ_INT(kcl_deagg_in_range(&r, zero, a), 1);
    CHECK_EQ_INT(kcl_deagg_in_range(&r, b, ones), 0);
    key_from_dec("16955237001963240173058271559858726497", a);
    CHECK_EQ_INT(kcl_deagg_in_range(&r, a, a), 1);
    key_from_dec("16955237001963240173058271559858726498", a);
    CHECK_EQ_INT(kcl_deagg_in_range(&r, a, ones), 0);
    /* An explicit hash key overrides the partition key. */
    r.explicit_hash_key = "340282366920938463463374607431768211455";
    r.ehk_len = 39;
    CHECK_EQ_INT(kcl_deagg_in_range(&r, ones, ones), 1);
    CHECK_EQ_INT(kcl_deagg_in_range(&r, zero, b), 0);
}

/* ---- aggregator ---------------------------------------------------------- */

static void test_aggregator(void)
{
    kcl_error err;
    kcl_buf out = KCL_BUF_INIT;
    kcl_agg *a = kcl_agg_new(0);
    size_t n;
    CHECK_EQ_INT(kcl_agg_size(a), 20);
    CHECK(kcl_agg_partition_key(a, &n) == NULL && n == 0);
    CHECK(kcl_agg_finish(a, &out, &err) == 0);
    CHECK_EQ_INT(kcl_deagg_parse((const uint8_t *)out.data, out.len, NULL, NULL), 0);

    /* Invalid input is refused and changes nothing. */
    CHECK_EQ_INT(kcl_agg_add(a, "", 0, NULL, 0, "x", 1, &err), -1);
    CHECK_EQ_INT(err.kind, KCL_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kcl_agg_add(a, "k", 1, "12x", 3, "x", 1, &err), -1);
    CHECK_EQ_INT(kcl_agg_add(a, "k", 1, "340282366920938463463374607431768211456", 39, "x", 1, &err), -1);
    CHECK_EQ_INT(kcl_agg_count(a), 0);
    CHECK_EQ_INT(kcl_agg_size(a), 20);

    /* Round trip with repeated keys, explicit hash keys, empty and binary data;
     * the size is exact after every add. */
    struct { const char *pk, *ehk, *data; size_t len; } in[] = {
        {"p1", "99", "one", 3}, {"p2", NULL, "", 0}, {"p1", NULL, "\0\1\0", 3},
        {"p3", "99", "four", 4}, {"p2", "7", "five", 4},
    };
    size_t nin = sizeof in / sizeof in[0];
    for (size_t round = 0; round < 2; round++) {   /* again after reset */
        for (size_t i = 0; i < nin; i++) {
            size_t before = kcl_agg_size(a);
            size_t add = kcl_agg_record_size(a, in[i].pk, strlen(in[i].pk), in[i].ehk,
                                             in[i].ehk ? strlen(in[i].ehk) : 0, in[i].len);
            CHECK(kcl_agg_add(a, in[i].pk, strlen(in[i].pk), in[i].ehk, in[i].ehk ? strlen(in[i].ehk) : 0,
                              in[i].data, in[i].len, NULL) == 0);
            CHECK_EQ_INT(kcl_agg_size(a), before + add);
        }
        kcl_buf_reset(&out);
        kcl_buf_append(&out, "prefix", 6);   /* finish appends */
        CHECK(kcl_agg_finish(a, &out, &err) == 0);
        CHECK_EQ_INT(out.len, 6 + kcl_agg_size(a));
        kcl_user_record *r = NULL;
        CHECK_EQ_INT(kcl_deagg_decode((const uint8_t *)out.data + 6, out.len - 6, &r), (int)nin);
        for (size_t i = 0; r && i < nin; i++) {
            CHECK(r[i].pk_len == strlen(in[i].pk) && memcmp(r[i].partition_key, in[i].pk, r[i].pk_len) == 0);
            CHECK(r[i].len == in[i].len && (in[i].len == 0 || memcmp(r[i].data, in[i].data, in[i].len) == 0));
            if (in[i].ehk) CHECK(r[i].ehk_len == strlen(in[i].ehk) && memcmp(r[i].explicit_hash_key, in[i].ehk, r[i].ehk_len) == 0);
            else CHECK(r[i].explicit_hash_key == NULL);
        }
        free(r);
        const char *pk = kcl_agg_partition_key(a, &n);
        CHECK(pk && n == 2 && memcmp(pk, "p1", 2) == 0);
        const char *ehk = kcl_agg_explicit_hash_key(a, &n);
        CHECK(ehk && n == 2 && memcmp(ehk, "99", 2) == 0);
        kcl_agg_reset(a);
        CHECK_EQ_INT(kcl_agg_count(a), 0);
        CHECK_EQ_INT(kcl_agg_size(a), 20);
    }
    CHECK(kcl_agg_add(a, "nokey", 5, NULL, 0, "x", 1, NULL) == 0);
    CHECK(kcl_agg_explicit_hash_key(a, &n) == NULL && n == 0);
    kcl_agg_free(a);

    /* The budget: fill a 300-byte aggregator; the record that does not fit is
     * refused and leaves the aggregator unchanged; the result is <= 300. */
    a = kcl_agg_new(300);
    char data[40];
    memset(data, 'd', sizeof data);
    int added = 0;
    while (kcl_agg_fits(a, "key", 3, NULL, 0, sizeof data)) {
        CHECK(kcl_agg_add(a, "key", 3, NULL, 0, data, sizeof data, &err) == 0);
        added++;
    }
    CHECK(added > 3);
    size_t full = kcl_agg_size(a);
    CHECK(full <= 300);
    CHECK(full + kcl_agg_record_size(a, "key", 3, NULL, 0, sizeof data) > 300);
    CHECK_EQ_INT(kcl_agg_add(a, "key", 3, NULL, 0, data, sizeof data, &err), -1);
    CHECK_EQ_INT(err.kind, KCL_ERR_INVALID_ARGUMENT);
    CHECK_EQ_INT(kcl_agg_size(a), full);
    CHECK_EQ_INT(kcl_agg_count(a), added);
    kcl_buf_reset(&out);
    CHECK(kcl_agg_finish(a, &out, &err) == 0);
    CHECK_EQ_INT(out.len, full);
    CHECK_EQ_INT(kcl_deagg_parse((const uint8_t *)out.data, out.len, NULL, NULL), added);
    /* A record too big for an empty aggregator never fits. */
    kcl_agg_reset(a);
    CHECK_EQ_INT(kcl_agg_fits(a, "key", 3, NULL, 0, 300), 0);
    CHECK_EQ_INT(kcl_agg_fits(a, "key", 3, NULL, 0, (size_t)-1), 0);
    kcl_agg_free(a);

    /* Many distinct keys (the dedup index grows) round-trip. */
    a = kcl_agg_new(0);
    for (int i = 0; i < 2000; i++) {
        char k[16];
        int kn = snprintf(k, sizeof k, "key-%d", i % 700);
        CHECK(kcl_agg_add(a, k, (size_t)kn, NULL, 0, k, (size_t)kn, NULL) == 0);
    }
    kcl_buf_reset(&out);
    CHECK(kcl_agg_finish(a, &out, &err) == 0);
    kcl_user_record *r = NULL;
    CHECK_EQ_INT(kcl_deagg_decode((const uint8_t *)out.data, out.len, &r), 2000);
    int ok = r != NULL;
    for (int i = 0; r && i < 2000; i++)
        ok &= r[i].pk_len == r[i].len && memcmp(r[i].partition_key, r[i].data, r[i].len) == 0;
    CHECK(ok);
    free(r);
    kcl_agg_free(a);
    kcl_agg_free(NULL);
    kcl_buf_free(&out);
}

int main(void)
{
    const char *src = kcl_test_env("LUAKCL_SOURCE_DIR");
    char dir[900];
    snprintf(dir, sizeof dir, "%s/tests/unit/kpl_vectors", src);
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < sizeof VECTORS / sizeof VECTORS[0]; i++) test_vector(dir, VECTORS[i]);
        test_hand_built();
        test_hashkey();
        test_aggregator();
    }
    return TEST_END();
}
