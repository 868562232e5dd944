//! Loopback ports: free ones for servers a test starts, connecting to one that is
//! starting, and posting a form to saml-login's callback as any local program could.

use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// A free loopback port, handed out once per test process, from below the kernel's
/// ephemeral range (32768-60999 on Linux, 49152 and up elsewhere). A port the kernel
/// picked for port 0 was free only until released: any program's next outgoing
/// connection could take it as its local port before saml-login bound it ("port ... is
/// already in use", seen once in a whole run). Ports under 32768 are never given to
/// outgoing connections, and each test of this process gets its own.
pub fn free_port() -> u16 {
    use std::sync::atomic::{AtomicU32, Ordering};
    const LOW: u32 = 20_000;
    const SPAN: u32 = 12_000;
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Another test process (a crate's own tests) starts elsewhere in the span.
    let start = std::process::id().wrapping_mul(7919) % SPAN;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(
            n < SPAN,
            "no free loopback port left in {LOW}..{}",
            LOW + SPAN
        );
        let port = u16::try_from(LOW + (start + n) % SPAN).unwrap();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Connect to 127.0.0.1:`port`, retrying until `limit` has passed (then panic): for a
/// server that is starting.
pub fn connect_within(port: u16, limit: Duration) -> TcpStream {
    let deadline = Instant::now() + limit;
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => {
                s.set_read_timeout(Some(limit)).unwrap();
                return s;
            }
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "nothing listened on 127.0.0.1:{port} within {limit:?}: {e}"
                );
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// POST a form to `http://127.0.0.1:port/saml` with `Host: host`, as any local program
/// could (retrying the connection for up to 10 s while the server starts); the status
/// line of the answer, or `None` when nothing listened.
pub fn post_form(port: u16, host: &str, pairs: &[(&str, &str)]) -> Option<String> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    post_raw(port, host, &body)
}

/// POST `body` (sent as it is, as a form) to `http://127.0.0.1:port/saml` with
/// `Host: host` (retrying the connection for up to 10 s while the server starts; the
/// answer read for at most 20 s); its status line, or `None` when nothing listened.
pub fn post_raw(port: u16, host: &str, body: &str) -> Option<String> {
    use std::io::{Read, Write};
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut s = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(30)),
            Err(_) => return None,
        }
    };
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "POST /saml HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    Some(reply.lines().next().unwrap_or_default().to_owned())
}
