//! Finding a program on `PATH` the way the platform's shell does. On Windows a bare
//! name also matches the name plus each extension of `PATHEXT` (`cdk` is `cdk.cmd`),
//! as cmd and PowerShell do; elsewhere the name is taken as it is. The current
//! directory is never searched through an empty `PATH` entry.
//!
//! Not the `which` crate (8.0, read for issue 26): on unix it keeps an empty `PATH`
//! entry (`PATH=/usr/bin:` or `::`), which then names the current directory, in
//! `which_global` too (the entry joins to a bare relative name); `which` resolves
//! relative entries and names with a separator against the current directory and
//! expands a leading `~` in entries. Each of those would run a program planted in the
//! directory saml-login happens to be started from, so the search stays ours.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// What cmd uses when `PATHEXT` is unset.
pub const DEFAULT_PATHEXT: &str = ".COM;.EXE;.BAT;.CMD";

/// The first file that `name` stands for in the directories of `path` (a `PATH` value),
/// trying the extensions of `pathext` (a `PATHEXT` value) when given: in each directory
/// in turn, `name` itself when its extension is one of them, else `name` plus each in
/// order. Only files this user may run count ([`crate::is_executable`]). `None` for a
/// name holding a directory part (it is not looked up).
pub fn find_program(name: &OsStr, path: &OsStr, pathext: Option<&OsStr>) -> Option<PathBuf> {
    if Path::new(name).components().count() != 1 || name.is_empty() {
        return None;
    }
    let names = candidates(name, pathext);
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .find_map(|dir| {
            names
                .iter()
                .map(|n| dir.join(n))
                .find(|p| crate::is_executable(p))
        })
}

/// The file names `name` may stand for (see [`find_program`]).
fn candidates(name: &OsStr, pathext: Option<&OsStr>) -> Vec<OsString> {
    let Some(pathext) = pathext else {
        return vec![name.to_owned()];
    };
    let exts: Vec<String> = pathext
        .to_string_lossy()
        .split(';')
        .map(str::trim)
        .filter(|e| e.starts_with('.') && e.len() > 1)
        .map(str::to_owned)
        .collect();
    let has_listed_ext = Path::new(name)
        .extension()
        .map(|e| format!(".{}", e.to_string_lossy()))
        .is_some_and(|e| exts.iter().any(|x| x.eq_ignore_ascii_case(&e)));
    if has_listed_ext {
        return vec![name.to_owned()];
    }
    exts.iter()
        .map(|ext| {
            let mut n = name.to_owned();
            n.push(ext.to_ascii_lowercase());
            n
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An empty program `name` in `dir` (executable, for the unix check).
    fn touch(dir: &Path, name: &str) {
        let file = dir.join(name);
        std::fs::write(&file, b"").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }

    fn path_of(dirs: &[&Path]) -> OsString {
        std::env::join_paths(dirs).unwrap()
    }

    #[test]
    fn pathext_finds_a_cmd_script_for_a_bare_name() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        touch(b.path(), "cdk.cmd");
        let path = path_of(&[a.path(), b.path()]);
        let ext = OsStr::new(DEFAULT_PATHEXT);
        assert_eq!(
            find_program(OsStr::new("cdk"), &path, Some(ext)),
            Some(b.path().join("cdk.cmd"))
        );
        // Named with its extension, it is found as it is.
        assert_eq!(
            find_program(OsStr::new("cdk.cmd"), &path, Some(ext)),
            Some(b.path().join("cdk.cmd"))
        );
        // Without PATHEXT (unix) the bare name is not a script's name.
        assert_eq!(find_program(OsStr::new("cdk"), &path, None), None);
    }

    #[test]
    fn directories_come_first_then_pathext_order() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        touch(a.path(), "tool.bat");
        touch(b.path(), "tool.exe");
        touch(b.path(), "tool.cmd");
        let ext = OsStr::new(".EXE;.BAT;.CMD");
        assert_eq!(
            find_program(
                OsStr::new("tool"),
                &path_of(&[a.path(), b.path()]),
                Some(ext)
            ),
            Some(a.path().join("tool.bat"))
        );
        assert_eq!(
            find_program(OsStr::new("tool"), &path_of(&[b.path()]), Some(ext)),
            Some(b.path().join("tool.exe"))
        );
    }

    #[test]
    fn names_with_a_directory_and_unlisted_extensions() {
        let a = tempfile::tempdir().unwrap();
        touch(a.path(), "run.ps1");
        touch(a.path(), "run.ps1.cmd");
        let path = path_of(&[a.path()]);
        let ext = OsStr::new(".EXE;.CMD");
        // .ps1 is not in PATHEXT: the extensions are appended, as cmd does.
        assert_eq!(
            find_program(OsStr::new("run.ps1"), &path, Some(ext)),
            Some(a.path().join("run.ps1.cmd"))
        );
        assert_eq!(find_program(OsStr::new("sub/run.ps1"), &path, None), None);
        assert_eq!(find_program(OsStr::new(""), &path, None), None);
    }
}
