//! `saml-login doctor`: the network path to every endpoint the section uses (the IdP,
//! STS, the console's federation endpoint): the proxy chosen, whether the TLS
//! handshake verifies against the system's CAs plus the added ones, and the issuer of
//! the certificate presented. What a user behind a proxy runs first. No request is
//! sent, so no secret can leave.

use std::fmt::Write as _;

use url::Url;

use crate::aws::{federation, partition::Partition, sts};
use crate::error::{Error, Result};
use crate::login::pipeline::Context;
use crate::net::{self, Route, proxy::Why, tls_check};
use crate::output::write_stdout;

/// Check each endpoint; `Err` (exit 1) naming those that do not verify.
pub(crate) fn doctor(cx: &Context) -> Result<()> {
    let network = net::current();
    let region = cx
        .job
        .settings
        .region
        .clone()
        .or_else(|| cx.job.console_env.region.clone())
        .unwrap_or_else(|| Partition::Aws.default_region().to_owned());
    let sts_endpoint = sts::endpoint(Some(&region), &region)?;
    let federation =
        federation::federation_endpoint(&region, cx.job.console_env.federation_url.as_deref())?;
    let mut endpoints: Vec<(&str, Url)> = vec![("IdP", cx.job.settings.start_url())];
    if let Ok(url) = Url::parse(&sts_endpoint) {
        endpoints.push(("STS", url));
    }
    endpoints.push(("federation", federation));

    let mut report = String::new();
    let proxies = network.proxies.listed();
    if proxies.is_empty() {
        report.push_str("proxies: none set\n");
    }
    for p in proxies {
        let _ = writeln!(report, "proxy: {p} (from {})", p.origin);
    }
    if let Some(no_proxy) = &network.proxies.no_proxy_text {
        let _ = writeln!(report, "no proxy for: {no_proxy}");
    }
    if network.trust.added.is_empty() {
        report.push_str("trust: the system's CAs\n");
    }
    for b in &network.trust.added {
        let _ = writeln!(
            report,
            "trust: the system's CAs plus {} certificate(s) from {}={}",
            b.count,
            b.origin,
            b.path.display()
        );
    }
    let mut failed = Vec::new();
    for (name, url) in &endpoints {
        let route = match network.proxies.route(url) {
            Route::Proxy(p) => format!("through proxy {p}"),
            Route::Direct(Why::Loopback) => "direct (loopback)".to_owned(),
            Route::Direct(Why::NoProxy) => "direct (NO_PROXY)".to_owned(),
            Route::Direct(Why::NoProxySet) => "direct".to_owned(),
        };
        let tls = if url.scheme() == "https" {
            let _waiting = net::Waiting::start();
            match tls_check::check(network, url) {
                Ok(p) => {
                    let issuer = p.issuer.unwrap_or_else(|| "unknown".into());
                    match p.verified {
                        Ok(()) => format!("TLS verified, issuer \"{issuer}\""),
                        Err(e) => {
                            failed.push(*name);
                            format!("TLS NOT verified ({e}), issuer \"{issuer}\"")
                        }
                    }
                }
                Err(e) => {
                    failed.push(*name);
                    format!("FAILED: {}", net::redact_proxy_secrets(&e))
                }
            }
        } else {
            "plain HTTP (no TLS)".to_owned()
        };
        let _ = writeln!(
            report,
            "{name}: {} {route}: {tls}",
            net::redacted_origin(url)
        );
    }
    write_stdout(&report)?;
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::NetworkCheck(format!(
            "{} did not verify: if your network inspects TLS, add its CA with AWS_CA_BUNDLE=/path/to/ca.pem (or --ca-bundle)",
            failed.join(", ")
        )))
    }
}
