//! `credential-process`, `exec`, `env`, `--all`, the caches, and `aws-assume-role`
//! skipping a still-valid profile: against moto and the test IdP, with the browser
//! stand-in as the system browser. The IdP counts requests, so "no login" is measured.

use crate::support::*;

const DEV: &str = "[dev]\naws_account = 123456789012\naws_role = Developer\naws_profile = dev\nregion = eu-west-1\n";

fn world(idp_args: &[&str]) -> (Env, Server, Server) {
    let w = World::new().idp_args(idp_args).config(DEV).build();
    (w.env, w.idp, w.moto.unwrap())
}

#[test]
fn credential_process_json_cache_hit_and_refresh() {
    let (env, idp, _moto) = world(&[]);
    let first = env
        .call(&["-c", "dev", "credential-process"])
        .success()
        .stdout_json();
    assert_eq!(first["Version"], 1);
    for k in [
        "AccessKeyId",
        "SecretAccessKey",
        "SessionToken",
        "Expiration",
    ] {
        assert!(
            first[k].as_str().is_some_and(|v| !v.is_empty()),
            "{k} in {first}"
        );
    }
    let exp = first["Expiration"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(exp, &time::format_description::well_known::Rfc3339).is_ok(),
        "RFC 3339: {exp}"
    );
    assert_eq!(idp.samlp_requests(), 1);

    // A cache hit: the same keys, no request to the IdP.
    let again = env
        .call(&["-c", "dev", "credential-process"])
        .success()
        .stdout_json();
    assert_eq!(again["AccessKeyId"], first["AccessKeyId"]);
    assert_eq!(idp.samlp_requests(), 1, "a cache hit makes no login");
    let cache_dir = env.path(".cache/saml-login/credentials");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&cache_dir).unwrap().permissions().mode() & 0o777,
            0o700
        );
        for e in std::fs::read_dir(&cache_dir).unwrap() {
            assert_eq!(
                e.unwrap().metadata().unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
    }

    // Credentials with under 10 minutes left are refreshed: by the cached assertion
    // (still valid), so still no login.
    let entry = std::fs::read_dir(&cache_dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    let soon = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    cached["expiration"] = soon
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
        .into();
    std::fs::write(&entry, cached.to_string()).unwrap();
    let refreshed = env
        .call(&["-c", "dev", "credential-process"])
        .success()
        .stdout_json();
    assert_ne!(refreshed["AccessKeyId"], first["AccessKeyId"]);
    assert_eq!(
        idp.samlp_requests(),
        1,
        "the cached assertion served the refresh"
    );

    // An expired assertion is never used: a new login.
    let assertions = env.path(".cache/saml-login/assertions");
    let entry = std::fs::read_dir(&assertions)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut cached: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&entry).unwrap()).unwrap();
    cached["not_on_or_after"] = "2020-01-01T00:00:00Z".into();
    std::fs::write(&entry, cached.to_string()).unwrap();
    env.call(&["-c", "dev", "credential-process", "--force"])
        .success()
        .stdout_json();
    assert_eq!(
        idp.samlp_requests(),
        2,
        "an expired assertion means a new login"
    );
}

#[test]
fn aws_sdk_uses_credential_process() {
    let (env, _idp, moto) = world(&[]);
    let bin = assert_cmd::cargo::cargo_bin("saml-login");
    env.write(
        ".aws/config",
        &format!(
            "[profile dev]\ncredential_process = {} -c dev credential-process\n",
            bin.display()
        ),
    );
    let out = env.command(python())
        .args([
            "-c",
            "import boto3, sys; print(boto3.Session(profile_name='dev').client('sts', endpoint_url=sys.argv[1], region_name='us-east-1').get_caller_identity()['Arn'])",
            &moto.url,
        ])
        .env("AWS_SHARED_CREDENTIALS_FILE", env.path(".aws/credentials"))
        .ran().success().out;
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
}

#[test]
fn exec_passes_environment_and_exit_status() {
    let (env, _idp, _moto) = world(&[]);
    let out = env
        .cmd()
        .args(["-c", "dev", "exec", "--", "sh", "-c"])
        .arg("echo \"$AWS_ACCESS_KEY_ID|${#AWS_SECRET_ACCESS_KEY}|${#AWS_SESSION_TOKEN}|$AWS_REGION|$AWS_CREDENTIAL_EXPIRATION\"; exit 7")
        .ran().code(7).out;
    let line = String::from_utf8(out.stdout).unwrap();
    let fields: Vec<&str> = line.trim().split('|').collect();
    assert!(fields[0].starts_with("ASIA"), "{line}");
    assert_ne!(fields[1], "0");
    assert_ne!(fields[2], "0");
    assert_eq!(fields[3], "eu-west-1");
    assert!(fields[4].ends_with('Z'), "{line}");
}

/// A command killed by a signal: exec exits 128 + the signal, as a shell does.
#[test]
fn exec_exits_128_plus_the_signal_that_killed_the_command() {
    let (env, _idp, _moto) = world(&[]);
    for (signal, code) in [("TERM", 143), ("KILL", 137)] {
        let out = env
            .cmd()
            .args(["-c", "dev", "exec", "--", "sh", "-c"])
            .arg(format!("kill -{signal} $$"))
            .ran();
        out.code(code).stdout_empty();
    }
}

#[test]
fn env_prints_exports_a_shell_can_eval() {
    let (env, _idp, _moto) = world(&[]);
    let out = env.cmd().args(["-c", "dev", "env"]).ran().success().out;
    let script = String::from_utf8(out.stdout).unwrap();
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("{script}\necho \"$AWS_ACCESS_KEY_ID\""))
        .ran()
        .stdout_matches(r"\AASIA");
    env.call(&["-c", "dev", "env", "--shell", "fish"])
        .stdout_has("set -gx AWS_SESSION_TOKEN '");
    env.call(&["-c", "dev", "env", "--shell", "powershell"])
        .stdout_has("$Env:AWS_ACCESS_KEY_ID = '");
}

#[test]
fn all_roles_from_one_login() {
    // moto reads one value per Role attribute, so the IdP splits them. moto names the
    // assumed role after the RoleArn sent, so each profile's identity shows which role
    // its keys were asked for.
    let (env, idp, moto) = world(&[
        "--split-role-attributes",
        "--role",
        &format!("{ROLE},{PROVIDER}"),
        "--role",
        "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/test-idp",
    ]);
    env.write(".aws-accounts", "[DEFAULT]\nsandbox = 123456789012\n");
    env.cmd().args(["aws-assume-role", "--all"]).ran().success();
    assert_eq!(idp.samlp_requests(), 1, "one login");
    let creds = env.credentials();
    assert!(
        creds.contains("[Admin@sandbox]\n") && creds.contains("[Developer@sandbox]\n"),
        "{creds}"
    );
    for role in ["Admin", "Developer"] {
        assert_eq!(
            caller_identity(&moto, &env.credentials_path(), &format!("{role}@sandbox")),
            format!("arn:aws:sts::123456789012:assumed-role/{role}/developer@example.com")
        );
    }
}

#[test]
fn assume_role_skips_a_valid_profile_and_the_assertion_cache_serves_another_role() {
    let (env, idp, moto) = world(&[]);
    env.cmd()
        .args(["-c", "dev", "aws-assume-role"])
        .ran()
        .success();
    let before = env.credentials();
    env.call(&["-c", "dev", "aws-assume-role"])
        .stderr_has("no login needed");
    assert_eq!(env.credentials(), before, "nothing rewritten");
    assert_eq!(idp.samlp_requests(), 1);
    // Another profile of the same IdP: the cached assertion, no login.
    env.cmd()
        .args(["-c", "dev", "aws-assume-role", "--profile", "second"])
        .ran()
        .success();
    assert_eq!(idp.samlp_requests(), 1, "the assertion cache served it");
    caller_identity(&moto, &env.credentials_path(), "second");
    // --force and --no-cache: a login.
    env.cmd()
        .args(["-c", "dev", "--no-cache", "aws-assume-role", "--force"])
        .ran()
        .success();
    assert_eq!(idp.samlp_requests(), 2);
}

#[test]
fn sts_region_follows_the_regional_signin_endpoint_and_the_partition() {
    let moto = moto();
    let regional = idp(&[
        "--auto-session",
        "--callback",
        "https://eu-north-1.signin.aws.amazon.com/saml",
    ]);
    let env = Env::new().sts(&moto);
    env.config(&config_for(&regional, free_port()));
    let saved = env.write("regional.b64", &fetch_saml_response(&regional));
    let run = |saved: &std::path::Path, extra: &[&str]| {
        env.cmd()
            .arg("--verbose")
            .args(extra)
            .arg("--saml-response-file")
            .arg(saved)
            .args([
                "aws-assume-role",
                "--force",
                "--account",
                "123456789012",
                "--role",
                "Developer",
                "--profile",
                "r",
            ])
            .ran()
            .success()
            .stderr()
    };
    let log = run(&saved, &[]);
    assert!(log.contains("region=eu-north-1"), "{log}");
    assert!(
        run(&saved, &["--region", "ap-south-1"]).contains("region=ap-south-1"),
        "the setting wins"
    );
    // A role in the China partition, no region anywhere: cn-north-1.
    let cn = idp(&[
        "--auto-session",
        "--role",
        "arn:aws-cn:iam::123456789012:role/Developer,arn:aws-cn:iam::123456789012:saml-provider/test-idp",
    ]);
    let saved_cn = env.write("cn.b64", &fetch_saml_response(&cn));
    assert!(run(&saved_cn, &[]).contains("region=cn-north-1"));
}

#[test]
fn open_console_after_assume_role() {
    let (env, _idp, _moto) = world(&[]);
    let fed = Server::python("federation.py", &[]);
    let env = env.var(
        "SAML_LOGIN_FEDERATION_URL",
        format!("{}/federation", fed.url),
    );
    env.cmd()
        .args(["-c", "dev", "aws-assume-role", "-C"])
        .ran()
        .success();
    let key = env
        .credentials()
        .lines()
        .find_map(|l| l.strip_prefix("aws_access_key_id = ").map(str::to_owned))
        .unwrap();
    let seen = fed.get("/requests");
    assert!(
        seen.contains(&format!("\"sessionId\": \"{key}\"")),
        "{seen}"
    );
    assert!(seen.contains("\"SessionDuration\": \"3600\""), "{seen}");
    // The browser (the stand-in, as $BROWSER) opened the console's sign-in URL with the
    // token issued for these keys.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let login: serde_json::Value = loop {
        let seen: Vec<serde_json::Value> = serde_json::from_str(&fed.get("/requests")).unwrap();
        if let Some(login) = seen.into_iter().find(|r| r["Action"] == "login") {
            break login;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no browser opened the console URL"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert_eq!(login["SigninToken"], format!("signin-token-for-{key}"));
    assert_eq!(login["Issuer"], "saml-login");
    assert!(
        login["Destination"]
            .as_str()
            .is_some_and(|d| d.starts_with("https://") && d.contains("console.aws.amazon.com")),
        "{login}"
    );
}

#[test]
fn completions_and_man_page() {
    let env = Env::new();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        env.call(&["completions", shell])
            .success()
            .stderr_eq("")
            .stdout_has("credential-process");
    }
    let out = env.cmd().arg("man").ran().success().out;
    assert!(out.stderr.is_empty());
    let roff = String::from_utf8(out.stdout).unwrap();
    assert!(roff.contains(".TH saml-login 1"), "{roff}");
    // roff escapes the hyphens.
    for command in ["get-token", "aws-assume-role", "credential-process", "exec"] {
        let escaped = command.replace('-', "\\-");
        assert!(
            roff.contains(&escaped),
            "{escaped} in the manual page: {roff}"
        );
    }
}

#[test]
fn picker_on_a_terminal_chooses_a_role() {
    let (env, _idp, moto) = world(&[
        "--split-role-attributes",
        "--role",
        "arn:aws:iam::123456789012:role/Admin,arn:aws:iam::123456789012:saml-provider/test-idp",
        "--role",
        &format!("{ROLE},{PROVIDER}"),
    ]);
    env.write(".aws-accounts", "[DEFAULT]\nsandbox = 123456789012\n");
    // A real terminal: Python's pty runs saml-login, waits for the picker, presses
    // Down and Enter (the second role in the IdP's order: Developer@sandbox).
    let script = r#"
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "aws-assume-role"])
out, sent, deadline = b"", False, time.time() + 60
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    if not sent and b"Which role?" in out:
        time.sleep(0.3)
        os.write(fd, b"\x1b[B")
        time.sleep(0.3)
        os.write(fd, b"\r")
        sent = True
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    env.command(python())
        .args(["-c", script])
        .arg(assert_cmd::cargo::cargo_bin("saml-login"))
        .env("TERM", "xterm")
        .ran()
        .success()
        .stdout_has("Admin@sandbox")
        .stdout_has("Developer@sandbox");
    assert!(
        env.credentials().contains("[Developer@sandbox]\n"),
        "{}",
        env.credentials()
    );
    assert!(
        !env.credentials().contains("[Admin@sandbox]"),
        "only the chosen role: {}",
        env.credentials()
    );
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "Developer@sandbox"),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
}
