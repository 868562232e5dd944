#!/usr/bin/env bash
# The browsers against their floors, side by side in one run (median of 7, release
# builds, under Xvfb):
#   - headless: Chromium launched headless loading a loopback page (the floor) vs
#     `saml-login --headless get-token` with a valid cookie jar (target: +400 ms);
#   - webview: a bare wry window loading a loopback page (the floor) vs
#     `saml-login --webview get-token` against the test IdP's immediate form (+300 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --release --locked --workspace --bins
cargo build --release --locked -p saml-login-webview --example floor
exec xvfb-run -a -s "-screen 0 1280x1024x24" python3 - "$PWD" <<'PY'
import os, socket, statistics, subprocess, sys, tempfile, time
root = sys.argv[1]
bin_ = f"{root}/target/release/saml-login"
floor = f"{root}/target/release/examples/floor"
py = sys.executable
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def timed(cmd, env=None, runs=7):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000
port = free()
idp = subprocess.Popen([py, f"{root}/tests/support/idp.py", "--auto-session", "--session-cookie", "bench-session",
                        "--callback", f"http://localhost:{port}/saml"], stdout=subprocess.PIPE, text=True)
url = idp.stdout.readline().split()[-1]
home = tempfile.mkdtemp()
open(f"{home}/.saml-login", "w").write(f"[DEFAULT]\nidp_url = {url}\nclient_id = test-client\nlisten_port = {port}\n")
jar = f"{home}/jar.txt"
open(jar, "w").write(f"127.0.0.1\tFALSE\t/\tFALSE\t0\tidp_session\tbench-session\n")
os.chmod(jar, 0o600)
env = dict(os.environ, HOME=home)
try:
    profile = tempfile.mkdtemp()
    chrome_floor = timed(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", f"--user-data-dir={profile}",
                          "--dump-dom", f"{url}/healthz"])
    headless = timed([bin_, "--headless", "--cookies", jar, "get-token"], env)
    print(f"headless: Chromium floor {chrome_floor:.0f} ms, saml-login --headless get-token {headless:.0f} ms, "
          f"difference {headless - chrome_floor:+.0f} ms (target +400)")
    wry_floor = timed([floor, f"{url}/healthz"])
    webview = timed([bin_, "--webview", "--fresh", "--no-cache", "get-token"], env)
    print(f"webview: wry floor {wry_floor:.0f} ms, saml-login --webview get-token {webview:.0f} ms, "
          f"difference {webview - wry_floor:+.0f} ms (target +300)")
finally:
    idp.kill()
PY
