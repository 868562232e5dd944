//! Where the secret half of saml-login's caches lives: the OS keyring (Secret Service
//! over D-Bus on Linux, Keychain on macOS, Credential Manager on Windows) or 0600 files
//! in the cache directory; chosen once per run by the `cache` setting ([`CacheChoice`]).
//!
//! The choice, decided and documented (README, "Where secrets are kept"):
//! - `keyring`: the keyring or an error; never a file.
//! - `file`: today's 0600 files; the keyring is never asked.
//! - `auto` (the default): the keyring when one answers the connection, else the files
//!   (said under `--verbose`; said always when the session bus is another user's). A keyring that answers but then refuses (locked, the
//!   unlock prompt dismissed) is an error in `auto` too: the user has a keyring, so
//!   writing the secret to a file instead would be a silent fallback.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::storage::credentials_file::SecretFile;
#[cfg(all(feature = "keyring", any(target_os = "macos", windows)))]
use crate::storage::secret_parts;

/// The keyring's service name: every entry of saml-login is `saml-login` / NAME.
#[cfg(feature = "keyring")]
pub(crate) const SERVICE: &str = "saml-login";

/// The `cache` setting: which store keeps the secrets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum CacheChoice {
    /// The OS keyring when one answers, else 0600 files
    #[default]
    Auto,
    /// The OS keyring, or an error
    Keyring,
    /// 0600 files in the cache directory
    File,
}

impl CacheChoice {
    /// Parse a configured value (`auto`, `keyring`, `file`), or say what it is not.
    pub fn parse(v: &str) -> std::result::Result<Self, String> {
        <Self as clap::ValueEnum>::from_str(v, true)
            .map_err(|_| format!("{v:?} is not a cache store (auto, keyring, file)"))
    }
}

/// A store of named secrets.
pub(crate) trait SecretStore {
    /// The secret called `name`, `None` when there is none.
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Keep `secret` as `name`, replacing any.
    fn put(&self, name: &str, secret: &[u8]) -> Result<()>;
    /// Remove `name`; whether it was there.
    fn delete(&self, name: &str) -> Result<bool>;
}

/// Secrets as 0600 files in the cache directory, written atomically: `KIND/KEY` is
/// `DIR/KIND/KEY.json` with KEY escaped into a file name.
#[derive(Clone, Debug)]
pub(crate) struct FileStore {
    dir: PathBuf,
}

impl FileStore {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The file that holds `name` (`KIND/KEY`).
    pub(crate) fn path(&self, name: &str) -> PathBuf {
        let (kind, key) = name.split_once('/').unwrap_or(("", name));
        self.dir.join(kind).join(format!("{}.json", file_name(key)))
    }
}

impl SecretStore for FileStore {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let path = self.path(name);
        if let Err((at, why)) = crate::storage::credentials_file::check_trusted(&path) {
            if path.exists() {
                crate::output::warning!(
                    "ignoring the cache file {}: {} {why}",
                    path.display(),
                    at.display()
                );
            }
            return Ok(None);
        }
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(Error::Read { path, source }),
        }
    }

    fn put(&self, name: &str, secret: &[u8]) -> Result<()> {
        SecretFile::new(self.path(name)).replace_creating_dir(secret)
    }

    fn delete(&self, name: &str) -> Result<bool> {
        remove_file(&self.path(name))
    }
}

/// Remove `path`; whether it was there.
pub(crate) fn remove_file(path: &Path) -> Result<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(Error::Write {
            path: path.to_owned(),
            source,
        }),
    }
}

/// A file name from any text: safe characters kept, others hex-escaped.
pub(crate) fn file_name(key: &str) -> String {
    key.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'@' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02x}"),
        })
        .collect()
}

/// The OS keyring, connected: on Linux and the BSDs the Secret Service itself (see
/// [`secret_service`]), elsewhere the platform's store through keyring-core.
#[derive(Clone)]
pub(crate) struct Keyring {
    #[cfg(all(feature = "keyring", not(any(target_os = "macos", windows))))]
    service: std::rc::Rc<secret_service::blocking::SecretService<'static>>,
    #[cfg(all(feature = "keyring", any(target_os = "macos", windows)))]
    store: std::sync::Arc<keyring_core::api::CredentialStore>,
}

/// What the keyring is, for messages.
pub(crate) const KEYRING_NAME: &str = if cfg!(target_os = "macos") {
    "the macOS Keychain"
} else if cfg!(windows) {
    "the Windows Credential Manager"
} else {
    "the Secret Service keyring"
};

impl Keyring {
    /// Connect to the platform's keyring (on Linux: the Secret Service on the D-Bus
    /// session bus; nothing is prompted for here).
    #[cfg(all(feature = "keyring", any(target_os = "macos", windows)))]
    pub(crate) fn connect() -> Result<Self> {
        #[cfg(target_os = "macos")]
        let store = apple_native_keyring_store::keychain::Store::new();
        #[cfg(windows)]
        let store = windows_native_keyring_store::Store::new();
        let store: std::sync::Arc<keyring_core::api::CredentialStore> =
            store.map_err(|e| refused("cannot connect to", &e))?;
        Ok(Self { store })
    }

    /// The session with the Secret Service is `plain`: its DH encryption (1024-bit,
    /// in pure Rust) cost 5.5 ms of each call, and protects only from eavesdroppers on
    /// the session bus, who are the same user and may ask the service directly anyway.
    ///
    /// The session bus is used only when it is the user's own (its socket's owner and
    /// the peer's uid checked: [`crate::storage::session_bus`]); another user's is
    /// [`Error::KeyringUntrusted`].
    #[cfg(all(feature = "keyring", not(any(target_os = "macos", windows))))]
    pub(crate) fn connect() -> Result<Self> {
        use crate::storage::session_bus::{self, Refusal};
        let conn = session_bus::connect().map_err(|r| match r {
            Refusal::Untrusted(why) => Error::KeyringUntrusted {
                message: format!("will not use {KEYRING_NAME}: {why}"),
            },
            Refusal::Failed(why) => Error::Keyring {
                message: format!("cannot connect to {KEYRING_NAME}: {why}"),
            },
        })?;
        let service = secret_service::blocking::SecretService::connect_with_existing(
            secret_service::EncryptionType::Plain,
            conn,
        )
        .map_err(|e| service_refused("cannot connect to", &e))?;
        Ok(Self {
            service: std::rc::Rc::new(service),
        })
    }

    /// Without the `keyring` feature there is none to connect to.
    #[cfg(not(feature = "keyring"))]
    pub(crate) fn connect() -> Result<Self> {
        Err(not_enabled())
    }

    #[cfg(all(feature = "keyring", any(target_os = "macos", windows)))]
    fn entry(&self, name: &str) -> Result<keyring_core::Entry> {
        keyring_core::Entry::new_in_store(&self.store, SERVICE, name)
            .map_err(|e| refused("cannot name an entry in", &e))
    }
}

/// The keyring's entries, each holding at most what the platform allows; [`Keyring`]
/// keeps a longer secret in several of them ([`secret_parts`]).
#[cfg(all(feature = "keyring", any(target_os = "macos", windows)))]
struct Entries<'a>(&'a Keyring);

#[cfg(all(feature = "keyring", any(target_os = "macos", windows)))]
impl SecretStore for Keyring {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        secret_parts::get(&Entries(self), name)
    }

    fn put(&self, name: &str, secret: &[u8]) -> Result<()> {
        secret_parts::put(&Entries(self), name, secret, secret_parts::ENTRY_MAX)
    }

    fn delete(&self, name: &str) -> Result<bool> {
        secret_parts::delete(&Entries(self), name)
    }
}

#[cfg(all(feature = "keyring", any(target_os = "macos", windows)))]
impl secret_parts::EntryStore for Entries<'_> {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        match self.0.entry(name)?.get_secret() {
            Ok(secret) => Ok(Some(secret)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(refused("cannot read from", &e)),
        }
    }

    fn put(&self, name: &str, secret: &[u8]) -> Result<()> {
        self.0
            .entry(name)?
            .set_secret(secret)
            .map_err(|e| refused("cannot write to", &e))
    }

    fn delete(&self, name: &str) -> Result<bool> {
        match self.0.entry(name)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(refused("cannot delete from", &e)),
        }
    }
}

#[cfg(not(feature = "keyring"))]
impl SecretStore for Keyring {
    fn get(&self, _: &str) -> Result<Option<Vec<u8>>> {
        Err(not_enabled())
    }
    fn put(&self, _: &str, _: &[u8]) -> Result<()> {
        Err(not_enabled())
    }
    fn delete(&self, _: &str) -> Result<bool> {
        Err(not_enabled())
    }
}

#[cfg(not(feature = "keyring"))]
fn not_enabled() -> Error {
    Error::Keyring {
        message: "the keyring is not enabled in this build (rebuild with `--features keyring`)"
            .into(),
    }
}

/// saml-login's items in the Secret Service: attributes `service` = `saml-login` and
/// `username` = NAME (as keyring-core's stores name them, so `secret-tool lookup
/// service saml-login username NAME` finds one), in the default collection. A locked
/// item or collection is unlocked through the desktop's prompt; without one, or when
/// it is dismissed, the call fails with "locked".
#[cfg(all(feature = "keyring", not(any(target_os = "macos", windows))))]
impl Keyring {
    /// The unlocked items called `name` (unlocking those that are locked).
    fn items(&self, name: &str) -> Result<Vec<secret_service::blocking::Item<'_>>> {
        let attributes =
            std::collections::HashMap::from([("service", SERVICE), ("username", name)]);
        let found = self
            .service
            .search_items(attributes)
            .map_err(|e| service_refused("cannot search", &e))?;
        if !found.locked.is_empty() {
            let locked: Vec<&secret_service::blocking::Item> = found.locked.iter().collect();
            self.service
                .unlock_all(&locked)
                .map_err(|e| service_refused("cannot read from", &e))?;
        }
        Ok(found.unlocked.into_iter().chain(found.locked).collect())
    }
}

#[cfg(all(feature = "keyring", not(any(target_os = "macos", windows))))]
impl SecretStore for Keyring {
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
        let Some(item) = self.items(name)?.into_iter().next() else {
            return Ok(None);
        };
        item.get_secret()
            .map(Some)
            .map_err(|e| service_refused("cannot read from", &e))
    }

    fn put(&self, name: &str, secret: &[u8]) -> Result<()> {
        let write = |e: &secret_service::Error| service_refused("cannot write to", e);
        let collection = self
            .service
            .get_default_collection()
            .map_err(|e| write(&e))?;
        if collection.is_locked().map_err(|e| write(&e))? {
            collection.unlock().map_err(|e| write(&e))?;
        }
        let attributes =
            std::collections::HashMap::from([("service", SERVICE), ("username", name)]);
        collection
            .create_item(
                &format!("{name} ({SERVICE})"),
                attributes,
                secret,
                true,
                "text/plain",
            )
            .map(drop)
            .map_err(|e| write(&e))
    }

    fn delete(&self, name: &str) -> Result<bool> {
        let items = self.items(name)?;
        for item in &items {
            item.delete()
                .map_err(|e| service_refused("cannot delete from", &e))?;
        }
        Ok(!items.is_empty())
    }
}

/// The Secret Service's refusal as our error: what failed and why, in one line.
#[cfg(all(feature = "keyring", not(any(target_os = "macos", windows))))]
fn service_refused(action: &str, e: &secret_service::Error) -> Error {
    use secret_service::Error as E;
    let why = match e {
        E::Locked | E::Prompt | E::NoResult => {
            format!("it is locked or refused access ({e})")
        }
        other => other.to_string(),
    };
    Error::Keyring {
        message: format!("{action} {KEYRING_NAME}: {why}"),
    }
}

/// The keyring's refusal as our error: what failed and why, in one line.
#[cfg(all(feature = "keyring", any(target_os = "macos", windows)))]
fn refused(action: &str, e: &keyring_core::Error) -> Error {
    let why = match e {
        keyring_core::Error::NoStorageAccess(inner) => {
            format!("it is locked or refused access ({inner})")
        }
        keyring_core::Error::PlatformFailure(inner) => inner.to_string(),
        other => other.to_string(),
    };
    Error::Keyring {
        message: format!("{action} {KEYRING_NAME}: {why}"),
    }
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(KEYRING_NAME)
    }
}

/// The store the run's choice opened.
#[derive(Clone, Debug)]
pub(crate) enum Opened {
    Keyring(Keyring),
    File,
}

/// Open the store `choice` asks for: the keyring (connecting), or the files.
pub(crate) fn open(choice: CacheChoice) -> Result<Opened> {
    match choice {
        CacheChoice::File => {
            tracing::info!("secrets: 0600 files in the cache directory (cache = file)");
            Ok(Opened::File)
        }
        CacheChoice::Keyring => {
            let k = Keyring::connect()?;
            tracing::info!("secrets: {KEYRING_NAME} (cache = keyring)");
            Ok(Opened::Keyring(k))
        }
        CacheChoice::Auto => match Keyring::connect() {
            Ok(k) => {
                tracing::info!("secrets: {KEYRING_NAME} (cache = auto: it answered)");
                Ok(Opened::Keyring(k))
            }
            Err(e @ Error::KeyringUntrusted { .. }) => {
                // Said without --verbose: the user's keyring is expected and not used.
                crate::output::warning!(
                    "secrets: 0600 files in the cache directory (cache = auto): {e}"
                );
                Ok(Opened::File)
            }
            Err(e) => {
                tracing::info!(
                    "secrets: 0600 files in the cache directory (cache = auto: no keyring answered: {e})"
                );
                Ok(Opened::File)
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_parse_and_refuse_with_the_list() {
        assert_eq!(CacheChoice::parse("Keyring"), Ok(CacheChoice::Keyring));
        assert_eq!(CacheChoice::parse("file"), Ok(CacheChoice::File));
        assert_eq!(CacheChoice::parse("auto"), Ok(CacheChoice::Auto));
        assert_eq!(
            CacheChoice::parse("vault"),
            Err("\"vault\" is not a cache store (auto, keyring, file)".into())
        );
    }

    #[test]
    fn file_store_round_trip_in_0600_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = FileStore::new(dir.path().join("c"));
        assert_eq!(files.get("credentials/a b").unwrap(), None);
        files.put("credentials/a b", b"secret").unwrap();
        assert_eq!(
            files.path("credentials/a b"),
            dir.path().join("c/credentials/a%20b.json")
        );
        assert_eq!(
            files.get("credentials/a b").unwrap().as_deref(),
            Some(&b"secret"[..])
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(files.path("credentials/a b"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(files.delete("credentials/a b").unwrap());
        assert!(!files.delete("credentials/a b").unwrap());
    }

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_name("dev--arn:aws:iam::1:role/a b"),
            "dev--arn%3aaws%3aiam%3a%3a1%3arole%2fa%20b"
        );
    }
}
