/* deagg — KPL (Kinesis Producer Library) aggregated records, decoded.
 *
 * An aggregated Kinesis record's data is
 *     F3 89 9A C2 | protobuf AggregatedRecord | MD5(protobuf bytes) (16 bytes)
 * and carries many user records ("sub-records"), each with its own partition
 * key, optional explicit hash key and data, numbered 0..n-1 (the
 * sub-sequence number) under the Kinesis record's sequence number.
 *
 * Decoding is zero-copy: every pointer in a kcl_user_record points into the
 * caller's input buffer and is valid as long as that buffer is. Strings are
 * NOT NUL-terminated; use the lengths.
 *
 * Like the Java KCL, a record that carries the magic but fails the checksum,
 * does not parse, or names a partition/explicit-hash-key table entry that does
 * not exist is not an aggregate: the parse returns -1 before calling back
 * anything, and the caller delivers the Kinesis record as it is. A batch is
 * never dropped.
 *
 * Pure module: no event loop, no Lua, no I/O. */
#ifndef KCL_DEAGG_H
#define KCL_DEAGG_H

#include <stddef.h>
#include <stdint.h>

#include "hashkey.h"

#define KCL_DEAGG_MAGIC     "\xF3\x89\x9A\xC2"
#define KCL_DEAGG_MAGIC_LEN 4
#define KCL_DEAGG_MD5_LEN   16

typedef struct kcl_user_record {
    const uint8_t *data;               /* into the input; may be empty (len 0) */
    size_t         len;
    const char    *partition_key;      /* into the input */
    size_t         pk_len;
    const char    *explicit_hash_key;  /* into the input; NULL when the record has none */
    size_t         ehk_len;            /* 0 when none */
    uint64_t       sub_sequence_number;
} kcl_user_record;

/* 1 if `data` starts with the KPL magic and is long enough to hold the magic
 * and a checksum, else 0. Says nothing about whether the rest is valid. */
int kcl_deagg_is_aggregated(const uint8_t *data, size_t len);

/* Called once per sub-record, in order. Return 0 to go on; anything else
 * stops the parse, which then returns -2. `r` is valid only during the call
 * (its pointers, into the input, stay valid longer). */
typedef int (*kcl_deagg_cb)(const kcl_user_record *r, void *ud);

/* Validate the whole aggregate (magic, MD5, protobuf structure, required
 * fields, table indexes) and then call `cb` for each sub-record in order.
 * Returns the number of sub-records (0 for a valid aggregate holding none;
 * the caller still counts its sequence number as seen), -1 if `data` is not a
 * valid aggregate (nothing was called back), or -2 if `cb` stopped the walk.
 * `cb` may be NULL to validate and count only. Allocates a small table index
 * (freed before return) only when the aggregate has many distinct keys. */
int kcl_deagg_parse(const uint8_t *data, size_t len, kcl_deagg_cb cb, void *ud);

/* Same, into a malloc'd array the caller frees with free(); *out is NULL when
 * the count is 0. Returns the count, or -1 if not a valid aggregate or out of
 * memory (then *out is NULL). */
int kcl_deagg_decode(const uint8_t *data, size_t len, kcl_user_record **out);

/* The hash key Kinesis routes `r` by: its explicit hash key (decimal) when it
 * has one, else MD5 of its partition key. Returns 0, or -1 if the explicit
 * hash key is not a decimal number in 0..2^128-1. */
int kcl_deagg_hash_key(const kcl_user_record *r, uint8_t out[KCL_HASHKEY_LEN]);

/* Whether `r` belongs to the shard whose hash range is [start, end]
 * (inclusive): 1 yes, 0 no, -1 if its hash key is invalid (the Java KCL
 * would fail there; deliver the record rather than drop it). The Java KCL
 * skips sub-records outside its shard's range: the KPL predicted the shard
 * from a shard map that a reshard has since changed. */
int kcl_deagg_in_range(const kcl_user_record *r, const uint8_t start[KCL_HASHKEY_LEN],
                       const uint8_t end[KCL_HASHKEY_LEN]);

#endif
