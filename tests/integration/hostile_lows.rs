//! Hostile neighbours, round three (issue 27), the lows: a `TMPDIR` without the sticky
//! bit is not used for the forwarding page (another user could swap it), and saml-login
//! is not dumpable (no core file of its memory, which holds keys).
//!
//! Linux only: `/proc/PID` ownership, another user through `setpriv`.

#![cfg(target_os = "linux")]

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const OTHER_UID: u32 = 65534;

#[test]
fn a_tmpdir_others_can_write_without_the_sticky_bit_is_not_used() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new();
    let loose = env.path("loose");
    let run = env.path("run");
    std::fs::create_dir(&loose).unwrap();
    std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o777)).unwrap();
    std::fs::create_dir(&run).unwrap();
    std::fs::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
    let log = env.path("browser.log");
    let env = env
        .test_browser(&format!("--log {}", log.display()))
        .var("TMPDIR", loose.display().to_string())
        .var("XDG_RUNTIME_DIR", run.display().to_string());
    env.config(&config_for(&idp, port));
    let ran = env.call(&["get-token"]).success();
    let opened = std::fs::read_to_string(&log).unwrap();
    let first = opened.lines().next().unwrap_or_default();
    assert!(
        first.contains(&format!("file://{}/saml-login-open-", run.display())),
        "the forwarding page is in XDG_RUNTIME_DIR: {opened}"
    );
    // Said once, as a warning in the one format (not only under --verbose).
    let stderr = ran.stderr();
    let said: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("XDG_RUNTIME_DIR"))
        .collect();
    ran.check(said.len() == 1, "said once").check(
        said[0].starts_with("saml-login: warning: the temp directory ")
            && said[0].contains("without the sticky bit")
            && said[0].ends_with(&format!(
                "; using XDG_RUNTIME_DIR ({}) instead",
                run.display()
            )),
        "says why, as a warning",
    );
}

#[test]
fn saml_login_cannot_be_dumped_while_it_holds_secrets() {
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    // A HOME of the other user's, who runs saml-login here.
    let home = tempfile::Builder::new()
        .prefix("dumpable")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::write(home.path().join(".saml-login"), config_for(&idp, port)).unwrap();
    for p in [home.path().to_owned(), home.path().join(".saml-login")] {
        std::os::unix::fs::chown(&p, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    }
    let mut cmd = Command::new("setpriv");
    cmd.args([
        &format!("--reuid={OTHER_UID}"),
        &format!("--regid={OTHER_UID}"),
        "--clear-groups",
    ])
    .arg(assert_cmd::cargo::cargo_bin("saml-login"))
    .args(["--timeout", "20", "get-token"])
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("HOME", home.path())
    .env("TMPDIR", home.path())
    .env("BROWSER", "true")
    .env(
        "DBUS_SESSION_BUS_ADDRESS",
        "unix:path=/nonexistent/saml-login-tests-have-no-session-bus",
    )
    .current_dir("/")
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let run = GroupGuard::spawn(cmd);
    // setpriv execs saml-login: the same pid. Once it listens, it is in its wait.
    drop(connect_within(port, Duration::from_secs(30)));
    let environ = std::fs::metadata(format!("/proc/{}/environ", run.id())).unwrap();
    let status = std::fs::read_to_string(format!("/proc/{}/status", run.id())).unwrap();
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("Uid:") && l.contains(&OTHER_UID.to_string())),
        "{status}"
    );
    // A process that is not dumpable has its /proc files owned by root.
    assert_eq!(
        environ.uid(),
        0,
        "saml-login is dumpable (its /proc files are its user's)"
    );
    let started = Instant::now();
    drop(run);
    assert!(started.elapsed() < Duration::from_secs(10));
}
