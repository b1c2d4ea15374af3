#!/usr/bin/env bash
# it_lua_forward — scripts/examples/forward.lua under `luakcl run` (kinesalite +
# dynalite): JSON records of a 2-shard source stream are transformed and put
# into a 3-shard target stream with kcl.put_records; the target, read back with
# the AWS SDK, holds every JSON object exactly once, transformed (its fields
# kept, forwarded_from = source shard, source_sequence = source sequence
# number, same partition key); records that are not JSON objects are logged
# and not forwarded; the source checkpoints reach each shard's last record.
# harness: (none)
set -u
. "$LUAKCL_SOURCE_DIR/tests/integration/lua/common.sh"
S="luait-fwd-src-$$" T="luait-fwd-dst-$$" APP="luait-fwd-app-$$" N=1200
export LUAIT_TARGET="$T"
"$BIN" create-stream "$S" --shards 2 >/dev/null 2>"$tmp/err" && ok || bad "create-stream $S: $(cat "$tmp/err")"
"$BIN" create-stream "$T" --shards 3 >/dev/null 2>"$tmp/err" && ok || bad "create-stream $T: $(cat "$tmp/err")"

node "$HELPER" put-json "$S" 1 600 && ok || bad "put-json 1..600"
# records that are not JSON objects: not JSON, a JSON string, a JSON number
printf '%s\n' 'not json at all' '"a string"' '42' | node "$HELPER" put-lines "$S" && ok || bad "put-lines"
start_worker "$LUAKCL_SOURCE_DIR/tests/integration/lua/forward_to_env.lua" --stream "$S" --app "$APP" --no-reload
node "$HELPER" put-json "$S" 601 $N && ok || bad "put-json 601..$N"

node "$HELPER" read "$S" >"$tmp/source" && ok || bad "read source"
awk -F'\t' '{ last[$1] = $2 } END { for (s in last) print s "\t" last[s] }' "$tmp/source" | sort >"$tmp/last"
cps_match() {
  "$BIN" status --app "$APP" --json 2>/dev/null | node -e '
    const rows = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const r of rows.sort((a, b) => a.shard < b.shard ? -1 : 1)) console.log(`${r.shard}\t${r.checkpoint}`);' \
    >"$tmp/cps" && diff -q "$tmp/cps" "$tmp/last" >/dev/null
}
# forward.lua checkpoints after its puts succeed: checkpoints at the last records = all forwarded
wait_for 40 "source checkpoints at each shard's last record" cps_match && ok || echo "checkpoints: $(cat "$tmp/cps")" >&2
stop_worker
[ "$worker_rc" = 0 ] && ok || bad "exit $worker_rc after SIGTERM; log tail: $(tail -5 "$tmp/run.log")"

node "$HELPER" read "$T" >"$tmp/target" && ok || bad "read target"
node -e '
  const fs = require("fs");
  const rows = (f) => fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => l.split("\t"));
  const source = rows(process.argv[1]), target = rows(process.argv[2]), n = Number(process.argv[3]);
  const bad = [];
  const want = new Map();   // "shard seq" -> source record
  let objects = 0;
  for (const [shard, seq, data, key] of source) {
    let obj; try { obj = JSON.parse(data); } catch (_) { continue; }
    if (obj === null || typeof obj !== "object" || Array.isArray(obj)) continue;
    objects++;
    want.set(`${shard} ${seq}`, { obj, key });
  }
  if (objects !== n) bad.push(`the source holds ${objects} JSON objects, ${n} put`);
  const seen = new Set();
  for (const [tshard, tseq, data, key] of target) {
    let o; try { o = JSON.parse(data); } catch (e) { bad.push(`target ${tseq}: not JSON: ${data}`); continue; }
    const id = `${o.forwarded_from} ${o.source_sequence}`;
    const src = want.get(id);
    if (!src) { bad.push(`target record from unknown source ${id}: ${data}`); continue; }
    if (seen.has(id)) bad.push(`source ${id} forwarded twice`);
    seen.add(id);
    if (o.n !== src.obj.n || o.user !== src.obj.user || Object.keys(o).length !== 4)
      bad.push(`source ${id}: forwarded as ${data}, source ${JSON.stringify(src.obj)}`);
    if (key !== src.key) bad.push(`source ${id}: partition key ${key}, source ${src.key}`);
  }
  for (const id of want.keys()) if (!seen.has(id)) { bad.push(`source ${id} never forwarded`); break; }
  if (target.length !== objects) bad.push(`${target.length} records in the target, ${objects} wanted`);
  if (bad.length) { console.error(bad.slice(0, 20).join("\n")); process.exit(1); }
  console.log(`forwarded: ${target.length} records, each once and transformed`);
' "$tmp/source" "$tmp/target" $N && ok || bad "the target stream"

skips=$(grep -c 'forward: skipping a record that is not a JSON object' "$tmp/run.log")
[ "$skips" = 3 ] && ok || bad "$skips 'not a JSON object' warnings, 3 wanted"
grep -q '"level":"error"' "$tmp/run.log" && bad "errors logged: $(grep '"level":"error"' "$tmp/run.log" | head -3)" || ok

"$BIN" delete-stream "$S" >/dev/null 2>&1; "$BIN" delete-stream "$T" >/dev/null 2>&1
finish
