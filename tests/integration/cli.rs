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

#[test]
fn help_has_examples_and_version_prints() {
    let env = Env::new();
    env.call(&["--help"])
        .success()
        .stdout_has("Examples:")
        .stdout_has("aws-assume-role");
    env.call(&["--version"])
        .stdout_eq(&format!("saml-login {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_2() {
    let env = Env::new();
    env.call(&["no-such-command"]).code(2);
    env.call(&["--webview", "--headless", "get-token"])
        .code(2)
        .stderr_has("cannot be used with");
}

#[test]
fn missing_section() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    env.call(&["-c", "prod", "get-token"])
        .code(1)
        .stderr_starts(&format!(
            "saml-login: error: no configuration prod found in {}\n",
            env.path(".saml-login").display()
        ));
}

#[test]
fn missing_key_and_malformed_file() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\n");
    env.call(&["get-token"])
        .code(1)
        .stderr_has("property client_id is missing from section [DEFAULT]");

    let other = env.write(
        "elsewhere.ini",
        "[DEFAULT]\nidp_url = https://x.example\n[oops\n",
    );
    env.cmd()
        .arg("--config")
        .arg(&other)
        .arg("get-token")
        .ran()
        .code(1)
        .stderr_eq(&format!(
            "saml-login: error: {}, line 3: a section header must end with ]\n",
            other.display()
        ));
    // SAML_LOGIN_CONFIG does the same.
    env.cmd()
        .env("SAML_LOGIN_CONFIG", &other)
        .arg("get-token")
        .ran()
        .stderr_has("elsewhere.ini, line 3");
}

#[test]
fn bad_inline_policy_fails_before_login() {
    let (env, idp) = saved_response_env();
    // A bad value given as a flag is a usage error (issue 28).
    env.call(&[
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
    .code(2)
    .stderr_starts("saml-login: error: inline_policy in --inline-policy: not valid JSON");
    assert_eq!(idp.stat("samlp"), 1, "only the test's own fetch");
}

#[test]
fn unknown_alias_names_the_accounts_file() {
    let (env, _idp) = saved_response_env();
    env.write(".aws-accounts", "[DEFAULT]\nprod = 111111111111\n");
    env.call(&[
        "aws-assume-role",
        "--account",
        "staging",
        "--role",
        "r",
        "--profile",
        "p",
    ])
    .code(1)
    .stderr_eq(&format!(
        "saml-login: error: staging is not an account number (12 digits) nor an alias in {}\n",
        env.path(".aws-accounts").display()
    ));
}

#[test]
fn a_role_that_matches_nothing_is_named_with_what_is_granted() {
    let (env, _idp) = saved_response_env();
    // --role alone filters the granted roles; none is left: say so, and what is
    // granted by what (tests/trust.rs has the picker's and the missing flags' cases).
    env.cmd()
        .arg("--saml-response-file")
        .arg(env.path("saved.b64"))
        .args(["aws-assume-role", "--role", "r"])
        .ran()
        .code(1)
        .stderr_eq("saml-login: error: role r is not granted by the saved SAML response; granted: Developer@123456789012\n  hint: run `saml-login aws-assume-role --show` to list the roles granted to you\n");
}

#[test]
fn role_not_granted_lists_granted_roles_before_any_sts_call() {
    let (env, _idp) = saved_response_env();
    let env = env.var("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9");
    env.write(".aws-accounts", "[DEFAULT]\nsandbox = 123456789012\n");
    env.cmd()
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
        .ran()
        .code(1)
        .stderr_starts("saml-login: error: role Admin@sandbox is not granted by the saved SAML response; granted: Developer@sandbox\n");
    assert!(!env.credentials_path().exists());
}

#[test]
fn saved_response_from_stdin_feeds_show() {
    let (env, idp) = saved_response_env();
    let saved = std::fs::read_to_string(env.path("saved.b64")).unwrap();
    env.cmd()
        .args(["--saml-response-file", "-", "aws-assume-role", "--show"])
        .write_stdin(saved)
        .ran()
        .success()
        .stdout_eq(&format!(
            "[Developer@123456789012]\nidp_url = {}\nclient_id = test-client\naws_account = 123456789012\naws_role = Developer\naws_profile = Developer@123456789012\n\n",
            idp.url
        ));
}

#[test]
fn bad_saved_response_is_a_clear_error() {
    let env = Env::new();
    env.config("[DEFAULT]\nidp_url = https://x.example\nclient_id = c\n");
    let bad = env.write("bad.b64", "not base64 !!\n");
    env.cmd()
        .arg("--saml-response-file")
        .arg(&bad)
        .args(["aws-assume-role", "--show"])
        .ran()
        .code(1)
        .stderr_starts("saml-login: error: SAML response: not valid base64");
}

#[test]
fn verbose_run_redacts_secrets() {
    let moto = moto();
    let (env, _idp) = saved_response_env();
    let env = env.sts(&moto);
    let saved = std::fs::read_to_string(env.path("saved.b64")).unwrap();
    let mut out = env
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
        .ran()
        .success()
        // --verbose says something.
        .stderr_has("calling STS AssumeRoleWithSAML");
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
        out = out.stderr_lacks(&secret[..24.min(secret.len())]);
    }
}

/// saml-login links no GTK or WebKit (the webview runs in its own helper), so every
/// other command starts without them: the binary's needed libraries say so.
#[test]
fn saml_login_links_no_gtk() {
    let out = std::process::Command::new("readelf")
        .arg("-d")
        .arg(assert_cmd::cargo::cargo_bin("saml-login"))
        .ran()
        .success();
    let dynamic = String::from_utf8(out.out.stdout).unwrap();
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
