//! The proxy decision, made once for every HTTP client: `HTTPS_PROXY`, `HTTP_PROXY`,
//! `ALL_PROXY` and `NO_PROXY` read as curl reads them (lower case wins where both are
//! set; `NO_PROXY` holds host names, `.domain` suffixes, IP addresses, CIDR ranges and
//! `*`), and loopback never proxied. A proxy's password is never shown: every
//! `Display` of a [`ProxyUrl`] redacts it.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use url::{Host, Url};

/// A proxy's URL, credentials included; shown with the password redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl {
    url: Url,
    /// The variable that gave it (`HTTPS_PROXY`, `https_proxy` ...).
    pub origin: String,
}

impl ProxyUrl {
    /// Parse a proxy setting: `http://[user:password@]host[:port]`; no scheme means
    /// `http://` (as curl reads it).
    pub fn parse(text: &str, origin: &str) -> Result<Self, String> {
        let text = text.trim();
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            format!("http://{text}")
        };
        let url = Url::parse(&with_scheme).map_err(|e| {
            // The text may hold a password: name the variable, not the value.
            format!("{origin} is not a proxy URL ({e})")
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "{origin}: proxies of scheme {}:// are not supported (use http:// or https://)",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(format!("{origin} names no proxy host"));
        }
        Ok(Self {
            url,
            origin: origin.to_owned(),
        })
    }

    /// The URL with credentials, for the clients (never for messages).
    pub fn expose(&self) -> &Url {
        &self.url
    }

    /// `scheme://host:port`, no credentials.
    pub fn without_credentials(&self) -> String {
        let port = self
            .url
            .port_or_known_default()
            .map_or_else(String::new, |p| format!(":{p}"));
        format!(
            "{}://{}{port}",
            self.url.scheme(),
            self.url.host_str().unwrap_or_default()
        )
    }

    /// The user name and the (percent-decoded) password, when the URL has them.
    pub fn credentials(&self) -> Option<(String, String)> {
        if self.url.username().is_empty() {
            return None;
        }
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8_lossy()
                .into_owned()
        };
        Some((
            decode(self.url.username()),
            decode(self.url.password().unwrap_or_default()),
        ))
    }
}

impl fmt::Display for ProxyUrl {
    /// `http://user:***@host:port` (or without a user): never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = self.without_credentials();
        if self.url.username().is_empty() {
            return f.write_str(&plain);
        }
        let (scheme, rest) = plain.split_once("://").unwrap_or(("http", &plain));
        write!(f, "{scheme}://{}:***@{rest}", self.url.username())
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({self} from {})", self.origin)
    }
}

/// One `NO_PROXY` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Bypass {
    /// `*`: nothing is proxied.
    All,
    /// An IP address or a CIDR range.
    Net(IpNet),
    /// A host name: the name itself and every name under it (`example.com` and
    /// `.example.com` both match `a.example.com`; the first also `example.com`).
    Domain { name: String, exact_too: bool },
}

/// The proxy variables, read once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proxies {
    https: Option<ProxyUrl>,
    http: Option<ProxyUrl>,
    all: Option<ProxyUrl>,
    no_proxy: Vec<Bypass>,
    /// `NO_PROXY` as written, for `doctor`.
    pub no_proxy_text: Option<String>,
}

/// Where a URL's connection goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route<'a> {
    Direct(Why),
    Proxy(&'a ProxyUrl),
}

/// Why a URL goes direct.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    NoProxySet,
    Loopback,
    NoProxy,
}

impl Proxies {
    /// Read the variables through `env` (lower case first, as curl does).
    pub fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |name: &str| -> Option<(String, String)> {
            let lower = name.to_ascii_lowercase();
            env(&lower)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (v, lower))
                .or_else(|| {
                    env(name)
                        .filter(|v| !v.trim().is_empty())
                        .map(|v| (v, name.to_owned()))
                })
        };
        let proxy = |name: &str| -> Result<Option<ProxyUrl>, String> {
            get(name)
                .map(|(v, origin)| ProxyUrl::parse(&v, &origin))
                .transpose()
        };
        let no_proxy_text = get("NO_PROXY").map(|(v, _)| v);
        Ok(Self {
            https: proxy("HTTPS_PROXY")?,
            http: proxy("HTTP_PROXY")?,
            all: proxy("ALL_PROXY")?,
            no_proxy: no_proxy_text
                .as_deref()
                .map(parse_no_proxy)
                .unwrap_or_default(),
            no_proxy_text,
        })
    }

    /// The route of a connection to `url`.
    pub fn route(&self, url: &Url) -> Route<'_> {
        let chosen = match url.scheme() {
            "https" | "wss" => self.https.as_ref().or(self.all.as_ref()),
            _ => self.http.as_ref().or(self.all.as_ref()),
        };
        let Some(proxy) = chosen else {
            return Route::Direct(Why::NoProxySet);
        };
        let Some(host) = url.host() else {
            return Route::Direct(Why::NoProxySet);
        };
        if is_loopback(&host) {
            return Route::Direct(Why::Loopback);
        }
        if self.bypassed(&host) {
            return Route::Direct(Why::NoProxy);
        }
        Route::Proxy(proxy)
    }

    /// The proxy for `url`, if any.
    pub fn proxy_for(&self, url: &Url) -> Option<&ProxyUrl> {
        match self.route(url) {
            Route::Proxy(p) => Some(p),
            Route::Direct(_) => None,
        }
    }

    /// The passwords of the proxies, to keep them out of any text shown.
    pub fn passwords(&self) -> impl Iterator<Item = String> + '_ {
        [&self.https, &self.http, &self.all]
            .into_iter()
            .flatten()
            .filter_map(|p| p.credentials().map(|(_, pw)| pw))
            .filter(|pw| !pw.is_empty())
    }

    /// Every proxy set, and the variable that set it (for `doctor`).
    pub fn listed(&self) -> Vec<&ProxyUrl> {
        [&self.https, &self.http, &self.all]
            .into_iter()
            .flatten()
            .collect()
    }

    /// Chromium's `--proxy-server` and `--proxy-bypass-list` for the same decision:
    /// `None` when no proxy is set or `NO_PROXY` is `*`. (Chromium bypasses loopback
    /// itself, and takes no credentials on its command line.)
    pub fn chromium(&self) -> Option<(String, String)> {
        if !self.any() || self.no_proxy.contains(&Bypass::All) {
            return None;
        }
        let mut server = Vec::new();
        if let Some(p) = self.https.as_ref().or(self.all.as_ref()) {
            server.push(format!("https={}", p.without_credentials()));
        }
        if let Some(p) = self.http.as_ref().or(self.all.as_ref()) {
            server.push(format!("http={}", p.without_credentials()));
        }
        // Chromium's implicit rules already bypass loopback (`<-loopback>` would undo
        // them: never written).
        let mut bypass = Vec::new();
        for entry in &self.no_proxy {
            match entry {
                Bypass::All => {}
                Bypass::Net(net) => bypass.push(net.to_string()),
                Bypass::Domain { name, exact_too } => {
                    if *exact_too {
                        bypass.push(name.clone());
                    }
                    bypass.push(format!("*.{name}"));
                }
            }
        }
        Some((server.join(";"), bypass.join(";")))
    }

    /// Whether any proxy variable is set.
    pub fn any(&self) -> bool {
        self.https.is_some() || self.http.is_some() || self.all.is_some()
    }

    fn bypassed(&self, host: &Host<&str>) -> bool {
        let ip = match host {
            Host::Ipv4(a) => Some(IpAddr::V4(*a)),
            Host::Ipv6(a) => Some(IpAddr::V6(*a)),
            Host::Domain(_) => None,
        };
        let name = match host {
            Host::Domain(d) => d.trim_end_matches('.').to_ascii_lowercase(),
            _ => String::new(),
        };
        self.no_proxy.iter().any(|entry| match entry {
            Bypass::All => true,
            Bypass::Net(net) => ip.is_some_and(|ip| net.contains(&ip)),
            Bypass::Domain { name: n, exact_too } => {
                !name.is_empty() && ((*exact_too && name == *n) || name.ends_with(&format!(".{n}")))
            }
        })
    }
}

/// `localhost`, `*.localhost`, 127.0.0.0/8, `::1`.
fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Ipv4(a) => a.is_loopback(),
        Host::Ipv6(a) => a.is_loopback(),
        Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
    }
}

fn parse_no_proxy(text: &str) -> Vec<Bypass> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|entry| {
            if entry == "*" {
                return Bypass::All;
            }
            let bare = entry.trim_start_matches('[');
            let bare = bare.split(']').next().unwrap_or(bare);
            if let Ok(net) = bare.parse::<IpNet>() {
                return Bypass::Net(net);
            }
            if let Ok(ip) = bare.parse::<IpAddr>() {
                return Bypass::Net(IpNet::from(ip));
            }
            // `host:port`: the port is not part of the decision.
            let host = entry.rsplit_once(':').map_or(entry, |(h, p)| {
                if p.chars().all(|c| c.is_ascii_digit()) {
                    h
                } else {
                    entry
                }
            });
            let exact_too = !host.starts_with('.');
            let name = host
                .trim_start_matches("*.")
                .trim_start_matches('.')
                .trim_end_matches('.')
                .to_ascii_lowercase();
            Bypass::Domain { name, exact_too }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(vars: &[(&str, &str)]) -> Proxies {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Proxies::from_env(&|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())).unwrap()
    }

    fn route(p: &Proxies, url: &str) -> Option<String> {
        p.proxy_for(&Url::parse(url).unwrap())
            .map(ProxyUrl::without_credentials)
    }

    #[test]
    fn lower_case_wins_and_schemes_pick_their_variable() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("HTTP_PROXY", "plain:3"),
        ]);
        assert_eq!(
            route(&p, "https://sts.amazonaws.com/").as_deref(),
            Some("http://lower:2")
        );
        assert_eq!(
            route(&p, "http://idp.example.test/").as_deref(),
            Some("http://plain:3")
        );
        let all = proxies(&[("ALL_PROXY", "http://every:4")]);
        assert_eq!(
            route(&all, "https://a.example/").as_deref(),
            Some("http://every:4")
        );
        assert_eq!(route(&proxies(&[]), "https://a.example/"), None);
    }

    #[test]
    fn no_proxy_names_suffixes_ips_cidrs_and_star() {
        let p = proxies(&[
            ("HTTPS_PROXY", "http://proxy:8080"),
            (
                "NO_PROXY",
                "corp.example, .internal.test,10.1.2.3, 192.168.0.0/16,[fd00::1],host.test:443",
            ),
        ]);
        for direct in [
            "https://corp.example/",
            "https://sso.corp.example/",
            "https://a.internal.test/",
            "https://10.1.2.3/",
            "https://192.168.44.5/",
            "https://[fd00::1]/",
            "https://host.test/",
        ] {
            assert_eq!(route(&p, direct), None, "{direct}");
        }
        for proxied in [
            "https://internal.test/",
            "https://notcorp.example/",
            "https://10.1.2.4/",
            "https://sts.amazonaws.com/",
        ] {
            assert!(route(&p, proxied).is_some(), "{proxied}");
        }
        let star = proxies(&[("https_proxy", "http://proxy:1"), ("no_proxy", "*")]);
        assert_eq!(route(&star, "https://sts.amazonaws.com/"), None);
    }

    #[test]
    fn chromium_gets_the_same_decision() {
        let p = proxies(&[
            ("https_proxy", "http://u:pw@proxy:3128"),
            ("no_proxy", "corp.example,.internal.test,10.0.0.0/8"),
        ]);
        let (server, bypass) = p.chromium().unwrap();
        assert_eq!(server, "https=http://proxy:3128");
        assert_eq!(
            bypass,
            "corp.example;*.corp.example;*.internal.test;10.0.0.0/8"
        );
        assert_eq!(proxies(&[]).chromium(), None);
        assert_eq!(
            proxies(&[("ALL_PROXY", "http://p:1"), ("NO_PROXY", "*")]).chromium(),
            None
        );
    }

    #[test]
    fn loopback_is_never_proxied() {
        let p = proxies(&[("ALL_PROXY", "http://proxy:8080")]);
        for url in [
            "http://127.0.0.1:12200/",
            "http://127.8.9.1/",
            "http://localhost:5000/",
            "http://[::1]:80/",
            "https://app.localhost/",
        ] {
            assert_eq!(
                p.route(&Url::parse(url).unwrap()),
                Route::Direct(Why::Loopback),
                "{url}"
            );
        }
    }

    #[test]
    fn passwords_are_never_shown() {
        let p = ProxyUrl::parse("http://alice:s%40cret@proxy.corp:3128", "HTTPS_PROXY").unwrap();
        assert_eq!(p.to_string(), "http://alice:***@proxy.corp:3128");
        assert!(!format!("{p:?}").contains("cret"));
        assert_eq!(
            p.credentials(),
            Some(("alice".to_owned(), "s@cret".to_owned()))
        );
        let err = ProxyUrl::parse("http://bob:pw@[bad", "https_proxy").unwrap_err();
        assert!(!err.contains("pw"), "{err}");
        assert!(ProxyUrl::parse("socks5://h:1", "ALL_PROXY").is_err());
    }
}
