//! What the resolver ([`crate::cli::resolve`]) makes of a run of `saml-login`: a
//! [`Plan`], and for a command on a section a [`Run`]: its [`Task`] and the [`Job`] the
//! login pipeline reads. Plain data: the layers above fill it, the layers below read it.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::aws::federation::ConsoleEnv;
use crate::config::IniFile;
use crate::config::Settings;
use crate::config::accounts::Accounts;
use crate::config::browser_setup::LoginSetup;
use crate::config::console_target::ConsoleTarget;
use crate::config::paths::Paths;
use crate::storage::secret_store::CacheChoice;

/// What a run of `saml-login` does, resolved.
pub(crate) enum Plan {
    Completions(clap_complete::Shell),
    Man,
    /// `__sections`: the configuration's section names.
    Sections(IniFile),
    /// `logout` with no configuration file: no IdP to forget (this one).
    LogoutNoConfig(PathBuf),
    /// `logout --all`.
    LogoutAll {
        paths: Paths,
        cache: CacheChoice,
    },
    /// `exec --profile P` / `env --profile P`: the credentials of an AWS config profile.
    Profile {
        paths: Paths,
        cache: CacheChoice,
        profile: String,
        force: bool,
        then: WithCredentials,
    },
    /// `status`: what saml-login wrote and caches.
    Status {
        paths: Paths,
        json: bool,
    },
    /// A command on a configuration section.
    Section(Box<Run>),
}

/// Where `exec --server` and `serve` answer, and what they run.
pub(crate) struct ServeSetup {
    /// `exec --server`'s command; `None` for `serve` (runs until interrupted).
    pub command: Option<Vec<OsString>>,
    pub bind: std::net::SocketAddr,
    /// `serve --env-file`.
    pub env_file: Option<PathBuf>,
    /// How long before their expiry the held keys are renewed: [`crate::storage::cache::CREDENTIALS_MARGIN`],
    /// or the test-only `SAML_LOGIN_TEST_REFRESH_MARGIN` seconds (moto's sessions last
    /// at least 900 s; tests cannot wait for them).
    pub refresh_margin: time::Duration,
}

/// What `exec` and `env` do with the credentials.
pub(crate) enum WithCredentials {
    /// Serve them to a command or to containers (`exec --server`, `serve`).
    Serve(ServeSetup),
    /// Run this command with them in its environment.
    Exec(Vec<OsString>),
    /// Print them as this shell's exports.
    Export(EnvShell),
}

/// A command on a section: what the login pipeline reads, and the command.
pub(crate) struct Run {
    pub job: Job,
    pub task: Task,
}

/// Everything the login pipeline reads, resolved: the pipeline's context owns it whole
/// ([`crate::login::pipeline::Context`]), beside what only a running login has (the
/// cancel, the clock, the login lock).
pub(crate) struct Job {
    pub settings: Settings,
    pub accounts: Accounts,
    pub paths: Paths,
    /// The browser and `--save-cookies`; `None` for the commands that never log in.
    pub login: Option<LoginSetup>,
    /// Log in even when a stored answer would serve (`--force`).
    pub force: bool,
    /// Read and write the assertion cache (not with `--no-cache` or a saved response).
    pub use_assertion_cache: bool,
    /// The command asks for one role named by `aws_account` and `aws_role`.
    pub pinned_role: bool,
    /// Whether the browser's page checks that the response parses (every command but
    /// get-token, which hands the response over as it is).
    pub check_response: bool,
    /// The console flow's variables.
    pub console_env: ConsoleEnv,
}

/// The command, with its own arguments resolved.
pub(crate) enum Task {
    GetToken,
    Show,
    AssumeAll,
    AssumeRole { destination: Option<String> },
    Console(ConsoleTarget),
    CredentialProcess,
    Exec(Vec<OsString>),
    Serve(ServeSetup),
    Env(EnvShell),
    Configure { dry_run: bool },
    Logout,
    Doctor,
}

/// The shell syntax `env` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvShell {
    Sh,
    /// The same syntax as `sh`.
    Bash,
    /// The same syntax as `sh`.
    Zsh,
    Fish,
    Powershell,
    /// Windows' cmd.exe (`set "NAME=value"`).
    Cmd,
}

impl EnvShell {
    /// The kind of the shell at `path` (`$SHELL`, `/` or `\` separated):
    /// `/usr/bin/fish` is fish; anything not known is `sh`.
    pub fn of_shell_path(path: Option<&str>) -> Self {
        let name = path
            .and_then(|p| p.rsplit(['/', '\\']).next())
            .unwrap_or_default()
            .trim_end_matches(".exe");
        match name {
            "fish" => Self::Fish,
            "pwsh" | "powershell" => Self::Powershell,
            "cmd" => Self::Cmd,
            "bash" => Self::Bash,
            "zsh" => Self::Zsh,
            _ => Self::Sh,
        }
    }

    /// `env`'s syntax when `$SHELL` is not set: PowerShell on Windows (the shell of
    /// Windows Terminal), sh elsewhere.
    pub(crate) fn platform_default() -> Self {
        if cfg!(windows) {
            Self::Powershell
        } else {
            Self::Sh
        }
    }
}
