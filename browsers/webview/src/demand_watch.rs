//! Watching the window's pages for what this webview cannot give (a passkey: WebKitGTK
//! has no WebAuthn on Linux; a managed device): the watch script of
//! `saml_login_capture::demand`, installed as a user script, and a look at the page every
//! few ticks of the event loop. A demand ends the capture with `Unsupported`, which
//! saml-login answers by continuing the login in the system browser.

use std::sync::{Arc, Mutex};

use saml_login_capture::Demand;
use saml_login_capture::demand::{PROBE_JS, PageProbe};
use wry::WebView;

/// Look at the page every this many ticks (a tick is 100 ms).
const EVERY: u32 = 3;

/// The last look's answer, filled in by the webview's callback on the main thread.
#[derive(Default)]
pub(crate) struct DemandWatch {
    latest: Arc<Mutex<Option<String>>>,
    ticks: u32,
}

impl DemandWatch {
    /// On each tick: what the last look found, if the page asks for something this
    /// webview cannot give; and every [`EVERY`] ticks, the next look.
    pub(crate) fn tick(&mut self, view: &WebView) -> Option<Demand> {
        let seen = self.latest.lock().ok()?.take();
        if let Some(demand) = seen.as_deref().and_then(demand_in) {
            tracing::debug!(demand = %demand, "webview: the page asks for what this window cannot give");
            return Some(demand);
        }
        self.ticks += 1;
        if self.ticks.is_multiple_of(EVERY) {
            let slot = self.latest.clone();
            let asked = view.evaluate_script_with_callback(PROBE_JS, move |answer| {
                if let Ok(mut slot) = slot.lock() {
                    *slot = Some(answer);
                }
            });
            if let Err(e) = asked {
                tracing::debug!("webview: cannot look at the page: {e}");
            }
        }
        None
    }
}

/// The demand in the webview's answer to [`PROBE_JS`]: a JSON string holding the
/// probe's JSON (the script returns a string).
fn demand_in(answer: &str) -> Option<Demand> {
    let text: String = serde_json::from_str(answer).unwrap_or_else(|_| answer.to_owned());
    PageProbe::from_json(&text)?.demand()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_a_json_string_of_the_probe() {
        let probe = r#"{"notes":["passkey"],"text":"","location":"x","fields":0,"loaded":true}"#;
        let answer = serde_json::to_string(probe).unwrap();
        assert!(matches!(demand_in(&answer), Some(Demand::Passkey { .. })));
        assert!(matches!(demand_in(probe), Some(Demand::Passkey { .. })));
        assert_eq!(demand_in("null"), None);
        assert_eq!(demand_in(""), None);
    }
}
