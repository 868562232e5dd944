//! STS refusals: replayed error replies of real STS (moto cannot give them), each one
//! clear line, and the credentials file byte-identical afterwards.

use crate::support::*;

const EXISTING: &str = "# my comment\n[default]\naws_access_key_id = AKIAKEEP\naws_secret_access_key = keep\n\n[dev]\naws_access_key_id = AKIAOLD\n";

/// A saved response from the test IdP and a world whose STS is `sts`.
fn world(sts: &Server) -> (Env, Server) {
    let w = World::new()
        .no_callback()
        .sts_url(&sts.url)
        .no_browser()
        .section(
            "dev",
            "aws_account = 123456789012\naws_role = Developer\naws_profile = dev\n",
        )
        .saved_response()
        .file(".aws/credentials", EXISTING)
        .build();
    (w.env, w.idp)
}

fn refused(kind: &str, code: &str, message: &str) {
    let sts = sts_errors(kind, None);
    let (env, _idp) = world(&sts);
    let out = env
        .cmd()
        .args(["-c", "dev", "--saml-response-file"])
        .arg(env.path("saved.b64"))
        .arg("aws-assume-role")
        .ran()
        .code(5);
    let stderr = out.stderr();
    let first = stderr.lines().next().unwrap_or_default();
    assert_eq!(first, format!("saml-login: error: STS {code}: {message}"));
    assert_eq!(
        env.credentials(),
        EXISTING,
        "credentials file byte-identical"
    );
}

#[test]
fn access_denied() {
    refused(
        "AccessDenied",
        "AccessDenied",
        "Not authorized to perform sts:AssumeRoleWithSAML",
    );
}

#[test]
fn expired_assertion() {
    refused(
        "ExpiredToken",
        "ExpiredTokenException",
        "Token must be redeemed within 5 minutes of issuance",
    );
}

#[test]
fn invalid_identity_token() {
    refused(
        "InvalidIdentityToken",
        "InvalidIdentityToken",
        "Specified provider doesn't exist",
    );
}

#[test]
fn max_session_duration_retries_once_at_3600() {
    let moto = moto();
    let sts = sts_errors("MaxSessionDuration", Some(&moto.url));
    let (env, _idp) = world(&sts);
    env.cmd()
        .args([
            "-c",
            "dev",
            "--role-duration",
            "43200",
            "--saml-response-file",
        ])
        .arg(env.path("saved.b64"))
        .arg("aws-assume-role")
        .ran()
        .success()
        .stderr_has("retrying with 3600 s");
    assert_eq!(sts.get("/requests").replace(' ', ""), "[43200,3600]");
    assert_eq!(
        caller_identity(&moto, &env.credentials_path(), "dev"),
        "arn:aws:sts::123456789012:assumed-role/Developer/developer@example.com"
    );
    assert!(env.credentials().starts_with("# my comment\n[default]\naws_access_key_id = AKIAKEEP\naws_secret_access_key = keep\n\n[dev]\n"));
}

#[test]
fn sts_unreachable_is_one_line_and_keeps_the_file() {
    let port = free_port();
    let env = Env::new().var("AWS_ENDPOINT_URL_STS", format!("http://127.0.0.1:{port}"));
    let idp = idp(&["--auto-session"]);
    env.config(&config_for(&idp, free_port()));
    env.write("saved.b64", &fetch_saml_response(&idp));
    env.write(".aws/credentials", EXISTING);
    let out = env
        .cmd()
        .arg("--saml-response-file")
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
        .code(1)
        .stderr_starts("saml-login: error: STS: cannot reach STS");
    let stderr = out.stderr();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(env.credentials(), EXISTING);
}
