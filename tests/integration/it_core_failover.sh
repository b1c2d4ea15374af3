#!/usr/bin/env bash
# it_core_failover — KCL core scenario: SIGKILL one of two workers mid-stream; the survivor takes over in time, at least once, in order.
# The logic is in core/failover.js; the workers are core_driver processes.
# harness: (none)
export NODE_PATH="$LUAKCL_SOURCE_DIR/tests/harness/node_modules"
exec node "$LUAKCL_SOURCE_DIR/tests/integration/core/failover.js"
