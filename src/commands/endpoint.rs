//! The credential endpoint's HTTP side: the ECS container-credentials protocol the AWS
//! SDKs speak (`GET` the full URI with the `Authorization` token, JSON back), on a
//! listener the caller bound. Requests are parsed by httparse; each connection gets a
//! thread, a read deadline and one answer; the keys come from a [`Lease`].

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use saml_login_capture::constant_time_eq;

use crate::aws::credentials::Credentials;

/// The path of the credentials (the token is what guards them; the path only names them).
pub(crate) const PATH: &str = "/credentials";
/// The largest request head read (an SDK's is a few hundred bytes).
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request.
const READ_LIMIT: Duration = Duration::from_secs(5);

/// Where the endpoint takes the credentials it answers with.
pub(crate) trait Lease: Send + Sync {
    /// The credentials to hand out now, or why there are none (a message for the SDK's
    /// error and the user: a login is needed, a refresh failed ...).
    fn current(&self) -> std::result::Result<Credentials, String>;
}

/// Answer every connection of `listener` with `lease`'s credentials for requests that
/// carry `token`; returns only when accepting fails.
pub(crate) fn serve(listener: TcpListener, token: Arc<String>, lease: Arc<dyn Lease>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let (token, lease) = (Arc::clone(&token), Arc::clone(&lease));
        let _ = std::thread::Builder::new()
            .name("credential-request".into())
            .spawn(move || answer(stream, &token, lease.as_ref()));
    }
}

/// Read one request from `stream` and answer it.
fn answer(mut stream: TcpStream, token: &str, lease: &dyn Lease) {
    let _ = stream.set_read_timeout(Some(READ_LIMIT));
    let _ = stream.set_write_timeout(Some(READ_LIMIT));
    let reply = match read_head(&mut stream) {
        Some(head) => respond(&head, token, lease),
        None => Reply::error(400, "BadRequest", "not an HTTP request"),
    };
    let _ = stream.write_all(&reply.to_bytes());
    let _ = stream.flush();
}

/// The request head (up to the blank line), or `None` when it never completes.
fn read_head(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > MAX_HEAD {
            return None;
        }
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    Some(head)
}

/// The answer to request head `head` (pure: the tests call it directly).
pub(crate) fn respond(head: &[u8], token: &str, lease: &dyn Lease) -> Reply {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut request = httparse::Request::new(&mut headers);
    if !matches!(request.parse(head), Ok(httparse::Status::Complete(_))) {
        return Reply::error(400, "BadRequest", "not an HTTP request");
    }
    let authorization: Vec<&[u8]> = request
        .headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case("authorization"))
        .map(|h| h.value)
        .collect();
    match authorization.as_slice() {
        [] => {
            return Reply::error(
                401,
                "Unauthorized",
                "the Authorization header (AWS_CONTAINER_AUTHORIZATION_TOKEN) is missing",
            );
        }
        [given] if constant_time_eq(given, token.as_bytes()) => {}
        _ => return Reply::error(403, "Forbidden", "the authorization token is wrong"),
    }
    if request.method != Some("GET") {
        return Reply::error(405, "MethodNotAllowed", "only GET is answered");
    }
    let path = request.path.unwrap_or("");
    if path.split('?').next() != Some(PATH) {
        return Reply::error(404, "NotFound", &format!("the credentials are at {PATH}"));
    }
    match lease.current() {
        Ok(c) => Reply::json(
            200,
            &serde_json::json!({
                "AccessKeyId": c.access_key_id,
                "SecretAccessKey": c.secret_access_key.expose(),
                "Token": c.session_token.expose(),
                "Expiration": c.expiration_rfc3339(),
            }),
        ),
        Err(message) => Reply::error(503, "CredentialsUnavailable", &message),
    }
}

/// An HTTP answer: status and JSON body.
pub(crate) struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            body: body.to_string(),
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(
            status,
            &serde_json::json!({ "code": code, "message": format!("saml-login: {message}") }),
        )
    }

    fn to_bytes(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            _ => "Service Unavailable",
        };
        format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{}",
            self.status,
            self.body.len(),
            self.body
        )
        .into_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use saml_login_capture::Secret;

    struct Fixed(Option<Credentials>);
    impl Lease for Fixed {
        fn current(&self) -> std::result::Result<Credentials, String> {
            self.0
                .clone()
                .ok_or_else(|| "log in in the browser window".into())
        }
    }

    fn keys() -> Fixed {
        Fixed(Some(Credentials {
            access_key_id: "ASIAEXAMPLE".into(),
            secret_access_key: Secret::new("secret"),
            session_token: Secret::new("session"),
            expiration: time::macros::datetime!(2030-01-01 0:00 UTC),
        }))
    }

    fn get(auth: Option<&str>) -> Vec<u8> {
        let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        format!("GET /credentials HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\r\n").into_bytes()
    }

    #[test]
    fn keys_only_for_the_token() {
        let ok = respond(&get(Some("t0ken")), "t0ken", &keys());
        assert_eq!(ok.status, 200);
        let v: serde_json::Value = serde_json::from_str(&ok.body).unwrap();
        assert_eq!(v["AccessKeyId"], "ASIAEXAMPLE");
        assert_eq!(v["Token"], "session");
        assert_eq!(v["Expiration"], "2030-01-01T00:00:00Z");
        for (auth, status) in [(None, 401), (Some("t0keN"), 403), (Some("t0ke"), 403)] {
            let r = respond(&get(auth), "t0ken", &keys());
            assert_eq!(r.status, status, "{auth:?}");
            assert!(!r.body.contains("secret"), "{}", r.body);
        }
        let two = b"GET /credentials HTTP/1.1\r\nAuthorization: x\r\nAuthorization: t0ken\r\n\r\n";
        assert_eq!(respond(two, "t0ken", &keys()).status, 403);
    }

    #[test]
    fn other_paths_methods_and_garbage_get_no_keys() {
        let post = b"POST /credentials HTTP/1.1\r\nAuthorization: t\r\n\r\n";
        assert_eq!(respond(post, "t", &keys()).status, 405);
        let other = b"GET /latest/meta-data HTTP/1.1\r\nAuthorization: t\r\n\r\n";
        assert_eq!(respond(other, "t", &keys()).status, 404);
        assert_eq!(
            respond(b"\x16\x03\x01garbage\r\n\r\n", "t", &keys()).status,
            400
        );
    }

    #[test]
    fn no_credentials_is_an_error_json() {
        let r = respond(&get(Some("t")), "t", &Fixed(None));
        assert_eq!(r.status, 503);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["code"], "CredentialsUnavailable");
        assert!(v["message"].as_str().unwrap().contains("browser window"));
    }
}
