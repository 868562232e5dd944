//! The integration-test harness: a temporary HOME per test, no inherited `AWS_*`
//! variables, and real peers on loopback: moto's STS server, the project's Auth0-like
//! test IdP (`idp.py`), the STS error responder (`sts_errors.py`) and a browser
//! stand-in (`browser.py`), and SimpleSAMLphp (`simplesamlphp.rs`). Every server is
//! killed when its handle drops.

#![allow(dead_code)]

pub mod netns;
pub mod simplesamlphp;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const ROLE: &str = "arn:aws:iam::123456789012:role/Developer";
pub const PROVIDER: &str = "arn:aws:iam::123456789012:saml-provider/test-idp";
/// The keys saml-login writes into a credentials profile.
pub const CREDENTIAL_KEYS: [&str; 5] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "expiration",
    "x_security_token_expires",
];

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn support(file: &str) -> PathBuf {
    repo().join("tests/support").join(file)
}

/// The real Python interpreter (not a pyenv shim, whose children outlive a kill).
pub fn python() -> &'static str {
    static PY: OnceLock<String> = OnceLock::new();
    PY.get_or_init(|| {
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 is installed (the README's test command installs it)");
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    })
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process on loopback, killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Start a support script that prints `listening on URL` first.
    pub fn python(script: &str, args: &[&str]) -> Server {
        Self::python_script(script, args)
    }

    fn python_script(script: &str, args: &[&str]) -> Server {
        let mut child = Command::new(python())
            .arg(support(script))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("start {script}: {e}"));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("{script} said {line:?}"))
            .to_owned();
        let port = url.rsplit(':').next().unwrap().parse().unwrap();
        Server { child, port, url }
    }

    /// GET a path and return the body.
    pub fn get(&self, path: &str) -> String {
        http_get(&format!("{}{path}", self.url))
    }

    /// How many times the test IdP served `/samlp/...`: the logins it saw.
    pub fn samlp_requests(&self) -> u64 {
        let stats = self.get("/stats");
        let at = stats.find("\"samlp\": ").expect("the test IdP's /stats") + "\"samlp\": ".len();
        stats[at..]
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    }
}

/// The test IdP with `args` (see tests/support/README.md).
pub fn idp(args: &[&str]) -> Server {
    Server::python_script("idp.py", args)
}

/// A test IdP with a session for every browser that posts a `RelayState` of its own
/// (`forged`) to `callback`: a capture that must be refused while the wait goes on.
pub fn forging_idp(callback: &str) -> Server {
    idp(&[
        "--auto-session",
        "--callback",
        callback,
        "--relay-state-override",
        "forged",
    ])
}

/// The STS error responder replaying `kind`.
pub fn sts_errors(kind: &str, upstream: Option<&str>) -> Server {
    let mut args = vec!["--error", kind];
    if let Some(u) = upstream {
        args.extend(["--upstream", u]);
    }
    Server::python_script("sts_errors.py", &args)
}

/// A recording proxy in front of `upstream` (moto): every call is forwarded and
/// answered by moto, and its parameters are kept for [`sts_calls`]. `extra` adds
/// flags (`--error KIND --fail-call N` replays an STS error for the Nth
/// AssumeRoleWithSAML call instead).
pub fn sts_recorder(upstream: &Server, extra: &[&str]) -> Server {
    let mut args = vec!["--upstream", upstream.url.as_str()];
    args.extend_from_slice(extra);
    Server::python_script("sts_errors.py", &args)
}

/// The calls a [`sts_recorder`] received, in order: each one's form parameters.
pub fn sts_calls(recorder: &Server) -> Vec<std::collections::BTreeMap<String, String>> {
    serde_json::from_str(&recorder.get("/calls")).expect("the recorder answers JSON")
}

/// moto's server: a real STS implementation.
pub fn moto() -> Server {
    let port = free_port();
    let moto_server =
        which("moto_server").expect("moto_server is installed (pip install 'moto[server]')");
    let child = Command::new(moto_server)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto_server");
    let server = Server {
        child,
        port,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// A program on PATH, resolved past pyenv shims where possible.
pub fn which(name: &str) -> Option<PathBuf> {
    let out = Command::new(python())
        .args([
            "-c",
            &format!(
                "import shutil, sys, os; p = os.path.join(os.path.dirname(sys.executable), '{name}'); print(p if os.path.exists(p) else (shutil.which('{name}') or ''))"
            ),
        ])
        .output()
        .ok()?;
    let p = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (!p.is_empty()).then(|| PathBuf::from(p))
}

pub fn http_get(url: &str) -> String {
    let out = Command::new(python())
        .args([
            "-c",
            "import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=20).read().decode())",
            url,
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "GET {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The text of a base64 value (a `SAMLResponse`).
pub fn decode_b64(s: &str) -> String {
    use base64::Engine as _;
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(s).unwrap()).unwrap()
}

/// The SAMLResponse of the IdP's auto-submitting form (an IdP run with --auto-session).
pub fn fetch_saml_response(idp: &Server) -> String {
    let page = idp.get("/samlp/test-client");
    let start = page
        .find("name=\"SAMLResponse\" value=\"")
        .expect("form has SAMLResponse")
        + "name=\"SAMLResponse\" value=\"".len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].to_owned()
}

/// The XML of a base64 `SAMLResponse` (as `get-token` prints it).
pub fn decode_saml(b64: &str) -> String {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .unwrap_or_else(|e| panic!("not base64 ({e}): {b64:?}"));
    String::from_utf8(bytes).expect("the SAML response is UTF-8 XML")
}

/// Ask moto who the credentials of `profile` in `credentials_file` belong to.
pub fn caller_identity(moto: &Server, credentials_file: &Path, profile: &str) -> String {
    let out = Command::new(python())
        .args([
            "-c",
            "import boto3, sys; s = boto3.Session(profile_name=sys.argv[1]); \
             print(s.client('sts', endpoint_url=sys.argv[2], region_name='us-east-1').get_caller_identity()['Arn'])",
            profile,
            &moto.url,
        ])
        .env("AWS_SHARED_CREDENTIALS_FILE", credentials_file)
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "GetCallerIdentity: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// One test's world: a temporary HOME and the environment saml-login runs in.
pub struct Env {
    pub home: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
}

impl Env {
    pub fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let path = std::env::var("PATH").unwrap_or_default();
        Env {
            vars: vec![
                ("HOME".into(), home.path().display().to_string()),
                ("PATH".into(), path),
                ("LANG".into(), "C.UTF-8".into()),
                ("NO_COLOR".into(), "1".into()),
                // Nothing of the machine's AWS setup leaks in.
                (
                    "AWS_CONFIG_FILE".into(),
                    home.path().join(".aws/config").display().to_string(),
                ),
                ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
                // No session bus: with none set, the keyring client would try
                // /run/user/UID/bus, the desktop's real keyring (tests/keyring.rs
                // starts a private one where it needs one).
                (
                    "DBUS_SESSION_BUS_ADDRESS".into(),
                    "unix:path=/nonexistent/saml-login-tests-have-no-session-bus".into(),
                ),
            ],
            home,
        }
    }

    pub fn var(mut self, key: &str, value: impl Into<String>) -> Self {
        self.vars.push((key.into(), value.into()));
        self
    }

    /// Point STS at `server`.
    pub fn sts(self, server: &Server) -> Self {
        self.var("AWS_ENDPOINT_URL_STS", server.url.clone())
    }

    /// Use browser.py as the system browser, with extra arguments.
    pub fn test_browser(self, args: &str) -> Self {
        let cmd = format!("{} {} {args} %s", python(), support("browser.py").display());
        self.var("BROWSER", cmd)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.home.path().join(rel)
    }

    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Write ~/.saml-login.
    pub fn config(&self, text: &str) -> &Self {
        self.write(".saml-login", text);
        self
    }

    pub fn credentials_path(&self) -> PathBuf {
        self.path(".aws/credentials")
    }

    pub fn credentials(&self) -> String {
        std::fs::read_to_string(self.credentials_path()).unwrap_or_default()
    }

    /// `program` as a plain `std::process::Command` with this environment only, for
    /// children run in the background or under another program.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear().envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// saml-login as a plain `std::process::Command` (see [`Env::command`]).
    pub fn saml_login(&self) -> Command {
        self.command(assert_cmd::cargo::cargo_bin("saml-login"))
    }

    /// Run saml-login with `args`: its output, and its stderr as text.
    pub fn run(&self, args: &[&str]) -> (std::process::Output, String) {
        let out = self.cmd().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out, stderr)
    }

    /// Run saml-login with `args`, which must succeed; its stderr.
    pub fn ok(&self, args: &[&str]) -> String {
        let (out, stderr) = self.run(args);
        assert!(out.status.success(), "{args:?}: {stderr}");
        stderr
    }

    /// The saml-login binary in this world.
    pub fn cmd(&self) -> assert_cmd::Command {
        self.cmd_for("saml-login")
    }

    /// One of the project's binaries (`saml-login`, `pkce-login`, `aws-console`) in
    /// this world, with a 120 s limit.
    pub fn cmd_for(&self, bin: &str) -> assert_cmd::Command {
        let mut cmd =
            assert_cmd::Command::from_std(self.command(assert_cmd::cargo::cargo_bin(bin)));
        cmd.timeout(Duration::from_secs(120));
        cmd
    }
}

/// A world with the display the suite runs under (`DISPLAY`, `XAUTHORITY`), for the
/// webview and browser windows; its absence is a failure, not a skip.
pub fn display_env() -> Env {
    let display = std::env::var("DISPLAY")
        .expect("these tests need DISPLAY: run them under xvfb-run (scripts/test.sh does)");
    let mut env = Env::new().var("DISPLAY", display);
    if let Ok(auth) = std::env::var("XAUTHORITY") {
        env = env.var("XAUTHORITY", auth);
    }
    env
}

/// A process group started by a test, killed as a whole (SIGKILL to every member) when
/// the guard drops: on success, on a failed assertion, on a panic. Everything the
/// command starts stays in the group unless it leaves it on purpose.
pub struct GroupGuard {
    pub child: Child,
}

impl GroupGuard {
    /// Spawn `cmd` as the leader of a new process group.
    pub fn spawn(mut cmd: Command) -> GroupGuard {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
        GroupGuard {
            child: cmd.spawn().expect("spawn a test command"),
        }
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Wait for the leader at most `limit`; `None` if it is still running then.
    pub fn wait_for(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The leader's stdout and stderr (both piped) and exit status, within `limit`
    /// (a panic naming what was read when it is exceeded), and the command lines of
    /// the group's processes still running 2 s after the leader ended (then killed).
    pub fn output_within(mut self, limit: Duration) -> (std::process::Output, Vec<String>) {
        use std::io::Read;
        let mut pipes: Vec<std::thread::JoinHandle<Vec<u8>>> = [
            self.child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            self.child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .map(|p| {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                if let Some(mut p) = p {
                    let _ = p.read_to_end(&mut buf);
                }
                buf
            })
        })
        .collect();
        let status = self.wait_for(limit);
        let mut left = Vec::new();
        if status.is_some() {
            let deadline = Instant::now() + Duration::from_secs(2);
            loop {
                left = group_members(self.id());
                if left.is_empty() || Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        let left = left
            .into_iter()
            .map(|pid| {
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                format!(
                    "{pid}: {}",
                    String::from_utf8_lossy(&cmd).replace('\0', " ")
                )
            })
            .collect();
        // The group is killed before the pipes are read to their end: a member that
        // kept a pipe open cannot block the test.
        self.kill_group();
        let stderr = pipes.pop().unwrap().join().unwrap();
        let stdout = pipes.pop().unwrap().join().unwrap();
        let status = status.unwrap_or_else(|| {
            panic!(
                "still running after {limit:?}; stderr: {}",
                String::from_utf8_lossy(&stderr)
            )
        });
        (
            std::process::Output {
                status,
                stdout,
                stderr,
            },
            left,
        )
    }

    /// SIGKILL every process of the group (the leader is reaped on drop).
    pub fn kill_group(&self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }
}

/// A guard is used like the `Child` it holds (`wait`, `stdout.take()` ...).
impl std::ops::Deref for GroupGuard {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.child
    }
}

impl std::ops::DerefMut for GroupGuard {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.child
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill_group();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Pids of the live processes in process group `pgid`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter_map(|e| {
            let pid: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // pid (comm) state ppid pgrp ...
            let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            (rest.first() != Some(&"Z") && rest.get(2)? == &pgid.to_string()).then_some(pid)
        })
        .collect()
}

/// The command lines of the live processes whose arguments name `needle` (a test's own
/// TMPDIR, profile or HOME): how a test counts only its own processes.
pub fn processes_naming(needle: &str) -> Vec<String> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| {
            let cmd = std::fs::read(e.path().join("cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            let zombie = stat
                .rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'));
            (!zombie && cmd.contains(needle)).then_some(cmd)
        })
        .collect()
}

/// Pids of `root`'s descendants.
pub fn descendants(root: u32) -> Vec<(u32, String)> {
    let mut parent = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().filter_map(|e| e.ok()) {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // pid (comm) state ppid ...
        let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r) else {
            continue;
        };
        let ppid: u32 = rest
            .split_whitespace()
            .nth(1)
            .unwrap_or("0")
            .parse()
            .unwrap_or(0);
        let cmdline = std::fs::read(e.path().join("cmdline"))
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .unwrap_or_default();
        parent.push((pid, ppid, cmdline));
    }
    let mut found = std::collections::BTreeSet::from([root]);
    loop {
        let before = found.len();
        for (pid, ppid, _) in &parent {
            if found.contains(ppid) {
                found.insert(*pid);
            }
        }
        if found.len() == before {
            break;
        }
    }
    parent
        .into_iter()
        .filter(|(pid, _, _)| *pid != root && found.contains(pid))
        .map(|(pid, _, c)| (pid, c))
        .collect()
}

/// Whether `pid` runs (exists and is not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, r)| !r.trim_start().starts_with('Z'))
    })
}

/// The live Chromium processes started in `env` (browser, helpers and the crash
/// handlers it double-forks, which are no one's children): each names `env`'s HOME
/// (a profile under its TMPDIR, or the crash database under its `.config`).
pub fn chromium_of(env: &Env) -> Vec<String> {
    processes_naming(&env.home.path().display().to_string())
        .into_iter()
        .filter(|c| c.contains("chromium") || c.contains("chrome"))
        .collect()
}

/// Connect to 127.0.0.1:`port`, retrying until `limit` has passed (then panic): for a
/// server that is starting.
pub fn connect_within(port: u16, limit: Duration) -> TcpStream {
    let deadline = Instant::now() + limit;
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => {
                s.set_read_timeout(Some(limit)).unwrap();
                return s;
            }
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "nothing listened on 127.0.0.1:{port} within {limit:?}: {e}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// A configuration whose [DEFAULT] points at `idp` with callback port `port`.
pub fn config_for(idp: &Server, port: u16) -> String {
    format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = system\ntimeout = 30\n",
        idp.url
    )
}

/// Processes a test started, killed (and reaped) when dropped: a failing test leaves
/// none of them running.
pub struct KillOnDrop(pub Vec<Child>);

impl KillOnDrop {
    /// Wait for every process, at most `limit` in all, and return their outputs (their
    /// stdout and stderr must be piped). Past the limit every one is killed and the
    /// test fails.
    pub fn wait_all(mut self, limit: Duration) -> Vec<std::process::Output> {
        use std::io::Read;
        let readers: Vec<_> = self
            .0
            .iter_mut()
            .map(|child| {
                let mut out = child.stdout.take().expect("stdout piped");
                let mut err = child.stderr.take().expect("stderr piped");
                (
                    std::thread::spawn(move || {
                        let mut v = Vec::new();
                        let _ = out.read_to_end(&mut v);
                        v
                    }),
                    std::thread::spawn(move || {
                        let mut v = Vec::new();
                        let _ = err.read_to_end(&mut v);
                        v
                    }),
                )
            })
            .collect();
        let deadline = Instant::now() + limit;
        let mut statuses = vec![None; self.0.len()];
        while statuses.iter().any(Option::is_none) {
            for (child, status) in self.0.iter_mut().zip(statuses.iter_mut()) {
                if status.is_none() {
                    *status = child.try_wait().unwrap();
                }
            }
            assert!(
                Instant::now() < deadline,
                "processes still running after {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        statuses
            .into_iter()
            .zip(readers)
            .map(|(status, (out, err))| std::process::Output {
                status: status.unwrap(),
                stdout: out.join().unwrap(),
                stderr: err.join().unwrap(),
            })
            .collect()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// POST a form to `http://127.0.0.1:port/saml` with `Host: host`, as any local program
/// could (retrying the connection for up to 10 s while the server starts); the status
/// line of the answer, or `None` when nothing listened.
pub fn post_form(port: u16, host: &str, pairs: &[(&str, &str)]) -> Option<String> {
    use std::io::{Read, Write};
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(30)),
            Err(_) => return None,
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /saml HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    Some(reply.lines().next().unwrap_or_default().to_owned())
}
