#!/usr/bin/env bash
# The Windows build, run and not only compiled (issue 33): builds the Windows
# (x86_64-pc-windows-gnu) test binaries and saml-login.exe once, makes one private Wine
# prefix for this run, runs the Windows unit tests under Wine (cargo's runner is
# scripts/wine/run.sh), then tests/integration/wine.rs, which drives saml-login.exe under
# Wine with moto and the test IdP on loopback. Assumes scripts/install-deps.sh ran.
#
# Shares nothing with the Linux `cargo test`: its own target triple directory (under
# CARGO_TARGET_DIR when set: scripts/test.sh gives it target/cross), its own prefix
# (TARGET_DIR/wine/prefix, made again each run), its own wineserver (killed at the end,
# also on failure), ephemeral ports. Its Linux part (the wine:: tests) is the integration
# test binary: built here with `cargo test`, or, when WINE_INTEGRATION_BINARY names a
# file, the binary that file names once it appears (scripts/test.sh writes it when its
# own build of the tests is done, so the binary is built once).
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-pc-windows-gnu
TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
WINE64=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver
export WINEPREFIX="$TARGET_DIR/wine/prefix"
export WINEDEBUG=-all
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="$PWD/scripts/wine/run.sh"
# The crates whose unit tests run under Wine: saml-login's library and the browser
# crates that have Windows code (the webview crate is WebView2, which Wine lacks).
PACKAGES=(-p saml-login -p saml-login-capture -p saml-login-system -p saml-login-http -p saml-login-headless)

started=$(date +%s)
cleanup() {
  # Every Wine process of this prefix ends with its wineserver.
  timeout 30 "$WINESERVER" -k 2>/dev/null || true
}
trap cleanup EXIT

echo "--> wine: build the Windows unit-test binaries and saml-login.exe (cargo-zigbuild)"
cargo-zigbuild test --no-run --locked --target "$TARGET" "${PACKAGES[@]}" --lib
cargo-zigbuild build --locked --target "$TARGET" --bin saml-login
built=$(date +%s)
echo "wine: build took $((built - started)) s"

echo "--> wine: a private prefix ($WINEPREFIX)"
cleanup
rm -rf "$WINEPREFIX"
mkdir -p "$(dirname "$WINEPREFIX")"
timeout --kill-after=10 300 "$WINE64" wineboot --init >/dev/null 2>&1
# Wine 8.0 lacks bcryptprimitives.dll, whose ProcessPrng Rust's std (1.78+) calls: a
# stand-in of a few lines (scripts/wine/bcryptprimitives.c) goes into system32.
python3 -m ziglang cc -target x86_64-windows-gnu -shared -O2 \
  -o "$WINEPREFIX/drive_c/windows/system32/bcryptprimitives.dll" \
  scripts/wine/bcryptprimitives.c -ladvapi32
# One wineserver for the whole run (each Wine program would otherwise start its own):
# wineboot's own server lingers a few seconds, and `-p` fails while it runs.
timeout 60 "$WINESERVER" -w
"$WINESERVER" -p
echo "wine: prefix ready after $(($(date +%s) - built)) s"

echo "--> wine: what Wine's Credential Manager keeps (scripts/wine/credblob.c)"
python3 -m ziglang cc -target x86_64-windows-gnu -O2 -o "$TARGET_DIR/wine/credblob.exe" \
  scripts/wine/credblob.c -ladvapi32
timeout --kill-after=10 120 "$WINE64" "$TARGET_DIR/wine/credblob.exe"

echo "--> wine: Windows unit tests under Wine"
timeout --kill-after=10 1200 cargo-zigbuild test --no-fail-fast --locked --target "$TARGET" "${PACKAGES[@]}" --lib

echo "--> wine: saml-login.exe under Wine (tests/integration/wine.rs)"
export SAML_LOGIN_WINE_EXE="$TARGET_DIR/$TARGET/debug/saml-login.exe"
if [ -n "${WINE_INTEGRATION_BINARY:-}" ]; then
  # Waits (at most an hour) for scripts/test.sh's build of the tests.
  for _ in $(seq 3600); do [ -s "$WINE_INTEGRATION_BINARY" ] && break; sleep 1; done
  bin=$(cat "$WINE_INTEGRATION_BINARY")
  [ -x "$bin" ] || { echo "wine: no integration test binary named in $WINE_INTEGRATION_BINARY" >&2; exit 1; }
  timeout --kill-after=10 1200 "$bin" wine:: --ignored --test-threads=1
else
  timeout --kill-after=10 1200 cargo test --locked --test integration wine:: -- --ignored --test-threads=1
fi

echo "wine: done in $(($(date +%s) - started)) s"
