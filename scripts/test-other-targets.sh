#!/usr/bin/env bash
# The part of scripts/test.sh that needs no display and shares no port or file with the
# Linux tests: the macOS and Windows cross-check, the Windows build under Wine, then the
# fuzz targets. scripts/test.sh
# runs it beside the Linux build and tests, at the lowest CPU priority, so that it takes
# the CPU those leave idle (the integration tests wait on browsers and servers much of the
# time) without slowing them. It builds in target/cross and fuzz/target, never in
# target/: two cargo commands in one target directory wait for each other's lock.
set -euo pipefail
cd "$(dirname "$0")/.."
unset STEPS_LOG # a summary of its own, printed at its end
. scripts/steps.sh
export CARGO_TARGET_DIR="$PWD/target/cross"

# macOS and Windows, compiled here (issue 21): zig is the C compiler for the crates
# that build C (aws-lc, ring, objc2's exception helper). clippy type-checks and lints
# everything `cargo check` would (it is check with lints), with and without the
# browser features.
for target in aarch64-apple-darwin x86_64-pc-windows-gnu; do
  step "cross-check: clippy --target $target" \
    cargo-zigbuild clippy --workspace --all-targets --locked --target "$target" -- -D warnings
  step "cross-check: clippy --no-default-features --target $target" \
    cargo-zigbuild clippy --all-targets --no-default-features --locked --target "$target" -- -D warnings
done

# The Windows build run under Wine (issue 33): its unit tests, then saml-login.exe driven
# by the Linux integration test binary that scripts/test.sh builds (its path is written to
# target/integration-test-binary when that build is done).
step "Windows under Wine (scripts/test-wine.sh)" \
  env WINE_INTEGRATION_BINARY="$PWD/target/integration-test-binary" bash scripts/test-wine.sh

# The fuzz targets: replay the seed corpus and every fixed crash (must pass; a failure
# prints the panic and the input), then 30 s of exploration per target. Exploration finds
# new inputs at random: it reports them without turning the run red, so a chance find
# cannot block an unrelated change. Each find is printed (base64) and copied to
# fuzz/open-crashes/, where it waits until fixed (see its README).
command -v cargo-fuzz >/dev/null 2>&1 || step "cargo install cargo-fuzz" cargo install --locked cargo-fuzz
unset CARGO_TARGET_DIR
step "fuzz: build" bash -c 'cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -O --sanitizer none >/dev/null'
fuzz_bin="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"
step "fuzz: replay the seeds and fixed crashes" bash fuzz/replay.sh "$fuzz_bin"
rm -rf fuzz/artifacts
step "fuzz: 30 s of exploration per target" bash -c 'FUZZ_NO_BUILD=1 bash fuzz/run.sh 30 || true
  bash fuzz/report-finds.sh || echo "fuzz: a NEW find is printed above; add it to fuzz/crashes/ with a fix"'
steps_summary
