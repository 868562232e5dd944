//! saml-login's browserless first try: when a cookie jar holds a valid IdP session, the
//! IdP answers the start URL at once with the SAML HTTP-POST binding's page, a form of
//! hidden fields (`SAMLResponse`, `RelayState`) that a one-line script or a click
//! submits to the callback. A browser only loads that page and posts the form; this
//! crate reads the form instead, with one GET of the start URL carrying the jar's
//! cookies.
//!
//! It follows redirects only within the start URL's origin, never fills or submits a
//! field a person would see (so never a password), and takes the response only from a
//! POST form whose action the login's [`Callback`](saml_login_capture::Callback) matches
//! and whose fields [`Callback::refusal`](saml_login_capture::Callback::refusal) accepts:
//! the checks every browser makes, called here, not copied. Anything else is
//! [`Attempt::NeedsBrowser`], with the reason, for the caller to run the login in a
//! browser. The jar comes back rolled forward from the answers' `Set-Cookie`.
//!
//! The [`ureq::Agent`] comes from the caller, which builds it with the user's proxy and
//! CA settings.

mod jar;
mod page;

use std::time::{Duration, Instant};

use saml_login_capture::{
    Browser, CaptureError, Captured, Cookie, Login, LoginRequest, MAX_BODY_BYTES,
};
use url::Url;

use crate::page::Page;

const NAME: &str = "browserless login";

/// At most this many redirects within the IdP's origin.
const MAX_REDIRECTS: usize = 10;

/// The longest wait for the IdP's answers: a first try must not hold up the browser
/// that would run the login otherwise.
const MAX_WAIT: Duration = Duration::from_secs(20);

/// The largest answer page read (a SAML response is a few tens of KiB).
const MAX_PAGE_BYTES: u64 = 4 * MAX_BODY_BYTES as u64;

/// Why a login cannot be finished without a browser.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NeedsBrowser {
    /// One line for `--verbose` and errors (no cookie or field value).
    pub why: String,
    /// The IdP asked for a login: the jar's session is not (or no longer) valid.
    pub session_expired: bool,
}

impl NeedsBrowser {
    fn new(why: impl Into<String>) -> Self {
        Self {
            why: why.into(),
            session_expired: false,
        }
    }

    fn login_page(why: impl Into<String>) -> Self {
        Self {
            why: why.into(),
            session_expired: true,
        }
    }
}

/// What a browserless try came to.
#[derive(Debug)]
pub enum Attempt {
    /// The callback, as a browser would have posted it, and the jar rolled forward.
    Captured(Login),
    /// The login needs a browser.
    NeedsBrowser(NeedsBrowser),
}

/// Builds the HTTP client for the IdP's origin (the start URL's): the caller's proxy,
/// CA and timeout settings, decided for that URL.
pub type AgentFor = Box<dyn Fn(&Url) -> ureq::Agent + Send + Sync>;

/// A login over plain HTTP with a cookie jar.
pub struct HttpLogin {
    agent_for: AgentFor,
    cookies: Vec<Cookie>,
}

impl HttpLogin {
    /// A try with the client `agent_for` builds for the IdP and the jar's `cookies`.
    pub fn new(agent_for: AgentFor, cookies: Vec<Cookie>) -> Self {
        Self { agent_for, cookies }
    }

    /// One GET of the start URL (and of redirects within its origin) with the jar's
    /// cookies; the callback when the answer is the SAML POST form for it.
    ///
    /// Errors are what a browser would fail on too: a cancel, an oversized response.
    pub fn attempt(&self, request: &LoginRequest) -> Result<Attempt, CaptureError> {
        let started = Instant::now();
        let limit = request.timeout.min(MAX_WAIT);
        let origin = request.start_url.origin();
        let mut jar = jar::Jar::new(&self.cookies);
        // Every request stays within the start URL's origin: one client serves them all.
        let agent = (self.agent_for)(&request.start_url);
        let mut url = request.start_url.clone();
        for _ in 0..=MAX_REDIRECTS {
            if request.cancel.is_cancelled() {
                return Err(CaptureError::Cancelled);
            }
            let Some(left) = limit.checked_sub(started.elapsed()) else {
                break;
            };
            let answer = match Self::get(&agent, &url, &jar, left) {
                Ok(answer) => answer,
                Err(why) => return Ok(Attempt::NeedsBrowser(NeedsBrowser::new(why))),
            };
            jar.store_answer(&url, answer.set_cookie.iter().map(String::as_str));
            tracing::debug!(
                status = answer.status,
                host = url.host_str().unwrap_or_default(),
                path = url.path(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "browserless: the IdP answered"
            );
            match answer.next {
                Next::Redirect(to) => {
                    let Ok(to) = url.join(&to) else {
                        return Ok(needs(format!(
                            "the IdP redirected to an invalid URL ({to})"
                        )));
                    };
                    if to.origin() != origin {
                        return Ok(needs(format!(
                            "the IdP redirected to another origin ({}): a login there needs a browser",
                            shown(&to)
                        )));
                    }
                    url = to;
                }
                Next::Page(html) => {
                    return Ok(match form_post(&page::read(&html), &url, request)? {
                        Ok(callback) => Attempt::Captured(Login {
                            callback,
                            cookies: jar.cookies(),
                        }),
                        Err(needs) => Attempt::NeedsBrowser(needs),
                    });
                }
                Next::Other(why) => return Ok(needs(why)),
            }
        }
        Ok(needs(if started.elapsed() >= limit {
            format!("the IdP did not answer within {} s", limit.as_secs())
        } else {
            format!("the IdP redirected more than {MAX_REDIRECTS} times")
        }))
    }

    /// One GET with the jar's cookies, redirects not followed, any status read.
    fn get(
        agent: &ureq::Agent,
        url: &Url,
        jar: &jar::Jar,
        within: Duration,
    ) -> Result<Answer, String> {
        let mut get = agent
            .get(url.as_str())
            .header("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1");
        if let Some(cookies) = jar.header_for(url) {
            get = get.header("Cookie", cookies);
        }
        let mut response = get
            .config()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(within))
            .build()
            .call()
            .map_err(|e| format!("cannot reach the IdP at {} ({e})", shown(url)))?;
        let status = response.status().as_u16();
        let headers = response.headers();
        let set_cookie = headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let next = match status {
            301 | 302 | 303 | 307 | 308 => match header("location") {
                Some(to) => Next::Redirect(to),
                None => Next::Other(format!("the IdP answered HTTP {status} without a Location")),
            },
            200 => {
                let html = header("content-type").is_none_or(|t| {
                    let t = t.to_ascii_lowercase();
                    t.starts_with("text/html") || t.starts_with("application/xhtml+xml")
                });
                if html {
                    let body = response
                        .body_mut()
                        .with_config()
                        .limit(MAX_PAGE_BYTES)
                        .read_to_vec()
                        .map_err(|e| format!("cannot read the IdP's page ({e})"))?;
                    Next::Page(String::from_utf8_lossy(&body).into_owned())
                } else {
                    Next::Other("the IdP answered with something other than a page".into())
                }
            }
            _ => Next::Other(format!("the IdP answered HTTP {status}")),
        };
        Ok(Answer {
            status,
            set_cookie,
            next,
        })
    }
}

struct Answer {
    status: u16,
    set_cookie: Vec<String>,
    next: Next,
}

enum Next {
    Redirect(String),
    Page(String),
    Other(String),
}

fn needs(why: impl Into<String>) -> Attempt {
    Attempt::NeedsBrowser(NeedsBrowser::new(why))
}

/// A URL as messages show it: origin and path, never a query (which may carry state).
fn shown(url: &Url) -> String {
    format!("{}{}", url.origin().ascii_serialization(), url.path())
}

/// Field names of a login form's user field.
const USER_FIELDS: [&str; 5] = ["username", "user", "email", "login", "identifier"];

/// The callback that `page`, loaded from `at`, would post: its one form carrying
/// `SAMLResponse`, a POST of hidden fields only, to the callback, accepted by the
/// callback's checks. Else why not.
fn form_post(
    page: &Page,
    at: &Url,
    request: &LoginRequest,
) -> Result<Result<Captured, NeedsBrowser>, CaptureError> {
    let callback = &request.callback;
    let saml: Vec<_> = page
        .forms
        .iter()
        .filter(|f| f.has_field("SAMLResponse"))
        .collect();
    let [form] = saml.as_slice() else {
        if !saml.is_empty() {
            return Ok(Err(NeedsBrowser::new(
                "the IdP's page holds more than one SAML form",
            )));
        }
        let user_field = page.forms.iter().flat_map(|f| &f.fields).any(|f| {
            f.kind == page::FieldKind::Visible
                && USER_FIELDS.iter().any(|u| f.name.eq_ignore_ascii_case(u))
        });
        if page.asks_for_password() || user_field {
            return Ok(Err(NeedsBrowser::login_page(
                "the IdP answered with its login page (the stored session is not valid)",
            )));
        }
        return Ok(Err(NeedsBrowser::new(
            "the IdP's page holds no SAML form (a script or a person must act on it)",
        )));
    };
    if !form.is_post() {
        return Ok(Err(NeedsBrowser::new("the IdP's SAML form is not a POST")));
    }
    if form.asks_for_input() || page.stray_fields {
        return Ok(Err(NeedsBrowser::new(
            "the IdP's SAML form asks for input before it is sent",
        )));
    }
    let base = match &page.base {
        Some(base) => at.join(base),
        None => Ok(at.clone()),
    };
    let Ok(action) = base.and_then(|b| b.join(form.action.as_deref().unwrap_or_default())) else {
        return Ok(Err(NeedsBrowser::new(
            "the IdP's SAML form has an invalid action",
        )));
    };
    if !callback.matches("POST", &action) {
        return Ok(Err(NeedsBrowser::new(format!(
            "the IdP's SAML form posts to {}, not to the callback {}",
            shown(&action),
            shown(&callback.url)
        ))));
    }
    // The body a browser would post, judged by the same decoder and checks.
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form.submitted())
        .finish();
    if body.len() > MAX_BODY_BYTES {
        return Err(CaptureError::browser(
            NAME,
            format!(
                "the callback request body is {} bytes, more than the {MAX_BODY_BYTES} accepted",
                body.len()
            ),
        ));
    }
    let captured = Captured::from_request(callback, action, body.as_bytes());
    if let Some(why) = callback.refusal(&captured) {
        return Ok(Err(NeedsBrowser::new(format!(
            "the IdP's SAML form was refused: {why}"
        ))));
    }
    Ok(Ok(captured))
}

impl Browser for HttpLogin {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The browserless login alone (`headless_mode = http`): what needs a browser is an
    /// error that says why.
    fn capture(&mut self, request: &LoginRequest) -> Result<Login, CaptureError> {
        match self.attempt(request)? {
            Attempt::Captured(login) => Ok(login),
            Attempt::NeedsBrowser(needs) if needs.session_expired => {
                Err(CaptureError::SessionExpired(format!(
                    "{}. Refresh the cookie jar with `saml-login --headless --show-browser \
                     --save-cookies FILE get-token`, or let Chromium log in (headless_mode = auto)",
                    needs.why
                )))
            }
            Attempt::NeedsBrowser(needs) => Err(CaptureError::NotAvailable(format!(
                "the login needs a browser: {}; headless_mode = http runs none (auto or chromium does)",
                needs.why
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use saml_login_capture::{Callback, Cancel, Method};

    fn request(callback: Callback) -> LoginRequest {
        LoginRequest {
            start_url: Url::parse("http://127.0.0.1:5000/samlp/c?RelayState=ours").unwrap(),
            callback: callback.requiring(&["SAMLResponse"]).with_state(
                "RelayState",
                "ours".into(),
                true,
            ),
            timeout: Duration::from_secs(5),
            cancel: Cancel::new(),
            title: "t".into(),
        }
    }

    fn loopback() -> Callback {
        Callback::new(
            Method::Post,
            Url::parse("http://localhost:12200/saml").unwrap(),
        )
    }

    fn post(page: &str, request: &LoginRequest) -> Result<Captured, NeedsBrowser> {
        let at = Url::parse("http://127.0.0.1:5000/samlp/c").unwrap();
        form_post(&page::read(page), &at, request).unwrap()
    }

    fn form(action: &str, relay_state: &str) -> String {
        format!(
            r#"<form method="post" action="{action}"><input type="hidden" name="SAMLResponse" value="PHI+"><input type="hidden" name="RelayState" value="{relay_state}"></form><script>document.forms[0].submit()</script>"#
        )
    }

    #[test]
    fn the_callbacks_form_is_taken_as_posted() {
        let r = request(loopback());
        let got = post(&form("http://127.0.0.1:12200/saml", "ours"), &r).unwrap();
        assert_eq!(got.method, Method::Post);
        assert_eq!(got.url.as_str(), "http://127.0.0.1:12200/saml");
        assert_eq!(got.field("SAMLResponse").unwrap().expose(), "PHI+");
        let aws = request(Callback::aws_signin(Method::Post));
        let got = post(
            &form("https://eu-west-1.signin.aws.amazon.com/saml", "ours"),
            &aws,
        );
        assert!(got.is_ok(), "{got:?}");
    }

    /// The callback's own checks decide: another RelayState, a missing one where it is
    /// required, another endpoint, no SAMLResponse value.
    #[test]
    fn what_the_callback_refuses_needs_a_browser() {
        let r = request(loopback());
        let why = |page: &str| post(page, &r).unwrap_err().why;
        assert!(
            why(&form("http://localhost:12200/saml", "theirs"))
                .contains("RelayState is not the one we sent")
        );
        assert!(why(&form("http://localhost:12201/saml", "ours")).contains("not to the callback"));
        assert!(
            why(&form("https://evil.example/saml", "ours"))
                .contains("posts to https://evil.example/saml")
        );
        let no_state = r#"<form method="post" action="http://localhost:12200/saml"><input type="hidden" name="SAMLResponse" value="x"></form>"#;
        assert!(why(no_state).contains("RelayState"));
        let aws = request(Callback::aws_signin(Method::Post));
        assert!(post(&form("http://localhost:12200/saml", "ours"), &aws).is_err());
    }

    #[test]
    fn pages_that_are_not_the_post_form_need_a_browser() {
        let r = request(loopback());
        let login = post(
            r#"<form method="post"><input name="username"><input type="password" name="password"></form>"#,
            &r,
        )
        .unwrap_err();
        assert!(login.session_expired, "{login:?}");
        let identifier = post(
            r#"<form method="post"><input type="text" name="username"></form>"#,
            &r,
        );
        assert!(identifier.unwrap_err().session_expired);
        for (page, says) in [
            (
                "<p>consent?</p><form method=post action=/consent><input type=checkbox name=ok></form>",
                "no SAML form",
            ),
            ("<script>fetch('/x')</script>", "no SAML form"),
            (
                r#"<form action="http://localhost:12200/saml"><input type=hidden name=SAMLResponse value=x></form>"#,
                "not a POST",
            ),
            (
                r#"<form method=post action="http://localhost:12200/saml"><input type=hidden name=SAMLResponse value=x><input name=extra></form>"#,
                "asks for input",
            ),
        ] {
            let needs = post(page, &r).unwrap_err();
            assert!(
                needs.why.contains(says) && !needs.session_expired,
                "{page}: {needs:?}"
            );
        }
        let two = format!(
            "{}{}",
            form("http://localhost:12200/saml", "ours"),
            form("http://localhost:12200/saml", "ours")
        );
        assert!(post(&two, &r).unwrap_err().why.contains("more than one"));
    }

    #[test]
    fn relative_actions_resolve_against_the_page_or_its_base() {
        let mut r = request(Callback::new(
            Method::Post,
            Url::parse("http://127.0.0.1:5000/acs").unwrap(),
        ));
        r.callback = r.callback.with_state("RelayState", "ours".into(), false);
        assert!(post(&form("/acs", "ours"), &r).is_ok());
        assert!(
            post(
                &format!("<base href=\"/x/\">{}", form("../acs", "ours")),
                &r
            )
            .is_ok()
        );
        assert!(post(&form("acs/", "ours"), &r).is_err());
    }

    #[test]
    fn an_oversized_body_is_refused_as_in_chromium() {
        let r = request(loopback());
        let big = "A".repeat(MAX_BODY_BYTES + 1);
        let page = format!(
            r#"<form method="post" action="http://localhost:12200/saml"><input type="hidden" name="SAMLResponse" value="{big}"></form>"#
        );
        let at = Url::parse("http://127.0.0.1:5000/samlp/c").unwrap();
        let e = form_post(&page::read(&page), &at, &r).unwrap_err();
        assert!(e.to_string().contains("more than the"), "{e}");
    }
}
