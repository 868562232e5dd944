//! The one factory that opens a resolved [`BrowserSetup`] as a [`Browser`]. A kind
//! whose cargo feature is off gives a clear "not enabled in this build" error instead
//! of cfg spread through the code.

use std::path::Path;

use saml_login_capture::{Browser, Cookie, Vars};

use crate::config::browser_setup::BrowserSetup;
use crate::error::Result;
use crate::login::browserless;
use crate::login::saved_response::SavedResponse;
use crate::storage::cookie_jar;

/// Open the browser `setup` describes; `programs` (the resolved
/// [`crate::config::paths::Paths::programs`]) say where Chromium and the webview helper
/// are looked for.
pub(crate) fn open(setup: &BrowserSetup, programs: &Vars) -> Result<Box<dyn Browser>> {
    match setup {
        BrowserSetup::System { open } => Ok(Box::new(
            saml_login_system::SystemBrowser::new(open.clone()).with_programs(programs.clone()),
        )),
        BrowserSetup::Headless { .. } => open_headless(setup, programs),
        BrowserSetup::Webview { .. } => open_webview(setup, programs),
        BrowserSetup::Saved(path) => Ok(Box::new(SavedResponse::new(path.clone()))),
    }
}

/// After a login, write the IdP's cookies to `--save-cookies FILE`, if asked.
pub(crate) fn save_cookies(
    path: Option<&Path>,
    cookies: &[Cookie],
    start_url: &url::Url,
) -> Result<()> {
    if let Some(path) = path {
        let host = start_url.host_str().unwrap_or_default();
        let saved = cookie_jar::save(path, cookies, host)?;
        crate::output::notice!("saved {saved} cookie(s) of {host} to {}", path.display());
    }
    Ok(())
}

#[cfg(feature = "headless")]
fn open_headless(setup: &BrowserSetup, programs: &Vars) -> Result<Box<dyn Browser>> {
    use crate::config::headless_mode::HeadlessMode;
    use saml_login_headless::{Headless, HeadlessOptions};
    let BrowserSetup::Headless {
        chrome,
        cookies,
        show_window,
        login,
        mode,
    } = setup
    else {
        unreachable!("called for headless only")
    };
    // A window asked for (`--show-browser`) is a login someone wants to watch.
    let mode = match mode {
        HeadlessMode::Auto if *show_window => HeadlessMode::Chromium,
        mode => *mode,
    };
    browserless::open(mode, cookies, || {
        Ok(Box::new(Headless::new(HeadlessOptions {
            chrome: chrome.clone(),
            cookies: cookies.clone(),
            show_window: *show_window,
            login: login.clone(),
            proxy: crate::net::current()
                .proxies
                .chromium()
                .map(|(server, bypass)| saml_login_headless::ChromiumProxy { server, bypass }),
            vars: programs.clone(),
        })))
    })
}

/// Without Chromium in the build, only the browserless login (`headless_mode = http`).
#[cfg(not(feature = "headless"))]
fn open_headless(setup: &BrowserSetup, _: &Vars) -> Result<Box<dyn Browser>> {
    let BrowserSetup::Headless { cookies, mode, .. } = setup else {
        unreachable!("called for headless only")
    };
    browserless::open(*mode, cookies, || {
        Err(crate::error::Error::NotEnabled("headless"))
    })
}

#[cfg(feature = "webview")]
fn open_webview(setup: &BrowserSetup, programs: &Vars) -> Result<Box<dyn Browser>> {
    let BrowserSetup::Webview {
        profile,
        export_cookies,
    } = setup
    else {
        unreachable!("called for the webview only")
    };
    Ok(Box::new(
        crate::login::webview_process::WebviewProcess::new(
            profile.clone(),
            *export_cookies,
            programs.clone(),
        ),
    ))
}

#[cfg(not(feature = "webview"))]
fn open_webview(_: &BrowserSetup, _: &Vars) -> Result<Box<dyn Browser>> {
    Err(crate::error::Error::NotEnabled("webview"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A build without a browser's feature says so when that browser is asked for.
    #[test]
    fn browsers_left_out_of_the_build_say_so() {
        let headless = BrowserSetup::Headless {
            chrome: None,
            cookies: Vec::new(),
            show_window: false,
            login: None,
            mode: crate::config::headless_mode::HeadlessMode::Auto,
        };
        let webview = BrowserSetup::Webview {
            profile: None,
            export_cookies: false,
        };
        for (setup, enabled) in [
            (webview, cfg!(feature = "webview")),
            (headless, cfg!(feature = "headless")),
        ] {
            let result = open(&setup, &Vars::default());
            if enabled {
                assert!(result.is_ok());
            } else {
                let message = result.err().unwrap().to_string();
                assert!(message.contains("not enabled in this build"), "{message}");
            }
        }
        assert!(
            open(
                &BrowserSetup::System {
                    open: saml_login_system::Open::Browser
                },
                &Vars::default()
            )
            .is_ok()
        );
    }
}
