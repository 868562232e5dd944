//! Hostile neighbours, round three (issue 27), finding 7: another local user (uid 65534
//! through `setpriv`) opens 300 connections to the callback server, each sending a body
//! of almost 1 MiB and holding the last byte. The server's memory must stay within its
//! global budget of body bytes in flight (48 MiB) instead of growing with every
//! connection (327 MB before), and the real login still completes.
//!
//! Linux only: another user through `setpriv`, `/proc/PID/status`.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

/// Opens argv[2] connections to 127.0.0.1:argv[1], each posting all but the last byte
/// of a 1 MiB body; prints `SENT` once every body is out, then holds them until stdin
/// closes.
const FLOOD: &str = r#"
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
size = 1024 * 1024 - 64
head = (f"POST /saml HTTP/1.1\r\nHost: localhost:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {size}\r\n\r\n").encode()
body = b"SAMLResponse=" + b"A" * (size - 14)
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.setblocking(True)
    try:
        s.sendall(head + body)
    except OSError:
        pass
    conns.append(s)
print("SENT", flush=True)
sys.stdin.read()
"#;

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

#[test]
fn bodies_in_flight_stay_within_a_global_budget() {
    let moto = moto();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let ready = tempfile::NamedTempFile::new().unwrap();
    let go = ready.path().with_extension("go");
    let env = Env::new()
        .sts(&moto)
        .test_browser(&format!("--wait-for {}", go.display()));
    env.config(&format!(
        "{}[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
        config_for(&idp, port)
    ));
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "--timeout", "120", "aws-assume-role"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let run = GroupGuard::spawn(cmd);
    drop(connect_within(port, Duration::from_secs(30)));
    let before = rss_kib(run.id());

    let mut flood = Command::new("setpriv");
    flood
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "/usr/bin/python3",
            "-c",
            FLOOD,
        ])
        .arg(port.to_string())
        .arg("300")
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut flood = GroupGuard::spawn(flood);
    let (tx, rx) = std::sync::mpsc::channel();
    let out = flood.child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(out).read_line(&mut line);
        let _ = tx.send(line);
    });
    // Watch the memory while the bodies arrive and are held.
    let mut peak = before;
    let until = Instant::now() + Duration::from_secs(60);
    let mut sent = false;
    while Instant::now() < until {
        peak = peak.max(rss_kib(run.id()));
        if !sent && rx.try_recv().is_ok_and(|l| l.starts_with("SENT")) {
            sent = true;
            // Held a little longer, every body out.
            let settle = Instant::now() + Duration::from_secs(2);
            while Instant::now() < settle {
                peak = peak.max(rss_kib(run.id()));
                std::thread::sleep(Duration::from_millis(20));
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(sent, "the flood did not get its bodies out");
    drop(flood);
    // The budget (48 MiB) plus what a login process holds anyway; 300 MiB before.
    assert!(
        peak < before + 100 * 1024,
        "memory grew from {before} KiB to {peak} KiB"
    );
    // The real login goes on.
    std::fs::write(&go, "").unwrap();
    let (out, _) = run.output_within(Duration::from_secs(120));
    Ran::from(out).success();
    eprintln!("peak RSS {peak} KiB (started at {before} KiB)");
}
