#!/usr/bin/env bash
# Install what saml-login's demo and tests need on Debian: Chromium and its headless
# shell (--headless; the tests run with both), WebKitGTK and Xvfb (--webview), xdotool
# (closing windows and typing into them in tests), GNU time (peak memory in
# scripts/bench.sh), SimpleSAMLphp with PHP's command-line web server and openssl
# (tests/integration/simplesamlphp.rs: an IdP nobody here wrote; the package also pulls in a web
# server it does not use), strace (tests/integration/crash_safety.rs holds the file writes it
# kills inside), binutils (readelf: the libraries saml-login links), zsh and fish (the
# completion tests), moto's STS server (pip), and what scripts/package.sh needs:
# dpkg-dev and man-db, the musl target, zig (cargo-zigbuild, from PyPI) and cargo-deb;
# gnome-keyring and dbus (tests/integration/keyring.rs: a real Secret Service on a private session
# bus) and libsecret-tools (secret-tool: the tests read the keyring as another client);
# openssh-server and openssh-client (tests/integration/remote_shells.rs: a real sshd in a
# private network namespace and an `ssh -L` forward to it);
# the macOS and Windows targets for the cross-check (also zig); wine64 (scripts/test-wine.sh:
# the Windows build's tests under Wine 8.0, its loader /usr/lib/wine/wine64); mitmproxy (pip, in a venv of
# its own: the corporate-network tests' TLS-inspecting proxy).
# Whatever is already present is not installed again.
set -euo pipefail

SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"

need_apt=()
for pkg in chromium chromium-headless-shell xvfb xauth xdotool libwebkit2gtk-4.1-dev pkg-config build-essential curl iproute2 util-linux time \
  simplesamlphp php8.2-cli php8.2-xml php8.2-mbstring openssl strace binutils zsh fish dpkg-dev man-db gnome-keyring dbus libsecret-tools \
  openssh-server openssh-client wine64; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# ImageMagick's `import`: screenshots of the Xvfb display (tests/integration/console_profiles.rs).
dpkg -s imagemagick >/dev/null 2>&1 || need_apt+=(imagemagick)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "==> apt-get install ${need_apt[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! python3 -c "import moto, boto3, flask" >/dev/null 2>&1 || ! command -v moto_server >/dev/null 2>&1; then
  echo "==> pip install 'moto[server]'"
  python3 -m pip install -q 'moto[server]'
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi

# mitmproxy (tests/integration/corporate_network.rs: a TLS-inspecting proxy on loopback), in
# a venv of its own (its `cryptography` pin conflicts with moto's), mitmdump on PATH.
if ! command -v mitmdump >/dev/null 2>&1; then
  echo "==> pip install mitmproxy (venv /opt/mitmproxy)"
  $SUDO python3 -m venv /opt/mitmproxy
  $SUDO /opt/mitmproxy/bin/pip install -q 'mitmproxy>=11,<12'
  $SUDO ln -sf /opt/mitmproxy/bin/mitmdump /usr/local/bin/mitmdump
fi

# Release packages (scripts/package.sh): a static musl build linked by zig (aws-lc and
# ring need a C toolchain for musl), and cargo-deb. Pinned; checked before installing.
MUSL_TARGET=x86_64-unknown-linux-musl
if ! rustup target list --installed | grep -qx "$MUSL_TARGET"; then
  echo "==> rustup target add $MUSL_TARGET"
  rustup target add "$MUSL_TARGET"
fi
# The cross-check in scripts/test.sh: clippy and check for macOS (arm64) and Windows
# (x86-64, GNU ABI: the same cfg(windows) code as MSVC, and zig can be its C compiler).
for target in aarch64-apple-darwin x86_64-pc-windows-gnu; do
  if ! rustup target list --installed | grep -qx "$target"; then
    echo "==> rustup target add $target"
    rustup target add "$target"
  fi
done
if ! command -v cargo-zigbuild >/dev/null 2>&1 || ! python3 -m ziglang version >/dev/null 2>&1; then
  echo "==> pip install cargo-zigbuild ziglang"
  python3 -m pip install -q 'cargo-zigbuild==0.24.1' 'ziglang==0.17.1'
  command -v pyenv >/dev/null 2>&1 && pyenv rehash || true
fi
CARGO_DEB_VERSION=3.8.0
if [ "$(cargo deb --version 2>/dev/null)" != "cargo-deb $CARGO_DEB_VERSION" ]; then
  echo "==> cargo install cargo-deb $CARGO_DEB_VERSION"
  CARGO_INCREMENTAL=0 cargo install -q --locked cargo-deb --version "$CARGO_DEB_VERSION"
fi
