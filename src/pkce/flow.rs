//! The authorization code flow: the request a browser opens (with a fresh verifier
//! and `state`), the code taken from the callback, and its exchange for tokens at
//! `{idp_url}/oauth/token`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use saml_login_capture::{Callback, Cancel, Captured, LoginRequest, Method, Secret, random_token};
use url::Url;

use super::Pkce;
use super::settings::PkceSettings;
use crate::error::{Error, Result};

/// One authorization: the login request for a browser and the verifier kept back.
#[derive(Clone, Debug)]
pub(crate) struct Authorization {
    pub request: LoginRequest,
    pub pkce: Pkce,
}

/// Build the authorization request: `{idp_url}/authorize?response_type=code&...` with a
/// fresh verifier and `state`, and the GET to `pkce_callback_url` that must echo the
/// state and carry `code` or `error`.
pub(crate) fn authorization(
    settings: &PkceSettings,
    title: String,
    cancel: Cancel,
) -> Authorization {
    let pkce = Pkce::generate();
    let state = random_token();
    let mut start_url = settings.endpoint("authorize");
    {
        let mut query = start_url.query_pairs_mut();
        query
            .append_pair("response_type", "code")
            .append_pair("client_id", &settings.client_id)
            .append_pair("redirect_uri", settings.callback_url.as_str())
            .append_pair("scope", &settings.scope)
            .append_pair("state", &state)
            .append_pair("code_challenge", pkce.challenge())
            .append_pair("code_challenge_method", "S256");
        if let Some(audience) = &settings.audience {
            query.append_pair("audience", audience);
        }
    }
    Authorization {
        request: LoginRequest {
            start_url,
            callback: Callback::new(Method::Get, settings.callback_url.clone())
                .requiring(&["code", "error"])
                .with_state("state", state, true),
            timeout: settings.timeout,
            cancel,
            title,
        },
        pkce,
    }
}

/// The code in the captured callback, or the IdP's `error` as one line.
pub(crate) fn authorization_code(
    settings: &PkceSettings,
    request: &LoginRequest,
    captured: &Captured,
) -> Result<Secret> {
    // The system browser checks this before it stops waiting; check again for browsers
    // that hand back whatever reached the callback.
    request.callback.accepts(captured).map_err(|why| {
        idp_error(
            &request.callback.url,
            format!("refused the callback: {why}"),
        )
    })?;
    let authorize = settings.endpoint("authorize");
    if let Some(error) = captured.field("error") {
        let mut message = format!("the IdP answered {}", one_line(error.expose()));
        if let Some(description) = captured.field("error_description") {
            message.push_str(&format!(": {}", one_line(description.expose())));
        }
        return Err(idp_error(&authorize, message));
    }
    match captured.field("code") {
        Some(code) if !code.is_empty() => Ok(code.clone()),
        _ => Err(idp_error(
            &authorize,
            "the callback carried an empty code".into(),
        )),
    }
}

/// The token kinds pkce-login prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Id,
    Access,
}

impl TokenKind {
    /// The field of the token response.
    pub(crate) fn field(self) -> &'static str {
        match self {
            TokenKind::Id => "id_token",
            TokenKind::Access => "access_token",
        }
    }
}

/// The IdP's token response: a JSON object. `Debug` never shows the tokens.
#[derive(Clone)]
pub(crate) struct TokenResponse(serde_json::Map<String, serde_json::Value>);

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("fields", &self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenResponse {
    /// Parse the body of a successful token response.
    pub(crate) fn parse(body: &str) -> std::result::Result<Self, String> {
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err("the token response is not a JSON object".into()),
            Err(e) => Err(format!("the token response is not JSON ({e})")),
        }
    }

    /// A token of the response, when present and a non-empty string.
    pub(crate) fn token(&self, kind: TokenKind) -> Option<&str> {
        self.0
            .get(kind.field())
            .and_then(|v| v.as_str())
            .filter(|t| !t.is_empty())
    }

    /// The whole response as one line of JSON.
    pub(crate) fn to_json_line(&self) -> String {
        serde_json::Value::Object(self.0.clone()).to_string()
    }
}

/// Trade the code for tokens at `{idp_url}/oauth/token`.
pub(crate) fn exchange(
    settings: &PkceSettings,
    code: &Secret,
    pkce: &Pkce,
) -> Result<TokenResponse> {
    let url = settings.endpoint("oauth/token");
    let form = [
        ("grant_type", "authorization_code"),
        ("client_id", settings.client_id.as_str()),
        ("code_verifier", pkce.verifier().expose()),
        ("code", code.expose()),
        ("redirect_uri", settings.callback_url.as_str()),
    ];
    tracing::debug!(url = %url, "exchanging the authorization code");
    let (status, body) = post_form(&url, &form)?;
    tracing::debug!(status, bytes = body.len(), "token response");
    if status != 200 {
        return Err(idp_error(&url, token_error(status, &body)));
    }
    TokenResponse::parse(&body).map_err(|m| idp_error(&url, m))
}

/// POST a form; the status and body of any answer (4xx and 5xx included).
fn post_form(url: &Url, form: &[(&str, &str)]) -> Result<(u16, String)> {
    let _waiting = crate::net::Waiting::start();
    let agent: ureq::Agent = crate::net::agent_config_for(url)
        .http_status_as_error(false)
        .user_agent(concat!("pkce-login/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let unreachable = |e: ureq::Error| {
        idp_error(
            url,
            format!(
                "cannot reach the IdP ({})",
                crate::net::explain_ureq_error(url, &e)
            ),
        )
    };
    let mut response = agent
        .post(url.as_str())
        .header("Accept", "application/json")
        .send_form(form.iter().copied())
        .map_err(unreachable)?;
    let status = response.status().as_u16();
    let body = response.body_mut().read_to_string().map_err(unreachable)?;
    Ok((status, body))
}

/// `HTTP 400: invalid_grant: Failed to verify code verifier`, from an OAuth error body.
fn token_error(status: u16, body: &str) -> String {
    let json = serde_json::from_str::<serde_json::Value>(body).ok();
    let field = |name: &str| {
        json.as_ref()
            .and_then(|j| j.get(name))
            .and_then(|v| v.as_str())
            .map(one_line)
    };
    match (field("error"), field("error_description")) {
        (Some(e), Some(d)) => format!("HTTP {status}: {e}: {d}"),
        (Some(e), None) => format!("HTTP {status}: {e}"),
        _ if body.trim().is_empty() => format!("HTTP {status}"),
        _ => format!("HTTP {status}: {}", one_line(body)),
    }
}

/// The claims (payload) of a JWT as JSON. The signature is not checked.
pub(crate) fn jwt_claims(token: &str) -> std::result::Result<serde_json::Value, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [_, payload, _] = parts.as_slice() else {
        return Err(format!(
            "it is not a signed JWT (it has {} dot-separated parts, not 3)",
            parts.len()
        ));
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| format!("its payload is not base64url ({e})"))?;
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(claims @ serde_json::Value::Object(_)) => Ok(claims),
        Ok(_) => Err("its payload is not a JSON object".into()),
        Err(e) => Err(format!("its payload is not JSON ({e})")),
    }
}

/// An error about an IdP endpoint: `{url}: {message}`.
fn idp_error(url: &Url, message: String) -> Error {
    let mut shown = url.clone();
    shown.set_query(None);
    Error::Idp {
        endpoint: shown.to_string(),
        message,
    }
}

/// Text from the IdP on one line and of a sensible length.
fn one_line(text: &str) -> String {
    const MAX: usize = 300;
    let flat: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    if flat.chars().count() > MAX {
        format!("{}...", flat.chars().take(MAX).collect::<String>())
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Overrides;
    use crate::pkce::settings::tests::settings;

    #[test]
    fn authorization_request_and_callback() {
        let s = settings("api", &Overrides::default()).unwrap();
        let a = authorization(&s, "t".into(), Cancel::new());
        let url = &a.request.start_url;
        assert_eq!(url.path(), "/authorize");
        let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "dEfAuLt");
        assert_eq!(q["redirect_uri"], "http://localhost:12345/callback");
        assert_eq!(q["scope"], "openid email");
        assert_eq!(q["code_challenge"], a.pkce.challenge());
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["audience"], "https://api.example.com");
        assert!(!url.as_str().contains(a.pkce.verifier().expose()));
        let state = q["state"].clone();

        let cb = |query: &str| {
            let u = Url::parse(&format!("http://127.0.0.1:12345/callback?{query}")).unwrap();
            Captured::from_request(&a.request.callback, u, b"")
        };
        assert!(a.request.callback.matches(
            "GET",
            &Url::parse("http://127.0.0.1:12345/callback?code=x").unwrap()
        ));
        let code = authorization_code(&s, &a.request, &cb(&format!("code=abc&state={state}")));
        assert_eq!(code.unwrap().expose(), "abc");
        let forged = authorization_code(&s, &a.request, &cb("code=abc&state=forged"));
        assert!(forged.unwrap_err().to_string().contains("state"));
        let no_state = authorization_code(&s, &a.request, &cb("code=abc"));
        assert!(no_state.is_err());
        let denied = authorization_code(
            &s,
            &a.request,
            &cb(&format!(
                "error=access_denied&error_description=User%20did%0Anot%20authorize&state={state}"
            )),
        );
        assert_eq!(
            denied.unwrap_err().to_string(),
            "https://example.eu.auth0.com/authorize: the IdP answered access_denied: User did not authorize"
        );
    }

    #[test]
    fn token_errors_are_one_line() {
        assert_eq!(
            token_error(
                400,
                r#"{"error":"invalid_grant","error_description":"Failed to verify code verifier"}"#
            ),
            "HTTP 400: invalid_grant: Failed to verify code verifier"
        );
        assert_eq!(token_error(403, r#"{"error":"x"}"#), "HTTP 403: x");
        assert_eq!(
            token_error(502, "<html>\n<b>Bad</b>\n</html>"),
            "HTTP 502: <html> <b>Bad</b> </html>"
        );
        assert_eq!(token_error(500, ""), "HTTP 500");
    }

    #[test]
    fn jwt_payloads() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"aud":"c","sub":"u"}"#);
        let claims = jwt_claims(&format!("eyJhbGciOiJSUzI1NiJ9.{payload}.sig")).unwrap();
        assert_eq!(claims["aud"], "c");
        assert!(jwt_claims("opaque-token").unwrap_err().contains("1 dot"));
        assert!(jwt_claims("a.!!.c").unwrap_err().contains("base64url"));
        let list = URL_SAFE_NO_PAD.encode(b"[1]");
        assert!(jwt_claims(&format!("a.{list}.c")).is_err());
    }

    #[test]
    fn token_response() {
        let r = TokenResponse::parse(
            "{\n \"id_token\": \"i.d.t\",\n \"access_token\": \"\", \"expires_in\": 1}",
        )
        .unwrap();
        assert_eq!(r.token(TokenKind::Id), Some("i.d.t"));
        assert_eq!(r.token(TokenKind::Access), None);
        let line = r.to_json_line();
        assert!(!line.contains('\n'));
        assert!(!format!("{r:?}").contains("i.d.t"));
        assert!(TokenResponse::parse("[]").is_err());
    }
}
