#!/usr/bin/env bash
# The main job, on this machine: install what is missing, build luakcl, start
# local kinesalite (Kinesis) and dynalite (DynamoDB) on free loopback ports,
# create a 4-shard stream, put sample records with `luakcl put`, run
# scripts/examples/dump.lua with `luakcl run` until every record has been
# processed, show `luakcl status`, and stop everything it started.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
bash scripts/setup.sh
echo "== building luakcl (build/demo)"
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLUAKCL_TESTS=OFF >/dev/null
cmake --build build/demo -j"$(nproc)" --target luakcl >/dev/null
echo "== starting kinesalite and dynalite on free loopback ports"
exec node tests/harness/with-servers.js -- bash scripts/demo-run.sh "$here/build/demo/luakcl"
