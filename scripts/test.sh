#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, checks formatting and
# lints (with and without the browser features), then runs every test with a virtual
# display for the webview.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

echo "==> src/ shape: no circle of module dependencies, no file over 500 lines of non-test code"
python3 scripts/check-architecture.py

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy (default features, then none)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --all-targets --no-default-features --locked -- -D warnings
# tests/packaging.rs has `test = false`, so --all-targets leaves it out.
cargo clippy --test packaging --locked -- -D warnings

# macOS and Windows, compiled here (issue 21): zig is the C compiler for the crates
# that build C (aws-lc, ring, objc2's exception helper). clippy type-checks everything
# `check` does and lints it; `check` then proves the plain compiler agrees.
echo "==> cross-check: clippy and check for aarch64-apple-darwin and x86_64-pc-windows-gnu"
for target in aarch64-apple-darwin x86_64-pc-windows-gnu; do
  cargo-zigbuild clippy --workspace --all-targets --locked --target "$target" -- -D warnings
  cargo-zigbuild clippy --all-targets --no-default-features --locked --target "$target" -- -D warnings
  cargo-zigbuild check --workspace --all-targets --locked --target "$target"
  cargo-zigbuild check --all-targets --no-default-features --locked --target "$target"
done

echo "==> cargo test --no-default-features --lib (a build without the browser features)"
cargo test --no-default-features --locked --lib

echo "==> cargo test (under Xvfb for the webview)"
xvfb-run -a -s "-screen 0 1280x1024x24" cargo test --workspace --locked -- --test-threads=4

# Release builds (the dist profile, then musl): its own step, after the other tests, so
# that it slows none of their timings; `cargo test` alone leaves it out.
echo "==> packages: scripts/package.sh, installed in a scratch root; cargo publish --dry-run --workspace, the packaged crates installed with cargo install (tests/packaging.rs)"
cargo test --locked --test packaging

echo "==> fuzz: replay the seed corpus and every fixed crash (must pass; a failure prints the panic and the input)"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
(cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -O --sanitizer none >/dev/null)
fuzz_bin="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"
bash fuzz/replay.sh "$fuzz_bin"

# Exploration finds new inputs at random: it reports them without turning the run red,
# so a chance find cannot block an unrelated change. Each find is printed here (base64)
# and copied to fuzz/open-crashes/, where it waits until fixed (see its README).
echo "==> fuzz: 30 s of exploration per target"
rm -rf fuzz/artifacts
FUZZ_NO_BUILD=1 bash fuzz/run.sh 30 || true
bash fuzz/report-finds.sh || echo "fuzz: a NEW find is printed above; add it to fuzz/crashes/ with a fix"
