//! A group of child processes that ends with saml-login: Chromium with its helpers, the
//! webview helper (and WebView2's processes), `exec`'s command. On Windows it is a Job
//! Object created with "kill on job close", so the children die when the [`Job`] is
//! dropped and also when saml-login is killed (the system closes its handles). Elsewhere
//! it does nothing: Chromium has its own process group there (browsers/headless), and
//! the other children are not tied to saml-login's life (SECURITY.md, known limits).

use std::io;
use std::time::{Duration, Instant};

/// See the module documentation.
#[derive(Debug)]
pub struct Job {
    #[cfg(windows)]
    handle: crate::win32::Owned,
}

impl Job {
    /// A new, empty job.
    pub fn new() -> io::Result<Self> {
        Ok(Self {
            #[cfg(windows)]
            handle: crate::win32::create_kill_on_close_job()?,
        })
    }

    /// A new job holding process `pid` (and every process it starts from then on).
    pub fn holding(pid: u32) -> io::Result<Self> {
        let job = Self::new()?;
        job.adopt(pid)?;
        Ok(job)
    }

    /// Puts process `pid` into the job. Does nothing outside Windows.
    pub fn adopt(&self, pid: u32) -> io::Result<()> {
        #[cfg(windows)]
        return crate::win32::assign(&self.handle, pid);
        #[cfg(not(windows))]
        {
            let _ = pid;
            Ok(())
        }
    }

    /// Kills every process of the job and waits, at most `limit`, until none is left.
    /// True when none is left (always true outside Windows, where the job is empty).
    pub fn end(&self, limit: Duration) -> bool {
        #[cfg(windows)]
        {
            let _ = crate::win32::terminate(&self.handle);
            let until = Instant::now() + limit;
            wait_until(until, || {
                crate::win32::active_processes(&self.handle).map_or(true, |n| n == 0)
            })
        }
        #[cfg(not(windows))]
        {
            let _ = (limit, Instant::now());
            true
        }
    }
}

/// A job holding child `pid` (`what`, for the log); `None` when none could be made (the
/// reason is logged at debug level): the caller goes on, as it would elsewhere.
pub fn for_child(pid: u32, what: &str) -> Option<Job> {
    Job::holding(pid)
        .map_err(|e| tracing::debug!("could not put {what} (pid {pid}) in a job: {e}"))
        .ok()
}

/// Polls `done` every millisecond until it is true or `until` has passed; whether it
/// became true.
pub fn wait_until(until: Instant, mut done: impl FnMut() -> bool) -> bool {
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Whether process `pid` is still running (for sweeping what killed runs left).
#[cfg(windows)]
pub fn process_running(pid: u32) -> bool {
    crate::win32::process_running(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_holds_a_child_and_ends_it() {
        let mut child = sleeper();
        let job = Job::holding(child.id()).expect("a job");
        assert!(job.end(Duration::from_secs(5)));
        if cfg!(windows) {
            // The job killed it: it has ended without anyone else killing it.
            let status = child.wait().unwrap();
            assert!(!status.success());
        } else {
            // Nothing is done elsewhere: the child still runs.
            assert!(child.try_wait().unwrap().is_none());
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    #[test]
    fn wait_until_is_bounded() {
        let started = Instant::now();
        assert!(!wait_until(started + Duration::from_millis(30), || false));
        assert!(started.elapsed() < Duration::from_secs(2));
        let mut n = 0;
        assert!(wait_until(started + Duration::from_secs(5), || {
            n += 1;
            n == 3
        }));
    }

    fn sleeper() -> std::process::Child {
        let mut command = if cfg!(windows) {
            let mut c = std::process::Command::new("ping");
            c.args(["-n", "30", "127.0.0.1"]);
            c
        } else {
            let mut c = std::process::Command::new("sleep");
            c.arg("30");
            c
        };
        command
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("start a child")
    }
}
