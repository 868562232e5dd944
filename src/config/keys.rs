//! Every configuration key, declared once: its name, the flag that sets it, whether a
//! `SAML_LOGIN_*` variable sets it, its default and what it is for. The resolver
//! (flags and variables by key), the help's `[env: ...]` notes, the manual page and
//! the unknown-key check all read this table, and every lookup takes a [`Key`], never
//! its name: a new key is one variant of [`Key`] and one row of the table.

/// Which tool reads a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tool {
    /// `saml-login` and `pkce-login`.
    Both,
    SamlLogin,
    PkceLogin,
}

/// One configuration key. Everything about it is in its row of [`SPECS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Key {
    IdpUrl,
    ClientId,
    AwsAccount,
    AwsRole,
    AwsProfile,
    ListenPort,
    RoleDuration,
    PolicyArns,
    InlinePolicy,
    AwsConsole,
    Browser,
    Region,
    Timeout,
    LoginUrl,
    CallbackUrl,
    RequireRelayState,
    ProfileName,
    Chrome,
    Cache,
    CaBundle,
    HttpTimeout,
    Cookies,
    BrowserProfile,
    ConsoleBrowser,
    HeadlessMode,
    Audience,
    Scope,
    PkceCallbackUrl,
}

/// What a key is: its row of the table.
#[derive(Clone, Copy, Debug)]
pub(crate) struct KeySpec {
    pub key: Key,
    /// Its name in the configuration files.
    pub name: &'static str,
    /// The flag that sets it, if any.
    pub flag: Option<&'static str>,
    /// Whether `SAML_LOGIN_{NAME}` sets it (saml-login only).
    pub env: bool,
    /// The built-in default, as the README shows it (empty: none). The resolver parses
    /// it with the key's own parser, so it is the only place the default is written.
    pub default: &'static str,
    pub help: &'static str,
    pub tool: Tool,
}

const fn key(
    key: Key,
    name: &'static str,
    flag: Option<&'static str>,
    env: bool,
    default: &'static str,
    help: &'static str,
    tool: Tool,
) -> KeySpec {
    KeySpec {
        key,
        name,
        flag,
        env,
        default,
        help,
        tool,
    }
}

use Tool::{Both, PkceLogin, SamlLogin};

/// How many keys there are.
const COUNT: usize = 28;

/// The table, one row per [`Key`] in its order (checked when compiling). (`cookies` has
/// no variable: `SAML_LOGIN_COOKIES` holds a jar's content, not a path.)
#[rustfmt::skip]
const SPECS: [KeySpec; COUNT] = [
    key(Key::IdpUrl, "idp_url", Some("--idp-url"), true, "", "the Auth0 tenant URL", Both),
    key(Key::ClientId, "client_id", Some("--client-id"), true, "", "the Auth0 application's client id", Both),
    key(Key::AwsAccount, "aws_account", Some("--account"), true, "", "the AWS account number or alias", SamlLogin),
    key(Key::AwsRole, "aws_role", Some("--role"), true, "", "the role name to assume", SamlLogin),
    key(Key::AwsProfile, "aws_profile", Some("--profile"), true, "", "the profile the credentials are stored under", SamlLogin),
    key(Key::ListenPort, "listen_port", Some("--listen-port"), true, "12200", "the loopback port of the callback", Both),
    key(Key::RoleDuration, "role_duration", Some("--role-duration"), true, "", "the session duration in seconds", SamlLogin),
    key(Key::PolicyArns, "policy_arns", Some("--policy-arn"), true, "", "managed policy ARNs limiting the session", SamlLogin),
    key(Key::InlinePolicy, "inline_policy", Some("--inline-policy"), true, "", "a JSON policy limiting the session", SamlLogin),
    key(Key::AwsConsole, "aws_console", Some("--open-console"), true, "false", "open the AWS console after the login", SamlLogin),
    key(Key::Browser, "browser", Some("--browser"), true, "", "how to log in: webview, headless, system, none (print the URL)", Both),
    key(Key::Region, "region", Some("--region"), true, "", "the AWS region for STS", SamlLogin),
    key(Key::Timeout, "timeout", Some("--timeout"), true, "300", "give up on the login after this many seconds", Both),
    key(Key::LoginUrl, "login_url", Some("--login-url"), true, "", "the page that starts the login", SamlLogin),
    key(Key::CallbackUrl, "callback_url", Some("--callback-url"), true, "", "where the IdP posts the response", SamlLogin),
    key(Key::RequireRelayState, "require_relay_state", None, true, "true", "refuse a loopback callback without our RelayState", SamlLogin),
    key(Key::ProfileName, "profile_name", None, true, "{role}@{account_alias}", "the name of each profile `configure` writes", SamlLogin),
    key(Key::Chrome, "chrome", Some("--chrome"), true, "", "headless: the Chromium binary", Both),
    key(Key::Cache, "cache", Some("--cache"), true, "auto", "where the caches keep secrets: auto, keyring, file", SamlLogin),
    key(Key::CaBundle, "ca_bundle", Some("--ca-bundle"), true, "", "CA certificates (PEM) trusted besides the system's", Both),
    key(Key::HttpTimeout, "http_timeout", None, true, "30", "seconds an HTTP request (STS, IdP) may wait for its answer", Both),
    key(Key::Cookies, "cookies", Some("--cookies"), false, "", "headless: a cookie jar with the IdP session", Both),
    key(Key::BrowserProfile, "browser_profile", Some("--browser-profile"), true, "", "aws-console, -C: open the console in a browser profile of its own, by name ({profile}: one per AWS profile)", SamlLogin),
    key(Key::ConsoleBrowser, "console_browser", Some("--console-browser"), true, "", "aws-console, -C: the Chromium-family browser or Firefox of the browser profiles", SamlLogin),
    key(Key::HeadlessMode, "headless_mode", Some("--headless-mode"), true, "auto", "headless with a cookie jar: auto (plain HTTP first, then Chromium), http, chromium", SamlLogin),
    key(Key::Audience, "audience", Some("--audience"), false, "", "the API the access token is for", PkceLogin),
    key(Key::Scope, "scope", Some("--scope"), false, "openid profile", "the scopes to ask for", PkceLogin),
    key(Key::PkceCallbackUrl, "pkce_callback_url", None, false, "http://localhost:{listen_port}/callback", "the redirect_uri", PkceLogin),
];

/// Row `i` of the table is the key whose discriminant is `i`: [`Key::spec`] indexes by it.
const _: () = {
    let mut i = 0;
    while i < COUNT {
        assert!(
            SPECS[i].key as usize == i,
            "the key table is not in Key's order"
        );
        i += 1;
    }
};

impl Key {
    /// Every key, in the table's order.
    pub(crate) const ALL: [Key; COUNT] = {
        let mut all = [Key::IdpUrl; COUNT];
        let mut i = 0;
        while i < COUNT {
            all[i] = SPECS[i].key;
            i += 1;
        }
        all
    };

    /// Its row of the table.
    pub(crate) fn spec(self) -> &'static KeySpec {
        &SPECS[self as usize]
    }

    /// Its name in the configuration files.
    pub(crate) fn name(self) -> &'static str {
        self.spec().name
    }

    /// The flag that sets it, if any.
    pub(crate) fn flag(self) -> Option<&'static str> {
        self.spec().flag
    }

    /// The built-in default, as written in the table (empty: none).
    pub(crate) fn default_text(self) -> &'static str {
        self.spec().default
    }

    /// What it is for.
    pub(crate) fn help(self) -> &'static str {
        self.spec().help
    }

    /// `SAML_LOGIN_{NAME}`, when a variable sets the key.
    pub(crate) fn env_var(self) -> Option<String> {
        self.spec()
            .env
            .then(|| format!("SAML_LOGIN_{}", self.name().to_ascii_uppercase()))
    }

    pub(crate) fn read_by(self, tool: Tool) -> bool {
        let t = self.spec().tool;
        t == Both || t == tool
    }

    /// The key called `name` in a configuration file (names are lowercase there).
    pub(crate) fn from_name(name: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == name)
    }

    /// The keys `tool` reads, in the table's order.
    pub(crate) fn read_by_tool(tool: Tool) -> impl Iterator<Item = Key> {
        Key::ALL.into_iter().filter(move |k| k.read_by(tool))
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each flag of the table is an option of the tool that reads it, and says in its
    /// help which setting it sets.
    #[test]
    fn every_flag_is_declared_and_names_its_setting() {
        let saml = crate::cli::command();
        let pkce = crate::cli::pkce::command();
        let all_args = |cmd: &clap::Command| -> Vec<clap::Arg> {
            let mut args: Vec<clap::Arg> = cmd.get_arguments().cloned().collect();
            for sc in cmd.get_subcommands() {
                args.extend(sc.get_arguments().cloned());
            }
            args
        };
        for (tool, cmd) in [(SamlLogin, &saml), (PkceLogin, &pkce)] {
            let args = all_args(cmd);
            for k in Key::read_by_tool(tool) {
                let Some(flag) = k.flag() else { continue };
                let arg = args
                    .iter()
                    .find(|a| a.get_long().is_some_and(|l| format!("--{l}") == flag))
                    .unwrap_or_else(|| panic!("{tool:?}: no {flag} for {k}"));
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                assert!(
                    help.contains(&format!("setting `{k}`")),
                    "{tool:?}: the help of {flag} does not name `{k}`: {help}"
                );
                // A default the help shows is the table's.
                if let Some((_, shown)) = help.split_once(&format!("`{k}`, default "))
                    && !k.default_text().is_empty()
                {
                    let shown = shown.trim_start_matches('"');
                    assert!(
                        shown.starts_with(k.default_text()),
                        "{tool:?}: the help of {flag} shows a default other than {:?}: {help}",
                        k.default_text()
                    );
                }
            }
        }
        assert_eq!(Key::IdpUrl.env_var().as_deref(), Some("SAML_LOGIN_IDP_URL"));
        assert_eq!(Key::Cookies.env_var(), None);
    }

    /// Every name is a key's own, and reads back as that key.
    #[test]
    fn names_are_unique_and_read_back() {
        let mut names: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Key::ALL.len(), "a name is used twice");
        for k in Key::ALL {
            assert_eq!(Key::from_name(k.name()), Some(k));
            assert_eq!(k.spec().key, k);
        }
        assert_eq!(Key::from_name("aws_rol"), None);
        assert_eq!(Key::from_name("AWS_ROLE"), None);
    }

    /// Every default the table shows is what the resolvers give when nothing sets the
    /// key (and the enums' own defaults, and the network's before it is installed,
    /// agree with it). A new key with a default needs a line here.
    #[test]
    fn every_default_in_the_table_is_what_resolves_when_nothing_is_set() {
        use std::path::Path;

        use crate::config::{IniFile, Overrides, Settings};
        use crate::pkce::settings::PkceSettings;
        use crate::storage::secret_store::CacheChoice;

        let file = IniFile::parse(
            "[s]\nidp_url = https://a.example\nclient_id = c\n",
            Path::new("/nowhere/config"),
        )
        .unwrap();
        let none = Overrides::default();
        let saml = Settings::resolve(&file, "s", &none).unwrap();
        let pkce = PkceSettings::resolve(&file, "s", &none).unwrap();
        let env = |k: &str| (k == "HOME").then(|| "/nowhere".to_owned());
        let paths = crate::config::paths::Paths::resolve(None, env).unwrap();
        let network = crate::config::network::resolve(&env, &none, &file, "s", &paths).unwrap();
        let name = |v: &dyn Fn() -> Option<clap::builder::PossibleValue>| {
            v().map(|v| v.get_name().to_owned()).unwrap()
        };
        let mut checked = 0;
        for key in Key::ALL
            .into_iter()
            .filter(|k| !k.default_text().is_empty())
        {
            let resolved = match key {
                Key::ListenPort => saml.shared.listen_port.to_string(),
                Key::AwsConsole => saml.aws_console.to_string(),
                Key::Timeout => saml.shared.timeout.as_secs().to_string(),
                Key::RequireRelayState => saml.require_relay_state.to_string(),
                Key::ProfileName => saml.profile_name.clone(),
                Key::Cache => {
                    assert_eq!(saml.cache, CacheChoice::default());
                    name(&|| clap::ValueEnum::to_possible_value(&saml.cache))
                }
                Key::HttpTimeout => {
                    assert_eq!(network.read_timeout, crate::net::DEFAULT_READ_TIMEOUT);
                    network.read_timeout.as_secs().to_string()
                }
                Key::HeadlessMode => {
                    assert_eq!(saml.headless_mode, Default::default());
                    saml.headless_mode.name()
                }
                Key::Scope => pkce.scope.clone(),
                // The port put back as the placeholder the table shows.
                Key::PkceCallbackUrl => pkce
                    .callback_url
                    .as_str()
                    .replace(&format!(":{}/", saml.shared.listen_port), ":{listen_port}/"),
                other => panic!("{other} has a default and no check here"),
            };
            assert_eq!(resolved, key.default_text(), "the default of {key}");
            checked += 1;
        }
        assert_eq!(checked, 10);
    }
}
