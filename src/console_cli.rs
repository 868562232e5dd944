//! The stand-alone `aws-console` command (as the original installed it): open the AWS
//! console with the credentials of a profile in the shared credentials file.

use clap::Parser;

use crate::error::exit;
use crate::paths::Paths;

/// Open the AWS console with a profile's credentials.
#[derive(Debug, Parser)]
#[command(name = "aws-console", version)]
struct ConsoleCli {
    /// The profile in ~/.aws/credentials
    #[arg(long, env = "AWS_PROFILE", default_value = "default")]
    profile: String,

    /// The region the console opens in (default: AWS_REGION, the profile's region)
    #[arg(long)]
    region: Option<String>,

    /// Where the console opens: an https URL, or a service name such as `s3`
    #[arg(long, value_name = "URL_OR_SERVICE")]
    destination: Option<String>,

    /// Print the sign-in URL on stdout instead of opening a browser
    #[arg(long)]
    print: bool,

    /// Trace what happens on stderr (secrets stay redacted)
    #[arg(long)]
    verbose: bool,
}

/// Parse, run, report; returns the exit code.
pub fn main_entry() -> i32 {
    let cli = match ConsoleCli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    crate::init_tracing(cli.verbose);
    let result = Paths::resolve(None, |k| std::env::var(k).ok()).and_then(|paths| {
        let region = cli
            .region
            .clone()
            .unwrap_or_else(|| crate::app::console_region(&paths, Some(&cli.profile)));
        crate::app::console_for_profile(
            &paths,
            &cli.profile,
            &region,
            cli.destination.as_deref(),
            cli.print,
        )
    });
    match result {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("aws-console: error: {e}");
            e.exit_code()
        }
    }
}
