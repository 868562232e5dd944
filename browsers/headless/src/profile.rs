//! The temporary Chromium profile's life: created owner-only (which also sweeps the
//! profiles of killed runs), given its preferences and Chromium's environment, and at
//! the end removed after Chromium and every helper of its process group (its Job Object
//! on Windows) are gone.

use std::path::Path;
use std::time::Instant;

use headless_chrome::Browser as Chrome;
use saml_login_capture::CaptureError;
use saml_login_capture::job::Job;

/// Temporary profiles are `saml-login-chromium-PID-RANDOM` in the temp directory.
const PROFILE_PREFIX: &str = "saml-login-chromium-";

/// A new temporary profile, owner-only, with its preferences written. Creating it also
/// removes the profiles of killed runs (they hold the IdP session cookie).
pub(crate) fn create() -> Result<tempfile::TempDir, CaptureError> {
    let profile = saml_login_capture::private_temp_dir(PROFILE_PREFIX)
        .map_err(|e| CaptureError::io("creating a temporary Chromium profile", e))?;
    write_preferences(profile.path())?;
    Ok(profile)
}

/// Chromium's environment on top of ours: its temporary files (the
/// `org.chromium.Chromium.*` directories it would leave in /tmp) go inside the profile,
/// removed with it; and saml-login's own variables, the password and the cookie jar
/// among them, are blanked, since Chromium and its crash handler do not need them.
pub(crate) fn chromium_environment(
    profile: &Path,
    ours: impl Iterator<Item = (std::ffi::OsString, std::ffi::OsString)>,
) -> Result<std::collections::HashMap<String, String>, CaptureError> {
    let tmp = profile.join("tmp");
    std::fs::create_dir_all(&tmp)
        .map_err(|e| CaptureError::io("writing the temporary Chromium profile", e))?;
    let mut env: std::collections::HashMap<String, String> = ours
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("SAML_LOGIN_") || k.starts_with("PKCE_LOGIN_"))
        .map(|k| (k, String::new()))
        .collect();
    env.insert("TMPDIR".into(), tmp.to_string_lossy().into_owned());
    Ok(env)
}

/// Profile preferences: no network prediction, so Chromium opens no speculative
/// connection (to the callback port or anywhere else) before a request is intercepted.
fn write_preferences(profile: &Path) -> Result<(), CaptureError> {
    let dir = profile.join("Default");
    let prefs = r#"{"net":{"network_prediction_options":2},"search":{"suggest_enabled":false}}"#;
    std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("Preferences"), prefs))
        .map_err(|e| CaptureError::io("writing the temporary Chromium profile", e))
}

/// Ends Chromium and removes its profile (on the teardown thread, see
/// [`saml_login_capture::teardown`]). On unix the whole process group goes at once with
/// SIGKILL: nothing of the profile is kept, so nothing needs saving. On Linux
/// saml-login is the helpers' subreaper meanwhile and reaps them (where PID 1 does not,
/// they would stay zombies).
pub(crate) fn end(browser: Chrome, profile: tempfile::TempDir, job: Option<Job>) {
    let started = Instant::now();
    let pid = browser.get_process_id();
    // Elsewhere (and should the group be unknown), the crate's own end: close the
    // browser, kill the process and wait for it.
    #[cfg(unix)]
    match pid.and_then(|p| rustix::process::Pid::from_raw(p as i32)) {
        Some(group) => process_group::end(group, browser),
        None => drop(browser),
    }
    // Windows: Chromium's Job Object ends it and every helper, then waits for them all,
    // so that none still holds a file of the profile.
    #[cfg(not(unix))]
    {
        if let Some(job) = &job
            && !job.end(std::time::Duration::from_secs(5))
        {
            tracing::debug!("Chromium processes still running after 5 s");
        }
        drop(browser);
        drop(job);
    }
    #[cfg(unix)]
    let _ = job;
    if let Err(e) = profile.close() {
        tracing::debug!("could not remove the temporary Chromium profile: {e}");
    }
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        pid,
        "Chromium ended and its profile removed"
    );
}

#[cfg(unix)]
mod process_group {
    use std::time::{Duration, Instant};

    use rustix::process::{Pid, Signal, kill_process_group};

    /// How long the helpers may take to die after SIGKILL before saml-login gives up
    /// waiting (they are normally gone within milliseconds).
    const LIMIT: Duration = Duration::from_secs(5);

    /// Kills the process group `group` (Chromium and its helpers), drops the crate's
    /// browser (which reaps the main process) and waits until no process of the group
    /// is left.
    pub(super) fn end(group: Pid, browser: super::Chrome) {
        #[cfg(target_os = "linux")]
        let reaper = rustix::process::set_child_subreaper(Some(rustix::process::getpid())).is_ok();
        if let Err(e) = kill_process_group(group, Signal::KILL) {
            tracing::debug!("could not kill Chromium's process group: {e}");
        }
        // The crate's drop asks the dead browser to close (the pipe is gone: it fails
        // at once), kills its process and waits for it.
        let killed = Instant::now();
        drop(browser);
        tracing::debug!(
            elapsed_ms = killed.elapsed().as_millis() as u64,
            "Chromium's main process is gone"
        );
        let until = Instant::now() + LIMIT;
        #[cfg(target_os = "linux")]
        if reaper {
            reap(group, until);
            let _ = rustix::process::set_child_subreaper(None);
            return;
        }
        // Without a subreaper: until the group is empty (zombies count: ask the system
        // to reap them).
        while rustix::process::test_kill_process_group(group).is_ok() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Reaps the group's processes as they come to saml-login (their parents died
    /// first), until none of the group is left among its children.
    #[cfg(target_os = "linux")]
    fn reap(group: Pid, until: Instant) {
        use rustix::process::{WaitOptions, waitpgid};
        while Instant::now() < until {
            match waitpgid(group, WaitOptions::NOHANG) {
                // One reaped: look again at once.
                Ok(Some(_)) => {}
                // Some still dying: they come to us when they (or their parents) die.
                Ok(None) => std::thread::sleep(Duration::from_millis(1)),
                // None left (ECHILD).
                Err(_) => return,
            }
        }
        tracing::debug!("Chromium helper processes still running after {LIMIT:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chromium_gets_a_private_tmpdir_and_none_of_our_secrets() {
        let profile = tempfile::tempdir().unwrap();
        let ours = [
            ("SAML_LOGIN_PASSWORD", "hunter2"),
            ("SAML_LOGIN_COOKIES", "jar"),
            ("PKCE_LOGIN_CONFIG", "x"),
            ("HOME", "/home/u"),
        ]
        .map(|(k, v)| (k.into(), v.into()));
        let env = chromium_environment(profile.path(), ours.into_iter()).unwrap();
        assert_eq!(env["SAML_LOGIN_PASSWORD"], "");
        assert_eq!(env["SAML_LOGIN_COOKIES"], "");
        assert_eq!(env["PKCE_LOGIN_CONFIG"], "");
        assert!(!env.contains_key("HOME"), "inherited as it is");
        assert_eq!(env["TMPDIR"], profile.path().join("tmp").to_string_lossy());
        assert!(profile.path().join("tmp").is_dir());
    }
}
