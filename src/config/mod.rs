//! The configuration: the ini file ([`IniFile`]) layered under flags and
//! `SAML_LOGIN_*` variables ([`Overrides`], [`Layers`]), resolved once into
//! [`Settings`]; [`browser_setup`] turns the browser flags into a browser ready to open,
//! and [`plan`] holds what the resolver (`crate::cli::resolve`) makes of a whole command
//! line.

pub(crate) mod accounts;
pub(crate) mod browser_kind;
pub(crate) mod browser_setup;
pub(crate) mod console_target;
pub(crate) mod env_check;
pub(crate) mod headless_mode;
mod ini;
pub(crate) mod keys;
mod layers;
pub(crate) mod network;
pub(crate) mod paths;
pub(crate) mod plan;
pub(crate) mod shared;
mod value_checks;

use std::path::Path;

use saml_login_capture::{Callback, Method};
use url::Url;

pub use self::ini::{DEFAULT_SECTION, IniFile};
pub(crate) use self::layers::{Layers, expand_home, parse_http_url};
pub use self::layers::{Overrides, parse_bool};
pub(crate) use self::shared::SharedSettings;
use crate::config::headless_mode::HeadlessMode;
use crate::config::keys::{Key, Tool};
use crate::error::{Error, Result};
use crate::storage::secret_store::CacheChoice;

pub const DEFAULT_ROLE_DURATION: i32 = 3600;
/// Everything a command needs, resolved once.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The section and the keys pkce-login reads too (`idp_url` and `client_id` are
    /// required unless `login_url` is set).
    pub shared: SharedSettings,
    /// The page that starts the login, when not `{idp_url}/samlp/{client_id}` (any
    /// IdP's IdP-initiated login URL).
    pub login_url: Option<Url>,
    /// Where the IdP posts the response.
    pub callback: CallbackSetting,
    pub aws_account: Option<String>,
    pub aws_role: Option<String>,
    pub aws_profile: Option<String>,
    /// `role_duration` when configured anywhere; else the assertion's `SessionDuration`
    /// decides, then 3600.
    pub role_duration: Option<i32>,
    pub policy_arns: Vec<String>,
    pub inline_policy: Option<String>,
    pub aws_console: bool,
    /// Refuse a loopback callback without our `RelayState` (the default). `false` is
    /// for IdPs that do not echo it: see [`crate::commands`]'s checks of such a response.
    pub require_relay_state: bool,
    /// `configure`: the name of each generated profile, with `{role}`, `{account}`,
    /// `{account_alias}` and `{section}` filled in.
    pub profile_name: String,
    pub region: Option<String>,
    /// Headless with a cookie jar: plain HTTP first, HTTP alone or Chromium alone
    /// (`headless_mode`, flag `--headless-mode`; default auto).
    pub headless_mode: HeadlessMode,
    /// Where the caches keep their secrets (`cache`: auto, keyring, file).
    pub cache: CacheChoice,
    /// The console's browser identity: `browser_profile` and `console_browser`.
    pub(crate) console_identity: console_target::IdentitySetting,
}

/// The `cache` setting through `layers`.
fn cache_choice(layers: &Layers) -> Result<CacheChoice> {
    layers.parsed_or_default(Key::Cache, CacheChoice::parse)
}

/// The `cache` setting of the commands that resolve no section (`logout --all`,
/// `exec`/`env --profile`, `aws-console`): from the flag or `SAML_LOGIN_CACHE`, else
/// `[DEFAULT]` of `file`.
pub(crate) fn cache_choice_of(file: &IniFile, overrides: &Overrides) -> Result<CacheChoice> {
    cache_choice(&Layers {
        overrides,
        file,
        section: DEFAULT_SECTION,
    })
}

impl Settings {
    /// Resolve `section` of `file` under `overrides`: the keys both tools read
    /// ([`SharedSettings`]) and saml-login's own.
    pub fn resolve(file: &IniFile, section: &str, overrides: &Overrides) -> Result<Self> {
        let layers = shared::layers(file, section, overrides, Tool::SamlLogin)?;
        let login_url = layers.parsed(Key::LoginUrl, parse_http_url)?;
        let shared = SharedSettings::resolve(&layers, login_url.is_none())?;
        let callback = layers
            .parsed(Key::CallbackUrl, |v| {
                if v.eq_ignore_ascii_case("aws") {
                    Ok(CallbackSetting::AwsSignin)
                } else {
                    parse_http_url(v).map(CallbackSetting::Url)
                }
            })?
            .unwrap_or(CallbackSetting::Loopback);
        Ok(Self {
            shared,
            login_url,
            callback,
            aws_account: layers.string(Key::AwsAccount),
            aws_role: layers.string(Key::AwsRole),
            aws_profile: layers.parsed(Key::AwsProfile, |v| {
                crate::storage::credentials_file::check_profile_name(v).map(|()| v.to_owned())
            })?,
            role_duration: layers.parsed(Key::RoleDuration, |v| {
                v.parse::<i32>()
                    .ok()
                    .filter(|s| (900..=43200).contains(s))
                    .ok_or_else(|| format!("{v:?} is not a duration in seconds (900-43200)"))
            })?,
            policy_arns: layers
                .parsed(Key::PolicyArns, |v| {
                    v.split(|c: char| c == '\n' || c == ',' || c.is_whitespace())
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(value_checks::check_policy_arn)
                        .collect()
                })?
                .unwrap_or_default(),
            inline_policy: layers.parsed(Key::InlinePolicy, |v| {
                serde_json::from_str::<serde_json::Value>(v)
                    .map_err(|e| format!("not valid JSON ({e})"))
                    .and_then(|j| {
                        if j.is_object() {
                            Ok(v.to_owned())
                        } else {
                            Err("a policy must be a JSON object".into())
                        }
                    })
            })?,
            aws_console: layers.parsed_or_default(Key::AwsConsole, parse_bool)?,
            require_relay_state: layers.parsed_or_default(Key::RequireRelayState, parse_bool)?,
            region: layers.string(Key::Region),
            profile_name: layers.parsed_or_default(Key::ProfileName, |v| {
                check_profile_template(v).map(|()| v.to_owned())
            })?,
            headless_mode: layers.parsed_or_default(Key::HeadlessMode, |v| {
                <HeadlessMode as clap::ValueEnum>::from_str(v, true)
                    .map_err(|_| format!("{v:?} is not a headless mode (auto, http, chromium)"))
            })?,
            cache: cache_choice(&layers)?,
            console_identity: console_target::console_identity(&layers)?,
        })
    }

    /// The Auth0 tenant and application, or which of them is missing.
    pub fn idp(&self, path: &Path) -> Result<(&Url, &str)> {
        let missing = |key: Key| Error::MissingKey {
            key: key.name(),
            section: self.shared.section.clone(),
            path: path.to_owned(),
        };
        Ok((
            self.shared
                .idp_url
                .as_ref()
                .ok_or_else(|| missing(Key::IdpUrl))?,
            self.shared
                .client_id
                .as_deref()
                .ok_or_else(|| missing(Key::ClientId))?,
        ))
    }

    /// The page that starts the login: `login_url`, else `{idp_url}/samlp/{client_id}`.
    pub fn start_url(&self) -> Url {
        if let Some(url) = &self.login_url {
            return url.clone();
        }
        let (Some(idp), Some(client)) = (&self.shared.idp_url, &self.shared.client_id) else {
            unreachable!("resolve requires idp_url and client_id without login_url");
        };
        let base = idp.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}/samlp/{client}")).expect("built from a valid URL")
    }

    /// Whether our `RelayState` is checked on the callback: for Auth0's `/samlp` login
    /// (it echoes it) and for any loopback callback (any local program can post there).
    /// Other IdPs' initiated logins may not echo it; their callback is captured inside
    /// the browser, where no other program can post.
    pub fn relay_state_applies(&self) -> bool {
        self.login_url.is_none() || self.callback().is_loopback()
    }

    /// The callback the browsers wait for: a POST to `callback_url`.
    pub fn callback(&self) -> Callback {
        match &self.callback {
            CallbackSetting::Loopback => Callback::new(
                Method::Post,
                Url::parse(&format!(
                    "http://localhost:{}/saml",
                    self.shared.listen_port
                ))
                .expect("a valid URL"),
            ),
            CallbackSetting::AwsSignin => Callback::aws_signin(Method::Post),
            CallbackSetting::Url(url) => Callback::new(Method::Post, url.clone()),
        }
    }
}

const PROFILE_PLACEHOLDERS: &[&str] = &["role", "account", "account_alias", "section"];

/// A template names at least the role and only known placeholders.
fn check_profile_template(v: &str) -> std::result::Result<(), String> {
    let mut rest = v;
    let mut has_role = false;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("{v:?} has a `{{` without `}}`"))?;
        let name = &after[..close];
        if !PROFILE_PLACEHOLDERS.contains(&name) {
            return Err(format!(
                "{v:?} names {{{name}}}; the placeholders are {{role}}, {{account}}, {{account_alias}}, {{section}}"
            ));
        }
        has_role |= name == "role";
        rest = &after[close + 1..];
    }
    if has_role {
        // What the template adds around the placeholders must make a name the SDKs read.
        let sample = PROFILE_PLACEHOLDERS
            .iter()
            .fold(v.to_owned(), |t, p| t.replace(&format!("{{{p}}}"), "x"));
        crate::storage::credentials_file::check_profile_name(&sample).map_err(|_| {
            format!(
                "{v:?} would make profile names no AWS SDK can use (`[`, `]` and control characters are refused)"
            )
        })
    } else {
        Err(format!(
            "{v:?} must contain {{role}}, or every role gets one name"
        ))
    }
}

/// The `callback_url` setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackSetting {
    /// `http://localhost:{listen_port}/saml` (the default, as the original).
    Loopback,
    /// `aws`: every AWS SAML sign-in endpoint, captured before the POST leaves.
    AwsSignin,
    /// Any other URL, matched exactly (scheme, host, port, path).
    Url(Url),
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;

    const FILE: &str = "\
# a comment
[DEFAULT]
idp_url = https://example.eu.auth0.com
client_id = dEfAuLt
Listen_Port = 12300
policy_arns =
    arn:aws:iam::aws:policy/ReadOnlyAccess
    arn:aws:iam::aws:policy/Billing

[dev]
client_id = devclient
aws_account = dev
aws_role = Developer
aws_profile = dev
aws_console = yes
inline_policy = {\"Version\": \"2012-10-17\",
    \"Statement\": []}

[broken-port]
listen_port = http
";

    fn file() -> IniFile {
        IniFile::parse(FILE, Path::new("/home/u/.saml-login")).unwrap()
    }

    fn resolve(section: &str, o: &Overrides) -> Result<Settings> {
        Settings::resolve(&file(), section, o)
    }

    #[test]
    fn sections_inherit_default() {
        let s = resolve("dev", &Overrides::default()).unwrap();
        assert_eq!(
            s.shared.idp_url.as_ref().unwrap().as_str(),
            "https://example.eu.auth0.com/"
        );
        assert_eq!(s.shared.client_id.as_deref(), Some("devclient"));
        assert_eq!(s.shared.listen_port, 12300);
        assert_eq!(s.aws_account.as_deref(), Some("dev"));
        assert!(s.aws_console);
        assert_eq!(
            s.policy_arns,
            [
                "arn:aws:iam::aws:policy/ReadOnlyAccess",
                "arn:aws:iam::aws:policy/Billing"
            ]
        );
        assert!(s.inline_policy.as_deref().unwrap().contains("Statement"));
        assert_eq!(s.role_duration, None);
        assert_eq!(s.shared.timeout, Duration::from_secs(300));
        assert_eq!(
            s.start_url().as_str(),
            "https://example.eu.auth0.com/samlp/devclient"
        );
        assert_eq!(s.callback().url.as_str(), "http://localhost:12300/saml");
    }

    #[test]
    fn default_section_alone() {
        let s = resolve("DEFAULT", &Overrides::default()).unwrap();
        assert_eq!(s.shared.client_id.as_deref(), Some("dEfAuLt"));
        assert_eq!(s.aws_role, None);
    }

    #[test]
    fn flags_beat_env_beat_section_beat_default() {
        let mut o = Overrides::default();
        o.read_env(|k| match k {
            "SAML_LOGIN_CLIENT_ID" => Some("from-env".into()),
            "SAML_LOGIN_LISTEN_PORT" => Some("1234".into()),
            _ => None,
        });
        let s = resolve("dev", &o).unwrap();
        assert_eq!(s.shared.client_id.as_deref(), Some("from-env"));
        assert_eq!(s.shared.listen_port, 1234);
        o.flag(Key::ClientId, Some("from-flag".into()));
        let s = resolve("dev", &o).unwrap();
        assert_eq!(s.shared.client_id.as_deref(), Some("from-flag"));
    }

    #[test]
    fn chrome_from_flag_env_or_section() {
        let text = format!("{FILE}\n[ci]\nchrome = /opt/shell/chrome-headless-shell\n");
        let file = IniFile::parse(&text, Path::new("/home/u/.saml-login")).unwrap();
        let mut o = Overrides::default();
        assert_eq!(
            Settings::resolve(&file, "dev", &o).unwrap().shared.chrome,
            None
        );
        assert_eq!(
            Settings::resolve(&file, "ci", &o).unwrap().shared.chrome,
            Some(PathBuf::from("/opt/shell/chrome-headless-shell"))
        );
        o.read_env(|k| (k == "SAML_LOGIN_CHROME").then(|| "/usr/bin/chromium".into()));
        assert_eq!(
            Settings::resolve(&file, "ci", &o).unwrap().shared.chrome,
            Some(PathBuf::from("/usr/bin/chromium"))
        );
        o.flag(Key::Chrome, Some("/x/chromium-headless-shell".into()));
        assert_eq!(
            Settings::resolve(&file, "ci", &o).unwrap().shared.chrome,
            Some(PathBuf::from("/x/chromium-headless-shell"))
        );
    }

    #[test]
    fn missing_section_named() {
        let e = resolve("nope", &Overrides::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no configuration nope found in /home/u/.saml-login"
        );
    }

    #[test]
    fn missing_key_named() {
        let f = IniFile::parse("[x]\nidp_url = https://a.example\n", Path::new("f")).unwrap();
        let e = Settings::resolve(&f, "x", &Overrides::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "property client_id is missing from section [x] of f"
        );
        let f = IniFile::parse("[x]\nclient_id = c\n", Path::new("f")).unwrap();
        let e = Settings::resolve(&f, "x", &Overrides::default()).unwrap_err();
        assert!(e.to_string().contains("idp_url"), "{e}");
    }

    #[test]
    fn login_url_and_callback_url() {
        let f = IniFile::parse(
            "[okta]\nlogin_url = https://corp.okta.com/app/amazon_aws/exk1/sso/saml\ncallback_url = aws\n[x]\nidp_url = https://a.example\nclient_id = c\ncallback_url = https://sso.example/acs\n[bad]\nlogin_url = https://a.example\ncallback_url = ftp://x\n",
            Path::new("f"),
        )
        .unwrap();
        let s = Settings::resolve(&f, "okta", &Overrides::default()).unwrap();
        assert_eq!(
            s.start_url().as_str(),
            "https://corp.okta.com/app/amazon_aws/exk1/sso/saml"
        );
        assert_eq!(s.callback, CallbackSetting::AwsSignin);
        assert!(s.callback().any_aws_signin);
        assert!(
            s.idp(Path::new("f"))
                .unwrap_err()
                .to_string()
                .contains("idp_url")
        );
        let s = Settings::resolve(&f, "x", &Overrides::default()).unwrap();
        assert_eq!(s.callback().url.as_str(), "https://sso.example/acs");
        let e = Settings::resolve(&f, "bad", &Overrides::default()).unwrap_err();
        assert!(
            e.to_string().starts_with("callback_url in [bad] of f"),
            "{e}"
        );
    }

    #[test]
    fn bad_values_name_field_and_origin() {
        let e = resolve("broken-port", &Overrides::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "listen_port in [broken-port] of /home/u/.saml-login: \"http\" is not a port number (1-65535)"
        );
        let mut o = Overrides::default();
        o.flag(Key::InlinePolicy, Some("{nope".into()));
        let e = resolve("dev", &o).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("inline_policy in --inline-policy: not valid JSON"),
            "{e}"
        );
        let mut o = Overrides::default();
        o.read_env(|k| (k == "SAML_LOGIN_AWS_CONSOLE").then(|| "maybe".into()));
        let e = resolve("dev", &o).unwrap_err();
        assert!(e.to_string().contains("SAML_LOGIN_AWS_CONSOLE"), "{e}");
    }
}
