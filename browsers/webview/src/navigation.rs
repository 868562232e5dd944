//! The navigation guard: nothing in the window ever reaches the callback URL, and a
//! navigation to a GET callback (OAuth's redirect) is the capture itself.

use saml_login_capture::{Callback, Captured, MAX_BODY_BYTES, Method};
use url::Url;

use crate::Delivery;

/// What the navigation handler does with one navigation.
#[derive(Debug)]
pub(crate) enum Navigation {
    /// Not the callback: let it load.
    Allow,
    /// The callback URL, not captured here (a POST callback is captured through IPC).
    Block,
    /// A GET callback that passed `Callback::accepts`: block it and hand it over.
    Capture(Captured),
    /// A GET callback that failed the checks: block it, keep waiting. The reason names
    /// fields, never their values.
    Refuse(String),
}

/// Decide one navigation: nothing in the window ever reaches the callback URL, and a
/// navigation to a GET callback is the capture itself.
pub(crate) fn classify_navigation(callback: &Callback, uri: &str) -> Navigation {
    let url = match Url::parse(uri) {
        Ok(url) if callback.matches_url(&url) => url,
        _ => return Navigation::Allow,
    };
    if callback.method != Method::Get {
        return Navigation::Block;
    }
    if url.query().is_some_and(|q| q.len() > MAX_BODY_BYTES) {
        return Navigation::Refuse("the query is larger than MAX_BODY_BYTES".into());
    }
    let captured = Captured::from_request(callback, url, b"");
    match callback.accepts(&captured) {
        Ok(()) => Navigation::Capture(captured),
        Err(why) => Navigation::Refuse(why),
    }
}

/// The navigation handler: `true` lets the navigation happen.
pub(crate) fn navigation_handler(callback: &Callback, delivery: &Delivery, uri: &str) -> bool {
    match classify_navigation(callback, uri) {
        Navigation::Allow => true,
        Navigation::Block => {
            tracing::debug!("webview: blocked a navigation to the callback URL");
            false
        }
        Navigation::Capture(captured) => {
            tracing::debug!("webview: captured the callback navigation (blocked)");
            delivery.deliver(captured);
            false
        }
        Navigation::Refuse(reason) => {
            // Never the URL: its query holds the code.
            saml_login_capture::warning!(
                "refused a navigation to the callback in the webview: {reason}; still waiting"
            );
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cb() -> Callback {
        Callback::new(
            Method::Post,
            Url::parse("http://localhost:12200/saml").unwrap(),
        )
    }

    #[test]
    fn navigation_to_post_callback_is_blocked() {
        assert!(matches!(
            classify_navigation(&cb(), "http://127.0.0.1:12200/saml"),
            Navigation::Block
        ));
        assert!(matches!(
            classify_navigation(&cb(), "http://127.0.0.1:12200/saml?code=a&state=s"),
            Navigation::Block
        ));
        assert!(matches!(
            classify_navigation(&cb(), "https://idp.example.com/u/login"),
            Navigation::Allow
        ));
    }

    fn get_cb() -> Callback {
        Callback::new(
            Method::Get,
            Url::parse("http://localhost:12300/callback").unwrap(),
        )
        .requiring(&["code", "error"])
        .with_state("state", "s3".into(), true)
    }

    #[test]
    fn navigation_to_get_callback_is_captured_and_blocked() {
        match classify_navigation(
            &get_cb(),
            "http://127.0.0.1:12300/callback?code=c0de&state=s3",
        ) {
            Navigation::Capture(got) => {
                assert_eq!(got.method, Method::Get);
                assert_eq!(got.field("code").unwrap().expose(), "c0de");
                assert_eq!(got.field("state").unwrap().expose(), "s3");
            }
            other => panic!("{other:?}"),
        }
        let error = "http://localhost:12300/callback/?error=access_denied&state=s3";
        assert!(matches!(
            classify_navigation(&get_cb(), error),
            Navigation::Capture(_)
        ));
        for refused in [
            "http://localhost:12300/callback?code=c0de&state=s4",
            "http://localhost:12300/callback?code=c0de",
            "http://localhost:12300/callback?state=s3",
            "http://localhost:12300/callback",
        ] {
            match classify_navigation(&get_cb(), refused) {
                Navigation::Refuse(why) => {
                    assert!(!why.contains("c0de") && !why.contains("s4"), "{why}")
                }
                other => panic!("{refused}: {other:?}"),
            }
        }
        for other in [
            "http://localhost:12301/callback?code=c0de&state=s3",
            "http://localhost:12300/other?code=c0de&state=s3",
            "https://idp.example.com/authorize?state=s3",
            "not a url",
        ] {
            assert!(
                matches!(classify_navigation(&get_cb(), other), Navigation::Allow),
                "{other}"
            );
        }
    }
}
