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
    /// The role picker was left without a choice (Esc, q).
    pub const NO_ROLE_CHOSEN: i32 = 6;
    /// `exec`: the command cannot be run (as shells say it).
    pub const NOT_EXECUTABLE: i32 = 126;
    /// `exec`: the command is not found (as shells say it).
    pub const NOT_FOUND: i32 = 127;
    /// Stopped by SIGHUP (128 + 1; Unix).
    pub const HUNG_UP: i32 = 129;
    /// Interrupted by Ctrl-C (128 + SIGINT).
    pub const INTERRUPTED: i32 = 130;
    /// Stopped by SIGTERM (128 + 15; Unix).
    pub const TERMINATED: i32 = 143;

    /// Every exit status with its meaning: the manual page's EXIT STATUS and the
    /// README's table (a test keeps them equal).
    pub const TABLE: &[(i32, &str)] = &[
        (OK, "success"),
        (
            FAILURE,
            "an error (configuration, files, assertion, browser, STS unreachable or not answering as STS)",
        ),
        (USAGE, "command-line usage error"),
        (CANCELLED, "login cancelled (the login window closed)"),
        (
            TIMEOUT,
            "no login completed within `timeout` (or, waiting for another saml-login's login, within `timeout` + 30 s)",
        ),
        (STS, "STS refused (access denied, expired assertion, ...)"),
        (
            NO_ROLE_CHOSEN,
            "no role chosen (the role picker left with Esc or q)",
        ),
        (
            NOT_EXECUTABLE,
            "`exec`: the command cannot be run (not executable)",
        ),
        (NOT_FOUND, "`exec`: command not found"),
        (
            HUNG_UP,
            "stopped by SIGHUP (Unix; everything under way cleaned up)",
        ),
        (INTERRUPTED, "interrupted by Ctrl-C"),
        (
            TERMINATED,
            "stopped by SIGTERM (Unix; everything under way cleaned up)",
        ),
    ];
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("no configuration {section} found in {}", .path.display())]
    NoSection {
        section: String,
        path: PathBuf,
        /// The section of the file closest to `section`, when it looks misspelt.
        guess: Option<String>,
    },
    #[error("{}, line {line}: {message}", .path.display())]
    ConfigSyntax {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "{} {} (no configuration yet); it needs at least:\n\n[{section}]\nidp_url = https://YOUR-TENANT.auth0.com\nclient_id = YOUR-CLIENT-ID\n",
        .path.display(),
        if *.empty { "is empty" } else { "does not exist" }
    )]
    NoConfigFile {
        section: String,
        path: PathBuf,
        /// The file exists but holds no setting at all.
        empty: bool,
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
    #[error("{alias} is not an account number (12 digits) nor an alias in {}{}", .path.display(), .guess.as_ref().map_or_else(|| if .path.exists() { String::new() } else { " (the file does not exist)".to_owned() }, |g| format!("; did you mean {g}?")))]
    UnknownAlias {
        alias: String,
        path: PathBuf,
        guess: Option<String>,
    },
    /// The command line is wrong (exit 2): a flag's value, a combination of flags, or
    /// the flags a command needs and was not given. Only for what was typed: a failure
    /// at run time (a program, the terminal, the system) has its own variant.
    #[error("{0}")]
    Usage(String),
    /// Neither `HOME` (`USERPROFILE` on Windows) nor the system names a home directory.
    #[error("cannot find your home directory: set HOME")]
    NoHome,
    /// A profile's `credential_process` failed or answered something unusable.
    #[error("credential_process of profile {profile}: {message}")]
    CredentialProcess { profile: String, message: String },
    /// The role picker could not use the terminal.
    #[error("role picker: {0}")]
    RolePicker(String),
    /// `serve`: the credential server's address cannot be listened on.
    #[error("cannot listen on {address} for the credential server: {source}")]
    CannotListen {
        address: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    /// The system refused a thread (`what` it was for).
    #[error("cannot start {what}: {source}")]
    Thread {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A number that is not the 12 digits of an AWS account (an alias is looked up in
    /// `path`).
    #[error("account {account} is not an AWS account number (12 digits) nor an alias of {}", .path.display())]
    NotAnAccount { account: String, path: PathBuf },
    /// `env --shell cmd`: a value cmd.exe cannot take safely.
    #[error(
        "{variable} holds a character cmd cannot take safely (% ! \" or a line break); use --shell powershell"
    )]
    CmdUnsafe { variable: String },
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
    /// An IdP endpoint (`pkce-login`'s authorize and token endpoints) answered
    /// something unusable or could not be reached.
    #[error("{endpoint}: {message}")]
    Idp { endpoint: String, message: String },
    #[error("cannot run {program}: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open a browser: {reason}; use --print")]
    OpenBrowser { reason: String },
    #[error("{}: {message}", .path.display())]
    Untrusted { path: PathBuf, message: String },
    #[error("SAML response: {0}")]
    Assertion(String),
    #[error("the SAML response is not well-formed XML ({0})")]
    NotXml(String),
    #[error("{role} is not granted by {source_of_list}; granted: {granted}")]
    RoleNotGranted {
        role: String,
        granted: String,
        /// Where the list of granted roles came from (a login, the cached assertion).
        source_of_list: String,
    },
    #[error(
        "timed out after {} s waiting for {holder}",
        .waited.as_secs()
    )]
    LoginWait {
        holder: String,
        waited: std::time::Duration,
    },
    #[error("refused the SAML response posted without our RelayState: {0}")]
    UnverifiedResponse(String),
    /// The IdP's own response (addressed to `callback`, issued for this login) came
    /// back without our `RelayState` while `require_relay_state` is on.
    #[error(
        "the IdP did not send our RelayState back: its response (addressed to {callback}, issued for this login) was not used"
    )]
    RelayStateNotEchoed { callback: String },
    #[error("STS {code}: {message}")]
    Sts {
        code: String,
        message: String,
        hint: Option<String>,
    },
    #[error("STS: {0}")]
    StsTransport(String),
    #[error("STS at {endpoint} answered HTTP {status} (not an STS reply); try again")]
    StsUnusable { endpoint: String, status: String },
    #[error("{what}: command not found")]
    CommandNotFound { what: String },
    #[error("{what}: {reason}")]
    CommandNotExecutable { what: String, reason: String },
    #[error(
        "port {port} on {address} is already in use; stop the program holding it or choose another `{setting}`"
    )]
    PortInUse {
        port: u16,
        /// The loopback address taken (`127.0.0.1` or `[::1]`).
        address: &'static str,
        setting: &'static str,
    },
    #[error(transparent)]
    Capture(#[from] CaptureError),
    #[error("interrupted")]
    Interrupted,
    #[error("no role chosen")]
    NoRoleChosen,
    /// `doctor`: some endpoints did not verify (each said above).
    #[error("{0}")]
    NetworkCheck(String),
    /// `exec`: the command ran and exited with this code (no message).
    #[error("the command exited with status {0}")]
    Child(i32),
    #[error("the {0} browser is not enabled in this build (rebuild with `--features {0}`)")]
    NotEnabled(&'static str),
    /// The keyring holding the caches' secrets (`cache` setting) cannot be used.
    #[error("{message}")]
    Keyring { message: String },
    /// The IdP answered the login's start URL with 404 or 410 (checked before the wait).
    #[error("the IdP answered {status} for {url}")]
    IdpStartUrl { url: String, status: String },
    /// Nothing listens at the start URL of an IdP on this machine (loopback): no
    /// browser can reach it either.
    #[error("the IdP does not answer at {url}: {why}")]
    IdpNotListening { url: String, why: String },
    /// The browser never read the console's forwarding page.
    #[error("the browser did not open the console's sign-in page within {0} s")]
    ConsoleNotOpened(u64),
    /// The session bus is not the user's own (issue 27): its keyring is not used.
    #[error("{message}")]
    KeyringUntrusted { message: String },
}

impl Error {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            // A bad value given on the command line is a usage error too.
            Error::BadValue { origin, .. } if origin.starts_with("--") => exit::USAGE,
            Error::Capture(CaptureError::Cancelled) => exit::CANCELLED,
            Error::Capture(CaptureError::Timeout(_)) | Error::LoginWait { .. } => exit::TIMEOUT,
            Error::Sts { .. } => exit::STS,
            Error::Interrupted => exit::INTERRUPTED,
            Error::NoRoleChosen => exit::NO_ROLE_CHOSEN,
            Error::CommandNotFound { .. } => exit::NOT_FOUND,
            Error::CommandNotExecutable { .. } => exit::NOT_EXECUTABLE,
            Error::Child(code) => *code,
            _ => exit::FAILURE,
        }
    }

    /// A suggestion printed under the error, when there is one.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::NoSection {
                section,
                guess: Some(guess),
                ..
            } => Some(format!(
                "did you mean -c {guess}? (or add [{section}] to the file)"
            )),
            Error::NoSection { .. } => {
                Some("choose a section with -c SECTION or add it to the file".into())
            }
            Error::Capture(CaptureError::PortInUse { port, .. }) => {
                Some(port_hint("listen_port", *port))
            }
            Error::Capture(CaptureError::Unsupported { demand, .. }) => {
                Some(ways_forward(demand))
            }
            Error::PortInUse { setting, port, .. } => Some(port_hint(setting, *port)),
            Error::NoConfigFile { .. } => Some(
                "paste that into the file, with your tenant and client id (or point --config at another file); the README's Configuration section lists every key"
                    .into(),
            ),
            Error::NoRoleChosen => Some(
                "name the role with --account and --role (or aws_account and aws_role in the section)"
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
            Error::RelayStateNotEchoed { .. } => Some(
                "if your IdP never sends RelayState back, set require_relay_state = false in a section that names one role with aws_account and aws_role (see README, RelayState)"
                    .into(),
            ),
            // Linux with no session bus (or no keyring on it): unlocking is not the way.
            Error::Keyring { message }
                if message.starts_with("cannot connect to the Secret Service") =>
            {
                Some(
                    "no D-Bus session bus answers at DBUS_SESSION_BUS_ADDRESS, or no keyring (Secret Service) runs on it: run saml-login in a desktop session (or start one with `dbus-run-session -- gnome-keyring-daemon --unlock`), or keep the secrets in 0600 files with `cache = file` (--cache file, SAML_LOGIN_CACHE=file); see the README, \"Where secrets are kept\""
                        .into(),
                )
            }
            Error::IdpNotListening { .. } => Some(
                "start the IdP, or check idp_url (its host and port) in the section".into(),
            ),
            Error::IdpStartUrl { .. } => Some(
                "check idp_url and client_id (or login_url) in the section: the IdP does not know that login"
                    .into(),
            ),
            Error::ConsoleNotOpened(_) => Some(
                "check BROWSER (or the default browser), or run with --print and open the URL yourself"
                    .into(),
            ),
            Error::Keyring { .. } => Some(
                "unlock the keyring (log in to the desktop session, or unlock it in your keyring manager), or keep the secrets in 0600 files with `cache = file` (--cache file, SAML_LOGIN_CACHE=file); see the README, \"Where secrets are kept\""
                    .into(),
            ),
            Error::KeyringUntrusted { .. } => Some(
                "start your own session bus (or log in to the desktop again) and check DBUS_SESSION_BUS_ADDRESS, or keep the secrets in 0600 files with `cache = file` (--cache file, SAML_LOGIN_CACHE=file)"
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

/// What to do when the IdP asks for what the browser cannot give.
fn ways_forward(demand: &saml_login_capture::Demand) -> String {
    match demand {
        saml_login_capture::Demand::Passkey { .. } => "log in once where you can use the passkey \
             or security key and keep the IdP session for the headless runs: `saml-login \
             --headless --show-browser --save-cookies FILE get-token` (a visible Chromium), then \
             --cookies FILE or SAML_LOGIN_COOKIES while that session lasts; or log in with \
             --system-browser; or have the IdP let this account log in without a passkey"
            .into(),
        saml_login_capture::Demand::Page { .. } => "only a browser on a device your \
             organisation manages passes this page: log in with --system-browser on such a \
             device, or ask the IdP's admin which policy applies to this application"
            .into(),
    }
}

/// What to do about a busy callback port whose number comes from `setting`. The port
/// is never swapped for another by itself: an SSH forward points at this one.
fn port_hint(setting: &str, port: u16) -> String {
    format!(
        "set `{setting}` in the configuration section, or use --headless or --webview, which need no port; \
         if it is an SSH forward (`ssh -L {port}:127.0.0.1:{port} HOST`) that holds it here, run saml-login \
         on HOST, where the forward leads, or forward another port and give that number to `{setting}` on HOST"
    )
}

impl Error {
    /// A busy callback port, named by the setting its number came from.
    pub fn port_from_setting(self, setting: &'static str) -> Self {
        match self {
            Error::Capture(CaptureError::PortInUse { port, address }) => Error::PortInUse {
                port,
                address,
                setting,
            },
            other => other,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Variants that say what failed, with the exit code each maps to: a browser that
    /// cannot be opened is a failure (1), not a command-line usage error (2).
    #[test]
    fn variants_say_what_failed() {
        let open = Error::OpenBrowser {
            reason: "no browser".into(),
        };
        assert_eq!(
            open.to_string(),
            "cannot open a browser: no browser; use --print"
        );
        assert_eq!(open.exit_code(), exit::FAILURE);
        let idp = Error::Idp {
            endpoint: "https://idp.example/oauth/token".into(),
            message: "HTTP 500".into(),
        };
        assert_eq!(idp.to_string(), "https://idp.example/oauth/token: HTTP 500");
        assert_eq!(idp.exit_code(), exit::FAILURE);
    }

    /// Exit 2 is for what was typed on the command line only: the failures of a run
    /// (a program, the terminal, the system, a value read from a file) are exit 1.
    #[test]
    fn only_the_command_line_is_a_usage_error() {
        assert_eq!(Error::Usage("--x".into()).exit_code(), exit::USAGE);
        let io = || std::io::Error::other("refused");
        for e in [
            Error::NoHome,
            Error::CredentialProcess {
                profile: "p".into(),
                message: "false failed".into(),
            },
            Error::RolePicker("not a terminal".into()),
            Error::CannotListen {
                address: "127.0.0.1:80".parse().unwrap(),
                source: io(),
            },
            Error::Thread {
                what: "a thread",
                source: io(),
            },
            Error::NotAnAccount {
                account: "12345".into(),
                path: "/h/.aws-accounts".into(),
            },
            Error::CmdUnsafe {
                variable: "AWS_SESSION_TOKEN".into(),
            },
        ] {
            assert_eq!(e.exit_code(), exit::FAILURE, "{e}");
        }
        assert_eq!(
            Error::CannotListen {
                address: "127.0.0.1:80".parse().unwrap(),
                source: io(),
            }
            .to_string(),
            "cannot listen on 127.0.0.1:80 for the credential server: refused"
        );
    }

    /// A passkey page a headless run cannot answer is a failed login (1), with the ways
    /// forward.
    #[test]
    fn an_unsupported_demand_fails_with_the_ways_forward() {
        let e = Error::Capture(CaptureError::Unsupported {
            browser: "a headless login",
            demand: saml_login_capture::Demand::Passkey {
                registration: false,
            },
        });
        assert_eq!(e.exit_code(), exit::FAILURE);
        assert!(e.to_string().contains("passkey"), "{e}");
        let hint = e.hint().unwrap();
        assert!(hint.contains("--show-browser --save-cookies"), "{hint}");
    }
}
