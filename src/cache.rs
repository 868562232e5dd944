//! saml-login's caches in the user's cache directory (mode 0700, files 0600, written
//! atomically): temporary credentials per request ([`SessionIdentity`]: IdP, account,
//! role, policies, duration, region), for `credential-process`, `exec` and `env`; and
//! the last SAML assertion per IdP and client, so a second command for another role
//! needs no new login. Nothing is served past its expiry, nor for another request.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::assertion::SamlResponse;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::identity::SessionIdentity;
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
    /// The [`SessionIdentity`] fingerprint of the request that produced them.
    identity: String,
    /// The login's start page (the IdP), so that `logout` finds the entries of an IdP;
    /// absent in entries written before it was recorded.
    #[serde(default)]
    idp: Option<String>,
    role_arn: String,
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
    expiration: String,
}

#[derive(Serialize, Deserialize)]
struct CachedAssertion {
    saml_response: String,
    not_on_or_after: String,
    /// When the login that produced it ended.
    obtained_at: String,
}

/// Credentials from the cache, with the role they are for.
#[derive(Debug)]
pub struct CachedKeys {
    pub credentials: Credentials,
    pub role_arn: String,
}

/// An assertion from the cache, with when it was obtained and until when it serves.
#[derive(Debug)]
pub struct CachedResponse {
    pub response: SamlResponse,
    pub obtained_at: OffsetDateTime,
    pub not_on_or_after: OffsetDateTime,
}

impl Cache {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn credentials_path(&self, identity: &str) -> PathBuf {
        self.dir
            .join("credentials")
            .join(format!("{}.json", file_name(identity)))
    }

    fn assertion_path(&self, login: &str) -> PathBuf {
        self.dir
            .join("assertions")
            .join(format!("{}.json", file_name(login)))
    }

    /// Where the login locks live.
    pub fn locks_dir(&self) -> PathBuf {
        self.dir.join("locks")
    }

    /// Cached credentials of exactly the request `identity`, with more than
    /// [`CREDENTIALS_MARGIN`] left at `now`.
    pub(crate) fn credentials(
        &self,
        identity: &SessionIdentity,
        now: OffsetDateTime,
    ) -> Option<CachedKeys> {
        self.credentials_for(&identity.fingerprint(), now)
    }

    /// Cached credentials of the request whose fingerprint is `fingerprint` (a
    /// [`SessionIdentity`], or a hop of a profile chain).
    pub(crate) fn credentials_for(
        &self,
        fingerprint: &str,
        now: OffsetDateTime,
    ) -> Option<CachedKeys> {
        let path = self.credentials_path(fingerprint);
        let cached: CachedCredentials = read_json(&path)?;
        if cached.identity != fingerprint {
            tracing::debug!(path = %path.display(), "cached credentials of another request");
            return None;
        }
        let expiration = OffsetDateTime::parse(&cached.expiration, &Rfc3339).ok()?;
        if expiration - now <= CREDENTIALS_MARGIN {
            tracing::debug!(path = %path.display(), "cached credentials are too close to expiry");
            return None;
        }
        Some(CachedKeys {
            credentials: Credentials {
                access_key_id: cached.access_key_id,
                secret_access_key: cached.secret_access_key.into(),
                session_token: cached.session_token.into(),
                expiration,
            },
            role_arn: cached.role_arn,
        })
    }

    pub(crate) fn store_credentials(
        &self,
        identity: &SessionIdentity,
        role_arn: &str,
        c: &Credentials,
    ) -> Result<()> {
        self.store_credentials_for(&identity.fingerprint(), Some(identity.idp()), role_arn, c)
    }

    /// [`Self::store_credentials`] by fingerprint; `idp` is the login it came from, if
    /// any (a hop of a profile chain has none: `logout` of any IdP forgets it).
    pub(crate) fn store_credentials_for(
        &self,
        fingerprint: &str,
        idp: Option<&str>,
        role_arn: &str,
        c: &Credentials,
    ) -> Result<()> {
        let cached = CachedCredentials {
            identity: fingerprint.to_owned(),
            idp: idp.map(str::to_owned),
            role_arn: role_arn.to_owned(),
            access_key_id: c.access_key_id.clone(),
            secret_access_key: c.secret_access_key.expose().to_owned(),
            session_token: c.session_token.expose().to_owned(),
            expiration: c.expiration_rfc3339(),
        };
        write_json(&self.credentials_path(fingerprint), &cached)
    }

    /// The last assertion of the login page `login` (the IdP and application), while
    /// it is still valid at `now`.
    pub fn assertion(&self, login: &str, now: OffsetDateTime) -> Option<CachedResponse> {
        let path = self.assertion_path(login);
        let cached: CachedAssertion = read_json(&path)?;
        let until = OffsetDateTime::parse(&cached.not_on_or_after, &Rfc3339).ok()?;
        let obtained_at = OffsetDateTime::parse(&cached.obtained_at, &Rfc3339).ok()?;
        if until - ASSERTION_MARGIN <= now {
            tracing::debug!("the cached assertion has expired");
            let _ = std::fs::remove_file(&path);
            return None;
        }
        Some(CachedResponse {
            response: SamlResponse::new(cached.saml_response),
            obtained_at,
            not_on_or_after: until,
        })
    }

    /// Keep `response`, obtained at `obtained_at`, until `not_on_or_after`.
    pub fn store_assertion(
        &self,
        login: &str,
        response: &SamlResponse,
        obtained_at: OffsetDateTime,
        not_on_or_after: OffsetDateTime,
    ) -> Result<()> {
        let cached = CachedAssertion {
            saml_response: response.expose().to_owned(),
            not_on_or_after: not_on_or_after.format(&Rfc3339).unwrap_or_default(),
            obtained_at: obtained_at.format(&Rfc3339).unwrap_or_default(),
        };
        write_json(&self.assertion_path(login), &cached)
    }

    /// `logout`: remove the cached assertion and credentials of the login page `login`
    /// (every IdP's when `None`; entries that do not say their IdP go too). Returns
    /// whether an assertion was removed and how many credential entries.
    pub fn forget(&self, login: Option<&str>) -> Result<(bool, usize)> {
        let remove = |path: &Path| match std::fs::remove_file(path) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(source) => Err(Error::Write {
                path: path.to_owned(),
                source,
            }),
        };
        let mut assertions = false;
        let assertion_files: Vec<PathBuf> = match login {
            Some(login) => vec![self.assertion_path(login)],
            None => json_files(&self.dir.join("assertions")),
        };
        for path in assertion_files {
            assertions |= remove(&path)?;
        }
        let mut credentials = 0;
        for path in json_files(&self.dir.join("credentials")) {
            let mine = match login {
                None => true,
                Some(login) => {
                    let entry: Option<CachedCredentials> = read_json(&path);
                    entry.is_none_or(|c| c.idp.as_deref().is_none_or(|idp| idp == login))
                }
            };
            if mine && remove(&path)? {
                credentials += 1;
            }
        }
        Ok((assertions, credentials))
    }

    /// Forget the assertion (STS refused it, or a login replaces it).
    pub fn drop_assertion(&self, login: &str) {
        let _ = std::fs::remove_file(self.assertion_path(login));
    }
}

/// The `*.json` files of a cache directory (none when it is missing).
fn json_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect()
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
    use crate::identity::RequestTerms;
    use time::macros::datetime;

    fn creds(expiration: OffsetDateTime) -> Credentials {
        Credentials {
            access_key_id: "AKIA".into(),
            secret_access_key: "s".to_owned().into(),
            session_token: "t".to_owned().into(),
            expiration,
        }
    }

    fn identity(idp: &str, role: &str, policies: &[String]) -> SessionIdentity {
        let idp = url::Url::parse(idp).unwrap();
        SessionIdentity::new(
            RequestTerms {
                idp: &idp,
                policy_arns: policies,
                inline_policy: None,
                duration: None,
                region: None,
            },
            "111111111111",
            role,
        )
    }

    #[test]
    fn credentials_served_until_ten_minutes_before_expiry_and_only_for_their_request() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path().join("c"));
        let exp = datetime!(2030-01-01 12:00 UTC);
        let dev = identity("https://idp/samlp/c", "Dev", &[]);
        cache
            .store_credentials(&dev, "arn:aws:iam::111111111111:role/Dev", &creds(exp))
            .unwrap();
        let hit = cache
            .credentials(&dev, datetime!(2030-01-01 11:49 UTC))
            .unwrap();
        assert_eq!(hit.role_arn, "arn:aws:iam::111111111111:role/Dev");
        assert!(
            cache
                .credentials(&dev, datetime!(2030-01-01 11:50 UTC))
                .is_none()
        );
        let early = datetime!(2030-01-01 11:00 UTC);
        for other in [
            identity("https://idp/samlp/other", "Dev", &[]),
            identity("https://idp/samlp/c", "Admin", &[]),
            identity(
                "https://idp/samlp/c",
                "Dev",
                &["arn:aws:iam::aws:policy/ReadOnlyAccess".to_owned()],
            ),
        ] {
            assert!(cache.credentials(&other, early).is_none(), "{other:?}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let f = cache.credentials_path(&dev.fingerprint());
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
        let obtained = datetime!(2030-01-01 11:00 UTC);
        cache
            .store_assertion(
                "https://idp/samlp/c",
                &r,
                obtained,
                datetime!(2030-01-01 12:00 UTC),
            )
            .unwrap();
        let before = datetime!(2030-01-01 11:58 UTC);
        let cached = cache.assertion("https://idp/samlp/c", before).unwrap();
        assert_eq!(cached.response.expose(), "PHNhbWw+");
        assert_eq!(cached.obtained_at, obtained);
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
