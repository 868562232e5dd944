//! Hostile neighbours, round three (issue 27), finding 1: an impostor Secret Service.
//! Another local user (uid 65534 through `setpriv`) runs a dbus-daemon that lets anyone
//! in, with a gnome-keyring-daemon of their own on it, at the path (or abstract name) the
//! user's stale `DBUS_SESSION_BUS_ADDRESS` names. saml-login (`cache = auto`) must not
//! store the keys or the assertion there: it says why and keeps them in 0600 files;
//! with `cache = keyring` it is an error naming the other uid.
//!
//! Linux only: `setpriv`, abstract sockets, `SO_PEERCRED`.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const OTHER_UID: u32 = 65534;
const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\n";

/// The other user's bus and keyring (killed when dropped).
struct Impostor {
    address: String,
    dir: tempfile::TempDir,
    _keyring: GroupGuard,
    _bus: GroupGuard,
}

/// `program` run as the other user with HOME and XDG_RUNTIME_DIR in `dir`.
fn as_other(dir: &Path, program: &str) -> Command {
    let mut cmd = Command::new("setpriv");
    cmd.args([
        &format!("--reuid={OTHER_UID}"),
        &format!("--regid={OTHER_UID}"),
        "--clear-groups",
        program,
    ])
    .env_clear()
    .env("PATH", std::env::var("PATH").unwrap_or_default())
    .env("HOME", dir.join("home"))
    .env("XDG_RUNTIME_DIR", dir.join("run"))
    .current_dir("/");
    cmd
}

impl Impostor {
    /// Listen on `listen` (a D-Bus server address; `DIR` is replaced by a directory of
    /// the other user's) and serve an unlocked keyring there.
    fn start(listen: &str) -> Impostor {
        let dir = tempfile::Builder::new()
            .prefix("impostor-bus")
            .tempdir_in("/tmp")
            .unwrap();
        for sub in ["home", "run"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
            std::os::unix::fs::chown(dir.path().join(sub), Some(OTHER_UID), Some(OTHER_UID))
                .unwrap();
        }
        std::os::unix::fs::chown(dir.path(), Some(OTHER_UID), Some(OTHER_UID)).unwrap();
        let listen = listen.replace("DIR", &dir.path().display().to_string());
        // Anyone may connect (what an impostor wants), and do anything.
        let conf = dir.path().join("bus.conf");
        std::fs::write(
            &conf,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>{listen}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#
            ),
        )
        .unwrap();
        let mut cmd = as_other(dir.path(), "dbus-daemon");
        cmd.arg(format!("--config-file={}", conf.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut bus = GroupGuard::spawn(cmd);
        let out = bus.child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let printed = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the other user's dbus-daemon printed its address within 10 s");
        // What a stale variable holds: the address without its guid.
        let address = printed.trim().split(",guid=").next().unwrap().to_owned();
        assert!(address.starts_with("unix:"), "{printed:?}");

        let mut cmd = as_other(dir.path(), "gnome-keyring-daemon");
        cmd.args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut keyring = GroupGuard::spawn(cmd);
        let mut stdin = keyring.child.stdin.take().unwrap();
        stdin.write_all(b"impostor-password").unwrap();
        drop(stdin);
        let impostor = Impostor {
            address,
            dir,
            _keyring: keyring,
            _bus: bus,
        };
        // Served once the other user's keyring has an unlocked login collection.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = impostor.other(
                "dbus-send",
                &[
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.secrets",
                    "/org/freedesktop/secrets/collection/login",
                    "org.freedesktop.DBus.Properties.Get",
                    "string:org.freedesktop.Secret.Collection",
                    "string:Locked",
                ],
            );
            if out.contains("boolean false") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the other user's keyring never served an unlocked login collection: {out}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        impostor
    }

    /// `program ARGS` as the other user on their bus (10 s at most): stdout and stderr.
    fn other(&self, program: &str, args: &[&str]) -> String {
        let mut cmd = as_other(self.dir.path(), "timeout");
        cmd.arg("10")
            .arg(program)
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        let ran = cmd.ran();
        format!("{}{}", ran.stdout(), ran.stderr())
    }

    /// What the other user's keyring holds of saml-login's.
    fn stolen(&self) -> String {
        self.other("secret-tool", &["search", "--all", "service", "saml-login"])
    }
}

fn world(bus: &str) -> (Env, Server, Server) {
    let w = World::new()
        .var("DBUS_SESSION_BUS_ADDRESS", bus)
        .config(DEV)
        .build();
    (w.env, w.idp, w.moto.unwrap())
}

/// The user's login and `credential-process` against the other user's keyring at
/// `listen`: nothing goes there, the keys are in 0600 files, and the reason is said.
fn impostor_keyring_is_not_used(listen: &str, why: &str) {
    let impostor = Impostor::start(listen);
    let (env, _idp, _moto) = world(&impostor.address);
    let ran = env.call(&["-c", "dev", "credential-process"]).success();
    let keys = ran.stdout_json();
    let stolen = impostor.stolen();
    ran.check(
        !stolen.contains("saml-login"),
        &format!("the other user's keyring got the secrets: {stolen}"),
    )
    // Says why, without --verbose.
    .stderr_has("will not use the Secret Service keyring")
    .stderr_has(why)
    .stderr_has(&format!("uid {OTHER_UID}"));
    // The secrets are in the user's 0600 files instead.
    let secret = keys["SecretAccessKey"].as_str().unwrap();
    let dir = env.path(".cache/saml-login/credentials");
    let held = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(secret)));
    assert!(held, "the keys are in a 0600 file under {}", dir.display());

    // cache = keyring: an error naming the other uid, and still nothing there.
    env.call(&["-c", "dev", "--cache", "keyring", "credential-process"])
        .failure()
        .stderr_has(&format!("uid {OTHER_UID}"))
        .stderr_has("cache = file");
    assert!(!impostor.stolen().contains("saml-login"));
}

/// A freed socket path in /tmp taken by another user: its file is theirs.
#[test]
fn an_impostor_keyring_at_the_bus_path_gets_nothing() {
    impostor_keyring_is_not_used("unix:path=DIR/run/bus", "is owned by uid 65534, not by you");
}

/// An abstract address: no file to check, the peer's uid (`SO_PEERCRED`) tells.
#[test]
fn an_impostor_keyring_at_an_abstract_address_gets_nothing() {
    let name = format!("/tmp/dbus-impostor-{}", std::process::id());
    impostor_keyring_is_not_used(&format!("unix:abstract={name}"), "is served by uid 65534");
}

/// The default address ($XDG_RUNTIME_DIR/bus, no DBUS_SESSION_BUS_ADDRESS) taken by
/// another user in a runtime directory they could write.
#[test]
fn an_impostor_keyring_at_the_runtime_dir_bus_gets_nothing() {
    let impostor = Impostor::start("unix:path=DIR/run/bus");
    let (env, _idp, _moto) = world("");
    let mut cmd = env.saml_login();
    cmd.args(["-c", "dev", "credential-process"])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", impostor.dir.path().join("run"));
    let out = assert_cmd::Command::from_std(cmd)
        .timeout(Duration::from_secs(120))
        .ran()
        .success();
    let stolen = impostor.stolen().contains("saml-login");
    out.check(!stolen, "the impostor keyring got saml-login's secret")
        .stderr_has("is owned by uid 65534");
}
