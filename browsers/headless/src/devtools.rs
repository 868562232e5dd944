//! The DevTools side of the capture: the Fetch patterns that catch the callback's
//! origin, the interceptor that checks and answers a paused request inside Chromium,
//! and the conversions between our cookies and the protocol's.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use headless_chrome::Tab;
use headless_chrome::browser::tab::{RequestInterceptor, RequestPausedDecision};
use headless_chrome::protocol::cdp::Fetch::{
    self, FulfillRequest, HeaderEntry, RequestPattern, RequestStage,
};
use headless_chrome::protocol::cdp::Network;
use saml_login_capture::{Callback, Captured, Cookie, MAX_BODY_BYTES, Secret};
use url::Url;

/// What the interceptor hands to the wait loop.
pub(crate) enum Intercepted {
    Captured(Captured),
    TooLarge(usize),
}

/// Has Chromium pause every request to the callback's origin (see
/// [`callback_patterns`]) and answers each inside the browser: the page's own
/// navigation to the callback, when [`Callback::refusal`] finds nothing wrong, is sent
/// to the returned channel; everything else is refused or not found.
pub(crate) fn intercept_callback(
    tab: &Tab,
    callback_: &Callback,
) -> Result<mpsc::Receiver<Intercepted>, String> {
    let (tx, rx) = mpsc::channel::<Intercepted>();
    let tx = Mutex::new(tx);
    let callback = callback_.clone();
    // A page target's main frame has the target's id.
    let main_frame = tab.get_target_id().clone();
    let interceptor = move |_transport, _session, event: Fetch::events::RequestPausedEvent| {
        let params = event.params;
        let url = Url::parse(&params.request.url);
        let matched = url
            .as_ref()
            .is_ok_and(|u| callback.matches(&params.request.method, u));
        // Only the page itself navigating to the callback: not a (cross-origin) frame
        // on it posting a forged response, not a script's fetch.
        let top_navigation = params.frame_id == main_frame
            && params.resource_Type == Network::ResourceType::Document;
        if matched && !top_navigation {
            saml_login_capture::warning!(
                "refused a callback request that is not a navigation of the page itself (a frame or a script sent it); still waiting"
            );
            return RequestPausedDecision::Fulfill(FulfillRequest {
                request_id: params.request_id,
                ..html_page(400, "saml-login refused this request.")
            });
        }
        if !matched {
            // The patterns cover the callback's whole origin: nothing else on it (the
            // favicon of the answer page) may reach whatever listens on that port.
            tracing::debug!(method = %params.request.method, "answering a non-callback request to the callback origin");
            return RequestPausedDecision::Fulfill(FulfillRequest {
                request_id: params.request_id,
                ..html_page(404, "Not found.")
            });
        }
        let url = url.expect("matched above");
        let body = request_body(&params.request);
        let (page, sent) = if body.len() > MAX_BODY_BYTES {
            (
                html_page(
                    413,
                    "The login response is too large; saml-login refused it.",
                ),
                Intercepted::TooLarge(body.len()),
            )
        } else {
            let captured = Captured::from_request(&callback, url, &body);
            if let Some(why) = callback.refusal(&captured) {
                // Not ours (a foreign RelayState/state, no SAMLResponse/code): refuse it
                // in the browser and keep waiting, as the loopback server does.
                saml_login_capture::warning!("refused a callback request: {why}; still waiting");
                return RequestPausedDecision::Fulfill(FulfillRequest {
                    request_id: params.request_id,
                    ..html_page(400, &format!("saml-login refused this request: {why}"))
                });
            }
            (
                html_page(
                    200,
                    "saml-login has the response; this window can be closed.",
                ),
                Intercepted::Captured(captured),
            )
        };
        if let Ok(tx) = tx.lock() {
            let _ = tx.send(sent);
        }
        RequestPausedDecision::Fulfill(FulfillRequest {
            request_id: params.request_id,
            ..page
        })
    };
    let patterns = callback_patterns(callback_);
    tab.enable_fetch(Some(&patterns), None)
        .map_err(|e| e.to_string())?;
    tab.enable_request_interception(
        Arc::new(interceptor) as Arc<dyn RequestInterceptor + Send + Sync>
    )
    .map_err(|e| e.to_string())?;
    Ok(rx)
}

/// URL patterns (Fetch domain syntax: `*`, `?`, `\` escapes) that catch every request to
/// the callback's origin; every loopback name when the callback is on loopback.
pub(crate) fn callback_patterns(callback: &Callback) -> Vec<RequestPattern> {
    let escape = |s: &str| s.replace('\\', "\\\\").replace('?', "\\?");
    callback
        .intercept_hosts()
        .iter()
        .map(|host| RequestPattern {
            url_pattern: Some(format!("{}://{}/*", callback.url.scheme(), escape(host))),
            resource_Type: None,
            request_stage: Some(RequestStage::Request),
        })
        .collect()
}

/// The request body as Chromium reported it.
fn request_body(request: &Network::Request) -> Vec<u8> {
    if let Some(data) = &request.post_data {
        return data.as_bytes().to_vec();
    }
    let mut body = Vec::new();
    for entry in request.post_data_entries.iter().flatten() {
        if let Some(bytes) = entry.bytes.as_deref()
            && let Some(decoded) = base64_decode(bytes)
        {
            body.extend(decoded);
        }
    }
    body
}

fn html_page(status: u32, message: &str) -> FulfillRequest {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"saml-login-answer\">\
         <title>saml-login</title></head>\
         <body><p>{message}</p></body></html>"
    );
    FulfillRequest {
        request_id: String::new(),
        response_code: status,
        response_headers: Some(vec![
            HeaderEntry {
                name: "Content-Type".into(),
                value: "text/html; charset=utf-8".into(),
            },
            HeaderEntry {
                name: "Cache-Control".into(),
                value: "no-store".into(),
            },
        ]),
        binary_response_headers: None,
        body: Some(base64_encode(html.as_bytes())),
        response_phrase: None,
    }
}

pub(crate) fn cookie_param(c: &Cookie) -> Network::CookieParam {
    let host_only = !c.domain.starts_with('.');
    let scheme = if c.secure { "https" } else { "http" };
    Network::CookieParam {
        name: c.name.clone(),
        value: c.value.expose().to_string(),
        // A host-only cookie is set through a URL (a `domain` would make it a domain
        // cookie); a domain cookie keeps its leading dot.
        url: host_only.then(|| format!("{scheme}://{}{}", c.domain, c.path)),
        domain: (!host_only).then(|| c.domain.clone()),
        path: Some(c.path.clone()),
        secure: Some(c.secure),
        http_only: Some(c.http_only),
        same_site: None,
        expires: c.expires.map(|e| e as f64),
        priority: None,
        same_party: None,
        source_scheme: None,
        source_port: None,
        partition_key: None,
    }
}

/// All of the browser's cookies (not only the current page's).
pub(crate) fn read_cookies(tab: &Tab) -> Vec<Cookie> {
    match tab.call_method(Network::GetAllCookies(None)) {
        Ok(all) => all
            .cookies
            .into_iter()
            .map(|c| Cookie {
                name: c.name,
                value: Secret::new(c.value),
                domain: c.domain,
                path: c.path,
                expires: (!c.session && c.expires > 0.0).then_some(c.expires as i64),
                secure: c.secure,
                http_only: c.http_only,
            })
            .collect(),
        Err(e) => {
            tracing::debug!("could not read the browser's cookies: {e}");
            Vec::new()
        }
    }
}

fn base64_encode(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let compact: Vec<u8> = text.bytes().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use saml_login_capture::Method;

    #[test]
    fn base64_round_trip() {
        for s in ["", "f", "fo", "foo", "foob", "fooba", "foobar"] {
            let e = base64_encode(s.as_bytes());
            assert_eq!(base64_decode(&e).unwrap(), s.as_bytes());
        }
        assert_eq!(base64_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64_encode(b"fo"), "Zm8=");
    }

    #[test]
    fn loopback_callback_patterns_cover_every_name() {
        let post = |u: &str| Callback::new(Method::Post, Url::parse(u).unwrap());
        let p = callback_patterns(&post("http://localhost:12200/saml"));
        let p: Vec<_> = p.into_iter().map(|p| p.url_pattern.unwrap()).collect();
        assert_eq!(
            p,
            [
                "http://localhost:12200/*",
                "http://127.0.0.1:12200/*",
                "http://[::1]:12200/*"
            ]
        );
        let p = callback_patterns(&post("https://idp.example/saml"));
        assert_eq!(p[0].url_pattern.as_deref(), Some("https://idp.example/*"));
        let p = callback_patterns(&Callback::aws_signin(Method::Post));
        let p: Vec<_> = p.into_iter().map(|p| p.url_pattern.unwrap()).collect();
        assert!(
            p.contains(&"https://signin.aws.amazon.com/*".to_owned()),
            "{p:?}"
        );
        assert!(
            p.contains(&"https://*.signin.aws.amazon.com/*".to_owned()),
            "{p:?}"
        );
        assert!(
            p.contains(&"https://*.signin.amazonaws.cn/*".to_owned()),
            "{p:?}"
        );
    }

    #[test]
    fn host_only_and_domain_cookies() {
        let mut c = Cookie {
            name: "n".into(),
            value: Secret::new("v"),
            domain: "127.0.0.1".into(),
            path: "/".into(),
            expires: None,
            secure: false,
            http_only: true,
        };
        let p = cookie_param(&c);
        assert_eq!(p.url.as_deref(), Some("http://127.0.0.1/"));
        assert_eq!(p.domain, None);
        c.domain = ".example.com".into();
        let p = cookie_param(&c);
        assert_eq!(p.url, None);
        assert_eq!(p.domain.as_deref(), Some(".example.com"));
    }
}
