//! The one resolver of `saml-login`: the parsed command line, the environment and the
//! files (configuration, account aliases, cookie jar) become a complete [`Plan`]
//! ([`crate::config::plan`]), through the configuration's layers, keys and settings.
//! Nothing after it reads a raw flag or an environment variable.

use std::ffi::OsString;
use std::path::PathBuf;

use crate::aws::federation::ConsoleEnv;
use crate::cli::{Cli, Command, LogoutArgs};
use crate::config::accounts::Accounts;
use crate::config::browser_kind::MachineFiles;
use crate::config::browser_setup::{BrowserInputs, LoginSetup};
use crate::config::console_target::{ConsoleTarget, IdentitySetting};
use crate::config::headless_mode::HeadlessMode;
use crate::config::keys::{Key, Tool};
use crate::config::paths::Paths;
use crate::config::plan::{EnvShell, Job, Plan, Run, ServeSetup, Task, WithCredentials};
use crate::config::{DEFAULT_SECTION, IniFile, Overrides, Settings};
use crate::error::{Error, Result};
use crate::storage::cache::CREDENTIALS_MARGIN;
use crate::storage::secret_store::CacheChoice;

/// Test-only: renew this many seconds before expiry instead of [`CREDENTIALS_MARGIN`].
const MARGIN_VAR: &str = "SAML_LOGIN_TEST_REFRESH_MARGIN";

impl ServeSetup {
    fn of_exec(command: Vec<OsString>, env: &dyn Fn(&str) -> Option<String>) -> Self {
        Self {
            command: Some(command),
            bind: (std::net::Ipv4Addr::LOCALHOST, 0).into(),
            env_file: None,
            refresh_margin: refresh_margin(env),
        }
    }

    fn of_serve(a: &crate::cli::ServeArgs, env: &dyn Fn(&str) -> Option<String>) -> Self {
        let ip = if a.all_interfaces {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        } else {
            a.address.unwrap_or(std::net::Ipv4Addr::LOCALHOST.into())
        };
        Self {
            command: None,
            bind: (ip, a.port).into(),
            env_file: a.env_file.clone(),
            refresh_margin: refresh_margin(env),
        }
    }
}

fn refresh_margin(env: &dyn Fn(&str) -> Option<String>) -> time::Duration {
    env(MARGIN_VAR)
        .and_then(|v| v.parse::<i64>().ok())
        .map_or(CREDENTIALS_MARGIN, time::Duration::seconds)
}

/// `serve --address`: an unspecified address (every interface) only through
/// `--all-interfaces`, so that none is opened by accident.
fn check_serve_address(a: &crate::cli::ServeArgs) -> Result<()> {
    match a.address {
        Some(ip) if ip.is_unspecified() => Err(Error::Usage(format!(
            "--address {ip} listens on every interface: say --all-interfaces if that is meant"
        ))),
        _ => Ok(()),
    }
}

/// Resolve the command line `cli` with the environment `env`.
pub(crate) fn resolve(cli: Cli, env: &dyn Fn(&str) -> Option<String>) -> Result<Plan> {
    resolve_on(cli, env, &MachineFiles::this_machine())
}

/// [`resolve`], with `machine` the files that say whether this is WSL or a container.
pub(crate) fn resolve_on(
    cli: Cli,
    env: &dyn Fn(&str) -> Option<String>,
    machine: &MachineFiles,
) -> Result<Plan> {
    let overrides = overrides(&cli, env);
    let Cli { global, command } = cli;
    let login_args = global.login;
    let config = login_args.config_file(env);
    let paths = || Paths::resolve(config.clone(), env);
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
    if matches!(command, Command::Logout(_))
        && !paths.config_explicit
        && login_args.idp_url.is_none()
        && global.login_url.is_none()
        && env("SAML_LOGIN_IDP_URL").is_none()
        && env("SAML_LOGIN_LOGIN_URL").is_none()
        && !paths.config.exists()
    {
        return Ok(Plan::LogoutNoConfig(paths.config));
    }
    note_config_in_working_directory(&paths);
    // The network settings (proxies, added CAs, timeouts) serve every command below.
    crate::config::network::install(
        env,
        &overrides,
        &IniFile::load(&paths.config, false).unwrap_or_default(),
        &login_args.configuration,
        &paths,
    )?;
    let shell = |chosen: Option<EnvShell>| {
        // `$SHELL`'s kind, else sh (PowerShell on Windows).
        chosen.unwrap_or_else(|| {
            env("SHELL").map_or_else(EnvShell::platform_default, |shell| {
                let kind = EnvShell::of_shell_path(Some(&shell));
                if kind == EnvShell::Sh && !is_sh_like(&shell) {
                    crate::output::warning!(
                        "SHELL is {shell}, whose syntax env does not print; printing sh syntax (choose one with --shell)"
                    );
                }
                kind
            })
        })
    };
    // `--profile P`: an AWS config profile, whatever saml-login section it ends in.
    let profile_request = match command {
        Command::Exec(a) if a.profile.is_some() => {
            let then = if a.server {
                WithCredentials::Serve(ServeSetup::of_exec(a.command, env))
            } else {
                WithCredentials::Exec(a.command)
            };
            Ok((a.profile, a.fresh.force, then))
        }
        Command::Serve(a) if a.profile.is_some() => {
            check_serve_address(&a)?;
            let then = WithCredentials::Serve(ServeSetup::of_serve(&a, env));
            Ok((a.profile, a.fresh.force, then))
        }
        Command::Env(a) if a.profile.is_some() => Ok((
            a.profile,
            a.fresh.force,
            WithCredentials::Export(shell(a.shell)),
        )),
        other => Err(other),
    };
    let command = match profile_request {
        Ok((profile, force, then)) => {
            return Ok(Plan::Profile {
                cache: unsectioned_cache(&paths, &overrides)?,
                paths,
                profile: profile.unwrap_or_default(),
                force,
                then,
            });
        }
        Err(command) => command,
    };
    let (force, task, may_log_in) = match command {
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
            Task::Console(ConsoleTarget {
                service: a.console.service,
                destination: a.console.destination,
                print: a.console.print,
                logout: a.console.logout,
                identity: IdentitySetting::default(),
            }),
            false,
        ),
        Command::CredentialProcess(a) => (a.fresh.force, Task::CredentialProcess, true),
        Command::Exec(a) if a.server => (
            a.fresh.force,
            Task::Serve(ServeSetup::of_exec(a.command, env)),
            true,
        ),
        Command::Exec(a) => (a.fresh.force, Task::Exec(a.command), true),
        Command::Serve(a) => {
            check_serve_address(&a)?;
            (
                a.fresh.force,
                Task::Serve(ServeSetup::of_serve(&a, env)),
                true,
            )
        }
        Command::Status(a) => {
            return Ok(Plan::Status {
                paths,
                json: a.json,
            });
        }
        Command::Env(a) => (a.fresh.force, Task::Env(shell(a.shell)), true),
        Command::Configure(a) => (a.force, Task::Configure { dry_run: a.dry_run }, true),
        Command::Logout(_) => (false, Task::Logout, false),
        Command::Doctor => (false, Task::Doctor, false),
        Command::Completions { .. } | Command::Man | Command::Sections => {
            unreachable!("resolved above")
        }
    };
    let section = login_args.configuration.as_str();
    crate::config::env_check::warn_unknown_variables();
    let file = IniFile::load(&paths.config, paths.config_explicit)?;
    for warning in file.unknown_keys(section, Tool::SamlLogin) {
        crate::output::warning!("{warning}");
    }
    let settings = Settings::resolve(&file, section, &overrides)?;
    let mut task = task;
    if let Task::Console(target) = &mut task {
        target.identity = settings.console_identity.clone();
    }
    let accounts = Accounts::load(&paths.accounts)?;
    let names_one_role = settings.aws_account.is_some() && settings.aws_role.is_some();
    let pinned_role = names_one_role
        && matches!(
            task,
            Task::AssumeRole { .. }
                | Task::CredentialProcess
                | Task::Exec(_)
                | Task::Env(_)
                | Task::Serve(_)
        );
    let login = if may_log_in {
        Some(LoginSetup::resolve(
            BrowserInputs {
                args: login_args.browser.flags(),
                saved_response: global.saml_response_file.as_deref(),
                kind: settings.shared.browser,
                cookies: settings.shared.cookies.as_ref(),
                chrome: settings.shared.chrome.as_ref(),
                headless_mode: settings.headless_mode,
                webview_profile: saml_login_capture::webview::profile_dir_for(
                    &paths.data,
                    &settings.start_url(),
                ),
                machine,
            },
            env,
        )?)
    } else {
        None
    };
    Ok(Plan::Section(Box::new(Run {
        job: Job {
            use_assertion_cache: !global.no_cache && global.saml_response_file.is_none(),
            settings,
            accounts,
            paths,
            login,
            force,
            pinned_role,
            check_response: !matches!(task, Task::GetToken),
            console_env: ConsoleEnv::resolve(env),
        },
        task,
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
    o.flag(Key::IdpUrl, l.idp_url.clone());
    o.flag(Key::ClientId, l.client_id.clone());
    o.flag(Key::LoginUrl, g.login_url.clone());
    o.flag(Key::CallbackUrl, g.callback_url.clone());
    o.flag(Key::ListenPort, l.listen_port.clone());
    o.flag(Key::RoleDuration, g.role_duration.clone());
    o.flag(Key::Region, g.region.clone());
    o.flag(Key::Timeout, l.timeout.clone());
    o.flag(Key::CaBundle, l.ca_bundle.clone());
    o.flag(Key::Cache, g.cache.clone());
    o.flag(Key::HeadlessMode, g.headless_mode.map(HeadlessMode::name));
    browser_overrides(&l.browser, &mut o);
    match &cli.command {
        Command::AwsAssumeRole(a) => {
            o.flag(Key::AwsAccount, a.account.clone());
            o.flag(Key::AwsRole, a.role.clone());
            o.flag(Key::AwsProfile, a.profile.clone());
            if !a.policy_arns.is_empty() {
                o.flag(Key::PolicyArns, Some(a.policy_arns.join("\n")));
            }
            o.flag(Key::InlinePolicy, a.inline_policy.clone());
            if a.open_console {
                o.flag(Key::AwsConsole, Some("true".into()));
            } else if a.no_open_console {
                o.flag_as(Key::AwsConsole, "--no-open-console", Some("false".into()));
            }
        }
        Command::AwsConsole(a) => {
            o.flag(Key::AwsProfile, a.profile.clone());
            a.console.overrides(&mut o);
        }
        Command::CredentialProcess(a) => role_overrides(&a.role, &mut o),
        Command::Exec(a) => role_overrides(&a.role, &mut o),
        Command::Env(a) => role_overrides(&a.role, &mut o),
        _ => {}
    }
    o
}

/// A shell that reads sh's `export NAME='value'` lines.
fn is_sh_like(path: &str) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or_default();
    matches!(
        name,
        "sh" | "dash" | "ash" | "ksh" | "mksh" | "oksh" | "yash" | "busybox"
    )
}

/// `--account` and `--role` of credential-process, exec and env.
fn role_overrides(args: &crate::cli::RoleArgs, o: &mut Overrides) {
    o.flag(Key::AwsAccount, args.account.clone());
    o.flag(Key::AwsRole, args.role.clone());
}

/// The settings the browser flags give (`browser`, `cookies`, `chrome`), for both tools.
pub(crate) fn browser_overrides(args: &crate::cli::login_args::BrowserArgs, o: &mut Overrides) {
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    o.flag(Key::Chrome, path(&args.chrome));
    o.flag(Key::Cookies, path(&args.cookies));
    o.flag(
        Key::Browser,
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
        crate::output::note!(
            "not reading ./.saml-login (a file in the working directory could point the login at any page); to use it: --config ./.saml-login"
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
            let nowhere = MachineFiles {
                wsl_interop: self.dir.path().join("WSLInterop"),
                container_markers: vec![self.dir.path().join(".dockerenv")],
            };
            resolve_on(cli, &|k: &str| self.vars.get(k).cloned(), &nowhere)
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
        }) = run.job.login
        else {
            panic!("not headless: {:?}", run.job.login);
        };
        assert_eq!(cookies.len(), 1);
        assert_eq!(login.map(|(user, _)| user).as_deref(), Some("robot"));
        assert!(run.job.pinned_role && run.job.use_assertion_cache && !run.job.force);
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
        let login = run.job.login.unwrap();
        assert!(matches!(&login.browser, BrowserSetup::Saved(p) if *p == saved));
        assert_eq!(login.save_cookies, None);
        assert!(!run.job.use_assertion_cache);
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
        assert!(run.job.login.is_none());
        let mut home = Home::new(CONFIG);
        home.vars.insert("SHELL", "/usr/bin/fish".into());
        let run = section(home.resolve(&["--browser", "system", "env"]).unwrap());
        assert!(matches!(run.task, Task::Env(EnvShell::Fish)));
        assert!(matches!(
            run.job.login.map(|l| l.browser),
            Some(BrowserSetup::System {
                open: saml_login_system::Open::Browser
            })
        ));
    }

    fn system_open(home: &Home, args: &[&str]) -> saml_login_system::Open {
        match section(home.resolve(args).unwrap())
            .job
            .login
            .map(|l| l.browser)
        {
            Some(BrowserSetup::System { open }) => open,
            other => panic!("not the system browser: {other:?}"),
        }
    }

    /// `--no-browser`, `--browser none`, `SAML_LOGIN_BROWSER=none` and `browser = none`
    /// print the URL; over SSH with no display the system browser does so by itself,
    /// saying why, and names the host; WSL opens Windows' browser; a display or a
    /// `BROWSER` keeps today's choice.
    #[test]
    fn where_the_shell_runs_decides_how_the_login_opens() {
        use saml_login_system::{Open, PrintUrl};
        let plain = PrintUrl::default();
        let home = Home::new(CONFIG);
        for args in [
            &["--no-browser", "get-token"][..],
            &["--browser", "none", "get-token"],
            &["--no-open", "get-token"],
        ] {
            assert_eq!(
                system_open(&home, args),
                Open::PrintUrl(plain.clone()),
                "{args:?}"
            );
        }
        let mut env_home = Home::new(CONFIG);
        env_home.vars.insert("SAML_LOGIN_BROWSER", "none".into());
        assert_eq!(
            system_open(&env_home, &["get-token"]),
            Open::PrintUrl(plain.clone())
        );
        let ini_home = Home::new(&format!(
            "{CONFIG}browser = none
"
        ));
        assert_eq!(
            system_open(&ini_home, &["get-token"]),
            Open::PrintUrl(plain.clone())
        );

        let mut ssh = Home::new(CONFIG);
        ssh.vars
            .insert("SSH_CONNECTION", "192.0.2.9 40000 203.0.113.5 22".into());
        let Open::PrintUrl(print) = system_open(&ssh, &["--system-browser", "get-token"]) else {
            panic!("not printed")
        };
        assert!(
            print
                .reason
                .unwrap()
                .starts_with("over SSH without a display")
        );
        assert_eq!(print.ssh_host.as_deref(), Some("203.0.113.5"));
        ssh.vars.insert("DISPLAY", "localhost:10.0".into());
        assert_eq!(
            system_open(&ssh, &["--system-browser", "get-token"]),
            Open::Browser
        );

        // WSL is a Linux that Windows runs: a Windows program that sees its variables
        // (they pass through to Windows programs started from WSL) opens its own
        // browser (found by running this test under Wine, issue 33).
        let mut wsl = Home::new(CONFIG);
        wsl.vars.insert("WSL_DISTRO_NAME", "Debian".into());
        assert_eq!(
            system_open(&wsl, &["--system-browser", "get-token"]),
            if cfg!(target_os = "linux") {
                Open::Windows
            } else {
                Open::Browser
            }
        );
        wsl.vars.insert("BROWSER", "wslview".into());
        assert_eq!(
            system_open(&wsl, &["--system-browser", "get-token"]),
            Open::Browser
        );
        assert_eq!(
            system_open(&home, &["--system-browser", "get-token"]),
            Open::Browser
        );
        // The marker files, as the resolver is given them (read on Linux only).
        if !cfg!(target_os = "linux") {
            return;
        }
        std::fs::write(home.dir.path().join(".dockerenv"), "").unwrap();
        let Open::PrintUrl(print) = system_open(&home, &["--system-browser", "get-token"]) else {
            panic!("not printed in a container")
        };
        assert!(print.reason.unwrap().contains("container"));
        std::fs::write(home.dir.path().join("WSLInterop"), "").unwrap();
        if cfg!(target_os = "linux") {
            assert_eq!(
                system_open(&home, &["--system-browser", "get-token"]),
                Open::Windows
            );
        }
    }
}
