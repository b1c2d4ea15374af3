/* kinesis_codec — Kinesis JSON 1.1 request bodies and response decoders.
 *
 * The decoders read with json.h's tolerant accessors and turn every surprise
 * into KCL_ERR_MALFORMED. The GetRecords decoder is the hot path: one pass
 * over the records, each record object walked once (its members matched by
 * raw key bytes), strings copied and base64 decoded straight from the body
 * into one allocation sized from the body length — a decoded string is never
 * longer than its quoted form in the body, so the arena cannot run out. */
#include "kinesis_codec.h"

#include "base64.h"
#include "json.h"

#include <inttypes.h>
#include <math.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHARDS_TOTAL   100000   /* sanity bound over all ListShards pages */
#define MAX_ITERATOR_LEN   8192     /* API: 512; generous for test servers */
#define MAX_TOKEN_LEN      65536    /* NextToken */
#define MAX_TOKENS         2000000  /* ~14 tokens per record * 10000 records, with room */

static int malformed(kcl_error *err, const char *what)
{
    kcl_error_set(err, KCL_ERR_MALFORMED, 0, "MalformedResponse", "Kinesis response: %s", what);
    return -1;
}

static int parse_root(kcl_json *doc, const char *body, size_t len, kcl_jv *root, kcl_error *err)
{
    if (!body || kcl_json_parse(doc, body, len, MAX_TOKENS, err) != 0) {
        if (err) err->kind = KCL_ERR_MALFORMED;
        return -1;
    }
    *root = kcl_json_root(doc);
    if (kcl_json_type_of(doc, *root) != KCL_JSON_OBJECT) return malformed(err, "not a JSON object");
    return 0;
}

/* Absent and null both count as "not there". */
static int present(const kcl_json *d, kcl_jv v)
{
    kcl_json_type t = kcl_json_type_of(d, v);
    return t != KCL_JSON_ABSENT && t != KCL_JSON_NULL;
}

/* Copy a required/optional string into a fixed field. Returns 0, -1 on a
 * wrong type or overlong value; an absent optional leaves "". */
static int fixed_str(const kcl_json *d, kcl_jv v, char *out, size_t outlen, int required)
{
    out[0] = 0;
    if (!present(d, v)) return required ? -1 : 0;
    if (kcl_json_type_of(d, v) != KCL_JSON_STRING) return -1;
    if (kcl_json_str_copy(d, v, out, outlen) != 0) return -1;
    if (required && !out[0]) return -1;
    return 0;
}

/* JSON number of epoch seconds (fraction allowed) -> epoch ms. */
static int seconds_to_ms(const kcl_json *d, kcl_jv v, int64_t *ms)
{
    double s;
    if (kcl_json_type_of(d, v) != KCL_JSON_NUMBER || kcl_json_double(d, v, &s) != 0) return -1;
    if (!(s >= 0.0 && s < 1e14)) return -1;   /* NaN and absurd values */
    *ms = (int64_t)llround(s * 1000.0);
    return 0;
}

static int small_int(const kcl_json *d, kcl_jv v, int *out)
{
    int64_t x;
    if (kcl_json_int64(d, v, &x) != 0 || x < 0 || x > INT32_MAX) return -1;
    *out = (int)x;
    return 0;
}

static int hash_range(const kcl_json *d, kcl_jv obj, kcl_kinesis_hash_range *hr)
{
    if (kcl_json_type_of(d, obj) != KCL_JSON_OBJECT) return -1;
    if (fixed_str(d, kcl_json_get(d, obj, "StartingHashKey"), hr->starting, sizeof hr->starting, 1) ||
        fixed_str(d, kcl_json_get(d, obj, "EndingHashKey"), hr->ending, sizeof hr->ending, 1))
        return -1;
    if (kcl_hashkey_parse(hr->starting, strlen(hr->starting), hr->start_key) != 0 ||
        kcl_hashkey_parse(hr->ending, strlen(hr->ending), hr->end_key) != 0)
        return -1;
    return 0;
}

/* Writes epoch ms as a JSON number of seconds with exactly three decimals.
 * The writer emits a placeholder 0 (so its comma state is right) and the
 * digit is replaced by the exact text: a double would print 0.1229999. */
static void jw_seconds(kcl_jw *w, int64_t ms)
{
    kcl_jw_int(w, 0);
    if (w->out->len && w->out->data[w->out->len - 1] == '0') {
        w->out->len--;
        w->out->data[w->out->len] = 0;
        if (ms < 0) ms = 0;
        kcl_buf_printf(w->out, "%" PRId64 ".%03d", ms / 1000, (int)(ms % 1000));
    }
}

static int finish(kcl_buf *out)
{
    return out->data ? 0 : -1;
}

/* Start a request body `{"StreamName": ...`; the caller adds members and closes it. */
static void begin_stream_body(kcl_jw *w, kcl_buf *out, const char *stream_name)
{
    kcl_buf_reset(out);
    kcl_jw_init(w, out);
    kcl_jw_obj_begin(w);
    kcl_jw_kstr(w, "StreamName", stream_name ? stream_name : "");
}

/* ---- ListShards ---------------------------------------------------------- */

void kcl_kinesis_shard_list_clear(kcl_kinesis_shard_list *l)
{
    if (!l) return;
    free(l->shards);
    memset(l, 0, sizeof *l);
}

static const char *const FILTER_NAMES[] = {
    [KCL_SHARD_FILTER_NONE] = "",
    [KCL_SHARD_FILTER_AFTER_SHARD_ID] = "AFTER_SHARD_ID",
    [KCL_SHARD_FILTER_AT_TRIM_HORIZON] = "AT_TRIM_HORIZON",
    [KCL_SHARD_FILTER_FROM_TRIM_HORIZON] = "FROM_TRIM_HORIZON",
    [KCL_SHARD_FILTER_AT_LATEST] = "AT_LATEST",
    [KCL_SHARD_FILTER_AT_TIMESTAMP] = "AT_TIMESTAMP",
    [KCL_SHARD_FILTER_FROM_TIMESTAMP] = "FROM_TIMESTAMP",
};

int kcl_kinesis_build_list_shards(kcl_buf *out, const kcl_kinesis_list_shards_req *req)
{
    kcl_jw w;
    begin_stream_body(&w, out, req->stream_name);
    if (req->filter > KCL_SHARD_FILTER_NONE && req->filter <= KCL_SHARD_FILTER_FROM_TIMESTAMP) {
        kcl_jw_key(&w, "ShardFilter");
        kcl_jw_obj_begin(&w);
        kcl_jw_kstr(&w, "Type", FILTER_NAMES[req->filter]);
        if (req->filter == KCL_SHARD_FILTER_AFTER_SHARD_ID && req->filter_shard_id)
            kcl_jw_kstr(&w, "ShardId", req->filter_shard_id);
        if (req->filter == KCL_SHARD_FILTER_AT_TIMESTAMP || req->filter == KCL_SHARD_FILTER_FROM_TIMESTAMP) {
            kcl_jw_key(&w, "Timestamp");
            jw_seconds(&w, req->filter_timestamp_ms);
        }
        kcl_jw_obj_end(&w);
    }
    if (req->max_results > 0) kcl_jw_kint(&w, "MaxResults", req->max_results);
    kcl_jw_obj_end(&w);
    return finish(out);
}

int kcl_kinesis_build_list_shards_next(kcl_buf *out, const char *next_token, int max_results)
{
    kcl_jw w;
    kcl_buf_reset(out);
    kcl_jw_init(&w, out);
    kcl_jw_obj_begin(&w);
    kcl_jw_kstr(&w, "NextToken", next_token ? next_token : "");
    if (max_results > 0) kcl_jw_kint(&w, "MaxResults", max_results);
    kcl_jw_obj_end(&w);
    return finish(out);
}

static int decode_shard(const kcl_json *d, kcl_jv s, kcl_kinesis_shard *sh)
{
    if (kcl_json_type_of(d, s) != KCL_JSON_OBJECT) return -1;
    if (fixed_str(d, kcl_json_get(d, s, "ShardId"), sh->shard_id, sizeof sh->shard_id, 1) ||
        fixed_str(d, kcl_json_get(d, s, "ParentShardId"), sh->parent_shard_id,
                  sizeof sh->parent_shard_id, 0) ||
        fixed_str(d, kcl_json_get(d, s, "AdjacentParentShardId"), sh->adjacent_parent_shard_id,
                  sizeof sh->adjacent_parent_shard_id, 0))
        return -1;
    if (hash_range(d, kcl_json_get(d, s, "HashKeyRange"), &sh->hash_range) != 0) return -1;
    kcl_jv sr = kcl_json_get(d, s, "SequenceNumberRange");
    if (kcl_json_type_of(d, sr) != KCL_JSON_OBJECT) return -1;
    if (fixed_str(d, kcl_json_get(d, sr, "StartingSequenceNumber"), sh->starting_sequence_number,
                  sizeof sh->starting_sequence_number, 1) ||
        fixed_str(d, kcl_json_get(d, sr, "EndingSequenceNumber"), sh->ending_sequence_number,
                  sizeof sh->ending_sequence_number, 0))
        return -1;
    return 0;
}

int kcl_kinesis_decode_list_shards(const char *body, size_t len, kcl_kinesis_shard_list *list,
                                   char **next_token, kcl_error *err)
{
    kcl_json doc = {0};
    kcl_jv root;
    size_t old = list->count;
    *next_token = NULL;
    if (parse_root(&doc, body, len, &root, err) != 0) goto fail;

    kcl_jv shards = kcl_json_get(&doc, root, "Shards");
    if (kcl_json_type_of(&doc, shards) != KCL_JSON_ARRAY) { malformed(err, "Shards is not an array"); goto fail; }
    size_t n = (size_t)kcl_json_count(&doc, shards);
    if (n > MAX_SHARDS_TOTAL || list->count + n > MAX_SHARDS_TOTAL) { malformed(err, "too many shards"); goto fail; }
    if (list->count + n > list->cap) {
        size_t cap = list->cap ? list->cap : 16;
        while (cap < list->count + n) cap *= 2;
        kcl_kinesis_shard *p = realloc(list->shards, cap * sizeof *p);
        if (!p) { kcl_error_set(err, KCL_ERR_FATAL, 0, "OutOfMemory", "out of memory"); goto fail; }
        list->shards = p;
        list->cap = cap;
    }
    for (kcl_jv s = kcl_json_first(&doc, shards); s >= 0; s = kcl_json_next(&doc, s)) {
        if (decode_shard(&doc, s, &list->shards[list->count]) != 0) { malformed(err, "bad shard"); goto fail; }
        list->count++;
    }

    kcl_jv tok = kcl_json_get(&doc, root, "NextToken");
    if (present(&doc, tok)) {
        size_t tl;
        int esc;
        if (kcl_json_type_of(&doc, tok) != KCL_JSON_STRING || !kcl_json_raw(&doc, tok, &tl, &esc) ||
            tl == 0 || tl > MAX_TOKEN_LEN) { malformed(err, "bad NextToken"); goto fail; }
        *next_token = kcl_json_strdup(&doc, tok);
        if (!*next_token) { malformed(err, "bad NextToken"); goto fail; }
    }
    kcl_json_free(&doc);
    return 0;
fail:
    list->count = old;
    kcl_json_free(&doc);
    return -1;
}

/* ---- DescribeStreamSummary ----------------------------------------------- */

int kcl_kinesis_build_stream_name(kcl_buf *out, const char *stream_name)
{
    kcl_jw w;
    begin_stream_body(&w, out, stream_name);
    kcl_jw_obj_end(&w);
    return finish(out);
}

static const char *const STATUS_NAMES[] = {
    [KCL_STREAM_UNKNOWN] = "UNKNOWN",   [KCL_STREAM_CREATING] = "CREATING",
    [KCL_STREAM_DELETING] = "DELETING", [KCL_STREAM_ACTIVE] = "ACTIVE",
    [KCL_STREAM_UPDATING] = "UPDATING",
};

const char *kcl_kinesis_stream_status_name(kcl_kinesis_stream_status s)
{
    return (unsigned)s <= KCL_STREAM_UPDATING ? STATUS_NAMES[s] : "UNKNOWN";
}

int kcl_kinesis_decode_stream_summary(const char *body, size_t len,
                                      kcl_kinesis_stream_summary *out, kcl_error *err)
{
    kcl_json doc = {0};
    kcl_jv root;
    memset(out, 0, sizeof *out);
    if (parse_root(&doc, body, len, &root, err) != 0) goto fail;
    kcl_jv s = kcl_json_get(&doc, root, "StreamDescriptionSummary");
    if (kcl_json_type_of(&doc, s) != KCL_JSON_OBJECT) { malformed(err, "no StreamDescriptionSummary"); goto fail; }

    char status[32];
    if (fixed_str(&doc, kcl_json_get(&doc, s, "StreamName"), out->stream_name, sizeof out->stream_name, 1) ||
        fixed_str(&doc, kcl_json_get(&doc, s, "StreamARN"), out->stream_arn, sizeof out->stream_arn, 0) ||
        fixed_str(&doc, kcl_json_get(&doc, s, "StreamStatus"), status, sizeof status, 1)) {
        malformed(err, "bad StreamName, StreamARN or StreamStatus");
        goto fail;
    }
    out->status = KCL_STREAM_UNKNOWN;
    for (int i = KCL_STREAM_CREATING; i <= KCL_STREAM_UPDATING; i++)
        if (strcmp(status, STATUS_NAMES[i]) == 0) out->status = (kcl_kinesis_stream_status)i;

    if (small_int(&doc, kcl_json_get(&doc, s, "OpenShardCount"), &out->open_shard_count) != 0) {
        malformed(err, "bad OpenShardCount");
        goto fail;
    }
    kcl_jv v = kcl_json_get(&doc, s, "RetentionPeriodHours");
    if (present(&doc, v) && small_int(&doc, v, &out->retention_hours) != 0) { malformed(err, "bad RetentionPeriodHours"); goto fail; }
    v = kcl_json_get(&doc, s, "ConsumerCount");
    if (present(&doc, v) && small_int(&doc, v, &out->consumer_count) != 0) { malformed(err, "bad ConsumerCount"); goto fail; }
    v = kcl_json_get(&doc, s, "StreamCreationTimestamp");
    if (present(&doc, v) && seconds_to_ms(&doc, v, &out->creation_ms) != 0) { malformed(err, "bad StreamCreationTimestamp"); goto fail; }
    v = kcl_json_get(&doc, s, "EncryptionType");
    if (present(&doc, v)) {
        if (kcl_json_type_of(&doc, v) != KCL_JSON_STRING) { malformed(err, "bad EncryptionType"); goto fail; }
        out->encrypted = kcl_json_str_eq(&doc, v, "KMS");
    }
    kcl_json_free(&doc);
    return 0;
fail:
    memset(out, 0, sizeof *out);
    kcl_json_free(&doc);
    return -1;
}

/* ---- GetShardIterator ---------------------------------------------------- */

static const char *const ITER_NAMES[] = {
    [KCL_ITER_TRIM_HORIZON] = "TRIM_HORIZON",
    [KCL_ITER_LATEST] = "LATEST",
    [KCL_ITER_AT_TIMESTAMP] = "AT_TIMESTAMP",
    [KCL_ITER_AT_SEQUENCE_NUMBER] = "AT_SEQUENCE_NUMBER",
    [KCL_ITER_AFTER_SEQUENCE_NUMBER] = "AFTER_SEQUENCE_NUMBER",
};

const char *kcl_kinesis_iterator_type_name(kcl_kinesis_iterator_type t)
{
    return (unsigned)t <= KCL_ITER_AFTER_SEQUENCE_NUMBER ? ITER_NAMES[t] : "UNKNOWN";
}

int kcl_kinesis_build_get_shard_iterator(kcl_buf *out, const kcl_kinesis_iterator_req *req,
                                         kcl_error *err)
{
    int by_seq = req->type == KCL_ITER_AT_SEQUENCE_NUMBER || req->type == KCL_ITER_AFTER_SEQUENCE_NUMBER;
    if (!req->stream_name || !req->shard_id || (unsigned)req->type > KCL_ITER_AFTER_SEQUENCE_NUMBER ||
        (by_seq && (!req->sequence_number || !*req->sequence_number))) {
        kcl_error_set(err, KCL_ERR_INVALID_ARGUMENT, 0, "InvalidArgument",
                      "GetShardIterator needs a stream, a shard, a known type and, for %s, a sequence number",
                      kcl_kinesis_iterator_type_name(req->type));
        return -1;
    }
    kcl_jw w;
    begin_stream_body(&w, out, req->stream_name);
    kcl_jw_kstr(&w, "ShardId", req->shard_id);
    kcl_jw_kstr(&w, "ShardIteratorType", ITER_NAMES[req->type]);
    if (by_seq) kcl_jw_kstr(&w, "StartingSequenceNumber", req->sequence_number);
    if (req->type == KCL_ITER_AT_TIMESTAMP) {
        kcl_jw_key(&w, "Timestamp");
        jw_seconds(&w, req->timestamp_ms);
    }
    kcl_jw_obj_end(&w);
    if (finish(out) != 0) {
        kcl_error_set(err, KCL_ERR_FATAL, 0, "OutOfMemory", "out of memory");
        return -1;
    }
    return 0;
}

int kcl_kinesis_decode_get_shard_iterator(const char *body, size_t len, char **iterator,
                                          kcl_error *err)
{
    kcl_json doc = {0};
    kcl_jv root;
    *iterator = NULL;
    if (parse_root(&doc, body, len, &root, err) != 0) goto fail;
    kcl_jv v = kcl_json_get(&doc, root, "ShardIterator");
    size_t n;
    int esc;
    if (kcl_json_type_of(&doc, v) != KCL_JSON_STRING || !kcl_json_raw(&doc, v, &n, &esc) ||
        n == 0 || n > MAX_ITERATOR_LEN || !(*iterator = kcl_json_strdup(&doc, v))) {
        malformed(err, "no ShardIterator string");
        goto fail;
    }
    kcl_json_free(&doc);
    return 0;
fail:
    kcl_json_free(&doc);
    return -1;
}

/* ---- the bump arena behind GetRecords and PutRecords results -------------- */

typedef struct arena {
    char  *p;
    size_t left;
    kcl_buf tmp;    /* unescaping, for the rare string with escapes */
} arena;

/* A JSON string `v` copied (unescaped) into the arena, NUL-terminated. */
static const char *arena_str(arena *a, const kcl_json *d, kcl_jv v, size_t *outlen)
{
    size_t n;
    int esc;
    const char *raw = kcl_json_raw(d, v, &n, &esc);
    if (!raw) return NULL;
    if (esc) {
        if (kcl_json_str(d, v, &a->tmp) != 0) return NULL;
        raw = a->tmp.data ? a->tmp.data : "";
        n = a->tmp.len;
    }
    if (n + 1 > a->left) return NULL;
    char *s = a->p;
    memcpy(s, raw, n);
    s[n] = 0;
    a->p += n + 1;
    a->left -= n + 1;
    if (outlen) *outlen = n;
    return s;
}

/* Base64 string `v` decoded into the arena (followed by an uncounted NUL). */
static const uint8_t *arena_b64(arena *a, const kcl_json *d, kcl_jv v, size_t *outlen)
{
    size_t n;
    int esc;
    const char *raw = kcl_json_raw(d, v, &n, &esc);
    if (!raw) return NULL;
    if (esc) {   /* "\/" from encoders that escape slashes */
        if (kcl_json_str(d, v, &a->tmp) != 0) return NULL;
        raw = a->tmp.data ? a->tmp.data : "";
        n = a->tmp.len;
    }
    if (kcl_base64_decoded_max(n) + 1 > a->left) return NULL;
    uint8_t *out = (uint8_t *)a->p;
    long got = kcl_base64_decode(raw, n, out);
    if (got < 0) return NULL;
    out[got] = 0;
    a->p += (size_t)got + 1;
    a->left -= (size_t)got + 1;
    *outlen = (size_t)got;
    return out;
}

static size_t align_up(size_t n)
{
    size_t a = alignof(max_align_t);
    return (n + a - 1) / a * a;
}

/* Raw key `k` of length `kl` (escapes unprocessed) equals literal `lit`. */
#define KEY_IS(k, kl, lit) ((kl) == sizeof(lit) - 1 && memcmp((k), (lit), sizeof(lit) - 1) == 0)

/* ---- GetRecords ---------------------------------------------------------- */

int kcl_kinesis_build_get_records(kcl_buf *out, const char *shard_iterator, int limit)
{
    kcl_jw w;
    kcl_buf_reset(out);
    kcl_jw_init(&w, out);
    kcl_jw_obj_begin(&w);
    kcl_jw_kstr(&w, "ShardIterator", shard_iterator ? shard_iterator : "");
    if (limit > 0) kcl_jw_kint(&w, "Limit", limit);
    kcl_jw_obj_end(&w);
    return finish(out);
}

void kcl_kinesis_records_free(kcl_kinesis_records *r)
{
    free(r);
}

static int decode_record(const kcl_json *d, kcl_jv e, arena *a, kcl_kinesis_record *r)
{
    if (kcl_json_type_of(d, e) != KCL_JSON_OBJECT) return -1;
    memset(r, 0, sizeof *r);
    kcl_jv data = -1, pk = -1, seq = -1, ts = -1, enc = -1;
    for (kcl_jv v = kcl_json_first(d, e); v >= 0; v = kcl_json_next(d, v)) {
        size_t kl;
        int esc;
        const char *k = kcl_json_raw(d, kcl_json_key_of(d, v), &kl, &esc);
        if (!k) return -1;
        if (esc) {   /* a key spelled with escapes: compare it decoded */
            kcl_jv key = kcl_json_key_of(d, v);
            if (kcl_json_str_eq(d, key, "Data")) data = v;
            else if (kcl_json_str_eq(d, key, "PartitionKey")) pk = v;
            else if (kcl_json_str_eq(d, key, "SequenceNumber")) seq = v;
            else if (kcl_json_str_eq(d, key, "ApproximateArrivalTimestamp")) ts = v;
            else if (kcl_json_str_eq(d, key, "EncryptionType")) enc = v;
        } else if (KEY_IS(k, kl, "Data")) data = v;
        else if (KEY_IS(k, kl, "PartitionKey")) pk = v;
        else if (KEY_IS(k, kl, "SequenceNumber")) seq = v;
        else if (KEY_IS(k, kl, "ApproximateArrivalTimestamp")) ts = v;
        else if (KEY_IS(k, kl, "EncryptionType")) enc = v;
    }
    if (kcl_json_type_of(d, data) != KCL_JSON_STRING || kcl_json_type_of(d, pk) != KCL_JSON_STRING ||
        kcl_json_type_of(d, seq) != KCL_JSON_STRING)
        return -1;
    if (!(r->data = arena_b64(a, d, data, &r->data_len))) return -1;
    if (!(r->partition_key = arena_str(a, d, pk, &r->partition_key_len))) return -1;
    size_t sl;
    if (!(r->sequence_number = arena_str(a, d, seq, &sl)) || sl == 0 || sl > KCL_KINESIS_SEQ_MAX) return -1;
    if (present(d, ts) && seconds_to_ms(d, ts, &r->arrival_ms) != 0) return -1;
    if (present(d, enc)) {
        if (kcl_json_type_of(d, enc) != KCL_JSON_STRING) return -1;
        r->encryption = kcl_json_str_eq(d, enc, "KMS") ? KCL_ENCRYPTION_KMS : KCL_ENCRYPTION_NONE;
    }
    return 0;
}

static int decode_child(const kcl_json *d, kcl_jv c, arena *a, kcl_kinesis_child_shard *ch)
{
    memset(ch, 0, sizeof *ch);
    if (kcl_json_type_of(d, c) != KCL_JSON_OBJECT) return -1;
    kcl_jv id = kcl_json_get(d, c, "ShardId");
    size_t n;
    if (kcl_json_type_of(d, id) != KCL_JSON_STRING || !(ch->shard_id = arena_str(a, d, id, &n)) ||
        n == 0 || n > KCL_KINESIS_SHARD_ID_MAX)
        return -1;
    kcl_jv parents = kcl_json_get(d, c, "ParentShards");
    if (present(d, parents)) {
        if (kcl_json_type_of(d, parents) != KCL_JSON_ARRAY || kcl_json_count(d, parents) > 2) return -1;
        for (kcl_jv p = kcl_json_first(d, parents); p >= 0; p = kcl_json_next(d, p)) {
            if (kcl_json_type_of(d, p) != KCL_JSON_STRING) return -1;
            const char *s = arena_str(a, d, p, &n);
            if (!s || n == 0 || n > KCL_KINESIS_SHARD_ID_MAX) return -1;
            ch->parent_shards[ch->parent_count++] = s;
        }
    }
    kcl_jv hr = kcl_json_get(d, c, "HashKeyRange");
    if (present(d, hr)) {
        if (hash_range(d, hr, &ch->hash_range) != 0) return -1;
        ch->has_hash_range = 1;
    }
    return 0;
}

int kcl_kinesis_decode_get_records(const char *body, size_t len, kcl_kinesis_records **out,
                                   kcl_error *err)
{
    kcl_json doc = {0};
    kcl_jv root;
    arena a = {0};
    kcl_kinesis_records *r = NULL;
    *out = NULL;
    if (parse_root(&doc, body, len, &root, err) != 0) goto fail;

    kcl_jv recs = kcl_json_get(&doc, root, "Records");
    if (kcl_json_type_of(&doc, recs) != KCL_JSON_ARRAY) { malformed(err, "Records is not an array"); goto fail; }
    kcl_jv kids = kcl_json_get(&doc, root, "ChildShards");
    if (present(&doc, kids) && kcl_json_type_of(&doc, kids) != KCL_JSON_ARRAY) { malformed(err, "ChildShards is not an array"); goto fail; }
    size_t n = (size_t)kcl_json_count(&doc, recs);
    size_t nk = present(&doc, kids) ? (size_t)kcl_json_count(&doc, kids) : 0;

    /* One block: header | records | children | bytes. Each element takes at
     * least 2 body bytes, so these sizes are bounded by the body's. */
    size_t off_recs = align_up(sizeof *r);
    size_t off_kids = align_up(off_recs + n * sizeof(kcl_kinesis_record));
    size_t off_bytes = off_kids + nk * sizeof(kcl_kinesis_child_shard);
    size_t bytes = len + 64;
    r = malloc(off_bytes + bytes);
    if (!r) { kcl_error_set(err, KCL_ERR_FATAL, 0, "OutOfMemory", "out of memory for %zu records", n); goto fail; }
    memset(r, 0, sizeof *r);
    r->records = (kcl_kinesis_record *)((char *)r + off_recs);
    r->child_shards = (kcl_kinesis_child_shard *)((char *)r + off_kids);
    r->millis_behind_latest = -1;
    a.p = (char *)r + off_bytes;
    a.left = bytes;

    for (kcl_jv e = kcl_json_first(&doc, recs); e >= 0; e = kcl_json_next(&doc, e)) {
        if (r->count >= n || decode_record(&doc, e, &a, &r->records[r->count]) != 0) {
            malformed(err, "bad record");
            goto fail;
        }
        r->count++;
    }
    if (nk) {
        for (kcl_jv c = kcl_json_first(&doc, kids); c >= 0; c = kcl_json_next(&doc, c)) {
            if (r->child_count >= nk || decode_child(&doc, c, &a, &r->child_shards[r->child_count]) != 0) {
                malformed(err, "bad child shard");
                goto fail;
            }
            r->child_count++;
        }
    }
    kcl_jv it = kcl_json_get(&doc, root, "NextShardIterator");
    if (present(&doc, it)) {
        size_t il;
        if (kcl_json_type_of(&doc, it) != KCL_JSON_STRING || !(r->next_iterator = arena_str(&a, &doc, it, &il)) ||
            il == 0 || il > MAX_ITERATOR_LEN) {
            malformed(err, "bad NextShardIterator");
            goto fail;
        }
    }
    kcl_jv mb = kcl_json_get(&doc, root, "MillisBehindLatest");
    if (present(&doc, mb) && (kcl_json_int64(&doc, mb, &r->millis_behind_latest) != 0 ||
                              r->millis_behind_latest < 0)) {
        malformed(err, "bad MillisBehindLatest");
        goto fail;
    }
    kcl_buf_free(&a.tmp);
    kcl_json_free(&doc);
    *out = r;
    return 0;
fail:
    free(r);
    kcl_buf_free(&a.tmp);
    kcl_json_free(&doc);
    return -1;
}

/* ---- PutRecords ---------------------------------------------------------- */

int kcl_kinesis_build_put_records(kcl_buf *out, const char *stream_name,
                                  const kcl_kinesis_put_entry *entries, size_t n)
{
    kcl_jw w;
    size_t need = 64 + strlen(stream_name ? stream_name : "");
    for (size_t i = 0; i < n; i++)
        need += kcl_base64_encoded_len(entries[i].data_len) + 64 +
                (entries[i].partition_key ? strlen(entries[i].partition_key) : 0) + 70;
    kcl_buf_reset(out);
    if (kcl_buf_reserve(out, need) != 0) return -1;
    begin_stream_body(&w, out, stream_name);
    kcl_jw_key(&w, "Records");
    kcl_jw_arr_begin(&w);
    for (size_t i = 0; i < n; i++) {
        const kcl_kinesis_put_entry *e = &entries[i];
        kcl_jw_obj_begin(&w);
        kcl_jw_key(&w, "Data");
        kcl_jw_base64(&w, e->data ? e->data : "", e->data_len);
        kcl_jw_kstr(&w, "PartitionKey", e->partition_key ? e->partition_key : "");
        if (e->explicit_hash_key) kcl_jw_kstr(&w, "ExplicitHashKey", e->explicit_hash_key);
        kcl_jw_obj_end(&w);
    }
    kcl_jw_arr_end(&w);
    kcl_jw_obj_end(&w);
    return finish(out);
}

void kcl_kinesis_put_result_free(kcl_kinesis_put_result *r)
{
    free(r);
}

/* An optional string member copied into the arena; NULL when absent.
 * Returns -1 on a wrong type or no room. */
static int opt_arena_str(arena *a, const kcl_json *d, kcl_jv obj, const char *key, const char **out)
{
    kcl_jv v = kcl_json_get(d, obj, key);
    *out = NULL;
    if (!present(d, v)) return 0;
    if (kcl_json_type_of(d, v) != KCL_JSON_STRING) return -1;
    return (*out = arena_str(a, d, v, NULL)) ? 0 : -1;
}

int kcl_kinesis_decode_put_records(const char *body, size_t len, kcl_kinesis_put_result **out,
                                   kcl_error *err)
{
    kcl_json doc = {0};
    kcl_jv root;
    arena a = {0};
    kcl_kinesis_put_result *r = NULL;
    *out = NULL;
    if (parse_root(&doc, body, len, &root, err) != 0) goto fail;
    kcl_jv recs = kcl_json_get(&doc, root, "Records");
    if (kcl_json_type_of(&doc, recs) != KCL_JSON_ARRAY) { malformed(err, "Records is not an array"); goto fail; }
    size_t n = (size_t)kcl_json_count(&doc, recs);
    size_t off_entries = align_up(sizeof *r);
    size_t off_bytes = off_entries + n * sizeof(kcl_kinesis_put_result_entry);
    size_t bytes = len + 64;
    r = malloc(off_bytes + bytes);
    if (!r) { kcl_error_set(err, KCL_ERR_FATAL, 0, "OutOfMemory", "out of memory"); goto fail; }
    memset(r, 0, sizeof *r);
    r->entries = (kcl_kinesis_put_result_entry *)((char *)r + off_entries);
    a.p = (char *)r + off_bytes;
    a.left = bytes;

    int failed = 0;
    for (kcl_jv e = kcl_json_first(&doc, recs); e >= 0; e = kcl_json_next(&doc, e)) {
        if (r->count >= n) { malformed(err, "bad PutRecords entry"); goto fail; }
        kcl_kinesis_put_result_entry *pe = &r->entries[r->count];
        if (kcl_json_type_of(&doc, e) != KCL_JSON_OBJECT ||
            opt_arena_str(&a, &doc, e, "SequenceNumber", &pe->sequence_number) ||
            opt_arena_str(&a, &doc, e, "ShardId", &pe->shard_id) ||
            opt_arena_str(&a, &doc, e, "ErrorCode", &pe->error_code) ||
            opt_arena_str(&a, &doc, e, "ErrorMessage", &pe->error_message)) {
            malformed(err, "bad PutRecords entry");
            goto fail;
        }
        if (pe->error_code) {
            failed++;
            pe->sequence_number = pe->shard_id = NULL;
        } else if (!pe->sequence_number || !pe->shard_id) {
            malformed(err, "PutRecords entry with neither a sequence number nor an error");
            goto fail;
        } else {
            pe->error_message = NULL;
        }
        r->count++;
    }
    kcl_jv fc = kcl_json_get(&doc, root, "FailedRecordCount");
    r->failed_count = failed;
    if (present(&doc, fc)) {
        int v;
        if (small_int(&doc, fc, &v) != 0 || v != failed) { malformed(err, "FailedRecordCount disagrees with the entries"); goto fail; }
    }
    kcl_buf_free(&a.tmp);
    kcl_json_free(&doc);
    *out = r;
    return 0;
fail:
    free(r);
    kcl_buf_free(&a.tmp);
    kcl_json_free(&doc);
    return -1;
}

/* ---- stream administration ----------------------------------------------- */

int kcl_kinesis_build_create_stream(kcl_buf *out, const char *stream_name, int shard_count)
{
    kcl_jw w;
    begin_stream_body(&w, out, stream_name);
    kcl_jw_kint(&w, "ShardCount", shard_count);
    kcl_jw_obj_end(&w);
    return finish(out);
}

int kcl_kinesis_build_delete_stream(kcl_buf *out, const char *stream_name, int enforce_consumer_deletion)
{
    kcl_jw w;
    begin_stream_body(&w, out, stream_name);
    if (enforce_consumer_deletion) {
        kcl_jw_key(&w, "EnforceConsumerDeletion");
        kcl_jw_bool(&w, 1);
    }
    kcl_jw_obj_end(&w);
    return finish(out);
}

/* {"StreamName", k1: v1, k2: v2}: the body of SplitShard and MergeShards. */
static int build_two_keys(kcl_buf *out, const char *stream_name, const char *k1, const char *v1,
                          const char *k2, const char *v2)
{
    kcl_jw w;
    begin_stream_body(&w, out, stream_name);
    kcl_jw_kstr(&w, k1, v1 ? v1 : "");
    kcl_jw_kstr(&w, k2, v2 ? v2 : "");
    kcl_jw_obj_end(&w);
    return finish(out);
}

int kcl_kinesis_build_split_shard(kcl_buf *out, const char *stream_name, const char *shard_id,
                                  const char *new_starting_hash_key)
{
    return build_two_keys(out, stream_name, "ShardToSplit", shard_id,
                          "NewStartingHashKey", new_starting_hash_key);
}

int kcl_kinesis_build_merge_shards(kcl_buf *out, const char *stream_name, const char *shard_id,
                                   const char *adjacent_shard_id)
{
    return build_two_keys(out, stream_name, "ShardToMerge", shard_id,
                          "AdjacentShardToMerge", adjacent_shard_id);
}
