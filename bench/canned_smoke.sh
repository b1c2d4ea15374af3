#!/bin/sh
# ctest bench.canned_server_smoke: the canned benchmark server starts on a
# free port, answers ListShards, GetShardIterator and GetRecords (curl), and
# stops. usage: canned_smoke.sh PATH/TO/canned_server
set -eu
server=$1
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
"$server" --port 0 --shards 3 --records 25 --per-call 10 --record-size 100 > "$tmp/out" 2> "$tmp/err" &
pid=$!
i=0
while ! grep -q '^PORT ' "$tmp/out"; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "server did not start"; cat "$tmp/err"; exit 1; }
    sleep 0.05
done
port=$(sed -n 's/^PORT //p' "$tmp/out")
call() {  # call TARGET BODY
    curl -sS --fail-with-body -H "X-Amz-Target: $1" -H 'Content-Type: application/x-amz-json-1.1' \
         --data "$2" "http://127.0.0.1:$port/"
}
shards=$(call Kinesis_20131202.ListShards '{"StreamName":"bench"}')
echo "$shards" | grep -q '"ShardId":"shardId-000000000002"' || { echo "ListShards: $shards"; exit 1; }
it=$(call Kinesis_20131202.GetShardIterator \
     '{"StreamName":"bench","ShardId":"shardId-000000000001","ShardIteratorType":"TRIM_HORIZON"}' |
     sed 's/.*"ShardIterator":"\([^"]*\)".*/\1/')
[ -n "$it" ] || { echo "no iterator"; exit 1; }
recs=$(call Kinesis_20131202.GetRecords "{\"ShardIterator\":\"$it\",\"Limit\":10000}")
n=$(echo "$recs" | grep -o '"SequenceNumber"' | wc -l)
[ "$n" -eq 10 ] || { echo "GetRecords: expected 10 records, got $n: $(echo "$recs" | head -c 300)"; exit 1; }
echo "$recs" | grep -q '"MillisBehindLatest":1000' || { echo "GetRecords: no MillisBehindLatest"; exit 1; }
stats=$(curl -sS "http://127.0.0.1:$port/__stats")
echo "$stats" | grep -q '"records_served":10,' || { echo "stats: $stats"; exit 1; }
curl -sS -X POST "http://127.0.0.1:$port/__quit" > /dev/null
i=0
while kill -0 "$pid" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt 100 ] && { echo "server did not stop"; exit 1; }
    sleep 0.05
done
wait "$pid" || { echo "server exited with an error"; exit 1; }
pid=
echo "canned server smoke: ok (ListShards, GetShardIterator, 10 records, stats, quit)"
