//! Retries of STS calls, as the SDKs do them but said: `Throttling`,
//! `RequestLimitExceeded`, STS's 5xx errors and reset connections are tried again with
//! exponential backoff and jitter, at most [`ATTEMPTS`] times in all (under 30 s), each
//! retry one line on stderr. A reply that is not STS's (an HTML 500 page, a proxy's
//! error page) is said at once; a refusal that cannot succeed later (an invalid or
//! expired assertion, access denied) is never retried.

use std::time::Duration;

use crate::error::{Error, Result};

/// Attempts in all, the first included.
pub(crate) const ATTEMPTS: u32 = 3;
/// The first retry's delay before jitter; doubled for each further one.
const BASE: Duration = Duration::from_millis(500);
/// No single wait longer than this.
const CAP: Duration = Duration::from_secs(8);

/// Why `error` may succeed when tried again, as the retry line says it; `None` when it
/// cannot.
pub(crate) fn retry_reason(error: &Error) -> Option<&'static str> {
    match error {
        Error::Sts { code, .. } => match code.as_str() {
            "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "SlowDown" => Some("STS is throttling"),
            "ServiceUnavailable" | "InternalFailure" | "InternalError" | "InternalServerError" => {
                Some("STS is unavailable")
            }
            _ => None,
        },
        Error::StsTransport(message) => {
            let m = message.to_ascii_lowercase();
            (m.contains("connection reset")
                || m.contains("connection closed")
                || m.contains("broken pipe")
                || m.contains("incomplete message"))
            .then_some("the connection to STS was reset")
        }
        _ => None,
    }
}

/// The wait before retry number `retry` (1 for the first): `BASE * 2^(retry-1)`, capped,
/// with jitter taking it down to half at random.
pub(crate) fn backoff(retry: u32) -> Duration {
    let full = BASE
        .saturating_mul(1 << retry.saturating_sub(1).min(10))
        .min(CAP);
    let mut byte = [0u8; 1];
    let jitter = if getrandom::fill(&mut byte).is_ok() {
        f64::from(byte[0]) / 255.0
    } else {
        0.5
    };
    full.mul_f64(0.5 + jitter / 2.0)
}

/// Run `call` until it succeeds, fails for good, or [`ATTEMPTS`] are used.
pub(crate) async fn with_retries<T, F, Fut>(mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T>>,
{
    let mut attempt = 1;
    loop {
        match call().await {
            Err(e) if attempt < ATTEMPTS => {
                let Some(reason) = retry_reason(&e) else {
                    return Err(e);
                };
                let wait = backoff(attempt);
                attempt += 1;
                crate::output::notice!(
                    "{reason}; retrying in {:.1} s ({attempt} of {ATTEMPTS})",
                    wait.as_secs_f64()
                );
                tracing::debug!(error = %e, "retrying STS");
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts(code: &str) -> Error {
        Error::Sts {
            code: code.into(),
            message: "m".into(),
            hint: None,
        }
    }

    #[test]
    fn only_what_can_succeed_later_is_retried() {
        assert_eq!(retry_reason(&sts("Throttling")), Some("STS is throttling"));
        assert_eq!(
            retry_reason(&sts("RequestLimitExceeded")),
            Some("STS is throttling")
        );
        assert_eq!(
            retry_reason(&sts("ServiceUnavailable")),
            Some("STS is unavailable")
        );
        for never in [
            "InvalidIdentityToken",
            "ExpiredTokenException",
            "AccessDenied",
            "ValidationError",
        ] {
            assert_eq!(retry_reason(&sts(never)), None, "{never}");
        }
        let html_500 = Error::StsUnusable {
            endpoint: "https://sts".into(),
            status: "500 Internal Server Error".into(),
        };
        assert_eq!(retry_reason(&html_500), None);
        assert!(
            retry_reason(&Error::StsTransport(
                "cannot reach STS (Connection reset by peer (os error 104))".into()
            ))
            .is_some()
        );
        assert_eq!(
            retry_reason(&Error::StsTransport("STS did not answer in time".into())),
            None
        );
    }

    #[test]
    fn backoff_grows_is_jittered_and_bounded() {
        for retry in 1..=3 {
            let full = BASE * (1 << (retry - 1));
            let d = backoff(retry);
            assert!(d >= full / 2 && d <= full, "{retry}: {d:?}");
        }
        assert!(backoff(30) <= CAP);
        let total: Duration = (1..ATTEMPTS).map(|r| BASE * (1 << (r - 1))).sum();
        assert!(total < Duration::from_secs(30));
    }
}
