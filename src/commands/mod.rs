//! What a run of `saml-login` does with its resolved plan ([`crate::config::plan`], made by [`crate::cli::resolve`]
//! called by [`crate::cli::run`]): each command on its module. Reads no flag itself.

pub(crate) mod assume;
pub(crate) mod configure;
pub(crate) mod console;
pub(crate) mod console_browser;
pub(crate) mod credentials;
pub(crate) mod doctor;
pub(crate) mod endpoint;
pub(crate) mod exec_child;
pub(crate) mod keeper;
pub(crate) mod logout;
pub(crate) mod serve;
pub(crate) mod shell;
pub(crate) mod status;

use saml_login_capture::Cancel;

use crate::config::plan::{self, Plan, Task, WithCredentials};
use crate::error::Result;
use crate::login::pipeline::Context;
use crate::output::write_stdout;
use crate::storage::cache::Cache;

/// Run the resolved `plan`. (Completions and the manual page are the command line's
/// own: [`crate::cli::run`] writes them.)
pub(crate) fn run(plan: Plan, cancel: Cancel) -> Result<()> {
    let plan::Run { job, task } = match plan {
        Plan::Completions(_) | Plan::Man => {
            unreachable!("the command line writes its completions and manual page")
        }
        Plan::Sections(file) => {
            return write_stdout(&format!("{}\n", file.section_names().join("\n")));
        }
        Plan::LogoutNoConfig(config) => {
            crate::output::notice!(
                "{} does not exist, so no IdP is configured to log out of; `saml-login logout --all` forgets the logins of every IdP",
                config.display()
            );
            return Ok(());
        }
        Plan::LogoutAll { paths, cache } => {
            return logout::logout(&Cache::new(paths.cache.clone(), cache), &paths, None);
        }
        Plan::Status { paths, json } => return status::status(&paths, json),
        Plan::Profile {
            paths,
            cache,
            profile,
            force,
            then: WithCredentials::Serve(setup),
        } => {
            let source = serve::ProfileSource {
                cache: Cache::new(paths.cache.clone(), cache),
                region: serve::profile_region(&paths, &profile),
                refresh_margin: setup.refresh_margin,
                paths,
                profile,
                force,
            };
            let region = source.region.clone();
            let paths = source.paths.clone();
            return serve::run(Box::new(source), region.as_deref(), setup, &paths, &cancel);
        }
        Plan::Profile {
            paths,
            cache,
            profile,
            force,
            then,
        } => {
            let (c, region) = credentials::profile_credentials(
                &paths,
                &Cache::new(paths.cache.clone(), cache),
                &profile,
                force,
            )?;
            return credentials::with_credentials(&c, region.as_deref(), then, &paths.programs);
        }
        Plan::Section(run) => *run,
    };
    let cx = Context::new(job, cancel.clone());
    match task {
        Task::GetToken => assume::get_token(&cx),
        Task::Show => assume::show(&cx),
        Task::AssumeAll => assume::assume_all(&cx),
        Task::AssumeRole { destination } => assume::assume_role(&cx, destination.as_deref()),
        Task::Console(target) => console::aws_console(&cx, &target),
        Task::CredentialProcess => credentials::credential_process(&cx),
        Task::Exec(command) => {
            let c = credentials::role_credentials(&cx, "exec")?;
            // The login lock is not the command's to hold.
            drop(cx.login_lock.borrow_mut().take());
            credentials::with_credentials(
                &c,
                cx.job.settings.region.as_deref(),
                WithCredentials::Exec(command),
                &cx.job.paths.programs,
            )
        }
        Task::Serve(setup) => {
            let region = cx.job.settings.region.clone();
            let paths = cx.job.paths.clone();
            serve::run(
                Box::new(serve::SectionSource(cx)),
                region.as_deref(),
                setup,
                &paths,
                &cancel,
            )
        }
        Task::Env(shell) => {
            let c = credentials::role_credentials(&cx, "env")?;
            credentials::with_credentials(
                &c,
                cx.job.settings.region.as_deref(),
                WithCredentials::Export(shell),
                &cx.job.paths.programs,
            )
        }
        Task::Configure { dry_run } => configure::configure(&cx, dry_run),
        Task::Logout => logout::logout(&cx.cache, &cx.job.paths, Some(&cx.idp)),
        Task::Doctor => doctor::doctor(&cx),
    }
}
