//! The configuration reader never panics: `IniFile::parse` on any text, and
//! `Settings::resolve` (plus `idp`, `start_url` and `callback` on the result) on every section the
//! text names, on `[DEFAULT]` and on a missing section.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use saml_login::config::{IniFile, Overrides, Settings};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(file) = IniFile::parse(text, Path::new("/fuzz/.saml-login")) else {
        return;
    };
    let _ = file.defaults().count();
    // Section names as written in the text, plus DEFAULT and one that is not there.
    let mut sections: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix('[')?.strip_suffix(']'))
        .flat_map(|inner| [inner, inner.trim()])
        .take(16)
        .collect();
    sections.push("DEFAULT");
    sections.push("no such section");
    let overrides = Overrides::default();
    for name in sections {
        let _ = file.has_section(name);
        match Settings::resolve(&file, name, &overrides) {
            Ok(s) => {
                // start_url and callback `expect` a valid URL / `unreachable!`.
                let _ = s.idp(Path::new("/fuzz/.saml-login"));
                let _ = s.start_url();
                let _ = s.callback();
            }
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
});
