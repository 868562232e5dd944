//! Issue 27's "claims no test holds": each test here fails when its claim is broken.
//!
//! - the credentials file's new content is fsynced before it is renamed into place
//!   (`strace` sees the order);
//! - files and directories owned by another user (chown 65534, not only loose modes)
//!   are refused;
//! - a waiter for another login's lock gives up after its `timeout` + 30 s.
//!
//! Linux only: `strace`, chown to another uid.

#![cfg(target_os = "linux")]

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

const OTHER_UID: u32 = 65534;
const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\n";

fn world() -> (Env, Server, Server, u16) {
    let w = World::new().config(DEV).build();
    (w.env, w.idp, w.moto.unwrap(), w.port)
}

#[test]
fn the_credentials_file_is_fsynced_before_its_rename() {
    let (env, _idp, _moto, _) = world();
    let log = env.path("strace.log");
    let mut cmd = env.command("strace");
    cmd.args([
        "-f",
        "-y",
        "-qq",
        "-e",
        "trace=fsync,fdatasync,rename,renameat,renameat2",
        "-o",
    ])
    .arg(&log)
    .arg(assert_cmd::cargo::cargo_bin("saml-login"))
    .args(["-c", "dev", "aws-assume-role"]);
    assert_cmd::Command::from_std(cmd)
        .timeout(Duration::from_secs(120))
        .ran()
        .success();
    let trace = std::fs::read_to_string(&log).unwrap();
    let aws = env.path(".aws").display().to_string();
    let credentials = env.credentials_path().display().to_string();
    let lines: Vec<&str> = trace.lines().collect();
    let rename = lines
        .iter()
        .position(|l| l.contains("rename") && l.contains(&format!("\"{credentials}\"")))
        .unwrap_or_else(|| panic!("no rename onto {credentials}:\n{trace}"));
    // The temporary file's name, from the rename's first path.
    let tmp = lines[rename]
        .split('"')
        .find(|p| p.contains(".saml-login-") && p.ends_with(".tmp"))
        .unwrap_or_else(|| panic!("no temporary file in {}", lines[rename]));
    let tmp_name = tmp.rsplit('/').next().unwrap();
    assert!(
        lines[..rename]
            .iter()
            .any(|l| l.contains("fsync(") && l.contains(&aws) && l.contains(tmp_name)),
        "no fsync of {tmp_name} before its rename:\n{trace}"
    );
}

/// Owned by another user, though no one else may write: refused all the same.
#[test]
fn a_credentials_file_and_an_aws_directory_owned_by_another_user_are_refused() {
    let (env, _idp, _moto, _) = world();
    let before = "[other]\naws_access_key_id = AKIAOTHER\n";
    let file = env.write(".aws/credentials", before);
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::os::unix::fs::chown(&file, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    env.call(&["-c", "dev", "aws-assume-role"])
        .failure()
        .stderr_has("owned by another user (uid 65534)");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);

    // The directory owned by another user (mode 0700 as a good ~/.aws is).
    std::fs::remove_file(&file).unwrap();
    let dir = env.path(".aws");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    std::os::unix::fs::chown(&dir, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    env.call(&["-c", "dev", "aws-assume-role"])
        .failure()
        .stderr_has(&dir.display().to_string())
        .stderr_has("owned by another user (uid 65534)");
    assert!(!env.credentials_path().exists());
}

/// A second login of the same IdP waits for the first at most its own timeout + 30 s.
#[test]
fn a_lock_waiter_gives_up_after_its_timeout_plus_30_s() {
    let (env, _idp, _moto, port) = world();
    // The first login never gets its POST (the browser does nothing) and holds the lock.
    let mut cmd = env.saml_login();
    cmd.env("BROWSER", "true")
        .args(["-c", "dev", "--timeout", "120", "aws-assume-role"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let holder = GroupGuard::spawn(cmd);
    drop(connect_within(port, Duration::from_secs(30)));
    let started = Instant::now();
    let ran = env.call(&["-c", "dev", "--timeout", "2", "aws-assume-role"]);
    let waited = started.elapsed();
    ran.failure()
        .stderr_has(&format!(
            "waiting for the login in saml-login pid {}",
            holder.id()
        ))
        .check(
            waited >= Duration::from_secs(32) && waited < Duration::from_secs(60),
            &format!("gave up after {waited:?}"),
        );
    drop(holder);
}
