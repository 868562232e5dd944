//! `--headless` with a service account (`SAML_LOGIN_USERNAME`/`SAML_LOGIN_PASSWORD`)
//! through the real binary on the test IdP's login forms: any ordinary login form is
//! filled, and a run where no login can come fails fast, saying why, instead of waiting
//! out the `timeout` (300 s in these tests' configuration); with `--show-browser` the
//! person at the window logs in.

use std::time::{Duration, Instant};

use crate::support::*;

/// Well within the 300 s `timeout`: what "fails fast" means here.
const FAST: Duration = Duration::from_secs(15);

/// Run `get-token --headless` against `idp` with the given service account, bounded
/// at 90 s; returns the run (checked not to show the password) and how long it took.
fn get_token(idp: &Server, account: Option<(&str, &str)>) -> (Ran, Duration) {
    let port = free_port();
    let mut env = Env::new();
    if let Some((user, password)) = account {
        env = env
            .var("SAML_LOGIN_USERNAME", user)
            .var("SAML_LOGIN_PASSWORD", password);
    }
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\ntimeout = 300\n",
        idp.url
    ));
    let started = Instant::now();
    let mut ran = env
        .cmd()
        .timeout(Duration::from_secs(90))
        .args(["--no-cache", "get-token"])
        .ran();
    let elapsed = started.elapsed();
    if let Some((_, password)) = account.filter(|(_, p)| !p.is_empty()) {
        // The password never leaks.
        ran = ran.stderr_lacks(password);
    }
    (ran, elapsed)
}

fn callback_idp(args: &[&str]) -> Server {
    // The callback port in the IdP's form does not matter: these runs never reach it,
    // or reach it on the port the configuration names (see `get_token`).
    idp(args)
}

#[test]
fn wrong_password_fails_within_seconds_naming_the_user() {
    let _serial = serial();
    let idp = callback_idp(&["--user", "robot:right-Pa55"]);
    let (ran, elapsed) = get_token(&idp, Some(("robot", "wrong-Pa55")));
    ran.code(1)
        .stderr_has("the IdP rejected the login of `robot`")
        .stderr_has("Wrong email or password")
        .check(elapsed < FAST, &format!("took {elapsed:?}"));
}

#[test]
fn one_page_form_whose_user_field_has_another_name_is_filled() {
    let _serial = serial();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&[
        "--user",
        "robot@example.com:right-Pa55",
        "--user-field",
        "login_email",
        "--callback",
        &callback,
    ]);
    let env = Env::new()
        .var("SAML_LOGIN_USERNAME", "robot@example.com")
        .var("SAML_LOGIN_PASSWORD", "right-Pa55");
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\ntimeout = 300\n",
        idp.url
    ));
    let started = Instant::now();
    let out = env
        .cmd()
        .timeout(Duration::from_secs(90))
        .args(["--no-cache", "get-token"])
        .ran()
        .success();
    assert!(started.elapsed() < FAST, "took {:?}", started.elapsed());
    let xml = decode_b64(out.stdout().trim());
    assert!(xml.contains(ROLE), "{xml}");
    assert_eq!(idp.stat("login_posts"), 1);
}

#[test]
fn wrong_password_on_a_one_page_form_fails_within_seconds() {
    let _serial = serial();
    let idp = callback_idp(&[
        "--user",
        "robot@example.com:right-Pa55",
        "--user-field",
        "login_email",
    ]);
    let (ran, elapsed) = get_token(&idp, Some(("robot@example.com", "wrong-Pa55")));
    ran.code(1)
        .stderr_has("the IdP rejected the login of `robot@example.com`")
        .stderr_has("Incorrect username or password.")
        .check(elapsed < FAST, &format!("took {elapsed:?}"));
}

#[test]
fn mfa_prompt_fails_within_15_s_naming_what_it_asks_for() {
    let _serial = serial();
    let idp = callback_idp(&["--user", "robot:right-Pa55", "--after-login", "mfa"]);
    let (ran, elapsed) = get_token(&idp, Some(("robot", "right-Pa55")));
    ran.code(1)
        .stderr_has("\"Verify your identity\"")
        .stderr_has("Enter the code from your authenticator app")
        .stderr_has("--show-browser")
        .check(elapsed < FAST, &format!("took {elapsed:?}"));
}

#[test]
fn consent_page_fails_within_15_s_naming_what_it_asks_for() {
    let _serial = serial();
    let idp = callback_idp(&["--user", "robot:right-Pa55", "--after-login", "consent"]);
    let (ran, elapsed) = get_token(&idp, Some(("robot", "right-Pa55")));
    ran.code(1)
        .stderr_has("\"Authorize application\"")
        .stderr_has("\"Accept\", \"Decline\"")
        .check(elapsed < FAST, &format!("took {elapsed:?}"));
}

#[test]
fn no_jar_and_no_account_is_not_an_expired_session() {
    let _serial = serial();
    let idp = callback_idp(&[]);
    let (ran, elapsed) = get_token(&idp, None);
    ran.code(1)
        .stderr_lacks("expired")
        .stderr_has("no IdP session")
        .stderr_has("--cookies")
        .stderr_has("SAML_LOGIN_USERNAME")
        .check(elapsed < FAST, &format!("took {elapsed:?}"));
}

#[test]
fn a_refused_callback_still_waits_for_the_timeout() {
    // saml-login's own answer to a forged callback is not a page waiting for a person:
    // the wait goes on (another post may still come) until `timeout`, exit 4.
    let _serial = serial();
    let port = free_port();
    let idp = forging_idp(&format!("http://localhost:{port}/saml"));
    let env = Env::new();
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\ntimeout = 14\n",
        idp.url
    ));
    let started = Instant::now();
    let out = env.call(&["--no-cache", "get-token"]).code(4);
    let waited = started.elapsed() >= Duration::from_secs(14);
    out.check(waited, "the wait lasted the 14 s");
}

#[test]
fn show_browser_without_an_account_waits_for_the_person_at_the_window() {
    // The README's "once, at a desktop" jar: --show-browser and no account. The login
    // form is for the person at the window, not "the stored IdP session has expired"
    // at once: the run waits (here until a 10 s timeout, exit 4).
    let _serial = serial();
    let port = free_port();
    let idp = idp(&["--callback", &format!("http://localhost:{port}/saml")]);
    let env = display_env();
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\ntimeout = 10\n",
        idp.url
    ));
    let started = Instant::now();
    let out = env
        .cmd()
        .args(["--show-browser", "--no-cache", "get-token"])
        .ran()
        .code(4);
    let waited = started.elapsed() >= Duration::from_secs(10);
    out.check(waited, "the wait lasted the 10 s")
        .stderr_lacks("expired");
}
