//! The Windows build on Windows' API surface (issue 33): saml-login.exe under Wine logs in
//! from a saved response and through the system browser (Wine's `winebrowser` starting
//! the browser stand-in, which posts to the loopback callback), writes
//! `%USERPROFILE%\.aws\credentials`, serves `credential-process` from the Credential
//! Manager (advapi32's `CredWriteW`/`CredReadW`), and `exec` finds a `.cmd` through
//! `PATHEXT` and runs it in a Job Object that ends with saml-login. moto and the test IdP
//! run here on loopback. Run by scripts/test-wine.sh (`-- --ignored`), which builds the
//! exe and makes the prefix: without them these tests cannot run, so plain `cargo test`
//! lists them as ignored, with that reason. Linux-only: Wine runs on Linux.
#![cfg(target_os = "linux")]

use std::time::{Duration, Instant};

use crate::support::wine::{Wine, windows_path};
use crate::support::*;

const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\nregion = eu-west-1\n";

/// Run `cmd` (stdout and stderr piped) in a group of its own, within `limit`; its
/// output and stderr as text.
fn run_within(mut cmd: std::process::Command, limit: Duration) -> (std::process::Output, String) {
    cmd.stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let (out, _) = GroupGuard::spawn(cmd).output_within(limit);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out, stderr)
}

const LIMIT: Duration = Duration::from_secs(180);

/// `.saml-login` in the Windows user's folder for a saved-response login: the IdP's
/// section (a saved response still reads it) and `[dev]`.
fn write_config(wine: &Wine, idp: &Server) {
    wine.write_user_file(
        ".saml-login",
        &format!("{}\n{DEV}", config_for(idp, free_port())),
    );
}

/// A world whose login goes through the system browser: moto, the IdP (posting to the
/// callback on `port`), the browser stand-in as Wine's browser, and `.saml-login` in the
/// Windows user's folder with `extra` added.
fn browser_world(wine: &Wine, extra: &str) -> (Env, Server, Server) {
    let moto = moto();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--auto-session", "--callback", &callback]);
    let env = Env::new();
    // Wine opens http URLs with winebrowser.exe, which starts the first Unix program of
    // this registry value with the URL.
    let browser = env.write(
        "browser.sh",
        &format!(
            "#!/bin/sh\nexec {} {} \"$@\"\n",
            python(),
            support("browser.py").display()
        ),
    );
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    wine.reg_add(
        r"HKCU\Software\Wine\WineBrowser",
        "Browsers",
        &browser.display().to_string(),
    );
    wine.write_user_file(
        ".saml-login",
        &format!("{}{extra}\n{DEV}", config_for(&idp, port)),
    );
    (env, idp, moto)
}

#[test]
#[ignore = "runs saml-login.exe under Wine: scripts/test-wine.sh builds it and runs this"]
fn saved_response_login_writes_userprofile_aws_credentials() {
    let wine = Wine::new();
    let moto = moto();
    let idp = idp(&["--auto-session"]);
    let env = Env::new();
    let saved = env.write("saved.b64", &fetch_saml_response(&idp));
    // A saved response still reads the configuration (its section names the IdP).
    write_config(&wine, &idp);
    let mut cmd = wine.saml_login(&[("AWS_ENDPOINT_URL_STS", &moto.url)]);
    cmd.arg("--saml-response-file")
        .arg(windows_path(&saved))
        .args([
            "aws-assume-role",
            "--account",
            "123456789012",
            "--role",
            "Developer",
            "--profile",
            "dev",
        ]);
    let (out, stderr) = run_within(cmd, LIMIT);
    assert!(out.status.success(), "{stderr}");
    // %USERPROFILE% is Wine's user folder in the prefix (C:\users\NAME).
    let credentials = wine.user_path(".aws/credentials");
    let text = std::fs::read_to_string(&credentials)
        .unwrap_or_else(|e| panic!("{}: {e}; stderr: {stderr}", credentials.display()));
    assert!(text.starts_with("[dev]\n"), "{text}");
    for key in CREDENTIAL_KEYS {
        assert!(text.contains(&format!("\n{key} = ")), "{key} in {text}");
    }
    assert_eq!(
        caller_identity(&moto, &credentials, "dev"),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
}

#[test]
#[ignore = "runs saml-login.exe under Wine: scripts/test-wine.sh builds it and runs this"]
fn system_browser_login_posts_to_the_loopback_callback() {
    let wine = Wine::new();
    let (_env, idp, moto) = browser_world(&wine, "");
    let mut cmd = wine.saml_login(&[("AWS_ENDPOINT_URL_STS", &moto.url)]);
    cmd.args(["-c", "dev", "aws-assume-role"]);
    let (out, stderr) = run_within(cmd, LIMIT);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(idp.samlp_requests(), 1, "{stderr}");
    let credentials = wine.user_path(".aws/credentials");
    assert_eq!(
        caller_identity(&moto, &credentials, "dev"),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
}

#[test]
#[ignore = "runs saml-login.exe under Wine: scripts/test-wine.sh builds it and runs this"]
fn credential_process_is_served_from_the_credential_manager() {
    let wine = Wine::new();
    let (_env, idp, moto) = browser_world(&wine, "cache = keyring\n");
    let credential_process = || {
        let mut cmd = wine.saml_login(&[("AWS_ENDPOINT_URL_STS", &moto.url)]);
        cmd.args(["-c", "dev", "credential-process"]);
        let (out, stderr) = run_within(cmd, LIMIT);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("warning"), "{stderr}");
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("stdout is only the JSON");
        (json, stderr)
    };
    let (first, _) = credential_process();
    assert_eq!(first["Version"], 1);
    let key = first["AccessKeyId"].as_str().unwrap().to_owned();
    assert_eq!(idp.samlp_requests(), 1);

    // The cache file holds no secret: it is in the Credential Manager, which Wine keeps
    // in the prefix's registry (encrypted).
    let dir = wine.user_path("AppData/Local/saml-login/credentials");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].contains("\"keyring\":true"), "{}", files[0]);
    assert!(!files[0].contains(&key), "{}", files[0]);
    let stored = wine.reg_query(r"HKCU\Software\Wine\Credential Manager");
    assert!(stored.contains("saml-login"), "Wine's store: {stored}");

    // Served from there: the same keys, no login.
    let (again, _) = credential_process();
    assert_eq!(again["AccessKeyId"], first["AccessKeyId"]);
    assert_eq!(again["SecretAccessKey"], first["SecretAccessKey"]);
    assert_eq!(again["SessionToken"], first["SessionToken"]);
    assert_eq!(idp.samlp_requests(), 1, "a cache hit makes no login");
}

/// The Credential Manager keeps at most 2,560 bytes per credential (documented as
/// CRED_MAX_CREDENTIAL_BLOB_SIZE); an assertion is longer than that. It is still kept
/// (across several credentials) and a second command for another profile needs no login.
#[test]
#[ignore = "runs saml-login.exe under Wine: scripts/test-wine.sh builds it and runs this"]
fn an_assertion_longer_than_a_credential_blob_is_kept_in_the_credential_manager() {
    let wine = Wine::new();
    let (_env, idp, moto) = browser_world(&wine, "cache = keyring\n");
    let assume = |profile: &str| {
        let mut cmd = wine.saml_login(&[("AWS_ENDPOINT_URL_STS", &moto.url)]);
        cmd.args(["-c", "dev", "aws-assume-role", "--profile", profile]);
        let (out, stderr) = run_within(cmd, LIMIT);
        assert!(out.status.success(), "{stderr}");
        stderr
    };
    let stderr = assume("dev");
    assert!(!stderr.contains("cannot cache"), "{stderr}");
    let cached = wine.user_path("AppData/Local/saml-login/assertions");
    let entries = std::fs::read_dir(&cached)
        .unwrap_or_else(|e| panic!("{}: {e}; stderr: {stderr}", cached.display()))
        .count();
    assert_eq!(entries, 1);
    let saml_response = fetch_saml_response(&idp);
    assert!(
        saml_response.len() > 2560,
        "the test IdP's response ({} bytes) must exceed the blob limit for this test to mean anything",
        saml_response.len()
    );
    let before = idp.samlp_requests();
    let stderr = assume("other");
    assert_eq!(
        idp.samlp_requests(),
        before,
        "the cached assertion answered: {stderr}"
    );
    assert!(stderr.contains("using the SAML assertion of"), "{stderr}");
    assert!(
        std::fs::read_to_string(wine.user_path(".aws/credentials"))
            .unwrap()
            .contains("[other]")
    );
}

/// A directory with `name.cmd` holding `script`, for `WINEPATH` (Wine's `PATH` comes
/// from its registry; `WINEPATH` is put before it).
fn cmd_dir(env: &Env, name: &str, script: &str) -> std::path::PathBuf {
    let dir = env.path("bin");
    env.write(&format!("bin/{name}.cmd"), &script.replace('\n', "\r\n"));
    dir
}

#[test]
#[ignore = "runs saml-login.exe under Wine: scripts/test-wine.sh builds it and runs this"]
fn exec_finds_a_cmd_through_pathext_and_passes_its_exit_status() {
    let wine = Wine::new();
    let moto = moto();
    let idp = idp(&["--auto-session"]);
    let env = Env::new();
    let saved = env.write("saved.b64", &fetch_saml_response(&idp));
    write_config(&wine, &idp);
    let out_file = env.path("out.txt");
    let dir = cmd_dir(
        &env,
        "show-keys",
        &format!(
            "@echo off\necho key=%AWS_ACCESS_KEY_ID% arg=%~1> \"{}\"\nexit /b 7\n",
            windows_path(&out_file)
        ),
    );
    let mut cmd = wine.saml_login(&[
        ("AWS_ENDPOINT_URL_STS", &moto.url),
        ("WINEPATH", &windows_path(&dir)),
    ]);
    cmd.arg("--saml-response-file")
        .arg(windows_path(&saved))
        .args(["-c", "dev", "exec", "--", "show-keys", "two words"]);
    let (out, stderr) = run_within(cmd, LIMIT);
    assert_eq!(out.status.code(), Some(7), "{stderr}");
    let shown = std::fs::read_to_string(&out_file)
        .unwrap_or_else(|e| panic!("{}: {e}; stderr: {stderr}", out_file.display()));
    let shown = shown.trim_end();
    assert!(
        shown.starts_with("key=ASIA") || shown.starts_with("key=AKIA"),
        "{shown}"
    );
    assert!(shown.ends_with(" arg=two words"), "{shown}");
}

/// The Linux pids of the Wine processes whose command line names `needle`.
fn wine_processes(needle: &str) -> Vec<(u32, String)> {
    processes()
        .into_iter()
        .filter(|p| p.cmd.contains(needle))
        .map(|p| (p.pid, p.cmd))
        .collect()
}

#[test]
#[ignore = "runs saml-login.exe under Wine: scripts/test-wine.sh builds it and runs this"]
fn exec_command_ends_when_saml_login_is_killed() {
    let wine = Wine::new();
    let moto = moto();
    let idp = idp(&["--auto-session"]);
    let env = Env::new();
    let saved = env.write("saved.b64", &fetch_saml_response(&idp));
    write_config(&wine, &idp);
    // A count no other test uses: how this test finds its own ping.
    let needle = "-n 173 127.0.0.1";
    let dir = cmd_dir(
        &env,
        "long-task",
        &format!("@echo off\nping {needle} > nul\n"),
    );
    let mut cmd = wine.saml_login(&[
        ("AWS_ENDPOINT_URL_STS", &moto.url),
        ("WINEPATH", &windows_path(&dir)),
    ]);
    cmd.arg("--saml-response-file")
        .arg(windows_path(&saved))
        .args(["-c", "dev", "exec", "--", "long-task"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut saml_login = GroupGuard::spawn(cmd);
    let until = Instant::now() + Duration::from_secs(120);
    while wine_processes(needle).is_empty() {
        assert!(
            saml_login.try_wait().unwrap().is_none(),
            "saml-login ended before its command started"
        );
        assert!(Instant::now() < until, "the command never started");
        std::thread::sleep(Duration::from_millis(100));
    }
    // saml-login alone is killed (not its group): the Job Object must end the rest.
    saml_login.child.kill().unwrap();
    saml_login.child.wait().unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    while !wine_processes(needle).is_empty() {
        assert!(
            Instant::now() < until,
            "the command outlived saml-login: {:?}",
            wine_processes(needle)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}
