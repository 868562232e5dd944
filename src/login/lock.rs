//! One login at a time per IdP: concurrent saml-login processes (parallel
//! `credential_process` calls from an SDK, `exec`, `aws-assume-role`) take a lock file
//! in the cache directory before they log in. A second process waits for the login in
//! progress (and says so), then uses what it stored, instead of opening a second
//! browser or failing on the callback port. The lock is an OS file lock, released when
//! its holder exits or dies.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use saml_login_capture::{Cancel, ExistingDir, create_private_dir};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::storage::lock_file::open_lock_file;

/// How often a waiting process tries the lock again.
const RETRY: Duration = Duration::from_millis(25);

/// How long a waiting process looks for the holder's pid before it says it waits
/// without one.
const PID_GRACE: Duration = Duration::from_secs(1);

/// A held login lock; released on drop.
#[derive(Debug)]
pub(crate) struct LoginLock {
    _file: File,
}

/// Whether the lock was free or another process held it first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Acquired {
    Free,
    /// Another saml-login held it: what it stored may now serve this run.
    AfterWaiting,
}

impl LoginLock {
    /// Take the lock named by `key` (the IdP, or a port) in `dir`, waiting at most
    /// `patience` for another holder; Ctrl-C stops the wait.
    pub(crate) fn acquire(
        dir: &Path,
        key: &str,
        patience: Duration,
        cancel: &Cancel,
    ) -> Result<(Self, Acquired)> {
        // Another user's directory could hold a planted link (issue 27, finding 5).
        crate::storage::credentials_file::check_trusted(dir).map_err(|(path, why)| {
            Error::Untrusted {
                message: format!("{why}; saml-login keeps no login lock there"),
                path,
            }
        })?;
        // The cache's locks directory: saml-login's own.
        create_private_dir(dir, ExistingDir::Tighten).map_err(|source| Error::Write {
            path: dir.to_owned(),
            source,
        })?;
        let digest = Sha256::digest(key.as_bytes());
        let name = hex::encode(&digest[..12]);
        let path = dir.join(format!("{name}.lock"));
        let mut file = open_lock_file(&path)?;
        is_own_lock(&file, &path)?;
        let mut acquired = Acquired::Free;
        let mut announced = false;
        let deadline = Instant::now() + patience;
        // The holder writes its pid just after it takes the lock: a moment to read it.
        let quiet_until = Instant::now() + PID_GRACE;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(std::fs::TryLockError::WouldBlock) => {}
                Err(std::fs::TryLockError::Error(source)) => {
                    return Err(Error::Write { path, source });
                }
            }
            acquired = Acquired::AfterWaiting;
            let holder = holder_pid(&mut file);
            if !announced && (holder.is_some() || Instant::now() >= quiet_until) {
                match &holder {
                    Some(pid) => {
                        crate::output::notice!(
                            "waiting for the login in saml-login pid {pid} ({key})"
                        );
                    }
                    None => crate::output::notice!("waiting for another saml-login's {key}"),
                }
                announced = true;
            }
            if cancel.is_cancelled() {
                return Err(Error::Interrupted);
            }
            if Instant::now() >= deadline {
                return Err(Error::LoginWait {
                    holder: holder.map_or_else(
                        || format!("another saml-login's {key}"),
                        |pid| format!("the login in saml-login pid {pid}"),
                    ),
                    waited: patience,
                });
            }
            std::thread::sleep(RETRY);
        }
        // Say who holds it, for the next one to wait.
        let _ = file.set_len(0);
        let _ = file.rewind();
        let _ = write!(file, "{}", std::process::id());
        Ok((Self { _file: file }, acquired))
    }
}

/// The opened lock is a regular file of this user with no other name (not a hard link
/// to another file).
#[cfg(unix)]
fn is_own_lock(file: &File, path: &Path) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let meta = file.metadata().map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let me = rustix::process::geteuid().as_raw();
    if !meta.is_file() || meta.uid() != me || meta.nlink() != 1 {
        return Err(Error::Untrusted {
            message: format!(
                "is not a lock file of yours (owner uid {}, {} link(s)); saml-login does not use it",
                meta.uid(),
                meta.nlink()
            ),
            path: path.to_owned(),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn is_own_lock(_: &File, _: &Path) -> Result<()> {
    Ok(())
}

fn holder_pid(file: &mut File) -> Option<String> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    let pid = text.trim();
    (!pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit())).then(|| pid.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_waits_and_gives_up_at_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let cancel = Cancel::new();
        let (held, how) =
            LoginLock::acquire(dir.path(), "idp-a", Duration::from_secs(1), &cancel).unwrap();
        assert_eq!(how, Acquired::Free);
        // Another key is another lock.
        LoginLock::acquire(dir.path(), "idp-b", Duration::ZERO, &cancel).unwrap();
        let started = Instant::now();
        let e = LoginLock::acquire(dir.path(), "idp-a", Duration::from_millis(200), &cancel)
            .unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(200));
        assert!(
            e.to_string()
                .contains(&format!("saml-login pid {}", std::process::id())),
            "{e}"
        );
        let waiter = {
            let dir = dir.path().to_owned();
            std::thread::spawn(move || {
                LoginLock::acquire(&dir, "idp-a", Duration::from_secs(10), &Cancel::new())
                    .map(|(_, how)| how)
            })
        };
        // Time for the waiter to find the lock taken, also on a loaded machine (100 ms
        // was once too little under Wine at the lowest CPU priority).
        std::thread::sleep(Duration::from_secs(2));
        drop(held);
        assert_eq!(waiter.join().unwrap().unwrap(), Acquired::AfterWaiting);
    }
}
