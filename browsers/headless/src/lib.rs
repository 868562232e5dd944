//! saml-login's headless Chromium browser.
//!
//! Runs the IdP login in a Chromium driven over the DevTools protocol (the
//! `headless_chrome` crate), with a fresh temporary profile, optional cookies from a jar
//! and optional service-account credentials for Auth0 Universal Login. The callback
//! request (the IdP's POST of `SAMLResponse`, or an OAuth redirect) is intercepted inside
//! Chromium with the Fetch domain and answered there, so nothing of ours listens on any
//! port and the callback port may be in use by another program.
//!
//! No browser is ever downloaded: [`find_chrome`] looks for an installed one, the
//! lightest first (the headless shell). After the capture Chromium is ended and its
//! profile removed in the background ([`saml_login_capture::teardown`]), so the answer
//! goes on at once.

mod discovery;

pub use discovery::{Build, Chromium, SEARCH_VARS, find_chrome};

mod demands;
mod devtools;
mod launch;
mod login_form;
mod profile;

use std::path::{Path, PathBuf};
use std::time::Instant;

use saml_login_capture::{Browser, CaptureError, Cookie, Login, LoginRequest, Secret, Vars};

const NAME: &str = "headless Chromium";

/// How the headless login runs.
#[derive(Clone, Debug, Default)]
pub struct HeadlessOptions {
    /// The Chromium/Chrome binary (`--chrome PATH`); `None`: see [`find_chrome`].
    pub chrome: Option<PathBuf>,
    /// Cookies set in the fresh profile before the login page is opened (an IdP session).
    pub cookies: Vec<Cookie>,
    /// Show the browser window (`--show-browser`): the same Chromium, not headless.
    pub show_window: bool,
    /// Service-account username and password typed into Auth0 Universal Login.
    pub login: Option<(String, Secret)>,
    /// The user's proxy, as Chromium's `--proxy-server` and `--proxy-bypass-list`
    /// (saml-login's one proxy decision, translated; no credentials: Chromium takes none
    /// on its command line).
    pub proxy: Option<ChromiumProxy>,
    /// The environment the Chromium search reads ([`SEARCH_VARS`]), read by the caller:
    /// this crate reads no variable to find Chromium.
    pub vars: Vars,
}

/// Chromium's proxy flags.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChromiumProxy {
    /// `--proxy-server`: `https=http://proxy:3128;http=http://proxy:3128`.
    pub server: String,
    /// `--proxy-bypass-list`: `*.corp.example;10.0.0.0/8` (Chromium bypasses loopback itself).
    pub bypass: String,
}

/// The headless Chromium [`Browser`].
pub struct Headless {
    opts: HeadlessOptions,
    last_profile: Option<PathBuf>,
    last_pid: Option<u32>,
}

impl Headless {
    pub fn new(opts: HeadlessOptions) -> Self {
        Self {
            opts,
            last_profile: None,
            last_pid: None,
        }
    }

    /// The temporary profile directory of the last capture (already removed), so tests
    /// can check that no Chromium process of that run is left.
    #[doc(hidden)]
    pub fn last_profile_dir(&self) -> Option<&Path> {
        self.last_profile.as_deref()
    }

    /// The process id of the last capture's Chromium, which is also the id of the
    /// process group holding it and all its helpers (on unix), so tests can check that
    /// none is left.
    #[doc(hidden)]
    pub fn last_process_id(&self) -> Option<u32> {
        self.last_pid
    }
}

impl Browser for Headless {
    fn name(&self) -> &'static str {
        NAME
    }

    /// The login, with all of the browser's cookies read before Chromium closed.
    fn capture(&mut self, request: &LoginRequest) -> Result<Login, CaptureError> {
        let chrome = find_chrome(
            self.opts.chrome.as_deref(),
            self.opts.show_window,
            &self.opts.vars,
        )?;
        let profile = profile::create()?;
        self.last_profile = Some(profile.path().to_path_buf());
        self.last_pid = None;
        let started = Instant::now();
        let browser = launch::launch(&self.opts, &chrome, profile.path(), request)?;
        self.last_pid = browser.get_process_id();
        // Windows: Chromium and the helpers it starts die with saml-login (a no-op elsewhere).
        let job = self
            .last_pid
            .and_then(|pid| saml_login_capture::job::for_child(pid, "Chromium"));
        let result = launch::drive(&browser, &self.opts, request);
        tracing::debug!(
            elapsed_ms = started.elapsed().as_millis() as u64,
            "login done in Chromium; ending it in the background"
        );
        saml_login_capture::teardown::spawn("chromium-teardown", move || {
            profile::end(browser, profile, job);
        });
        result
    }
}
