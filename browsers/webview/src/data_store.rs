//! The WKWebView data store of a remembered profile on macOS. WKWebView ignores the
//! WebContext's directory, so without this every IdP's session would share one store;
//! wry's `with_data_store_identifier` (macOS 14 and later) gives each profile a store of
//! its own, named by a UUID derived here from the profile's directory. (On macOS 13 and
//! older wry falls back to the default store: SECURITY.md, known limits.)

use std::path::Path;

/// A UUID (version 8, RFC 9562) that stands for the profile directory `dir`: the same
/// directory always gives the same identifier, so the store is found again next time.
#[cfg_attr(not(target_os = "macos"), allow(dead_code))]
pub(crate) fn identifier_for(dir: &Path) -> [u8; 16] {
    let bytes = dir.as_os_str().as_encoded_bytes();
    let mut id = [0u8; 16];
    id[..8].copy_from_slice(&fnv1a(bytes, 0xcbf2_9ce4_8422_2325).to_be_bytes());
    id[8..].copy_from_slice(&fnv1a(bytes, 0x6c62_272e_07bb_0142).to_be_bytes());
    id[6] = (id[6] & 0x0f) | 0x80; // version 8: custom
    id[8] = (id[8] & 0x3f) | 0x80; // RFC 9562 variant
    id
}

/// FNV-1a (64 bits) from `basis`: stable across Rust releases, unlike std's hashers.
fn fnv1a(bytes: &[u8], basis: u64) -> u64 {
    bytes.iter().fold(basis, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_profile_has_its_own_lasting_store() {
        let a = Path::new("/Users/u/Library/Application Support/saml-login/webview/a.example_443");
        let b = Path::new("/Users/u/Library/Application Support/saml-login/webview/b.example_443");
        assert_eq!(identifier_for(a), identifier_for(a));
        assert_ne!(identifier_for(a), identifier_for(b));
        // A valid version-8 UUID.
        let id = identifier_for(a);
        assert_eq!(id[6] >> 4, 8);
        assert_eq!(id[8] >> 6, 0b10);
    }
}
