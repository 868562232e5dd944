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
//! The parts: [`ipc`] (the capture script and its messages), [`navigation`] (the
//! guard), [`platform`] (what differs per toolkit); this file opens the window and runs
//! the event loop.
//!
//! [`Webview::capture`] must run on the process's main thread (the GUI toolkits require
//! it); it runs its own event loop with `run_return` and returns when the login is over.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use saml_login_capture::cookies::domain_matches;
use saml_login_capture::{
    Browser, CaptureError, Captured, Cookie, Login, LoginRequest, Method, Secret, Wait,
    random_token,
};
use tao::dpi::LogicalSize;
use tao::event::{Event, StartCause, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoop, EventLoopBuilder, EventLoopProxy};
use tao::platform::run_return::EventLoopExtRunReturn;
use tao::window::{Window, WindowBuilder};
use wry::{WebContext, WebView, WebViewBuilder};

mod data_store;
mod demand_watch;
mod ipc;
mod navigation;
mod platform;

pub use saml_login_capture::webview::{WINDOW_VARS, display_available, profile_dir_for};

const NAME: &str = "webview";
const TICK: Duration = Duration::from_millis(100);
const NO_DISPLAY: &str = "; use --headless or --system-browser";

/// How the webview keeps its browser profile and what it hands back besides the callback.
#[derive(Clone, Debug, Default)]
pub struct WebviewOptions {
    /// A persistent profile directory (cookies, local storage) so the IdP session survives
    /// between runs; the caller passes a per-IdP directory, see [`profile_dir_for`].
    /// `None`: a throwaway profile in a temporary directory (`--fresh` / `--private`).
    pub data_dir: Option<PathBuf>,
    /// After the capture, read the IdP's cookies (for `--save-cookies`) into
    /// [`Login::cookies`].
    pub export_cookies: bool,
    /// The environment the window check reads
    /// ([`saml_login_capture::webview::WINDOW_VARS`]), read by the caller (the helper's
    /// `main`): without `DISPLAY` or `WAYLAND_DISPLAY` on Linux no window opens.
    pub window_vars: saml_login_capture::Vars,
}

/// The webview browser. Create it with [`Webview::new`], then call
/// [`Browser::capture`] on the main thread.
#[derive(Debug)]
pub struct Webview {
    opts: WebviewOptions,
}

impl Webview {
    pub fn new(opts: WebviewOptions) -> Self {
        Self { opts }
    }
}

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
    /// The cookies are the IdP's as they were right after the capture; empty unless
    /// [`WebviewOptions::export_cookies`] was set.
    fn capture(&mut self, request: &LoginRequest) -> Result<Login, CaptureError> {
        run(&self.opts, request)
    }
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

/// The login: check what can be checked before a window opens, open it on the
/// profile, and run the event loop until the capture, a close, a cancel or the timeout.
fn run(opts: &WebviewOptions, request: &LoginRequest) -> Result<Login, CaptureError> {
    if let Some(reason) = saml_login_capture::webview::no_window_reason(&opts.window_vars) {
        return Err(CaptureError::NotAvailable(format!(
            "no display: {reason}{NO_DISPLAY}"
        )));
    }
    if !saml_login_capture::is_http_url(&request.start_url) {
        return Err(CaptureError::browser(
            NAME,
            format!("the start URL must be http or https: {}", request.start_url),
        ));
    }
    platform::check_main_thread()?;
    platform::init_toolkit()?;
    let profile = Profile::open(opts.data_dir.as_deref())?;
    let wait = Wait::new(request, Instant::now());
    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let ticker = Ticker::start(event_loop.create_proxy());
    let mut web_context = WebContext::new(Some(profile.path.clone()));
    let slot = Rc::new(RefCell::new(None));
    let (window, webview) = open_window(
        &event_loop,
        &mut web_context,
        request,
        opts,
        Delivery {
            slot: slot.clone(),
            proxy: event_loop.create_proxy(),
        },
    )?;
    let cookie_host = request.start_url.host_str().unwrap_or_default().to_owned();
    let read_cookies = |view: &WebView| {
        if opts.export_cookies {
            cookies_for(view, &cookie_host)
        } else {
            Vec::new()
        }
    };
    let outcome =
        event_loop_until_done(&mut event_loop, &wait, &slot, window, webview, read_cookies);
    drop(ticker);
    drop(web_context);
    drop(profile);
    outcome
}

/// The browser profile: the remembered one (0700), or a temporary directory removed
/// when this is dropped.
struct Profile {
    path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Profile {
    fn open(remembered: Option<&std::path::Path>) -> Result<Self, CaptureError> {
        match remembered {
            Some(dir) => {
                saml_login_capture::create_private_dir(
                    dir,
                    saml_login_capture::ExistingDir::Tighten,
                )
                .map_err(|e| {
                    CaptureError::io(format!("creating the webview profile {}", dir.display()), e)
                })?;
                Ok(Self {
                    path: dir.to_path_buf(),
                    _temp: None,
                })
            }
            None => {
                let temp = saml_login_capture::private_temp_dir("saml-login-webview-")
                    .map_err(|e| CaptureError::io("creating a temporary webview profile", e))?;
                Ok(Self {
                    path: temp.path().to_path_buf(),
                    _temp: Some(temp),
                })
            }
        }
    }
}

/// The window and its webview on the start URL, with the navigation guard and, for a
/// POST callback, the capture script and its IPC channel.
fn open_window(
    event_loop: &EventLoop<UserEvent>,
    web_context: &mut WebContext,
    request: &LoginRequest,
    opts: &WebviewOptions,
    delivery: Delivery,
) -> Result<(Window, WebView), CaptureError> {
    let window = WindowBuilder::new()
        .with_title(format!("saml-login — {}", request.title))
        .with_inner_size(LogicalSize::new(480.0, 720.0))
        .build(event_loop)
        .map_err(|e| CaptureError::browser(NAME, format!("cannot open a window: {e}")))?;
    let idp_origin = request.start_url.origin();
    let callback = request.callback.clone();
    let navigation = delivery.clone();
    let mut builder = WebViewBuilder::new_with_web_context(web_context)
        .with_url(request.start_url.as_str())
        .with_navigation_handler(move |uri| {
            navigation::navigation_handler(&callback, &navigation, &uri)
        })
        // A passkey or a managed device asked for: noted before the IdP's scripts run.
        .with_initialization_script(saml_login_capture::demand::watch_script(false));
    if request.callback.method == Method::Post {
        // The POST is captured in the page (the navigation carries no body); a GET
        // callback needs neither the script nor the IPC channel.
        let token = random_token();
        let script = ipc::capture_script(&request.start_url, &request.callback, &token);
        let handler = ipc::ipc_handler(
            idp_origin.clone(),
            token,
            request.callback.clone(),
            delivery,
        );
        builder = builder
            .with_initialization_script(script)
            .with_ipc_handler(handler);
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
    let webview = platform::build_webview(builder, &window)
        .map_err(|e| CaptureError::browser(NAME, format!("cannot create the webview: {e}")))?;
    tracing::debug!(idp = %idp_origin.ascii_serialization(), "webview opened");
    Ok((window, webview))
}

/// Runs the event loop until the capture arrives in `slot`, the window is closed, or
/// `wait` says the login is cancelled or out of time; then closes the window (the
/// cookies read first, by `read_cookies`, after a capture).
fn event_loop_until_done(
    event_loop: &mut EventLoop<UserEvent>,
    wait: &Wait,
    slot: &Rc<RefCell<Option<Captured>>>,
    window: Window,
    webview: WebView,
    read_cookies: impl Fn(&WebView) -> Vec<Cookie>,
) -> Result<Login, CaptureError> {
    let started = Instant::now();
    let mut outcome: Option<Result<Login, CaptureError>> = None;
    let mut demands = demand_watch::DemandWatch::default();
    let mut window = Some(window);
    let mut webview = Some(webview);
    let code = event_loop.run_return(|event, _target, control_flow| {
        if outcome.is_none() {
            match event {
                Event::UserEvent(UserEvent::Captured) => {
                    if let Some(captured) = slot.borrow_mut().take() {
                        tracing::debug!(
                            elapsed_ms = started.elapsed().as_millis() as u64,
                            "callback captured"
                        );
                        let cookies = webview.as_ref().map(&read_cookies).unwrap_or_default();
                        outcome = Some(Ok(Login {
                            callback: captured,
                            cookies,
                        }));
                    }
                }
                Event::WindowEvent {
                    event: WindowEvent::CloseRequested | WindowEvent::Destroyed,
                    ..
                } => outcome = Some(Err(CaptureError::Cancelled)),
                Event::UserEvent(UserEvent::Tick)
                | Event::NewEvents(StartCause::Init | StartCause::ResumeTimeReached { .. }) => {
                    if let Err(over) = wait.check() {
                        outcome = Some(Err(over));
                    } else if let Some(demand) = webview.as_ref().and_then(|v| demands.tick(v)) {
                        outcome = Some(Err(CaptureError::Unsupported {
                            browser: "the webview",
                            demand,
                        }));
                    }
                }
                _ => {}
            }
        }
        if outcome.is_none() {
            let next = (Instant::now() + TICK).min(wait.deadline());
            *control_flow = ControlFlow::WaitUntil(next);
        } else {
            // Close the window (drops the webview first, then its window).
            webview.take();
            window.take();
            *control_flow = ControlFlow::Exit;
        }
    });
    drop(webview);
    drop(window);
    outcome.unwrap_or_else(|| {
        Err(CaptureError::browser(
            NAME,
            format!("the window system ended the event loop (code {code})"),
        ))
    })
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
                // The window is closing: the login ends without this capture anyway.
                tracing::debug!("webview: the event loop is gone; capture dropped");
            }
        }
    }
}

/// Cookies the webview holds for the IdP host (host-only and domain cookies: the cookie
/// crate gives a domain cookie's domain without its dot, so any domain that matches).
fn cookies_for(view: &WebView, host: &str) -> Vec<Cookie> {
    let all = match view.cookies() {
        Ok(all) => all,
        Err(e) => {
            saml_login_capture::warning!(
                "cannot read the webview's cookies, so none are saved: {e}"
            );
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
