//! `pkce-login` through the real binary against the test IdP's `/authorize` and
//! `/oauth/token` (which checks the S256 challenge): the system browser path with the
//! browser stand-in following the redirect to the loopback callback, and headless
//! Chromium with a cookie jar or the service-account login.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Stdio};
use std::time::Duration;

use crate::support::*;
use serde_json::Value;

const SESSION: &str = "valid-session-0123456789";
const API: &str = "https://api.example.com";

/// `~/.pkce-login` for `idp`, with `browser` and the callback on `port`.
fn pkce_config(idp: &Server, port: u16, browser: &str) -> String {
    format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = {browser}\ntimeout = 60\n\n[api]\naudience = {API}\n",
        idp.url
    )
}

fn pkce_env(idp: &Server, browser: &str) -> Env {
    let env = Env::new();
    env.write(".pkce-login", &pkce_config(idp, free_port(), browser));
    env
}

fn pkce(env: &Env) -> assert_cmd::Command {
    env.cmd_for("pkce-login")
}

/// pkce-login in the background, in a process group killed when the guard drops.
fn spawn(env: &Env, args: &[&str]) -> GroupGuard {
    let mut cmd = env.command(assert_cmd::cargo::cargo_bin("pkce-login"));
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    GroupGuard::spawn(cmd)
}

/// Run and require success; stdout.
fn ok(cmd: &mut assert_cmd::Command) -> String {
    let out = cmd.ran().success().out;
    String::from_utf8(out.stdout).unwrap()
}

fn stats(idp: &Server) -> Value {
    serde_json::from_str(&idp.get("/stats")).unwrap()
}

/// The payload of a JWT, decoded here independently of pkce-login.
fn claims(jwt: &str) -> Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The lines pkce-login printed as errors.
fn error_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("pkce-login: error:"))
        .collect()
}

/// Read stderr of a `--no-open` run up to the login URL it prints.
fn login_url(child: &mut Child) -> (url::Url, BufReader<std::process::ChildStderr>) {
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "no URL printed");
        if let Some(url) = line.trim().strip_prefix("http") {
            return (url::Url::parse(&format!("http{url}")).unwrap(), stderr);
        }
    }
}

fn query(url: &url::Url, key: &str) -> String {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap_or_else(|| panic!("{key} missing in {url}"))
}

/// One raw HTTP/1.1 GET to 127.0.0.1 (no redirect following); status line and headers.
fn raw_get(port: u16, path_and_query: &str) -> String {
    let mut s = connect_within(port, Duration::from_secs(20));
    write!(
        s,
        "GET {path_and_query} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    reply
}

// ---------------------------------------------------------------------------------
// System browser (browser.py follows /authorize's 302 to the loopback callback)
// ---------------------------------------------------------------------------------

#[test]
fn id_token_response_then_decoded_claims() {
    let idp = idp(&["--auto-session"]);
    let env = pkce_env(&idp, "system").test_browser("");

    let out = ok(pkce(&env).arg("get-id-jwt"));
    assert_eq!(out.lines().count(), 1, "{out}");
    let response: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(response["token_type"], "Bearer");
    assert!(response["access_token"].is_string());
    let id = claims(response["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], "test-client");
    assert_eq!(id["iss"], format!("{}/", idp.url));
    // A token was issued: the IdP found SHA-256(code_verifier) equal to the challenge.
    assert_eq!(stats(&idp)["token"], 1);

    let out = ok(pkce(&env).args(["get-id-jwt", "--decode"]));
    assert!(out.lines().count() > 3, "pretty JSON: {out}");
    let decoded: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(decoded["aud"], "test-client");
    assert_eq!(decoded["email"], "developer@example.com");
    assert_eq!(stats(&idp)["token"], 2);
}

#[test]
fn access_token_for_an_audience() {
    let idp = idp(&["--auto-session"]);
    let env = pkce_env(&idp, "system").test_browser("");

    let out = ok(pkce(&env).args([
        "get-access-jwt",
        "--audience",
        "https://other.example.com",
        "--scope",
        "openid email",
        "--decode",
    ]));
    let decoded: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(decoded["aud"], "https://other.example.com");
    assert_eq!(decoded["scope"], "openid email");

    // From the section, with the default scope; the whole response on one line.
    let out = ok(pkce(&env).args(["-c", "api", "get-access-jwt"]));
    assert_eq!(out.lines().count(), 1);
    let response: Value = serde_json::from_str(&out).unwrap();
    let access = claims(response["access_token"].as_str().unwrap());
    assert_eq!(access["aud"], API);
    assert_eq!(access["scope"], "openid profile");
}

#[test]
fn two_step_login_in_the_browser() {
    let idp = idp(&[]);
    let env = pkce_env(&idp, "system")
        .test_browser("")
        .var("BROWSER_LOGIN", "alice:correct-horse");
    let out = ok(pkce(&env).args(["get-id-jwt", "--decode"]));
    let decoded: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(decoded["sub"], "auth0|alice");
    assert_eq!(stats(&idp)["login_posts"], 2);
}

#[test]
fn denied_authorization_is_one_clear_error() {
    let idp = idp(&["--auto-session", "--deny-authorize"]);
    let env = pkce_env(&idp, "system").test_browser("");
    let out = pkce(&env).arg("get-id-jwt").ran();
    let out = out.code(1).stdout_empty();
    assert_eq!(
        error_lines(&out.stderr()),
        [format!(
            "pkce-login: error: {}/authorize: the IdP answered access_denied: User did not authorize",
            idp.url
        )],
        "{}",
        out.stderr()
    );
    assert_eq!(stats(&idp)["token"], 0);
}

#[test]
fn forged_state_is_refused_and_the_wait_goes_on() {
    let idp = idp(&["--auto-session"]);
    let env = pkce_env(&idp, "system");
    let mut child = spawn(&env, &["--no-open", "--timeout", "3", "get-id-jwt"]);
    let (url, mut stderr) = login_url(&mut child);
    let port = url::Url::parse(&query(&url, "redirect_uri"))
        .unwrap()
        .port()
        .unwrap();
    let reply = raw_get(port, "/callback?code=stolen&state=forged");
    assert!(reply.starts_with("HTTP/1.1 400"), "{reply}");
    let reply = raw_get(port, &format!("/callback?state={}", query(&url, "state")));
    assert!(
        reply.starts_with("HTTP/1.1 400"),
        "no code nor error: {reply}"
    );

    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert_eq!(status.code(), Some(4), "{rest}");
    assert!(stdout.is_empty());
    assert_eq!(
        error_lines(&rest),
        ["pkce-login: error: no login completed within 3 s (the `timeout` setting)"]
    );
    assert_eq!(stats(&idp)["token"], 0);
}

#[test]
fn authorization_request_and_a_failed_exchange() {
    let idp = idp(&["--auto-session"]);
    let env = pkce_env(&idp, "system");
    let mut child = spawn(&env, &["--no-open", "get-id-jwt"]);
    let (url, mut stderr) = login_url(&mut child);
    assert_eq!(url.path(), "/authorize");
    assert_eq!(query(&url, "response_type"), "code");
    assert_eq!(query(&url, "client_id"), "test-client");
    assert_eq!(query(&url, "scope"), "openid profile");
    assert_eq!(query(&url, "code_challenge_method"), "S256");
    assert_eq!(query(&url, "code_challenge").len(), 43);
    assert_eq!(query(&url, "state").len(), 64);
    let redirect = url::Url::parse(&query(&url, "redirect_uri")).unwrap();
    assert_eq!(redirect.path(), "/callback");
    assert_eq!(redirect.host_str(), Some("localhost"));

    // A real code, but issued for another challenge: the IdP must refuse pkce-login's
    // verifier for it.
    let mut other = url.clone();
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if k == "code_challenge" {
                "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM".to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    other.query_pairs_mut().clear().extend_pairs(pairs);
    let reply = raw_get(idp.port, &format!("/authorize?{}", other.query().unwrap()));
    let location = reply
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .unwrap_or_else(|| panic!("{reply}"));
    let callback = url::Url::parse(location.trim()).unwrap();
    assert!(callback.query().unwrap().contains("code="));
    let reply = raw_get(
        redirect.port().unwrap(),
        &format!("/callback?{}", callback.query().unwrap()),
    );
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");

    let status = child.wait().unwrap();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(status.code(), Some(1), "{rest}");
    assert_eq!(
        error_lines(&rest),
        [format!(
            "pkce-login: error: {}/oauth/token: HTTP 400: invalid_grant: Failed to verify code verifier",
            idp.url
        )]
    );
    assert_eq!(stats(&idp)["token"], 1);
}

#[test]
fn configuration_errors_are_named() {
    let idp = idp(&[]);
    let env = pkce_env(&idp, "system");
    let config = env.path(".pkce-login");

    pkce(&env)
        .args(["-c", "prod", "get-id-jwt"])
        .ran()
        .code(1)
        .stdout_empty()
        .stderr_starts(&format!(
            "pkce-login: error: no configuration prod found in {}\n",
            config.display()
        ));

    env.write(
        ".pkce-login",
        &format!("[DEFAULT]\nidp_url = {}\n", idp.url),
    );
    let out = pkce(&env).arg("get-access-jwt").ran().code(1);
    assert_eq!(
        error_lines(&out.stderr()),
        [format!(
            "pkce-login: error: property client_id is missing from section [DEFAULT] of {}",
            config.display()
        )]
    );

    // --config / PKCE_LOGIN_CONFIG name a file that must exist.
    let missing = env.path("elsewhere.ini");
    pkce(&env)
        .env("PKCE_LOGIN_CONFIG", &missing)
        .arg("get-id-jwt")
        .ran()
        .code(1)
        .stderr_starts(&format!(
            "pkce-login: error: cannot read {}",
            missing.display()
        ));

    pkce(&env)
        .args(["--webview", "--headless", "get-id-jwt"])
        .ran()
        .code(2);
    assert_eq!(stats(&idp)["authorize"], 0);
}

#[test]
fn help_says_no_signature_is_checked() {
    let env = Env::new();
    let help = ok(pkce(&env).arg("--help"));
    assert!(
        help.contains("get-id-jwt") && help.contains("get-access-jwt"),
        "{help}"
    );
    assert!(help.contains("no signature is checked"), "{help}");
    let help = ok(pkce(&env).args(["get-access-jwt", "--help"]));
    assert!(
        help.contains("--audience") && help.contains("--scope"),
        "{help}"
    );
    assert!(help.contains("no signature is"), "{help}");
    let version = ok(pkce(&env).arg("--version"));
    assert_eq!(
        version,
        format!("pkce-login {}\n", env!("CARGO_PKG_VERSION"))
    );
}

// ---------------------------------------------------------------------------------
// Headless Chromium
// ---------------------------------------------------------------------------------

fn private_jar(env: &Env, value: &str) -> std::path::PathBuf {
    let p = env.write(
        "jar.txt",
        &format!(
            "# Netscape HTTP Cookie File\n#HttpOnly_127.0.0.1\tFALSE\t/\tFALSE\t0\tidp_session\t{value}\n"
        ),
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    p
}

#[test]
fn headless_with_a_cookie_jar() {
    let _serial = serial();
    let idp = idp(&["--session-cookie", SESSION]);
    let env = pkce_env(&idp, "headless");
    let jar = private_jar(&env, SESSION);

    let out = ok(pkce(&env)
        .args(["get-id-jwt", "--decode", "--cookies"])
        .arg(&jar));
    let decoded: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(decoded["aud"], "test-client");

    let out = ok(pkce(&env)
        .args(["-c", "api", "--cookies"])
        .arg(&jar)
        .arg("get-access-jwt"));
    let response: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        claims(response["access_token"].as_str().unwrap())["aud"],
        API
    );
    let s = stats(&idp);
    assert_eq!(s["login_posts"], 0);
    assert_eq!(s["token"], 2);
}

#[test]
fn headless_service_account_login() {
    let _serial = serial();
    let idp = idp(&["--user", "robot:s3cret-Pa55"]);
    let env = pkce_env(&idp, "headless")
        .var("SAML_LOGIN_USERNAME", "robot")
        .var("SAML_LOGIN_PASSWORD", "s3cret-Pa55");
    let out = pkce(&env)
        .args(["--verbose", "get-access-jwt", "--audience", API])
        .ran()
        .success()
        .stderr_lacks("s3cret-Pa55");
    let response: Value = out.stdout_json();
    let token = response["access_token"].as_str().unwrap();
    out.stderr_lacks(token);
    assert_eq!(claims(token)["sub"], "auth0|robot");
    assert_eq!(stats(&idp)["login_posts"], 2);
}

#[test]
fn headless_denied_authorization() {
    let _serial = serial();
    let idp = idp(&["--session-cookie", SESSION, "--deny-authorize"]);
    let env = pkce_env(&idp, "headless");
    let jar = private_jar(&env, SESSION);
    let out = pkce(&env)
        .arg("--cookies")
        .arg(&jar)
        .arg("get-id-jwt")
        .ran();
    let out = out.code(1).stdout_empty();
    assert_eq!(
        error_lines(&out.stderr()),
        [format!(
            "pkce-login: error: {}/authorize: the IdP answered access_denied: User did not authorize",
            idp.url
        )],
        "{}",
        out.stderr()
    );
}

// ---------------------------------------------------------------------------------
// Webview (WebKitGTK under the test process's display: the suite runs under xvfb-run)
// ---------------------------------------------------------------------------------

/// `~/.pkce-login` choosing the webview, with the callback on a port held by a socket
/// that never accepts: the webview captures the redirect without reaching it.
fn pkce_webview_env(idp: &Server) -> (Env, std::net::TcpListener) {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let env = display_env();
    env.write(".pkce-login", &pkce_config(idp, port, "webview"));
    (env, holder)
}

fn assert_untouched(holder: &std::net::TcpListener) {
    holder.set_nonblocking(true).unwrap();
    assert!(
        holder.accept().is_err(),
        "a request reached the callback port"
    );
}

#[test]
fn webview_captures_the_redirect_and_the_code_is_exchanged() {
    let idp = idp(&["--auto-session"]);
    let (env, holder) = pkce_webview_env(&idp);

    let out = ok(pkce(&env).args(["--webview", "get-id-jwt"]));
    assert_eq!(out.lines().count(), 1, "{out}");
    let response: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(response["token_type"], "Bearer");
    assert!(response["access_token"].is_string());
    let id = claims(response["id_token"].as_str().unwrap());
    assert_eq!(id["aud"], "test-client");
    assert_eq!(id["iss"], format!("{}/", idp.url));
    assert_eq!(id["sub"], "auth0|alice");
    // One authorization, one token request, and it succeeded (pkce-login prints tokens
    // only from a 200 answer): the IdP found SHA-256(code_verifier) equal to the
    // challenge, so the captured code and state were the ones of this run.
    let s = stats(&idp);
    assert_eq!(s["authorize"], 1);
    assert_eq!(s["token"], 1);
    assert_untouched(&holder);
}

#[test]
fn webview_two_step_login_then_the_code_is_exchanged() {
    let idp = idp(&["--autofill"]);
    let (env, holder) = pkce_webview_env(&idp);

    let out = ok(pkce(&env).args(["--webview", "get-id-jwt", "--decode"]));
    let decoded: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(decoded["aud"], "test-client");
    assert_eq!(decoded["sub"], "auth0|alice");
    let s = stats(&idp);
    assert_eq!(s["login_posts"], 2, "the identifier and password forms");
    assert_eq!(s["authorize"], 2, "before and after the login");
    assert_eq!(s["token"], 1);
    assert_untouched(&holder);
}

#[test]
fn webview_denied_authorization_is_one_clear_error() {
    let idp = idp(&["--auto-session", "--deny-authorize"]);
    let (env, holder) = pkce_webview_env(&idp);
    let out = pkce(&env).args(["--webview", "get-id-jwt"]).ran();
    let out = out.code(1).stdout_empty();
    assert_eq!(
        error_lines(&out.stderr()),
        [format!(
            "pkce-login: error: {}/authorize: the IdP answered access_denied: User did not authorize",
            idp.url
        )],
        "{}",
        out.stderr()
    );
    assert_eq!(stats(&idp)["token"], 0);
    assert_untouched(&holder);
}
