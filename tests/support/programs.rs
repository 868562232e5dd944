//! Programs the harness runs, found the way a shell finds them (PATH), in Rust: the
//! Python interpreter (past pyenv's shims) and tools such as `moto_server`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The real Python interpreter: the first `python3` on PATH or, when that is a pyenv
/// shim (a script whose children outlive a kill), the interpreter pyenv runs for it.
pub fn python() -> &'static str {
    static PY: OnceLock<String> = OnceLock::new();
    PY.get_or_init(|| {
        let found = on_path("python3")
            .or_else(|| on_path("python"))
            .expect("python3 is installed (the README's test command installs it)");
        let found = if is_pyenv_shim(&found) {
            pyenv_which(&found)
        } else {
            found
        };
        found.display().to_string()
    })
}

/// A program beside the interpreter of [`python`] (a tool installed with pip, such as
/// `moto_server`), else the first one on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let beside = Path::new(python()).parent()?.join(name);
    if beside.exists() {
        return Some(beside);
    }
    on_path(name)
}

/// The first executable file `name` in a directory of PATH (`name.exe` too on Windows).
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        let names = if cfg!(windows) {
            vec![name.to_owned(), format!("{name}.exe")]
        } else {
            vec![name.to_owned()]
        };
        names
            .into_iter()
            .map(|n| dir.join(n))
            .find(|p| is_executable(p))
    })
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// Whether `program` is one of pyenv's shims (`PYENV_ROOT/shims/NAME`).
fn is_pyenv_shim(program: &Path) -> bool {
    program
        .parent()
        .is_some_and(|dir| dir.ends_with("shims") && dir.with_file_name("versions").is_dir())
}

/// The program pyenv runs for `shim` (`pyenv which NAME`: pyenv's own answer for the
/// version in force here; pyenv is a shell program, no Python starts).
fn pyenv_which(shim: &Path) -> PathBuf {
    let root = shim.parent().and_then(Path::parent).unwrap();
    let pyenv = [root.join("bin/pyenv"), root.join("libexec/pyenv")]
        .into_iter()
        .find(|p| is_executable(p))
        .unwrap_or_else(|| PathBuf::from("pyenv"));
    let name = shim.file_name().unwrap();
    let out = Command::new(&pyenv)
        .arg("which")
        .arg(name)
        .env("PYENV_ROOT", root)
        .output()
        .unwrap_or_else(|e| panic!("{} which {name:?}: {e}", pyenv.display()));
    assert!(
        out.status.success(),
        "{} which {name:?}: {}",
        pyenv.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}
