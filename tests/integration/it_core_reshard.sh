#!/usr/bin/env bash
# it_core_reshard — KCL core scenario: split one shard and merge two while records flow: every record, parents before children per key.
# The logic is in core/reshard.js; the workers are core_driver processes.
# harness: (none)
export NODE_PATH="$LUAKCL_SOURCE_DIR/tests/harness/node_modules"
exec node "$LUAKCL_SOURCE_DIR/tests/integration/core/reshard.js"
