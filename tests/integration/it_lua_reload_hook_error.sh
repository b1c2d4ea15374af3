#!/usr/bin/env bash
# it_lua_reload_hook_error — a reload whose new on_reload(self) raises must not
# lose records, whatever --on-error says (README: "No record is lost,
# duplicated or reordered by a reload"; on_reload is not process_records, so
# the batch it runs before was never given to the script). Under
# `--on-error skip` and `--on-error retry`, with a 1-shard stream: v1 runs,
# v2 (whose on_reload raises) is saved over it, records put afterwards must
# all be processed exactly once, and the on_reload error is logged with
# proc.lua:LINE and the shard id.
# harness: (none)
set -u
. "$LUAKCL_SOURCE_DIR/tests/integration/lua/common.sh"
L="$LUAKCL_SOURCE_DIR/tests/integration/lua"
HOOK_LINE=$(grep -n 'error("on_reload cannot migrate")' "$L/reload_hook_v2.lua" | cut -d: -f1)

scenario() {
  local policy=$1
  local S="luait-hook-$policy-$$" APP="luait-hook-$policy-app-$$"
  export LUAIT_OUT="$tmp/$policy.got"
  mkdir -p "$tmp/$policy"
  local PROC="$tmp/$policy/proc.lua"
  cp "$L/reload_hook_v1.lua" "$PROC"
  "$BIN" create-stream "$S" --shards 1 >/dev/null 2>"$tmp/err" && ok || bad "create-stream: $(cat "$tmp/err")"
  node "$HELPER" put "$S" a 1 10 && ok || bad "put a"
  start_worker "$PROC" --stream "$S" --app "$APP" --on-error "$policy"
  wait_for 20 "$policy: wave a processed" lines_at_least "$LUAIT_OUT" 10 && ok
  cp "$L/reload_hook_v2.lua" "$PROC.new" && mv "$PROC.new" "$PROC"
  wait_for 20 "$policy: the reload" log_has '"msg":"lua: reloaded \(generation 2\)' && ok
  node "$HELPER" put "$S" b 1 5 && ok || bad "put b"
  wait_for 20 "$policy: on_reload's error logged" log_has 'lua on_reload failed' && ok
  node "$HELPER" put "$S" c 1 5 && ok || bad "put c"
  node "$HELPER" read "$S" >"$tmp/$policy.expected" && ok || bad "read back"
  local last; last=$(tail -1 "$tmp/$policy.expected" | cut -f2)
  cp_at_last() {
    "$BIN" status --app "$APP" --json 2>/dev/null | grep -qF "\"checkpoint\":\"$last\""
  }
  wait_for 20 "$policy: checkpoint at the last record" cp_at_last && ok
  stop_worker
  [ "$worker_rc" = 0 ] && ok || bad "$policy: exit $worker_rc after SIGTERM"
  grep -F 'lua on_reload failed' "$tmp/run.log" | grep -F '"shard":"shardId-000000000000"' \
    | grep -qF "proc.lua:$HOOK_LINE: on_reload cannot migrate" && ok \
    || bad "$policy: on_reload error lacks proc.lua:$HOOK_LINE or the shard: $(grep -F 'on_reload failed' "$tmp/run.log")"
  node "$HELPER" verify "$tmp/$policy.expected" "$LUAIT_OUT" && ok \
    || bad "$policy: records lost or repeated around a reload whose on_reload raised; log: $(grep -E 'skipping|redelivering' "$tmp/run.log" | cut -c1-240)"
  "$BIN" delete-stream "$S" >/dev/null 2>&1
}

scenario retry
scenario skip
finish
