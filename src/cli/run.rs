//! `saml-login`'s driver: the parsed command line resolved once
//! ([`crate::cli::resolve`]), what only the command line's own layer can answer
//! (completions and the manual page, written from clap's command) answered here, and
//! the rest handed to [`crate::commands::run`].

use saml_login_capture::Cancel;

use crate::cli::Cli;
use crate::cli::resolve;
use crate::config::plan::Plan;
use crate::error::Result;

/// Run the parsed command line; `env` is the environment (read by the entry point,
/// resolved here once).
pub(crate) fn run(cli: Cli, env: &dyn Fn(&str) -> Option<String>, cancel: Cancel) -> Result<()> {
    match resolve::resolve(cli, env)? {
        Plan::Completions(shell) => crate::cli::completions::write(shell),
        Plan::Man => crate::cli::man_page::write(),
        plan => crate::commands::run(plan, cancel),
    }
}
