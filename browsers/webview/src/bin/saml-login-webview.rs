//! `saml-login-webview`: the webview in a process of its own, so that `saml-login`
//! does not link GTK/WebKit. Reads one request (JSON, see
//! `saml_login_capture::webview`) on stdin, opens the window on the main thread, and
//! writes one outcome (JSON) on stdout. saml-login kills it to cancel.
//!
//! On Windows it is a GUI program (no console window opens when a GUI app runs
//! `credential_process`); its stdin, stdout and stderr are still the pipes saml-login
//! gives it.

#![cfg_attr(windows, windows_subsystem = "windows")]

use std::io::{Read, Write};

use saml_login_capture::webview::{HelperRequest, outcome_to_json};
use saml_login_capture::{Browser, Cancel, CaptureError, Login};
use saml_login_webview::{Webview, WebviewOptions};

fn main() {
    let outcome = run();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", outcome_to_json(&outcome));
    let _ = out.flush();
    std::process::exit(i32::from(outcome.is_err()));
}

fn run() -> Result<Login, CaptureError> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|e| CaptureError::io("reading the request", e))?;
    let wire = HelperRequest::from_json(&text, Cancel::new())
        .map_err(|e| CaptureError::browser("webview", e))?;
    init_tracing(wire.verbose);
    // Its lines on stderr are its caller's (`pkce-login: warning: ...`).
    if !wire.program.is_empty() {
        saml_login_capture::set_program(&wire.program);
    }
    let mut webview = Webview::new(WebviewOptions {
        data_dir: wire.data_dir,
        export_cookies: wire.export_cookies,
        window_vars: saml_login_capture::Vars::read(
            saml_login_capture::webview::WINDOW_VARS,
            std::env::var_os,
        ),
    });
    webview.capture(&wire.request)
}

/// The helper's trace: its caller's `--verbose` (the request says), or the filter in
/// `SAML_LOGIN_WEBVIEW_LOG` (for debugging the helper alone); else none (its warnings go
/// through the one reporter, `saml_login_capture::report`).
fn init_tracing(verbose: bool) {
    let filter = match tracing_subscriber::EnvFilter::try_from_env("SAML_LOGIN_WEBVIEW_LOG") {
        Ok(filter) => filter,
        // Only saml-login's crates, as the caller's --verbose traces.
        Err(_) if verbose => tracing_subscriber::EnvFilter::new("saml_login=debug"),
        Err(_) => return,
    };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .with_target(false)
        .without_time()
        .try_init();
}
