//! The capture interface: what every way of getting the IdP's answer (system browser,
//! headless Chromium, webview) takes in and hands back.
//!
//! A [`LoginRequest`] says which page to open and which callback request to wait for;
//! a [`Browser`] returns the [`Login`]: the [`Captured`] callback request (method, URL,
//! decoded fields) and the browser's cookies. The callback matcher ([`Callback`]), the
//! form decoder ([`decode_form`]) and what every browser needs besides its transport
//! (the wait with its deadline, private directories, the `PATH` search, constant-time
//! comparison, the one voice on stderr: [`report`]) live here once.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use url::Url;

mod callback;
pub mod cookies;
pub mod demand;
mod dirs;
pub mod job;
pub mod path_search;
pub mod report;
pub mod teardown;
mod vars;
mod wait;
pub mod webview;
#[cfg(windows)]
#[allow(unsafe_code)]
mod win32;

pub use callback::{
    AWS_SIGNIN_HOSTS, Callback, ContentCheck, Method, StateCheck, UnechoedJudge, UnechoedVerdict,
    is_aws_signin, is_http_url, is_loopback_url, signin_host_region,
};
pub use cookies::Cookie;
pub use demand::Demand;
pub use dirs::{
    ExistingDir, create_private_dir, is_executable, private_temp_dir, sweep_stale_temp_dirs,
};
pub use report::{program, set_program};
pub use vars::Vars;
pub use wait::Wait;

/// The largest callback body any browser accepts (a SAML response is a few tens of KiB).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Environment variables that hold an IdP secret (the service account's password, a
/// cookie jar's content): read by saml-login, never passed on to a child it starts
/// (`exec`'s command, Chromium).
pub const SECRET_ENV_VARS: [&str; 2] = ["SAML_LOGIN_PASSWORD", "SAML_LOGIN_COOKIES"];

/// Whether `a` and `b` are equal, in a time that depends on their lengths only (for
/// secrets a caller sent out and compares with what came back: a `RelayState`, a token);
/// `subtle` does the comparing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

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

/// Everything a browser needs to run one login. It crosses to the webview helper as
/// JSON on the helper's stdin ([`webview::HelperRequest`]), without the cancel flag.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LoginRequest {
    /// The page to open (`{idp_url}/samlp/{client_id}?RelayState=...`).
    #[serde(with = "crate::webview::url_text")]
    pub start_url: Url,
    /// The request that ends the login.
    pub callback: Callback,
    /// Give up after this long.
    pub timeout: Duration,
    /// Set by the caller on Ctrl-C.
    #[serde(skip)]
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
    hex::encode(bytes)
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
    /// The IdP asks for what this browser cannot give (a passkey, a managed device):
    /// the login cannot complete here, whatever the time left.
    #[error("{demand}: {browser} cannot provide it")]
    Unsupported {
        browser: &'static str,
        demand: Demand,
    },
    #[error("{browser}: {message}")]
    Browser {
        browser: &'static str,
        message: String,
    },
    /// A program (Chromium, the webview helper) or a thread could not be started.
    #[error("could not start {what}: {source}")]
    Spawn {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// Reading or writing a file, a pipe or a socket failed; `context` says which.
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

    pub fn spawn(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Spawn {
            what: what.into(),
            source,
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

    /// Open `request.start_url`, wait for the callback, and return it with the
    /// browser's cookies.
    ///
    /// Only a request that `request.callback` matches (method, scheme, host, port,
    /// path) and [`Callback::accepts`] ends the wait; any other is refused and the
    /// wait goes on until `request.timeout` or `request.cancel`.
    fn capture(&mut self, request: &LoginRequest) -> Result<Login, CaptureError>;

    /// What the last [`Browser::capture`] left to tell the user once its wait (and the
    /// spinner drawn during it) is over: the system browser's port guard, say.
    fn notes(&mut self) -> Vec<String> {
        Vec::new()
    }
}

/// What a browser brings back from a login.
#[derive(Debug)]
pub struct Login {
    /// The callback request that ended the wait.
    pub callback: Captured,
    /// The cookies the browser held after it (for `--save-cookies`); empty for a
    /// browser that cannot tell (the system browser) or was not asked (the webview
    /// reads them only with `export_cookies`).
    pub cookies: Vec<Cookie>,
}

impl Login {
    /// A login that brought back no cookies.
    pub fn without_cookies(callback: Captured) -> Self {
        Self {
            callback,
            cookies: Vec::new(),
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;

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
        // A judge decides about a callback without the state, whatever `required` says;
        // its refusal carries no invitation to turn the check off.
        let judged = strict
            .clone()
            .judging_unechoed(|c| match c.field("SAMLResponse") {
                Some(v) if v.expose() == "x" => Err("is junk".into()),
                _ => Ok(Some("not used".into())),
            });
        let why = judged.refusal(&no_state).unwrap();
        assert_eq!(why, "it carries no RelayState and is junk");
        let own = Captured::from_request(&c, url.clone(), b"SAMLResponse=y");
        assert!(judged.accepts(&own).is_ok());
        assert_eq!(judged.unusable(&own).as_deref(), Some("not used"));
        // With our state the judge has no say.
        assert!(judged.accepts(&ok).is_ok() && judged.unusable(&ok).is_none());
        assert!(
            strict
                .refusal(&no_state)
                .unwrap()
                .contains("require_relay_state")
        );
    }

    #[test]
    fn secrets_are_redacted() {
        let s = Secret::new("hunter2");
        assert_eq!(format!("{s:?} {s}"), "(redacted) (redacted)");
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(constant_time_eq(b"", b""));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"ab", b"abc"));
    }

    #[test]
    fn tokens_are_random() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
    }
}
