//! Where saml-login's files are, resolved once from the environment and passed down.

use std::path::PathBuf;

use saml_login_capture::Vars;

use crate::error::{Error, Result};

/// The variable naming the webview helper explicitly (else it is looked for next to
/// saml-login, then on `PATH`).
pub(crate) const WEBVIEW_HELPER_VAR: &str = "SAML_LOGIN_WEBVIEW_HELPER";

/// The variables programs are found with, read once into [`Paths::programs`]: `PATH`
/// and `PATHEXT`, the webview helper's variable, and what the headless Chromium search
/// reads (`saml_login_headless::SEARCH_VARS`, all of them here: a test checks).
pub(crate) const PROGRAM_VARS: [&str; 8] = [
    "PATH",
    "PATHEXT",
    WEBVIEW_HELPER_VAR,
    "CHROME",
    "PLAYWRIGHT_BROWSERS_PATH",
    "LOCALAPPDATA",
    "ProgramFiles",
    "ProgramFiles(x86)",
];

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
    /// `AWS_REGION`: the region of a profile chain's hop when the AWS config names none.
    pub aws_region: Option<String>,
    /// saml-login's cache directory (credentials and assertion caches).
    pub cache: PathBuf,
    /// saml-login's data directory (remembered webview sessions).
    pub data: PathBuf,
    /// [`PROGRAM_VARS`] as this process got them: where the webview helper, Chromium and
    /// other programs are looked for (no later code reads `PATH` itself).
    pub programs: Vars,
}

impl Paths {
    /// What a profile chain reads (`aws::chain`).
    pub(crate) fn aws_files(&self) -> crate::aws::chain::AwsFiles<'_> {
        crate::aws::chain::AwsFiles {
            aws_config: &self.aws_config,
            aws_region: self.aws_region.as_deref(),
            programs: &self.programs,
        }
    }

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
        let aws_region = env("AWS_REGION").filter(|r| !r.is_empty());
        Ok(Self {
            aws_config,
            aws_region,
            cache,
            data,
            config_explicit: config.is_some(),
            config: config.unwrap_or_else(|| home.join(".saml-login")),
            accounts: home.join(".aws-accounts"),
            credentials,
            home,
            programs: Vars::read(PROGRAM_VARS, std::env::var_os),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every variable the headless Chromium search reads is read for it.
    #[cfg(feature = "headless")]
    #[test]
    fn the_chromium_search_gets_every_variable_it_reads() {
        for name in saml_login_headless::SEARCH_VARS {
            assert!(
                PROGRAM_VARS.contains(&name),
                "{name} is not in PROGRAM_VARS"
            );
        }
    }

    #[test]
    fn programs_are_read_from_this_process() {
        let paths = Paths::resolve(None, |k| (k == "HOME").then(|| "/home/u".to_owned())).unwrap();
        assert_eq!(
            paths.programs.get("PATH"),
            std::env::var_os("PATH").as_deref()
        );
    }
}
