//! `~/.pkce-login`, read with the same ini rules as `~/.saml-login`: the keys both
//! tools read (`idp_url`, `client_id`, `listen_port`, `browser`, `timeout`, `cookies`,
//! `chrome`) through the same [`SharedSettings`], so their checks and messages are the
//! same, and pkce-login's own (`audience`, `scope`, `pkce_callback_url`) through the
//! same [`Layers`]. saml-login's own keys are not read: a value only saml-login uses
//! cannot stop a token.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::config::browser_kind::BrowserKind;
use crate::config::keys::{Key, Tool};
use crate::config::{IniFile, Overrides, SharedSettings, parse_http_url, shared};
use crate::error::{Error, Result};

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
    /// `[DEFAULT]`, then the built-in default; for every key pkce-login reads, through
    /// [`crate::config::Layers`].
    pub(crate) fn resolve(file: &IniFile, section: &str, overrides: &Overrides) -> Result<Self> {
        let layers = shared::layers(file, section, overrides, Tool::PkceLogin)?;
        let common = SharedSettings::resolve(&layers, true)?;
        let (Some(idp_url), Some(client_id)) = (common.idp_url, common.client_id) else {
            unreachable!("idp_url and client_id are required");
        };
        let audience = layers.string(Key::Audience);
        let scope = layers.parsed_or_default(Key::Scope, |s| {
            Ok(s.split_whitespace().collect::<Vec<_>>().join(" "))
        })?;
        let configured = layers
            .get(Key::PkceCallbackUrl)
            .filter(|s| !s.value.trim().is_empty());
        let port_setting = if configured.is_some() {
            Key::PkceCallbackUrl
        } else {
            Key::ListenPort
        }
        .name();
        let (template, origin) = configured.map_or_else(
            || {
                (
                    Key::PkceCallbackUrl.default_text().to_owned(),
                    "the default".to_owned(),
                )
            },
            |s| (s.value.trim().to_owned(), s.origin),
        );
        let callback_url =
            parse_http_url(&template.replace("{listen_port}", &common.listen_port.to_string()))
                .map_err(|message| Error::BadValue {
                    field: Key::PkceCallbackUrl.name().into(),
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
        o.flag(Key::Audience, Some("urn:other".into()));
        o.flag(Key::Scope, Some("openid".into()));
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
        o.flag(Key::Audience, Some(String::new()));
        o.flag(Key::Scope, Some("  ".into()));
        o.flag(Key::ClientId, Some(String::new()));
        let e = settings("api", &o).unwrap_err();
        assert_eq!(
            e.to_string(),
            "property client_id is missing from section [api] of /home/u/.pkce-login"
        );
        let mut o = Overrides::default();
        o.flag(Key::Audience, Some(String::new()));
        o.flag(Key::Scope, Some("  ".into()));
        let s = settings("api", &o).unwrap();
        assert_eq!(s.audience, None, "the file's audience came back");
        assert_eq!(s.scope, "openid profile");
    }

    /// Only the keys pkce-login reads are resolved and checked: saml-login's own may
    /// hold what saml-login would refuse; a shared key is refused with saml-login's
    /// message, and an inline comment in a key of pkce-login's own too.
    #[test]
    fn only_the_keys_pkce_login_reads_are_checked() {
        let text = "[DEFAULT]\nidp_url = https://a.example\nclient_id = c\n\
            role_duration = soon\npolicy_arns = nonsense\naws_profile = a[b\n\
            profile_name = x\naws_role = Dev # the team's\nheadless_mode = sometimes\n\
            [port]\nlisten_port = http\n[scope]\nscope = openid # and more\n";
        let f = IniFile::parse(text, Path::new("f")).unwrap();
        let s = PkceSettings::resolve(&f, "DEFAULT", &Overrides::default()).unwrap();
        assert_eq!(s.client_id, "c");
        let e = PkceSettings::resolve(&f, "port", &Overrides::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "listen_port in [port] of f: \"http\" is not a port number (1-65535)"
        );
        assert_eq!(
            crate::config::Settings::resolve(&f, "port", &Overrides::default())
                .unwrap_err()
                .to_string(),
            "aws_role in [DEFAULT] of f: \"Dev # the team's\" holds an inline comment: `#` after a value is part of the value (for saml-login as for the AWS CLI); put the comment on a line of its own"
        );
        let e = PkceSettings::resolve(&f, "scope", &Overrides::default()).unwrap_err();
        assert!(e.to_string().starts_with("scope in [scope] of f: "), "{e}");
    }
}
