//! What a run does: resolve paths and settings once, then carry out the command on the
//! shared pipeline (response -> assertion -> role -> STS -> credential store).

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::time::Duration;

use saml_login_capture::{Cancel, LoginRequest, Secret};
use time::OffsetDateTime;

use crate::accounts::{Account, Accounts};
use crate::assertion::{Assertion, SamlResponse};
use crate::aws_config::{self, GeneratedProfile};
use crate::browser::{self, BrowserKind, BrowserOptions};
use crate::cache::{self, Cache};
use crate::chain;
use crate::cli::{
    AssumeRoleArgs, Cli, Command, ConfigureArgs, ConsoleArgs, CredentialProcessArgs, EnvArgs,
    EnvShell, ExecArgs, LogoutArgs,
};
use crate::config::{CallbackSetting, IniFile, Overrides, Settings};
use crate::console::{self, Partition};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::identity::{RequestTerms, SessionIdentity};
use crate::login::{self, Received, Source};
use crate::login_lock::{Acquired, LoginLock};
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
    /// The login's start page (IdP and application): what identifies a login.
    idp: url::Url,
    /// Log in even when a stored answer would serve (`--force`).
    force: bool,
    /// Read and write the assertion cache (not with `--no-cache` or a saved response).
    use_assertion_cache: bool,
    /// The command asks for one role named by `aws_account` and `aws_role`.
    pinned_role: bool,
    /// The IdP's login lock, once taken: held until the run ends, so that a process
    /// waiting for it finds what this one stored.
    login_lock: RefCell<Option<LoginLock>>,
}

/// Run the parsed command line.
pub fn run(cli: Cli, cancel: Cancel) -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    match &cli.command {
        Command::Completions { shell } => return crate::completions::write(*shell),
        Command::Man => return crate::man_page::write(),
        Command::Sections => {
            let paths = Paths::resolve(cli.global.config.clone(), env)?;
            let file = IniFile::load(&paths.config, false)?;
            return write_stdout(&format!("{}\n", file.section_names().join("\n")));
        }
        Command::Logout(LogoutArgs { all: true }) => {
            if cli.global.configuration != crate::config::DEFAULT_SECTION {
                return Err(Error::Usage(
                    "logout --all forgets every IdP's login: give either -c SECTION or --all"
                        .into(),
                ));
            }
            let paths = Paths::resolve(cli.global.config.clone(), env)?;
            return logout(&Cache::new(paths.cache.clone()), &paths, None);
        }
        _ => {}
    }
    let paths = Paths::resolve(cli.global.config.clone(), env)?;
    note_config_in_working_directory(&paths);
    // `--profile P`: an AWS config profile, whatever saml-login section it ends in.
    match &cli.command {
        Command::Exec(a) if a.profile.is_some() => {
            let (c, region) = profile_credentials(&paths, a.profile.as_deref(), a.fresh.force)?;
            return run_with_credentials(&c, region.as_deref(), a);
        }
        Command::Env(a) if a.profile.is_some() => {
            let (c, region) = profile_credentials(&paths, a.profile.as_deref(), a.fresh.force)?;
            return print_exports(&c, region.as_deref(), shell_of(a));
        }
        _ => {}
    }
    let file = IniFile::load(&paths.config, paths.config_explicit)?;
    let known: Vec<&str> = crate::config::KEYS
        .iter()
        .chain(crate::config::FILE_ONLY_KEYS)
        .copied()
        .collect();
    for warning in file.unknown_keys(&cli.global.configuration, &known) {
        eprintln!("saml-login: warning: {warning}");
    }
    let overrides = overrides(&cli, env);
    let settings = Settings::resolve(&file, &cli.global.configuration, &overrides)?;
    let accounts = Accounts::load(&paths.accounts)?;
    let force = match &cli.command {
        Command::AwsAssumeRole(a) => a.force,
        Command::CredentialProcess(CredentialProcessArgs { fresh: f, .. })
        | Command::Exec(ExecArgs { fresh: f, .. }) => f.force,
        Command::Configure(c) => c.force,
        Command::Env(e) => e.fresh.force,
        _ => false,
    };
    let names_one_role = settings.aws_account.is_some() && settings.aws_role.is_some();
    let pinned_role = names_one_role
        && match &cli.command {
            Command::AwsAssumeRole(a) => !a.show && !a.all,
            Command::CredentialProcess(_) | Command::Exec(_) | Command::Env(_) => true,
            _ => false,
        };
    let cx = Context {
        cache: Cache::new(paths.cache.clone()),
        use_assertion_cache: !cli.global.no_cache && cli.global.saml_response_file.is_none(),
        idp: settings.start_url(),
        force,
        pinned_role,
        login_lock: RefCell::new(None),
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
        Command::CredentialProcess(_) => credential_process(&cx),
        Command::Exec(args) => {
            let c = role_credentials(&cx)?;
            // The login lock is not the command's to hold.
            drop(cx.login_lock.borrow_mut().take());
            run_with_credentials(&c, cx.settings.region.as_deref(), args)
        }
        Command::Env(args) => {
            let c = role_credentials(&cx)?;
            print_exports(&c, cx.settings.region.as_deref(), shell_of(args))
        }
        Command::Configure(args) => configure(&cx, args),
        Command::Logout(_) => logout(&cx.cache, &cx.paths, Some(&cx.idp)),
        Command::Completions { .. } | Command::Man | Command::Sections => {
            unreachable!("handled above")
        }
    }
}

/// Python's original read `./.saml-login` too. A file in the working directory could
/// come with a repository and point `idp_url` at any page, so saml-login does not read
/// it; when one is there (and is not the file in use), say so and how to use it.
fn note_config_in_working_directory(paths: &Paths) {
    let here = std::path::Path::new(".saml-login");
    if paths.config_explicit || !here.is_file() {
        return;
    }
    let same = match (
        std::fs::canonicalize(here),
        std::fs::canonicalize(&paths.config),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same {
        eprintln!(
            "saml-login: note: not reading ./.saml-login (a file in the working directory could point the login at any page); to use it: --config ./.saml-login"
        );
    }
}

/// `logout`: forget the cached assertion and credentials and the remembered webview
/// session of `idp` (of every IdP when `None`). Profiles already written to the
/// credentials file stay.
fn logout(cache: &Cache, paths: &Paths, idp: Option<&url::Url>) -> Result<()> {
    let (assertion, credentials) = cache.forget(idp.map(url::Url::as_str))?;
    let profiles = match idp {
        Some(idp) => browser::webview_profile(&paths.data, idp),
        None => browser::webview_profiles(&paths.data),
    };
    let session = match std::fs::remove_dir_all(&profiles) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(source) => {
            return Err(Error::Write {
                path: profiles,
                source,
            });
        }
    };
    let whose = idp.map_or_else(|| "every IdP".to_owned(), |u| u.to_string());
    eprintln!(
        "saml-login: logged out of {whose}: removed {} cached SAML assertion, {credentials} cached credential(s), {} webview session",
        if assertion { "the" } else { "no" },
        if session {
            "the remembered"
        } else {
            "no remembered"
        },
    );
    Ok(())
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
        Command::CredentialProcess(a) => {
            o.flag("aws_account", "--account", a.account.clone());
            o.flag("aws_role", "--role", a.role.clone());
        }
        _ => {}
    }
    o
}

fn get_token(cx: &Context) -> Result<()> {
    let received = obtain(cx, format!("[{}]", cx.settings.section))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", received.response.expose()).map_err(stdout_error)
}

/// `--show`: one configuration section per granted role, as the original printed it.
fn show(cx: &Context) -> Result<()> {
    let s = &cx.settings;
    let granted = assertion(cx, format!("[{}] roles", s.section), Wanted::default())?;
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
    for role in &granted.assertion.roles {
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
    let account = s
        .aws_account
        .as_deref()
        .map(|a| cx.accounts.get(a))
        .transpose()?;
    if let (Some(profile), Some(account), Some(role)) = (&s.aws_profile, &account, &s.aws_role)
        && !cx.force
    {
        let identity = SessionIdentity::new(terms(cx), &account.number, role);
        if let Some(until) = stored_profile_serves(cx, profile, &identity) {
            eprintln!(
                "saml-login: profile {profile} holds {} until {until}; no login needed (--force renews it)",
                identity.describe()
            );
            if s.aws_console {
                return console_for_profile(
                    &cx.paths,
                    profile,
                    &region_for_console(cx, Some(profile)),
                    args.destination.as_deref(),
                    false,
                );
            }
            return Ok(());
        }
    }
    if s.aws_console {
        // Fail on a bad destination before the login rather than after.
        console::destination(args.destination.as_deref(), "us-east-1")?;
    }
    let title = format!(
        "[{}] {}",
        s.section,
        s.aws_profile.as_deref().unwrap_or("choose a role")
    );
    let wanted = Wanted {
        account: account.as_ref().map(|a| a.number.as_str()),
        role: s.aws_role.as_deref(),
    };
    let granted = assertion(cx, title, wanted)?;
    let (role, profile) = choose_role(cx, &granted, account.as_ref())?;
    let (credentials, duration) = assume(cx, &granted, role)?;
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
    let granted = assertion(
        cx,
        format!("[{}] all roles", cx.settings.section),
        Wanted::default(),
    )?;
    let mut first_error = None;
    for role in &granted.assertion.roles {
        let profile = profile_name(cx, role);
        let stored = assume(cx, &granted, role)
            .and_then(|(credentials, _)| store_profile(cx, role, &profile, &credentials));
        if let Err(e) = stored {
            eprintln!("saml-login: error: {profile}: {e}");
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// The keys a profile gets besides the credentials: the role it holds and the
/// fingerprint of the request that produced it (AWS's readers ignore other keys).
const PROFILE_ROLE_KEY: &str = "x_saml_login_role";
const PROFILE_REQUEST_KEY: &str = "x_saml_login_request";

fn store_profile(cx: &Context, role: &AwsRole, profile: &str, c: &Credentials) -> Result<()> {
    store::check_profile_name(profile).map_err(|message| Error::Malformed {
        path: cx.paths.credentials.clone(),
        message: format!("not written: {message}"),
    })?;
    let mut entries = c.profile_entries();
    entries.push((PROFILE_ROLE_KEY, role.role_arn.clone()));
    entries.push((
        PROFILE_REQUEST_KEY,
        SessionIdentity::of_role(terms(cx), role).fingerprint(),
    ));
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

/// The expiry of the stored `profile` when it holds credentials of exactly the request
/// `identity` with more than 10 minutes left. A profile holding another role (or the
/// same role under other terms) is said to be replaced.
fn stored_profile_serves(
    cx: &Context,
    profile: &str,
    identity: &SessionIdentity,
) -> Option<String> {
    // A file others could have written proves nothing (and is refused when written).
    store::check_trusted(&cx.paths.credentials).ok()?;
    let text = std::fs::read_to_string(&cx.paths.credentials).ok()?;
    let values = store::profile_values(&text, profile)?;
    let get = |key: &str| {
        values
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    match (get(PROFILE_REQUEST_KEY), get(PROFILE_ROLE_KEY)) {
        (Some(fingerprint), _) if fingerprint == identity.fingerprint() => {}
        (_, Some(held)) => {
            let same_role = AwsRole::parse_role_arn(held)
                .is_some_and(|(a, r)| a == identity.account() && r == identity.role());
            if same_role {
                eprintln!(
                    "saml-login: profile {profile} holds {} under other terms (IdP, policies, duration or region); renewing it",
                    identity.describe()
                );
            } else {
                eprintln!(
                    "saml-login: profile {profile} holds {held}, not the {} asked for; replacing it",
                    identity.describe()
                );
            }
            return None;
        }
        _ => return None,
    }
    let expiration = get("expiration")?.to_owned();
    let until =
        OffsetDateTime::parse(&expiration, &time::format_description::well_known::Rfc3339).ok()?;
    (until - cx.now > cache::CREDENTIALS_MARGIN).then_some(expiration)
}

/// `Role@alias`, the profile name `--show` and `--all` use.
fn profile_name(cx: &Context, role: &AwsRole) -> String {
    format!("{}@{}", role.name(), cx.accounts.alias_for(role.account()))
}

/// The request's terms that every role of this run shares.
fn terms(cx: &Context) -> RequestTerms<'_> {
    let s = &cx.settings;
    RequestTerms {
        idp: &cx.idp,
        policy_arns: &s.policy_arns,
        inline_policy: s.inline_policy.as_deref(),
        duration: s.role_duration,
        region: s.region.as_deref(),
    }
}

/// Which roles a command asks for: an account number, a role (name or ARN), both or
/// neither.
#[derive(Clone, Copy, Debug, Default)]
struct Wanted<'a> {
    account: Option<&'a str>,
    role: Option<&'a str>,
}

impl Wanted<'_> {
    fn matches(&self, r: &AwsRole) -> bool {
        self.account.is_none_or(|a| r.account() == a)
            && self.role.is_none_or(|x| r.role_arn == x || r.name() == x)
    }

    fn is_any(&self) -> bool {
        self.account.is_none() && self.role.is_none()
    }
}

impl std::fmt::Display for Wanted<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.role, self.account) {
            (Some(r), Some(a)) => write!(f, "role {r} in account {a}"),
            (Some(r), None) => write!(f, "role {r}"),
            (None, Some(a)) => write!(f, "a role in account {a}"),
            (None, None) => f.write_str("any role"),
        }
    }
}

/// The granted role matching `account` and `role` (a name or a full ARN).
fn select_role<'a>(
    cx: &Context,
    granted: &'a Granted,
    account: &Account,
    role: &str,
) -> Result<&'a AwsRole> {
    granted
        .assertion
        .roles
        .iter()
        .find(|r| r.role_arn == role || (r.account() == account.number && r.name() == role))
        .ok_or_else(|| Error::RoleNotGranted {
            role: format!("role {role}@{}", account.alias),
            granted: granted_list(cx, granted.assertion.roles.iter()),
            source_of_list: granted.origin.describe(),
        })
}

fn granted_list<'a>(cx: &Context, roles: impl Iterator<Item = &'a AwsRole>) -> String {
    roles
        .map(|r| profile_name(cx, r))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The role and profile `aws-assume-role` works on: `--account` and `--role` select
/// (each one alone filters), a picker on a terminal chooses among what is left, and a
/// missing `--profile` is `Role@alias`, as with `--all`.
fn choose_role<'a>(
    cx: &Context,
    granted: &'a Granted,
    account: Option<&Account>,
) -> Result<(&'a AwsRole, String)> {
    let s = &cx.settings;
    let role = if let (Some(account), Some(role)) = (account, s.aws_role.as_deref()) {
        select_role(cx, granted, account, role)?
    } else {
        let wanted = Wanted {
            account: account.map(|a| a.number.as_str()),
            role: s.aws_role.as_deref(),
        };
        let candidates: Vec<&AwsRole> = granted
            .assertion
            .roles
            .iter()
            .filter(|r| wanted.matches(r))
            .collect();
        match candidates.as_slice() {
            [] => {
                return Err(Error::RoleNotGranted {
                    role: wanted.to_string(),
                    granted: granted_list(cx, granted.assertion.roles.iter()),
                    source_of_list: granted.origin.describe(),
                });
            }
            [only] if !wanted.is_any() => only,
            _ => pick_role(cx, &candidates, wanted)?,
        }
    };
    let profile = s
        .aws_profile
        .clone()
        .unwrap_or_else(|| profile_name(cx, role));
    Ok((role, profile))
}

/// Several candidate roles: a picker on a terminal, else an error naming what is
/// missing and the candidates.
fn pick_role<'a>(cx: &Context, candidates: &[&'a AwsRole], wanted: Wanted) -> Result<&'a AwsRole> {
    let interactive = std::io::stdin().is_terminal() && std::io::stderr().is_terminal();
    if !interactive {
        let missing: Vec<&str> = [
            wanted.account.is_none().then_some("--account"),
            wanted.role.is_none().then_some("--role"),
        ]
        .into_iter()
        .flatten()
        .collect();
        let settings: Vec<&str> = [
            wanted.account.is_none().then_some("aws_account"),
            wanted.role.is_none().then_some("aws_role"),
        ]
        .into_iter()
        .flatten()
        .collect();
        return Err(Error::Usage(format!(
            "{} {} needed to choose among {} (or {} in the section)",
            missing.join(" and "),
            if missing.len() > 1 { "are" } else { "is" },
            granted_list(cx, candidates.iter().copied()),
            settings.join(" and "),
        )));
    }
    if let [only] = candidates {
        return Ok(only);
    }
    let items: Vec<String> = candidates.iter().map(|r| profile_name(cx, r)).collect();
    let chosen = dialoguer::Select::new()
        .with_prompt("Which role?")
        .items(&items)
        .default(0)
        .interact_opt()
        .map_err(|e| match e {
            // Ctrl-C: the terminal is in raw mode, so it arrives as a read error.
            dialoguer::Error::IO(io) if io.kind() == std::io::ErrorKind::Interrupted => {
                Error::Interrupted
            }
            e => Error::Usage(format!("role picker: {e}")),
        })?;
    chosen
        .map(|i| candidates[i])
        .ok_or(Error::Capture(saml_login_capture::CaptureError::Cancelled))
}

/// The configured role's credentials: cached ones of exactly this request while
/// fresh, else from the (cached or new) assertion.
fn role_credentials(cx: &Context) -> Result<Credentials> {
    let s = &cx.settings;
    let (Some(account), Some(role)) = (&s.aws_account, &s.aws_role) else {
        return Err(Error::Usage(format!(
            "the section [{}] names no aws_account and aws_role (or pass --account and --role to aws-assume-role)",
            s.section
        )));
    };
    let account = cx.accounts.get(account)?;
    let identity = SessionIdentity::new(terms(cx), &account.number, role);
    if !cx.force {
        if let Some(c) = cached_credentials(cx, &identity) {
            return Ok(c);
        }
        if lock_login(cx)? == Acquired::AfterWaiting
            && let Some(c) = cached_credentials(cx, &identity)
        {
            return Ok(c);
        }
    }
    let wanted = Wanted {
        account: Some(&account.number),
        role: Some(role),
    };
    let granted = assertion(cx, format!("[{}] {role}", s.section), wanted)?;
    let chosen = select_role(cx, &granted, &account, role)?;
    let (credentials, _) = assume(cx, &granted, chosen)?;
    if let Err(e) = cx
        .cache
        .store_credentials(&identity, &chosen.role_arn, &credentials)
    {
        eprintln!("saml-login: warning: cannot cache the credentials: {e}");
    }
    Ok(credentials)
}

/// Cached credentials of exactly `identity`, announced.
fn cached_credentials(cx: &Context, identity: &SessionIdentity) -> Option<Credentials> {
    let hit = cx.cache.credentials(identity, OffsetDateTime::now_utc())?;
    eprintln!(
        "saml-login: using the cached credentials of {}, valid until {}; --force renews them",
        hit.role_arn,
        hit.credentials.expiration_rfc3339()
    );
    Some(hit.credentials)
}

fn credential_process(cx: &Context) -> Result<()> {
    let c = role_credentials(cx)?;
    let json = serde_json::json!({
        "Version": 1,
        "AccessKeyId": c.access_key_id,
        "SecretAccessKey": c.secret_access_key.expose(),
        "SessionToken": c.session_token.expose(),
        "Expiration": c.expiration_rfc3339(),
    });
    write_stdout(&format!("{json}\n"))
}

/// The credentials of AWS config profile `profile` (a `credential_process` profile or
/// a chain on top of one) and its region.
fn profile_credentials(
    paths: &Paths,
    profile: Option<&str>,
    force: bool,
) -> Result<(Credentials, Option<String>)> {
    let profile = profile.expect("called with a profile");
    chain::resolve(paths, &Cache::new(paths.cache.clone()), profile, force)
}

/// `exec`: run the command with `c` in its environment; its status is ours.
fn run_with_credentials(c: &Credentials, region: Option<&str>, args: &ExecArgs) -> Result<()> {
    let (program, rest) = args.command.split_first().expect("clap requires a command");
    let mut command = std::process::Command::new(crate::platform::exec_program(program));
    command.args(rest);
    // The command gets the role's keys, not the login's secrets.
    for secret in saml_login_capture::SECRET_ENV_VARS {
        command.env_remove(secret);
    }
    for (k, v) in env_vars(c, region) {
        command.env(k, v);
    }
    let what = program.to_string_lossy().into_owned();
    let status = command
        .spawn()
        .and_then(|mut child| {
            // Windows: the command and its children die with saml-login.
            let _job = saml_login_capture::job::for_child(child.id(), "the command");
            child.wait()
        })
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::CommandNotFound { what },
            _ => Error::CommandNotExecutable {
                what,
                reason: e.to_string(),
            },
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

fn env_vars(c: &Credentials, region: Option<&str>) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("AWS_ACCESS_KEY_ID", c.access_key_id.clone()),
        (
            "AWS_SECRET_ACCESS_KEY",
            c.secret_access_key.expose().to_owned(),
        ),
        ("AWS_SESSION_TOKEN", c.session_token.expose().to_owned()),
        ("AWS_CREDENTIAL_EXPIRATION", c.expiration_rfc3339()),
    ];
    if let Some(region) = region {
        vars.push(("AWS_REGION", region.to_owned()));
    }
    vars
}

/// `env`'s shell: `--shell`, else the kind of `$SHELL`, else sh (PowerShell on Windows).
fn shell_of(args: &EnvArgs) -> EnvShell {
    args.shell.unwrap_or_else(|| match std::env::var("SHELL") {
        Ok(shell) => EnvShell::of_shell_path(Some(&shell)),
        Err(_) => crate::platform::default_env_shell(),
    })
}

fn print_exports(c: &Credentials, region: Option<&str>, shell: EnvShell) -> Result<()> {
    let mut out = String::new();
    for (k, v) in env_vars(c, region) {
        out.push_str(&match shell {
            EnvShell::Sh | EnvShell::Bash | EnvShell::Zsh => {
                format!("export {k}='{}'\n", v.replace('\'', r"'\''"))
            }
            EnvShell::Fish => format!(
                "set -gx {k} '{}';\n",
                v.replace('\\', r"\\").replace('\'', r"\'")
            ),
            EnvShell::Powershell => format!("$Env:{k} = '{}'\n", powershell_quoted(&v)),
            EnvShell::Cmd => crate::platform::cmd_set(k, &v).ok_or_else(|| {
                Error::Usage(format!(
                    "{k} holds a character cmd cannot take safely (% ! \" or a line break); use --shell powershell"
                ))
            })?,
        });
    }
    write_stdout(&out)
}

/// `v` inside a PowerShell single-quoted string: every character PowerShell takes for
/// a single quote (`'` and U+2018 to U+201B) is doubled.
fn powershell_quoted(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}') {
            out.push(c);
        }
        out.push(c);
    }
    out
}

/// Assume `role`: duration from the settings, else the assertion, else 3600; the STS
/// region from the settings, else the sign-in endpoint that got the assertion, else
/// the AWS sources, else the partition's. A cached assertion STS calls expired is
/// dropped and the login done again, once.
fn assume(cx: &Context, granted: &Granted, role: &AwsRole) -> Result<(Credentials, i32)> {
    let s = &cx.settings;
    let duration = s
        .role_duration
        .or(granted.assertion.session_duration)
        .unwrap_or(crate::config::DEFAULT_ROLE_DURATION);
    // The endpoint that received the POST, else the one the assertion names.
    let endpoint_region = granted
        .response
        .endpoint_region()
        .or_else(|| granted.assertion.signin_region());
    let request = AssumeRequest {
        role,
        saml_response: &granted.response,
        duration,
        policy_arns: &s.policy_arns,
        inline_policy: s.inline_policy.as_deref(),
        region: s.region.as_deref().or(endpoint_region.as_deref()),
        fallback_region: Partition::of_arn(&role.role_arn).default_region(),
    };
    match sts::assume(&request) {
        Err(Error::Sts { code, .. })
            if code == "ExpiredTokenException"
                && matches!(granted.origin, Origin::Cached { .. }) =>
        {
            eprintln!("saml-login: the cached SAML assertion has expired; logging in again");
            cx.cache.drop_assertion(cx.idp.as_str());
            let fresh = login(cx, format!("[{}]", s.section))?;
            let again = AssumeRequest {
                saml_response: &fresh.response,
                ..request
            };
            Ok((sts::assume(&again)?, duration))
        }
        other => Ok((other?, duration)),
    }
}

/// A SAML response, its parsed assertion, and where it came from.
struct Granted {
    response: SamlResponse,
    assertion: Assertion,
    origin: Origin,
}

#[derive(Clone, Copy, Debug)]
enum Origin {
    /// A login in this run.
    Login,
    /// The response the user handed over (`--saml-response-file`).
    Saved,
    /// The assertion cache.
    Cached { obtained_at: OffsetDateTime },
}

impl Origin {
    /// Where a list of granted roles came from, for messages.
    fn describe(self) -> String {
        match self {
            Origin::Login => "the SAML assertion of this login".into(),
            Origin::Saved => "the saved SAML response".into(),
            Origin::Cached { obtained_at } => format!(
                "the cached SAML assertion of {} (--force logs in again)",
                clock(obtained_at)
            ),
        }
    }
}

/// `06:03 UTC`.
fn clock(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!("{:02}:{:02} UTC", at.hour(), at.minute())
}

/// The SAML response and its parsed assertion: the cached one while it is valid and
/// grants a role that is `wanted` (said on stderr), else a new login (then cached
/// until its `NotOnOrAfter`). A process that waited for another's login uses what
/// that login stored.
fn assertion(cx: &Context, title: String, wanted: Wanted) -> Result<Granted> {
    if let Some(g) = cached_assertion(cx, wanted) {
        return Ok(g);
    }
    if cx.use_assertion_cache
        && lock_login(cx)? == Acquired::AfterWaiting
        && let Some(g) = cached_assertion(cx, wanted)
    {
        return Ok(g);
    }
    login(cx, title)
}

/// The cached assertion, when it may answer: caching on, no `--force`, still valid,
/// granting a `wanted` role. Its use is announced.
fn cached_assertion(cx: &Context, wanted: Wanted) -> Option<Granted> {
    if !cx.use_assertion_cache || cx.force {
        return None;
    }
    let cached = cx
        .cache
        .assertion(cx.idp.as_str(), OffsetDateTime::now_utc())?;
    let Ok(assertion) = cached.response.parse() else {
        cx.cache.drop_assertion(cx.idp.as_str());
        return None;
    };
    if !assertion.roles.iter().any(|r| wanted.matches(r)) {
        eprintln!(
            "saml-login: the cached SAML assertion of {} grants no {wanted}; logging in again",
            clock(cached.obtained_at)
        );
        return None;
    }
    eprintln!(
        "saml-login: using the SAML assertion of {}, valid until {}; --force logs in again",
        clock(cached.obtained_at),
        clock(cached.not_on_or_after)
    );
    Some(Granted {
        response: cached.response,
        assertion,
        origin: Origin::Cached {
            obtained_at: cached.obtained_at,
        },
    })
}

/// A new login (or the saved response), parsed, and cached when caching is on and the
/// response came back with our `RelayState`.
fn login(cx: &Context, title: String) -> Result<Granted> {
    let received = obtain(cx, title)?;
    let assertion = received.response.parse()?;
    if cx.use_assertion_cache {
        let cached = received.state_echoed
            && assertion.not_on_or_after.is_some_and(|until| {
                cx.cache
                    .store_assertion(
                        cx.idp.as_str(),
                        &received.response,
                        OffsetDateTime::now_utc(),
                        until,
                    )
                    .inspect_err(|e| {
                        eprintln!("saml-login: warning: cannot cache the SAML assertion: {e}");
                    })
                    .is_ok()
            });
        if !cached {
            // Never leave an older assertion to answer for this login.
            cx.cache.drop_assertion(cx.idp.as_str());
        }
    }
    Ok(Granted {
        response: received.response,
        assertion,
        origin: if cx.cli.global.saml_response_file.is_some() {
            Origin::Saved
        } else {
            Origin::Login
        },
    })
}

/// How long a process waits for another's login beyond its own login timeout.
const LOCK_MARGIN: Duration = Duration::from_secs(30);

/// Take the IdP's login lock unless this run holds it already.
fn lock_login(cx: &Context) -> Result<Acquired> {
    let mut held = cx.login_lock.borrow_mut();
    if held.is_some() {
        return Ok(Acquired::Free);
    }
    let (lock, how) = LoginLock::acquire(
        &cx.cache.locks_dir(),
        &format!("login at {}", cx.idp),
        cx.settings.timeout + LOCK_MARGIN,
        &cx.cancel,
    )?;
    *held = Some(lock);
    Ok(how)
}

/// A response without our `RelayState` may be issued after the login began, within
/// this much clock difference between the IdP and this machine.
const ISSUE_SKEW: time::Duration = time::Duration::minutes(2);

/// Get the SAML response: a saved one, or a login in the chosen browser (one login at
/// a time per IdP, and per callback port for the system browser).
fn obtain(cx: &Context, title: String) -> Result<Received> {
    // get-token hands the response over as it is; every other command parses it, so the
    // browser's page can say at once when it is unusable.
    let checked = !matches!(cx.cli.command, Command::GetToken);
    let request: LoginRequest =
        login::saml_request(&cx.settings, title, cx.cancel.clone(), checked);
    let g = &cx.cli.global;
    if let Some(path) = &g.saml_response_file {
        return login::saml_response(Source::Saved(path), &request);
    }
    lock_login(cx)?;
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
    // Another IdP's login may wait on the same loopback port.
    let _port = match (kind, request.callback.port()) {
        (BrowserKind::System, Some(port)) if request.callback.is_loopback() => Some(
            LoginLock::acquire(
                &cx.cache.locks_dir(),
                &format!("callback port {port}"),
                cx.settings.timeout + LOCK_MARGIN,
                &cx.cancel,
            )?
            .0,
        ),
        _ => None,
    };
    let started = OffsetDateTime::now_utc();
    let mut browser = browser::open(kind, &options)?;
    let port_setting = match cx.settings.callback {
        CallbackSetting::Url(_) => "callback_url",
        _ => "listen_port",
    };
    let received = login::saml_response(Source::Browser(browser.as_mut()), &request)
        .map_err(|e| e.port_from_setting(port_setting))?;
    browser::save_cookies(
        "saml-login",
        &g.browser,
        browser.as_ref(),
        &request.start_url,
    )?;
    if !received.state_echoed && cx.settings.relay_state_applies() {
        verify_unechoed(cx, &received.response, &request, started)?;
    }
    Ok(received)
}

/// `require_relay_state = false`: a response without our `RelayState` could have been
/// posted by any local program, so it is taken only when it is addressed to our
/// callback, was issued after this login began, and serves one role named by
/// `aws_account` and `aws_role` (STS then checks the IdP's signature for that role).
/// It is never cached.
fn verify_unechoed(
    cx: &Context,
    response: &SamlResponse,
    request: &LoginRequest,
    started: OffsetDateTime,
) -> Result<()> {
    if !cx.pinned_role {
        return Err(Error::UnverifiedResponse(
            "this command does not name one role (aws_account and aws_role)".into(),
        ));
    }
    let assertion = response.parse()?;
    let addressed = [&assertion.destination, &assertion.recipient]
        .into_iter()
        .flatten()
        .filter_map(|u| url::Url::parse(u).ok())
        .any(|u| request.callback.matches_url(&u));
    if !addressed {
        return Err(Error::UnverifiedResponse(format!(
            "it is not addressed to {} (its Destination and Recipient)",
            request.callback.url
        )));
    }
    match assertion.issued_at {
        Some(at) if at >= started - ISSUE_SKEW => {}
        Some(at) => {
            return Err(Error::UnverifiedResponse(format!(
                "it was issued at {}, before this login began",
                clock(at)
            )));
        }
        None => {
            return Err(Error::UnverifiedResponse(
                "it carries no IssueInstant".into(),
            ));
        }
    }
    eprintln!(
        "saml-login: the IdP sent no RelayState; the response is addressed to {} and was issued for this login (require_relay_state = false)",
        request.callback.url
    );
    Ok(())
}

/// `configure`: one AWS config profile per granted role, in the section's block of
/// ~/.aws/config, each running `saml-login credential-process` for its role.
fn configure(cx: &Context, args: &ConfigureArgs) -> Result<()> {
    let s = &cx.settings;
    let granted = assertion(cx, format!("[{}] configure", s.section), Wanted::default())?;
    let program = own_command();
    let mut profiles: Vec<GeneratedProfile> = Vec::new();
    for role in &granted.assertion.roles {
        let name = s
            .profile_name
            .replace("{role}", role.name())
            .replace("{account_alias}", cx.accounts.alias_for(role.account()))
            .replace("{account}", role.account())
            .replace("{section}", &s.section);
        if let Some(other) = profiles.iter().find(|p| p.name == name) {
            return Err(Error::BadValue {
                field: "profile_name".into(),
                origin: format!("[{}]", s.section),
                message: format!(
                    "{name:?} would name both {} and {}: add {{account}} or {{account_alias}}",
                    other.role_arn, role.role_arn
                ),
            });
        }
        let mut entries = vec![(
            "credential_process",
            shell_words::join([
                program.as_str(),
                "-c",
                &s.section,
                "credential-process",
                "--account",
                role.account(),
                "--role",
                role.name(),
            ]),
        )];
        if let Some(region) = &s.region {
            entries.push(("region", region.clone()));
        }
        profiles.push(GeneratedProfile {
            name,
            role_arn: role.role_arn.clone(),
            entries,
        });
    }
    let path = &cx.paths.aws_config;
    let edit = |old: &str| {
        aws_config::with_block(old, &s.section, &profiles).map_err(|message| Error::Malformed {
            path: path.clone(),
            message,
        })
    };
    let old = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(Error::Read {
                path: path.clone(),
                source,
            });
        }
    };
    let new = edit(&old)?;
    if args.dry_run {
        let shown = path.display().to_string();
        let diff = similar::TextDiff::from_lines(&old, &new)
            .unified_diff()
            .header(&shown, &shown)
            .to_string();
        return write_stdout(&diff);
    }
    if new == old {
        eprintln!(
            "saml-login: {} already holds the {} profile(s) of [{}]; nothing changed",
            path.display(),
            profiles.len(),
            s.section
        );
        return Ok(());
    }
    SecretFile::new(path).update(edit)?;
    let names: Vec<&str> = profiles.iter().map(|p| p.name.as_str()).collect();
    eprintln!(
        "saml-login: wrote {} profile(s) of [{}] to {}: {}",
        profiles.len(),
        s.section,
        path.display(),
        names.join(", ")
    );
    Ok(())
}

/// How a generated profile calls saml-login: its name when PATH finds this very
/// program, else the absolute path of the running binary.
fn own_command() -> String {
    let exe = std::env::current_exe().ok();
    let canonical = |p: &std::path::Path| std::fs::canonicalize(p).ok();
    let on_path = saml_login_capture::find_on_path("saml-login");
    match (&exe, &on_path) {
        (Some(exe), Some(found))
            if canonical(exe).is_some() && canonical(exe) == canonical(found) =>
        {
            "saml-login".to_owned()
        }
        (Some(exe), _) => exe.display().to_string(),
        (None, _) => "saml-login".to_owned(),
    }
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
    // A profile of ~/.aws/config that the credentials file lacks: resolve its chain.
    let in_credentials = std::fs::read_to_string(&paths.credentials)
        .ok()
        .and_then(|t| store::profile_values(&t, profile))
        .is_some();
    if !in_credentials && chain::has_profile(paths, profile) {
        let (credentials, _) =
            chain::resolve(paths, &Cache::new(paths.cache.clone()), profile, false)?;
        return open_console(
            &credentials,
            Some(crate::config::DEFAULT_ROLE_DURATION),
            region,
            destination,
            print,
        );
    }
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
    // Through a private page: the SigninToken stays off the browser's command line.
    let page = saml_login_system::forward::open(&url)
        .map_err(|e| Error::Usage(format!("cannot open a browser: {e}; use --print")))?;
    page.wait_until_read(std::time::Duration::from_secs(10));
    Ok(())
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

pub(crate) fn write_stdout(text: &str) -> Result<()> {
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(stdout_error)
}

pub(crate) fn stdout_error(source: std::io::Error) -> Error {
    Error::Write {
        path: "standard output".into(),
        source,
    }
}
