//! The capture script's channel: the script that hooks the IdP page's form submission,
//! and the checks every IPC message must pass (the IdP's origin, this run's token, the
//! callback as the form's action, the callback's own field and state checks) before its
//! fields count as the capture.

use std::borrow::Cow;

use saml_login_capture::{Callback, Captured, MAX_BODY_BYTES, Method, Secret, constant_time_eq};
use serde::Deserialize;
use url::Url;

use crate::Delivery;

const CAPTURE_JS: &str = include_str!("capture.js");

/// The initialization script with its configuration filled in as JSON literals.
pub(crate) fn capture_script(start_url: &Url, callback: &Callback, token: &str) -> String {
    let config = serde_json::json!({
        "origin": start_url.origin().ascii_serialization(),
        "callback": callback.url.as_str(),
        "awsSignin": callback.any_aws_signin,
        "token": token,
    });
    CAPTURE_JS.replace("__SAML_LOGIN_CONFIG__", &config.to_string())
}

/// One message of the capture script (capture.js): the run's token, the form's action
/// and its fields as `[name, value]` pairs.
#[derive(Deserialize)]
struct Message {
    token: String,
    action: String,
    fields: Vec<(String, String)>,
}

/// The IPC handler: accepts one message that passes every check, ignores the rest.
pub(crate) fn ipc_handler(
    idp_origin: url::Origin,
    token: String,
    callback: Callback,
    delivery: Delivery,
) -> impl Fn(wry::http::Request<String>) + 'static {
    move |req| {
        let page = req.uri().to_string();
        match accept_message(&idp_origin, &token, &callback, &page, req.body()) {
            Ok(captured) => delivery.deliver(captured),
            Err(reason) => {
                // Never log the message itself: it may hold the assertion.
                saml_login_capture::warning!(
                    "ignored a message from the page at {} in the webview: {reason}; still waiting",
                    origin_of(&page)
                );
            }
        }
    }
}

/// Check one IPC message; the error is a reason fit for a log (no field values).
/// A refused message leaves the wait going on (the page may post again).
pub(crate) fn accept_message(
    idp_origin: &url::Origin,
    token: &str,
    callback: &Callback,
    page: &str,
    body: &str,
) -> Result<Captured, Cow<'static, str>> {
    if callback.method != Method::Post {
        return Err("the callback is not a POST".into());
    }
    let page = Url::parse(page).map_err(|_| Cow::Borrowed("the sending page has no valid URL"))?;
    if &page.origin() != idp_origin {
        return Err("the sending page is not on the IdP's origin".into());
    }
    // JSON escaping can at most sextuple a byte (\u00XX); anything larger is not a form
    // we would accept anyway.
    if body.len() > 6 * MAX_BODY_BYTES {
        return Err("the message is too large".into());
    }
    // serde's own message could quote what the page sent: a fixed reason instead.
    let message: Message = serde_json::from_str(body).map_err(|_| {
        Cow::Borrowed("the message is not {token, action, fields: [[name, value], ...]}")
    })?;
    if !constant_time_eq(message.token.as_bytes(), token.as_bytes()) {
        return Err("the message has the wrong token".into());
    }
    let action = Url::parse(&message.action)
        .map_err(|_| Cow::Borrowed("the message has no valid action URL"))?;
    if !callback.matches_url(&action) {
        return Err("the form's action is not the callback".into());
    }
    let size: usize = message
        .fields
        .iter()
        .map(|(k, v)| k.len() + v.len() + 2)
        .sum();
    if size > MAX_BODY_BYTES {
        return Err("the form is larger than MAX_BODY_BYTES".into());
    }
    let captured = Captured {
        method: Method::Post,
        url: action,
        fields: message
            .fields
            .into_iter()
            .map(|(k, v)| (k, Secret::new(v)))
            .collect(),
    };
    // Required fields and the echoed RelayState; the reason names fields, not values.
    callback
        .accepts(&captured)
        .map_err(|why| format!("refused: {why}"))?;
    Ok(captured)
}

fn origin_of(page: &str) -> String {
    Url::parse(page)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_else(|_| "(invalid URL)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(u: &str) -> url::Origin {
        Url::parse(u).unwrap().origin()
    }

    fn cb() -> Callback {
        Callback::new(
            Method::Post,
            Url::parse("http://localhost:12200/saml").unwrap(),
        )
    }

    fn msg(token: &str, action: &str) -> String {
        serde_json::json!({"token": token, "action": action,
            "fields": [["SAMLResponse", "PHNh"], ["RelayState", "r"]]})
        .to_string()
    }
    #[test]
    fn accepts_only_idp_origin_token_and_callback() {
        let idp = origin("https://idp.example.com/samlp/x");
        let ok = accept_message(
            &idp,
            "tok",
            &cb(),
            "https://idp.example.com/samlp/x",
            &msg("tok", "http://127.0.0.1:12200/saml"),
        )
        .unwrap();
        assert_eq!(ok.field("SAMLResponse").unwrap().expose(), "PHNh");
        assert_eq!(ok.method, Method::Post);

        let other_page = "https://evil.example.com/";
        let good = msg("tok", "http://localhost:12200/saml");
        assert!(accept_message(&idp, "tok", &cb(), other_page, &good).is_err());
        let page = "https://idp.example.com/p";
        assert!(
            accept_message(
                &idp,
                "tok",
                &cb(),
                page,
                &msg("tok2", "http://localhost:12200/saml")
            )
            .is_err()
        );
        assert!(
            accept_message(
                &idp,
                "tok",
                &cb(),
                page,
                &msg("", "http://localhost:12200/saml")
            )
            .is_err()
        );
        assert!(
            accept_message(
                &idp,
                "tok",
                &cb(),
                page,
                &msg("tok", "http://localhost:12201/saml")
            )
            .is_err()
        );
        assert!(accept_message(&idp, "tok", &cb(), page, "not json").is_err());
        let bad_fields =
            r#"{"token":"tok","action":"http://localhost:12200/saml","fields":[["a",1]]}"#;
        assert!(accept_message(&idp, "tok", &cb(), page, bad_fields).is_err());
    }

    #[test]
    fn ipc_is_refused_for_a_get_callback() {
        let idp = origin("https://idp.example.com/samlp/x");
        let get = Callback::new(
            Method::Get,
            Url::parse("http://localhost:12200/saml").unwrap(),
        );
        let message = msg("tok", "http://localhost:12200/saml");
        assert!(accept_message(&idp, "tok", &get, "https://idp.example.com/p", &message).is_err());
    }

    #[test]
    fn script_has_config_literals() {
        let s = capture_script(
            &Url::parse("https://idp.example.com:8443/samlp/x").unwrap(),
            &Callback::new(
                saml_login_capture::Method::Post,
                Url::parse("http://localhost:12200/saml").unwrap(),
            ),
            "abc",
        );
        assert!(s.contains(r#""origin":"https://idp.example.com:8443""#));
        assert!(s.contains(r#""awsSignin":false"#));
        assert!(s.contains(r#""token":"abc""#));
        assert!(!s.contains("__SAML_LOGIN_CONFIG__"));
    }

    #[test]
    fn refusal_reasons_never_quote_the_message() {
        let idp = origin("https://idp.example.com/samlp/x");
        let page = "https://idp.example.com/p";
        for body in [
            r#"{"token":"tok","action":"http://localhost:12200/saml","fields":[["SAMLResponse",7]]}"#,
            r#"{"token":"tok","action":"http://localhost:12200/saml","fields":[["SAMLResponse","s3cret","x"]]}"#,
            r#"{"token":"s3cret","action":"http://localhost:12200/saml"}"#,
        ] {
            let why = accept_message(&idp, "tok", &cb(), page, body).unwrap_err();
            assert!(!why.contains("s3cret") && !why.contains('7'), "{why}");
        }
    }
}
