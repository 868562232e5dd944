//! Choosing the way to capture the IdP's answer: the [`BrowserKind`] enum and the one
//! factory that opens it. A kind whose cargo feature is off gives a clear "not enabled
//! in this build" error instead of cfg spread through the code.

use std::path::PathBuf;

use saml_login_capture::{Browser, Cookie, Secret};

use crate::cli::BrowserArgs;
use crate::cookie_jar::{self, JarSource};
use crate::error::Result;

/// The ways saml-login can run the login.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BrowserKind {
    /// saml-login's own window (wry + WebKitGTK/WebView2/WKWebView); no port opened.
    Webview,
    /// Headless Chromium with a stored session (CI runners); no port opened.
    Headless,
    /// The default browser plus a callback server on 127.0.0.1:listen_port.
    System,
}

impl BrowserKind {
    /// The choice when nothing is configured: the webview when it is built in and a
    /// display is there, else the system browser.
    pub fn default_for_this_machine() -> Self {
        #[cfg(feature = "webview")]
        match saml_login_capture::webview::no_window_reason() {
            None => return BrowserKind::Webview,
            // Where a window is the norm, say why there is none.
            Some(reason) if cfg!(any(target_os = "macos", windows)) => {
                tracing::warn!("no login window ({reason}): using the system browser");
            }
            Some(_) => {}
        }
        BrowserKind::System
    }
}

/// Browser options from the command line and environment.
#[derive(Clone, Debug, Default)]
pub struct BrowserOptions {
    /// System browser: print the URL instead of opening a browser.
    pub no_open: bool,
    /// Headless: the Chromium binary.
    pub chrome: Option<PathBuf>,
    /// Headless: cookies to start with.
    pub cookies: Vec<Cookie>,
    /// Headless: show the window.
    pub show_browser: bool,
    /// Headless: service-account login.
    pub login: Option<(String, Secret)>,
    /// Webview: a throwaway profile instead of the remembered one.
    pub fresh: bool,
    /// Webview: the remembered profile of this IdP (unless `fresh`).
    pub webview_profile: Option<PathBuf>,
    /// Read the browser's cookies after the login (for `--save-cookies`).
    pub export_cookies: bool,
}

impl BrowserOptions {
    /// The options the command line and environment give a browser of `kind`: the
    /// cookie jar (`--cookies`, else `SAML_LOGIN_COOKIES`, else the `cookies` setting),
    /// the Chromium binary (the resolved `chrome` setting) and the service account
    /// (`SAML_LOGIN_USERNAME`, `SAML_LOGIN_PASSWORD`) for headless Chromium; refuses
    /// flags that the kind cannot honour.
    pub fn for_kind(
        args: &BrowserArgs,
        kind: BrowserKind,
        cookies_setting: Option<&PathBuf>,
        chrome_setting: Option<&PathBuf>,
        webview_profile: Option<PathBuf>,
    ) -> Result<Self> {
        if args.save_cookies.is_some() && kind == BrowserKind::System {
            return Err(crate::error::Error::Usage(
                "--save-cookies needs --headless or --webview: the system browser keeps its cookies to itself".into(),
            ));
        }
        if args.cookies.is_some() && kind != BrowserKind::Headless {
            return Err(crate::error::Error::Usage(
                "--cookies is for --headless".into(),
            ));
        }
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut options = BrowserOptions {
            no_open: args.no_open,
            chrome: chrome_setting.cloned(),
            show_browser: args.show_browser,
            fresh: args.fresh,
            export_cookies: args.save_cookies.is_some(),
            webview_profile,
            ..BrowserOptions::default()
        };
        if kind == BrowserKind::Headless {
            let jar = match (&args.cookies, env("SAML_LOGIN_COOKIES"), cookies_setting) {
                (Some(flag), _, _) => Some(JarSource::File(flag.clone())),
                (None, Some(content), _) => Some(JarSource::Env(content)),
                (None, None, Some(file)) => Some(JarSource::File(file.clone())),
                (None, None, None) => None,
            };
            if let Some(jar) = jar {
                options.cookies = cookie_jar::read(&jar)?;
                tracing::debug!(cookies = options.cookies.len(), "read the cookie jar");
            }
            if let (Some(user), Some(password)) =
                (env("SAML_LOGIN_USERNAME"), env("SAML_LOGIN_PASSWORD"))
            {
                options.login = Some((user, Secret::new(password)));
            }
        }
        Ok(options)
    }
}

/// The remembered webview profile of the IdP at `start_url` (one per origin), under
/// saml-login's data directory; shared by saml-login and pkce-login.
pub fn webview_profile(data: &std::path::Path, start_url: &url::Url) -> PathBuf {
    saml_login_capture::webview::profile_dir_for(data, start_url)
}

/// Where every IdP's remembered webview session is.
pub fn webview_profiles(data: &std::path::Path) -> PathBuf {
    saml_login_capture::webview::profiles_dir(data)
}

/// After a login, write the IdP's cookies to `--save-cookies FILE`, if asked.
pub fn save_cookies(
    tool: &str,
    args: &BrowserArgs,
    browser: &dyn Browser,
    start_url: &url::Url,
) -> Result<()> {
    if let Some(path) = &args.save_cookies {
        let host = start_url.host_str().unwrap_or_default();
        let saved = cookie_jar::save(path, &browser.cookies(), host)?;
        eprintln!(
            "{tool}: saved {saved} cookie(s) of {host} to {}",
            path.display()
        );
    }
    Ok(())
}

/// Open the browser of `kind`.
pub fn open(kind: BrowserKind, options: &BrowserOptions) -> Result<Box<dyn Browser>> {
    match kind {
        BrowserKind::System => Ok(Box::new(saml_login_system::SystemBrowser::new(
            if options.no_open {
                saml_login_system::Open::PrintUrl
            } else {
                saml_login_system::Open::Browser
            },
        ))),
        BrowserKind::Headless => open_headless(options),
        BrowserKind::Webview => open_webview(options),
    }
}

#[cfg(feature = "headless")]
fn open_headless(options: &BrowserOptions) -> Result<Box<dyn Browser>> {
    use saml_login_headless::{Headless, HeadlessOptions};
    Ok(Box::new(Headless::new(HeadlessOptions {
        chrome: options.chrome.clone(),
        cookies: options.cookies.clone(),
        show_window: options.show_browser,
        login: options.login.clone(),
    })))
}

#[cfg(not(feature = "headless"))]
fn open_headless(_: &BrowserOptions) -> Result<Box<dyn Browser>> {
    Err(crate::error::Error::NotEnabled("headless"))
}

#[cfg(feature = "webview")]
fn open_webview(options: &BrowserOptions) -> Result<Box<dyn Browser>> {
    Ok(Box::new(crate::webview_process::WebviewProcess::new(
        if options.fresh {
            None
        } else {
            options.webview_profile.clone()
        },
        options.export_cookies,
    )))
}

#[cfg(not(feature = "webview"))]
fn open_webview(_: &BrowserOptions) -> Result<Box<dyn Browser>> {
    Err(crate::error::Error::NotEnabled("webview"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A build without a browser's feature says so when that browser is asked for.
    #[test]
    fn browsers_left_out_of_the_build_say_so() {
        let options = BrowserOptions::default();
        for (kind, enabled) in [
            (BrowserKind::Webview, cfg!(feature = "webview")),
            (BrowserKind::Headless, cfg!(feature = "headless")),
        ] {
            let result = open(kind, &options);
            if enabled {
                assert!(result.is_ok());
            } else {
                let message = result.err().unwrap().to_string();
                assert!(message.contains("not enabled in this build"), "{message}");
            }
        }
        assert!(open(BrowserKind::System, &options).is_ok());
    }
}
