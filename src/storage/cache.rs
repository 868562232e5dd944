//! saml-login's caches in the user's cache directory (mode 0700, files 0600, written
//! atomically): temporary credentials per request ([`SessionIdentity`]: IdP, account,
//! role, policies, duration, region), for `credential-process`, `exec` and `env`; and
//! the last SAML assertion per IdP and client, so a second command for another role
//! needs no new login. Nothing is served past its expiry, nor for another request.
//!
//! Each entry is a file `KIND/KEY.json`. Its secret half (keys, session token, the
//! assertion) is kept by the run's [`SecretStore`]: with the file store, in that file
//! (as before the keyring existed); with the keyring, in the keyring entry `KIND/KEY`,
//! the file then holding only what is not secret (which request, which IdP, until
//! when), so that a miss or an expired entry costs no keyring call and `logout` finds
//! an IdP's entries.

use std::cell::OnceCell;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::aws::assertion::SamlResponse;
use crate::aws::credentials::Credentials;
use crate::error::Result;
use crate::storage::identity::SessionIdentity;
use crate::storage::secret_store::{self, CacheChoice, FileStore, Keyring, Opened, SecretStore};

/// Credentials are served from the cache while more than this remains.
pub const CREDENTIALS_MARGIN: time::Duration = time::Duration::minutes(10);
/// An assertion is reused until its `NotOnOrAfter` minus this.
pub const ASSERTION_MARGIN: time::Duration = time::Duration::minutes(1);

/// The cache directory and the store of its secrets.
#[derive(Clone, Debug)]
pub struct Cache {
    dir: PathBuf,
    files: FileStore,
    choice: CacheChoice,
    /// The store `choice` opened, on first need (a run that reads nothing secret
    /// never connects to the keyring).
    opened: OnceCell<Opened>,
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
    expiration: String,
    /// The secret half is in the keyring entry of the same name.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    keyring: bool,
    /// The secret half, in the file store.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    secret: Option<CredentialsSecret>,
}

/// What of [`CachedCredentials`] is secret.
#[derive(Serialize, Deserialize)]
struct CredentialsSecret {
    access_key_id: String,
    secret_access_key: String,
    session_token: String,
}

#[derive(Serialize, Deserialize)]
struct CachedAssertion {
    /// The response (base64), in the file store; in the keyring entry of the same name
    /// when `keyring` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    saml_response: Option<String>,
    not_on_or_after: String,
    /// When the login that produced it ended.
    obtained_at: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    keyring: bool,
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

/// The entry names: `credentials/FINGERPRINT`, `assertions/LOGIN`.
fn credentials_name(fingerprint: &str) -> String {
    format!("credentials/{fingerprint}")
}

fn assertion_name(login: &str) -> String {
    format!("assertions/{login}")
}

impl Cache {
    /// The cache in `dir`, its secrets in the store `choice` picks.
    pub fn new(dir: PathBuf, choice: CacheChoice) -> Self {
        Self {
            files: FileStore::new(dir.clone()),
            dir,
            choice,
            opened: OnceCell::new(),
        }
    }

    /// Where the login locks live.
    /// The cache directory itself.
    pub(crate) fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    pub fn locks_dir(&self) -> PathBuf {
        self.dir.join("locks")
    }

    /// The store of this run, opened once.
    fn opened(&self) -> Result<&Opened> {
        if let Some(o) = self.opened.get() {
            return Ok(o);
        }
        let o = secret_store::open(self.choice)?;
        Ok(self.opened.get_or_init(|| o))
    }

    /// The keyring to read an entry's secret from: none under `cache = file` (that
    /// entry is then a miss), nor under `auto` when no keyring answers.
    fn keyring_to_read(&self) -> Result<Option<&Keyring>> {
        if self.choice == CacheChoice::File {
            return Ok(None);
        }
        Ok(match self.opened()? {
            Opened::Keyring(k) => Some(k),
            Opened::File => None,
        })
    }

    /// Under `cache = keyring`, the keyring must answer before anything is read: a
    /// run that could not keep what it obtains fails before any login.
    fn require_keyring(&self) -> Result<()> {
        if self.choice == CacheChoice::Keyring {
            self.opened()?;
        }
        Ok(())
    }

    /// Whether an entry whose secret is in its file may answer: not when the keyring
    /// was asked for (the next store moves it there).
    fn file_secret_serves(&self) -> bool {
        self.choice != CacheChoice::Keyring
    }

    /// Remove entry `name` whose secret is in the keyring when `in_keyring`: the
    /// keyring entry first (whatever the run's choice: `logout` forgets everywhere),
    /// then the file. Whether the file was there.
    fn remove(&self, name: &str, in_keyring: bool) -> Result<bool> {
        self.remove_at(name, &self.files.path(name), in_keyring)
    }

    /// [`Self::remove`] of the entry whose file is `path`.
    fn remove_at(&self, name: &str, path: &std::path::Path, in_keyring: bool) -> Result<bool> {
        if in_keyring {
            match self.opened.get() {
                Some(Opened::Keyring(k)) => k.delete(name)?,
                _ => Keyring::connect()?.delete(name)?,
            };
        }
        secret_store::remove_file(path)
    }

    /// Cached credentials of exactly the request `identity`, with more than
    /// [`CREDENTIALS_MARGIN`] left at `now`.
    pub(crate) fn credentials(
        &self,
        identity: &SessionIdentity,
        now: OffsetDateTime,
    ) -> Result<Option<CachedKeys>> {
        self.credentials_for(&identity.fingerprint(), now)
    }

    /// Cached credentials of the request whose fingerprint is `fingerprint` (a
    /// [`SessionIdentity`], or a hop of a profile chain). A keyring that refuses
    /// (locked) is an error, not a miss.
    pub(crate) fn credentials_for(
        &self,
        fingerprint: &str,
        now: OffsetDateTime,
    ) -> Result<Option<CachedKeys>> {
        self.require_keyring()?;
        let name = credentials_name(fingerprint);
        let Some(cached) = read_json::<CachedCredentials>(&self.files, &name) else {
            return Ok(None);
        };
        if cached.identity != fingerprint {
            tracing::debug!(entry = %name, "cached credentials of another request");
            return Ok(None);
        }
        let Ok(expiration) = OffsetDateTime::parse(&cached.expiration, &Rfc3339) else {
            return Ok(None);
        };
        if expiration - now <= CREDENTIALS_MARGIN {
            tracing::debug!(entry = %name, "cached credentials are too close to expiry");
            return Ok(None);
        }
        let secret = if cached.keyring {
            let Some(keyring) = self.keyring_to_read()? else {
                tracing::debug!(entry = %name, "cached credentials are in the keyring, not in use");
                return Ok(None);
            };
            let Some(bytes) = keyring.get(&name)? else {
                tracing::debug!(entry = %name, "the keyring entry is gone");
                return Ok(None);
            };
            let Ok(secret) = serde_json::from_slice::<CredentialsSecret>(&bytes) else {
                crate::output::warning!("ignoring an unreadable keyring entry ({name})");
                return Ok(None);
            };
            secret
        } else {
            match cached.secret {
                Some(s) if self.file_secret_serves() => {
                    tracing::debug!(entry = %name, "the secret is in the entry's 0600 file");
                    s
                }
                _ => return Ok(None),
            }
        };
        Ok(Some(CachedKeys {
            credentials: Credentials {
                access_key_id: secret.access_key_id,
                secret_access_key: secret.secret_access_key.into(),
                session_token: secret.session_token.into(),
                expiration,
            },
            role_arn: cached.role_arn,
        }))
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
        let name = credentials_name(fingerprint);
        let secret = CredentialsSecret {
            access_key_id: c.access_key_id.clone(),
            secret_access_key: c.secret_access_key.expose().to_owned(),
            session_token: c.session_token.expose().to_owned(),
        };
        let mut cached = CachedCredentials {
            identity: fingerprint.to_owned(),
            idp: idp.map(str::to_owned),
            role_arn: role_arn.to_owned(),
            expiration: c.expiration_rfc3339(),
            keyring: false,
            secret: None,
        };
        match self.opened()? {
            Opened::Keyring(k) => {
                k.put(&name, &to_json(&secret))?;
                cached.keyring = true;
            }
            Opened::File => cached.secret = Some(secret),
        }
        self.files.put(&name, &to_json(&cached))
    }

    /// The last assertion of the login page `login` (the IdP and application), while
    /// it is still valid at `now`. A keyring that refuses is an error, not a miss.
    pub fn assertion(&self, login: &str, now: OffsetDateTime) -> Result<Option<CachedResponse>> {
        self.require_keyring()?;
        let name = assertion_name(login);
        let Some(cached) = read_json::<CachedAssertion>(&self.files, &name) else {
            return Ok(None);
        };
        let times = (
            OffsetDateTime::parse(&cached.not_on_or_after, &Rfc3339),
            OffsetDateTime::parse(&cached.obtained_at, &Rfc3339),
        );
        let (Ok(until), Ok(obtained_at)) = times else {
            return Ok(None);
        };
        if until - ASSERTION_MARGIN <= now {
            tracing::debug!("the cached assertion has expired");
            let _ = self.remove(&name, cached.keyring);
            return Ok(None);
        }
        let response = if cached.keyring {
            let Some(keyring) = self.keyring_to_read()? else {
                return Ok(None);
            };
            let Some(bytes) = keyring.get(&name)? else {
                return Ok(None);
            };
            let Ok(text) = String::from_utf8(bytes) else {
                crate::output::warning!("ignoring an unreadable keyring entry ({name})");
                return Ok(None);
            };
            text
        } else {
            match cached.saml_response {
                Some(r) if self.file_secret_serves() => r,
                _ => return Ok(None),
            }
        };
        Ok(Some(CachedResponse {
            response: SamlResponse::new(response),
            obtained_at,
            not_on_or_after: until,
        }))
    }

    /// Keep `response`, obtained at `obtained_at`, until `not_on_or_after`.
    pub fn store_assertion(
        &self,
        login: &str,
        response: &SamlResponse,
        obtained_at: OffsetDateTime,
        not_on_or_after: OffsetDateTime,
    ) -> Result<()> {
        let name = assertion_name(login);
        let mut cached = CachedAssertion {
            saml_response: None,
            not_on_or_after: not_on_or_after.format(&Rfc3339).unwrap_or_default(),
            obtained_at: obtained_at.format(&Rfc3339).unwrap_or_default(),
            keyring: false,
        };
        match self.opened()? {
            Opened::Keyring(k) => {
                k.put(&name, response.expose().as_bytes())?;
                cached.keyring = true;
            }
            Opened::File => cached.saml_response = Some(response.expose().to_owned()),
        }
        self.files.put(&name, &to_json(&cached))
    }

    /// `logout`: remove the cached assertion and credentials of the login page `login`
    /// (every IdP's when `None`; entries that do not say their IdP go too), from the
    /// files and from the keyring. Returns whether an assertion was removed and how
    /// many credential entries.
    pub fn forget(&self, login: Option<&str>) -> Result<(bool, usize)> {
        let mut assertions = false;
        let assertion_entries: Vec<(String, PathBuf)> = match login {
            Some(login) => {
                let name = assertion_name(login);
                vec![(name.clone(), self.files.path(&name))]
            }
            None => self.entries("assertions"),
        };
        for (name, path) in assertion_entries {
            let in_keyring =
                read_json::<CachedAssertion>(&self.files, &name).is_some_and(|a| a.keyring);
            assertions |= self.remove_at(&name, &path, in_keyring)?;
        }
        let mut credentials = 0;
        for (name, path) in self.entries("credentials") {
            let entry: Option<CachedCredentials> = read_json(&self.files, &name);
            let mine = match login {
                None => true,
                Some(login) => entry
                    .as_ref()
                    .is_none_or(|c| c.idp.as_deref().is_none_or(|idp| idp == login)),
            };
            let in_keyring = entry.is_some_and(|c| c.keyring);
            if mine && self.remove_at(&name, &path, in_keyring)? {
                credentials += 1;
            }
        }
        Ok((assertions, credentials))
    }

    /// Forget the assertion (STS refused it, or a login replaces it).
    pub fn drop_assertion(&self, login: &str) {
        let name = assertion_name(login);
        let in_keyring =
            read_json::<CachedAssertion>(&self.files, &name).is_some_and(|a| a.keyring);
        if let Err(e) = self.remove(&name, in_keyring) {
            crate::output::warning!("cannot forget the cached assertion: {e}");
        }
    }

    /// Every cached assertion's login page, when it was obtained and until when it
    /// serves (for `status`; expired ones too, the response itself not read).
    pub(crate) fn assertion_times(&self) -> Vec<(String, OffsetDateTime, OffsetDateTime)> {
        let mut out: Vec<_> = self
            .entries("assertions")
            .into_iter()
            .filter_map(|(name, _)| {
                let cached = read_json::<CachedAssertion>(&self.files, &name)?;
                let login = name.strip_prefix("assertions/")?.to_owned();
                let obtained = OffsetDateTime::parse(&cached.obtained_at, &Rfc3339).ok()?;
                let until = OffsetDateTime::parse(&cached.not_on_or_after, &Rfc3339).ok()?;
                Some((login, obtained, until))
            })
            .collect();
        out.sort();
        out
    }

    /// The entries of `kind` in the cache directory (none when it is missing): each
    /// `*.json` file with its entry name (the stem unescaped as
    /// [`secret_store::file_name`] escaped it).
    fn entries(&self, kind: &str) -> Vec<(String, PathBuf)> {
        std::fs::read_dir(self.dir.join(kind))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .map(|p| {
                let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
                let key = unescape(stem).unwrap_or_else(|| stem.to_owned());
                (format!("{kind}/{key}"), p)
            })
            .collect()
    }
}

/// The key a [`secret_store::file_name`] came from (`None` when it is not one).
fn unescape(stem: &str) -> Option<String> {
    let mut out = Vec::with_capacity(stem.len());
    let mut bytes = stem.bytes();
    while let Some(b) = bytes.next() {
        if b == b'%' {
            let hex = [bytes.next()?, bytes.next()?];
            out.push(u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?);
        } else {
            out.push(b);
        }
    }
    String::from_utf8(out).ok()
}

/// The entry `name` of the file store, parsed (`None` when missing, untrusted or
/// unreadable).
fn read_json<T: for<'de> Deserialize<'de>>(files: &FileStore, name: &str) -> Option<T> {
    let bytes = files.get(name).ok()??;
    match serde_json::from_slice(&bytes) {
        Ok(v) => Some(v),
        Err(_) => {
            crate::output::warning!(
                "ignoring an unreadable cache file ({})",
                files.path(name).display()
            );
            None
        }
    }
}

fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("cache entries serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::identity::RequestTerms;
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
        let cache = Cache::new(dir.path().join("c"), CacheChoice::File);
        let exp = datetime!(2030-01-01 12:00 UTC);
        let dev = identity("https://idp/samlp/c", "Dev", &[]);
        cache
            .store_credentials(&dev, "arn:aws:iam::111111111111:role/Dev", &creds(exp))
            .unwrap();
        let hit = cache
            .credentials(&dev, datetime!(2030-01-01 11:49 UTC))
            .unwrap()
            .unwrap();
        assert_eq!(hit.role_arn, "arn:aws:iam::111111111111:role/Dev");
        assert!(
            cache
                .credentials(&dev, datetime!(2030-01-01 11:50 UTC))
                .unwrap()
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
            assert!(
                cache.credentials(&other, early).unwrap().is_none(),
                "{other:?}"
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let f = cache.files.path(&credentials_name(&dev.fingerprint()));
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
        let cache = Cache::new(dir.path().to_owned(), CacheChoice::File);
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
        let cached = cache
            .assertion("https://idp/samlp/c", before)
            .unwrap()
            .unwrap();
        assert_eq!(cached.response.expose(), "PHNhbWw+");
        assert_eq!(cached.obtained_at, obtained);
        assert!(
            cache
                .assertion("https://idp/samlp/other", before)
                .unwrap()
                .is_none()
        );
        assert!(
            cache
                .assertion("https://idp/samlp/c", datetime!(2030-01-01 11:59:30 UTC))
                .unwrap()
                .is_none()
        );
        // ... and the expired one is gone.
        assert!(
            cache
                .assertion("https://idp/samlp/c", before)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn escaped_names_come_back() {
        let key = "https://idp/samlp/c d";
        assert_eq!(
            unescape(&secret_store::file_name(key)).as_deref(),
            Some(key)
        );
    }

    #[test]
    fn keyring_entries_leave_no_secret_in_the_file_and_file_entries_keep_todays_format() {
        let index = CachedCredentials {
            identity: "f".into(),
            idp: None,
            role_arn: "r".into(),
            expiration: "2030-01-01T00:00:00Z".into(),
            keyring: true,
            secret: None,
        };
        assert_eq!(
            String::from_utf8(to_json(&index)).unwrap(),
            r#"{"identity":"f","idp":null,"role_arn":"r","expiration":"2030-01-01T00:00:00Z","keyring":true}"#
        );
        let today = r#"{"identity":"x","idp":"i","role_arn":"r","access_key_id":"A","secret_access_key":"s","session_token":"t","expiration":"2099-01-01T00:00:00Z"}"#;
        let parsed: CachedCredentials = serde_json::from_str(today).unwrap();
        assert!(!parsed.keyring);
        assert_eq!(parsed.secret.unwrap().secret_access_key, "s");
    }
}
