//! The credentials-file editor `store::update_profile(text, profile, entries)`:
//!
//! 1. editing `[profile]` never changes a byte outside it: the text up to and including
//!    the target header, and the text from the next header on, are kept verbatim (or,
//!    when the section is missing, the whole input is kept as a prefix);
//! 2. the result parses: every output line is a `[header]`, a `key = value`, a comment,
//!    blank, or a line of the input; and reading the result back with the splitter
//!    below finds `[profile]` holding each entry exactly once with its value;
//! 3. updating twice is idempotent.
//!
//! The splitter here is written independently of `src/storage/credentials_file.rs`, from the rules the
//! editor documents: a header is a line whose trimmed text is `[name]` (name trimmed),
//! a section runs to the next header, a key line does not start with a space or TAB,
//! is not a `#`/`;` comment and has `=` or `:` after the key.
//!
//! Inputs follow what saml-login passes: a profile name without `]` or line breaks
//! and without surrounding whitespace (configuration values are trimmed), entries
//! with distinct keys from the credential key set and values without line breaks.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use saml_login::storage::credentials_file::update_profile;

const KEYS: &[&str] = &[
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
    "expiration",
    "x_security_token_expires",
];

#[derive(Arbitrary, Debug)]
struct Input {
    profile: String,
    entries: Vec<(u8, String)>,
    text: String,
}

/// Split after every `\n`; the last piece may lack one.
fn lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let cut = rest.find('\n').map_or(rest.len(), |i| i + 1);
        out.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    out
}

fn header(line: &str) -> Option<&str> {
    let t = line.trim();
    if t.len() >= 2 && t.starts_with('[') && t.ends_with(']') {
        Some(t[1..t.len() - 1].trim())
    } else {
        None
    }
}

/// A line without its `\n` and any CRs before it (a bare CR at the end of the input
/// gets a line end appended after it).
fn strip_eol(line: &str) -> &str {
    line.strip_suffix('\n').unwrap_or(line).trim_end_matches('\r')
}

/// (index of the target header, index of the first line after the section).
fn find_section(lines: &[&str], profile: &str) -> Option<(usize, usize)> {
    let h = lines.iter().position(|l| header(l) == Some(profile))?;
    let end = (h + 1..lines.len())
        .find(|&i| header(lines[i]).is_some())
        .unwrap_or(lines.len());
    Some((h, end))
}

/// `key = value` (or `key: value`) as the editor and configparser read it.
fn key_value(line: &str) -> Option<(&str, &str)> {
    if line.starts_with([' ', '\t']) {
        return None;
    }
    let t = line.trim();
    if t.is_empty() || t.starts_with(['#', ';']) {
        return None;
    }
    let i = t.find(['=', ':'])?;
    let key = t[..i].trim();
    (!key.is_empty()).then_some((key, t[i + 1..].trim()))
}

fn check(before: &str, after: &str, profile: &str, entries: &[(&str, String)]) {
    let old = lines(before);
    let new = lines(after);

    // 1. Bytes outside the section.
    match find_section(&old, profile) {
        Some((h, end)) => {
            let prefix: String = old[..=h].concat();
            let suffix: String = old[end..].concat();
            assert!(after.starts_with(&prefix), "bytes before the section changed");
            assert!(after.ends_with(&suffix), "bytes after the section changed");
            assert!(after.len() >= prefix.len() + suffix.len(), "prefix and suffix overlap");
        }
        None => assert!(after.starts_with(before), "appending changed the existing text"),
    }

    // 2. Every line is well-formed or came from the input.
    let input_lines: std::collections::HashSet<&str> = old.iter().map(|l| strip_eol(l)).collect();
    for l in &new {
        let l = strip_eol(l);
        let t = l.trim();
        let ok = t.is_empty()
            || t.starts_with(['#', ';'])
            || header(l).is_some()
            || key_value(l).is_some()
            || input_lines.contains(l);
        assert!(ok, "output line is none of header/key/comment/blank/input: {l:?}");
    }
    // ... and the section holds each entry exactly once, with its value.
    let (h, end) = find_section(&new, profile).expect("no [profile] header in the result");
    for (k, v) in entries {
        let found: Vec<&str> = new[h + 1..end]
            .iter()
            .filter_map(|l| key_value(l))
            .filter(|(key, _)| key.eq_ignore_ascii_case(k))
            .map(|(_, value)| value)
            .collect();
        assert_eq!(found, [v.trim()], "key {k} in the section");
    }
}

fuzz_target!(|input: Input| {
    let profile: String = input
        .profile
        .chars()
        .filter(|c| !matches!(c, ']' | '\n' | '\r'))
        .collect();
    let profile = profile.trim();
    let mut entries: Vec<(&str, String)> = Vec::new();
    for (k, v) in input.entries {
        let key = KEYS[usize::from(k) % KEYS.len()];
        if entries.iter().any(|(e, _)| *e == key) {
            continue;
        }
        entries.push((key, v.replace(['\n', '\r'], "")));
    }

    let once = update_profile(&input.text, profile, &entries);
    check(&input.text, &once, profile, &entries);
    let twice = update_profile(&once, profile, &entries);
    assert_eq!(once, twice, "a second identical update changed the text");
});
