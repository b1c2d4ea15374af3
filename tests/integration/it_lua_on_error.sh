#!/usr/bin/env bash
# it_lua_on_error — a Lua processor that raises on the first two deliveries of
# the batch holding a marker record, under `luakcl run --on-error retry` and
# `--on-error skip` (kinesalite + dynalite):
#  retry: the batch is redelivered (the same records) until it succeeds, every
#         record is processed exactly once and in order, and the lease table
#         never shows a checkpoint at or past the failing batch before it
#         succeeded (the script snapshots the table at each delivery);
#  skip:  the failing batch is skipped, the log says so naming its records, and
#         exactly those records are missing, nothing else;
#  both:  the traceback in the log names the script file and line and carries
#         the shard id.
# harness: (none)
set -u
. "$LUAKCL_SOURCE_DIR/tests/integration/lua/common.sh"
SCRIPT="$LUAKCL_SOURCE_DIR/tests/integration/lua/raiser.lua"
RAISE_LINE=$(grep -n 'error("marker batch refused' "$SCRIPT" | cut -d: -f1)
CALL_LINE=$(grep -n 'then refuse(attempts) end' "$SCRIPT" | cut -d: -f1)
export LUAIT_MARKER="b-51"

scenario() {
  local policy=$1
  local S="luait-err-$policy-$$" APP="luait-err-$policy-app-$$"
  export LUAIT_OUT="$tmp/$policy.got" LUAIT_ATTEMPTS="$tmp/$policy.attempts"
  export LUAIT_STATUS_CMD="'$BIN' status --app '$APP' --json"
  "$BIN" create-stream "$S" --shards 2 >/dev/null 2>"$tmp/err" && ok || bad "create-stream: $(cat "$tmp/err")"
  node "$HELPER" put "$S" a 1 100 && ok || bad "put wave a"
  start_worker "$SCRIPT" --stream "$S" --app "$APP" --on-error "$policy" --no-reload
  wait_for 20 "$policy: wave a processed" lines_at_least "$LUAIT_OUT" 100 && ok
  # wave b in one PutRecords call: the marker b-51 arrives with other records around it
  node "$HELPER" put "$S" b 1 101 101 && ok || bad "put wave b"
  wait_for 20 "$policy: the marker batch delivered" lines_at_least "$LUAIT_ATTEMPTS" 1 && ok
  node "$HELPER" put "$S" c 1 100 && ok || bad "put wave c"
  node "$HELPER" read "$S" >"$tmp/$policy.expected" && ok || bad "read back"
  local total; total=$(wc -l <"$tmp/$policy.expected")
  [ "$total" = 301 ] && ok || bad "$policy: the stream holds $total records, 301 put"
  local mshard; mshard=$(awk -F'\t' -v m="$LUAIT_MARKER" '$3 == m { print $1 }' "$tmp/$policy.expected")

  if [ "$policy" = retry ]; then
    wait_for 30 "retry: every record processed" lines_at_least "$LUAIT_OUT" "$total" && ok
    cp "$tmp/$policy.expected" "$tmp/$policy.want"
  else
    wait_for 20 "skip: the skip logged" log_has 'skipping them \(on_error=skip\)' && ok
    # the records the log says were skipped: N (FIRST..LAST) on the marker's shard
    local line first last n
    line=$(grep -E 'skipping them \(on_error=skip\)' "$tmp/run.log" | head -1)
    n=$(sed -nE 's/.*failed on ([0-9]+) records \(([0-9]+)\.\.([0-9]+)\).*/\1/p' <<<"$line")
    first=$(sed -nE 's/.*failed on ([0-9]+) records \(([0-9]+)\.\.([0-9]+)\).*/\2/p' <<<"$line")
    last=$(sed -nE 's/.*failed on ([0-9]+) records \(([0-9]+)\.\.([0-9]+)\).*/\3/p' <<<"$line")
    grep -qF "\"shard\":\"$mshard\"" <<<"$line" && ok || bad "skip: the skip line lacks the marker's shard $mshard: $line"
    # expected after the skip: the stream minus that shard's records FIRST..LAST
    node -e '
      const [file, shard, first, last, n] = process.argv.slice(1);
      const lines = require("fs").readFileSync(file, "utf8").split("\n").filter(Boolean);
      let dropped = 0, marker = false;
      const keep = lines.filter((l) => {
        const [sh, seq, data] = l.split("\t");
        const out = sh === shard && BigInt(seq) >= BigInt(first) && BigInt(seq) <= BigInt(last);
        if (out) { dropped++; if (data === process.env.LUAIT_MARKER) marker = true; }
        return !out;
      });
      if (dropped !== Number(n) || !marker) {
        console.error(`skip: the log says ${n} records skipped (${first}..${last}); the stream has ${dropped} there, marker among them: ${marker}`);
        process.exit(1);
      }
      process.stdout.write(keep.map((l) => l + "\n").join(""));
    ' "$tmp/$policy.expected" "$mshard" "${first:-0}" "${last:-0}" "${n:-0}" >"$tmp/$policy.want" \
      && ok || bad "skip: the skipped records (log: $line)"
    wait_for 30 "skip: every other record processed" lines_at_least "$LUAIT_OUT" "$(wc -l <"$tmp/$policy.want")" && ok
  fi
  # checkpoints reach each shard's last record
  awk -F'\t' '{ last[$1] = $2 } END { for (s in last) print s "\t" last[s] }' "$tmp/$policy.expected" | sort >"$tmp/last"
  cps_match() {
    "$BIN" status --app "$APP" --json 2>/dev/null | node -e '
      const rows = JSON.parse(require("fs").readFileSync(0, "utf8"));
      for (const r of rows.sort((a, b) => a.shard < b.shard ? -1 : 1)) console.log(`${r.shard}\t${r.checkpoint}`);' \
      >"$tmp/cps" && diff -q "$tmp/cps" "$tmp/last" >/dev/null
  }
  wait_for 20 "$policy: checkpoints at each shard's last record" cps_match && ok || echo "checkpoints: $(cat "$tmp/cps")" >&2
  stop_worker
  [ "$worker_rc" = 0 ] && ok || bad "$policy: exit $worker_rc after SIGTERM; log tail: $(tail -5 "$tmp/run.log")"
  cp "$tmp/run.log" "$tmp/$policy.log"

  node "$HELPER" verify "$tmp/$policy.want" "$LUAIT_OUT" && ok || bad "$policy: exactly once, in order, nothing else skipped"

  # the deliveries of the marker batch, and the lease table at each
  local want_attempts=3; [ "$policy" = skip ] && want_attempts=1
  [ "$(wc -l <"$LUAIT_ATTEMPTS")" = "$want_attempts" ] && ok \
    || bad "$policy: the marker batch was delivered $(wc -l <"$LUAIT_ATTEMPTS") times, $want_attempts wanted"
  node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(Boolean);
    const bad = [];
    const a = lines.map((l) => l.split("\t"));
    for (const [n, shard, first, last, count, status] of a) {
      if (shard !== process.argv[2]) bad.push(`attempt ${n} on ${shard}, the marker is on ${process.argv[2]}`);
      if (first !== a[0][2] || last !== a[0][3] || count !== a[0][4])
        bad.push(`attempt ${n} delivered ${count} records ${first}..${last}, attempt 1 had ${a[0][4]} ${a[0][2]}..${a[0][3]}`);
      const row = JSON.parse(status).find((r) => r.shard === shard);
      const cp = row && row.checkpoint;
      if (!(cp === "TRIM_HORIZON" || (/^[0-9]+$/.test(cp) && BigInt(cp) < BigInt(first))))
        bad.push(`attempt ${n}: the lease table checkpoint ${cp} is not before the batch ${first}..${last}`);
    }
    if (bad.length) { console.error(bad.join("\n")); process.exit(1); }
  ' "$LUAIT_ATTEMPTS" "$mshard" && ok || bad "$policy: marker deliveries: $(cut -f1-5 "$LUAIT_ATTEMPTS")"

  # the tracebacks: script file and line (the error call and its caller), shard id
  local tb; tb=$(grep -F '"level":"error"' "$tmp/$policy.log" | grep -F 'lua process_records failed')
  local want_tb=2; [ "$policy" = skip ] && want_tb=1
  [ "$(grep -c . <<<"$tb")" = "$want_tb" ] && ok || bad "$policy: $want_tb tracebacks wanted, got: $tb"
  grep -F "\"shard\":\"$mshard\"" <<<"$tb" | grep -F "raiser.lua:$RAISE_LINE: marker batch refused, attempt 1" \
    | grep -F "stack traceback" | grep -qF "raiser.lua:$CALL_LINE" && ok \
    || bad "$policy: traceback lacks raiser.lua:$RAISE_LINE / :$CALL_LINE / shard $mshard: $tb"
  if [ "$policy" = retry ]; then
    grep -F "\"shard\":\"$mshard\"" "$tmp/$policy.log" | grep -qE 'attempt 1; redelivering the same batch' && ok \
      || bad "retry: no 'attempt 1; redelivering' line for $mshard"
    grep -F "\"shard\":\"$mshard\"" "$tmp/$policy.log" | grep -qE 'attempt 2; redelivering the same batch' && ok \
      || bad "retry: no 'attempt 2; redelivering' line for $mshard"
    grep -q 'skipping them' "$tmp/$policy.log" && bad "retry: something was skipped" || ok
  else
    grep -q 'redelivering' "$tmp/$policy.log" && bad "skip: a batch was redelivered" || ok
  fi
  "$BIN" delete-stream "$S" >/dev/null 2>&1
}

scenario retry
scenario skip
finish
