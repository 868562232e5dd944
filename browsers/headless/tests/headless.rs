//! End-to-end tests: real Chromium against the test IdP (`tests/support/idp.py`).
//! They fail, not skip, when Chromium or python3 is missing.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use saml_login_capture::{
    Browser, Callback, Cancel, CaptureError, Cookie, LoginRequest, Method, Secret,
};
use saml_login_headless::{Build, Headless, HeadlessOptions};
use url::Url;

/// One Chromium at a time: the machine has two cores and some tests measure time.
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The test IdP, killed on drop.
struct Idp {
    child: Child,
    url: Url,
}

impl Idp {
    fn start(args: &[&str]) -> Self {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/support/idp.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .args(["--port", "0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run python3 {}: {e}", script.display()));
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from idp.py: {line:?}"));
        Self {
            child,
            url: Url::parse(url).unwrap(),
        }
    }

    fn stats(&self) -> serde_json::Value {
        let addr = format!(
            "{}:{}",
            self.url.host_str().unwrap(),
            self.url.port().unwrap()
        );
        let mut s = TcpStream::connect(addr).unwrap();
        write!(s, "GET /stats HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = text.split("\r\n\r\n").nth(1).unwrap();
        serde_json::from_str(body).unwrap()
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A callback port, held by a listening socket of the test for the whole run.
fn callback_listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.set_nonblocking(true).unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

fn request(idp: &Idp, callback_port: u16, timeout: Duration) -> LoginRequest {
    LoginRequest {
        start_url: idp
            .url
            .join("/samlp/test-client?RelayState=relay-123")
            .unwrap(),
        callback: Callback::new(
            Method::Post,
            Url::parse(&format!("http://localhost:{callback_port}/saml")).unwrap(),
        ),
        timeout,
        cancel: Cancel::new(),
        title: "test".into(),
    }
}

fn callback_arg(port: u16) -> String {
    format!("http://localhost:{port}/saml")
}

fn session_cookie(value: &str) -> Cookie {
    Cookie {
        name: "idp_session".into(),
        value: Secret::new(value),
        domain: "127.0.0.1".into(),
        path: "/".into(),
        expires: None,
        secure: false,
        http_only: true,
    }
}

/// Both builds of Chromium the tests run with: the headless shell and full Chromium
/// (the README's test command installs both).
fn both_chromiums() -> [PathBuf; 2] {
    let shell = saml_login_headless::find_chrome(None, false, &this_process_vars())
        .expect("Chromium is required for these tests (Debian: apt-get install chromium chromium-headless-shell)");
    assert_eq!(
        shell.build,
        Build::HeadlessShell,
        "the headless shell is required for these tests (Debian: apt-get install chromium-headless-shell); found {}",
        shell.path.display()
    );
    let full = saml_login_headless::find_chrome(None, true, &this_process_vars())
        .expect("full Chromium is required for these tests (Debian: apt-get install chromium)");
    assert_eq!(full.build, Build::Full);
    [shell.path, full.path]
}

/// Runs `test` with each Chromium build, saying which on failure.
fn with_each_chromium(test: impl Fn(&Path)) {
    for chrome in both_chromiums() {
        eprintln!("with {}", chrome.display());
        test(&chrome);
    }
}

fn headless(cookies: Vec<Cookie>, login: Option<(&str, &str)>) -> Headless {
    headless_with(None, cookies, login)
}

fn headless_with(
    chrome: Option<&Path>,
    cookies: Vec<Cookie>,
    login: Option<(&str, &str)>,
) -> Headless {
    Headless::new(HeadlessOptions {
        chrome: chrome.map(Path::to_path_buf),
        cookies,
        show_window: false,
        login: login.map(|(u, p)| (u.to_string(), Secret::new(p))),
        vars: this_process_vars(),
        ..Default::default()
    })
}

/// The variables the Chromium search reads, from this test process's environment (as
/// saml-login's resolver reads them from its own).
fn this_process_vars() -> saml_login_capture::Vars {
    saml_login_capture::Vars::read(saml_login_headless::SEARCH_VARS, std::env::var_os)
}

/// Once the background teardown is done, no process of the run is left (none with the
/// profile on its command line, none in Chromium's process group: the shell's helpers
/// do not name the profile) and its profile directory is gone.
fn assert_cleaned_up(browser: &Headless) {
    saml_login_capture::teardown::finish();
    let profile = browser.last_profile_dir().expect("a capture ran");
    let group = browser.last_process_id().expect("Chromium ran");
    let in_group: Vec<String> = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|stat| {
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .unwrap()
                .1
                .split_whitespace()
                .collect();
            fields[2] == group.to_string()
        })
        .collect();
    assert!(
        in_group.is_empty(),
        "processes (zombies included) left in Chromium's group: {in_group:?}"
    );
    let needle = profile.to_string_lossy().into_owned();
    let mut left = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmd) = std::fs::read(entry.path().join("cmdline"))
            && String::from_utf8_lossy(&cmd).contains(&needle)
        {
            left.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    assert!(left.is_empty(), "Chromium processes left: {left:?}");
    assert!(!profile.exists(), "profile left: {}", profile.display());
}

#[test]
fn auto_session_capture_while_the_callback_port_is_taken() {
    let _g = serial();
    with_each_chromium(auto_session_capture_with);
}

fn auto_session_capture_with(chrome: &Path) {
    let (listener, port) = callback_listener();
    let idp = Idp::start(&["--auto-session", "--callback", &callback_arg(port)]);
    let mut browser = headless_with(Some(chrome), vec![], None);
    assert_eq!(browser.name(), "headless Chromium");
    let started = Instant::now();
    let got = browser
        .capture(&request(&idp, port, Duration::from_secs(60)))
        .unwrap()
        .callback;
    eprintln!("capture took {:?}", started.elapsed());
    assert_eq!(got.method, Method::Post);
    assert_eq!(got.url.port(), Some(port));
    assert_eq!(got.url.path(), "/saml");
    assert!(got.field("SAMLResponse").unwrap().len() > 100);
    assert_eq!(got.field("RelayState").unwrap().expose(), "relay-123");
    // The request never reached the socket on the callback port.
    if let Ok((mut s, _)) = listener.accept() {
        s.set_nonblocking(false).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut buf = Vec::new();
        let r = s.read_to_end(&mut buf);
        panic!(
            "Chromium connected to the callback port (read {r:?}: {:?})",
            String::from_utf8_lossy(&buf)
        );
    }
    assert_cleaned_up(&browser);
}

#[test]
fn a_valid_session_cookie_needs_no_login() {
    let _g = serial();
    with_each_chromium(valid_session_cookie_with);
}

fn valid_session_cookie_with(chrome: &Path) {
    let (_listener, port) = callback_listener();
    let idp = Idp::start(&[
        "--session-cookie",
        "good-session-1",
        "--callback",
        &callback_arg(port),
    ]);
    let mut browser = headless_with(Some(chrome), vec![session_cookie("good-session-1")], None);
    let got = browser
        .capture(&request(&idp, port, Duration::from_secs(60)))
        .unwrap()
        .callback;
    assert_eq!(got.field("RelayState").unwrap().expose(), "relay-123");
    assert!(got.field("SAMLResponse").is_some());
    let stats = idp.stats();
    assert_eq!(stats["login_posts"], 0, "{stats}");
    assert_eq!(stats["samlp"], 1, "{stats}");
    assert_cleaned_up(&browser);
}

#[test]
fn an_expired_session_cookie_fails_fast_without_credentials() {
    let _g = serial();
    with_each_chromium(expired_session_cookie_with);
}

fn expired_session_cookie_with(chrome: &Path) {
    let (_listener, port) = callback_listener();
    let idp = Idp::start(&[
        "--session-cookie",
        "good-session-1",
        "--callback",
        &callback_arg(port),
    ]);
    let mut browser = headless_with(Some(chrome), vec![session_cookie("stale-session")], None);
    let started = Instant::now();
    let err = browser
        .capture(&request(&idp, port, Duration::from_secs(60)))
        .unwrap_err();
    let took = started.elapsed();
    assert!(matches!(err, CaptureError::SessionExpired(_)), "{err:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    let msg = err.to_string();
    assert!(msg.contains("--save-cookies"), "{msg}");
    assert!(!msg.contains("stale-session"), "{msg}");
    assert_cleaned_up(&browser);
}

#[test]
fn username_and_password_fill_both_login_steps() {
    let _g = serial();
    with_each_chromium(username_and_password_with);
}

fn username_and_password_with(chrome: &Path) {
    let (_listener, port) = callback_listener();
    let idp = Idp::start(&["--callback", &callback_arg(port)]);
    let mut browser = headless_with(Some(chrome), vec![], Some(("alice", "correct-horse")));
    let started = Instant::now();
    let login = browser
        .capture(&request(&idp, port, Duration::from_secs(60)))
        .unwrap();
    let got = &login.callback;
    eprintln!("login + capture took {:?}", started.elapsed());
    assert_eq!(got.field("RelayState").unwrap().expose(), "relay-123");
    let stats = idp.stats();
    assert_eq!(stats["login_posts"], 2, "{stats}");
    // The browser's cookies after the capture hold the new IdP session.
    let session = login
        .cookies
        .iter()
        .find(|c| c.name == "idp_session")
        .expect("idp_session cookie");
    assert_eq!(session.domain, "127.0.0.1");
    assert!(!session.value.is_empty());
    let idp_host = idp.url.host_str().unwrap();
    assert!(
        saml_login_capture::cookies::filter_for_host(&login.cookies, idp_host)
            .iter()
            .any(|c| c.name == "idp_session")
    );
    assert_cleaned_up(&browser);
}

#[test]
fn a_wrong_password_fails_without_showing_it() {
    let _g = serial();
    let (_listener, port) = callback_listener();
    let idp = Idp::start(&["--callback", &callback_arg(port)]);
    let mut browser = headless(vec![], Some(("alice", "Wr0ng-Passw0rd-XYZ")));
    let started = Instant::now();
    let err = browser
        .capture(&request(&idp, port, Duration::from_secs(60)))
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(20));
    let msg = err.to_string();
    let debug = format!("{err:?}");
    assert!(
        msg.contains("the IdP rejected the login of `alice`"),
        "{msg}"
    );
    assert!(!msg.contains("Wr0ng-Passw0rd-XYZ") && !debug.contains("Wr0ng-Passw0rd-XYZ"));
    assert_cleaned_up(&browser);
}

#[test]
fn no_callback_in_time_is_a_timeout() {
    let _g = serial();
    let (_listener, port) = callback_listener();
    let idp = Idp::start(&["--auto-session", "--callback", &callback_arg(port)]);
    let mut req = request(&idp, port, Duration::from_secs(3));
    req.start_url = idp.url.join("/healthz").unwrap(); // a page that never posts
    let mut browser = headless(vec![], None);
    let started = Instant::now();
    let err = browser.capture(&req).unwrap_err();
    assert!(
        matches!(err, CaptureError::Timeout(t) if t == Duration::from_secs(3)),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(15));
    assert_cleaned_up(&browser);
}

#[test]
fn cancel_stops_the_wait() {
    let _g = serial();
    let (_listener, port) = callback_listener();
    let idp = Idp::start(&["--auto-session", "--callback", &callback_arg(port)]);
    let mut req = request(&idp, port, Duration::from_secs(60));
    req.start_url = idp.url.join("/healthz").unwrap();
    let cancel = req.cancel.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        cancel.cancel();
    });
    let mut browser = headless(vec![], None);
    let err = browser.capture(&req).unwrap_err();
    t.join().unwrap();
    assert!(matches!(err, CaptureError::Cancelled), "{err:?}");
    assert_cleaned_up(&browser);
}

#[test]
fn an_unreachable_idp_is_a_clear_error() {
    let _g = serial();
    // A port with nothing listening on it.
    let dead = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let req = LoginRequest {
        start_url: Url::parse(&format!("http://127.0.0.1:{dead}/samlp/test-client")).unwrap(),
        callback: Callback::new(
            Method::Post,
            Url::parse("http://localhost:12200/saml").unwrap(),
        ),
        timeout: Duration::from_secs(30),
        cancel: Cancel::new(),
        title: "test".into(),
    };
    let mut browser = headless(vec![], None);
    let started = Instant::now();
    let err = browser.capture(&req).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(15));
    let msg = err.to_string();
    assert!(matches!(err, CaptureError::Browser { .. }), "{err:?}");
    assert!(msg.contains("127.0.0.1"), "{msg}");
    assert!(msg.contains("CONNECTION_REFUSED"), "{msg}");
    assert_cleaned_up(&browser);
}

#[test]
fn a_missing_chrome_is_not_available() {
    let mut browser = Headless::new(HeadlessOptions {
        chrome: Some("/nonexistent/chromium".into()),
        ..Default::default()
    });
    let req = LoginRequest {
        start_url: Url::parse("http://127.0.0.1:1/").unwrap(),
        callback: Callback::new(Method::Post, Url::parse("http://localhost:1/saml").unwrap()),
        timeout: Duration::from_secs(1),
        cancel: Cancel::new(),
        title: "test".into(),
    };
    let err = browser.capture(&req).unwrap_err();
    assert!(matches!(err, CaptureError::NotAvailable(_)), "{err:?}");
}

#[test]
fn both_chromium_builds_are_installed() {
    // The headless tests need the shell and full Chromium; say so plainly instead of
    // skipping.
    both_chromiums();
}

/// The headless shell opens no tab of its own: a capture that waited for one took 10 s
/// (the crate's wait for a first tab), where the shell itself starts and loads the page
/// in a fraction of a second.
#[test]
fn the_headless_shell_captures_without_waiting_for_a_first_tab() {
    let _g = serial();
    let [shell, _] = both_chromiums();
    let (_listener, port) = callback_listener();
    let idp = Idp::start(&[
        "--session-cookie",
        "good-session-1",
        "--callback",
        &callback_arg(port),
    ]);
    let mut browser = headless_with(Some(&shell), vec![session_cookie("good-session-1")], None);
    let started = Instant::now();
    let got = browser
        .capture(&request(&idp, port, Duration::from_secs(60)))
        .unwrap()
        .callback;
    let took = started.elapsed();
    assert!(got.field("SAMLResponse").is_some());
    assert!(took < Duration::from_secs(5), "the capture took {took:?}");
    assert_cleaned_up(&browser);
}
