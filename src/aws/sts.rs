//! STS `AssumeRoleWithSAML`: trade the assertion for temporary credentials of one role.
//! The call is unsigned, so it works with no AWS credentials anywhere; the region
//! comes from the settings, then the usual AWS sources, then `us-east-1`;
//! `AWS_ENDPOINT_URL_STS` is honoured by the SDK.

use aws_config::BehaviorVersion;
use aws_config::meta::region::RegionProviderChain;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::types::PolicyDescriptorType;
use saml_login_capture::Secret;
use time::OffsetDateTime;

use crate::aws::assertion::SamlResponse;
use crate::aws::credentials::Credentials;
use crate::aws::role::AwsRole;
use crate::aws::sts_retry::with_retries;
use crate::error::{Error, Result};

/// The duration STS always allows: the retry after a MaxSessionDuration refusal.
pub const SAFE_DURATION: i32 = 3600;

/// What to ask STS for.
#[derive(Clone, Debug)]
pub struct AssumeRequest<'a> {
    pub role: &'a AwsRole,
    pub saml_response: &'a SamlResponse,
    pub duration: i32,
    pub policy_arns: &'a [String],
    pub inline_policy: Option<&'a str>,
    /// The region asked for (setting, or the sign-in endpoint that got the assertion).
    pub region: Option<&'a str>,
    /// The region when neither that nor the AWS sources name one (the partition's).
    pub fallback_region: &'a str,
}

/// Run one STS exchange to its end on a runtime of its own (the SDK is async; the rest
/// of saml-login is not).
/// While it runs, the first Ctrl-C ends the process at once (`crate::net::Waiting`).
fn run<T>(exchange: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let _waiting = crate::net::Waiting::start();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::StsTransport(format!("cannot start the async runtime: {e}")))?
        .block_on(exchange)
}

/// Assume the role; when STS says the duration exceeds the role's maximum, retry
/// once at 3600 s and say so on stderr.
pub fn assume(request: &AssumeRequest<'_>) -> Result<Credentials> {
    run(async {
        let client = client(request.region, request.fallback_region, None).await;
        match with_retries(|| call(&client, request, request.duration)).await {
            Err(Error::Sts { code, message, .. })
                if request.duration > SAFE_DURATION && is_max_duration(&code, &message) =>
            {
                crate::output::notice!(
                    "role {} allows no session of {} s; retrying with {SAFE_DURATION} s",
                    request.role.name(),
                    request.duration
                );
                with_retries(|| call(&client, request, SAFE_DURATION)).await
            }
            other => other,
        }
    })
}

/// An STS client (unsigned unless `keys` are given) and the endpoint it calls.
async fn client(
    region: Option<&str>,
    fallback: &str,
    keys: Option<aws_sdk_sts::config::Credentials>,
) -> (aws_sdk_sts::Client, String) {
    let chain =
        RegionProviderChain::first_try(region.map(|r| aws_config::Region::new(r.to_owned())))
            .or_default_provider()
            .or_else(aws_config::Region::new(fallback.to_owned()));
    // One attempt: a reply that is not STS's (an HTTP 500 page, a proxy's error) is
    // said at once with its status, instead of after seconds of silent retries.
    // Retries are ours (`sts_retry`): said on stderr, and never for a reply that is not
    // STS's (an HTTP 500 page, a proxy's error), which is said at once with its status.
    let loader = aws_config::defaults(BehaviorVersion::latest())
        .region(chain)
        .retry_config(aws_config::retry::RetryConfig::disabled())
        .timeout_config(crate::net::sdk_timeouts());
    let loader = match keys {
        Some(keys) => loader.credentials_provider(keys),
        None => loader.no_credentials(),
    };
    let config = loader.load().await;
    // The endpoint, for the proxy decision and messages: the configured one
    // (`AWS_ENDPOINT_URL_STS`, `AWS_ENDPOINT_URL`, resolved with the network settings), else the one the SDK's own resolver
    // gives for the region, FIPS and dual-stack settings (GovCloud's FIPS endpoint is
    // `sts.us-gov-west-1.amazonaws.com`, dual-stack ones are under `api.aws`).
    let configured = crate::net::current()
        .sts_endpoint
        .clone()
        .or_else(|| config.endpoint_url().map(str::to_owned));
    let endpoint = match configured {
        Some(url) => url,
        None => sdk_endpoint(&config).await,
    };
    // The HTTP client for that endpoint: its proxy (or none), the OS roots plus the
    // added CAs (`crate::net`).
    let mut sts_config = aws_sdk_sts::config::Builder::from(&config);
    if let Ok(url) = url::Url::parse(&endpoint) {
        sts_config = sts_config.http_client(crate::net::sdk_http_client(&url));
    }
    let sts_config = sts_config.build();
    (aws_sdk_sts::Client::from_conf(sts_config), endpoint)
}

/// The endpoint the SDK's resolver gives for `config`'s region, `use_fips_endpoint` and
/// `use_dualstack_endpoint` (the same resolver the client runs for each call).
async fn sdk_endpoint(config: &aws_config::SdkConfig) -> String {
    use aws_sdk_sts::config::endpoint::{DefaultResolver, Params, ResolveEndpoint};
    let region = config
        .region()
        .map_or("us-east-1", |r| r.as_ref())
        .to_owned();
    let fallback = format!("https://sts.{region}.amazonaws.com");
    let Ok(params) = Params::builder()
        .region(region)
        .use_fips(config.use_fips().unwrap_or(false))
        .use_dual_stack(config.use_dual_stack().unwrap_or(false))
        .build()
    else {
        return fallback;
    };
    match DefaultResolver::new().resolve_endpoint(&params).await {
        Ok(endpoint) => endpoint.url().trim_end_matches('/').to_owned(),
        Err(e) => {
            tracing::debug!(error = %e, "the SDK resolves no STS endpoint");
            fallback
        }
    }
}

/// The STS endpoint calls for `region` go to (as the SDK resolves it), for `doctor`.
pub fn endpoint(region: Option<&str>, fallback: &str) -> Result<String> {
    run(async { Ok(client(region, fallback, None).await.1) })
}

/// Long-term keys to temporary credentials (`GetFederationToken`), for the console's
/// federation endpoint, which takes only temporary credentials. The session may do
/// what the user may do (AdministratorAccess intersected with the user's own rights).
pub fn federation_token(
    access_key_id: &str,
    secret_access_key: &str,
    region: &str,
) -> Result<Credentials> {
    run(async {
        let keys = aws_sdk_sts::config::Credentials::new(
            access_key_id,
            secret_access_key,
            None,
            None,
            "saml-login profile",
        );
        let (client, endpoint) = client(Some(region), region, Some(keys)).await;
        let output = client
            .get_federation_token()
            .name("saml-login")
            .duration_seconds(SAFE_DURATION * 12)
            .policy_arns(
                PolicyDescriptorType::builder()
                    .arn("arn:aws:iam::aws:policy/AdministratorAccess")
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sts_error(e, &endpoint))?;
        to_credentials(output.credentials())
    })
}

/// One hop of a profile chain: `AssumeRole` with the source profile's credentials.
#[derive(Clone, Debug)]
pub struct HopRequest<'a> {
    pub source: &'a Credentials,
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub external_id: Option<&'a str>,
    pub duration: i32,
    pub region: &'a str,
}

/// `AssumeRole` signed with the source credentials.
pub fn assume_role(hop: &HopRequest<'_>) -> Result<Credentials> {
    run(async {
        let keys = aws_sdk_sts::config::Credentials::new(
            &hop.source.access_key_id,
            hop.source.secret_access_key.expose(),
            Some(hop.source.session_token.expose().to_owned()).filter(|t| !t.is_empty()),
            None,
            "saml-login source profile",
        );
        let (client, endpoint) = client(Some(hop.region), hop.region, Some(keys)).await;
        tracing::debug!(
            role = hop.role_arn,
            duration = hop.duration,
            "calling STS AssumeRole"
        );
        let output = client
            .assume_role()
            .role_arn(hop.role_arn)
            .role_session_name(hop.session_name)
            .set_external_id(hop.external_id.map(str::to_owned))
            .duration_seconds(hop.duration)
            .send()
            .await
            .map_err(|e| sts_error(e, &endpoint))?;
        to_credentials(output.credentials())
    })
}

fn to_credentials(c: Option<&aws_sdk_sts::types::Credentials>) -> Result<Credentials> {
    let c = c.ok_or_else(|| Error::StsTransport("the reply holds no credentials".into()))?;
    let expiration = OffsetDateTime::from_unix_timestamp(c.expiration().secs())
        .map_err(|_| Error::StsTransport("the reply's expiration is out of range".into()))?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_owned(),
        secret_access_key: Secret::new(c.secret_access_key()),
        session_token: Secret::new(c.session_token()),
        expiration,
    })
}

async fn call(
    (client, endpoint): &(aws_sdk_sts::Client, String),
    request: &AssumeRequest<'_>,
    duration: i32,
) -> Result<Credentials> {
    tracing::debug!(
        role = %request.role,
        duration,
        region = %client.config().region().map_or("none", |r| r.as_ref()),
        policies = request.policy_arns.len(),
        "calling STS AssumeRoleWithSAML"
    );
    let mut call = client
        .assume_role_with_saml()
        .role_arn(&request.role.role_arn)
        .principal_arn(&request.role.provider_arn)
        .saml_assertion(request.saml_response.expose())
        .duration_seconds(duration);
    for arn in request.policy_arns {
        call = call.policy_arns(PolicyDescriptorType::builder().arn(arn).build());
    }
    if let Some(policy) = request.inline_policy {
        call = call.policy(policy);
    }
    let output = call.send().await.map_err(|e| sts_error(e, endpoint))?;
    to_credentials(output.credentials())
}

/// `500 Internal Server Error`.
fn status_line(code: u16) -> String {
    let reason = match code {
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    };
    format!("{code} {reason}").trim_end().to_owned()
}

/// The endpoint and, when one is used, its proxy (password redacted).
fn endpoint_shown(endpoint: &str) -> String {
    match url::Url::parse(endpoint)
        .ok()
        .and_then(|u| crate::net::current().proxies.proxy_for(&u).cloned())
    {
        Some(proxy) => format!("{endpoint} through proxy {proxy}"),
        None => endpoint.to_owned(),
    }
}

/// The deepest cause of an error: "Connection refused" rather than "io error".
fn innermost(e: &(dyn std::error::Error + 'static)) -> String {
    let mut e = e;
    while let Some(source) = e.source() {
        e = source;
    }
    e.to_string()
}

fn is_max_duration(code: &str, message: &str) -> bool {
    code == "ValidationError" && message.contains("MaxSessionDuration")
}

/// An SDK error as saml-login says it: STS's own refusals (exit 5) with a hint; a reply
/// that is not STS's, or no reply, as a failure to reach STS at `endpoint` (exit 1).
fn sts_error<E>(e: SdkError<E, aws_sdk_sts::config::http::HttpResponse>, endpoint: &str) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &e {
        // No STS error code: the body was not STS's error XML.
        SdkError::ServiceError(service) if service.err().code().is_none() => Error::StsUnusable {
            endpoint: endpoint.to_owned(),
            status: status_line(service.raw().status().as_u16()),
        },
        SdkError::ServiceError(service) => {
            let err = service.err();
            let code = err.code().unwrap_or("error").to_owned();
            let message = err.message().unwrap_or("no message").to_owned();
            let hint = match code.as_str() {
                "ExpiredTokenException" => {
                    Some("the SAML assertion has expired: log in again".to_owned())
                }
                "AccessDenied" => Some(
                    "the role's trust policy does not let this SAML provider assume it".to_owned(),
                ),
                "InvalidIdentityToken" | "IDPRejectedClaim" => {
                    Some("check the SAML provider in IAM and the IdP's role attribute".to_owned())
                }
                _ => None,
            };
            Error::Sts {
                code,
                message,
                hint,
            }
        }
        SdkError::DispatchFailure(d) => {
            let cause = d
                .as_connector_error()
                .map_or_else(|| "connection failed".to_owned(), |c| innermost(c));
            let url = url::Url::parse(endpoint).ok();
            let proxy = url
                .as_ref()
                .and_then(|u| crate::net::current().proxies.proxy_for(u));
            match url {
                Some(url) if crate::net::tls_check::is_certificate_error(&cause) => {
                    Error::StsTransport(crate::net::tls_check::certificate_failure(
                        crate::net::current(),
                        &url,
                    ))
                }
                _ if d.is_timeout() => Error::StsTransport(format!(
                    "STS at {} did not answer within {} s",
                    endpoint_shown(endpoint),
                    crate::net::current().read_timeout.as_secs()
                )),
                Some(_) if proxy.is_some() && cause.contains("proxy authorization required") => {
                    let proxy = proxy.map(ToString::to_string).unwrap_or_default();
                    Error::StsTransport(format!(
                        "proxy {proxy} asks for proxy authentication (407 Proxy Authentication Required) to reach {endpoint}: give user:password in the proxy URL"
                    ))
                }
                _ => Error::StsTransport(format!(
                    "cannot reach STS at {} ({})",
                    endpoint_shown(endpoint),
                    crate::net::redact_proxy_secrets(&cause)
                )),
            }
        }
        SdkError::TimeoutError(_) => Error::StsTransport(format!(
            "STS at {} did not answer within {} s",
            endpoint_shown(endpoint),
            (crate::net::current().connect_timeout + crate::net::current().read_timeout).as_secs()
        )),
        SdkError::ResponseError(r) => Error::StsUnusable {
            endpoint: endpoint.to_owned(),
            status: status_line(r.raw().status().as_u16()),
        },
        _ => Error::StsTransport(e.to_string()),
    }
}
