# Sourced by scripts/test.sh and scripts/test-other-targets.sh: run named steps, print
# how long each took, and keep the figures for the summary at the end.
#   step NAME COMMAND...   runs COMMAND; on failure prints which step failed and exits
#   steps_summary          prints every step with its wall time
STEPS_LOG="${STEPS_LOG:-$(mktemp)}"
export STEPS_LOG

step() {
  local name="$1" start=$SECONDS rc=0
  shift
  echo "==> $name"
  "$@" || rc=$?
  local took=$((SECONDS - start))
  printf '%6d s  %s%s\n' "$took" "$name" "$([ "$rc" = 0 ] || echo "  (FAILED, exit $rc)")" >>"$STEPS_LOG"
  if [ "$rc" != 0 ]; then
    echo "==> FAILED: $name (exit $rc, after $took s)" >&2
    exit "$rc"
  fi
  echo "    ($took s)"
}

steps_summary() {
  echo "==> how long each step took (wall time)"
  cat "$STEPS_LOG"
}
