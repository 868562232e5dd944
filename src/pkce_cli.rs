//! The `pkce-login` command: OAuth tokens (authorization code + PKCE) from the same
//! browsers as saml-login. The flow itself is in [`crate::pkce`].

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use saml_login_capture::{Browser, Cancel, CaptureError, Captured, LoginRequest, Secret};

use crate::browser::{self, BrowserKind, BrowserOptions};
use crate::config::Overrides;
use crate::cookie_jar::{self, JarSource};
use crate::error::{Error, Result, exit};
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

    /// How to log in (setting `browser`)
    #[arg(long, value_name = "KIND", global = true)]
    pub browser: Option<BrowserKind>,

    /// Log in in pkce-login's own window (same as --browser webview)
    #[arg(long, global = true, conflicts_with_all = ["browser", "headless", "system_browser"])]
    pub webview: bool,

    /// Log in with headless Chromium (same as --browser headless)
    #[arg(long, global = true, conflicts_with_all = ["browser", "system_browser"])]
    pub headless: bool,

    /// Log in with the default browser and a loopback callback (same as --browser system)
    #[arg(long, global = true, conflicts_with = "browser")]
    pub system_browser: bool,

    /// System browser: print the login URL instead of opening a browser
    #[arg(long, global = true)]
    pub no_open: bool,

    /// Headless: the Chromium binary (default: CHROME, then chromium on PATH)
    #[arg(long, value_name = "PATH", global = true)]
    pub chrome: Option<PathBuf>,

    /// Headless: a cookie jar (cookies.txt or JSON) with the IdP session (setting
    /// `cookies`; SAML_LOGIN_COOKIES holds a jar's content)
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
}

impl Global {
    /// The browser chosen on the command line, if any.
    pub fn browser_choice(&self) -> Option<BrowserKind> {
        if self.webview {
            Some(BrowserKind::Webview)
        } else if self.headless {
            Some(BrowserKind::Headless)
        } else if self.system_browser {
            Some(BrowserKind::System)
        } else {
            self.browser
        }
    }
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    init_tracing(cli.global.verbose);
    let cancel = Cancel::new();
    let on_interrupt = cancel.clone();
    // First Ctrl-C: stop the wait and clean up; a second one: leave at once.
    let _ = ctrlc::set_handler(move || {
        if on_interrupt.is_cancelled() {
            std::process::exit(exit::INTERRUPTED);
        }
        on_interrupt.cancel();
    });
    match run(cli, cancel) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("pkce-login: error: {e}");
            if let Some(hint) = e.hint() {
                eprintln!("  hint: {hint}");
            }
            e.exit_code()
        }
    }
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

    let browser_kind = settings
        .browser
        .unwrap_or_else(BrowserKind::default_for_this_machine);
    if g.save_cookies.is_some() && browser_kind == BrowserKind::System {
        return Err(Error::Usage(
            "--save-cookies needs --headless or --webview: the system browser keeps its cookies to itself".into(),
        ));
    }
    if g.cookies.is_some() && browser_kind != BrowserKind::Headless {
        return Err(Error::Usage("--cookies is for --headless".into()));
    }
    let options = browser_options(g, &settings, browser_kind)?;
    let auth = pkce::authorization(
        &settings,
        format!("pkce-login [{}]", settings.section),
        cancel,
    );
    let mut browser = browser::open(browser_kind, &options)?;
    let captured = capture(browser.as_mut(), &auth.request)?;
    let code = pkce::authorization_code(&settings, &auth.request, &captured)?;
    if let Some(path) = &g.save_cookies {
        let host = auth.request.start_url.host_str().unwrap_or_default();
        let saved = cookie_jar::save(path, &browser.cookies(), host)?;
        eprintln!(
            "pkce-login: saved {saved} cookie(s) of {host} to {}",
            path.display()
        );
    }
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
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
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
    o.flag(
        "cookies",
        "--cookies",
        g.cookies.as_ref().map(|p| p.display().to_string()),
    );
    o.flag(
        "browser",
        "--browser",
        g.browser_choice()
            .and_then(|b| clap::ValueEnum::to_possible_value(&b))
            .map(|v| v.get_name().to_owned()),
    );
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

fn browser_options(
    g: &Global,
    settings: &PkceSettings,
    kind: BrowserKind,
) -> Result<BrowserOptions> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut options = BrowserOptions {
        no_open: g.no_open,
        chrome: g.chrome.clone(),
        show_browser: g.show_browser,
        fresh: g.fresh,
        export_cookies: g.save_cookies.is_some(),
        webview_profile: webview_profile(settings),
        ..BrowserOptions::default()
    };
    if kind == BrowserKind::Headless {
        let jar = match (&g.cookies, env("SAML_LOGIN_COOKIES"), &settings.cookies) {
            (Some(flag), _, _) => Some(JarSource::File(flag.clone())),
            (None, Some(content), _) => Some(JarSource::Env(content)),
            (None, None, Some(file)) => Some(JarSource::File(file.clone())),
            (None, None, None) => None,
        };
        if let Some(jar) = jar {
            options.cookies = cookie_jar::read(&jar)?;
            tracing::debug!(cookies = options.cookies.len(), "read the cookie jar");
        }
        if let (Some(user), Some(password)) =
            (env("SAML_LOGIN_USERNAME"), env("SAML_LOGIN_PASSWORD"))
        {
            options.login = Some((user, Secret::new(password)));
        }
    }
    Ok(options)
}

/// The webview profile saml-login remembers for this IdP, so both tools share the
/// session.
fn webview_profile(settings: &PkceSettings) -> Option<PathBuf> {
    let env = |k: &str| std::env::var(k).ok();
    let data = Paths::resolve(None, env).ok()?.data;
    #[cfg(feature = "webview")]
    return Some(saml_login_webview::profile_dir_for(
        &data,
        &settings.idp_url,
    ));
    #[cfg(not(feature = "webview"))]
    {
        let _ = settings;
        Some(data.join("webview"))
    }
}

/// Run the login in `browser` with a spinner on stderr.
fn capture(browser: &mut dyn Browser, request: &LoginRequest) -> Result<Captured> {
    tracing::debug!(browser = browser.name(), url = %request.start_url, "logging in");
    let bar = ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(ProgressStyle::with_template("{spinner} {msg} ({elapsed})").expect("valid"));
    bar.set_message(format!("waiting for the login in the {}", browser.name()));
    bar.enable_steady_tick(Duration::from_millis(120));
    let captured = browser.capture(request);
    bar.finish_and_clear();
    captured.map_err(|e| match e {
        CaptureError::Cancelled if request.cancel.is_cancelled() => Error::Interrupted,
        e => Error::Capture(e),
    })
}

fn init_tracing(verbose: bool) {
    let level = if verbose { "debug" } else { "warn" };
    let filter = [
        "saml_login",
        "saml_login_capture",
        "saml_login_system",
        "saml_login_headless",
        "saml_login_webview",
    ]
    .map(|c| format!("{c}={level}"))
    .join(",");
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!("off,{filter}")))
        .with_target(false)
        .without_time()
        .try_init();
}
