//! saml-login's headless Chromium browser.
//!
//! Runs the IdP login in a Chromium driven over the DevTools protocol (the
//! `headless_chrome` crate), with a fresh temporary profile, optional cookies from a jar
//! and optional service-account credentials for Auth0 Universal Login. The callback
//! request (the IdP's POST of `SAMLResponse`, or an OAuth redirect) is intercepted inside
//! Chromium with the Fetch domain and answered there, so nothing of ours listens on any
//! port and the callback port may be in use by another program.
//!
//! No browser is ever downloaded: [`find_chrome`] looks for an installed one, the
//! lightest first (the headless shell). After the capture Chromium is ended and its
//! profile removed in the background ([`saml_login_capture::teardown`]), so the answer
//! goes on at once.

mod discovery;

pub use discovery::{Build, Chromium, Search, find_chrome};

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use headless_chrome::browser::tab::{RequestInterceptor, RequestPausedDecision};
use headless_chrome::protocol::cdp::Fetch::{
    self, FulfillRequest, HeaderEntry, RequestPattern, RequestStage,
};
use headless_chrome::protocol::cdp::Network;
use headless_chrome::{Browser as Chrome, LaunchOptions, Tab};
use saml_login_capture::{
    Browser, CaptureError, Captured, Cookie, LoginRequest, MAX_BODY_BYTES, Secret,
};
use url::Url;

const NAME: &str = "headless Chromium";

/// How often the wait loop looks at the page, the clock and the cancel flag.
const POLL: Duration = Duration::from_millis(150);

/// How the headless login runs.
#[derive(Clone, Debug, Default)]
pub struct HeadlessOptions {
    /// The Chromium/Chrome binary (`--chrome PATH`); `None`: see [`find_chrome`].
    pub chrome: Option<PathBuf>,
    /// Cookies set in the fresh profile before the login page is opened (an IdP session).
    pub cookies: Vec<Cookie>,
    /// Show the browser window (`--show-browser`): the same Chromium, not headless.
    pub show_window: bool,
    /// Service-account username and password typed into Auth0 Universal Login.
    pub login: Option<(String, Secret)>,
}

/// The headless Chromium [`Browser`].
pub struct Headless {
    opts: HeadlessOptions,
    cookies: Vec<Cookie>,
    last_profile: Option<PathBuf>,
    last_pid: Option<u32>,
}

impl Headless {
    pub fn new(opts: HeadlessOptions) -> Self {
        Self {
            opts,
            cookies: Vec::new(),
            last_profile: None,
            last_pid: None,
        }
    }

    /// The temporary profile directory of the last capture (already removed), so tests
    /// can check that no Chromium process of that run is left.
    #[doc(hidden)]
    pub fn last_profile_dir(&self) -> Option<&Path> {
        self.last_profile.as_deref()
    }

    /// The process id of the last capture's Chromium, which is also the id of the
    /// process group holding it and all its helpers (on unix), so tests can check that
    /// none is left.
    #[doc(hidden)]
    pub fn last_process_id(&self) -> Option<u32> {
        self.last_pid
    }

    /// The browser's cookies, read after the last successful capture (before Chromium
    /// closed). Empty before a successful capture.
    pub fn cookies(&self) -> &[Cookie] {
        &self.cookies
    }
}

impl Browser for Headless {
    fn name(&self) -> &'static str {
        NAME
    }

    fn cookies(&self) -> Vec<Cookie> {
        self.cookies.clone()
    }

    fn capture(&mut self, request: &LoginRequest) -> Result<Captured, CaptureError> {
        let chrome = find_chrome(self.opts.chrome.as_deref(), self.opts.show_window)?;
        sweep_stale_profiles(&std::env::temp_dir());
        let profile = tempfile::Builder::new()
            .prefix(&format!("{PROFILE_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(|e| CaptureError::io("creating a temporary Chromium profile", e))?;
        self.last_profile = Some(profile.path().to_path_buf());
        self.last_pid = None;
        write_preferences(profile.path())?;
        let started = Instant::now();
        let browser = launch(&self.opts, &chrome, profile.path(), request)?;
        self.last_pid = browser.get_process_id();
        let result = drive(&browser, &self.opts, request);
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "login done in Chromium; ending it in the background"
        );
        saml_login_capture::teardown::spawn("chromium-teardown", move || {
            end(browser, profile);
        });
        let (captured, cookies) = result?;
        self.cookies = cookies;
        Ok(captured)
    }
}

/// Temporary profiles are `saml-login-chromium-PID-RANDOM` in the temp directory.
const PROFILE_PREFIX: &str = "saml-login-chromium-";

/// Removes the temporary profiles that a killed saml-login left behind (they hold the
/// IdP session cookie): this user's `saml-login-chromium-PID-*` directories whose PID
/// is no longer running. (Its Chromium is gone too: it exits when the DevTools pipe
/// closes.) Others' directories, live runs' and unparsable names are left alone.
#[cfg(unix)]
fn sweep_stale_profiles(temp: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    let me = rustix::process::geteuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(PROFILE_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
            .and_then(rustix::process::Pid::from_raw)
        else {
            continue;
        };
        // symlink_metadata: a symbolic link planted under that name is not followed.
        let ours =
            std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir() && m.uid() == me);
        let running = !matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        );
        if ours && !running {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => tracing::debug!(
                    dir = %entry.path().display(),
                    "removed the Chromium profile of a saml-login that was killed"
                ),
                Err(e) => tracing::debug!("could not remove a stale Chromium profile: {e}"),
            }
        }
    }
}

#[cfg(not(unix))]
fn sweep_stale_profiles(_temp: &Path) {}

/// Profile preferences: no network prediction, so Chromium opens no speculative
/// connection (to the callback port or anywhere else) before a request is intercepted.
fn write_preferences(profile: &Path) -> Result<(), CaptureError> {
    let dir = profile.join("Default");
    let prefs = r#"{"net":{"network_prediction_options":2},"search":{"suggest_enabled":false}}"#;
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("Preferences"), prefs))
        .map_err(|e| CaptureError::io("writing the temporary Chromium profile", e))
}

/// Whether this process runs as root (Chromium's sandbox refuses to start as root).
#[cfg(unix)]
fn running_as_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[cfg(not(unix))]
fn running_as_root() -> bool {
    false
}

/// What the interceptor hands to the wait loop.
enum Intercepted {
    Captured(Captured),
    TooLarge(usize),
}

/// Start Chromium on `profile`, connected over the DevTools pipe. A failed start leaves
/// no process: the crate kills what it started.
fn launch(
    opts: &HeadlessOptions,
    chrome: &Chromium,
    profile: &Path,
    request: &LoginRequest,
) -> Result<Chrome, CaptureError> {
    let as_root = running_as_root();
    let args: Vec<&std::ffi::OsStr> = [
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-default-apps",
        "--disable-extensions",
        "--metrics-recording-only",
        // No window or tab of its own: saml-login opens the one tab it drives (full
        // Chromium would otherwise load its new-tab page; the shell opens none at all).
        "--no-startup-window",
    ]
    .iter()
    .map(std::ffi::OsStr::new)
    .collect();
    // A callback off this machine (AWS's sign-in endpoint) is answered inside the
    // browser: its host must never be resolved either, not even by a speculative
    // lookup after the capture (seen in tests/any_idp.rs).
    let never_resolve = never_resolve_rule(&request.callback);
    let mut args = args;
    if let Some(rule) = &never_resolve {
        args.push(std::ffi::OsStr::new(rule));
    }
    let launch = LaunchOptions::default_builder()
        .path(Some(chrome.path.clone()))
        .headless(!opts.show_window)
        .sandbox(!as_root)
        .ignore_certificate_errors(false)
        .user_data_dir(Some(profile.to_path_buf()))
        .idle_browser_timeout(request.timeout + Duration::from_secs(60))
        // DevTools over a pipe, not a loopback port another local user could connect
        // to and drive the logged-in browser through (vendor/README.md).
        .pipe(cfg!(unix))
        // Chromium and its helpers in a process group of their own, ended at once.
        .process_group(true)
        .args(args)
        .build()
        .map_err(|e| CaptureError::browser(NAME, format!("bad launch options: {e}")))?;
    tracing::debug!(
        chrome = %chrome.path.display(),
        build = ?chrome.build,
        headless = !opts.show_window,
        sandbox = !as_root,
        "launching Chromium"
    );
    let launched = Instant::now();
    let browser = Chrome::new(launch).map_err(|e| {
        CaptureError::browser(
            NAME,
            format!("could not start {}: {e}", chrome.path.display()),
        )
    })?;
    tracing::debug!(
        elapsed_ms = launched.elapsed().as_millis() as u64,
        "Chromium is up (DevTools connected)"
    );
    Ok(browser)
}

fn drive(
    browser: &Chrome,
    opts: &HeadlessOptions,
    request: &LoginRequest,
) -> Result<(Captured, Vec<Cookie>), CaptureError> {
    let fail =
        |what: &str, e: &dyn std::fmt::Display| CaptureError::browser(NAME, format!("{what}: {e}"));
    let opened = Instant::now();
    let tab = browser
        .new_tab()
        .map_err(|e| fail("Chromium opened no tab", &e))?;
    tracing::debug!(
        elapsed_ms = opened.elapsed().as_millis() as u64,
        "tab opened"
    );

    if !opts.cookies.is_empty() {
        let params: Vec<Network::CookieParam> = opts.cookies.iter().map(cookie_param).collect();
        tab.set_cookies(params)
            .map_err(|e| fail("could not set the cookies from the cookie jar", &e))?;
        tracing::debug!(count = opts.cookies.len(), "cookies set");
    }

    let (tx, rx) = mpsc::channel::<Intercepted>();
    let tx = Mutex::new(tx);
    let callback = request.callback.clone();
    let interceptor = move |_transport, _session, event: Fetch::events::RequestPausedEvent| {
        let params = event.params;
        let url = Url::parse(&params.request.url);
        let matched = url
            .as_ref()
            .is_ok_and(|u| callback.matches(&params.request.method, u));
        if !matched {
            // The patterns cover the callback's whole origin: nothing else on it (the
            // favicon of the answer page) may reach whatever listens on that port.
            tracing::debug!(method = %params.request.method, "answering a non-callback request to the callback origin");
            return RequestPausedDecision::Fulfill(FulfillRequest {
                request_id: params.request_id,
                ..html_page(404, "Not found.")
            });
        }
        let url = url.expect("matched above");
        let body = request_body(&params.request);
        let (page, sent) = if body.len() > MAX_BODY_BYTES {
            (
                html_page(
                    413,
                    "The login response is too large; saml-login refused it.",
                ),
                Intercepted::TooLarge(body.len()),
            )
        } else {
            let captured = Captured::from_request(&callback, url, &body);
            if let Err(why) = callback.accepts(&captured) {
                // Not ours (a foreign RelayState/state, no SAMLResponse/code): refuse it
                // in the browser and keep waiting, as the loopback server does.
                tracing::warn!("refused a callback request: {why}");
                return RequestPausedDecision::Fulfill(FulfillRequest {
                    request_id: params.request_id,
                    ..html_page(400, "saml-login refused this request.")
                });
            }
            (
                html_page(
                    200,
                    "saml-login has the response; this window can be closed.",
                ),
                Intercepted::Captured(captured),
            )
        };
        if let Ok(tx) = tx.lock() {
            let _ = tx.send(sent);
        }
        RequestPausedDecision::Fulfill(FulfillRequest {
            request_id: params.request_id,
            ..page
        })
    };
    let patterns = callback_patterns(&request.callback);
    tab.enable_fetch(Some(&patterns), None)
        .map_err(|e| fail("could not enable request interception", &e))?;
    tab.enable_request_interception(
        Arc::new(interceptor) as Arc<dyn RequestInterceptor + Send + Sync>
    )
    .map_err(|e| fail("could not enable request interception", &e))?;

    let host = request
        .start_url
        .host_str()
        .unwrap_or("the IdP")
        .to_string();
    tracing::debug!(host = %host, "opening the login page");
    if let Err(e) = tab.navigate_to(request.start_url.as_str()) {
        return Err(navigation_error(&host, &e.to_string()));
    }

    let started = Instant::now();
    let deadline = request.deadline(started);
    let mut login = LoginState::default();
    loop {
        match rx.recv_timeout(POLL) {
            Ok(Intercepted::Captured(captured)) => {
                tracing::debug!(
                    method = captured.method.as_str(),
                    fields = captured.fields.len(),
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "callback captured"
                );
                let cookies = read_cookies(&tab);
                return Ok((captured, cookies));
            }
            Ok(Intercepted::TooLarge(len)) => {
                return Err(CaptureError::browser(
                    NAME,
                    format!(
                        "the callback request body is {len} bytes, more than the {MAX_BODY_BYTES} accepted"
                    ),
                ));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(CaptureError::browser(
                    NAME,
                    "Chromium stopped intercepting requests",
                ));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if request.cancel.is_cancelled() {
            return Err(CaptureError::Cancelled);
        }
        if Instant::now() >= deadline {
            return Err(CaptureError::Timeout(request.timeout));
        }
        let page = match page_state(&tab) {
            Ok(page) => page,
            Err(e) => {
                // A page between documents cannot be evaluated; a dead browser cannot
                // answer anything.
                if browser.get_version().is_err() {
                    return Err(CaptureError::browser(
                        NAME,
                        format!("Chromium exited or crashed during the login ({e})"),
                    ));
                }
                continue;
            }
        };
        if let Some(failed) = page.error_url.as_deref() {
            let failed_host = Url::parse(failed)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| host.clone());
            return Err(navigation_error(
                &failed_host,
                "the page could not be loaded",
            ));
        }
        if page.submitted || !(page.password || page.username) {
            continue;
        }
        let Some((user, password)) = opts.login.as_ref() else {
            return Err(CaptureError::SessionExpired(
                "the IdP asks for a login and no credentials are configured. Refresh the \
                 cookie jar with `saml-login --headless --show-browser --save-cookies FILE \
                 get-token`, or set SAML_LOGIN_USERNAME and SAML_LOGIN_PASSWORD"
                    .into(),
            ));
        };
        login.step(&tab, &page, user, password)?;
    }
}

/// The parts of the current page the wait loop looks at.
#[derive(Debug)]
struct PageState {
    password: bool,
    username: bool,
    /// Set on a document where saml-login already submitted the form.
    submitted: bool,
    /// The URL of a failed navigation (Chromium's error page).
    error_url: Option<String>,
}

const PAGE_STATE_JS: &str = r#"JSON.stringify({
  password: !!document.querySelector('input[type=password]'),
  username: !!document.querySelector('input[name=username]'),
  submitted: !!window.__samlLoginSubmitted,
  error: location.href.startsWith('chrome-error:') ? (document.URL || '') : null,
  ready: document.readyState
})"#;

fn page_state(tab: &Tab) -> Result<PageState, String> {
    let result = tab
        .evaluate(PAGE_STATE_JS, false)
        .map_err(|e| e.to_string())?;
    let text = result
        .value
        .as_ref()
        .and_then(|v| v.as_str())
        .ok_or("no page state")?;
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let error_url = v["error"].as_str().map(|_| tab.get_url());
    Ok(PageState {
        password: v["password"].as_bool().unwrap_or(false),
        username: v["username"].as_bool().unwrap_or(false),
        submitted: v["submitted"].as_bool().unwrap_or(false),
        error_url,
    })
}

/// Fills Auth0 Universal Login: the identifier step, then the password step.
#[derive(Default)]
struct LoginState {
    identifier_submitted: u32,
    password_submitted: u32,
}

/// Sets an input's value as typing would (the value is a call argument, never part of
/// the script text), then marks the document as submitted.
const FILL_JS: &str = r#"function (value) {
  this.focus();
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  setter.call(this, value);
  this.dispatchEvent(new Event('input', { bubbles: true }));
  this.dispatchEvent(new Event('change', { bubbles: true }));
}"#;

const SUBMIT_JS: &str = r#"function () {
  window.__samlLoginSubmitted = true;
  const form = this.form;
  const button = form && (form.querySelector('button[type=submit][name=action][value=default]')
    || form.querySelector('button[type=submit], input[type=submit]'));
  if (button) { button.click(); }
  else if (form && form.requestSubmit) { form.requestSubmit(); }
  else if (form) { form.submit(); }
}"#;

impl LoginState {
    fn step(
        &mut self,
        tab: &Tab,
        page: &PageState,
        user: &str,
        password: &Secret,
    ) -> Result<(), CaptureError> {
        let js_err = |what: &str| {
            CaptureError::browser(NAME, format!("could not fill the login form ({what})"))
        };
        if page.password {
            if self.password_submitted > 0 {
                return Err(CaptureError::browser(
                    NAME,
                    format!(
                        "the IdP rejected the password for user `{user}` (the password form came back)"
                    ),
                ));
            }
            // Auth0 repeats the username (read-only) on the password page; fill it only
            // when it is an empty, editable field (a one-page login form).
            if let Ok(input) =
                tab.find_element("input[name=username]:not([readonly]):not([type=hidden])")
            {
                let empty = input
                    .call_js_fn("function () { return this.value === ''; }", vec![], false)
                    .ok()
                    .and_then(|r| r.value)
                    .and_then(|v| v.as_bool())
                    .unwrap_or(false);
                if empty {
                    input
                        .call_js_fn(FILL_JS, vec![serde_json::Value::from(user)], false)
                        .map_err(|_| js_err("username"))?;
                }
            }
            let input = tab
                .find_element("input[type=password]")
                .map_err(|_| js_err("password field"))?;
            input
                .call_js_fn(
                    FILL_JS,
                    vec![serde_json::Value::from(password.expose())],
                    false,
                )
                .map_err(|_| js_err("password"))?;
            input
                .call_js_fn(SUBMIT_JS, vec![], false)
                .map_err(|_| js_err("submit"))?;
            self.password_submitted += 1;
            tracing::debug!("password step submitted");
        } else if page.username {
            if self.identifier_submitted > 0 {
                return Err(CaptureError::browser(
                    NAME,
                    format!(
                        "the IdP did not accept the username `{user}` (the username form came back)"
                    ),
                ));
            }
            let input = tab
                .find_element("input[name=username]")
                .map_err(|_| js_err("username field"))?;
            input
                .call_js_fn(FILL_JS, vec![serde_json::Value::from(user)], false)
                .map_err(|_| js_err("username"))?;
            input
                .call_js_fn(SUBMIT_JS, vec![], false)
                .map_err(|_| js_err("submit"))?;
            self.identifier_submitted += 1;
            tracing::debug!("identifier step submitted");
        }
        Ok(())
    }
}

fn navigation_error(host: &str, detail: &str) -> CaptureError {
    CaptureError::browser(
        NAME,
        format!(
            "could not open the login page on {host} ({detail}); check the IdP URL and the network"
        ),
    )
}

/// URL patterns (Fetch domain syntax: `*`, `?`, `\` escapes) that catch every request to
/// the callback's origin; every loopback name when the callback is on loopback.
fn callback_patterns(callback: &saml_login_capture::Callback) -> Vec<RequestPattern> {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('?', "\\?");
    callback
        .intercept_hosts()
        .iter()
        .map(|host| RequestPattern {
            url_pattern: Some(format!("{}://{}/*", callback.url.scheme(), escape(host))),
            resource_Type: None,
            request_stage: Some(RequestStage::Request),
        })
        .collect()
}

/// `--host-resolver-rules` that make Chromium's resolver fail every callback host at
/// once without asking DNS, when the callback is not on this machine.
fn never_resolve_rule(callback: &saml_login_capture::Callback) -> Option<String> {
    if callback.is_loopback() {
        return None;
    }
    let rules: Vec<String> = callback
        .intercept_hosts()
        .iter()
        .map(|h| {
            h.rsplit_once(':')
                .map_or(h.as_str(), |(host, _)| host)
                .to_owned()
        })
        .map(|h| format!("MAP {h} ~NOTFOUND"))
        .collect();
    Some(format!("--host-resolver-rules={}", rules.join(", ")))
}

/// The request body as Chromium reported it.
fn request_body(request: &Network::Request) -> Vec<u8> {
    if let Some(data) = &request.post_data {
        return data.as_bytes().to_vec();
    }
    let mut body = Vec::new();
    for entry in request.post_data_entries.iter().flatten() {
        if let Some(bytes) = entry.bytes.as_deref()
            && let Some(decoded) = base64_decode(bytes)
        {
            body.extend(decoded);
        }
    }
    body
}

fn html_page(status: u32, message: &str) -> FulfillRequest {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>saml-login</title></head>\
         <body><p>{message}</p></body></html>"
    );
    FulfillRequest {
        request_id: String::new(),
        response_code: status,
        response_headers: Some(vec![
            HeaderEntry {
                name: "Content-Type".into(),
                value: "text/html; charset=utf-8".into(),
            },
            HeaderEntry {
                name: "Cache-Control".into(),
                value: "no-store".into(),
            },
        ]),
        binary_response_headers: None,
        body: Some(base64_encode(html.as_bytes())),
        response_phrase: None,
    }
}

fn cookie_param(c: &Cookie) -> Network::CookieParam {
    let host_only = !c.domain.starts_with('.');
    let scheme = if c.secure { "https" } else { "http" };
    Network::CookieParam {
        name: c.name.clone(),
        value: c.value.expose().to_string(),
        // A host-only cookie is set through a URL (a `domain` would make it a domain
        // cookie); a domain cookie keeps its leading dot.
        url: host_only.then(|| format!("{scheme}://{}{}", c.domain, c.path)),
        domain: (!host_only).then(|| c.domain.clone()),
        path: Some(c.path.clone()),
        secure: Some(c.secure),
        http_only: Some(c.http_only),
        same_site: None,
        expires: c.expires.map(|e| e as f64),
        priority: None,
        same_party: None,
        source_scheme: None,
        source_port: None,
        partition_key: None,
    }
}

/// All of the browser's cookies (not only the current page's).
fn read_cookies(tab: &Tab) -> Vec<Cookie> {
    match tab.call_method(Network::GetAllCookies(None)) {
        Ok(all) => all
            .cookies
            .into_iter()
            .map(|c| Cookie {
                name: c.name,
                value: Secret::new(c.value),
                domain: c.domain,
                path: c.path,
                expires: (!c.session && c.expires > 0.0).then_some(c.expires as i64),
                secure: c.secure,
                http_only: c.http_only,
            })
            .collect(),
        Err(e) => {
            tracing::debug!("could not read the browser's cookies: {e}");
            Vec::new()
        }
    }
}

/// Ends Chromium and removes its profile (on the teardown thread, see
/// [`saml_login_capture::teardown`]). On unix the whole process group goes at once with
/// SIGKILL: nothing of the profile is kept, so nothing needs saving. On Linux
/// saml-login is the helpers' subreaper meanwhile and reaps them (where PID 1 does not,
/// they would stay zombies).
fn end(browser: Chrome, profile: tempfile::TempDir) {
    let started = Instant::now();
    let pid = browser.get_process_id();
    // Elsewhere (and should the group be unknown), the crate's own end: close the
    // browser, kill the process and wait for it.
    #[cfg(unix)]
    match pid.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
        Some(group) => process_group::end(group, browser),
        None => drop(browser),
    }
    #[cfg(not(unix))]
    drop(browser);
    if let Err(e) = profile.close() {
        tracing::debug!("could not remove the temporary Chromium profile: {e}");
    }
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        pid,
        "Chromium ended and its profile removed"
    );
}

#[cfg(unix)]
mod process_group {
    use std::time::{Duration, Instant};

    use rustix::process::{Pid, Signal, kill_process_group};

    /// How long the helpers may take to die after SIGKILL before saml-login gives up
    /// waiting (they are normally gone within milliseconds).
    const LIMIT: Duration = Duration::from_secs(5);

    /// Kills the process group `group` (Chromium and its helpers), drops the crate's
    /// browser (which reaps the main process) and waits until no process of the group
    /// is left.
    pub(super) fn end(group: Pid, browser: super::Chrome) {
        #[cfg(target_os = "linux")]
        let reaper = rustix::process::set_child_subreaper(Some(rustix::process::getpid())).is_ok();
        if let Err(e) = kill_process_group(group, Signal::KILL) {
            tracing::debug!("could not kill Chromium's process group: {e}");
        }
        // The crate's drop asks the dead browser to close (the pipe is gone: it fails
        // at once), kills its process and waits for it.
        let killed = Instant::now();
        drop(browser);
        tracing::debug!(
            elapsed_ms = killed.elapsed().as_millis() as u64,
            "Chromium's main process is gone"
        );
        let until = Instant::now() + LIMIT;
        #[cfg(target_os = "linux")]
        if reaper {
            reap(group, until);
            let _ = rustix::process::set_child_subreaper(None);
            return;
        }
        // Without a subreaper: until the group is empty (zombies count: ask the system
        // to reap them).
        while rustix::process::test_kill_process_group(group).is_ok() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Reaps the group's processes as they come to saml-login (their parents died
    /// first), until none of the group is left among its children.
    #[cfg(target_os = "linux")]
    fn reap(group: Pid, until: Instant) {
        use rustix::process::{WaitOptions, waitpgid};
        while Instant::now() < until {
            match waitpgid(group, WaitOptions::NOHANG) {
                // One reaped: look again at once.
                Ok(Some(_)) => {}
                // Some still dying: they come to us when they (or their parents) die.
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                // None left (ECHILD).
                Err(_) => return,
            }
        }
        tracing::debug!("Chromium helper processes still running after {LIMIT:?}");
    }
}

fn base64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let compact: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use saml_login_capture::{Callback, Method};

    #[test]
    fn base64_round_trip() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let e = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&e).unwrap(), s.as_bytes());
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
    }

    #[test]
    fn loopback_callback_patterns_cover_every_name() {
        let post = |u: &str| Callback::new(Method::Post, Url::parse(u).unwrap());
        let p = callback_patterns(&post("http://localhost:12200/saml"));
        let p: Vec<_> = p.into_iter().map(|p| p.url_pattern.unwrap()).collect();
        assert_eq!(
            p,
            [
                "http://localhost:12200/*",
                "http://127.0.0.1:12200/*",
                "http://[::1]:12200/*"
            ]
        );
        let p = callback_patterns(&post("https://idp.example/saml"));
        assert_eq!(p[0].url_pattern.as_deref(), Some("https://idp.example/*"));
        let p = callback_patterns(&Callback::aws_signin(Method::Post));
        let p: Vec<_> = p.into_iter().map(|p| p.url_pattern.unwrap()).collect();
        assert!(
            p.contains(&"https://signin.aws.amazon.com/*".to_owned()),
            "{p:?}"
        );
        assert!(
            p.contains(&"https://*.signin.aws.amazon.com/*".to_owned()),
            "{p:?}"
        );
        assert!(
            p.contains(&"https://*.signin.amazonaws.cn/*".to_owned()),
            "{p:?}"
        );
    }

    #[test]
    fn callback_hosts_are_never_resolved() {
        let aws = never_resolve_rule(&Callback::aws_signin(Method::Post)).unwrap();
        assert!(aws.contains("MAP signin.aws.amazon.com ~NOTFOUND"), "{aws}");
        assert!(aws.contains("MAP *.signin.amazonaws.cn ~NOTFOUND"), "{aws}");
        let loopback = Callback::new(
            Method::Post,
            Url::parse("http://localhost:12200/saml").unwrap(),
        );
        assert_eq!(never_resolve_rule(&loopback), None);
        let other = Callback::new(
            Method::Post,
            Url::parse("https://sso.example:8443/acs").unwrap(),
        );
        assert_eq!(
            never_resolve_rule(&other).unwrap(),
            "--host-resolver-rules=MAP sso.example ~NOTFOUND"
        );
    }

    #[test]
    fn host_only_and_domain_cookies() {
        let mut c = Cookie {
            name: "n".into(),
            value: Secret::new("v"),
            domain: "127.0.0.1".into(),
            path: "/".into(),
            expires: None,
            secure: false,
            http_only: true,
        };
        let p = cookie_param(&c);
        assert_eq!(p.url.as_deref(), Some("http://127.0.0.1/"));
        assert_eq!(p.domain, None);
        c.domain = ".example.com".into();
        let p = cookie_param(&c);
        assert_eq!(p.url, None);
        assert_eq!(p.domain.as_deref(), Some(".example.com"));
    }
}
