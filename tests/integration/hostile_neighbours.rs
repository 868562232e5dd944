//! Another local program against saml-login: one that holds the callback port first
//! (on 127.0.0.1, on all interfaces, or on `[::1]` as another user), one that posts a
//! forged (but well-formed, STS-acceptable) assertion to the loopback callback while a
//! real login waits, one that reads every command line on the machine as another user,
//! one that sends a body slowly or never, and one that floods the port with idle
//! connections.
//!
//! A page in the webview calling the IPC from another origin, or without the
//! per-login token, is covered by browsers/webview/tests/webview.rs
//! (`forged_ipc_from_other_origin_is_ignored`, `ipc_without_token_is_ignored`); an IdP
//! page of another origin can reach the window only by navigation, so no duplicate
//! through the binary here.
//!
//! Linux only: another user through `setpriv`, `/proc/PID/environ`, Xvfb.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

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
        env.cmd()
            .args(["-c", "dev", "aws-assume-role"])
            .ran()
            .context(addr)
            .code(1)
            .stderr_has(&format!("port {port} on 127.0.0.1 is already in use"));
        assert_eq!(idp.stat("samlp"), 0, "{addr}: no browser opened");
        assert!(
            nothing_connected(&holder),
            "{addr}: saml-login connected to the holder"
        );
        assert!(env.credentials().is_empty());
    }
}

#[test]
fn headless_and_webview_work_while_another_program_holds_the_port_on_all_interfaces() {
    let holder = TcpListener::bind(("0.0.0.0", 0)).unwrap();
    let port = holder.local_addr().unwrap().port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = display_env();
    env.config(&config_for(&idp, port));
    for browser in ["--headless", "--webview"] {
        let out = env
            .cmd()
            .args([browser, "--no-cache", "get-token"])
            .ran()
            .success();
        let token_length = out.stdout().trim().len();
        out.check(token_length > 100, "a SAML response on stdout");
    }
    assert!(nothing_connected(&holder), "nothing reached the holder");
}

/// One raw HTTP request to 127.0.0.1:`port` (retried until the server is up, for at
/// most 10 s); the status line of the answer, or None when nothing listens.
fn raw(port: u16, host: &str, body: &str) -> Option<String> {
    post_raw(port, host, body)
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
    let attacker = crate::support::idp(&[
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
    Ran::from(child.wait_with_output().unwrap()).success();
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
    // (`with_state("RelayState", .., false)`). Posted by another user: a fresh response
    // addressed to our callback from a program of the user is taken for the IdP's own
    // (the login then ends with the hint; see hostile_round_three.rs).
    let answers = real_login_while(|port, forged| {
        let answer =
            crate::hostile_round_three::post_as_other_user(port, &[("SAMLResponse", forged)]);
        vec![Some(answer.lines().next().unwrap_or_default().to_owned())]
    });
    println!("forged post answered: {answers:?}");
}

/// A process of ours, killed on drop (also when a test fails half-way).
struct Guard(Option<Child>);

impl Guard {
    /// Kill the process and return what it printed on stdout.
    fn stop(mut self) -> String {
        let mut child = self.0.take().expect("running");
        let _ = child.kill();
        let out = child.wait_with_output().expect("collect the output");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Python `script` (with `args`) running as another user (setpriv, util-linux), with
/// the system's python3 (a per-user Python may not be readable by that user). Returns
/// once it printed `ready`.
fn as_other_user(script: &str, args: &[&str]) -> Guard {
    let mut child = python_as_uid_65534(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("setpriv (util-linux) and /usr/bin/python3 are installed");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(
        line.trim(),
        "ready",
        "the other user's program did not start"
    );
    child.stdout = Some(stdout.into_inner());
    Guard(Some(child))
}

/// `child`'s output, or None (and the child killed) when it runs longer than `limit`.
fn output_within(mut child: Child, limit: Duration) -> Option<Output> {
    let until = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(child.wait_with_output().unwrap())
}

/// Listens on [::1]:PORT only and prints `GOT <first line>` for each connection.
const IPV6_LISTENER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind(("::1", int(sys.argv[1])))
s.listen(16)
print("ready")
while True:
    c, _ = s.accept()
    c.settimeout(5)
    try:
        data = c.recv(65536)
    except OSError:
        data = b""
    print("GOT", data.split(b"\r\n")[0].decode(errors="replace"))
    c.close()
"#;

#[test]
fn another_users_ipv6_listener_on_the_port_stops_the_login() {
    let port = free_port();
    let listener = as_other_user(IPV6_LISTENER, &[&port.to_string()]);
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new().test_browser("");
    env.config(&format!("{}\n{DEV}", config_for(&idp, port)));
    let out = env
        .cmd()
        .args(["-c", "dev", "--timeout", "10", "aws-assume-role"])
        .ran();
    let got = listener.stop();
    assert!(
        !got.contains("GOT"),
        "the other user's [::1] listener received: {got}"
    );
    out.code(1)
        .stderr_has(&format!("port {port} on [::1] is already in use"));
    assert_eq!(idp.stat("samlp"), 0, "no browser opened");
    assert!(env.credentials().is_empty());
}

#[test]
fn the_system_browser_login_answers_on_ipv6_localhost_too() {
    // browser.py, like Chromium, tries ::1 first for `localhost`: that is us.
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    // The browser posts after 4 s: meanwhile [::1]:PORT itself must answer (issue 27:
    // browser.py falls back to 127.0.0.1, so a login alone proved no [::1] listener).
    let env = Env::new().test_browser("--delay 4");
    env.config(&config_for(&idp, port));
    let mut cmd = env.saml_login();
    cmd.arg("get-token")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let run = GroupGuard::spawn(cmd);
    let v6 = std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut stream = loop {
        match TcpStream::connect_timeout(&v6, Duration::from_secs(1)) {
            Ok(s) => break s,
            Err(e) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "nothing on [::1]:{port}: {e}"
                );
                std::thread::sleep(Duration::from_millis(30));
            }
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET /favicon.ico HTTP/1.1\r\nHost: localhost:{port}\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 404"),
        "saml-login answers on [::1]: {answer}"
    );
    let (out, _) = run.output_within(Duration::from_secs(120));
    Ran::from(out).success();
    assert!(
        TcpListener::bind(("::1", port)).is_ok(),
        "[::1] is free again"
    );
}

/// Reads every process's command line every 5 ms as another user. Of those holding
/// `marker` (this test's browser, not another test's), prints `SEEN` once, and `LEAK
/// <cmdline>` for each one holding `needle`.
const CMDLINE_READER: &str = r#"
import os, sys, time
needle, marker = sys.argv[1].encode(), sys.argv[2].encode()
seen, leaks = False, set()
print("ready")
while True:
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read()
        except OSError:
            continue
        if marker not in cmd or b"import os, sys" in cmd:
            continue
        if not seen:
            seen = True
            print("SEEN")
        if needle in cmd and cmd not in leaks:
            leaks.add(cmd)
            print("LEAK", cmd.replace(b"\0", b" ").decode(errors="replace"))
    time.sleep(0.005)
"#;

#[test]
fn the_relay_state_is_never_on_a_command_line() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let marker = log.path().display().to_string();
    let reader = as_other_user(CMDLINE_READER, &["RelayState", &marker]);
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new().test_browser(&format!("--delay 1 --log {}", log.path().display()));
    env.config(&config_for(&idp, port));
    let out = env.cmd().arg("get-token").output().unwrap();
    let seen = reader.stop();
    Ran::from(out).success();
    assert!(seen.contains("SEEN"), "the reader saw the browser: {seen}");
    assert!(!seen.contains("LEAK"), "{seen}");
    // The browser got there through the private forwarding page.
    let browser_log = std::fs::read_to_string(log.path()).unwrap();
    assert!(browser_log.contains("fetch file://"), "{browser_log}");
    assert!(
        browser_log.contains("RelayState="),
        "forwarded to the login URL: {browser_log}"
    );
}

#[test]
fn the_console_signin_token_is_never_on_a_command_line() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let marker = log.path().display().to_string();
    let reader = as_other_user(CMDLINE_READER, &["SigninToken", &marker]);
    let fed = Server::python("federation.py", &[]);
    let env = Env::new()
        .test_browser(&format!("--linger 1 --log {}", log.path().display()))
        .var(
            "SAML_LOGIN_FEDERATION_URL",
            format!("{}/federation", fed.url),
        );
    env.write(
        ".aws/credentials",
        "[dev]\naws_access_key_id = ASIAEXAMPLE\naws_secret_access_key = sekrit\naws_session_token = tok\n",
    );
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    let out = env
        .cmd()
        .args(["aws-console", "--profile", "dev"])
        .output()
        .unwrap();
    let seen = reader.stop();
    Ran::from(out).success();
    assert!(seen.contains("SEEN"), "the reader saw the browser: {seen}");
    assert!(!seen.contains("LEAK"), "{seen}");
    let browser_log = std::fs::read_to_string(log.path()).unwrap();
    assert!(
        browser_log.contains("SigninToken=signin-token-for-ASIAEXAMPLE"),
        "forwarded to the sign-in URL: {browser_log}"
    );
    // The forwarding page is gone once the browser has read it.
    let leftovers: Vec<_> = std::fs::read_dir(env.tmp())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("saml-login-open-")
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("login.html"))
                .is_ok_and(|page| page.contains("signin-token-for-ASIAEXAMPLE"))
        })
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Opens a POST to the callback announcing `Content-Length: 100000`, sends a few bytes
/// of it and never the rest, as a local program can.
fn slow_body(port: u16) -> TcpStream {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(e) => {
                assert!(Instant::now() < deadline, "the callback server is up: {e}");
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    write!(
        s,
        "POST /saml HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\nSAMLResponse=PHNhbWxw"
    )
    .unwrap();
    s
}

#[test]
fn a_slow_body_does_not_hold_up_the_real_post() {
    let moto = moto();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new().sts(&moto).test_browser("--delay 2");
    env.config(&format!("{}\n{DEV}", config_for(&idp, port)));
    let started = Instant::now();
    let child = env
        .saml_login()
        .args(["-c", "dev", "aws-assume-role"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _held = slow_body(port);
    let out = output_within(child, Duration::from_secs(25))
        .expect("saml-login finished while a body was held back (it hung)");
    Ran::from(out).success();
    println!("login with a held-back body: {:?}", started.elapsed());
    assert_eq!(caller_identity(&moto, &env.credentials_path(), "dev"), REAL);
}

#[test]
fn a_slow_body_does_not_stop_the_timeout_of_credential_process() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    // A browser that never posts: only the timeout ends the wait.
    let env = Env::new().var("BROWSER", "true");
    env.config(&format!("{}\n{DEV}", config_for(&idp, port)));
    let started = Instant::now();
    let child = env
        .saml_login()
        .args(["-c", "dev", "--timeout", "3", "credential-process"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _held = slow_body(port);
    let out = output_within(child, Duration::from_secs(20))
        .expect("credential-process ended while a body was held back (it hung)");
    Ran::from(out)
        .code(4)
        .stderr_has("no login completed within 3 s")
        .stdout_empty();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

/// Opens 1,100 connections to 127.0.0.1:PORT (once it answers) and holds them idle;
/// prints `ready N` when N are open.
const IDLE_FLOOD: &str = r#"
import resource, socket, sys, time
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard), hard))
port, socks = int(sys.argv[1]), []
deadline = time.time() + 10
while not socks:
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError:
        if time.time() > deadline:
            sys.exit("the callback server did not come up")
        time.sleep(0.02)
while len(socks) < 1100:
    try:
        socks.append(socket.create_connection(("127.0.0.1", port), timeout=2))
    except OSError as e:
        print("connect failed after", len(socks), e, file=sys.stderr)
        break
print("ready", len(socks), flush=True)
sys.stdin.read()
"#;

#[test]
fn idle_connections_do_not_exhaust_the_callback_server() {
    let moto = moto();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    // The real POST once the flood is in place (the test makes `flood-ready` then; a
    // fixed delay lost the race on a loaded machine, and the login ended first).
    let env = Env::new();
    let ready = env.path("flood-ready");
    let env = env
        .sts(&moto)
        .test_browser(&format!("--wait-for {}", ready.display()));
    env.config(&format!("{}\n{DEV}", config_for(&idp, port)));
    // The usual default soft limit, whatever this machine's is.
    let child = env
        .command("sh")
        .args(["-c", "ulimit -Sn 1024 && exec \"$0\" \"$@\""])
        .arg(assert_cmd::cargo::cargo_bin("saml-login"))
        .args(["-c", "dev", "aws-assume-role"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut flood = Command::new(python())
        .args(["-c", IDLE_FLOOD, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(flood.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let flood = Guard(Some(flood));
    std::fs::write(&ready, "").unwrap();
    let out = output_within(child, Duration::from_secs(30))
        .expect("saml-login finished under 1,100 idle connections");
    drop(flood);
    Ran::from(out).success();
    assert_eq!(
        line.trim(),
        "ready 1100",
        "all the idle connections were open"
    );
    assert_eq!(caller_identity(&moto, &env.credentials_path(), "dev"), REAL);
}

#[test]
fn headless_types_the_password_only_on_the_idps_origin() {
    let foreign = Server::python("foreign_login.py", &[]);
    let idp = idp(&["--login-redirect", &format!("{}/u/login", foreign.url)]);
    let env = Env::new()
        .var("SAML_LOGIN_USERNAME", "alice")
        .var("SAML_LOGIN_PASSWORD", "correct-horse");
    env.config(&config_for(&idp, free_port()));
    let out = env
        .cmd()
        .args(["--headless", "--no-cache", "--timeout", "20", "get-token"])
        .ran();
    let stats = foreign.get("/stats");
    assert!(
        stats.contains("\"posts\": 0"),
        "the other origin got: {stats}"
    );
    out.code(1)
        .stderr_has(&format!("the login form is on {}", foreign.url))
        .stderr_has("not on the IdP's origin")
        .stderr_lacks("correct-horse");
}

#[test]
fn headless_refuses_an_assertion_posted_to_aws_by_a_frame_on_the_idp_page() {
    let moto = moto();
    let aws = "https://signin.aws.amazon.com/saml";
    // The attacker's page: another account's assertion, posted to AWS at once.
    let attacker = crate::support::idp(&[
        "--auto-session",
        "--callback",
        aws,
        "--session-name",
        "attacker@evil.example",
    ]);
    // The IdP's page shows it in a (cross-origin) iframe and posts its own after 2 s.
    let frame = format!("{}/samlp/test-client", attacker.url);
    let idp = idp(&[
        "--auto-session",
        "--callback",
        aws,
        "--frame",
        &frame,
        "--submit-delay",
        "2",
    ]);
    let env = Env::new().sts(&moto);
    env.config(&config_for(&idp, free_port()));
    env.cmd()
        .args(["--headless", "--no-cache", "--timeout", "30"])
        .args(["--login-url", &format!("{}/samlp/test-client", idp.url)])
        .args(["--callback-url", "aws", "aws-assume-role"])
        .args([
            "--account",
            "123456789012",
            "--role",
            "Developer",
            "--profile",
            "dev",
        ])
        .ran()
        .success();
    assert_eq!(attacker.stat("samlp"), 1, "the frame was loaded");
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "dev"),
        REAL,
        "the IdP's own assertion is the one used"
    );
}

/// The `--user-data-dir` of a running process, when it is one of saml-login's Chromiums.
fn chromium_profile_of(pid: &str) -> Option<std::path::PathBuf> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    String::from_utf8_lossy(&cmdline)
        .split('\0')
        .find_map(|a| a.strip_prefix("--user-data-dir="))
        .filter(|dir| dir.contains("saml-login-chromium-"))
        .map(std::path::PathBuf::from)
}

#[test]
fn headless_chromium_gets_a_private_profile_and_temp_dir_and_no_secret() {
    use std::os::unix::fs::PermissionsExt;
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&[
        "--auto-session",
        "--callback",
        &callback,
        "--submit-delay",
        "2",
    ]);
    let tmp = tempfile::tempdir().unwrap();
    let jar = "# Netscape HTTP Cookie File\n127.0.0.1\tFALSE\t/\tFALSE\t0\tidp_session\tjar-secret-value\n";
    let env = Env::new()
        .var("TMPDIR", tmp.path().display().to_string())
        .var("SAML_LOGIN_USERNAME", "alice")
        .var("SAML_LOGIN_PASSWORD", "password-secret-value")
        .var("SAML_LOGIN_COOKIES", jar);
    env.config(&config_for(&idp, port));
    let child = env
        .saml_login()
        .args([
            "--headless",
            "--headless-mode",
            "chromium",
            "--no-cache",
            "--timeout",
            "30",
            "get-token",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (mut seen, mut modes, mut leaks) = (0, Vec::new(), Vec::new());
    let until = Instant::now() + Duration::from_secs(40);
    let mut child = Some(child);
    while child.as_mut().unwrap().try_wait().unwrap().is_none() && Instant::now() < until {
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let pid = entry.file_name().to_string_lossy().into_owned();
            // This run's Chromium only (its profile is in this run's TMPDIR).
            let Some(profile) = chromium_profile_of(&pid).filter(|p| p.starts_with(tmp.path()))
            else {
                continue;
            };
            let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
                continue;
            };
            seen += 1;
            let environ = String::from_utf8_lossy(&environ);
            for secret in ["password-secret-value", "jar-secret-value"] {
                if environ.contains(secret) {
                    leaks.push(format!("{pid}: {secret}"));
                }
            }
            if let Ok(m) = std::fs::metadata(&profile) {
                modes.push(m.permissions().mode() & 0o777);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = output_within(child.take().unwrap(), Duration::from_secs(1)).expect("finished");
    Ran::from(out).success();
    assert!(seen > 0, "a Chromium process of the run was seen");
    assert!(
        leaks.is_empty(),
        "secrets in Chromium's environment: {leaks:?}"
    );
    assert!(
        !modes.is_empty() && modes.iter().all(|m| *m == 0o700),
        "profile modes: {:?}",
        modes.iter().map(|m| format!("{m:o}")).collect::<Vec<_>>()
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "left in the temp directory: {left:?}");
}

/// An assertion from the test IdP saved in the test's HOME, for `--saml-response-file`.
fn saved_response(env: &Env) -> std::path::PathBuf {
    let idp = idp(&["--auto-session"]);
    env.write("response.b64", &fetch_saml_response(&idp))
}

const OTHER_PROFILE: &str = "[other]\naws_access_key_id = AKIAOTHER\n";

#[test]
fn a_profile_name_that_would_add_a_section_is_refused() {
    let env = Env::new().var("SAML_LOGIN_AWS_PROFILE", "dev]\n[prod");
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\naws_account = 123456789012\naws_role = Developer\n");
    env.write(".aws/credentials", OTHER_PROFILE);
    let out = env
        .cmd()
        .args(["aws-assume-role", "--saml-response-file", "/nonexistent"])
        .ran()
        .code(1);
    assert_eq!(
        out.stderr().lines().next().unwrap_or_default(),
        "saml-login: error: aws_profile in SAML_LOGIN_AWS_PROFILE: \"dev]\\n[prod\" is not a profile name: it holds ']' (`[`, `]` and control characters are refused)"
    );
    assert_eq!(env.credentials(), OTHER_PROFILE, "the file is untouched");
}

#[test]
fn role_names_outside_iams_character_set_are_refused_and_never_printed_raw() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    env.write(".aws/credentials", OTHER_PROFILE);
    for (case, role) in [
        ("section header", "pwn]&#10;[default]"),
        ("escape sequence", "red\u{1b}[31m"),
    ] {
        let xml = std::fs::read_to_string(repo().join("fixtures/saml/two-roles-two-accounts.xml"))
            .unwrap()
            .replace("role/ops/Admin", &format!("role/{role}"));
        let b64 = base64_encode(xml.as_bytes());
        let saved = env.write("response.b64", &b64);
        env.cmd()
            .args(["aws-assume-role", "--all", "--saml-response-file"])
            .arg(&saved)
            .ran()
            .context(case)
            .code(1)
            .stderr_has("is not a role ARN and a saml-provider ARN")
            .stderr_lacks("\u{1b}");
        assert_eq!(env.credentials(), OTHER_PROFILE, "{case}: file untouched");
    }
}

fn base64_encode(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// Cached credentials for [dev]'s role (123456789012, Developer), valid for years.
fn plant_cached_credentials(env: &Env, session_token: &str) -> std::path::PathBuf {
    // The cache entry of [dev]'s request: the file is named by the request's
    // fingerprint, as src/storage/identity.rs computes it (the tests' config names no policy,
    // duration or region).
    let config = std::fs::read_to_string(env.path(".saml-login")).unwrap();
    let idp = config
        .lines()
        .find_map(|l| l.strip_prefix("idp_url = "))
        .unwrap()
        .trim_end_matches('/');
    let canonical = serde_json::json!({
        "v": 1,
        "idp": format!("{idp}/samlp/c"),
        "account": "123456789012",
        "role": "Developer",
        "policy_arns": [],
        "inline_policy": null,
        "duration": null,
        "region": null,
    });
    let fingerprint: String = sha2::Digest::finalize(sha2::Digest::chain_update(
        <sha2::Sha256 as sha2::Digest>::new(),
        canonical.to_string().as_bytes(),
    ))
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
    let json = serde_json_string(&[
        ("identity", &fingerprint),
        ("role_arn", "arn:aws:iam::123456789012:role/Developer"),
        ("access_key_id", "ASIAPLANTED"),
        ("secret_access_key", "planted-secret"),
        ("session_token", session_token),
        ("expiration", "2099-01-01T00:00:00Z"),
    ]);
    env.write(
        &format!(".cache/saml-login/credentials/{fingerprint}.json"),
        &json,
    )
}

fn serde_json_string(pairs: &[(&str, &str)]) -> String {
    let fields: Vec<String> = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "\"{k}\": \"{}\"",
                v.replace('\\', "\\\\").replace('"', "\\\"")
            )
        })
        .collect();
    format!("{{{}}}", fields.join(", "))
}

#[test]
fn powershell_exports_double_every_kind_of_single_quote() {
    let env = Env::new();
    env.config(&format!(
        "[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n{DEV}"
    ));
    plant_cached_credentials(
        &env,
        "a\u{2019}b\u{2018}c\u{201a}d\u{201b}e'f; Write-Host pwned",
    );
    let out = env
        .cmd()
        .args(["-c", "dev", "env", "--shell", "powershell"])
        .ran()
        .success()
        .out;
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout.contains(
            "$Env:AWS_SESSION_TOKEN = 'a\u{2019}\u{2019}b\u{2018}\u{2018}c\u{201a}\u{201a}d\u{201b}\u{201b}e''f; Write-Host pwned'\n"
        ),
        "{stdout}"
    );
}

#[test]
fn a_timeout_too_large_for_the_clock_is_refused() {
    for (how, env) in [
        ("--timeout", Env::new()),
        (
            "SAML_LOGIN_TIMEOUT",
            Env::new().var("SAML_LOGIN_TIMEOUT", "9200000000000000000"),
        ),
    ] {
        env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\nbrowser = system\n");
        let mut cmd = env.cmd();
        if how == "--timeout" {
            cmd.args(["--timeout", "9200000000000000000"]);
        }
        // A bad flag value is a usage error (2, issue 28); a bad variable is exit 1.
        let code = if how == "--timeout" { 2 } else { 1 };
        let out = cmd.arg("get-token").ran().context(how).code(code);
        assert_eq!(
            out.stderr().lines().next().unwrap_or_default(),
            format!(
                "saml-login: error: timeout in {how}: \"9200000000000000000\" is not a number of seconds from 1 to 86400"
            )
        );
    }
}

#[test]
fn a_world_writable_aws_directory_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let moto = moto();
    let env = Env::new().sts(&moto);
    env.config(&format!(
        "[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n{DEV}"
    ));
    // Someone else's keys, planted as a profile valid for years: not believed either.
    let planted = format!(
        "{OTHER_PROFILE}[dev]\naws_access_key_id = ASIAPLANTED\nexpiration = 2099-01-01T00:00:00Z\n"
    );
    env.write(".aws/credentials", &planted);
    std::fs::set_permissions(env.path(".aws"), std::fs::Permissions::from_mode(0o777)).unwrap();
    let saved = saved_response(&env);
    env.cmd()
        .args(["-c", "dev", "aws-assume-role", "--saml-response-file"])
        .arg(&saved)
        .ran()
        .code(1)
        .stderr_has(&format!(
            "{}: is writable by every user (mode 777); saml-login keeps no secret there",
            env.path(".aws").display()
        ));
    assert_eq!(env.credentials(), planted);
}

#[test]
fn a_planted_lock_symlink_is_not_followed() {
    let moto = moto();
    let env = Env::new().sts(&moto);
    env.config(&format!(
        "[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n{DEV}"
    ));
    env.write(".aws/credentials", OTHER_PROFILE);
    let target = env.path("created-through-the-link");
    std::os::unix::fs::symlink(&target, env.path(".aws/.credentials.lock")).unwrap();
    let saved = saved_response(&env);
    let out = env
        .cmd()
        .args(["-c", "dev", "aws-assume-role", "--saml-response-file"])
        .arg(&saved)
        .ran();
    assert!(!target.exists(), "the link was followed");
    out.code(1)
        .stderr_has(".credentials.lock: is a symbolic link; saml-login does not follow it");
    assert_eq!(env.credentials(), OTHER_PROFILE);
}

#[test]
fn a_cache_entry_in_a_directory_others_can_write_is_not_believed() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new().var("BROWSER", "true");
    env.config(&format!(
        "[DEFAULT]\nidp_url = http://127.0.0.1:9\nclient_id = c\nbrowser = system\nlisten_port = {}\n{DEV}",
        free_port()
    ));
    let planted = plant_cached_credentials(&env, "planted-token");
    std::fs::set_permissions(
        planted.parent().unwrap(),
        std::fs::Permissions::from_mode(0o777),
    )
    .unwrap();
    // Not believed: a login is tried, which ends at once (nothing listens at the IdP).
    env.cmd()
        .args(["-c", "dev", "--timeout", "2", "credential-process"])
        .ran()
        .stdout_empty()
        .code(1)
        .stderr_has("ignoring the cache file")
        .stderr_has("is writable by every user")
        .stderr_has("the IdP does not answer at http://127.0.0.1:9/samlp/c");
}

#[test]
fn a_killed_runs_forwarding_page_is_removed_by_the_next_run() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let tmp = tempfile::tempdir().unwrap();
    let pages = || -> Vec<String> {
        std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("saml-login-open-"))
            .collect()
    };
    // A browser that never posts; saml-login is SIGKILLed while it waits.
    let env = Env::new()
        .var("TMPDIR", tmp.path().display().to_string())
        .var("BROWSER", "true");
    env.config(&config_for(&idp, port));
    let mut child = env.saml_login().arg("get-token").spawn().unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    while pages().is_empty() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let left = pages();
    assert_eq!(left.len(), 1, "the killed run's page: {left:?}");
    // The next run (a real login) removes it, and its own page when done.
    let env = env.test_browser("");
    env.cmd().arg("get-token").ran().success();
    assert_eq!(pages(), Vec::<String>::new());
}
