//! Getting a `SamlResponse` from a browser (any kind, a saved response included,
//! through the capture interface). Builds the login request once: the start URL with
//! our random `RelayState`, the callback to wait for, the timeout.

pub(crate) mod browser;
pub(crate) mod browserless;
pub(crate) mod handover;
pub(crate) mod idp_check;
pub(crate) mod lock;
pub(crate) mod pipeline;
pub(crate) mod role_choice;
pub(crate) mod saved_response;
#[cfg(feature = "webview")]
pub(crate) mod webview_process;

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use saml_login_capture::{
    Browser, Cancel, CaptureError, Captured, Cookie, Login, LoginRequest, random_token,
};

use crate::aws::assertion::SamlResponse;
use crate::config::Settings;
use crate::error::{Error, Result};

/// Build the login request for `settings`: the start URL (`login_url`, or
/// `{idp_url}/samlp/{client_id}`) with `RelayState=R`, and a POST to the callback
/// carrying `SAMLResponse` and `RelayState` = R (which an IdP-initiated `login_url`
/// captured in the browser may leave out).
pub(crate) fn saml_request(
    settings: &Settings,
    title: String,
    cancel: Cancel,
    checked: bool,
) -> LoginRequest {
    let relay_state = random_token();
    let mut start_url = settings.start_url();
    start_url
        .query_pairs_mut()
        .append_pair("RelayState", &relay_state);
    LoginRequest {
        start_url,
        callback: {
            let mut callback = settings.callback().requiring(&["SAMLResponse"]);
            if checked {
                callback = callback.checked_by(usable_saml_response);
            }
            // A post without our RelayState is refused where it applies, unless the user
            // says the IdP does not echo it (then the core checks the response itself).
            let required = settings.require_relay_state && settings.relay_state_applies();
            callback.with_state("RelayState", relay_state, required)
        },
        timeout: settings.shared.timeout,
        cancel,
        title,
    }
}

/// Whether the callback's `SAMLResponse` parses into an assertion with a role (what the
/// browser's page says when it does not).
fn usable_saml_response(captured: &Captured) -> std::result::Result<(), String> {
    let value = captured
        .field("SAMLResponse")
        .ok_or("the callback carried no SAMLResponse")?;
    SamlResponse::new(value.expose())
        .parse()
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// A SAML response as it reached saml-login.
#[derive(Debug)]
pub(crate) struct Received {
    pub response: SamlResponse,
    /// Whether it came back with the `RelayState` we sent (a saved response echoes it:
    /// the user handed it over).
    pub state_echoed: bool,
    /// The browser's cookies after the login (see [`Login::cookies`]).
    pub cookies: Vec<Cookie>,
}

/// Run the login in `browser` and take the SAML response from its callback.
pub(crate) fn saml_response(browser: &mut dyn Browser, request: &LoginRequest) -> Result<Received> {
    let Login {
        callback: captured,
        cookies,
    } = capture(browser, request)?;
    let response = captured
        .field("SAMLResponse")
        .ok_or_else(|| Error::Assertion("the callback carried no SAMLResponse".into()))?;
    tracing::debug!(bytes = response.len(), to = %captured.url, "captured the SAML response");
    // `accepts` already refused a foreign value: present means ours.
    let state_echoed = request
        .callback
        .state
        .as_ref()
        .is_none_or(|s| captured.field(&s.field).is_some());
    Ok(Received {
        response: SamlResponse::new(response.expose()).posted_to(captured.url.clone()),
        state_echoed,
        cookies,
    })
}

/// Run the login in `browser`, with a spinner on stderr while it waits.
pub(crate) fn capture(browser: &mut dyn Browser, request: &LoginRequest) -> Result<Login> {
    tracing::debug!(browser = browser.name(), url = %request.start_url, "logging in");
    let spinner = Spinner::start(browser.name());
    let captured = browser.capture(request);
    spinner.finish();
    for note in browser.notes() {
        crate::output::notice!("{note}");
    }
    captured.map_err(|e| match e {
        CaptureError::Cancelled if request.cancel.is_cancelled() => Error::Interrupted,
        e => Error::Capture(e),
    })
}

/// How long the spinner waits before it appears: the browser says first what it
/// opened (or which URL to open), on lines of its own that the spinner must not share.
const SPINNER_DELAY: Duration = Duration::from_millis(300);

/// A spinner on stderr (drawn only when stderr is a terminal), shown from
/// [`SPINNER_DELAY`] after the start until [`Spinner::finish`].
struct Spinner {
    bar: ProgressBar,
    stop: std::sync::mpsc::Sender<()>,
    shower: std::thread::JoinHandle<()>,
}

impl Spinner {
    fn start(browser: &str) -> Self {
        let bar = ProgressBar::hidden();
        bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid"));
        bar.set_message(format!("waiting for the login in the {browser}"));
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let shown = bar.clone();
        let shower = std::thread::spawn(move || {
            if stopped.recv_timeout(SPINNER_DELAY).is_err() {
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(120));
            }
        });
        Self { bar, stop, shower }
    }

    /// Stop and erase it (it never appears when the wait was shorter than the delay).
    fn finish(self) {
        let _ = self.stop.send(());
        let _ = self.shower.join();
        self.bar.finish_and_clear();
    }
}
