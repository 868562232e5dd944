//! Hostile neighbours, round three (issue 27), finding 2: the port after a login. When a
//! system-browser login ends without the POST (the timeout, or a SIGKILL as the AWS SDK
//! for Go sends a slow `credential_process`), another local user (uid 65534 through
//! `setpriv`) must not be able to take 127.0.0.1 or [::1] on the port and receive the
//! browser's late POST: a guard holds the port for a grace period and answers "login
//! cancelled". A new login of the user takes the port back; the other user cannot make
//! the guard go.
//!
//! Linux only: another user through `setpriv`, `/proc/net/tcp`.

#![cfg(target_os = "linux")]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const OTHER_UID: &str = "65534";
const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n";

/// As the other user: try to listen on 127.0.0.1:PORT and [::1]:PORT; prints one line
/// per address, `TAKEN` or the error.
const TAKER: &str = r#"
import socket, sys
port = int(sys.argv[1])
for family, host in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
    s = socket.socket(family, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        s.listen(1)
        print(host, "TAKEN")
    except OSError as e:
        print(host, "REFUSED", e.errno)
    s.close()
"#;

/// As the other user: ask a guard on 127.0.0.1:PORT to release the port; prints the answer.
const RELEASER: &str = r#"
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"POST /.saml-login/release-port HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode(errors="replace"))
"#;

fn release_as_other_user(port: u16) -> String {
    other_user_python(RELEASER, port)
}

fn take_as_other_user(port: u16) -> String {
    other_user_python(TAKER, port)
}

fn other_user_python(script: &str, port: u16) -> String {
    Command::new("setpriv")
        .args([
            &format!("--reuid={OTHER_UID}"),
            &format!("--regid={OTHER_UID}"),
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            script,
            &port.to_string(),
        ])
        .current_dir("/")
        .stdin(Stdio::null())
        .ran()
        .success()
        .stdout()
}

/// The world: moto, the IdP, and a browser that does nothing (the login can only end
/// by its timeout or a kill).
fn world() -> (Env, Server, Server, u16) {
    let w = World::new()
        .no_browser()
        .var("BROWSER", "true")
        .config(DEV)
        .build();
    (w.env, w.idp, w.moto.unwrap(), w.port)
}

/// The whole answer to a form posted to /saml on 127.0.0.1:PORT by the user's program.
fn post_whole(port: u16, pairs: &[(&str, &str)]) -> String {
    use std::io::{Read, Write};
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    let mut s = connect_within(port, Duration::from_secs(10));
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

/// The port guard's pid, from the message saml-login printed.
fn guard_pid(stderr: &str) -> u32 {
    let line = stderr
        .lines()
        .find(|l| l.contains("stays held for"))
        .unwrap_or_else(|| panic!("no word of the port being held: {stderr}"));
    let pid = line
        .split("(pid ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap();
    pid.parse().unwrap()
}

/// What the late POST of the real response gets, and that the other user cannot take
/// the port, while the guard holds it.
fn assert_held(port: u16, idp: &Server) {
    let taken = take_as_other_user(port);
    assert!(
        !taken.contains("TAKEN"),
        "another user took the port: {taken}"
    );
    let late = fetch_saml_response(idp);
    let answer = post_whole(port, &[("SAMLResponse", &late)]);
    assert!(answer.starts_with("HTTP/1.1 410"), "{answer}");
    assert!(answer.contains("Login cancelled"), "{answer}");
    assert!(answer.contains("Close this tab"), "{answer}");
    // The other user cannot make the guard go.
    let refused = release_as_other_user(port);
    assert!(refused.contains("410"), "{refused}");
    let taken = take_as_other_user(port);
    assert!(!taken.contains("TAKEN"), "{taken}");
}

#[test]
fn after_a_timeout_the_port_stays_held_and_a_late_post_is_told_the_login_was_cancelled() {
    let (env, idp, moto, port) = world();
    let log = env.path("stderr.log");
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "--timeout", "3", "aws-assume-role"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    // The group (saml-login and its guard) is killed when the test ends.
    let mut run = GroupGuard::spawn(cmd);
    let status = run
        .wait_for(Duration::from_secs(60))
        .expect("ended by its timeout");
    let stderr = std::fs::read_to_string(&log).unwrap();
    assert!(!status.success(), "{stderr}");
    assert!(stderr.contains("no login completed within 3 s"), "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} stays held for 120 s")),
        "the timeout message says so: {stderr}"
    );
    let pid = guard_pid(&stderr);
    assert!(alive(pid));
    assert_held(port, &idp);

    // A new login of the user takes the port back and succeeds.
    let env = env.test_browser("");
    env.call(&["-c", "dev", "aws-assume-role"]).success();
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(pid), "the guard went for the new login");
    assert!(
        caller_identity(&moto, &env.credentials_path(), "dev").contains("assumed-role/Developer")
    );
    drop(run);
}

#[test]
fn after_a_sigkill_the_port_stays_held() {
    let (env, idp, _moto, port) = world();
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "--timeout", "60", "credential-process"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut run = GroupGuard::spawn(cmd);
    let _ = connect_within(port, Duration::from_secs(30));
    // The guard is there from the start (a SIGKILL leaves no time to start one).
    std::thread::sleep(Duration::from_millis(300));
    run.child.kill().unwrap();
    run.child.wait().unwrap();
    assert_held(port, &idp);
    drop(run);
}
