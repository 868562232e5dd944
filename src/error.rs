//! The one error type of saml-login: every failure with its context, the exit code it
//! maps to, and an optional hint for the user. Only `main` turns it into an exit.

use std::path::PathBuf;

use saml_login_capture::CaptureError;

/// Exit codes, documented in the README.
pub mod exit {
    pub const OK: i32 = 0;
    /// Any failure not listed below (configuration, files, assertion, browser).
    pub const FAILURE: i32 = 1;
    /// Command-line usage error (clap).
    pub const USAGE: i32 = 2;
    /// The login was cancelled (the login window closed by hand).
    pub const CANCELLED: i32 = 3;
    /// No login completed within `timeout`.
    pub const TIMEOUT: i32 = 4;
    /// STS refused the assertion or the role.
    pub const STS: i32 = 5;
    /// Interrupted by Ctrl-C (128 + SIGINT).
    pub const INTERRUPTED: i32 = 130;
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no configuration {section} found in {}", .path.display())]
    NoSection { section: String, path: PathBuf },
    #[error("{}, line {line}: {message}", .path.display())]
    ConfigSyntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("property {key} is missing from section [{section}] of {}", .path.display())]
    MissingKey {
        key: &'static str,
        section: String,
        path: PathBuf,
    },
    #[error("{field} in {origin}: {message}")]
    BadValue {
        field: String,
        origin: String,
        message: String,
    },
    #[error("{alias} is not found in {}", .path.display())]
    UnknownAlias { alias: String, path: PathBuf },
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {}: {source}", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write {}: {source}", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {message}", .path.display())]
    Malformed { path: PathBuf, message: String },
    #[error("{}: {message}", .path.display())]
    Untrusted { path: PathBuf, message: String },
    #[error("SAML response: {0}")]
    Assertion(String),
    #[error("{role} is not granted by {source_of_list}; granted: {granted}")]
    RoleNotGranted {
        role: String,
        granted: String,
        /// Where the list of granted roles came from (a login, the cached assertion).
        source_of_list: String,
    },
    #[error(
        "timed out after {} s waiting for the login in saml-login pid {holder}",
        .waited.as_secs()
    )]
    LoginWait {
        holder: String,
        waited: std::time::Duration,
    },
    #[error("refused the SAML response posted without our RelayState: {0}")]
    UnverifiedResponse(String),
    #[error("STS {code}: {message}")]
    Sts {
        code: String,
        message: String,
        hint: Option<String>,
    },
    #[error("STS: {0}")]
    StsTransport(String),
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("interrupted")]
    Interrupted,
    /// `exec`: the command ran and exited with this code (no message).
    #[error("the command exited with status {0}")]
    Child(i32),
    #[error("the {0} browser is not enabled in this build (rebuild with `--features {0}`)")]
    NotEnabled(&'static str),
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            Error::Capture(CaptureError::Cancelled) => exit::CANCELLED,
            Error::Capture(CaptureError::Timeout(_)) | Error::LoginWait { .. } => exit::TIMEOUT,
            Error::Sts { .. } => exit::STS,
            Error::Interrupted => exit::INTERRUPTED,
            Error::Child(code) => *code,
            _ => exit::FAILURE,
        }
    }

    /// A suggestion printed under the error, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NoSection { .. } => {
                Some("choose a section with -c SECTION or add it to the file".into())
            }
            Error::Capture(CaptureError::PortInUse { .. }) => Some(
                "set `listen_port` in the configuration section, or use --headless or --webview, which need no port"
                    .into(),
            ),
            Error::RoleNotGranted { .. } => {
                Some("run `saml-login aws-assume-role --show` to list the roles granted to you".into())
            }
            Error::Sts { hint, .. } => hint.clone(),
            Error::UnverifiedResponse(_) => Some(
                "with require_relay_state = false, a response without RelayState is taken only for one role named by aws_account and aws_role, addressed to this callback and issued after the login began (see README, RelayState)"
                    .into(),
            ),
            Error::Untrusted { path, .. } => Some(format!(
                "only you may write where saml-login keeps secrets: check the owner and run `chmod go-w {}`",
                path.display()
            )),
            _ => None,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `text` safe to print on a terminal: control characters other than a line end (an
/// escape sequence from an IdP's or a file's text) are shown escaped, not interpreted.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_shown_not_sent() {
        assert_eq!(
            printable("a\u{1b}[31mb\r\n\u{7}"),
            "a\\u{1b}[31mb\\r\n\\u{7}"
        );
        assert_eq!(printable("plain: ünïcode ‘q’"), "plain: ünïcode ‘q’");
    }
}
