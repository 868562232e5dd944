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
# tests/packaging.rs has `test = false`, so --all-targets leaves it out.
cargo clippy --test packaging --locked -- -D warnings

echo "==> cargo test --no-default-features --lib (a build without the browser features)"
cargo test --no-default-features --locked --lib

echo "==> cargo test (under Xvfb for the webview)"
xvfb-run -a -s "-screen 0 1280x1024x24" cargo test --workspace --locked -- --test-threads=4

# Release builds (the dist profile, then musl): its own step, after the other tests, so
# that it slows none of their timings; `cargo test` alone leaves it out.
echo "==> packages: scripts/package.sh, installed in a scratch root (tests/packaging.rs)"
cargo test --locked --test packaging

echo "==> fuzz: replay the seed corpus and every fixed crash (must pass)"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
(cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz build -O --sanitizer none >/dev/null)
fuzz_bin="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"
for target in assertion callback_form config cookie_jar credentials_store; do
  "$fuzz_bin/$target" -runs=0 "fuzz/corpus/$target" 2>/dev/null
  for crash in fuzz/crashes/"$target"-*; do
    [ -e "$crash" ] && "$fuzz_bin/$target" "$crash" 2>/dev/null
  done
  echo "fuzz replay $target: ok"
done

# Exploration finds new inputs at random: it reports them (fuzz/artifacts/) without
# turning the run red, so a chance find cannot block an unrelated change. Found inputs
# go to fuzz/open-crashes/ until fixed (see its README).
echo "==> fuzz: 30 s of exploration per target"
FUZZ_NO_BUILD=1 bash fuzz/run.sh 30 || echo "fuzz: a NEW crash was found: see fuzz/artifacts/"
