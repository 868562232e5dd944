//! What a run does: resolve paths and settings once, then carry out the command on the
//! shared pipeline (response -> assertion -> role -> STS -> credential store).

use std::io::{IsTerminal, Write};

use saml_login_capture::{Cancel, LoginRequest, Secret};
use time::OffsetDateTime;

use crate::accounts::{Account, Accounts};
use crate::assertion::{Assertion, SamlResponse};
use crate::browser::{self, BrowserKind, BrowserOptions};
use crate::cache::{self, Cache};
use crate::cli::{AssumeRoleArgs, Cli, Command, ConsoleArgs, EnvShell, ExecArgs, FreshArgs};
use crate::config::{CallbackSetting, IniFile, Overrides, Settings};
use crate::console::{self, Partition};
use crate::credentials::Credentials;
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
    cache: Cache,
    cancel: Cancel,
    /// The time, read once.
    now: OffsetDateTime,
}

/// Run the parsed command line.
pub fn run(cli: Cli, cancel: Cancel) -> Result<()> {
    match &cli.command {
        Command::Completions { shell } => return completions(*shell),
        Command::Man => return man_page(),
        _ => {}
    }
    let env = |k: &str| std::env::var(k).ok();
    let paths = Paths::resolve(cli.global.config.clone(), env)?;
    let file = IniFile::load(&paths.config, paths.config_explicit)?;
    let overrides = overrides(&cli, env);
    let settings = Settings::resolve(&file, &cli.global.configuration, &overrides)?;
    let accounts = Accounts::load(&paths.accounts)?;
    let cx = Context {
        cache: Cache::new(paths.cache.clone()),
        cli,
        settings,
        accounts,
        paths,
        cancel,
        now: OffsetDateTime::now_utc(),
    };
    match &cx.cli.command {
        Command::GetToken => get_token(&cx),
        Command::AwsAssumeRole(args) if args.show => show(&cx),
        Command::AwsAssumeRole(args) if args.all => assume_all(&cx),
        Command::AwsAssumeRole(args) => assume_role(&cx, args),
        Command::AwsConsole(args) => aws_console(&cx, args),
        Command::CredentialProcess(args) => credential_process(&cx, args),
        Command::Exec(args) => exec(&cx, args),
        Command::Env(args) => env_exports(&cx, args.shell, &args.fresh),
        Command::Completions { .. } | Command::Man => unreachable!("handled above"),
    }
}

/// Flags and `SAML_LOGIN_*` variables, by configuration key.
fn overrides(cli: &Cli, env: impl Fn(&str) -> Option<String>) -> Overrides {
    let g = &cli.global;
    let mut o = Overrides::default();
    o.read_env(env);
    o.flag("idp_url", "--idp-url", g.idp_url.clone());
    o.flag("client_id", "--client-id", g.client_id.clone());
    o.flag("login_url", "--login-url", g.login_url.clone());
    o.flag("callback_url", "--callback-url", g.callback_url.clone());
    o.flag("listen_port", "--listen-port", g.listen_port.clone());
    o.flag("role_duration", "--role-duration", g.role_duration.clone());
    o.flag("region", "--region", g.region.clone());
    o.flag("timeout", "--timeout", g.timeout.clone());
    g.browser.add_overrides(&mut o);
    match &cli.command {
        Command::AwsAssumeRole(a) => {
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
        Command::AwsConsole(a) => o.flag("aws_profile", "--profile", a.profile.clone()),
        _ => {}
    }
    o
}

fn get_token(cx: &Context) -> Result<()> {
    let response = obtain(cx, format!("[{}]", cx.settings.section))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", response.expose()).map_err(stdout_error)
}

/// `--show`: one configuration section per granted role, as the original printed it.
fn show(cx: &Context) -> Result<()> {
    let s = &cx.settings;
    let (_, assertion) = assertion(cx, format!("[{}] roles", s.section))?;
    // The original's lines; login_url and callback_url when they are what is set.
    let mut login = String::new();
    if let Some(url) = &s.idp_url_text {
        login.push_str(&format!("idp_url = {url}\n"));
    }
    if let Some(id) = &s.client_id {
        login.push_str(&format!("client_id = {id}\n"));
    }
    if let Some(url) = &s.login_url {
        login.push_str(&format!("login_url = {url}\n"));
    }
    match &s.callback {
        CallbackSetting::Loopback => {}
        CallbackSetting::AwsSignin => login.push_str("callback_url = aws\n"),
        CallbackSetting::Url(url) => login.push_str(&format!("callback_url = {url}\n")),
    }
    let mut out = String::new();
    for role in &assertion.roles {
        let profile = profile_name(cx, role);
        out.push_str(&format!(
            "[{profile}]\n{login}aws_account = {}\naws_role = {}\naws_profile = {profile}\n\n",
            cx.accounts.alias_for(role.account()),
            role.name(),
        ));
    }
    write_stdout(&out)
}

fn assume_role(cx: &Context, args: &AssumeRoleArgs) -> Result<()> {
    let s = &cx.settings;
    if let Some(profile) = &s.aws_profile
        && !args.force
        && let Some(until) = stored_profile_valid_until(cx, profile)
    {
        eprintln!(
            "saml-login: profile {profile} is valid until {until}; no login needed (use --force to renew)"
        );
        return Ok(());
    }
    if s.aws_console {
        // Fail on a bad destination before the login rather than after.
        console::destination(args.destination.as_deref(), "us-east-1")?;
    }
    let account = s
        .aws_account
        .as_deref()
        .map(|a| cx.accounts.get(a))
        .transpose()?;
    let title = format!(
        "[{}] {}",
        s.section,
        s.aws_profile.as_deref().unwrap_or("choose a role")
    );
    let (response, assertion) = assertion(cx, title)?;
    let (role, profile) = match (&account, &s.aws_role, &s.aws_profile) {
        (Some(account), Some(role), Some(profile)) => {
            (select_role(cx, &assertion, account, role)?, profile.clone())
        }
        _ => {
            let role = pick_role(cx, &assertion)?;
            let profile = s
                .aws_profile
                .clone()
                .unwrap_or_else(|| profile_name(cx, role));
            (role, profile)
        }
    };
    let (credentials, duration) = assume(cx, &response, &assertion, role)?;
    store_profile(cx, role, &profile, &credentials)?;
    if s.aws_console {
        open_console(
            &credentials,
            Some(duration),
            &region_for_console(cx, Some(&profile)),
            args.destination.as_deref(),
            false,
        )?;
    }
    Ok(())
}

/// `--all`: every granted role into its own profile, from one login.
fn assume_all(cx: &Context) -> Result<()> {
    let (response, assertion) = assertion(cx, format!("[{}] all roles", cx.settings.section))?;
    let mut first_error = None;
    for role in &assertion.roles {
        let profile = profile_name(cx, role);
        let stored = assume(cx, &response, &assertion, role)
            .and_then(|(credentials, _)| store_profile(cx, role, &profile, &credentials));
        if let Err(e) = stored {
            eprintln!("saml-login: error: {profile}: {e}");
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

fn store_profile(cx: &Context, role: &AwsRole, profile: &str, c: &Credentials) -> Result<()> {
    let entries = c.profile_entries();
    SecretFile::new(&cx.paths.credentials)
        .update(|old| Ok(store::update_profile(old, profile, &entries)))?;
    eprintln!(
        "saml-login: credentials for {} saved under AWS profile {profile} in {} (valid until {})",
        profile_name(cx, role),
        cx.paths.credentials.display(),
        c.expiration_rfc3339()
    );
    Ok(())
}

/// When the stored profile still has more than 10 minutes, its expiry.
fn stored_profile_valid_until(cx: &Context, profile: &str) -> Option<String> {
    let text = std::fs::read_to_string(&cx.paths.credentials).ok()?;
    let values = store::profile_values(&text, profile)?;
    let expiration = values.iter().find(|(k, _)| k == "expiration")?.1.clone();
    let until =
        OffsetDateTime::parse(&expiration, &time::format_description::well_known::Rfc3339).ok()?;
    (until - cx.now > cache::CREDENTIALS_MARGIN).then_some(expiration)
}

/// `Role@alias`, the profile name `--show` and `--all` use.
fn profile_name(cx: &Context, role: &AwsRole) -> String {
    format!("{}@{}", role.name(), cx.accounts.alias_for(role.account()))
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
            granted: granted_list(cx, assertion),
        })
}

fn granted_list(cx: &Context, assertion: &Assertion) -> String {
    assertion
        .roles
        .iter()
        .map(|r| profile_name(cx, r))
        .collect::<Vec<_>>()
        .join(", ")
}

/// No role configured: a picker on a terminal, else the original's error listing the
/// granted roles.
fn pick_role<'a>(cx: &Context, assertion: &'a Assertion) -> Result<&'a AwsRole> {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !interactive {
        return Err(Error::Usage(format!(
            "--account, --role and --profile are required (or aws_account, aws_role and aws_profile in the section); granted: {}",
            granted_list(cx, assertion)
        )));
    }
    if let [only] = assertion.roles.as_slice() {
        return Ok(only);
    }
    let items: Vec<String> = assertion
        .roles
        .iter()
        .map(|r| profile_name(cx, r))
        .collect();
    let chosen = dialoguer::Select::new()
        .with_prompt("Which role?")
        .items(&items)
        .default(0)
        .interact_opt()
        .map_err(|e| Error::Usage(format!("role picker: {e}")))?;
    chosen
        .map(|i| &assertion.roles[i])
        .ok_or(Error::Capture(saml_login_capture::CaptureError::Cancelled))
}

/// The configured role's credentials: the cache while fresh, else a login.
fn role_credentials(cx: &Context, fresh: &FreshArgs) -> Result<Credentials> {
    let s = &cx.settings;
    let (Some(account), Some(role)) = (&s.aws_account, &s.aws_role) else {
        return Err(Error::Usage(format!(
            "the section [{}] names no aws_account and aws_role (or pass --account and --role to aws-assume-role)",
            s.section
        )));
    };
    let account = cx.accounts.get(account)?;
    let key = format!("{}:{role}", account.number);
    if !fresh.force
        && let Some(c) = cx.cache.credentials(&s.section, &key, cx.now)
    {
        tracing::debug!("credentials from the cache");
        return Ok(c);
    }
    let (response, assertion) = assertion(cx, format!("[{}] {role}", s.section))?;
    let granted = select_role(cx, &assertion, &account, role)?;
    let (credentials, _) = assume(cx, &response, &assertion, granted)?;
    if let Err(e) = cx.cache.store_credentials(&s.section, &key, &credentials) {
        eprintln!("saml-login: warning: cannot cache the credentials: {e}");
    }
    Ok(credentials)
}

fn credential_process(cx: &Context, fresh: &FreshArgs) -> Result<()> {
    let c = role_credentials(cx, fresh)?;
    let json = serde_json::json!({
        "Version": 1,
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key.expose(),
        "SessionToken": c.session_token.expose(),
        "Expiration": c.expiration_rfc3339(),
    });
    write_stdout(&format!("{json}\n"))
}

fn exec(cx: &Context, args: &ExecArgs) -> Result<()> {
    let c = role_credentials(cx, &args.fresh)?;
    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let mut command = std::process::Command::new(program);
    command.args(rest);
    // The command gets the role's keys, not the login's secrets.
    for secret in ["SAML_LOGIN_PASSWORD", "SAML_LOGIN_COOKIES"] {
        command.env_remove(secret);
    }
    for (k, v) in env_vars(cx, &c) {
        command.env(k, v);
    }
    let status = command.status().map_err(|source| Error::Read {
        path: program.into(),
        source,
    })?;
    Err(Error::Child(exit_status_code(status)))
}

#[cfg(unix)]
fn exit_status_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[cfg(not(unix))]
fn exit_status_code(status: std::process::ExitStatus) -> i32 {
    status.code().unwrap_or(1)
}

fn env_vars(cx: &Context, c: &Credentials) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", c.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            c.secret_access_key.expose().to_owned(),
        ),
        ("AWS_SESSION_TOKEN", c.session_token.expose().to_owned()),
        ("AWS_CREDENTIAL_EXPIRATION", c.expiration_rfc3339()),
    ];
    if let Some(region) = &cx.settings.region {
        vars.push(("AWS_REGION", region.clone()));
    }
    vars
}

fn env_exports(cx: &Context, shell: EnvShell, fresh: &FreshArgs) -> Result<()> {
    let c = role_credentials(cx, fresh)?;
    let mut out = String::new();
    for (k, v) in env_vars(cx, &c) {
        out.push_str(&match shell {
            EnvShell::Sh => format!("export {k}='{}'\n", v.replace('\'', r"'\''")),
            EnvShell::Fish => format!(
                "set -gx {k} '{}';\n",
                v.replace('\\', r"\\").replace('\'', r"\'")
            ),
            EnvShell::Powershell => format!("$Env:{k} = '{}'\n", v.replace('\'', "''")),
        });
    }
    write_stdout(&out)
}

/// Assume `role`: duration from the settings, else the assertion, else 3600; the STS
/// region from the settings, else the sign-in endpoint that got the assertion, else
/// the AWS sources, else the partition's. A cached assertion STS calls expired is
/// dropped and the login done again, once.
fn assume(
    cx: &Context,
    response: &SamlResponse,
    assertion: &Assertion,
    role: &AwsRole,
) -> Result<(Credentials, i32)> {
    let s = &cx.settings;
    let duration = s
        .role_duration
        .or(assertion.session_duration)
        .unwrap_or(crate::config::DEFAULT_ROLE_DURATION);
    // The endpoint that received the POST, else the one the assertion names.
    let endpoint_region = response
        .endpoint_region()
        .or_else(|| assertion.signin_region());
    let request = AssumeRequest {
        role,
        saml_response: response,
        duration,
        policy_arns: &s.policy_arns,
        inline_policy: s.inline_policy.as_deref(),
        region: s.region.as_deref().or(endpoint_region.as_deref()),
        fallback_region: Partition::of_arn(&role.role_arn).default_region(),
    };
    match sts::assume(&request) {
        Err(Error::Sts { code, .. })
            if code == "ExpiredTokenException" && assertion_was_cached(cx, response) =>
        {
            eprintln!("saml-login: the cached SAML assertion has expired; logging in again");
            cx.cache.drop_assertion(login_key(cx).as_str());
            let fresh = obtain(cx, format!("[{}]", s.section))?;
            let again = AssumeRequest {
                saml_response: &fresh,
                ..request
            };
            Ok((sts::assume(&again)?, duration))
        }
        other => Ok((other?, duration)),
    }
}

fn assertion_was_cached(cx: &Context, response: &SamlResponse) -> bool {
    !cx.cli.global.no_cache
        && cx
            .cache
            .assertion(login_key(cx).as_str(), cx.now)
            .is_some_and(|c| c.expose() == response.expose())
}

/// What identifies a login for the assertion cache: its start page (the IdP and the
/// application).
fn login_key(cx: &Context) -> url::Url {
    cx.settings.start_url()
}

/// The SAML response and its parsed assertion: a saved one, the cached one while it is
/// valid, or a new login (then cached until its `NotOnOrAfter`).
fn assertion(cx: &Context, title: String) -> Result<(SamlResponse, Assertion)> {
    let use_cache = !cx.cli.global.no_cache && cx.cli.global.saml_response_file.is_none();
    if use_cache
        && let Some(response) = cx.cache.assertion(login_key(cx).as_str(), cx.now)
        && let Ok(parsed) = response.parse()
    {
        tracing::debug!("using the cached SAML assertion");
        return Ok((response, parsed));
    }
    let response = obtain(cx, title)?;
    let parsed = response.parse()?;
    if use_cache
        && let Some(until) = parsed.not_on_or_after
        && let Err(e) = cx
            .cache
            .store_assertion(login_key(cx).as_str(), &response, until)
    {
        eprintln!("saml-login: warning: cannot cache the SAML assertion: {e}");
    }
    Ok((response, parsed))
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
    let options = BrowserOptions::for_kind(
        &g.browser,
        kind,
        cx.settings.cookies.as_ref(),
        cx.settings.chrome.as_ref(),
        Some(browser::webview_profile(&cx.paths.data, &request.start_url)),
    )?;
    let mut browser = browser::open(kind, &options)?;
    let response = login::saml_response(Source::Browser(browser.as_mut()), &request)?;
    browser::save_cookies(
        "saml-login",
        &g.browser,
        browser.as_ref(),
        &request.start_url,
    )?;
    Ok(response)
}

fn aws_console(cx: &Context, args: &ConsoleArgs) -> Result<()> {
    let Some(profile) = &cx.settings.aws_profile else {
        return Err(Error::Usage(
            "--profile is required (or aws_profile in the section)".into(),
        ));
    };
    console_for_profile(
        &cx.paths,
        profile,
        &region_for_console(cx, Some(profile)),
        args.destination.as_deref(),
        args.print,
    )
}

/// Open the console with the credentials stored under `profile` (also the stand-alone
/// `aws-console` binary).
pub fn console_for_profile(
    paths: &Paths,
    profile: &str,
    region: &str,
    destination: Option<&str>,
    print: bool,
) -> Result<()> {
    let text = std::fs::read_to_string(&paths.credentials).map_err(|source| Error::Read {
        path: paths.credentials.clone(),
        source,
    })?;
    let values = store::profile_values(&text, profile).ok_or_else(|| Error::Malformed {
        path: paths.credentials.clone(),
        message: format!("no profile [{profile}]"),
    })?;
    let get = |k: &str| {
        values
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, v)| v.clone())
    };
    let missing = |k: &str| Error::Malformed {
        path: paths.credentials.clone(),
        message: format!("profile [{profile}] has no {k}"),
    };
    let access_key_id = get("aws_access_key_id").ok_or_else(|| missing("aws_access_key_id"))?;
    let secret = get("aws_secret_access_key").ok_or_else(|| missing("aws_secret_access_key"))?;
    let (credentials, duration) = match get("aws_session_token") {
        Some(token) => (
            Credentials {
                access_key_id,
                secret_access_key: Secret::new(secret),
                session_token: Secret::new(token),
                expiration: OffsetDateTime::now_utc(),
            },
            Some(crate::config::DEFAULT_ROLE_DURATION),
        ),
        None => {
            tracing::debug!("long-term keys: GetFederationToken first");
            (
                sts::federation_token(&access_key_id, &secret, region)?,
                None,
            )
        }
    };
    open_console(&credentials, duration, region, destination, print)
}

fn open_console(
    credentials: &Credentials,
    session_duration: Option<i32>,
    region: &str,
    destination: Option<&str>,
    print: bool,
) -> Result<()> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    let endpoint = console::federation_endpoint(region, env)?;
    let destination = console::destination(destination, region)?;
    let duration = session_duration.map(|d| d.clamp(900, 43200).unsigned_abs());
    let token =
        console::fetch_signin_token(&console::signin_token_url(&endpoint, credentials, duration))?;
    let url = console::login_url(&endpoint, &destination, &token);
    if print {
        return write_stdout(&format!("{url}\n"));
    }
    eprintln!("saml-login: opening the AWS console ({destination})");
    webbrowser::open(url.as_str())
        .map_err(|e| Error::Usage(format!("cannot open a browser: {e}; use --print")))
}

/// The console's region: the setting, the AWS variables, the profile's region in
/// ~/.aws/config, else us-east-1.
fn region_for_console(cx: &Context, profile: Option<&str>) -> String {
    cx.settings
        .region
        .clone()
        .unwrap_or_else(|| console_region(&cx.paths, profile))
}

/// The region from the AWS variables or the profile's ~/.aws/config section.
pub fn console_region(paths: &Paths, profile: Option<&str>) -> String {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    env("AWS_REGION")
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .or_else(|| {
            let profile = profile?;
            let text = std::fs::read_to_string(&paths.aws_config).ok()?;
            let section = if profile == "default" {
                "default".to_owned()
            } else {
                format!("profile {profile}")
            };
            store::profile_values(&text, &section)?
                .into_iter()
                .find(|(k, _)| k == "region")
                .map(|(_, v)| v)
        })
        .unwrap_or_else(|| "us-east-1".into())
}

fn completions(shell: clap_complete::Shell) -> Result<()> {
    let mut command = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "saml-login", &mut out);
    std::io::stdout()
        .lock()
        .write_all(&out)
        .map_err(stdout_error)
}

fn man_page() -> Result<()> {
    let command = <Cli as clap::CommandFactory>::command();
    let mut out = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut out)
        .map_err(stdout_error)?;
    std::io::stdout()
        .lock()
        .write_all(&out)
        .map_err(stdout_error)
}

fn write_stdout(text: &str) -> Result<()> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(stdout_error)
}

fn stdout_error(source: std::io::Error) -> Error {
    Error::Write {
        path: "standard output".into(),
        source,
    }
}
