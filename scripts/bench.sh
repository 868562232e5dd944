#!/usr/bin/env bash
# Figures for the README's targets, printed in one run:
#   - the pipeline benchmarks (cargo bench): parse of 2 and 500 roles, store update;
#   - `saml-login --help` as a whole process (target: under 5 ms);
#   - the whole system-browser login against the test IdP and moto, minus the time the
#     browser stand-in spends itself (target: under 100 ms).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --release --locked
BIN=$PWD/target/release/saml-login
PY=$(python3 -c 'import sys; print(sys.executable)')

echo "==> cargo bench"
cargo bench --locked --bench pipeline -- --noplot 2>/dev/null | grep -E "^(parse|update)|time:"

echo "==> saml-login --help, 200 runs"
"$PY" - "$BIN" <<'PY'
import subprocess, sys, time
runs = []
for _ in range(200):
    t = time.perf_counter(); subprocess.run([sys.argv[1], "--help"], stdout=subprocess.DEVNULL, check=True)
    runs.append(time.perf_counter() - t)
runs.sort()
print(f"--help: median {runs[100]*1000:.2f} ms, p90 {runs[180]*1000:.2f} ms")
PY

echo "==> whole system-browser login (aws-assume-role) minus the browser's own time, 20 runs"
"$PY" - "$BIN" "$PY" <<'PY'
import os, socket, subprocess, sys, tempfile, time
bin_, py = sys.argv[1], sys.argv[2]
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
sts = free(); port = free()
moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(sts)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
idp = subprocess.Popen([py, "tests/support/idp.py", "--auto-session", "--callback", f"http://localhost:{port}/saml"], stdout=subprocess.PIPE, text=True)
url = idp.stdout.readline().split()[-1]
for _ in range(100):
    try: socket.create_connection(("127.0.0.1", sts), 0.2).close(); break
    except OSError: time.sleep(0.1)
home = tempfile.mkdtemp()
open(f"{home}/.saml-login", "w").write(f"[DEFAULT]\nidp_url = {url}\nclient_id = test-client\nlisten_port = {port}\nbrowser = system\n")
log = f"{home}/browser.log"
env = {"HOME": home, "PATH": os.environ["PATH"], "AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{sts}",
       "BROWSER": f"{py} {os.getcwd()}/tests/support/browser.py --timing {log} %s"}
own = []
try:
    for i in range(21):
        if os.path.exists(log): os.remove(log)
        t = time.perf_counter()
        subprocess.run([bin_, "--no-cache", "aws-assume-role", "--force", "--account", "123456789012",
                        "--role", "Developer", "--profile", "p"],
                       env=env, check=True, stderr=subprocess.DEVNULL)
        total = time.perf_counter() - t
        for _ in range(100):  # the stand-in writes its figure just after its last request
            if os.path.exists(log) and open(log).read():
                break
            time.sleep(0.02)
        browser = float(open(log).read())
        if i: own.append(total - browser)
    own.sort()
    print(f"login minus browser: median {own[10]*1000:.1f} ms, max {own[-1]*1000:.1f} ms")
finally:
    moto.kill(); idp.kill()
PY

echo "==> credential-process on a cache hit, whole process, 200 runs"
"$PY" - "$BIN" "$PY" <<'PY'
import os, socket, subprocess, sys, tempfile, time
bin_, py = sys.argv[1], sys.argv[2]
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
sts = free(); port = free()
moto = subprocess.Popen(["moto_server", "-H", "127.0.0.1", "-p", str(sts)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
idp = subprocess.Popen([py, "tests/support/idp.py", "--auto-session", "--callback", f"http://localhost:{port}/saml"], stdout=subprocess.PIPE, text=True)
url = idp.stdout.readline().split()[-1]
for _ in range(100):
    try: socket.create_connection(("127.0.0.1", sts), 0.2).close(); break
    except OSError: time.sleep(0.1)
home = tempfile.mkdtemp()
open(f"{home}/.saml-login", "w").write(
    f"[DEFAULT]\nidp_url = {url}\nclient_id = test-client\nlisten_port = {port}\nbrowser = system\n"
    "[dev]\naws_account = 123456789012\naws_role = Developer\n")
env = {"HOME": home, "PATH": os.environ["PATH"], "AWS_ENDPOINT_URL_STS": f"http://127.0.0.1:{sts}",
       "BROWSER": f"{py} {os.getcwd()}/tests/support/browser.py %s"}
cmd = [bin_, "-c", "dev", "credential-process"]
try:
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)  # fills the cache
    walls = []
    for _ in range(200):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - t)
    walls.sort()
    # Peak memory through GNU time, not os.wait4 from here: Linux keeps a process's
    # peak RSS across execve, and Python starts children with vfork, so wait4 reports
    # this Python process's own RSS (about 14 MB even for /bin/true). GNU time forks
    # from a process of about 1 MB, which the calibration line shows.
    def peak(argv):
        out = subprocess.run(["/usr/bin/time", "-f", "%M", *argv], env=env, check=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        return int(out.stderr.strip().splitlines()[-1])
    peaks = [peak(cmd) for _ in range(50)]
    floor = max(peak(["/bin/true"]) for _ in range(10))
    print(f"credential-process (cache hit): median {walls[100]*1000:.2f} ms, p90 {walls[180]*1000:.2f} ms, "
          f"peak RSS {max(peaks)/1024:.1f} MB (max of 50; /bin/true measured the same way: {floor/1024:.1f} MB)")
finally:
    moto.kill(); idp.kill()
PY
