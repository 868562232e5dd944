//! The command line and configuration through the real binary: errors name the file,
//! section or field; usage errors exit 2; a saved response drives the pipeline with no
//! browser; --verbose keeps secrets out.

use crate::support::*;

fn saved_response_env() -> (Env, Server) {
    let idp = idp(&["--auto-session"]);
    let env = Env::new();
    env.config(&config_for(&idp, free_port()));
    env.write("saved.b64", &fetch_saml_response(&idp));
    (env, idp)
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn help_has_examples_and_version_prints() {
    let env = Env::new();
    let out = env.cmd().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("Examples:"), "{help}");
    assert!(help.contains("aws-assume-role"));
    let out = env.cmd().arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!("saml-login {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    let out = env.cmd().arg("no-such-command").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = env
        .cmd()
        .args(["--webview", "--headless", "get-token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("cannot be used with"));
}

#[test]
fn missing_section() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    let out = env
        .cmd()
        .args(["-c", "prod", "get-token"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).starts_with(&format!(
        "saml-login: error: no configuration prod found in {}\n",
        env.path(".saml-login").display()
    )));
}

#[test]
fn missing_key_and_malformed_file() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\n");
    let out = env.cmd().arg("get-token").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("property client_id is missing from section [DEFAULT]"));

    let other = env.write(
        "elsewhere.ini",
        "[DEFAULT]\nidp_url = https://x.example\n[oops\n",
    );
    let out = env
        .cmd()
        .arg("--config")
        .arg(&other)
        .arg("get-token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        format!(
            "saml-login: error: {}, line 3: a section header must end with ]\n",
            other.display()
        )
    );
    // SAML_LOGIN_CONFIG does the same.
    let out = env
        .cmd()
        .env("SAML_LOGIN_CONFIG", &other)
        .arg("get-token")
        .output()
        .unwrap();
    assert!(stderr_of(&out).contains("elsewhere.ini, line 3"));
}

#[test]
fn bad_inline_policy_fails_before_login() {
    let (env, idp) = saved_response_env();
    let out = env
        .cmd()
        .args([
            "aws-assume-role",
            "--account",
            "1",
            "--role",
            "r",
            "--profile",
            "p",
            "--inline-policy",
            "{not json",
        ])
        .output()
        .unwrap();
    // A bad value given as a flag is a usage error (issue 28).
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out)
            .starts_with("saml-login: error: inline_policy in --inline-policy: not valid JSON")
    );
    assert!(
        idp.get("/stats").contains("\"samlp\": 1"),
        "only the test's own fetch"
    );
}

#[test]
fn unknown_alias_names_the_accounts_file() {
    let (env, _idp) = saved_response_env();
    env.write(".aws-accounts", "[DEFAULT]\nprod = 111111111111\n");
    let out = env
        .cmd()
        .args([
            "aws-assume-role",
            "--account",
            "staging",
            "--role",
            "r",
            "--profile",
            "p",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        format!(
            "saml-login: error: staging is not an account number (12 digits) nor an alias in {}\n",
            env.path(".aws-accounts").display()
        )
    );
}

#[test]
fn a_role_that_matches_nothing_is_named_with_what_is_granted() {
    let (env, _idp) = saved_response_env();
    let out = env
        .cmd()
        .arg("--saml-response-file")
        .arg(env.path("saved.b64"))
        .args(["aws-assume-role", "--role", "r"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // --role alone filters the granted roles; none is left: say so, and what is
    // granted by what (tests/trust.rs has the picker's and the missing flags' cases).
    assert_eq!(
        stderr_of(&out),
        "saml-login: error: role r is not granted by the saved SAML response; granted: Developer@123456789012\n  hint: run `saml-login aws-assume-role --show` to list the roles granted to you\n"
    );
}

#[test]
fn role_not_granted_lists_granted_roles_before_any_sts_call() {
    let (env, _idp) = saved_response_env();
    let env = env.var("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9");
    env.write(".aws-accounts", "[DEFAULT]\nsandbox = 123456789012\n");
    let out = env
        .cmd()
        .arg("--saml-response-file")
        .arg(env.path("saved.b64"))
        .args([
            "aws-assume-role",
            "--account",
            "sandbox",
            "--role",
            "Admin",
            "--profile",
            "p",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = stderr_of(&out);
    assert!(
        stderr.starts_with("saml-login: error: role Admin@sandbox is not granted by the saved SAML response; granted: Developer@sandbox\n"),
        "{stderr}"
    );
    assert!(!env.credentials_path().exists());
}

#[test]
fn saved_response_from_stdin_feeds_show() {
    let (env, idp) = saved_response_env();
    let saved = std::fs::read_to_string(env.path("saved.b64")).unwrap();
    let out = env
        .cmd()
        .args(["--saml-response-file", "-", "aws-assume-role", "--show"])
        .write_stdin(saved)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        format!(
            "[Developer@123456789012]\nidp_url = {}\nclient_id = test-client\naws_account = 123456789012\naws_role = Developer\naws_profile = Developer@123456789012\n\n",
            idp.url
        )
    );
}

#[test]
fn bad_saved_response_is_a_clear_error() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    let bad = env.write("bad.b64", "not base64 !!\n");
    let out = env
        .cmd()
        .arg("--saml-response-file")
        .arg(&bad)
        .args(["aws-assume-role", "--show"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).starts_with("saml-login: error: SAML response: not valid base64"));
}

#[test]
fn verbose_run_redacts_secrets() {
    let moto = moto();
    let (env, _idp) = saved_response_env();
    let env = env.sts(&moto);
    let saved = std::fs::read_to_string(env.path("saved.b64")).unwrap();
    let out = env
        .cmd()
        .args(["--verbose", "--saml-response-file"])
        .arg(env.path("saved.b64"))
        .args([
            "aws-assume-role",
            "--account",
            "123456789012",
            "--role",
            "Developer",
            "--profile",
            "dev",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("calling STS AssumeRoleWithSAML"),
        "verbose says something: {stderr}"
    );
    let creds = env.credentials();
    let value = |k: &str| {
        creds
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k} = ")))
            .unwrap()
            .to_owned()
    };
    for secret in [
        value("aws_secret_access_key"),
        value("aws_session_token"),
        saved.trim().to_owned(),
    ] {
        assert!(
            !stderr.contains(&secret[..24.min(secret.len())]),
            "secret in output: {stderr}"
        );
    }
}

/// saml-login links no GTK or WebKit (the webview runs in its own helper), so every
/// other command starts without them: the binary's needed libraries say so.
#[test]
fn saml_login_links_no_gtk() {
    let out = std::process::Command::new("readelf")
        .arg("-d")
        .arg(assert_cmd::cargo::cargo_bin("saml-login"))
        .output()
        .expect("readelf (binutils) is installed (scripts/install-deps.sh)");
    assert!(out.status.success());
    let dynamic = String::from_utf8(out.stdout).unwrap();
    let needed: Vec<&str> = dynamic
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| l.split('[').nth(1)?.strip_suffix(']'))
        .collect();
    assert!(
        needed.iter().any(|l| l.starts_with("libc.so")),
        "{needed:?}"
    );
    let gui: Vec<_> = needed
        .iter()
        .filter(|l| {
            [
                "gtk",
                "gdk",
                "webkit",
                "javascriptcore",
                "soup",
                "glib",
                "gobject",
                "cairo",
            ]
            .iter()
            .any(|g| l.contains(g))
        })
        .collect();
    assert!(gui.is_empty(), "saml-login links {gui:?}");
}
