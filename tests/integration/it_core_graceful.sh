#!/usr/bin/env bash
# it_core_graceful — KCL core scenario: SIGTERM: REQUESTED shutdown, leases released, exit within the grace time, the other worker takes over at once.
# The logic is in core/graceful.js; the workers are core_driver processes.
# harness: (none)
export NODE_PATH="$LUAKCL_SOURCE_DIR/tests/harness/node_modules"
exec node "$LUAKCL_SOURCE_DIR/tests/integration/core/graceful.js"
