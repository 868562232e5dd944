//! `--webview` through the real binary: a WebKitGTK window under Xvfb (the test command
//! runs the suite under `xvfb-run`), the test IdP, and moto's STS.
//!
//! Linux only: WebKitGTK under Xvfb.

#![cfg(target_os = "linux")]

use std::net::TcpListener;

use crate::support::*;

fn webview_env(moto: Option<&Server>) -> Env {
    let env = display_env();
    match moto {
        Some(m) => env.sts(m),
        None => env,
    }
}

#[test]
fn webview_login_ends_in_credentials_moto_accepts_while_port_is_taken() {
    let moto = moto();
    let holder = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = webview_env(Some(&moto));
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\ntimeout = 60\n",
        idp.url
    ));
    // No browser chosen and a display present: the webview is the default.
    env.cmd()
        .args([
            "aws-assume-role",
            "--account",
            "123456789012",
            "--role",
            "Developer",
            "--profile",
            "wv",
        ])
        .ran()
        .success();
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "wv"),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
    holder.set_nonblocking(true).unwrap();
    assert!(
        holder.accept().is_err(),
        "nothing reached the callback port"
    );
}

#[test]
fn webview_remembers_the_session_and_fresh_does_not() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--callback", &callback, "--autofill", "--persistent-cookie"]);
    let env = webview_env(None);
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = webview\ntimeout = 60\n",
        idp.url
    ));
    let login_posts = || idp.stat("login_posts");
    let run = |extra: &[&str]| {
        env.cmd()
            .args(extra)
            .args(["--no-cache", "get-token"])
            .ran()
            .success();
    };
    run(&[]);
    let after_first = login_posts();
    assert!(after_first >= 2, "the first run logged in");
    // The profile lives under the user's data dir, owner-only.
    let profiles = env.path(".local/share/saml-login/webview");
    assert!(profiles.is_dir());
    #[cfg(unix)]
    for entry in std::fs::read_dir(&profiles).unwrap() {
        use std::os::unix::fs::PermissionsExt;
        let mode = entry.unwrap().metadata().unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "profile readable by others: {mode:o}");
    }
    run(&[]);
    assert_eq!(
        login_posts(),
        after_first,
        "the second run needed no password"
    );
    run(&["--fresh"]);
    assert!(login_posts() > after_first, "--fresh logged in again");
}

#[test]
fn webview_without_a_display_says_so() {
    let idp = idp(&["--auto-session"]);
    let env = Env::new();
    env.config(&config_for(&idp, free_port()));
    env.call(&["--webview", "get-token"])
        .code(1)
        .stderr_has("no display")
        .stderr_has("--headless");
}
