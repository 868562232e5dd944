//! The integration-test harness: a temporary HOME per test, no inherited `AWS_*`
//! variables, and real peers on loopback: moto's STS server, the project's Auth0-like
//! test IdP (`idp.py`), the STS error responder (`sts_errors.py`) and a browser
//! stand-in (`browser.py`), and SimpleSAMLphp (`simplesamlphp.rs`). Every server is
//! killed when its handle drops.

// Parts of the harness only the Linux-only test modules use go unused elsewhere.
#![cfg_attr(not(target_os = "linux"), allow(dead_code))]

#[cfg(target_os = "linux")]
pub mod console;
#[cfg(target_os = "linux")]
pub mod mitm;
#[cfg(target_os = "linux")]
pub mod netns;
#[cfg(target_os = "linux")]
pub mod remote;
#[cfg(target_os = "linux")]
pub mod simplesamlphp;
#[cfg(target_os = "linux")]
pub mod ssh;
#[cfg(target_os = "linux")]
pub mod wine;

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, OnceLock};
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

/// Real browsers (headless Chromium, the SimpleSAMLphp runs) one at a time across the
/// whole test binary: two cores, one display, timing assertions. Hold the guard for the
/// test's length; "no Chromium left" checks count only their own run's processes anyway.
pub fn serial() -> MutexGuard<'static, ()> {
    static BROWSER: Mutex<()> = Mutex::new(());
    BROWSER.lock().unwrap_or_else(|e| e.into_inner())
}

/// A free loopback port, handed out once per test process, from below the kernel's
/// ephemeral range (32768-60999 on Linux, 49152 and up elsewhere). A port the kernel
/// picked for port 0 was free only until released: any program's next outgoing
/// connection could take it as its local port before saml-login bound it ("port ... is
/// already in use", seen once in a whole run). Ports under 32768 are never given to
/// outgoing connections, and each test of this process gets its own.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Another test process (a crate's own tests) starts elsewhere in the span.
    let start = std::process::id().wrapping_mul(7919) % SPAN;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(
            n < SPAN,
            "no free loopback port left in {LOW}..{}",
            LOW + SPAN
        );
        let port = u16::try_from(LOW + (start + n) % SPAN).unwrap();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
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
///
/// The port is chosen before moto binds it, so another process can take it in
/// between: a server is only returned once moto itself answers there (its own API),
/// and a moto that could not bind (it exits) is started again on another port.
pub fn moto() -> Server {
    let moto_server =
        which("moto_server").expect("moto_server is installed (pip install 'moto[server]')");
    for _ in 0..5 {
        let port = free_port();
        let child = Command::new(&moto_server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let mut server = Server {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if server.child.try_wait().ok().flatten().is_some() {
                break; // it could not bind: the port was taken; another one
            }
            if is_moto(port) {
                return server;
            }
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    panic!("moto_server did not start on any of 5 ports");
}

/// Whether moto answers on `port` (its own API, which no other server has).
fn is_moto(port: u16) -> bool {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .proxy(None)
        .build()
        .into();
    agent
        .get(&format!("http://127.0.0.1:{port}/moto-api/data.json"))
        .call()
        .and_then(|mut reply| reply.body_mut().read_to_string())
        .is_ok_and(|body| body.trim_start().starts_with('{'))
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

/// GET `url` (a loopback server of the harness) and return the body; an unreachable
/// server, an HTTP error status or 20 s without an answer fails the test.
pub fn http_get(url: &str) -> String {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(20)))
        // The servers are on loopback: never through the machine's proxy.
        .proxy(None)
        .build()
        .into();
    agent
        .get(url)
        .call()
        .and_then(|mut reply| reply.body_mut().read_to_string())
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
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

/// Where an [`Env`]'s temporary directory is, under its HOME.
const TMP: &str = "tmp";

/// One test's world: a temporary HOME and the environment saml-login runs in.
pub struct Env {
    pub home: tempfile::TempDir,
    pub vars: Vec<(String, String)>,
}

impl Env {
    pub fn new() -> Self {
        let home = tempfile::tempdir().unwrap();
        let path = std::env::var("PATH").unwrap_or_default();
        // The temporary directory of everything run in this world is its own, inside
        // HOME: what a run leaves there is this test's, and nothing is left outside.
        let tmp = home.path().join(TMP);
        std::fs::create_dir(&tmp).unwrap();
        let tmp = tmp.display().to_string();
        let mut vars: Vec<(String, String)> = vec![
            ("HOME".into(), home.path().display().to_string()),
            // Windows reads the home from USERPROFILE first (as the AWS CLI does).
            ("USERPROFILE".into(), home.path().display().to_string()),
            ("PATH".into(), path),
            ("LANG".into(), "C.UTF-8".into()),
            ("NO_COLOR".into(), "1".into()),
            ("TMPDIR".into(), tmp.clone()),
            ("TEMP".into(), tmp.clone()),
            ("TMP".into(), tmp),
            // Nothing of the machine's AWS setup leaks in.
            (
                "AWS_CONFIG_FILE".into(),
                home.path().join(".aws/config").display().to_string(),
            ),
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            // No session bus: with none set, the keyring client would try
            // /run/user/UID/bus, the desktop's real keyring (the keyring tests start a
            // private one where they need one).
            (
                "DBUS_SESSION_BUS_ADDRESS".into(),
                "unix:path=/nonexistent/saml-login-tests-have-no-session-bus".into(),
            ),
        ];
        // What Windows cannot run a program without (Winsock needs SYSTEMROOT, `cmd`
        // COMSPEC, a PATH search PATHEXT); unset elsewhere, so nothing is added there.
        for key in ["SYSTEMROOT", "WINDIR", "COMSPEC", "PATHEXT"] {
            if let Ok(value) = std::env::var(key) {
                vars.push((key.into(), value));
            }
        }
        Env { vars, home }
    }

    /// This world's temporary directory (`TMPDIR`, `TEMP`, `TMP`), inside its HOME.
    pub fn tmp(&self) -> PathBuf {
        self.path(TMP)
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
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
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
                left = group_processes(self.id());
                if left.is_empty() || Instant::now() >= deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        // The port guard of a system-browser login that ended without its POST stays
        // on purpose (issue 27): not a leftover.
        let left = left
            .into_iter()
            .filter(|p| !p.cmd.contains("__saml-login-port-guard"))
            .map(|p| format!("{}: {}", p.pid, p.cmd))
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

    /// SIGKILL every process of the group (the leader is reaped on drop); on Windows,
    /// kill the leader's descendants.
    pub fn kill_group(&self) {
        #[cfg(unix)]
        {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", self.child.id())])
                .stderr(Stdio::null())
                .status();
        }
        #[cfg(not(unix))]
        {
            let members: Vec<_> = group_processes(self.child.id())
                .into_iter()
                .map(|p| sysinfo::Pid::from_u32(p.pid))
                .collect();
            let system = snapshot(sysinfo::ProcessesToUpdate::Some(&members), false);
            for pid in members {
                if let Some(p) = system.process(pid) {
                    p.kill();
                }
            }
        }
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

/// A live process as the OS lists it: its id, its parent's and its command line (the
/// arguments joined by spaces).
pub struct Proc {
    pub pid: u32,
    pub parent: Option<u32>,
    pub cmd: String,
}

/// Every live process of the machine (zombies and threads left out), read through
/// `sysinfo`, which knows each OS's process table (`/proc` is only Linux's).
pub fn processes() -> Vec<Proc> {
    snapshot(sysinfo::ProcessesToUpdate::All, false)
        .processes()
        .values()
        .filter(|p| live(p))
        .map(proc_of)
        .collect()
}

/// [`processes`] with each one's environment (`KEY=value` entries separated by NUL;
/// empty where it cannot be read, as for another user's process).
pub fn processes_with_environ() -> Vec<(Proc, String)> {
    snapshot(sysinfo::ProcessesToUpdate::All, true)
        .processes()
        .values()
        .filter(|p| live(p))
        .map(|p| (proc_of(p), joined(p.environ(), "\0")))
        .collect()
}

fn proc_of(p: &sysinfo::Process) -> Proc {
    Proc {
        pid: p.pid().as_u32(),
        parent: p.parent().map(sysinfo::Pid::as_u32),
        cmd: joined(p.cmd(), " "),
    }
}

fn joined(parts: &[std::ffi::OsString], separator: &str) -> String {
    parts
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(separator)
}

/// The process table (`which` of it) with command lines, and environments when
/// `environ`, read now.
fn snapshot(which: sysinfo::ProcessesToUpdate<'_>, environ: bool) -> sysinfo::System {
    use sysinfo::{ProcessRefreshKind, UpdateKind};
    static NO_OPEN_FILES: std::sync::Once = std::sync::Once::new();
    // sysinfo keeps every process's `stat` open on Linux by default: a test harness
    // must not hold descriptors of the processes it watches.
    NO_OPEN_FILES.call_once(|| {
        sysinfo::set_open_files_limit(0);
    });
    let mut system = sysinfo::System::new();
    system.refresh_processes_specifics(
        which,
        true,
        ProcessRefreshKind::nothing()
            .without_tasks()
            .with_cmd(UpdateKind::Always)
            .with_environ(if environ {
                UpdateKind::Always
            } else {
                UpdateKind::Never
            }),
    );
    system
}

/// A process, not a thread, that runs (a zombie has ended).
fn live(p: &sysinfo::Process) -> bool {
    p.thread_kind().is_none() && p.status() != sysinfo::ProcessStatus::Zombie
}

/// The live processes in process group `pgid`. Process groups are a Unix notion that
/// `sysinfo` does not show: on Linux each one's group is read from `/proc/PID/stat`
/// (getpgid(2) answers 0 across a PID namespace, as in a container); elsewhere the
/// group is taken as the process `pgid` and its descendants.
fn group_processes(pgid: u32) -> Vec<Proc> {
    let all = processes();
    #[cfg(target_os = "linux")]
    {
        let group_of = |pid: u32| -> Option<u32> {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // pid (comm) state ppid pgrp ...
            stat.rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(2)?
                .parse()
                .ok()
        };
        all.into_iter()
            .filter(|p| group_of(p.pid) == Some(pgid))
            .collect()
    }
    #[cfg(not(target_os = "linux"))]
    {
        let family = descendants_in(&all, pgid);
        all.into_iter()
            .filter(|p| p.pid == pgid || family.contains(&p.pid))
            .collect()
    }
}

/// The command lines of the live processes whose arguments name `needle` (a test's own
/// TMPDIR, profile or HOME): how a test counts only its own processes.
pub fn processes_naming(needle: &str) -> Vec<String> {
    processes()
        .into_iter()
        .filter(|p| p.cmd.contains(needle))
        .map(|p| p.cmd)
        .collect()
}

/// The pids of `root`'s descendants in `all`.
fn descendants_in(all: &[Proc], root: u32) -> std::collections::BTreeSet<u32> {
    let mut found = std::collections::BTreeSet::from([root]);
    loop {
        let before = found.len();
        for p in all {
            if p.parent.is_some_and(|parent| found.contains(&parent)) {
                found.insert(p.pid);
            }
        }
        if found.len() == before {
            break;
        }
    }
    found.remove(&root);
    found
}

/// Pids and command lines of `root`'s live descendants.
pub fn descendants(root: u32) -> Vec<(u32, String)> {
    let all = processes();
    let found = descendants_in(&all, root);
    all.into_iter()
        .filter(|p| found.contains(&p.pid))
        .map(|p| (p.pid, p.cmd))
        .collect()
}

/// Whether `pid` runs (exists and is not a zombie).
pub fn alive(pid: u32) -> bool {
    let pid = sysinfo::Pid::from_u32(pid);
    snapshot(sysinfo::ProcessesToUpdate::Some(&[pid]), false)
        .process(pid)
        .is_some_and(live)
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

/// The harness's view of processes (through `sysinfo`) sees what a test starts, and
/// sees it end: the checks built on it ("no Chromium left", "no secret on a command
/// line") would otherwise pass on an empty list.
#[test]
fn the_process_helpers_see_a_test_s_children_and_their_end() {
    let env = Env::new();
    let marker = env.tmp().join("marker").display().to_string();
    let mut cmd = env.command(python());
    cmd.args(["-c", "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', sys.argv[1] + '-grandchild']); time.sleep(60)"])
        .arg(&marker);
    let run = GroupGuard::spawn(cmd);
    let leader = run.id();
    let deadline = Instant::now() + Duration::from_secs(20);
    let family = loop {
        let family = descendants(leader);
        if !family.is_empty() || Instant::now() >= deadline {
            break family;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(family.len(), 1, "the grandchild: {family:?}");
    let (grandchild, cmd) = &family[0];
    assert!(cmd.contains(&format!("{marker}-grandchild")), "{cmd}");
    assert!(alive(leader) && alive(*grandchild));
    let named = processes_naming(&marker);
    assert_eq!(named.len(), 2, "the leader and the grandchild: {named:?}");
    let group: Vec<u32> = group_processes(leader).iter().map(|p| p.pid).collect();
    assert!(
        group.contains(&leader) && group.contains(grandchild),
        "{group:?}"
    );
    let grandchild = *grandchild;
    drop(run);
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(grandchild) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !alive(leader) && !alive(grandchild),
        "the guard killed both"
    );
    assert!(processes_naming(&marker).is_empty());
}
