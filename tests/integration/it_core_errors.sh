#!/usr/bin/env bash
# it_core_errors — KCL core scenario: the error policies on_error = retry, skip and stop for a failed batch.
# The logic is in core/errors.js; the workers are core_driver processes.
# harness: (none)
export NODE_PATH="$LUAKCL_SOURCE_DIR/tests/harness/node_modules"
exec node "$LUAKCL_SOURCE_DIR/tests/integration/core/errors.js"
