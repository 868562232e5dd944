//! The webview handing a login over to the system browser when the IdP asks for what
//! the window cannot give (a passkey, a managed device; see
//! `saml_login_capture::demand`): the window closes and the same login goes on in the
//! user's browser, with the same request (our `RelayState`, the loopback callback), the
//! IdP's login lock still held, the port's lock taken, and what is left of the timeout.
//! The IdP is remembered (`storage::webview_refusals`), so that the next login there
//! goes straight to the browser, saying so once per run.

use std::time::Instant;

use saml_login_capture::{CaptureError, Demand, LoginRequest};

use crate::config::browser_setup::BrowserSetup;
use crate::error::{Error, Result};
use crate::login::lock::LoginLock;
use crate::login::pipeline::Context;
use crate::login::{self, Received};
use crate::storage::webview_refusals::WebviewRefusals;

/// Whether a webview login may continue in the system browser: only a webview, and
/// only with a callback the system browser can receive (loopback http).
pub(crate) fn possible(browser: &BrowserSetup, request: &LoginRequest) -> bool {
    matches!(browser, BrowserSetup::Webview { .. })
        && request.callback.url.scheme() == "http"
        && request.callback.is_loopback()
}

fn refusals(cx: &Context) -> WebviewRefusals {
    WebviewRefusals::new(cx.job.paths.cache.clone())
}

/// Before a webview login: when the webview could not serve this IdP before (and
/// `--retry-webview` does not say to try again), the notice that says so (without the tool's name); the login then
/// goes straight to the system browser.
pub(crate) fn remembered(cx: &Context, request: &LoginRequest) -> Option<String> {
    let setup = cx.job.login.as_ref()?;
    if !possible(&setup.browser, request) {
        return None;
    }
    let refusals = refusals(cx);
    if setup.retry_webview {
        if let Err(e) = refusals.forget(Some(cx.idp.as_str())) {
            crate::output::warning!("cannot forget the webview's refusal: {e}");
        }
        return None;
    }
    let refusal = refusals.get(cx.idp.as_str())?;
    Some(format!(
        "the webview could not serve this IdP on {} (it asked for {}); logging in in your browser (--retry-webview or `saml-login logout` forgets this)",
        refusal.date(),
        refusal.asked_for
    ))
}

/// The webview met `demand`: say so, remember the IdP, and continue the login in the
/// system browser.
pub(crate) fn after_demand(
    cx: &Context,
    request: &LoginRequest,
    began: Instant,
    demand: &Demand,
    port_setting: &'static str,
) -> Result<Received> {
    crate::output::notice!(
        "the IdP asks for {}, which this window cannot provide; continuing in your browser",
        demand.short()
    );
    if let Err(e) = refusals(cx).remember(cx.idp.as_str(), &demand.short(), cx.clock()) {
        crate::output::warning!("cannot remember that the webview cannot serve this IdP: {e}");
    }
    in_system_browser(cx, request, began, port_setting)
}

/// The login of `request` in the system browser, within what is left of its timeout
/// since `began`, holding the callback port's lock as a system-browser login does.
pub(crate) fn in_system_browser(
    cx: &Context,
    request: &LoginRequest,
    began: Instant,
    port_setting: &'static str,
) -> Result<Received> {
    let left = request
        .timeout
        .checked_sub(began.elapsed())
        .filter(|left| !left.is_zero())
        .ok_or(Error::Capture(CaptureError::Timeout(request.timeout)))?;
    let _port = match request.callback.port() {
        Some(port) => Some(
            LoginLock::acquire(
                &cx.cache.locks_dir(),
                &format!("callback port {port}"),
                left,
                &cx.cancel,
            )?
            .0,
        ),
        None => None,
    };
    let mut rest = request.clone();
    rest.timeout = left;
    let mut browser = saml_login_system::SystemBrowser::new(saml_login_system::Open::Browser)
        .with_programs(cx.job.paths.programs.clone());
    login::saml_response(&mut browser, &rest).map_err(|e| match e {
        // The whole login's timeout, not what was left of it.
        Error::Capture(CaptureError::Timeout(_)) => {
            Error::Capture(CaptureError::Timeout(request.timeout))
        }
        e => e.port_from_setting(port_setting),
    })
}
