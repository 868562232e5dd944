#!/usr/bin/env bash
# The browsers against their floors, side by side in one run (medians, release builds,
# under Xvfb):
#   - headless, once per Chromium build (the headless shell, then full Chromium): that
#     binary loading a loopback page on its own (its floor: `--headless --dump-dom`) vs
#     `saml-login --headless get-token` with a valid cookie jar and that binary
#     (target: at most 1.5x the floor), each with the peak memory of the browser's
#     processes (PSS summed over all of them, sampled every 10 ms in separate runs);
#   - the browserless login (`headless_mode = auto` with a valid jar, no Chromium
#     reachable: `CHROME` names nothing) vs the headless shell's floor (target: under
#     50 ms, under a third of the floor);
#   - webview: a bare wry window loading a loopback page (the floor) vs
#     `saml-login --webview get-token` against the test IdP's immediate form (+300 ms).
# RUNS=N sets the number of runs of each (default 8).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cargo build --release --locked --workspace --bins
cargo build --release --locked -p saml-login-webview --example floor
exec xvfb-run -a -s "-screen 0 1280x1024x24" python3 - "$PWD" "${RUNS:-8}" <<'PY'
import os, shutil, socket, statistics, subprocess, sys, tempfile, time
root, runs = sys.argv[1], int(sys.argv[2])
bin_ = f"{root}/target/release/saml-login"
floor = f"{root}/target/release/examples/floor"
py = sys.executable
def free():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p
def run(cmd, env=None):
    t = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - t) * 1000
def descendants(pid):
    children = {}
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                ppid = int(open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(p))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c); todo.append(c)
    return out
def pss_kib(pid):
    try:
        for line in open(f"/proc/{pid}/smaps_rollup"):
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0
def browser_peak_mib(cmd, env=None, with_root=True):
    """Peak of the PSS summed over the processes `cmd` starts (with or without itself)."""
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak = 0
    while p.poll() is None:
        pids = descendants(p.pid) + ([p.pid] if with_root else [])
        peak = max(peak, sum(pss_kib(x) for x in pids))
        time.sleep(0.01)
    assert p.returncode == 0, cmd
    return peak / 1024
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
    chromes = [shutil.which(n) for n in ("chromium-headless-shell", "chromium")]
    assert all(chromes), f"install chromium and chromium-headless-shell (found {chromes})"
    def floor_cmd(chrome):
        return [chrome, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", f"--user-data-dir={tempfile.mkdtemp()}",
                "--dump-dom", f"{url}/healthz"]
    def login_cmd(chrome):
        return ([bin_, "--headless", "--headless-mode", "chromium", "--cookies", jar, "get-token"],
                dict(env, CHROME=chrome))
    browserless_cmd = ([bin_, "--headless", "--cookies", jar, "get-token"],
                       dict(env, CHROME="/nonexistent/no-browser-for-this-run"))
    times = {c: ([], []) for c in chromes}
    browserless = []
    for _ in range(runs):  # side by side: every kind in each round
        for c in chromes:
            times[c][0].append(run(floor_cmd(c)))
            times[c][1].append(run(*login_cmd(c)))
        browserless.append(run(*browserless_cmd))
    memory = {c: ([], []) for c in chromes}
    for _ in range(max(3, runs // 2)):
        for c in chromes:
            memory[c][0].append(browser_peak_mib(floor_cmd(c)))
            cmd, e = login_cmd(c)
            memory[c][1].append(browser_peak_mib(cmd, e, with_root=False))
    med = statistics.median
    for c in chromes:
        f, l = med(times[c][0]), med(times[c][1])
        fm, lm = med(memory[c][0]), med(memory[c][1])
        print(f"headless, {os.path.basename(c)}: floor {f:.0f} ms, {fm:.0f} MiB; "
              f"saml-login --headless get-token {l:.0f} ms ({l / f:.2f}x the floor, target 1.5x, "
              f"{l - f:+.0f} ms), browser peak {lm:.0f} MiB")
    shell, full = chromes
    b, sf = med(browserless), med(times[shell][0])
    print(f"browserless: saml-login --headless get-token with a valid jar and no Chromium {b:.1f} ms "
          f"(p90 {sorted(browserless)[int(0.9 * (len(browserless) - 1))]:.1f} ms) vs the headless shell's floor "
          f"{sf:.0f} ms: {b / sf:.2f} of it (targets 50 ms, a third)")
    print(f"headless: the shell's browser peak is {med(memory[shell][1]) / med(memory[full][1]):.2f} of full Chromium's, "
          f"its login {med(times[shell][1]) / med(times[full][1]):.2f} of the time")
    wry_floor = med([run([floor, f"{url}/healthz"]) for _ in range(runs)])
    webview = med([run([bin_, "--webview", "--fresh", "--no-cache", "get-token"], env) for _ in range(runs)])
    print(f"webview: wry floor {wry_floor:.0f} ms, saml-login --webview get-token {webview:.0f} ms, "
          f"difference {webview - wry_floor:+.0f} ms (target +300)")
finally:
    idp.kill()
PY
