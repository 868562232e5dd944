//! Both cookie-jar readers (Netscape `cookies.txt` and JSON) never panic, and a jar
//! that parses survives a trip through `to_netscape`: `parse_jar(&to_netscape(&c))`
//! gives back `c`, less the cookies `to_netscape` documents it leaves out (a TAB or
//! line break in name, value, domain or path; an empty name or domain).
#![no_main]

use libfuzzer_sys::fuzz_target;
use saml_login_capture::cookies::{Cookie, filter_for_host, parse_jar, to_netscape};

fn writable(c: &Cookie) -> bool {
    let bad = |s: &str| s.contains(['\t', '\n', '\r']);
    !(bad(&c.name) || bad(c.value.expose()) || bad(&c.domain) || bad(&c.path))
        && !c.name.is_empty()
        && !c.domain.is_empty()
}

/// KNOWN ISSUE (fuzz/crashes/cookie_jar-1..3, reported to the lead): `to_netscape`
/// writes a JSON-sourced domain as it is, but the Netscape reader trims it, strips all
/// leading dots, and takes a line starting with `#` for a comment. A domain with
/// surrounding whitespace, more than one leading dot or a leading `#` does not
/// survive the trip (the cookie changes, vanishes, or the jar no longer parses). While
/// that stands, such jars are skipped here; set this to `false` once it is fixed.
const SKIP_KNOWN_DOMAIN_ISSUE: bool = false;

fn domain_survives(d: &str) -> bool {
    d.trim() == d && !d.starts_with('#') && !d.starts_with("..")
}

/// KNOWN ISSUE (fuzz/crashes/cookie_jar-4, reported to the lead): a JSON `expires`
/// between 0 and 1 (exclusive) becomes `Some(0)`, which `to_netscape` writes as 0, a
/// session cookie, read back as `None`. Skipped while that stands.
const SKIP_KNOWN_EXPIRES_ZERO: bool = false;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(cookies) = parse_jar(text) else {
        return;
    };
    for c in &cookies {
        let _ = c.matches_host(&c.domain);
        let _ = filter_for_host(&cookies, c.domain.trim_start_matches('.'));
    }
    if SKIP_KNOWN_DOMAIN_ISSUE && !cookies.iter().all(|c| domain_survives(&c.domain)) {
        return;
    }
    if SKIP_KNOWN_EXPIRES_ZERO && cookies.iter().any(|c| c.expires == Some(0)) {
        return;
    }
    let written = to_netscape(&cookies);
    let reread = match parse_jar(&written) {
        Ok(r) => r,
        Err(e) => panic!("to_netscape wrote a jar parse_jar refuses: {e}\n{written}"),
    };
    let expected: Vec<Cookie> = cookies.iter().filter(|c| writable(c)).cloned().collect();
    assert_eq!(reread, expected, "round trip changed the cookies\n{written}");
});
