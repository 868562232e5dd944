//! Ctrl-C (SIGINT to saml-login alone, so that it is saml-login that cleans up) during a
//! login in each browser: exit 130 with one line, and nothing left behind: no Chromium,
//! no webview helper or WebKit process (so no window), no listening port.
//!
//! SIGTERM and SIGHUP do the same, with 128 + the signal's number (issue 27).
//!
//! Linux only: signals through `kill`, WebKitGTK under Xvfb.

#![cfg(target_os = "linux")]

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

/// Start `args` in `env` (a process group killed on drop), wait until `ready` says the
/// login is under way (given saml-login's descendants), send SIGINT to saml-login, and
/// return its output and the descendants it had when interrupted.
fn interrupt(
    env: &Env,
    args: &[&str],
    ready: impl Fn(&[(u32, String)]) -> bool,
) -> (std::process::Output, Vec<(u32, String)>) {
    signal(env, args, "INT", ready)
}

/// [`interrupt`] with `kill -SIGNAL` instead of SIGINT.
fn signal(
    env: &Env,
    args: &[&str],
    signal: &str,
    ready: impl Fn(&[(u32, String)]) -> bool,
) -> (std::process::Output, Vec<(u32, String)>) {
    let mut cmd = env.saml_login();
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let run = GroupGuard::spawn(cmd);
    let pid = run.id();
    let started = Instant::now();
    let family = loop {
        let family = descendants(pid);
        if ready(&family) {
            break family;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the login did not get under way: {family:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    // Let the login settle into its wait.
    std::thread::sleep(Duration::from_millis(500));
    let family = [family, descendants(pid)].concat();
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let (out, left) = run.output_within(Duration::from_secs(30));
    assert!(left.is_empty(), "left running after SIG{signal}: {left:#?}");
    (out, family)
}

fn assert_interrupted(out: &std::process::Output, family: &[(u32, String)]) {
    assert_stopped(out, family, 130, "saml-login: error: interrupted");
}

/// saml-login ended with `code` and the one line `line`, printed nothing on stdout,
/// and none of `family` outlived it.
fn assert_stopped(out: &std::process::Output, family: &[(u32, String)], code: i32, line: &str) {
    let ran = Ran::from(out);
    let said = ran.stderr().lines().any(|l| l == line);
    ran.code(code)
        .stdout_empty()
        .check(said, &format!("the line {line:?}"));
    // The port guard of a system-browser login outlives saml-login by design (it holds
    // the port for 120 s); the harness killed it with the process group.
    let alive: Vec<_> = family
        .iter()
        .filter(|(pid, command)| !command.contains("__saml-login-port-guard") && alive(*pid))
        .collect();
    assert!(alive.is_empty(), "outlived saml-login: {alive:#?}");
}

/// A headless login (its IdP posts a foreign RelayState: refused, so the login waits)
/// sent `kill -SIGNAL` once Chromium renders: its output, the descendants it had, the
/// HOME and the temp directory.
fn headless_login_stopped_by(
    signal_name: &str,
) -> (
    std::process::Output,
    Vec<(u32, String)>,
    Env,
    std::path::PathBuf,
) {
    let port = free_port();
    let idp = forging_idp(&format!("http://localhost:{port}/saml"));
    let env = Env::new();
    let tmp = env.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let env = env.var("TMPDIR", tmp.display().to_string());
    env.config(&config_for(&idp, port).replace("browser = system", "browser = headless"));
    let (out, family) = signal(&env, &["get-token"], signal_name, |f| {
        f.iter().any(|(_, c)| c.contains("--type=renderer"))
    });
    assert!(
        family
            .iter()
            .any(|(_, c)| c.contains("saml-login-chromium-")),
        "{family:#?}"
    );
    (out, family, env, tmp)
}

#[test]
fn ctrl_c_in_headless_leaves_no_chromium() {
    let (out, family, env, tmp) = headless_login_stopped_by("INT");
    assert_interrupted(&out, &family);
    assert_no_chromium_left(&env, &tmp);
}

/// No Chromium of `env` runs (within 10 s) and no profile is left in `tmp`.
fn assert_no_chromium_left(env: &Env, tmp: &std::path::Path) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !chromium_of(env).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(chromium_of(env).is_empty(), "{:#?}", chromium_of(env));
    let profiles: Vec<_> = std::fs::read_dir(tmp)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("saml-login-chromium-"))
        .collect();
    assert!(profiles.is_empty(), "the profile was removed: {profiles:?}");
}

#[test]
fn ctrl_c_in_the_system_browser_frees_the_port() {
    let port = free_port();
    let idp = idp(&["--auto-session"]);
    let env = Env::new();
    env.config(&config_for(&idp, port));
    let listening = || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok();
    let (out, family) = interrupt(&env, &["--no-open", "get-token"], |_| listening());
    // The port guard keeps the port after Ctrl-C (issue 27) and says so; the harness
    // has killed the process group (the guard with it) by now.
    Ran::from(&out).stderr_has(&format!("port {port} stays held for 120 s"));
    assert_interrupted(&out, &family);
    // The group was sent SIGKILL: the guard's sockets close when the kernel has ended it.
    let deadline = Instant::now() + Duration::from_secs(5);
    while listening() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !listening(),
        "nothing listens on {port} once the group is gone"
    );
    std::net::TcpListener::bind(("127.0.0.1", port)).expect("the port is free again");
}

#[test]
fn ctrl_c_in_the_webview_closes_the_window() {
    // No session: the IdP's login form waits for a person.
    let port = free_port();
    let idp = idp(&["--callback", &format!("http://localhost:{port}/saml")]);
    let env = display_env();
    env.config(&config_for(&idp, port).replace("browser = system", "browser = webview"));
    // Interrupted once the window shows the IdP's page.
    let page_loaded = || {
        let stats: serde_json::Value = serde_json::from_str(&idp.get("/stats")).unwrap();
        stats["samlp"] == 1
    };
    let (out, family) = interrupt(&env, &["--fresh", "get-token"], |f| {
        f.iter().any(|(_, c)| c.contains("saml-login-webview"))
            && f.iter().any(|(_, c)| c.contains("WebKitWebProcess"))
            && page_loaded()
    });
    assert_interrupted(&out, &family);
}

/// Issue 27: SIGTERM and SIGHUP end a system-browser login as Ctrl-C does: the
/// forwarding page's directory is removed at once (not left for the next login), the
/// port is guarded, and the exit status is 128 + the signal's number.
#[test]
fn sigterm_and_sighup_remove_the_forwarding_page_and_guard_the_port() {
    for (name, code) in [("TERM", 143), ("HUP", 129)] {
        let port = free_port();
        let idp = idp(&["--auto-session"]);
        let env = Env::new();
        let tmp = env.path("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        // A browser that never posts.
        let env = env
            .var("TMPDIR", tmp.display().to_string())
            .var("BROWSER", "true");
        env.config(&config_for(&idp, port));
        let pages = || -> Vec<String> {
            std::fs::read_dir(&tmp)
                .unwrap()
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("saml-login-open-"))
                .collect()
        };
        let (out, family) = signal(&env, &["get-token"], name, |_| !pages().is_empty());
        assert_stopped(
            &out,
            &family,
            code,
            &format!("saml-login: error: stopped by SIG{name}"),
        );
        Ran::from(&out)
            .context(format!("SIG{name}"))
            .stderr_has(&format!("port {port} stays held for 120 s"));
        assert_eq!(pages(), Vec::<String>::new(), "SIG{name} left the page");
    }
}

/// Issue 27: SIGTERM in a headless login leaves no Chromium and no profile either.
#[test]
fn sigterm_in_headless_leaves_no_chromium() {
    let (out, family, env, tmp) = headless_login_stopped_by("TERM");
    assert_stopped(&out, &family, 143, "saml-login: error: stopped by SIGTERM");
    assert_no_chromium_left(&env, &tmp);
}
