//! The cookie jar during a browserless try: the jar's cookies in an RFC 6265 store
//! (`cookie_store`), sent with each request they match (domain, path, `Secure`,
//! expiry), updated from each answer's `Set-Cookie`, and handed back rolled forward.

use cookie_store::{CookieDomain, CookieExpiration, CookieStore, RawCookie};
use saml_login_capture::{Cookie, Secret};
use time::OffsetDateTime;
use url::Url;

/// The jar being rolled forward.
pub(crate) struct Jar {
    store: CookieStore,
    /// Cookies the store would not take (a domain no URL can carry): handed back as
    /// they came, never sent.
    kept: Vec<Cookie>,
}

impl Jar {
    pub fn new(cookies: &[Cookie]) -> Self {
        let mut store = CookieStore::new();
        let mut kept = Vec::new();
        for c in cookies {
            let inserted = origin_of(c).and_then(|url| {
                store
                    .insert_raw(&raw(c), &url)
                    .map_err(|e| tracing::debug!(cookie = %c.name, "cookie not used: {e}"))
                    .ok()
            });
            // An expired cookie is dropped, as a browser drops it.
            if inserted.is_none() && c.expires.is_none_or(|at| at > now()) {
                kept.push(c.clone());
            }
        }
        Self { store, kept }
    }

    /// The `Cookie` header for a request to `url`, if any cookie matches.
    pub fn header_for(&self, url: &Url) -> Option<String> {
        let pairs: Vec<String> = self
            .store
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// Take the `Set-Cookie` headers of an answer from `url`.
    pub fn store_answer<'a>(&mut self, url: &Url, set_cookie: impl Iterator<Item = &'a str>) {
        let cookies: Vec<RawCookie<'static>> = set_cookie
            .filter_map(|h| RawCookie::parse(h.to_owned()).ok())
            .collect();
        self.store.store_response_cookies(cookies.into_iter(), url);
    }

    /// Every live cookie: the jar as it is after the answers.
    pub fn cookies(&self) -> Vec<Cookie> {
        let mut out: Vec<Cookie> = self
            .store
            .iter_unexpired()
            .filter_map(|c| {
                let domain = match &c.domain {
                    CookieDomain::HostOnly(h) => h.clone(),
                    CookieDomain::Suffix(d) => format!(".{d}"),
                    _ => return None,
                };
                Some(Cookie {
                    name: c.name().to_owned(),
                    value: Secret::new(c.value()),
                    domain,
                    path: String::from(&c.path),
                    expires: match c.expires {
                        CookieExpiration::AtUtc(at) => Some(at.unix_timestamp()),
                        CookieExpiration::SessionEnd => None,
                    },
                    secure: c.secure().unwrap_or(false),
                    http_only: c.http_only().unwrap_or(false),
                })
            })
            .collect();
        out.extend(self.kept.iter().cloned());
        out
    }
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// A URL the cookie could have come from: its host (the domain without a leading dot),
/// over https so that a `Secure` cookie is taken too.
fn origin_of(c: &Cookie) -> Option<Url> {
    let host = c.domain.trim_start_matches('.');
    Url::parse(&format!("https://{host}/")).ok()
}

/// The cookie as a `Set-Cookie` would have set it.
fn raw(c: &Cookie) -> RawCookie<'static> {
    let mut raw = RawCookie::new(c.name.clone(), c.value.expose().to_owned());
    if c.domain.starts_with('.') {
        raw.set_domain(c.domain.trim_start_matches('.').to_owned());
    }
    raw.set_path(c.path.clone());
    raw.set_secure(c.secure);
    raw.set_http_only(c.http_only);
    if let Some(at) = c
        .expires
        .and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok())
    {
        raw.set_expires(at);
    }
    raw
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(name: &str, domain: &str, path: &str) -> Cookie {
        Cookie {
            name: name.into(),
            value: Secret::new(format!("{name}-value")),
            domain: domain.into(),
            path: path.into(),
            expires: None,
            secure: false,
            http_only: true,
        }
    }

    fn url(u: &str) -> Url {
        Url::parse(u).unwrap()
    }

    #[test]
    fn cookies_go_where_they_match() {
        let mut secure = cookie("s", "idp.example", "/");
        secure.secure = true;
        let jar = Jar::new(&[
            cookie("host", "127.0.0.1", "/"),
            cookie("sub", ".example.com", "/"),
            cookie("deep", "login.example.com", "/u"),
            secure,
        ]);
        assert_eq!(
            jar.header_for(&url("http://127.0.0.1:5000/samlp/x"))
                .as_deref(),
            Some("host=host-value")
        );
        let login = jar
            .header_for(&url("https://login.example.com/u/login"))
            .unwrap();
        assert!(
            login.contains("sub=sub-value") && login.contains("deep=deep-value"),
            "{login}"
        );
        assert_eq!(
            jar.header_for(&url("https://login.example.com/samlp"))
                .as_deref(),
            Some("sub=sub-value")
        );
        assert_eq!(jar.header_for(&url("https://other.example/")), None);
        assert_eq!(jar.header_for(&url("http://idp.example/")), None, "Secure");
        assert!(jar.header_for(&url("https://idp.example/")).is_some());
    }

    #[test]
    fn answers_roll_the_jar_forward() {
        let mut expired = cookie("old", "127.0.0.1", "/");
        expired.expires = Some(1_000);
        let mut jar = Jar::new(&[
            cookie("idp_session", "127.0.0.1", "/"),
            cookie("gone", "127.0.0.1", "/"),
            cookie("other", "elsewhere.example", "/"),
            expired,
        ]);
        let at = url("http://127.0.0.1:5000/samlp/c");
        jar.store_answer(
            &at,
            [
                "idp_session=renewed; Path=/; HttpOnly; Max-Age=3600",
                "gone=; Path=/; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
                "fresh=new; Path=/",
                "foreign=x; Domain=evil.example",
            ]
            .into_iter(),
        );
        let out = jar.cookies();
        let get = |n: &str| out.iter().find(|c| c.name == n);
        let session = get("idp_session").unwrap();
        assert_eq!(session.value.expose(), "renewed");
        assert!(session.expires.unwrap() > now() + 3000 && session.http_only);
        assert_eq!(get("fresh").unwrap().domain, "127.0.0.1");
        assert!(get("gone").is_none() && get("old").is_none());
        assert!(get("foreign").is_none(), "a Domain the host does not match");
        assert_eq!(get("other").unwrap().value.expose(), "other-value");
        assert_eq!(out.len(), 3, "{out:?}");
    }
}
