//! Ctrl-C (SIGINT to saml-login alone, so that it is saml-login that cleans up) during a
//! login in each browser: exit 130 with one line, and nothing left behind: no Chromium,
//! no webview helper or WebKit process (so no window), no listening port.
//!
//! Linux only: SIGINT through `kill`, WebKitGTK under Xvfb.

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
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let (out, left) = run.output_within(Duration::from_secs(30));
    assert!(left.is_empty(), "left running after Ctrl-C: {left:#?}");
    (out, family)
}

fn assert_interrupted(out: &std::process::Output, family: &[(u32, String)]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(out.stdout.is_empty());
    assert!(
        stderr
            .lines()
            .any(|l| l == "saml-login: error: interrupted"),
        "{stderr}"
    );
    let alive: Vec<_> = family.iter().filter(|(pid, _)| alive(*pid)).collect();
    assert!(alive.is_empty(), "outlived saml-login: {alive:#?}");
}

#[test]
fn ctrl_c_in_headless_leaves_no_chromium() {
    // The IdP posts a foreign RelayState: refused, so the login waits.
    let port = free_port();
    let idp = forging_idp(&format!("http://localhost:{port}/saml"));
    let env = Env::new();
    let tmp = env.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let env = env.var("TMPDIR", tmp.display().to_string());
    env.config(&config_for(&idp, port).replace("browser = system", "browser = headless"));
    let (out, family) = interrupt(&env, &["get-token"], |f| {
        f.iter().any(|(_, c)| c.contains("--type=renderer"))
    });
    assert!(
        family
            .iter()
            .any(|(_, c)| c.contains("saml-login-chromium-")),
        "{family:#?}"
    );
    assert_interrupted(&out, &family);
    let deadline = Instant::now() + Duration::from_secs(10);
    while !chromium_of(&env).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(chromium_of(&env).is_empty(), "{:#?}", chromium_of(&env));
    let profiles: Vec<_> = std::fs::read_dir(&tmp)
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
