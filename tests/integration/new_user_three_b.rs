//! What a new user trips over, round three (issue 28), continued: defect 10's
//! foreign-owned files and the papercuts, each through the real binary against moto,
//! the test IdP and real files.

#[cfg(unix)]
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::*;

const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\nregion = eu-west-1\n";

/// moto, a test IdP with a session for every browser, and a HOME whose [dev] names its
/// one role (the browser stand-in as the system browser).
fn world() -> (Env, Server, Server) {
    let w = World::new().config(DEV).build();
    (w.env, w.idp, w.moto.unwrap())
}

/// Defect 10: a credentials file, or a `~/.aws` directory, owned by another user (uid
/// 65534, `nobody`; the suite runs as root, as the hostile-neighbour tests do) is
/// refused before the browser opens, naming the path and the owner.
#[cfg(unix)]
#[test]
fn a_foreign_owned_credentials_file_or_directory_is_refused_before_the_browser_opens() {
    let (env, idp, _moto) = world();
    let creds = env.write(".aws/credentials", "[other]\naws_access_key_id = A\n");
    std::os::unix::fs::chown(&creds, Some(65534), Some(65534)).unwrap();
    env.call(&["-c", "dev", "aws-assume-role"])
        .code(1)
        .stderr_has(&format!("{}", creds.display()))
        .stderr_has("owned by another user (uid 65534)")
        .check(idp.samlp_requests() == 0, "logged in");
    assert_eq!(
        std::fs::read_to_string(&creds).unwrap(),
        "[other]\naws_access_key_id = A\n"
    );

    std::fs::remove_file(&creds).unwrap();
    let dir = env.path(".aws");
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    env.call(&["-c", "dev", "aws-assume-role"])
        .code(1)
        .stderr_has(&format!("{}", dir.display()))
        .stderr_has("owned by another user (uid 65534)")
        .check(idp.samlp_requests() == 0, "logged in");
    assert!(!creds.exists());
}

/// Papercut: a `SAML_LOGIN_*` variable saml-login does not read gets a warning with
/// the closest one it does; the variables it reads get none.
#[test]
fn an_unknown_saml_login_variable_gets_did_you_mean() {
    let env = Env::new()
        .var("SAML_LOGIN_TIMOUT", "5")
        .var("SAML_LOGIN_USERNAME", "alice")
        .var("SAML_LOGIN_FROBNICATE", "1");
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n[production]\n");
    env.call(&["-c", "prodcution", "get-token"])
        .code(1)
        .stderr_has(
            "saml-login: warning: SAML_LOGIN_TIMOUT is not a variable saml-login reads; did you mean SAML_LOGIN_TIMEOUT?",
        )
        .stderr_has("saml-login: warning: SAML_LOGIN_FROBNICATE is not a variable")
        .stderr_lacks("SAML_LOGIN_USERNAME");
}

/// Papercut: warnings have one style: tracing's (`WARN ...`) reads as saml-login's own
/// `saml-login: warning: ...` (here: a group-writable ~/.aws), with `--verbose` too
/// (tracing is only `--verbose`'s trace; issue 26's one voice).
#[cfg(unix)]
#[test]
fn every_warning_has_one_style() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    env.config(&format!(
        "[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n{DEV}"
    ));
    env.write(".aws/credentials", "[a]\nx = 1\n");
    let dir = env.path(".aws");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o770)).unwrap();
    let saved = env.write("saved.b64", "not a response\n");
    for verbose in [&[][..], &["--verbose"][..]] {
        let mut args = verbose.to_vec();
        args.extend([
            "--saml-response-file",
            saved.to_str().unwrap(),
            "-c",
            "dev",
            "aws-assume-role",
        ]);
        let ran = env.call(&args);
        let one_style = ran
            .stderr()
            .lines()
            .all(|l| !l.trim_start().starts_with("WARN") && !l.contains(" WARN "));
        ran.stderr_has(&format!(
            "saml-login: warning: {} is writable by its group (mode 770)",
            dir.display()
        ))
        .check(one_style, "a tracing-style WARN line");
    }
}

/// Papercut: a login lock held by a process that did not (yet) write its pid is
/// described without "pid ?".
#[cfg(unix)]
#[test]
fn waiting_for_a_lock_without_a_pid_says_so_without_a_question_mark() {
    use std::io::{BufRead, BufReader};
    let (env, _idp, _moto) = world();
    env.ok(&["-c", "dev", "get-token"]);
    let locks = env.path(".cache/saml-login/locks");
    let files: Vec<String> = std::fs::read_dir(&locks)
        .unwrap_or_else(|e| panic!("{}: {e}", locks.display()))
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    assert!(!files.is_empty(), "no lock file in {}", locks.display());
    // Hold every lock with an empty file, as a process between taking the lock and
    // writing its pid does.
    let mut holder = std::process::Command::new(python())
        .args([
            "-c",
            "import fcntl, sys, time\n\
             held = []\n\
             for p in sys.argv[1:]:\n\
             \x20   f = open(p, 'r+'); f.truncate(0); fcntl.flock(f, fcntl.LOCK_EX); held.append(f)\n\
             print('ready', flush=True)\n\
             time.sleep(120)\n",
        ])
        .args(&files)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(holder.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let _holder = KillOnDrop(vec![holder]);
    assert_eq!(ready.trim(), "ready");

    let log = env.path("tmp/waiter.log");
    let mut cmd = env.saml_login();
    cmd.args(["--no-cache", "-c", "dev", "get-token"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    let _waiter = GroupGuard::spawn(cmd);
    let deadline = Instant::now() + Duration::from_secs(60);
    let line = loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if let Some(l) = text.lines().find(|l| l.contains("waiting for")) {
            break l.to_owned();
        }
        assert!(Instant::now() < deadline, "no waiting line in 60 s: {text}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!line.contains('?'), "{line}");
    assert!(
        line.starts_with("saml-login: waiting for another saml-login's login at http://"),
        "{line}"
    );
}

/// Papercut: `cache = keyring` with no D-Bus session bus at all says that, not
/// "unlock the keyring".
#[test]
fn cache_keyring_without_any_session_bus_says_so() {
    let (env, idp, _moto) = world();
    env.call(&["--cache", "keyring", "-c", "dev", "credential-process"])
        .code(1)
        .stderr_lacks("unlock the keyring")
        .stderr_has("no D-Bus session bus answers at DBUS_SESSION_BUS_ADDRESS")
        .stderr_has("cache = file")
        .check(idp.samlp_requests() == 0, "logged in");
}

/// Papercut: the stand-alone `aws-console`'s help names ~/.aws/config too, its lines
/// are its own (`aws-console:`), a missing profile names both files, and a browser
/// that never opens the sign-in page is an error, not a silent exit 0.
#[test]
fn aws_console_names_its_files_and_says_when_the_browser_never_opened() {
    let env = Env::new();
    env.cmd_for("aws-console")
        .arg("--help")
        .ran()
        .stdout_has("~/.aws/config");

    env.write(".aws/credentials", "[a]\nx = 1\n");
    env.cmd_for("aws-console")
        .args(["--profile", "nope", "--print"])
        .ran()
        .code(1)
        .stderr_has("no profile [nope]")
        .stderr_has(".aws/config");

    let fed = Server::python("federation.py", &[]);
    let env = Env::new()
        .var(
            "SAML_LOGIN_FEDERATION_URL",
            format!("{}/federation", fed.url),
        )
        .var("BROWSER", "true");
    env.write(
        ".aws/credentials",
        "[dev]\naws_access_key_id = ASIAEXAMPLE\naws_secret_access_key = sekrit\naws_session_token = tok\n",
    );
    let started = Instant::now();
    let ran = env
        .cmd_for("aws-console")
        .args(["--profile", "dev"])
        .timeout(Duration::from_secs(60))
        .ran();
    let elapsed = started.elapsed();
    ran.code(1)
        .stderr_starts("aws-console: opening the AWS console")
        .stderr_lacks("saml-login:")
        .stderr_has(
            "aws-console: error: the browser did not open the console's sign-in page within 10 s",
        )
        .check(
            elapsed < Duration::from_secs(40),
            &format!("took {elapsed:?}"),
        );
}

/// A HOME whose saved response is the test IdP's, with every `NotOnOrAfter` set to
/// 2020-01-01 10:00 UTC.
fn expired_saved_response() -> (Env, std::path::PathBuf, Server) {
    use base64::Engine as _;
    let idp = idp(&["--auto-session"]);
    let xml = decode_b64(&fetch_saml_response(&idp));
    let mut expired = String::new();
    let mut rest = xml.as_str();
    while let Some(at) = rest.find("NotOnOrAfter=\"") {
        let value = at + "NotOnOrAfter=\"".len();
        expired.push_str(&rest[..value]);
        let end = value + rest[value..].find('"').unwrap();
        expired.push_str("2020-01-01T10:00:00Z");
        rest = &rest[end..];
    }
    expired.push_str(rest);
    assert!(expired.contains("NotOnOrAfter=\"2020-01-01T10:00:00Z\""));
    let env = Env::new();
    env.config(&config_for(&idp, free_port()));
    let saved = env.write(
        "saved.b64",
        &base64::engine::general_purpose::STANDARD.encode(expired),
    );
    (env, saved, idp)
}

/// Papercut: a saved response whose assertion has expired is used with a warning
/// naming when it expired (in UTC in a pipe).
#[test]
fn an_expired_saved_response_is_used_with_a_warning() {
    let (env, saved, _idp) = expired_saved_response();
    env.call(&[
        "--saml-response-file",
        saved.to_str().unwrap(),
        "aws-assume-role",
        "--show",
    ])
    .code(0)
    .stderr_has("saml-login: warning: the saved SAML response expired at 2020-01-01 10:00 UTC");
}

/// Papercut: times in notices are local, with their zone, on a terminal (`script`
/// gives the run one; `TZ` a POSIX rule, so no zone database is needed).
#[cfg(unix)]
#[test]
fn on_a_terminal_notices_give_local_time_with_its_zone() {
    let (env, saved, _idp) = expired_saved_response();
    let command = format!(
        "'{}' --saml-response-file '{}' aws-assume-role --show",
        assert_cmd::cargo::cargo_bin("saml-login").display(),
        saved.display()
    );
    env.command("script")
        .args(["-qec", &command, "/dev/null"])
        .env("TZ", "IST-5:30")
        .env("SHELL", "/bin/sh")
        .stdin(Stdio::null())
        .ran()
        .success()
        .stdout_has("the saved SAML response expired at 2020-01-01 15:30 IST");
}

/// Papercut: a credentials file with CRLF line endings keeps them (no mixed endings)
/// and is read back: the next run finds the profile's keys, and so does boto3.
#[test]
fn a_crlf_credentials_file_keeps_its_line_endings() {
    let (env, idp, moto) = world();
    let creds = env.write(
        ".aws/credentials",
        "[other]\r\naws_access_key_id = A\r\naws_secret_access_key = B\r\n",
    );
    env.ok(&["-c", "dev", "aws-assume-role"]);
    let text = std::fs::read_to_string(&creds).unwrap();
    assert!(text.starts_with("[other]\r\n"), "{text:?}");
    assert!(text.contains("[dev]\r\n"), "{text:?}");
    assert_eq!(
        text.matches('\n').count(),
        text.matches("\r\n").count(),
        "mixed line endings: {text:?}"
    );
    assert!(caller_identity(&moto, &creds, "dev").contains("Developer"));
    let stderr = env.ok(&["-c", "dev", "aws-assume-role"]);
    assert!(stderr.contains("no login needed"), "{stderr}");
    assert_eq!(idp.samlp_requests(), 1);
}

/// Papercut: an IdP on this machine that does not answer (nothing listens) ends the
/// login within seconds, naming the URL and what happened: no browser can reach it
/// either.
#[test]
fn an_idp_on_this_machine_that_does_not_answer_ends_the_login_at_once() {
    let port = free_port();
    let env = Env::new().var("BROWSER", "true");
    env.config(&format!(
        "[DEFAULT]\nidp_url = http://127.0.0.1:{port}\nclient_id = c\nlisten_port = {}\nbrowser = system\ntimeout = 120\n",
        free_port()
    ));
    let started = Instant::now();
    let ran = env.call(&["get-token"]);
    let elapsed = started.elapsed();
    let said = ran.stderr().lines().any(|l| {
        l.starts_with(&format!(
            "saml-login: error: the IdP does not answer at http://127.0.0.1:{port}/samlp/c:"
        )) && l.contains("onnection refused")
    });
    ran.code(1)
        .check(
            elapsed < Duration::from_secs(30),
            &format!("took {elapsed:?}"),
        )
        .check(said, "a line naming the URL and the refused connection")
        // No browser opened.
        .stderr_lacks("in your browser");
}

/// Papercut: an IdP elsewhere that does not answer (a name that does not resolve) is
/// said at once, before the wait for the browser, which may reach it another way (a
/// proxy only the browser knows): the wait goes on to its timeout.
#[test]
fn an_idp_elsewhere_that_does_not_answer_is_named_at_once() {
    let env = Env::new().var("BROWSER", "true");
    env.config(&format!(
        "[DEFAULT]\nidp_url = http://idp.saml-login-test.invalid\nclient_id = c\nlisten_port = {}\nbrowser = system\ntimeout = 6\n",
        free_port()
    ));
    let ran = env.call(&["get-token"]).code(4);
    let stderr = ran.stderr();
    let warning = stderr.lines().position(|l| {
        l.starts_with(
            "saml-login: warning: the IdP does not answer at http://idp.saml-login-test.invalid/samlp/c:",
        )
    });
    let timeout = stderr
        .lines()
        .position(|l| l.contains("no login completed within 6 s"));
    ran.check(
        matches!((warning, timeout), (Some(w), Some(t)) if w < t),
        "the IdP warning, then the timeout",
    );
}

/// Papercut: an IdP that answers the start URL with 404 (a wrong client id) ends the
/// login within seconds, saying what answered.
#[test]
fn an_idp_answering_404_ends_the_login_at_once() {
    let idp = idp(&["--auto-session"]);
    let env = Env::new().var("BROWSER", "true");
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = wrong-client\nlisten_port = {}\nbrowser = system\ntimeout = 120\n",
        idp.url,
        free_port()
    ));
    let started = Instant::now();
    let ran = env.call(&["get-token"]);
    let elapsed = started.elapsed();
    ran.code(1)
        .check(
            elapsed < Duration::from_secs(60),
            &format!("took {elapsed:?}"),
        )
        .stderr_has(&format!(
            "the IdP answered 404 Not Found for {}/samlp/wrong-client",
            idp.url
        ))
        .stderr_has("client_id");
}

/// Papercut: a headless login whose password POST the IdP answers with HTTP 401 (or
/// 403) and a plain-text page is "the IdP rejected the login", quoting the page, and
/// within seconds (not "waits for what a person must do").
#[test]
fn a_headless_login_answered_401_is_a_rejected_login() {
    let _serial = serial();
    for status in ["401", "403"] {
        let idp = idp(&[
            "--user",
            "robot:right-Pa55",
            "--reject-login-status",
            status,
        ]);
        let env = Env::new()
            .var("SAML_LOGIN_USERNAME", "robot")
            .var("SAML_LOGIN_PASSWORD", "right-Pa55");
        env.config(&format!(
            "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {}\nbrowser = headless\ntimeout = 300\n",
            idp.url,
            free_port()
        ));
        let started = Instant::now();
        let ran = env
            .cmd()
            .timeout(Duration::from_secs(120))
            .args(["--no-cache", "get-token"])
            .ran()
            .context(status);
        let elapsed = started.elapsed();
        ran.code(1)
            .stderr_has(&format!(
                "the IdP rejected the login of `robot` (SAML_LOGIN_USERNAME) with HTTP {status}: the page says \"Access denied: the account is locked\""
            ))
            .stderr_lacks("right-Pa55")
            .check(
                elapsed < Duration::from_secs(60),
                &format!("took {elapsed:?}"),
            );
    }
}
