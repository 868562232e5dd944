//! Hostile neighbours, round three (issue 27), finding 6: a `~/.aws/config` owned by
//! another local user (uid 65534) is not believed: `exec --profile` runs no
//! `credential_process` from it. And the IdP password (`SAML_LOGIN_PASSWORD`) reaches
//! a `credential_process` only when that is saml-login itself.
//!
//! Linux only: files owned by another user.

#![cfg(target_os = "linux")]

use crate::support::*;

const OTHER_UID: u32 = 65534;

/// A `credential_process` (python) that writes its environment to argv[1] and prints
/// keys.
const PROCESS: &str = r#"
import json, os, sys
with open(sys.argv[1], "w") as f:
    f.write("\n".join(f"{k}={v}" for k, v in os.environ.items()))
print(json.dumps({"Version": 1, "AccessKeyId": "AKIAPLANTEDPLANTED", "SecretAccessKey": "planted-secret-key-planted", "SessionToken": "planted-token"}))
"#;

fn config_with_process(env: &Env, marker: &std::path::Path) -> std::path::PathBuf {
    let script = env.write("process.py", PROCESS);
    env.write(
        ".aws/config",
        &format!(
            "[profile planted]\ncredential_process = {} {} {}\n",
            python(),
            script.display(),
            marker.display()
        ),
    )
}

/// `exec --profile planted` printing the access key id its command gets.
fn exec_planted(env: &Env) -> Ran {
    env.call(&[
        "exec",
        "--profile",
        "planted",
        "--",
        "sh",
        "-c",
        "echo $AWS_ACCESS_KEY_ID",
    ])
}

#[test]
fn exec_runs_no_credential_process_from_a_config_file_of_another_user() {
    let env = Env::new().var("SAML_LOGIN_PASSWORD", "the-users-idp-password");
    let marker = env.path("ran");
    let config = config_with_process(&env, &marker);
    std::os::unix::fs::chown(&config, Some(OTHER_UID), Some(OTHER_UID)).unwrap();
    let out = exec_planted(&env);
    let ran = !marker.exists();
    out.check(ran, "the other user's credential_process ran")
        .stdout_lacks("AKIAPLANTED")
        .failure()
        .stderr_has(&config.display().to_string())
        .stderr_has("owned by another user (uid 65534)");
}

#[test]
fn the_idp_password_reaches_no_credential_process_but_saml_login() {
    let env = Env::new().var("SAML_LOGIN_PASSWORD", "the-users-idp-password");
    let marker = env.path("ran");
    config_with_process(&env, &marker);
    exec_planted(&env)
        .success()
        .stdout_has("AKIAPLANTEDPLANTED");
    let seen = std::fs::read_to_string(&marker).expect("the credential_process ran");
    assert!(
        !seen.contains("the-users-idp-password"),
        "the password reached another program: {seen}"
    );
    assert!(seen.contains("HOME="), "{seen}");
}

/// The other half: saml-login itself as a profile's `credential_process` does get the
/// password: its headless login fills the IdP's form with it (without it the login
/// would wait for a person and time out).
#[test]
fn saml_login_as_a_credential_process_gets_the_idp_password() {
    let moto = moto();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&["--callback", &callback, "--user", "robot:s3cret-Pa55"]);
    let env = Env::new()
        .sts(&moto)
        .var("SAML_LOGIN_USERNAME", "robot")
        .var("SAML_LOGIN_PASSWORD", "s3cret-Pa55");
    let tmp = env.path("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let env = env.var("TMPDIR", tmp.display().to_string());
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\ntimeout = 20\n\n[dev]\naws_account = 123456789012\naws_role = Developer\n",
        idp.url
    ));
    env.write(
        ".aws/config",
        &format!(
            "[profile mine]\ncredential_process = {} -c dev credential-process\n",
            assert_cmd::cargo::cargo_bin("saml-login").display()
        ),
    );
    env.call(&[
        "exec",
        "--profile",
        "mine",
        "--",
        "sh",
        "-c",
        "echo $AWS_ACCESS_KEY_ID",
    ])
    .success()
    .stdout_matches(r"^\s*ASIA");
    let stats = idp.get("/stats");
    // The user name page, then the password page: one login.
    assert!(stats.contains("\"login_posts\": 2"), "{stats}");
}
