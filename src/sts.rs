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

use crate::assertion::SamlResponse;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::role::AwsRole;

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
    pub region: Option<&'a str>,
}

/// Assume the role; when STS says the duration exceeds the role's maximum, retry
/// once at 3600 s and say so on stderr.
pub fn assume(request: &AssumeRequest<'_>) -> Result<Credentials> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::StsTransport(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        let client = client(request.region).await;
        match call(&client, request, request.duration).await {
            Err(Error::Sts { code, message, .. })
                if request.duration > SAFE_DURATION && is_max_duration(&code, &message) =>
            {
                eprintln!(
                    "saml-login: role {} allows no session of {} s; retrying with {SAFE_DURATION} s",
                    request.role.name(),
                    request.duration
                );
                call(&client, request, SAFE_DURATION).await
            }
            other => other,
        }
    })
}

async fn client(region: Option<&str>) -> aws_sdk_sts::Client {
    let chain =
        RegionProviderChain::first_try(region.map(|r| aws_config::Region::new(r.to_owned())))
            .or_default_provider()
            .or_else("us-east-1");
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(chain)
        .no_credentials()
        .load()
        .await;
    aws_sdk_sts::Client::new(&config)
}

async fn call(
    client: &aws_sdk_sts::Client,
    request: &AssumeRequest<'_>,
    duration: i32,
) -> Result<Credentials> {
    tracing::debug!(
        role = %request.role,
        duration,
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
    let output = call.send().await.map_err(sts_error)?;
    let c = output
        .credentials()
        .ok_or_else(|| Error::StsTransport("the reply holds no credentials".into()))?;
    let expiration = OffsetDateTime::from_unix_timestamp(c.expiration().secs())
        .map_err(|_| Error::StsTransport("the reply's expiration is out of range".into()))?;
    Ok(Credentials {
        access_key_id: c.access_key_id().to_owned(),
        secret_access_key: Secret::new(c.secret_access_key()),
        session_token: Secret::new(c.session_token()),
        expiration,
    })
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

fn sts_error<E>(e: SdkError<E, aws_sdk_sts::config::http::HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &e {
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
        SdkError::DispatchFailure(d) => Error::StsTransport(format!(
            "cannot reach STS ({})",
            d.as_connector_error()
                .map_or_else(|| "connection failed".to_owned(), |c| innermost(c))
        )),
        SdkError::TimeoutError(_) => Error::StsTransport("STS did not answer in time".into()),
        SdkError::ResponseError(r) => Error::StsTransport(format!(
            "STS sent a reply that is not STS XML (HTTP {})",
            r.raw().status().as_u16()
        )),
        _ => Error::StsTransport(e.to_string()),
    }
}
