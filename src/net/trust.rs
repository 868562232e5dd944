//! Which certificates are trusted: the operating system's roots, PLUS the CA
//! certificates the user adds (`--ca-bundle` / `ca_bundle`, `AWS_CA_BUNDLE`, the AWS
//! config's `ca_bundle`). Added, never replacing: a company's inspection CA must not make
//! AWS's own certificates untrusted. Both HTTP clients (the SDK's and ureq) get the
//! same set.

use std::path::PathBuf;
use std::sync::OnceLock;

/// A CA bundle the user added, read when the settings were resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaBundle {
    pub path: PathBuf,
    /// The setting that named it (`AWS_CA_BUNDLE`, `--ca-bundle` ...).
    pub origin: String,
    /// The file's PEM text.
    pub pem: Vec<u8>,
    /// How many certificates it holds.
    pub count: usize,
}

impl CaBundle {
    /// Read `path`: a PEM file with at least one certificate.
    pub fn read(path: PathBuf, origin: &str) -> Result<Self, String> {
        let pem = std::fs::read(&path)
            .map_err(|e| format!("{origin}: cannot read {}: {e}", path.display()))?;
        let mut count = 0;
        for item in ureq::tls::parse_pem(&pem) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(_)) => count += 1,
                Ok(_) => {}
                Err(e) => {
                    return Err(format!(
                        "{origin}: {} is not a PEM certificate bundle ({e})",
                        path.display()
                    ));
                }
            }
        }
        if count == 0 {
            return Err(format!(
                "{origin}: {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                path.display()
            ));
        }
        Ok(Self {
            path,
            origin: origin.to_owned(),
            pem,
            count,
        })
    }

    fn certificates(&self) -> impl Iterator<Item = ureq::tls::Certificate<'static>> + '_ {
        ureq::tls::parse_pem(&self.pem).filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
            _ => None,
        })
    }
}

/// The trust: the OS roots and the added bundles.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trust {
    pub added: Vec<CaBundle>,
}

/// The operating system's roots (`rustls-native-certs`: the system store on Linux, the
/// Keychain on macOS, the Windows store; `SSL_CERT_FILE`/`SSL_CERT_DIR` when set),
/// loaded once per process.
fn native_roots() -> &'static [ureq::tls::Certificate<'static>] {
    static ROOTS: OnceLock<Vec<ureq::tls::Certificate<'static>>> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let found = rustls_native_certs::load_native_certs();
        for e in &found.errors {
            tracing::debug!(error = %e, "a system root certificate could not be loaded");
        }
        found
            .certs
            .iter()
            .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
            .collect()
    })
}

impl Trust {
    /// The roots for ureq: the OS roots and every added certificate.
    pub fn ureq_roots(&self) -> ureq::tls::RootCerts {
        let mut all: Vec<ureq::tls::Certificate<'static>> = native_roots().to_vec();
        for bundle in &self.added {
            all.extend(bundle.certificates());
        }
        ureq::tls::RootCerts::from(all)
    }

    /// The roots for the SDK's HTTP client: its native roots (the same store) and
    /// every added bundle.
    pub fn sdk_trust_store(&self) -> aws_smithy_http_client::tls::TrustStore {
        let mut store = aws_smithy_http_client::tls::TrustStore::default().with_native_roots(true);
        for bundle in &self.added {
            store = store.with_pem_certificate(bundle.pem.clone());
        }
        store
    }

    /// The settings that added certificates, for messages (`AWS_CA_BUNDLE=/x.pem`).
    pub fn describe(&self) -> String {
        self.added
            .iter()
            .map(|b| format!("{}={}", b.origin, b.path.display()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}
