//! The stand-alone `aws-console` command (as the original installed it): open the AWS
//! console with the credentials of a profile in the shared credentials file.

use clap::Parser;
use saml_login_capture::Cancel;

use crate::aws::federation::ConsoleEnv;
use crate::config::paths::Paths;
use crate::error::Result;

/// Open the AWS console with a profile's credentials.
#[derive(Debug, Parser)]
#[command(name = "aws-console", version)]
struct ConsoleCli {
    /// The profile in ~/.aws/credentials, or in ~/.aws/config (a role chain,
    /// credential_process)
    #[arg(long, env = "AWS_PROFILE", default_value = "default")]
    profile: String,

    /// The region the console opens in (default: AWS_REGION, the profile's region)
    #[arg(long)]
    region: Option<String>,

    #[command(flatten)]
    console: crate::cli::ConsoleFlags,

    /// Trace what happens on stderr (secrets stay redacted)
    #[arg(long)]
    verbose: bool,
}

/// Parse, run, report; returns the exit code.
pub fn main_entry() -> i32 {
    crate::entry::<ConsoleCli>(
        "aws-console",
        <ConsoleCli as clap::CommandFactory>::command,
        |cli| cli.verbose,
        run,
    )
}

fn run(cli: ConsoleCli, _: Cancel) -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let paths = Paths::resolve(None, env)?;
    let console_env = ConsoleEnv::resolve(&env);
    let region = cli.region.clone().unwrap_or_else(|| {
        crate::commands::console::console_region(&paths, &console_env, Some(&cli.profile))
    });
    let mut overrides = crate::config::Overrides::default();
    overrides.read_env(env);
    cli.console.overrides(&mut overrides);
    let file = crate::config::IniFile::load(&paths.config, false).unwrap_or_default();
    crate::config::network::install(
        &env,
        &overrides,
        &file,
        crate::config::DEFAULT_SECTION,
        &paths,
    )?;
    // The console's browser identity: the flags, SAML_LOGIN_* variables, [DEFAULT].
    let identity = crate::config::console_target::console_identity(&crate::config::Layers {
        overrides: &overrides,
        file: &file,
        section: crate::config::DEFAULT_SECTION,
    })?;
    let cache = crate::storage::cache::Cache::new(
        paths.cache.clone(),
        crate::cli::resolve::unsectioned_cache(&paths, &overrides)?,
    );
    crate::commands::console::console_for_profile(
        &paths,
        &cache,
        &console_env,
        &cli.profile,
        &region,
        &crate::commands::console::ConsoleTarget {
            service: cli.console.service,
            destination: cli.console.destination,
            print: cli.console.print,
            logout: cli.console.logout,
            identity,
        },
    )
}
