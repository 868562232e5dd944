//! The `pkce-login` command: OAuth tokens (authorization code + PKCE) from the same
//! browsers as saml-login. The flow itself is in [`crate::pkce`].

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use saml_login_capture::Cancel;

use crate::browser::{self, BrowserKind, BrowserOptions};
use crate::cli::BrowserArgs;
use crate::config::Overrides;
use crate::error::{Error, Result};
use crate::login;
use crate::paths::Paths;
use crate::pkce::{self, PkceFile, PkceOverrides, PkceSettings, TokenKind};

const EXAMPLES: &str = "\
Examples:
  pkce-login get-id-jwt                                 the token response (JSON, one line)
  pkce-login get-id-jwt --decode                        the ID token's claims
  pkce-login -c api get-access-jwt --audience https://api.example.com
  pkce-login --headless --cookies jar.txt get-access-jwt --decode

--decode only decodes: no signature is checked, so never trust the claims it shows
for authorization decisions.

Configuration: ~/.pkce-login (ini; -c SECTION, keys inherit [DEFAULT]): idp_url,
client_id, listen_port (12200), audience, scope (openid profile), pkce_callback_url
(http://localhost:{listen_port}/callback), browser, timeout, cookies.";

/// Log in to an Auth0 tenant and print OAuth tokens (authorization code flow with PKCE).
#[derive(Debug, Parser)]
#[command(name = "pkce-login", version, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct Global {
    /// The section of ~/.pkce-login to use (keys inherit [DEFAULT])
    #[arg(
        short = 'c',
        long,
        value_name = "SECTION",
        default_value = "DEFAULT",
        global = true
    )]
    pub configuration: String,

    /// Read the configuration from FILE instead of ~/.pkce-login
    #[arg(long, value_name = "FILE", env = "PKCE_LOGIN_CONFIG", global = true)]
    pub config: Option<PathBuf>,

    /// Trace what happens on stderr (tokens, codes and cookies stay redacted)
    #[arg(long, global = true)]
    pub verbose: bool,

    /// The Auth0 tenant URL (setting `idp_url`)
    #[arg(long, value_name = "URL", global = true)]
    pub idp_url: Option<String>,

    /// The Auth0 application's client id (setting `client_id`)
    #[arg(long, value_name = "ID", global = true)]
    pub client_id: Option<String>,

    /// Loopback port of the default callback http://localhost:PORT/callback (setting
    /// `listen_port`)
    #[arg(long, value_name = "PORT", global = true)]
    pub listen_port: Option<String>,

    /// Give up on the login after SECONDS (setting `timeout`, default 300)
    #[arg(long, value_name = "SECONDS", global = true)]
    pub timeout: Option<String>,

    #[command(flatten)]
    pub browser: BrowserArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in and print the token response (JSON, one line) carrying the ID token
    GetIdJwt(IdArgs),

    /// Log in and print the token response (JSON, one line) carrying the access token
    ///
    /// Auth0 issues a JWT access token only for an API: give its identifier with
    /// --audience (or `audience` in the section).
    GetAccessJwt(AccessArgs),
}

#[derive(Debug, Args)]
pub struct IdArgs {
    /// Print the ID token's claims (its payload) as JSON instead; no signature is checked
    #[arg(long)]
    pub decode: bool,
}

#[derive(Debug, Args)]
pub struct AccessArgs {
    /// The API identifier the access token is for (setting `audience`)
    #[arg(long, value_name = "AUDIENCE")]
    pub audience: Option<String>,

    /// The scopes to ask for, space-separated (setting `scope`, default "openid profile")
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,

    /// Print the access token's claims (its payload) as JSON instead; no signature is
    /// checked
    #[arg(long)]
    pub decode: bool,
}

/// Parse the command line, run it, report any error; returns the exit code.
pub fn main_entry() -> i32 {
    crate::entry::<Cli>(
        "pkce-login",
        <Cli as clap::CommandFactory>::command,
        |cli| cli.global.verbose,
        run,
    )
}

/// Run the parsed command line.
pub fn run(cli: Cli, cancel: Cancel) -> Result<()> {
    let g = &cli.global;
    let (path, explicit) = config_path(g.config.clone())?;
    let file = PkceFile::load(&path, explicit)?;
    let settings = PkceSettings::resolve(&file, &g.configuration, &overrides(&cli))?;
    let (kind, decode) = match &cli.command {
        Command::GetIdJwt(a) => (TokenKind::Id, a.decode),
        Command::GetAccessJwt(a) => (TokenKind::Access, a.decode),
    };

    if kind == TokenKind::Access && settings.audience.is_none() {
        eprintln!(
            "pkce-login: warning: no audience (--audience, or `audience` in the section): Auth0 then issues an opaque access token, not a JWT; give the identifier of the API the token is for"
        );
    }
    let browser_kind = settings
        .browser
        .unwrap_or_else(BrowserKind::default_for_this_machine);
    let auth = pkce::authorization(
        &settings,
        format!("pkce-login [{}]", settings.section),
        cancel,
    );
    // saml-login's remembered webview profile for this IdP: both tools share the session.
    let profile = Paths::resolve(None, |k| std::env::var(k).ok())
        .ok()
        .map(|paths| browser::webview_profile(&paths.data, &auth.request.start_url));
    let options = BrowserOptions::for_kind(
        &g.browser,
        browser_kind,
        settings.cookies.as_ref(),
        settings.chrome.as_ref(),
        profile,
    )?;
    let mut browser = browser::open(browser_kind, &options)?;
    let captured = login::capture(browser.as_mut(), &auth.request)
        .map_err(|e| e.port_from_setting(settings.port_setting))?;
    let code = pkce::authorization_code(&settings, &auth.request, &captured)?;
    browser::save_cookies(
        "pkce-login",
        &g.browser,
        browser.as_ref(),
        &auth.request.start_url,
    )?;
    let tokens = pkce::exchange(&settings, &code, &auth.pkce)?;

    let token_url = settings.endpoint("oauth/token");
    let malformed = |message: String| Error::Malformed {
        path: PathBuf::from(token_url.as_str()),
        message,
    };
    let token = tokens.token(kind).ok_or_else(|| {
        malformed(match kind {
            TokenKind::Id => {
                "the token response carries no id_token (is `openid` in the scope?)".into()
            }
            TokenKind::Access => "the token response carries no access_token".into(),
        })
    })?;
    let out = if decode {
        let claims = pkce::jwt_claims(token)
            .map_err(|why| malformed(format!("cannot decode the {}: {why}", kind.field())))?;
        serde_json::to_string_pretty(&claims).expect("a JSON value serializes")
    } else {
        tokens.to_json_line()
    };
    writeln!(std::io::stdout().lock(), "{out}").map_err(|source| Error::Write {
        path: "standard output".into(),
        source,
    })
}

/// `--config FILE` / `PKCE_LOGIN_CONFIG` (must exist), else `~/.pkce-login`.
fn config_path(explicit: Option<PathBuf>) -> Result<(PathBuf, bool)> {
    if let Some(path) = explicit {
        return Ok((path, true));
    }
    let home = crate::platform::home_from_env(|k| std::env::var(k).ok())
        .or_else(std::env::home_dir)
        .ok_or_else(|| Error::Usage("cannot find your home directory: set HOME".into()))?;
    Ok((home.join(".pkce-login"), false))
}

/// Flags by configuration key.
fn overrides(cli: &Cli) -> PkceOverrides {
    let g = &cli.global;
    let mut o = Overrides::default();
    o.flag("idp_url", "--idp-url", g.idp_url.clone());
    o.flag("client_id", "--client-id", g.client_id.clone());
    o.flag("listen_port", "--listen-port", g.listen_port.clone());
    o.flag("timeout", "--timeout", g.timeout.clone());
    g.browser.add_overrides(&mut o);
    let (audience, scope) = match &cli.command {
        Command::GetAccessJwt(a) => (a.audience.clone(), a.scope.clone()),
        Command::GetIdJwt(_) => (None, None),
    };
    PkceOverrides {
        common: o,
        audience,
        scope,
    }
}
