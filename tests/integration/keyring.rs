//! The caches' secrets in a real Secret Service: gnome-keyring-daemon on a private
//! D-Bus session bus per test (its login keyring created and unlocked with a test
//! password in the test's HOME), read back with `secret-tool` as any other client
//! would. After `credential-process`, `exec` and a cached login no file holds a
//! secret; a second call is a hit with no login; a locked keyring is a clear error;
//! `logout` empties the keyring; the file store works as before without D-Bus.

#![cfg(target_os = "linux")]

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

const PASSWORD: &str = "test-keyring-password";
const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\n";

/// A session bus and the Secret Service on it, both killed (with anything the bus
/// started, such as a prompter) when dropped, whether the test passed or not.
struct SecretService {
    address: String,
    runtime: PathBuf,
    // Dropped in this order: the keyring, then the bus.
    _keyring: GroupGuard,
    _bus: GroupGuard,
}

impl SecretService {
    /// Start both for `env` (its HOME holds the keyring files).
    fn start(env: &Env) -> SecretService {
        let runtime = env.path("run");
        std::fs::create_dir_all(&runtime).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
        }
        let mut cmd = env.command("dbus-daemon");
        cmd.args(["--session", "--nofork", "--print-address=1"])
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut bus = GroupGuard::spawn(cmd);
        let out = bus.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(out).read_line(&mut line);
            let _ = tx.send(line);
        });
        let address = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("dbus-daemon printed its address within 10 s")
            .trim()
            .to_owned();
        assert!(address.starts_with("unix:"), "bus address {address:?}");

        let mut cmd = env.command("gnome-keyring-daemon");
        cmd.args(["--foreground", "--unlock", "--components=secrets"])
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut keyring = GroupGuard::spawn(cmd);
        let mut stdin = keyring.stdin.take().unwrap();
        stdin.write_all(PASSWORD.as_bytes()).unwrap();
        drop(stdin);
        let service = SecretService {
            address,
            runtime,
            _keyring: keyring,
            _bus: bus,
        };
        // Served once our daemon owns the name (asked without starting anything: a
        // call to the name would have the bus start another, passwordless daemon),
        // then once the login collection is there, unlocked.
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let owned = service.dbus(&[
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ]);
            if owned.contains("boolean true") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "gnome-keyring-daemon never took org.freedesktop.secrets: {owned}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        loop {
            let locked = service.dbus(&[
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets/collection/login",
                "org.freedesktop.DBus.Properties.Get",
                "string:org.freedesktop.Secret.Collection",
                "string:Locked",
            ]);
            if locked.contains("boolean false") {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the Secret Service never served an unlocked login keyring: {locked}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        service
    }

    /// `env` with this bus (and nothing else of the machine's).
    fn env(&self, env: Env) -> Env {
        env.var("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .var("XDG_RUNTIME_DIR", self.runtime.display().to_string())
    }

    /// `dbus-send --print-reply` on this bus (10 s at most); its stdout and stderr.
    fn dbus(&self, args: &[&str]) -> String {
        let mut cmd = std::process::Command::new("timeout");
        cmd.args(["10", "dbus-send", "--session", "--print-reply"])
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        let ran = cmd.ran();
        format!("{}{}", ran.stdout(), ran.stderr())
    }

    /// `secret-tool ARGS` on this bus, as another client of the keyring (10 s at most).
    fn secret_tool(&self, args: &[&str]) -> std::process::Output {
        std::process::Command::new("timeout")
            .arg("10")
            .arg("secret-tool")
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .env("XDG_RUNTIME_DIR", &self.runtime)
            .output()
            .unwrap()
    }

    /// The secret of saml-login's entry `name`, if the keyring holds one.
    fn lookup(&self, name: &str) -> Option<String> {
        let out = self.secret_tool(&["lookup", "service", "saml-login", "username", name]);
        let secret = String::from_utf8(out.stdout).unwrap();
        (out.status.success() && !secret.is_empty()).then_some(secret)
    }

    /// How many entries of saml-login the keyring holds.
    fn entries(&self) -> usize {
        let ran = Ran::from(self.secret_tool(&["search", "--all", "service", "saml-login"]));
        let (stdout, stderr) = (ran.stdout(), ran.stderr());
        stdout
            .lines()
            .chain(stderr.lines())
            .filter(|l| l.starts_with("attribute.username = "))
            .count()
    }

    fn lock(&self) {
        let reply = self.dbus(&[
            "--dest=org.freedesktop.secrets",
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            "array:objpath:/org/freedesktop/secrets/collection/login",
        ]);
        assert!(reply.contains("collection/login"), "Lock: {reply}");
    }
}

/// The test IdP, moto, and a world whose HOME (with its TMPDIR inside) is scanned.
fn world() -> (Env, Server, Server, u16) {
    // Its TMPDIR is inside HOME already (`Env::new`), so the scan of HOME covers it.
    let w = World::new().config(DEV).build();
    (w.env, w.idp, w.moto.unwrap(), w.port)
}

/// Every regular file under `dir` that holds `needle`.
fn files_holding(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file()
                && std::fs::read(&path)
                    .is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
            {
                found.push(path);
            }
        }
    }
    found
}

/// The start URL of the login `config_for` configures: the assertion cache's key.
fn login_url(idp: &Server) -> String {
    format!("{}/samlp/test-client", idp.url.trim_end_matches('/'))
}

#[test]
fn credential_process_exec_and_a_cached_login_leave_no_secret_on_disk() {
    let (env, idp, _moto, _) = world();
    let service = SecretService::start(&env);
    let env = service.env(env);

    // A login, then a hit: the same keys, no second login.
    let first = env
        .call(&["-c", "dev", "credential-process"])
        .success()
        .stdout_json();
    assert_eq!(idp.samlp_requests(), 1);
    let hit_run = env
        .call(&["--verbose", "-c", "dev", "credential-process"])
        .success();
    let hit = hit_run.stdout_json();
    assert_eq!(hit, first, "a hit serves the same keys");
    assert_eq!(idp.samlp_requests(), 1, "a hit makes no login");

    // exec under other terms (a duration): new keys from the cached assertion.
    let exec = env
        .call(&[
            "-c",
            "dev",
            "--role-duration",
            "900",
            "exec",
            "--",
            "sh",
            "-c",
            "printf '%s\\n%s' \"$AWS_SECRET_ACCESS_KEY\" \"$AWS_SESSION_TOKEN\"",
        ])
        .success()
        .stderr_has("using the SAML assertion of");
    assert_eq!(idp.samlp_requests(), 1, "the cached login served exec");
    let exec_out = String::from_utf8(exec.out.stdout).unwrap();
    let (exec_secret, exec_token) = exec_out.split_once('\n').unwrap();
    assert_ne!(exec_secret, first["SecretAccessKey"].as_str().unwrap());

    let keys = [
        ("secret key", first["SecretAccessKey"].as_str().unwrap()),
        ("session token", first["SessionToken"].as_str().unwrap()),
        ("exec's secret key", exec_secret),
        ("exec's session token", exec_token),
    ];
    for (what, secret) in keys {
        assert!(secret.len() > 20, "{what}: {secret:?}");
        let found = files_holding(env.home.path(), secret);
        assert!(found.is_empty(), "the {what} is on disk in {found:?}");
    }

    // The keyring holds them: two credentials and the assertion.
    let assertion = service
        .lookup(&format!("assertions/{}", login_url(&idp)))
        .expect("the assertion is in the keyring");
    assert!(assertion.len() > 500, "a whole SAML response: {assertion}");
    assert_eq!(service.entries(), 3);

    let found = files_holding(env.home.path(), &assertion);
    assert!(found.is_empty(), "the assertion is on disk in {found:?}");
    // What the files keep is only which request, which IdP, until when.
    let entries = std::fs::read_dir(env.path(".cache/saml-login/credentials"))
        .unwrap()
        .count();
    assert_eq!(entries, 2, "an index file per cached request");
    // --verbose says which store.
    hit_run.stderr_has("secrets: the Secret Service keyring (cache = auto: it answered)");
}

#[test]
fn the_file_store_works_as_before_without_dbus() {
    let (env, idp, _moto, _) = world();
    // DBUS_SESSION_BUS_ADDRESS unset, and an empty XDG_RUNTIME_DIR: no bus to find.
    let runtime = env.path("run");
    std::fs::create_dir_all(&runtime).unwrap();
    let run = |args: &[&str]| {
        let mut cmd = env.saml_login();
        cmd.args(args)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("XDG_RUNTIME_DIR", &runtime);
        assert_cmd::Command::from_std(cmd)
            .timeout(Duration::from_secs(120))
            .ran()
    };
    // --verbose says which store.
    let first = run(&["--verbose", "-c", "dev", "credential-process"])
        .success()
        .stderr_has("secrets: 0600 files in the cache directory (cache = auto: no keyring answered")
        .stdout_json();
    let again = run(&["--verbose", "-c", "dev", "credential-process"])
        .success()
        .stderr_has("the secret is in the entry's 0600 file");
    assert_eq!(again.stdout_json(), first);
    assert_eq!(idp.samlp_requests(), 1, "a hit makes no login");
    // Today's behaviour: the keys are in the 0600 cache file (so the scan above
    // would find them there).
    let found = files_holding(env.home.path(), first["SecretAccessKey"].as_str().unwrap());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with(env.path(".cache/saml-login/credentials")));
}

#[test]
fn cache_keyring_without_a_keyring_is_an_error_before_any_login() {
    let (env, idp, _moto, _) = world();
    env.call(&["--cache", "keyring", "-c", "dev", "credential-process"])
        .failure()
        .stdout_empty()
        .stderr_starts("saml-login: error: cannot connect to the Secret Service keyring: ")
        // The hint.
        .stderr_has("cache = file");
    assert_eq!(
        idp.samlp_requests(),
        0,
        "no login for keys it could not keep"
    );
    assert!(!env.path(".cache/saml-login/credentials").exists());
}

#[test]
fn a_locked_keyring_is_a_clear_error_and_file_is_the_fallback_the_user_chooses() {
    let (env, idp, _moto, _) = world();
    let service = SecretService::start(&env);
    let env = service.env(env);
    env.call(&["-c", "dev", "credential-process"])
        .success()
        .stdout_json();
    assert_eq!(idp.samlp_requests(), 1);

    service.lock();
    for choice in ["auto", "keyring"] {
        env.call(&["--cache", choice, "-c", "dev", "credential-process"])
            .failure()
            .stdout_empty()
            .stderr_starts(
                "saml-login: error: cannot read from the Secret Service keyring: it is locked or refused access",
            )
            // The hint.
            .stderr_has("cache = file");
    }
    assert_eq!(idp.samlp_requests(), 1, "no login behind the user's back");

    // The user's choice: the file store (a new login, kept in a 0600 file).
    let keys = env
        .call(&["--cache", "file", "-c", "dev", "credential-process"])
        .success()
        .stdout_json();
    assert_eq!(idp.samlp_requests(), 2);
    let found = files_holding(env.home.path(), keys["SecretAccessKey"].as_str().unwrap());
    assert_eq!(found.len(), 1, "{found:?}");
}

#[test]
fn logout_removes_the_keyring_entries() {
    let (env, idp, _moto, _) = world();
    let service = SecretService::start(&env);
    let env = service.env(env);
    env.call(&["-c", "dev", "credential-process"])
        .success()
        .stdout_json();
    assert_eq!(service.entries(), 2, "credentials and assertion");
    let stderr = env.ok(&["-c", "dev", "logout"]);
    assert!(
        stderr.contains("removed the cached SAML assertion, 1 cached credential(s)"),
        "{stderr}"
    );
    assert_eq!(service.entries(), 0, "logout empties the keyring");
    assert!(
        service
            .lookup(&format!("assertions/{}", login_url(&idp)))
            .is_none()
    );
    // And the next call logs in again.
    env.call(&["-c", "dev", "credential-process"])
        .success()
        .stdout_json();
    assert_eq!(idp.samlp_requests(), 2);
}
