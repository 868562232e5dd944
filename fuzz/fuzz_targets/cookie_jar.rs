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
    let written = to_netscape(&cookies);
    let reread = match parse_jar(&written) {
        Ok(r) => r,
        Err(e) => panic!("to_netscape wrote a jar parse_jar refuses: {e}\n{written}"),
    };
    let expected: Vec<Cookie> = cookies.iter().filter(|c| writable(c)).cloned().collect();
    assert_eq!(reread, expected, "round trip changed the cookies\n{written}");
});
