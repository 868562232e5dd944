//! Hostile neighbours, round three (issue 27): another local user (uid 65534 through
//! `setpriv`) against a login of the user, on loopback.
//!
//! - A post without our RelayState ends the wait only when it is this login's own
//!   response (addressed to our callback, issued after the login began) and comes from
//!   a program of the user; junk is answered 400 and the wait goes on, with no hint to
//!   turn the check off.
//!
//! Linux only: another user through `setpriv`, `/proc/net/tcp`.

#![cfg(target_os = "linux")]

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

const REAL: &str = "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com";
const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n";

/// Posts argv[3] (a form body) to 127.0.0.1:argv[1]/saml with `Host: argv[2]`
/// (retrying the connection for 10 s) and prints the answer's status line.
const POSTER: &str = r#"
import socket, sys, time
port, host, body = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
deadline = time.time() + 10
while True:
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        break
    except OSError:
        if time.time() > deadline:
            print("NOTHING LISTENS")
            sys.exit(0)
        time.sleep(0.03)
s.sendall(b"POST /saml HTTP/1.1\r\nHost: " + host.encode()
          + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
          + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
data = b""
try:
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except OSError:
    pass
print(data.decode(errors="replace"))
"#;

/// The whole answer to a form `pairs` posted by another user's program (bounded: the
/// script gives up after 10 s without a listener, 20 s without an answer).
pub(crate) fn post_as_other_user(port: u16, pairs: &[(&str, &str)]) -> String {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    // setpriv (util-linux) and /usr/bin/python3 are installed.
    python_as_uid_65534(POSTER)
        .args([&port.to_string(), &format!("localhost:{port}"), &body])
        .stdin(Stdio::null())
        .ran()
        .success()
        .stdout()
}

/// The whole answer to a form posted by a program of the test's own user.
fn post_as_us(port: u16, pairs: &[(&str, &str)]) -> String {
    use std::io::{Read, Write};
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(30)),
            Err(e) => panic!("nothing listens on {port}: {e}"),
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /saml HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    reply
}

fn status(answer: &str) -> &str {
    answer.lines().next().unwrap_or_default()
}

/// A SAML response of another IdP run (`args`) for the callback on `port`.
fn response_from(port: u16, args: &[&str]) -> String {
    let callback = format!("http://localhost:{port}/saml");
    let mut all = vec!["--auto-session", "--callback", &callback];
    all.extend_from_slice(args);
    let other = idp(&all);
    fetch_saml_response(&other)
}

/// The lines saml-login printed about refused posts, each one warning in the one
/// format (`saml-login: warning: refused a callback request: WHY; still waiting`).
fn refusal_lines(stderr: &str) -> Vec<&str> {
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("refused a callback request"))
        .collect();
    for line in &lines {
        assert!(
            line.starts_with("saml-login: warning: refused a callback request: ")
                && line.ends_with("; still waiting"),
            "{line}"
        );
    }
    lines
}

/// Finding 3: with `require_relay_state = false` a post without RelayState used to end
/// the wait (and then be refused), freeing the port for the attacker to take the real
/// post. Now junk is answered 400 and the real login goes on and is used.
#[test]
fn junk_without_relay_state_does_not_end_a_relay_state_less_login() {
    let moto = moto();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&[
        "--auto-session",
        "--callback",
        &callback,
        "--no-relay-state-echo",
    ]);
    // Junk anyone can get: an old response, one addressed elsewhere, another account's
    // fresh one (posted by another user), and no SAML at all.
    let old = response_from(port, &["--issued-ago", "600"]);
    let elsewhere = {
        let other = crate::support::idp(&[
            "--auto-session",
            "--callback",
            "http://localhost:9/elsewhere",
        ]);
        fetch_saml_response(&other)
    };
    let attackers = response_from(port, &["--session-name", "attacker@evil.example"]);
    let env = Env::new().sts(&moto).test_browser("--delay 6");
    env.config(&format!(
        "{}require_relay_state = false\n{DEV}",
        config_for(&idp, port)
    ));
    let child = env
        .saml_login()
        .args(["-c", "dev", "aws-assume-role"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = KillOnDrop(vec![child]);
    let answers = [
        ("old", post_as_us(port, &[("SAMLResponse", &old)])),
        (
            "elsewhere",
            post_as_us(port, &[("SAMLResponse", &elsewhere)]),
        ),
        ("not SAML", post_as_us(port, &[("SAMLResponse", "PHg+")])),
        (
            "another user's",
            post_as_other_user(port, &[("SAMLResponse", &attackers)]),
        ),
    ];
    let mut ran = Ran::from(guard.wait_all(Duration::from_secs(90)).pop().unwrap());
    for (what, answer) in &answers {
        ran = ran
            .check(
                status(answer).contains(" 400 "),
                &format!("{what} answered 400: {answer}"),
            )
            .check(
                !answer.contains("require_relay_state"),
                &format!("{what}: {answer}"),
            );
    }
    let mut ran = ran.success();
    assert_eq!(caller_identity(&moto, &env.credentials_path(), "dev"), REAL);
    let stderr = ran.stderr();
    let refused = refusal_lines(&stderr);
    ran = ran.check(refused.len() == 4, "four refusals said");
    for expected in [
        "it carries no RelayState and it was issued at",
        "it carries no RelayState and it is not addressed to",
        "it carries no RelayState and its SAMLResponse is not a SAML response",
        "it carries no RelayState and comes from a program of another user",
    ] {
        ran = ran.check(
            refused.iter().any(|l| l.contains(expected)),
            &format!("a refusal: {expected}"),
        );
    }
    assert!(
        refused.iter().all(|l| !l.contains("require_relay_state")),
        "junk is no reason to turn the check off: {stderr}"
    );
}

/// Finding 3, the default `require_relay_state = true`: junk without RelayState is
/// refused without a hint to turn the check off (it used to say "if yours never does,
/// see require_relay_state" to whoever posted junk), and another user's fresh,
/// well-addressed response never ends the wait.
#[test]
fn junk_without_relay_state_gets_no_hint_to_turn_the_check_off() {
    let moto = moto();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let old = response_from(port, &["--issued-ago", "600"]);
    let attackers = response_from(port, &["--session-name", "attacker@evil.example"]);
    let env = Env::new().sts(&moto).test_browser("--delay 6");
    env.config(&format!("{}\n{DEV}", config_for(&idp, port)));
    let child = env
        .saml_login()
        .args(["-c", "dev", "aws-assume-role"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let guard = KillOnDrop(vec![child]);
    let answers = [
        post_as_us(port, &[("SAMLResponse", &old)]),
        post_as_other_user(port, &[("SAMLResponse", &attackers)]),
    ];
    let mut ran = Ran::from(guard.wait_all(Duration::from_secs(90)).pop().unwrap());
    for answer in &answers {
        ran = ran
            .check(
                status(answer).contains(" 400 "),
                &format!("answered 400: {answer}"),
            )
            .check(!answer.contains("require_relay_state"), answer);
    }
    let ran = ran.success();
    assert_eq!(caller_identity(&moto, &env.credentials_path(), "dev"), REAL);
    let stderr = ran.stderr();
    let refused = refusal_lines(&stderr);
    ran.check(refused.len() == 2, "two refusals said").check(
        refused.iter().all(|l| !l.contains("require_relay_state")),
        "no refusal names require_relay_state",
    );
}

/// Listens on argv[1]:argv[2] and prints `GOT <first line>` for each connection.
const LISTENER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    c.settimeout(5)
    try:
        data = c.recv(65536)
    except OSError:
        data = b""
    print("GOT", data.split(b"\r\n")[0].decode(errors="replace"), flush=True)
    c.close()
"#;

/// A program of another user, killed (and reaped) on drop.
struct OtherUser(Option<std::process::Child>);

impl OtherUser {
    /// Python `script` with `args` as uid 65534, once it printed `ready`.
    fn start(script: &str, args: &[&str]) -> Self {
        use std::io::BufRead;
        let mut child = python_as_uid_65534(script)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("setpriv (util-linux) and /usr/bin/python3 are installed");
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(
            line.trim(),
            "ready",
            "the other user's program did not start"
        );
        child.stdout = Some(stdout.into_inner());
        Self(Some(child))
    }

    /// Stop it; what it printed after `ready`.
    fn stop(mut self) -> String {
        let mut child = self.0.take().unwrap();
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for OtherUser {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Finding 4: with `callback_url = http://127.0.0.2:PORT/saml` saml-login listened on
/// 127.0.0.1 and [::1] only, and another user listening on 127.0.0.2 received the
/// browser's POST. Now such a URL is refused before any browser opens.
#[test]
fn a_callback_on_another_loopback_address_is_refused_for_the_system_browser() {
    let port = free_port();
    let callback = format!("http://127.0.0.2:{port}/saml");
    let other = OtherUser::start(LISTENER, &["127.0.0.2", &port.to_string()]);
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new().test_browser("");
    env.config(&format!(
        "{}callback_url = {callback}\n",
        config_for(&idp, port).replace(&format!("listen_port = {port}\n"), "")
    ));
    let run = env
        .saml_login()
        .args(["--timeout", "15", "get-token"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = KillOnDrop(vec![run])
        .wait_all(Duration::from_secs(60))
        .pop()
        .unwrap();
    let got = other.stop();
    assert!(!got.contains("GOT"), "the other user received: {got}");
    Ran::from(out)
        .code(1)
        .stderr_has(&format!(
            "callback_url {callback} names the loopback address 127.0.0.2"
        ))
        .stderr_has(&format!("use http://localhost:{port}/saml"))
        .stdout_empty();
    assert_eq!(idp.stat("samlp"), 0, "no browser opened");
}

/// Low (8): every login printed the URL with our RelayState on stderr ("Opening
/// ...?RelayState=... in your browser"), where a shared terminal or a CI log shows it.
/// The URL shown leaves it out; `--no-open`, whose URL the user must copy, keeps it.
#[test]
fn the_relay_state_is_not_printed_when_the_browser_opens() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let log = tempfile::NamedTempFile::new().unwrap();
    let env = Env::new().test_browser(&format!("--log {}", log.path().display()));
    env.config(&config_for(&idp, port));
    let out = env.cmd().args(["--no-cache", "get-token"]).ran().success();
    // The browser did get it (the login worked through it) ...
    let browser_log = std::fs::read_to_string(log.path()).unwrap();
    assert!(browser_log.contains("RelayState="), "{browser_log}");
    // ... and the terminal did not.
    out.stderr_has(&format!(
        "saml-login: opening {}/samlp/test-client in your browser ...\n",
        idp.url
    ))
    .stderr_lacks("RelayState");
}
