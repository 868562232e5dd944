//! `get-token` and `aws-assume-role` (one role, `--show`, `--all`): the pipeline's
//! response, granted roles or credentials, the credentials stored as AWS profiles.

use std::io::Write;

use time::OffsetDateTime;

use crate::aws::credentials::Credentials;
use crate::aws::federation;
use crate::aws::role::AwsRole;
use crate::commands::console::{
    ConsoleTarget, console_for_profile, open_console, region_for_console,
};
use crate::config::CallbackSetting;
use crate::error::{Error, Result};
use crate::login::pipeline::{Context, Wanted, assertion, assume, obtain, terms};
use crate::login::role_choice::{choose_role, profile_name};
use crate::output::{stdout_error, write_stdout};
use crate::storage::cache;
use crate::storage::credentials_check;
use crate::storage::credentials_file::{self, SecretFile};
use crate::storage::identity::{SessionIdentity, keys_fingerprint};

/// `get-token`: the raw SAMLResponse on stdout.
pub(crate) fn get_token(cx: &Context) -> Result<()> {
    let received = obtain(cx, format!("[{}]", cx.job.settings.shared.section))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", received.response.expose()).map_err(stdout_error)
}

/// `--show`: one configuration section per granted role, as the original printed it.
pub(crate) fn show(cx: &Context) -> Result<()> {
    let s = &cx.job.settings;
    let granted = assertion(
        cx,
        format!("[{}] roles", s.shared.section),
        Wanted::default(),
    )?;
    // The original's lines; login_url and callback_url when they are what is set.
    let mut login = String::new();
    if let Some(url) = &s.shared.idp_url_text {
        login.push_str(&format!("idp_url = {url}\n"));
    }
    if let Some(id) = &s.shared.client_id {
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
            cx.job.accounts.alias_for(role.account()),
            role.name(),
        ));
    }
    write_stdout(&out)
}

/// `aws-assume-role`: the chosen role's credentials into its profile (no login while
/// the stored profile serves), then the console when `aws_console` says so.
pub(crate) fn assume_role(cx: &Context, destination: Option<&str>) -> Result<()> {
    let s = &cx.job.settings;
    let target = ConsoleTarget {
        destination: destination.map(str::to_owned),
        identity: s.console_identity.clone(),
        ..ConsoleTarget::default()
    };
    let account = s
        .aws_account
        .as_deref()
        .map(|a| cx.job.accounts.get(a))
        .transpose()?;
    if let (Some(profile), Some(account), Some(role)) = (&s.aws_profile, &account, &s.aws_role)
        && !cx.job.force
    {
        let identity = SessionIdentity::new(terms(cx), &account.number, role);
        if let Some(until) = stored_profile_serves(cx, profile, &identity) {
            crate::output::notice!(
                "profile {profile} holds {} until {until}; no login needed (--force renews it)",
                identity.describe()
            );
            if s.aws_console {
                return console_for_profile(
                    &cx.job.paths,
                    &cx.cache,
                    &cx.job.console_env,
                    profile,
                    &region_for_console(cx, Some(profile)),
                    &target,
                );
            }
            return Ok(());
        }
    }
    if s.aws_console {
        // Fail on a bad destination before the login rather than after.
        federation::deep_link(
            None,
            destination,
            &region_for_console(cx, s.aws_profile.as_deref()),
            cx.job.console_env.console_url.as_deref(),
        )?;
    }
    credentials_check::check_credentials_file(&cx.job.paths.credentials)?;
    let title = format!(
        "[{}] {}",
        s.shared.section,
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
            &cx.job.paths,
            &cx.job.console_env,
            (&credentials, Some(duration)),
            (&profile, &region_for_console(cx, Some(&profile))),
            &target,
        )?;
    }
    Ok(())
}

/// `--all`: every granted role into its own profile, from one login.
pub(crate) fn assume_all(cx: &Context) -> Result<()> {
    credentials_check::check_credentials_file(&cx.job.paths.credentials)?;
    let granted = assertion(
        cx,
        format!("[{}] all roles", cx.job.settings.shared.section),
        Wanted::default(),
    )?;
    let mut first_error = None;
    for role in &granted.assertion.roles {
        let profile = profile_name(cx, role);
        // As for one role: a profile still holding this very request is kept.
        let identity = SessionIdentity::of_role(terms(cx), role);
        if !cx.job.force
            && let Some(until) = stored_profile_serves(cx, &profile, &identity)
        {
            crate::output::notice!(
                "profile {profile} holds {} until {until}; kept (--force renews it)",
                identity.describe()
            );
            continue;
        }
        let stored = assume(cx, &granted, role)
            .and_then(|(credentials, _)| store_profile(cx, role, &profile, &credentials));
        if let Err(e) = stored {
            crate::output::error(format_args!("{profile}: {e}"), None);
            first_error.get_or_insert(e);
        }
    }
    first_error.map_or(Ok(()), Err)
}

/// The keys a profile gets besides the credentials: the role it holds, the
/// fingerprint of the request that produced it, and the fingerprint of the keys both
/// describe (AWS's readers ignore other keys).
pub(crate) const PROFILE_ROLE_KEY: &str = "x_saml_login_role";
const PROFILE_REQUEST_KEY: &str = "x_saml_login_request";
const PROFILE_KEYS_KEY: &str = "x_saml_login_keys";

fn store_profile(cx: &Context, role: &AwsRole, profile: &str, c: &Credentials) -> Result<()> {
    credentials_file::check_profile_name(profile).map_err(|message| Error::Malformed {
        path: cx.job.paths.credentials.clone(),
        message: format!("not written: {message}"),
    })?;
    let mut entries = c.profile_entries();
    entries.push((PROFILE_ROLE_KEY, role.role_arn.clone()));
    entries.push((
        PROFILE_REQUEST_KEY,
        SessionIdentity::of_role(terms(cx), role).fingerprint(),
    ));
    entries.push((PROFILE_KEYS_KEY, keys_fingerprint(&c.access_key_id)));
    let path = &cx.job.paths.credentials;
    SecretFile::new(path).update(|old| {
        credentials_check::check_syntax(old, path)?;
        Ok(credentials_file::update_profile(old, profile, &entries))
    })?;
    crate::output::notice!(
        "credentials for {} saved under AWS profile {profile} in {} (valid until {})",
        profile_name(cx, role),
        cx.job.paths.credentials.display(),
        crate::output::clock(c.expiration)
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
    credentials_file::check_trusted(&cx.job.paths.credentials).ok()?;
    let text = std::fs::read_to_string(&cx.job.paths.credentials).ok()?;
    let values = credentials_file::profile_values(&text, profile)?;
    let get = |key: &str| {
        values
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    };
    // The markers vouch only for the keys they were written with: another program
    // (`aws configure set`, the original tool, a paste) may have replaced the keys.
    let markers_describe_keys = get("aws_access_key_id")
        .zip(get(PROFILE_KEYS_KEY))
        .is_some_and(|(key_id, marker)| keys_fingerprint(key_id) == marker);
    if !markers_describe_keys {
        let marked = get(PROFILE_REQUEST_KEY).is_some() || get(PROFILE_ROLE_KEY).is_some();
        if marked && get(PROFILE_KEYS_KEY).is_none() {
            crate::output::notice!(
                "profile {profile} was stored without the fingerprint of its keys (by an older saml-login); renewing it"
            );
        } else if marked {
            crate::output::notice!(
                "profile {profile} was rewritten since saml-login stored it (its keys are not the ones its x_saml_login_* lines describe); renewing it"
            );
        }
        return None;
    }
    match (get(PROFILE_REQUEST_KEY), get(PROFILE_ROLE_KEY)) {
        (Some(fingerprint), _) if fingerprint == identity.fingerprint() => {}
        (_, Some(held)) => {
            let same_role = AwsRole::parse_role_arn(held)
                .is_some_and(|(a, r)| a == identity.account() && r == identity.role());
            if same_role {
                crate::output::notice!(
                    "profile {profile} holds {} under other terms (IdP, policies, duration or region); renewing it",
                    identity.describe()
                );
            } else {
                crate::output::notice!(
                    "profile {profile} holds {held}, not the {} asked for; replacing it",
                    identity.describe()
                );
            }
            return None;
        }
        _ => return None,
    }
    let expiration = get("expiration")?;
    let until =
        OffsetDateTime::parse(expiration, &time::format_description::well_known::Rfc3339).ok()?;
    (until - cx.now > cache::CREDENTIALS_MARGIN).then(|| crate::output::clock(until))
}
