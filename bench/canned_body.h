/* canned_body — GetRecords response bodies for the benchmark fake server
 * (canned_server.c) and for the decode-floor benchmark
 * (decode_floor.c), so both measure exactly the same bytes.
 *
 * A body is made by copying a pre-built run of records and patching, in
 * place, each record's sequence number and arrival timestamp (fixed-width
 * fields): a few dozen bytes written per record, so the server costs far
 * less than the client it feeds. Benchmark code, not part of luakcl. */
#ifndef CANNED_BODY_H
#define CANNED_BODY_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

typedef struct canned_tmpl {
    char  *text;          /* max_records records, each rec_len bytes, each followed by ',' */
    size_t rec_len;       /* bytes of one record's JSON object plus its ',' */
    size_t max_records;
    size_t payload;       /* payload bytes per Kinesis record (the aggregate's size with KPL) */
    size_t user_records;  /* user records per Kinesis record (1, or the KPL aggregate's count) */
    size_t seq_off;       /* offset of the 56 sequence digits in a record */
    size_t ts_off;        /* offset of the 14-character arrival timestamp */
} canned_tmpl;

/* Build a template of `max_records` records of `record_size` payload bytes
 * each (or, with kpl > 0, each Kinesis record a KPL aggregate of `kpl` user
 * records of `record_size` bytes). Returns 0, or -1 out of memory. */
int canned_tmpl_init(canned_tmpl *t, size_t max_records, size_t record_size, int kpl);
void canned_tmpl_free(canned_tmpl *t);

/* The 56-digit sequence number of record `pos` of shard `shard`. */
void canned_seq(char out[57], unsigned shard, uint64_t pos);
/* Inverse: 0 (filling shard and pos), or -1 when `seq` is not one of ours. */
int canned_seq_parse(const char *seq, unsigned *shard, uint64_t *pos);

/* Append to `out` the body of a GetRecords answer: records pos..pos+count-1
 * of `shard` (count <= max_records), arrival time of record i =
 * arrival0_ms + i * arrival_step_us / 1000, then NextShardIterator and
 * MillisBehindLatest. Returns 0 or -1 out of memory. */
int canned_body(kcl_buf *out, const canned_tmpl *t, unsigned shard, uint64_t pos, size_t count,
                int64_t arrival0_ms, double arrival_step_us, const char *next_iterator,
                int64_t millis_behind);

#endif
