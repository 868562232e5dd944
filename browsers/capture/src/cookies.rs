//! Browser cookies as saml-login moves them between runs: read from a cookie jar into
//! headless Chromium, exported from a browser after a login, written back to a jar.
//!
//! Two jar formats, told apart by the first non-blank character ([`parse_jar`]):
//!
//! * Netscape `cookies.txt` as curl and wget write it: seven TAB-separated fields
//!   (domain, include-subdomains, path, secure, expiry, name, value); a `#HttpOnly_`
//!   prefix on the domain marks an HttpOnly cookie; other `#` lines are comments.
//! * JSON: an array of cookie objects as DevTools `Network.getAllCookies` and Playwright
//!   give them, or a Playwright `storageState` object (`{"cookies": [...], "origins": [...]}`).
//!
//! Errors name a line number or a cookie index and field, never a cookie value.

use crate::Secret;

/// One cookie. The value is a secret: it is an IdP session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cookie {
    pub name: String,
    pub value: Secret,
    /// The domain; a leading dot means subdomains too.
    pub domain: String,
    pub path: String,
    /// Unix seconds; `None` for a session cookie.
    pub expires: Option<i64>,
    pub secure: bool,
    pub http_only: bool,
}

impl Cookie {
    /// Whether the cookie is sent to `host` (domain match, including subdomains for a
    /// domain that starts with a dot). Case-insensitive; a trailing dot is ignored.
    pub fn matches_host(&self, host: &str) -> bool {
        match self.domain.strip_prefix('.') {
            Some(parent) => domain_matches(host, parent),
            None => host
                .trim_end_matches('.')
                .eq_ignore_ascii_case(self.domain.trim_end_matches('.')),
        }
    }
}

/// RFC 6265's domain match: whether `host` is `domain` or a subdomain of it.
/// Case-insensitive; a leading dot on `domain` (as libsoup and cookies.txt mark domain
/// cookies) and a trailing dot on either are ignored.
pub fn domain_matches(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.');
    let domain = domain.trim_end_matches('.');
    let domain = domain.strip_prefix('.').unwrap_or(domain);
    host.eq_ignore_ascii_case(domain)
        || (host.len() > domain.len()
            && host.is_char_boundary(host.len() - domain.len())
            && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
            && host[host.len() - domain.len()..].eq_ignore_ascii_case(domain))
}

/// Why a cookie jar could not be read. Never holds a cookie value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JarError {
    #[error("cookie jar line {line}: {message}")]
    Netscape { line: usize, message: String },
    #[error("cookie jar is not valid JSON: {0}")]
    Json(String),
    #[error("cookie jar: {0}")]
    JsonShape(String),
    #[error("cookie jar, cookie {index}: field `{field}` {message}")]
    JsonField {
        index: usize,
        field: &'static str,
        message: String,
    },
}

/// Read a cookie jar: JSON when the first non-blank character is `[` or `{`, otherwise
/// Netscape `cookies.txt`.
pub fn parse_jar(text: &str) -> Result<Vec<Cookie>, JarError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match text.trim_start().chars().next() {
        Some('[') | Some('{') => parse_json(text),
        _ => parse_netscape(text),
    }
}

const HTTP_ONLY_PREFIX: &str = "#HttpOnly_";

/// Whether `bare`, a cookie domain without its leading dot, can be a host name that a
/// cookies.txt line carries unchanged: not empty, no further leading dot, not starting
/// with `#` (a comment line), no white space or control characters (the Netscape reader
/// trims the field, and no host name holds them). Both readers refuse anything else, so
/// a jar read by either one comes back the same after `--save-cookies` (found by
/// fuzzing: `... "idp` lost its space on the trip).
fn host_name_ok(bare: &str) -> bool {
    !bare.is_empty()
        && !bare.starts_with(['.', '#'])
        && !bare.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn parse_netscape(text: &str) -> Result<Vec<Cookie>, JarError> {
    let mut cookies = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.trim().is_empty() {
            continue;
        }
        let (http_only, rest) = match raw.strip_prefix(HTTP_ONLY_PREFIX) {
            Some(rest) => (true, rest),
            None if raw.trim_start().starts_with('#') => continue,
            None => (false, raw),
        };
        let err = |message: String| JarError::Netscape { line, message };
        let fields: Vec<&str> = rest.split('\t').collect();
        if fields.len() != 7 {
            return Err(err(format!(
                "expected 7 TAB-separated fields (domain, include-subdomains, path, secure, expiry, name, value), found {}",
                fields.len()
            )));
        }
        let flag = |i: usize, what: &str| -> Result<bool, JarError> {
            match fields[i] {
                f if f.eq_ignore_ascii_case("TRUE") => Ok(true),
                f if f.eq_ignore_ascii_case("FALSE") => Ok(false),
                _ => Err(err(format!(
                    "field {} ({what}) must be TRUE or FALSE",
                    i + 1
                ))),
            }
        };
        let domain = fields[0].trim();
        if domain.is_empty() {
            return Err(err("field 1 (domain) is empty".into()));
        }
        let subdomains = flag(1, "include-subdomains")?;
        let secure = flag(3, "secure")?;
        let expires: i64 = fields[4].trim().parse().map_err(|_| {
            err("field 5 (expiry) must be whole Unix seconds (0 for a session cookie)".into())
        })?;
        let name = fields[5];
        if name.is_empty() {
            return Err(err("field 6 (name) is empty".into()));
        }
        let bare = domain.trim_start_matches('.');
        if !host_name_ok(bare) {
            return Err(err("field 1 (domain) is not a host name".into()));
        }
        let domain = if subdomains {
            format!(".{bare}")
        } else {
            bare.to_string()
        };
        let path = if fields[2].is_empty() { "/" } else { fields[2] };
        cookies.push(Cookie {
            name: name.to_string(),
            value: Secret::new(fields[6]),
            domain,
            path: path.to_string(),
            expires: (expires > 0).then_some(expires),
            secure,
            http_only,
        });
    }
    Ok(cookies)
}

fn parse_json(text: &str) -> Result<Vec<Cookie>, JarError> {
    // serde_json's messages give a line and column, never the input text.
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| JarError::Json(e.to_string()))?;
    let list = match &value {
        serde_json::Value::Array(list) => list,
        serde_json::Value::Object(map) => match map.get("cookies") {
            Some(serde_json::Value::Array(list)) => list,
            _ => {
                return Err(JarError::JsonShape(
                    "a JSON object must be a Playwright storageState with a `cookies` array".into(),
                ));
            }
        },
        _ => unreachable!("parse_json is called only for text starting with [ or {{"),
    };
    list.iter()
        .enumerate()
        .map(|(index, item)| json_cookie(index, item))
        .collect()
}

fn json_cookie(index: usize, item: &serde_json::Value) -> Result<Cookie, JarError> {
    let bad = |field: &'static str, message: &str| JarError::JsonField {
        index,
        field,
        message: message.into(),
    };
    let obj = item
        .as_object()
        .ok_or_else(|| JarError::JsonShape(format!("cookie {index} is not a JSON object")))?;
    let string = |field: &'static str, required: bool| -> Result<Option<String>, JarError> {
        match obj.get(field) {
            Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
            None | Some(serde_json::Value::Null) if !required => Ok(None),
            None => Err(bad(field, "is missing")),
            Some(_) => Err(bad(field, "must be a string")),
        }
    };
    let boolean = |field: &'static str| -> Result<bool, JarError> {
        match obj.get(field) {
            None | Some(serde_json::Value::Null) => Ok(false),
            Some(serde_json::Value::Bool(b)) => Ok(*b),
            Some(_) => Err(bad(field, "must be true or false")),
        }
    };
    let name = string("name", true)?.unwrap_or_default();
    if name.is_empty() {
        return Err(bad("name", "is empty"));
    }
    let value = string("value", true)?.unwrap_or_default();
    let domain = string("domain", true)?.unwrap_or_default();
    if domain.is_empty() {
        return Err(bad("domain", "is empty"));
    }
    // What a cookies.txt line cannot carry (found by fuzzing): the jar would come back
    // changed or unreadable after --save-cookies.
    if !host_name_ok(domain.strip_prefix('.').unwrap_or(&domain)) {
        return Err(bad("domain", "is not a host name"));
    }
    let path = string("path", false)?
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "/".into());
    let expires = match obj.get("expires") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => match n.as_f64() {
            // Whole seconds, as cookies.txt keeps them; under one second is a session
            // cookie there (0), so here too (found by fuzzing).
            Some(f) if f >= 1.0 && f.is_finite() => Some(f as i64),
            Some(_) => None,
            None => return Err(bad("expires", "must be a number")),
        },
        Some(_) => return Err(bad("expires", "must be a number (-1 for a session cookie)")),
    };
    let session = boolean("session")?;
    Ok(Cookie {
        name,
        value: Secret::new(value),
        domain,
        path,
        expires: if session { None } else { expires },
        secure: boolean("secure")?,
        http_only: boolean("httpOnly")?,
    })
}

/// Write cookies in curl's Netscape format (with the `# Netscape HTTP Cookie File`
/// header), readable by curl, wget and [`parse_jar`]. A cookie whose name, value, domain
/// or path holds a TAB or line break cannot be written in this format and is left out.
pub fn to_netscape(cookies: &[Cookie]) -> String {
    let mut out = String::from(
        "# Netscape HTTP Cookie File\n\
         # https://curl.se/docs/http-cookies.html\n\
         # This file was generated by saml-login. It holds login sessions: keep it private.\n\n",
    );
    let unsafe_text = |s: &str| s.contains(['\t', '\n', '\r']);
    for c in cookies {
        if [
            c.name.as_str(),
            c.value.expose(),
            c.domain.as_str(),
            c.path.as_str(),
        ]
        .iter()
        .any(|s| unsafe_text(s))
            || c.name.is_empty()
            || c.domain.is_empty()
        {
            continue;
        }
        let path = if c.path.is_empty() { "/" } else { &c.path };
        out.push_str(&format!(
            "{}{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            if c.http_only { HTTP_ONLY_PREFIX } else { "" },
            c.domain,
            if c.domain.starts_with('.') {
                "TRUE"
            } else {
                "FALSE"
            },
            path,
            if c.secure { "TRUE" } else { "FALSE" },
            c.expires.unwrap_or(0),
            c.name,
            c.value.expose(),
        ));
    }
    out
}

/// The cookies that a request to `host` carries (see [`Cookie::matches_host`]), e.g. to
/// export only the IdP's cookies.
pub fn filter_for_host(cookies: &[Cookie], host: &str) -> Vec<Cookie> {
    cookies
        .iter()
        .filter(|c| c.matches_host(host))
        .cloned()
        .collect()
}

#[cfg(test)]
mod domain_tests {
    use super::*;

    #[test]
    fn domains_match_themselves_and_their_subdomains_only() {
        assert!(domain_matches("idp.example.com", "idp.example.com"));
        assert!(domain_matches("idp.example.com", ".example.com"));
        assert!(domain_matches("idp.example.com", "example.com"));
        assert!(domain_matches("IdP.Example.com.", "example.COM"));
        assert!(!domain_matches("idp.example.com", "other.com"));
        assert!(!domain_matches("badexample.com", "example.com"));
        assert!(!domain_matches("example.com", "idp.example.com"));
        assert!(!domain_matches("é.example.com", "xample.com"));
    }
}

#[cfg(test)]
mod fuzz_regressions {
    use super::*;

    /// fuzz/crashes/cookie_jar-1..3: domains the Netscape format cannot carry.
    #[test]
    fn json_domains_that_cannot_round_trip_are_refused() {
        for domain in ["#h", " ", " h", "..h", "#HttpOnly_h"] {
            let jar = format!(r#"[{{"name":"n","value":"v","domain":"{domain}"}}]"#);
            let e = parse_jar(&jar).unwrap_err().to_string();
            assert!(e.contains("domain"), "{domain:?}: {e}");
        }
        let ok = parse_jar(r#"[{"name":"n","value":"v","domain":".h"}]"#).unwrap();
        assert_eq!(parse_jar(&to_netscape(&ok)).unwrap(), ok);
    }

    /// fuzz/crashes/cookie_jar-5: a Netscape domain `.. h` lost its space on the trip
    /// (the reader trimmed the field before stripping the dots, `to_netscape` wrote ` h`,
    /// and the next read trimmed it away). Domains no host name has are refused, by line.
    #[test]
    fn netscape_domains_that_are_not_host_names_are_refused() {
        for domain in ["..  h", ". h", "a b", "h\u{0}", "..", ".#h", "..#h"] {
            let jar = format!("# jar\n{domain}\tFALSE\t/\tFALSE\t0\tn\tv\n");
            let e = parse_jar(&jar).unwrap_err().to_string();
            assert_eq!(
                e, "cookie jar line 2: field 1 (domain) is not a host name",
                "{domain:?}"
            );
        }
        for domain in [". h", "a\u{3000}b", "."] {
            let jar = format!(r#"[{{"name":"n","value":"v","domain":"{domain}"}}]"#);
            let e = parse_jar(&jar).unwrap_err().to_string();
            assert!(e.contains("`domain` is not a host name"), "{domain:?}: {e}");
        }
        let ok = parse_jar("  ..h  \tFALSE\t/\tFALSE\t0\tn\tv\n").unwrap();
        assert_eq!(ok[0].domain, "h");
        assert_eq!(parse_jar(&to_netscape(&ok)).unwrap(), ok);
        let input = std::fs::read("../../fuzz/crashes/cookie_jar-5").unwrap();
        let text = String::from_utf8(input).unwrap();
        assert_eq!(
            parse_jar(&text).unwrap_err().to_string(),
            "cookie jar line 3: field 1 (domain) is not a host name"
        );
    }

    /// fuzz/crashes/cookie_jar-4: `expires` under a second came back as a session.
    #[test]
    fn expiry_under_a_second_is_a_session_cookie() {
        let jar = parse_jar(r#"[{"name":"n","value":"v","domain":"h","expires":0.5}]"#).unwrap();
        assert_eq!(jar[0].expires, None);
        assert_eq!(parse_jar(&to_netscape(&jar)).unwrap(), jar);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CURL: &str = include_str!("../../../fixtures/cookies/curl-netscape.txt");
    const STORAGE_STATE: &str =
        include_str!("../../../fixtures/cookies/playwright-storage-state.json");
    const DEVTOOLS: &str = include_str!("../../../fixtures/cookies/devtools-array.json");
    const BAD_FIELDS: &str = include_str!("../../../fixtures/cookies/bad-field-count.txt");

    fn by_name<'a>(cookies: &'a [Cookie], name: &str) -> &'a Cookie {
        cookies.iter().find(|c| c.name == name).unwrap()
    }

    #[test]
    fn netscape_curl_jar() {
        let jar = parse_jar(CURL).unwrap();
        assert_eq!(jar.len(), 4);
        let s = by_name(&jar, "idp_session");
        assert_eq!(s.domain, "login.example.com");
        assert!(s.http_only && s.secure);
        assert_eq!(s.path, "/");
        assert_eq!(s.expires, Some(2_000_000_000));
        assert_eq!(s.value.expose(), "s3ss10n-value");
        let d = by_name(&jar, "did");
        assert_eq!(d.domain, ".example.com");
        assert!(!d.http_only && !d.secure);
        assert_eq!(d.expires, None);
        let e = by_name(&jar, "empty");
        assert_eq!(e.value.expose(), "");
        assert_eq!(e.path, "/u/login");
        // `#HttpOnly_` with a subdomain flag
        let a = by_name(&jar, "auth0");
        assert_eq!(a.domain, ".login.example.com");
        assert!(a.http_only);
    }

    #[test]
    fn comments_blank_lines_and_crlf() {
        let jar = parse_jar("# Netscape HTTP Cookie File\r\n\r\n  \r\n# x\ta\tb\r\nh.example\tFALSE\t/\tFALSE\t0\tn\tv\r\n").unwrap();
        assert_eq!(jar.len(), 1);
        assert_eq!(jar[0].value.expose(), "v");
        assert!(parse_jar("").unwrap().is_empty());
        assert!(parse_jar("\n# only a comment\n").unwrap().is_empty());
    }

    #[test]
    fn bad_netscape_lines_name_the_line_and_hide_the_value() {
        let err = parse_jar(BAD_FIELDS).unwrap_err();
        assert!(matches!(err, JarError::Netscape { line: 4, .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains("line 4") && msg.contains("found 6"), "{msg}");
        assert!(!msg.contains("very-secret-value"), "{msg}");

        for (text, needle) in [
            ("h\tYES\t/\tFALSE\t0\tn\tsecret1", "include-subdomains"),
            ("h\tFALSE\t/\tmaybe\t0\tn\tsecret1", "secure"),
            ("h\tFALSE\t/\tFALSE\tsoon\tn\tsecret1", "expiry"),
            ("h\tFALSE\t/\tFALSE\t0\t\tsecret1", "name"),
            ("\tFALSE\t/\tFALSE\t0\tn\tsecret1", "domain"),
        ] {
            let msg = parse_jar(&format!("# c\n{text}\n"))
                .unwrap_err()
                .to_string();
            assert!(msg.contains("line 2") && msg.contains(needle), "{msg}");
            assert!(!msg.contains("secret1"), "{msg}");
        }
    }

    #[test]
    fn playwright_storage_state() {
        let jar = parse_jar(STORAGE_STATE).unwrap();
        assert_eq!(jar.len(), 2);
        let s = by_name(&jar, "idp_session");
        assert_eq!(s.domain, "login.example.com");
        assert_eq!(s.expires, Some(1_900_000_000));
        assert!(s.http_only && s.secure);
        let d = by_name(&jar, "did");
        assert_eq!(d.domain, ".example.com");
        assert_eq!(d.expires, None);
        assert!(!d.http_only);
    }

    #[test]
    fn devtools_array() {
        let jar = parse_jar(DEVTOOLS).unwrap();
        assert_eq!(jar.len(), 3);
        let s = by_name(&jar, "idp_session");
        assert_eq!(s.domain, "127.0.0.1");
        assert_eq!(s.path, "/");
        assert_eq!(s.expires, None, "session: true");
        assert!(s.http_only);
        assert_eq!(by_name(&jar, "did").expires, Some(1_900_000_000));
        assert_eq!(by_name(&jar, "nopath").path, "/");
    }

    #[test]
    fn bad_json_names_index_and_field() {
        let err = parse_jar(
            r#"[{"name":"a","value":"secret2","domain":"x"},{"name":"b","value":"secret2"}]"#,
        )
        .unwrap_err();
        assert_eq!(
            err,
            JarError::JsonField {
                index: 1,
                field: "domain",
                message: "is missing".into()
            }
        );
        assert!(err.to_string().contains("cookie 1") && !err.to_string().contains("secret2"));
        let err = parse_jar(r#"[{"name":"a","value":"secret2","domain":"x","secure":"yes"}]"#)
            .unwrap_err();
        assert!(err.to_string().contains("`secure`"), "{err}");
        let err = parse_jar(r#"[{"name":"a","value":5,"domain":"x"}]"#).unwrap_err();
        assert!(err.to_string().contains("`value`"), "{err}");
        let err = parse_jar(r#"{"origins":[]}"#).unwrap_err();
        assert!(matches!(err, JarError::JsonShape(_)), "{err:?}");
        let err = parse_jar(r#"[{"name":"a","value":"secret2""#).unwrap_err();
        assert!(matches!(err, JarError::Json(_)), "{err:?}");
        assert!(!err.to_string().contains("secret2"), "{err}");
        let err = parse_jar("[1]").unwrap_err();
        assert!(err.to_string().contains("cookie 0"), "{err}");
    }

    #[test]
    fn netscape_round_trip() {
        for jar in [CURL, STORAGE_STATE, DEVTOOLS] {
            let cookies = parse_jar(jar).unwrap();
            let text = to_netscape(&cookies);
            assert!(text.starts_with("# Netscape HTTP Cookie File\n"));
            assert_eq!(parse_jar(&text).unwrap(), cookies);
        }
        let text = to_netscape(&parse_jar(CURL).unwrap());
        assert!(text.contains("#HttpOnly_login.example.com\tFALSE\t/\tTRUE\t2000000000\tidp_session\ts3ss10n-value\n"), "{text}");
        assert!(
            text.contains("\n.example.com\tTRUE\t/\tFALSE\t0\tdid\t"),
            "{text}"
        );
    }

    #[test]
    fn unwritable_cookies_are_left_out() {
        let c = Cookie {
            name: "n".into(),
            value: Secret::new("a\nb\tFALSE"),
            domain: "h".into(),
            path: "/".into(),
            expires: None,
            secure: false,
            http_only: false,
        };
        assert!(parse_jar(&to_netscape(&[c])).unwrap().is_empty());
    }

    #[test]
    fn host_filtering() {
        let jar = parse_jar(CURL).unwrap();
        let names = |host: &str| {
            let mut v: Vec<String> = filter_for_host(&jar, host)
                .into_iter()
                .map(|c| c.name)
                .collect();
            v.sort();
            v
        };
        assert_eq!(
            names("login.example.com"),
            ["auth0", "did", "empty", "idp_session"]
        );
        assert_eq!(
            names("LOGIN.example.com."),
            ["auth0", "did", "empty", "idp_session"]
        );
        assert_eq!(names("a.login.example.com"), ["auth0", "did"]);
        assert_eq!(names("example.com"), ["did"]);
        assert!(names("badexample.com").is_empty());
        assert!(names("example.org").is_empty());
        let dev = parse_jar(DEVTOOLS).unwrap();
        assert_eq!(filter_for_host(&dev, "127.0.0.1").len(), 2);
    }
}
