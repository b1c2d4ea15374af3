#!/usr/bin/env bash
# it_lua_reload — hot reload of a Lua processor under `luakcl run` while records
# flow (kinesalite + dynalite, 4 shards). v1 tags each record "v1" and counts
# per shard on self; v2 is saved over it (by rename, as editors do) while a
# wave of records is being put; after the reload log line: every record was
# processed exactly once and in order per shard, v2's on_reload ran once per
# shard with v1's counter, the counters went on without a gap (state on self
# kept), no v1 line follows a v2 line, and records put after the reload are
# tagged v2. Then a broken v3 (syntax error) written in place is refused with
# file:line in the log, v2 keeps running with its counters, and SIGTERM stops
# the worker with checkpoints at each shard's last record.
# harness: (none)
set -u
. "$LUAKCL_SOURCE_DIR/tests/integration/lua/common.sh"
L="$LUAKCL_SOURCE_DIR/tests/integration/lua"
S="luait-reload-$$" APP="luait-reload-app-$$"
export LUAIT_OUT="$tmp/got" LUAIT_RELOADS="$tmp/reloads"
mkdir -p "$tmp/app"
PROC="$tmp/app/proc.lua"
cp "$L/reload_v1.lua" "$PROC"

"$BIN" create-stream "$S" --shards 4 >/dev/null 2>"$tmp/err" && ok || bad "create-stream: $(cat "$tmp/err")"
node "$HELPER" put "$S" w1 1 400 && ok || bad "put wave 1"
start_worker "$PROC" --stream "$S" --app "$APP"
wait_for 20 "wave 1 processed" lines_at_least "$LUAIT_OUT" 400 && ok

# wave 2 in ten PutRecords calls of 50, in the background: calls 1-5 while the script is
# replaced (records flow during the reload), calls 6-10 once the reload is logged
reloaded() { grep -qE '"msg":"lua: reloaded \(generation 2\)' "$tmp/run.log"; }
( for i in $(seq 0 9); do
    if [ "$i" = 5 ]; then
      deadline=$((SECONDS + 20)); until reloaded || [ "$SECONDS" -ge "$deadline" ]; do sleep 0.1; done
    fi
    node "$HELPER" put "$S" w2 $((i * 50 + 1)) $((i * 50 + 50)) || exit 1
  done ) &
putter=$!
wait_for 20 "wave 2 under way" lines_at_least "$LUAIT_OUT" 450 && ok
cp "$L/reload_v2.lua" "$tmp/app/.proc.lua.new" && mv "$tmp/app/.proc.lua.new" "$PROC"
wait_for 20 "the reload log line" reloaded && ok
wait "$putter" && ok || bad "put wave 2"
node "$HELPER" put "$S" w3 1 400 && ok || bad "put wave 3"
wait_for 30 "waves 1-3 processed" lines_at_least "$LUAIT_OUT" 1300 && ok

# ---- a broken v3, written in place: refused, v2 keeps running ----------------------------
V3_LINE=$(grep -n 'if then end' "$L/reload_v3_broken.lua" | cut -d: -f1)
cat "$L/reload_v3_broken.lua" >"$PROC"
wait_for 20 "v3 refused in the log" log_has 'reload refused' && ok
grep -F 'reload refused' "$tmp/run.log" | grep -qF "proc.lua:$V3_LINE:" && ok \
  || bad "the refusal does not name proc.lua:$V3_LINE: $(grep -F 'reload refused' "$tmp/run.log")"
grep -F 'reload refused' "$tmp/run.log" | grep -q '"level":"error"' && ok || bad "the refusal is not an error line"
node "$HELPER" put "$S" w4 1 400 && ok || bad "put wave 4"
wait_for 30 "wave 4 processed" lines_at_least "$LUAIT_OUT" 1700 && ok

node "$HELPER" read "$S" >"$tmp/expected" && ok || bad "read back"
awk -F'\t' '{ last[$1] = $2 } END { for (s in last) print s "\t" last[s] }' "$tmp/expected" | sort >"$tmp/last"
cps_match() {
  "$BIN" status --app "$APP" --json 2>/dev/null | node -e '
    const rows = JSON.parse(require("fs").readFileSync(0, "utf8"));
    for (const r of rows.sort((a, b) => a.shard < b.shard ? -1 : 1)) console.log(`${r.shard}\t${r.checkpoint}`);' \
    >"$tmp/cps" && diff -q "$tmp/cps" "$tmp/last" >/dev/null
}
wait_for 20 "checkpoints at each shard's last record" cps_match && ok || echo "checkpoints: $(cat "$tmp/cps")" >&2
stop_worker
[ "$worker_rc" = 0 ] && ok || bad "exit $worker_rc after SIGTERM; log tail: $(tail -5 "$tmp/run.log")"

node "$HELPER" verify "$tmp/expected" "$LUAIT_OUT" && ok || bad "exactly once, in order, across the reloads"
[ "$(grep -c '"msg":"lua: reloaded' "$tmp/run.log")" = 1 ] && ok \
  || bad "one successful reload wanted: $(grep 'lua: reloaded' "$tmp/run.log")"
[ "$(grep -c '"msg":"reload_v2: on_reload"' "$tmp/run.log")" = 4 ] && ok || bad "on_reload not logged once per shard"
node -e '
  const fs = require("fs");
  const rows = (f) => fs.readFileSync(f, "utf8").split("\n").filter(Boolean).map((l) => l.split("\t"));
  const got = rows(process.argv[1]), reloads = rows(process.argv[2]);
  const bad = [];
  const by = new Map();
  for (const [shard, seq, data, tag, counter] of got) {
    if (!by.has(shard)) by.set(shard, []);
    by.get(shard).push({ data, tag, counter: Number(counter) });
  }
  const reloadAt = new Map(), w2 = {};
  for (const [shard, counter] of reloads) {
    if (reloadAt.has(shard)) bad.push(`on_reload ran twice on ${shard}`);
    reloadAt.set(shard, Number(counter));
  }
  if (by.size !== 4) bad.push(`records from ${by.size} shards, 4 wanted`);
  for (const [shard, recs] of by) {
    let v1 = 0;
    recs.forEach((r, i) => {
      if (r.counter !== i + 1) bad.push(`${shard}: record ${i + 1} (${r.data}) has counter ${r.counter}`);
      if (r.tag === "v1") v1++;
      else if (r.tag !== "v2") bad.push(`${shard}: tag ${r.tag}`);
      if (i && r.tag === "v1" && recs[i - 1].tag === "v2") bad.push(`${shard}: v1 after v2 at ${r.data}`);
      const after = /^w[34]-/.test(r.data) || (/^w2-/.test(r.data) && Number(r.data.slice(3)) > 250);
      if (after && r.tag !== "v2") bad.push(`${shard}: ${r.data}, put after the reload, tagged ${r.tag}`);
      if (/^w2-/.test(r.data)) w2[r.tag] = (w2[r.tag] || 0) + 1;
      if (/^w1-/.test(r.data) && r.tag !== "v1") bad.push(`${shard}: ${r.data}, processed before the reload, tagged ${r.tag}`);
    });
    if (!reloadAt.has(shard)) bad.push(`${shard}: on_reload never ran`);
    else if (reloadAt.get(shard) !== v1) bad.push(`${shard}: on_reload saw counter ${reloadAt.get(shard)}, v1 processed ${v1}`);
  }
  // at least the 50 records processed before the script was replaced are v1
  if (!(w2.v1 >= 50)) bad.push(`only ${w2.v1 || 0} records of wave 2 tagged v1, 50 or more wanted`);
  if (bad.length) { console.error(bad.slice(0, 20).join("\n")); process.exit(1); }
  console.log(`wave 2: ${w2.v1} records on v1, ${w2.v2} on v2`);
  const v1s = [...by.values()].map((r) => r.filter((x) => x.tag === "v1").length);
  console.log(`reload: v1 records per shard ${v1s.join(",")}; counters continuous; later records v2`);
' "$LUAIT_OUT" "$LUAIT_RELOADS" && ok || bad "tags, counters and on_reload"

grep -q '"level":"error"' <(grep -vF 'reload refused' "$tmp/run.log") \
  && bad "errors logged: $(grep '"level":"error"' "$tmp/run.log" | grep -vF 'reload refused' | head -3)" || ok
"$BIN" delete-stream "$S" >/dev/null 2>&1
finish
