//! What a run of `saml-login` does: resolve the command line once
//! ([`crate::config::resolve`]), then hand the resolved plan to its command. Reads no
//! flag itself.

use saml_login_capture::Cancel;

use crate::cache::Cache;
use crate::cli::Cli;
use crate::config::resolve::{self, Plan, Task, WithCredentials};
use crate::error::Result;
use crate::output::write_stdout;
use crate::pipeline::Context;
use crate::{assume_command, configure_command, console_flow, credentials_command, logout_command};

/// Run the parsed command line.
pub(crate) fn run(cli: Cli, cancel: Cancel) -> Result<()> {
    let env = |k: &str| std::env::var(k).ok();
    let mut run = match resolve::resolve(cli, &env)? {
        Plan::Completions(shell) => return crate::completions::write(shell),
        Plan::Man => return crate::man_page::write(),
        Plan::Sections(file) => {
            return write_stdout(&format!("{}\n", file.section_names().join("\n")));
        }
        Plan::LogoutAll(paths) => {
            return logout_command::logout(&Cache::new(paths.cache.clone()), &paths, None);
        }
        Plan::Profile {
            paths,
            profile,
            force,
            then,
        } => {
            let (c, region) = credentials_command::profile_credentials(&paths, &profile, force)?;
            return credentials_command::with_credentials(&c, region.as_deref(), then);
        }
        Plan::Section(run) => *run,
    };
    let task = std::mem::replace(&mut run.task, Task::Logout);
    let check_response = !matches!(task, Task::GetToken);
    let cx = Context::new(run, cancel, check_response);
    match task {
        Task::GetToken => assume_command::get_token(&cx),
        Task::Show => assume_command::show(&cx),
        Task::AssumeAll => assume_command::assume_all(&cx),
        Task::AssumeRole { destination } => {
            assume_command::assume_role(&cx, destination.as_deref())
        }
        Task::Console { destination, print } => {
            console_flow::aws_console(&cx, destination.as_deref(), print)
        }
        Task::CredentialProcess => credentials_command::credential_process(&cx),
        Task::Exec(command) => {
            let c = credentials_command::role_credentials(&cx)?;
            // The login lock is not the command's to hold.
            drop(cx.login_lock.borrow_mut().take());
            credentials_command::with_credentials(
                &c,
                cx.settings.region.as_deref(),
                WithCredentials::Exec(command),
            )
        }
        Task::Env(shell) => {
            let c = credentials_command::role_credentials(&cx)?;
            credentials_command::with_credentials(
                &c,
                cx.settings.region.as_deref(),
                WithCredentials::Export(shell),
            )
        }
        Task::Configure { dry_run } => configure_command::configure(&cx, dry_run),
        Task::Logout => logout_command::logout(&cx.cache, &cx.paths, Some(&cx.idp)),
    }
}
