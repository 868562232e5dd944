//! A saved response as a browser: `--saml-response-file FILE` (or `-` for stdin) hands
//! over a `SAMLResponse` (the bare base64 value or a form body) as if the IdP had
//! posted it to the callback. It helps users debug their IdP and lets tests drive the
//! pipeline; the rest of the login does not know the difference.

use std::io::Read;
use std::path::{Path, PathBuf};

use saml_login_capture::{Browser, CaptureError, Captured, Login, LoginRequest, Secret};

/// The response in a file, or on stdin for `-`.
pub(crate) struct SavedResponse {
    path: PathBuf,
}

impl SavedResponse {
    pub(crate) fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// The `SAMLResponse` value the file holds.
    fn read(&self) -> Result<String, CaptureError> {
        let path = &self.path;
        let mut text = String::new();
        let read = if path == Path::new("-") {
            std::io::stdin().read_to_string(&mut text)
        } else {
            std::fs::File::open(path).and_then(|mut f| f.read_to_string(&mut text))
        };
        read.map_err(|source| CaptureError::Io {
            context: format!("cannot read {}", path.display()),
            source,
        })?;
        // Accept the bare value or a form body `SAMLResponse=...&RelayState=...`.
        let value = if text.trim_start().starts_with("SAMLResponse=") {
            saml_login_capture::decode_form(text.trim().as_bytes())
                .into_iter()
                .find(|(k, _)| k == "SAMLResponse")
                .map(|(_, v)| v.into_inner())
                .unwrap_or_default()
        } else {
            text
        };
        if value.trim().is_empty() {
            return Err(CaptureError::NotAvailable(format!(
                "{}: holds no SAML response",
                path.display()
            )));
        }
        Ok(value)
    }
}

impl Browser for SavedResponse {
    fn name(&self) -> &'static str {
        "saved response"
    }

    /// The callback the IdP would have posted: the saved `SAMLResponse`, with our
    /// `RelayState` (the user handed it over, so it counts as echoed). Its URL is the
    /// callback's own; the response goes wherever it came from.
    fn capture(&mut self, request: &LoginRequest) -> Result<Login, CaptureError> {
        let value = self.read()?;
        let callback = &request.callback;
        let mut fields = vec![("SAMLResponse".to_owned(), Secret::new(value))];
        if let Some(state) = &callback.state {
            fields.push((state.field.to_string(), Secret::new(state.value.clone())));
        }
        Ok(Login::without_cookies(Captured {
            method: callback.method,
            url: callback.url.clone(),
            fields,
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use saml_login_capture::{Callback, Cancel, Method};

    use super::*;

    fn request() -> LoginRequest {
        let url = url::Url::parse("http://localhost:12200/saml").unwrap();
        LoginRequest {
            start_url: url::Url::parse("https://idp.example/samlp/c").unwrap(),
            callback: Callback::new(Method::Post, url)
                .requiring(&["SAMLResponse"])
                .with_state("RelayState", "r".into(), true),
            timeout: std::time::Duration::from_secs(1),
            cancel: Cancel::new(),
            title: "t".into(),
        }
    }

    #[test]
    fn a_saved_form_body_is_a_callback_with_our_state() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(b"SAMLResponse=PHg%2B&RelayState=theirs")
            .unwrap();
        let request = request();
        let login = SavedResponse::new(file.path().to_owned())
            .capture(&request)
            .unwrap();
        assert_eq!(
            login.callback.field("SAMLResponse").unwrap().expose(),
            "PHg+"
        );
        assert_eq!(login.callback.field("RelayState").unwrap().expose(), "r");
        assert!(request.callback.accepts(&login.callback).is_ok());
        assert!(login.cookies.is_empty());
    }

    #[test]
    fn an_empty_or_missing_file_is_named() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let e = SavedResponse::new(file.path().to_owned())
            .capture(&request())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: holds no SAML response", file.path().display())
        );
        let e = SavedResponse::new("/nonexistent/saved.b64".into())
            .capture(&request())
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot read /nonexistent/saved.b64: "),
            "{e}"
        );
    }
}
