//! The webview browser, run as the helper process `saml-login-webview` (built from
//! `browsers/webview`): saml-login itself then links no GTK/WebKit, which keeps every
//! other command (and `credential-process`, run on each AWS call) small and quick.
//! The request and the outcome cross as JSON on the helper's stdin and stdout
//! (`saml_login_capture::webview`), never on its command line or in its environment.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use saml_login_capture::webview::{HelperRequest, outcome_from_json};
use saml_login_capture::{Browser, CaptureError, Login, LoginRequest, Vars, Wait};

use crate::config::paths::WEBVIEW_HELPER_VAR;

const NAME: &str = "webview";
const HELPER: &str = "saml-login-webview";

/// The webview, through its helper process.
pub(crate) struct WebviewProcess {
    data_dir: Option<PathBuf>,
    export_cookies: bool,
    /// Where the helper is looked for (the resolved
    /// [`crate::config::paths::Paths::programs`]).
    programs: Vars,
}

impl WebviewProcess {
    pub(crate) fn new(data_dir: Option<PathBuf>, export_cookies: bool, programs: Vars) -> Self {
        Self {
            data_dir,
            export_cookies,
            programs,
        }
    }
}

/// `SAML_LOGIN_WEBVIEW_HELPER`, else next to this program, else on PATH (as `programs`
/// holds them).
fn find_helper(programs: &Vars) -> Result<PathBuf, CaptureError> {
    if let Some(p) = programs.get(WEBVIEW_HELPER_VAR).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let beside = std::env::current_exe().ok().and_then(|exe| {
        let dir = exe.parent()?.as_os_str().to_owned();
        programs.find_in(&dir, HELPER)
    });
    beside
        .or_else(|| programs.find_on_path(HELPER))
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

    fn capture(&mut self, request: &LoginRequest) -> Result<Login, CaptureError> {
        let helper = find_helper(&self.programs)?;
        let wire = HelperRequest {
            request: request.clone(),
            data_dir: self.data_dir.clone(),
            export_cookies: self.export_cookies,
            program: saml_login_capture::program().to_owned(),
            // `--verbose` (the one thing that installs a tracing subscriber here).
            verbose: tracing::enabled!(tracing::Level::DEBUG),
        };
        let mut child = spawn_helper(&helper)?;
        // Windows: the helper and WebView2's processes die with saml-login.
        let _job = saml_login_capture::job::for_child(child.id(), "the webview helper");
        let sent = child
            .stdin
            .take()
            .expect("stdin is piped")
            .write_all(wire.to_json().as_bytes());
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
        let wait = Wait::new(request, Instant::now()).with_grace(HANG_GRACE);
        let read = wait.until(TICK, |limit| match rx.recv_timeout(limit) {
            Ok(read) => Ok(Some(read)),
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(None),
            Err(mpsc::RecvTimeoutError::Disconnected) => Ok(Some(Err(std::io::Error::other(
                "the reader thread stopped",
            )))),
        });
        let read = match read {
            Ok(read) => read,
            Err(e) => {
                stop(&mut child);
                return Err(e);
            }
        };
        if let Err(e) = child.wait() {
            stop(&mut child);
            return Err(CaptureError::io("waiting for the webview helper", e));
        }
        let text = read.map_err(|e| CaptureError::io("reading the webview helper's answer", e))?;
        if text.trim().is_empty() {
            return Err(CaptureError::browser(
                NAME,
                "the webview helper stopped without an answer",
            ));
        }
        outcome_from_json(text.trim(), NAME)
    }
}

/// How often the wait looks at the cancel flag.
const TICK: Duration = Duration::from_millis(50);

/// How long after the login's timeout a silent helper is taken for hung.
const HANG_GRACE: Duration = Duration::from_secs(30);

/// Starts the helper with its stdin and stdout piped and none of our secrets in its
/// environment.
fn spawn_helper(helper: &Path) -> Result<Child, CaptureError> {
    tracing::debug!(helper = %helper.display(), "starting the webview helper");
    let mut command = Command::new(helper);
    for secret in saml_login_capture::SECRET_ENV_VARS {
        command.env_remove(secret);
    }
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| CaptureError::spawn(format!("the webview helper {}", helper.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_helper_that_cannot_be_started_is_a_start_failure() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("saml-login-webview");
        match spawn_helper(&missing) {
            Err(CaptureError::Spawn { what, source }) => {
                assert!(what.contains(&missing.display().to_string()), "{what}");
                assert_eq!(source.kind(), std::io::ErrorKind::NotFound);
            }
            other => panic!("{other:?}"),
        }
    }
}
