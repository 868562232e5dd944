//! The console in a browser identity of its own (`--browser-profile`, `browser_profile`):
//! a Chromium-family browser with a `--user-data-dir`, or Firefox with a `--profile`
//! directory, per name under saml-login's data directory (owner-only, trust-checked),
//! so that each AWS profile (or each name several profiles share) keeps its own console
//! cookies. The browser is given the forwarding page's `file://` URL, never the sign-in
//! URL: the SigninToken stays off every command line.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use url::Url;

use crate::config::console_target::{IdentitySetting, safe_name};
use crate::config::paths::Paths;
use crate::error::{Error, Result};

/// How long the browser may take to read the forwarding page (a first start of a new
/// profile under load takes seconds).
const PAGE_READ_LIMIT: Duration = Duration::from_secs(60);

/// The kinds of browser an identity can be given to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    /// Chrome, Chromium, Edge, Brave, Vivaldi: `--user-data-dir`.
    Chromium,
    /// Firefox: `--profile DIR`.
    Firefox,
}

impl Family {
    fn of(path: &Path) -> Family {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        if name.contains("firefox") || name.contains("librewolf") {
            Family::Firefox
        } else {
            Family::Chromium
        }
    }

    /// The arguments that open `page` in the identity whose directory is `dir`.
    fn args(self, dir: &Path, page: &Url) -> Vec<std::ffi::OsString> {
        let mut args: Vec<std::ffi::OsString> = Vec::new();
        match self {
            Family::Chromium => {
                let mut data = std::ffi::OsString::from("--user-data-dir=");
                data.push(dir);
                args.push(data);
                args.push("--no-first-run".into());
                args.push("--no-default-browser-check".into());
            }
            Family::Firefox => {
                args.push("--profile".into());
                args.push(dir.into());
                args.push("--new-tab".into());
            }
        }
        args.push(page.as_str().into());
        args
    }
}

/// The directory of identity `name`: `{data}/console/{name}`.
pub(crate) fn identity_dir(paths: &Paths, name: &str) -> PathBuf {
    paths.data.join("console").join(safe_name(name))
}

/// The browser to run: `console_browser`, else a full Chromium or Chrome found as
/// headless Chromium is (`CHROME`, `PATH`, the usual install places), else Firefox.
fn find_browser(given: Option<&Path>, programs: &saml_login_capture::Vars) -> Result<PathBuf> {
    if let Some(path) = given {
        if !saml_login_capture::is_executable(path) {
            return Err(Error::BadValue {
                field: "console_browser".into(),
                origin: "--console-browser or console_browser".into(),
                message: format!("{} is not a program this user can run", path.display()),
            });
        }
        return Ok(path.to_owned());
    }
    #[cfg(feature = "headless")]
    if let Ok(found) = saml_login_headless::find_chrome(None, true, programs) {
        return Ok(found.path);
    }
    ["firefox", "firefox-esr"]
        .iter()
        .find_map(|n| programs.find_on_path(n))
        .ok_or_else(|| Error::OpenBrowser {
            reason: "--browser-profile needs Chromium, Chrome, Edge, Brave or Firefox and none \
                     was found: name one with console_browser = PATH (or --console-browser)"
                .into(),
        })
}

/// Open `url` (it may hold a SigninToken) in identity `name`'s browser, through a
/// private forwarding page; returns once the browser has read the page.
pub(crate) fn open_in_identity(
    paths: &Paths,
    setting: &IdentitySetting,
    name: &str,
    url: &Url,
) -> Result<()> {
    let browser = find_browser(setting.browser.as_deref(), &paths.programs)?;
    let dir = identity_dir(paths, name);
    crate::storage::credentials_file::check_trusted(&dir).map_err(|(path, message)| {
        Error::Untrusted {
            message: format!("{message}; the console's browser profile would be kept there"),
            path,
        }
    })?;
    // saml-login's own directory: an existing one is made owner-only again.
    saml_login_capture::create_private_dir(&dir, saml_login_capture::ExistingDir::Tighten)
        .map_err(|source| Error::Write {
            path: dir.clone(),
            source,
        })?;
    let page = saml_login_system::forward::Forwarder::new(url).map_err(|e| Error::OpenBrowser {
        reason: e.to_string(),
    })?;
    let family = Family::of(&browser);
    crate::output::notice!(
        "opening the console in browser profile {name:?} ({})",
        dir.display()
    );
    let mut command = Command::new(&browser);
    command
        .args(family.args(&dir, &page.url()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // The browser is the user's to keep: a Ctrl-C that ends saml-login does not end it.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command.spawn().map_err(|e| Error::OpenBrowser {
        reason: format!("{}: {e}", browser.display()),
    })?;
    let until = Instant::now() + PAGE_READ_LIMIT;
    while Instant::now() < until {
        if page.was_read() {
            // The browser may read the file in more than one go.
            std::thread::sleep(Duration::from_millis(500));
            break;
        }
        // A browser that hands the page to one already running on this profile ends at
        // once; one that fails says so by its status.
        if let Ok(Some(status)) = child.try_wait()
            && !status.success()
        {
            return Err(Error::OpenBrowser {
                reason: format!("{} ended with {status}", browser.display()),
            });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_url_is_the_last_argument_and_the_profile_is_per_family() {
        let page = Url::parse("file:///tmp/x/login.html").unwrap();
        let dir = Path::new("/home/u/.local/share/saml-login/console/dev");
        let chromium = Family::of(Path::new("/usr/bin/chromium")).args(dir, &page);
        assert_eq!(
            chromium[0],
            "--user-data-dir=/home/u/.local/share/saml-login/console/dev"
        );
        assert_eq!(chromium.last().unwrap(), "file:///tmp/x/login.html");
        let firefox = Family::of(Path::new("/usr/bin/firefox-esr")).args(dir, &page);
        assert_eq!(
            firefox[..2],
            ["--profile".into(), dir.as_os_str().to_owned()]
        );
        assert_eq!(Family::of(Path::new("/x/msedge")), Family::Chromium);
    }
}
