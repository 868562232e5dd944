//! Every configuration key, declared once: its name, the flag that sets it, whether a
//! `SAML_LOGIN_*` variable sets it, its default and what it is for. The resolver
//! (flags and variables by key), the help's `[env: ...]` notes, the manual page and
//! the unknown-key check all read this table; a new key is one line here.

/// Which tool reads a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tool {
    /// `saml-login` and `pkce-login`.
    Both,
    SamlLogin,
    PkceLogin,
}

/// One configuration key.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Key {
    pub name: &'static str,
    /// The flag that sets it, if any.
    pub flag: Option<&'static str>,
    /// Whether `SAML_LOGIN_{NAME}` sets it (saml-login only).
    pub env: bool,
    /// The built-in default, as the README shows it (empty: none).
    pub default: &'static str,
    pub help: &'static str,
    pub tool: Tool,
}

impl Key {
    /// `SAML_LOGIN_{NAME}`, when a variable sets the key.
    pub fn env_var(&self) -> Option<String> {
        self.env
            .then(|| format!("SAML_LOGIN_{}", self.name.to_ascii_uppercase()))
    }

    pub fn read_by(&self, tool: Tool) -> bool {
        self.tool == Tool::Both || self.tool == tool
    }
}

const fn key(
    name: &'static str,
    flag: Option<&'static str>,
    env: bool,
    default: &'static str,
    help: &'static str,
    tool: Tool,
) -> Key {
    Key {
        name,
        flag,
        env,
        default,
        help,
        tool,
    }
}

use Tool::{Both, PkceLogin, SamlLogin};

/// The table. (`cookies` has no variable: `SAML_LOGIN_COOKIES` holds a jar's content,
/// not a path.)
#[rustfmt::skip]
pub(crate) const TABLE: &[Key] = &[
    key("idp_url", Some("--idp-url"), true, "", "the Auth0 tenant URL", Both),
    key("client_id", Some("--client-id"), true, "", "the Auth0 application's client id", Both),
    key("aws_account", Some("--account"), true, "", "the AWS account number or alias", SamlLogin),
    key("aws_role", Some("--role"), true, "", "the role name to assume", SamlLogin),
    key("aws_profile", Some("--profile"), true, "", "the profile the credentials are stored under", SamlLogin),
    key("listen_port", Some("--listen-port"), true, "12200", "the loopback port of the callback", Both),
    key("role_duration", Some("--role-duration"), true, "", "the session duration in seconds", SamlLogin),
    key("policy_arns", Some("--policy-arn"), true, "", "managed policy ARNs limiting the session", SamlLogin),
    key("inline_policy", Some("--inline-policy"), true, "", "a JSON policy limiting the session", SamlLogin),
    key("aws_console", Some("--open-console"), true, "false", "open the AWS console after the login", SamlLogin),
    key("browser", Some("--browser"), true, "", "how to log in: webview, headless, system, none (print the URL)", Both),
    key("region", Some("--region"), true, "", "the AWS region for STS", SamlLogin),
    key("timeout", Some("--timeout"), true, "300", "give up on the login after this many seconds", Both),
    key("login_url", Some("--login-url"), true, "", "the page that starts the login", SamlLogin),
    key("callback_url", Some("--callback-url"), true, "", "where the IdP posts the response", SamlLogin),
    key("require_relay_state", None, true, "true", "refuse a loopback callback without our RelayState", SamlLogin),
    key("profile_name", None, true, "{role}@{account_alias}", "the name of each profile `configure` writes", SamlLogin),
    key("chrome", Some("--chrome"), true, "", "headless: the Chromium binary", Both),
    key("cache", Some("--cache"), true, "auto", "where the caches keep secrets: auto, keyring, file", SamlLogin),
    key("ca_bundle", Some("--ca-bundle"), true, "", "CA certificates (PEM) trusted besides the system's", Both),
    key("http_timeout", None, true, "30", "seconds an HTTP request (STS, IdP) may wait for its answer", Both),
    key("cookies", Some("--cookies"), false, "", "headless: a cookie jar with the IdP session", Both),
    key("browser_profile", Some("--browser-profile"), true, "", "aws-console, -C: open the console in a browser profile of its own, by name ({profile}: one per AWS profile)", SamlLogin),
    key("console_browser", Some("--console-browser"), true, "", "aws-console, -C: the Chromium-family browser or Firefox of the browser profiles", SamlLogin),
    key("headless_mode", Some("--headless-mode"), true, "auto", "headless with a cookie jar: auto (plain HTTP first, then Chromium), http, chromium", SamlLogin),
    key("audience", Some("--audience"), false, "", "the API the access token is for", PkceLogin),
    key("scope", Some("--scope"), false, "openid profile", "the scopes to ask for", PkceLogin),
    key("pkce_callback_url", None, false, "http://localhost:{listen_port}/callback", "the redirect_uri", PkceLogin),
];

/// The key called `name`.
pub(crate) fn get(name: &str) -> Option<&'static Key> {
    TABLE.iter().find(|k| k.name == name)
}

/// The names of the keys `tool` reads, for the unknown-key check.
pub(crate) fn names(tool: Tool) -> Vec<&'static str> {
    TABLE
        .iter()
        .filter(|k| k.read_by(tool))
        .map(|k| k.name)
        .collect()
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
            for k in TABLE.iter().filter(|k| k.read_by(tool)) {
                let Some(flag) = k.flag else { continue };
                let arg = args
                    .iter()
                    .find(|a| a.get_long().is_some_and(|l| format!("--{l}") == flag))
                    .unwrap_or_else(|| panic!("{tool:?}: no {flag} for {}", k.name));
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                assert!(
                    help.contains(&format!("setting `{}`", k.name)),
                    "{tool:?}: the help of {flag} does not name `{}`: {help}",
                    k.name
                );
            }
        }
        assert!(
            get("idp_url").is_some_and(|k| k.env_var().as_deref() == Some("SAML_LOGIN_IDP_URL"))
        );
        assert_eq!(get("cookies").and_then(Key::env_var), None);
    }
}
