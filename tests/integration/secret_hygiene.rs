//! Secret hygiene: every command, run with `--verbose` through each browser this machine
//! has (the system browser via the stand-in, headless Chromium, the webview under Xvfb,
//! and a saved response), leaks no secret where it is not the asked-for output:
//! the secret access key, the session token, the SAML assertion (its base64, a slice of
//! it, and the decoded assertion's random IDs), IdP cookie values, the service-account
//! password, OAuth tokens. Stdout is exempt only where it is the secret by design
//! (get-token, credential-process, env, pkce-login). Meanwhile every process's
//! command line and environment (through `sysinfo`) are sampled every 50 ms: no secret may appear in any process's
//! arguments (the test IdP itself, which stands in for Auth0 and is given the password
//! and session values on its command line, is left out). Modes of every file written
//! are checked, and no other file under HOME holds a secret.
//!
//! Linux only: WebKitGTK under Xvfb, Unix file modes.

#![cfg(target_os = "linux")]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::support::*;
use base64::Engine as _;

const PASSWORD: &str = "Pw-9f3c1d7e-service-account-secret";
const SESSION: &str = "idp-session-4b7e0c2a9d51f6e38a";
const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\nregion = eu-west-1\n";

/// Samples every process's arguments until stopped.
struct CmdlinePoller {
    stop: Arc<AtomicBool>,
    seen: Arc<Mutex<BTreeSet<String>>>,
    samples: Arc<Mutex<usize>>,
    /// The test IdP's command lines (left out of the search; a positive control).
    idp_args: Arc<Mutex<BTreeSet<String>>>,
    /// Processes other than saml-login and pkce-login themselves whose environment
    /// holds the password or the session cookie (their command lines).
    env_leaks: Arc<Mutex<BTreeSet<String>>>,
    /// Chromium processes whose environment was read (a positive control).
    chromium_environs_read: Arc<Mutex<BTreeSet<u32>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CmdlinePoller {
    /// Start sampling; `chromium_marker` names this test's Chromium processes (their
    /// profile directory's parent), whose environments are counted as read.
    fn start(chromium_marker: &str) -> Self {
        let chromium_marker = format!("{chromium_marker}/saml-login-chromium-");
        let stop = Arc::new(AtomicBool::new(false));
        let seen = Arc::new(Mutex::new(BTreeSet::new()));
        let samples = Arc::new(Mutex::new(0));
        let idp_args = Arc::new(Mutex::new(BTreeSet::new()));
        let env_leaks = Arc::new(Mutex::new(BTreeSet::new()));
        let chromium_environs_read = Arc::new(Mutex::new(BTreeSet::new()));
        let tools = ["saml-login", "pkce-login"]
            .map(|b| assert_cmd::cargo::cargo_bin(b).display().to_string());
        let thread = {
            let (stop, seen, samples) = (stop.clone(), seen.clone(), samples.clone());
            let (idp_args, env_leaks, chromium_environs_read) = (
                idp_args.clone(),
                env_leaks.clone(),
                chromium_environs_read.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let mut batch = Vec::new();
                    for (p, env) in processes_with_environ() {
                        let c = p.cmd;
                        // The Auth0 stand-in is given the password and session
                        // values as flags; it plays the remote IdP.
                        if c.contains("tests/support/idp.py") {
                            idp_args.lock().unwrap().insert(c);
                        } else if !c.is_empty() {
                            // No child of saml-login (Chromium, the webview
                            // helper, exec's command) inherits a secret of
                            // its environment; only the tools hold them.
                            let tool = tools
                                .iter()
                                .any(|t| c == *t || c.starts_with(&format!("{t} ")));
                            if c.contains(&chromium_marker) && !env.is_empty() {
                                chromium_environs_read.lock().unwrap().insert(p.pid);
                            }
                            if !tool && (env.contains(PASSWORD) || env.contains(SESSION)) {
                                env_leaks.lock().unwrap().insert(c.clone());
                            }
                            batch.push(c);
                        }
                    }
                    seen.lock().unwrap().extend(batch);
                    *samples.lock().unwrap() += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        CmdlinePoller {
            stop,
            seen,
            samples,
            idp_args,
            env_leaks,
            chromium_environs_read,
            thread: Some(thread),
        }
    }

    /// Stop; the command lines seen and the number of samples. Panics when a process
    /// other than the tools held a secret in its environment.
    fn finish(mut self) -> (BTreeSet<String>, usize) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.take().unwrap().join().unwrap();
        let seen = std::mem::take(&mut *self.seen.lock().unwrap());
        let samples = *self.samples.lock().unwrap();
        let env_leaks = self.env_leaks.lock().unwrap();
        assert!(
            env_leaks.is_empty(),
            "a child inherited a secret in its environment: {env_leaks:#?}"
        );
        (seen, samples)
    }
}

/// One browser's world: a HOME, an IdP, and what was seen and learnt.
struct World {
    browser: &'static str,
    env: Env,
    /// Global flags for every saml-login run (the cookie jar, --save-cookies ...).
    global: Vec<String>,
    /// What was printed where it must not carry a secret: (label, text).
    scanned: Vec<(String, String)>,
    /// Secret value -> what it is.
    secrets: BTreeMap<String, String>,
    commands: BTreeSet<String>,
    /// Files that hold secrets by design.
    jars: Vec<PathBuf>,
}

impl World {
    fn new(browser: &'static str, env: Env, idp: &Server, port: u16) -> Self {
        let setting = if browser == "saved response" {
            "system"
        } else {
            browser
        };
        env.config(&format!(
            "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = {setting}\ntimeout = 60\n\n{DEV}",
            idp.url
        ));
        env.write(
            ".pkce-login",
            &format!(
                "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = {setting}\ntimeout = 60\n",
                idp.url
            ),
        );
        let mut secrets = BTreeMap::new();
        secrets.insert(
            PASSWORD.to_owned(),
            "the service-account password".to_owned(),
        );
        secrets.insert(
            SESSION.to_owned(),
            "the idp_session cookie value".to_owned(),
        );
        World {
            browser,
            env,
            global: Vec::new(),
            scanned: Vec::new(),
            secrets,
            commands: BTreeSet::new(),
            jars: Vec::new(),
        }
    }

    fn secret(&mut self, value: &str, what: &str) {
        let value = value.trim();
        if value.len() >= 12 {
            self.secrets.insert(value.to_owned(), what.to_owned());
        }
    }

    /// The base64 response, a slice of it, and the decoded assertion's random IDs.
    fn assertion(&mut self, b64: &str) {
        let b64 = b64.trim();
        self.secret(b64, "the SAML response (base64)");
        let mid = b64.len() / 2;
        self.secret(&b64[mid..mid + 48], "a slice of the SAML response (base64)");
        let xml = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(b64)
                .expect("the response is base64"),
        )
        .unwrap();
        let mut rest = xml.as_str();
        while let Some(at) = rest.find(" ID=\"_") {
            let id = &rest[at + 5..];
            let end = id.find('"').unwrap();
            self.secret(&id[..end], "an ID of the decoded SAML assertion");
            rest = &id[end..];
        }
    }

    /// Secrets now on disk: profiles, caches, saved jars.
    fn harvest(&mut self) {
        let creds = self.env.credentials();
        for line in creds.lines() {
            if let Some(v) = line.strip_prefix("aws_secret_access_key = ") {
                self.secret(v, "a secret access key");
            }
            if let Some(v) = line.strip_prefix("aws_session_token = ") {
                self.session_token(v);
            }
        }
        for (_, v) in json_files(&self.env.path(".cache/saml-login/credentials")) {
            self.secret(
                v["secret_access_key"].as_str().unwrap(),
                "a secret access key",
            );
            self.session_token(v["session_token"].as_str().unwrap());
        }
        for (_, v) in json_files(&self.env.path(".cache/saml-login/assertions")) {
            self.assertion(v["saml_response"].as_str().unwrap());
        }
        for jar in self.jars.clone() {
            if let Ok(text) = std::fs::read_to_string(&jar) {
                for line in text.lines().filter(|l| l.contains("\tidp_session\t")) {
                    self.secret(
                        line.rsplit('\t').next().unwrap(),
                        "an idp_session cookie value",
                    );
                }
            }
        }
    }

    fn session_token(&mut self, v: &str) {
        self.secret(v, "a session token");
        let mid = v.len() / 2;
        if v.len() > 64 {
            self.secret(&v[mid..mid + 32], "a slice of a session token");
        }
    }

    /// Run saml-login (`bin` = "saml-login") or pkce-login with `--verbose`; every
    /// login goes through the browser (the assertion cache is emptied first and cached
    /// credentials are skipped with --force). Stdout is scanned unless it is the
    /// secret by design.
    fn step(&mut self, bin: &str, label: &str, args: &[&str], stdout_is_secret: bool) -> String {
        let _ = std::fs::remove_dir_all(self.env.path(".cache/saml-login/assertions"));
        let mut cmd = self.env.cmd_for(bin);
        cmd.arg("--verbose");
        if bin == "saml-login" {
            cmd.args(&self.global);
        }
        let ran = cmd
            .args(args)
            .ran()
            .context(format!("{}] [{label}", self.browser))
            .success();
        let (stdout, stderr) = (ran.stdout(), ran.stderr());
        // A browser login traces; the console command and a saved response log in
        // nowhere and may have nothing to trace.
        assert!(
            label.starts_with("aws-console")
                || self.browser == "saved response"
                || stderr.contains("DEBUG"),
            "[{}] {label}: --verbose traces on stderr: {stderr}",
            self.browser
        );
        self.commands.insert(label.to_owned());
        self.scanned
            .push((format!("[{}] {label}: stderr", self.browser), stderr));
        if !stdout_is_secret {
            self.scanned.push((
                format!("[{}] {label}: stdout", self.browser),
                stdout.clone(),
            ));
        }
        self.harvest();
        stdout
    }

    /// Every command of saml-login and pkce-login. `pkce`: whether this browser runs
    /// pkce-login (a saved SAML response cannot).
    fn all_commands(&mut self, pkce: bool, fed: &Server) {
        let token = self.step("saml-login", "get-token", &["get-token"], true);
        self.assertion(&token);
        self.step(
            "saml-login",
            "aws-assume-role",
            &[
                "aws-assume-role",
                "--account",
                "123456789012",
                "--role",
                "Developer",
                "--profile",
                "hyg",
                "--force",
            ],
            false,
        );
        self.step(
            "saml-login",
            "aws-assume-role --show",
            &["aws-assume-role", "--show"],
            false,
        );
        let json = self.step(
            "saml-login",
            "credential-process",
            &["-c", "dev", "credential-process", "--force"],
            true,
        );
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        self.secret(
            v["SecretAccessKey"].as_str().unwrap(),
            "a secret access key",
        );
        self.session_token(v["SessionToken"].as_str().unwrap());
        // The child prints nothing; its environment goes to a file the test reads.
        let child_env = self.env.path("exec-child-env.txt");
        self.step(
            "saml-login",
            "exec",
            &[
                "-c",
                "dev",
                "exec",
                "--force",
                "--",
                "sh",
                "-c",
                &format!("env > '{}'", child_env.display()),
            ],
            false,
        );
        let child = std::fs::read_to_string(&child_env).unwrap();
        // The command gets the role's keys, not the login's secrets.
        assert!(
            !child.contains(PASSWORD) && !child.contains(SESSION),
            "[{}] exec's child inherits SAML_LOGIN_PASSWORD / SAML_LOGIN_COOKIES",
            self.browser
        );
        assert!(
            child.contains("AWS_SESSION_TOKEN="),
            "[{}] the child's environment was read: {child}",
            self.browser
        );
        for line in child.lines() {
            if let Some(v) = line.strip_prefix("AWS_SECRET_ACCESS_KEY=") {
                self.secret(v, "a secret access key");
            }
            if let Some(v) = line.strip_prefix("AWS_SESSION_TOKEN=") {
                self.session_token(v);
            }
        }
        let exports = self.step("saml-login", "env", &["-c", "dev", "env", "--force"], true);
        for line in exports.lines() {
            let value = line.split_once("='").map(|(_, v)| v.trim_end_matches('\''));
            if line.starts_with("export AWS_SECRET_ACCESS_KEY=") {
                self.secret(value.unwrap(), "a secret access key");
            }
            if line.starts_with("export AWS_SESSION_TOKEN=") {
                self.session_token(value.unwrap());
            }
        }
        // The console sign-in URL: no login, but the stored keys travel to the
        // federation endpoint; nothing secret on the terminal.
        let before = self.env.vars.len();
        self.env.vars.push((
            "SAML_LOGIN_FEDERATION_URL".into(),
            format!("{}/federation", fed.url),
        ));
        let url = self.step(
            "saml-login",
            "aws-console --print",
            &["aws-console", "--profile", "hyg", "--print"],
            false,
        );
        assert!(url.contains("SigninToken=signin-token-for-ASIA"), "{url}");
        self.env.vars.truncate(before);
        if pkce {
            let out = self.step("pkce-login", "pkce-login get-id-jwt", &["get-id-jwt"], true);
            let v: serde_json::Value = serde_json::from_str(&out).unwrap();
            for k in ["access_token", "id_token", "refresh_token"] {
                if let Some(t) = v[k].as_str() {
                    self.secret(t, "an OAuth token");
                }
            }
        }
    }

    /// Scan outputs, process arguments and stray files; check modes. Panics on a leak.
    fn verify(mut self, cmdlines: BTreeSet<String>, samples: usize) {
        self.harvest();
        // The search knows what it looks for: each kind of secret was learnt.
        for kind in [
            "a secret access key",
            "a session token",
            "the SAML response (base64)",
            "an ID of the decoded SAML assertion",
        ] {
            assert!(
                self.secrets.values().any(|w| w == kind),
                "[{}] no {kind} learnt",
                self.browser
            );
        }
        let mut leaks = Vec::new();
        let mut scan = |label: &str, text: &str| {
            for (value, what) in &self.secrets {
                if text.contains(value.as_str()) {
                    leaks.push(format!("{label}: {what}"));
                }
            }
        };
        for (label, text) in &self.scanned {
            scan(label, text);
        }
        for c in &cmdlines {
            let name: String = c.chars().take(60).collect();
            scan(
                &format!("[{}] process arguments of `{name}...`", self.browser),
                c,
            );
        }
        // No other file under HOME holds a secret (a log, a stray copy ...).
        let home = self.env.home.path().to_owned();
        let by_design = |p: &Path| {
            let rel = p.strip_prefix(&home).unwrap();
            rel == Path::new(".aws/credentials")
                || rel.starts_with(".cache/saml-login")
                || rel.starts_with(".local/share/saml-login/webview")
                || rel == Path::new("saved.b64")
                || rel == Path::new("exec-child-env.txt")
                || self.jars.iter().any(|j| j == p)
        };
        let mut files = Vec::new();
        walk(&home, &mut files);
        for f in &files {
            if !by_design(f)
                && let Ok(bytes) = std::fs::read(f)
            {
                scan(
                    &format!("[{}] file {}", self.browser, f.display()),
                    &String::from_utf8_lossy(&bytes),
                );
            }
        }
        // The webview's WebKit profile (0700) keeps the IdP session, which is what it
        // is for; no key, token, assertion or password may reach it (a cached page
        // holding the SAMLResponse form, a stored form value).
        let webview_dir = home.join(".local/share/saml-login/webview");
        for f in files.iter().filter(|f| f.starts_with(&webview_dir)) {
            let text = String::from_utf8_lossy(&std::fs::read(f).unwrap_or_default()).into_owned();
            for (value, what) in &self.secrets {
                if text.contains(value.as_str()) && !what.contains("idp_session cookie") {
                    leaks.push(format!(
                        "[{}] webview profile file {}: {what}",
                        self.browser,
                        f.display()
                    ));
                }
            }
        }
        let modes = check_modes(&self.env, &self.jars);
        println!(
            "secret hygiene [{}]: commands x browser scanned {} ({:?}), outputs {}, distinct secrets {}, process-argument samples {samples} ({} distinct command lines), files under HOME {}, leaks found {}, mode problems {}",
            self.browser,
            self.commands.len(),
            self.commands,
            self.scanned.len(),
            self.secrets.len(),
            cmdlines.len(),
            files.len(),
            leaks.len(),
            modes.len()
        );
        assert!(leaks.is_empty(), "secrets leaked: {leaks:#?}");
        assert!(modes.is_empty(), "modes: {modes:#?}");
    }
}

fn json_files(dir: &Path) -> Vec<(PathBuf, serde_json::Value)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let v = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
            (p, v)
        })
        .collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(|e| e.ok()) {
        let Ok(t) = e.file_type() else { continue };
        if t.is_dir() {
            walk(&e.path(), out);
        } else if t.is_file() {
            out.push(e.path());
        }
    }
}

fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

fn check_modes(env: &Env, jars: &[PathBuf]) -> Vec<String> {
    let mut bad = Vec::new();
    let mut want = |p: &Path, m: u32| {
        if !p.exists() {
            bad.push(format!("{} is missing", p.display()));
        } else if mode(p) != m {
            bad.push(format!(
                "{} has mode {:o}, want {m:o}",
                p.display(),
                mode(p)
            ));
        }
    };
    want(&env.path(".aws"), 0o700);
    want(&env.credentials_path(), 0o600);
    let cache = env.path(".cache/saml-login");
    want(&cache, 0o700);
    let mut files = Vec::new();
    walk(&cache, &mut files);
    let mut dirs = BTreeSet::new();
    for f in &files {
        want(f, 0o600);
        let mut d = f.parent().unwrap();
        while d != cache {
            dirs.insert(d.to_owned());
            d = d.parent().unwrap();
        }
    }
    for d in &dirs {
        want(d, 0o700);
    }
    want(&env.path(".cache/saml-login/credentials"), 0o700);
    for j in jars {
        want(j, 0o600);
    }
    let webview = env.path(".local/share/saml-login/webview");
    if webview.exists() {
        println!(
            "secret hygiene: modes: ~/.local/share/saml-login {:o}, its webview dir {:o}",
            mode(&env.path(".local/share/saml-login")),
            mode(&webview)
        );
        want(&webview, 0o700);
        for e in std::fs::read_dir(&webview).unwrap().filter_map(|e| e.ok()) {
            if e.file_type().unwrap().is_dir() {
                want(&e.path(), 0o700);
            }
        }
    }
    bad
}

fn private(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn moto_env(moto: &Server) -> Env {
    Env::new().sts(moto)
}

#[test]
fn system_browser_leaks_nothing() {
    let poller = CmdlinePoller::start("/nonexistent");
    let (moto, fed) = (moto(), Server::python("federation.py", &[]));
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = moto_env(&moto).test_browser("");
    let mut w = World::new("system", env, &idp, port);
    w.all_commands(true, &fed);
    let (cmdlines, samples) = poller.finish();
    assert!(
        cmdlines.iter().any(|c| c.contains("browser.py")),
        "the poller saw the browser stand-in run"
    );
    w.verify(cmdlines, samples);
}

#[test]
fn headless_leaks_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let poller = CmdlinePoller::start(&tmp.path().display().to_string());
    let (moto, fed) = (moto(), Server::python("federation.py", &[]));
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&[
        "--session-cookie",
        SESSION,
        "--user",
        &format!("robot:{PASSWORD}"),
        "--callback",
        &callback,
    ]);
    let env = moto_env(&moto)
        .var("TMPDIR", tmp.path().display().to_string())
        .var("SAML_LOGIN_USERNAME", "robot")
        .var("SAML_LOGIN_PASSWORD", PASSWORD);
    let mut w = World::new("headless", env, &idp, port);
    let jar = w.env.write(
        "jar.txt",
        &format!("#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tidp_session\t{SESSION}\n"),
    );
    private(&jar);
    let saved = w.env.path("saved-jar.txt");
    w.jars = vec![jar.clone(), saved.clone()];
    // get-token: the password login (no jar), keeping the IdP's new cookie.
    w.global = vec!["--save-cookies".into(), saved.display().to_string()];
    let token = w.step("saml-login", "get-token (password)", &["get-token"], true);
    w.assertion(&token);
    assert!(
        std::fs::read_to_string(&saved)
            .unwrap()
            .contains("\tidp_session\t")
    );
    // Everything else from the jar (the password stays in the environment too, and so
    // does the jar's content, which the flag overrides: no child may inherit either).
    w.env.vars.push((
        "SAML_LOGIN_COOKIES".into(),
        std::fs::read_to_string(&jar).unwrap(),
    ));
    w.global = vec!["--cookies".into(), jar.display().to_string()];
    w.all_commands(false, &fed);
    // pkce-login headless with the jar in the variable (no --cookies flag here).
    let out = w.step("pkce-login", "pkce-login get-id-jwt", &["get-id-jwt"], true);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    w.secret(v["id_token"].as_str().unwrap(), "an OAuth token");
    w.secret(v["access_token"].as_str().unwrap(), "an OAuth token");
    let idp_args = poller.idp_args.lock().unwrap().clone();
    let chromium_environs = poller.chromium_environs_read.lock().unwrap().len();
    let (cmdlines, samples) = poller.finish();
    // Positive control: Chromium's environments were read (and held no secret, or
    // finish() would have failed).
    assert!(
        chromium_environs >= 2,
        "the environments of {chromium_environs} Chromium processes were read"
    );
    let ours = tmp
        .path()
        .join("saml-login-chromium-")
        .display()
        .to_string();
    assert!(
        cmdlines.iter().any(|c| c.contains(&ours)),
        "the poller saw this test's Chromium run"
    );
    // Positive control: the poller reads arguments well enough to see the password
    // the test gave the IdP.
    assert!(
        idp_args.iter().any(|c| c.contains(PASSWORD)),
        "{idp_args:?}"
    );
    w.verify(cmdlines, samples);
}

#[test]
fn webview_leaks_nothing() {
    let display = std::env::var("DISPLAY")
        .expect("the webview needs DISPLAY: run under xvfb-run (scripts/test.sh does)");
    let poller = CmdlinePoller::start("/nonexistent");
    let (moto, fed) = (moto(), Server::python("federation.py", &[]));
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    // A real login in the window first (the IdP fills its own form), then the
    // remembered session.
    let idp = idp(&[
        "--user",
        &format!("robot:{PASSWORD}"),
        "--autofill",
        "--persistent-cookie",
        "--callback",
        &callback,
    ]);
    // The service account's variables are set too (the webview does not use them):
    // neither the helper nor WebKit's processes may inherit them.
    let mut env = moto_env(&moto)
        .var("DISPLAY", display)
        .var("SAML_LOGIN_USERNAME", "robot")
        .var("SAML_LOGIN_PASSWORD", PASSWORD)
        .var(
            "SAML_LOGIN_COOKIES",
            format!("#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tidp_session\t{SESSION}\n"),
        );
    if let Ok(auth) = std::env::var("XAUTHORITY") {
        env = env.var("XAUTHORITY", auth);
    }
    let mut w = World::new("webview", env, &idp, port);
    let saved = w.env.path("webview-jar.txt");
    w.jars = vec![saved.clone()];
    w.global = vec!["--save-cookies".into(), saved.display().to_string()];
    w.all_commands(true, &fed);
    assert!(
        std::fs::read_to_string(&saved)
            .unwrap()
            .contains("\tidp_session\t")
    );
    let (cmdlines, samples) = poller.finish();
    w.verify(cmdlines, samples);
}

#[test]
fn saved_response_leaks_nothing() {
    let poller = CmdlinePoller::start("/nonexistent");
    let (moto, fed) = (moto(), Server::python("federation.py", &[]));
    let idp = idp(&["--auto-session"]);
    let env = moto_env(&moto);
    let mut w = World::new("saved response", env, &idp, free_port());
    let response = fetch_saml_response(&idp);
    let saved = w.env.write("saved.b64", &response);
    w.assertion(&response);
    w.global = vec!["--saml-response-file".into(), saved.display().to_string()];
    w.all_commands(false, &fed);
    let (cmdlines, samples) = poller.finish();
    w.verify(cmdlines, samples);
}
