/* cli_status — `luakcl status`: the lease table of an application as a
 * table (or JSON): shard, owner, checkpoint, lease counter, parents, state,
 * and with --stream each shard's lag.
 *
 * State: "finished" when the checkpoint is SHARD_END; "waiting on parents"
 * when a parent's lease is in the table and not finished; else "open".
 * Lag: GetShardIterator at the checkpoint (AFTER_SEQUENCE_NUMBER; a
 * TRIM_HORIZON checkpoint starts there; no checkpoint or another sentinel:
 * LATEST), then one GetRecords with Limit 1, whose MillisBehindLatest is the
 * lag. A shard whose peek fails shows "?" (text) / null (JSON) and a warning
 * line on stderr; finished shards have no lag. */
#ifndef KCL_CLI_STATUS_H
#define KCL_CLI_STATUS_H

#include "cli.h"

#include <stdio.h>

/* Needs cli->ddb, and cli->kin when cli->cfg->stream is set. Writes to out;
 * 0, or -1 with err (table missing, unreadable lease, ...). */
int kcl_cli_status(kcl_cli *cli, FILE *out, char *err, size_t errlen);

#endif
