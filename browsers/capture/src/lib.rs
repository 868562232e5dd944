//! The capture interface: what every way of getting the IdP's answer (system browser,
//! headless Chromium, webview) takes in and hands back.
//!
//! A [`LoginRequest`] says which page to open and which callback request to wait for;
//! a [`Browser`] returns the [`Captured`] callback request (method, URL, decoded fields).
//! The callback matcher ([`Callback`]) and the form decoder ([`decode_form`]) live here
//! once, so each browser crate adds only its transport.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use url::Url;

pub mod cookies;
pub mod job;
pub mod path_search;
pub mod teardown;
pub mod webview;
#[cfg(windows)]
#[allow(unsafe_code)]
mod win32;
pub use cookies::Cookie;

/// The largest callback body any browser accepts (a SAML response is a few tens of KiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Environment variables that hold an IdP secret (the service account's password, a
/// cookie jar's content): read by saml-login, never passed on to a child it starts
/// (`exec`'s command, Chromium).
pub const SECRET_ENV_VARS: [&str; 2] = ["SAML_LOGIN_PASSWORD", "SAML_LOGIN_COOKIES"];

/// The HTTP method of the callback request that ends a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// SAML HTTP-POST binding: the IdP's auto-submitting form posts `SAMLResponse`.
    Post,
    /// OAuth redirect: the code and state come back in the query string.
    Get,
}

impl Method {
    /// The method as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Post => "POST",
            Method::Get => "GET",
        }
    }

    /// Whether `method` (any case) is this method.
    pub fn matches(self, method: &str) -> bool {
        method.eq_ignore_ascii_case(self.as_str())
    }
}

/// The callback request a login waits for: method plus scheme, host, port and path.
///
/// `localhost` and `127.0.0.1` name the same loopback host, since the IdP is configured
/// with `http://localhost:PORT/...` while saml-login listens on 127.0.0.1 only.
///
/// It may also say what the request must carry ([`Callback::accepts`]): one of some
/// fields, and the random state we sent (`RelayState`, OAuth `state`) echoed back. A
/// request that fails those checks is refused and the wait goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Callback {
    pub method: Method,
    pub url: Url,
    /// At least one of these fields must be present (empty: no requirement).
    pub required_any: Vec<&'static str>,
    /// The state field and the value we sent.
    pub state: Option<StateCheck>,
    /// Match every AWS SAML sign-in endpoint (`callback_url = aws`) instead of `url`
    /// alone; `url` is then the global endpoint, for display.
    pub any_aws_signin: bool,
    /// The asking program's check of what the callback carries (saml-login parses the
    /// SAML response), so that the page the browser shows can say at once that the
    /// response is unusable and what to do, instead of "Signed in".
    pub check: Option<ContentCheck>,
}

/// A check of a captured callback's content: `Err` says why it cannot be used.
#[derive(Clone, Copy, Debug)]
pub struct ContentCheck(pub fn(&Captured) -> Result<(), String>);

impl PartialEq for ContentCheck {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::fn_addr_eq(self.0, other.0)
    }
}

impl Eq for ContentCheck {}

/// The AWS sign-in hosts of each partition; each also has `REGION.` forms.
pub const AWS_SIGNIN_HOSTS: &[&str] = &[
    "signin.aws.amazon.com",
    "signin.amazonaws-us-gov.com",
    "signin.amazonaws.cn",
];

/// Whether `url` is an AWS SAML sign-in endpoint: `https://[REGION.]signin.<partition
/// domain>/saml`, or `/saml/acs/ID` (encrypted assertions), on the default port.
pub fn is_aws_signin(url: &Url) -> bool {
    if url.scheme() != "https" || url.port().is_some_and(|p| p != 443) {
        return false;
    }
    let Some(host) = url.host_str() else {
        return false;
    };
    let host_ok = AWS_SIGNIN_HOSTS.iter().any(|base| {
        host.eq_ignore_ascii_case(base)
            || host
                .strip_suffix(base)
                .and_then(|h| h.strip_suffix('.'))
                .is_some_and(|region| {
                    !region.is_empty()
                        && region
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                })
    });
    let path = url.path();
    let path_ok = path == "/saml"
        || path
            .strip_prefix("/saml/acs/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/'));
    host_ok && path_ok
}

/// The random state a callback must echo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateCheck {
    pub field: &'static str,
    pub value: String,
    /// Whether a callback without the field is refused (OAuth) or let through
    /// (SAML: an IdP-initiated login may carry no `RelayState`).
    pub required: bool,
}

impl Callback {
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            required_any: Vec::new(),
            state: None,
            any_aws_signin: false,
            check: None,
        }
    }

    /// A callback matching every AWS SAML sign-in endpoint (see [`is_aws_signin`]).
    pub fn aws_signin(method: Method) -> Self {
        let url = Url::parse("https://signin.aws.amazon.com/saml").expect("a valid URL");
        Self {
            any_aws_signin: true,
            ..Self::new(method, url)
        }
    }

    /// Let `check` judge what an accepted callback carries (see [`Callback::check`]).
    #[must_use]
    pub fn checked_by(mut self, check: fn(&Captured) -> Result<(), String>) -> Self {
        self.check = Some(ContentCheck(check));
        self
    }

    /// Why the content of an accepted callback cannot be used, when the asking program
    /// said how to tell.
    pub fn unusable(&self, captured: &Captured) -> Option<String> {
        self.check.and_then(|c| (c.0)(captured).err())
    }

    /// Require at least one of `fields` in the callback.
    #[must_use]
    pub fn requiring(mut self, fields: &[&'static str]) -> Self {
        self.required_any = fields.to_vec();
        self
    }

    /// Require `field` to echo `value` (when present, or always if `required`).
    #[must_use]
    pub fn with_state(mut self, field: &'static str, value: String, required: bool) -> Self {
        self.state = Some(StateCheck {
            field,
            value,
            required,
        });
        self
    }

    /// Check a captured callback's fields; the error says why it was refused.
    pub fn accepts(&self, captured: &Captured) -> Result<(), String> {
        if !self.required_any.is_empty()
            && !self
                .required_any
                .iter()
                .any(|f| captured.field(f).is_some())
        {
            return Err(format!(
                "the request carries no {}",
                self.required_any.join(" or ")
            ));
        }
        if let Some(state) = &self.state {
            match captured.field(state.field) {
                Some(v) if constant_time_eq(v.expose().as_bytes(), state.value.as_bytes()) => {}
                Some(_) => return Err(format!("its {} is not the one we sent", state.field)),
                None if state.required => return Err(format!("it carries no {}", state.field)),
                None => {}
            }
        }
        Ok(())
    }

    /// Why `captured` is refused (see [`Callback::accepts`]), with what to do when the
    /// IdP left out our state: an IdP that never sends it back fails this way on every
    /// login, so every browser says so at once instead of waiting out the timeout.
    pub fn refusal(&self, captured: &Captured) -> Option<String> {
        let why = self.accepts(captured).err()?;
        let hint = self
            .state
            .as_ref()
            .filter(|s| captured.field(s.field).is_none())
            .map(|s| {
                format!(
                    " (the IdP did not send our {} back; if yours never does, see \
                     require_relay_state in saml-login's README)",
                    s.field
                )
            })
            .unwrap_or_default();
        Some(format!("{why}{hint}"))
    }

    /// Whether `url` points at this callback (scheme, host, port, path; query ignored).
    pub fn matches_url(&self, url: &Url) -> bool {
        if self.any_aws_signin {
            return is_aws_signin(url);
        }
        url.scheme() == self.url.scheme()
            && same_host(url, &self.url)
            && url.port_or_known_default() == self.url.port_or_known_default()
            && normalized_path(url) == normalized_path(&self.url)
    }

    /// Whether a request with `method` to `url` is the callback.
    pub fn matches(&self, method: &str, url: &Url) -> bool {
        self.method.matches(method) && self.matches_url(url)
    }

    /// The port of the callback URL.
    pub fn port(&self) -> Option<u16> {
        self.url.port_or_known_default()
    }

    /// Whether the callback is on this machine (`localhost`, 127.0.0.0/8 or `[::1]`).
    pub fn is_loopback(&self) -> bool {
        !self.any_aws_signin && is_loopback_url(&self.url)
    }

    /// The hosts (`host` or `host:port`) whose requests a browser must intercept to see
    /// the callback: every loopback name, every AWS sign-in host (`*.` for regions), or
    /// the callback's own host.
    pub fn intercept_hosts(&self) -> Vec<String> {
        let port = self.url.port().map(|p| format!(":{p}")).unwrap_or_default();
        if self.any_aws_signin {
            AWS_SIGNIN_HOSTS
                .iter()
                .flat_map(|h| [(*h).to_owned(), format!("*.{h}")])
                .collect()
        } else if self.is_loopback() {
            ["localhost", "127.0.0.1", "[::1]"]
                .iter()
                .map(|h| format!("{h}{port}"))
                .collect()
        } else {
            vec![format!("{}{port}", self.url.host_str().unwrap_or_default())]
        }
    }
}

fn normalized_path(url: &Url) -> &str {
    let path = url.path();
    if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    }
}

/// Whether `url`'s host is this machine (`localhost`, 127.0.0.0/8 or `[::1]`).
pub fn is_loopback_url(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn same_host(a: &Url, b: &Url) -> bool {
    if is_loopback_url(a) && is_loopback_url(b) {
        return true;
    }
    match (a.host_str(), b.host_str()) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The first file `name` (plus the platform's executable suffix) in the directories of
/// `PATH`.
pub fn find_on_path(name: &str) -> Option<std::path::PathBuf> {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    path_search::find_program(file.as_ref(), &std::env::var_os("PATH")?, None)
}

/// A new directory `PREFIX<PID>-RANDOM` in the temp directory that only its owner can
/// enter (0700; tempfile's default is 0755), removed when dropped: for browser profiles
/// and pages that hold a session or a secret. Those a killed run left behind are
/// removed first (see [`sweep_stale_temp_dirs`]).
pub fn private_temp_dir(prefix: &str) -> std::io::Result<tempfile::TempDir> {
    let temp = std::env::temp_dir();
    sweep_stale_temp_dirs(&temp, prefix);
    let mut builder = tempfile::Builder::new();
    let prefix = format!("{prefix}{}-", std::process::id());
    builder.prefix(&prefix);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    builder.tempdir_in(temp)
}

/// Removes what a killed saml-login left in `temp` (a SIGKILL runs no destructor): this
/// user's `PREFIX<PID>-*` directories whose PID is no longer running. Others'
/// directories, live runs' and unparsable names are left alone, and a symbolic link
/// planted under such a name is not followed.
#[cfg(unix)]
pub fn sweep_stale_temp_dirs(temp: &std::path::Path, prefix: &str) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    let me = rustix::process::geteuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
            .and_then(rustix::process::Pid::from_raw)
        else {
            continue;
        };
        let ours =
            std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir() && m.uid() == me);
        let running = !matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        );
        if ours && !running {
            // Best effort: what cannot be removed now is tried again by the next run.
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// On Windows: the same, where "this user's" is the per-user temp directory
/// (`%LOCALAPPDATA%\Temp`, which only its owner may list) and a live run is a process
/// [`job::process_running`] finds.
#[cfg(windows)]
pub fn sweep_stale_temp_dirs(temp: &std::path::Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let dir = std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir());
        if dir && !job::process_running(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(not(any(unix, windows)))]
pub fn sweep_stale_temp_dirs(_temp: &std::path::Path, _prefix: &str) {}

/// Set when the user asks to stop (Ctrl-C); browsers poll it while they wait.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Everything a browser needs to run one login.
#[derive(Clone, Debug)]
pub struct LoginRequest {
    /// The page to open (`{idp_url}/samlp/{client_id}?RelayState=...`).
    pub start_url: Url,
    /// The request that ends the login.
    pub callback: Callback,
    /// Give up after this long.
    pub timeout: Duration,
    /// Set by the caller on Ctrl-C.
    pub cancel: Cancel,
    /// A short human name for the login (configuration and profile), for window titles.
    pub title: String,
}

impl LoginRequest {
    /// When the login must be over.
    pub fn deadline(&self, started: Instant) -> Instant {
        started + self.timeout
    }
}

/// A value that must never reach a log: `Debug` and `Display` print `(redacted)`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The value itself. Call only where it is used, never to log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(redacted)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

/// The callback request as a browser saw it: fields from the form body (POST) or the
/// query string (GET). Field values are secrets (assertions, codes).
#[derive(Clone, Debug)]
pub struct Captured {
    pub method: Method,
    pub url: Url,
    pub fields: Vec<(String, Secret)>,
}

impl Captured {
    /// Build from a request that `callback` matched, decoding the body or query.
    pub fn from_request(callback: &Callback, url: Url, body: &[u8]) -> Self {
        let fields = match callback.method {
            Method::Post => decode_form(body),
            Method::Get => decode_form(url.query().unwrap_or_default().as_bytes()),
        };
        Self {
            method: callback.method,
            url,
            fields,
        }
    }

    /// The first value of field `name`.
    pub fn field(&self, name: &str) -> Option<&Secret> {
        self.fields.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

/// Decode an `application/x-www-form-urlencoded` body (as HTML forms send it).
pub fn decode_form(body: &[u8]) -> Vec<(String, Secret)> {
    url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), Secret::new(v.into_owned())))
        .collect()
}

/// A random token for `RelayState`, OAuth `state` or IPC: 32 bytes, URL-safe hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why a browser could not capture the callback.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("login cancelled")]
    Cancelled,
    #[error("no login completed within {} s (the `timeout` setting)", .0.as_secs())]
    Timeout(Duration),
    #[error(
        "port {port} on {address} is already in use; stop the program holding it or choose another `listen_port`"
    )]
    PortInUse { port: u16, address: &'static str },
    #[error("{0}")]
    NotAvailable(String),
    #[error("the stored IdP session has expired: {0}")]
    SessionExpired(String),
    #[error("{browser}: {message}")]
    Browser {
        browser: &'static str,
        message: String,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl CaptureError {
    pub fn browser(browser: &'static str, message: impl Into<String>) -> Self {
        Self::Browser {
            browser,
            message: message.into(),
        }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

/// One way of running a login and capturing the callback request.
pub trait Browser {
    /// A short name for messages ("system browser", "headless Chromium", "webview").
    fn name(&self) -> &'static str;

    /// Open `request.start_url`, wait for the callback, and return it.
    ///
    /// Only a request that `request.callback` matches (method, scheme, host, port,
    /// path) and [`Callback::accepts`] ends the wait; any other is refused and the
    /// wait goes on until `request.timeout` or `request.cancel`.
    fn capture(&mut self, request: &LoginRequest) -> Result<Captured, CaptureError>;

    /// The cookies the browser held after a successful capture (for `--save-cookies`);
    /// none for a browser that cannot tell.
    fn cookies(&self) -> Vec<Cookie> {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn private_temp_dirs_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = private_temp_dir("saml-login-test-").unwrap();
        let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    fn cb(url: &str) -> Callback {
        Callback::new(Method::Post, Url::parse(url).unwrap())
    }

    #[test]
    fn loopback_names_are_one_host() {
        let c = cb("http://localhost:12200/saml");
        assert!(c.matches("POST", &Url::parse("http://127.0.0.1:12200/saml").unwrap()));
        assert!(c.matches("post", &Url::parse("http://localhost:12200/saml/").unwrap()));
        assert!(c.matches(
            "POST",
            &Url::parse("http://localhost:12200/saml?x=1").unwrap()
        ));
    }

    #[test]
    fn other_port_path_scheme_host_or_method_do_not_match() {
        let c = cb("http://localhost:12200/saml");
        for u in [
            "http://localhost:12201/saml",
            "http://localhost:12200/saml2",
            "http://localhost:12200/",
            "https://localhost:12200/saml",
            "http://example.com:12200/saml",
        ] {
            assert!(!c.matches("POST", &Url::parse(u).unwrap()), "{u}");
        }
        assert!(!c.matches("GET", &Url::parse("http://localhost:12200/saml").unwrap()));
    }

    #[test]
    fn https_default_port() {
        let c = cb("https://signin.aws.amazon.com/saml");
        assert!(c.matches_url(&Url::parse("https://signin.aws.amazon.com:443/saml").unwrap()));
        assert!(!c.is_loopback());
    }

    #[test]
    fn every_aws_signin_endpoint() {
        let c = Callback::aws_signin(Method::Post);
        for u in [
            "https://signin.aws.amazon.com/saml",
            "https://eu-west-1.signin.aws.amazon.com/saml",
            "https://signin.amazonaws-us-gov.com/saml",
            "https://us-gov-west-1.signin.amazonaws-us-gov.com/saml",
            "https://signin.amazonaws.cn/saml",
            "https://cn-north-1.signin.amazonaws.cn/saml",
            "https://signin.aws.amazon.com/saml/acs/SAMLSP4SHN3UIS2D558H46",
            "https://signin.aws.amazon.com:443/saml",
        ] {
            assert!(c.matches("POST", &Url::parse(u).unwrap()), "{u}");
        }
        for u in [
            "http://signin.aws.amazon.com/saml",
            "https://signin.aws.amazon.com:8443/saml",
            "https://evil.example/saml",
            "https://signin.aws.amazon.com.evil.example/saml",
            "https://a.b.signin.aws.amazon.com/saml",
            "https://signin.aws.amazon.com/saml/acs/",
            "https://signin.aws.amazon.com/saml/acs/x/y",
            "https://signin.aws.amazon.com/federation",
            "http://localhost:12200/saml",
        ] {
            assert!(!c.matches("POST", &Url::parse(u).unwrap()), "{u}");
        }
        assert!(!c.is_loopback());
        assert!(
            c.intercept_hosts()
                .contains(&"*.signin.amazonaws.cn".to_owned())
        );
    }

    #[test]
    fn form_decoding() {
        let f = decode_form(b"SAMLResponse=PHNh%2Bbg%3D%3D&RelayState=abc+def&empty=");
        assert_eq!(f[0].0, "SAMLResponse");
        assert_eq!(f[0].1.expose(), "PHNh+bg==");
        assert_eq!(f[1].1.expose(), "abc def");
        assert_eq!(f[2].1.expose(), "");
    }

    #[test]
    fn get_callback_reads_query() {
        let c = Callback::new(
            Method::Get,
            Url::parse("http://localhost:1/callback").unwrap(),
        );
        let url = Url::parse("http://localhost:1/callback?code=xyz&state=s").unwrap();
        let got = Captured::from_request(&c, url, b"");
        assert_eq!(got.field("code").unwrap().expose(), "xyz");
        assert_eq!(got.field("state").unwrap().expose(), "s");
    }

    #[test]
    fn state_and_required_fields() {
        let c = cb("http://localhost:1/saml")
            .requiring(&["SAMLResponse"])
            .with_state("RelayState", "abc".into(), false);
        let url = Url::parse("http://localhost:1/saml").unwrap();
        let ok = Captured::from_request(&c, url.clone(), b"SAMLResponse=x&RelayState=abc");
        assert!(c.accepts(&ok).is_ok());
        let no_state = Captured::from_request(&c, url.clone(), b"SAMLResponse=x");
        assert!(c.accepts(&no_state).is_ok());
        let wrong = Captured::from_request(&c, url.clone(), b"SAMLResponse=x&RelayState=abd");
        assert!(c.accepts(&wrong).unwrap_err().contains("RelayState"));
        let missing = Captured::from_request(&c, url.clone(), b"RelayState=abc");
        assert!(c.accepts(&missing).unwrap_err().contains("SAMLResponse"));
        let strict = c.clone().with_state("RelayState", "abc".into(), true);
        assert!(strict.accepts(&no_state).is_err());
    }

    #[test]
    fn secrets_are_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "(redacted) (redacted)");
    }

    #[test]
    fn tokens_are_random() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
    }
}
