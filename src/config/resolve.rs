//! The one resolver of `saml-login`: the parsed command line, the environment and the
//! files (configuration, account aliases, cookie jar) become a complete [`Plan`].
//! Nothing after it reads a raw flag or an environment variable.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::aws::federation::ConsoleEnv;
use crate::cli::{Cli, Command, LogoutArgs};
use crate::commands::shell::EnvShell;
use crate::config::accounts::Accounts;
use crate::config::browser_setup::{BrowserInputs, LoginSetup};
use crate::config::keys::{self, Tool};
use crate::config::paths::Paths;
use crate::config::{DEFAULT_SECTION, IniFile, Overrides, Settings};
use crate::error::{Error, Result};
use crate::storage::secret_store::CacheChoice;

/// What a run of `saml-login` does, resolved.
pub(crate) enum Plan {
    Completions(clap_complete::Shell),
    Man,
    /// `__sections`: the configuration's section names.
    Sections(IniFile),
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
    /// A command on a configuration section.
    Section(Box<Run>),
}

/// What `exec` and `env` do with the credentials.
pub(crate) enum WithCredentials {
    /// Run this command with them in its environment.
    Exec(Vec<OsString>),
    /// Print them as this shell's exports.
    Export(EnvShell),
}

/// A command on a section, with everything it needs.
pub(crate) struct Run {
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
    pub task: Task,
    /// The console flow's variables.
    pub console_env: ConsoleEnv,
}

/// The command, with its own arguments resolved.
pub(crate) enum Task {
    GetToken,
    Show,
    AssumeAll,
    AssumeRole {
        destination: Option<String>,
    },
    Console {
        destination: Option<String>,
        print: bool,
    },
    CredentialProcess,
    Exec(Vec<OsString>),
    Env(EnvShell),
    Configure {
        dry_run: bool,
    },
    Logout,
}

/// Resolve the command line `cli` with the environment `env`.
pub(crate) fn resolve(cli: Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Plan> {
    let overrides = overrides(&cli, env);
    let Cli { global, command } = cli;
    let login_args = global.login;
    let paths = || Paths::resolve(login_args.config.clone(), env);
    match command {
        Command::Completions { shell } => return Ok(Plan::Completions(shell)),
        Command::Man => return Ok(Plan::Man),
        Command::Sections => return Ok(Plan::Sections(IniFile::load(&paths()?.config, false)?)),
        Command::Logout(LogoutArgs { all: true }) => {
            if login_args.configuration != DEFAULT_SECTION {
                return Err(Error::Usage(
                    "logout --all forgets every IdP's login: give either -c SECTION or --all"
                        .into(),
                ));
            }
            let paths = paths()?;
            let cache = unsectioned_cache(&paths, &overrides)?;
            return Ok(Plan::LogoutAll { paths, cache });
        }
        _ => {}
    }
    let paths = paths()?;
    note_config_in_working_directory(&paths);
    let shell = |chosen: Option<EnvShell>| {
        // `$SHELL`'s kind, else sh (PowerShell on Windows).
        chosen.unwrap_or_else(|| {
            env("SHELL").map_or_else(EnvShell::platform_default, |shell| {
                EnvShell::of_shell_path(Some(&shell))
            })
        })
    };
    // `--profile P`: an AWS config profile, whatever saml-login section it ends in.
    let (force, task, may_log_in) = match command {
        Command::Exec(a) if a.profile.is_some() => {
            return Ok(Plan::Profile {
                cache: unsectioned_cache(&paths, &overrides)?,
                paths,
                profile: a.profile.unwrap_or_default(),
                force: a.fresh.force,
                then: WithCredentials::Exec(a.command),
            });
        }
        Command::Env(a) if a.profile.is_some() => {
            return Ok(Plan::Profile {
                cache: unsectioned_cache(&paths, &overrides)?,
                paths,
                profile: a.profile.unwrap_or_default(),
                force: a.fresh.force,
                then: WithCredentials::Export(shell(a.shell)),
            });
        }
        Command::GetToken => (false, Task::GetToken, true),
        Command::AwsAssumeRole(a) => (
            a.force,
            if a.show {
                Task::Show
            } else if a.all {
                Task::AssumeAll
            } else {
                Task::AssumeRole {
                    destination: a.destination,
                }
            },
            true,
        ),
        Command::AwsConsole(a) => (
            false,
            Task::Console {
                destination: a.destination,
                print: a.print,
            },
            false,
        ),
        Command::CredentialProcess(a) => (a.fresh.force, Task::CredentialProcess, true),
        Command::Exec(a) => (a.fresh.force, Task::Exec(a.command), true),
        Command::Env(a) => (a.fresh.force, Task::Env(shell(a.shell)), true),
        Command::Configure(a) => (a.force, Task::Configure { dry_run: a.dry_run }, true),
        Command::Logout(_) => (false, Task::Logout, false),
        Command::Completions { .. } | Command::Man | Command::Sections => {
            unreachable!("resolved above")
        }
    };
    let section = login_args.configuration.as_str();
    let file = IniFile::load(&paths.config, paths.config_explicit)?;
    for warning in file.unknown_keys(section, &keys::names(Tool::SamlLogin)) {
        eprintln!("saml-login: warning: {warning}");
    }
    let settings = Settings::resolve(&file, section, &overrides)?;
    let accounts = Accounts::load(&paths.accounts)?;
    let names_one_role = settings.aws_account.is_some() && settings.aws_role.is_some();
    let pinned_role = names_one_role
        && matches!(
            task,
            Task::AssumeRole { .. } | Task::CredentialProcess | Task::Exec(_) | Task::Env(_)
        );
    let login = if may_log_in {
        Some(LoginSetup::resolve(
            BrowserInputs {
                args: &login_args.browser,
                saved_response: global.saml_response_file.as_deref(),
                kind: settings.browser,
                cookies: settings.cookies.as_ref(),
                chrome: settings.chrome.as_ref(),
                webview_profile: saml_login_capture::webview::profile_dir_for(
                    &paths.data,
                    &settings.start_url(),
                ),
            },
            env,
        )?)
    } else {
        None
    };
    Ok(Plan::Section(Box::new(Run {
        use_assertion_cache: !global.no_cache && global.saml_response_file.is_none(),
        settings,
        accounts,
        paths,
        login,
        force,
        pinned_role,
        task,
        console_env: ConsoleEnv::resolve(env),
    })))
}

/// The `cache` setting of a command that resolves no section (an unreadable
/// configuration file is not that command's concern).
pub(crate) fn unsectioned_cache(paths: &Paths, overrides: &Overrides) -> Result<CacheChoice> {
    let file = IniFile::load(&paths.config, false).unwrap_or_default();
    crate::config::cache_choice_of(&file, overrides)
}

/// Flags and `SAML_LOGIN_*` variables, by configuration key.
fn overrides(cli: &Cli, env: &dyn Fn(&str) -> Option<String>) -> Overrides {
    let g = &cli.global;
    let l = &g.login;
    let mut o = Overrides::default();
    o.read_env(env);
    o.flag("idp_url", l.idp_url.clone());
    o.flag("client_id", l.client_id.clone());
    o.flag("login_url", g.login_url.clone());
    o.flag("callback_url", g.callback_url.clone());
    o.flag("listen_port", l.listen_port.clone());
    o.flag("role_duration", g.role_duration.clone());
    o.flag("region", g.region.clone());
    o.flag("timeout", l.timeout.clone());
    o.flag("cache", g.cache.clone());
    browser_overrides(&l.browser, &mut o);
    match &cli.command {
        Command::AwsAssumeRole(a) => {
            o.flag("aws_account", a.account.clone());
            o.flag("aws_role", a.role.clone());
            o.flag("aws_profile", a.profile.clone());
            if !a.policy_arns.is_empty() {
                o.flag("policy_arns", Some(a.policy_arns.join("\n")));
            }
            o.flag("inline_policy", a.inline_policy.clone());
            if a.open_console {
                o.flag("aws_console", Some("true".into()));
            } else if a.no_open_console {
                o.flag_as("aws_console", "--no-open-console", Some("false".into()));
            }
        }
        Command::AwsConsole(a) => o.flag("aws_profile", a.profile.clone()),
        Command::CredentialProcess(a) => {
            o.flag("aws_account", a.account.clone());
            o.flag("aws_role", a.role.clone());
        }
        _ => {}
    }
    o
}

/// The settings the browser flags give (`browser`, `cookies`, `chrome`), for both tools.
pub(crate) fn browser_overrides(args: &crate::cli::login_args::BrowserArgs, o: &mut Overrides) {
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    o.flag("chrome", path(&args.chrome));
    o.flag("cookies", path(&args.cookies));
    o.flag(
        "browser",
        args.choice()
            .map(crate::config::browser_kind::BrowserKind::name),
    );
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use clap::FromArgMatches;

    use super::*;
    use crate::config::browser_setup::BrowserSetup;

    /// A HOME with a configuration, and an environment that is only `vars`: the
    /// resolver reads no variable of the process.
    struct Home {
        dir: tempfile::TempDir,
        vars: BTreeMap<&'static str, String>,
    }

    impl Home {
        fn new(config: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(".saml-login"), config).unwrap();
            let mut vars = BTreeMap::new();
            vars.insert("HOME", dir.path().display().to_string());
            Self { dir, vars }
        }

        fn resolve(&self, args: &[&str]) -> Result<Plan> {
            let argv = std::iter::once("saml-login").chain(args.iter().copied());
            let matches = crate::cli::command().try_get_matches_from(argv).unwrap();
            let cli = Cli::from_arg_matches(&matches).unwrap();
            resolve(cli, &|k: &str| self.vars.get(k).cloned())
        }
    }

    fn section(plan: Plan) -> Run {
        match plan {
            Plan::Section(run) => *run,
            _ => panic!("not a command on a section"),
        }
    }

    const CONFIG: &str = "[DEFAULT]\nidp_url = https://idp.example\nclient_id = c\n\
                          aws_account = 123456789012\naws_role = Dev\n";

    #[test]
    fn the_browser_comes_resolved_with_its_jar_read() {
        let mut home = Home::new(CONFIG);
        home.vars.insert(
            "SAML_LOGIN_COOKIES",
            "idp.example\tFALSE\t/\tTRUE\t0\tsid\tsecret-session\n".into(),
        );
        home.vars.insert("SAML_LOGIN_USERNAME", "robot".into());
        home.vars.insert("SAML_LOGIN_PASSWORD", "pw".into());
        let run = section(home.resolve(&["--headless", "credential-process"]).unwrap());
        let Some(LoginSetup {
            browser: BrowserSetup::Headless { cookies, login, .. },
            save_cookies: None,
            ..
        }) = run.login
        else {
            panic!("not headless: {:?}", run.login);
        };
        assert_eq!(cookies.len(), 1);
        assert_eq!(login.map(|(user, _)| user).as_deref(), Some("robot"));
        assert!(run.pinned_role && run.use_assertion_cache && !run.force);
        assert!(matches!(run.task, Task::CredentialProcess));
    }

    #[test]
    fn a_saved_response_is_a_browser_and_skips_the_cache() {
        let home = Home::new(CONFIG);
        let saved = home.dir.path().join("saved.b64");
        let run = section(
            home.resolve(&[
                "--saml-response-file",
                saved.to_str().unwrap(),
                "--save-cookies",
                "jar.txt",
                "aws-assume-role",
                "--show",
            ])
            .unwrap(),
        );
        let login = run.login.unwrap();
        assert!(matches!(&login.browser, BrowserSetup::Saved(p) if *p == saved));
        assert_eq!(login.save_cookies, None);
        assert!(!run.use_assertion_cache);
        assert!(matches!(run.task, Task::Show));
    }

    #[test]
    fn flags_the_browser_cannot_honour_are_refused_and_commands_without_login_need_none() {
        let home = Home::new(CONFIG);
        let e = home
            .resolve(&["--system-browser", "--cookies", "jar.txt", "get-token"])
            .err()
            .unwrap();
        assert_eq!(e.to_string(), "--cookies is for --headless");
        let run = section(home.resolve(&["--cookies", "jar.txt", "logout"]).unwrap());
        assert!(run.login.is_none());
        let mut home = Home::new(CONFIG);
        home.vars.insert("SHELL", "/usr/bin/fish".into());
        let run = section(home.resolve(&["--browser", "system", "env"]).unwrap());
        assert!(matches!(run.task, Task::Env(EnvShell::Fish)));
        assert!(matches!(
            run.login.map(|l| l.browser),
            Some(BrowserSetup::System { open: true })
        ));
    }
}
