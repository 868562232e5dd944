#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, checks the shape,
# formatting and lints (with and without the browser features), runs every test with a
# virtual display for the webview, builds and installs the packages, cross-checks macOS
# and Windows and replays the fuzzers. Prints how long each step took at the end.
#
# Two chains run side by side (a 2-core machine is the measure: see README, "Tests"):
#   - here, at normal priority: lints, the Linux build, its tests, the packages;
#   - scripts/test-other-targets.sh, at the lowest CPU priority, from the start: the
#     cross-check and the fuzzers, in target directories of their own. It shares no
#     port, file or display with the tests, and takes only the CPU they leave idle.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/steps.sh

step "install what the tests need (scripts/install-deps.sh)" bash scripts/install-deps.sh

mkdir -p target
rm -f target/integration-test-binary
other_log="$PWD/target/test-other-targets.log"
# setsid: its own process group, so that a failure here stops all of it.
other_start=$SECONDS
setsid nice -n 19 bash scripts/test-other-targets.sh >"$other_log" 2>&1 &
other=$!
trap 'kill -- -"$other" 2>/dev/null || true' EXIT

# The tests built once; the integration test binary's path goes to
# target/integration-test-binary for scripts/test-wine.sh, which runs its wine:: tests.
build_tests() {
  cargo test --workspace --locked --no-run --message-format=json-render-diagnostics >target/test-binaries.json
  python3 - target/test-binaries.json target/integration-test-binary <<'PY'
import json, os, sys
bins = [m["executable"] for m in map(json.loads, open(sys.argv[1]))
        if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "integration"
        and m.get("executable")]
assert len(bins) == 1, f"integration test binaries: {bins}"
open(sys.argv[2] + ".tmp", "w").write(bins[0])
os.replace(sys.argv[2] + ".tmp", sys.argv[2])
PY
}

step "the shape of src/ and browsers/*/src: layers, no circle, file lengths" \
  python3 scripts/check-architecture.py
step "cargo fmt --check" cargo fmt --all -- --check
step "cargo clippy (default features)" cargo clippy --workspace --all-targets --locked -- -D warnings
step "cargo clippy (no default features)" cargo clippy --all-targets --no-default-features --locked -- -D warnings
# tests/packaging.rs has `test = false`, so --all-targets leaves it out.
step "cargo clippy (tests/packaging.rs)" cargo clippy --test packaging --locked -- -D warnings

step "cargo test --no-default-features --lib (a build without the browser features)" \
  cargo test --no-default-features --locked --lib
step "build every test" build_tests
step "cargo test (under Xvfb for the webview)" \
  xvfb-run -a -s "-screen 0 1280x1024x24" cargo test --workspace --locked -- --test-threads=4

# Release builds (the dist profile, then musl): after the other tests, so that they slow
# none of their timings; `cargo test` alone leaves this file out.
step "packages: scripts/package.sh, installed in a scratch root; cargo publish --dry-run --workspace, the packaged crates installed with cargo install (tests/packaging.rs)" \
  cargo test --locked --test packaging

echo "==> waiting for scripts/test-other-targets.sh (cross-check, fuzz)"
rc=0
wait "$other" || rc=$?
trap - EXIT
sed 's/^/    | /' "$other_log"
printf '%6d s  %s\n' "$((SECONDS - other_start))" "scripts/test-other-targets.sh, from its start to the end of the wait for it (exit $rc; its steps are above)" >>"$STEPS_LOG"
steps_summary
if [ "$rc" != 0 ]; then
  echo "==> FAILED: scripts/test-other-targets.sh (exit $rc; its log is above)" >&2
  exit "$rc"
fi
