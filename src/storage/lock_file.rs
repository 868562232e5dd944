//! Lock files: the one way saml-login opens one, for the credentials file's writers
//! (`credentials_file::SecretFile`) and for one login at a time (`login::lock`).

use std::fs::{self, File, OpenOptions};
use std::path::Path;

use crate::error::{Error, Result};

/// Open the lock file at `path` for reading and writing, creating it with mode 0600;
/// a symbolic link planted under its name is not followed (an error names it). The
/// caller takes the OS lock on the file.
pub(crate) fn open_lock_file(path: &Path) -> Result<File> {
    let mut options = OpenOptions::new();
    options.create(true).truncate(false).read(true).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    options.open(path).map_err(|source| {
        if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            Error::Untrusted {
                path: path.to_owned(),
                message: "is a symbolic link; saml-login does not follow it".into(),
            }
        } else {
            Error::Write {
                path: path.to_owned(),
                source,
            }
        }
    })
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn a_lock_file_is_private_and_a_planted_link_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        open_lock_file(&path).unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let target = dir.path().join("elsewhere");
        let link = dir.path().join("y.lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = open_lock_file(&link).unwrap_err();
        assert!(matches!(e, Error::Untrusted { .. }), "{e}");
        assert!(!target.exists());
    }
}
