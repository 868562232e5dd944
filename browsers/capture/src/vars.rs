//! Environment variables as a value: read once by the program that uses these crates
//! (saml-login's resolver) and handed in, so that a browser crate's search for a
//! program or a Chromium reads no variable itself and a test can give its own.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// Some environment variables, by name, as they were when they were read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Vars(Vec<(String, OsString)>);

impl Vars {
    /// The variables `names` as `var` gives them (`std::env::var_os` for the process's
    /// own); unset ones are left out, empty ones kept (each user decides about those).
    pub fn read<'a>(
        names: impl IntoIterator<Item = &'a str>,
        var: impl Fn(&'a str) -> Option<OsString>,
    ) -> Self {
        let mut vars = Self::default();
        for name in names {
            if let Some(value) = var(name) {
                vars = vars.with(name, value);
            }
        }
        vars
    }

    /// These variables with `name` set to `value`.
    #[must_use]
    pub fn with(mut self, name: &str, value: impl Into<OsString>) -> Self {
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.to_owned(), value.into()));
        self
    }

    /// `name`'s value, `None` when it was not set (or not read).
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_os_str())
    }

    /// This platform's `PATHEXT`: the variable (or
    /// [`crate::path_search::DEFAULT_PATHEXT`]) on Windows, `None` elsewhere.
    pub fn pathext(&self) -> Option<OsString> {
        cfg!(windows).then(|| {
            self.get("PATHEXT").filter(|v| !v.is_empty()).map_or_else(
                || crate::path_search::DEFAULT_PATHEXT.into(),
                OsStr::to_owned,
            )
        })
    }

    /// The first executable file `name` in the directories of `PATH` (on Windows also
    /// `name` plus each extension of `PATHEXT`: see [`crate::path_search`]). A `name`
    /// holding a path separator is not looked up.
    pub fn find_on_path(&self, name: &str) -> Option<PathBuf> {
        self.find_in(self.get("PATH")?, name)
    }

    /// [`Vars::find_on_path`] in the directories of `path` (a `PATH` value).
    pub fn find_in(&self, path: &OsStr, name: &str) -> Option<PathBuf> {
        crate::path_search::find_program(name.as_ref(), path, self.pathext().as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_keeps_what_is_set_and_get_finds_it_by_name() {
        let vars = Vars::read(["A", "B", "C"], |n| match n {
            "A" => Some("1".into()),
            "C" => Some(OsString::new()),
            _ => None,
        });
        assert_eq!(vars.get("A"), Some(OsStr::new("1")));
        assert_eq!(vars.get("B"), None);
        assert_eq!(vars.get("C"), Some(OsStr::new("")));
        assert_eq!(vars.clone().with("A", "2").get("A"), Some(OsStr::new("2")));
        assert_eq!(vars.get("a"), None, "names are compared exactly");
    }

    #[cfg(unix)]
    #[test]
    fn find_on_path_searches_the_given_path_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let tool = dir.path().join("tool");
        std::fs::write(&tool, "").unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        let vars = Vars::default().with("PATH", dir.path());
        assert_eq!(vars.find_on_path("tool"), Some(tool));
        assert_eq!(vars.find_on_path("missing"), None);
        assert_eq!(
            Vars::default().find_on_path("tool"),
            None,
            "no PATH, nothing found"
        );
    }
}
