//! The credential store: puts one profile's keys into the AWS shared credentials file.
//!
//! Only the target section changes; every other byte (sections, comments, blank lines,
//! order, line endings) stays as it was. Secret-holding files are written like a
//! database writes them: under an exclusive lock, to a temporary file in the same
//! directory, fsync, rename, mode 0600. A failed run leaves the file byte-identical.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use saml_login_capture::{ExistingDir, create_private_dir};

use crate::error::{Error, Result};
use crate::storage::lock_file::open_lock_file;

/// Why `name` cannot be a profile (a section of the credentials file), if it cannot:
/// `[`, `]` or a control character would end the header early or start a section of
/// its own (a duplicate section makes botocore reject the whole file).
pub(crate) fn check_profile_name(name: &str) -> std::result::Result<(), String> {
    if name.trim().is_empty() {
        return Err("a profile name cannot be empty".into());
    }
    match name
        .chars()
        .find(|c| matches!(c, '[' | ']') || c.is_control())
    {
        Some(c) => Err(format!(
            "{name:?} is not a profile name: it holds {c:?} (`[`, `]` and control characters are refused)"
        )),
        None => Ok(()),
    }
}

/// Return `text` with section `[profile]` holding `entries` (replacing those keys,
/// keeping the section's other lines), appending the section when it is missing.
pub fn update_profile(text: &str, profile: &str, entries: &[(&str, String)]) -> String {
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let header = lines
        .iter()
        .position(|l| section_name(l).is_some_and(|n| n == profile));
    let Some(start) = header else {
        return append_section(text, profile, entries, newline);
    };
    let end = lines[start + 1..]
        .iter()
        .position(|l| section_name(l).is_some())
        .map_or(lines.len(), |i| start + 1 + i);

    let mut out = String::with_capacity(text.len() + 256);
    for l in &lines[..=start] {
        out.push_str(l);
    }
    // A header that is the file's last line, without a line end (found by fuzzing).
    if !out.ends_with('\n') {
        out.push_str(newline);
    }
    // The section body: replace our keys in place, drop their duplicates and
    // continuation lines, remember where the last key line was.
    let mut body: Vec<String> = Vec::new();
    let mut written: Vec<&str> = Vec::new();
    let mut last_key_line = None;
    let mut skipping_continuation = false;
    for l in &lines[start + 1..end] {
        if skipping_continuation && is_continuation(l) {
            continue;
        }
        skipping_continuation = false;
        match key_of(l) {
            Some(key) => {
                if let Some((k, v)) = entries.iter().find(|(k, _)| k.eq_ignore_ascii_case(&key)) {
                    skipping_continuation = true;
                    if written.contains(k) {
                        continue;
                    }
                    written.push(k);
                    body.push(format!("{k} = {v}{}", line_end(l, newline)));
                } else {
                    body.push((*l).to_owned());
                }
                last_key_line = Some(body.len());
            }
            None => body.push((*l).to_owned()),
        }
    }
    let missing: Vec<String> = entries
        .iter()
        .filter(|(k, _)| !written.contains(k))
        .map(|(k, v)| format!("{k} = {v}{newline}"))
        .collect();
    // Never insert before a continuation line: it belongs to the key above it (found by
    // fuzzing: a key's indented continuation, a section starting with an indented line).
    let mut at = last_key_line.unwrap_or(0);
    while body.get(at).is_some_and(|l| is_continuation(l)) {
        at += 1;
    }
    if at > 0 && !body[at - 1].ends_with('\n') {
        body[at - 1].push_str(newline);
    }
    body.splice(at..at, missing);
    for l in &body {
        out.push_str(l);
    }
    for l in &lines[end..] {
        out.push_str(l);
    }
    out
}

/// The `key = value` pairs of section `[profile]`, keys as written.
pub(crate) fn profile_values(text: &str, profile: &str) -> Option<Vec<(String, String)>> {
    let mut lines = text.lines();
    lines.find(|l| section_name(l).is_some_and(|n| n == profile))?;
    Some(
        lines
            .take_while(|l| section_name(l).is_none())
            .filter(|l| key_of(l).is_some())
            .filter_map(|l| l.split_once(['=', ':']))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect(),
    )
}

fn append_section(text: &str, profile: &str, entries: &[(&str, String)], nl: &str) -> String {
    append_chunk(text, &section_lines(profile, entries, nl), nl)
}

/// `text` with `chunk` (whole lines) added at its end: on a line of its own, after a
/// blank line unless `text` is blank. The one way an ini file of ours grows.
pub(crate) fn append_chunk(text: &str, chunk: &str, nl: &str) -> String {
    let mut out = String::with_capacity(text.len() + chunk.len() + 2 * nl.len());
    out.push_str(text);
    if !text.is_empty() {
        if !text.ends_with('\n') {
            out.push_str(nl);
        }
        if !text.trim_end().is_empty() && !out.ends_with(&format!("{nl}{nl}")) {
            out.push_str(nl);
        }
    }
    out.push_str(chunk);
    out
}

/// `[name]` and its `key = value` lines.
pub(crate) fn section_lines(name: &str, entries: &[(&str, String)], nl: &str) -> String {
    let mut out = format!("[{name}]{nl}");
    for (k, v) in entries {
        out.push_str(&format!("{k} = {v}{nl}"));
    }
    out
}

fn line_end<'a>(line: &str, default: &'a str) -> &'a str {
    if line.ends_with("\r\n") {
        "\r\n"
    } else if line.ends_with('\n') {
        "\n"
    } else {
        default
    }
}

/// `[name]` on a line of its own.
pub(crate) fn section_name(line: &str) -> Option<&str> {
    let t = line.trim();
    t.strip_prefix('[')?.strip_suffix(']').map(str::trim)
}

fn is_continuation(line: &str) -> bool {
    line.starts_with([' ', '\t']) && !line.trim().is_empty()
}

/// The key of a `key = value` line (not a comment or continuation).
fn key_of(line: &str) -> Option<String> {
    if line.starts_with([' ', '\t']) {
        return None;
    }
    let t = line.trim();
    if t.is_empty() || t.starts_with(['#', ';']) {
        return None;
    }
    let (k, _) = t.split_once(['=', ':'])?;
    Some(k.trim().to_owned())
}

/// Whether saml-login may keep or believe secrets at `path`: the file (when it exists)
/// and every directory above it must be owned by this user (directories also by root)
/// and writable by no one else (a sticky directory such as /tmp excepted); a directory
/// only its group may write draws a warning. The error says what is wrong where.
#[cfg(unix)]
pub(crate) fn check_trusted(path: &Path) -> std::result::Result<(), (PathBuf, String)> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    let mut at = Some(path);
    while let Some(p) = at {
        let p_owned = if p.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            p.to_owned()
        };
        match fs::metadata(&p_owned) {
            Ok(m) => {
                let mode = m.mode() & 0o7777;
                let dir = m.is_dir();
                let owner_ok = m.uid() == me || (dir && m.uid() == 0);
                if !owner_ok {
                    return Err((
                        p_owned,
                        format!("is owned by another user (uid {})", m.uid()),
                    ));
                }
                let sticky = dir && mode & 0o1000 != 0;
                if mode & 0o002 != 0 && !sticky {
                    return Err((
                        p_owned,
                        format!("is writable by every user (mode {:o})", mode & 0o777),
                    ));
                }
                if mode & 0o020 != 0 && !sticky && m.uid() == me {
                    crate::output::warning!(
                        "{} is writable by its group (mode {:o}); saml-login keeps secrets under it",
                        p_owned.display(),
                        mode & 0o777
                    );
                }
            }
            // Not created yet: its parent decides.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err((p_owned, format!("cannot be checked: {e}"))),
        }
        at = p.parent();
    }
    Ok(())
}

#[cfg(not(unix))]
pub(crate) fn check_trusted(_path: &Path) -> std::result::Result<(), (PathBuf, String)> {
    Ok(())
}

/// [`check_trusted`] as saml-login's error.
pub(crate) fn trusted(path: &Path) -> Result<()> {
    check_trusted(path).map_err(|(path, message)| Error::Untrusted {
        message: format!("{message}; saml-login keeps no secret there"),
        path,
    })
}

/// A file holding secrets, written atomically under a lock.
#[derive(Clone, Debug)]
pub(crate) struct SecretFile {
    pub path: PathBuf,
}

impl SecretFile {
    /// The file at `path`; a symbolic link (a dotfiles setup) stands for its target,
    /// which is written (atomically, in its own directory) while the link stays.
    pub(crate) fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: through_links(path.into()),
        }
    }

    /// Read the file (empty when missing), let `edit` build the new content, and
    /// replace the file with it. Nothing changes if `edit` or any step fails.
    pub(crate) fn update(&self, edit: impl FnOnce(&str) -> Result<String>) -> Result<()> {
        trusted(&self.path)?;
        let dir = self.parent();
        // The credentials file's and AWS config's directory is the user's (`~/.aws`).
        create_private_dir(&dir, ExistingDir::Keep).map_err(|source| Error::Write {
            path: dir.clone(),
            source,
        })?;
        let _lock = self.lock()?;
        let old = match fs::read(&self.path) {
            Ok(bytes) => String::from_utf8(bytes).map_err(|_| Error::Malformed {
                path: self.path.clone(),
                message: "the file is not UTF-8 text; not changing it".into(),
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => {
                return Err(Error::Read {
                    path: self.path.clone(),
                    source,
                });
            }
        };
        let new = edit(&old)?;
        self.replace(new.as_bytes())
    }

    /// [`Self::replace`] in a directory of saml-login's own (the secret files), made
    /// 0700 whether it is new or not.
    pub(crate) fn replace_creating_dir(&self, bytes: &[u8]) -> Result<()> {
        trusted(&self.path)?;
        let dir = self.parent();
        create_private_dir(&dir, ExistingDir::Tighten)
            .map_err(|source| Error::Write { path: dir, source })?;
        self.replace(bytes)
    }

    /// Write `bytes` as the file's whole new content: temporary file in the same
    /// directory, fsync, rename over, fsync the directory. Mode 0600.
    pub(crate) fn replace(&self, bytes: &[u8]) -> Result<()> {
        let dir = self.parent();
        let err = |source| Error::Write {
            path: self.path.clone(),
            source,
        };
        let mut tmp = tempfile::Builder::new()
            .prefix(".saml-login-")
            .suffix(".tmp")
            .tempfile_in(&dir)
            .map_err(err)?;
        set_private(tmp.as_file()).map_err(err)?;
        tmp.write_all(bytes).map_err(err)?;
        tmp.as_file().sync_all().map_err(err)?;
        // Windows refuses the rename while another program has the file open: retried.
        crate::platform::retry_bounded(
            tmp,
            crate::platform::PERSIST_RETRY,
            crate::platform::rename_may_succeed_later,
            |tmp| tmp.persist(&self.path).map_err(|e| (e.file, e.error)),
        )
        .map_err(err)?;
        if let Ok(d) = File::open(&dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    fn parent(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        }
    }

    /// An exclusive lock on a sibling lock file (the file itself is replaced by
    /// rename, so it cannot carry the lock). Released when dropped.
    fn lock(&self) -> Result<File> {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let lock_path = self.parent().join(format!(".{name}.lock"));
        let file = open_lock_file(&lock_path)?;
        file.lock().map_err(|source| Error::Write {
            path: lock_path,
            source,
        })?;
        Ok(file)
    }
}

/// The file a chain of symbolic links ends at (the path itself when it is none);
/// the target need not exist yet. Gives up (keeping the last link) after 40 links, as
/// the kernel does.
fn through_links(mut path: PathBuf) -> PathBuf {
    for _ in 0..40 {
        let Ok(target) = fs::read_link(&path) else {
            return path;
        };
        path = match path.parent() {
            Some(dir) if target.is_relative() => dir.join(target),
            _ => target,
        };
    }
    path
}

fn set_private(file: &File) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = file;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<(&'static str, String)> {
        vec![
            ("aws_access_key_id", "AKIANEW".into()),
            ("aws_secret_access_key", "secret".into()),
            ("aws_session_token", "token".into()),
        ]
    }

    #[test]
    fn profile_names_that_would_break_the_file_are_refused() {
        for bad in ["dev]\n[prod", "pwn]", "[x", "a\u{1b}[31m", "", "  ", "a\rb"] {
            let e = check_profile_name(bad).unwrap_err();
            assert!(!e.contains('\u{1b}') && !e.contains('\n'), "{e}");
        }
        for good in [
            "dev",
            "Developer@sandbox",
            "Admin@210987654321",
            "a b.c+=,@_-",
        ] {
            assert_eq!(check_profile_name(good), Ok(()), "{good}");
        }
    }

    #[test]
    fn replaces_only_the_target_section() {
        let before = "# top comment\n[default]\naws_access_key_id = AKIADEFAULT\n\n; keep me\n[dev]\nregion = eu-west-1\naws_access_key_id = AKIAOLD\n# note in dev\naws_session_token = old\n    continued\n\n[prod]\naws_access_key_id = AKIAPROD\n";
        let after = update_profile(before, "dev", &entries());
        assert_eq!(
            after,
            "# top comment\n[default]\naws_access_key_id = AKIADEFAULT\n\n; keep me\n[dev]\nregion = eu-west-1\naws_access_key_id = AKIANEW\n# note in dev\naws_session_token = token\naws_secret_access_key = secret\n\n[prod]\naws_access_key_id = AKIAPROD\n"
        );
    }

    #[test]
    fn appends_a_missing_section() {
        let after = update_profile("[a]\nx = 1", "b", &entries()[..1]);
        assert_eq!(after, "[a]\nx = 1\n\n[b]\naws_access_key_id = AKIANEW\n");
        assert_eq!(
            update_profile("", "b", &entries()[..1]),
            "[b]\naws_access_key_id = AKIANEW\n"
        );
        assert_eq!(
            update_profile("[a]\n\n", "b", &entries()[..1]),
            "[a]\n\n[b]\naws_access_key_id = AKIANEW\n"
        );
    }

    #[test]
    fn keeps_crlf_and_removes_duplicate_keys() {
        let before = "[dev]\r\naws_access_key_id = A\r\naws_access_key_id = B\r\n[x]\r\n";
        let after = update_profile(before, "dev", &entries()[..1]);
        assert_eq!(after, "[dev]\r\naws_access_key_id = AKIANEW\r\n[x]\r\n");
    }

    #[test]
    fn empty_section_gets_keys_after_header() {
        let after = update_profile("[dev]\n[x]\ny = 1\n", "dev", &entries()[..1]);
        assert_eq!(after, "[dev]\naws_access_key_id = AKIANEW\n[x]\ny = 1\n");
    }

    #[test]
    fn reads_a_profile() {
        let text = "[a]\nx = 1\n[dev]\n# c\nk = v = w\nregion: eu\n[z]\nq = 2\n";
        assert_eq!(
            profile_values(text, "dev").unwrap(),
            [
                ("k".to_owned(), "v = w".to_owned()),
                ("region".to_owned(), "eu".to_owned())
            ]
        );
        assert!(profile_values(text, "nope").is_none());
    }

    /// fuzz/crashes/credentials_store-1: the header was lost.
    #[test]
    fn header_on_the_last_line_without_a_line_end() {
        let once = update_profile("[dev]", "dev", &entries()[..1]);
        assert_eq!(once, "[dev]\naws_access_key_id = AKIANEW\n");
        assert_eq!(update_profile(&once, "dev", &entries()[..1]), once);
        assert_eq!(
            update_profile("[a]\r\n[dev]", "dev", &entries()[..1]),
            "[a]\r\n[dev]\r\naws_access_key_id = AKIANEW\r\n"
        );
    }

    /// fuzz/crashes/credentials_store-2: a key was put inside another's continuation.
    #[test]
    fn new_keys_go_after_a_continued_value() {
        let text = "[dev]\ns3 =\n  max_concurrent_requests = 20\n";
        let once = update_profile(text, "dev", &entries()[..1]);
        assert_eq!(
            once,
            "[dev]\ns3 =\n  max_concurrent_requests = 20\naws_access_key_id = AKIANEW\n"
        );
        assert_eq!(update_profile(&once, "dev", &entries()[..1]), once);
    }

    /// fuzz/crashes/credentials_store-3: a section whose body starts with an indented line.
    #[test]
    fn section_starting_with_a_continuation_line() {
        let text = "[dev]\r\n\tstray\r\n[x]\r\n";
        let once = update_profile(text, "dev", &entries()[..1]);
        assert_eq!(
            once,
            "[dev]\r\n\tstray\r\naws_access_key_id = AKIANEW\r\n[x]\r\n"
        );
        assert_eq!(update_profile(&once, "dev", &entries()[..1]), once);
    }

    #[test]
    fn second_update_is_stable() {
        let once = update_profile("[a]\nk = v\n", "dev", &entries());
        let twice = update_profile(&once, "dev", &entries());
        assert_eq!(once, twice);
    }

    #[test]
    fn atomic_write_mode_and_failure_leaves_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("aws").join("credentials");
        let file = SecretFile::new(&path);
        file.update(|old| Ok(update_profile(old, "p", &entries())))
            .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(
                fs::metadata(path.parent().unwrap())
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                0o700
            );
        }
        let before = fs::read(&path).unwrap();
        let r = file.update(|_| Err(Error::Assertion("boom".into())));
        assert!(r.is_err());
        assert_eq!(fs::read(&path).unwrap(), before);
        let leftovers: Vec<_> = fs::read_dir(path.parent().unwrap())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }
}
