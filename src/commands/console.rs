//! The console flow, shared by `saml-login aws-console`, `aws-assume-role -C` and the
//! stand-alone `aws-console`: credentials (a stored profile, a profile chain, or
//! long-term keys through `GetFederationToken`) -> a sign-in URL -> the browser.

use saml_login_capture::Secret;

use crate::aws::chain;
use crate::aws::credentials::Credentials;
use crate::aws::federation::{self, ConsoleEnv};
use crate::aws::sts;
use crate::commands::console_browser::open_in_identity;
pub(crate) use crate::config::console_target::ConsoleTarget;
use crate::config::paths::Paths;
use crate::error::{Error, Result};
use crate::login::pipeline::Context;
use crate::output::write_stdout;
use crate::storage::cache::Cache;
use crate::storage::credentials_file;

/// `aws-console`: open the console with the credentials of the section's profile.
pub(crate) fn aws_console(cx: &Context, target: &ConsoleTarget) -> Result<()> {
    let Some(profile) = &cx.job.settings.aws_profile else {
        return Err(Error::Usage(
            "--profile is required (or aws_profile in the section)".into(),
        ));
    };
    console_for_profile(
        &cx.job.paths,
        &cx.cache,
        &cx.job.console_env,
        profile,
        &region_for_console(cx, Some(profile)),
        target,
    )
}

/// Open the console with the credentials stored under `profile` (also the stand-alone
/// `aws-console` binary).
pub(crate) fn console_for_profile(
    paths: &Paths,
    cache: &Cache,
    console_env: &ConsoleEnv,
    profile: &str,
    region: &str,
    target: &ConsoleTarget,
) -> Result<()> {
    let home = federation::deep_link(
        target.service.as_deref(),
        target.destination.as_deref(),
        region,
        console_env.console_url.as_deref(),
    )?;
    if target.logout {
        let endpoint =
            federation::federation_endpoint(region, console_env.federation_url.as_deref())?;
        return show(
            paths,
            target,
            profile,
            &federation::logout_url(&endpoint, &home),
        );
    }
    // A profile of ~/.aws/config that the credentials file lacks: resolve its chain.
    let in_credentials = std::fs::read_to_string(&paths.credentials)
        .ok()
        .and_then(|t| credentials_file::profile_values(&t, profile))
        .is_some();
    if !in_credentials && chain::has_profile(paths.aws_files(), profile) {
        let (credentials, _) = chain::resolve(paths.aws_files(), cache, profile, false)?;
        return open_console(
            paths,
            console_env,
            (&credentials, Some(crate::config::DEFAULT_ROLE_DURATION)),
            (profile, region),
            target,
        );
    }
    let text = std::fs::read_to_string(&paths.credentials).map_err(|source| Error::Read {
        path: paths.credentials.clone(),
        source,
    })?;
    let values =
        credentials_file::profile_values(&text, profile).ok_or_else(|| Error::Malformed {
            path: paths.credentials.clone(),
            message: format!(
                "no profile [{profile}] (nor [profile {profile}] in {})",
                paths.aws_config.display()
            ),
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
                expiration: crate::clock::now(),
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
    open_console(
        paths,
        console_env,
        (&credentials, duration),
        (profile, region),
        target,
    )
}

/// The sign-in URL for `credentials` (with the session's duration, for assumed-role
/// credentials), opened for AWS profile `profile` in `region` as `target` says.
pub(crate) fn open_console(
    paths: &Paths,
    console_env: &ConsoleEnv,
    (credentials, session_duration): (&Credentials, Option<i32>),
    (profile, region): (&str, &str),
    target: &ConsoleTarget,
) -> Result<()> {
    let endpoint = federation::federation_endpoint(region, console_env.federation_url.as_deref())?;
    let destination = federation::deep_link(
        target.service.as_deref(),
        target.destination.as_deref(),
        region,
        console_env.console_url.as_deref(),
    )?;
    let duration = session_duration.map(|d| d.clamp(900, 43200).unsigned_abs());
    let token = federation::fetch_signin_token(&federation::signin_token_url(
        &endpoint,
        credentials,
        duration,
    ))?;
    let url = federation::login_url(&endpoint, &destination, &token);
    if target.print {
        return write_stdout(&format!("{url}\n"));
    }
    crate::output::notice!("opening the AWS console ({destination})");
    show(paths, target, profile, &url)
}

/// Open `url` in the browser identity of `profile` when one is configured, else in the
/// default browser; either way through a private page, so that a SigninToken stays off
/// the browser's command line.
fn show(paths: &Paths, target: &ConsoleTarget, profile: &str, url: &url::Url) -> Result<()> {
    if let Some(name) = target.identity.name_for(profile) {
        return open_in_identity(paths, &target.identity, &name, url);
    }
    let page = saml_login_system::forward::open(url).map_err(|e| Error::OpenBrowser {
        reason: e.to_string(),
    })?;
    const PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);
    if page.wait_until_read(PATIENCE) {
        Ok(())
    } else {
        Err(Error::ConsoleNotOpened(PATIENCE.as_secs()))
    }
}

/// The console's region: the setting, the AWS variables, the profile's region in
/// ~/.aws/config, else us-east-1.
pub(crate) fn region_for_console(cx: &Context, profile: Option<&str>) -> String {
    cx.job
        .settings
        .region
        .clone()
        .unwrap_or_else(|| console_region(&cx.job.paths, &cx.job.console_env, profile))
}

/// The region from the AWS variables or the profile's ~/.aws/config section.
pub(crate) fn console_region(
    paths: &Paths,
    console_env: &ConsoleEnv,
    profile: Option<&str>,
) -> String {
    console_env
        .region
        .clone()
        .or_else(|| {
            let profile = profile?;
            let text = std::fs::read_to_string(&paths.aws_config).ok()?;
            let section = if profile == "default" {
                "default".to_owned()
            } else {
                format!("profile {profile}")
            };
            credentials_file::profile_values(&text, &section)?
                .into_iter()
                .find(|(k, _)| k == "region")
                .map(|(_, v)| v)
        })
        .unwrap_or_else(|| "us-east-1".into())
}
