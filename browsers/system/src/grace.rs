//! The port after a login (issue 27, finding 2). When a login ends without the POST (the
//! timeout, Ctrl-C, an error, or saml-login killed, even by SIGKILL as the AWS SDK for Go
//! does to a slow `credential_process` after a minute), the user's browser may still post
//! the assertion seconds later, to whoever listens on the port by then. So each system
//! browser login starts a small guard process (saml-login itself, [`GUARD_ARG`]) that
//! holds the same listening sockets from the start:
//!
//! - the login that captured its POST tells the guard so (one byte on its stdin), and the
//!   guard exits at once;
//! - any other ending closes that pipe (a killed process's too), and the guard answers
//!   every request on the port for [`GRACE`] with a page saying the login was cancelled
//!   and to close the tab, then exits. It ignores the terminal's Ctrl-C and hang-up.
//! - a new login of the same user during the grace period asks the guard to go
//!   ([`release`]): only a program of the user (`/proc/net/tcp`) is obeyed.
//!
//! The guard's stdin is the pipe, its stdout and stderr the listening sockets (127.0.0.1,
//! then [::1] or nothing): no descriptor is passed any other way. Unix only.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The hidden first argument that makes saml-login (any of its binaries) the guard.
pub const GUARD_ARG: &str = "__saml-login-port-guard";
/// How long the guard holds the port after a login that ended without the POST.
pub const GRACE: Duration = Duration::from_secs(120);
/// The path a new login of the same user asks the guard to go with.
const RELEASE_PATH: &str = "/.saml-login/release-port";
/// How long one late request may take to arrive.
const REQUEST_LIMIT: Duration = Duration::from_secs(5);

/// What the guard answers during the grace period.
const CANCELLED_PAGE: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>saml-login</title></head>\
<body style=\"font-family:sans-serif;margin:3em\"><h1>Login cancelled</h1>\
<p>saml-login stopped waiting for this login (it timed out or was cancelled), so this \
response was not used and was not passed on. Close this tab, and run saml-login again \
to log in.</p></body></html>";

/// The guard of one login, started with the callback server.
pub(crate) struct Guard {
    child: Child,
    stdin: Option<std::process::ChildStdin>,
}

impl Guard {
    /// Start the guard on clones of `listeners` (127.0.0.1 first). `None` (logged) when
    /// it cannot be started: the login goes on without one.
    pub(crate) fn start(listeners: &[TcpListener]) -> Option<Guard> {
        let started = (|| -> std::io::Result<Guard> {
            let exe = std::env::current_exe()?;
            let v4 = listeners
                .first()
                .ok_or_else(|| std::io::Error::other("no listener"))?
                .try_clone()?;
            let v6 = match listeners.get(1) {
                Some(l) => Stdio::from(std::os::fd::OwnedFd::from(l.try_clone()?)),
                None => Stdio::null(),
            };
            let mut child = Command::new(exe)
                .arg(GUARD_ARG)
                .stdin(Stdio::piped())
                .stdout(Stdio::from(std::os::fd::OwnedFd::from(v4)))
                .stderr(v6)
                .env_clear()
                .current_dir("/")
                .spawn()?;
            let stdin = child.stdin.take();
            Ok(Guard { child, stdin })
        })();
        match started {
            Ok(g) => {
                tracing::debug!(pid = g.child.id(), "started the port guard");
                Some(g)
            }
            Err(e) => {
                saml_login_capture::warning!(
                    "could not start the process that keeps the port after the login: {e}"
                );
                None
            }
        }
    }

    /// The login took its POST: the guard exits now.
    pub(crate) fn dismiss(mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.write_all(b"done");
        }
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The login ended without its POST: the guard takes over the port. What to tell the
    /// user is returned (printed once the wait's spinner is gone).
    pub(crate) fn take_over(mut self, port: u16) -> String {
        drop(self.stdin.take());
        format!(
            "port {port} stays held for {} s by a small process (pid {}) that answers a late \
             response from your browser with \"login cancelled\" (close that tab); a new login \
             takes the port back.",
            GRACE.as_secs(),
            self.child.id()
        )
    }
}

/// The guard process: wait for the login's word, then (unless it captured) hold the port
/// for [`GRACE`]. Returns the exit code.
pub fn guard_main() -> i32 {
    use std::os::fd::AsFd;
    // The terminal's Ctrl-C and hang-up were meant for the login, not for its guard.
    let ignored = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGHUP] {
        let _ = signal_hook::flag::register(signal, ignored.clone());
    }
    let listener = |fd: std::os::fd::BorrowedFd<'_>| {
        fd.try_clone_to_owned()
            .ok()
            .map(TcpListener::from)
            .filter(|l| l.local_addr().is_ok())
    };
    let listeners: Vec<TcpListener> = [
        listener(std::io::stdout().as_fd()),
        listener(std::io::stderr().as_fd()),
    ]
    .into_iter()
    .flatten()
    .collect();
    if listeners.is_empty() {
        return 2;
    }
    let mut word = Vec::new();
    let _ = std::io::stdin().take(16).read_to_end(&mut word);
    if !word.is_empty() {
        return 0;
    }
    hold(listeners, GRACE);
    0
}

/// Answer every connection on `listeners` for `grace`, unless released sooner.
fn hold(listeners: Vec<TcpListener>, grace: Duration) {
    let until = Instant::now() + grace;
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    for listener in listeners {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    if answer(stream) {
                        let _ = tx.send(());
                    }
                });
            }
        });
    }
    drop(tx);
    let _ = rx.recv_timeout(until.saturating_duration_since(Instant::now()));
}

/// Answer one late request; whether it was the user's own request to release the port.
fn answer(mut stream: TcpStream) -> bool {
    let _ = stream.set_read_timeout(Some(REQUEST_LIMIT));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    // The request line (the first KiB is plenty for it).
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while head.len() < 1024 && !head.contains(&b'\n') {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let line = String::from_utf8_lossy(&head);
    let release = line.starts_with(&format!("POST {RELEASE_PATH} "))
        && crate::peer::of(&stream) == crate::peer::Peer::Us;
    let (status, body) = if release {
        ("200 OK", "released")
    } else {
        ("410 Gone", CANCELLED_PAGE)
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.flush();
    // Read what the client still sends (its body) before closing, so that the close does
    // not reset the connection before the browser has read the page.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = std::io::copy(&mut (&stream).take(MAX_DRAINED), &mut std::io::sink());
    release
}

/// The most of a late request's body read (and dropped) before closing.
const MAX_DRAINED: u64 = 2 * 1024 * 1024;

/// A port held by a guard of an earlier login: ask it to go (only a program of the same
/// user is obeyed). Whether it said it went. Only a port whose every listener is such a
/// guard is talked to: another program holding it (the user's own or another user's)
/// never gets a request.
pub(crate) fn release(address: SocketAddr) -> bool {
    if !crate::peer::port_held_only_by(address.port(), GUARD_ARG) {
        return false;
    }
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = write!(
        stream,
        "POST {RELEASE_PATH} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.1 200") && reply.ends_with("released")
}

/// Bind `address`; when an earlier login's guard holds it, have it go and bind again
/// (for up to 3 s, while it closes).
pub(crate) fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    match TcpListener::bind(address) {
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && release(address) => {
            let deadline = Instant::now() + Duration::from_secs(3);
            loop {
                match TcpListener::bind(address) {
                    Err(e)
                        if e.kind() == std::io::ErrorKind::AddrInUse
                            && Instant::now() < deadline =>
                    {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                    other => return other,
                }
            }
        }
        other => other,
    }
}
