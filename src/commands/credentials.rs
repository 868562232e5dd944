//! `credential-process`, `exec` and `env`: the configured role's credentials (cached
//! while fresh, else through the pipeline) printed as JSON, passed to a command's
//! environment, or printed as shell exports.

use std::ffi::OsString;

use time::OffsetDateTime;

use crate::aws::chain;
use crate::aws::credentials::Credentials;
use crate::config::paths::Paths;
use crate::config::plan::EnvShell;
use crate::config::plan::WithCredentials;
use crate::error::{Error, Result};
use crate::login::lock::Acquired;
use crate::login::pipeline::{Context, Wanted, assertion, assume, lock_login, terms};
use crate::login::role_choice::select_role;
use crate::output::write_stdout;
use crate::storage::cache::Cache;
use crate::storage::identity::SessionIdentity;

/// The configured role's credentials: cached ones of exactly this request while
/// fresh, else from the (cached or new) assertion. `command` (credential-process, exec,
/// env) is for the error naming a missing role.
pub(crate) fn role_credentials(cx: &Context, command: &str) -> Result<Credentials> {
    role_credentials_after(cx, command, None)
}

/// [`role_credentials`], where cached credentials serve only when they expire after
/// `held` (the credential server renewing the ones it holds).
pub(crate) fn role_credentials_after(
    cx: &Context,
    command: &str,
    held: Option<OffsetDateTime>,
) -> Result<Credentials> {
    let s = &cx.job.settings;
    let (Some(account), Some(role)) = (&s.aws_account, &s.aws_role) else {
        return Err(no_role(cx, command));
    };
    let account = cx.job.accounts.get(account)?;
    let identity = SessionIdentity::new(terms(cx), &account.number, role);
    if !cx.job.force {
        if let Some(c) = cached_credentials(cx, &identity, held)? {
            return Ok(c);
        }
        if lock_login(cx)? == Acquired::AfterWaiting
            && let Some(c) = cached_credentials(cx, &identity, held)?
        {
            return Ok(c);
        }
    }
    let wanted = Wanted {
        account: Some(&account.number),
        role: Some(role),
    };
    let granted = assertion(cx, format!("[{}] {role}", s.shared.section), wanted)?;
    let chosen = select_role(cx, &granted, &account, role)?;
    let (credentials, _) = assume(cx, &granted, chosen)?;
    if let Err(e) = cx
        .cache
        .store_credentials(&identity, &chosen.role_arn, &credentials)
    {
        crate::output::warning!("cannot cache the credentials: {e}");
    }
    Ok(credentials)
}

/// The usage error of a credential command without a role: what is missing, and the
/// command line that would name it.
fn no_role(cx: &Context, command: &str) -> Error {
    let s = &cx.job.settings;
    let missing: Vec<&str> = [
        s.aws_account.is_none().then_some("aws_account"),
        s.aws_role.is_none().then_some("aws_role"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let account = s.aws_account.as_deref().unwrap_or("ACCOUNT");
    let role = s.aws_role.as_deref().unwrap_or("ROLE");
    Error::Usage(format!(
        "the section [{}] names no {}: pass them, as in `saml-login -c {} {} --account {account} --role {role}`, or set them in the section",
        s.shared.section,
        missing.join(" and no "),
        s.shared.section,
        command,
    ))
}

/// Cached credentials of exactly `identity` (expiring after `held`, if given), announced.
fn cached_credentials(
    cx: &Context,
    identity: &SessionIdentity,
    held: Option<OffsetDateTime>,
) -> Result<Option<Credentials>> {
    let Some(hit) = cx
        .cache
        .credentials(identity, cx.clock())?
        .filter(|hit| held.is_none_or(|h| hit.credentials.expiration > h))
    else {
        return Ok(None);
    };
    crate::output::notice!(
        "using the cached credentials of {}, valid until {}; --force renews them",
        hit.role_arn,
        crate::output::clock(hit.credentials.expiration)
    );
    Ok(Some(hit.credentials))
}

pub(crate) fn credential_process(cx: &Context) -> Result<()> {
    let c = role_credentials(cx, "credential-process")?;
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
pub(crate) fn profile_credentials(
    paths: &Paths,
    cache: &Cache,
    profile: &str,
    force: bool,
) -> Result<(Credentials, Option<String>)> {
    chain::resolve(paths.aws_files(), cache, profile, force)
}

/// `exec` and `env`: run the command with `c` in its environment, or print `c` as the
/// shell's exports.
pub(crate) fn with_credentials(
    c: &Credentials,
    region: Option<&str>,
    then: WithCredentials,
    programs: &saml_login_capture::Vars,
) -> Result<()> {
    match then {
        WithCredentials::Exec(command) => run_with_credentials(c, region, &command, programs),
        WithCredentials::Export(shell) => print_exports(c, region, shell),
        WithCredentials::Serve(_) => unreachable!("commands::run serves"),
    }
}

/// `exec`: run the command with `c` in its environment; its status is ours.
fn run_with_credentials(
    c: &Credentials,
    region: Option<&str>,
    argv: &[OsString],
    programs: &saml_login_capture::Vars,
) -> Result<()> {
    let (program, rest) = argv.split_first().expect("clap requires a command");
    let mut command = std::process::Command::new(crate::platform::exec_program(program, programs));
    command.args(rest);
    // The command gets the role's keys, not the login's secrets.
    for secret in saml_login_capture::SECRET_ENV_VARS {
        command.env_remove(secret);
    }
    for (k, v) in env_vars(c, region) {
        command.env(k, v);
    }
    let what = program.to_string_lossy().into_owned();
    let status =
        crate::commands::exec_child::spawn_and_wait(&mut command).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::CommandNotFound { what },
            _ => Error::CommandNotExecutable {
                what,
                reason: e.to_string(),
            },
        })?;
    Err(Error::Child(exit_status_code(status)))
}

#[cfg(unix)]
pub(crate) fn exit_status_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .unwrap_or_else(|| 128 + status.signal().unwrap_or(0))
}

#[cfg(not(unix))]
pub(crate) fn exit_status_code(status: std::process::ExitStatus) -> i32 {
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
    // AWS_REGION for the SDKs, AWS_DEFAULT_REGION for botocore and the AWS CLI v1.
    if let Some(region) = region {
        vars.push(("AWS_REGION", region.to_owned()));
        vars.push(("AWS_DEFAULT_REGION", region.to_owned()));
    }
    vars
}

fn print_exports(c: &Credentials, region: Option<&str>, shell: EnvShell) -> Result<()> {
    let out = env_vars(c, region)
        .into_iter()
        .map(|(k, v)| shell.export(k, &v))
        .collect::<Result<String>>()?;
    write_stdout(&out)
}
