//! Private places on disk: directories only their owner can enter, for browser
//! profiles and pages that hold a session or a secret, and the search for programs on
//! `PATH`.

use std::path::{Path, PathBuf};

/// What [`create_private_dir`] does with a directory that is there already.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExistingDir {
    /// Make it 0700: saml-login's own directories (browser profiles, caches, locks,
    /// secret files), where others could list what it holds (the IdP hosts of remembered
    /// sessions) and which an older version or a umask may have left open.
    Tighten,
    /// Leave its mode alone: a directory of the user's that other tools share (`~/.aws`,
    /// or wherever `AWS_SHARED_CREDENTIALS_FILE` points). Its mode is the user's choice
    /// (the AWS CLI reads `config` there), the files saml-login writes in it are 0600
    /// anyway, and the trust check refuses one others may write.
    Keep,
}

/// Creates `dir` and any missing parents, each new one owner-only (0700); a `dir` that
/// is there already is made 0700 or left as it is, as `existing` says.
pub fn create_private_dir(dir: &Path, existing: ExistingDir) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)?;
    #[cfg(unix)]
    if existing == ExistingDir::Tighten {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    #[cfg(not(unix))]
    let _ = existing;
    Ok(())
}

/// A new directory `PREFIX<PID>-RANDOM` in the temp directory that only its owner can
/// enter (0700; tempfile's default is 0755), removed when dropped: for browser profiles
/// and pages that hold a session or a secret. Those a killed run left behind are
/// removed first (see [`sweep_stale_temp_dirs`]).
pub fn private_temp_dir(prefix: &str) -> std::io::Result<tempfile::TempDir> {
    let temp = safe_temp_dir()?;
    sweep_stale_temp_dirs(&temp, prefix);
    let mut builder = tempfile::Builder::new();
    let prefix = format!("{prefix}{}-", std::process::id());
    builder.prefix(&prefix);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    builder.tempdir_in(temp)
}

/// The temp directory, when no other user can swap what is made in it: it and every
/// directory above it owned by this user or root and writable by no one else unless
/// sticky (as /tmp is). A `TMPDIR` that fails this is replaced by `XDG_RUNTIME_DIR`
/// when that one passes (said once), else refused naming it (issue 27).
pub fn safe_temp_dir() -> std::io::Result<PathBuf> {
    let temp = std::env::temp_dir();
    let Err(why) = unswappable(&temp) else {
        return Ok(temp);
    };
    if let Some(run) = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && unswappable(p).is_ok())
    {
        // Said once however many directories the run makes there.
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            crate::warning!(
                "the temp directory {why}; using XDG_RUNTIME_DIR ({}) instead",
                run.display()
            );
        });
        return Ok(run);
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        format!(
            "the temp directory {why}, so another user could swap what saml-login puts there: set TMPDIR to a directory of yours"
        ),
    ))
}

/// Why another user could replace entries of `dir` (or of a directory above it).
#[cfg(unix)]
fn unswappable(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    let mut at = Some(dir);
    while let Some(p) = at {
        if let Ok(m) = std::fs::metadata(p) {
            let mode = m.mode();
            if m.uid() != me && m.uid() != 0 {
                return Err(format!(
                    "{} is owned by another user (uid {})",
                    p.display(),
                    m.uid()
                ));
            }
            if mode & 0o002 != 0 && mode & 0o1000 == 0 {
                return Err(format!(
                    "{} is writable by every user without the sticky bit (mode {:o})",
                    p.display(),
                    mode & 0o7777
                ));
            }
        }
        at = p.parent();
    }
    Ok(())
}

#[cfg(not(unix))]
fn unswappable(_: &Path) -> Result<(), String> {
    Ok(())
}

/// Removes what a killed saml-login left in `temp` (a SIGKILL runs no destructor): this
/// user's `PREFIX<PID>-*` directories whose PID is no longer running. Others'
/// directories, live runs' and unparsable names are left alone, and a symbolic link
/// planted under such a name is not followed.
#[cfg(unix)]
pub fn sweep_stale_temp_dirs(temp: &Path, prefix: &str) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    let me = rustix::process::geteuid().as_raw();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
            .and_then(rustix::process::Pid::from_raw)
        else {
            continue;
        };
        let ours =
            std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir() && m.uid() == me);
        let running = !matches!(
            rustix::process::test_kill_process(pid),
            Err(rustix::io::Errno::SRCH)
        );
        if ours && !running {
            // Best effort: what cannot be removed now is tried again by the next run.
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// On Windows: the same, where "this user's" is the per-user temp directory
/// (`%LOCALAPPDATA%\Temp`, which only its owner may list) and a live run is a process
/// [`crate::job::process_running`] finds.
#[cfg(windows)]
pub fn sweep_stale_temp_dirs(temp: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(temp) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let dir = std::fs::symlink_metadata(entry.path()).is_ok_and(|m| m.is_dir());
        if dir && !crate::job::process_running(pid) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

#[cfg(not(any(unix, windows)))]
pub fn sweep_stale_temp_dirs(_temp: &Path, _prefix: &str) {}

/// Whether `path` is a file this user may run (on unix: some execute bit set).
#[cfg(unix)]
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether `path` is a file this user may run.
#[cfg(not(unix))]
pub fn is_executable(path: &Path) -> bool {
    path.is_file()
}

/// Modes and execute bits are unix's (the portable search: `path_search`'s tests).
#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn private_temp_dirs_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = private_temp_dir("saml-login-test-").unwrap();
        let mode = std::fs::metadata(dir.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }

    #[test]
    fn private_dirs_and_their_new_parents_are_owner_only_even_when_there_already() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_private_dir(&dir, ExistingDir::Tighten).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&root.path().join("a")), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir, ExistingDir::Tighten).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn a_kept_directory_keeps_its_mode_and_new_ones_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("aws");
        create_private_dir(&dir.join("new"), ExistingDir::Keep).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("new")), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&dir, ExistingDir::Keep).unwrap();
        assert_eq!(mode(&dir), 0o755);
    }

    #[test]
    fn path_search_finds_only_executables_by_bare_name() {
        use std::os::unix::fs::PermissionsExt;
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let plain = a.path().join("tool");
        std::fs::write(&plain, "").unwrap();
        let runnable = b.path().join("tool");
        std::fs::write(&runnable, "").unwrap();
        std::fs::set_permissions(&runnable, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths([a.path(), b.path()]).unwrap();
        let vars = crate::Vars::default();
        assert_eq!(vars.find_in(&path, "tool"), Some(runnable));
        assert_eq!(vars.find_in(&path, "missing"), None);
        assert_eq!(vars.find_in(&path, "b/tool"), None);
    }
}
