//! The fallback browser: open the login page in the system's default browser and take
//! the IdP's callback on a loopback HTTP server bound to 127.0.0.1 only.
//!
//! The server answers every request; only a request that the login's [`Callback`]
//! matches and accepts ends the wait. Anything else (a favicon, a GET, another path, a
//! post without `SAMLResponse` or with a foreign `RelayState`) gets a short refusal and
//! the wait goes on.

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};
use std::time::{Duration, Instant};

use saml_login_capture::{Browser, Callback, CaptureError, Captured, LoginRequest, MAX_BODY_BYTES};
use tiny_http::{Header, Request, Response, Server};
use url::Url;

/// How often the wait loop looks at the clock and at Ctrl-C.
const TICK: Duration = Duration::from_millis(100);

/// What to do with the login page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Open {
    /// Open it in the default browser (`BROWSER` honoured).
    Browser,
    /// Print the URL on stderr for the user to open (`--no-open`).
    PrintUrl,
}

/// The system browser plus a loopback callback server.
#[derive(Debug)]
pub struct SystemBrowser {
    open: Open,
}

impl SystemBrowser {
    pub fn new(open: Open) -> Self {
        Self { open }
    }
}

impl Browser for SystemBrowser {
    fn name(&self) -> &'static str {
        "system browser"
    }

    fn capture(&mut self, request: &LoginRequest) -> Result<Captured, CaptureError> {
        let server = listen(&request.callback)?;
        match self.open {
            Open::Browser => {
                tracing::debug!(url = %request.start_url, "opening the system browser");
                eprintln!("Opening {} in your browser ...", request.start_url);
                if let Err(e) = webbrowser::open(request.start_url.as_str()) {
                    eprintln!(
                        "could not open a browser ({e}); open this URL yourself:\n  {}",
                        request.start_url
                    );
                }
            }
            Open::PrintUrl => eprintln!("Open this URL in a browser:\n  {}", request.start_url),
        }
        wait(&server, request)
    }
}

/// Bind the callback's port on 127.0.0.1 (never another interface).
fn listen(callback: &Callback) -> Result<Server, CaptureError> {
    if callback.url.scheme() != "http" || !callback.is_loopback() {
        return Err(CaptureError::NotAvailable(format!(
            "the system browser can only receive the callback on http://localhost; {} is not \
             on this machine: use --webview or --headless",
            callback.url
        )));
    }
    let port = callback.port().unwrap_or(80);
    let listener =
        TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                CaptureError::PortInUse { port }
            } else {
                CaptureError::io(format!("cannot listen on 127.0.0.1:{port}"), e)
            }
        })?;
    tracing::debug!(port, "listening for the callback on 127.0.0.1");
    Server::from_listener(listener, None)
        .map_err(|e| CaptureError::browser("system browser", format!("callback server: {e}")))
}

fn wait(server: &Server, request: &LoginRequest) -> Result<Captured, CaptureError> {
    let deadline = Instant::now() + request.timeout;
    loop {
        if request.cancel.is_cancelled() {
            return Err(CaptureError::Cancelled);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(CaptureError::Timeout(request.timeout));
        }
        let incoming = server
            .recv_timeout(TICK.min(deadline - now))
            .map_err(|e| CaptureError::io("callback server", e))?;
        if let Some(incoming) = incoming
            && let Some(captured) = handle(incoming, &request.callback)
        {
            return Ok(captured);
        }
    }
}

/// Answer one request; the capture when it is the callback we wait for.
fn handle(mut incoming: Request, callback: &Callback) -> Option<Captured> {
    let method = incoming.method().as_str().to_owned();
    let host = incoming
        .headers()
        .iter()
        .find(|h| h.field.equiv("Host"))
        .map_or_else(|| "127.0.0.1".to_owned(), |h| h.value.as_str().to_owned());
    let Ok(url) = Url::parse(&format!("http://{host}{}", incoming.url())) else {
        respond(incoming, 400, "bad request");
        return None;
    };
    if !callback.matches(&method, &url) {
        tracing::debug!(%method, path = url.path(), "ignored a request that is not the callback");
        respond(incoming, 404, "not found");
        return None;
    }
    if incoming.body_length().is_some_and(|n| n > MAX_BODY_BYTES) {
        respond(incoming, 413, "the callback body is too large");
        return None;
    }
    let mut body = Vec::new();
    let read = incoming
        .as_reader()
        .take(MAX_BODY_BYTES as u64 + 1)
        .read_to_end(&mut body);
    if read.is_err() || body.len() > MAX_BODY_BYTES {
        respond(
            incoming,
            413,
            "the callback body is too large or unreadable",
        );
        return None;
    }
    let captured = Captured::from_request(callback, url, &body);
    if let Some(why) = callback.refusal(&captured) {
        eprintln!("saml-login: refused a callback request: {why}; still waiting");
        respond(
            incoming,
            400,
            &format!("saml-login refused this request: {why}"),
        );
        return None;
    }
    respond_html(incoming, DONE_PAGE);
    Some(captured)
}

const DONE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>saml-login</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Signed in</h1>\
<p>saml-login has the response. You can close this window.</p></body></html>";

fn respond(incoming: Request, status: u16, text: &str) {
    let response = Response::from_string(text).with_status_code(status);
    let _ = incoming.respond(response);
}

fn respond_html(incoming: Request, html: &str) {
    let header = Header::from_bytes(&b"Content-Type"[..], &b"text/html; charset=utf-8"[..])
        .expect("a static header is valid");
    let _ = incoming.respond(Response::from_string(html).with_header(header));
}
