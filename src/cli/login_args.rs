//! The login flags both `saml-login` and `pkce-login` take, declared once and
//! flattened into each tool's command line: where to log in, the browser and its
//! options, and which configuration to read. Parsing only: the resolver
//! ([`crate::cli::resolve`]) reads them.

use std::path::PathBuf;

use clap::Args;

use crate::config::browser_kind::BrowserKind;

/// The heading of the options that choose and read the configuration.
pub const CONFIGURATION_HEADING: &str = "Configuration";
/// The heading of the options that say where and how to log in.
pub const LOGIN_HEADING: &str = "Login";
/// The heading of the browser options.
pub const BROWSER_HEADING: &str = "Browser";

/// The flags of a login, shared by both tools.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The Auth0 tenant URL (setting `idp_url`)
    #[arg(long, value_name = "URL", global = true, help_heading = LOGIN_HEADING)]
    pub idp_url: Option<String>,

    /// The Auth0 application's client id (setting `client_id`)
    #[arg(long, value_name = "ID", global = true, help_heading = LOGIN_HEADING)]
    pub client_id: Option<String>,

    /// Loopback port of the callback http://localhost:PORT/saml (setting `listen_port`)
    #[arg(long, value_name = "PORT", global = true, help_heading = LOGIN_HEADING)]
    pub listen_port: Option<String>,

    /// Give up on the login after SECONDS (setting `timeout`, default 300)
    #[arg(long, value_name = "SECONDS", global = true, help_heading = LOGIN_HEADING)]
    pub timeout: Option<String>,

    /// Also trust the CA certificates in FILE (PEM), besides the system's: a
    /// TLS-inspecting proxy's CA (setting `ca_bundle`)
    #[arg(long, value_name = "FILE", global = true, help_heading = LOGIN_HEADING)]
    pub ca_bundle: Option<String>,

    #[command(flatten)]
    pub browser: BrowserArgs,

    /// The section of ~/.saml-login to use (keys inherit [DEFAULT])
    #[arg(
        short = 'c',
        long,
        value_name = "SECTION",
        default_value = "DEFAULT",
        global = true,
        help_heading = CONFIGURATION_HEADING
    )]
    pub configuration: String,

    /// Read the configuration from FILE instead of ~/.saml-login [env: SAML_LOGIN_CONFIG]
    // The variable is read by `config_file` (an empty one counts as unset), not by clap,
    // which would refuse it empty.
    #[arg(long, value_name = "FILE", global = true, help_heading = CONFIGURATION_HEADING)]
    pub config: Option<PathBuf>,

    /// Trace what happens on stderr (secrets stay redacted)
    #[arg(long, global = true, help_heading = CONFIGURATION_HEADING)]
    pub verbose: bool,
}

/// How to log in: the browser and its options.
#[derive(Debug, Args)]
#[command(next_help_heading = BROWSER_HEADING)]
pub struct BrowserArgs {
    /// How to log in (setting `browser`)
    #[arg(long, value_name = "KIND", global = true)]
    pub browser: Option<BrowserKind>,

    /// Log in in saml-login's own window (same as --browser webview)
    #[arg(long, global = true, conflicts_with_all = ["browser", "headless", "system_browser"])]
    pub webview: bool,

    /// Log in with headless Chromium (same as --browser headless)
    #[arg(long, global = true, conflicts_with_all = ["browser", "system_browser"])]
    pub headless: bool,

    /// Log in with the default browser and a loopback callback (same as --browser system)
    #[arg(long, global = true, conflicts_with = "browser")]
    pub system_browser: bool,

    /// Open no browser: print the login URL and how to reach the callback from another machine (SSH, containers), and wait for it (same as --browser none)
    #[arg(long, alias = "no-open", global = true, conflicts_with_all = ["browser", "webview", "headless", "system_browser"])]
    pub no_browser: bool,

    /// Headless: the Chromium binary (setting `chrome`; default: CHROME, then a headless shell, then full Chromium or Chrome)
    #[arg(long, value_name = "PATH", global = true)]
    pub chrome: Option<PathBuf>,

    /// Headless: a cookie jar (cookies.txt or JSON) with the IdP session (setting `cookies`)
    #[arg(long, value_name = "FILE", global = true)]
    pub cookies: Option<PathBuf>,

    /// After a successful login, write the IdP's cookies to FILE (mode 0600)
    #[arg(long, value_name = "FILE", global = true)]
    pub save_cookies: Option<PathBuf>,

    /// Headless: show the Chromium window (first login, debugging)
    #[arg(long, global = true)]
    pub show_browser: bool,

    /// Webview: use a throwaway profile instead of the remembered session
    #[arg(long, visible_alias = "private", global = true)]
    pub fresh: bool,

    /// Webview: try it again on an IdP it could not serve (a passkey page), instead of going straight to the system browser
    #[arg(long, global = true)]
    pub retry_webview: bool,
}

impl BrowserArgs {
    /// The browser chosen on the command line, if any.
    /// The flags the browser setup reads ([`crate::config::browser_setup`]).
    pub(crate) fn flags(&self) -> crate::config::browser_setup::BrowserFlags<'_> {
        crate::config::browser_setup::BrowserFlags {
            cookies: self.cookies.as_deref(),
            save_cookies: self.save_cookies.as_deref(),
            show_browser: self.show_browser,
            fresh: self.fresh,
            retry_webview: self.retry_webview,
        }
    }

    pub fn choice(&self) -> Option<BrowserKind> {
        if self.webview {
            Some(BrowserKind::Webview)
        } else if self.headless {
            Some(BrowserKind::Headless)
        } else if self.system_browser {
            Some(BrowserKind::System)
        } else if self.no_browser {
            Some(BrowserKind::NoBrowser)
        } else {
            self.browser
        }
    }
}

impl LoginArgs {
    /// `--config FILE`, else `SAML_LOGIN_CONFIG` when set and not empty.
    pub(crate) fn config_file(&self, env: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
        self.config.clone().or_else(|| {
            env("SAML_LOGIN_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }
}
