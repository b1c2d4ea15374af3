#!/usr/bin/env bash
# it_cli_retry — `luakcl put` through the fault proxy: throttled PutRecords
# calls are retried with backoff until the records are in (exit 0, every
# record read back once); a stream that keeps throttling makes put give up
# after its bounded attempts with exit 1 and the failure named.
# harness: --proxy
set -u
BIN="$LUAKCL_BUILD_DIR/luakcl"
export NODE_PATH="$LUAKCL_SOURCE_DIR/tests/harness/node_modules"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0
ok()  { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*" >&2; }
fault() { curl -s -X POST -H 'Content-Type: application/json' -d "$1" "$LUAKCL_TEST_KINESIS_PROXY/__luakcl/faults" >/dev/null; }
T='{"match":"Kinesis_20131202.PutRecords","action":"error","status":400,"type":"ProvisionedThroughputExceededException","message":"slow down"'

S="retry-$$"
"$BIN" create-stream "$S" --shards 2 --endpoint "$LUAKCL_TEST_KINESIS_ENDPOINT" 2>/dev/null && ok || bad "create-stream"
seq 1 200 >"$tmp/lines"
# 6 throttled answers: more than one call's own HTTP retries, so put must retry the records itself
fault "$T,\"count\":6}"
"$BIN" put --stream "$S" --endpoint "$LUAKCL_TEST_KINESIS_PROXY" <"$tmp/lines" 2>"$tmp/err"; rc=$?
[ $rc = 0 ] && ok || bad "put through throttling exit $rc: $(cat "$tmp/err")"
grep -qE "200 records read, 200 written in 200 Kinesis records, 0 failed, [1-9][0-9]* retried" "$tmp/err" && ok || bad "summary: $(cat "$tmp/err")"
stats=$(curl -s "$LUAKCL_TEST_KINESIS_PROXY/__luakcl/stats")
echo "$stats" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);process.exit(j.injected===6?0:1)})' && ok || bad "6 faults injected: $stats"
LUAKCL_TEST_KINESIS_ENDPOINT=$LUAKCL_TEST_KINESIS_ENDPOINT node "$LUAKCL_SOURCE_DIR/tests/integration/cli_helper.js" read "$S" >"$tmp/got" 2>/dev/null
if diff <(sort "$tmp/lines") <(sort "$tmp/got") >/dev/null; then ok; else bad "records read back: $(wc -l <"$tmp/got") lines"; fi

# a stream that never stops throttling: bounded attempts, exit 1, the error named
fault "$T,\"count\":1000}"
echo one | "$BIN" put --stream "$S" --endpoint "$LUAKCL_TEST_KINESIS_PROXY" 2>"$tmp/err"; rc=$?
[ $rc = 1 ] && ok || bad "put against endless throttling exit $rc"
grep -q "ProvisionedThroughputExceededException" "$tmp/err" && ok || bad "failure not named: $(cat "$tmp/err")"
grep -qE "1 records read, 0 written .* 1 failed" "$tmp/err" && ok || bad "summary: $(cat "$tmp/err")"
grep -q "luakcl put: 1 of 1 records failed" "$tmp/err" && ok || bad "final line: $(cat "$tmp/err")"

echo "it_cli_retry: $passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
