//! The callback request's head, parsed by `httparse`: the request line and the headers
//! the server looks at (`Host`, `Content-Length`, `Transfer-Encoding`). The server keeps
//! what a parser does not give: the thread and deadline per connection, the size limits
//! and the body read (`server`). Public (but hidden) for the fuzz target `callback_request`.

/// The largest request line plus headers.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most headers read (a browser's callback POST carries about twenty).
const MAX_HEADERS: usize = 100;

/// A request line and the headers the server looks at.
#[derive(Debug, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    pub target: String,
    pub host: Option<String>,
    pub content_length: Option<usize>,
    pub chunked: bool,
    /// Where the body starts in the bytes read (the head's length).
    pub body_start: usize,
}

/// Why a request is answered without a capture: the status and the page's text.
#[derive(Debug, PartialEq, Eq)]
pub struct Refusal(pub u16, pub String);

impl Refusal {
    pub(crate) fn new(status: u16, text: impl Into<String>) -> Self {
        Self(status, text.into())
    }
}

/// The head in `buf` (the bytes read so far): `Ok(None)` while it is incomplete and
/// within [`MAX_HEAD_BYTES`], a refusal when it is malformed or too large.
pub fn parse_head(buf: &[u8]) -> Result<Option<Head>, Refusal> {
    let bad = || Refusal::new(400, "bad request");
    let too_large = || Refusal::new(431, "request headers too large");
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let body_start = match request.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n <= MAX_HEAD_BYTES + 4 => n,
        Ok(httparse::Status::Complete(_)) => return Err(too_large()),
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD_BYTES => return Err(too_large()),
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(httparse::Error::TooManyHeaders) => return Err(too_large()),
        Err(_) => return Err(bad()),
    };
    let (Some(method), Some(target)) = (request.method, request.path) else {
        return Err(bad());
    };
    if !target.starts_with('/') {
        return Err(bad());
    }
    let mut head = Head {
        method: method.to_owned(),
        target: target.to_owned(),
        host: None,
        content_length: None,
        chunked: false,
        body_start,
    };
    for header in request.headers.iter() {
        let value = || {
            std::str::from_utf8(header.value)
                .map(str::trim)
                .map_err(|_| bad())
        };
        if header.name.eq_ignore_ascii_case("host") {
            head.host = Some(value()?.to_owned());
        } else if header.name.eq_ignore_ascii_case("content-length") {
            let text = value()?;
            let n = Some(text)
                .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|t| t.parse().ok())
                .ok_or_else(|| Refusal::new(400, "bad Content-Length"))?;
            if head.content_length.is_some_and(|m| m != n) {
                return Err(Refusal::new(400, "conflicting Content-Length"));
            }
            head.content_length = Some(n);
        } else if header.name.eq_ignore_ascii_case("transfer-encoding") {
            head.chunked = true;
        }
    }
    Ok(Some(head))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(buf: &[u8]) -> u16 {
        parse_head(buf).unwrap_err().0
    }

    #[test]
    fn a_callback_post_is_read_with_its_body_start() {
        let raw =
            b"POST /saml?x=1 HTTP/1.1\r\nHost: localhost:12200\r\nContent-Length: 4\r\n\r\nabcd";
        let head = parse_head(raw).unwrap().unwrap();
        assert_eq!(head.method, "POST");
        assert_eq!(head.target, "/saml?x=1");
        assert_eq!(head.host.as_deref(), Some("localhost:12200"));
        assert_eq!(head.content_length, Some(4));
        assert!(!head.chunked);
        assert_eq!(&raw[head.body_start..], b"abcd");
    }

    #[test]
    fn an_incomplete_head_waits_for_more_until_the_limit() {
        assert_eq!(parse_head(b"POST /saml HTTP/1.1\r\nHost: a"), Ok(None));
        assert_eq!(parse_head(b""), Ok(None));
        let mut long = b"GET / HTTP/1.1\r\nX: ".to_vec();
        long.resize(MAX_HEAD_BYTES + 1, b'a');
        assert_eq!(status(&long), 431);
    }

    #[test]
    fn malformed_heads_are_refused_with_their_status() {
        assert_eq!(status(b"GET http://x/ HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1\r\nno colon\r\n\r\n"), 400);
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n"),
            Err(Refusal::new(400, "bad Content-Length"))
        );
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n"),
            Err(Refusal::new(400, "conflicting Content-Length"))
        );
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: y\r\n")).collect();
        assert_eq!(
            status(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()),
            431
        );
    }

    #[test]
    fn a_chunked_body_is_noticed() {
        let head = parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(head.chunked);
    }
}
