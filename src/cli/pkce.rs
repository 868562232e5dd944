//! The `pkce-login` command: OAuth tokens (authorization code + PKCE) from the same
//! browsers as saml-login, with the same login flags ([`LoginArgs`]) and the same
//! configuration layers. The flow itself is in [`crate::pkce`].

use std::io::Write;

use clap::{Args, Parser, Subcommand};
use saml_login_capture::Cancel;

use crate::cli::login_args::LoginArgs;
use crate::cli::resolve::browser_overrides;
use crate::config::browser_setup::{BrowserInputs, LoginSetup};
use crate::config::keys::Key;
use crate::config::paths::Paths;
use crate::config::{IniFile, Overrides};
use crate::error::{Error, Result};
use crate::login;
use crate::login::browser;
use crate::pkce::flow::{self, TokenKind};
use crate::pkce::settings::PkceSettings;

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
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) login: LoginArgs,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// pkce-login's command line: the shared login flags, with its own file and callback.
pub(crate) fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
        .mut_arg("configuration", |a| {
            a.help("The section of ~/.pkce-login to use (keys inherit [DEFAULT])")
        })
        .mut_arg("config", |a| {
            a.env("PKCE_LOGIN_CONFIG")
                .help("Read the configuration from FILE instead of ~/.pkce-login")
        })
        .mut_arg("listen_port", |a| {
            a.help(
                "Loopback port of the default callback http://localhost:PORT/callback (setting `listen_port`)",
            )
        })
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Log in and print the token response (JSON, one line) carrying the ID token
    GetIdJwt(IdArgs),

    /// Log in and print the token response (JSON, one line) carrying the access token
    ///
    /// Auth0 issues a JWT access token only for an API: give its identifier with
    /// --audience (or `audience` in the section).
    GetAccessJwt(AccessArgs),
}

#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    /// Print the ID token's claims (its payload) as JSON instead; no signature is checked
    #[arg(long)]
    pub(crate) decode: bool,
}

#[derive(Debug, Args)]
pub(crate) struct AccessArgs {
    /// The API identifier the access token is for (setting `audience`)
    #[arg(long, value_name = "AUDIENCE")]
    pub(crate) audience: Option<String>,

    /// The scopes to ask for, space-separated (setting `scope`, default "openid profile")
    #[arg(long, value_name = "SCOPE")]
    pub(crate) scope: Option<String>,

    /// Print the access token's claims (its payload) as JSON instead; no signature is
    /// checked
    #[arg(long)]
    pub(crate) decode: bool,
}

/// Parse the command line, run it, report any error; returns the exit code.
pub fn main_entry() -> i32 {
    crate::entry::<Cli>("pkce-login", command, |cli| cli.login.verbose, run)
}

/// Run the parsed command line.
fn run(cli: Cli, cancel: Cancel) -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    // Resolve: the paths (saml-login's, for the shared webview session), the file, the
    // settings, the browser.
    let config = cli.login.config_file(env);
    let paths = Paths::resolve(config.clone(), env)?;
    let (path, explicit) = match &config {
        Some(path) => (path.clone(), true),
        None => (paths.home.join(".pkce-login"), false),
    };
    let file = IniFile::load(&path, explicit)?;
    let settings = PkceSettings::resolve(&file, &cli.login.configuration, &overrides(&cli))?;
    crate::config::network::install(
        &env,
        &overrides(&cli),
        &file,
        &cli.login.configuration,
        &paths,
    )?;
    let (kind, decode) = match &cli.command {
        Command::GetIdJwt(a) => (TokenKind::Id, a.decode),
        Command::GetAccessJwt(a) => (TokenKind::Access, a.decode),
    };
    if kind == TokenKind::Access && settings.audience.is_none() {
        crate::output::warning!(
            "no audience (--audience, or `audience` in the section): Auth0 then issues an opaque access token, not a JWT; give the identifier of the API the token is for"
        );
    }
    let auth = flow::authorization(
        &settings,
        format!("pkce-login [{}]", settings.section),
        cancel,
    );
    // saml-login's remembered webview profile for this IdP: both tools share the session.
    let setup = LoginSetup::resolve(
        BrowserInputs {
            args: cli.login.browser.flags(),
            saved_response: None,
            kind: settings.browser,
            cookies: settings.cookies.as_ref(),
            chrome: settings.chrome.as_ref(),
            // The browserless try reads a SAML form; pkce-login's answer is a redirect.
            headless_mode: crate::config::headless_mode::HeadlessMode::Chromium,
            webview_profile: saml_login_capture::webview::profile_dir_for(
                &paths.data,
                &auth.request.start_url,
            ),
            machine: &crate::config::browser_kind::MachineFiles::this_machine(),
        },
        &env,
    )?;

    let mut browser = browser::open(&setup.browser, &paths.programs)?;
    let login = login::capture(browser.as_mut(), &auth.request)
        .map_err(|e| e.port_from_setting(settings.port_setting))?;
    let code = flow::authorization_code(&settings, &auth.request, &login.callback)?;
    browser::save_cookies(
        setup.save_cookies.as_deref(),
        &login.cookies,
        &auth.request.start_url,
    )?;
    let tokens = flow::exchange(&settings, &code, &auth.pkce)?;

    let token_url = settings.endpoint("oauth/token");
    let idp = |message: String| Error::Idp {
        endpoint: token_url.to_string(),
        message,
    };
    let token = tokens.token(kind).ok_or_else(|| {
        idp(match kind {
            TokenKind::Id => {
                "the token response carries no id_token (is `openid` in the scope?)".into()
            }
            TokenKind::Access => "the token response carries no access_token".into(),
        })
    })?;
    let out = if decode {
        let claims = flow::jwt_claims(token)
            .map_err(|why| idp(format!("cannot decode the {}: {why}", kind.field())))?;
        serde_json::to_string_pretty(&claims).expect("a JSON value serializes")
    } else {
        tokens.to_json_line()
    };
    writeln!(std::io::stdout().lock(), "{out}").map_err(crate::output::stdout_error)
}

/// Flags by configuration key (pkce-login reads no `SAML_LOGIN_*` variable for them).
fn overrides(cli: &Cli) -> Overrides {
    let l = &cli.login;
    let mut o = Overrides::default();
    o.flag(Key::IdpUrl, l.idp_url.clone());
    o.flag(Key::ClientId, l.client_id.clone());
    o.flag(Key::ListenPort, l.listen_port.clone());
    o.flag(Key::Timeout, l.timeout.clone());
    o.flag(Key::CaBundle, l.ca_bundle.clone());
    browser_overrides(&l.browser, &mut o);
    if let Command::GetAccessJwt(a) = &cli.command {
        o.flag(Key::Audience, a.audience.clone());
        o.flag(Key::Scope, a.scope.clone());
    }
    o
}
