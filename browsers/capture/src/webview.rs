//! What saml-login and its webview helper process (`saml-login-webview`) share: where
//! remembered webview profiles live, whether a display is there, and the JSON they
//! exchange. The webview links GTK/WebKit; keeping it in its own process keeps
//! `saml-login` (and `credential-process` on every AWS call) free of those libraries.
//!
//! The helper reads one request object on stdin and writes one outcome object on
//! stdout. A request: `{"start_url", "callback": {"method", "url", "any_aws_signin",
//! "required_any", "state": {"field", "value", "required"} | null}, "timeout_secs",
//! "title", "data_dir": path | null, "export_cookies"}`. An outcome: `{"captured":
//! {"method", "url", "fields": [[name, value], ...]}, "cookies": cookies.txt}` or
//! `{"error": {"kind", "message", "seconds", "port"}}`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};
use url::Url;

use crate::cookies::{parse_jar, to_netscape};
use crate::{Callback, Cancel, CaptureError, Captured, Cookie, LoginRequest, Method, Secret};

/// Whether a webview window can be opened at all (see [`no_window_reason`]). It does
/// not prove that the display can be opened; the capture reports that as
/// `NotAvailable`.
pub fn display_available() -> bool {
    no_window_reason().is_none()
}

/// Why no webview window can be shown here, for the hint when saml-login falls back to
/// the system browser; `None` when one can.
pub fn no_window_reason() -> Option<&'static str> {
    let env = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty());
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
#[derive(Debug)]
pub struct HelperRequest {
    pub request: LoginRequest,
    /// The remembered profile, or none for a throwaway one (`--fresh`).
    pub data_dir: Option<PathBuf>,
    pub export_cookies: bool,
}

/// Field names as `&'static str`, as [`Callback`] keeps them.
fn static_name(name: &str) -> &'static str {
    match name {
        "SAMLResponse" => "SAMLResponse",
        "RelayState" => "RelayState",
        "code" => "code",
        "error" => "error",
        "state" => "state",
        // A one-shot helper process: leaking an unknown name is harmless.
        other => Box::leak(other.to_owned().into_boxed_str()),
    }
}

impl HelperRequest {
    pub fn to_json(&self) -> Value {
        let c = &self.request.callback;
        json!({
            "start_url": self.request.start_url.as_str(),
            "callback": {
                "method": c.method.as_str(),
                "url": c.url.as_str(),
                "any_aws_signin": c.any_aws_signin,
                "required_any": c.required_any,
                "state": c.state.as_ref().map(|s| json!({
                    "field": s.field, "value": s.value, "required": s.required,
                })),
            },
            "timeout_secs": self.request.timeout.as_secs_f64(),
            "title": self.request.title,
            "data_dir": self.data_dir,
            "export_cookies": self.export_cookies,
        })
    }

    /// Read a request; `cancel` becomes the request's cancel flag.
    pub fn from_json(v: &Value, cancel: Cancel) -> Result<Self, String> {
        let text = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| format!("the request has no {k}"))
        };
        let url = |v: &Value, k: &str| {
            Url::parse(&text(v, k)?).map_err(|e| format!("the request's {k}: {e}"))
        };
        let cb = v.get("callback").ok_or("the request has no callback")?;
        let method = match text(cb, "method")?.as_str() {
            "GET" => Method::Get,
            _ => Method::Post,
        };
        let mut callback = Callback::new(method, url(cb, "url")?);
        callback.any_aws_signin = cb.get("any_aws_signin").and_then(Value::as_bool) == Some(true);
        callback.required_any = cb
            .get("required_any")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(static_name)
                    .collect()
            })
            .unwrap_or_default();
        if let Some(state) = cb.get("state").filter(|s| !s.is_null()) {
            callback = callback.with_state(
                static_name(&text(state, "field")?),
                text(state, "value")?,
                state.get("required").and_then(Value::as_bool) == Some(true),
            );
        }
        let timeout = v
            .get("timeout_secs")
            .and_then(Value::as_f64)
            .filter(|s| *s > 0.0)
            .ok_or("the request has no timeout")?;
        Ok(Self {
            request: LoginRequest {
                start_url: url(v, "start_url")?,
                callback,
                timeout: Duration::from_secs_f64(timeout),
                cancel,
                title: text(v, "title").unwrap_or_default(),
            },
            data_dir: v.get("data_dir").and_then(Value::as_str).map(PathBuf::from),
            export_cookies: v.get("export_cookies").and_then(Value::as_bool) == Some(true),
        })
    }
}

/// The helper's answer: a capture and the cookies, or the error.
pub fn outcome_to_json(outcome: &Result<(Captured, Vec<Cookie>), CaptureError>) -> Value {
    match outcome {
        Ok((captured, cookies)) => json!({
            "captured": {
                "method": captured.method.as_str(),
                "url": captured.url.as_str(),
                "fields": captured.fields.iter().map(|(k, v)| json!([k, v.expose()])).collect::<Vec<_>>(),
            },
            "cookies": to_netscape(cookies),
        }),
        Err(e) => {
            let (kind, seconds, port) = match e {
                CaptureError::Cancelled => ("cancelled", None, None),
                CaptureError::Timeout(d) => ("timeout", Some(d.as_secs_f64()), None),
                CaptureError::PortInUse { port, .. } => ("port_in_use", None, Some(*port)),
                CaptureError::NotAvailable(_) => ("not_available", None, None),
                CaptureError::SessionExpired(_) => ("session_expired", None, None),
                CaptureError::Browser { .. } | CaptureError::Io { .. } => ("browser", None, None),
            };
            let message = match e {
                CaptureError::NotAvailable(m) | CaptureError::SessionExpired(m) => m.clone(),
                CaptureError::Browser { message, .. } => message.clone(),
                other => other.to_string(),
            };
            json!({"error": {"kind": kind, "message": message, "seconds": seconds, "port": port}})
        }
    }
}

/// Read the helper's answer.
pub fn outcome_from_json(
    v: &Value,
    browser: &'static str,
) -> Result<(Captured, Vec<Cookie>), CaptureError> {
    if let Some(e) = v.get("error") {
        let message = e
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message")
            .to_owned();
        return Err(match e.get("kind").and_then(Value::as_str) {
            Some("cancelled") => CaptureError::Cancelled,
            Some("timeout") => CaptureError::Timeout(Duration::from_secs_f64(
                e.get("seconds").and_then(Value::as_f64).unwrap_or(0.0),
            )),
            Some("port_in_use") => CaptureError::PortInUse {
                port: e
                    .get("port")
                    .and_then(Value::as_u64)
                    .and_then(|p| u16::try_from(p).ok())
                    .unwrap_or(0),
                address: "127.0.0.1",
            },
            Some("not_available") => CaptureError::NotAvailable(message),
            Some("session_expired") => CaptureError::SessionExpired(message),
            _ => CaptureError::browser(browser, message),
        });
    }
    let bad = |what: &str| CaptureError::browser(browser, format!("the helper's answer {what}"));
    let c = v
        .get("captured")
        .ok_or_else(|| bad("holds neither a capture nor an error"))?;
    let method = match c.get("method").and_then(Value::as_str) {
        Some("GET") => Method::Get,
        _ => Method::Post,
    };
    let url = c
        .get("url")
        .and_then(Value::as_str)
        .and_then(|u| Url::parse(u).ok())
        .ok_or_else(|| bad("has no URL"))?;
    let fields = c
        .get("fields")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("has no fields"))?
        .iter()
        .filter_map(|pair| {
            let pair = pair.as_array()?;
            Some((
                pair.first()?.as_str()?.to_owned(),
                Secret::new(pair.get(1)?.as_str()?),
            ))
        })
        .collect();
    let cookies = v
        .get("cookies")
        .and_then(Value::as_str)
        .map(|jar| parse_jar(jar).unwrap_or_default())
        .unwrap_or_default();
    Ok((
        Captured {
            method,
            url,
            fields,
        },
        cookies,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn request_round_trip() {
        let request = LoginRequest {
            start_url: Url::parse("https://idp.example/samlp/c?RelayState=r").unwrap(),
            callback: Callback::aws_signin(Method::Post)
                .requiring(&["SAMLResponse"])
                .with_state("RelayState", "r".into(), true),
            timeout: Duration::from_secs(7),
            cancel: Cancel::new(),
            title: "t".into(),
        };
        let wire = HelperRequest {
            request,
            data_dir: Some(PathBuf::from("/d")),
            export_cookies: true,
        };
        let back = HelperRequest::from_json(&wire.to_json(), Cancel::new()).unwrap();
        assert_eq!(back.request.callback, wire.request.callback);
        assert_eq!(back.request.start_url, wire.request.start_url);
        assert_eq!(back.request.timeout, Duration::from_secs(7));
        assert_eq!(back.data_dir, wire.data_dir);
        assert!(back.export_cookies);
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
        let v = outcome_to_json(&Ok((captured, vec![cookie.clone()])));
        let (c, cookies) = outcome_from_json(&v, "webview").unwrap();
        assert_eq!(c.field("SAMLResponse").unwrap().expose(), "x+y");
        assert_eq!(c.url, url);
        assert_eq!(cookies, vec![cookie]);
        for e in [
            CaptureError::Cancelled,
            CaptureError::Timeout(Duration::from_secs(3)),
            CaptureError::NotAvailable("no display".into()),
        ] {
            let text = e.to_string();
            let back = outcome_from_json(&outcome_to_json(&Err(e)), "webview").unwrap_err();
            assert_eq!(back.to_string(), text);
        }
    }
}
