//! `exec`'s command as a child of saml-login: started, waited for, and never left
//! behind. On Unix, SIGTERM, SIGINT and SIGHUP sent to saml-login are passed on to it
//! (as aws-vault does) and saml-login waits for it to end; on Linux it also gets
//! `PR_SET_PDEATHSIG`, so that it ends when saml-login is killed outright. On Windows
//! it joins a Job Object that ends with saml-login.

use std::process::{Command, ExitStatus};

/// Spawn `command` and wait for it, passing on the signals that ask saml-login to end.
pub(crate) fn spawn_and_wait(command: &mut Command) -> std::io::Result<ExitStatus> {
    dies_with_us(command);
    // The handlers are in place before the command starts: a signal that arrives while
    // it starts waits for the forwarding thread instead of ending saml-login.
    let signals = Forwarding::register();
    let mut child = command.spawn()?;
    // Windows: the command and its children die with saml-login.
    let _job = saml_login_capture::job::for_child(child.id(), "the command");
    // Signals are passed on while the child runs, and no longer once it has ended.
    let _forwarding = signals.start(child.id());
    child.wait()
}

/// Linux: the command gets SIGTERM when saml-login ends, even by SIGKILL.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn dies_with_us(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = rustix::process::getpid();
    // SAFETY: between fork and exec the closure makes two system calls (prctl,
    // getppid) and allocates nothing, as `pre_exec` requires.
    unsafe {
        command.pre_exec(move || {
            rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::TERM))?;
            // saml-login ended before the prctl: nothing will send the signal.
            if rustix::process::getppid() != Some(parent) {
                return Err(std::io::Error::other("saml-login ended"));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn dies_with_us(_command: &mut Command) {}

/// The thread passing signals on to the child while it runs (Unix).
#[cfg(unix)]
struct Forwarding {
    handle: Option<signal_hook::iterator::Handle>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The signals caught, before the command starts (Unix).
#[cfg(unix)]
struct Registered(
    Option<signal_hook::iterator::SignalsInfo<signal_hook::iterator::exfiltrator::WithOrigin>>,
);

#[cfg(unix)]
impl Forwarding {
    fn register() -> Registered {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        use signal_hook::iterator::SignalsInfo;
        use signal_hook::iterator::exfiltrator::WithOrigin;

        let signals = SignalsInfo::<WithOrigin>::new([SIGTERM, SIGINT, SIGHUP]);
        // From here on SIGTERM and SIGHUP are the command's, not an end of a login.
        crate::termination::hand_over();
        if signals.is_err() {
            crate::output::warning!("cannot pass signals on to the command");
        }
        Registered(signals.ok())
    }
}

#[cfg(unix)]
impl Registered {
    fn start(self, child: u32) -> Forwarding {
        use signal_hook::low_level::siginfo::Cause;

        let Some(mut signals) = self.0 else {
            return Forwarding {
                handle: None,
                thread: None,
            };
        };
        let handle = signals.handle();
        let thread = std::thread::spawn(move || {
            let Some(pid) = i32::try_from(child)
                .ok()
                .and_then(rustix::process::Pid::from_raw)
            else {
                return;
            };
            for origin in signals.forever() {
                // The terminal's Ctrl-C and hang-up reach the whole foreground group,
                // the command too: passing them on would deliver them twice.
                if origin.cause == Cause::Kernel {
                    continue;
                }
                if let Some(signal) = rustix::process::Signal::from_named_raw(origin.signal) {
                    tracing::debug!("passing signal {} on to the command", origin.signal);
                    let _ = rustix::process::kill_process(pid, signal);
                }
            }
        });
        Forwarding {
            handle: Some(handle),
            thread: Some(thread),
        }
    }
}

#[cfg(unix)]
impl Drop for Forwarding {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            handle.close();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(not(unix))]
struct Forwarding;

#[cfg(not(unix))]
struct Registered;

#[cfg(not(unix))]
impl Forwarding {
    fn register() -> Registered {
        Registered
    }
}

#[cfg(not(unix))]
impl Registered {
    fn start(self, _child: u32) -> Forwarding {
        Forwarding
    }
}
