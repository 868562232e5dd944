//! `~/.pkce-login`, read with the same ini rules as `~/.saml-login`: every key, the
//! shared ones (`idp_url`, `client_id`, `listen_port`, `browser`, `timeout`,
//! `cookies`, `chrome`) and pkce-login's own (`audience`, `scope`,
//! `pkce_callback_url`), resolves through the same [`Layers`], so their checks and
//! messages are the same.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::config::browser_kind::BrowserKind;
use crate::config::{IniFile, Layers, Overrides, Settings, parse_http_url};
use crate::error::{Error, Result};

/// A key's built-in default, from the key table.
fn default(key: &str) -> &'static str {
    crate::config::keys::get(key).map_or("", |k| k.default)
}

/// Everything a token request needs, resolved once.
#[derive(Clone, Debug)]
pub(crate) struct PkceSettings {
    pub section: String,
    pub idp_url: Url,
    pub client_id: String,
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
    /// `[DEFAULT]`, then the built-in default; for every key, through [`Layers`].
    pub(crate) fn resolve(file: &IniFile, section: &str, overrides: &Overrides) -> Result<Self> {
        let common = Settings::resolve(file, section, overrides)?;
        let (idp_url, client_id) = common
            .idp(&file.path)
            .map(|(u, c)| (u.clone(), c.to_owned()))?;
        let layers = Layers {
            overrides,
            file,
            section,
        };
        let audience = layers.string("audience");
        let scope = layers
            .string("scope")
            .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|| default("scope").to_owned());
        let configured = layers
            .get("pkce_callback_url")
            .filter(|s| !s.value.trim().is_empty());
        let port_setting = if configured.is_some() {
            "pkce_callback_url"
        } else {
            "listen_port"
        };
        let (template, origin) = configured.map_or_else(
            || {
                (
                    default("pkce_callback_url").to_owned(),
                    "the default".to_owned(),
                )
            },
            |s| (s.value.trim().to_owned(), s.origin),
        );
        let callback_url =
            parse_http_url(&template.replace("{listen_port}", &common.listen_port.to_string()))
                .map_err(|message| Error::BadValue {
                    field: "pkce_callback_url".into(),
                    origin,
                    message,
                })?;
        Ok(Self {
            section: common.section,
            idp_url,
            client_id,
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
    pub(crate) fn endpoint(&self, path: &str) -> Url {
        let base = self.idp_url.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/{path}")).expect("built from a valid URL")
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;

    use super::*;

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

    pub(crate) fn settings(section: &str, o: &Overrides) -> Result<PkceSettings> {
        let f = IniFile::parse(FILE, Path::new("/home/u/.pkce-login")).unwrap();
        PkceSettings::resolve(&f, section, o)
    }

    #[test]
    fn settings_inherit_default_and_take_flags() {
        let s = settings("api", &Overrides::default()).unwrap();
        assert_eq!(s.client_id, "dEfAuLt");
        assert_eq!(s.audience.as_deref(), Some("https://api.example.com"));
        assert_eq!(s.scope, "openid email");
        assert_eq!(s.callback_url.as_str(), "http://localhost:12345/callback");
        assert_eq!(
            s.endpoint("oauth/token").as_str(),
            "https://example.eu.auth0.com/oauth/token"
        );
        let mut o = Overrides::default();
        o.flag("audience", Some("urn:other".into()));
        o.flag("scope", Some("openid".into()));
        let s = settings("api", &o).unwrap();
        assert_eq!(s.audience.as_deref(), Some("urn:other"));
        assert_eq!(s.scope, "openid");
        let s = settings("custom", &Overrides::default()).unwrap();
        assert_eq!(s.callback_url.as_str(), "http://127.0.0.1:4000/oauth/cb");
        assert_eq!(s.audience, None);
    }

    #[test]
    fn defaults() {
        let f = IniFile::parse(
            "[DEFAULT]\nidp_url = https://a.example\nclient_id = c\n",
            Path::new("f"),
        )
        .unwrap();
        let s = PkceSettings::resolve(&f, "DEFAULT", &Overrides::default()).unwrap();
        assert_eq!(s.scope, "openid profile");
        assert_eq!(s.callback_url.as_str(), "http://localhost:12200/callback");
        assert_eq!(s.timeout, Duration::from_secs(300));
    }

    #[test]
    fn configuration_errors_are_named() {
        let e = settings("nope", &Overrides::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no configuration nope found in /home/u/.pkce-login"
        );
        let f = IniFile::parse("[x]\nidp_url = https://a.example\n", Path::new("f")).unwrap();
        let e = PkceSettings::resolve(&f, "x", &Overrides::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "property client_id is missing from section [x] of f"
        );
        let e = settings("broken", &Overrides::default()).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("pkce_callback_url in [broken] of /home/u/.pkce-login:"),
            "{e}"
        );
    }

    /// Regression: pkce-login's own keys were read a second time outside the layers,
    /// and an empty flag (`--audience ""`) fell back to the file's value, where every
    /// saml-login key takes it as "none". They go through the same layers now.
    #[test]
    fn an_empty_flag_clears_a_pkce_key_as_it_does_every_key() {
        let mut o = Overrides::default();
        o.flag("audience", Some(String::new()));
        o.flag("scope", Some("  ".into()));
        o.flag("client_id", Some(String::new()));
        let e = settings("api", &o).unwrap_err();
        assert_eq!(
            e.to_string(),
            "property client_id is missing from section [api] of /home/u/.pkce-login"
        );
        let mut o = Overrides::default();
        o.flag("audience", Some(String::new()));
        o.flag("scope", Some("  ".into()));
        let s = settings("api", &o).unwrap();
        assert_eq!(s.audience, None, "the file's audience came back");
        assert_eq!(s.scope, "openid profile");
    }
}
