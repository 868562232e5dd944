//! Watching the IdP's pages for what this Chromium cannot give (a passkey, a managed
//! device): the watch script of `saml_login_capture::demand`, installed with DevTools'
//! `Page.addScriptToEvaluateOnNewDocument` before the login page opens, and the check
//! the wait loop makes on each look at the page.

use headless_chrome::Tab;
use headless_chrome::protocol::cdp::Page;
use saml_login_capture::demand::{PROBE_JS, PageProbe, watch_script};
use saml_login_capture::{CaptureError, Demand};

/// Install the watch in every document the tab loads from now on. In a visible
/// Chromium (`show_window`) WebAuthn calls go on to Chromium's own, for the person at
/// the window to answer.
pub(crate) fn install(tab: &Tab, show_window: bool) -> Result<(), String> {
    tab.call_method(Page::AddScriptToEvaluateOnNewDocument {
        source: watch_script(show_window),
        world_name: None,
        include_command_line_api: None,
        run_immediately: None,
    })
    .map(|_| ())
    .map_err(|e| e.to_string())
}

/// `Unsupported` when the current page asks for what this run cannot give: anything
/// of the table headless; in a visible Chromium only a managed device (a person can
/// answer a passkey there, never make a fresh profile a managed device).
pub(crate) fn check(tab: &Tab, show_window: bool) -> Result<(), CaptureError> {
    let Some(demand) = current(tab) else {
        return Ok(());
    };
    match (&demand, show_window) {
        (Demand::Passkey { .. }, true) => Ok(()),
        (_, true) => Err(CaptureError::Unsupported {
            browser: "a fresh Chromium profile",
            demand,
        }),
        (_, false) => Err(CaptureError::Unsupported {
            browser: "a headless login",
            demand,
        }),
    }
}

/// What the current page asks for (nothing when it cannot be read, between documents).
fn current(tab: &Tab) -> Option<Demand> {
    let result = tab.evaluate(PROBE_JS, false).ok()?;
    let probe = PageProbe::from_json(result.value.as_ref()?.as_str()?)?;
    let demand = probe.demand();
    if let Some(d) = &demand {
        tracing::debug!(page = %probe.location, demand = %d, "the page asks for what this browser may not give");
    }
    demand
}
