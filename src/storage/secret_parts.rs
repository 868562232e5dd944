//! Secrets longer than one keyring entry may hold, kept in several entries. The Windows
//! Credential Manager keeps at most 2,560 bytes per credential
//! (`CRED_MAX_CREDENTIAL_BLOB_SIZE`; windows-native-keyring-store refuses longer ones
//! before asking), and a SAML response is often longer (the test IdP's, unsigned, is
//! 2.9 KB; a signed Auth0 one 5 to 12 KB): found by running saml-login.exe under Wine
//! (issue 33), where every login warned "cannot cache the SAML assertion".
//!
//! A secret that fits is one entry `NAME`, as before. A longer one is cut into entries
//! `NAME#1` ... `NAME#N`, and `NAME` then holds only [`HEADER`] and N. No secret saml-login
//! keeps starts with a NUL byte (they are JSON or base64 text), so a header is never
//! mistaken for one. The parts are written before the header and removed after it, so
//! a reader finds either a whole old secret or a whole new one; a part missing is a miss.

use crate::error::Result;

/// A keyring's entries as they are, each holding at most what the platform allows
/// (`secret_store`'s keyring gives its entries through this).
pub(crate) trait EntryStore {
    /// The entry called `name`, `None` when there is none.
    fn get(&self, name: &str) -> Result<Option<Vec<u8>>>;
    /// Keep `value` as `name`, replacing any.
    fn put(&self, name: &str, value: &[u8]) -> Result<()>;
    /// Remove `name`; whether it was there.
    fn delete(&self, name: &str) -> Result<bool>;
}

/// What the entry `NAME` of a secret kept in parts starts with; the count follows.
const HEADER: &[u8] = b"\0saml-login-parts:";

/// The most one entry may hold: 2,560 bytes in the Windows Credential Manager; no limit
/// in the other keyrings.
pub(crate) const ENTRY_MAX: usize = if cfg!(windows) { 2560 } else { usize::MAX };

fn part_name(name: &str, i: usize) -> String {
    format!("{name}#{i}")
}

/// How many parts the entry value `value` says there are (`None`: it is a whole secret).
fn parts_of(value: &[u8]) -> Option<usize> {
    let count = value.strip_prefix(HEADER)?;
    std::str::from_utf8(count).ok()?.parse().ok()
}

/// The secret `name` of `store`, whole or put together from its parts.
pub(crate) fn get(store: &impl EntryStore, name: &str) -> Result<Option<Vec<u8>>> {
    let Some(value) = store.get(name)? else {
        return Ok(None);
    };
    let Some(count) = parts_of(&value) else {
        return Ok(Some(value));
    };
    let mut secret = Vec::new();
    for i in 1..=count {
        match store.get(&part_name(name, i))? {
            Some(part) => secret.extend_from_slice(&part),
            None => {
                crate::output::warning!("ignoring a keyring entry with a part missing ({name})");
                return Ok(None);
            }
        }
    }
    Ok(Some(secret))
}

/// Keep `secret` as `name` in `store`, in parts of at most `max` bytes when it is longer;
/// the parts of the secret it replaces that are left over are removed.
pub(crate) fn put(store: &impl EntryStore, name: &str, secret: &[u8], max: usize) -> Result<()> {
    let before = store.get(name)?.as_deref().and_then(parts_of).unwrap_or(0);
    let count = if secret.len() <= max {
        store.put(name, secret)?;
        0
    } else {
        let parts: Vec<&[u8]> = secret.chunks(max).collect();
        for (i, part) in parts.iter().enumerate() {
            store.put(&part_name(name, i + 1), part)?;
        }
        let mut header = HEADER.to_vec();
        header.extend_from_slice(parts.len().to_string().as_bytes());
        store.put(name, &header)?;
        parts.len()
    };
    for i in count + 1..=before {
        store.delete(&part_name(name, i))?;
    }
    Ok(())
}

/// Remove `name` and its parts from `store`; whether it was there.
pub(crate) fn delete(store: &impl EntryStore, name: &str) -> Result<bool> {
    let count = store.get(name)?.as_deref().and_then(parts_of).unwrap_or(0);
    let found = store.delete(name)?;
    for i in 1..=count {
        store.delete(&part_name(name, i))?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// A keyring in memory whose entries hold at most `max` bytes (as the Credential
    /// Manager's 2,560; here 24, which still holds a header), refusing longer ones as
    /// windows-native-keyring-store does.
    struct Limited {
        max: usize,
        entries: RefCell<BTreeMap<String, Vec<u8>>>,
    }

    impl Limited {
        fn new(max: usize) -> Self {
            Self {
                max,
                entries: RefCell::default(),
            }
        }
        fn names(&self) -> Vec<String> {
            self.entries.borrow().keys().cloned().collect()
        }
    }

    impl EntryStore for Limited {
        fn get(&self, name: &str) -> Result<Option<Vec<u8>>> {
            Ok(self.entries.borrow().get(name).cloned())
        }
        fn put(&self, name: &str, secret: &[u8]) -> Result<()> {
            if secret.len() > self.max {
                return Err(crate::error::Error::Keyring {
                    message: "secret too long".into(),
                });
            }
            self.entries
                .borrow_mut()
                .insert(name.to_owned(), secret.to_vec());
            Ok(())
        }
        fn delete(&self, name: &str) -> Result<bool> {
            Ok(self.entries.borrow_mut().remove(name).is_some())
        }
    }

    #[test]
    fn a_secret_that_fits_is_one_entry_as_before() {
        let store = Limited::new(24);
        put(&store, "a/b", b"12345678", 24).unwrap();
        assert_eq!(store.names(), ["a/b"]);
        assert_eq!(store.get("a/b").unwrap().as_deref(), Some(&b"12345678"[..]));
        assert_eq!(
            get(&store, "a/b").unwrap().as_deref(),
            Some(&b"12345678"[..])
        );
    }

    #[test]
    fn a_longer_secret_is_kept_in_parts_and_read_whole() {
        let store = Limited::new(24);
        // Longer than one entry holds: the store alone refuses it.
        assert!(store.put("x", &[b'a'; 25]).is_err());
        for len in [25_usize, 48, 49, 2892] {
            let secret: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            put(&store, "assertions/idp", &secret, 24).unwrap();
            assert_eq!(
                get(&store, "assertions/idp").unwrap().as_deref(),
                Some(&secret[..]),
                "{len} bytes"
            );
            assert_eq!(store.names().len(), 1 + len.div_ceil(24), "{len} bytes");
        }
    }

    #[test]
    fn a_shorter_secret_replacing_a_longer_one_leaves_no_part() {
        let store = Limited::new(24);
        put(&store, "n", &[b'x'; 100], 24).unwrap();
        assert_eq!(store.names(), ["n", "n#1", "n#2", "n#3", "n#4", "n#5"]);
        put(&store, "n", &[b'y'; 40], 24).unwrap();
        assert_eq!(store.names(), ["n", "n#1", "n#2"]);
        assert_eq!(get(&store, "n").unwrap(), Some(vec![b'y'; 40]));
        put(&store, "n", b"short", 24).unwrap();
        assert_eq!(store.names(), ["n"]);
        assert_eq!(get(&store, "n").unwrap().as_deref(), Some(&b"short"[..]));
    }

    #[test]
    fn delete_removes_every_part() {
        let store = Limited::new(24);
        put(&store, "n", &[b'x'; 60], 24).unwrap();
        put(&store, "other", b"kept", 24).unwrap();
        assert!(delete(&store, "n").unwrap());
        assert_eq!(store.names(), ["other"]);
        assert!(!delete(&store, "n").unwrap());
        assert_eq!(get(&store, "n").unwrap(), None);
    }

    #[test]
    fn a_part_missing_is_a_miss() {
        let store = Limited::new(24);
        put(&store, "n", &[b'x'; 60], 24).unwrap();
        store.delete("n#2").unwrap();
        assert_eq!(get(&store, "n").unwrap(), None);
    }

    #[test]
    fn only_windows_has_a_limit() {
        assert_eq!(ENTRY_MAX, if cfg!(windows) { 2560 } else { usize::MAX });
    }
}
