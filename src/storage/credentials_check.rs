//! What can be known about the AWS credentials file before a login: that saml-login
//! may write it (trusted, not read-only) and that AWS's readers can parse it (every
//! line a `[section]`, a `key = value`, a comment, a continuation or blank). A login
//! that could only end in "cannot write" is not started.

use std::path::Path;

use crate::error::{Error, Result};
use crate::storage::credentials_file::trusted;

/// Fail when the credentials file at `path` (or, when it does not exist yet, its
/// directory) cannot take a profile: foreign-owned or writable by others, read-only
/// (a `chmod 400` is the user's choice, not saml-login's to undo), not UTF-8, or not
/// parsable; the error names the line.
pub(crate) fn check_credentials_file(path: &Path) -> Result<()> {
    trusted(path)?;
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    match std::fs::metadata(&target) {
        Ok(m) => {
            check_owner_writable(&target, &m, "file")?;
            let bytes = std::fs::read(&target).map_err(|source| Error::Read {
                path: target.clone(),
                source,
            })?;
            let text = String::from_utf8(bytes).map_err(|_| Error::Malformed {
                path: target.clone(),
                message: "the file is not UTF-8 text; not changing it".into(),
            })?;
            check_syntax(&text, &target)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            match target.parent().map(std::fs::metadata) {
                Some(Ok(m)) => check_owner_writable(target.parent().unwrap(), &m, "directory"),
                _ => Ok(()),
            }
        }
        Err(source) => Err(Error::Read {
            path: target,
            source,
        }),
    }
}

/// Fail when the owner may not write `path` (a `chmod 400`), saying how to go on.
fn check_owner_writable(path: &Path, m: &std::fs::Metadata, what: &str) -> Result<()> {
    #[cfg(unix)]
    let (read_only, mode, fix) = {
        use std::os::unix::fs::PermissionsExt;
        let mode = m.permissions().mode() & 0o7777;
        (
            mode & 0o200 == 0,
            format!(" (mode {mode:04o})"),
            "`chmod u+w` it",
        )
    };
    #[cfg(not(unix))]
    let (read_only, mode, fix) = (
        m.permissions().readonly(),
        String::new(),
        "clear its read-only attribute",
    );
    if read_only {
        return Err(Error::Malformed {
            path: path.to_owned(),
            message: format!(
                "the {what} is read-only{mode}; saml-login would write the credentials into it: {fix}, or choose another file with AWS_SHARED_CREDENTIALS_FILE"
            ),
        });
    }
    Ok(())
}

/// Fail, naming the first line AWS's readers would reject: a section header without
/// its `]` (or with text after it), a line that is neither a header, a `key = value`,
/// a comment, a continuation nor blank.
pub(crate) fn check_syntax(text: &str, path: &Path) -> Result<()> {
    let bad = |line: usize, message: String| Error::ConfigSyntax {
        path: path.to_owned(),
        line,
        message: format!(
            "{message}; AWS's readers cannot parse the file, so saml-login changes nothing: fix that line"
        ),
    };
    let mut in_section = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        let t = line.trim();
        if t.is_empty() || t.starts_with(['#', ';']) {
            continue;
        }
        if line.starts_with([' ', '\t']) && in_section {
            continue; // a continuation of the key above
        }
        if let Some(header) = t.strip_prefix('[') {
            // As Python's configparser reads a header: `[`, a name, the last `]`.
            match header.rfind(']') {
                Some(end) if end > 0 => {
                    in_section = true;
                    continue;
                }
                Some(_) => return Err(bad(i + 1, format!("{t:?} names no section"))),
                None => {
                    return Err(bad(
                        i + 1,
                        format!("the section header {t:?} has no closing `]`"),
                    ));
                }
            }
        }
        if !in_section {
            return Err(bad(
                i + 1,
                format!("{t:?} comes before the first [section]"),
            ));
        }
        match t.split_once(['=', ':']) {
            Some((key, _)) if !key.trim().is_empty() => {}
            _ => return Err(bad(i + 1, format!("{t:?} is not a `key = value` line"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(text: &str) -> Option<usize> {
        match check_syntax(text, Path::new("/c")) {
            Ok(()) => None,
            Err(Error::ConfigSyntax { line, .. }) => Some(line),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn the_first_line_aws_readers_reject_is_named() {
        assert_eq!(line_of(""), None);
        assert_eq!(line_of("[a]\nk = v\n  more\n# c\n\n[b]\r\nx: y\r\n"), None);
        assert_eq!(
            line_of("[a]\nk = v\n\n[sandbox-role\nregion = x\n"),
            Some(4)
        );
        assert_eq!(line_of("k = v\n"), Some(1));
        assert_eq!(line_of("[a]\njust words\n"), Some(2));
        assert_eq!(line_of("[]\n"), Some(1));
    }
}
