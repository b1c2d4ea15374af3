# Shared by the it_lua_*.sh tests (sourced). Runs inside tests/harness/with-servers.js.
. "$LUAKCL_SOURCE_DIR/tests/integration/sh_env.sh"
HELPER="$LUAKCL_SOURCE_DIR/tests/integration/lua/lua_helper.js"
worker=
cleanup() {
  if [ -n "$worker" ] && kill -0 "$worker" 2>/dev/null; then kill -KILL "$worker"; wait "$worker" 2>/dev/null; fi
  [ -n "${LUAIT_KEEP:-}" ] && echo "kept $tmp" >&2 || rm -rf "$tmp"
}
trap cleanup EXIT
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }

# wait_for SECONDS DESCRIPTION CMD...: poll CMD every 0.1 s until it succeeds, at most SECONDS;
# gives up early if the worker ($worker) has exited. Returns CMD's last status.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$((SECONDS + secs))
  while :; do
    "$@" && return 0
    if [ -n "$worker" ] && ! kill -0 "$worker" 2>/dev/null; then
      bad "waiting for $what: the worker exited; log tail: $(tail -5 "$tmp/run.log" 2>/dev/null)"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      bad "waiting for $what: not within ${secs} s; log tail: $(tail -5 "$tmp/run.log" 2>/dev/null)"
      return 1
    fi
    sleep 0.1
  done
}

# lines_at_least FILE N: FILE has at least N lines
lines_at_least() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
# log_has PATTERN: the worker's log has a line matching PATTERN (grep -E)
log_has() { grep -qE -- "$1" "$tmp/run.log"; }

# start_worker SCRIPT ARGS...: luakcl run in the background, JSON log in $tmp/run.log
start_worker() {
  local script=$1; shift
  "$BIN" run "$script" --initial-position TRIM_HORIZON --idle-time-ms 200 --log-format json "$@" \
    2>"$tmp/run.log" </dev/null &
  worker=$!
}

# stop_worker: SIGTERM and wait (bounded); sets worker_rc
stop_worker() {
  worker_rc=
  [ -n "$worker" ] || return
  kill -TERM "$worker" 2>/dev/null
  local deadline=$((SECONDS + 30))
  while kill -0 "$worker" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
  if kill -0 "$worker" 2>/dev/null; then
    bad "the worker did not stop within 30 s of SIGTERM; log tail: $(tail -5 "$tmp/run.log")"
    kill -KILL "$worker"
  fi
  wait "$worker"; worker_rc=$?
  worker=
}

finish() {
  echo "$(basename "$0" .sh): $passed passed, $failed failed"
  [ "$failed" = 0 ] && [ "$passed" -gt 0 ]
}
