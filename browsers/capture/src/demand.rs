//! What an IdP page can ask for that a browser of ours may be unable to give: a passkey
//! or security key (WebAuthn), or a managed, compliant device (Entra's Conditional
//! Access, Okta's device assurance and FastPass). Every browser watches for it the same
//! way: [`watch_script`] runs in each page before the IdP's scripts, [`PROBE_JS`] reads
//! the page, and [`PageProbe::demand`] names what it asks for, by the WebAuthn call or by
//! a row of [`SIGNATURES`]. The browser then ends the capture with
//! [`crate::CaptureError::Unsupported`], a typed outcome the core acts on (the webview
//! hands the login to the system browser; headless Chromium fails naming it).

use std::fmt;

use serde::{Deserialize, Serialize};

const WATCH_JS: &str = include_str!("demand.js");

/// The script to install in every page before its own scripts run. With `pass_on`,
/// WebAuthn calls go on to the browser's own implementation (a visible Chromium, where a
/// person can answer them); without, they never settle.
pub fn watch_script(pass_on: bool) -> String {
    let config = serde_json::json!({ "passOn": pass_on });
    WATCH_JS.replace("__SAML_LOGIN_DEMAND_CONFIG__", &config.to_string())
}

/// An expression that reads the page for [`PageProbe::from_json`]: the notes of
/// [`watch_script`], the page's visible text (its first 20,000 characters), where it is,
/// and how many fields it offers to type into.
pub const PROBE_JS: &str = r#"(() => {
  const notes = typeof window.__samlLoginDemands === 'function' ? window.__samlLoginDemands() : [];
  const body = document.body;
  const fields = Array.from(document.querySelectorAll('input, textarea')).filter((el) => {
    if (el.disabled || ['hidden', 'submit', 'button', 'image', 'reset', 'checkbox', 'radio'].includes(el.type)) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  }).length;
  return JSON.stringify({
    notes,
    text: body ? (body.innerText || '').slice(0, 20000) : '',
    location: location.origin + location.pathname,
    fields,
    loaded: document.readyState === 'complete'
  });
})()"#;

/// A page as [`PROBE_JS`] saw it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct PageProbe {
    /// What [`watch_script`] noted: `passkey`, `passkey-registration`, `okta-verify-probe`.
    #[serde(default)]
    pub notes: Vec<String>,
    /// The page's visible text.
    #[serde(default)]
    pub text: String,
    /// Scheme, host and path (no query: it may hold state).
    #[serde(default)]
    pub location: String,
    /// Visible fields a person could type into.
    #[serde(default)]
    pub fields: u32,
    #[serde(default)]
    pub loaded: bool,
}

impl PageProbe {
    /// Read [`PROBE_JS`]'s answer.
    pub fn from_json(text: &str) -> Option<Self> {
        serde_json::from_str(text).ok()
    }

    /// What the page asks for that a browser of ours may not give, if anything: a
    /// WebAuthn call first, then the first row of [`SIGNATURES`] that matches.
    pub fn demand(&self) -> Option<Demand> {
        if self.notes.iter().any(|n| n == "passkey") {
            return Some(Demand::Passkey {
                registration: false,
            });
        }
        if self.notes.iter().any(|n| n == "passkey-registration") {
            return Some(Demand::Passkey { registration: true });
        }
        let text = normalise(&self.text);
        SIGNATURES
            .iter()
            .find(|s| s.matches(self, &text))
            .map(|s| Demand::Page {
                signature: s.id.to_owned(),
                asks: s.asks.to_owned(),
            })
    }
}

/// Lower case, one space for any whitespace, typographic apostrophes as `'`.
fn normalise(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(['\u{2019}', '\u{2018}'], "'")
        .to_lowercase()
}

/// One known page that only a managed device (or another browser) gets past.
#[derive(Debug)]
pub struct Signature {
    /// The name saml-login gives it (the IdP's error code where it has one).
    pub id: &'static str,
    /// What the page asks for, for the message ("a compliant device ...").
    pub asks: &'static str,
    /// Any of these in the page's visible text (case and whitespace ignored).
    pub text: &'static [&'static str],
    /// A note of the watch script that must be there too.
    pub noted: Option<&'static str>,
    /// Only on a page that offers no field to type into (not a login form that also
    /// mentions the method).
    pub no_fields: bool,
}

impl Signature {
    fn matches(&self, page: &PageProbe, normalised_text: &str) -> bool {
        self.text
            .iter()
            .any(|t| normalised_text.contains(&normalise(t)))
            && self.noted.is_none_or(|n| page.notes.iter().any(|x| x == n))
            && (!self.no_fields || page.fields == 0)
    }
}

/// The known pages, in the order they are tried. To add one: a row here, a test page
/// in `tests/support/idp.py` (`--challenge`), and a line in the README's table.
pub const SIGNATURES: &[Signature] = &[
    Signature {
        id: "AADSTS53000",
        asks: "a compliant device managed by your organisation (Entra Conditional Access)",
        text: &["AADSTS53000", "Error Code: 53000"],
        noted: None,
        no_fields: false,
    },
    Signature {
        id: "AADSTS53001",
        asks: "a domain-joined device (Entra Conditional Access)",
        text: &["AADSTS53001", "Error Code: 53001"],
        noted: None,
        no_fields: false,
    },
    Signature {
        id: "AADSTS53003",
        asks: "a device or browser that Entra Conditional Access allows (it blocked this one)",
        text: &["AADSTS53003", "Error Code: 53003"],
        noted: None,
        no_fields: false,
    },
    Signature {
        id: "okta-device-assurance",
        asks: "a device that meets your organisation's device assurance policy (Okta)",
        text: &["Your device doesn't meet the security requirements"],
        noted: None,
        no_fields: false,
    },
    Signature {
        id: "okta-fastpass",
        asks: "Okta FastPass (Okta Verify on a registered device)",
        text: &["Okta Verify", "FastPass"],
        noted: Some("okta-verify-probe"),
        no_fields: true,
    },
];

/// What the IdP asks for that the browser cannot give; crosses the capture interface
/// (and the webview helper's pipe) as it is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Demand {
    /// `navigator.credentials.get` (or `create`, to register one) with `publicKey`.
    Passkey { registration: bool },
    /// A page of [`SIGNATURES`].
    Page { signature: String, asks: String },
}

impl Demand {
    /// The short name used in messages and in the remembered choice.
    pub fn short(&self) -> String {
        match self {
            Demand::Passkey { .. } => "a passkey".into(),
            Demand::Page { signature, .. } => format!("a managed device ({signature})"),
        }
    }
}

impl fmt::Display for Demand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Demand::Passkey {
                registration: false,
            } => f.write_str("the IdP asks for a passkey/security key (WebAuthn)"),
            Demand::Passkey { registration: true } => {
                f.write_str("the IdP asks to register a passkey/security key (WebAuthn)")
            }
            Demand::Page { signature, asks } => {
                write!(f, "the IdP's page asks for {asks} ({signature})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> PageProbe {
        PageProbe {
            text: text.into(),
            loaded: true,
            ..PageProbe::default()
        }
    }

    #[test]
    fn webauthn_calls_come_first() {
        let mut p = page("AADSTS53000");
        p.notes = vec!["passkey".into()];
        assert_eq!(
            p.demand(),
            Some(Demand::Passkey {
                registration: false
            })
        );
        p.notes = vec!["passkey-registration".into()];
        assert_eq!(p.demand(), Some(Demand::Passkey { registration: true }));
    }

    #[test]
    fn entra_codes_are_found_in_any_case_and_spacing() {
        for (text, id) in [
            (
                "AADSTS53000: Device is not in required device state: compliant.",
                "AADSTS53000",
            ),
            (
                "Troubleshooting details\nError  code:\n53001",
                "AADSTS53001",
            ),
            ("aadsts53003: Access has been blocked", "AADSTS53003"),
        ] {
            match page(text).demand() {
                Some(Demand::Page { signature, .. }) => assert_eq!(signature, id, "{text}"),
                other => panic!("{text}: {other:?}"),
            }
        }
        assert_eq!(page("AADSTS50126: Invalid username").demand(), None);
    }

    #[test]
    fn okta_fastpass_needs_the_probe_and_no_field() {
        let mut p = page("Sign in with Okta FastPass");
        assert_eq!(
            p.demand(),
            None,
            "the words alone are a login page's option"
        );
        p.notes = vec!["okta-verify-probe".into()];
        assert!(
            matches!(p.demand(), Some(Demand::Page { signature, .. }) if signature == "okta-fastpass")
        );
        p.fields = 1;
        assert_eq!(p.demand(), None, "a page with a field to type into goes on");
        let assurance = page("Your device doesn\u{2019}t meet the security requirements.");
        assert!(
            matches!(assurance.demand(), Some(Demand::Page { signature, .. }) if signature == "okta-device-assurance")
        );
    }

    #[test]
    fn an_ordinary_page_asks_for_nothing() {
        assert_eq!(page("Welcome. Email address. Continue").demand(), None);
        assert_eq!(PageProbe::from_json("not json"), None);
        let p = PageProbe::from_json(
            r#"{"notes":["passkey"],"text":"","location":"x","fields":0,"loaded":true}"#,
        )
        .unwrap();
        assert!(p.demand().is_some());
    }

    #[test]
    fn the_script_gets_its_configuration() {
        assert!(watch_script(true).contains(r#"{"passOn":true}"#));
        assert!(!watch_script(false).contains("__SAML_LOGIN_DEMAND_CONFIG__"));
    }

    #[test]
    fn demands_cross_the_wire_and_say_what_they_are() {
        for d in [
            Demand::Passkey {
                registration: false,
            },
            Demand::Page {
                signature: "AADSTS53001".into(),
                asks: "a domain-joined device".into(),
            },
        ] {
            let text = serde_json::to_string(&d).unwrap();
            assert_eq!(serde_json::from_str::<Demand>(&text).unwrap(), d);
        }
        assert!(
            Demand::Passkey {
                registration: false
            }
            .to_string()
            .contains("passkey/security key")
        );
    }
}
