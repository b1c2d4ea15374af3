/* cli_put — `luakcl put`: records from a stream of bytes (one per line, or
 * NUL-separated with --null) into a Kinesis stream with PutRecords.
 *
 * Batches hold at most 500 records and 5 MiB (data + partition keys). One
 * batch is in flight at a time; the records a PutRecords answer reports as
 * failed are sent again after a full-jitter backoff, at most
 * KCL_CLI_PUT_ATTEMPTS times each; what still fails is a permanent failure
 * (counted, the first ones reported on stderr with their error code).
 *
 * With --aggregate, user records are packed into KPL aggregated records
 * (agg.h), grouped by destination shard: the shard map comes from
 * ListShards (open shards), a record goes to the shard whose hash range
 * holds MD5(partition key), and the map is refreshed when no shard holds a
 * key or PutRecords put an aggregate in another shard than the map said. */
#ifndef KCL_CLI_PUT_H
#define KCL_CLI_PUT_H

#include "cli.h"

#include <stdio.h>

#define KCL_CLI_PUT_ATTEMPTS 8

typedef struct kcl_cli_put_stats {
    size_t read;              /* user records read */
    size_t written;           /* user records written */
    size_t failed;            /* user records that failed for good */
    size_t kinesis_records;   /* Kinesis records written (aggregates count once) */
    size_t retries;           /* records sent again */
    double seconds;
} kcl_cli_put_stats;

/* Put every record read from `in` into cli->cfg->stream (options from
 * cli->cfg: partition_key / random_keys, aggregate, null_separated).
 * `progress`: a terminal to draw progress on, or NULL. Returns 0 when every
 * record was written; -1 with err when some failed for good or the put
 * could not go on (st says how far it got). */
int kcl_cli_put(kcl_cli *cli, FILE *in, FILE *progress, kcl_cli_put_stats *st, char *err, size_t errlen);

#endif
