//! The IdPs the webview could not serve (their page asked for a passkey or a managed
//! device): one small file per IdP in the cache directory, `webview-refusals/IDP.json`,
//! with what the page asked for and the date, so that the next login there goes straight
//! to the system browser. `--retry-webview` and `logout` forget it. Nothing secret is
//! kept; the files are written like the caches' (atomically, 0600, only when trusted).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::Result;
use crate::storage::secret_store::{FileStore, SecretStore};

const KIND: &str = "webview-refusals";

/// Why and since when the webview cannot serve an IdP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Refusal {
    /// The login page (IdP and application) it is about.
    pub idp: String,
    /// What the page asked for, in words ("a passkey").
    pub asked_for: String,
    /// When it was found, RFC 3339.
    pub since: String,
}

impl Refusal {
    /// `2026-12-07`, from [`Refusal::since`].
    pub(crate) fn date(&self) -> &str {
        self.since.get(..10).unwrap_or(&self.since)
    }
}

/// The remembered refusals in a cache directory.
pub(crate) struct WebviewRefusals {
    files: FileStore,
    dir: PathBuf,
}

impl WebviewRefusals {
    pub(crate) fn new(cache_dir: PathBuf) -> Self {
        Self {
            files: FileStore::new(cache_dir.clone()),
            dir: cache_dir.join(KIND),
        }
    }

    fn name(idp: &str) -> String {
        format!("{KIND}/{idp}")
    }

    /// The refusal remembered for `idp`, if any (an unreadable or untrusted file is
    /// none: the webview is tried again).
    pub(crate) fn get(&self, idp: &str) -> Option<Refusal> {
        let bytes = self.files.get(&Self::name(idp)).ok()??;
        serde_json::from_slice::<Refusal>(&bytes)
            .ok()
            .filter(|r| r.idp == idp)
    }

    /// Remember that the webview cannot serve `idp`.
    pub(crate) fn remember(&self, idp: &str, asked_for: &str, now: OffsetDateTime) -> Result<()> {
        let refusal = Refusal {
            idp: idp.to_owned(),
            asked_for: asked_for.to_owned(),
            since: now.format(&Rfc3339).unwrap_or_default(),
        };
        let json = serde_json::to_vec(&refusal).expect("a refusal serializes");
        self.files.put(&Self::name(idp), &json)
    }

    /// Forget the refusal of `idp` (of every IdP when `None`); how many were forgotten.
    pub(crate) fn forget(&self, idp: Option<&str>) -> Result<usize> {
        match idp {
            Some(idp) => Ok(usize::from(self.files.delete(&Self::name(idp))?)),
            None => {
                let mut forgotten = 0;
                for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
                    if crate::storage::secret_store::remove_file(&entry.path())? {
                        forgotten += 1;
                    }
                }
                Ok(forgotten)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn remembered_per_idp_with_its_date_until_forgotten() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let refusals = WebviewRefusals::new(cache.clone());
        let a = "https://a.example/samlp/x";
        let b = "https://b.example/samlp/y";
        assert_eq!(refusals.get(a), None);
        refusals
            .remember(a, "a passkey", datetime!(2026-12-07 12:30 UTC))
            .unwrap();
        refusals
            .remember(
                b,
                "a managed device (AADSTS53001)",
                datetime!(2026-12-08 08:00 UTC),
            )
            .unwrap();
        let got = refusals.get(a).unwrap();
        assert_eq!(got.asked_for, "a passkey");
        assert_eq!(got.date(), "2026-12-07");
        #[cfg(unix)]
        for entry in std::fs::read_dir(cache.join(KIND)).unwrap() {
            use std::os::unix::fs::PermissionsExt;
            let mode = entry.unwrap().metadata().unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{mode:o}");
        }
        assert_eq!(refusals.forget(Some(a)).unwrap(), 1);
        assert_eq!(refusals.get(a), None);
        assert!(refusals.get(b).is_some(), "only that IdP's");
        assert_eq!(refusals.forget(None).unwrap(), 1);
        assert_eq!(refusals.get(b), None);
        assert_eq!(refusals.forget(None).unwrap(), 0);
    }
}
