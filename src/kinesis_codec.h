/* kinesis_codec — the Kinesis Data Streams JSON 1.1 protocol as pure
 * functions: request bodies in (json.h writer into a kcl_buf), typed results
 * out (json.h reader over the response body). No ev, no curl, no allocation
 * beyond what a result owns, so it is unit-tested with canned bodies and
 * fuzzed (tests/fuzz/fuzz_kinesis.c).
 *
 * Every decoder takes the body of a 2xx response and either fills its result
 * and returns 0, or returns -1 with err->kind = KCL_ERR_MALFORMED (wrong JSON,
 * wrong types, a required field missing, bad base64, a string too long for
 * its field, an absurd count) and leaves the result empty: nothing to free.
 * Error responses (4xx/5xx) are aws.h's business (kcl_aws_parse_error).
 *
 * Strings in results are NUL-terminated. Fixed-size fields hold the API's
 * documented maximum lengths; a longer value is MALFORMED. */
#ifndef KCL_KINESIS_CODEC_H
#define KCL_KINESIS_CODEC_H

#include "buf.h"
#include "error.h"
#include "hashkey.h"

#include <stddef.h>
#include <stdint.h>

#define KCL_KINESIS_SHARD_ID_MAX   128   /* ShardId, stream name: 1..128 chars */
#define KCL_KINESIS_SEQ_MAX        128   /* SequenceNumber: digits, <= 128 */
#define KCL_KINESIS_ARN_MAX        2048
#define KCL_KINESIS_MAX_RECORDS    10000 /* GetRecords Limit and PutRecords batch are lower */

/* ---- shared shapes ------------------------------------------------------- */

/* A shard's closed hash-key range, as the API's decimal strings and as
 * 16-byte big-endian keys (hashkey.h) for comparisons. */
typedef struct kcl_kinesis_hash_range {
    char    starting[KCL_HASHKEY_DEC_MAX];
    char    ending[KCL_HASHKEY_DEC_MAX];
    uint8_t start_key[KCL_HASHKEY_LEN];
    uint8_t end_key[KCL_HASHKEY_LEN];
} kcl_kinesis_hash_range;

/* One shard of ListShards. Empty strings mean "absent": a shard without
 * parents has parent_shard_id[0] == 0; an open shard has
 * ending_sequence_number[0] == 0. */
typedef struct kcl_kinesis_shard {
    char shard_id[KCL_KINESIS_SHARD_ID_MAX + 1];
    char parent_shard_id[KCL_KINESIS_SHARD_ID_MAX + 1];
    char adjacent_parent_shard_id[KCL_KINESIS_SHARD_ID_MAX + 1];
    kcl_kinesis_hash_range hash_range;
    char starting_sequence_number[KCL_KINESIS_SEQ_MAX + 1];
    char ending_sequence_number[KCL_KINESIS_SEQ_MAX + 1];
} kcl_kinesis_shard;

/* Every shard of a stream (all ListShards pages appended). Owned: free with
 * kcl_kinesis_shard_list_free (the struct itself too when it came from
 * kinesis.h's callback; see there). */
typedef struct kcl_kinesis_shard_list {
    kcl_kinesis_shard *shards;
    size_t count;
    size_t cap;
} kcl_kinesis_shard_list;

/* Frees the shards and zeroes the list (not the struct's own memory). */
void kcl_kinesis_shard_list_clear(kcl_kinesis_shard_list *l);

/* ---- ListShards ---------------------------------------------------------- */

typedef enum {
    KCL_SHARD_FILTER_NONE = 0,
    KCL_SHARD_FILTER_AFTER_SHARD_ID,
    KCL_SHARD_FILTER_AT_TRIM_HORIZON,
    KCL_SHARD_FILTER_FROM_TRIM_HORIZON,
    KCL_SHARD_FILTER_AT_LATEST,
    KCL_SHARD_FILTER_AT_TIMESTAMP,
    KCL_SHARD_FILTER_FROM_TIMESTAMP
} kcl_kinesis_shard_filter_type;

typedef struct kcl_kinesis_list_shards_req {
    const char *stream_name;                  /* required */
    kcl_kinesis_shard_filter_type filter;     /* NONE = no ShardFilter */
    const char *filter_shard_id;              /* AFTER_SHARD_ID */
    int64_t     filter_timestamp_ms;          /* AT_/FROM_TIMESTAMP, epoch ms */
    int         max_results;                  /* 0 = server default */
} kcl_kinesis_list_shards_req;

/* The first page's body: StreamName (+ ShardFilter, MaxResults). Returns 0, -1 on OOM. */
int kcl_kinesis_build_list_shards(kcl_buf *out, const kcl_kinesis_list_shards_req *req);
/* A following page's body: NextToken only (+ MaxResults); the API rejects
 * StreamName together with NextToken. */
int kcl_kinesis_build_list_shards_next(kcl_buf *out, const char *next_token, int max_results);
/* Append one page's shards to `list`; *next_token gets a malloc'd copy of
 * NextToken, or NULL on the last page (caller frees). On failure the list
 * is as it was and *next_token is NULL. */
int kcl_kinesis_decode_list_shards(const char *body, size_t len, kcl_kinesis_shard_list *list,
                                   char **next_token, kcl_error *err);

/* ---- DescribeStreamSummary ----------------------------------------------- */

typedef enum {
    KCL_STREAM_UNKNOWN = 0,
    KCL_STREAM_CREATING,
    KCL_STREAM_DELETING,
    KCL_STREAM_ACTIVE,
    KCL_STREAM_UPDATING
} kcl_kinesis_stream_status;

typedef struct kcl_kinesis_stream_summary {
    char stream_name[KCL_KINESIS_SHARD_ID_MAX + 1];
    char stream_arn[KCL_KINESIS_ARN_MAX + 1];
    kcl_kinesis_stream_status status;   /* UNKNOWN for a status this code does not know */
    int     open_shard_count;
    int     retention_hours;
    int     consumer_count;             /* 0 when absent (kinesalite) */
    int64_t creation_ms;                /* StreamCreationTimestamp, 0 when absent */
    int     encrypted;                  /* EncryptionType == "KMS" */
} kcl_kinesis_stream_summary;

int kcl_kinesis_build_stream_name(kcl_buf *out, const char *stream_name);
int kcl_kinesis_decode_stream_summary(const char *body, size_t len,
                                      kcl_kinesis_stream_summary *out, kcl_error *err);
const char *kcl_kinesis_stream_status_name(kcl_kinesis_stream_status s);

/* ---- GetShardIterator ---------------------------------------------------- */

typedef enum {
    KCL_ITER_TRIM_HORIZON = 0,
    KCL_ITER_LATEST,
    KCL_ITER_AT_TIMESTAMP,
    KCL_ITER_AT_SEQUENCE_NUMBER,
    KCL_ITER_AFTER_SEQUENCE_NUMBER
} kcl_kinesis_iterator_type;

typedef struct kcl_kinesis_iterator_req {
    const char *stream_name;
    const char *shard_id;
    kcl_kinesis_iterator_type type;
    const char *sequence_number;   /* AT_/AFTER_SEQUENCE_NUMBER */
    int64_t     timestamp_ms;      /* AT_TIMESTAMP: epoch ms, sent as seconds with a fraction */
} kcl_kinesis_iterator_req;

const char *kcl_kinesis_iterator_type_name(kcl_kinesis_iterator_type t);
/* Returns 0, or -1 (err INVALID_ARGUMENT) when a field the type needs is missing. */
int kcl_kinesis_build_get_shard_iterator(kcl_buf *out, const kcl_kinesis_iterator_req *req,
                                         kcl_error *err);
/* *iterator gets a malloc'd copy of ShardIterator (caller frees). */
int kcl_kinesis_decode_get_shard_iterator(const char *body, size_t len, char **iterator,
                                          kcl_error *err);

/* ---- GetRecords ---------------------------------------------------------- */

typedef enum { KCL_ENCRYPTION_NONE = 0, KCL_ENCRYPTION_KMS } kcl_kinesis_encryption;

/* One record. Every pointer points into the owning kcl_kinesis_records'
 * single allocation. `data` is binary (may hold NULs) and is followed by a
 * NUL that is not counted; the strings are NUL-terminated. */
typedef struct kcl_kinesis_record {
    const uint8_t *data;
    size_t         data_len;
    const char    *partition_key;
    size_t         partition_key_len;
    const char    *sequence_number;
    int64_t        arrival_ms;          /* ApproximateArrivalTimestamp, epoch ms; 0 if absent */
    kcl_kinesis_encryption encryption;
} kcl_kinesis_record;

/* A child of a closed shard (GetRecords at shard end). At most two parents
 * (a split has one, a merge two). */
typedef struct kcl_kinesis_child_shard {
    const char *shard_id;
    const char *parent_shards[2];
    int         parent_count;
    kcl_kinesis_hash_range hash_range;
    int         has_hash_range;
} kcl_kinesis_child_shard;

/* One GetRecords response, decoded. Owned by whoever received it; free with
 * kcl_kinesis_records_free. One malloc holds this struct, the record and
 * child arrays and every decoded byte. */
typedef struct kcl_kinesis_records {
    kcl_kinesis_record      *records;
    size_t                   count;
    const char              *next_iterator;       /* NULL: the shard is closed and fully read */
    int64_t                  millis_behind_latest; /* -1 when absent */
    kcl_kinesis_child_shard *child_shards;
    size_t                   child_count;
} kcl_kinesis_records;

/* limit 0 = server default (10000). */
int kcl_kinesis_build_get_records(kcl_buf *out, const char *shard_iterator, int limit);
/* *out gets a new kcl_kinesis_records (NULL on failure). */
int kcl_kinesis_decode_get_records(const char *body, size_t len, kcl_kinesis_records **out,
                                   kcl_error *err);
void kcl_kinesis_records_free(kcl_kinesis_records *r);

/* ---- PutRecords ---------------------------------------------------------- */

typedef struct kcl_kinesis_put_entry {
    const void *data;               /* binary, may be NULL when data_len == 0 */
    size_t      data_len;
    const char *partition_key;      /* required, 1..256 chars */
    const char *explicit_hash_key;  /* decimal, or NULL */
} kcl_kinesis_put_entry;

/* Per-entry outcome, in request order: sequence_number + shard_id when it
 * was written, error_code + error_message when it failed (the call itself
 * still succeeded). Strings point into the owning result. */
typedef struct kcl_kinesis_put_result_entry {
    const char *sequence_number;    /* NULL when failed */
    const char *shard_id;           /* NULL when failed */
    const char *error_code;         /* NULL when written */
    const char *error_message;      /* NULL when written (or no message) */
} kcl_kinesis_put_result_entry;

typedef struct kcl_kinesis_put_result {
    int    failed_count;            /* FailedRecordCount */
    kcl_kinesis_put_result_entry *entries;
    size_t count;
} kcl_kinesis_put_result;

int kcl_kinesis_build_put_records(kcl_buf *out, const char *stream_name,
                                  const kcl_kinesis_put_entry *entries, size_t n);
/* *out gets one allocation (free with kcl_kinesis_put_result_free). */
int kcl_kinesis_decode_put_records(const char *body, size_t len, kcl_kinesis_put_result **out,
                                   kcl_error *err);
void kcl_kinesis_put_result_free(kcl_kinesis_put_result *r);

/* ---- stream administration (bodies only; their responses are empty) ------ */

int kcl_kinesis_build_create_stream(kcl_buf *out, const char *stream_name, int shard_count);
int kcl_kinesis_build_delete_stream(kcl_buf *out, const char *stream_name, int enforce_consumer_deletion);
/* new_starting_hash_key: decimal string. */
int kcl_kinesis_build_split_shard(kcl_buf *out, const char *stream_name, const char *shard_id,
                                  const char *new_starting_hash_key);
int kcl_kinesis_build_merge_shards(kcl_buf *out, const char *stream_name, const char *shard_id,
                                   const char *adjacent_shard_id);

#endif
