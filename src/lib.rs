//! saml-login: turn an Auth0 (SAML) login into temporary AWS credentials.
//!
//! The pipeline: a browser (`browsers/`) captures the IdP's `SAMLResponse`;
//! [`assertion`] parses it once; the role is chosen; [`sts`] trades it for
//! credentials; [`store`] writes them into the shared credentials file.

pub mod accounts;
pub(crate) mod app;
pub mod assertion;
pub(crate) mod aws_config;
pub mod browser;
pub mod cache;
pub(crate) mod chain;
pub mod cli;
mod completions;
pub mod config;
pub mod console;
pub mod console_cli;
pub mod cookie_jar;
pub mod credentials;
pub mod error;
pub(crate) mod identity;
pub mod login;
pub(crate) mod login_lock;
mod man_page;
pub mod paths;
pub mod pkce;
pub mod pkce_cli;
pub(crate) mod platform;
pub mod role;
pub mod store;
pub mod sts;
#[cfg(feature = "webview")]
mod webview_process;

use clap::Parser;
use saml_login_capture::Cancel;

use crate::error::exit;

/// Parse the command line, run it, report any error; returns the exit code.
pub fn main_entry() -> i32 {
    entry::<cli::Cli>(
        "saml-login",
        cli::command,
        |cli| cli.global.verbose,
        app::run,
    )
}

/// What every binary's `main` does: parse, set up tracing and Ctrl-C, run, print
/// `TOOL: error: ...` (and a hint) on failure; returns the exit code.
pub(crate) fn entry<C: Parser>(
    tool: &str,
    command: fn() -> clap::Command,
    verbose: impl Fn(&C) -> bool,
    run: impl FnOnce(C, Cancel) -> error::Result<()>,
) -> i32 {
    let parsed = command()
        .try_get_matches()
        .and_then(|matches| C::from_arg_matches(&matches).map_err(|e| e.format(&mut command())));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return e.exit_code();
        }
    };
    init_tracing(verbose(&cli));
    let cancel = Cancel::new();
    let on_interrupt = cancel.clone();
    // First Ctrl-C: stop the wait and clean up; a second one: leave at once.
    let _ = ctrlc::set_handler(move || {
        if on_interrupt.is_cancelled() {
            std::process::exit(exit::INTERRUPTED);
        }
        on_interrupt.cancel();
    });
    let code = match run(cli, cancel) {
        Ok(()) => exit::OK,
        Err(error::Error::Child(code)) => code,
        Err(e) => {
            eprintln!("{tool}: error: {}", error::printable(&e.to_string()));
            if let Some(hint) = e.hint() {
                eprintln!("  hint: {}", error::printable(&hint));
            }
            e.exit_code()
        }
    };
    // The answer is out; a browser may still be ending (Chromium, its profile): that is
    // done before the process exits.
    saml_login_capture::teardown::finish();
    code
}

pub(crate) fn init_tracing(verbose: bool) {
    use std::io::IsTerminal;
    // Only saml-login's own crates log; the AWS SDK's and the browsers' libraries stay
    // quiet (their debug output could carry request bodies).
    let level = if verbose { "debug" } else { "warn" };
    let filter = [
        "saml_login",
        "saml_login_capture",
        "saml_login_system",
        "saml_login_headless",
        "saml_login_webview",
    ]
    .map(|c| format!("{c}={level}"))
    .join(",");
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour only on a terminal, and never with NO_COLOR (https://no-color.org).
        .with_ansi(
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!("off,{filter}")))
        .with_target(false)
        .without_time()
        .try_init();
}
