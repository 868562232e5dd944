//! `--headless` with a cookie jar (`headless_mode`): the browserless first try
//! (`saml_login_http`: one GET of the start URL with the jar, the SAML form read
//! instead of run), the HTTP client it uses, and Chromium after it when the stored
//! session is not enough.

use saml_login_capture::{Browser, CaptureError, Cookie, Login, LoginRequest};
use saml_login_http::{Attempt, HttpLogin};

use crate::config::headless_mode::HeadlessMode;
use crate::error::Result;

/// The HTTP client of the browserless try for the IdP at `url`: the proxy, CA and
/// timeout settings every HTTP client of saml-login honours (`crate::net`).
fn http_agent(url: &url::Url) -> ureq::Agent {
    crate::net::agent_for(url)
}

/// The headless browser for `mode` and the jar's `cookies`: Chromium (`chromium`
/// opens it) alone, the browserless login alone, or the browserless login first.
/// Without a jar there is no session to try, so `auto` is Chromium.
pub(crate) fn open(
    mode: HeadlessMode,
    cookies: &[Cookie],
    chromium: impl FnOnce() -> Result<Box<dyn Browser>>,
) -> Result<Box<dyn Browser>> {
    let http = || HttpLogin::new(Box::new(http_agent), cookies.to_vec());
    Ok(match mode {
        HeadlessMode::Http => Box::new(HttpOnly(http())),
        HeadlessMode::Auto if !cookies.is_empty() => Box::new(HttpFirst {
            http: http(),
            chromium: chromium()?,
        }),
        HeadlessMode::Auto | HeadlessMode::Chromium => chromium()?,
    })
}

/// The browserless try, then Chromium when it cannot finish the login (said in one
/// `--verbose` line).
/// The browserless login alone (`headless_mode = http`), as a network wait.
struct HttpOnly(HttpLogin);

impl Browser for HttpOnly {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn capture(&mut self, request: &LoginRequest) -> std::result::Result<Login, CaptureError> {
        let _waiting = crate::net::Waiting::start();
        self.0
            .capture(request)
            .map_err(|e| certificate_named(e, &request.start_url))
    }
}

/// A certificate the IdP (or a proxy between) presented that is not trusted, said as
/// every client says it: one line with the host, the issuer presented and the setting
/// that would add it (`crate::net::tls_check`).
fn certificate_named(error: CaptureError, start: &url::Url) -> CaptureError {
    if crate::net::tls_check::is_certificate_error(&error.to_string()) {
        CaptureError::NotAvailable(crate::net::tls_check::certificate_failure(
            crate::net::current(),
            start,
        ))
    } else {
        error
    }
}

struct HttpFirst {
    http: HttpLogin,
    chromium: Box<dyn Browser>,
}

impl Browser for HttpFirst {
    fn name(&self) -> &'static str {
        self.chromium.name()
    }

    fn capture(&mut self, request: &LoginRequest) -> std::result::Result<Login, CaptureError> {
        // A network wait: the first Ctrl-C ends it at once (`crate::net::Waiting`).
        let attempt = {
            let _waiting = crate::net::Waiting::start();
            self.http.attempt(request)?
        };
        let needs = match attempt {
            Attempt::Captured(login) => {
                tracing::debug!(
                    "browserless: the stored session was enough; the SAML response came from the IdP's form, no browser started"
                );
                return Ok(login);
            }
            Attempt::NeedsBrowser(needs) => needs,
        };
        tracing::debug!(
            "browserless: {}; logging in with {} (headless_mode = auto)",
            needs.why,
            self.chromium.name()
        );
        // A missing browser is named only now that the login needs one.
        self.chromium.capture(request).map_err(|e| match e {
            CaptureError::NotAvailable(missing) => CaptureError::NotAvailable(format!(
                "{}, so the login needs a browser: {missing}",
                needs.why
            )),
            e => e,
        })
    }
}
