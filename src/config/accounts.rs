//! `~/.aws-accounts`: friendly aliases for account numbers (`[DEFAULT]` `alias =
//! number`), as the original tool read them.

use std::path::{Path, PathBuf};

use crate::config::IniFile;
use crate::error::{Error, Result};

/// An account number and the name it is shown by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub number: String,
    pub alias: String,
}

/// The alias table.
#[derive(Clone, Debug, Default)]
pub struct Accounts {
    path: PathBuf,
    aliases: Vec<(String, String)>,
}

impl Accounts {
    #[cfg(test)]
    pub(crate) fn parse(text: &str, path: &Path) -> Result<Self> {
        Ok(Self::from_ini(&IniFile::parse(text, path)?))
    }

    /// Load the file; a missing file means no aliases.
    pub fn load(path: &Path) -> Result<Self> {
        Ok(Self::from_ini(&IniFile::load(path, false)?))
    }

    fn from_ini(ini: &IniFile) -> Self {
        Self {
            path: ini.path.clone(),
            aliases: ini
                .defaults()
                .map(|(k, v)| (k.to_owned(), v.trim().to_owned()))
                .collect(),
        }
    }

    /// Resolve a number or an alias. A number shows as its alias where one exists;
    /// an unknown alias is an error naming the file.
    pub fn get(&self, account: &str) -> Result<Account> {
        let account = account.trim();
        if !account.is_empty() && account.bytes().all(|b| b.is_ascii_digit()) {
            if account.len() != 12 {
                return Err(Error::NotAnAccount {
                    account: account.to_owned(),
                    path: self.path.clone(),
                });
            }
            return Ok(Account {
                number: account.to_owned(),
                alias: self.alias_for(account).to_owned(),
            });
        }
        self.aliases
            .iter()
            .find(|(alias, _)| alias.eq_ignore_ascii_case(account))
            .map(|(alias, number)| Account {
                number: number.clone(),
                alias: alias.clone(),
            })
            .ok_or_else(|| Error::UnknownAlias {
                alias: account.to_owned(),
                path: self.path.clone(),
                guess: crate::config::ini::closest(
                    account,
                    self.aliases.iter().map(|(a, _)| a.as_str()),
                )
                .map(str::to_owned),
            })
    }

    /// The alias of `number`, or the number itself.
    pub fn alias_for<'a>(&'a self, number: &'a str) -> &'a str {
        self.aliases
            .iter()
            .find(|(_, n)| n == number)
            .map_or(number, |(alias, _)| alias.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accounts() -> Accounts {
        Accounts::parse(
            "[DEFAULT]\nprod = 111111111111\ndev = 222222222222\n",
            Path::new("/h/.aws-accounts"),
        )
        .unwrap()
    }

    #[test]
    fn number_shows_alias() {
        let a = accounts().get("222222222222").unwrap();
        assert_eq!(a.alias, "dev");
        let a = accounts().get("333333333333").unwrap();
        assert_eq!(a.alias, "333333333333");
    }

    #[test]
    fn alias_resolves() {
        assert_eq!(accounts().get("prod").unwrap().number, "111111111111");
    }

    #[test]
    fn unknown_alias_names_file() {
        let e = accounts().get("staging").unwrap_err();
        assert_eq!(
            e.to_string(),
            "staging is not an account number (12 digits) nor an alias in /h/.aws-accounts (the file does not exist)"
        );
        let e = accounts().get("prdo").unwrap_err();
        assert!(e.to_string().ends_with("; did you mean prod?"), "{e}");
        let e = accounts().get("12345").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("account 12345 is not an AWS account number"),
            "{e}"
        );
    }
}
