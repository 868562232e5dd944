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
use saml_login_capture::job::{self, Job};
use saml_login_capture::{
    Browser, CaptureError, Captured, Cookie, LoginRequest, MAX_BODY_BYTES, Secret,
};
use url::Url;

mod login_form;

use login_form::{
    LoginState, STALL, Stillness, no_login, page_state, rejected, waits_for_a_person,
};

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
        // Also removes the profiles of killed runs (they hold the IdP session cookie).
        let profile = saml_login_capture::private_temp_dir(PROFILE_PREFIX)
            .map_err(|e| CaptureError::io("creating a temporary Chromium profile", e))?;
        self.last_profile = Some(profile.path().to_path_buf());
        self.last_pid = None;
        write_preferences(profile.path())?;
        let started = Instant::now();
        let browser = launch(&self.opts, &chrome, profile.path(), request)?;
        self.last_pid = browser.get_process_id();
        // Windows: Chromium and the helpers it starts die with saml-login (a no-op elsewhere).
        let job = self
            .last_pid
            .and_then(|pid| job::for_child(pid, "Chromium"));
        let result = drive(&browser, &self.opts, request);
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "login done in Chromium; ending it in the background"
        );
        saml_login_capture::teardown::spawn("chromium-teardown", move || {
            end(browser, profile, job);
        });
        let (captured, cookies) = result?;
        self.cookies = cookies;
        Ok(captured)
    }
}

/// Temporary profiles are `saml-login-chromium-PID-RANDOM` in the temp directory.
const PROFILE_PREFIX: &str = "saml-login-chromium-";

/// Chromium's environment on top of ours: its temporary files (the
/// `org.chromium.Chromium.*` directories it would leave in /tmp) go inside the profile,
/// removed with it; and saml-login's own variables, the password and the cookie jar
/// among them, are blanked, since Chromium and its crash handler do not need them.
fn chromium_environment(
    profile: &Path,
    ours: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Result<std::collections::HashMap<String, String>, CaptureError> {
    let tmp = profile.join("tmp");
    std::fs::create_dir_all(&tmp)
        .map_err(|e| CaptureError::io("writing the temporary Chromium profile", e))?;
    let mut env: std::collections::HashMap<String, String> = ours
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("SAML_LOGIN_") || k.starts_with("PKCE_LOGIN_"))
        .map(|k| (k, String::new()))
        .collect();
    env.insert("TMPDIR".into(), tmp.to_string_lossy().into_owned());
    Ok(env)
}

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
    let envs = chromium_environment(profile, std::env::vars_os())?;
    let launch = LaunchOptions::default_builder()
        .path(Some(chrome.path.clone()))
        .process_envs(Some(envs))
        .headless(!opts.show_window)
        .sandbox(!as_root)
        .ignore_certificate_errors(false)
        .user_data_dir(Some(profile.to_path_buf()))
        .idle_browser_timeout(request.timeout + Duration::from_secs(60))
        // DevTools over a pipe, not a loopback port another local user could connect
        // to and drive the logged-in browser through (vendor/README.md).
        .pipe(true)
        // The service account's password stays in saml-login (Chromium gets it typed
        // into the page), as does a jar given in the environment.
        .env_remove(
            saml_login_capture::SECRET_ENV_VARS
                .map(str::to_owned)
                .to_vec(),
        )
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
    // A page target's main frame has the target's id.
    let main_frame = tab.get_target_id().clone();
    let interceptor = move |_transport, _session, event: Fetch::events::RequestPausedEvent| {
        let params = event.params;
        let url = Url::parse(&params.request.url);
        let matched = url
            .as_ref()
            .is_ok_and(|u| callback.matches(&params.request.method, u));
        // Only the page itself navigating to the callback: not a (cross-origin) frame
        // on it posting a forged response, not a script's fetch.
        let top_navigation = params.frame_id == main_frame
            && params.resource_Type == Network::ResourceType::Document;
        if matched && !top_navigation {
            tracing::warn!(
                "refused a callback request that is not a navigation of the page itself (a frame or a script sent it)"
            );
            return RequestPausedDecision::Fulfill(FulfillRequest {
                request_id: params.request_id,
                ..html_page(400, "saml-login refused this request.")
            });
        }
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
            if let Some(why) = callback.refusal(&captured) {
                // Not ours (a foreign RelayState/state, no SAMLResponse/code): refuse it
                // in the browser and keep waiting, as the loopback server does.
                tracing::warn!("refused a callback request: {why}");
                return RequestPausedDecision::Fulfill(FulfillRequest {
                    request_id: params.request_id,
                    ..html_page(400, &format!("saml-login refused this request: {why}"))
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
    let mut still = Stillness::new(started);
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
        let unchanged = still.observe(&page, Instant::now());
        let account = opts.login.as_ref();
        if !page.submitted && page.is_login_form() {
            match account {
                Some((user, password)) => {
                    let here = tab
                        .evaluate("location.href", false)
                        .ok()
                        .and_then(|r| r.value)
                        .and_then(|v| v.as_str().and_then(|u| Url::parse(u).ok()));
                    may_type_credentials(&request.start_url, here.as_ref())
                        .map_err(|why| CaptureError::browser(NAME, why))?;
                    login.step(&tab, &page, user, password)?;
                    continue;
                }
                // A person at the window (--show-browser) logs in.
                None if opts.show_window => {}
                None => return Err(no_login(&opts.cookies)),
            }
        }
        if let Some((user, _)) = account
            && !page.submitted
            && login.submitted()
            && page.alert.is_some()
        {
            // Our login was answered with an error page instead of the form.
            return Err(rejected(user, &page));
        }
        // saml-login's own answer (a refused callback) waits for the timeout, as before.
        if !opts.show_window && !page.ours && unchanged >= STALL {
            return Err(waits_for_a_person(&page, unchanged));
        }
    }
}

/// Whether the service account's username and password may be typed into the page at
/// `page`: only on the IdP's own origin (the login page's, `idp`), and only over https
/// unless the IdP is on this machine. The error says why not.
fn may_type_credentials(idp: &Url, page: Option<&Url>) -> Result<(), String> {
    let Some(page) = page else {
        return Err(
            "could not tell which site the login form is on; not typing the password".into(),
        );
    };
    if page.origin() != idp.origin() {
        return Err(format!(
            "the login form is on {}, not on the IdP's origin {}: saml-login types the \
             password only on the IdP's own pages",
            page.origin().ascii_serialization(),
            idp.origin().ascii_serialization()
        ));
    }
    if page.scheme() != "https" && !saml_login_capture::is_loopback_url(page) {
        return Err(format!(
            "the login form on {} is not served over https; not typing the password",
            page.origin().ascii_serialization()
        ));
    }
    Ok(())
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
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"saml-login-answer\">\
         <title>saml-login</title></head>\
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
fn end(browser: Chrome, profile: tempfile::TempDir, job: Option<Job>) {
    let started = Instant::now();
    let pid = browser.get_process_id();
    // Elsewhere (and should the group be unknown), the crate's own end: close the
    // browser, kill the process and wait for it.
    #[cfg(unix)]
    match pid.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
        Some(group) => process_group::end(group, browser),
        None => drop(browser),
    }
    // Windows: Chromium's Job Object ends it and every helper, then waits for them all,
    // so that none still holds a file of the profile.
    #[cfg(not(unix))]
    {
        if let Some(job) = &job
            && !job.end(std::time::Duration::from_secs(5))
        {
            tracing::debug!("Chromium processes still running after 5 s");
        }
        drop(browser);
        drop(job);
    }
    #[cfg(unix)]
    let _ = job;
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
    fn credentials_are_typed_only_on_the_idps_origin_over_https() {
        let u = |s: &str| Url::parse(s).unwrap();
        let idp = u("https://example.eu.auth0.com/samlp/client?RelayState=x");
        let ok = |page: &str| may_type_credentials(&idp, Some(&u(page)));
        assert_eq!(
            ok("https://example.eu.auth0.com/u/login/password?state=s"),
            Ok(())
        );
        for other in [
            "https://evil.example/u/login/password",
            "http://example.eu.auth0.com/u/login/password",
            "https://example.eu.auth0.com:8443/u/login",
            "https://sub.example.eu.auth0.com/u/login",
        ] {
            let e = ok(other).unwrap_err();
            assert!(e.contains("IdP's origin"), "{other}: {e}");
        }
        assert!(may_type_credentials(&idp, None).is_err());
        let plain = u("http://idp.example/samlp/c");
        let e = may_type_credentials(&plain, Some(&u("http://idp.example/login"))).unwrap_err();
        assert!(e.contains("https"), "{e}");
        let local = u("http://127.0.0.1:8080/samlp/c");
        assert_eq!(
            may_type_credentials(&local, Some(&u("http://127.0.0.1:8080/u/login"))),
            Ok(())
        );
    }

    #[test]
    fn chromium_gets_a_private_tmpdir_and_none_of_our_secrets() {
        let profile = tempfile::tempdir().unwrap();
        let ours = [
            ("SAML_LOGIN_PASSWORD", "hunter2"),
            ("SAML_LOGIN_COOKIES", "jar"),
            ("PKCE_LOGIN_CONFIG", "x"),
            ("HOME", "/home/u"),
        ]
        .map(|(k, v)| (k.into(), v.into()));
        let env = chromium_environment(profile.path(), ours.into_iter()).unwrap();
        assert_eq!(env["SAML_LOGIN_PASSWORD"], "");
        assert_eq!(env["SAML_LOGIN_COOKIES"], "");
        assert_eq!(env["PKCE_LOGIN_CONFIG"], "");
        assert!(!env.contains_key("HOME"), "inherited as it is");
        assert_eq!(env["TMPDIR"], profile.path().join("tmp").to_string_lossy());
        assert!(profile.path().join("tmp").is_dir());
    }

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
