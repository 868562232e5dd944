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
pub(crate) mod network;
pub(crate) mod paths;
pub(crate) mod plan;
mod value_checks;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use saml_login_capture::{Callback, Method};
use url::Url;

pub use self::ini::{DEFAULT_SECTION, IniFile};
use crate::config::browser_kind::BrowserKind;
use crate::config::headless_mode::HeadlessMode;
use crate::error::{Error, Result};
use crate::storage::secret_store::CacheChoice;

pub const DEFAULT_LISTEN_PORT: u16 = 12200;
pub const DEFAULT_ROLE_DURATION: i32 = 3600;
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// The longest `timeout`: a day. (About 9.2e18 s overflowed the clock's deadline.)
pub const MAX_TIMEOUT: Duration = Duration::from_secs(24 * 60 * 60);

/// Values given on the command line (by key name) and `SAML_LOGIN_*` variables.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Key -> (value, the flag that gave it).
    pub flags: BTreeMap<&'static str, (String, &'static str)>,
    /// Key -> value, from `SAML_LOGIN_{KEY}`.
    pub env: BTreeMap<&'static str, String>,
}

impl Overrides {
    /// Read `SAML_LOGIN_{KEY}` through `var` for every key that has a variable.
    pub fn read_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        for key in keys::TABLE {
            if let Some(v) = key.env_var().and_then(|name| var(&name)) {
                self.env.insert(key.name, v);
            }
        }
    }

    /// The value of `key` given by its flag (named in [`keys::TABLE`]), if given.
    pub fn flag(&mut self, key: &'static str, value: Option<String>) {
        let flag = keys::get(key)
            .and_then(|k| k.flag)
            .unwrap_or_else(|| panic!("the key table gives {key} no flag"));
        self.flag_as(key, flag, value);
    }

    /// The value of `key` given by `flag` (a flag other than the key's own, such as
    /// `--no-open-console`).
    pub fn flag_as(&mut self, key: &'static str, flag: &'static str, value: Option<String>) {
        if let Some(v) = value {
            self.flags.insert(key, (v, flag));
        }
    }
}

/// A value with the place it came from, for error messages.
pub(crate) struct Sourced {
    pub value: String,
    pub origin: String,
}

/// Looks a key up through the layers: flag, environment, section, `[DEFAULT]`.
pub(crate) struct Layers<'a> {
    pub overrides: &'a Overrides,
    pub file: &'a IniFile,
    pub section: &'a str,
}

impl Layers<'_> {
    pub(crate) fn get(&self, key: &'static str) -> Option<Sourced> {
        if let Some((v, flag)) = self.overrides.flags.get(key) {
            return Some(Sourced {
                value: v.clone(),
                origin: (*flag).to_owned(),
            });
        }
        if let Some(v) = self.overrides.env.get(key) {
            return Some(Sourced {
                value: v.clone(),
                origin: format!("SAML_LOGIN_{}", key.to_ascii_uppercase()),
            });
        }
        self.file.get(self.section, key).map(|(v, origin)| Sourced {
            value: v.to_owned(),
            origin,
        })
    }

    pub(crate) fn string(&self, key: &'static str) -> Option<String> {
        self.get(key)
            .map(|s| s.value.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn parsed<T>(
        &self,
        key: &'static str,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        let Some(s) = self.get(key) else {
            return Ok(None);
        };
        let v = s.value.trim();
        if v.is_empty() {
            return Ok(None);
        }
        parse(v).map(Some).map_err(|message| Error::BadValue {
            field: key.to_owned(),
            origin: s.origin,
            message,
        })
    }

    fn required(&self, key: &'static str) -> Result<String> {
        if (!self.file.exists || self.file.is_empty()) && self.string(key).is_none() {
            return Err(no_config_file(self.file, self.section));
        }
        self.string(key).ok_or_else(|| Error::MissingKey {
            key,
            section: self.section.to_owned(),
            path: self.file.path.clone(),
        })
    }
}

/// Everything a command needs, resolved once.
#[derive(Clone, Debug)]
pub struct Settings {
    pub section: String,
    /// The Auth0 tenant; required unless `login_url` is set.
    pub idp_url: Option<Url>,
    /// `idp_url` as written, for `--show`.
    pub idp_url_text: Option<String>,
    /// The Auth0 SAML application; required unless `login_url` is set.
    pub client_id: Option<String>,
    /// The page that starts the login, when not `{idp_url}/samlp/{client_id}` (any
    /// IdP's IdP-initiated login URL).
    pub login_url: Option<Url>,
    /// Where the IdP posts the response.
    pub callback: CallbackSetting,
    pub aws_account: Option<String>,
    pub aws_role: Option<String>,
    pub aws_profile: Option<String>,
    pub listen_port: u16,
    /// `role_duration` when configured anywhere; else the assertion's `SessionDuration`
    /// decides, then 3600.
    pub role_duration: Option<i32>,
    pub policy_arns: Vec<String>,
    pub inline_policy: Option<String>,
    pub aws_console: bool,
    /// Refuse a loopback callback without our `RelayState` (the default). `false` is
    /// for IdPs that do not echo it: see [`crate::commands`]'s checks of such a response.
    pub require_relay_state: bool,
    pub browser: Option<BrowserKind>,
    /// `configure`: the name of each generated profile, with `{role}`, `{account}`,
    /// `{account_alias}` and `{section}` filled in.
    pub profile_name: String,
    pub region: Option<String>,
    pub timeout: Duration,
    /// Headless: the cookie jar file (`cookies`; flag `--cookies`; not an environment
    /// variable, as `SAML_LOGIN_COOKIES` holds a jar's content).
    pub cookies: Option<PathBuf>,
    /// Headless: the Chromium binary (`chrome`, flag `--chrome`); else `CHROME`, then
    /// a headless shell, then a full Chromium or Chrome.
    pub chrome: Option<PathBuf>,
    /// Headless with a cookie jar: plain HTTP first, HTTP alone or Chromium alone
    /// (`headless_mode`, flag `--headless-mode`; default auto).
    pub headless_mode: HeadlessMode,
    /// Where the caches keep their secrets (`cache`: auto, keyring, file).
    pub cache: CacheChoice,
    /// The console's browser identity: `browser_profile` and `console_browser`.
    pub(crate) console_identity: console_target::IdentitySetting,
}

/// The `cache` setting through `layers` (default `auto`).
fn cache_choice(layers: &Layers) -> Result<CacheChoice> {
    Ok(layers
        .parsed("cache", CacheChoice::parse)?
        .unwrap_or_default())
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
    /// Resolve `section` of `file` under `overrides`.
    pub fn resolve(file: &IniFile, section: &str, overrides: &Overrides) -> Result<Self> {
        if !file.exists && !file.has_section(section) {
            return Err(no_config_file(file, section));
        }
        if !file.has_section(section) {
            return Err(Error::NoSection {
                section: section.to_owned(),
                path: file.path.clone(),
                guess: crate::config::ini::closest(section, file.section_names())
                    .map(str::to_owned),
            });
        }
        let layers = Layers {
            overrides,
            file,
            section,
        };
        value_checks::check_inline_comments(&layers)?;
        let login_url = layers.parsed("login_url", parse_http_url)?;
        if login_url.is_none() {
            layers.required("idp_url")?;
            layers.required("client_id")?;
        }
        let idp_url_text = layers.string("idp_url");
        let idp_url = layers.parsed("idp_url", parse_http_url)?;
        let client_id = layers.string("client_id");
        if let Some(id) = client_id
            .as_deref()
            .filter(|id| id.contains(['/', '?', '#']))
        {
            return Err(Error::BadValue {
                field: "client_id".into(),
                origin: layers
                    .get("client_id")
                    .map(|s| s.origin)
                    .unwrap_or_default(),
                message: format!("{id:?} is not a client id"),
            });
        }
        let callback = layers
            .parsed("callback_url", |v| {
                if v.eq_ignore_ascii_case("aws") {
                    Ok(CallbackSetting::AwsSignin)
                } else {
                    parse_http_url(v).map(CallbackSetting::Url)
                }
            })?
            .unwrap_or(CallbackSetting::Loopback);
        Ok(Self {
            section: section.to_owned(),
            idp_url,
            idp_url_text,
            client_id,
            login_url,
            callback,
            aws_account: layers.string("aws_account"),
            aws_role: layers.string("aws_role"),
            aws_profile: layers.parsed("aws_profile", |v| {
                crate::storage::credentials_file::check_profile_name(v).map(|()| v.to_owned())
            })?,
            listen_port: layers
                .parsed("listen_port", |v| {
                    v.parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| format!("{v:?} is not a port number (1-65535)"))
                })?
                .unwrap_or(DEFAULT_LISTEN_PORT),
            role_duration: layers.parsed("role_duration", |v| {
                v.parse::<i32>()
                    .ok()
                    .filter(|s| (900..=43200).contains(s))
                    .ok_or_else(|| format!("{v:?} is not a duration in seconds (900-43200)"))
            })?,
            policy_arns: layers
                .parsed("policy_arns", |v| {
                    v.split(|c: char| c == '\n' || c == ',' || c.is_whitespace())
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(value_checks::check_policy_arn)
                        .collect()
                })?
                .unwrap_or_default(),
            inline_policy: layers.parsed("inline_policy", |v| {
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
            aws_console: layers.parsed("aws_console", parse_bool)?.unwrap_or(false),
            require_relay_state: layers
                .parsed("require_relay_state", parse_bool)?
                .unwrap_or(true),
            browser: layers.parsed("browser", |v| {
                <BrowserKind as clap::ValueEnum>::from_str(v, true).map_err(|_| {
                    format!("{v:?} is not a browser (webview, headless, system, none)")
                })
            })?,
            region: layers.string("region"),
            profile_name: layers
                .parsed("profile_name", |v| {
                    check_profile_template(v).map(|()| v.to_owned())
                })?
                .unwrap_or_else(|| DEFAULT_PROFILE_NAME.to_owned()),
            timeout: layers
                .parsed("timeout", |v| {
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
                })?
                .unwrap_or(DEFAULT_TIMEOUT),
            cookies: layers.string("cookies").map(|p| expand_home(&p)),
            chrome: layers.string("chrome").map(|p| expand_home(&p)),
            headless_mode: layers
                .parsed("headless_mode", |v| {
                    <HeadlessMode as clap::ValueEnum>::from_str(v, true)
                        .map_err(|_| format!("{v:?} is not a headless mode (auto, http, chromium)"))
                })?
                .unwrap_or_default(),
            cache: cache_choice(&layers)?,
            console_identity: console_target::console_identity(&layers)?,
        })
    }

    /// The Auth0 tenant and application, or which of them is missing.
    pub fn idp(&self, path: &Path) -> Result<(&Url, &str)> {
        let missing = |key| Error::MissingKey {
            key,
            section: self.section.clone(),
            path: path.to_owned(),
        };
        Ok((
            self.idp_url.as_ref().ok_or_else(|| missing("idp_url"))?,
            self.client_id
                .as_deref()
                .ok_or_else(|| missing("client_id"))?,
        ))
    }

    /// The page that starts the login: `login_url`, else `{idp_url}/samlp/{client_id}`.
    pub fn start_url(&self) -> Url {
        if let Some(url) = &self.login_url {
            return url.clone();
        }
        let (Some(idp), Some(client)) = (&self.idp_url, &self.client_id) else {
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
                Url::parse(&format!("http://localhost:{}/saml", self.listen_port))
                    .expect("a valid URL"),
            ),
            CallbackSetting::AwsSignin => Callback::aws_signin(Method::Post),
            CallbackSetting::Url(url) => Callback::new(Method::Post, url.clone()),
        }
    }
}

/// The default `profile_name`: `Role@alias`, as `--show` and `--all` name profiles.
pub const DEFAULT_PROFILE_NAME: &str = "{role}@{account_alias}";
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

fn no_config_file(file: &IniFile, section: &str) -> Error {
    Error::NoConfigFile {
        section: section.to_owned(),
        path: file.path.clone(),
        empty: file.exists,
    }
}

/// `~/x` relative to the user's home.
pub(crate) fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

pub(crate) fn parse_http_url(v: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(v).map_err(|e| format!("{v:?} is not a URL ({e})"))?;
    if !saml_login_capture::is_http_url(&url) {
        return Err(format!("{v:?} is not an http(s) URL"));
    }
    Ok(url)
}

/// configparser's booleans.
pub fn parse_bool(v: &str) -> std::result::Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Ok(true),
        "0" | "no" | "false" | "off" => Ok(false),
        _ => Err(format!(
            "{v:?} is not a boolean (true/false, yes/no, on/off, 1/0)"
        )),
    }
}

#[cfg(test)]
mod tests {
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
            s.idp_url.as_ref().unwrap().as_str(),
            "https://example.eu.auth0.com/"
        );
        assert_eq!(s.client_id.as_deref(), Some("devclient"));
        assert_eq!(s.listen_port, 12300);
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
        assert_eq!(s.timeout, DEFAULT_TIMEOUT);
        assert_eq!(
            s.start_url().as_str(),
            "https://example.eu.auth0.com/samlp/devclient"
        );
        assert_eq!(s.callback().url.as_str(), "http://localhost:12300/saml");
    }

    #[test]
    fn default_section_alone() {
        let s = resolve("DEFAULT", &Overrides::default()).unwrap();
        assert_eq!(s.client_id.as_deref(), Some("dEfAuLt"));
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
        assert_eq!(s.client_id.as_deref(), Some("from-env"));
        assert_eq!(s.listen_port, 1234);
        o.flag("client_id", Some("from-flag".into()));
        let s = resolve("dev", &o).unwrap();
        assert_eq!(s.client_id.as_deref(), Some("from-flag"));
    }

    #[test]
    fn chrome_from_flag_env_or_section() {
        let text = format!("{FILE}\n[ci]\nchrome = /opt/shell/chrome-headless-shell\n");
        let file = IniFile::parse(&text, Path::new("/home/u/.saml-login")).unwrap();
        let mut o = Overrides::default();
        assert_eq!(Settings::resolve(&file, "dev", &o).unwrap().chrome, None);
        assert_eq!(
            Settings::resolve(&file, "ci", &o).unwrap().chrome,
            Some(PathBuf::from("/opt/shell/chrome-headless-shell"))
        );
        o.read_env(|k| (k == "SAML_LOGIN_CHROME").then(|| "/usr/bin/chromium".into()));
        assert_eq!(
            Settings::resolve(&file, "ci", &o).unwrap().chrome,
            Some(PathBuf::from("/usr/bin/chromium"))
        );
        o.flag("chrome", Some("/x/chromium-headless-shell".into()));
        assert_eq!(
            Settings::resolve(&file, "ci", &o).unwrap().chrome,
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
        o.flag("inline_policy", Some("{nope".into()));
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
