#!/usr/bin/env bash
# it_core_proxy — KCL core scenario: expired iterators and throttling injected by the fault proxy: no gap, no duplicate, other shards unaffected.
# The logic is in core/proxy.js; the workers are core_driver processes.
# harness: --proxy
export NODE_PATH="$LUAKCL_SOURCE_DIR/tests/harness/node_modules"
exec node "$LUAKCL_SOURCE_DIR/tests/integration/core/proxy.js"
