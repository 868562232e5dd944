//! `pkce-login` resolves only the keys it reads: saml-login's own keys in
//! `~/.pkce-login` (a bad `role_duration`, `policy_arns`, `aws_profile`,
//! `profile_name`, an inline comment after `aws_role`) are not its concern, while a bad
//! key both tools read (`listen_port`) is refused with saml-login's message.

use crate::support::*;
use serde_json::Value;

/// `~/.pkce-login` for `idp` through the system browser on a free port, with `extra`
/// lines in `[DEFAULT]`.
fn pkce_env(idp: &Server, extra: &str) -> Env {
    let env = Env::new();
    env.write(
        ".pkce-login",
        &format!(
            "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {}\nbrowser = system\ntimeout = 60\n{extra}",
            idp.url,
            free_port()
        ),
    );
    env
}

fn stats(idp: &Server) -> Value {
    serde_json::from_str(&idp.get("/stats")).unwrap()
}

/// Regression: pkce-login resolved every saml-login key, so a value only saml-login
/// reads, and that it would refuse, made pkce-login fail before any login.
#[test]
fn saml_login_only_keys_do_not_stop_a_token() {
    let idp = idp(&["--auto-session"]);
    let env = pkce_env(
        &idp,
        "role_duration = soon\npolicy_arns = nonsense\naws_profile = a[b\nprofile_name = x\naws_role = Dev # the team's role\n",
    )
    .test_browser("");
    let out = env.cmd_for("pkce-login").arg("get-id-jwt").ran().success();
    let response: Value = serde_json::from_str(&out.stdout()).unwrap();
    assert_eq!(response["token_type"], "Bearer");
    assert!(response["id_token"].is_string(), "{response}");
    assert_eq!(stats(&idp)["token"], 1);
}

/// A bad value of a key both tools read is still refused, with the message saml-login
/// gives, before any request to the IdP.
#[test]
fn a_bad_shared_key_is_refused_as_saml_login_refuses_it() {
    let idp = idp(&["--auto-session"]);
    let env = pkce_env(&idp, "[api]\nlisten_port = http\n").test_browser("");
    let config = env.path(".pkce-login");
    env.cmd_for("pkce-login")
        .args(["-c", "api", "get-id-jwt"])
        .ran()
        .code(1)
        .stdout_empty()
        .stderr_starts(&format!(
            "pkce-login: error: listen_port in [api] of {}: \"http\" is not a port number (1-65535)\n",
            config.display()
        ));
    assert_eq!(stats(&idp)["authorize"], 0);
}
