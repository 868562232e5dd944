//! `exec --server` and `serve`: the role's credentials served from an ECS-format
//! endpoint ([`endpoint`]) that renews them ([`Keeper`]), to a command that lives as long
//! as the endpoint, or to containers until interrupted.

use std::ffi::OsString;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use saml_login_capture::Cancel;
use time::OffsetDateTime;

use crate::aws::chain;
use crate::aws::credentials::Credentials;
use crate::commands::credentials::{exit_status_code, role_credentials_after};
use crate::commands::endpoint::{self, Lease};
use crate::commands::keeper::{Keeper, Source};
use crate::config::paths::Paths;
use crate::config::plan::ServeSetup;
use crate::error::{Error, Result};
use crate::login::pipeline::Context;
use crate::storage::cache::{CREDENTIALS_MARGIN, Cache};
use crate::storage::credentials_file::SecretFile;
use crate::storage::servers::{Registration, ServerEntry};

/// The variables that would make an SDK use other credentials than the endpoint's
/// (static keys and profiles come before the container provider), removed from the
/// command's environment.
const COMPETING_VARS: [&str; 9] = [
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
];

/// A section's role, as `credential-process` gets it.
pub(crate) struct SectionSource(pub Context);

impl Source for SectionSource {
    fn fetch(&mut self, held: Option<OffsetDateTime>) -> Result<Credentials> {
        let got = role_credentials_after(&self.0, "exec --server", held);
        // The next renewal takes the login lock again; others may log in meanwhile.
        drop(self.0.login_lock.borrow_mut().take());
        got
    }

    fn serves(&self) -> (String, Option<String>) {
        let settings = &self.0.job.settings;
        let account = settings
            .aws_account
            .as_deref()
            .map(|a| self.0.job.accounts.get(a));
        let role = match (account, settings.aws_role.as_deref()) {
            (Some(Ok(account)), Some(role)) => {
                Some(format!("arn:aws:iam::{}:role/{role}", account.number))
            }
            (_, role) => role.map(str::to_owned),
        };
        (format!("section {}", settings.shared.section), role)
    }
}

/// An AWS config profile (a chain on top of a `credential_process` profile).
pub(crate) struct ProfileSource {
    pub paths: Paths,
    pub cache: Cache,
    pub profile: String,
    /// `--force`: the first fetch skips the cached hops.
    pub force: bool,
    /// The profile's region, if it names one.
    pub region: Option<String>,
    /// The server's refresh margin (`ServeSetup::refresh_margin`).
    pub refresh_margin: time::Duration,
}

/// The `region` of AWS config profile `name`.
pub(crate) fn profile_region(paths: &Paths, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(&paths.aws_config).ok()?;
    crate::storage::aws_config::profile(&text, name)?
        .into_iter()
        .find(|(k, _)| k == "region")
        .map(|(_, v)| v)
}

impl Source for ProfileSource {
    fn fetch(&mut self, held: Option<OffsetDateTime>) -> Result<Credentials> {
        // A renewal before the cache's own margin (tests) must not get the held keys
        // back from the hop cache.
        let force = std::mem::take(&mut self.force)
            || (held.is_some() && self.refresh_margin > CREDENTIALS_MARGIN);
        chain::resolve(self.paths.aws_files(), &self.cache, &self.profile, force).map(|(c, _)| c)
    }

    fn serves(&self) -> (String, Option<String>) {
        let role = std::fs::read_to_string(&self.paths.aws_config)
            .ok()
            .and_then(|text| crate::storage::aws_config::profile(&text, &self.profile))
            .and_then(|v| v.into_iter().find(|(k, _)| k == "role_arn").map(|(_, v)| v));
        (format!("profile {}", self.profile), role)
    }
}

/// A [`Source`] whose every new set of keys is also recorded for `status`.
struct Listed<'a> {
    source: &'a mut dyn Source,
    registration: Option<Registration>,
}

impl Source for Listed<'_> {
    fn fetch(&mut self, held: Option<OffsetDateTime>) -> Result<Credentials> {
        let got = self.source.fetch(held);
        if let (Ok(c), Some(r)) = (&got, &self.registration) {
            r.held_until(c.expiration);
        }
        got
    }
}

/// A listening endpoint.
struct Endpoint {
    url: String,
    token: String,
    keeper: Arc<Keeper>,
}

fn listen(
    bind: SocketAddr,
    first: Option<Credentials>,
    margin: time::Duration,
) -> Result<Endpoint> {
    let refused = |source| Error::CannotListen {
        address: bind,
        source,
    };
    let listener = TcpListener::bind(bind).map_err(refused)?;
    let at = listener.local_addr().map_err(refused)?;
    // 256 random bits; compared in constant time.
    let token = saml_login_capture::random_token();
    let keeper = Keeper::new(first, margin);
    let lease: Arc<dyn Lease> = keeper.clone();
    let shared = Arc::new(token.clone());
    std::thread::Builder::new()
        .name("credential-server".into())
        .spawn(move || endpoint::serve(listener, shared, lease))
        .map_err(|source| Error::Thread {
            what: "the credential server",
            source,
        })?;
    Ok(Endpoint {
        url: format!("http://{at}{}", endpoint::PATH),
        token,
        keeper,
    })
}

/// Run `setup`: `exec --server` (the command's status is ours) or `serve` (until
/// interrupted). This thread renews the credentials; another waits for the command
/// or the signal that ends the server.
pub(crate) fn run(
    mut source: Box<dyn Source>,
    region: Option<&str>,
    setup: ServeSetup,
    paths: &Paths,
    cancel: &Cancel,
) -> Result<()> {
    let first = match setup.command {
        Some(_) => Some(source.fetch(None)?),
        None => None,
    };
    let first_until = first.as_ref().map(|c| c.expiration);
    let command = setup.command.is_some();
    let endpoint = listen(setup.bind, first, setup.refresh_margin)?;
    // Listed for `status` before the command starts: it may ask at once.
    let (serves, role) = source.serves();
    let registration = Registration::write(
        &paths.cache,
        ServerEntry {
            pid: std::process::id(),
            mode: if command { "exec --server" } else { "serve" }.to_owned(),
            url: endpoint.url.clone(),
            serves,
            role,
            expiration: None,
        },
    );
    if let (Some(r), Some(until)) = (&registration, first_until) {
        r.held_until(until);
    }
    let keeper = Arc::clone(&endpoint.keeper);
    let cancel = cancel.clone();
    let ended = match setup.command {
        Some(argv) => {
            let (child, what) = spawn_command(&endpoint, region, &argv, &paths.programs)?;
            std::thread::Builder::new()
                .name("command".into())
                .spawn(move || {
                    let status = wait_forwarding_signals(child, what);
                    // A login under way for a renewal is not wanted any more.
                    cancel.cancel();
                    keeper.stop();
                    status
                })
        }
        None => {
            announce(&endpoint, setup.env_file.as_deref())?;
            std::thread::Builder::new()
                .name("stop".into())
                .spawn(move || {
                    let signals = signals::Forward::watch();
                    while !cancel.is_cancelled() && !signals.stop_requested() {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    // A login under way for a renewal is not wanted any more.
                    cancel.cancel();
                    keeper.stop();
                    crate::output::notice!("the credential server has stopped");
                    Ok(())
                })
        }
    }
    .map_err(|source| Error::Thread {
        what: "a thread",
        source,
    })?;
    endpoint.keeper.renew(&mut Listed {
        source: source.as_mut(),
        registration,
    });
    ended.join().unwrap_or(Ok(()))
}

/// `serve`: the two variables, on stdout or in `--env-file`.
fn announce(endpoint: &Endpoint, env_file: Option<&Path>) -> Result<()> {
    let vars = format!(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI={}\nAWS_CONTAINER_AUTHORIZATION_TOKEN={}\n",
        endpoint.url, endpoint.token
    );
    match env_file {
        Some(path) => {
            SecretFile::new(path).replace(vars.as_bytes())?;
            crate::output::notice!(
                "serving credentials at {} until interrupted; the variables are in {} (docker run --env-file)",
                endpoint.url,
                path.display(),
            );
        }
        None => {
            crate::output::write_stdout(&vars)?;
            crate::output::notice!(
                "serving credentials at {} until interrupted (docker run -e AWS_CONTAINER_CREDENTIALS_FULL_URI -e AWS_CONTAINER_AUTHORIZATION_TOKEN ...)",
                endpoint.url
            );
        }
    }
    Ok(())
}

/// `exec --server`: start `argv` with the endpoint's variables.
fn spawn_command(
    endpoint: &Endpoint,
    region: Option<&str>,
    argv: &[OsString],
    programs: &saml_login_capture::Vars,
) -> Result<(std::process::Child, String)> {
    let (program, rest) = argv.split_first().expect("clap requires a command");
    let mut command = std::process::Command::new(crate::platform::exec_program(program, programs));
    command.args(rest);
    for var in saml_login_capture::SECRET_ENV_VARS
        .iter()
        .chain(&COMPETING_VARS)
    {
        command.env_remove(var);
    }
    command
        .env("AWS_CONTAINER_CREDENTIALS_FULL_URI", &endpoint.url)
        .env("AWS_CONTAINER_AUTHORIZATION_TOKEN", &endpoint.token);
    // AWS_REGION for most SDKs, AWS_DEFAULT_REGION for botocore and the AWS CLI.
    if let Some(region) = region {
        command
            .env("AWS_REGION", region)
            .env("AWS_DEFAULT_REGION", region);
    }
    let what = program.to_string_lossy().into_owned();
    let child = command.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::CommandNotFound { what: what.clone() },
        _ => Error::CommandNotExecutable {
            what: what.clone(),
            reason: e.to_string(),
        },
    })?;
    Ok((child, what))
}

/// Wait for the command, passing signals on; its status is ours.
fn wait_forwarding_signals(mut child: std::process::Child, what: String) -> Result<()> {
    // Windows: the command and its children die with saml-login.
    let _job = saml_login_capture::job::for_child(child.id(), "the command");
    let signals = signals::Forward::watch();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {
                signals.forward_to(child.id());
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(e) => {
                return Err(Error::CommandNotExecutable {
                    what,
                    reason: e.to_string(),
                });
            }
        }
    };
    Err(Error::Child(exit_status_code(status)))
}

/// SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 sent to saml-login: recorded, to be passed on
/// to the command (a terminal's Ctrl-C reaches the command by itself: it is in the
/// same process group).
mod signals {
    #[cfg(unix)]
    pub(super) struct Forward {
        pending: std::sync::Arc<std::sync::Mutex<Vec<i32>>>,
        stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    }

    #[cfg(unix)]
    impl Forward {
        const SIGNALS: [i32; 4] = [
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGHUP,
            signal_hook::consts::SIGUSR1,
            signal_hook::consts::SIGUSR2,
        ];

        pub(super) fn watch() -> Self {
            let pending = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
            let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            // From here on SIGTERM and SIGHUP stop the server (or go to its command).
            crate::termination::hand_over();
            if let Ok(mut signals) = signal_hook::iterator::Signals::new(Self::SIGNALS) {
                let (pending, stop) = (pending.clone(), stop.clone());
                let _ = std::thread::Builder::new()
                    .name("signals".into())
                    .spawn(move || {
                        for signal in signals.forever() {
                            if signal != signal_hook::consts::SIGUSR1
                                && signal != signal_hook::consts::SIGUSR2
                            {
                                stop.store(true, std::sync::atomic::Ordering::SeqCst);
                            }
                            if let Ok(mut p) = pending.lock() {
                                p.push(signal);
                            }
                        }
                    });
            }
            Self { pending, stop }
        }

        /// Whether SIGTERM or SIGHUP came (`serve` stops).
        pub(super) fn stop_requested(&self) -> bool {
            self.stop.load(std::sync::atomic::Ordering::SeqCst)
        }

        /// Send the signals received since the last call to process `pid`.
        pub(super) fn forward_to(&self, pid: u32) {
            let signals = self
                .pending
                .lock()
                .map(|mut p| std::mem::take(&mut *p))
                .unwrap_or_default();
            let Some(pid) = i32::try_from(pid)
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            else {
                return;
            };
            for signal in signals {
                if let Some(signal) = rustix::process::Signal::from_named_raw(signal) {
                    let _ = rustix::process::kill_process(pid, signal);
                }
            }
        }
    }

    /// Windows has no signals to pass on (the job object ends the command with us).
    #[cfg(not(unix))]
    pub(super) struct Forward;

    #[cfg(not(unix))]
    impl Forward {
        pub(super) fn watch() -> Self {
            Self
        }
        pub(super) fn stop_requested(&self) -> bool {
            false
        }
        pub(super) fn forward_to(&self, _pid: u32) {}
    }
}
