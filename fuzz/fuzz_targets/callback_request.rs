//! The callback server's request-head parser (`saml_login_system::request::parse_head`,
//! httparse underneath) never panics on any bytes, and what it returns holds together:
//! a complete head starts its body inside the bytes given, within the head limit, with a
//! target that is a path; an incomplete head is within the limit; every prefix of the
//! bytes that ends before a complete head is incomplete or refused, never a different head.
#![no_main]

use libfuzzer_sys::fuzz_target;
use saml_login_system::request::{MAX_HEAD_BYTES, parse_head};

fuzz_target!(|data: &[u8]| {
    match parse_head(data) {
        Ok(Some(head)) => {
            assert!(head.body_start <= data.len());
            assert!(head.body_start <= MAX_HEAD_BYTES + 4);
            assert!(head.target.starts_with('/'));
            assert!(!head.method.is_empty());
            // The same head, whatever body follows it.
            let mut longer = data[..head.body_start].to_vec();
            longer.extend_from_slice(b"trailing body bytes");
            assert_eq!(parse_head(&longer).ok().flatten(), Some(head));
        }
        Ok(None) => assert!(data.len() <= MAX_HEAD_BYTES),
        Err(refusal) => assert!(matches!(refusal.0, 400 | 431), "{refusal:?}"),
    }
});
