#!/usr/bin/env bash
# it_core_stolen — KCL core scenario: a lease stolen mid-batch (rewritten in dynalite): ZOMBIE, failed checkpoint, no write by the old owner lands.
# The logic is in core/stolen.js; the workers are core_driver processes.
# harness: (none)
export NODE_PATH="$LUAKCL_SOURCE_DIR/tests/harness/node_modules"
exec node "$LUAKCL_SOURCE_DIR/tests/integration/core/stolen.js"
