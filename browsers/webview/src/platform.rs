//! What differs between the platforms: on the GTK platforms (`cfg(gtk)`, set by
//! build.rs from its one list) the toolkit must be opened by hand and the webview goes
//! into tao's GTK box; elsewhere tao and wry do it all.

use saml_login_capture::CaptureError;
use tao::window::Window;
use wry::{WebView, WebViewBuilder};

/// tao runs one event loop per process, on the main thread, on every system (GTK needs
/// it; on macOS and Windows tao panics elsewhere): refused here with an error instead.
/// The helper binary calls the capture from `main` itself, once.
pub(crate) fn check_main_thread() -> Result<(), CaptureError> {
    if std::thread::current().name() != Some("main") {
        return Err(CaptureError::browser(
            crate::NAME,
            "the webview must run on the main thread",
        ));
    }
    Ok(())
}

/// Open the display ourselves first: tao panics when GTK cannot.
#[cfg(gtk)]
pub(crate) fn init_toolkit() -> Result<(), CaptureError> {
    gtk::init().map_err(|e| {
        CaptureError::NotAvailable(format!(
            "cannot open the display ({e}); use --headless or --system-browser"
        ))
    })
}

/// Nothing to open before tao does.
#[cfg(not(gtk))]
pub(crate) fn init_toolkit() -> Result<(), CaptureError> {
    Ok(())
}

/// `build_gtk` on tao's GTK box works on both X11 and Wayland.
#[cfg(gtk)]
pub(crate) fn build_webview(builder: WebViewBuilder<'_>, window: &Window) -> wry::Result<WebView> {
    use tao::platform::unix::WindowExtUnix;
    use wry::WebViewBuilderExtUnix;
    let vbox = window.default_vbox().ok_or(wry::Error::MessageSender)?;
    builder.build_gtk(vbox)
}

/// The webview fills the window.
#[cfg(not(gtk))]
pub(crate) fn build_webview(builder: WebViewBuilder<'_>, window: &Window) -> wry::Result<WebView> {
    builder.build(window)
}
