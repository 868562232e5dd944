//! Where a key's value comes from: flags and `SAML_LOGIN_*` variables ([`Overrides`]) over
//! the section and `[DEFAULT]` of the ini file, looked up by [`Key`] through [`Layers`];
//! and the value readers every resolver shares (URLs, booleans, `~/` paths).

use std::collections::BTreeMap;
use std::path::PathBuf;

use url::Url;

use crate::config::ini::IniFile;
use crate::config::keys::Key;
use crate::error::{Error, Result};

/// Values given on the command line and `SAML_LOGIN_*` variables, by key.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Key -> (value, the flag that gave it).
    pub(crate) flags: BTreeMap<Key, (String, &'static str)>,
    /// Key -> value, from `SAML_LOGIN_{KEY}`.
    pub(crate) env: BTreeMap<Key, String>,
}

impl Overrides {
    /// Read `SAML_LOGIN_{KEY}` through `var` for every key that has a variable.
    pub fn read_env(&mut self, var: impl Fn(&str) -> Option<String>) {
        for key in Key::ALL {
            if let Some(v) = key.env_var().and_then(|name| var(&name)) {
                self.env.insert(key, v);
            }
        }
    }

    /// The value of `key` given by its flag (named in the key table), if given.
    pub(crate) fn flag(&mut self, key: Key, value: Option<String>) {
        let flag = key
            .flag()
            .unwrap_or_else(|| panic!("the key table gives {key} no flag"));
        self.flag_as(key, flag, value);
    }

    /// The value of `key` given by `flag` (a flag other than the key's own, such as
    /// `--no-open-console`).
    pub(crate) fn flag_as(&mut self, key: Key, flag: &'static str, value: Option<String>) {
        if let Some(v) = value {
            self.flags.insert(key, (v, flag));
        }
    }
}

/// A value with the place it came from, for error messages.
pub(crate) struct Sourced {
    pub value: String,
    pub origin: String,
}

/// Looks a key up through the layers: flag, environment, section, `[DEFAULT]`.
pub(crate) struct Layers<'a> {
    pub overrides: &'a Overrides,
    pub file: &'a IniFile,
    pub section: &'a str,
}

impl Layers<'_> {
    pub(crate) fn get(&self, key: Key) -> Option<Sourced> {
        if let Some((v, flag)) = self.overrides.flags.get(&key) {
            return Some(Sourced {
                value: v.clone(),
                origin: (*flag).to_owned(),
            });
        }
        if let Some(v) = self.overrides.env.get(&key) {
            return Some(Sourced {
                value: v.clone(),
                origin: format!("SAML_LOGIN_{}", key.name().to_ascii_uppercase()),
            });
        }
        self.file
            .get(self.section, key.name())
            .map(|(v, origin)| Sourced {
                value: v.to_owned(),
                origin,
            })
    }

    pub(crate) fn string(&self, key: Key) -> Option<String> {
        self.get(key)
            .map(|s| s.value.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn parsed<T>(
        &self,
        key: Key,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<Option<T>> {
        let Some(s) = self.get(key) else {
            return Ok(None);
        };
        let v = s.value.trim();
        if v.is_empty() {
            return Ok(None);
        }
        parse(v).map(Some).map_err(|message| Error::BadValue {
            field: key.name().to_owned(),
            origin: s.origin,
            message,
        })
    }

    /// [`Self::parsed`], else the key table's default read by the same `parse`: the
    /// table is the one place a default is written.
    pub(crate) fn parsed_or_default<T>(
        &self,
        key: Key,
        parse: impl Fn(&str) -> std::result::Result<T, String>,
    ) -> Result<T> {
        if let Some(v) = self.parsed(key, &parse)? {
            return Ok(v);
        }
        Ok(parse(key.default_text()).unwrap_or_else(|message| {
            panic!("the key table's default of {key} does not parse: {message}")
        }))
    }

    pub(crate) fn required(&self, key: Key) -> Result<String> {
        if (!self.file.exists || self.file.is_empty()) && self.string(key).is_none() {
            return Err(no_config_file(self.file, self.section));
        }
        self.string(key).ok_or_else(|| Error::MissingKey {
            key: key.name(),
            section: self.section.to_owned(),
            path: self.file.path.clone(),
        })
    }
}

pub(crate) fn no_config_file(file: &IniFile, section: &str) -> Error {
    Error::NoConfigFile {
        section: section.to_owned(),
        path: file.path.clone(),
        empty: file.exists,
    }
}

/// `~/x` relative to the user's home.
pub(crate) fn expand_home(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

pub(crate) fn parse_http_url(v: &str) -> std::result::Result<Url, String> {
    let url = Url::parse(v).map_err(|e| format!("{v:?} is not a URL ({e})"))?;
    if !saml_login_capture::is_http_url(&url) {
        return Err(format!("{v:?} is not an http(s) URL"));
    }
    Ok(url)
}

/// configparser's booleans.
pub fn parse_bool(v: &str) -> std::result::Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "yes" | "true" | "on" => Ok(true),
        "0" | "no" | "false" | "off" => Ok(false),
        _ => Err(format!(
            "{v:?} is not a boolean (true/false, yes/no, on/off, 1/0)"
        )),
    }
}
