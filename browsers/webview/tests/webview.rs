//! End-to-end tests of the webview capture with a real WebKitGTK webview.
//!
//! A test binary without the libtest harness (`harness = false`): GTK needs the main
//! thread, so `main` runs the cases one after the other. Without a display it re-runs
//! itself under `xvfb-run -a` when that exists, else it fails (and says why).
//!
//! Run: `cargo test -p saml-login-webview --test webview`
//! (or `xvfb-run -a cargo test -p saml-login-webview -- --test-threads=1`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::time::{Duration, Instant};

use base64::Engine;
use saml_login_capture::{
    Browser, Callback, Cancel, CaptureError, Captured, LoginRequest, Method, random_token,
};
use saml_login_webview::{Webview, WebviewOptions, display_available, profile_dir_for};
use url::Url;

const ROLE: &str = "arn:aws:iam::123456789012:role/Developer";
const REEXEC: &str = "SAML_LOGIN_WEBVIEW_TEST_UNDER_XVFB";

type CaseResult = Result<(), String>;
type Case = (&'static str, fn() -> CaseResult);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // libtest-style flags (`--test-threads=1`, `--nocapture`) are accepted and ignored;
    // a free argument filters the cases by name.
    let filter: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();
    if args.iter().any(|a| a == "--list") {
        return;
    }

    if !display_available(&window_vars()) {
        if std::env::var_os(REEXEC).is_none() && has_program("xvfb-run") {
            eprintln!("no display: re-running under xvfb-run -a");
            let status = Command::new("xvfb-run")
                .arg("-a")
                .arg(std::env::current_exe().expect("current exe"))
                .args(&args)
                .env(REEXEC, "1")
                .status()
                .expect("running xvfb-run");
            std::process::exit(status.code().unwrap_or(1));
        }
        // The no-display path itself is a case worth checking.
        let mut wv = Webview::new(options());
        let request = request_for(
            Url::parse("http://127.0.0.1:9/").unwrap(),
            "http://localhost:9/saml",
            Duration::from_secs(1),
        );
        match wv.capture(&request) {
            Err(CaptureError::NotAvailable(m)) if m.contains("DISPLAY") => {
                // The no-display error is right, but the webview cases cannot run: fail,
                // so a machine without Xvfb is never counted as green.
                println!("no display and no xvfb-run: install xvfb (scripts/install-deps.sh)");
                println!("1 passed, 1 failed");
                std::process::exit(1);
            }
            other => {
                println!("no_display ... FAILED: {other:?}");
                std::process::exit(1);
            }
        }
    }

    install_warning_counter();
    let cases: &[Case] = &[
        (
            "auto_session_captures_saml_post",
            auto_session_captures_saml_post,
        ),
        (
            "two_step_login_posts_normally",
            two_step_login_posts_normally,
        ),
        (
            "forged_ipc_from_other_origin_is_ignored",
            forged_ipc_from_other_origin_is_ignored,
        ),
        ("ipc_without_token_is_ignored", ipc_without_token_is_ignored),
        ("wrong_relay_state_is_refused", wrong_relay_state_is_refused),
        ("closing_the_window_cancels", closing_the_window_cancels),
        ("cancel_flag_cancels", cancel_flag_cancels),
        (
            "persistent_profile_keeps_session",
            persistent_profile_keeps_session,
        ),
        (
            "fresh_profile_needs_login_again",
            fresh_profile_needs_login_again,
        ),
        (
            "get_callback_redirect_is_captured",
            get_callback_redirect_is_captured,
        ),
        (
            "get_callback_after_two_step_login",
            get_callback_after_two_step_login,
        ),
        (
            "get_callback_wrong_state_is_refused",
            get_callback_wrong_state_is_refused,
        ),
    ];
    let (mut passed, mut failed) = (0, 0);
    for (name, case) in cases {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let started = Instant::now();
        match case() {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok ({} ms)", started.elapsed().as_millis());
            }
            Err(e) => {
                failed += 1;
                println!(
                    "test {name} ... FAILED ({} ms): {e}",
                    started.elapsed().as_millis()
                );
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}

// ---------------------------------------------------------------------------------------
// Cases

/// The Auth0-style auto-posting form is captured exactly; the callback port is held by a
/// socket that never sees a connection (nothing needs to listen there).
fn auto_session_captures_saml_post() -> CaseResult {
    let held = HeldPort::new();
    let idp = Server::idp(&["--auto-session", "--callback", &held.callback()])?;
    let relay = random_token();
    let start = idp.url(&format!("/samlp/test-client?RelayState={relay}"));
    let mut request = request_for(start, &held.callback(), Duration::from_secs(30));
    request.callback = request
        .callback
        .clone()
        .with_state("RelayState", relay.clone(), false);
    let t = Instant::now();
    let got = Webview::new(options())
        .capture(&request)
        .map_err(|e| format!("capture: {e}"))?
        .callback;
    println!("  start to capture: {} ms", t.elapsed().as_millis());
    check_saml(&got, &held, &relay)?;
    held.assert_untouched()
}

/// The two-step login's own forms post to the IdP (login_posts grows), only the final
/// SAML form is captured.
fn two_step_login_posts_normally() -> CaseResult {
    let held = HeldPort::new();
    let idp = Server::idp(&["--autofill", "--callback", &held.callback()])?;
    let relay = random_token();
    let start = idp.url(&format!("/samlp/test-client?RelayState={relay}"));
    let request = request_for(start, &held.callback(), Duration::from_secs(30));
    let t = Instant::now();
    let got = Webview::new(options())
        .capture(&request)
        .map_err(|e| format!("capture: {e}"))?
        .callback;
    println!(
        "  start to capture (with login): {} ms",
        t.elapsed().as_millis()
    );
    check_saml(&got, &held, &relay)?;
    let posts = idp.stat("login_posts")?;
    if posts < 2 {
        return Err(format!(
            "login_posts = {posts}, expected the two login forms"
        ));
    }
    held.assert_untouched()
}

/// A page of another origin posts a well-formed message (guessed token) and submits a
/// form to the callback: neither is captured, the navigation is blocked, the run times out.
fn forged_ipc_from_other_origin_is_ignored() -> CaseResult {
    let held = HeldPort::new();
    let site = Site::new(&held.callback())?;
    // Start on 127.0.0.1 (the "IdP" origin), move to localhost: another origin.
    let start = site.url("127.0.0.1", "/start.html");
    let request = request_for(start, &held.callback(), Duration::from_secs(4));
    let before = ignored_ipc();
    let by_origin = IGNORED_BY_ORIGIN.load(AtomicOrdering::SeqCst);
    match Webview::new(options()).capture(&request) {
        Err(CaptureError::Timeout(_)) => {}
        other => return Err(format!("expected a timeout, got {other:?}")),
    }
    if ignored_ipc() - before != 1 {
        return Err(format!(
            "expected the one forged message to be seen and ignored, saw {}",
            ignored_ipc() - before
        ));
    }
    if IGNORED_BY_ORIGIN.load(AtomicOrdering::SeqCst) - by_origin != 1 {
        return Err("the forged message was not refused by the origin check".into());
    }
    if !site.log().contains("GET /evil.html") {
        return Err("the other-origin page was never loaded".into());
    }
    held.assert_untouched()
}

/// A page of the IdP origin itself posts messages without the token or with a wrong one.
fn ipc_without_token_is_ignored() -> CaseResult {
    let held = HeldPort::new();
    let site = Site::new(&held.callback())?;
    let start = site.url("127.0.0.1", "/notoken.html");
    let request = request_for(start, &held.callback(), Duration::from_secs(4));
    let before = ignored_ipc();
    match Webview::new(options()).capture(&request) {
        Err(CaptureError::Timeout(_)) => {}
        other => return Err(format!("expected a timeout, got {other:?}")),
    }
    if ignored_ipc() - before != 4 {
        return Err(format!(
            "expected the four forged messages to be seen and ignored, saw {}",
            ignored_ipc() - before
        ));
    }
    held.assert_untouched()
}

/// A SAML form from the IdP whose RelayState is not the one we sent is refused
/// (`Callback::accepts`), and the wait goes on.
fn wrong_relay_state_is_refused() -> CaseResult {
    let held = HeldPort::new();
    let idp = Server::idp(&[
        "--auto-session",
        "--relay-state-override",
        "not-ours",
        "--callback",
        &held.callback(),
    ])?;
    let relay = random_token();
    let start = idp.url(&format!("/samlp/test-client?RelayState={relay}"));
    let mut request = request_for(start, &held.callback(), Duration::from_secs(3));
    request.callback = request
        .callback
        .clone()
        .with_state("RelayState", relay, false);
    let before = ignored_ipc();
    match Webview::new(options()).capture(&request) {
        Err(CaptureError::Timeout(_)) => {}
        other => return Err(format!("expected a timeout, got {other:?}")),
    }
    if ignored_ipc() - before != 1 {
        return Err(format!(
            "expected one refused message, saw {}",
            ignored_ipc() - before
        ));
    }
    held.assert_untouched()
}

/// Closing the window by hand ends the login as cancelled. A window manager closes a
/// window by sending it WM_DELETE_WINDOW; Xvfb has none, so the test sends that message
/// itself (xdotool finds the window; its `windowclose` would destroy the X window under
/// GTK, which GTK answers with exit(1), and `windowkill` drops the whole X connection).
fn closing_the_window_cancels() -> CaseResult {
    if !has_program("xdotool") {
        return Err("xdotool is not installed (scripts/install-deps.sh installs it)".into());
    }
    let held = HeldPort::new();
    let idp = Server::idp(&["--callback", &held.callback()])?;
    let title = format!("close-{}", &random_token()[..8]);
    let mut request = request_for(
        idp.url("/samlp/test-client"),
        &held.callback(),
        Duration::from_secs(30),
    );
    request.title = title.clone();
    let closer = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(500));
            let out = Command::new("xdotool")
                .args(["search", "--name", &format!("saml-login — {title}")])
                .output();
            let Ok(out) = out else { continue };
            let ids = String::from_utf8_lossy(&out.stdout).to_string();
            if let Some(id) = ids.split_whitespace().next() {
                return send_wm_delete(id);
            }
        }
        false
    });
    let t = Instant::now();
    let result = Webview::new(options()).capture(&request);
    let found = closer.join().unwrap_or(false);
    if !found {
        return Err(format!(
            "xdotool never found the window; capture gave {result:?}"
        ));
    }
    match result {
        Err(CaptureError::Cancelled) if t.elapsed() < Duration::from_secs(25) => Ok(()),
        other => Err(format!("expected Cancelled, got {other:?}")),
    }
}

/// The Ctrl-C flag ends the login as cancelled within a tick.
fn cancel_flag_cancels() -> CaseResult {
    let held = HeldPort::new();
    let idp = Server::idp(&["--callback", &held.callback()])?;
    let request = request_for(
        idp.url("/samlp/test-client"),
        &held.callback(),
        Duration::from_secs(30),
    );
    let cancel = request.cancel.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(1500));
        cancel.cancel();
    });
    let t = Instant::now();
    match Webview::new(options()).capture(&request) {
        Err(CaptureError::Cancelled) if t.elapsed() < Duration::from_secs(5) => Ok(()),
        other => Err(format!("expected Cancelled, got {other:?}")),
    }
}

/// Run 1 logs in (autofill) into a profile directory and exports cookies. The test IdP's
/// `idp_session` is a session cookie, which no browser keeps across restarts (Auth0's
/// own session cookie is persistent), so run 2 stores the same session the way Auth0
/// would, as a persistent cookie (set by a page on the IdP's host). Run 3 in the same
/// directory then captures with no login form posted.
fn persistent_profile_keeps_session() -> CaseResult {
    let held = HeldPort::new();
    let base = tempfile::tempdir().map_err(|e| e.to_string())?;
    let session = random_token();
    let idp = Server::idp(&[
        "--autofill",
        "--session-cookie",
        &session,
        "--callback",
        &held.callback(),
    ])?;
    let start = idp.url("/samlp/test-client?RelayState=one");
    let dir = profile_dir_for(base.path(), &start);
    let opts = WebviewOptions {
        data_dir: Some(dir.clone()),
        export_cookies: true,
        window_vars: window_vars(),
    };

    let mut wv = Webview::new(opts.clone());
    let request = request_for(start.clone(), &held.callback(), Duration::from_secs(30));
    let login = wv.capture(&request).map_err(|e| format!("run 1: {e}"))?;
    let got = &login.callback;
    check_saml(got, &held, "one")?;
    let posts_after_login = idp.stat("login_posts")?;
    if posts_after_login < 2 {
        return Err(format!(
            "run 1 did not log in (login_posts = {posts_after_login})"
        ));
    }
    let Some(cookie) = login.cookies.iter().find(|c| c.name == "idp_session") else {
        let names: Vec<_> = login.cookies.iter().map(|c| c.name.clone()).collect();
        return Err(format!("idp_session not exported; cookies: {names:?}"));
    };
    if cookie.domain != "127.0.0.1" || cookie.path != "/" || !cookie.http_only {
        return Err(format!("exported cookie {cookie:?}"));
    }
    check_private(&dir)?;

    // Run 2: a persistent idp_session for host 127.0.0.1 (cookies ignore the port).
    let site = Site::new(&held.callback())?;
    let next = idp.url("/healthz");
    let remember = site.url(
        "127.0.0.1",
        &format!("/remember?v={session}&next={}", next.as_str()),
    );
    let request = request_for(remember, &held.callback(), Duration::from_secs(3));
    match Webview::new(opts.clone()).capture(&request) {
        Err(CaptureError::Timeout(_)) => {}
        other => return Err(format!("run 2: expected a timeout, got {other:?}")),
    }

    let mut wv = Webview::new(opts);
    let start3 = idp.url("/samlp/test-client?RelayState=three");
    let request = request_for(start3, &held.callback(), Duration::from_secs(30));
    let got = wv
        .capture(&request)
        .map_err(|e| format!("run 3: {e}"))?
        .callback;
    check_saml(&got, &held, "three")?;
    let posts = idp.stat("login_posts")?;
    if posts != posts_after_login {
        return Err(format!(
            "run 3 logged in again: login_posts {posts_after_login} -> {posts}"
        ));
    }
    held.assert_untouched()
}

/// Without a data dir each run is a fresh profile: the second run logs in again.
fn fresh_profile_needs_login_again() -> CaseResult {
    let held = HeldPort::new();
    let idp = Server::idp(&["--autofill", "--callback", &held.callback()])?;
    for relay in ["a", "b"] {
        let start = idp.url(&format!("/samlp/test-client?RelayState={relay}"));
        let request = request_for(start, &held.callback(), Duration::from_secs(30));
        let got = Webview::new(options())
            .capture(&request)
            .map_err(|e| format!("capture: {e}"))?
            .callback;
        check_saml(&got, &held, relay)?;
    }
    let posts = idp.stat("login_posts")?;
    if posts < 4 {
        return Err(format!(
            "login_posts = {posts}: a fresh profile kept the session"
        ));
    }
    Ok(())
}

/// OAuth (pkce-login): the IdP's `/authorize` answers with a 302 to the GET callback
/// carrying `code` and `state`. WebKitGTK reports the redirect target to the navigation
/// handler, which captures it and blocks it: the held callback port sees no connection.
fn get_callback_redirect_is_captured() -> CaseResult {
    let held = HeldPort::new();
    let idp = Server::idp(&["--auto-session"])?;
    let state = random_token();
    let request = authorize_request(&idp, &held, &state, &state, Duration::from_secs(30));
    let t = Instant::now();
    let got = Webview::new(options())
        .capture(&request)
        .map_err(|e| format!("capture: {e}"))?
        .callback;
    println!("  start to capture: {} ms", t.elapsed().as_millis());
    check_code(&got, &held, &state)?;
    if idp.stat("authorize")? != 1 {
        return Err("expected one /authorize request".into());
    }
    held.assert_untouched()
}

/// The two-step login first (its forms post to the IdP, whose last answer redirects to
/// `/authorize`, which redirects to the callback): a chain of 302s after a form POST.
fn get_callback_after_two_step_login() -> CaseResult {
    let held = HeldPort::new();
    let idp = Server::idp(&["--autofill"])?;
    let state = random_token();
    let request = authorize_request(&idp, &held, &state, &state, Duration::from_secs(30));
    let got = Webview::new(options())
        .capture(&request)
        .map_err(|e| format!("capture: {e}"))?
        .callback;
    check_code(&got, &held, &state)?;
    let posts = idp.stat("login_posts")?;
    if posts < 2 {
        return Err(format!(
            "login_posts = {posts}, expected the two login forms"
        ));
    }
    if idp.stat("authorize")? != 2 {
        return Err("expected /authorize before and after the login".into());
    }
    held.assert_untouched()
}

/// A redirect whose `state` is not the one we expect is refused (`Callback::accepts`),
/// still blocked, and the wait goes on until the timeout.
fn get_callback_wrong_state_is_refused() -> CaseResult {
    let held = HeldPort::new();
    let idp = Server::idp(&["--auto-session"])?;
    let expected = random_token();
    let request = authorize_request(&idp, &held, "not-ours", &expected, Duration::from_secs(3));
    let before = ignored_ipc();
    match Webview::new(options()).capture(&request) {
        Err(CaptureError::Timeout(_)) => {}
        other => return Err(format!("expected a timeout, got {other:?}")),
    }
    if ignored_ipc() - before != 1 {
        return Err(format!(
            "expected one refused navigation, saw {}",
            ignored_ipc() - before
        ));
    }
    held.assert_untouched()
}

// ---------------------------------------------------------------------------------------
// Helpers

/// Warnings the webview printed on stderr (a refused message or navigation), each in the
/// one format of a warning (`saml-login: warning: ...`): a line in another format, or one
/// only `--verbose` would show, is not counted.
static IGNORED_IPC: AtomicUsize = AtomicUsize::new(0);

/// Of those, the ones refused by the origin check itself (issue 27: the forged-origin
/// case must be refused by that check, not by the token check after it).
static IGNORED_BY_ORIGIN: AtomicUsize = AtomicUsize::new(0);

/// Every text the reporter writes on stderr passes here too (it is still printed).
fn count_warnings(text: &str) {
    for line in text.lines() {
        if line.starts_with("saml-login: warning: ") {
            IGNORED_IPC.fetch_add(1, AtomicOrdering::SeqCst);
            if line.contains(": the sending page is not on the IdP's origin; still waiting") {
                IGNORED_BY_ORIGIN.fetch_add(1, AtomicOrdering::SeqCst);
            }
        }
    }
}

fn install_warning_counter() {
    saml_login_capture::report::observe(count_warnings);
}

fn ignored_ipc() -> usize {
    IGNORED_IPC.load(AtomicOrdering::SeqCst)
}

/// The window check's variables from this test process's environment (as the helper's
/// `main` reads them from its own).
fn window_vars() -> saml_login_capture::Vars {
    saml_login_capture::Vars::read(saml_login_webview::WINDOW_VARS, std::env::var_os)
}

/// The options of a throwaway-profile login.
fn options() -> WebviewOptions {
    WebviewOptions {
        window_vars: window_vars(),
        ..WebviewOptions::default()
    }
}

fn request_for(start_url: Url, callback: &str, timeout: Duration) -> LoginRequest {
    LoginRequest {
        start_url,
        callback: Callback::new(Method::Post, Url::parse(callback).unwrap()),
        timeout,
        cancel: Cancel::new(),
        title: "test".into(),
    }
}

/// pkce-login's request: `/authorize` on `idp` sending `sent_state`, and the GET callback
/// on the held port requiring `code` or `error` and `expected_state`.
fn authorize_request(
    idp: &Server,
    held: &HeldPort,
    sent_state: &str,
    expected_state: &str,
    timeout: Duration,
) -> LoginRequest {
    let mut start = idp.url("/authorize");
    start
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", "test-client")
        .append_pair("redirect_uri", &held.get_callback())
        .append_pair("scope", "openid profile")
        .append_pair("state", sent_state)
        .append_pair(
            "code_challenge",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
        )
        .append_pair("code_challenge_method", "S256");
    LoginRequest {
        start_url: start,
        callback: Callback::new(Method::Get, Url::parse(&held.get_callback()).unwrap())
            .requiring(&["code", "error"])
            .with_state("state", expected_state.to_string(), true),
        timeout,
        cancel: Cancel::new(),
        title: "test".into(),
    }
}

fn check_code(got: &Captured, held: &HeldPort, state: &str) -> CaseResult {
    if got.method != Method::Get {
        return Err(format!("method {:?}", got.method));
    }
    if got.url.port() != Some(held.port) || got.url.path() != "/callback" {
        return Err(format!(
            "captured url {}:{}",
            got.url.origin().ascii_serialization(),
            got.url.path()
        ));
    }
    let names: Vec<&str> = got.fields.iter().map(|(k, _)| k.as_str()).collect();
    if names != ["code", "state"] {
        return Err(format!("fields {names:?}"));
    }
    if got.field("code").unwrap().len() < 16 {
        return Err("the code is too short".into());
    }
    let got_state = got.field("state").unwrap().expose();
    if got_state != state {
        return Err(format!("state {got_state:?}, expected {state:?}"));
    }
    Ok(())
}

fn check_saml(got: &Captured, held: &HeldPort, relay: &str) -> CaseResult {
    if got.method != Method::Post {
        return Err(format!("method {:?}", got.method));
    }
    if got.url.port() != Some(held.port) || got.url.path() != "/saml" {
        return Err(format!("captured url {}", got.url));
    }
    let names: Vec<&str> = got.fields.iter().map(|(k, _)| k.as_str()).collect();
    if names != ["SAMLResponse", "RelayState"] {
        return Err(format!("fields {names:?}"));
    }
    let response = got.field("SAMLResponse").unwrap().expose();
    let xml = base64::engine::general_purpose::STANDARD
        .decode(response)
        .map_err(|e| format!("SAMLResponse is not base64: {e}"))?;
    let xml = String::from_utf8(xml).map_err(|e| e.to_string())?;
    if !xml.contains(ROLE) || !xml.contains("samlp:Response") {
        return Err("the SAMLResponse lacks the role".into());
    }
    let got_relay = got.field("RelayState").unwrap().expose();
    if got_relay != relay {
        return Err(format!("RelayState {got_relay:?}, expected {relay:?}"));
    }
    Ok(())
}

/// The profile directory is the user's alone: mode 0700 on Unix. (Windows has no modes;
/// what protects the directory there is the subject of SECURITY.md, not of this check.)
fn check_private(dir: &Path) -> CaseResult {
    let meta = std::fs::metadata(dir).map_err(|e| e.to_string())?;
    if !meta.is_dir() {
        return Err(format!("profile {} is not a directory", dir.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o777 != 0o700 {
            return Err(format!("profile dir mode {:o}", mode & 0o777));
        }
    }
    Ok(())
}

/// What a window manager does when the user clicks the close button: a WM_PROTOCOLS
/// client message with WM_DELETE_WINDOW (libX11 through Python's ctypes).
fn send_wm_delete(window_id: &str) -> bool {
    const SCRIPT: &str = r#"
import ctypes, sys
x = ctypes.cdll.LoadLibrary("libX11.so.6")
x.XOpenDisplay.restype = ctypes.c_void_p
x.XOpenDisplay.argtypes = [ctypes.c_char_p]
x.XInternAtom.restype = ctypes.c_ulong
x.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
x.XSendEvent.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p]
x.XFlush.argtypes = [ctypes.c_void_p]
x.XCloseDisplay.argtypes = [ctypes.c_void_p]
class ClientMessage(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
                ("display", ctypes.c_void_p), ("window", ctypes.c_ulong),
                ("message_type", ctypes.c_ulong), ("format", ctypes.c_int),
                ("data", ctypes.c_long * 5), ("pad", ctypes.c_long * 24)]
d = x.XOpenDisplay(None)
if not d:
    sys.exit("cannot open display")
w = int(sys.argv[1])
ev = ClientMessage()
ev.type = 33  # ClientMessage
ev.send_event = 1
ev.display = d
ev.window = w
ev.message_type = x.XInternAtom(d, b"WM_PROTOCOLS", 0)
ev.format = 32
ev.data[0] = x.XInternAtom(d, b"WM_DELETE_WINDOW", 0)
ev.data[1] = 0  # CurrentTime
if not x.XSendEvent(d, w, 0, 0, ctypes.byref(ev)):
    sys.exit("XSendEvent failed")
x.XFlush(d)
x.XCloseDisplay(d)
"#;
    Command::new("python3")
        .args(["-c", SCRIPT, window_id])
        .status()
        .is_ok_and(|s| s.success())
}

fn has_program(name: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(name).is_file()))
}

/// A bound socket on the callback port that never accepts: a connection to it would
/// show that the callback request left the webview.
struct HeldPort {
    listener: TcpListener,
    port: u16,
}

impl HeldPort {
    fn new() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().unwrap().port();
        Self { listener, port }
    }

    fn callback(&self) -> String {
        format!("http://localhost:{}/saml", self.port)
    }

    /// pkce-login's default callback on this port.
    fn get_callback(&self) -> String {
        format!("http://localhost:{}/callback", self.port)
    }

    fn assert_untouched(&self) -> CaseResult {
        match self.listener.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(()),
            Ok(_) => Err("a request reached the callback port".into()),
            Err(e) => Err(format!("accept: {e}")),
        }
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A child process that prints `listening on URL` first; killed on drop.
struct Server {
    child: Child,
    base: Url,
}

impl Server {
    fn spawn(mut cmd: Command) -> Result<Self, String> {
        let mut child = cmd
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("spawning {cmd:?}: {e}"))?;
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .map_err(|e| e.to_string())?;
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| format!("unexpected first line {line:?}"))?;
        let base = Url::parse(url).map_err(|e| e.to_string())?;
        Ok(Self { child, base })
    }

    fn idp(args: &[&str]) -> Result<Self, String> {
        let mut cmd = Command::new("python3");
        cmd.arg(repo_root().join("tests/support/idp.py"))
            .args(["--port", "0"])
            .args(args);
        Self::spawn(cmd)
    }

    fn url(&self, path_and_query: &str) -> Url {
        self.base.join(path_and_query).unwrap()
    }

    /// One counter of the IdP's `/stats`.
    fn stat(&self, name: &str) -> Result<u64, String> {
        let body = http_get(&self.url("/stats"))?;
        let json: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        json.get(name)
            .and_then(|v| v.as_u64())
            .ok_or_else(|| format!("no counter {name} in {body}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A static site on another port serving the forging pages (python's http.server).
struct Site {
    server: Server,
    _dir: tempfile::TempDir,
    log: PathBuf,
}

impl Site {
    fn new(callback: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let cb = serde_json::to_string(callback).unwrap();
        // The forged message: right shape, guessed token, aimed at the callback.
        let forged = |token: &str| {
            serde_json::json!({
                "token": token,
                "action": callback,
                "fields": [["SAMLResponse", "Zm9yZ2Vk"], ["RelayState", "forged"]],
            })
            .to_string()
        };
        let guess = serde_json::to_string(&forged(&random_token())).unwrap();
        let no_token = serde_json::to_string(
            &serde_json::json!({"action": callback, "fields": [["SAMLResponse", "Zm9yZ2Vk"]]})
                .to_string(),
        )
        .unwrap();
        let empty = serde_json::to_string(&forged("")).unwrap();
        let form = format!(
            "<form method=\"post\" action={cb}><input name=\"SAMLResponse\" value=\"Zm9yZ2Vk\"></form>"
        );
        let files = [
            (
                "start.html",
                "<html><body><script>\
                 location.href = location.href.replace('127.0.0.1', 'localhost').replace('start.html', 'evil.html');\
                 </script></body></html>"
                    .to_string(),
            ),
            (
                "evil.html",
                format!(
                    "<html><body>{form}<script>\
                     window.ipc.postMessage({guess});\
                     setTimeout(function () {{ document.forms[0].submit(); }}, 200);\
                     </script></body></html>"
                ),
            ),
            (
                "notoken.html",
                format!(
                    "<html><body><script>\
                     window.ipc.postMessage({no_token});\
                     window.ipc.postMessage({guess});\
                     window.ipc.postMessage({empty});\
                     window.ipc.postMessage('not json');\
                     </script></body></html>"
                ),
            ),
        ];
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).map_err(|e| e.to_string())?;
        }
        let log = dir.path().join("access.log");
        let script = "import http.server, socketserver, sys\n\
            import urllib.parse\n\
            class H(http.server.SimpleHTTPRequestHandler):\n\
            \x20   def do_GET(self):\n\
            \x20       u = urllib.parse.urlsplit(self.path)\n\
            \x20       if u.path != '/remember':\n\
            \x20           return super().do_GET()\n\
            \x20       q = dict(urllib.parse.parse_qsl(u.query))\n\
            \x20       self.send_response(302)\n\
            \x20       self.send_header('Set-Cookie', 'idp_session=%s; Path=/; Max-Age=3600; HttpOnly' % q['v'])\n\
            \x20       self.send_header('Location', q['next'])\n\
            \x20       self.send_header('Content-Length', '0')\n\
            \x20       self.end_headers()\n\
            \x20   def log_message(self, fmt, *a):\n\
            \x20       open(sys.argv[2], 'a').write((fmt % a) + '\\n')\n\
            s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), lambda *a: H(*a, directory=sys.argv[1]))\n\
            print('listening on http://127.0.0.1:%d' % s.server_address[1], flush=True)\n\
            s.serve_forever()\n";
        let mut cmd = Command::new("python3");
        cmd.arg("-c").arg(script).arg(dir.path()).arg(&log);
        let server = Server::spawn(cmd)?;
        Ok(Self {
            server,
            _dir: dir,
            log,
        })
    }

    fn url(&self, host: &str, path: &str) -> Url {
        let port = self.server.base.port().unwrap();
        Url::parse(&format!("http://{host}:{port}{path}")).unwrap()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn http_get(url: &Url) -> Result<String, String> {
    let addr = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {} HTTP/1.0\r\nHost: {}\r\n\r\n",
        url.path(),
        url.host_str().unwrap()
    )
    .map_err(|e| e.to_string())?;
    let mut out = String::new();
    s.read_to_string(&mut out).map_err(|e| e.to_string())?;
    out.split_once("\r\n\r\n")
        .map(|(_, body)| body.to_string())
        .ok_or_else(|| "no HTTP body".into())
}
