//! saml-login's embedded browser: a small native window (tao) holding the platform's
//! webview (wry: WebKitGTK on Linux, WKWebView on macOS, WebView2 on Windows) that shows
//! the IdP's login pages and captures the callback request before it leaves the window:
//! the SAML POST (`Method::Post`) or the OAuth redirect (`Method::Get`, pkce-login).
//!
//! How the POST capture works (see README.md for the security reasoning):
//! - an initialization script, installed only into the main frame and active only on
//!   pages of the start URL's origin, hooks `HTMLFormElement.prototype.submit` and a
//!   capture-phase `submit` listener; a POST form whose action is the callback is not
//!   submitted, its fields go to Rust through `window.ipc.postMessage` together with a
//!   per-run random token;
//! - the IPC handler accepts a message only from a page of the IdP origin, with the
//!   token, whose action matches the callback;
//! - a navigation handler blocks every navigation to the callback URL, so nothing has to
//!   listen there.
//!
//! A GET callback needs no script: the navigation handler sees every navigation
//! (WebKitGTK reports the target of a server-side 302 too), so a navigation to the callback
//! URL is decoded from its query, checked with `Callback::accepts`, and blocked.
//!
//! [`Webview::capture`] must run on the process's main thread (the GUI toolkits require
//! it); it runs its own event loop with `run_return` and returns when the login is over.

mod data_store;

use std::borrow::Cow;
use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use saml_login_capture::{
    Browser, Callback, CaptureError, Captured, Cookie, LoginRequest, MAX_BODY_BYTES, Method,
    Secret, random_token,
};
use tao::dpi::LogicalSize;
use tao::event::{Event, StartCause, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tao::platform::run_return::EventLoopExtRunReturn;
use tao::window::{Window, WindowBuilder};
use url::Url;
use wry::{WebContext, WebView, WebViewBuilder};

const NAME: &str = "webview";
const TICK: Duration = Duration::from_millis(100);
const NO_DISPLAY: &str = "; use --headless or --system-browser";
const CAPTURE_JS: &str = include_str!("capture.js");

/// How the webview keeps its browser profile and what it hands back besides the callback.
#[derive(Clone, Debug, Default)]
pub struct WebviewOptions {
    /// A persistent profile directory (cookies, local storage) so the IdP session survives
    /// between runs; the caller passes a per-IdP directory, see [`profile_dir_for`].
    /// `None`: a throwaway profile in a temporary directory (`--fresh` / `--private`).
    pub data_dir: Option<PathBuf>,
    /// After the capture, read the IdP's cookies (for `--save-cookies`); see
    /// [`Webview::cookies`].
    pub export_cookies: bool,
}

/// The webview browser. Create it with [`Webview::new`], then call
/// [`Browser::capture`] on the main thread.
#[derive(Debug)]
pub struct Webview {
    opts: WebviewOptions,
    cookies: Vec<Cookie>,
}

impl Webview {
    pub fn new(opts: WebviewOptions) -> Self {
        Self {
            opts,
            cookies: Vec::new(),
        }
    }

    /// The IdP's cookies as they were right after the last successful capture; empty
    /// unless [`WebviewOptions::export_cookies`] was set.
    pub fn cookies(&self) -> &[Cookie] {
        &self.cookies
    }
}

pub use saml_login_capture::webview::{display_available, profile_dir_for};

impl Browser for Webview {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Open a window on `request.start_url` and wait for the callback (the POST through
    /// the IPC hook, or a GET navigation to the callback URL).
    ///
    /// Must be called on the main thread. Blocks until the callback is captured
    /// (`Ok`), the window is closed or `request.cancel` is set (`Cancelled`), or
    /// `request.timeout` passes (`Timeout`).
    fn capture(&mut self, request: &LoginRequest) -> Result<Captured, CaptureError> {
        self.cookies.clear();
        let (captured, cookies) = run(&self.opts, request)?;
        self.cookies = cookies;
        Ok(captured)
    }

    /// The same as [`Webview::cookies`], for callers holding a `dyn Browser`.
    fn cookies(&self) -> Vec<Cookie> {
        self.cookies.clone()
    }
}

/// What ends the event loop.
enum Outcome {
    Captured(Captured),
    Failed(CaptureError),
}

/// Sent to the event loop: by the IPC and navigation handlers, and by the ticker thread.
#[derive(Debug)]
enum UserEvent {
    Captured,
    /// Time to check the deadline and the cancel flag. (On Linux tao's `WaitUntil` does
    /// not wake an idle loop by itself, so a thread sends these.)
    Tick,
}

/// Sends [`UserEvent::Tick`] every [`TICK`] until stopped or the loop is gone.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    fn start(proxy: EventLoopProxy<UserEvent>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("saml-login-webview-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::SeqCst) {
                    // Parked, not asleep: dropping the ticker wakes it at once.
                    std::thread::park_timeout(TICK);
                    if flag.load(Ordering::SeqCst) {
                        break;
                    }
                    if proxy.send_event(UserEvent::Tick).is_err() {
                        break;
                    }
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

fn run(
    opts: &WebviewOptions,
    request: &LoginRequest,
) -> Result<(Captured, Vec<Cookie>), CaptureError> {
    if let Some(reason) = saml_login_capture::webview::no_window_reason() {
        return Err(CaptureError::NotAvailable(format!(
            "no display: {reason}{NO_DISPLAY}"
        )));
    }
    if !matches!(request.start_url.scheme(), "http" | "https") {
        return Err(CaptureError::browser(
            NAME,
            format!("the start URL must be http or https: {}", request.start_url),
        ));
    }
    check_main_thread()?;
    init_toolkit()?;

    // The profile: persistent (0700) or a temporary directory removed afterwards.
    let (_temp_profile, profile) = match &opts.data_dir {
        Some(dir) => {
            create_private_dir(dir)?;
            (None, dir.clone())
        }
        None => {
            let temp = saml_login_capture::private_temp_dir("saml-login-webview-")
                .map_err(|e| CaptureError::io("creating a temporary webview profile", e))?;
            let path = temp.path().to_path_buf();
            (Some(temp), path)
        }
    };

    let started = Instant::now();
    let deadline = request.deadline(started);
    let idp_origin = request.start_url.origin();

    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let proxy = event_loop.create_proxy();
    let ticker = Ticker::start(event_loop.create_proxy());
    let window = WindowBuilder::new()
        .with_title(format!("saml-login — {}", request.title))
        .with_inner_size(LogicalSize::new(480.0, 720.0))
        .build(&event_loop)
        .map_err(|e| CaptureError::browser(NAME, format!("cannot open a window: {e}")))?;

    let slot: Rc<RefCell<Option<Captured>>> = Rc::new(RefCell::new(None));
    let delivery = Delivery {
        slot: slot.clone(),
        proxy,
    };
    let mut web_context = WebContext::new(Some(profile));
    let callback = request.callback.clone();
    let navigation = delivery.clone();
    let mut builder = WebViewBuilder::new_with_web_context(&mut web_context)
        .with_url(request.start_url.as_str())
        .with_navigation_handler(move |uri| navigation_handler(&callback, &navigation, &uri));
    if request.callback.method == Method::Post {
        // The POST is captured in the page (the navigation carries no body); a GET
        // callback needs neither the script nor the IPC channel.
        let token = random_token();
        let script = capture_script(&request.start_url, &request.callback, &token);
        let ipc = ipc_handler(
            idp_origin.clone(),
            token,
            request.callback.clone(),
            delivery,
        );
        builder = builder
            .with_initialization_script(script)
            .with_ipc_handler(ipc);
    }
    // macOS ignores the WebContext's directory: each remembered profile gets a data
    // store of its own instead (macOS 14 and later; see data_store.rs).
    #[cfg(target_os = "macos")]
    if let Some(dir) = &opts.data_dir {
        use wry::WebViewBuilderExtDarwin;
        builder = builder.with_data_store_identifier(data_store::identifier_for(dir));
    }
    let builder = builder
        // Without a profile directory: a non-persistent data store as well as the
        // temporary directory (macOS ignores the WebContext's directory).
        .with_incognito(opts.data_dir.is_none())
        .with_devtools(false);
    let webview = build_webview(builder, &window)
        .map_err(|e| CaptureError::browser(NAME, format!("cannot create the webview: {e}")))?;
    tracing::debug!(idp = %idp_origin.ascii_serialization(), "webview opened");

    let mut outcome: Option<Outcome> = None;
    let mut window = Some(window);
    let mut webview = Some(webview);
    let export_cookies = opts.export_cookies;
    let mut cookies = Vec::new();
    let cookie_host = request.start_url.host_str().unwrap_or_default().to_string();

    let code = event_loop.run_return(|event, _target, control_flow| {
        if outcome.is_none() {
            match event {
                Event::UserEvent(UserEvent::Captured) => {
                    if let Some(captured) = slot.borrow_mut().take() {
                        tracing::debug!(
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "callback captured"
                        );
                        outcome = Some(Outcome::Captured(captured));
                    }
                }
                Event::WindowEvent {
                    event: WindowEvent::CloseRequested | WindowEvent::Destroyed,
                    ..
                } => outcome = Some(Outcome::Failed(CaptureError::Cancelled)),
                Event::UserEvent(UserEvent::Tick)
                | Event::NewEvents(StartCause::Init)
                | Event::NewEvents(StartCause::ResumeTimeReached { .. }) => {
                    if request.cancel.is_cancelled() {
                        outcome = Some(Outcome::Failed(CaptureError::Cancelled));
                    } else if Instant::now() >= deadline {
                        outcome = Some(Outcome::Failed(CaptureError::Timeout(request.timeout)));
                    }
                }
                _ => {}
            }
        }
        match &outcome {
            None => {
                let next = (Instant::now() + TICK).min(deadline);
                *control_flow = ControlFlow::WaitUntil(next);
            }
            Some(done) => {
                if export_cookies
                    && matches!(done, Outcome::Captured(_))
                    && let Some(view) = &webview
                {
                    cookies = read_cookies(view, &cookie_host);
                }
                // Close the window (drops the webview first, then its window).
                webview.take();
                window.take();
                *control_flow = ControlFlow::Exit;
            }
        }
    });
    drop(ticker);
    drop(webview);
    drop(window);
    drop(web_context);

    match outcome {
        Some(Outcome::Captured(captured)) => Ok((captured, cookies)),
        Some(Outcome::Failed(err)) => Err(err),
        None => Err(CaptureError::browser(
            NAME,
            format!("the window system ended the event loop (code {code})"),
        )),
    }
}

/// The initialization script with its configuration filled in as JSON literals.
fn capture_script(start_url: &Url, callback: &Callback, token: &str) -> String {
    let config = serde_json::json!({
        "origin": start_url.origin().ascii_serialization(),
        "callback": callback.url.as_str(),
        "awsSignin": callback.any_aws_signin,
        "token": token,
    });
    CAPTURE_JS.replace("__SAML_LOGIN_CONFIG__", &config.to_string())
}

/// Hands an accepted capture to the event loop (from the IPC or the navigation handler,
/// both on the main thread); the first one wins.
#[derive(Clone)]
struct Delivery {
    slot: Rc<RefCell<Option<Captured>>>,
    proxy: EventLoopProxy<UserEvent>,
}

impl Delivery {
    fn deliver(&self, captured: Captured) {
        let mut slot = self.slot.borrow_mut();
        if slot.is_none() {
            *slot = Some(captured);
            if self.proxy.send_event(UserEvent::Captured).is_err() {
                tracing::warn!("webview: the event loop is gone; capture dropped");
            }
        }
    }
}

/// The IPC handler: accepts one message that passes every check, ignores the rest.
fn ipc_handler(
    idp_origin: url::Origin,
    token: String,
    callback: Callback,
    delivery: Delivery,
) -> impl Fn(wry::http::Request<String>) + 'static {
    move |req| {
        let page = req.uri().to_string();
        match accept_message(&idp_origin, &token, &callback, &page, req.body()) {
            Ok(captured) => delivery.deliver(captured),
            Err(reason) => {
                // Never log the message itself: it may hold the assertion.
                tracing::warn!(
                    page = %origin_of(&page),
                    reason = %reason,
                    "webview: ignored an IPC message"
                );
            }
        }
    }
}

/// Check one IPC message; the error is a reason fit for a log (no field values).
/// A refused message leaves the wait going on (the page may post again).
fn accept_message(
    idp_origin: &url::Origin,
    token: &str,
    callback: &Callback,
    page: &str,
    body: &str,
) -> Result<Captured, Cow<'static, str>> {
    if callback.method != Method::Post {
        return Err("the callback is not a POST".into());
    }
    let page = Url::parse(page).map_err(|_| Cow::Borrowed("the sending page has no valid URL"))?;
    if &page.origin() != idp_origin {
        return Err("the sending page is not on the IdP's origin".into());
    }
    // JSON escaping can at most sextuple a byte (\u00XX); anything larger is not a form
    // we would accept anyway.
    if body.len() > 6 * MAX_BODY_BYTES {
        return Err("the message is too large".into());
    }
    let message: serde_json::Value =
        serde_json::from_str(body).map_err(|_| Cow::Borrowed("the message is not JSON"))?;
    let sent_token = message
        .get("token")
        .and_then(|t| t.as_str())
        .ok_or(Cow::Borrowed("the message has no token"))?;
    if !constant_time_eq(sent_token.as_bytes(), token.as_bytes()) {
        return Err("the message has the wrong token".into());
    }
    let action = message
        .get("action")
        .and_then(|a| a.as_str())
        .and_then(|a| Url::parse(a).ok())
        .ok_or(Cow::Borrowed("the message has no valid action URL"))?;
    if !callback.matches_url(&action) {
        return Err("the form's action is not the callback".into());
    }
    let pairs = message
        .get("fields")
        .and_then(|f| f.as_array())
        .ok_or(Cow::Borrowed("the message has no fields"))?;
    let mut fields = Vec::with_capacity(pairs.len());
    let mut total = 0usize;
    for pair in pairs {
        let (k, v) = match pair.as_array().map(Vec::as_slice) {
            Some([serde_json::Value::String(k), serde_json::Value::String(v)]) => (k, v),
            _ => return Err("a field is not a [name, value] pair of strings".into()),
        };
        total += k.len() + v.len() + 2;
        if total > MAX_BODY_BYTES {
            return Err("the form is larger than MAX_BODY_BYTES".into());
        }
        fields.push((k.clone(), Secret::new(v.clone())));
    }
    let captured = Captured {
        method: Method::Post,
        url: action,
        fields,
    };
    // Required fields and the echoed RelayState; the reason names fields, not values.
    callback
        .accepts(&captured)
        .map_err(|why| format!("refused: {why}"))?;
    Ok(captured)
}

/// What the navigation handler does with one navigation.
#[derive(Debug)]
enum Navigation {
    /// Not the callback: let it load.
    Allow,
    /// The callback URL, not captured here (a POST callback is captured through IPC).
    Block,
    /// A GET callback that passed `Callback::accepts`: block it and hand it over.
    Capture(Captured),
    /// A GET callback that failed the checks: block it, keep waiting. The reason names
    /// fields, never their values.
    Refuse(String),
}

/// Decide one navigation: nothing in the window ever reaches the callback URL, and a
/// navigation to a GET callback is the capture itself.
fn classify_navigation(callback: &Callback, uri: &str) -> Navigation {
    let url = match Url::parse(uri) {
        Ok(url) if callback.matches_url(&url) => url,
        _ => return Navigation::Allow,
    };
    if callback.method != Method::Get {
        return Navigation::Block;
    }
    if url.query().is_some_and(|q| q.len() > MAX_BODY_BYTES) {
        return Navigation::Refuse("the query is larger than MAX_BODY_BYTES".into());
    }
    let captured = Captured::from_request(callback, url, b"");
    match callback.accepts(&captured) {
        Ok(()) => Navigation::Capture(captured),
        Err(why) => Navigation::Refuse(why),
    }
}

/// The navigation handler: `true` lets the navigation happen.
fn navigation_handler(callback: &Callback, delivery: &Delivery, uri: &str) -> bool {
    match classify_navigation(callback, uri) {
        Navigation::Allow => true,
        Navigation::Block => {
            tracing::debug!("webview: blocked a navigation to the callback URL");
            false
        }
        Navigation::Capture(captured) => {
            tracing::debug!("webview: captured the callback navigation (blocked)");
            delivery.deliver(captured);
            false
        }
        Navigation::Refuse(reason) => {
            // Never the URL: its query holds the code.
            tracing::warn!(reason = %reason, "webview: refused a navigation to the callback");
            false
        }
    }
}

fn origin_of(page: &str) -> String {
    Url::parse(page)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "(invalid URL)".into())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Cookies the webview holds for the IdP host (host-only and domain cookies).
fn read_cookies(view: &WebView, host: &str) -> Vec<Cookie> {
    let all = match view.cookies() {
        Ok(all) => all,
        Err(e) => {
            tracing::warn!("webview: cannot read cookies: {e}");
            return Vec::new();
        }
    };
    all.into_iter()
        .filter(|c| c.domain().is_some_and(|d| domain_matches(host, d)))
        .map(|c| Cookie {
            name: c.name().to_string(),
            value: Secret::new(c.value()),
            domain: c.domain().unwrap_or(host).to_string(),
            path: c.path().unwrap_or("/").to_string(),
            expires: c.expires_datetime().map(|t| t.unix_timestamp()),
            secure: c.secure().unwrap_or(false),
            http_only: c.http_only().unwrap_or(false),
        })
        .collect()
}

/// RFC 6265 domain matching; a leading dot (as libsoup stores domain cookies) is ignored.
fn domain_matches(host: &str, domain: &str) -> bool {
    let domain = domain.trim_start_matches('.');
    host.eq_ignore_ascii_case(domain)
        || (host.len() > domain.len()
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
            && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain))
}

fn create_private_dir(dir: &Path) -> Result<(), CaptureError> {
    let ctx = || format!("creating the webview profile {}", dir.display());
    // Every directory created on the way is owner-only (others could list IdP hosts).
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(dir)
        .map_err(|e| CaptureError::io(ctx(), e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| CaptureError::io(ctx(), e))?;
    }
    Ok(())
}

#[cfg(any(
    target_os = "linux",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd"
))]
mod unix_toolkit {
    use super::*;

    /// Open the display ourselves first: tao panics when GTK cannot.
    pub fn init_toolkit() -> Result<(), CaptureError> {
        gtk::init().map_err(|e| {
            CaptureError::NotAvailable(format!(
                "cannot open the display ({e}); use --headless or --system-browser"
            ))
        })
    }

    /// `build_gtk` on tao's GTK box works on both X11 and Wayland.
    pub fn build_webview(builder: WebViewBuilder<'_>, window: &Window) -> wry::Result<WebView> {
        use tao::platform::unix::WindowExtUnix;
        use wry::WebViewBuilderExtUnix;
        let vbox = window.default_vbox().ok_or(wry::Error::MessageSender)?;
        builder.build_gtk(vbox)
    }
}

#[cfg(any(
    target_os = "linux",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd"
))]
use unix_toolkit::{build_webview, init_toolkit};

#[cfg(not(any(
    target_os = "linux",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd"
)))]
mod other_toolkit {
    use super::*;

    pub fn init_toolkit() -> Result<(), CaptureError> {
        Ok(())
    }

    pub fn build_webview(builder: WebViewBuilder<'_>, window: &Window) -> wry::Result<WebView> {
        builder.build(window)
    }
}

#[cfg(not(any(
    target_os = "linux",
    target_os = "dragonfly",
    target_os = "freebsd",
    target_os = "openbsd",
    target_os = "netbsd"
)))]
use other_toolkit::{build_webview, init_toolkit};

/// tao runs one event loop per process, on the main thread, on every system (GTK needs
/// it; on macOS and Windows tao panics elsewhere): refused here with an error instead.
/// The helper binary calls the capture from `main` itself, once.
fn check_main_thread() -> Result<(), CaptureError> {
    if std::thread::current().name() == Some("main") {
        Ok(())
    } else {
        Err(CaptureError::browser(
            NAME,
            "the webview must run on the main thread",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(u: &str) -> url::Origin {
        Url::parse(u).unwrap().origin()
    }

    fn cb() -> Callback {
        Callback::new(
            Method::Post,
            Url::parse("http://localhost:12200/saml").unwrap(),
        )
    }

    fn msg(token: &str, action: &str) -> String {
        serde_json::json!({"token": token, "action": action,
            "fields": [["SAMLResponse", "PHNh"], ["RelayState", "r"]]})
        .to_string()
    }

    #[test]
    fn accepts_only_idp_origin_token_and_callback() {
        let idp = origin("https://idp.example.com/samlp/x");
        let ok = accept_message(
            &idp,
            "tok",
            &cb(),
            "https://idp.example.com/samlp/x",
            &msg("tok", "http://127.0.0.1:12200/saml"),
        )
        .unwrap();
        assert_eq!(ok.field("SAMLResponse").unwrap().expose(), "PHNh");
        assert_eq!(ok.method, Method::Post);

        let other_page = "https://evil.example.com/";
        let good = msg("tok", "http://localhost:12200/saml");
        assert!(accept_message(&idp, "tok", &cb(), other_page, &good).is_err());
        let page = "https://idp.example.com/p";
        assert!(
            accept_message(
                &idp,
                "tok",
                &cb(),
                page,
                &msg("tok2", "http://localhost:12200/saml")
            )
            .is_err()
        );
        assert!(
            accept_message(
                &idp,
                "tok",
                &cb(),
                page,
                &msg("", "http://localhost:12200/saml")
            )
            .is_err()
        );
        assert!(
            accept_message(
                &idp,
                "tok",
                &cb(),
                page,
                &msg("tok", "http://localhost:12201/saml")
            )
            .is_err()
        );
        assert!(accept_message(&idp, "tok", &cb(), page, "not json").is_err());
        let bad_fields =
            r#"{"token":"tok","action":"http://localhost:12200/saml","fields":[["a",1]]}"#;
        assert!(accept_message(&idp, "tok", &cb(), page, bad_fields).is_err());
    }

    #[test]
    fn ipc_is_refused_for_a_get_callback() {
        let idp = origin("https://idp.example.com/samlp/x");
        let get = Callback::new(
            Method::Get,
            Url::parse("http://localhost:12200/saml").unwrap(),
        );
        let message = msg("tok", "http://localhost:12200/saml");
        assert!(accept_message(&idp, "tok", &get, "https://idp.example.com/p", &message).is_err());
    }

    #[test]
    fn navigation_to_post_callback_is_blocked() {
        assert!(matches!(
            classify_navigation(&cb(), "http://127.0.0.1:12200/saml"),
            Navigation::Block
        ));
        assert!(matches!(
            classify_navigation(&cb(), "http://127.0.0.1:12200/saml?code=a&state=s"),
            Navigation::Block
        ));
        assert!(matches!(
            classify_navigation(&cb(), "https://idp.example.com/u/login"),
            Navigation::Allow
        ));
    }

    fn get_cb() -> Callback {
        Callback::new(
            Method::Get,
            Url::parse("http://localhost:12300/callback").unwrap(),
        )
        .requiring(&["code", "error"])
        .with_state("state", "s3".into(), true)
    }

    #[test]
    fn navigation_to_get_callback_is_captured_and_blocked() {
        match classify_navigation(
            &get_cb(),
            "http://127.0.0.1:12300/callback?code=c0de&state=s3",
        ) {
            Navigation::Capture(got) => {
                assert_eq!(got.method, Method::Get);
                assert_eq!(got.field("code").unwrap().expose(), "c0de");
                assert_eq!(got.field("state").unwrap().expose(), "s3");
            }
            other => panic!("{other:?}"),
        }
        let error = "http://localhost:12300/callback/?error=access_denied&state=s3";
        assert!(matches!(
            classify_navigation(&get_cb(), error),
            Navigation::Capture(_)
        ));
        for refused in [
            "http://localhost:12300/callback?code=c0de&state=s4",
            "http://localhost:12300/callback?code=c0de",
            "http://localhost:12300/callback?state=s3",
            "http://localhost:12300/callback",
        ] {
            match classify_navigation(&get_cb(), refused) {
                Navigation::Refuse(why) => {
                    assert!(!why.contains("c0de") && !why.contains("s4"), "{why}")
                }
                other => panic!("{refused}: {other:?}"),
            }
        }
        for other in [
            "http://localhost:12301/callback?code=c0de&state=s3",
            "http://localhost:12300/other?code=c0de&state=s3",
            "https://idp.example.com/authorize?state=s3",
            "not a url",
        ] {
            assert!(
                matches!(classify_navigation(&get_cb(), other), Navigation::Allow),
                "{other}"
            );
        }
    }

    #[test]
    fn profile_dirs() {
        let base = Path::new("/data/saml-login");
        let u = Url::parse("https://login.example.com/samlp/abc").unwrap();
        assert_eq!(
            profile_dir_for(base, &u),
            PathBuf::from("/data/saml-login/webview/login.example.com_443")
        );
        let u = Url::parse("http://[::1]:8080/").unwrap();
        assert_eq!(
            profile_dir_for(base, &u),
            PathBuf::from("/data/saml-login/webview/___1__8080")
        );
    }

    #[test]
    fn script_has_config_literals() {
        let s = capture_script(
            &Url::parse("https://idp.example.com:8443/samlp/x").unwrap(),
            &Callback::new(
                saml_login_capture::Method::Post,
                Url::parse("http://localhost:12200/saml").unwrap(),
            ),
            "abc",
        );
        assert!(s.contains(r#""origin":"https://idp.example.com:8443""#));
        assert!(s.contains(r#""awsSignin":false"#));
        assert!(s.contains(r#""token":"abc""#));
        assert!(!s.contains("__SAML_LOGIN_CONFIG__"));
    }

    #[test]
    fn cookie_domains() {
        assert!(domain_matches("idp.example.com", "idp.example.com"));
        assert!(domain_matches("idp.example.com", ".example.com"));
        assert!(!domain_matches("idp.example.com", "other.com"));
        assert!(!domain_matches("badexample.com", "example.com"));
    }
}
