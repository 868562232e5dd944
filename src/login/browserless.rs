//! `--headless` with a cookie jar (`headless_mode`): the browserless first try
//! (`saml_login_http`: one GET of the start URL with the jar, the SAML form read
//! instead of run), the HTTP client it uses, and Chromium after it when the stored
//! session is not enough.

use std::time::Duration;

use saml_login_capture::{Browser, CaptureError, Cookie, Login, LoginRequest};
use saml_login_http::{Attempt, HttpLogin};

use crate::config::headless_mode::HeadlessMode;
use crate::error::Result;

/// The HTTP client of the browserless try, built in this one place so that the
/// proxy and CA settings every HTTP client of saml-login honours reach it here.
pub(crate) fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .user_agent(concat!("saml-login/", env!("CARGO_PKG_VERSION")))
        .timeout_connect(Some(Duration::from_secs(10)))
        .build()
        .into()
}

/// The headless browser for `mode` and the jar's `cookies`: Chromium (`chromium`
/// opens it) alone, the browserless login alone, or the browserless login first.
/// Without a jar there is no session to try, so `auto` is Chromium.
pub(crate) fn open(
    mode: HeadlessMode,
    cookies: &[Cookie],
    chromium: impl FnOnce() -> Result<Box<dyn Browser>>,
) -> Result<Box<dyn Browser>> {
    let http = || HttpLogin::new(http_agent(), cookies.to_vec());
    Ok(match mode {
        HeadlessMode::Http => Box::new(http()),
        HeadlessMode::Auto if !cookies.is_empty() => Box::new(HttpFirst {
            http: http(),
            chromium: chromium()?,
        }),
        HeadlessMode::Auto | HeadlessMode::Chromium => chromium()?,
    })
}

/// The browserless try, then Chromium when it cannot finish the login (said in one
/// `--verbose` line).
struct HttpFirst {
    http: HttpLogin,
    chromium: Box<dyn Browser>,
}

impl Browser for HttpFirst {
    fn name(&self) -> &'static str {
        self.chromium.name()
    }

    fn capture(&mut self, request: &LoginRequest) -> std::result::Result<Login, CaptureError> {
        let needs = match self.http.attempt(request)? {
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
