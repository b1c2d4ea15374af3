/* fuzz_deagg — libFuzzer target for KPL de-aggregation, hash keys and the
 * aggregator. Every input is tried three ways:
 *   1. as a Kinesis record's data, as is (mostly rejected at the magic/MD5);
 *   2. as protobuf bytes wrapped in magic + a correct MD5 trailer, so the
 *      fuzzer reaches the protobuf reader;
 *   3. as a script for the aggregator: records cut from the input are
 *      aggregated, and the aggregate must decode to exactly those records.
 * Invariants are checked with abort(): every decoded pointer lies inside the
 * input, sub-sequence numbers run 0..n-1, parse and decode agree, a decimal
 * hash key formats back to itself. The seed corpus is in
 * tests/fuzz/corpus/fuzz_deagg/ (golden vectors and their protobuf bodies). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agg.h"
#include "buf.h"
#include "deagg.h"
#include "hashkey.h"

#define REQUIRE(c) do { if (!(c)) abort(); } while (0)

static int inside(const void *p, size_t n, const uint8_t *base, size_t len)
{
    const uint8_t *q = p;
    return n == 0 || (q >= base && n <= len && q - base <= (ptrdiff_t)(len - n));
}

static int count_cb(const kcl_user_record *r, void *ud)
{
    (void)r;
    (*(size_t *)ud)++;
    return 0;
}

static void check_parse(const uint8_t *data, size_t len)
{
    kcl_user_record *recs = NULL;
    int n = kcl_deagg_decode(data, len, &recs);
    size_t calls = 0;
    int m = kcl_deagg_parse(data, len, count_cb, &calls);
    REQUIRE(n == m);
    REQUIRE(n < 0 ? calls == 0 : calls == (size_t)n);
    if (n > 0) REQUIRE(kcl_deagg_is_aggregated(data, len));
    uint8_t zero[16] = {0}, ones[16];
    memset(ones, 0xff, sizeof ones);
    for (int i = 0; i < n; i++) {
        const kcl_user_record *r = &recs[i];
        REQUIRE(r->sub_sequence_number == (uint64_t)i);
        REQUIRE(inside(r->data, r->len, data, len));
        REQUIRE(r->partition_key && inside(r->partition_key, r->pk_len, data, len));
        REQUIRE(r->explicit_hash_key ? inside(r->explicit_hash_key, r->ehk_len, data, len) : r->ehk_len == 0);
        int in = kcl_deagg_in_range(r, zero, ones);
        REQUIRE(in == 1 || (in == -1 && r->explicit_hash_key));
    }
    free(recs);
}

static void check_wrapped(const uint8_t *data, size_t len)
{
    uint8_t *w = malloc(len + KCL_DEAGG_MAGIC_LEN + KCL_DEAGG_MD5_LEN);
    if (!w) return;
    memcpy(w, KCL_DEAGG_MAGIC, KCL_DEAGG_MAGIC_LEN);
    if (len) memcpy(w + KCL_DEAGG_MAGIC_LEN, data, len);
    REQUIRE(kcl_hashkey_md5(data, len, w + KCL_DEAGG_MAGIC_LEN + len) == 0);
    check_parse(w, len + KCL_DEAGG_MAGIC_LEN + KCL_DEAGG_MD5_LEN);
    free(w);
}

static void check_hashkey(const uint8_t *data, size_t len)
{
    uint8_t k[16], k2[16];
    char s[KCL_HASHKEY_DEC_MAX];
    if (kcl_hashkey_parse((const char *)data, len, k) == 0) {
        size_t n = kcl_hashkey_format(k, s);
        REQUIRE(n >= 1 && n <= 39 && strlen(s) == n);
        REQUIRE(kcl_hashkey_parse(s, n, k2) == 0 && kcl_hashkey_cmp(k, k2) == 0);
    }
    if (len >= 16) {   /* any 16 bytes format to a decimal that parses back */
        size_t n = kcl_hashkey_format(data, s);
        REQUIRE(kcl_hashkey_parse(s, n, k) == 0 && memcmp(k, data, 16) == 0);
    }
}

typedef struct {
    const uint8_t *pk, *data;
    size_t pk_len, len;
    int has_ehk;
    char ehk[KCL_HASHKEY_DEC_MAX];
} in_rec;

/* Cut records from the input: a control byte (key length 1..16, whether
 * there is an explicit hash key), a data length byte, then key and data. */
static void check_aggregator(const uint8_t *data, size_t len)
{
    in_rec recs[64];
    size_t n = 0, p = 0;
    while (n < 64 && p + 2 <= len) {
        in_rec *r = &recs[n];
        uint8_t ctl = data[p], dl = data[p + 1];
        p += 2;
        r->pk_len = 1 + (ctl & 15u);
        r->len = dl;
        r->has_ehk = (ctl & 16u) != 0;
        if (r->pk_len > len - p) break;
        r->pk = data + p;
        p += r->pk_len;
        if (r->len > len - p) r->len = len - p;
        r->data = data + p;
        p += r->len;
        if (r->has_ehk) {
            uint8_t k[16] = {0};
            memcpy(k, r->pk, r->pk_len);
            kcl_hashkey_format(k, r->ehk);
        }
        n++;
    }
    kcl_agg *a = kcl_agg_new(0);
    if (!a) return;
    for (size_t i = 0; i < n; i++) {
        const char *ehk = recs[i].has_ehk ? recs[i].ehk : NULL;
        size_t before = kcl_agg_size(a);
        size_t add = kcl_agg_record_size(a, (const char *)recs[i].pk, recs[i].pk_len, ehk,
                                         ehk ? strlen(ehk) : 0, recs[i].len);
        REQUIRE(kcl_agg_add(a, (const char *)recs[i].pk, recs[i].pk_len, ehk, ehk ? strlen(ehk) : 0,
                            recs[i].data, recs[i].len, NULL) == 0);
        REQUIRE(kcl_agg_size(a) == before + add);
    }
    kcl_buf out = KCL_BUF_INIT;
    REQUIRE(kcl_agg_finish(a, &out, NULL) == 0);
    REQUIRE(out.len == kcl_agg_size(a));
    kcl_user_record *got = NULL;
    int m = kcl_deagg_decode((const uint8_t *)out.data, out.len, &got);
    REQUIRE(m == (int)n);
    for (size_t i = 0; i < n; i++) {
        REQUIRE(got[i].pk_len == recs[i].pk_len && memcmp(got[i].partition_key, recs[i].pk, recs[i].pk_len) == 0);
        REQUIRE(got[i].len == recs[i].len && (recs[i].len == 0 || memcmp(got[i].data, recs[i].data, recs[i].len) == 0));
        if (recs[i].has_ehk)
            REQUIRE(got[i].ehk_len == strlen(recs[i].ehk) && memcmp(got[i].explicit_hash_key, recs[i].ehk, got[i].ehk_len) == 0);
        else
            REQUIRE(got[i].explicit_hash_key == NULL);
    }
    free(got);
    kcl_buf_free(&out);
    kcl_agg_free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_parse(data, size);
    check_wrapped(data, size);
    check_hashkey(data, size);
    check_aggregator(data, size);
    return 0;
}
