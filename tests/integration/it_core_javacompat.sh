#!/usr/bin/env bash
# it_core_javacompat — KCL core scenario: resume a Java-KCL-format lease table (mid-shard checkpoint, SHARD_END parent with children, unknown 3.x attributes).
# The logic is in core/javacompat.js; the workers are core_driver processes.
# harness: (none)
export NODE_PATH="$LUAKCL_SOURCE_DIR/tests/harness/node_modules"
exec node "$LUAKCL_SOURCE_DIR/tests/integration/core/javacompat.js"
