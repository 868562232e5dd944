//! The fallback browser: open the login page in the system's default browser and take
//! the IdP's callback on a loopback HTTP server of our own on `127.0.0.1` and `[::1]`.
//!
//! The browser is handed a private forwarding page, never the login URL itself (it
//! carries our `RelayState`, and a browser's command line is public): see [`forward`].
//! The server answers every request; only a request that the login's [`Callback`]
//! matches and accepts ends the wait. Anything else (a favicon, a GET, another path, a
//! post without `SAMLResponse` or with a foreign `RelayState`, a body too slow to
//! arrive) gets a short refusal and the wait goes on.

use std::time::{Duration, Instant};

use saml_login_capture::{
    Browser, Callback, CaptureError, Captured, Login, LoginRequest, Wait, report,
};

mod budget;
pub mod forward;
#[cfg(unix)]
pub mod grace;
mod peer;
mod remote;
#[doc(hidden)]
pub mod request;
mod server;
pub mod wsl;

pub use remote::PrintUrl;

use server::CallbackServer;

/// How often the wait loop looks at the clock and at Ctrl-C.
const TICK: Duration = Duration::from_millis(100);

/// What to do with the login page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Open {
    /// Open it in the default browser (`BROWSER` honoured).
    Browser,
    /// WSL: open it in Windows' default browser ([`wsl`]).
    Windows,
    /// Print the URL on stderr for the user to open, with how to reach the callback
    /// from another machine (`--no-browser`).
    PrintUrl(PrintUrl),
}

/// The system browser plus a loopback callback server.
#[derive(Debug)]
pub struct SystemBrowser {
    open: Open,
    notes: Vec<String>,
    programs: saml_login_capture::Vars,
}

impl SystemBrowser {
    pub fn new(open: Open) -> Self {
        Self {
            open,
            notes: Vec::new(),
            programs: saml_login_capture::Vars::default(),
        }
    }

    /// Look for WSL's openers (`wslview`, `powershell.exe`, `cmd.exe`, `wslpath`) on the
    /// `PATH` of `programs` (read by the caller; without it none is found).
    #[must_use]
    pub fn with_programs(mut self, programs: saml_login_capture::Vars) -> Self {
        self.programs = programs;
        self
    }
}

impl Browser for SystemBrowser {
    fn name(&self) -> &'static str {
        "system browser"
    }

    /// The login; the system browser keeps its cookies to itself.
    fn capture(&mut self, request: &LoginRequest) -> Result<Login, CaptureError> {
        #[allow(unused_mut)]
        let mut server = listen(&request.callback)?;
        #[cfg(unix)]
        let guard = server.guard.take();
        // Kept until the capture is over: the browser has read it by then.
        let mut _forwarder = None;
        let port = request.callback.port().unwrap_or(80);
        let opened = match &self.open {
            Open::Browser | Open::Windows => {
                tracing::debug!(url = %request.start_url, "opening the system browser");
                // The URL without its secrets (a terminal is often shared or logged);
                // the fallback below, which the user must copy, keeps them.
                saml_login_capture::notice!(
                    "opening {} in your browser ...",
                    forward::without_secrets(&request.start_url)
                );
                let opened = if self.open == Open::Windows {
                    wsl::open(&request.start_url, &self.programs)
                } else {
                    forward::open(&request.start_url)
                };
                opened.map_err(|e| format!("could not open a browser ({e})"))
            }
            Open::PrintUrl(print) => {
                report::instructions(&print.instructions(&request.start_url, port));
                Err(String::new())
            }
        };
        match opened {
            Ok(f) => _forwarder = Some(f),
            Err(why) if !why.is_empty() => {
                saml_login_capture::warning!("{why}; open it yourself, as with --no-browser:");
                report::instructions(&PrintUrl::default().instructions(&request.start_url, port));
            }
            Err(_) => {}
        }
        let result = wait(&server, request);
        // The server stops accepting before the guard may (issue 27, finding 2).
        drop(server);
        #[cfg(unix)]
        match (guard, &result) {
            (Some(g), Ok(_)) => g.dismiss(),
            (Some(g), Err(_)) => self.notes.push(g.take_over(port)),
            (None, _) => {}
        }
        result.map(Login::without_cookies)
    }

    fn notes(&mut self) -> Vec<String> {
        std::mem::take(&mut self.notes)
    }
}

/// Listen on the callback's port on loopback (never another interface).
fn listen(callback: &Callback) -> Result<CallbackServer, CaptureError> {
    if callback.url.scheme() != "http" || !callback.is_loopback() {
        return Err(CaptureError::NotAvailable(format!(
            "the system browser can only receive the callback on http://localhost; {} is not \
             on this machine: use --webview or --headless",
            callback.url
        )));
    }
    if let Some(other) = other_loopback_address(&callback.url) {
        return Err(CaptureError::NotAvailable(format!(
            "callback_url {} names the loopback address {other}, but the system browser's \
             server listens on 127.0.0.1 and [::1] only, and another local user could \
             listen on {other}: use http://localhost:{}{} (or --webview, --headless)",
            callback.url,
            callback.port().unwrap_or(80),
            callback.url.path()
        )));
    }
    CallbackServer::start(callback.port().unwrap_or(80), callback)
}

/// A loopback address in `url` other than the ones the server holds (127.0.0.1,
/// [::1], `localhost`): 127.0.0.2 and the rest of 127.0.0.0/8 are free for anyone.
fn other_loopback_address(url: &url::Url) -> Option<std::net::Ipv4Addr> {
    match url.host() {
        Some(url::Host::Ipv4(ip)) if ip != std::net::Ipv4Addr::LOCALHOST => Some(ip),
        _ => None,
    }
}

fn wait(server: &CallbackServer, request: &LoginRequest) -> Result<Captured, CaptureError> {
    Wait::new(request, Instant::now()).until(TICK, |limit| server.next(limit))
}
