//! `~/.aws/config` (`AWS_CONFIG_FILE`): the block of profiles `configure` writes, one
//! per granted role, and the profiles a `--profile` chain goes through.
//!
//! The block is marked by two comment lines naming the saml-login section, so several
//! sections keep blocks of their own; every byte outside a block stays as it was.

use crate::storage::credentials_file;

/// One profile `configure` writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GeneratedProfile {
    pub name: String,
    /// The role it is for, for messages.
    pub role_arn: String,
    pub entries: Vec<(&'static str, String)>,
}

fn begin_marker(section: &str) -> String {
    format!(
        "# >>> saml-login [{section}]: profiles written by `saml-login -c {section} configure`; edits inside are replaced"
    )
}

fn end_marker(section: &str) -> String {
    format!("# <<< saml-login [{section}]")
}

/// The config section header of profile `name`.
pub(crate) fn section_of(name: &str) -> String {
    if name == "default" {
        "default".to_owned()
    } else {
        format!("profile {name}")
    }
}

/// The `key = value` pairs of profile `name`, if the file has it.
pub(crate) fn profile(text: &str, name: &str) -> Option<Vec<(String, String)>> {
    credentials_file::profile_values(text, &section_of(name))
}

/// `text` with the block of `section` holding exactly `profiles` (added at the end when
/// missing, removed when `profiles` is empty). Fails, naming both, when a generated
/// name is a profile written outside the block.
pub(crate) fn with_block(
    text: &str,
    section: &str,
    profiles: &[GeneratedProfile],
) -> Result<String, String> {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let (begin, end) = (begin_marker(section), end_marker(section));
    let start = lines.iter().position(|l| l.trim_end() == begin);
    let span = match start {
        Some(s) => {
            let e = lines[s..]
                .iter()
                .position(|l| l.trim_end() == end)
                .map(|i| s + i)
                .ok_or_else(|| {
                    format!(
                        "line {}: the block of [{section}] has no closing line {end:?}",
                        s + 1
                    )
                })?;
            Some((s, e))
        }
        None => None,
    };
    let outside = |i: usize| span.is_none_or(|(s, e)| i < s || i > e);
    // The saml-login section whose block a line is in, if any.
    let mut other_block: Option<&str> = None;
    for (i, line) in lines.iter().enumerate().filter(|(i, _)| outside(*i)) {
        let t = line.trim_end();
        if let Some(rest) = t.strip_prefix("# >>> saml-login [") {
            other_block = rest.split_once(']').map(|(name, _)| name);
            continue;
        }
        if t.starts_with("# <<< saml-login [") {
            other_block = None;
            continue;
        }
        let Some(header) = credentials_file::section_name(line) else {
            continue;
        };
        if let Some(p) = profiles.iter().find(|p| section_of(&p.name) == header) {
            let whose = match other_block {
                Some(other) => format!(
                    "is in the block of [{other}] (`saml-login -c {other} configure` wrote it)"
                ),
                None => "is written outside saml-login's blocks".to_owned(),
            };
            return Err(format!(
                "line {}: [{header}] {whose}, and configure would write a profile {} for {}; give [{section}] a profile_name of its own (for example `profile_name = {{role}}@{{account_alias}}-{section}`)",
                i + 1,
                p.name,
                p.role_arn
            ));
        }
    }
    let mut block = String::new();
    if !profiles.is_empty() {
        block.push_str(&begin);
        block.push_str(newline);
        for (i, p) in profiles.iter().enumerate() {
            if i > 0 {
                block.push_str(newline);
            }
            block.push_str(&credentials_file::section_lines(
                &section_of(&p.name),
                &p.entries,
                newline,
            ));
        }
        block.push_str(&end);
        block.push_str(newline);
    }
    let mut out = String::with_capacity(text.len() + block.len());
    match span {
        Some((s, e)) => {
            lines[..s].iter().for_each(|l| out.push_str(l));
            out.push_str(&block);
            lines[e + 1..].iter().for_each(|l| out.push_str(l));
        }
        None if block.is_empty() => out.push_str(text),
        None => out = credentials_file::append_chunk(text, &block, newline),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(names: &[&str]) -> Vec<GeneratedProfile> {
        names
            .iter()
            .map(|n| GeneratedProfile {
                name: (*n).to_owned(),
                role_arn: format!("arn:aws:iam::111111111111:role/{n}"),
                entries: vec![
                    (
                        "credential_process",
                        format!("saml-login -c work credential-process --role {n}"),
                    ),
                    ("region", "eu-west-1".to_owned()),
                ],
            })
            .collect()
    }

    const MINE: &str = "# my settings\n[default]\nregion = us-east-1\n\n[profile hand]\nregion = eu-central-1 ; keep\n";

    #[test]
    fn the_block_is_added_replaced_and_removed_and_nothing_else_changes() {
        let once = with_block(MINE, "work", &generated(&["A@x", "B@x"])).unwrap();
        assert!(once.starts_with(MINE), "{once}");
        assert_eq!(
            with_block(&once, "work", &generated(&["A@x", "B@x"])).unwrap(),
            once
        );
        let fewer = with_block(&once, "work", &generated(&["B@x"])).unwrap();
        assert!(
            !fewer.contains("A@x") && fewer.contains("[profile B@x]"),
            "{fewer}"
        );
        assert!(fewer.starts_with(MINE));
        // A second section's block beside it; then the first one goes.
        let both = with_block(&fewer, "other", &generated(&["C@y"])).unwrap();
        let gone = with_block(&both, "work", &[]).unwrap();
        assert!(
            gone.starts_with(MINE) && gone.contains("C@y") && !gone.contains("B@x"),
            "{gone}"
        );
        assert_eq!(
            with_block(
                &with_block(MINE, "work", &generated(&["A@x"])).unwrap(),
                "work",
                &[]
            )
            .unwrap()
            .trim_end(),
            MINE.trim_end()
        );
    }

    #[test]
    fn a_name_written_by_hand_is_a_clash_naming_both() {
        let e = with_block(MINE, "work", &generated(&["hand"])).unwrap_err();
        assert!(
            e.contains("line 5: [profile hand]") && e.contains("role/hand"),
            "{e}"
        );
        let e = with_block("[profile a]\n# >>> saml-login [work]: x\n", "work", &[]);
        assert!(e.is_ok(), "a marker of another text is not ours");
        let open = format!("{}\n[profile a]\n", begin_marker("work"));
        assert!(
            with_block(&open, "work", &[])
                .unwrap_err()
                .contains("no closing line")
        );
    }
}
