//! Before the wait for a browser: does the IdP answer the login's start URL? A wrong
//! `idp_url` or a stopped IdP would otherwise show only "Opening ..." and then the whole
//! `timeout`. One `HEAD` request (no redirect followed, 5 s at most, through the
//! user's proxy and CAs): a 404 or 410 (an unknown client id, a wrong path) ends the
//! login at once; no answer at all (connection refused, no such host) is said at once,
//! and the wait goes on, since the browser may reach the IdP another way (a proxy
//! configuration only the browser has), except a refused connection to an IdP on this
//! machine (loopback), which no browser reaches either: that ends the login at once.
//!
//! Only Auth0's start URL (`{idp_url}/samlp/{client_id}`) is checked, without its query
//! (our RelayState stays with the browser): there a request starts nothing. Another
//! IdP's start URL (`login_url`) may start a session or an SSO exchange when it is
//! fetched (SimpleSAMLphp's did: the check made a second IdP session and the remembered
//! one went unused), and a check may never change what the login does.

use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};

/// How long the check may take.
const LIMIT: Duration = Duration::from_secs(5);

/// Check that the IdP answers `start_url` (see the module).
pub(crate) fn check_start_url(start_url: &Url) -> Result<()> {
    if !start_url.path().starts_with("/samlp/") {
        return Ok(());
    }
    let shown = shown(start_url);
    let agent: ureq::Agent = crate::net::agent_config_for(start_url)
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(LIMIT))
        .build()
        .into();
    match agent.head(shown.as_str()).call() {
        Ok(response) => {
            let status = response.status();
            tracing::debug!(url = %shown, status = status.as_u16(), "the IdP answered the start URL");
            if matches!(status.as_u16(), 404 | 410) {
                return Err(Error::IdpStartUrl {
                    url: shown,
                    status: format!(
                        "{} {}",
                        status.as_u16(),
                        status.canonical_reason().unwrap_or_default()
                    ),
                });
            }
        }
        Err(e) if refused(&e) && on_this_machine(start_url) => {
            // No proxy and no other way: a browser is refused just the same.
            return Err(Error::IdpNotListening {
                url: shown,
                why: crate::net::explain_ureq_error(start_url, &e),
            });
        }
        Err(e) => {
            let why = crate::net::explain_ureq_error(start_url, &e);
            crate::output::warning!(
                "the IdP does not answer at {shown}: {why}; check idp_url (or login_url) and the network; waiting for the browser anyway (Ctrl-C stops)"
            );
        }
    }
    Ok(())
}

/// Whether the connection was refused (nothing listens there).
fn refused(e: &ureq::Error) -> bool {
    match e {
        ureq::Error::Io(io) => io.kind() == std::io::ErrorKind::ConnectionRefused,
        ureq::Error::ConnectionFailed => true,
        _ => false,
    }
}

/// Whether `url`'s host is this machine (a loopback address or `localhost`), which
/// browsers reach directly, never through a proxy.
fn on_this_machine(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name.to_ascii_lowercase().ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The URL without its query (our RelayState) or fragment, for messages.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.to_string()
}
