//! The ini reader of both tools' configuration files, with Python configparser's
//! rules: every section inherits `[DEFAULT]`, keys are case-insensitive, indented
//! lines continue a value. It takes a `&str`, so its tests need no file system.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ini::{Ini, ParseOption};

use crate::config::keys::{Key, Tool};
use crate::error::{Error, Result};

/// The section every other inherits from, and the one used without `-c`.
pub const DEFAULT_SECTION: &str = "DEFAULT";

/// A parsed ini file: sections in file order, keys lowercased.
#[derive(Clone, Debug, Default)]
pub struct IniFile {
    pub path: PathBuf,
    /// Whether the file was there (a missing default file is an empty configuration).
    pub exists: bool,
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

impl IniFile {
    /// Parse `text` read from `path` (the path is only for messages).
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let text = crate::platform::strip_bom(text);
        check_lines(text, path)?;
        let options = ParseOption {
            enabled_quote: false,
            enabled_escape: false,
            enabled_indented_mutiline_value: true,
            enabled_preserve_key_leading_whitespace: false,
        };
        let ini = Ini::load_from_str_opt(text, options).map_err(|e| Error::ConfigSyntax {
            path: path.to_owned(),
            line: e.line,
            message: e.msg.into_owned(),
        })?;
        let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (name, props) in &ini {
            let Some(name) = name else {
                if props.is_empty() {
                    continue;
                }
                return Err(Error::Malformed {
                    path: path.to_owned(),
                    message: "keys appear before the first [section] header".into(),
                });
            };
            let section = sections.entry(name.to_owned()).or_default();
            for (k, v) in props {
                section.insert(k.trim().to_ascii_lowercase(), v.to_owned());
            }
        }
        Ok(Self {
            path: path.to_owned(),
            exists: true,
            sections,
        })
    }

    /// Read and parse a file; a missing file is an empty configuration.
    pub fn load(path: &Path, must_exist: bool) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => Ok(Self {
                path: path.to_owned(),
                ..Self::default()
            }),
            Err(source) => Err(Error::Read {
                path: path.to_owned(),
                source,
            }),
        }
    }

    pub fn has_section(&self, name: &str) -> bool {
        name == DEFAULT_SECTION || self.sections.contains_key(name)
    }

    /// A warning for each key of `section` and `[DEFAULT]` that is not in `known`
    /// (configparser would keep it, and saml-login would silently not use it), with
    /// the key `tool` reads it is closest to.
    pub(crate) fn unknown_keys(&self, section: &str, tool: Tool) -> Vec<String> {
        let mut warnings = Vec::new();
        let mut names = vec![DEFAULT_SECTION];
        if section != DEFAULT_SECTION {
            names.push(section);
        }
        for name in names {
            for key in self.sections.get(name).into_iter().flat_map(|s| s.keys()) {
                if Key::from_name(key).is_some_and(|k| k.read_by(tool)) {
                    continue;
                }
                let guess = closest(key, Key::read_by_tool(tool).map(Key::name));
                warnings.push(format!(
                    "unknown key {key} in [{name}] of {}{}",
                    self.path.display(),
                    guess.map_or_else(
                        || " (not a setting; see the README's Configuration)".to_owned(),
                        |k| format!("; did you mean {k}?")
                    )
                ));
            }
        }
        warnings
    }

    /// The names of the sections, `[DEFAULT]` first (for shell completion).
    pub fn section_names(&self) -> Vec<&str> {
        let mut names = vec![DEFAULT_SECTION];
        names.extend(
            self.sections
                .keys()
                .map(String::as_str)
                .filter(|n| *n != DEFAULT_SECTION),
        );
        names
    }

    /// The keys of `[DEFAULT]` alone.
    /// The file holds no setting at all (no key in any section).
    pub fn is_empty(&self) -> bool {
        self.sections.values().all(BTreeMap::is_empty)
    }

    pub fn defaults(&self) -> impl Iterator<Item = (&str, &str)> {
        self.sections
            .get(DEFAULT_SECTION)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// A key of `section`, falling back to `[DEFAULT]`; with where it came from.
    pub(crate) fn get(&self, section: &str, key: &str) -> Option<(&str, String)> {
        let here = self.sections.get(section).and_then(|s| s.get(key));
        if let Some(v) = here {
            return Some((v, format!("[{section}] of {}", self.path.display())));
        }
        self.sections
            .get(DEFAULT_SECTION)
            .and_then(|s| s.get(key))
            .map(|v| (v.as_str(), format!("[DEFAULT] of {}", self.path.display())))
    }
}

/// The line-level rules configparser enforces, with the line number of the first
/// break: a section header must close, a line must be a comment, a header, a
/// `key = value` (or `key: value`) or an indented continuation.
fn check_lines(text: &str, path: &Path) -> Result<()> {
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        let bad = if t.is_empty() || t.starts_with(['#', ';']) || line.starts_with([' ', '\t']) {
            None
        } else if t.starts_with('[') {
            (!t.ends_with(']')).then_some("a section header must end with ]")
        } else if !t.contains(['=', ':']) {
            Some("expected `key = value`")
        } else {
            None
        };
        if let Some(message) = bad {
            return Err(Error::ConfigSyntax {
                path: path.to_owned(),
                line: i + 1,
                message: message.into(),
            });
        }
    }
    Ok(())
}

/// The candidate closest to `typed` when it is close enough to be a misspelling, for
/// "did you mean" (keys, sections, account aliases).
pub(crate) fn closest<'a>(
    typed: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|k| {
            (
                strsim::levenshtein(&typed.to_ascii_lowercase(), &k.to_ascii_lowercase()),
                k,
            )
        })
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min()
        .map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keys::Tool;

    #[test]
    fn malformed_file_names_path_and_line() {
        let e = IniFile::parse("[ok]\na = 1\n[broken\nb = 2\n", Path::new("/x/cfg")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "/x/cfg, line 3: a section header must end with ]"
        );
        let e = IniFile::parse("[ok]\na = 1\n\njust words\n", Path::new("/x/cfg")).unwrap_err();
        assert_eq!(e.to_string(), "/x/cfg, line 4: expected `key = value`");
    }

    #[test]
    fn unknown_keys_are_named_with_the_nearest_known_key() {
        let f = IniFile::parse(
            "[DEFAULT]\nidp_url = x\nfrobnicate = 1\n[dev]\naws_rol = Dev\nAWS_ROLE = Dev\n[other]\nnope = 1\n",
            Path::new("/x/cfg"),
        )
        .unwrap();
        assert_eq!(
            f.unknown_keys("dev", Tool::SamlLogin),
            [
                "unknown key frobnicate in [DEFAULT] of /x/cfg (not a setting; see the README's Configuration)",
                "unknown key aws_rol in [dev] of /x/cfg; did you mean aws_role?",
            ]
        );
        assert_eq!(closest("AWS_ROL", ["aws_role", "region"]), Some("aws_role"));
        assert_eq!(f.section_names(), ["DEFAULT", "dev", "other"]);
    }

    #[test]
    fn keys_before_any_section() {
        let e = IniFile::parse("a = 1\n[s]\n", Path::new("/x/cfg")).unwrap_err();
        assert!(e.to_string().contains("before the first [section]"));
    }
}
