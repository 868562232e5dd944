//! Cookie jars on disk: reading the IdP session a headless login starts with
//! (`--cookies FILE`, the `cookies` setting, or the jar's content in
//! `SAML_LOGIN_COOKIES`), and writing the IdP's cookies after a login
//! (`--save-cookies FILE`, atomically, mode 0600).

use std::path::{Path, PathBuf};

use saml_login_capture::Cookie;
use saml_login_capture::cookies::{filter_for_host, parse_jar, to_netscape};

use crate::error::{Error, Result};
use crate::storage::credentials_file::SecretFile;

/// Where the starting cookies come from.
#[derive(Clone, Debug)]
pub enum JarSource {
    File(PathBuf),
    /// The jar's content, from the `SAML_LOGIN_COOKIES` variable.
    Env(String),
}

/// Read and parse the jar. A file readable by group or others is refused.
pub fn read(source: &JarSource) -> Result<Vec<Cookie>> {
    let (text, origin) = match source {
        JarSource::Env(text) => (text.clone(), PathBuf::from("SAML_LOGIN_COOKIES")),
        JarSource::File(path) => {
            check_private(path)?;
            let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?;
            (text, path.clone())
        }
    };
    let cookies = parse_jar(&text).map_err(|e| Error::Malformed {
        path: origin.clone(),
        message: e.to_string(),
    })?;
    if cookies.is_empty() {
        return Err(Error::Malformed {
            path: origin,
            message: "the cookie jar holds no cookie".into(),
        });
    }
    Ok(cookies)
}

/// Write the cookies of `host` (the IdP) to `path` in the curl/Netscape format.
pub fn save(path: &Path, cookies: &[Cookie], host: &str) -> Result<usize> {
    let mine = filter_for_host(cookies, host);
    SecretFile::new(path).replace(to_netscape(&mine).as_bytes())?;
    Ok(mine.len())
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(Error::Malformed {
            path: path.to_owned(),
            message: format!(
                "the cookie jar holds an IdP session but is readable by group or others (mode {:o}); run `chmod 600 {}`",
                mode & 0o777,
                path.display()
            ),
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_permissions_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jar.txt");
        std::fs::write(&path, "127.0.0.1\tFALSE\t/\tFALSE\t0\tidp_session\tabc\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
            let e = read(&JarSource::File(path.clone()))
                .unwrap_err()
                .to_string();
            assert!(e.contains("chmod 600"), "{e}");
            assert!(!e.contains("abc"));
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        assert_eq!(read(&JarSource::File(path)).unwrap().len(), 1);
    }

    #[test]
    fn env_jar_and_empty_jar() {
        let jar = JarSource::Env(
            "[{\"name\":\"a\",\"value\":\"b\",\"domain\":\"x\",\"path\":\"/\"}]".into(),
        );
        assert_eq!(read(&jar).unwrap()[0].name, "a");
        let e = read(&JarSource::Env("# nothing\n".into()))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "SAML_LOGIN_COOKIES: the cookie jar holds no cookie");
    }
}
