//! OAuth tokens for `pkce-login`: the authorization code flow with PKCE (RFC 7636,
//! S256) run in any of saml-login's browsers, then the code exchanged at the IdP's
//! `/oauth/token`. This module holds the verifier and its challenge; [`settings`]
//! resolves `~/.pkce-login` through the same layers as saml-login's keys, and [`flow`]
//! runs the authorization and the exchange.

pub(crate) mod flow;
pub(crate) mod settings;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use saml_login_capture::Secret;
use sha2::{Digest, Sha256};

/// A code verifier and its S256 challenge.
#[derive(Clone, Debug)]
pub(crate) struct Pkce {
    verifier: Secret,
    challenge: String,
}

impl Pkce {
    /// A fresh verifier: 32 random bytes, base64url without padding (43 characters).
    pub(crate) fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
        Self::from_bytes(&bytes)
    }

    /// The verifier made of `bytes` (RFC 7636 section 4.1).
    pub(crate) fn from_bytes(bytes: &[u8; 32]) -> Self {
        let verifier = URL_SAFE_NO_PAD.encode(bytes);
        let challenge = s256_challenge(&verifier);
        Self {
            verifier: Secret::new(verifier),
            challenge,
        }
    }

    /// Sent only with the token request.
    pub(crate) fn verifier(&self) -> &Secret {
        &self.verifier
    }

    /// Sent with the authorization request.
    pub(crate) fn challenge(&self) -> &str {
        &self.challenge
    }
}

/// `BASE64URL(SHA256(ASCII(verifier)))`, without padding (RFC 7636 section 4.2).
pub(crate) fn s256_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B: the 32 octets, their verifier and its S256 challenge.
    const RFC_OCTETS: [u8; 32] = [
        116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212, 37,
        77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
    ];
    const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn rfc_7636_appendix_b() {
        assert_eq!(s256_challenge(RFC_VERIFIER), RFC_CHALLENGE);
        let pkce = Pkce::from_bytes(&RFC_OCTETS);
        assert_eq!(pkce.verifier().expose(), RFC_VERIFIER);
        assert_eq!(pkce.challenge(), RFC_CHALLENGE);
    }

    #[test]
    fn fresh_verifiers_are_43_url_safe_characters() {
        let a = Pkce::generate();
        let v = a.verifier().expose();
        assert_eq!(v.len(), 43);
        assert!(
            v.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        assert_eq!(a.challenge(), s256_challenge(v));
        assert_ne!(v, Pkce::generate().verifier().expose());
        assert_eq!(format!("{a:?}").matches("(redacted)").count(), 1);
    }
}
