//! The `saml-login` command line: parsed by clap with no I/O;
//! [`resolve`] turns it into what a run does; [`run`] drives saml-login.

pub(crate) mod completions;
pub mod console;
pub(crate) mod login_args;
pub(crate) mod man_page;
pub mod pkce;
pub(crate) mod resolve;
pub(crate) mod run;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::cli::login_args::{BROWSER_HEADING, CONFIGURATION_HEADING, LOGIN_HEADING, LoginArgs};
use crate::config::headless_mode::HeadlessMode;
use crate::config::keys::{Key, Tool};
use crate::config::plan::EnvShell;

const EXAMPLES: &str = "\
Examples:
  saml-login aws-assume-role --show                    list the roles granted to you
  saml-login -c dev aws-assume-role                    account, role, profile from [dev]
  saml-login aws-assume-role --account prod --role Admin --profile prod-admin
  saml-login --headless --cookies jar.txt get-token    unattended, with a stored session
  saml-login --saml-response-file saved.b64 aws-assume-role --show
  saml-login --no-browser aws-assume-role              over SSH: print the URL and the ssh -L to run

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
    let own_only: [(&str, &[&str]); 5] = [
        ("completions", &[]),
        ("man", &[]),
        ("__sections", &["configuration", "config"]),
        ("logout", &["configuration", "config", "verbose"]),
        ("status", &["config", "verbose"]),
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
/// "(setting `key`", for each key of the key table that has a variable.
fn with_setting_env(cmd: clap::Command) -> clap::Command {
    let cmd = cmd.mut_args(|a| {
        let Some(help) = a.get_help().map(ToString::to_string) else {
            return a;
        };
        match Key::read_by_tool(Tool::SamlLogin)
            .find(|k| help.contains(&format!("setting `{k}`")))
            .and_then(Key::env_var)
        {
            Some(var) => a.help(format!("{help} [env: {var}]")),
            None => a,
        }
    });
    cmd.mut_subcommands(with_setting_env)
}

/// saml-login's global flags: the login flags both tools share, and its own.
#[derive(Debug, Args)]
pub struct Global {
    #[command(flatten)]
    pub login: LoginArgs,

    /// The page that starts the login, for any IdP's IdP-initiated URL (setting
    /// `login_url`; default {idp_url}/samlp/{client_id})
    #[arg(long, value_name = "URL", global = true, help_heading = LOGIN_HEADING)]
    pub login_url: Option<String>,

    /// Where the IdP posts the response: a URL, or `aws` for every AWS sign-in endpoint
    /// (setting `callback_url`; default http://localhost:{listen_port}/saml)
    #[arg(long, value_name = "URL|aws", global = true, help_heading = LOGIN_HEADING)]
    pub callback_url: Option<String>,

    /// Session duration in seconds (setting `role_duration`)
    #[arg(long, value_name = "SECONDS", global = true, help_heading = LOGIN_HEADING)]
    pub role_duration: Option<String>,

    /// The AWS region for STS (setting `region`)
    #[arg(long, value_name = "REGION", global = true, help_heading = LOGIN_HEADING)]
    pub region: Option<String>,

    /// Take the SAMLResponse (base64) from FILE, or `-` for stdin, instead of logging in
    #[arg(long, value_name = "FILE", global = true, help_heading = LOGIN_HEADING)]
    pub saml_response_file: Option<PathBuf>,

    /// Neither reuse nor keep the last SAML assertion (one login serves several roles
    /// while it is valid)
    #[arg(long, global = true, help_heading = LOGIN_HEADING)]
    pub no_cache: bool,

    /// Where the caches keep keys, session tokens and assertions: auto (the OS keyring
    /// when one answers, else 0600 files), keyring, file (setting `cache`)
    #[arg(long, value_name = "auto|keyring|file", global = true, help_heading = CONFIGURATION_HEADING)]
    pub cache: Option<String>,

    /// Headless with a cookie jar: auto (one plain HTTP request first, Chromium only when
    /// the session is not enough), http (never a browser), chromium (setting
    /// `headless_mode`, default auto)
    #[arg(long, value_name = "MODE", global = true, help_heading = BROWSER_HEADING)]
    pub headless_mode: Option<HeadlessMode>,
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
    #[command(
        verbatim_doc_comment,
        after_help = "\
Examples:
  saml-login -c dev credential-process                 the JSON the AWS SDKs read
  saml-login -c dev credential-process --force         log in again, whatever is cached
  saml-login -c work credential-process --account prod --role Admin
                                                       one section for every role (configure)"
    )]
    CredentialProcess(CredentialProcessArgs),

    /// Run COMMAND with the role's credentials in its environment
    ///
    /// Sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
    /// AWS_CREDENTIAL_EXPIRATION, and AWS_REGION and AWS_DEFAULT_REGION (when known);
    /// passes its exit status on (127: command not found, 126: not executable).
    /// SIGTERM, SIGINT and SIGHUP are passed to the command, which ends with saml-login.
    ///
    /// The keys are also kept in saml-login's cache until they expire, as for
    /// credential-process: in the OS keyring where one answers; where none does, they
    /// are on disk (~/.cache/saml-login, mode 0600; setting `cache`). `saml-login
    /// logout` removes them.
    #[command(after_help = "\
Examples:
  saml-login -c dev exec -- aws s3 ls                  one command with the role's keys
  saml-login -c prod exec -- terraform plan
  saml-login -c dev exec --force -- aws sts get-caller-identity")]
    Exec(ExecArgs),

    /// Print shell commands that export the role's credentials
    ///
    /// The keys are also kept in saml-login's cache until they expire, as for
    /// credential-process: in the OS keyring where one answers; where none does, they
    /// are on disk (~/.cache/saml-login, mode 0600; setting `cache`). `saml-login
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

    /// Serve the role's credentials to containers from an endpoint that renews them
    ///
    /// The AWS SDKs' container-credentials endpoint (ECS format): prints
    /// AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN (every
    /// request must carry the token) and runs until interrupted, logging in again when
    /// the credentials near their expiry. Listens on 127.0.0.1 unless told otherwise.
    #[command(after_help = "\
Examples:
  saml-login -c dev serve --port 9911 --env-file dev.env
  docker run --network host --env-file dev.env amazon/aws-cli sts get-caller-identity
  saml-login serve --profile prod-admin --address 169.254.170.2 --port 80")]
    Serve(ServeArgs),

    /// Show the profiles saml-login wrote, their roles and time left, and the cached
    /// SAML assertions
    #[command(after_help = "\
Examples:
  saml-login status                                    a table on a terminal
  saml-login status --json                             the same as JSON")]
    Status(StatusArgs),

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

    /// Check the network path to every endpoint this section uses
    ///
    /// For the IdP, STS (the region's, or AWS_ENDPOINT_URL_STS) and the console's
    /// federation endpoint: the proxy chosen (HTTPS_PROXY, NO_PROXY ...), whether the
    /// TLS handshake verifies against the system's CAs plus the added ones
    /// (--ca-bundle, AWS_CA_BUNDLE, the AWS config's ca_bundle), and the issuer of the
    /// certificate presented. Exits 0 only when every endpoint verifies. Sends no
    /// request and no secret.
    #[command(after_help = "\
Examples:
  saml-login -c work doctor
  HTTPS_PROXY=http://proxy.corp:3128 AWS_CA_BUNDLE=~/corp-ca.pem saml-login doctor")]
    Doctor,

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

/// `--account` and `--role`: the role of a command that needs one.
#[derive(Debug, Args)]
pub struct RoleArgs {
    /// The AWS account number or alias (setting `aws_account`)
    #[arg(long)]
    pub account: Option<String>,

    /// The role name or full ARN (setting `aws_role`)
    #[arg(long)]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    #[command(flatten)]
    pub fresh: FreshArgs,

    #[command(flatten)]
    pub role: RoleArgs,
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

    #[command(flatten)]
    pub role: RoleArgs,

    /// Take the credentials of this AWS config profile (a `credential_process`
    /// profile, or a `role_arn` + `source_profile` chain on top of one)
    #[arg(long, value_name = "PROFILE", conflicts_with_all = ["account", "role"])]
    pub profile: Option<String>,

    /// Give COMMAND a loopback credential endpoint that renews the credentials
    /// (AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_CONTAINER_AUTHORIZATION_TOKEN)
    /// instead of keys in its environment: for jobs that outlast a session
    #[arg(long)]
    pub server: bool,

    /// The command and its arguments (options before it are exec's: put `--` before a
    /// command that starts with `-`)
    #[arg(required = true, trailing_var_arg = true, value_name = "COMMAND")]
    pub command: Vec<std::ffi::OsString>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub fresh: FreshArgs,

    /// Serve the credentials of this AWS config profile (see `exec --profile`)
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,

    /// The address to listen on: a loopback or interface address (default 127.0.0.1)
    #[arg(long, value_name = "IP")]
    pub address: Option<std::net::IpAddr>,

    /// Listen on every interface (0.0.0.0): anyone who can reach the port and has the
    /// token gets the keys
    #[arg(long, conflicts_with = "address")]
    pub all_interfaces: bool,

    /// The port (default: any free one)
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Write the two variables to FILE (mode 0600, `docker run --env-file` format)
    /// instead of printing them
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EnvArgs {
    #[command(flatten)]
    pub fresh: FreshArgs,

    #[command(flatten)]
    pub role: RoleArgs,

    /// Take the credentials of this AWS config profile (see `exec --profile`)
    #[arg(long, value_name = "PROFILE", conflicts_with_all = ["account", "role"])]
    pub profile: Option<String>,

    /// The shell syntax (default: the kind of $SHELL, else sh; PowerShell on Windows)
    #[arg(long, value_enum)]
    pub shell: Option<EnvShell>,
}

#[derive(Debug, Args)]
pub struct ConsoleArgs {
    /// The profile whose credentials open the console (setting `aws_profile`)
    #[arg(long)]
    pub profile: Option<String>,

    #[command(flatten)]
    pub console: ConsoleFlags,
}

/// The console's flags both `saml-login aws-console` and the stand-alone `aws-console`
/// take.
#[derive(Debug, Args)]
pub struct ConsoleFlags {
    /// The console service to open, such as `s3`, `ec2`, `iam` (in --region)
    #[arg(long, value_name = "SERVICE", conflicts_with = "destination")]
    pub service: Option<String>,

    /// Where the console opens: a URL of the console, or a service name such as `s3`
    #[arg(long, value_name = "URL_OR_SERVICE")]
    pub destination: Option<String>,

    /// Print the sign-in URL on stdout instead of opening a browser
    #[arg(long)]
    pub print: bool,

    /// Sign out of the console in the profile's browser profile (no credentials needed)
    #[arg(long, conflicts_with_all = ["print", "service", "destination"])]
    pub logout: bool,

    /// Open the console in a browser profile of its own: NAME, or one per AWS profile
    /// when no NAME is given (setting `browser_profile`)
    #[arg(long, value_name = "NAME", num_args = 0..=1, default_missing_value = "{profile}")]
    pub browser_profile: Option<String>,

    /// Open the console in the default browser, whatever `browser_profile` says
    #[arg(long, conflicts_with = "browser_profile")]
    pub no_browser_profile: bool,

    /// The browser of the browser profiles: a Chromium-family browser or Firefox
    /// (setting `console_browser`; default: found like headless Chromium, then Firefox)
    #[arg(long, value_name = "PATH")]
    pub console_browser: Option<PathBuf>,
}

impl ConsoleFlags {
    /// The flags that set configuration keys, into `o`.
    pub(crate) fn overrides(&self, o: &mut crate::config::Overrides) {
        o.flag(Key::BrowserProfile, self.browser_profile.clone());
        if self.no_browser_profile {
            o.flag_as(
                Key::BrowserProfile,
                "--no-browser-profile",
                Some("false".into()),
            );
        }
        o.flag(
            Key::ConsoleBrowser,
            self.console_browser
                .as_ref()
                .map(|p| p.display().to_string()),
        );
    }
}

#[derive(Debug, Args)]
pub struct AssumeRoleArgs {
    /// The AWS account number or alias (setting `aws_account`)
    #[arg(long)]
    pub account: Option<String>,

    /// The role name or full ARN (setting `aws_role`)
    #[arg(long)]
    pub role: Option<String>,

    /// The profile to store the credentials under (setting `aws_profile`)
    #[arg(long)]
    pub profile: Option<String>,

    /// Print the roles granted to you, one configuration section each
    #[arg(long, conflicts_with_all = ["account", "role", "profile", "open_console", "destination", "policy_arns", "inline_policy"])]
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
    #[arg(long, conflicts_with_all = ["show", "account", "role", "profile", "open_console", "destination"])]
    pub all: bool,

    /// Log in even if the stored profile is valid for more than 10 minutes
    #[arg(long)]
    pub force: bool,

    /// Console: where it opens (with -C)
    #[arg(long, value_name = "URL_OR_SERVICE")]
    pub destination: Option<String>,
}
