//! The browser a login runs in, resolved before anything runs: the kind (flag, then
//! setting, then this machine's default) and everything it needs (the cookie jar
//! already read, the service account, the webview profile), so that no browser reads
//! a raw flag or an environment variable. Shared by `saml-login` and `pkce-login`.

use std::path::{Path, PathBuf};

use saml_login_capture::{Cookie, Secret};

use saml_login_system::{Open, PrintUrl};

use crate::config::browser_kind::{BrowserKind, MachineFiles, Surroundings};
use crate::config::headless_mode::HeadlessMode;
use crate::error::{Error, Result};
use crate::storage::cookie_jar::{self, JarSource};

/// A browser ready to open. (A build without a browser's feature resolves it all the
/// same, to say "not enabled in this build" when it is opened: its fields go unread.)
#[derive(Debug)]
#[cfg_attr(not(all(feature = "headless", feature = "webview")), allow(dead_code))]
pub(crate) enum BrowserSetup {
    /// The default browser and a loopback callback: opened here, in Windows (WSL), or
    /// printed for a browser elsewhere (`--no-browser`, SSH, containers).
    System { open: Open },
    /// Headless Chromium.
    Headless {
        chrome: Option<PathBuf>,
        cookies: Vec<Cookie>,
        show_window: bool,
        /// The service account (`SAML_LOGIN_USERNAME`, `SAML_LOGIN_PASSWORD`).
        login: Option<(String, Secret)>,
        /// With a jar: plain HTTP first, HTTP alone, or Chromium alone.
        mode: HeadlessMode,
    },
    /// saml-login's window; `profile: None` is a throwaway one (`--fresh`).
    Webview {
        profile: Option<PathBuf>,
        export_cookies: bool,
    },
    /// A saved response (`--saml-response-file`): a file, or `-` for stdin.
    Saved(PathBuf),
}

impl BrowserSetup {
    pub(crate) fn is_saved(&self) -> bool {
        matches!(self, BrowserSetup::Saved(_))
    }
}

/// How a login runs: the browser, and where its cookies go after it.
/// How the system browser opens the login here: a `BROWSER` of the user's is used as
/// it is; WSL opens Windows' browser; over SSH or in a container with no display the
/// URL is printed (saying why); else the default browser.
fn system_open(surroundings: &Surroundings) -> Open {
    if surroundings.browser_var {
        Open::Browser
    } else if surroundings.wsl {
        Open::Windows
    } else if let Some(reason) = surroundings.no_browser_reason() {
        Open::PrintUrl(print_url(surroundings, Some(reason)))
    } else {
        Open::Browser
    }
}

fn print_url(surroundings: &Surroundings, reason: Option<&str>) -> PrintUrl {
    PrintUrl {
        reason: reason.map(str::to_owned),
        ssh_host: surroundings.ssh.clone().flatten(),
    }
}

#[derive(Debug)]
pub(crate) struct LoginSetup {
    pub browser: BrowserSetup,
    /// `--save-cookies FILE`.
    pub save_cookies: Option<PathBuf>,
    /// `--retry-webview`: forget that the webview could not serve this IdP.
    pub retry_webview: bool,
}

/// The browser flags the setup reads (given by `cli::login_args::BrowserArgs::flags`).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BrowserFlags<'a> {
    /// `--cookies`.
    pub cookies: Option<&'a Path>,
    /// `--save-cookies`.
    pub save_cookies: Option<&'a Path>,
    /// `--show-browser`.
    pub show_browser: bool,
    /// `--fresh`.
    pub fresh: bool,
    /// `--retry-webview`.
    pub retry_webview: bool,
}

/// What the browser setup is made of.
pub(crate) struct BrowserInputs<'a> {
    pub args: BrowserFlags<'a>,
    /// `--saml-response-file` (saml-login only).
    pub saved_response: Option<&'a Path>,
    /// The resolved `browser` setting (the flags included).
    pub kind: Option<BrowserKind>,
    /// The resolved `cookies` setting (the flag included).
    pub cookies: Option<&'a PathBuf>,
    /// The resolved `chrome` setting (the flag included).
    pub chrome: Option<&'a PathBuf>,
    /// The resolved `headless_mode` setting (pkce-login: always Chromium).
    pub headless_mode: HeadlessMode,
    /// The remembered webview profile of the login's IdP.
    pub webview_profile: PathBuf,
    /// The files that say whether this is WSL or a container
    /// ([`MachineFiles::this_machine`]).
    pub machine: &'a MachineFiles,
}

impl LoginSetup {
    /// Resolve the browser: refuses flags that its kind cannot honour, reads the
    /// cookie jar (`--cookies`, else `SAML_LOGIN_COOKIES`, else the `cookies`
    /// setting) and the service account for headless Chromium.
    pub(crate) fn resolve(
        inputs: BrowserInputs<'_>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self> {
        let BrowserInputs { args, .. } = inputs;
        if let Some(path) = inputs.saved_response {
            return Ok(Self {
                browser: BrowserSetup::Saved(path.to_owned()),
                save_cookies: None,
                retry_webview: false,
            });
        }
        let kind = inputs
            .kind
            .unwrap_or_else(BrowserKind::default_for_this_machine);
        if args.save_cookies.is_some()
            && matches!(kind, BrowserKind::System | BrowserKind::NoBrowser)
        {
            return Err(Error::Usage(
                "--save-cookies needs --headless or --webview: the system browser keeps its cookies to itself".into(),
            ));
        }
        if args.cookies.is_some() && kind != BrowserKind::Headless {
            return Err(Error::Usage("--cookies is for --headless".into()));
        }
        let surroundings = Surroundings::read(env, inputs.machine);
        let env = |k: &str| env(k).filter(|v| !v.is_empty());
        let browser = match kind {
            BrowserKind::NoBrowser => BrowserSetup::System {
                open: Open::PrintUrl(print_url(&surroundings, None)),
            },
            BrowserKind::System => BrowserSetup::System {
                open: system_open(&surroundings),
            },
            BrowserKind::Headless => {
                let jar = match (args.cookies, env("SAML_LOGIN_COOKIES"), inputs.cookies) {
                    (Some(flag), _, _) => Some(JarSource::File(flag.to_owned())),
                    (None, Some(content), _) => Some(JarSource::Env(content)),
                    (None, None, Some(file)) => Some(JarSource::File(file.clone())),
                    (None, None, None) => None,
                };
                let cookies = match jar {
                    Some(jar) => {
                        let cookies = cookie_jar::read(&jar)?;
                        tracing::debug!(cookies = cookies.len(), "read the cookie jar");
                        cookies
                    }
                    None => Vec::new(),
                };
                let login = match (env("SAML_LOGIN_USERNAME"), env("SAML_LOGIN_PASSWORD")) {
                    (Some(user), Some(password)) => Some((user, Secret::new(password))),
                    _ => None,
                };
                BrowserSetup::Headless {
                    chrome: inputs.chrome.cloned(),
                    cookies,
                    show_window: args.show_browser,
                    login,
                    mode: inputs.headless_mode,
                }
            }
            BrowserKind::Webview => BrowserSetup::Webview {
                profile: (!args.fresh).then_some(inputs.webview_profile),
                export_cookies: args.save_cookies.is_some(),
            },
        };
        Ok(Self {
            browser,
            save_cookies: args.save_cookies.map(Path::to_path_buf),
            retry_webview: args.retry_webview,
        })
    }
}
