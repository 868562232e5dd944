//! The network settings, resolved once with the rest and installed for the process
//! (`crate::net`): the proxy variables, the CA bundles that add to the OS trust
//! (`ca_bundle` / `--ca-bundle`, then `AWS_CA_BUNDLE`, then the AWS config's
//! `ca_bundle`; every one found is added), `http_timeout`, and the STS endpoint
//! (`AWS_ENDPOINT_URL_STS`, else `AWS_ENDPOINT_URL`).

use std::path::PathBuf;
use std::time::Duration;

use crate::config::keys::Key;
use crate::config::paths::Paths;
use crate::config::{IniFile, Layers, Overrides};
use crate::error::{Error, Result};
use crate::net::{CaBundle, Network, Proxies, Trust};
use crate::storage::aws_config;

/// Resolve the network settings of `section` of `file` and install them.
pub(crate) fn install(
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
    file: &IniFile,
    section: &str,
    paths: &Paths,
) -> Result<()> {
    crate::net::install(resolve(env, overrides, file, section, paths)?);
    Ok(())
}

pub(crate) fn resolve(
    env: &dyn Fn(&str) -> Option<String>,
    overrides: &Overrides,
    file: &IniFile,
    section: &str,
    paths: &Paths,
) -> Result<Network> {
    let bad = |field: &str, origin: &str, message: String| Error::BadValue {
        field: field.to_owned(),
        origin: origin.to_owned(),
        message,
    };
    let proxies = Proxies::from_env(env).map_err(|m| bad("proxy", "the environment", m))?;
    let layers = Layers {
        overrides,
        file,
        section,
    };
    let set = |k: &str| env(k).filter(|v| !v.is_empty());
    let sts_endpoint = set("AWS_ENDPOINT_URL_STS").or_else(|| set("AWS_ENDPOINT_URL"));
    let env = |k: &str| env(k).filter(|v| !v.trim().is_empty());
    let mut sources: Vec<(PathBuf, String)> = Vec::new();
    if let Some(s) = layers
        .get(Key::CaBundle)
        .filter(|s| !s.value.trim().is_empty())
    {
        sources.push((PathBuf::from(s.value.trim()), s.origin));
    }
    if let Some(v) = env("AWS_CA_BUNDLE") {
        sources.push((PathBuf::from(v), "AWS_CA_BUNDLE".into()));
    }
    let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".into());
    if let Some(v) = std::fs::read_to_string(&paths.aws_config)
        .ok()
        .and_then(|text| aws_config::profile(&text, &profile))
        .and_then(|values| values.into_iter().find(|(k, _)| k == "ca_bundle"))
        .map(|(_, v)| v)
        .filter(|v| !v.trim().is_empty())
    {
        sources.push((
            PathBuf::from(v.trim()),
            format!(
                "ca_bundle of profile {profile} in {}",
                paths.aws_config.display()
            ),
        ));
    }
    let mut added: Vec<CaBundle> = Vec::new();
    for (path, origin) in sources {
        if added.iter().any(|b| b.path == path) {
            continue;
        }
        added.push(
            CaBundle::read(path, &origin).map_err(|m| bad(Key::CaBundle.name(), &origin, m))?,
        );
    }
    let read_timeout = layers.parsed_or_default(Key::HttpTimeout, |v| match v.parse::<u64>() {
        Ok(s) if (1..=3600).contains(&s) => Ok(Duration::from_secs(s)),
        _ => Err(format!("{v:?} is not a number of seconds from 1 to 3600")),
    })?;
    Ok(Network {
        proxies,
        trust: Trust { added },
        connect_timeout: crate::net::DEFAULT_CONNECT_TIMEOUT.min(read_timeout),
        read_timeout,
        sts_endpoint,
    })
}
