#!/usr/bin/env bash
# The demo's steps, run by scripts/demo.sh inside tests/harness/with-servers.js
# (which exports LUAKCL_TEST_KINESIS_ENDPOINT, LUAKCL_TEST_DYNAMODB_ENDPOINT and
# test credentials, and stops the servers when this script ends).
set -euo pipefail
luakcl=$1
records=${LUAKCL_DEMO_RECORDS:-3000}
stream=luakcl-demo
app=luakcl-demo-app
endpoints=(--endpoint "$LUAKCL_TEST_KINESIS_ENDPOINT" --dynamodb-endpoint "$LUAKCL_TEST_DYNAMODB_ENDPOINT")
work=$(mktemp -d)
worker=
cleanup() {
  if [ -n "$worker" ] && kill -0 "$worker" 2>/dev/null; then kill -TERM "$worker"; wait "$worker" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "   Kinesis  at $LUAKCL_TEST_KINESIS_ENDPOINT"
echo "   DynamoDB at $LUAKCL_TEST_DYNAMODB_ENDPOINT"
echo "== creating stream $stream with 4 shards"
"$luakcl" create-stream "$stream" --shards 4 "${endpoints[@]}"

echo "== putting $records sample records with luakcl put (random partition keys)"
for i in $(seq 1 "$records"); do printf '{"order": %d, "amount": %d.%02d}\n' "$i" $((i % 97)) $((i % 100)); done \
  | "$luakcl" put --stream "$stream" --random-keys "${endpoints[@]}"

echo "== running: luakcl run scripts/examples/dump.lua --stream $stream --app $app --initial-position TRIM_HORIZON"
: > "$work/worker.log"
"$luakcl" run scripts/examples/dump.lua --stream "$stream" --app "$app" --initial-position TRIM_HORIZON \
  --idle-time-ms 200 --failover-time-ms 5000 --log-format json "${endpoints[@]}" 2> "$work/worker.log" &
worker=$!

# Wait until every record has been logged by dump.lua (bounded).
deadline=$((SECONDS + 120))
seen=0
while [ "$seen" -lt "$records" ]; do
  if ! kill -0 "$worker" 2>/dev/null; then
    echo "the worker exited early; its log:" >&2; tail -20 "$work/worker.log" >&2; exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "timed out with $seen of $records records processed; log tail:" >&2; tail -20 "$work/worker.log" >&2; exit 1
  fi
  seen=$(grep -c '"msg":"record"' "$work/worker.log" || true)
  seen=${seen:-0}
  printf '\r   %d of %d records processed' "$seen" "$records"
  sleep 0.5
done
echo
echo "== a few of dump.lua's log lines:"
grep -m3 '"msg":"record"' "$work/worker.log" | cut -c1-200

echo "== stopping the worker with SIGTERM (graceful: checkpoints, leases released)"
kill -TERM "$worker"
wait "$worker"
echo "   worker exited with status $?"
worker=

echo "== luakcl status --app $app --stream $stream"
"$luakcl" status --app "$app" --stream "$stream" "${endpoints[@]}"
echo "== done: every record was processed; the servers stop now"
