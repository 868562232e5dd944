//! Another local program against saml-login: one that holds the callback port first,
//! and one that posts a forged (but well-formed, STS-acceptable) assertion to the
//! loopback callback while a real login waits.
//!
//! A page in the webview calling the IPC from another origin, or without the
//! per-login token, is covered by browsers/webview/tests/webview.rs
//! (`forged_ipc_from_other_origin_is_ignored`, `ipc_without_token_is_ignored`); an IdP
//! page of another origin can reach the window only by navigation, so no duplicate
//! through the binary here.

mod support;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::*;

const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n";
const REAL: &str = "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com";

fn nothing_connected(holder: &TcpListener) -> bool {
    holder.set_nonblocking(true).unwrap();
    holder.accept().is_err()
}

#[test]
fn a_held_port_stops_the_system_browser_and_is_never_talked_to() {
    for addr in ["127.0.0.1", "0.0.0.0"] {
        let holder = TcpListener::bind((addr, 0)).unwrap();
        let port = holder.local_addr().unwrap().port();
        let callback = format!("http://localhost:{port}/saml");
        let idp = idp(&["--auto-session", "--callback", &callback]);
        let env = Env::new().test_browser("");
        env.config(&format!("{}\n{DEV}", config_for(&idp, port)));
        let out = env
            .cmd()
            .args(["-c", "dev", "aws-assume-role"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{addr}: {stderr}");
        assert!(
            stderr.contains(&format!("port {port} on 127.0.0.1 is already in use")),
            "{addr}: {stderr}"
        );
        assert!(
            idp.get("/stats").contains("\"samlp\": 0"),
            "{addr}: no browser opened"
        );
        assert!(
            nothing_connected(&holder),
            "{addr}: saml-login connected to the holder"
        );
        assert!(env.credentials().is_empty());
    }
}

#[test]
fn headless_and_webview_work_while_another_program_holds_the_port_on_all_interfaces() {
    let display = std::env::var("DISPLAY")
        .expect("the webview needs DISPLAY: run under xvfb-run (scripts/test.sh does)");
    let holder = TcpListener::bind(("0.0.0.0", 0)).unwrap();
    let port = holder.local_addr().unwrap().port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let mut env = Env::new().var("DISPLAY", display);
    if let Ok(auth) = std::env::var("XAUTHORITY") {
        env = env.var("XAUTHORITY", auth);
    }
    env.config(&config_for(&idp, port));
    for browser in ["--headless", "--webview"] {
        let out = env
            .cmd()
            .args([browser, "--no-cache", "get-token"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{browser}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).trim().len() > 100);
    }
    assert!(nothing_connected(&holder), "nothing reached the holder");
}

/// One raw HTTP request to 127.0.0.1:`port` (retried until the server is up, for at
/// most 10 s); the status line of the answer, or None when nothing listens.
fn raw(port: u16, host: &str, body: &str) -> Option<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(30)),
            Err(_) => return None,
        }
    };
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

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

fn is_refusal(status: &Option<String>) -> bool {
    status.as_deref().is_some_and(|s| {
        s.split_whitespace()
            .nth(1)
            .is_some_and(|code| code.starts_with('4'))
    })
}

/// A real login (the browser stand-in waits 3 s before its POST) while `forge` posts
/// an attacker's assertion; returns the forged posts' answers after checking that the
/// real login's identity was stored.
fn real_login_while(forge: impl FnOnce(u16, &str) -> Vec<Option<String>>) -> Vec<Option<String>> {
    let moto = moto();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    // Another account at the same IdP: an assertion STS accepts, for someone else.
    let attacker = support::idp(&[
        "--auto-session",
        "--callback",
        &callback,
        "--session-name",
        "attacker@evil.example",
    ]);
    let forged = fetch_saml_response(&attacker);
    let env = Env::new().sts(&moto).test_browser("--delay 3");
    env.config(&format!("{}\n{DEV}", config_for(&idp, port)));
    let child = env
        .saml_login()
        .args(["-c", "dev", "aws-assume-role"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let answers = forge(port, &forged);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let stored = caller_identity(&moto, &env.credentials_path(), "dev");
    assert!(
        answers.iter().all(is_refusal),
        "every forged post is refused with a 4xx: {answers:?}; the profile now holds {stored}"
    );
    assert_eq!(stored, REAL, "the real login's assertion is the one used");
    answers
}

#[test]
fn forged_assertion_with_a_foreign_relay_state_or_host_is_refused() {
    let answers = real_login_while(|port, forged| {
        vec![
            // RelayState that is not the one saml-login sent.
            raw(
                port,
                &format!("localhost:{port}"),
                &form(&[("SAMLResponse", forged), ("RelayState", "guessed")]),
            ),
            // DNS rebinding: a page of another site posting through a name that
            // resolves to 127.0.0.1.
            raw(
                port,
                &format!("evil.example:{port}"),
                &form(&[("SAMLResponse", forged)]),
            ),
            raw(
                port,
                &format!("evil.example:{port}"),
                &form(&[("SAMLResponse", forged), ("RelayState", "guessed")]),
            ),
        ]
    });
    println!("forged posts answered: {answers:?}");
}

#[test]
fn forged_assertion_without_relay_state_is_refused() {
    // saml-login always sends a RelayState and Auth0 echoes it, so a callback without
    // one is not our login's. Fails while login::saml_request lets it through
    // (`with_state("RelayState", .., false)`).
    let answers = real_login_while(|port, forged| {
        vec![raw(
            port,
            &format!("localhost:{port}"),
            &form(&[("SAMLResponse", forged)]),
        )]
    });
    println!("forged post answered: {answers:?}");
}
