/* agg — KPL aggregate builder with a small hand-written protobuf encoder.
 *
 * The protobuf is kept as three runs of finished wire bytes: the partition
 * key table entries (field 1), the explicit hash key table entries (field 2)
 * and the records (field 3). Finishing concatenates magic, the three runs and
 * the MD5, so kcl_agg_size is exact at every moment. Table entries are
 * deduplicated through an open-addressing hash index over their bytes in the
 * wire run. An add reserves all the memory it needs before it changes
 * anything, so a failed add leaves the aggregator as it was. */
#include "agg.h"

#include <stdlib.h>
#include <string.h>

#include "deagg.h"
#include "hashkey.h"

typedef struct {
    size_t off, len;     /* the key's bytes in wire.data */
    uint32_t hash;
    uint32_t index;      /* position in the table */
    int used;            /* 0: empty slot */
} intern_slot;

typedef struct {
    kcl_buf wire;        /* encoded table entries: tag, length, bytes */
    size_t count;
    intern_slot *slots;
    size_t cap;          /* power of two, or 0 */
} intern_tab;

struct kcl_agg {
    size_t max_bytes;
    intern_tab pk, ehk;
    kcl_buf recs;        /* encoded Record entries */
    size_t count;
    size_t first_pk_off, first_pk_len;     /* the first record's keys, in the wire runs */
    size_t first_ehk_off, first_ehk_len;
    int first_has_ehk;
};

#define SAT_MAX ((size_t)-1)

static size_t sat_add(size_t a, size_t b) { return a > SAT_MAX - b ? SAT_MAX : a + b; }

static size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) { v >>= 7; n++; }
    return n;
}

static size_t varint_put(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) { p[n++] = (uint8_t)(v | 0x80); v >>= 7; }
    p[n++] = (uint8_t)v;
    return n;
}

/* Append, after a successful reserve (cannot fail then). */
static void put_varint(kcl_buf *b, uint64_t v)
{
    uint8_t tmp[10];
    kcl_buf_append(b, tmp, varint_put(tmp, v));
}

static uint32_t hash_bytes(const char *s, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a */
    for (size_t i = 0; i < n; i++) { h ^= (uint8_t)s[i]; h *= 16777619u; }
    return h;
}

/* Table position of the key, or -1 when absent. */
static long intern_find(const intern_tab *t, const char *s, size_t n, uint32_t h)
{
    if (!t->cap) return -1;
    for (size_t i = h & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        const intern_slot *sl = &t->slots[i];
        if (!sl->used) return -1;
        if (sl->hash == h && sl->len == n && memcmp(t->wire.data + sl->off, s, n) == 0)
            return (long)sl->index;
    }
}

/* Room for one more key of n bytes: index slots and wire bytes. */
static int intern_reserve(intern_tab *t, size_t n)
{
    if ((t->count + 1) * 4 > t->cap * 3) {
        size_t ncap = t->cap ? t->cap * 2 : 16;
        intern_slot *ns = calloc(ncap, sizeof *ns);
        if (!ns) return -1;
        for (size_t i = 0; i < t->cap; i++) {
            if (!t->slots[i].used) continue;
            size_t j = t->slots[i].hash & (ncap - 1);
            while (ns[j].used) j = (j + 1) & (ncap - 1);
            ns[j] = t->slots[i];
        }
        free(t->slots);
        t->slots = ns;
        t->cap = ncap;
    }
    return kcl_buf_reserve(&t->wire, 1 + 10 + n);
}

/* Add a key known to be absent, after intern_reserve. Returns its position;
 * *off receives where its bytes start in the wire run. */
static size_t intern_add(intern_tab *t, unsigned field, const char *s, size_t n, uint32_t h, size_t *off)
{
    uint8_t tag = (uint8_t)(field << 3 | 2);
    kcl_buf_append(&t->wire, &tag, 1);
    put_varint(&t->wire, n);
    *off = t->wire.len;
    kcl_buf_append(&t->wire, s, n);
    size_t j = h & (t->cap - 1);
    while (t->slots[j].used) j = (j + 1) & (t->cap - 1);
    t->slots[j] = (intern_slot){*off, n, h, (uint32_t)t->count, 1};
    return t->count++;
}

static void intern_reset(intern_tab *t)
{
    kcl_buf_reset(&t->wire);
    if (t->slots) memset(t->slots, 0, t->cap * sizeof *t->slots);
    t->count = 0;
}

static void intern_free(intern_tab *t)
{
    kcl_buf_free(&t->wire);
    free(t->slots);
    memset(t, 0, sizeof *t);
}

kcl_agg *kcl_agg_new(size_t max_bytes)
{
    kcl_agg *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->max_bytes = max_bytes ? max_bytes : KCL_AGG_DEFAULT_MAX;
    return a;
}

void kcl_agg_free(kcl_agg *a)
{
    if (!a) return;
    intern_free(&a->pk);
    intern_free(&a->ehk);
    kcl_buf_free(&a->recs);
    free(a);
}

void kcl_agg_reset(kcl_agg *a)
{
    intern_reset(&a->pk);
    intern_reset(&a->ehk);
    kcl_buf_reset(&a->recs);
    a->count = 0;
    a->first_has_ehk = 0;
    a->first_ehk_off = a->first_ehk_len = 0;
    a->first_pk_off = a->first_pk_len = 0;
}

size_t kcl_agg_count(const kcl_agg *a) { return a->count; }

size_t kcl_agg_size(const kcl_agg *a)
{
    return KCL_DEAGG_MAGIC_LEN + a->pk.wire.len + a->ehk.wire.len + a->recs.len + KCL_DEAGG_MD5_LEN;
}

/* Sizes of one add: what the Record entry's body takes, and the total. */
typedef struct {
    long pk_idx, ehk_idx;         /* existing positions, or -1 for new */
    uint32_t pk_hash, ehk_hash;
    size_t inner, total;
} add_plan;

static void plan_add(const kcl_agg *a, const char *pk, size_t pk_len, const char *ehk, size_t ehk_len,
                     size_t data_len, add_plan *p)
{
    size_t total = 0;
    p->pk_hash = hash_bytes(pk, pk_len);
    p->pk_idx = intern_find(&a->pk, pk, pk_len, p->pk_hash);
    uint64_t pk_pos = p->pk_idx >= 0 ? (uint64_t)p->pk_idx : a->pk.count;
    if (p->pk_idx < 0) total = sat_add(total, sat_add(1 + varint_len(pk_len), pk_len));

    size_t inner = 1 + varint_len(pk_pos);
    p->ehk_idx = -1;
    p->ehk_hash = 0;
    if (ehk) {
        p->ehk_hash = hash_bytes(ehk, ehk_len);
        p->ehk_idx = intern_find(&a->ehk, ehk, ehk_len, p->ehk_hash);
        uint64_t ehk_pos = p->ehk_idx >= 0 ? (uint64_t)p->ehk_idx : a->ehk.count;
        if (p->ehk_idx < 0) total = sat_add(total, sat_add(1 + varint_len(ehk_len), ehk_len));
        inner += 1 + varint_len(ehk_pos);
    }
    inner = sat_add(inner, sat_add(1 + varint_len(data_len), data_len));
    p->inner = inner;
    p->total = sat_add(total, sat_add(1 + varint_len(inner), inner));
}

size_t kcl_agg_record_size(const kcl_agg *a, const char *pk, size_t pk_len,
                           const char *ehk, size_t ehk_len, size_t data_len)
{
    add_plan p;
    plan_add(a, pk, pk_len, ehk, ehk_len, data_len, &p);
    return p.total;
}

int kcl_agg_fits(const kcl_agg *a, const char *pk, size_t pk_len,
                 const char *ehk, size_t ehk_len, size_t data_len)
{
    size_t add = kcl_agg_record_size(a, pk, pk_len, ehk, ehk_len, data_len);
    size_t now = kcl_agg_size(a);
    return now <= a->max_bytes && add <= a->max_bytes - now;
}

static int fail(kcl_error *err, kcl_err_kind kind, const char *msg)
{
    if (err) kcl_error_set(err, kind, 0, kind == KCL_ERR_FATAL ? "OutOfMemory" : "InvalidArgument", "%s", msg);
    return -1;
}

int kcl_agg_add(kcl_agg *a, const char *pk, size_t pk_len, const char *ehk, size_t ehk_len,
                const void *data, size_t len, kcl_error *err)
{
    uint8_t key[KCL_HASHKEY_LEN];
    if (!pk || pk_len == 0 || pk_len > KCL_AGG_MAX_PK_BYTES)
        return fail(err, KCL_ERR_INVALID_ARGUMENT, "partition key must be 1..1024 bytes");
    if (ehk && kcl_hashkey_parse(ehk, ehk_len, key) != 0)
        return fail(err, KCL_ERR_INVALID_ARGUMENT, "explicit hash key must be a decimal in 0..2^128-1");
    if (!data && len) return fail(err, KCL_ERR_INVALID_ARGUMENT, "data is NULL");

    add_plan p;
    plan_add(a, pk, pk_len, ehk, ehk_len, len, &p);
    size_t now = kcl_agg_size(a);
    if (now > a->max_bytes || p.total > a->max_bytes - now)
        return fail(err, KCL_ERR_INVALID_ARGUMENT, "record does not fit in the aggregate");

    /* Reserve everything, then write (the writes below cannot fail). */
    if ((p.pk_idx < 0 && intern_reserve(&a->pk, pk_len) != 0) ||
        (ehk && p.ehk_idx < 0 && intern_reserve(&a->ehk, ehk_len) != 0) ||
        kcl_buf_reserve(&a->recs, 1 + 10 + p.inner) != 0)
        return fail(err, KCL_ERR_FATAL, "out of memory");

    size_t off = 0;
    uint64_t pk_pos = p.pk_idx >= 0 ? (uint64_t)p.pk_idx
                                    : intern_add(&a->pk, 1, pk, pk_len, p.pk_hash, &off);
    if (a->count == 0) { a->first_pk_off = off; a->first_pk_len = pk_len; }   /* table was empty */
    uint64_t ehk_pos = 0;
    if (ehk) {
        if (p.ehk_idx >= 0) {
            ehk_pos = (uint64_t)p.ehk_idx;
        } else {
            ehk_pos = intern_add(&a->ehk, 2, ehk, ehk_len, p.ehk_hash, &off);
            if (a->count == 0) { a->first_ehk_off = off; a->first_ehk_len = ehk_len; }
        }
        if (a->count == 0) a->first_has_ehk = 1;
    }

    static const uint8_t tag_rec = 3 << 3 | 2, tag_pk = 1 << 3 | 0, tag_ehk = 2 << 3 | 0, tag_data = 3 << 3 | 2;
    kcl_buf_append(&a->recs, &tag_rec, 1);
    put_varint(&a->recs, p.inner);
    kcl_buf_append(&a->recs, &tag_pk, 1);
    put_varint(&a->recs, pk_pos);
    if (ehk) {
        kcl_buf_append(&a->recs, &tag_ehk, 1);
        put_varint(&a->recs, ehk_pos);
    }
    kcl_buf_append(&a->recs, &tag_data, 1);
    put_varint(&a->recs, len);
    kcl_buf_append(&a->recs, data, len);
    a->count++;
    return 0;
}

int kcl_agg_finish(kcl_agg *a, kcl_buf *out, kcl_error *err)
{
    size_t total = kcl_agg_size(a);
    if (kcl_buf_reserve(out, total) != 0) return fail(err, KCL_ERR_FATAL, "out of memory");
    size_t start = out->len;
    kcl_buf_append(out, KCL_DEAGG_MAGIC, KCL_DEAGG_MAGIC_LEN);
    kcl_buf_append(out, a->pk.wire.data, a->pk.wire.len);
    kcl_buf_append(out, a->ehk.wire.data, a->ehk.wire.len);
    kcl_buf_append(out, a->recs.data, a->recs.len);
    uint8_t digest[KCL_DEAGG_MD5_LEN];
    const char *pb = out->data + start + KCL_DEAGG_MAGIC_LEN;
    if (kcl_hashkey_md5(pb, out->len - start - KCL_DEAGG_MAGIC_LEN, digest) != 0) {
        out->len = start;
        out->data[start] = '\0';
        if (err) kcl_error_set(err, KCL_ERR_FATAL, 0, "DigestFailed", "MD5 failed");
        return -1;
    }
    kcl_buf_append(out, digest, sizeof digest);
    return 0;
}

const char *kcl_agg_partition_key(const kcl_agg *a, size_t *len)
{
    if (a->count == 0) { *len = 0; return NULL; }
    *len = a->first_pk_len;
    return a->pk.wire.data + a->first_pk_off;
}

const char *kcl_agg_explicit_hash_key(const kcl_agg *a, size_t *len)
{
    if (a->count == 0 || !a->first_has_ehk) { *len = 0; return NULL; }
    *len = a->first_ehk_len;
    return a->ehk.wire.data + a->first_ehk_off;
}
