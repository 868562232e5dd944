//! saml-login: turn an Auth0 (SAML) login into temporary AWS credentials.
//!
//! One way: [`cli`] parses, [`cli::resolve`] resolves flags, environment and files
//! into a plan, `commands` hands it to its command, the commands run the
//! `login::pipeline` (a browser from `browsers/` captures the `SAMLResponse`,
//! [`aws::assertion`] parses it once, the role is chosen, `aws::sts` trades it for
//! credentials) and [`storage::credentials_file`] writes them.
//! docs/ARCHITECTURE.md follows a login from argv to the credentials file.

// Folders by layer (docs/ARCHITECTURE.md): `cli` parses, `config` resolves,
// `commands` run, `login` is the pipeline, `aws` and `storage` are what it calls.
// Public: what the binaries, the fuzz targets and the benches use.
pub mod aws;
pub mod cli;
pub(crate) mod clock;
pub mod config;
pub mod error;
pub mod storage;

pub(crate) mod commands;
pub(crate) mod login;
pub mod net;
pub(crate) mod output;
pub(crate) mod pkce;
pub(crate) mod platform;
pub(crate) mod termination;

use clap::Parser;
use saml_login_capture::Cancel;

use crate::error::exit;

/// Parse the command line, run it, report any error; returns the exit code.
pub fn main_entry() -> i32 {
    entry::<cli::Cli>(
        "saml-login",
        cli::command,
        |cli| cli.global.login.verbose,
        |cli, cancel| cli::run::run(cli, &|k| std::env::var(k).ok(), cancel),
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
    // No core dump (nor ptrace by other programs of the user) of a process that holds
    // keys, assertions and passwords (issue 27): for its whole life, which is short.
    output::set_program(tool);
    #[cfg(target_os = "linux")]
    if let Err(e) =
        rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
    {
        output::warning!("cannot turn core dumps off: {e}");
    }
    // The port guard of an earlier system-browser login (issue 27): no CLI at all.
    #[cfg(unix)]
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == saml_login_system::grace::GUARD_ARG)
    {
        return saml_login_system::grace::guard_main();
    }
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
    // First Ctrl-C: stop the wait and clean up; a second one, or the first during a
    // network call (nothing to clean up; the login lock is an OS lock, freed on exit):
    // leave at once.
    let _ = ctrlc::set_handler(move || {
        if net::waiting() {
            output::error(format_args!("{}", error::Error::Interrupted), None);
            std::process::exit(exit::INTERRUPTED);
        }
        if on_interrupt.is_cancelled() {
            std::process::exit(exit::INTERRUPTED);
        }
        on_interrupt.cancel();
    });
    #[cfg(unix)]
    end_on_termination(cancel.clone());
    let code = match run(cli, cancel) {
        Err(error::Error::Child(code)) => code,
        // SIGTERM or SIGHUP cancelled what was under way, which is cleaned up now.
        Ok(()) | Err(error::Error::Interrupted) if termination::received().is_some() => {
            let signal = termination::received().unwrap_or_default();
            output::error(
                format_args!("stopped by {}", termination::name(signal)),
                None,
            );
            termination::exit_code(signal)
        }
        Ok(()) => exit::OK,
        Err(e) => {
            output::error(format_args!("{e}"), e.hint().as_deref());
            e.exit_code()
        }
    };
    // The answer is out; a browser may still be ending (Chromium, its profile): that is
    // done before the process exits.
    saml_login_capture::teardown::finish();
    code
}

/// SIGTERM and SIGHUP (see [`termination`]): the first cancels what is under way (or,
/// during a network call, where there is nothing to clean up, ends saml-login at once),
/// a second ends saml-login at once; after `exec` or `serve` took them over, nothing.
#[cfg(unix)]
fn end_on_termination(cancel: Cancel) {
    use signal_hook::consts::{SIGHUP, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGTERM, SIGHUP]) else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("termination".into())
        .spawn(move || {
            for signal in signals.forever() {
                if termination::handed_over() {
                    continue;
                }
                if !termination::record(signal) || net::waiting() {
                    output::error(
                        format_args!("stopped by {}", termination::name(signal)),
                        None,
                    );
                    std::process::exit(termination::exit_code(signal));
                }
                cancel.cancel();
            }
        });
}

pub(crate) fn init_tracing(verbose: bool) {
    use std::io::IsTerminal;
    use tracing_subscriber::filter::{LevelFilter, Targets};
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    // Every notice and warning, the browsers' too, goes through the one reporter
    // (`output`, `saml_login_capture::report`), with or without --verbose; tracing is
    // --verbose's trace and nothing else, so without --verbose there is no subscriber.
    if !verbose {
        return;
    }
    // Only saml-login's own crates log (`saml_login` is the prefix of every one of
    // their targets); the AWS SDK's and the browsers' libraries stay quiet (their debug
    // output could carry request bodies). A plain target list, not an `EnvFilter`: no
    // directive parsing or regex engine on the start of every run.
    let traced = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Colour only on a terminal, and never with NO_COLOR (https://no-color.org).
        .with_ansi(
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        )
        .with_target(false)
        .without_time();
    let _ = tracing_subscriber::registry()
        .with(traced)
        .with(Targets::new().with_target("saml_login", LevelFilter::DEBUG))
        .try_init();
}
