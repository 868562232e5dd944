//! Temporary AWS credentials as STS returns them. The secret key and session token
//! are secrets: `Debug` redacts them.

use saml_login_capture::Secret;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Secret,
    pub expiration: OffsetDateTime,
}

impl Credentials {
    /// The expiry as RFC 3339 UTC (`2026-11-29T20:44:29Z`).
    pub fn expiration_rfc3339(&self) -> String {
        self.expiration
            .to_offset(time::UtcOffset::UTC)
            .replace_nanosecond(0)
            .unwrap_or(self.expiration)
            .format(&Rfc3339)
            .unwrap_or_default()
    }

    /// The keys and values written to the credentials file, in order.
    pub fn profile_entries(&self) -> Vec<(&'static str, String)> {
        let expires = self.expiration_rfc3339();
        vec![
            ("aws_access_key_id", self.access_key_id.clone()),
            (
                "aws_secret_access_key",
                self.secret_access_key.expose().to_owned(),
            ),
            ("aws_session_token", self.session_token.expose().to_owned()),
            ("expiration", expires.clone()),
            ("x_security_token_expires", expires),
        ]
    }
}
