//! The command line: parsed by clap with no I/O; `app` resolves it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::browser::BrowserKind;

const EXAMPLES: &str = "\
Examples:
  saml-login aws-assume-role --show                    list the roles granted to you
  saml-login -c dev aws-assume-role                    account, role, profile from [dev]
  saml-login aws-assume-role --account prod --role Admin --profile prod-admin
  saml-login --headless --cookies jar.txt get-token    unattended, with a stored session
  saml-login --saml-response-file saved.b64 aws-assume-role --show

Configuration: ~/.saml-login (ini; -c SECTION, keys inherit [DEFAULT]),
account aliases: ~/.aws-accounts, credentials: ~/.aws/credentials.";

/// Turn an Auth0 (SAML) login into temporary AWS credentials.
#[derive(Debug, Parser)]
#[command(name = "saml-login", version, after_help = EXAMPLES, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,

    #[command(subcommand)]
    pub command: Command,
}

/// The command line as parsed and as its help, completions and manual page show it:
/// each option that sets a configuration key names its `SAML_LOGIN_*` variable, and
/// the commands that do not log in show only the options they use.
pub fn command() -> clap::Command {
    let cmd = with_setting_env(<Cli as clap::CommandFactory>::command());
    // A subcommand that has an argument of a global's name does not get the global:
    // these get hidden copies, so their help shows only what they use.
    let globals: Vec<clap::Arg> = cmd
        .get_arguments()
        .filter(|a| a.is_global_set())
        .cloned()
        .collect();
    let own_only: [(&str, &[&str]); 4] = [
        ("completions", &[]),
        ("man", &[]),
        ("__sections", &["configuration", "config"]),
        ("logout", &["configuration", "config", "verbose"]),
    ];
    own_only.into_iter().fold(cmd, |cmd, (name, keep)| {
        cmd.mut_subcommand(name, |sc| {
            sc.args(
                globals
                    .iter()
                    .filter(|a| !keep.contains(&a.get_id().as_str()))
                    .map(|a| a.clone().hide(true)),
            )
        })
    })
}

/// `[env: SAML_LOGIN_KEY]` after the help of every option whose help says
/// "(setting `key`": the variable is read for each key of [`crate::config::KEYS`].
fn with_setting_env(cmd: clap::Command) -> clap::Command {
    let cmd = cmd.mut_args(|a| {
        let Some(help) = a.get_help().map(ToString::to_string) else {
            return a;
        };
        match crate::config::KEYS
            .iter()
            .find(|k| help.contains(&format!("setting `{k}`")))
        {
            Some(key) => a.help(format!(
                "{help} [env: SAML_LOGIN_{}]",
                key.to_ascii_uppercase()
            )),
            None => a,
        }
    });
    cmd.mut_subcommands(with_setting_env)
}

/// The heading of the options that choose and read the configuration.
pub const CONFIGURATION_HEADING: &str = "Configuration";
/// The heading of the options that say where and how to log in.
pub const LOGIN_HEADING: &str = "Login";
/// The heading of the browser options.
pub const BROWSER_HEADING: &str = "Browser";

#[derive(Debug, Args)]
pub struct Global {
    /// The Auth0 tenant URL (setting `idp_url`)
    #[arg(long, value_name = "URL", global = true, help_heading = LOGIN_HEADING)]
    pub idp_url: Option<String>,

    /// The Auth0 application's client id (setting `client_id`)
    #[arg(long, value_name = "ID", global = true, help_heading = LOGIN_HEADING)]
    pub client_id: Option<String>,

    /// The page that starts the login, for any IdP's IdP-initiated URL (setting
    /// `login_url`; default {idp_url}/samlp/{client_id})
    #[arg(long, value_name = "URL", global = true, help_heading = LOGIN_HEADING)]
    pub login_url: Option<String>,

    /// Where the IdP posts the response: a URL, or `aws` for every AWS sign-in endpoint
    /// (setting `callback_url`; default http://localhost:{listen_port}/saml)
    #[arg(long, value_name = "URL|aws", global = true, help_heading = LOGIN_HEADING)]
    pub callback_url: Option<String>,

    /// Loopback port of the callback http://localhost:PORT/saml (setting `listen_port`)
    #[arg(long, value_name = "PORT", global = true, help_heading = LOGIN_HEADING)]
    pub listen_port: Option<String>,

    /// Session duration in seconds (setting `role_duration`)
    #[arg(long, value_name = "SECONDS", global = true, help_heading = LOGIN_HEADING)]
    pub role_duration: Option<String>,

    /// The AWS region for STS (setting `region`)
    #[arg(long, value_name = "REGION", global = true, help_heading = LOGIN_HEADING)]
    pub region: Option<String>,

    /// Give up on the login after SECONDS (setting `timeout`, default 300)
    #[arg(long, value_name = "SECONDS", global = true, help_heading = LOGIN_HEADING)]
    pub timeout: Option<String>,

    /// Take the SAMLResponse (base64) from FILE, or `-` for stdin, instead of logging in
    #[arg(long, value_name = "FILE", global = true, help_heading = LOGIN_HEADING)]
    pub saml_response_file: Option<PathBuf>,

    /// Neither reuse nor keep the last SAML assertion (one login serves several roles
    /// while it is valid)
    #[arg(long, global = true, help_heading = LOGIN_HEADING)]
    pub no_cache: bool,

    #[command(flatten)]
    pub browser: BrowserArgs,

    /// The section of ~/.saml-login to use (keys inherit [DEFAULT])
    #[arg(
        short = 'c',
        long,
        value_name = "SECTION",
        default_value = "DEFAULT",
        global = true,
        help_heading = CONFIGURATION_HEADING
    )]
    pub configuration: String,

    /// Read the configuration from FILE instead of ~/.saml-login
    #[arg(long, value_name = "FILE", env = "SAML_LOGIN_CONFIG", global = true, help_heading = CONFIGURATION_HEADING)]
    pub config: Option<PathBuf>,

    /// Trace what happens on stderr (secrets stay redacted)
    #[arg(long, global = true, help_heading = CONFIGURATION_HEADING)]
    pub verbose: bool,
}

/// How to log in: the browser and its options (shared with `pkce-login`).
#[derive(Debug, Args)]
#[command(next_help_heading = BROWSER_HEADING)]
pub struct BrowserArgs {
    /// How to log in (setting `browser`)
    #[arg(long, value_name = "KIND", global = true)]
    pub browser: Option<BrowserKind>,

    /// Log in in saml-login's own window (same as --browser webview)
    #[arg(long, global = true, conflicts_with_all = ["browser", "headless", "system_browser"])]
    pub webview: bool,

    /// Log in with headless Chromium (same as --browser headless)
    #[arg(long, global = true, conflicts_with_all = ["browser", "system_browser"])]
    pub headless: bool,

    /// Log in with the default browser and a loopback callback (same as --browser system)
    #[arg(long, global = true, conflicts_with = "browser")]
    pub system_browser: bool,

    /// System browser: print the login URL instead of opening a browser
    #[arg(long, global = true)]
    pub no_open: bool,

    /// Headless: the Chromium binary (setting `chrome`; default: CHROME, then a headless shell, then full Chromium or Chrome)
    #[arg(long, value_name = "PATH", global = true)]
    pub chrome: Option<PathBuf>,

    /// Headless: a cookie jar (cookies.txt or JSON) with the IdP session (setting `cookies`)
    #[arg(long, value_name = "FILE", global = true)]
    pub cookies: Option<PathBuf>,

    /// After a successful login, write the IdP's cookies to FILE (mode 0600)
    #[arg(long, value_name = "FILE", global = true)]
    pub save_cookies: Option<PathBuf>,

    /// Headless: show the Chromium window (first login, debugging)
    #[arg(long, global = true)]
    pub show_browser: bool,

    /// Webview: use a throwaway profile instead of the remembered session
    #[arg(long, visible_alias = "private", global = true)]
    pub fresh: bool,
}

impl BrowserArgs {
    /// The browser chosen on the command line, if any.
    pub fn choice(&self) -> Option<BrowserKind> {
        if self.webview {
            Some(BrowserKind::Webview)
        } else if self.headless {
            Some(BrowserKind::Headless)
        } else if self.system_browser {
            Some(BrowserKind::System)
        } else {
            self.browser
        }
    }

    /// The settings these flags give (`browser`, `cookies`, `chrome`).
    pub fn add_overrides(&self, o: &mut crate::config::Overrides) {
        o.flag(
            "chrome",
            "--chrome",
            self.chrome.as_ref().map(|p| p.display().to_string()),
        );
        o.flag(
            "cookies",
            "--cookies",
            self.cookies.as_ref().map(|p| p.display().to_string()),
        );
        o.flag(
            "browser",
            "--browser",
            self.choice()
                .and_then(|b| clap::ValueEnum::to_possible_value(&b))
                .map(|v| v.get_name().to_owned()),
        );
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Log in and print the raw SAMLResponse (base64) on stdout
    #[command(after_help = "\
Examples:
  saml-login get-token > response.b64                  keep a response to debug the IdP
  saml-login -c okta --headless get-token              another section, headless Chromium
  saml-login --saml-response-file response.b64 aws-assume-role --show")]
    GetToken,

    /// Log in, assume an AWS role with the SAML assertion, and store the credentials
    ///
    /// As the assertion may grant several roles, say which one with --account and
    /// --role (or aws_account and aws_role in the section), and where to store the
    /// keys with --profile. --show lists the roles granted, as configuration sections.
    #[command(after_help = "\
Examples:
  saml-login aws-assume-role --show                    list the roles granted to you
  saml-login -c dev aws-assume-role                    account, role, profile from [dev]
  saml-login aws-assume-role --account prod --role Admin --profile prod-admin -C
  saml-login aws-assume-role --all                     every granted role, one profile each")]
    AwsAssumeRole(AssumeRoleArgs),

    /// Open the AWS console with a profile's credentials
    #[command(after_help = "\
Examples:
  saml-login aws-console --profile dev                 open the console of profile dev
  saml-login aws-console --profile dev --destination s3
  saml-login aws-console --profile dev --print         print the sign-in URL instead")]
    AwsConsole(ConsoleArgs),

    /// Print credentials as the AWS SDKs' `credential_process` reads them (JSON)
    ///
    /// Served from a cache (per section and role) while more than 10 minutes remain;
    /// otherwise logs in with the configured browser. Configure it in ~/.aws/config:
    ///
    ///   [profile dev]
    ///   credential_process = saml-login -c dev credential-process
    #[command(after_help = "\
Examples:
  saml-login -c dev credential-process                 the JSON the AWS SDKs read
  saml-login -c dev credential-process --force         log in again, whatever is cached
  saml-login -c work credential-process --account prod --role Admin
                                                       one section for every role (configure)")]
    CredentialProcess(CredentialProcessArgs),

    /// Run COMMAND with the role's credentials in its environment
    ///
    /// Sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
    /// AWS_CREDENTIAL_EXPIRATION and AWS_REGION (when known); passes its exit status on
    /// (127: command not found, 126: not executable).
    ///
    /// The keys are also kept in saml-login's cache (~/.cache/saml-login, mode 0600)
    /// until they expire, as for credential-process: they are on disk. `saml-login
    /// logout` removes them.
    #[command(after_help = "\
Examples:
  saml-login -c dev exec -- aws s3 ls                  one command with the role's keys
  saml-login -c prod exec -- terraform plan
  saml-login -c dev exec --force -- aws sts get-caller-identity")]
    Exec(ExecArgs),

    /// Print shell commands that export the role's credentials
    ///
    /// The keys are also kept in saml-login's cache (~/.cache/saml-login, mode 0600)
    /// until they expire, as for credential-process: they are on disk. `saml-login
    /// logout` removes them.
    #[command(after_help = "\
Examples:
  eval \"$(saml-login -c dev env)\"                       sh, bash, zsh
  saml-login -c dev env --shell fish | source
  saml-login -c dev env --shell powershell | Invoke-Expression")]
    Env(EnvArgs),

    /// Write one AWS profile per granted role into ~/.aws/config
    ///
    /// Each profile gets `credential_process = saml-login -c SECTION credential-process
    /// --account A --role R` and the section's region. They live in one block marked by
    /// comments; everything outside it is kept byte for byte; roles no longer granted
    /// are removed from the block.
    #[command(after_help = "\
Examples:
  saml-login -c work configure                         then: aws --profile Admin@prod s3 ls
  saml-login -c work configure --dry-run               show the change as a diff
  saml-login -c work configure --force                 log in again for the current grants")]
    Configure(ConfigureArgs),

    /// Forget a login: the cached SAML assertion and keys, and the remembered webview
    /// session of the section's IdP (--all: of every IdP)
    ///
    /// Credentials already written to ~/.aws/credentials stay; they expire on their own.
    #[command(after_help = "\
Examples:
  saml-login logout                                    the IdP of [DEFAULT]
  saml-login -c okta logout                            the IdP of [okta]
  saml-login logout --all                              every IdP")]
    Logout(LogoutArgs),

    /// Print a shell completion script (completes -c with the configuration's sections)
    #[command(after_help = "\
Examples:
  saml-login completions bash > ~/.local/share/bash-completion/completions/saml-login
  saml-login completions zsh > \"${fpath[1]}/_saml-login\"
  saml-login completions fish > ~/.config/fish/completions/saml-login.fish")]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },

    /// Print the manual page (roff)
    #[command(after_help = "\
Examples:
  saml-login man | man -l -                             read it now
  saml-login man > ~/.local/share/man/man1/saml-login.1")]
    Man,

    /// The configuration's section names, one a line (for shell completion)
    #[command(name = "__sections", hide = true)]
    Sections,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Forget the logins of every IdP
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Args)]
pub struct FreshArgs {
    /// Log in again even if cached credentials are still valid
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    #[command(flatten)]
    pub fresh: FreshArgs,

    /// The AWS account number or alias (setting `aws_account`)
    #[arg(long)]
    pub account: Option<String>,

    /// The role name to assume (setting `aws_role`)
    #[arg(long)]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConfigureArgs {
    /// Log in again instead of using the cached assertion
    #[arg(long)]
    pub force: bool,

    /// Print the change to ~/.aws/config as a diff instead of writing it
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    #[command(flatten)]
    pub fresh: FreshArgs,

    /// Take the credentials of this AWS config profile (a `credential_process`
    /// profile, or a `role_arn` + `source_profile` chain on top of one)
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// The command and its arguments
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(flatten)]
    pub fresh: FreshArgs,

    /// Take the credentials of this AWS config profile (see `exec --profile`)
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// The shell syntax (default: the kind of $SHELL, else sh; PowerShell on Windows)
    #[arg(long, value_enum)]
    pub shell: Option<EnvShell>,
}

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
    /// The kind of the shell at `path` (`$SHELL`, `/` or `\` separated): `/usr/bin/fish` is fish; anything
    /// not known is `sh`.
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
}

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// The profile whose credentials open the console (setting `aws_profile`)
    #[arg(long)]
    pub profile: Option<String>,

    /// Where the console opens: an https URL, or a service name such as `s3`
    #[arg(long, value_name = "URL_OR_SERVICE")]
    pub destination: Option<String>,

    /// Print the sign-in URL on stdout instead of opening a browser
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, Args)]
pub struct AssumeRoleArgs {
    /// The AWS account number or alias (setting `aws_account`)
    #[arg(long)]
    pub account: Option<String>,

    /// The role name to assume (setting `aws_role`)
    #[arg(long)]
    pub role: Option<String>,

    /// The profile to store the credentials under (setting `aws_profile`)
    #[arg(long)]
    pub profile: Option<String>,

    /// Print the roles granted to you, one configuration section each
    #[arg(long)]
    pub show: bool,

    /// Open the AWS console after the credentials are stored (setting `aws_console`)
    #[arg(short = 'C', long)]
    pub open_console: bool,

    /// Do not open the AWS console, whatever `aws_console` says
    #[arg(long, conflicts_with = "open_console")]
    pub no_open_console: bool,

    /// A managed policy ARN limiting the session (repeatable; setting `policy_arns`)
    #[arg(long = "policy-arn", value_name = "ARN")]
    pub policy_arns: Vec<String>,

    /// A JSON policy limiting the session (setting `inline_policy`)
    #[arg(long, value_name = "JSON")]
    pub inline_policy: Option<String>,

    /// Assume every granted role, one profile each (`Role@alias`), from one login
    #[arg(long, conflicts_with_all = ["show", "account", "role", "profile"])]
    pub all: bool,

    /// Log in even if the stored profile is valid for more than 10 minutes
    #[arg(long)]
    pub force: bool,

    /// Console: where it opens (with -C)
    #[arg(long, value_name = "URL_OR_SERVICE")]
    pub destination: Option<String>,
}
