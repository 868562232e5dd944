//! One TLS handshake to an endpoint, through its proxy as the clients go, recording
//! what was presented: for `doctor`, and to name the issuer when a call fails on a
//! certificate. It sends no request: the connection ends after the handshake.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use url::Url;

use crate::net::{Network, Route};

/// What a handshake showed.
#[derive(Clone, Debug)]
pub struct Presented {
    /// The issuer of the server's certificate (`CN=..., O=...`), when one was shown.
    pub issuer: Option<String>,
    /// `Ok` when the chain verifies against the OS roots plus the added CAs; else why not.
    pub verified: Result<(), String>,
}

/// Whether an error text is a certificate failure (rustls' own words).
pub fn is_certificate_error(text: &str) -> bool {
    text.contains("invalid peer certificate") || text.contains("UnknownIssuer")
}

/// Handshake with `url`'s host through `net`'s route for it; `Err` when no handshake
/// happened at all (no connection, the proxy refused, a timeout).
pub fn check(net: &Network, url: &Url) -> Result<Presented, String> {
    let host = url
        .host_str()
        .ok_or("the URL has no host")?
        .trim_matches(['[', ']'])
        .to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    let timeout = net.connect_timeout.max(Duration::from_secs(1));
    let mut tcp = match net.proxies.route(url) {
        Route::Direct(_) => connect(&host, port, timeout)?,
        Route::Proxy(proxy) => tunnel(proxy, &host, port, timeout)?,
    };
    tcp.set_read_timeout(Some(net.read_timeout)).ok();
    tcp.set_write_timeout(Some(net.read_timeout)).ok();
    let roots = root_store(net);
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let inner = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(roots),
        provider.clone(),
    )
    .build()
    .map_err(|e| format!("no usable root certificates ({e})"))?;
    let recorder = Arc::new(Recorder {
        inner,
        seen: Mutex::default(),
    });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(host.clone()).map_err(|e| format!("{host}: {e}"))?;
    let mut conn =
        rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let mut outcome = Ok(());
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            outcome = Err(e.to_string());
            break;
        }
    }
    let seen = recorder.seen.lock().map(|s| s.clone()).unwrap_or_default();
    match seen {
        Some(presented) => Ok(presented),
        None => Err(match outcome {
            Err(e) => format!("the TLS handshake failed ({e})"),
            Ok(()) => "no certificate was presented".to_owned(),
        }),
    }
}

fn connect(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, String> {
    let addrs = (host, port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {host} ({e})"))?;
    let mut last = format!("{host} has no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e) => last = format!("cannot connect to {host}:{port} ({e})"),
        }
    }
    Err(last)
}

/// A `CONNECT host:port` tunnel through an http:// proxy (with its basic credentials).
fn tunnel(
    proxy: &crate::net::ProxyUrl,
    host: &str,
    port: u16,
    timeout: Duration,
) -> Result<TcpStream, String> {
    let url = proxy.expose();
    if url.scheme() != "http" {
        return Err(format!("{proxy}: only http:// proxies can be checked"));
    }
    let proxy_host = url.host_str().unwrap_or_default();
    let mut tcp = connect(
        proxy_host,
        url.port_or_known_default().unwrap_or(80),
        timeout,
    )
    .map_err(|e| format!("proxy {proxy}: {e}"))?;
    tcp.set_read_timeout(Some(timeout)).ok();
    let mut request = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n");
    if let Some((user, password)) = proxy.credentials() {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request.push_str(&format!("Proxy-Authorization: Basic {token}\r\n"));
    }
    request.push_str("\r\n");
    tcp.write_all(request.as_bytes())
        .map_err(|e| format!("proxy {proxy}: {e}"))?;
    let mut reader = BufReader::new(tcp.try_clone().map_err(|e| e.to_string())?);
    let mut status = String::new();
    reader
        .read_line(&mut status)
        .map_err(|e| format!("proxy {proxy} did not answer CONNECT ({e})"))?;
    loop {
        let mut line = String::new();
        let n = reader
            .by_ref()
            .take(8192)
            .read_line(&mut line)
            .map_err(|e| format!("proxy {proxy}: {e}"))?;
        if n == 0 || line == "\r\n" || line == "\n" {
            break;
        }
    }
    let code = status.split_whitespace().nth(1).unwrap_or_default();
    match code {
        "200" => Ok(tcp),
        "407" => Err(format!(
            "proxy {proxy} asks for proxy authentication (407): put user:password in the proxy URL"
        )),
        _ => Err(format!(
            "proxy {proxy} refused CONNECT {host}:{port}: {}",
            status.trim()
        )),
    }
}

fn root_store(net: &Network) -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    if let ureq::tls::RootCerts::Specific(certs) = net.trust.ureq_roots() {
        for c in certs.iter() {
            let _ = roots.add(CertificateDer::from(c.der().to_vec()));
        }
    }
    roots
}

/// `CN=..., O=...` of a DER certificate's issuer.
fn issuer_of(der: &[u8]) -> Option<String> {
    x509_parser::parse_x509_certificate(der)
        .ok()
        .map(|(_, cert)| cert.issuer().to_string())
}

/// Verifies as rustls would, and records what was presented and the verdict.
#[derive(Debug)]
struct Recorder {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    seen: Mutex<Option<Presented>>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result =
            self.inner
                .verify_server_cert(end_entity, intermediates, server_name, ocsp, now);
        // The issuer of the last certificate presented: the CA the server's chain ends in.
        let top = intermediates.last().unwrap_or(end_entity);
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(Presented {
                issuer: issuer_of(top),
                verified: result.as_ref().map(|_| ()).map_err(ToString::to_string),
            });
        }
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// The one line for a certificate failure reaching `url`: the host, the issuer that
/// was presented, and the setting that would add it.
pub fn certificate_failure(net: &Network, url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    let issuer = check(net, url)
        .ok()
        .and_then(|p| p.issuer)
        .map_or_else(|| "an unknown issuer".to_owned(), |i| format!("\"{i}\""));
    let via = net
        .proxies
        .proxy_for(url)
        .map_or_else(String::new, |p| format!(" (through proxy {p})"));
    format!(
        "the certificate of {host}{via} was issued by {issuer}, which is not trusted: \
         if your network inspects TLS, add that CA with AWS_CA_BUNDLE=/path/to/ca.pem \
         (or --ca-bundle, or ca_bundle in ~/.saml-login)"
    )
}
