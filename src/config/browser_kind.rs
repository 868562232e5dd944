//! The ways saml-login can run a login, as the command line and the configuration name
//! them. A leaf: the parser, the resolver and the browser factory all use it.

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

    /// Its name as `--browser` and the `browser` setting spell it.
    pub fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}
