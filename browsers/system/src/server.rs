//! The loopback callback server: listens on `127.0.0.1` and `[::1]` (browsers try `::1`
//! first for `localhost`, so a port we left free there is a port another local user can
//! take the POST on), reads every connection in a thread of its own under a deadline,
//! and hands the wait loop only a request the login's [`Callback`] accepts.
//!
//! Nothing a local program sends can stop the wait: a slow or endless body runs into
//! its connection's deadline, a flood of idle connections into a raised descriptor
//! limit and an accept loop that survives "too many open files".

use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use saml_login_capture::{Callback, CaptureError, Captured, MAX_BODY_BYTES};

use crate::peer::{self, Peer};
use crate::request::{Head, Refusal, parse_head};
use url::Url;

/// How long one connection may take to deliver its whole request (head and body).
pub(crate) const REQUEST_DEADLINE: Duration = Duration::from_secs(10);
/// Connections read at once; more wait in the kernel's backlog until one ends.
const MAX_CONNECTIONS: usize = 4096;
/// The descriptor limit asked for (at most the hard limit; unix only).
#[cfg(unix)]
const WANTED_FILES: u64 = 65536;

/// A running callback server; stops listening when dropped.
pub(crate) struct CallbackServer {
    /// Holds the port after a login that ended without its POST (issue 27).
    #[cfg(unix)]
    pub(crate) guard: Option<crate::grace::Guard>,
    captures: mpsc::Receiver<Captured>,
    stop: Arc<AtomicBool>,
    addresses: Vec<SocketAddr>,
    acceptors: Vec<JoinHandle<()>>,
}

impl CallbackServer {
    /// Bind `port` on 127.0.0.1 and, where this machine has IPv6, on [::1]; either
    /// address held by another program is an error naming it.
    pub(crate) fn start(port: u16, callback: &Callback) -> Result<Self, CaptureError> {
        raise_file_limit();
        let v4 = bind(IpAddr::V4(Ipv4Addr::LOCALHOST), port)?;
        let port = v4.local_addr().map_or(port, |a| a.port());
        let mut listeners = vec![v4];
        match bind_port((Ipv6Addr::LOCALHOST, port).into()) {
            Ok(v6) => listeners.push(v6),
            Err(e) if no_ipv6(&e) => {
                tracing::debug!("no IPv6 loopback on this machine ({e}); 127.0.0.1 only");
            }
            Err(e) => return Err(bind_error(IpAddr::V6(Ipv6Addr::LOCALHOST), port, e)),
        }
        #[cfg(unix)]
        let guard = crate::grace::Guard::start(&listeners);
        let (tx, captures) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let active = Arc::new(AtomicUsize::new(0));
        let mut addresses = Vec::new();
        let mut acceptors = Vec::new();
        for listener in listeners {
            addresses.push(
                listener
                    .local_addr()
                    .map_err(|e| CaptureError::io("callback server", e))?,
            );
            let (tx, stop, active, callback) =
                (tx.clone(), stop.clone(), active.clone(), callback.clone());
            let handle = std::thread::Builder::new()
                .name("callback-accept".into())
                .spawn(move || accept_loop(&listener, &callback, &tx, &stop, &active))
                .map_err(|e| CaptureError::spawn("the callback server's thread", e))?;
            acceptors.push(handle);
        }
        tracing::debug!(port, ?addresses, "listening for the callback");
        Ok(Self {
            #[cfg(unix)]
            guard,
            captures,
            stop,
            addresses,
            acceptors,
        })
    }

    /// The next accepted callback, waiting at most `limit`.
    pub(crate) fn next(&self, limit: Duration) -> Result<Option<Captured>, CaptureError> {
        match self.captures.recv_timeout(limit) {
            Ok(captured) => Ok(Some(captured)),
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(CaptureError::io(
                "callback server",
                io::Error::other("the server stopped"),
            )),
        }
    }
}

impl Drop for CallbackServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake each accept(): a connection of our own, seen and dropped.
        for addr in &self.addresses {
            let _ = TcpStream::connect_timeout(addr, Duration::from_millis(200));
        }
        let until = Instant::now() + Duration::from_secs(2);
        for handle in self.acceptors.drain(..) {
            while !handle.is_finished() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(2));
            }
            if handle.is_finished() {
                let _ = handle.join();
            } else {
                tracing::debug!("a callback accept thread did not stop in time");
            }
        }
    }
}

fn bind(ip: IpAddr, port: u16) -> Result<TcpListener, CaptureError> {
    bind_port((ip, port).into()).map_err(|e| bind_error(ip, port, e))
}

/// Bind `address`, taking it back from an earlier login's guard (unix).
fn bind_port(address: SocketAddr) -> io::Result<TcpListener> {
    #[cfg(unix)]
    return crate::grace::bind(address);
    #[cfg(not(unix))]
    TcpListener::bind(address)
}

fn bind_error(ip: IpAddr, port: u16, e: io::Error) -> CaptureError {
    let address = match ip {
        IpAddr::V4(_) => "127.0.0.1",
        IpAddr::V6(_) => "[::1]",
    };
    if e.kind() == io::ErrorKind::AddrInUse {
        CaptureError::PortInUse { port, address }
    } else {
        CaptureError::io(format!("cannot listen on {address}:{port}"), e)
    }
}

/// Whether binding [::1] failed because this machine has no IPv6 loopback (then no one
/// can take `localhost` there either).
fn no_ipv6(e: &io::Error) -> bool {
    const EAFNOSUPPORT: i32 = 97;
    e.kind() == io::ErrorKind::AddrNotAvailable
        || e.kind() == io::ErrorKind::Unsupported
        || (cfg!(target_os = "linux") && e.raw_os_error() == Some(EAFNOSUPPORT))
}

/// Raise the soft limit on open descriptors towards the hard limit, so that a flood
/// of idle connections does not starve the server (the default soft limit is 1024).
#[cfg(unix)]
fn raise_file_limit() {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let wanted = limit
        .maximum
        .map_or(WANTED_FILES, |max| max.min(WANTED_FILES));
    if limit.current.is_some_and(|current| current < wanted) {
        let raised = rustix::process::Rlimit {
            current: Some(wanted),
            maximum: limit.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => tracing::debug!(wanted, "raised the open-file limit"),
            Err(e) => tracing::debug!("could not raise the open-file limit: {e}"),
        }
    }
}

#[cfg(not(unix))]
fn raise_file_limit() {}

fn accept_loop(
    listener: &TcpListener,
    callback: &Callback,
    tx: &mpsc::Sender<Captured>,
    stop: &AtomicBool,
    active: &Arc<AtomicUsize>,
) {
    while !stop.load(Ordering::SeqCst) {
        if active.load(Ordering::SeqCst) >= MAX_CONNECTIONS {
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) => {
                // "Too many open files" and the like: wait for a connection to end and
                // go on accepting.
                tracing::debug!("accepting a connection failed: {e}");
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let (callback, tx, slot) = (callback.clone(), tx.clone(), Slot::take(active));
        let spawned = std::thread::Builder::new()
            .name("callback-conn".into())
            .stack_size(128 * 1024)
            .spawn(move || {
                let _slot = slot;
                serve(stream, &callback, &tx);
            });
        if let Err(e) = spawned {
            tracing::debug!("no thread for a connection: {e}");
        }
    }
}

/// One counted connection; the count goes down when it is dropped.
struct Slot(Arc<AtomicUsize>);

impl Slot {
    fn take(active: &Arc<AtomicUsize>) -> Self {
        active.fetch_add(1, Ordering::SeqCst);
        Self(active.clone())
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Answer one connection: a capture for the wait loop when it carries the callback.
fn serve(mut stream: TcpStream, callback: &Callback, tx: &mpsc::Sender<Captured>) {
    let deadline = Instant::now() + REQUEST_DEADLINE;
    match read_callback(&mut stream, callback, deadline) {
        Ok(captured) => {
            match callback.unusable(&captured) {
                None => respond(&mut stream, 200, "text/html; charset=utf-8", DONE_PAGE),
                // The IdP's answer, but one saml-login cannot use: the page says so (the
                // terminal says the same), and the capture ends the wait all the same.
                Some(why) => respond(
                    &mut stream,
                    200,
                    "text/plain; charset=utf-8",
                    &format!(
                        "saml-login could not use the IdP's response: {why}\n\n\
                         Nothing was stored. The terminal shows the same message; \
                         saml-login's README (Troubleshooting) says what to do.\n"
                    ),
                ),
            }
            let _ = tx.send(captured);
        }
        Err(Refusal(status, text)) => {
            respond(&mut stream, status, "text/plain; charset=utf-8", &text);
        }
    }
}

fn read_callback(
    stream: &mut TcpStream,
    callback: &Callback,
    deadline: Instant,
) -> Result<Captured, Refusal> {
    let (head, rest) = read_head(stream, deadline)?;
    let host = head.host.as_deref().unwrap_or("127.0.0.1");
    let url = Url::parse(&format!("http://{host}{}", head.target))
        .map_err(|_| Refusal::new(400, "bad request"))?;
    if !callback.matches(&head.method, &url) {
        tracing::debug!(method = %head.method, path = url.path(), "ignored a request that is not the callback");
        return Err(Refusal::new(404, "not found"));
    }
    if head.chunked {
        return Err(Refusal::new(411, "a Content-Length is required"));
    }
    let length = head.content_length.unwrap_or(0);
    if length > MAX_BODY_BYTES {
        return Err(Refusal::new(413, "the callback body is too large"));
    }
    let _reserved = crate::budget::reserve(length.max(rest.len()))
        .ok_or_else(|| Refusal::new(503, "the server is busy; post again"))?;
    let body = read_body(stream, rest, length, deadline)?;
    let captured = Captured::from_request(callback, url, &body);
    // Without our state, nothing but the content vouches for a post, and anyone on this
    // machine can post: another user's program is never the user's browser.
    let foreign = || {
        callback.state.as_ref().map(|s| {
            format!(
                "it carries no {} and comes from a program of another user",
                s.field
            )
        })
    };
    let refused = if callback.state_missing(&captured) && peer::of(stream) == Peer::Other {
        foreign()
    } else {
        // An IdP that does not send our state back fails this way on every login: say
        // at once what to do, in the terminal and on the page, while the wait goes on.
        callback.refusal(&captured)
    };
    if let Some(why) = refused {
        saml_login_capture::warning!("refused a callback request: {why}; still waiting");
        return Err(Refusal::new(
            400,
            format!("saml-login refused this request: {why}"),
        ));
    }
    Ok(captured)
}

/// Read until the end of the headers, within `deadline`; the head and the bytes of the
/// body that came with it.
fn read_head(stream: &mut TcpStream, deadline: Instant) -> Result<(Head, Vec<u8>), Refusal> {
    let mut buf = Vec::with_capacity(2048);
    loop {
        if let Some(head) = parse_head(&buf)? {
            let rest = buf.split_off(head.body_start);
            return Ok((head, rest));
        }
        read_some(stream, &mut buf, deadline)?;
    }
}

/// Read the body (`length` bytes, of which `start` arrived with the head) within
/// `deadline`.
fn read_body(
    stream: &mut TcpStream,
    start: Vec<u8>,
    length: usize,
    deadline: Instant,
) -> Result<Vec<u8>, Refusal> {
    let mut body = start;
    while body.len() < length {
        read_some(stream, &mut body, deadline)?;
    }
    body.truncate(length);
    Ok(body)
}

/// One read, waiting no later than `deadline`; the end of the stream is a refusal.
fn read_some(stream: &mut TcpStream, buf: &mut Vec<u8>, deadline: Instant) -> Result<(), Refusal> {
    let timed_out = || Refusal::new(408, "the request took too long");
    let left = deadline
        .checked_duration_since(Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(timed_out)?;
    stream
        .set_read_timeout(Some(left))
        .map_err(|_| timed_out())?;
    let mut chunk = [0u8; 16 * 1024];
    match stream.read(&mut chunk) {
        Ok(0) => Err(Refusal::new(400, "the request ended early")),
        Ok(n) => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(())
        }
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
            ) =>
        {
            tracing::debug!("a connection to the callback port sent too slowly; dropped");
            Err(timed_out())
        }
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(()),
        Err(_) => Err(Refusal::new(400, "the request could not be read")),
    }
}

const DONE_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>saml-login</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Signed in</h1>\
<p>saml-login has the response. You can close this window.</p></body></html>";

fn respond(stream: &mut TcpStream, status: u16, content_type: &str, body: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ => "Bad Request",
    };
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let _ = write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
}
