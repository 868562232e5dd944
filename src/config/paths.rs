//! Where saml-login's files are, resolved once from the environment and passed down.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The platform's directory, but under `home` on Linux and BSD (so a HOME set for a
/// run, as tests do, is honoured like XDG tools do).
fn platform_dir(platform: Option<PathBuf>, home: &std::path::Path, xdg: &str) -> Option<PathBuf> {
    if cfg!(any(target_os = "macos", windows)) {
        platform
    } else {
        Some(home.join(xdg))
    }
}

#[derive(Clone, Debug)]
pub struct Paths {
    /// The user's home (`HOME`, else the platform's).
    pub home: PathBuf,
    /// The configuration file and whether the user named it (then it must exist).
    pub config: PathBuf,
    pub config_explicit: bool,
    pub accounts: PathBuf,
    pub credentials: PathBuf,
    /// `AWS_CONFIG_FILE` or ~/.aws/config (profile regions).
    pub aws_config: PathBuf,
    /// saml-login's cache directory (credentials and assertion caches).
    pub cache: PathBuf,
    /// saml-login's data directory (remembered webview sessions).
    pub data: PathBuf,
}

impl Paths {
    /// Resolve from `HOME` (`USERPROFILE` first on Windows), `--config`/`SAML_LOGIN_CONFIG` and
    /// `AWS_SHARED_CREDENTIALS_FILE`.
    pub fn resolve(config: Option<PathBuf>, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let home = crate::platform::home_from_env(&env)
            .or_else(std::env::home_dir)
            .ok_or(Error::NoHome)?;
        let credentials = env("AWS_SHARED_CREDENTIALS_FILE")
            .filter(|p| !p.is_empty())
            .map_or_else(|| home.join(".aws").join("credentials"), PathBuf::from);
        let aws_config = env("AWS_CONFIG_FILE")
            .filter(|p| !p.is_empty())
            .map_or_else(|| home.join(".aws").join("config"), PathBuf::from);
        let cache = env("XDG_CACHE_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| platform_dir(dirs::cache_dir(), &home, ".cache"))
            .unwrap_or_else(|| home.join(".cache"))
            .join("saml-login");
        let data = env("XDG_DATA_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            // Local, not roaming, AppData on Windows (WebView2 profiles stay on this machine).
            .or_else(|| platform_dir(dirs::data_local_dir(), &home, ".local/share"))
            .unwrap_or_else(|| home.join(".local/share"))
            .join("saml-login");
        Ok(Self {
            aws_config,
            cache,
            data,
            config_explicit: config.is_some(),
            config: config.unwrap_or_else(|| home.join(".saml-login")),
            accounts: home.join(".aws-accounts"),
            credentials,
            home,
        })
    }
}
