//! saml-login's caches in the user's cache directory (mode 0700, files 0600, written
//! atomically): temporary credentials per section and role, for `credential-process`
//! and `exec`; and the last SAML assertion per IdP and client, so a second command for
//! another role needs no new login. Nothing is served past its expiry.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::assertion::SamlResponse;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::store::SecretFile;

/// Credentials are served from the cache while more than this remains.
pub const CREDENTIALS_MARGIN: time::Duration = time::Duration::minutes(10);
/// An assertion is reused until its `NotOnOrAfter` minus this.
pub const ASSERTION_MARGIN: time::Duration = time::Duration::minutes(1);

/// The cache directory.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct CachedCredentials {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
}

#[derive(Serialize, Deserialize)]
struct CachedAssertion {
    saml_response: String,
    not_on_or_after: String,
}

impl Cache {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn credentials_path(&self, section: &str, role_arn: &str) -> PathBuf {
        self.dir.join("credentials").join(format!(
            "{}.json",
            file_name(&format!("{section}--{role_arn}"))
        ))
    }

    fn assertion_path(&self, login: &str) -> PathBuf {
        self.dir
            .join("assertions")
            .join(format!("{}.json", file_name(login)))
    }

    /// Cached credentials with more than [`CREDENTIALS_MARGIN`] left at `now`.
    pub fn credentials(
        &self,
        section: &str,
        role_arn: &str,
        now: OffsetDateTime,
    ) -> Option<Credentials> {
        let path = self.credentials_path(section, role_arn);
        let cached: CachedCredentials = read_json(&path)?;
        let expiration = OffsetDateTime::parse(&cached.expiration, &Rfc3339).ok()?;
        if expiration - now <= CREDENTIALS_MARGIN {
            tracing::debug!(path = %path.display(), "cached credentials are too close to expiry");
            return None;
        }
        Some(Credentials {
            access_key_id: cached.access_key_id,
            secret_access_key: cached.secret_access_key.into(),
            session_token: cached.session_token.into(),
            expiration,
        })
    }

    pub fn store_credentials(&self, section: &str, role_arn: &str, c: &Credentials) -> Result<()> {
        let cached = CachedCredentials {
            access_key_id: c.access_key_id.clone(),
            secret_access_key: c.secret_access_key.expose().to_owned(),
            session_token: c.session_token.expose().to_owned(),
            expiration: c.expiration_rfc3339(),
        };
        write_json(&self.credentials_path(section, role_arn), &cached)
    }

    /// The last assertion of the login page `login` (the IdP and application), while
    /// it is still valid at `now`.
    pub fn assertion(&self, login: &str, now: OffsetDateTime) -> Option<SamlResponse> {
        let path = self.assertion_path(login);
        let cached: CachedAssertion = read_json(&path)?;
        let until = OffsetDateTime::parse(&cached.not_on_or_after, &Rfc3339).ok()?;
        if until - ASSERTION_MARGIN <= now {
            tracing::debug!("the cached assertion has expired");
            let _ = std::fs::remove_file(&path);
            return None;
        }
        Some(SamlResponse::new(cached.saml_response))
    }

    /// Keep `response` until `not_on_or_after`.
    pub fn store_assertion(
        &self,
        login: &str,
        response: &SamlResponse,
        not_on_or_after: OffsetDateTime,
    ) -> Result<()> {
        let cached = CachedAssertion {
            saml_response: response.expose().to_owned(),
            not_on_or_after: not_on_or_after.format(&Rfc3339).unwrap_or_default(),
        };
        write_json(&self.assertion_path(login), &cached)
    }

    /// Forget the assertion (STS refused it).
    pub fn drop_assertion(&self, login: &str) {
        let _ = std::fs::remove_file(self.assertion_path(login));
    }
}

/// A file name from any text: safe characters kept, others hex-escaped.
fn file_name(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02x}"),
        })
        .collect()
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    if let Err((at, why)) = crate::store::check_trusted(path) {
        if path.exists() {
            tracing::warn!(
                "ignoring the cache file {}: {} {why}",
                path.display(),
                at.display()
            );
        }
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    match serde_json::from_str(&text) {
        Ok(v) => Some(v),
        Err(_) => {
            tracing::warn!(path = %path.display(), "ignoring an unreadable cache file");
            None
        }
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let json = serde_json::to_vec(value).map_err(|e| Error::Write {
        path: path.to_owned(),
        source: std::io::Error::other(e),
    })?;
    SecretFile::new(path).replace_creating_dir(&json)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn creds(expiration: OffsetDateTime) -> Credentials {
        Credentials {
            access_key_id: "AKIA".into(),
            secret_access_key: "s".to_owned().into(),
            session_token: "t".to_owned().into(),
            expiration,
        }
    }

    #[test]
    fn credentials_served_until_ten_minutes_before_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"));
        let exp = datetime!(2030-01-01 12:00 UTC);
        cache
            .store_credentials("dev", "arn:aws:iam::1:role/r", &creds(exp))
            .unwrap();
        assert!(
            cache
                .credentials(
                    "dev",
                    "arn:aws:iam::1:role/r",
                    datetime!(2030-01-01 11:49 UTC)
                )
                .is_some()
        );
        assert!(
            cache
                .credentials(
                    "dev",
                    "arn:aws:iam::1:role/r",
                    datetime!(2030-01-01 11:50 UTC)
                )
                .is_none()
        );
        assert!(
            cache
                .credentials(
                    "prod",
                    "arn:aws:iam::1:role/r",
                    datetime!(2030-01-01 11:00 UTC)
                )
                .is_none()
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let f = cache.credentials_path("dev", "arn:aws:iam::1:role/r");
            assert_eq!(
                std::fs::metadata(&f).unwrap().permissions().mode() & 0o777,
                0o600
            );
            let d = f.parent().unwrap();
            assert_eq!(
                std::fs::metadata(d).unwrap().permissions().mode() & 0o777,
                0o700
            );
        }
    }

    #[test]
    fn assertion_never_served_past_expiry() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().to_owned());
        let r = SamlResponse::new("PHNhbWw+");
        cache
            .store_assertion("https://idp/samlp/c", &r, datetime!(2030-01-01 12:00 UTC))
            .unwrap();
        let before = datetime!(2030-01-01 11:58 UTC);
        assert_eq!(
            cache
                .assertion("https://idp/samlp/c", before)
                .unwrap()
                .expose(),
            "PHNhbWw+"
        );
        assert!(cache.assertion("https://idp/samlp/other", before).is_none());
        assert!(
            cache
                .assertion("https://idp/samlp/c", datetime!(2030-01-01 11:59:30 UTC))
                .is_none()
        );
        // ... and the expired one is gone.
        assert!(cache.assertion("https://idp/samlp/c", before).is_none());
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_name("dev--arn:aws:iam::1:role/a b"),
            "dev--arn%3aaws%3aiam%3a%3a1%3arole%2fa%20b"
        );
    }
}
