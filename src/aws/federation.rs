//! The AWS console: a sign-in URL from a profile's credentials through AWS's
//! federation endpoint (`getSigninToken`, then `login`), partition- and region-aware.
//! Long-term keys are first exchanged with STS `GetFederationToken`, as the original did.

use serde::Deserialize;
use url::Url;

use crate::aws::credentials::Credentials;
use crate::aws::partition::Partition;
use crate::error::{Error, Result};

/// The environment variable pointing the federation endpoint elsewhere (tests).
pub(crate) const FEDERATION_URL_ENV: &str = "SAML_LOGIN_FEDERATION_URL";
/// The environment variable pointing the console's pages elsewhere (tests): the base
/// URL deep links are made on instead of the partition's console host.
pub(crate) const CONSOLE_URL_ENV: &str = "SAML_LOGIN_CONSOLE_URL";
const ISSUER: &str = "saml-login";

/// Where the console opens: `service` (`s3`, `ec2`), or `destination` (a full URL on
/// the console's host, or a service name, as `--destination s3` always meant), in
/// `region`, on the partition's console host (or `console_base`, the test override).
/// A value that is neither gives one line naming the flag (exit 2).
pub(crate) fn deep_link(
    service: Option<&str>,
    destination: Option<&str>,
    region: &str,
    console_base: Option<&str>,
) -> Result<Url> {
    check_region(region)?;
    let base = match console_base {
        Some(b) => Url::parse(b).map_err(|e| Error::BadValue {
            field: "console URL".into(),
            origin: CONSOLE_URL_ENV.into(),
            message: e.to_string(),
        })?,
        None => Url::parse(&format!(
            "https://{}/",
            Partition::of_region(region).console_host()
        ))
        .expect("a valid host"),
    };
    let host = base.host_str().unwrap_or_default().to_owned();
    let service_url = |flag: &str, name: &str| -> Result<Url> {
        if !is_service_name(name) {
            return Err(Error::Usage(format!(
                "{flag} {name:?} is not a console service name (letters, digits and -, such as s3 or ec2)"
            )));
        }
        let mut url = base.join(&format!("{name}/home")).expect("a valid path");
        url.query_pairs_mut().append_pair("region", region);
        Ok(url)
    };
    match (service, destination) {
        (Some(_), Some(_)) => Err(Error::Usage(
            "--service and --destination both say where the console opens: give one".into(),
        )),
        (Some(s), None) => service_url("--service", s),
        (None, Some(d)) if d.contains("://") => {
            let url = Url::parse(d)
                .map_err(|e| Error::Usage(format!("--destination {d:?} is not a URL: {e}")))?;
            let on_console = url.host_str().is_some_and(|h| {
                h.eq_ignore_ascii_case(&host)
                    || h.to_ascii_lowercase().ends_with(&format!(".{host}"))
            });
            if url.scheme() != base.scheme() || !on_console {
                return Err(Error::Usage(format!(
                    "--destination {d:?} is not a page of the console of region {region} ({}://{host})",
                    base.scheme()
                )));
            }
            Ok(url)
        }
        (None, Some(d)) => service_url("--destination", d),
        (None, None) => service_url("--service", "console"),
    }
}

/// A console service's path name: `s3`, `ec2`, `cloudwatch`, `iam` ...
fn is_service_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// An AWS region's name: `eu-west-1`, `us-gov-west-1`, `cn-north-1`, `ap-southeast-2`.
pub(crate) fn check_region(region: &str) -> Result<()> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "--region {region:?} is not an AWS region (such as eu-west-1, us-gov-west-1, cn-north-1)"
        )))
    }
}

/// The console's sign-out for the federation endpoint's partition: the endpoint's host,
/// `/oauth?Action=logout`, back to the console's home page afterwards.
pub(crate) fn logout_url(endpoint: &Url, home: &Url) -> Url {
    let mut url = endpoint.join("/oauth").expect("a valid path");
    url.query_pairs_mut()
        .append_pair("Action", "logout")
        .append_pair("redirect_uri", home.as_str());
    url
}

/// The variables the console flow reads, resolved once with the rest: the federation
/// endpoint's override and the AWS region variables.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConsoleEnv {
    /// `SAML_LOGIN_FEDERATION_URL`.
    pub federation_url: Option<String>,
    /// `SAML_LOGIN_CONSOLE_URL`.
    pub console_url: Option<String>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
}

impl ConsoleEnv {
    pub(crate) fn resolve(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let env = |k: &str| env(k).filter(|v| !v.is_empty());
        Self {
            federation_url: env(FEDERATION_URL_ENV),
            console_url: env(CONSOLE_URL_ENV),
            region: env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")),
        }
    }
}

/// The federation endpoint for `region`'s partition, or the override.
pub(crate) fn federation_endpoint(region: &str, over: Option<&str>) -> Result<Url> {
    let text = over.map_or_else(
        || Partition::of_region(region).federation_url(),
        str::to_owned,
    );
    Url::parse(&text).map_err(|e| Error::BadValue {
        field: "federation endpoint".into(),
        origin: FEDERATION_URL_ENV.into(),
        message: e.to_string(),
    })
}

/// The `getSigninToken` request for temporary credentials. `SessionDuration` is sent
/// only for assumed-role credentials (federation tokens carry their own).
pub(crate) fn signin_token_url(
    endpoint: &Url,
    credentials: &Credentials,
    session_duration: Option<u32>,
) -> Url {
    let session = serde_json::json!({
        "sessionId": credentials.access_key_id,
        "sessionKey": credentials.secret_access_key.expose(),
        "sessionToken": credentials.session_token.expose(),
    });
    let mut url = endpoint.clone();
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("Action", "getSigninToken");
        if let Some(d) = session_duration {
            q.append_pair("SessionDuration", &d.to_string());
        }
        q.append_pair("Session", &session.to_string());
    }
    url
}

/// The final console URL.
pub(crate) fn login_url(endpoint: &Url, destination: &Url, signin_token: &str) -> Url {
    let mut url = endpoint.clone();
    url.query_pairs_mut()
        .append_pair("Action", "login")
        .append_pair("Issuer", ISSUER)
        .append_pair("Destination", destination.as_str())
        .append_pair("SigninToken", signin_token);
    url
}

#[derive(Deserialize)]
struct SigninToken {
    #[serde(rename = "SigninToken")]
    signin_token: String,
}

/// Ask the federation endpoint for a sign-in token.
pub(crate) fn fetch_signin_token(request: &Url) -> Result<String> {
    let host = request.host_str().unwrap_or_default().to_owned();
    let fail = |message: String| Error::BadValue {
        field: "AWS federation".into(),
        origin: host.clone(),
        message,
    };
    let _waiting = crate::net::Waiting::start();
    let mut reply = crate::net::agent_for(request)
        .get(request.as_str())
        .call()
        .map_err(|e| {
            fail(format!(
                "getSigninToken failed: {}",
                crate::net::explain_ureq_error(request, &e)
            ))
        })?;
    let token: SigninToken = reply.body_mut().read_json().map_err(|e| {
        fail(format!(
            "getSigninToken reply is not the expected JSON: {e}"
        ))
    })?;
    Ok(token.signin_token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_per_partition_and_region() {
        let link = |s: Option<&str>, d: Option<&str>, r: &str| {
            deep_link(s, d, r, None).map(|u| u.to_string())
        };
        assert_eq!(
            link(None, None, "eu-west-1").unwrap(),
            "https://console.aws.amazon.com/console/home?region=eu-west-1"
        );
        assert_eq!(
            link(Some("s3"), None, "us-gov-west-1").unwrap(),
            "https://console.amazonaws-us-gov.com/s3/home?region=us-gov-west-1"
        );
        assert_eq!(
            link(None, Some("ec2"), "cn-north-1").unwrap(),
            "https://console.amazonaws.cn/ec2/home?region=cn-north-1"
        );
        assert_eq!(
            link(
                None,
                Some("https://console.aws.amazon.com/iam/home"),
                "eu-west-1"
            )
            .unwrap(),
            "https://console.aws.amazon.com/iam/home"
        );
        assert_eq!(
            link(
                None,
                Some("https://eu-west-1.console.aws.amazon.com/s3/buckets"),
                "eu-west-1"
            )
            .unwrap(),
            "https://eu-west-1.console.aws.amazon.com/s3/buckets"
        );
        for (s, d, r) in [
            (None, Some("not a service!"), "eu-west-1"),
            (Some("S3"), None, "eu-west-1"),
            (Some("s3"), Some("ec2"), "eu-west-1"),
            (None, Some("https://evil.example/console"), "eu-west-1"),
            (None, Some("http://console.aws.amazon.com/s3"), "eu-west-1"),
            // A page of another partition's console.
            (
                None,
                Some("https://console.aws.amazon.com/s3"),
                "cn-north-1",
            ),
            (Some("s3"), None, "mars-1"),
            (Some("s3"), None, "EU-WEST-1"),
            (Some("s3"), None, "eu-west"),
        ] {
            let e = link(s, d, r).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{s:?} {d:?} {r}: {e}");
        }
        assert_eq!(
            deep_link(
                Some("s3"),
                None,
                "eu-west-1",
                Some("http://console.aws.test:9/")
            )
            .unwrap()
            .as_str(),
            "http://console.aws.test:9/s3/home?region=eu-west-1"
        );
    }

    #[test]
    fn logout_on_the_endpoint_host() {
        let endpoint = Url::parse("https://signin.amazonaws-us-gov.com/federation").unwrap();
        let home = deep_link(None, None, "us-gov-east-1", None).unwrap();
        assert_eq!(
            logout_url(&endpoint, &home).as_str(),
            "https://signin.amazonaws-us-gov.com/oauth?Action=logout&redirect_uri=https%3A%2F%2Fconsole.amazonaws-us-gov.com%2Fconsole%2Fhome%3Fregion%3Dus-gov-east-1"
        );
    }

    #[test]
    fn federation_endpoints() {
        let none = None;
        assert_eq!(
            federation_endpoint("us-gov-east-1", none).unwrap().as_str(),
            "https://signin.amazonaws-us-gov.com/federation"
        );
        assert_eq!(
            federation_endpoint("cn-northwest-1", none)
                .unwrap()
                .as_str(),
            "https://signin.amazonaws.cn/federation"
        );
        assert_eq!(
            federation_endpoint("eu-central-1", none).unwrap().as_str(),
            "https://signin.aws.amazon.com/federation"
        );
        let over = Some("http://127.0.0.1:9/f");
        assert_eq!(
            federation_endpoint("eu-central-1", over).unwrap().as_str(),
            "http://127.0.0.1:9/f"
        );
    }
}
