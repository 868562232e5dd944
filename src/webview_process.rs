//! The webview browser, run as the helper process `saml-login-webview` (built from
//! `browsers/webview`): saml-login itself then links no GTK/WebKit, which keeps every
//! other command (and `credential-process`, run on each AWS call) small and quick.
//! The request and the outcome cross as JSON (`saml_login_capture::webview`).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use saml_login_capture::webview::{HelperRequest, outcome_from_json};
use saml_login_capture::{Browser, CaptureError, Captured, Cookie, LoginRequest};

const NAME: &str = "webview";
const HELPER: &str = "saml-login-webview";
/// The variable naming the helper explicitly.
pub const HELPER_ENV: &str = "SAML_LOGIN_WEBVIEW_HELPER";

/// The webview, through its helper process.
pub struct WebviewProcess {
    data_dir: Option<PathBuf>,
    export_cookies: bool,
    cookies: Vec<Cookie>,
}

impl WebviewProcess {
    pub fn new(data_dir: Option<PathBuf>, export_cookies: bool) -> Self {
        Self {
            data_dir,
            export_cookies,
            cookies: Vec::new(),
        }
    }
}

/// `SAML_LOGIN_WEBVIEW_HELPER`, else next to this program, else on PATH.
fn find_helper() -> Result<PathBuf, CaptureError> {
    if let Some(p) = std::env::var_os(HELPER_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let file = format!("{HELPER}{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(&file)));
    beside
        .filter(|p| p.is_file())
        .or_else(|| saml_login_capture::find_on_path(HELPER))
        .ok_or_else(|| {
            CaptureError::NotAvailable(format!(
                "the webview helper `{HELPER}` is not installed next to saml-login or on PATH \
                 (cargo install --path browsers/webview); or use --headless or --system-browser"
            ))
        })
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

impl Browser for WebviewProcess {
    fn name(&self) -> &'static str {
        NAME
    }

    fn capture(&mut self, request: &LoginRequest) -> Result<Captured, CaptureError> {
        let helper = find_helper()?;
        let wire = HelperRequest {
            request: request.clone(),
            data_dir: self.data_dir.clone(),
            export_cookies: self.export_cookies,
        };
        tracing::debug!(helper = %helper.display(), "starting the webview helper");
        let mut command = Command::new(&helper);
        for secret in saml_login_capture::SECRET_ENV_VARS {
            command.env_remove(secret);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| CaptureError::io(format!("starting {}", helper.display()), e))?;
        // Windows: the helper and WebView2's processes die with saml-login.
        let _job = saml_login_capture::job::for_child(child.id(), "the webview helper");
        let sent = child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(wire.to_json().to_string().as_bytes());
        if let Err(e) = sent {
            stop(&mut child);
            return Err(CaptureError::io(
                "sending the request to the webview helper",
                e,
            ));
        }
        let mut stdout = child.stdout.take().expect("stdout is piped");
        // The answer arrives when the helper closes its stdout (it exits): the reader
        // thread reports it at once; this thread looks at the cancel flag meanwhile.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = tx.send(stdout.read_to_string(&mut text).map(|_| text));
        });
        // The helper keeps the timeout itself; this one only guards against a hang.
        let deadline = Instant::now() + request.timeout + Duration::from_secs(30);
        let read = loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Ok(read) => break read,
                Err(mpsc::RecvTimeoutError::Timeout) if request.cancel.is_cancelled() => {
                    stop(&mut child);
                    return Err(CaptureError::Cancelled);
                }
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() >= deadline => {
                    stop(&mut child);
                    return Err(CaptureError::Timeout(request.timeout));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    break Err(std::io::Error::other("the reader thread stopped"));
                }
            }
        };
        if let Err(e) = child.wait() {
            stop(&mut child);
            return Err(CaptureError::io("waiting for the webview helper", e));
        }
        let text = read.map_err(|e| CaptureError::io("reading the webview helper's answer", e))?;
        let answer: serde_json::Value = serde_json::from_str(text.trim()).map_err(|_| {
            CaptureError::browser(NAME, "the webview helper stopped without an answer")
        })?;
        let (captured, cookies) = outcome_from_json(&answer, NAME)?;
        self.cookies = cookies;
        Ok(captured)
    }

    fn cookies(&self) -> Vec<Cookie> {
        self.cookies.clone()
    }
}
