//! Finding the Chromium to run: the one given (`--chrome`, the `chrome` setting, else
//! `CHROME`), else a headless shell, else a full Chromium or Chrome. No browser is ever
//! downloaded.
//!
//! The headless shell (`chromium-headless-shell`, Chrome for Testing's
//! `chrome-headless-shell`, Playwright's `headless_shell`) is Chromium's headless build
//! without the browser UI, the one Puppeteer and Playwright run headless: it starts and
//! loads a page in about 40% of full Chromium's time, with half its memory. It has no
//! window, so `--show-browser` takes a full Chromium.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use saml_login_capture::{CaptureError, Vars};

/// Which build of Chromium a binary is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Build {
    /// The headless-only build without the browser UI: no window.
    HeadlessShell,
    /// Chromium, Chrome or Edge: the whole browser, which can show a window.
    Full,
}

impl Build {
    /// Told by the file name: the shells are called `chromium-headless-shell`,
    /// `chrome-headless-shell` or `headless_shell`.
    pub fn of(path: &Path) -> Build {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.contains("headless-shell") || name.contains("headless_shell") {
            Build::HeadlessShell
        } else {
            Build::Full
        }
    }
}

/// A Chromium binary and its build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chromium {
    pub path: PathBuf,
    pub build: Build,
}

impl Chromium {
    fn at(path: PathBuf) -> Self {
        let build = Build::of(&path);
        Self { path, build }
    }
}

/// The headless shells' names on `PATH`.
const SHELL_NAMES: [&str; 2] = ["chromium-headless-shell", "chrome-headless-shell"];
/// Full Chromium's and Chrome's names on `PATH`.
const FULL_NAMES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

/// The environment variables a search reads, from the [`Vars`] its caller hands in
/// (saml-login's resolver reads them once): `CHROME`, `PATH` (and `PATHEXT`), where
/// Playwright keeps its browsers, and Windows' install directories.
pub const SEARCH_VARS: [&str; 7] = [
    "CHROME",
    "PATH",
    "PATHEXT",
    "PLAYWRIGHT_BROWSERS_PATH",
    "LOCALAPPDATA",
    "ProgramFiles",
    "ProgramFiles(x86)",
];

/// Where a search looks: the environment it was given, and the install locations of
/// this operating system (tests give their own).
#[derive(Clone, Debug, Default)]
pub(crate) struct Search {
    /// `CHROME`.
    pub chrome_env: Option<OsString>,
    /// `PATH`.
    pub path: Option<OsString>,
    /// `PATHEXT` on Windows (see [`Vars::pathext`]).
    pub pathext: Option<OsString>,
    /// Headless shells outside `PATH`, in order of preference.
    pub shell_locations: Vec<PathBuf>,
    /// Full Chromium/Chrome outside `PATH`, in order of preference.
    pub full_locations: Vec<PathBuf>,
}

impl Search {
    /// The environment `vars` (of [`SEARCH_VARS`]) and this operating system's usual
    /// locations.
    pub fn from_vars(vars: &Vars) -> Self {
        Self {
            chrome_env: vars.get("CHROME").filter(|v| !v.is_empty()).map(Into::into),
            path: vars.get("PATH").map(Into::into),
            pathext: vars.pathext(),
            shell_locations: shell_locations(vars),
            full_locations: full_locations(vars),
        }
    }

    /// The Chromium to run: `explicit` (`--chrome` or the `chrome` setting), else
    /// `CHROME`, else a headless shell (unless a `window` is wanted), else a full
    /// Chromium or Chrome. A window cannot come from a headless shell: asking for one
    /// with only a shell installed, or with a shell given, is an error that says so.
    pub fn find(&self, explicit: Option<&Path>, window: bool) -> Result<Chromium, CaptureError> {
        let given = if let Some(path) = explicit {
            if !path.is_file() {
                return Err(CaptureError::NotAvailable(format!(
                    "the Chromium given with --chrome (or the chrome setting) does not exist: {}",
                    path.display()
                )));
            }
            Some(Chromium::at(path.to_path_buf()))
        } else if let Some(env) = &self.chrome_env {
            let path = PathBuf::from(env);
            let found = if path.is_file() {
                Some(path.clone())
            } else {
                self.on_path(&path.to_string_lossy())
            };
            let Some(found) = found else {
                return Err(CaptureError::NotAvailable(format!(
                    "the Chromium named by the CHROME environment variable does not exist: {}",
                    path.display()
                )));
            };
            Some(Chromium::at(found))
        } else {
            None
        };
        if let Some(chrome) = given {
            if window && chrome.build == Build::HeadlessShell {
                return Err(CaptureError::NotAvailable(format!(
                    "--show-browser needs a window, and {} is a headless shell, which has none: \
                     give a full Chromium or Chrome with --chrome",
                    chrome.path.display()
                )));
            }
            return Ok(chrome);
        }
        let shell = self.first(&SHELL_NAMES, &self.shell_locations);
        if !window && let Some(shell) = shell {
            return Ok(Chromium::at(shell));
        }
        if let Some(full) = self.first(&FULL_NAMES, &self.full_locations) {
            return Ok(Chromium::at(full));
        }
        if let Some(shell) = shell {
            return Err(CaptureError::NotAvailable(format!(
                "--show-browser needs a window, and the only Chromium found is the headless shell \
                 {}, which has none. Install a full Chromium (Debian/Ubuntu: `apt-get install \
                 chromium`) or Google Chrome, or give one with --chrome PATH",
                shell.display()
            )));
        }
        Err(CaptureError::NotAvailable(
            "no Chromium or Google Chrome found for --headless. Install one (Debian/Ubuntu: \
             `apt-get install chromium-headless-shell`, the lightest, or `chromium`; Fedora: \
             `dnf install chromium-headless`; macOS: `brew install --cask chromium` or Google \
             Chrome; Windows: Google Chrome or Microsoft Edge), or give its path with --chrome \
             PATH or the CHROME environment variable"
                .into(),
        ))
    }

    /// The first of `names` on `PATH`, else the first of `locations` that exists.
    fn first(&self, names: &[&str], locations: &[PathBuf]) -> Option<PathBuf> {
        names
            .iter()
            .find_map(|name| self.on_path(name))
            .or_else(|| {
                locations
                    .iter()
                    .find(|p| saml_login_capture::is_executable(p))
                    .cloned()
            })
    }

    /// An executable called `name` in a directory of `PATH`.
    fn on_path(&self, name: &str) -> Option<PathBuf> {
        saml_login_capture::path_search::find_program(
            name.as_ref(),
            self.path.as_ref()?,
            self.pathext.as_deref(),
        )
    }
}

/// Find a Chromium or Chrome with the environment `vars` (see [`Search::find`] and
/// [`SEARCH_VARS`]).
pub fn find_chrome(
    explicit: Option<&Path>,
    window: bool,
    vars: &Vars,
) -> Result<Chromium, CaptureError> {
    Search::from_vars(vars).find(explicit, window)
}

fn home() -> Option<PathBuf> {
    std::env::home_dir()
}

/// Headless shells outside `PATH`: the distributions' own (Debian and Ubuntu keep the
/// binary behind `/usr/bin/chromium-headless-shell` in `/usr/lib/chromium`; Fedora's
/// `chromium-headless`), then the newest in Playwright's and Puppeteer's browser caches.
fn shell_locations(vars: &Vars) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    let exe = if cfg!(windows) { ".exe" } else { "" };
    if cfg!(target_os = "linux") {
        paths.push(PathBuf::from("/usr/lib/chromium/chromium-headless-shell"));
        paths.push(PathBuf::from("/usr/lib64/chromium-browser/headless_shell"));
    }
    // Playwright: PLAYWRIGHT_BROWSERS_PATH, else its per-OS cache.
    let playwright = vars
        .get("PLAYWRIGHT_BROWSERS_PATH")
        .filter(|v| !v.is_empty() && *v != "0")
        .map(PathBuf::from)
        .or_else(|| {
            if cfg!(target_os = "macos") {
                home().map(|h| h.join("Library/Caches/ms-playwright"))
            } else if cfg!(windows) {
                vars.get("LOCALAPPDATA")
                    .map(|d| PathBuf::from(d).join("ms-playwright"))
            } else {
                home().map(|h| h.join(".cache/ms-playwright"))
            }
        });
    let (old, new) = if cfg!(target_os = "macos") {
        (
            "chrome-mac",
            [
                "chrome-headless-shell-mac-arm64",
                "chrome-headless-shell-mac-x64",
            ],
        )
    } else if cfg!(windows) {
        (
            "chrome-win",
            ["chrome-headless-shell-win64", "chrome-headless-shell-win32"],
        )
    } else {
        (
            "chrome-linux",
            [
                "chrome-headless-shell-linux64",
                "chrome-headless-shell-linux-arm64",
            ],
        )
    };
    let inner: Vec<PathBuf> = std::iter::once(Path::new(old).join(format!("headless_shell{exe}")))
        .chain(
            new.iter()
                .map(|d| Path::new(d).join(format!("chrome-headless-shell{exe}"))),
        )
        .collect();
    if let Some(root) = playwright {
        paths.extend(newest_first(&root, "chromium_headless_shell-", &inner));
    }
    // Puppeteer: ~/.cache/puppeteer/chrome-headless-shell/PLATFORM-VERSION/...
    if let Some(home) = home() {
        paths.extend(newest_first(
            &home.join(".cache/puppeteer/chrome-headless-shell"),
            "",
            &inner,
        ));
    }
    paths
}

/// Full Chromium/Chrome outside `PATH`: the usual macOS and Windows install locations.
fn full_locations(vars: &Vars) -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if cfg!(target_os = "macos") {
        for p in [
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
            "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
        ] {
            paths.push(PathBuf::from(p));
        }
        if let Some(home) = home() {
            paths.push(home.join("Applications/Google Chrome.app/Contents/MacOS/Google Chrome"));
        }
    }
    if cfg!(windows) {
        for var in ["ProgramFiles", "ProgramFiles(x86)", "LOCALAPPDATA"] {
            if let Some(base) = vars.get(var) {
                let base = PathBuf::from(base);
                paths.push(base.join(r"Google\Chrome\Application\chrome.exe"));
                paths.push(base.join(r"Chromium\Application\chrome.exe"));
                paths.push(base.join(r"Microsoft\Edge\Application\msedge.exe"));
            }
        }
    }
    paths
}

/// `root/DIR/INNER` for each directory of `root` whose name starts with `prefix`, the
/// highest version first (numbers compared as numbers), each with every `inner` path.
fn newest_first(root: &Path, prefix: &str, inner: &[PathBuf]) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut dirs: Vec<(Vec<u64>, PathBuf)> = entries
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| (version_key(&e.file_name().to_string_lossy()), e.path()))
        .collect();
    dirs.sort_by(|a, b| b.0.cmp(&a.0));
    dirs.into_iter()
        .flat_map(|(_, dir)| inner.iter().map(move |i| dir.join(i)))
        .collect()
}

/// The numbers in a name, in order: `linux-131.0.6778.85` -> [131, 0, 6778, 85].
fn version_key(name: &str) -> Vec<u64> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The program `name` in `dir` as this system names it: `chromium` is
    /// `chromium.exe` on Windows, found through `PATHEXT` (these tests ran under Wine as
    /// Unix names and failed: issue 33).
    fn prog(dir: &Path, name: &str) -> PathBuf {
        dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
    }

    /// A directory holding executables with these names (real files, mode 0755).
    fn bin_dir(names: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in names {
            let p = prog(dir.path(), name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        dir
    }

    fn search(dir: &Path) -> Search {
        Search {
            path: Some(dir.as_os_str().to_owned()),
            pathext: Vars::default().pathext(),
            ..Search::default()
        }
    }

    #[test]
    fn a_headless_shell_comes_before_full_chromium() {
        let dir = bin_dir(&["chromium", "chromium-headless-shell"]);
        let found = search(dir.path()).find(None, false).unwrap();
        assert_eq!(found.path, prog(dir.path(), "chromium-headless-shell"));
        assert_eq!(found.build, Build::HeadlessShell);
        let dir = bin_dir(&["google-chrome", "chrome-headless-shell"]);
        let found = search(dir.path()).find(None, false).unwrap();
        assert_eq!(found.path, prog(dir.path(), "chrome-headless-shell"));
    }

    #[test]
    fn a_shell_outside_path_still_comes_before_full_chromium_on_path() {
        let dir = bin_dir(&["chromium"]);
        let elsewhere = bin_dir(&["headless_shell"]);
        let s = Search {
            shell_locations: vec![prog(elsewhere.path(), "headless_shell")],
            ..search(dir.path())
        };
        let found = s.find(None, false).unwrap();
        assert_eq!(found.path, prog(elsewhere.path(), "headless_shell"));
        assert_eq!(found.build, Build::HeadlessShell);
    }

    #[test]
    fn full_chromium_when_no_shell_is_installed() {
        let dir = bin_dir(&["chromium"]);
        let found = search(dir.path()).find(None, false).unwrap();
        assert_eq!(found.path, prog(dir.path(), "chromium"));
        assert_eq!(found.build, Build::Full);
    }

    #[test]
    fn chrome_flag_and_variable_decide_over_the_shell() {
        let dir = bin_dir(&["chromium", "chromium-headless-shell"]);
        let full = prog(dir.path(), "chromium");
        let found = search(dir.path()).find(Some(&full), false).unwrap();
        assert_eq!(found.path, full);
        let s = Search {
            chrome_env: Some("chromium".into()),
            ..search(dir.path())
        };
        assert_eq!(s.find(None, false).unwrap().path, full);
        // The flag wins over the variable.
        let shell = prog(dir.path(), "chromium-headless-shell");
        assert_eq!(s.find(Some(&shell), false).unwrap().path, shell);
    }

    #[test]
    fn a_window_takes_full_chromium_even_when_a_shell_is_there() {
        let dir = bin_dir(&["chromium-headless-shell", "chromium"]);
        let found = search(dir.path()).find(None, true).unwrap();
        assert_eq!(found.path, prog(dir.path(), "chromium"));
        assert_eq!(found.build, Build::Full);
    }

    #[test]
    fn a_window_with_only_a_shell_installed_says_so() {
        let dir = bin_dir(&["chromium-headless-shell"]);
        let err = search(dir.path()).find(None, true).unwrap_err().to_string();
        assert!(err.contains("--show-browser needs a window"), "{err}");
        assert!(err.contains("chromium-headless-shell"), "{err}");
        assert!(err.contains("apt-get install chromium"), "{err}");
        let shell = prog(dir.path(), "chromium-headless-shell");
        let err = search(dir.path())
            .find(Some(&shell), true)
            .unwrap_err()
            .to_string();
        assert!(err.contains("is a headless shell"), "{err}");
    }

    #[test]
    fn nothing_installed_names_the_packages() {
        let dir = bin_dir(&[]);
        let err = search(dir.path()).find(None, false).unwrap_err();
        assert!(matches!(err, CaptureError::NotAvailable(_)), "{err}");
        assert!(err.to_string().contains("chromium-headless-shell"), "{err}");
    }

    #[test]
    fn missing_explicit_or_variable_chrome_is_not_available() {
        let dir = bin_dir(&["chromium"]);
        let err = search(dir.path())
            .find(Some(Path::new("/nonexistent/chromium")), false)
            .unwrap_err();
        assert!(matches!(err, CaptureError::NotAvailable(_)), "{err}");
        let s = Search {
            chrome_env: Some("/nonexistent/chromium".into()),
            ..search(dir.path())
        };
        let err = s.find(None, false).unwrap_err().to_string();
        assert!(err.contains("CHROME"), "{err}");
    }

    #[test]
    fn cached_shells_newest_version_first() {
        let root = tempfile::tempdir().unwrap();
        let inner = [PathBuf::from("x/headless_shell")];
        for d in [
            "chromium_headless_shell-999",
            "chromium_headless_shell-1155",
            "other-2000",
        ] {
            std::fs::create_dir(root.path().join(d)).unwrap();
        }
        let found = newest_first(root.path(), "chromium_headless_shell-", &inner);
        assert_eq!(
            found,
            [
                root.path()
                    .join("chromium_headless_shell-1155/x/headless_shell"),
                root.path()
                    .join("chromium_headless_shell-999/x/headless_shell"),
            ]
        );
        assert_eq!(version_key("linux-131.0.6778.85"), [131, 0, 6778, 85]);
    }

    #[test]
    fn builds_by_name() {
        for shell in [
            "/usr/bin/chromium-headless-shell",
            "/x/chrome-headless-shell",
            "/x/headless_shell",
            r"chrome-headless-shell.exe",
        ] {
            assert_eq!(Build::of(Path::new(shell)), Build::HeadlessShell, "{shell}");
        }
        for full in ["/usr/bin/chromium", "/x/google-chrome", "/x/msedge.exe"] {
            assert_eq!(Build::of(Path::new(full)), Build::Full, "{full}");
        }
    }
}
