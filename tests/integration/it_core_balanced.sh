#!/usr/bin/env bash
# it_core_balanced — KCL core scenario 1 (4 shards, 20,000 records, 2 workers:
# exactly once, in order, leases 2/2 and stable, checkpoints at the end);
# the logic is in core/balanced.js, the workers are core_driver processes.
# harness: (none)
export NODE_PATH="$LUAKCL_SOURCE_DIR/tests/harness/node_modules"
exec node "$LUAKCL_SOURCE_DIR/tests/integration/core/balanced.js"
