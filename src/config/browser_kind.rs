//! The ways saml-login can run a login, as the command line and the configuration name
//! them, and what this machine says about where its shell runs (SSH, WSL, a container)
//! for the choice of how the system browser opens the login. A leaf: the parser, the
//! resolver and the browser factory all use it.

use std::path::{Path, PathBuf};

/// The ways saml-login can run the login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BrowserKind {
    /// saml-login's own window (wry + WebKitGTK/WebView2/WKWebView); no port opened.
    Webview,
    /// Headless Chromium with a stored session (CI runners); no port opened.
    Headless,
    /// The default browser plus a callback server on 127.0.0.1:listen_port.
    System,
    /// No browser here: print the login URL and wait on the callback port (SSH, containers).
    #[value(name = "none")]
    NoBrowser,
}

impl BrowserKind {
    /// The choice when nothing is configured: the webview when it is built in and a
    /// display is there, else the system browser.
    pub fn default_for_this_machine() -> Self {
        #[cfg(feature = "webview")]
        match saml_login_capture::webview::no_window_reason(&saml_login_capture::Vars::read(
            saml_login_capture::webview::WINDOW_VARS,
            std::env::var_os,
        )) {
            None => return BrowserKind::Webview,
            // Where a window is the norm, say why there is none.
            Some(reason) if cfg!(any(target_os = "macos", windows)) => {
                crate::output::warning!("no login window ({reason}): using the system browser");
            }
            Some(_) => {}
        }
        BrowserKind::System
    }

    /// Its name as `--browser` and the `browser` setting spell it.
    pub fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

/// The files that tell where this machine runs. The resolver is given them, so that
/// tests can point them elsewhere; saml-login itself always reads [`Self::THIS_MACHINE`].
#[derive(Clone, Debug)]
pub struct MachineFiles {
    /// Present under WSL: Windows programs can run from here.
    pub wsl_interop: PathBuf,
    /// Present in a Docker or Podman container.
    pub container_markers: Vec<PathBuf>,
}

impl MachineFiles {
    /// This machine's own files.
    pub fn this_machine() -> Self {
        Self {
            wsl_interop: PathBuf::from("/proc/sys/fs/binfmt_misc/WSLInterop"),
            container_markers: vec![
                PathBuf::from("/.dockerenv"),
                PathBuf::from("/run/.containerenv"),
            ],
        }
    }
}

/// Where the shell runs, as far as the system browser's opening goes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Surroundings {
    /// `SSH_CONNECTION` or `SSH_TTY` is set; the address the client connected to,
    /// when `SSH_CONNECTION` names it.
    pub ssh: Option<Option<String>>,
    /// `DISPLAY` or `WAYLAND_DISPLAY` is set (a forwarded X display counts).
    pub display: bool,
    /// `BROWSER` is set: the user (or VS Code, Codespaces) said how to open a page.
    pub browser_var: bool,
    /// WSL (`WSL_DISTRO_NAME`, `WSL_INTEROP` or the interop marker file).
    pub wsl: bool,
    /// A container (a Docker or Podman marker file, or `container` set).
    pub container: bool,
}

impl Surroundings {
    /// Read from the environment `env` and the files `files` (only on Linux).
    pub fn read(env: &dyn Fn(&str) -> Option<String>, files: &MachineFiles) -> Self {
        let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
        let linux = cfg!(target_os = "linux");
        let exists = |p: &Path| linux && p.exists();
        let ssh = (set("SSH_CONNECTION") || set("SSH_TTY"))
            .then(|| env("SSH_CONNECTION").and_then(|c| ssh_server_address(&c).map(str::to_owned)));
        Self {
            ssh,
            display: set("DISPLAY") || set("WAYLAND_DISPLAY"),
            browser_var: set("BROWSER"),
            wsl: linux
                && (set("WSL_DISTRO_NAME") || set("WSL_INTEROP") || exists(&files.wsl_interop)),
            container: linux
                && (set("container") || files.container_markers.iter().any(|p| exists(p))),
        }
    }

    /// Why no browser can be opened here, when none can: over SSH or in a container,
    /// with no display and no `BROWSER`.
    pub fn no_browser_reason(&self) -> Option<&'static str> {
        if self.display || self.browser_var || self.wsl {
            return None;
        }
        if self.ssh.is_some() {
            Some(
                "over SSH without a display (SSH_CONNECTION or SSH_TTY is set, DISPLAY and WAYLAND_DISPLAY are not)",
            )
        } else if self.container {
            Some("in a container without a display or BROWSER")
        } else {
            None
        }
    }
}

/// The server's address in `SSH_CONNECTION` ("client port server port").
fn ssh_server_address(connection: &str) -> Option<&str> {
    let fields: Vec<&str> = connection.split_whitespace().collect();
    match fields.as_slice() {
        [_, _, server, _] => Some(*server),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)], files: &MachineFiles) -> Surroundings {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Surroundings::read(
            &|k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()),
            files,
        )
    }

    fn nowhere() -> MachineFiles {
        MachineFiles {
            wsl_interop: PathBuf::from("/nonexistent/WSLInterop"),
            container_markers: vec![PathBuf::from("/nonexistent/.dockerenv")],
        }
    }

    #[test]
    fn ssh_without_a_display_has_no_browser_and_names_the_host() {
        let s = read(
            &[("SSH_CONNECTION", "192.0.2.7 50022 198.51.100.4 22")],
            &nowhere(),
        );
        assert_eq!(s.ssh, Some(Some("198.51.100.4".into())));
        assert!(s.no_browser_reason().unwrap().contains("over SSH"));
        let tty_only = read(&[("SSH_TTY", "/dev/pts/3")], &nowhere());
        assert_eq!(tty_only.ssh, Some(None));
        assert!(tty_only.no_browser_reason().is_some());
        // A forwarded display, Wayland, or a BROWSER of the user's keeps today's choice.
        for extra in [
            ("DISPLAY", "localhost:10.0"),
            ("WAYLAND_DISPLAY", "wayland-0"),
            ("BROWSER", "w3m"),
        ] {
            let s = read(&[("SSH_TTY", "/dev/pts/3"), extra], &nowhere());
            assert_eq!(s.no_browser_reason(), None, "{extra:?}");
        }
        assert_eq!(read(&[], &nowhere()).no_browser_reason(), None);
        assert_eq!(
            read(&[("SSH_TTY", "")], &nowhere()).no_browser_reason(),
            None
        );
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn wsl_and_containers_are_read_from_the_given_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = MachineFiles {
            wsl_interop: dir.path().join("WSLInterop"),
            container_markers: vec![dir.path().join(".dockerenv")],
        };
        assert_eq!(read(&[], &files), Surroundings::default());
        std::fs::write(&files.container_markers[0], "").unwrap();
        let s = read(&[], &files);
        assert!(s.container && !s.wsl);
        assert!(s.no_browser_reason().unwrap().contains("container"));
        assert!(
            read(&[("BROWSER", "/vscode/helper")], &files)
                .no_browser_reason()
                .is_none()
        );
        std::fs::write(&files.wsl_interop, "").unwrap();
        assert!(read(&[], &files).wsl);
        assert!(read(&[("WSL_DISTRO_NAME", "Debian")], &nowhere()).wsl);
        assert!(read(&[("WSL_INTEROP", "/run/WSL/1_interop")], &nowhere()).wsl);
        assert!(read(&[("container", "podman")], &nowhere()).container);
    }
}
