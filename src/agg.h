/* agg — build KPL aggregated records (the inverse of deagg), for
 * `luakcl put --aggregate`: many user records packed into the data of one
 * Kinesis record as
 *     F3 89 9A C2 | protobuf AggregatedRecord | MD5(protobuf bytes)
 * with partition keys and explicit hash keys stored once each in tables.
 *
 * Usage: kcl_agg_new; kcl_agg_fits / kcl_agg_add user records until one does
 * not fit; kcl_agg_finish into a buffer and put it with
 * kcl_agg_partition_key / kcl_agg_explicit_hash_key as the Kinesis record's
 * keys; kcl_agg_reset and go on; kcl_agg_free at the end.
 *
 * Size accounting is exact: kcl_agg_size is the byte length kcl_agg_finish
 * will produce, so a caller stops before the Kinesis record limit. The
 * limit Kinesis checks is data + outer partition key <= 1 MiB; the default
 * budget leaves room for a 256-byte partition key.
 *
 * Pure module: no event loop, no Lua, no I/O. Not thread-safe per object. */
#ifndef KCL_AGG_H
#define KCL_AGG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "error.h"

#define KCL_AGG_RECORD_LIMIT  (1024u * 1024u)          /* Kinesis: data + partition key */
#define KCL_AGG_DEFAULT_MAX   (KCL_AGG_RECORD_LIMIT - 256u)
#define KCL_AGG_MAX_PK_BYTES  1024u                    /* 256 characters of UTF-8 at most */

typedef struct kcl_agg kcl_agg;

/* A new, empty aggregator whose aggregates never exceed `max_bytes` (whole
 * aggregate: magic, protobuf, checksum); 0 means KCL_AGG_DEFAULT_MAX.
 * Returns NULL when out of memory. Free with kcl_agg_free. */
kcl_agg *kcl_agg_new(size_t max_bytes);
void kcl_agg_free(kcl_agg *a);

/* Forget all records (keeps memory for reuse). */
void kcl_agg_reset(kcl_agg *a);

/* How many bytes adding this record would add to kcl_agg_size now (its
 * protobuf entry plus any new table entries). `ehk` may be NULL. */
size_t kcl_agg_record_size(const kcl_agg *a, const char *pk, size_t pk_len,
                           const char *ehk, size_t ehk_len, size_t data_len);

/* 1 if the record would fit under the budget now, else 0. A record that does
 * not fit in an empty aggregator never will. */
int kcl_agg_fits(const kcl_agg *a, const char *pk, size_t pk_len,
                 const char *ehk, size_t ehk_len, size_t data_len);

/* Append a user record (the aggregator copies everything). `ehk` is NULL for
 * none, else a decimal 0..2^128-1. Returns 0, or -1 with `err` filled
 * (KCL_ERR_INVALID_ARGUMENT: empty or over-long partition key, bad explicit
 * hash key, or the record does not fit; KCL_ERR_FATAL: out of memory); the
 * aggregator is unchanged on failure. `err` may be NULL. */
int kcl_agg_add(kcl_agg *a, const char *pk, size_t pk_len, const char *ehk, size_t ehk_len,
                const void *data, size_t len, kcl_error *err);

/* Number of user records held. */
size_t kcl_agg_count(const kcl_agg *a);

/* Byte length of the aggregate kcl_agg_finish would write now (20 when empty). */
size_t kcl_agg_size(const kcl_agg *a);

/* Append the finished aggregate to `out` (the aggregator keeps its records;
 * reset it to start the next one). Returns 0, or -1 with `err` filled when
 * memory runs out or MD5 fails (`out` is then unchanged). */
int kcl_agg_finish(kcl_agg *a, kcl_buf *out, kcl_error *err);

/* The keys to give the Kinesis record carrying the aggregate: the first user
 * record's partition key and explicit hash key (NULL, *len 0 when it has
 * none, or when the aggregator is empty). Pointers into the aggregator, valid
 * until the next add, reset or free; not NUL-terminated. */
const char *kcl_agg_partition_key(const kcl_agg *a, size_t *len);
const char *kcl_agg_explicit_hash_key(const kcl_agg *a, size_t *len);

#endif
