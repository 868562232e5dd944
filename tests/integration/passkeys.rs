//! Passkeys and device trust (issue 32) through the real binary: the test IdP's pages
//! that ask for a passkey (`navigator.credentials.get` with `publicKey` on load) or show
//! a "managed device only" page (Entra's AADSTS5300x, Okta's FastPass probe and device
//! assurance), met by headless Chromium (fails within seconds naming it) and by the
//! webview under Xvfb (hands the same login to the system browser, a scripted
//! `BROWSER`, and remembers the IdP until `--retry-webview` or `logout`).

use std::time::{Duration, Instant};

use crate::support::*;

/// What "fails within seconds" means here (the configured timeout is 300 s).
const FAST: Duration = Duration::from_secs(20);
const SESSION: &str = "passkey-made-session-0123456789";

/// `get-token --headless` on `idp` (no jar unless given), bounded at 90 s: the run and
/// how long it took.
fn headless_get_token(idp: &Server, port: u16, jar: Option<&str>) -> (Ran, Duration) {
    let mut env = Env::new();
    if let Some(jar) = jar {
        env = env.var("SAML_LOGIN_COOKIES", jar);
    }
    env.config(&format!(
        "[DEFAULT]\nidp_url = {}\nclient_id = test-client\nlisten_port = {port}\nbrowser = headless\ntimeout = 300\n",
        idp.url
    ));
    let started = Instant::now();
    let ran = env
        .cmd()
        .timeout(Duration::from_secs(90))
        .args(["--no-cache", "get-token"])
        .ran();
    (ran, started.elapsed())
}

#[test]
fn headless_fails_within_20_s_naming_the_passkey() {
    let _serial = serial();
    let idp = idp(&["--challenge", "passkey"]);
    let (ran, elapsed) = headless_get_token(&idp, free_port(), None);
    // The exit code of a failed login, and the ways forward.
    ran.code(1)
        .stdout_empty()
        .stderr_has(
            "the IdP asks for a passkey/security key (WebAuthn): a headless login cannot provide it",
        )
        .stderr_has("--headless --show-browser --save-cookies")
        .check(elapsed < FAST, &format!("took {elapsed:?}"));
    eprintln!("passkey page: failed after {elapsed:?}");
}

#[test]
fn headless_fails_within_20_s_naming_the_entra_device_policy() {
    let _serial = serial();
    let idp = idp(&["--challenge", "aadsts53001"]);
    let (ran, elapsed) = headless_get_token(&idp, free_port(), None);
    ran.code(1)
        .stderr_has("a domain-joined device (Entra Conditional Access) (AADSTS53001): a headless login cannot provide it")
        .stderr_has("--system-browser")
        .check(elapsed < FAST, &format!("took {elapsed:?}"));
    eprintln!("AADSTS53001 page: failed after {elapsed:?}");
}

/// Every row of the signature table has its page, and each is named.
#[test]
fn every_known_page_is_named_in_headless() {
    let _serial = serial();
    for (challenge, named) in [
        (
            "passkey-registration",
            "asks to register a passkey/security key",
        ),
        ("aadsts53000", "(AADSTS53000)"),
        ("aadsts53003", "(AADSTS53003)"),
        (
            "okta-fastpass",
            "Okta FastPass (Okta Verify on a registered device) (okta-fastpass)",
        ),
        ("okta-device-assurance", "(okta-device-assurance)"),
    ] {
        let idp = idp(&["--challenge", challenge]);
        let (ran, elapsed) = headless_get_token(&idp, free_port(), None);
        ran.context(challenge)
            .code(1)
            .stderr_has(named)
            .check(elapsed < FAST, &format!("took {elapsed:?}"));
    }
}

/// A stored session made where the passkey could be used (a jar) never meets the
/// passkey page: the headless login succeeds.
#[test]
fn headless_with_a_valid_stored_session_never_meets_the_passkey_page() {
    let _serial = serial();
    let port = free_port();
    let callback = format!("http://localhost:{port}/saml");
    let idp = idp(&[
        "--challenge",
        "passkey",
        "--session-cookie",
        SESSION,
        "--callback",
        &callback,
    ]);
    let jar = format!("127.0.0.1\tFALSE\t/\tFALSE\t0\tidp_session\t{SESSION}\n");
    let (ran, _) = headless_get_token(&idp, port, Some(&jar));
    let ran = ran.code(0).stderr_lacks("passkey");
    assert!(
        decode_saml(ran.stdout().trim()).contains("<samlp:Response "),
        "{}",
        ran.stdout()
    );
}

#[cfg(target_os = "linux")]
mod webview {
    use super::*;

    /// The IdP: a passkey (or `challenge`) page for a browser without a session, the
    /// SAML form for one with the session cookie `SESSION` (the scripted browser's,
    /// which logs what it does to `log`); the webview logs in, with no STS.
    struct Webview {
        idp: Server,
        env: Env,
        log: std::path::PathBuf,
    }

    fn world(challenge: &str) -> Webview {
        let env = display_env();
        let log = env.tmp().join("browser.log");
        let World { env, idp, .. } = WorldBuilder::on(env)
            .person()
            .no_sts()
            .idp_args(&["--challenge", challenge, "--session-cookie", SESSION])
            .browser_args(&format!(
                "--cookie idp_session={SESSION} --log {}",
                log.display()
            ))
            .defaults("browser = webview\ntimeout = 300\n")
            .build();
        Webview { idp, env, log }
    }

    /// One `get-token` run, and when the scripted browser was first started (from the
    /// run's start), if it was.
    fn run(w: &Webview, extra: &[&str]) -> (Ran, Option<Duration>) {
        let _ = std::fs::remove_file(&w.log);
        let mut cmd = w.env.saml_login();
        cmd.args(extra)
            .args(["--no-cache", "get-token"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        let started = Instant::now();
        let mut guard = GroupGuard::spawn(cmd);
        let mut called = None;
        while called.is_none() && started.elapsed() < Duration::from_secs(90) {
            if w.log.exists() {
                called = Some(started.elapsed());
            } else if guard.child.try_wait().unwrap().is_some() {
                break;
            } else {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        if called.is_none() && w.log.exists() {
            called = Some(started.elapsed());
        }
        let (out, _) = guard.output_within(Duration::from_secs(90));
        (Ran::from(out), called)
    }

    fn refusals_dir(env: &Env) -> std::path::PathBuf {
        env.path(".cache/saml-login/webview-refusals")
    }

    const HANDED_OVER: &str =
        "the IdP asks for a passkey, which this window cannot provide; continuing in your browser";

    #[test]
    fn webview_hands_the_passkey_login_to_the_browser_remembers_it_and_logout_forgets() {
        let w = world("passkey");
        // 1. The webview meets the passkey page: the same login goes on in BROWSER.
        let (ran, called) = run(&w, &[]);
        let ran = ran.success();
        let called = called.expect("the scripted browser was started");
        eprintln!("webview -> BROWSER after {called:?}");
        let ran = ran
            .check(called < FAST, &format!("BROWSER called after {called:?}"))
            .stderr_has(HANDED_OVER);
        assert!(
            decode_saml(ran.stdout().trim()).contains("<samlp:Response "),
            "{}",
            ran.stdout()
        );
        let log = std::fs::read_to_string(&w.log).unwrap();
        assert!(
            log.contains("/samlp/test-client?RelayState="),
            "the login: {log}"
        );
        assert!(log.contains("callback answered 200"), "{log}");
        let remembered: Vec<_> = std::fs::read_dir(refusals_dir(&w.env)).unwrap().collect();
        assert_eq!(remembered.len(), 1, "one IdP remembered");
        let record = std::fs::read_to_string(remembered[0].as_ref().unwrap().path()).unwrap();
        assert!(
            record.contains(&w.idp.url) && record.contains("\"since\":\"20"),
            "{record}"
        );

        // 2. Next time: straight to the browser, said in one line, no window.
        let (ran, called) = run(&w, &[]);
        let stderr = ran.stderr();
        let said: Vec<_> = stderr
            .lines()
            .filter(|l| l.contains("the webview could not serve this IdP on 20"))
            .collect();
        // The webview was not tried.
        ran.success()
            .check(called.is_some(), "the scripted browser was started")
            .stderr_lacks(HANDED_OVER)
            .check(said.len() == 1, "said in one line")
            .check(
                said[0].contains("(it asked for a passkey)") && said[0].contains("--retry-webview"),
                "the line names the passkey and --retry-webview",
            );

        // 3. --retry-webview tries the webview again (which meets the page again).
        run(&w, &["--retry-webview"])
            .0
            .success()
            .stderr_has(HANDED_OVER);

        // 4. logout forgets it; the run after tries the webview again.
        let said = w.env.ok(&["logout"]);
        assert!(said.contains("1 remembered webview refusal(s)"), "{said}");
        assert_eq!(std::fs::read_dir(refusals_dir(&w.env)).unwrap().count(), 0);
        run(&w, &[])
            .0
            .success()
            .stderr_has(HANDED_OVER)
            .stderr_lacks("could not serve this IdP on");
    }

    #[test]
    fn webview_hands_an_entra_device_page_to_the_browser() {
        let w = world("aadsts53001");
        let (ran, called) = run(&w, &[]);
        let ran = ran.success();
        let called = called.expect("the scripted browser was started");
        let ran = ran
            .check(called < FAST, &format!("BROWSER called after {called:?}"))
            .stderr_has("the IdP asks for a managed device (AADSTS53001), which this window cannot provide; continuing in your browser");
        assert!(
            decode_saml(ran.stdout().trim()).contains("<samlp:Response "),
            "{}",
            ran.stdout()
        );
    }
}
