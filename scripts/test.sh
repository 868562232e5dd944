#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what it needs, checks formatting and
# lints (with and without the browser features), then runs every test with a virtual
# display for the webview.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy (default features, then none)"
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo clippy --all-targets --no-default-features --locked -- -D warnings

echo "==> cargo test --no-default-features --lib (a build without the browser features)"
cargo test --no-default-features --locked --lib

echo "==> cargo test (under Xvfb for the webview)"
xvfb-run -a -s "-screen 0 1280x1024x24" cargo test --workspace --locked -- --test-threads=4

echo "==> fuzz/run.sh 30 (every fuzz target for 30 s)"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
bash fuzz/run.sh 30
