/* record_batch — one GetRecords response turned into the batch a processor
 * sees: KPL aggregates split into user records (sub-sequence numbers 0..n-1),
 * records at or before a resume point skipped, and the hash-range policy for
 * aggregated sub-records applied. Pure: no I/O.
 *
 * Records whose data is not a valid aggregate (no magic, bad MD5, malformed
 * protobuf) are delivered as they are, as the Java KCL does. Sub-records
 * whose hash key falls outside the shard's range are delivered and counted
 * (`out_of_range`) unless `filter_out_of_range` asks for the Java KCL's
 * behaviour of dropping them. */
#ifndef KCL_RECORD_BATCH_H
#define KCL_RECORD_BATCH_H

#include "error.h"
#include "hashkey.h"
#include "kinesis_codec.h"
#include "processor.h"

typedef struct kcl_record_batch {
    kcl_kinesis_records *raw;        /* owned: the response the records point into */
    kcl_record *records;             /* owned array */
    size_t      count;
    char       *strings;             /* owned: NUL-terminated keys of sub-records */
    int64_t     millis_behind_latest;
    /* The last user record of the response, delivered or skipped (for
     * resuming an iterator after it): seq NULL when the response was empty. */
    const char *last_seq;
    int64_t     last_sub;
    size_t      aggregated;          /* raw records that were aggregates */
    size_t      out_of_range;        /* sub-records outside the shard's hash range */
    size_t      filtered;            /* of those, dropped (filter_out_of_range) */
} kcl_record_batch;

typedef struct kcl_batch_opts {
    const char *skip_seq;            /* skip user records <= (skip_seq, skip_sub); NULL = none */
    int64_t     skip_sub;
    const uint8_t *range_start;      /* the shard's hash range; NULL = unknown */
    const uint8_t *range_end;
    int         filter_out_of_range;
} kcl_batch_opts;

/* Build `b` from `raw`, taking ownership of raw (freed by kcl_record_batch_free,
 * or at once on failure). Returns 0, or -1 (out of memory) with err set. */
int kcl_record_batch_build(kcl_record_batch *b, kcl_kinesis_records *raw,
                           const kcl_batch_opts *opts, kcl_error *err);
void kcl_record_batch_free(kcl_record_batch *b);

#endif
