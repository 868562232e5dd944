//! What a run does: resolve paths and settings once, then carry out the command on the
//! shared pipeline (response -> assertion -> role -> STS -> credential store).

use std::io::Write;

use saml_login_capture::{Cancel, LoginRequest, Secret};

use crate::accounts::{Account, Accounts};
use crate::assertion::{Assertion, SamlResponse};
use crate::browser::{self, BrowserKind, BrowserOptions};
use crate::cli::{AssumeRoleArgs, Cli, Command};
use crate::config::{IniFile, Overrides, Settings};
use crate::cookie_jar::{self, JarSource};
use crate::error::{Error, Result};
use crate::login::{self, Source};
use crate::paths::Paths;
use crate::role::AwsRole;
use crate::store::{self, SecretFile};
use crate::sts::{self, AssumeRequest};

/// Everything resolved before the command runs.
struct Context {
    cli: Cli,
    settings: Settings,
    accounts: Accounts,
    paths: Paths,
    cancel: Cancel,
}

/// Run the parsed command line.
pub fn run(cli: Cli, cancel: Cancel) -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let paths = Paths::resolve(cli.global.config.clone(), env)?;
    let file = IniFile::load(&paths.config, paths.config_explicit)?;
    let overrides = overrides(&cli, env);
    let settings = Settings::resolve(&file, &cli.global.configuration, &overrides)?;
    let accounts = Accounts::load(&paths.accounts)?;
    let context = Context {
        cli,
        settings,
        accounts,
        paths,
        cancel,
    };
    match &context.cli.command {
        Command::GetToken => get_token(&context),
        Command::AwsAssumeRole(args) => assume_role(&context, args),
    }
}

/// Flags and `SAML_LOGIN_*` variables, by configuration key.
fn overrides(cli: &Cli, env: impl Fn(&str) -> Option<String>) -> Overrides {
    let g = &cli.global;
    let mut o = Overrides::default();
    o.read_env(env);
    o.flag("idp_url", "--idp-url", g.idp_url.clone());
    o.flag("client_id", "--client-id", g.client_id.clone());
    o.flag("listen_port", "--listen-port", g.listen_port.clone());
    o.flag("role_duration", "--role-duration", g.role_duration.clone());
    o.flag("region", "--region", g.region.clone());
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
    if let Command::AwsAssumeRole(a) = &cli.command {
        o.flag("aws_account", "--account", a.account.clone());
        o.flag("aws_role", "--role", a.role.clone());
        o.flag("aws_profile", "--profile", a.profile.clone());
        if !a.policy_arns.is_empty() {
            o.flag(
                "policy_arns",
                "--policy-arn",
                Some(a.policy_arns.join("\n")),
            );
        }
        o.flag("inline_policy", "--inline-policy", a.inline_policy.clone());
        if a.open_console {
            o.flag("aws_console", "--open-console", Some("true".into()));
        } else if a.no_open_console {
            o.flag("aws_console", "--no-open-console", Some("false".into()));
        }
    }
    o
}

fn get_token(cx: &Context) -> Result<()> {
    let response = obtain(cx, format!("[{}]", cx.settings.section))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", response.expose()).map_err(stdout_error)
}

fn assume_role(cx: &Context, args: &AssumeRoleArgs) -> Result<()> {
    let s = &cx.settings;
    if args.show {
        let response = obtain(cx, format!("[{}] roles", s.section))?;
        let assertion = response.parse()?;
        return print_roles(cx, &assertion);
    }
    let (Some(account), Some(role), Some(profile)) = (&s.aws_account, &s.aws_role, &s.aws_profile)
    else {
        return Err(Error::Usage(
            "--account, --role and --profile are required (or aws_account, aws_role and aws_profile in the section)".into(),
        ));
    };
    let account = cx.accounts.get(account)?;
    if s.aws_console {
        eprintln!(
            "saml-login: warning: opening the AWS console (--open-console, aws_console) is not available yet in this version"
        );
    }
    let response = obtain(cx, format!("[{}] {profile}", s.section))?;
    let assertion = response.parse()?;
    let granted = select_role(cx, &assertion, &account, role)?;
    let duration = s
        .role_duration
        .or(assertion.session_duration)
        .unwrap_or(crate::config::DEFAULT_ROLE_DURATION);
    let credentials = sts::assume(&AssumeRequest {
        role: granted,
        saml_response: &response,
        duration,
        policy_arns: &s.policy_arns,
        inline_policy: s.inline_policy.as_deref(),
        region: s.region.as_deref(),
    })?;
    let entries = credentials.profile_entries();
    SecretFile::new(&cx.paths.credentials)
        .update(|old| Ok(store::update_profile(old, profile, &entries)))?;
    eprintln!(
        "saml-login: credentials for {}@{} saved under AWS profile {profile} in {} (valid until {})",
        granted.name(),
        account.alias,
        cx.paths.credentials.display(),
        credentials.expiration_rfc3339()
    );
    Ok(())
}

/// The granted role matching `account` and `role` (a name or a full ARN).
fn select_role<'a>(
    cx: &Context,
    assertion: &'a Assertion,
    account: &Account,
    role: &str,
) -> Result<&'a AwsRole> {
    assertion
        .roles
        .iter()
        .find(|r| r.role_arn == role || (r.account() == account.number && r.name() == role))
        .ok_or_else(|| Error::RoleNotGranted {
            role: format!("{role}@{}", account.alias),
            granted: assertion
                .roles
                .iter()
                .map(|r| format!("{}@{}", r.name(), cx.accounts.alias_for(r.account())))
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// `--show`: one configuration section per granted role, as the original printed it.
fn print_roles(cx: &Context, assertion: &Assertion) -> Result<()> {
    let s = &cx.settings;
    let mut out = String::new();
    for role in &assertion.roles {
        let alias = cx.accounts.alias_for(role.account());
        let name = role.name();
        out.push_str(&format!(
            "[{name}@{alias}]\nidp_url = {}\nclient_id = {}\naws_account = {alias}\naws_role = {name}\naws_profile = {name}@{alias}\n\n",
            s.idp_url_text, s.client_id
        ));
    }
    std::io::stdout()
        .lock()
        .write_all(out.as_bytes())
        .map_err(stdout_error)
}

/// Get the SAML response: a saved one, or a login in the chosen browser.
fn obtain(cx: &Context, title: String) -> Result<SamlResponse> {
    let request: LoginRequest = login::saml_request(&cx.settings, title, cx.cancel.clone());
    let g = &cx.cli.global;
    if let Some(path) = &g.saml_response_file {
        return login::saml_response(Source::Saved(path), &request);
    }
    let kind = cx
        .settings
        .browser
        .unwrap_or_else(BrowserKind::default_for_this_machine);
    if g.save_cookies.is_some() && kind == BrowserKind::System {
        return Err(Error::Usage(
            "--save-cookies needs --headless or --webview: the system browser keeps its cookies to itself".into(),
        ));
    }
    if g.cookies.is_some() && kind != BrowserKind::Headless {
        return Err(Error::Usage("--cookies is for --headless".into()));
    }
    let options = browser_options(cx, kind)?;
    let mut browser = browser::open(kind, &options)?;
    let response = login::saml_response(Source::Browser(browser.as_mut()), &request)?;
    if let Some(path) = &g.save_cookies {
        let host = request.start_url.host_str().unwrap_or_default();
        let saved = cookie_jar::save(path, &browser.cookies(), host)?;
        eprintln!(
            "saml-login: saved {saved} cookie(s) of {host} to {}",
            path.display()
        );
    }
    Ok(response)
}

fn browser_options(cx: &Context, kind: BrowserKind) -> Result<BrowserOptions> {
    let g = &cx.cli.global;
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let mut options = BrowserOptions {
        no_open: g.no_open,
        chrome: g.chrome.clone(),
        show_browser: g.show_browser,
        fresh: g.fresh,
        export_cookies: g.save_cookies.is_some(),
        ..BrowserOptions::default()
    };
    if kind == BrowserKind::Headless {
        let jar = match (&g.cookies, env("SAML_LOGIN_COOKIES"), &cx.settings.cookies) {
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

fn stdout_error(source: std::io::Error) -> Error {
    Error::Write {
        path: "standard output".into(),
        source,
    }
}
