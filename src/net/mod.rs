//! The network, owned in one place: which proxy each URL goes through ([`proxy`]),
//! which certificates are trusted ([`trust`]), how long a call may wait, and the first
//! Ctrl-C ending any wait. The resolver (`config::network`) reads the settings once and
//! [`install`]s them; every HTTP client saml-login has is built here: [`agent_for`]
//! (ureq: the federation endpoint, PKCE's token exchange, any IdP request) and
//! [`sdk_http_client`] (the STS client). Nothing here reads the environment.

pub mod proxy;
pub mod tls_check;
pub mod trust;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use url::Url;

pub use self::proxy::{Proxies, ProxyUrl, Route};
pub use self::trust::{CaBundle, Trust};

/// How long a connection may take to open.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a request may wait for its answer (setting `http_timeout`).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Every network setting, resolved once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Network {
    pub proxies: Proxies,
    pub trust: Trust,
    /// Connection set-up (TCP, and the proxy's CONNECT).
    pub connect_timeout: Duration,
    /// A request's wait for its answer.
    pub read_timeout: Duration,
    /// The STS endpoint the user configured (`AWS_ENDPOINT_URL_STS`, else
    /// `AWS_ENDPOINT_URL`); `None`: the SDK's own for the region.
    pub sts_endpoint: Option<String>,
}

impl Default for Network {
    fn default() -> Self {
        Self {
            proxies: Proxies::default(),
            trust: Trust::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            read_timeout: DEFAULT_READ_TIMEOUT,
            sts_endpoint: None,
        }
    }
}

static NETWORK: OnceLock<Network> = OnceLock::new();

/// Make `network` the process's settings (the resolver does this once; a second call
/// is ignored).
pub fn install(network: Network) {
    let _ = NETWORK.set(network);
}

/// The process's settings (the defaults before [`install`]: no proxy, the OS roots).
pub fn current() -> &'static Network {
    NETWORK.get_or_init(Network::default)
}

/// A ureq agent for requests to `url`: its proxy (or none: loopback, `NO_PROXY`), the
/// OS roots plus the added CAs, the timeouts. THE way to make an HTTP request in
/// saml-login: `net::agent_for(&url).get(url.as_str()).call()`.
pub fn agent_for(url: &Url) -> ureq::Agent {
    agent_config_for(url).build().into()
}

/// [`agent_for`]'s configuration, for callers that add to it (statuses as values,
/// cookies, redirects) before `.build().into()`.
pub fn agent_config_for(url: &Url) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
    let net = current();
    let proxy = net
        .proxies
        .proxy_for(url)
        .and_then(|p| ureq::Proxy::new(p.expose().as_str()).ok());
    tracing::debug!(
        url = %redacted_origin(url),
        proxy = %net.proxies.proxy_for(url).map_or_else(|| "none".to_owned(), ToString::to_string),
        "HTTP request"
    );
    ureq::Agent::config_builder()
        .proxy(proxy)
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(net.trust.ureq_roots())
                .build(),
        )
        .timeout_connect(Some(net.connect_timeout))
        .timeout_global(Some(net.connect_timeout + net.read_timeout))
        .user_agent(concat!("saml-login/", env!("CARGO_PKG_VERSION")))
}

/// `text` with every proxy password replaced by `***` (for an error from a library
/// that might quote a proxy URL).
pub fn redact_proxy_secrets(text: &str) -> String {
    let mut out = text.to_owned();
    for password in current().proxies.passwords() {
        out = out.replace(&password, "***");
        let encoded =
            percent_encoding::utf8_percent_encode(&password, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        out = out.replace(&encoded, "***");
    }
    out
}

/// The message of a failed ureq call to `url`: a certificate failure in one line
/// naming the host, the issuer and the setting to set; a proxy's 407 as proxy
/// authentication; anything else as ureq says it, proxy passwords redacted.
pub fn explain_ureq_error(url: &Url, error: &ureq::Error) -> String {
    let text = error.to_string();
    if tls_check::is_certificate_error(&text) {
        return tls_check::certificate_failure(current(), url);
    }
    if let Some(proxy) = current().proxies.proxy_for(url)
        && (text.contains("407") || matches!(error, ureq::Error::ConnectProxyFailed(_)))
    {
        return format!(
            "proxy {proxy} refused the connection to {}: {} (check the proxy's user:password in {})",
            url.host_str().unwrap_or_default(),
            if text.contains("407") {
                "407 Proxy Authentication Required".to_owned()
            } else {
                redact_proxy_secrets(&text)
            },
            proxy.origin
        );
    }
    redact_proxy_secrets(&text)
}

/// `https://host:port`, for logs (never a query, which may hold a secret).
pub fn redacted_origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// The SDK's HTTP client for calls to `endpoint`: the proxy decision for that endpoint,
/// the OS roots plus the added CAs (rustls with aws-lc, as the SDK's default client).
/// The timeouts go through the SDK's own `TimeoutConfig` ([`sdk_timeouts`]).
pub fn sdk_http_client(endpoint: &Url) -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::proxy::ProxyConfig;
    use aws_smithy_http_client::tls;
    use aws_smithy_runtime_api::client::http::{SharedHttpConnector, http_client_fn};

    let net = current();
    let proxy = match net.proxies.proxy_for(endpoint) {
        Some(p) => {
            let config = ProxyConfig::all(p.without_credentials()).unwrap_or_else(|e| {
                tracing::debug!(error = %e, "proxy refused by the SDK's client");
                ProxyConfig::disabled()
            });
            match p.credentials() {
                Some((user, password)) => config.with_basic_auth(user, password),
                None => config,
            }
        }
        None => ProxyConfig::disabled(),
    };
    let context = tls::TlsContext::builder()
        .with_trust_store(net.trust.sdk_trust_store())
        .build()
        .unwrap_or_default();
    http_client_fn(move |settings, components| {
        let mut builder = aws_smithy_http_client::Connector::builder()
            .connector_settings(settings.clone())
            .proxy_config(proxy.clone());
        builder.set_sleep_impl(components.sleep_impl());
        SharedHttpConnector::new(
            builder
                .tls_provider(tls::Provider::Rustls(
                    tls::rustls_provider::CryptoMode::AwsLc,
                ))
                .tls_context(context.clone())
                .build(),
        )
    })
}

/// The SDK's timeouts: connect, read, and one attempt as a whole.
pub fn sdk_timeouts() -> aws_config::timeout::TimeoutConfig {
    let net = current();
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(net.connect_timeout)
        .read_timeout(net.read_timeout)
        .operation_attempt_timeout(net.connect_timeout + net.read_timeout)
        .build()
}

static WAITING: AtomicUsize = AtomicUsize::new(0);

/// A network wait in progress: while one lives, the first Ctrl-C ends the process at
/// once (exit 130), as nothing is left to clean up and nothing else would notice it.
#[must_use]
pub struct Waiting(());

impl Waiting {
    pub fn start() -> Self {
        WAITING.fetch_add(1, Ordering::SeqCst);
        Self(())
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Whether a network wait is in progress.
pub fn waiting() -> bool {
    WAITING.load(Ordering::SeqCst) > 0
}
