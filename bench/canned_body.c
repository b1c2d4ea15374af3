/* canned_body — see canned_body.h. Benchmark code, not part of luakcl. */
#include "canned_body.h"

#include "agg.h"
#include "base64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEQ_PREFIX "495903382714902566085596"   /* 24 digits; + 12 shard + 20 position = 56 */

static void digits(char *out, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

void canned_seq(char out[57], unsigned shard, uint64_t pos)
{
    memcpy(out, SEQ_PREFIX, 24);
    digits(out + 24, shard, 12);
    digits(out + 36, pos, 20);
    out[56] = 0;
}

int canned_seq_parse(const char *seq, unsigned *shard, uint64_t *pos)
{
    if (strlen(seq) != 56 || memcmp(seq, SEQ_PREFIX, 24) != 0) return -1;
    uint64_t s = 0, p = 0;
    for (int i = 24; i < 36; i++) {
        if (seq[i] < '0' || seq[i] > '9') return -1;
        s = s * 10 + (uint64_t)(seq[i] - '0');
    }
    for (int i = 36; i < 56; i++) {
        if (seq[i] < '0' || seq[i] > '9') return -1;
        p = p * 10 + (uint64_t)(seq[i] - '0');
    }
    *shard = (unsigned)s;
    *pos = p;
    return 0;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* Text payload (printable bytes, like JSON events) of n bytes. */
static void fill(uint8_t *d, size_t n, uint64_t *rng)
{
    static const char alpha[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 {}:,\"";
    for (size_t i = 0; i < n; i++) d[i] = (uint8_t)alpha[xorshift(rng) % (sizeof alpha - 1)];
}

int canned_tmpl_init(canned_tmpl *t, size_t max_records, size_t record_size, int kpl)
{
    memset(t, 0, sizeof *t);
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    uint8_t *data = malloc(record_size ? record_size : 1);
    kcl_buf agg = KCL_BUF_INIT;
    kcl_agg *a = kpl > 0 ? kcl_agg_new(0) : NULL;
    if (!data || (kpl > 0 && !a)) goto fail;
    /* The payload of one Kinesis record: the same length for every record. */
    size_t payload = record_size;
    if (kpl > 0) {
        for (int i = 0; i < kpl; i++) {
            char pk[32];
            int n = snprintf(pk, sizeof pk, "user-%06d", i);
            fill(data, record_size, &rng);
            if (kcl_agg_add(a, pk, (size_t)n, NULL, 0, data, record_size, NULL) != 0) goto fail;
        }
        if (kcl_agg_finish(a, &agg, NULL) != 0) goto fail;
        payload = agg.len;
    }
    size_t b64 = kcl_base64_encoded_len(payload);
    static const char f1[] = "{\"SequenceNumber\":\"";
    static const char f2[] = "\",\"ApproximateArrivalTimestamp\":";
    static const char f3[] = ",\"Data\":\"";
    static const char f4[] = "\",\"PartitionKey\":\"pk-000000\"},";
    t->seq_off = sizeof f1 - 1;
    t->ts_off = t->seq_off + 56 + sizeof f2 - 1;
    t->rec_len = t->ts_off + 14 + sizeof f3 - 1 + b64 + sizeof f4 - 1;
    t->max_records = max_records;
    t->payload = payload;
    t->user_records = kpl > 0 ? (size_t)kpl : 1;
    t->text = malloc(t->rec_len * (max_records ? max_records : 1));
    if (!t->text) goto fail;
    for (size_t i = 0; i < max_records; i++) {
        char *r = t->text + i * t->rec_len, *p = r;
        memcpy(p, f1, sizeof f1 - 1);
        p += sizeof f1 - 1;
        memset(p, '0', 56);
        p += 56;
        memcpy(p, f2, sizeof f2 - 1);
        p += sizeof f2 - 1;
        memcpy(p, "1700000000.000", 14);
        p += 14;
        memcpy(p, f3, sizeof f3 - 1);
        p += sizeof f3 - 1;
        if (kpl > 0) {
            p += kcl_base64_encode((const uint8_t *)agg.data, agg.len, p);
        } else {
            fill(data, record_size, &rng);
            p += kcl_base64_encode(data, record_size, p);
        }
        memcpy(p, f4, sizeof f4 - 1);
        digits(p + 21, i % 1000, 6);      /* PartitionKey "pk-NNNNNN" */
        p += sizeof f4 - 1;
    }
    free(data);
    kcl_buf_free(&agg);
    kcl_agg_free(a);
    return 0;
fail:
    free(data);
    kcl_buf_free(&agg);
    kcl_agg_free(a);
    canned_tmpl_free(t);
    return -1;
}

void canned_tmpl_free(canned_tmpl *t)
{
    free(t->text);
    memset(t, 0, sizeof *t);
}

int canned_body(kcl_buf *out, const canned_tmpl *t, unsigned shard, uint64_t pos, size_t count,
                int64_t arrival0_ms, double arrival_step_us, const char *next_iterator,
                int64_t millis_behind)
{
    if (count > t->max_records) count = t->max_records;
    size_t need = 16 + count * t->rec_len + 64 + (next_iterator ? strlen(next_iterator) : 0) + 40;
    if (kcl_buf_reserve(out, need) != 0) return -1;
    char *p = out->data + out->len;
    memcpy(p, "{\"Records\":[", 12);
    p += 12;
    if (count) {
        memcpy(p, t->text, count * t->rec_len);
        char seq[57];
        canned_seq(seq, shard, pos);
        for (size_t i = 0; i < count; i++) {
            char *r = p + i * t->rec_len;
            memcpy(r + t->seq_off, seq, 36);
            digits(r + t->seq_off + 36, pos + i, 20);
            int64_t ms = arrival0_ms + (int64_t)((double)i * arrival_step_us / 1000.0);
            digits(r + t->ts_off, (uint64_t)(ms / 1000), 10);
            digits(r + t->ts_off + 11, (uint64_t)(ms % 1000), 3);
        }
        p += count * t->rec_len - 1;   /* drop the last ',' */
    }
    out->len = (size_t)(p - out->data);
    int rc = next_iterator
        ? kcl_buf_printf(out, "],\"NextShardIterator\":\"%s\",\"MillisBehindLatest\":%lld}", next_iterator,
                         (long long)millis_behind)
        : kcl_buf_printf(out, "],\"MillisBehindLatest\":%lld}", (long long)millis_behind);
    return rc;
}
