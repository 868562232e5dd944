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

#[derive(Debug, Args)]
pub struct Global {
    /// The section of ~/.saml-login to use (keys inherit [DEFAULT])
    #[arg(
        short = 'c',
        long,
        value_name = "SECTION",
        default_value = "DEFAULT",
        global = true
    )]
    pub configuration: String,

    /// Read the configuration from FILE instead of ~/.saml-login
    #[arg(long, value_name = "FILE", env = "SAML_LOGIN_CONFIG", global = true)]
    pub config: Option<PathBuf>,

    /// Trace what happens on stderr (secrets stay redacted)
    #[arg(long, global = true)]
    pub verbose: bool,

    /// The Auth0 tenant URL (setting `idp_url`)
    #[arg(long, value_name = "URL", global = true)]
    pub idp_url: Option<String>,

    /// The Auth0 application's client id (setting `client_id`)
    #[arg(long, value_name = "ID", global = true)]
    pub client_id: Option<String>,

    /// The page that starts the login, for any IdP's IdP-initiated URL (setting
    /// `login_url`; default {idp_url}/samlp/{client_id})
    #[arg(long, value_name = "URL", global = true)]
    pub login_url: Option<String>,

    /// Where the IdP posts the response: a URL, or `aws` for every AWS sign-in endpoint
    /// (setting `callback_url`; default http://localhost:{listen_port}/saml)
    #[arg(long, value_name = "URL|aws", global = true)]
    pub callback_url: Option<String>,

    /// Loopback port of the callback http://localhost:PORT/saml (setting `listen_port`)
    #[arg(long, value_name = "PORT", global = true)]
    pub listen_port: Option<String>,

    /// Session duration in seconds (setting `role_duration`)
    #[arg(long, value_name = "SECONDS", global = true)]
    pub role_duration: Option<String>,

    /// The AWS region for STS (setting `region`)
    #[arg(long, value_name = "REGION", global = true)]
    pub region: Option<String>,

    /// Give up on the login after SECONDS (setting `timeout`, default 300)
    #[arg(long, value_name = "SECONDS", global = true)]
    pub timeout: Option<String>,

    #[command(flatten)]
    pub browser: BrowserArgs,

    /// Take the SAMLResponse (base64) from FILE, or `-` for stdin, instead of logging in
    #[arg(long, value_name = "FILE", global = true)]
    pub saml_response_file: Option<PathBuf>,

    /// Neither reuse nor keep the last SAML assertion (one login serves several roles
    /// while it is valid)
    #[arg(long, global = true)]
    pub no_cache: bool,
}

/// How to log in: the browser and its options (shared with `pkce-login`).
#[derive(Debug, Args)]
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
    GetToken,

    /// Log in, assume an AWS role with the SAML assertion, and store the credentials
    ///
    /// As the assertion may grant several roles, say which one with --account and
    /// --role (or aws_account and aws_role in the section), and where to store the
    /// keys with --profile. --show lists the roles granted, as configuration sections.
    AwsAssumeRole(AssumeRoleArgs),

    /// Open the AWS console with a profile's credentials
    AwsConsole(ConsoleArgs),

    /// Print credentials as the AWS SDKs' `credential_process` reads them (JSON)
    ///
    /// Served from a cache (per section and role) while more than 10 minutes remain;
    /// otherwise logs in with the configured browser. Configure it in ~/.aws/config:
    ///
    ///   [profile dev]
    ///   credential_process = saml-login -c dev credential-process
    ///
    /// `--account` and `--role` choose the role, so that one section serves every
    /// profile `configure` writes.
    CredentialProcess(CredentialProcessArgs),

    /// Run COMMAND with the role's credentials in its environment
    ///
    /// Sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
    /// AWS_CREDENTIAL_EXPIRATION and AWS_REGION (when known); passes its exit status on.
    Exec(ExecArgs),

    /// Print shell commands that export the role's credentials
    Env(EnvArgs),

    /// Write one AWS profile per granted role into ~/.aws/config
    ///
    /// Each profile gets `credential_process = saml-login -c SECTION credential-process
    /// --account A --role R` and the section's region. They live in one block marked by
    /// comments; everything outside it is kept byte for byte; roles no longer granted
    /// are removed from the block.
    ///
    /// Examples:
    ///   saml-login -c work configure              then: aws --profile Admin@prod s3 ls
    ///   saml-login -c work configure --dry-run    show the change as a diff
    ///   saml-login -c work configure --force      log in again for the current grants
    Configure(ConfigureArgs),

    /// Print a shell completion script
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },

    /// Print the manual page (roff)
    #[command(hide = true)]
    Man,
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

    /// The shell syntax
    #[arg(long, value_enum, default_value = "sh")]
    pub shell: EnvShell,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EnvShell {
    Sh,
    Fish,
    Powershell,
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
