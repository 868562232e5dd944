//! What both tools read from a section, resolved and checked once for either: the
//! section's checks (no file, no such section with its "did you mean", an inline
//! comment after a value the tool reads) and the keys saml-login and pkce-login share
//! (`idp_url`, `client_id`, `listen_port`, `browser`, `timeout`, `cookies`, `chrome`).
//! saml-login's [`super::Settings`] resolves its own keys beside these; pkce-login's
//! settings only these and its own, so a value only the other tool reads is never its
//! concern. (`ca_bundle` and `http_timeout`, shared too, are the network's:
//! [`super::network`].)

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::config::browser_kind::BrowserKind;
use crate::config::ini::{IniFile, closest};
use crate::config::keys::{Key, Tool};
use crate::config::layers::{Layers, Overrides, expand_home, no_config_file, parse_http_url};
use crate::config::value_checks;
use crate::error::{Error, Result};

/// The longest `timeout`: a day. (About 9.2e18 s overflowed the clock's deadline.)
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// The keys both tools read, resolved.
#[derive(Clone, Debug)]
pub struct SharedSettings {
    pub section: String,
    /// The Auth0 tenant (required unless saml-login's `login_url` is set).
    pub idp_url: Option<Url>,
    /// `idp_url` as written, for `--show`.
    pub idp_url_text: Option<String>,
    /// The Auth0 application (required unless saml-login's `login_url` is set).
    pub client_id: Option<String>,
    pub listen_port: u16,
    pub browser: Option<BrowserKind>,
    pub timeout: Duration,
    /// Headless: the cookie jar file (`cookies`; flag `--cookies`; not an environment
    /// variable, as `SAML_LOGIN_COOKIES` holds a jar's content).
    pub cookies: Option<PathBuf>,
    /// Headless: the Chromium binary (`chrome`, flag `--chrome`); else `CHROME`, then
    /// a headless shell, then a full Chromium or Chrome.
    pub chrome: Option<PathBuf>,
}

/// The layers of `section` of `file` under `overrides`, once the section is known to
/// exist and no value `tool` reads holds an inline comment.
pub(crate) fn layers<'a>(
    file: &'a IniFile,
    section: &'a str,
    overrides: &'a Overrides,
    tool: Tool,
) -> Result<Layers<'a>> {
    if !file.exists && !file.has_section(section) {
        return Err(no_config_file(file, section));
    }
    if !file.has_section(section) {
        return Err(Error::NoSection {
            section: section.to_owned(),
            path: file.path.clone(),
            guess: closest(section, file.section_names()).map(str::to_owned),
        });
    }
    let layers = Layers {
        overrides,
        file,
        section,
    };
    value_checks::check_inline_comments(&layers, tool)?;
    Ok(layers)
}

impl SharedSettings {
    /// The shared keys through `layers`; `idp_required`: `idp_url` and `client_id` must
    /// be set (pkce-login always; saml-login unless `login_url` is).
    pub(crate) fn resolve(layers: &Layers, idp_required: bool) -> Result<Self> {
        if idp_required {
            layers.required(Key::IdpUrl)?;
            layers.required(Key::ClientId)?;
        }
        Ok(Self {
            section: layers.section.to_owned(),
            idp_url_text: layers.string(Key::IdpUrl),
            idp_url: layers.parsed(Key::IdpUrl, parse_http_url)?,
            client_id: layers.parsed(Key::ClientId, parse_client_id)?,
            listen_port: layers.parsed_or_default(Key::ListenPort, parse_port)?,
            browser: layers.parsed(Key::Browser, parse_browser)?,
            timeout: layers.parsed_or_default(Key::Timeout, parse_timeout)?,
            cookies: layers.string(Key::Cookies).map(|p| expand_home(&p)),
            chrome: layers.string(Key::Chrome).map(|p| expand_home(&p)),
        })
    }
}

fn parse_client_id(v: &str) -> std::result::Result<String, String> {
    if v.contains(['/', '?', '#']) {
        Err(format!("{v:?} is not a client id"))
    } else {
        Ok(v.to_owned())
    }
}

fn parse_port(v: &str) -> std::result::Result<u16, String> {
    v.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("{v:?} is not a port number (1-65535)"))
}

fn parse_browser(v: &str) -> std::result::Result<BrowserKind, String> {
    <BrowserKind as clap::ValueEnum>::from_str(v, true)
        .map_err(|_| format!("{v:?} is not a browser (webview, headless, system, none)"))
}

fn parse_timeout(v: &str) -> std::result::Result<Duration, String> {
    v.parse::<u64>()
        .ok()
        .map(Duration::from_secs)
        .filter(|d| !d.is_zero() && *d <= MAX_TIMEOUT)
        .ok_or_else(|| {
            format!(
                "{v:?} is not a number of seconds from 1 to {}",
                MAX_TIMEOUT.as_secs()
            )
        })
}
