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
const ISSUER: &str = "saml-login";

/// Where the console opens: a full URL, or a service name (`s3`, `ec2`) in `region`.
pub(crate) fn destination(dest: Option<&str>, region: &str) -> Result<Url> {
    let host = Partition::of_region(region).console_host();
    let text = match dest {
        Some(d) if d.starts_with("https://") => d.to_owned(),
        Some(d) if d.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') && !d.is_empty() => {
            format!("https://{host}/{d}/home?region={region}")
        }
        Some(d) => {
            return Err(Error::Usage(format!(
                "--destination {d:?} is neither an https URL nor a service name"
            )));
        }
        None => format!("https://{host}/console/home?region={region}"),
    };
    Url::parse(&text).map_err(|e| Error::Usage(format!("--destination {text:?}: {e}")))
}

/// The variables the console flow reads, resolved once with the rest: the federation
/// endpoint's override and the AWS region variables.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConsoleEnv {
    /// `SAML_LOGIN_FEDERATION_URL`.
    pub federation_url: Option<String>,
    /// `AWS_REGION`, else `AWS_DEFAULT_REGION`.
    pub region: Option<String>,
}

impl ConsoleEnv {
    pub(crate) fn resolve(env: &dyn Fn(&str) -> Option<String>) -> Self {
        let env = |k: &str| env(k).filter(|v| !v.is_empty());
        Self {
            federation_url: env(FEDERATION_URL_ENV),
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
        assert_eq!(
            destination(None, "eu-west-1").unwrap().as_str(),
            "https://console.aws.amazon.com/console/home?region=eu-west-1"
        );
        assert_eq!(
            destination(Some("s3"), "us-gov-west-1").unwrap().as_str(),
            "https://console.amazonaws-us-gov.com/s3/home?region=us-gov-west-1"
        );
        assert_eq!(
            destination(Some("ec2"), "cn-north-1").unwrap().as_str(),
            "https://console.amazonaws.cn/ec2/home?region=cn-north-1"
        );
        assert_eq!(
            destination(Some("https://console.aws.amazon.com/iam/home"), "eu-west-1")
                .unwrap()
                .as_str(),
            "https://console.aws.amazon.com/iam/home"
        );
        assert!(destination(Some("not a service!"), "eu-west-1").is_err());
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
