//! saml-login.exe, the Windows build, run under Wine from the Linux test binary (issue 33).
//! scripts/test-wine.sh builds `target/x86_64-pc-windows-gnu/debug/saml-login.exe`, makes
//! one private prefix for its run (`WINEPREFIX`, Wine's registry, `C:` and the user's
//! folder), keeps its wineserver up, then runs `cargo test --test integration wine:: --
//! --ignored`; moto and the test IdP run here on loopback, which Wine programs share.
//!
//! Wine sets `USERPROFILE`, `LOCALAPPDATA`, `TEMP` and `PATH` itself (from the prefix's
//! registry), so the run's tests share one Windows user: they run one at a time, and each
//! starts by removing what saml-login keeps in that user's folder.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

/// Debian's Wine loader for 64-bit programs (the `wine64` package puts nothing on PATH).
pub const WINE64: &str = "/usr/lib/wine/wine64";

/// The Windows build and the prefix it runs in; one test at a time holds it.
pub struct Wine {
    pub exe: PathBuf,
    pub prefix: PathBuf,
    _one_at_a_time: MutexGuard<'static, ()>,
}

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

impl Wine {
    /// The exe and prefix scripts/test-wine.sh prepared (a panic saying so when it did
    /// not), with the user's saml-login and AWS files removed.
    pub fn new() -> Self {
        let guard = ONE_AT_A_TIME
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let prefix = PathBuf::from(std::env::var_os("WINEPREFIX").expect(
            "WINEPREFIX is not set: these tests run under scripts/test-wine.sh, which makes the prefix",
        ));
        let exe = std::env::var_os("SAML_LOGIN_WINE_EXE").map_or_else(
            || crate::support::repo().join("target/x86_64-pc-windows-gnu/debug/saml-login.exe"),
            PathBuf::from,
        );
        assert!(
            exe.is_file(),
            "{} is missing: scripts/test-wine.sh builds it",
            exe.display()
        );
        assert!(
            prefix.join("system.reg").is_file(),
            "{} is not a Wine prefix: scripts/test-wine.sh makes it",
            prefix.display()
        );
        let wine = Self {
            exe,
            prefix,
            _one_at_a_time: guard,
        };
        let user = wine.user_dir();
        for rel in [
            ".aws",
            ".saml-login",
            ".aws-accounts",
            "AppData/Local/saml-login",
        ] {
            let p = user.join(rel);
            if p.is_dir() {
                std::fs::remove_dir_all(&p).unwrap();
            } else if p.exists() {
                std::fs::remove_file(&p).unwrap();
            }
        }
        wine
    }

    /// `%USERPROFILE%` seen from Linux: Wine names the user's folder after the Unix user.
    pub fn user_dir(&self) -> PathBuf {
        let users = self.prefix.join("drive_c/users");
        let found = std::fs::read_dir(&users)
            .unwrap_or_else(|e| panic!("{}: {e}", users.display()))
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.file_name().is_some_and(|n| n != "Public"));
        found.unwrap_or_else(|| panic!("no user folder in {}", users.display()))
    }

    /// `rel` in the Windows user's folder, seen from Linux.
    pub fn user_path(&self, rel: &str) -> PathBuf {
        self.user_dir().join(rel)
    }

    /// Write `text` to `rel` in the Windows user's folder.
    pub fn write_user_file(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.user_path(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `program` (a Windows program, or a path Wine can start) under Wine with `vars`
    /// and nothing else of this process's environment.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>, vars: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(WINE64);
        cmd.arg(program)
            .env_clear()
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all")
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", std::env::var("HOME").unwrap_or_default())
            .env("LANG", "C.UTF-8")
            .env("NO_COLOR", "1")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(vars.iter().copied());
        cmd
    }

    /// saml-login.exe under Wine (see [`Self::command`]).
    pub fn saml_login(&self, vars: &[(&str, &str)]) -> Command {
        self.command(&self.exe, vars)
    }

    /// Set a value in the prefix's registry (`reg add`), which must succeed.
    pub fn reg_add(&self, key: &str, name: &str, data: &str) {
        let out = self
            .command("reg", &[])
            .args(["add", key, "/v", name, "/d", data, "/f"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "reg add {key} {name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `reg query KEY /s` in the prefix: the live registry (wineserver writes it to
    /// user.reg only from time to time); empty when the key does not exist.
    pub fn reg_query(&self, key: &str) -> String {
        let out = self
            .command("reg", &[])
            .args(["query", key, "/s"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// `path` (a Linux path) as Windows programs under Wine see it: `Z:` is `/`.
pub fn windows_path(path: &Path) -> String {
    format!("Z:{}", path.display()).replace('/', "\\")
}
