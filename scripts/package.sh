#!/usr/bin/env bash
# The release packages, into target/dist/ (installs what it needs first):
#   saml-login_VERSION-1_amd64.deb          saml-login, aws-console, pkce-login, man page,
#                                           bash/zsh/fish completions; depends on libc6
#   saml-login-webview_VERSION-1_amd64.deb  the webview's process; depends on WebKitGTK 4.1
#   saml-login-VERSION-x86_64-unknown-linux-musl.tar.gz
#                                           the headless-only CLI, fully static (any Linux)
#   SHA256SUMS
# All built with the `dist` profile (Cargo.toml), as dist's release archives are.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MUSL=x86_64-unknown-linux-musl

bash scripts/install-deps.sh
export CARGO_INCREMENTAL=0

metadata=$(cargo metadata --no-deps --format-version 1 --locked)
field() { python3 -c 'import json, sys; m = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1" <<<"$metadata"; }
VERSION=$(field 'next(p["version"] for p in m["packages"] if p["name"] == "saml-login")')
TARGET_DIR=$(field 'm["target_directory"]')
BIN=$TARGET_DIR/dist
OUT=$ROOT/target/dist
# Generated here, not under the profile's directory: cargo-deb treats files there as
# build products (no gzipped man page). The path is the one [package.metadata.deb] names.
ASSETS=$ROOT/target/package-assets

step() { echo "==> $*"; }
timed() { local start=$SECONDS; "$@"; echo "    ($((SECONDS - start)) s)"; }

mkdir -p "$OUT"
rm -f "$OUT"/*.deb "$OUT"/*.tar.gz "$OUT"/SHA256SUMS

step "cargo build --profile dist (saml-login, saml-login-webview)"
timed cargo build --locked --profile dist -p saml-login -p saml-login-webview

step "man page and completions from the binary"
rm -rf "$ASSETS"
mkdir -p "$ASSETS"
"$BIN/saml-login" man >"$ASSETS/saml-login.1"
"$BIN/saml-login" completions bash >"$ASSETS/saml-login.bash"
"$BIN/saml-login" completions zsh >"$ASSETS/_saml-login"
"$BIN/saml-login" completions fish >"$ASSETS/saml-login.fish"

step "cargo deb (saml-login, saml-login-webview)"
for pkg in saml-login saml-login-webview; do
  cargo deb --locked --no-build --profile dist -p "$pkg" --output "$OUT/" >/dev/null
done

step "cargo zigbuild --target $MUSL (headless only, static)"
timed cargo zigbuild --locked --profile dist --target "$MUSL" -p saml-login \
  --no-default-features --features headless --bins
name=saml-login-$VERSION-$MUSL
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name" "$stage/$name/completions"
cp "$TARGET_DIR/$MUSL/dist/"{saml-login,aws-console,pkce-login} "$stage/$name/"
cp README.md LICENSE CHANGELOG.md "$ASSETS/saml-login.1" "$stage/$name/"
cp "$ASSETS/saml-login.bash" "$ASSETS/_saml-login" "$ASSETS/saml-login.fish" "$stage/$name/completions/"
# Reproducible: the same sources give the same tarball.
mtime=$(git log -1 --format=%ct 2>/dev/null || echo 0)
tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$mtime" \
  -cf - "$name" | gzip -n9 >"$OUT/$name.tar.gz"

step "SHA256SUMS"
(cd "$OUT" && sha256sum -- *.deb "$name.tar.gz" >SHA256SUMS && cat SHA256SUMS)
ls -l "$OUT"/*.deb "$OUT/$name.tar.gz"
