//! Where saml-login's files are, resolved once from the environment and passed down.

use std::path::PathBuf;

use crate::error::{Error, Result};

#[derive(Clone, Debug)]
pub struct Paths {
    /// The configuration file and whether the user named it (then it must exist).
    pub config: PathBuf,
    pub config_explicit: bool,
    pub accounts: PathBuf,
    pub credentials: PathBuf,
}

impl Paths {
    /// Resolve from `HOME`, `--config`/`SAML_LOGIN_CONFIG` and
    /// `AWS_SHARED_CREDENTIALS_FILE`.
    pub fn resolve(config: Option<PathBuf>, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let home = env("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .or_else(std::env::home_dir)
            .ok_or_else(|| Error::Usage("cannot find your home directory: set HOME".into()))?;
        let credentials = env("AWS_SHARED_CREDENTIALS_FILE")
            .filter(|p| !p.is_empty())
            .map_or_else(|| home.join(".aws").join("credentials"), PathBuf::from);
        Ok(Self {
            config_explicit: config.is_some(),
            config: config.unwrap_or_else(|| home.join(".saml-login")),
            accounts: home.join(".aws-accounts"),
            credentials,
        })
    }
}
