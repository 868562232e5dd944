//! Reading the IdP's page and filling its login form: what the page is (a login form,
//! an error, something only a person can answer), the service account typed in, and
//! the decision to fail fast when no login can come.
//! Credentials are typed only on the IdP's own origin, over https unless on loopback.
//!
//! The user field is found the way a person finds it, whatever its name: on a page
//! with a password field, the visible text or e-mail input before it in the same form;
//! on a page without one (Auth0's identifier step), the one visible input that looks
//! like a user name (`autocomplete=username`/`email`, `type=email`, or a name or id
//! such as `user`, `email`, `login`), never a one-time-code field.

use std::time::{Duration, Instant};

use headless_chrome::Tab;
use saml_login_capture::{CaptureError, Cookie, Secret};
use url::Url;

use crate::NAME;

/// How long a page may sit unchanged, loaded, with nothing for saml-login to do, before
/// the run fails: it waits for a person (a one-time code, a consent) and none will come.
/// Short enough that the run ends within 15 s of the page appearing, with Chromium's start.
pub(crate) const STALL: Duration = Duration::from_secs(8);

/// What saml-login sees of the current page (filled in by [`PAGE_STATE_JS`], which also
/// marks the fields it found with `data-saml-login`).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PageState {
    /// A visible password field.
    pub password: bool,
    /// A user field (before the password, or alone and username-like).
    pub user: bool,
    /// The user field is editable (Auth0 repeats it read-only on the password page).
    pub user_editable: bool,
    /// Set on a document where saml-login already submitted the form.
    pub submitted: bool,
    /// The URL of a failed navigation (Chromium's error page).
    pub error_url: Option<String>,
    /// `document.readyState == "complete"`.
    pub loaded: bool,
    /// The visible error or alert text, whitespace collapsed.
    pub alert: Option<String>,
    /// The page's heading (its first `h1`/`h2`, else its title).
    pub heading: String,
    /// What the page asks for: the labels of its visible fields and buttons.
    pub asks: Vec<String>,
    /// Where the page is (scheme, host and path; no query: it may hold state).
    pub location: String,
    /// Changes whenever the page does (URL, heading, fields, alert).
    pub fingerprint: String,
    /// The page is saml-login's own answer to a callback request (`html_page`).
    pub ours: bool,
    /// The HTTP status of the page's document (0 when unknown).
    pub status: u16,
    /// The start of the page's text, whitespace collapsed.
    pub text: String,
}

impl PageState {
    /// A login form saml-login could fill: a password field, or a lone user field.
    pub fn is_login_form(&self) -> bool {
        self.password || self.user
    }

    fn from_json(v: &serde_json::Value, error_url: Option<String>) -> Self {
        let text = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let flag = |k: &str| v[k].as_bool().unwrap_or(false);
        Self {
            password: flag("password"),
            user: flag("user"),
            user_editable: flag("userEditable"),
            submitted: flag("submitted"),
            error_url,
            loaded: flag("loaded"),
            alert: v["alert"]
                .as_str()
                .map(str::to_owned)
                .filter(|a| !a.is_empty()),
            heading: text("heading"),
            asks: v["asks"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
            location: text("location"),
            fingerprint: text("fingerprint"),
            ours: flag("ours"),
            status: v["status"]
                .as_u64()
                .and_then(|s| u16::try_from(s).ok())
                .unwrap_or(0),
            text: text("text"),
        }
    }
}

/// Reads the page and marks the user field (`data-saml-login=user`) and the password
/// field (`data-saml-login=password`) for [`LoginState::step`].
const PAGE_STATE_JS: &str = r#"(() => {
  const visible = (el) => {
    if (!el || el.disabled || el.type === 'hidden') return false;
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
  };
  const squash = (s) => (s || '').replace(/\s+/g, ' ').trim();
  for (const el of document.querySelectorAll('[data-saml-login]')) el.removeAttribute('data-saml-login');
  const fields = Array.from(document.querySelectorAll('input, select, textarea')).filter(visible);
  const isButton = (el) => el.tagName === 'INPUT' && ['submit', 'button', 'image', 'reset'].includes(el.type);
  const textual = (el) => el.tagName === 'INPUT' && ['text', 'email', 'tel'].includes(el.type);
  const oneTimeCode = (el) => /one-time-code/i.test(el.autocomplete || '')
    || /otp|totp|mfa|passcode|one.?time|verification/i.test((el.name || '') + ' ' + (el.id || ''));
  const userLike = (el) => !oneTimeCode(el) && (el.type === 'email'
    || /username|email/i.test(el.autocomplete || '')
    || /user|e-?mail|login|ident|account|upn|principal/i.test((el.name || '') + ' ' + (el.id || '')));
  const password = fields.find((el) => el.type === 'password');
  let user = null;
  if (password) {
    const before = fields.filter((el) => textual(el) && el.form === password.form
      && (el.compareDocumentPosition(password) & Node.DOCUMENT_POSITION_FOLLOWING));
    user = before.length ? before[before.length - 1] : null;
  } else {
    user = fields.find((el) => textual(el) && userLike(el)) || null;
  }
  if (user) user.setAttribute('data-saml-login', 'user');
  if (password) password.setAttribute('data-saml-login', 'password');
  const alerts = Array.from(document.querySelectorAll(
      '[role=alert], .error, .errors, .alert-danger, .alert-error, #error, .erroricon'))
    .map((el) => el.classList.contains('erroricon') ? el.parentElement : el)
    .filter((el) => el && visible(el))
    .map((el) => squash(el.innerText))
    .filter(Boolean);
  const label = (el) => squash((el.labels && el.labels[0] && el.labels[0].innerText)
    || el.getAttribute('aria-label') || el.placeholder || el.name || el.id);
  const buttons = Array.from(document.querySelectorAll('button, input[type=submit], input[type=button]'))
    .filter(visible).map((el) => squash(el.innerText || el.value || el.getAttribute('aria-label')));
  const asks = fields.filter((el) => !isButton(el)).map(label).concat(buttons).filter(Boolean);
  const h = document.querySelector('h1, h2');
  const heading = squash((h && h.innerText) || document.title);
  const alert = alerts.length ? alerts[0].slice(0, 200) : null;
  return JSON.stringify({
    password: !!password,
    user: !!user,
    userEditable: !!user && !user.readOnly,
    submitted: !!window.__samlLoginSubmitted,
    error: location.href.startsWith('chrome-error:'),
    loaded: document.readyState === 'complete',
    ours: !!document.querySelector('meta[name=saml-login-answer]'),
    status: ((performance.getEntriesByType('navigation')[0] || {}).responseStatus) || 0,
    text: squash(document.body && document.body.innerText).slice(0, 200),
    alert, heading, asks,
    location: location.origin + location.pathname,
    fingerprint: [location.href, heading, asks.join('|'), alert || ''].join('\n')
  });
})()"#;

/// Read the current page (and mark its login fields).
pub(crate) fn page_state(tab: &Tab) -> Result<PageState, String> {
    let result = tab
        .evaluate(PAGE_STATE_JS, false)
        .map_err(|e| e.to_string())?;
    let text = result
        .value
        .as_ref()
        .and_then(|v| v.as_str())
        .ok_or("no page state")?;
    let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let error_url = v["error"].as_bool().unwrap_or(false).then(|| tab.get_url());
    Ok(PageState::from_json(&v, error_url))
}

/// Sets an input's value as typing would (the value is a call argument, never part of
/// the script text).
const FILL_JS: &str = r#"function (value) {
  this.focus();
  const setter = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
  setter.call(this, value);
  this.dispatchEvent(new Event('input', { bubbles: true }));
  this.dispatchEvent(new Event('change', { bubbles: true }));
}"#;

/// Marks the document as submitted, then submits the field's form as its button would.
const SUBMIT_JS: &str = r#"function () {
  window.__samlLoginSubmitted = true;
  const form = this.form;
  const button = form && (form.querySelector('button[type=submit][name=action][value=default]')
    || form.querySelector('button[type=submit], input[type=submit], button:not([type])'));
  if (button) { button.click(); }
  else if (form && form.requestSubmit) { form.requestSubmit(); }
  else if (form) { form.submit(); }
}"#;

/// The service-account login across pages: how often each step was submitted.
#[derive(Default)]
pub(crate) struct LoginState {
    identifier_submitted: u32,
    password_submitted: u32,
}

impl LoginState {
    /// Fill and submit the login form on `page`; fails when the IdP answered our
    /// submission with the same form again.
    pub fn step(
        &mut self,
        tab: &Tab,
        page: &PageState,
        user: &str,
        password: &Secret,
    ) -> Result<(), CaptureError> {
        let js_err = |what: &str| {
            CaptureError::browser(NAME, format!("could not fill the login form ({what})"))
        };
        let fill = |selector: &str, value: &str, what: &str| {
            tab.find_element(selector)
                .map_err(|_| js_err(what))?
                .call_js_fn(FILL_JS, vec![serde_json::Value::from(value)], false)
                .map(|_| ())
                .map_err(|_| js_err(what))
        };
        let submit = |selector: &str| {
            tab.find_element(selector)
                .map_err(|_| js_err("submit"))?
                .call_js_fn(SUBMIT_JS, vec![], false)
                .map(|_| ())
                .map_err(|_| js_err("submit"))
        };
        if page.password {
            if self.password_submitted > 0 {
                return Err(rejected(user, page));
            }
            if page.user && page.user_editable {
                fill("[data-saml-login=user]", user, "user name")?;
            }
            fill("[data-saml-login=password]", password.expose(), "password")?;
            submit("[data-saml-login=password]")?;
            self.password_submitted += 1;
            tracing::debug!(user_field = page.user, "password step submitted");
        } else if page.user {
            if self.identifier_submitted > 0 || self.password_submitted > 0 {
                return Err(rejected(user, page));
            }
            fill("[data-saml-login=user]", user, "user name")?;
            submit("[data-saml-login=user]")?;
            self.identifier_submitted += 1;
            tracing::debug!("identifier step submitted");
        }
        Ok(())
    }

    /// Whether saml-login submitted anything yet.
    pub fn submitted(&self) -> bool {
        self.identifier_submitted + self.password_submitted > 0
    }
}

/// The IdP answered the login with its form again, or with an error.
pub(crate) fn rejected(user: &str, page: &PageState) -> CaptureError {
    let said = page
        .alert
        .as_deref()
        .map(|a| format!(": the page says \"{a}\""))
        .unwrap_or_default();
    CaptureError::browser(
        NAME,
        format!(
            "the IdP rejected the login of `{user}` (SAML_LOGIN_USERNAME){said}; check \
             SAML_LOGIN_USERNAME and SAML_LOGIN_PASSWORD"
        ),
    )
}

/// The IdP answered saml-login's login with HTTP 401 or 403: it refused the login.
pub(crate) fn refused_with_status(user: &str, page: &PageState) -> CaptureError {
    let said = if page.text.is_empty() {
        String::new()
    } else {
        format!(": the page says \"{}\"", page.text)
    };
    CaptureError::browser(
        NAME,
        format!(
            "the IdP rejected the login of `{user}` (SAML_LOGIN_USERNAME) with HTTP {}{said}; \
             check SAML_LOGIN_USERNAME and SAML_LOGIN_PASSWORD, and that the account may log in",
            page.status
        ),
    )
}

/// The IdP asks for a login and saml-login has nothing to log in with.
pub(crate) fn no_login(cookies: &[Cookie]) -> CaptureError {
    const REFRESH: &str = "`saml-login --headless --show-browser --save-cookies FILE get-token`";
    if cookies.is_empty() {
        CaptureError::browser(
            NAME,
            format!(
                "the IdP asks for a login and there is no IdP session to use: give a cookie jar \
                 (--cookies FILE, SAML_LOGIN_COOKIES or the `cookies` setting; make one with \
                 {REFRESH}), or set SAML_LOGIN_USERNAME and SAML_LOGIN_PASSWORD"
            ),
        )
    } else {
        CaptureError::SessionExpired(format!(
            "the IdP asks for a login and no credentials are configured. Refresh the cookie \
             jar with {REFRESH}, or set SAML_LOGIN_USERNAME and SAML_LOGIN_PASSWORD"
        ))
    }
}

/// The page waits for something a person must do (a one-time code, a consent), and
/// nothing in this run will do it.
pub(crate) fn waits_for_a_person(page: &PageState, still: Duration) -> CaptureError {
    let asks = if page.asks.is_empty() {
        String::from("nothing saml-login can fill")
    } else {
        page.asks
            .iter()
            .map(|a| format!("\"{a}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let said = page
        .alert
        .as_deref()
        .map(|a| format!("; it says \"{a}\""))
        .unwrap_or_default();
    if page.submitted && page.is_login_form() {
        return CaptureError::browser(
            NAME,
            format!(
                "saml-login filled and submitted the login form of \"{heading}\" ({location}) \
                 but the page did not move in {secs} s (the form asks for {asks}{said})",
                heading = page.heading,
                location = page.location,
                secs = still.as_secs()
            ),
        );
    }
    CaptureError::browser(
        NAME,
        format!(
            "the IdP's page \"{heading}\" ({location}) waits for what a person must do: it asks \
             for {asks}{said}. Nothing answered it in {secs} s. Do that step once with \
             --show-browser (and --save-cookies FILE to keep the session), or use an account \
             that does not need it",
            heading = page.heading,
            location = page.location,
            secs = still.as_secs()
        ),
    )
}

/// Tells when the page has stopped changing.
pub(crate) struct Stillness {
    fingerprint: String,
    since: Instant,
}

impl Stillness {
    pub fn new(now: Instant) -> Self {
        Self {
            fingerprint: String::new(),
            since: now,
        }
    }

    /// How long the page has looked the same (0 while it loads or changes).
    pub fn observe(&mut self, page: &PageState, now: Instant) -> Duration {
        if !page.loaded || page.fingerprint != self.fingerprint {
            self.fingerprint.clone_from(&page.fingerprint);
            self.since = now;
        }
        now - self.since
    }
}

/// Whether the service account's username and password may be typed into the page at
/// `page`: only on the IdP's own origin (the login page's, `idp`), and only over https
/// unless the IdP is on this machine. The error says why not.
pub(crate) fn may_type_credentials(idp: &Url, page: Option<&Url>) -> Result<(), String> {
    let Some(page) = page else {
        return Err(
            "could not tell which site the login form is on; not typing the password".into(),
        );
    };
    if page.origin() != idp.origin() {
        return Err(format!(
            "the login form is on {}, not on the IdP's origin {}: saml-login types the \
             password only on the IdP's own pages",
            page.origin().ascii_serialization(),
            idp.origin().ascii_serialization()
        ));
    }
    if page.scheme() != "https" && !saml_login_capture::is_loopback_url(page) {
        return Err(format!(
            "the login form on {} is not served over https; not typing the password",
            page.origin().ascii_serialization()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(json: serde_json::Value) -> PageState {
        PageState::from_json(&json, None)
    }

    #[test]
    fn page_state_from_the_script_output() {
        let p = page(serde_json::json!({
            "password": true, "user": true, "userEditable": false, "submitted": false,
            "error": false, "loaded": true, "alert": "Wrong email or password",
            "heading": "Enter your password", "asks": ["Password", "Continue"],
            "location": "http://127.0.0.1:1/u/login/password", "fingerprint": "f"
        }));
        assert!(p.is_login_form());
        assert!(p.password && p.user && !p.user_editable && p.loaded);
        assert_eq!(p.alert.as_deref(), Some("Wrong email or password"));
        assert_eq!(p.asks, ["Password", "Continue"]);
        let empty = page(serde_json::json!({"alert": ""}));
        assert_eq!(empty.alert, None);
        assert!(!empty.is_login_form());
    }

    #[test]
    fn rejection_names_the_user_and_what_the_page_said_never_the_password() {
        let p = PageState {
            alert: Some("Incorrect username or password.".into()),
            ..PageState::default()
        };
        let msg = rejected("robot", &p).to_string();
        assert!(
            msg.contains("the IdP rejected the login of `robot`"),
            "{msg}"
        );
        assert!(msg.contains("Incorrect username or password."), "{msg}");
    }

    #[test]
    fn no_jar_is_not_an_expired_session() {
        let none = no_login(&[]);
        assert!(!none.to_string().contains("expired"), "{none}");
        assert!(none.to_string().contains("SAML_LOGIN_USERNAME"), "{none}");
        let jar = [Cookie {
            name: "s".into(),
            value: Secret::new("v"),
            domain: "idp.example".into(),
            path: "/".into(),
            expires: None,
            secure: true,
            http_only: true,
        }];
        assert!(matches!(no_login(&jar), CaptureError::SessionExpired(_)));
    }

    #[test]
    fn a_person_step_is_named() {
        let p = PageState {
            heading: "Verify your identity".into(),
            asks: vec![
                "Enter the code from your authenticator app".into(),
                "Verify".into(),
            ],
            location: "https://idp.example/mfa".into(),
            ..PageState::default()
        };
        let msg = waits_for_a_person(&p, STALL).to_string();
        assert!(msg.contains("\"Verify your identity\""), "{msg}");
        assert!(
            msg.contains("\"Enter the code from your authenticator app\", \"Verify\""),
            "{msg}"
        );
        assert!(msg.contains("--show-browser"), "{msg}");
    }

    #[test]
    fn stillness_restarts_when_the_page_changes_or_loads() {
        let t0 = Instant::now();
        let mut s = Stillness::new(t0);
        let mut p = PageState {
            loaded: true,
            fingerprint: "a".into(),
            ..PageState::default()
        };
        assert_eq!(s.observe(&p, t0), Duration::ZERO);
        assert_eq!(s.observe(&p, t0 + STALL), STALL);
        p.fingerprint = "b".into();
        assert_eq!(s.observe(&p, t0 + STALL), Duration::ZERO);
        p.loaded = false;
        assert_eq!(s.observe(&p, t0 + 2 * STALL), Duration::ZERO);
    }

    #[test]
    fn credentials_are_typed_only_on_the_idps_origin_over_https() {
        let u = |s: &str| Url::parse(s).unwrap();
        let idp = u("https://example.eu.auth0.com/samlp/client?RelayState=x");
        let ok = |page: &str| may_type_credentials(&idp, Some(&u(page)));
        assert_eq!(
            ok("https://example.eu.auth0.com/u/login/password?state=s"),
            Ok(())
        );
        for other in [
            "https://evil.example/u/login/password",
            "http://example.eu.auth0.com/u/login/password",
            "https://example.eu.auth0.com:8443/u/login",
            "https://sub.example.eu.auth0.com/u/login",
        ] {
            let e = ok(other).unwrap_err();
            assert!(e.contains("IdP's origin"), "{other}: {e}");
        }
        assert!(may_type_credentials(&idp, None).is_err());
        let plain = u("http://idp.example/samlp/c");
        let e = may_type_credentials(&plain, Some(&u("http://idp.example/login"))).unwrap_err();
        assert!(e.contains("https"), "{e}");
        let local = u("http://127.0.0.1:8080/samlp/c");
        assert_eq!(
            may_type_credentials(&local, Some(&u("http://127.0.0.1:8080/u/login"))),
            Ok(())
        );
    }
}
