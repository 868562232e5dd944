//! OAuth tokens for `pkce-login`: the authorization code flow with PKCE (RFC 7636,
//! S256) run in any of saml-login's browsers, then the code exchanged at the IdP's
//! `/oauth/token`.
//!
//! The configuration is `~/.pkce-login`, read with the same ini rules as `~/.saml-login`
//! ([`IniFile`]); the keys both tools share (`idp_url`, `client_id`, `listen_port`,
//! `browser`, `timeout`, `cookies`) resolve through [`Settings`], so their checks and
//! messages are the same.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ini::{Ini, ParseOption};
use saml_login_capture::{Callback, Cancel, Captured, LoginRequest, Method, Secret, random_token};
use sha2::{Digest, Sha256};
use url::Url;

use crate::browser::BrowserKind;
use crate::config::{IniFile, Overrides, Settings};
use crate::error::{Error, Result};

/// `scope` when none is configured.
pub const DEFAULT_SCOPE: &str = "openid profile";
/// `pkce_callback_url` when none is configured; `{listen_port}` is replaced.
pub const DEFAULT_CALLBACK_URL: &str = "http://localhost:{listen_port}/callback";
/// How long the token request may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------
// PKCE
// ---------------------------------------------------------------------------------

/// A code verifier and its S256 challenge.
#[derive(Clone, Debug)]
pub struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    /// A fresh verifier: 32 random bytes, base64url without padding (43 characters).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
        Self::from_bytes(&bytes)
    }

    /// The verifier made of `bytes` (RFC 7636 section 4.1).
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        let challenge = s256_challenge(&verifier);
        Self {
            verifier: Secret::new(verifier),
            challenge,
        }
    }

    /// Sent only with the token request.
    pub fn verifier(&self) -> &Secret {
        &self.verifier
    }

    /// Sent with the authorization request.
    pub fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// `BASE64URL(SHA256(ASCII(verifier)))`, without padding (RFC 7636 section 4.2).
pub fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

// ---------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------

/// `~/.pkce-login`: the parsed file, plus the raw ini for the keys only pkce-login has.
#[derive(Clone, Debug)]
pub struct PkceFile {
    file: IniFile,
    /// For `audience`, `scope` and `pkce_callback_url`: [`IniFile`] has no public
    /// lookup of a section's keys yet.
    raw: Ini,
}

impl PkceFile {
    /// Parse `text` read from `path` (the path is only for messages).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let file = IniFile::parse(text, path)?;
        let options = ParseOption {
            enabled_quote: false,
            enabled_escape: false,
            enabled_indented_mutiline_value: true,
            enabled_preserve_key_leading_whitespace: false,
        };
        let raw = Ini::load_from_str_opt(text, options).map_err(|e| Error::ConfigSyntax {
            path: path.to_owned(),
            line: e.line,
            message: e.msg.into_owned(),
        })?;
        Ok(Self { file, raw })
    }

    /// Read and parse a file; a missing file is an empty configuration unless
    /// `must_exist` (the user named it).
    pub fn load(path: &Path, must_exist: bool) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                let mut empty = Self::parse("", path)?;
                // A first run: say the file does not exist, not that a key is missing.
                empty.file.exists = false;
                Ok(empty)
            }
            Err(source) => Err(Error::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.file.path
    }

    /// A key of `section`, falling back to `[DEFAULT]`; with where it came from.
    fn get(&self, section: &str, key: &str) -> Option<(String, String)> {
        let lookup = |name: &str| {
            self.raw
                .section_all(Some(name))
                .flat_map(|props| props.iter())
                .filter(|(k, _)| k.trim().eq_ignore_ascii_case(key))
                .map(|(_, v)| v.trim().to_owned())
                .next_back()
        };
        let path = self.file.path.display();
        lookup(section)
            .map(|v| (v, format!("[{section}] of {path}")))
            .or_else(|| lookup("DEFAULT").map(|v| (v, format!("[DEFAULT] of {path}"))))
            .filter(|(v, _)| !v.is_empty())
    }
}

/// Values from the command line.
#[derive(Clone, Debug, Default)]
pub struct PkceOverrides {
    /// Keys shared with saml-login (`idp_url`, `client_id`, `listen_port`, `browser`,
    /// `timeout`, `cookies`).
    pub common: Overrides,
    pub audience: Option<String>,
    pub scope: Option<String>,
}

/// Everything a token request needs, resolved once.
#[derive(Clone, Debug)]
pub struct PkceSettings {
    pub section: String,
    pub idp_url: Url,
    pub client_id: String,
    pub listen_port: u16,
    pub audience: Option<String>,
    pub scope: String,
    /// `pkce_callback_url`: the `redirect_uri`, where the browser brings the code.
    pub callback_url: Url,
    /// The setting the callback's port comes from (`pkce_callback_url` when it is
    /// configured, else `listen_port`), for the busy-port hint.
    pub port_setting: &'static str,
    pub browser: Option<BrowserKind>,
    pub timeout: Duration,
    pub cookies: Option<PathBuf>,
    pub chrome: Option<PathBuf>,
}

impl PkceSettings {
    /// Resolve `section` of `file` under `overrides`: flag, then the section, then
    /// `[DEFAULT]`, then the built-in default.
    pub fn resolve(file: &PkceFile, section: &str, overrides: &PkceOverrides) -> Result<Self> {
        let common = Settings::resolve(&file.file, section, &overrides.common)?;
        let (idp_url, client_id) = common
            .idp(&file.file.path)
            .map(|(u, c)| (u.clone(), c.to_owned()))?;
        let flag = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let audience =
            flag(&overrides.audience).or_else(|| file.get(section, "audience").map(|(v, _)| v));
        let scope = flag(&overrides.scope)
            .or_else(|| file.get(section, "scope").map(|(v, _)| v))
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| DEFAULT_SCOPE.to_owned());
        let configured = file.get(section, "pkce_callback_url");
        let port_setting = if configured.is_some() {
            "pkce_callback_url"
        } else {
            "listen_port"
        };
        let (template, origin) = configured
            .unwrap_or_else(|| (DEFAULT_CALLBACK_URL.to_owned(), "the default".to_owned()));
        let callback_url =
            parse_callback(&template, common.listen_port).map_err(|message| Error::BadValue {
                field: "pkce_callback_url".into(),
                origin,
                message,
            })?;
        Ok(Self {
            section: common.section,
            idp_url,
            client_id,
            listen_port: common.listen_port,
            audience,
            scope,
            callback_url,
            port_setting,
            browser: common.browser,
            timeout: common.timeout,
            cookies: common.cookies,
            chrome: common.chrome,
        })
    }

    /// `{idp_url}/{path}`.
    pub fn endpoint(&self, path: &str) -> Url {
        let base = self.idp_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/{path}")).expect("built from a valid URL")
    }
}

fn parse_callback(template: &str, listen_port: u16) -> std::result::Result<Url, String> {
    let text = template.replace("{listen_port}", &listen_port.to_string());
    let url = Url::parse(&text).map_err(|e| format!("{text:?} is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!("{text:?} is not an http(s) URL"));
    }
    Ok(url)
}

// ---------------------------------------------------------------------------------
// The flow
// ---------------------------------------------------------------------------------

/// One authorization: the login request for a browser and the verifier kept back.
#[derive(Clone, Debug)]
pub struct Authorization {
    pub request: LoginRequest,
    pub pkce: Pkce,
}

/// Build the authorization request: `{idp_url}/authorize?response_type=code&...` with a
/// fresh verifier and `state`, and the GET to `pkce_callback_url` that must echo the
/// state and carry `code` or `error`.
pub fn authorization(settings: &PkceSettings, title: String, cancel: Cancel) -> Authorization {
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
pub fn authorization_code(
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
pub enum TokenKind {
    Id,
    Access,
}

impl TokenKind {
    /// The field of the token response.
    pub fn field(self) -> &'static str {
        match self {
            TokenKind::Id => "id_token",
            TokenKind::Access => "access_token",
        }
    }
}

/// The IdP's token response: a JSON object. `Debug` never shows the tokens.
#[derive(Clone)]
pub struct TokenResponse(serde_json::Map<String, serde_json::Value>);

impl fmt::Debug for TokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenResponse")
            .field("fields", &self.0.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenResponse {
    /// Parse the body of a successful token response.
    pub fn parse(body: &str) -> std::result::Result<Self, String> {
        match serde_json::from_str::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err("the token response is not a JSON object".into()),
            Err(e) => Err(format!("the token response is not JSON ({e})")),
        }
    }

    /// A token of the response, when present and a non-empty string.
    pub fn token(&self, kind: TokenKind) -> Option<&str> {
        self.0
            .get(kind.field())
            .and_then(|v| v.as_str())
            .filter(|t| !t.is_empty())
    }

    /// The whole response as one line of JSON.
    pub fn to_json_line(&self) -> String {
        serde_json::Value::Object(self.0.clone()).to_string()
    }
}

/// Trade the code for tokens at `{idp_url}/oauth/token`.
pub fn exchange(settings: &PkceSettings, code: &Secret, pkce: &Pkce) -> Result<TokenResponse> {
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
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(HTTP_TIMEOUT))
        .user_agent(concat!("pkce-login/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let unreachable = |e: ureq::Error| idp_error(url, format!("cannot reach the IdP ({e})"));
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
pub fn jwt_claims(token: &str) -> std::result::Result<serde_json::Value, String> {
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
    Error::Malformed {
        path: PathBuf::from(shown.as_str()),
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

    /// RFC 7636 Appendix B: the 32 octets, their verifier and its S256 challenge.
    const RFC_OCTETS: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_appendix_b() {
        assert_eq!(s256_challenge(RFC_VERIFIER), RFC_CHALLENGE);
        let pkce = Pkce::from_bytes(&RFC_OCTETS);
        assert_eq!(pkce.verifier().expose(), RFC_VERIFIER);
        assert_eq!(pkce.challenge(), RFC_CHALLENGE);
    }

    #[test]
    fn fresh_verifiers_are_43_url_safe_characters() {
        let a = Pkce::generate();
        let v = a.verifier().expose();
        assert_eq!(v.len(), 43);
        assert!(
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(a.challenge(), s256_challenge(v));
        assert_ne!(v, Pkce::generate().verifier().expose());
        assert_eq!(format!("{a:?}").matches("(redacted)").count(), 1);
    }

    const FILE: &str = "\
[DEFAULT]
idp_url = https://example.eu.auth0.com/
client_id = dEfAuLt
Scope = openid   email

[api]
audience = https://api.example.com
listen_port = 12345

[custom]
pkce_callback_url = http://127.0.0.1:{listen_port}/oauth/cb
listen_port = 4000

[broken]
pkce_callback_url = ftp://x/
";

    fn settings(section: &str, o: &PkceOverrides) -> Result<PkceSettings> {
        let f = PkceFile::parse(FILE, Path::new("/home/u/.pkce-login")).unwrap();
        PkceSettings::resolve(&f, section, o)
    }

    #[test]
    fn settings_inherit_default_and_take_flags() {
        let s = settings("api", &PkceOverrides::default()).unwrap();
        assert_eq!(s.client_id, "dEfAuLt");
        assert_eq!(s.audience.as_deref(), Some("https://api.example.com"));
        assert_eq!(s.scope, "openid email");
        assert_eq!(s.callback_url.as_str(), "http://localhost:12345/callback");
        assert_eq!(
            s.endpoint("oauth/token").as_str(),
            "https://example.eu.auth0.com/oauth/token"
        );
        let o = PkceOverrides {
            audience: Some("urn:other".into()),
            scope: Some("openid".into()),
            ..PkceOverrides::default()
        };
        let s = settings("api", &o).unwrap();
        assert_eq!(s.audience.as_deref(), Some("urn:other"));
        assert_eq!(s.scope, "openid");
        let s = settings("custom", &PkceOverrides::default()).unwrap();
        assert_eq!(s.callback_url.as_str(), "http://127.0.0.1:4000/oauth/cb");
        assert_eq!(s.audience, None);
    }

    #[test]
    fn defaults() {
        let f = PkceFile::parse(
            "[DEFAULT]\nidp_url = https://a.example\nclient_id = c\n",
            Path::new("f"),
        )
        .unwrap();
        let s = PkceSettings::resolve(&f, "DEFAULT", &PkceOverrides::default()).unwrap();
        assert_eq!(s.scope, DEFAULT_SCOPE);
        assert_eq!(s.listen_port, 12200);
        assert_eq!(s.callback_url.as_str(), "http://localhost:12200/callback");
        assert_eq!(s.timeout, Duration::from_secs(300));
    }

    #[test]
    fn configuration_errors_are_named() {
        let e = settings("nope", &PkceOverrides::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no configuration nope found in /home/u/.pkce-login"
        );
        let f = PkceFile::parse("[x]\nidp_url = https://a.example\n", Path::new("f")).unwrap();
        let e = PkceSettings::resolve(&f, "x", &PkceOverrides::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "property client_id is missing from section [x] of f"
        );
        let e = settings("broken", &PkceOverrides::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("pkce_callback_url in [broken] of /home/u/.pkce-login:"),
            "{e}"
        );
    }

    #[test]
    fn authorization_request_and_callback() {
        let s = settings("api", &PkceOverrides::default()).unwrap();
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
