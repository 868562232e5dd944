//! The callback a login waits for ([`Callback`]): which request ends it (method, scheme,
//! host, port, path, or every AWS sign-in endpoint) and what it must carry (required
//! fields, our echoed state), written once for every browser.

use std::borrow::Cow;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::{Captured, constant_time_eq};

/// The HTTP method of the callback request that ends a login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
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
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Callback {
    pub method: Method,
    #[serde(with = "crate::webview::url_text")]
    pub url: Url,
    /// At least one of these fields must be present (empty: no requirement).
    pub required_any: Vec<Cow<'static, str>>,
    /// The state field and the value we sent.
    pub state: Option<StateCheck>,
    /// Match every AWS SAML sign-in endpoint (`callback_url = aws`) instead of `url`
    /// alone; `url` is then the global endpoint, for display.
    pub any_aws_signin: bool,
    /// The asking program's check of what the callback carries (saml-login parses the
    /// SAML response), so that the page the browser shows can say at once that the
    /// response is unusable and what to do, instead of "Signed in". (A function of
    /// the asking program: it does not cross to the webview helper.)
    #[serde(skip)]
    pub check: Option<ContentCheck>,
    /// The asking program's judge of a callback that came back without our state where
    /// the state may be missing (see [`UnechoedJudge`]); it replaces `state.required`.
    /// (Not sent to the webview helper, which then applies `required`.)
    #[serde(skip)]
    pub unechoed: Option<UnechoedJudge>,
}

/// What to do with a callback that came back without our state: `Err(why)`: not the
/// IdP's answer to this login (anyone on this machine can post junk): refuse it and go
/// on waiting; `Ok(None)`: take it; `Ok(Some(note))`: the IdP's own answer, which
/// ends the wait although the asking program will not use it (`note` is what the
/// browser's page says).
pub type UnechoedVerdict = Result<Option<String>, String>;

/// A judge of callbacks without our state (see [`UnechoedVerdict`]).
#[derive(Clone)]
pub struct UnechoedJudge(pub Arc<dyn Fn(&Captured) -> UnechoedVerdict + Send + Sync>);

impl std::fmt::Debug for UnechoedJudge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnechoedJudge")
    }
}

impl PartialEq for UnechoedJudge {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for UnechoedJudge {}

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
    let host_ok = url.host_str().and_then(signin_host_region).is_some();
    let path = url.path();
    let path_ok = path == "/saml"
        || path
            .strip_prefix("/saml/acs/")
            .is_some_and(|id| !id.is_empty() && !id.contains('/'));
    host_ok && path_ok
}

/// The region of an AWS sign-in host: `Some("eu-west-1")` for
/// `eu-west-1.signin.aws.amazon.com`, `Some("")` for a global host
/// (`signin.aws.amazon.com`), `None` for any other host.
pub fn signin_host_region(host: &str) -> Option<&str> {
    AWS_SIGNIN_HOSTS.iter().find_map(|base| {
        if host.eq_ignore_ascii_case(base) {
            return Some("");
        }
        let region = host
            .len()
            .checked_sub(base.len() + 1)
            .filter(|&cut| {
                host.is_char_boundary(cut)
                    && host[cut..].starts_with('.')
                    && host[cut + 1..].eq_ignore_ascii_case(base)
            })
            .map(|cut| &host[..cut])?;
        (!region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
        .then_some(region)
    })
}

/// Whether `url` is a web address a browser can open: http or https, with a host.
pub fn is_http_url(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https") && url.host().is_some()
}

/// The random state a callback must echo.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCheck {
    /// The field's name: a constant in the asking program, read from the wire in the
    /// webview helper.
    pub field: Cow<'static, str>,
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
            unechoed: None,
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

    /// Let `judge` decide about a callback without our state (see [`UnechoedJudge`]).
    #[must_use]
    pub fn judging_unechoed(
        mut self,
        judge: impl Fn(&Captured) -> UnechoedVerdict + Send + Sync + 'static,
    ) -> Self {
        self.unechoed = Some(UnechoedJudge(Arc::new(judge)));
        self
    }

    /// Whether `captured` came back without the state field we sent.
    pub fn state_missing(&self, captured: &Captured) -> bool {
        self.state
            .as_ref()
            .is_some_and(|s| captured.field(&s.field).is_none())
    }

    /// Why the content of an accepted callback cannot be used, when the asking program
    /// said how to tell.
    pub fn unusable(&self, captured: &Captured) -> Option<String> {
        if self.state_missing(captured)
            && let Some(Ok(Some(note))) = self.unechoed.as_ref().map(|j| (j.0)(captured))
        {
            return Some(note);
        }
        self.check.and_then(|c| (c.0)(captured).err())
    }

    /// Require at least one of `fields` in the callback.
    #[must_use]
    pub fn requiring(mut self, fields: &[&'static str]) -> Self {
        self.required_any = fields.iter().copied().map(Cow::Borrowed).collect();
        self
    }

    /// Require `field` to echo `value` (when present, or always if `required`).
    #[must_use]
    pub fn with_state(mut self, field: &'static str, value: String, required: bool) -> Self {
        self.state = Some(StateCheck {
            field: Cow::Borrowed(field),
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
            match captured.field(&state.field) {
                Some(v) if constant_time_eq(v.expose().as_bytes(), state.value.as_bytes()) => {}
                Some(_) => return Err(format!("its {} is not the one we sent", state.field)),
                None => {
                    if let Some(judge) = &self.unechoed {
                        (judge.0)(captured)
                            .map_err(|why| format!("it carries no {} and {why}", state.field))?;
                    } else if state.required {
                        return Err(format!("it carries no {}", state.field));
                    }
                }
            }
        }
        Ok(())
    }

    /// Why `captured` is refused (see [`Callback::accepts`]), with what to do when the
    /// IdP left out our state: an IdP that never sends it back fails this way on every
    /// login, so every browser says so at once instead of waiting out the timeout.
    pub fn refusal(&self, captured: &Captured) -> Option<String> {
        let why = self.accepts(captured).err()?;
        // A judge refused it as not the IdP's answer: junk from anyone on this machine,
        // which is no reason to turn the check off.
        let hint = self
            .state
            .as_ref()
            .filter(|s| self.unechoed.is_none() && captured.field(&s.field).is_none())
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
