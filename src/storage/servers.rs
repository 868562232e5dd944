//! The credential servers running (`exec --server`, `serve`), for `status`: one small
//! file per server in the cache directory (`servers/PID.json`, 0600 in a 0700
//! directory) saying where it listens, what it serves and until when its keys are
//! valid; never the token or a key. The server removes its file when it ends; `status`
//! skips (and removes) the file of a process that is gone.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::storage::credentials_file::SecretFile;

/// What `status` shows of one running server.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ServerEntry {
    pub pid: u32,
    /// `exec --server` or `serve`.
    pub mode: String,
    /// The endpoint's URL (no token).
    pub url: String,
    /// The section or `--profile` whose role it serves.
    pub serves: String,
    /// The role's ARN, when known before the first call.
    pub role: Option<String>,
    /// When the keys it holds expire (RFC 3339); none while it waits for a login.
    pub expiration: Option<String>,
}

impl ServerEntry {
    pub(crate) fn until(&self) -> Option<OffsetDateTime> {
        self.expiration
            .as_deref()
            .and_then(|e| OffsetDateTime::parse(e, &Rfc3339).ok())
    }
}

fn dir(cache: &Path) -> PathBuf {
    cache.join("servers")
}

/// A running server's file, removed when this drops.
pub(crate) struct Registration {
    file: PathBuf,
    entry: std::sync::Mutex<ServerEntry>,
}

impl Registration {
    /// Write `entry`'s file; `None` (and a `--verbose` line) when it cannot be written:
    /// `status` then misses this server, which serves all the same.
    pub(crate) fn write(cache: &Path, entry: ServerEntry) -> Option<Self> {
        let file = dir(cache).join(format!("{}.json", entry.pid));
        let registration = Self {
            file,
            entry: std::sync::Mutex::new(entry),
        };
        registration.store().then_some(registration)
    }

    fn store(&self) -> bool {
        let entry = self
            .entry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let text = serde_json::to_string(&*entry).unwrap_or_default();
        match SecretFile::new(&self.file).replace_creating_dir(text.as_bytes()) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(error = %e, "the credential server is not listed for status");
                false
            }
        }
    }

    /// The keys held now expire at `until`.
    pub(crate) fn held_until(&self, until: OffsetDateTime) {
        if let Ok(mut entry) = self.entry.lock() {
            entry.expiration = until.format(&Rfc3339).ok();
        }
        self.store();
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
    }
}

/// Whether process `pid` is running.
fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .is_some_and(|p| {
                !matches!(
                    rustix::process::test_kill_process(p),
                    Err(rustix::io::Errno::SRCH)
                )
            })
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// The servers running now, oldest first by PID; the files of ended ones are removed.
pub(crate) fn running(cache: &Path) -> Vec<ServerEntry> {
    let Ok(read) = std::fs::read_dir(dir(cache)) else {
        return Vec::new();
    };
    let mut found: Vec<ServerEntry> = read
        .filter_map(std::result::Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|e| {
            let path = e.path();
            let entry: ServerEntry =
                serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
            let named = path.file_stem()?.to_str()? == entry.pid.to_string();
            if named && alive(entry.pid) {
                Some(entry)
            } else {
                let _ = std::fs::remove_file(&path);
                None
            }
        })
        .collect();
    found.sort_by_key(|e| e.pid);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(pid: u32) -> ServerEntry {
        ServerEntry {
            pid,
            mode: "serve".into(),
            url: "http://127.0.0.1:9/credentials".into(),
            serves: "dev".into(),
            role: Some("arn:aws:iam::123456789012:role/Developer".into()),
            expiration: None,
        }
    }

    #[test]
    fn a_running_server_is_listed_until_its_registration_drops() {
        let cache = tempfile::tempdir().unwrap();
        let me = std::process::id();
        let registration = Registration::write(cache.path(), entry(me)).unwrap();
        registration.held_until(time::macros::datetime!(2030-01-01 12:00 UTC));
        let listed = running(cache.path());
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].until(),
            Some(time::macros::datetime!(2030-01-01 12:00 UTC))
        );
        drop(registration);
        assert!(running(cache.path()).is_empty());
    }

    #[cfg(unix)]
    #[test]
    fn the_file_of_an_ended_process_is_skipped_and_removed() {
        let cache = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let registration = Registration::write(cache.path(), entry(pid)).unwrap();
        assert!(running(cache.path()).is_empty());
        assert!(!registration.file.exists());
    }
}
