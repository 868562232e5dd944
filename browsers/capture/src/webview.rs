//! What saml-login and its webview helper process (`saml-login-webview`) share: where
//! remembered webview profiles live, whether a display is there, and the JSON they
//! exchange. The webview links GTK/WebKit; keeping it in its own process keeps
//! `saml-login` (and `credential-process` on every AWS call) free of those libraries.
//!
//! The helper reads one [`HelperRequest`] on stdin and writes one outcome on stdout,
//! both JSON through serde (the types below are the format). Both go through pipes
//! between two processes of the same user, never on a command line or in the
//! environment: the request holds our `RelayState`, the answer the assertion.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::cookies::{parse_jar, to_netscape};
use crate::{Cancel, CaptureError, Captured, Login, LoginRequest, Method, Secret, Vars};

/// The environment variables [`no_window_reason`] reads: an SSH session's and the
/// display's. The caller reads them (saml-login's resolver, the helper's `main`).
pub const WINDOW_VARS: [&str; 5] = [
    "SSH_CONNECTION",
    "SSH_CLIENT",
    "SSH_TTY",
    "DISPLAY",
    "WAYLAND_DISPLAY",
];

/// Whether a webview window can be opened at all (see [`no_window_reason`]). It does
/// not prove that the display can be opened; the capture reports that as
/// `NotAvailable`.
pub fn display_available(vars: &Vars) -> bool {
    no_window_reason(vars).is_none()
}

/// Why no webview window can be shown here, for the hint when saml-login falls back to
/// the system browser; `None` when one can. `vars` holds [`WINDOW_VARS`].
pub fn no_window_reason(vars: &Vars) -> Option<&'static str> {
    let env = |name: &str| vars.get(name).is_some_and(|v| !v.is_empty());
    #[cfg(windows)]
    let desktop = Desktop {
        session_zero: crate::win32::session_id() == Some(0),
        webview2: crate::win32::webview2_installed,
    };
    #[cfg(not(windows))]
    let desktop = Desktop {
        session_zero: false,
        webview2: || true,
    };
    why_no_window(std::env::consts::OS, env, desktop)
}

/// What only Windows can tell about its desktop.
struct Desktop<F: FnOnce() -> bool> {
    /// This process runs in session 0 (services), which has no interactive desktop.
    session_zero: bool,
    /// Whether the WebView2 runtime is installed (asked last: it reads the registry).
    webview2: F,
}

/// [`no_window_reason`] for operating system `os` (as in `std::env::consts::OS`), with
/// `set` telling whether an environment variable is set and not empty.
fn why_no_window(
    os: &str,
    set: impl Fn(&str) -> bool,
    desktop: Desktop<impl FnOnce() -> bool>,
) -> Option<&'static str> {
    let over_ssh = ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"]
        .iter()
        .any(|name| set(name));
    match os {
        // A process started from an SSH login has no access to the window server, even
        // when the same user is logged in at the screen.
        "macos" if over_ssh => Some("an SSH session on macOS cannot open windows"),
        "macos" => None,
        "windows" if desktop.session_zero => {
            Some("session 0 (a service) has no desktop to show a window on")
        }
        "windows" if over_ssh => {
            Some("an SSH session on Windows has no desktop to show a window on")
        }
        "windows" if !(desktop.webview2)() => Some("the WebView2 runtime is not installed"),
        "windows" => None,
        _ if set("DISPLAY") || set("WAYLAND_DISPLAY") => None,
        _ => Some("neither DISPLAY nor WAYLAND_DISPLAY is set"),
    }
}

/// The persistent profile directory for logins at `idp_origin`:
/// `{app_data_dir}/webview/{host}_{port}` (the caller passes saml-login's own data
/// directory, e.g. `~/.local/share/saml-login`), with every character other than
/// ASCII letters, digits, `.` and `-` replaced by `_`.
pub fn profile_dir_for(app_data_dir: &Path, idp_origin: &Url) -> PathBuf {
    profiles_dir(app_data_dir).join(profile_name(idp_origin))
}

/// The directory of every IdP's persistent webview profile (what `logout --all`
/// removes).
pub fn profiles_dir(app_data_dir: &Path) -> PathBuf {
    app_data_dir.join("webview")
}

/// `{host}_{port}`, safe as a directory name.
fn profile_name(idp_origin: &Url) -> String {
    let host = idp_origin.host_str().unwrap_or("unknown");
    let name = match idp_origin.port_or_known_default() {
        Some(port) => format!("{host}_{port}"),
        None => host.to_string(),
    };
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    // "." and ".." alone would not name a subdirectory.
    if name.chars().all(|c| c == '.') {
        name.replace('.', "_")
    } else {
        name
    }
}

/// A request to the webview helper.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HelperRequest {
    pub request: LoginRequest,
    /// The remembered profile, or none for a throwaway one (`--fresh`).
    pub data_dir: Option<PathBuf>,
    pub export_cookies: bool,
    /// The name of the tool that runs the helper (`saml-login`, `pkce-login`): the
    /// helper signs its lines on stderr with it ([`crate::report`]); empty from a
    /// caller that does not say.
    #[serde(default)]
    pub program: String,
    /// The caller traces (`--verbose`): the helper writes its own debug trace to
    /// stderr too.
    #[serde(default)]
    pub verbose: bool,
}

impl HelperRequest {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a request always serializes")
    }

    /// Read a request; `cancel` becomes the request's cancel flag.
    pub fn from_json(text: &str, cancel: Cancel) -> Result<Self, String> {
        let mut wire: Self =
            serde_json::from_str(text).map_err(|e| format!("the request is not valid: {e}"))?;
        if wire.request.timeout.is_zero() {
            return Err("the request has no timeout".into());
        }
        wire.request.cancel = cancel;
        Ok(wire)
    }
}

/// The helper's answer on the wire.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Answer {
    Captured {
        method: Method,
        #[serde(with = "url_text")]
        url: Url,
        /// `[name, value]` pairs, values exposed only here, for the pipe.
        fields: Vec<(String, String)>,
        /// The cookies as a Netscape `cookies.txt` ([`to_netscape`]).
        cookies: String,
    },
    Error(WireError),
}

/// A [`CaptureError`] on the wire: what saml-login tells apart (exit codes, hints)
/// keeps its kind, the rest crosses as its message.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
enum WireError {
    Cancelled,
    Timeout { seconds: f64 },
    PortInUse { port: u16, address: String },
    NotAvailable { message: String },
    SessionExpired { message: String },
    Unsupported { demand: crate::Demand },
    Browser { message: String },
}

/// The helper's answer: the login, or why there is none.
pub fn outcome_to_json(outcome: &Result<Login, CaptureError>) -> String {
    let answer = match outcome {
        Ok(login) => Answer::Captured {
            method: login.callback.method,
            url: login.callback.url.clone(),
            fields: login
                .callback
                .fields
                .iter()
                .map(|(k, v)| (k.clone(), v.expose().to_owned()))
                .collect(),
            cookies: to_netscape(&login.cookies),
        },
        Err(e) => Answer::Error(match e {
            CaptureError::Cancelled => WireError::Cancelled,
            CaptureError::Timeout(d) => WireError::Timeout {
                seconds: d.as_secs_f64(),
            },
            CaptureError::PortInUse { port, address } => WireError::PortInUse {
                port: *port,
                address: (*address).to_owned(),
            },
            CaptureError::NotAvailable(m) => WireError::NotAvailable { message: m.clone() },
            CaptureError::SessionExpired(m) => WireError::SessionExpired { message: m.clone() },
            CaptureError::Unsupported { demand, .. } => WireError::Unsupported {
                demand: demand.clone(),
            },
            CaptureError::Browser { message, .. } => WireError::Browser {
                message: message.clone(),
            },
            other @ (CaptureError::Spawn { .. } | CaptureError::Io { .. }) => WireError::Browser {
                message: other.to_string(),
            },
        }),
    };
    serde_json::to_string(&answer).expect("an answer always serializes")
}

/// Read the helper's answer (`browser` names it in errors).
pub fn outcome_from_json(text: &str, browser: &'static str) -> Result<Login, CaptureError> {
    let bad = |what: String| CaptureError::browser(browser, format!("the helper's answer {what}"));
    let answer: Answer =
        serde_json::from_str(text).map_err(|e| bad(format!("is not valid: {e}")))?;
    match answer {
        Answer::Captured {
            method,
            url,
            fields,
            cookies,
        } => Ok(Login {
            callback: Captured {
                method,
                url,
                fields: fields
                    .into_iter()
                    .map(|(k, v)| (k, Secret::new(v)))
                    .collect(),
            },
            cookies: parse_jar(&cookies)
                .map_err(|e| bad(format!("holds cookies that cannot be read: {e}")))?,
        }),
        Answer::Error(e) => Err(match e {
            WireError::Cancelled => CaptureError::Cancelled,
            WireError::Timeout { seconds } => {
                CaptureError::Timeout(Duration::try_from_secs_f64(seconds).unwrap_or_default())
            }
            WireError::PortInUse { port, address } => CaptureError::PortInUse {
                port,
                address: if address == "[::1]" {
                    "[::1]"
                } else {
                    "127.0.0.1"
                },
            },
            WireError::NotAvailable { message } => CaptureError::NotAvailable(message),
            WireError::SessionExpired { message } => CaptureError::SessionExpired(message),
            WireError::Unsupported { demand } => CaptureError::Unsupported {
                browser: "the webview",
                demand,
            },
            WireError::Browser { message } => CaptureError::browser(browser, message),
        }),
    }
}

/// A [`Url`] as its text on the wire (serde for `url` is a feature of that crate that
/// this workspace does not build).
pub(crate) mod url_text {
    use serde::{Deserialize, Deserializer, Serializer};
    use url::Url;

    pub(crate) fn serialize<S: Serializer>(url: &Url, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(url.as_str())
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Url, D::Error> {
        let text = String::deserialize(d)?;
        Url::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Callback, Cookie};
    use std::path::Path;

    fn desktop(session_zero: bool, webview2: bool) -> Desktop<impl FnOnce() -> bool> {
        Desktop {
            session_zero,
            webview2: move || webview2,
        }
    }

    #[test]
    fn no_window_over_ssh_in_session_zero_or_without_webview2() {
        let none = |_: &str| false;
        let ssh = |n: &str| n == "SSH_CONNECTION";
        let x11 = |n: &str| n == "DISPLAY";
        // macOS and Windows used to be "always available".
        assert_eq!(why_no_window("macos", none, desktop(false, true)), None);
        assert!(why_no_window("macos", ssh, desktop(false, true)).is_some());
        assert_eq!(why_no_window("windows", none, desktop(false, true)), None);
        assert!(why_no_window("windows", ssh, desktop(false, true)).is_some());
        assert!(why_no_window("windows", none, desktop(true, true)).is_some());
        assert_eq!(
            why_no_window("windows", none, desktop(false, false)),
            Some("the WebView2 runtime is not installed")
        );
        // Linux and the BSDs: a display variable decides, SSH or not (X forwarding).
        assert_eq!(why_no_window("linux", x11, desktop(false, true)), None);
        assert!(why_no_window("linux", none, desktop(false, true)).is_some());
        assert!(why_no_window("freebsd", |n| n == "SSH_TTY", desktop(false, true)).is_some());
    }

    fn request() -> LoginRequest {
        LoginRequest {
            start_url: Url::parse("https://idp.example/samlp/c?RelayState=r").unwrap(),
            callback: Callback::aws_signin(Method::Post)
                .requiring(&["SAMLResponse"])
                .with_state("RelayState", "r".into(), true),
            timeout: Duration::from_secs(7),
            cancel: Cancel::new(),
            title: "t".into(),
        }
    }

    #[test]
    fn request_round_trip() {
        let wire = HelperRequest {
            request: request(),
            data_dir: Some(PathBuf::from("/d")),
            export_cookies: true,
            program: "pkce-login".into(),
            verbose: true,
        };
        let cancel = Cancel::new();
        let back = HelperRequest::from_json(&wire.to_json(), cancel.clone()).unwrap();
        assert_eq!(back.request.callback, wire.request.callback);
        assert_eq!(back.request.start_url, wire.request.start_url);
        assert_eq!(back.request.timeout, Duration::from_secs(7));
        assert_eq!(back.request.title, "t");
        assert_eq!(back.data_dir, wire.data_dir);
        assert!(back.export_cookies);
        assert_eq!(back.program, "pkce-login");
        cancel.cancel();
        assert!(
            back.request.cancel.is_cancelled(),
            "the caller's cancel flag"
        );
    }

    #[test]
    fn field_names_unknown_to_the_helper_cross_intact() {
        let mut request = request();
        request.callback = request
            .callback
            .requiring(&["a_field_of_tomorrow"])
            .with_state("tomorrows_state", "s".into(), false);
        let wire = HelperRequest {
            request,
            data_dir: None,
            export_cookies: false,
            program: String::new(),
            verbose: false,
        };
        let back = HelperRequest::from_json(&wire.to_json(), Cancel::new()).unwrap();
        assert_eq!(back.request.callback.required_any, ["a_field_of_tomorrow"]);
        assert_eq!(
            back.request.callback.state.unwrap().field,
            "tomorrows_state"
        );
    }

    #[test]
    fn a_request_with_an_unknown_method_is_refused() {
        let text = HelperRequest {
            request: request(),
            data_dir: None,
            export_cookies: false,
            program: String::new(),
            verbose: false,
        }
        .to_json()
        .replace(r#""method":"POST""#, r#""method":"PUT""#);
        assert!(text.contains("PUT"), "{text}");
        let e = HelperRequest::from_json(&text, Cancel::new()).unwrap_err();
        assert!(e.contains("PUT"), "{e}");
    }

    #[test]
    fn a_request_without_a_timeout_is_refused() {
        let mut zero = request();
        zero.timeout = Duration::ZERO;
        let wire = HelperRequest {
            request: zero,
            data_dir: None,
            export_cookies: false,
            program: String::new(),
            verbose: false,
        };
        assert!(HelperRequest::from_json(&wire.to_json(), Cancel::new()).is_err());
        assert!(HelperRequest::from_json("{}", Cancel::new()).is_err());
        assert!(HelperRequest::from_json("not json", Cancel::new()).is_err());
    }

    #[test]
    fn outcome_round_trip() {
        let url = Url::parse("http://localhost:1/saml").unwrap();
        let captured = Captured {
            method: Method::Post,
            url: url.clone(),
            fields: vec![("SAMLResponse".into(), Secret::new("x+y"))],
        };
        let cookie = Cookie {
            name: "s".into(),
            value: Secret::new("v"),
            domain: "idp.example".into(),
            path: "/".into(),
            expires: None,
            secure: true,
            http_only: true,
        };
        let text = outcome_to_json(&Ok(Login {
            callback: captured,
            cookies: vec![cookie.clone()],
        }));
        let login = outcome_from_json(&text, "webview").unwrap();
        assert_eq!(
            login.callback.field("SAMLResponse").unwrap().expose(),
            "x+y"
        );
        assert_eq!(login.callback.url, url);
        assert_eq!(login.cookies, vec![cookie]);
        for e in [
            CaptureError::Cancelled,
            CaptureError::Timeout(Duration::from_secs(3)),
            CaptureError::NotAvailable("no display".into()),
            CaptureError::SessionExpired("gone".into()),
            CaptureError::PortInUse {
                port: 12200,
                address: "[::1]",
            },
            CaptureError::browser("webview", "cannot open a window"),
            CaptureError::Unsupported {
                browser: "the webview",
                demand: crate::Demand::Passkey {
                    registration: false,
                },
            },
        ] {
            let text = e.to_string();
            let back = outcome_from_json(&outcome_to_json(&Err(e)), "webview").unwrap_err();
            assert_eq!(back.to_string(), text);
        }
        let spawn = CaptureError::spawn("x", std::io::Error::other("denied"));
        let back = outcome_from_json(&outcome_to_json(&Err(spawn)), "webview").unwrap_err();
        assert_eq!(back.to_string(), "webview: could not start x: denied");
    }

    #[test]
    fn an_answer_with_a_broken_cookie_jar_is_refused() {
        let text = r#"{"captured":{"method":"POST","url":"http://localhost:1/saml",
            "fields":[["SAMLResponse","x"]],"cookies":"not\ta jar"}}"#;
        let e = outcome_from_json(text, "webview").unwrap_err().to_string();
        assert!(e.contains("cookies"), "{e}");
        assert!(!e.contains("SAMLResponse") && !e.contains("jar\""), "{e}");
    }

    #[test]
    fn an_answer_that_is_neither_is_refused() {
        for text in ["", "{}", r#"{"error":{"kind":"nonsense"}}"#, "null"] {
            assert!(outcome_from_json(text, "webview").is_err(), "{text}");
        }
    }

    #[test]
    fn profile_dirs() {
        let base = Path::new("/data/saml-login");
        let u = Url::parse("https://login.example.com/samlp/abc").unwrap();
        assert_eq!(
            profile_dir_for(base, &u),
            PathBuf::from("/data/saml-login/webview/login.example.com_443")
        );
        let u = Url::parse("http://[::1]:8080/").unwrap();
        assert_eq!(
            profile_dir_for(base, &u),
            PathBuf::from("/data/saml-login/webview/___1__8080")
        );
    }
}
