//! The SAML assertion parser never panics, whatever the IdP (or an attacker who can
//! post to the callback) sends.
//!
//! The input is used three ways: as the decoded XML (`Assertion::parse_xml`), as the
//! posted form value (`SamlResponse::new(..).parse()`, base64 + whitespace handling),
//! and base64-encoded, so mutations of the XML seeds reach the XML parser through the
//! whole `SamlResponse` path.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use saml_login::aws::assertion::{Assertion, SamlResponse};

fn check(result: saml_login::error::Result<Assertion>) {
    match result {
        Ok(a) => {
            // A successful parse always has a role, each once, in the IdP's order.
            assert!(!a.roles.is_empty(), "Ok with no role");
            let distinct: std::collections::BTreeSet<_> = a.roles.iter().collect();
            assert_eq!(distinct.len(), a.roles.len(), "a role listed twice");
            for r in &a.roles {
                let _ = (r.account(), r.name());
            }
            if let Some(d) = a.session_duration {
                assert!(d > 0, "non-positive SessionDuration accepted");
            }
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        check(Assertion::parse_xml(text));
        check(SamlResponse::new(text).parse());
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(data);
    check(SamlResponse::new(b64).parse());
});
